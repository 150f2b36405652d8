/* gst-voicecall: the adaptive audio controller (gst/adaptive.h) on statistics sequences.
 *
 * A small link model turns the controller's bitrate into the statistics voicecall would see:
 * a bottleneck of some capacity with a drop-tail queue (or none: a policer), random loss, and
 * the peer's RTCP receiver reports every ~rr_interval_s (randomised 0.5-1.5x, as RFC 3550
 * does), which carry the RTT (base + queuing delay) and the fraction lost since the previous
 * report. Jitter sequences are given directly. Everything is seeded: runs are repeatable.
 * Each run prints its bitrate / FEC / jitter-buffer timeline (one line per decision). */
#include "adaptive.h"

#include <gst/check/gstcheck.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

using namespace vc::adaptive;

constexpr double DT = 0.2; /* stats-interval of 200 ms */
constexpr double PACKETS_PER_S = 50; /* 20 ms Opus frames */

struct Link {
  double capacity_bps = 0;     /* 0: unlimited */
  double queue_limit_ms = 300; /* drop-tail queue in front of the bottleneck; 0: a policer */
  double base_rtt_ms = 40;
  double random_loss = 0;
  double bucket_bits = 0;      /* > 0 (with capacity): a token-bucket policer of this depth */
  double rr_interval_s = 1.0;
  double path_jitter_ms = 0;   /* > 0: uniform ±this each way, and the jitter reported */
  std::mt19937 rng {12345};

  double time = 0;
  double queue_bits = 0;
  double tokens = 0;
  double sent = 0, lost = 0; /* since the last receiver report */
  double next_rr = 0.6;
  double rtt_ms = -1, fraction_lost = 0;

  double uniform (double a, double b) { return std::uniform_real_distribution<double> (a, b) (rng); }

  /* One stats interval of sending at `bitrate`; returns what voicecall's statistics say. */
  vc::stats::Report step (int bitrate, double jitter_ms)
  {
    const double packet_bits = bitrate / PACKETS_PER_S;
    const double gap = 1 / PACKETS_PER_S;
    const int packets = static_cast<int> (std::lround (DT * PACKETS_PER_S));
    for (int i = 0; i < packets; i++) {
      time += gap;
      sent++;
      bool dropped = false;
      if (capacity_bps > 0 && bucket_bits > 0) {
        tokens = std::min (bucket_bits, tokens + capacity_bps * gap);
        if (tokens >= packet_bits)
          tokens -= packet_bits;
        else
          dropped = true;
      } else if (capacity_bps > 0) {
        queue_bits = std::max (0.0, queue_bits - capacity_bps * gap);
        const double limit = std::max (packet_bits, capacity_bps * queue_limit_ms / 1000);
        if (queue_bits + packet_bits > limit)
          dropped = true;
        else
          queue_bits += packet_bits;
      }
      if (!dropped && random_loss > 0 && uniform (0, 1) < random_loss)
        dropped = true;
      lost += dropped;
      if (time >= next_rr) {
        const double queuing_ms = capacity_bps > 0 && bucket_bits == 0 ? queue_bits / capacity_bps * 1000 : 0;
        rtt_ms = base_rtt_ms + queuing_ms + uniform (0, 2) +
            uniform (0, 2 * path_jitter_ms) + uniform (0, 2 * path_jitter_ms);
        fraction_lost = sent > 0 ? std::floor (lost / sent * 256) / 256 : 0; /* 8-bit field */
        sent = lost = 0;
        next_rr = time + rr_interval_s * uniform (0.5, 1.5);
      }
    }
    vc::stats::Report r;
    r.rtt_ms = rtt_ms;
    r.remote_fraction_lost = fraction_lost;
    r.send_kbps = bitrate / 1000.0;
    r.receive_kbps = 32;
    /* RFC 3550's estimate of uniform ±a jitter: the mean |difference| of two, 2a / 3 */
    r.jitter_ms = path_jitter_ms > 0 ? 2 * path_jitter_ms / 3 : jitter_ms;
    return r;
  }
};

