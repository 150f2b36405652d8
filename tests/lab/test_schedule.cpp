// Unit tests of the impair scheduling logic; no root, no network.
#include "schedule.h"

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

using lab::Jitter;
using lab::Schedule;
using lab::ScheduleConfig;

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

// Feeds n packets spaced gap_ms apart, runs the clock in 0.1 ms steps and
// returns each packet's delay in ms (-1 if dropped), indexed by arrival.
struct Run {
  std::vector<double> delay_ms;
  std::vector<uint32_t> order;      // ids in release order
};

static Run
simulate (Schedule &s, int n, double gap_ms)
{
  Run r;
  r.delay_ms.assign (n, -1);
  const int64_t step = kMs / 10;
  int64_t t = 0;
  int next = 0;
  while (next < n || !s.empty ()) {
    while (next < n && static_cast<int64_t> (next * gap_ms * kMs) <= t)
      s.offer (next++, t);
    for (uint32_t id : s.take_due (t)) {
      r.delay_ms[id] = static_cast<double> (t) / kMs - id * gap_ms;
      r.order.push_back (id);
    }
    t += step;
  }
  return r;
}

static void
stats (const std::vector<double> &v, double &mean, double &sd, int &n)
{
  double sum = 0, sq = 0;
  n = 0;
  for (double d : v)
    if (d >= 0) { sum += d; sq += d * d; n++; }
  mean = n ? sum / n : 0;
  sd = n ? std::sqrt (std::max (0.0, sq / n - mean * mean)) : 0;
}

static int
reorders (const std::vector<uint32_t> &order)
{
  int count = 0;
  uint32_t highest = 0;
  bool any = false;
  for (uint32_t id : order) {
    if (any && id < highest)
      count++;
    if (!any || id > highest)
      highest = id;
    any = true;
  }
  return count;
}

static bool
test_fixed_delay ()
{
  bool ok = true;
  ScheduleConfig c;
  c.delay_ms = 50;
  Schedule s (c);
  Run r = simulate (s, 100, 20);
  double mean, sd;
  int n;
  stats (r.delay_ms, mean, sd, n);
  CHECK (n == 100);
  CHECK (std::fabs (mean - 50) < 0.2);
  CHECK (sd < 0.1);
  CHECK (reorders (r.order) == 0);
  CHECK (s.counters ().released == 100);
  return ok;
}

static bool
test_nothing_due_early ()
{
  bool ok = true;
  ScheduleConfig c;
  c.delay_ms = 10;
  Schedule s (c);
  s.offer (7, 0);
  CHECK (s.take_due (10 * kMs - 1).empty ());
  CHECK (s.next_due_ns () == 10 * kMs);
  std::vector<uint32_t> due = s.take_due (10 * kMs);
  CHECK (due.size () == 1 && due[0] == 7);
  CHECK (s.empty ());
  return ok;
}

static bool
test_normal_jitter_with_reorder ()
{
  bool ok = true;
  ScheduleConfig c;
  c.delay_ms = 50;
  c.jitter_ms = 10;
  c.jitter = Jitter::kNormal;
  c.reorder = true;
  Schedule s (c);
  Run r = simulate (s, 2000, 5);
  double mean, sd;
  int n;
  stats (r.delay_ms, mean, sd, n);
  CHECK (std::fabs (mean - 50) < 1.0);
  CHECK (std::fabs (sd - 10) < 1.0);
  CHECK (reorders (r.order) > 100);
  CHECK (s.counters ().reordered == static_cast<uint64_t> (reorders (r.order)));
  return ok;
}

static bool
test_uniform_jitter_bounds ()
{
  bool ok = true;
  ScheduleConfig c;
  c.delay_ms = 30;
  c.jitter_ms = 20;
  c.reorder = true;
  Schedule s (c);
  Run r = simulate (s, 2000, 5);
  double mean, sd;
  int n;
  stats (r.delay_ms, mean, sd, n);
  double lo = 1e9, hi = -1;
  for (double d : r.delay_ms) { lo = std::min (lo, d); hi = std::max (hi, d); }
  CHECK (lo >= 10 - 0.11 && hi <= 50 + 0.11);
  CHECK (std::fabs (mean - 30) < 1.0);
  CHECK (std::fabs (sd - 20 / std::sqrt (3.0)) < 1.0);   // uniform sd = J/sqrt3
  return ok;
}

static bool
test_jitter_keeps_order_without_reorder ()
{
  bool ok = true;
  ScheduleConfig c;
  c.delay_ms = 50;
  c.jitter_ms = 20;
  c.jitter = Jitter::kNormal;
  Schedule s (c);
  Run r = simulate (s, 1000, 5);
  double mean, sd;
  int n;
  stats (r.delay_ms, mean, sd, n);
  CHECK (reorders (r.order) == 0);
  CHECK (s.counters ().reordered == 0);
  CHECK (sd > 5);                     // still jittery
  return ok;
}

static bool
test_negative_delay_clamped ()
{
  bool ok = true;
  ScheduleConfig c;
  c.delay_ms = 1;
  c.jitter_ms = 50;
  c.reorder = true;
  Schedule s (c);
  Run r = simulate (s, 500, 1);
  for (double d : r.delay_ms)
    CHECK (d >= -1e-9);
  return ok;
}

static bool
test_loss_rate_and_seed ()
{
  bool ok = true;
  ScheduleConfig c;
  c.loss_pct = 10;
  c.seed = 42;
  Schedule a (c), b (c);
  std::vector<bool> da, db;
  for (uint32_t i = 0; i < 20000; i++) {
    da.push_back (a.offer (i, i * kMs));
    db.push_back (b.offer (i, i * kMs));
  }
  CHECK (da == db);                   // same seed, same drops
  double pct = 100.0 * a.counters ().dropped / a.counters ().received;
  CHECK (std::fabs (pct - 10) < 1.0);
  CHECK (a.held () == 20000 - a.counters ().dropped);

  c.seed = 43;
  Schedule other (c);
  std::vector<bool> dc;
  for (uint32_t i = 0; i < 20000; i++)
    dc.push_back (other.offer (i, i * kMs));
  CHECK (dc != da);
  return ok;
}

static bool
test_drain_releases_everything_in_order ()
{
  bool ok = true;
  ScheduleConfig c;
  c.delay_ms = 1000;
  Schedule s (c);
  for (uint32_t i = 0; i < 5; i++)
    s.offer (100 + i, i * kMs);
  std::vector<uint32_t> ids = s.drain ();
  CHECK ((ids == std::vector<uint32_t> { 100, 101, 102, 103, 104 }));
  CHECK (s.empty ());
  CHECK (s.counters ().flushed == 5);
  CHECK (s.counters ().max_held == 5);
  return ok;
}

int
main ()
{
  const std::pair<const char *, std::function<bool ()>> tests[] = {
    { "fixed_delay", test_fixed_delay },
    { "nothing_due_early", test_nothing_due_early },
    { "normal_jitter_with_reorder", test_normal_jitter_with_reorder },
    { "uniform_jitter_bounds", test_uniform_jitter_bounds },
    { "jitter_keeps_order_without_reorder",
      test_jitter_keeps_order_without_reorder },
    { "negative_delay_clamped", test_negative_delay_clamped },
    { "loss_rate_and_seed", test_loss_rate_and_seed },
    { "drain_releases_everything_in_order",
      test_drain_releases_everything_in_order },
  };
  for (const auto &t : tests) {
    bool ok = t.second ();
    std::printf ("%s: %s\n", ok ? "PASS" : "FAIL", t.first);
    (ok ? passed : failed)++;
  }
  std::printf ("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
