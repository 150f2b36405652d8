// Unit tests of udpprobe's statistics; no root, no network.
#include "probestats.h"

#include <cmath>
#include <cstdio>
#include <string>

static int passed = 0, failed = 0;

#define CHECK(cond)                                                         \
  do {                                                                      \
    if (!(cond)) {                                                          \
      std::fprintf (stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__,        \
          __LINE__, #cond);                                                 \
      ok = false;                                                           \
    }                                                                       \
  } while (0)

static constexpr int64_t kMs = 1000000;

static bool
test_delay_mean_and_stddev ()
{
  bool ok = true;
  lab::DelayAccumulator a;
  for (int ms : { 40, 60, 40, 60 })
    a.add (ms * kMs);
  lab::DelayStats s = a.stats ();
  CHECK (s.n == 4);
  CHECK (std::fabs (s.mean_ms - 50) < 1e-9);
  CHECK (std::fabs (s.stddev_ms - 10) < 1e-9);
  CHECK (s.min_ms == 40 && s.max_ms == 60);
  return ok;
}

static bool
test_delay_p99_leaves_out_the_late_one ()
{
  bool ok = true;
  lab::DelayAccumulator a;
  // 199 packets of 1..199 ms and one the scheduler held for 500 ms
  for (int ms = 1; ms < 200; ms++)
    a.add (ms * kMs);
  a.add (500 * kMs);
  lab::DelayStats s = a.stats ();
  CHECK (s.max_ms == 500);
  CHECK (s.p99_ms == 198);      // rank ceil (0.99 * 200) = 198
  lab::DelayAccumulator one;
  one.add (7 * kMs);
  CHECK (one.stats ().p99_ms == 7);
  return ok;
}

static bool
test_loss_reorder_duplicates ()
{
  bool ok = true;
  lab::ProbeStats p;
  // 10 sent; 3 and 7 lost, 5 arrives after 6, 2 arrives twice.
  for (uint32_t seq : { 0, 1, 2, 2, 4, 6, 5, 8, 9 })
    p.add (seq, 5 * kMs, 100, seq * 10 * kMs);
  CHECK (p.received () == 8);
  CHECK (p.duplicates () == 1);
  CHECK (p.reordered () == 1);
  CHECK (std::fabs (p.loss_pct (10) - 20) < 1e-9);
  CHECK (p.report (10).find ("loss_pct=20.00\n") != std::string::npos);
  CHECK (p.report (10, "x_").find ("x_reordered=1\n") != std::string::npos);
  return ok;
}

static bool
test_rate ()
{
  bool ok = true;
  lab::ProbeStats p;
  // 101 packets of 100 bytes, 10 ms apart: 100 packets in 1 s after the first.
  for (uint32_t i = 0; i <= 100; i++)
    p.add (i, 0, 100, i * 10 * kMs);
  CHECK (std::fabs (p.duration_s () - 1.0) < 1e-9);
  CHECK (std::fabs (p.rate_kbit (false) - 80.0) < 1e-9);
  CHECK (std::fabs (p.rate_kbit (true) - (100.0 * 142 * 8 / 1000)) < 1e-9);
  return ok;
}

static bool
test_nothing_received ()
{
  bool ok = true;
  lab::ProbeStats p;
  CHECK (p.loss_pct (50) == 100);
  CHECK (p.rate_kbit (true) == 0);
  CHECK (p.delay ().n == 0);
  return ok;
}

int
main ()
{
  const std::pair<const char *, bool (*) ()> tests[] = {
    { "delay_mean_and_stddev", test_delay_mean_and_stddev },
    { "delay_p99_leaves_out_the_late_one", test_delay_p99_leaves_out_the_late_one },
    { "loss_reorder_duplicates", test_loss_reorder_duplicates },
    { "rate", test_rate },
    { "nothing_received", test_nothing_received },
  };
  for (const auto &t : tests) {
    bool ok = t.second ();
    std::printf ("%s: %s\n", ok ? "PASS" : "FAIL", t.first);
    (ok ? passed : failed)++;
  }
  std::printf ("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