struct Point {
  double t;
  Settings s;
  bool changed;
};

/* A controller, a link and the timeline of what the controller did. */
struct Run {
  Controller controller;
  Link link;
  double t = 0;
  std::vector<Point> trace;
  int decreases = 0;
  const char *name;

  Run (const char *run_name, const Config &config = Config (), const Settings &initial = start ())
    : controller (config, initial), name (run_name)
  {
    g_print ("--- %s\n", name);
  }

  static Settings start ()
  {
    Settings s;
    s.encoder = {32000, true, 5};
    s.jitter_buffer_ms = 60;
    return s;
  }

  const Settings &now () const { return controller.settings (); }

  /* Runs `seconds`; `jitter (t)` gives the jitter of the stream we receive. */
  void run (double seconds, std::function<double (double)> jitter = nullptr)
  {
    const double end = t + seconds;
    while (t < end - 1e-9) {
      t += DT;
      const int before = now ().encoder.bitrate;
      auto report = link.step (before, jitter ? jitter (t) : 2.0);
      Decision d = controller.update (report, DT);
      /* decreases for the path (not FEC's share going with its packet-loss-percentage) */
      if (d.settings.encoder.bitrate < before &&
          (d.reason.find ("congestion (") != std::string::npos ||
              d.reason.find ("heavy loss") != std::string::npos))
        decreases++;
      trace.push_back ({t, d.settings, d.changed ()});
      if (d.changed ())
        g_print ("%6.1f s  bitrate %5d  fec %d  plp %2d  jb %3d ms   %s\n", t,
            d.settings.encoder.bitrate, d.settings.encoder.fec,
            d.settings.encoder.packet_loss_percentage, d.settings.jitter_buffer_ms,
            d.reason.c_str ());
      fail_unless (d.changed () == !d.reason.empty (), "%s: a change without a reason (or the "
          "reverse) at %.1f s", name, t);
    }
  }

  /* The points with from <= t < to. */
  std::vector<Point> window (double from, double to) const
  {
    std::vector<Point> out;
    for (auto &p : trace)
      if (p.t >= from - 1e-9 && p.t < to - 1e-9)
        out.push_back (p);
    return out;
  }

  /* First time (>= from) the bitrate satisfies pred, or -1. */
  double first_time (double from, std::function<bool (int)> pred) const
  {
    for (auto &p : trace)
      if (p.t >= from - 1e-9 && pred (p.s.encoder.bitrate))
        return p.t;
    return -1;
  }
};

GST_START_TEST (test_clean_link_ramps_to_max)
{
  Run r ("clean link");
  r.run (30);
  double at_max = r.first_time (0, [] (int b) { return b == DEFAULT_MAX_BITRATE; });
  /* 32 -> 64 kbit/s at 4 kbit/s per second: 8 s after the first report (~0.6 s). */
  fail_unless (at_max > 0 && at_max <= 12, "bitrate reached max-bitrate at %.1f s", at_max);
  fail_unless_equals_int (r.decreases, 0);
  fail_unless_equals_int (r.now ().encoder.bitrate, DEFAULT_MAX_BITRATE);
  fail_unless (!r.now ().encoder.fec, "FEC stays on on a clean link");
  fail_unless_equals_int (r.now ().encoder.packet_loss_percentage, 0);
  /* Loopback-like jitter (2 ms): 3 x 2 + 40 -> 50 ms, within the hysteresis of 60 ms. */
  fail_unless_equals_int (r.now ().jitter_buffer_ms, 60);
}
GST_END_TEST;

/* Over the last 20 s, packet-loss-percentage averages the loss plus the margin, roughly (each
 * receiver report measures ~50 packets, so the smoothed loss itself wanders), up to PLP_MAX. */
