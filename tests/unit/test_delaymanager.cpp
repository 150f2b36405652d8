/* gst-voicecall: the playout's delay manager (gst/playout/delaymanager.h) on scripted
 * arrivals of 20 ms packets: a clean path, ±30 ms jitter appearing and going, one outlier,
 * a steady late step. */
#include "playout/delaymanager.h"

#include <gst/check/gstcheck.h>

#include <cstdint>

using vc::playout::DelayManager;
using vc::playout::Histogram;

namespace {

constexpr int FRAME = 960;
constexpr int64_t PATH_US = 50000; /* the network's fixed one-way delay */

struct Lcg {
  uint64_t state;
  explicit Lcg (uint64_t seed) : state (seed) {}
  double uniform ()
  {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double> (state >> 11) * (1.0 / 9007199254740992.0);
  }
};

/* Feeds packets n0..n1-1; packet n is sent at n * 20 ms and arrives after PATH_US plus
 * `jitter_ms` * uniform (-1, 1), plus up to 0.5 ms of scheduling noise. */
void
feed (DelayManager &dm, int n0, int n1, double jitter_ms, Lcg &rng)
{
  for (int n = n0; n < n1; n++) {
    const double j = jitter_ms * (2 * rng.uniform () - 1) + 0.5 * rng.uniform ();
    dm.update (int64_t (n) * FRAME, FRAME, n * 20000 + PATH_US + static_cast<int64_t> (j * 1000));
  }
}

} // namespace

GST_START_TEST (test_histogram)
{
  Histogram h (10, 10);
  for (int i = 0; i < 100; i++)
    h.add (i % 10 == 0 ? 55 : 3, 0.01);
  /* Mass ~0.9 in [0, 10), ~0.1 in [50, 60) (the rest forgotten from the empty start). */
  fail_unless (h.quantile (0.5) == 10, "median %f", h.quantile (0.5));
  fail_unless (h.quantile (0.95) == 60, "95 %% %f", h.quantile (0.95));
  fail_unless (h.bucket_of (1e9) == 9);
}
GST_END_TEST;

GST_START_TEST (test_clean_path)
{
  DelayManager dm;
  Lcg rng (1);
  feed (dm, 0, 500, 0, rng);
  g_print ("clean: target %d ms (q95 %.1f ms)\n", dm.target_ms (), dm.quantile_ms ());
  fail_unless_equals_int (dm.packet_ms (), 20);
  fail_unless (dm.target_ms () == 20, "clean target %d ms", dm.target_ms ());
}
GST_END_TEST;

GST_START_TEST (test_jitter_comes_and_goes)
{
  DelayManager dm;
  Lcg rng (2);
  feed (dm, 0, 250, 0, rng); /* 5 s clean */
  const int clean = dm.target_ms ();

  /* ±30 ms appears: within a few packets the target grows, then settles around the spread. */
  int grown_after = -1;
  for (int n = 250; n < 750; n++) {
    feed (dm, n, n + 1, 30, rng);
    if (grown_after < 0 && dm.target_ms () >= clean + 20)
      grown_after = n - 250 + 1;
  }
  const int jittered = dm.target_ms ();
  g_print ("jitter +-30 ms: target %d ms after 10 s, grew by a packet after %d packets\n",
      jittered, grown_after);
  fail_unless (grown_after > 0 && grown_after <= 10, "grew after %d packets", grown_after);
  fail_unless (jittered >= 60 && jittered <= 100, "jittered target %d ms", jittered);

  /* It goes: the target comes back within a few seconds. */
  int back_after = -1;
  for (int n = 750; n < 1250; n++) {
    feed (dm, n, n + 1, 0, rng);
    if (back_after < 0 && dm.target_ms () <= 40)
      back_after = n - 750 + 1;
  }
  g_print ("jitter gone: target <= 40 ms after %.2f s, %d ms after 10 s\n", back_after * 0.02,
      dm.target_ms ());
  fail_unless (back_after > 0 && back_after * 20 <= 6000, "back after %d packets", back_after);
  fail_unless (dm.target_ms () == clean, "final target %d ms", dm.target_ms ());
}
GST_END_TEST;

GST_START_TEST (test_one_outlier_two_grow)
{
  DelayManager dm;
  Lcg rng (3);
  feed (dm, 0, 250, 0, rng);
  const int clean = dm.target_ms ();
  /* One packet 45 ms late: an outlier, the target stays. */
  dm.update (250 * FRAME, FRAME, 250 * 20000 + PATH_US + 45000);
  fail_unless_equals_int (dm.target_ms (), clean);
  feed (dm, 251, 300, 0, rng);
  /* Two in a row: the target covers them at once. */
  dm.update (300 * FRAME, FRAME, 300 * 20000 + PATH_US + 45000);
  dm.update (301 * FRAME, FRAME, 301 * 20000 + PATH_US + 45000);
  g_print ("two packets 45 ms late: target %d -> %d ms\n", clean, dm.target_ms ());
  fail_unless (dm.target_ms () >= 60, "target %d ms", dm.target_ms ());
}
GST_END_TEST;

GST_START_TEST (test_limits)
{
  DelayManager dm (60, 80);
  Lcg rng (4);
  feed (dm, 0, 100, 0, rng);
  fail_unless_equals_int (dm.target_ms (), 60);
  feed (dm, 100, 400, 100, rng);
  fail_unless_equals_int (dm.target_ms (), 80);
}
GST_END_TEST;

static Suite *
delaymanager_suite (void)
{
  Suite *s = suite_create ("delaymanager");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_histogram);
  tcase_add_test (tc, test_clean_path);
  tcase_add_test (tc, test_jitter_comes_and_goes);
  tcase_add_test (tc, test_one_outlier_two_grow);
  tcase_add_test (tc, test_limits);
  return s;
}

GST_CHECK_MAIN (delaymanager);