static void
expect_plp_near_loss (const Run &r, double loss_pct)
{
  auto last = r.window (r.t - 20, r.t + 1);
  double sum = 0;
  for (auto &p : last)
    sum += p.s.encoder.packet_loss_percentage;
  const double mean = sum / last.size ();
  g_print ("%s: mean packet-loss-percentage %.1f over the last 20 s\n", r.name, mean);
  const double lo = std::min<double> (loss_pct, PLP_MAX - 1);
  const double hi = std::min<double> (loss_pct + PLP_MARGIN + 4, PLP_MAX);
  fail_unless (mean >= lo && mean <= hi, "%s: mean packet-loss-percentage %.1f at %.0f %% loss "
      "(wanted %.0f..%.0f)", r.name, mean, loss_pct, lo, hi);
}

GST_START_TEST (test_random_loss_fec_and_hold)
{
  /* The bitrate is held (32 kbit/s), and FEC's share comes on top of it: FEC_EXTRA_BPS at
   * packet-loss-percentage 10, in proportion below. */
  Run r ("10 % random loss from the start");
  r.link.random_loss = 0.10;
  r.run (30);
  for (auto &p : r.trace) {
    if (p.t < 0.6 && p.s.encoder.bitrate == 32000)
      continue; /* before the first receiver report (0.6 s) nothing changes */
    const int share = p.s.encoder.fec ?
        FEC_EXTRA_BPS * std::min (p.s.encoder.packet_loss_percentage, PLP_MAX) / PLP_MAX : 0;
    fail_unless (std::abs (p.s.encoder.bitrate - share - 32000) <= BITRATE_STEP,
        "bitrate %d at %.1f s with fec %d at %d %%: random loss should hold 32000 and add "
        "FEC's share", p.s.encoder.bitrate, p.t, p.s.encoder.fec,
        p.s.encoder.packet_loss_percentage);
  }
  fail_unless (r.now ().encoder.fec, "FEC is off at 10 %% loss");
  expect_plp_near_loss (r, 10);
  fail_unless (r.now ().encoder.bitrate >= 32000 + FEC_EXTRA_BPS * 8 / 10, "bitrate %d",
      r.now ().encoder.bitrate);
  fail_unless_equals_int (r.decreases, 0);

  Run m ("clean, then 10 % random loss at max-bitrate");
  m.run (15);
  fail_unless_equals_int (m.now ().encoder.bitrate, DEFAULT_MAX_BITRATE);
  m.link.random_loss = 0.10;
  m.run (30);
  fail_unless_equals_int (m.decreases, 0);
  fail_unless_equals_int (m.now ().encoder.bitrate, DEFAULT_MAX_BITRATE);
  fail_unless (m.now ().encoder.fec);
  expect_plp_near_loss (m, 10);
  /* Loss gone: FEC off again, packet-loss-percentage back to 0. */
  m.link.random_loss = 0;
  m.run (20);
  fail_unless (!m.now ().encoder.fec);
  fail_unless_equals_int (m.now ().encoder.packet_loss_percentage, 0);
}
GST_END_TEST;

/* Caps at `cap` after a clean start, checks the bitrate goes below the cap within `react_s`
 * and stays there (but not far below) for the next `stay_s`. Returns the time the cap began. */
static double
cap_and_check (Run &r, double cap, double react_s, double stay_s)
{
  r.run (15);
  fail_unless_equals_int (r.now ().encoder.bitrate, DEFAULT_MAX_BITRATE);
  const double capped = r.t;
  r.link.capacity_bps = cap;
  r.run (react_s + stay_s);
  double below = r.first_time (capped, [cap] (int b) { return b < cap; });
  fail_unless (below > 0, "%s: bitrate never went below the %.0f cap", r.name, cap);
  fail_unless (below - capped <= react_s, "%s: bitrate below the %.0f cap only %.1f s after it "
      "began (allowed %.0f s)", r.name, cap, below - capped, react_s);
  auto after = r.window (capped + react_s, capped + react_s + stay_s);
  int over = 0;
  double sum = 0;
  for (auto &p : after) {
    over += p.s.encoder.bitrate > cap;
    sum += p.s.encoder.bitrate;
  }
  const double mean = sum / after.size ();
  g_print ("%s: below the cap after %.1f s; then over it in %d of %zu intervals, mean %.0f "
      "bit/s (cap %.0f), %d decreases\n", r.name, below - capped, over, after.size (), mean,
      cap, r.decreases);
  fail_unless (over == 0, "%s: bitrate over the cap in %d intervals after settling", r.name,
      over);
  fail_unless (mean >= 0.6 * cap, "%s: mean bitrate %.0f is far below the cap %.0f", r.name,
      mean, cap);
  return capped;
}

GST_START_TEST (test_rate_cap_and_recovery)
{
  Run r ("rate cap 32 kbit/s with a 300 ms queue, reports every ~1 s");
  const double cap = 32000;
  /* Within 10 s (50 intervals) under the cap, then 20 s under it (the ceiling holds 30 s). */
  cap_and_check (r, cap, 10, 20);
  fail_unless (r.now ().encoder.packet_loss_percentage <= 5, "loss remains after settling");

  /* Two minutes more under the cap: after each CEILING_HOLD_S the controller probes, which
   * costs at most one small congestion episode each time. */
  const int before = r.decreases;
  const double from = r.t;
  r.run (120);
  auto longer = r.window (from, r.t + 1);
  int over = 0;
  double sum = 0;
  for (auto &p : longer) {
    over += p.s.encoder.bitrate > cap;
    sum += p.s.encoder.bitrate;
  }
  g_print ("120 s more under the cap: %d decreases, over the cap in %d of %zu intervals, mean "
      "%.0f bit/s\n", r.decreases - before, over, longer.size (), sum / longer.size ());
  fail_unless (r.decreases - before <= 2 * 120 / CEILING_HOLD_S, "%d decreases in 120 s",
      r.decreases - before);
  fail_unless (static_cast<size_t> (over) <= longer.size () / 10,
      "over the cap %d of %zu intervals", over,
      longer.size ());
  fail_unless (sum / longer.size () >= 0.7 * cap);

  /* Recovery: the cap goes away; the remembered ceiling expires (30 s), then probing at
   * 1 kbit/s per second past it, then 4 kbit/s per second to max-bitrate. */
  const double lifted = r.t;
  r.link.capacity_bps = 0;
  r.run (90);
  double back = r.first_time (lifted, [] (int b) { return b == DEFAULT_MAX_BITRATE; });
  g_print ("recovery: max-bitrate %.1f s after the cap was lifted\n", back - lifted);
  fail_unless (back > 0 && back - lifted <= 60, "bitrate back at max only %.1f s after the "
      "cap was lifted", back < 0 ? -1 : back - lifted);
}
GST_END_TEST;

GST_START_TEST (test_rate_cap_slow_reports)
{
  /* A browser peer reports every ~5 s (2.5-7.5 s): slower, but still below the cap. */
  Run r ("rate cap 24 kbit/s, reports every ~5 s");
  r.link.rr_interval_s = 5;
  cap_and_check (r, 24000, 30, 15);
}
GST_END_TEST;

/* Heavy random loss (a lossy radio hop): held as random for PROBE_AFTER_S, then at most one
 * probe decrease, after which the bitrate goes back and stays, with FEC; a lower bitrate
 * would cost voice quality and save nothing. */
static void
random_heavy_loss (const char *name, double loss, double rr_interval_s, double seconds)
{
  Run r (name);
  r.link.rr_interval_s = rr_interval_s;
  r.run (15);
  fail_unless_equals_int (r.now ().encoder.bitrate, DEFAULT_MAX_BITRATE);
  const double from = r.t;
  r.link.random_loss = loss;
  r.run (seconds);
  fail_unless (r.decreases <= 1, "%s: %d decreases, wanted at most one (the probe)", name,
      r.decreases);
  double down = r.first_time (from, [] (int b) { return b < DEFAULT_MAX_BITRATE; });
  if (down > 0) {
    fail_unless (down - from >= PROBE_AFTER_S, "%s: a decrease %.1f s into the loss", name,
        down - from);
    fail_unless (r.controller.random_loss () > 0, "%s: the probe did not find the loss random",
        name);
    double back = r.first_time (down, [] (int b) { return b == DEFAULT_MAX_BITRATE; });
    fail_unless (back > 0 && back - down <= (rr_interval_s > 2 ? 30 : 10), "%s: bitrate not "
        "back at max-bitrate soon after the probe", name);
    g_print ("%s: probe %.1f s into the loss, back at max-bitrate %.1f s later\n", name,
        down - from, back - down);
  } else {
    g_print ("%s: no probe (the smoothed loss stayed near the threshold)\n", name);
  }
  fail_unless_equals_int (r.now ().encoder.bitrate, DEFAULT_MAX_BITRATE);
  fail_unless (r.now ().encoder.fec, "%s: FEC off under heavy loss", name);
  fail_unless (r.now ().encoder.packet_loss_percentage >= PLP_MAX - 1,
      "%s: packet-loss-percentage %d", name, r.now ().encoder.packet_loss_percentage);
}

GST_START_TEST (test_random_heavy_loss_keeps_the_bitrate)
{
  random_heavy_loss ("20 % random loss", 0.20, 1.0, 90);
  random_heavy_loss ("35 % random loss", 0.35, 1.0, 90);
  random_heavy_loss ("20 % random loss, reports every ~5 s", 0.20, 5.0, 120);
}
GST_END_TEST;

/* Jitter is not congestion: ±80 ms each way (the lab's worst) puts up to 320 ms on an RTT
 * above its minimum; the bitrate still ramps, and with 10 % random loss FEC's share comes on
 * top. A bottleneck behind ±30 ms of jitter is still found. */
GST_START_TEST (test_jitter_is_not_congestion)
{
  Run r ("+-80 ms jitter each way");
  r.link.path_jitter_ms = 80;
  r.run (30);
  fail_unless_equals_int (r.decreases, 0);
  fail_unless_equals_int (r.now ().encoder.bitrate, DEFAULT_MAX_BITRATE);

  Run l ("+-80 ms jitter each way, 10 % random loss");
  l.link.path_jitter_ms = 80;
  l.link.random_loss = 0.10;
  l.run (30);
  fail_unless_equals_int (l.decreases, 0);
  fail_unless (l.now ().encoder.fec);
  fail_unless (l.now ().encoder.bitrate >= 32000 + FEC_EXTRA_BPS * 8 / 10, "bitrate %d",
      l.now ().encoder.bitrate);

  Run c ("+-30 ms jitter each way, rate cap 32 kbit/s");
  c.link.path_jitter_ms = 30;
  cap_and_check (c, 32000, 10, 20);
}
GST_END_TEST;

GST_START_TEST (test_policer_heavy_loss)
{
  /* A policer drops what exceeds the rate and queues nothing: loss without RTT growth. */
  Run r ("policer at 24 kbit/s");
  r.run (15);
  r.link.capacity_bps = 24000;
  r.link.queue_limit_ms = 0;
  r.run (40);
  fail_unless (r.decreases > 0, "heavy loss did not decrease the bitrate");
  fail_unless (r.controller.random_loss () == 0, "the policer's loss was taken for random");

  /* A token-bucket policer (8 kbit deep) queues nothing: the first heavy-loss decrease is
   * the probe, and the loss follows it. At 20 kbit/s (69 % loss at 64) there is no probe:
   * that much loss is never taken for random. */
  for (double cap : {40000.0, 32000.0, 20000.0}) {
    Run p (cap == 40000 ? "token-bucket policer at 40 kbit/s" : cap == 32000
        ? "token-bucket policer at 32 kbit/s" : "token-bucket policer at 20 kbit/s");
    p.run (15);
    p.link.capacity_bps = cap;
    p.link.bucket_bits = 8000;
    p.run (40);
    fail_unless (p.controller.random_loss () == 0, "%s: the loss was taken for random", p.name);
    fail_unless (p.now ().encoder.bitrate <= cap / (1 - LOSS_HEAVY) + BITRATE_STEP,
        "%s: bitrate %d", p.name, p.now ().encoder.bitrate);
  }
  /* Loss below LOSS_HEAVY (20 %) is treated as random: the bitrate ends within 1/(1-0.2) of
   * the rate, with FEC on. */
  fail_unless (r.now ().encoder.bitrate <= 24000 / (1 - LOSS_HEAVY) + BITRATE_STEP,
      "bitrate %d against a 24000 policer", r.now ().encoder.bitrate);
  fail_unless (r.now ().encoder.bitrate >= FEC_MIN_BITRATE);
}
GST_END_TEST;

GST_START_TEST (test_fec_needs_bitrate)
{
  Config config;
  config.min_bitrate = 8000;
  Settings low = Run::start ();
  low.encoder = {12000, false, 0};
  Run r ("10 % loss at 12 kbit/s (no room for FEC)", config, low);
  r.link.random_loss = 0.10;
  r.run (20);
  fail_unless (!r.now ().encoder.fec, "FEC on at %d bit/s", r.now ().encoder.bitrate);
  fail_unless (r.now ().encoder.packet_loss_percentage >= 10);
  fail_unless_equals_int (r.now ().encoder.bitrate, 12000);

  Settings mid = low;
  mid.encoder.bitrate = 20000;
  Run m ("10 % loss at 20 kbit/s", config, mid);
  m.link.random_loss = 0.10;
  m.run (20);
  fail_unless (m.now ().encoder.fec);
}
GST_END_TEST;

static double
ramp_jitter (double t)
{
  /* 0 -> 80 ms over 40 s, 20 s at 80 ms, then 5 ms. */
  if (t < 40)
    return 2 * t;
  if (t < 60)
    return 80;
  return 5;
}

GST_START_TEST (test_jitter_buffer_follows_jitter)
{
  Run r ("jitter 0 -> 80 ms");
  r.run (60, ramp_jitter);
  int changes = 0, prev = 60;
  for (auto &p : r.trace) {
    const double j = ramp_jitter (p.t);
    const int want = static_cast<int> (std::min (400.0, JITTER_K * j + JITTER_MARGIN_MS));
    fail_unless (p.s.jitter_buffer_ms >= want, "jitter buffer %d ms at %.1f s with jitter %.0f "
        "ms (wanted >= %d)", p.s.jitter_buffer_ms, p.t, j, want);
    fail_unless (p.s.jitter_buffer_ms >= prev, "jitter buffer went down while jitter rose");
    changes += p.s.jitter_buffer_ms != prev;
    prev = p.s.jitter_buffer_ms;
  }
  fail_unless_equals_int (r.now ().jitter_buffer_ms, 280); /* 3 x 80 + 40 */
  g_print ("jitter 0 -> 80 ms: %d jitter buffer changes\n", changes);
  /* At 10 ms steps: not more changes than steps. */
  fail_unless (changes <= (280 - 60) / LATENCY_STEP_MS, "%d changes", changes);

  /* Jitter falls to 5 ms: nothing for the hold time (10 s), then down. */
  r.run (60, ramp_jitter);
  auto hold = r.window (60, 70);
  for (auto &p : hold)
    fail_unless_equals_int (p.s.jitter_buffer_ms, 280);
  /* 3 x 5 + 40 = 55 -> 60 ms, give or take the hysteresis. */
  fail_unless (r.now ().jitter_buffer_ms <= 60 + LATENCY_DECREASE_HYST_MS, "jitter buffer still "
      "%d ms a minute after the jitter fell to 5 ms", r.now ().jitter_buffer_ms);

  /* Bounded by max-latency. */
  Config config;
  config.max_latency_ms = 200;
  Run b ("jitter 0 -> 80 ms, max-latency 200", config);
  b.run (60, ramp_jitter);
  for (auto &p : b.trace)
    fail_unless (p.s.jitter_buffer_ms <= 200, "%d ms over max-latency", p.s.jitter_buffer_ms);
  fail_unless_equals_int (b.now ().jitter_buffer_ms, 200);
}
GST_END_TEST;

/* With an adaptive playout downstream the jitter buffer is a reorder window of the playout's
 * target less a packet and a tick, whatever the RTCP jitter says (the playout follows it
 * itself). */
GST_START_TEST (test_reorder_window_follows_the_playout)
{
  Settings initial = Run::start ();
  Controller c (Config (), initial);
  auto report = [] (double jitter_ms, double target_ms) {
    vc::stats::Report r;
    r.rtt_ms = 40;
    r.send_kbps = 32;
    r.receive_kbps = 32;
    r.jitter_ms = jitter_ms;
    r.playout.known = true;
    r.playout.mode = "adaptive";
    r.playout.target_ms = target_ms;
    return r;
  };
  struct Step {
    double jitter_ms, target_ms;
    int window_ms;
  } steps[] = {
    {1, 20, 20},     /* one packet: min-latency (20) */
    {30, 80, 50},    /* 3 × 30 + 40 would be 130 */
    {30, 100, 70},
    {2, 40, 20},     /* down at once: a held packet behind a hole would be late anyway */
    {1, 50, 20},     /* FEC's headroom: the packet after a hole leaves 30 ms before */
    {30, 115, 90},   /* rounded up to 10 ms */
    {80, 500, 400},  /* max-latency */
  };
  for (const auto &st : steps) {
    Decision d = c.update (report (st.jitter_ms, st.target_ms), DT);
    g_print ("playout target %.0f ms, jitter %.0f ms: window %d ms (%s)\n", st.target_ms,
        st.jitter_ms, d.settings.jitter_buffer_ms, d.reason.c_str ());
    fail_unless_equals_int (d.settings.jitter_buffer_ms, st.window_ms);
  }
  /* Without a playout's target (playout=fixed): the jitter rule again. */
  vc::stats::Report fixed = report (30, 80);
  fixed.playout.mode = "fixed";
  fail_unless_equals_int (c.update (fixed, DT).settings.jitter_buffer_ms, 400);
  Controller f (Config (), initial);
  fail_unless_equals_int (f.update (fixed, DT).settings.jitter_buffer_ms, 130);
}
GST_END_TEST;

GST_START_TEST (test_jitter_noise_does_not_flap)
{
  std::mt19937 rng (7);
  std::uniform_real_distribution<double> noise (5, 15);
  Run r ("jitter noise 5-15 ms");
  r.run (120, [&] (double) { return noise (rng); });
  int changes = 0, flips = 0, prev = 60, direction = 0;
  for (auto &p : r.trace) {
    if (p.s.jitter_buffer_ms != prev) {
      int dir = p.s.jitter_buffer_ms > prev ? 1 : -1;
      flips += direction != 0 && dir != direction;
      direction = dir;
      changes++;
      fail_unless (p.t < 20, "jitter buffer still changing at %.1f s", p.t);
    }
    prev = p.s.jitter_buffer_ms;
  }
  g_print ("jitter noise: %d changes, %d direction flips, settled at %d ms\n", changes, flips,
      prev);
  fail_unless_equals_int (flips, 0);
  fail_unless (prev >= 3 * 15 + 40 && prev <= 3 * 15 + 40 + LATENCY_STEP_MS, "settled at %d ms",
      prev);
}
GST_END_TEST;

GST_START_TEST (test_disabled_leaves_everything_alone)
{
  Config config;
  config.enabled = false;
  Settings initial = Run::start ();
  initial.encoder.bitrate = 128000; /* even outside the bounds */
  Run r ("adaptive=false", config, initial);
  r.link.capacity_bps = 24000;
  r.link.random_loss = 0.05;
  r.run (60, ramp_jitter);
  for (auto &p : r.trace) {
    fail_unless (!p.changed);
    fail_unless (p.s.encoder == initial.encoder);
    fail_unless_equals_int (p.s.jitter_buffer_ms, initial.jitter_buffer_ms);
  }
}
GST_END_TEST;

GST_START_TEST (test_no_feedback_no_encoder_change)
{
  Settings initial = Run::start ();
  initial.encoder.bitrate = 128000;
  Controller c (Config (), initial);
  vc::stats::Report r; /* rtt -1: no receiver report yet */
  r.send_kbps = 128;
  Decision d = c.update (r, DT);
  /* Bounds hold at once... */
  fail_unless_equals_int (d.settings.encoder.bitrate, DEFAULT_MAX_BITRATE);
  fail_unless (d.encoder_changed && !d.reason.empty ());
  /* ...but nothing else moves without feedback. */
  for (int i = 0; i < 50; i++) {
    d = c.update (r, DT);
    fail_unless (!d.changed (), "changed without feedback: %s", d.reason.c_str ());
  }
  fail_unless (d.settings.encoder.fec);
  fail_unless_equals_int (d.settings.encoder.packet_loss_percentage, 5);
}
GST_END_TEST;

GST_START_TEST (test_combine_most_conservative)
{
  Encoder a {64000, false, 0}, b {24000, false, 3}, c {40000, true, 12};
  Encoder all = combine ({a, b, c});
  fail_unless_equals_int (all.bitrate, 24000);
  fail_unless (all.fec);
  fail_unless_equals_int (all.packet_loss_percentage, 12);
  Encoder one = combine ({a});
  fail_unless (one == a);
}
GST_END_TEST;

GST_START_TEST (test_structures)
{
  Encoder e {24000, true, 12};
  GstStructure *s = encoder_structure (e);
  Encoder back {1, false, 0};
  fail_unless (parse_encoder_structure (s, &back));
  fail_unless (back == e);
  gst_structure_free (s);

  GstStructure *other = gst_structure_new_empty ("something-else");
  fail_unless (!parse_encoder_structure (other, &back));
  gst_structure_free (other);

  GstStructure *m = to_structure (e, 120, "why");
  fail_unless (gst_structure_has_name (m, "voicecall-adaptation"));
  gint bitrate = 0, plp = 0, jb = 0;
  gboolean fec = FALSE;
  fail_unless (gst_structure_get (m, "bitrate", G_TYPE_INT, &bitrate, "fec", G_TYPE_BOOLEAN, &fec,
      "packet-loss-percentage", G_TYPE_INT, &plp, "jitter-buffer-ms", G_TYPE_INT, &jb, nullptr));
  fail_unless_equals_int (bitrate, 24000);
  fail_unless (fec);
  fail_unless_equals_int (plp, 12);
  fail_unless_equals_int (jb, 120);
  fail_unless_equals_string (gst_structure_get_string (m, "reason"), "why");
  gst_structure_free (m);
}
GST_END_TEST;

static Suite *
adaptive_suite (void)
{
  Suite *s = suite_create ("adaptive");
  TCase *tc = tcase_create ("controller");
  tcase_add_test (tc, test_clean_link_ramps_to_max);
  tcase_add_test (tc, test_random_loss_fec_and_hold);
  tcase_add_test (tc, test_rate_cap_and_recovery);
  tcase_add_test (tc, test_rate_cap_slow_reports);
  tcase_add_test (tc, test_policer_heavy_loss);
  tcase_add_test (tc, test_jitter_is_not_congestion);
  tcase_add_test (tc, test_random_heavy_loss_keeps_the_bitrate);
  tcase_add_test (tc, test_fec_needs_bitrate);
  tcase_add_test (tc, test_jitter_buffer_follows_jitter);
  tcase_add_test (tc, test_jitter_noise_does_not_flap);
  tcase_add_test (tc, test_reorder_window_follows_the_playout);
  tcase_add_test (tc, test_disabled_leaves_everything_alone);
  tcase_add_test (tc, test_no_feedback_no_encoder_change);
  tcase_add_test (tc, test_combine_most_conservative);
  tcase_add_test (tc, test_structures);
  suite_add_tcase (s, tc);
  return s;
}

GST_CHECK_MAIN (adaptive);
