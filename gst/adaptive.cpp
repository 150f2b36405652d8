/* gst-voicecall: adaptive audio controller (see adaptive.h and docs/adaptive.md). */
#include "adaptive.h"

#include <algorithm>
#include <cmath>
#include <cstdarg>

namespace vc::adaptive {

static std::string
format (const char *fmt, ...) G_GNUC_PRINTF (1, 2);

static std::string
format (const char *fmt, ...)
{
  va_list args;
  va_start (args, fmt);
  gchar *text = g_strdup_vprintf (fmt, args);
  va_end (args);
  std::string out = text;
  g_free (text);
  return out;
}

static void
add_reason (std::string *why, const std::string &part)
{
  if (!why->empty ())
    *why += "; ";
  *why += part;
}

/* Smoothing factor of an EWMA with time constant tau for a step of dt. */
static double
ewma_alpha (double dt, double tau)
{
  return dt <= 0 ? 0 : 1 - std::exp (-dt / tau);
}

static int
round_bitrate (double bps)
{
  return static_cast<int> (std::lround (bps / BITRATE_STEP)) * BITRATE_STEP;
}

Controller::Controller (const Config &config, const Settings &initial)
  : config_ (config), current_ (initial), target_ (initial.encoder.bitrate)
{
}

int
Controller::encoder_bitrate () const
{
  const Encoder &e = current_.encoder;
  double bps = target_;
  if (have_feedback_ && e.fec && !congested_ && !in_episode_ && ceiling_ <= 0)
    bps += FEC_EXTRA_BPS * std::min (e.packet_loss_percentage, PLP_MAX) / PLP_MAX;
  return std::clamp (round_bitrate (bps), config_.min_bitrate, config_.max_bitrate);
}

double
Controller::min_rtt_ms () const
{
  double m = -1;
  for (auto &tr : rtts_)
    if (m < 0 || tr.second < m)
      m = tr.second;
  return m;
}

void
Controller::update_loss_and_fec (const vc::stats::Report &r, double dt, std::string *why)
{
  Encoder &e = current_.encoder;
  loss_ += ewma_alpha (dt, LOSS_TAU_S) * (std::clamp (r.remote_fraction_lost, 0.0, 1.0) - loss_);
  const double pct = loss_ * 100;

  int plp = loss_ < FEC_OFF_LOSS ? 0 : std::min (PLP_MAX, static_cast<int> (std::ceil (pct)) + PLP_MARGIN);
  if (plp != e.packet_loss_percentage &&
      (std::abs (plp - e.packet_loss_percentage) >= PLP_STEP || plp == 0 ||
          e.packet_loss_percentage == 0)) {
    add_reason (why, format ("loss %.1f %%: packet-loss-percentage %d -> %d", pct,
        e.packet_loss_percentage, plp));
    e.packet_loss_percentage = plp;
  }

  bool fec = e.fec;
  if (e.fec && loss_ < FEC_OFF_LOSS)
    fec = false;
  else if (e.fec && e.bitrate < FEC_OFF_BITRATE)
    fec = false;
  else if (!e.fec && loss_ >= FEC_ON_LOSS && e.bitrate >= FEC_MIN_BITRATE)
    fec = true;
  if (fec != e.fec) {
    if (fec)
      add_reason (why, format ("loss %.1f %%: fec on", pct));
    else if (loss_ < FEC_OFF_LOSS)
      add_reason (why, format ("loss %.1f %%: fec off", pct));
    else
      add_reason (why, format ("bitrate %d below %d: fec off (it would cost audio bandwidth)",
          e.bitrate, FEC_OFF_BITRATE));
    e.fec = fec;
  }
}

void
Controller::decrease (double factor, double floor, const std::string &what, std::string *why)
{
  const int before = current_.encoder.bitrate;
  /* The ceiling: the lowest bitrate decreased from in this episode (later decreases of an
   * episode may only be draining the queue, but the lowest is the safe guess). */
  ceiling_ = in_episode_ ? std::min (ceiling_, target_) : target_;
  in_episode_ = true;
  ceiling_time_ = now_;
  last_decrease_ = now_;
  report_since_decrease_ = false;
  target_ = std::max (floor, std::min (target_, target_ * factor));
  current_.encoder.bitrate = encoder_bitrate ();
  add_reason (why, format ("%s: bitrate %d -> %d", what.c_str (), before,
      current_.encoder.bitrate));
}

bool
Controller::probe_loss (const vc::stats::Report &r, bool fresh, std::string *why)
{
  if (!probe_.running)
    return false;
  const double since = now_ - probe_.start;
  if (fresh && probe_.skipped++ > 0) {
    probe_.sum += std::clamp (r.remote_fraction_lost, 0.0, 1.0);
    probe_.reports++;
  }
  const bool enough = probe_.reports >= PROBE_REPORTS && since >= PROBE_MIN_S;
  if (!enough && since < PROBE_MAX_S)
    return true;
  probe_.running = false;
  if (probe_.reports == 0)
    return false; /* no report at all: the rule goes on as for congestion */
  const double before = probe_.loss_before;
  const double after = probe_.sum / probe_.reports;
  /* What a policer would leave: it passes a fixed rate, (1 - before) of the old one. */
  const double policed = std::max (0.0, 1 - (1 - before) / probe_.factor);
  /* Random only when it fell by less than a quarter of what a policer's would (or 3 points):
   * a policer taken for random keeps losing, random loss taken for a policer only costs
   * bitrate, as it did before the probe. */
  if (after < before - std::max (PROBE_RANDOM_MIN_FALL, PROBE_RANDOM_FRACTION * (before - policed)))
    return false; /* it followed the bitrate: congestion */
  /* Nor when it rose well beyond the loss before: not the same loss (a policer whose bucket was
   * still emptying before the probe, a new bottleneck). */
  if (after > before + std::max (PROBE_RANDOM_MIN_FALL, PROBE_RANDOM_FRACTION * before))
    return false;
  random_loss_ = std::max (before, after);
  const int lowered = current_.encoder.bitrate;
  target_ = std::clamp<double> (probe_.bitrate_before, config_.min_bitrate, config_.max_bitrate);
  in_episode_ = false;
  ceiling_ = 0;
  last_decrease_ = -1e9;
  current_.encoder.bitrate = encoder_bitrate ();
  add_reason (why, format ("loss %.1f %% before, %.1f %% at the lower bitrate (a policer would "
      "leave %.1f %%): random loss, not congestion: bitrate %d -> %d", before * 100,
      after * 100, policed * 100, lowered, current_.encoder.bitrate));
  return false;
}

void
Controller::update_bitrate (const vc::stats::Report &r, double dt, bool fresh, std::string *why)
{
  Encoder &e = current_.encoder;
  if (fresh)
    report_since_decrease_ = true;

  const double min_rtt = min_rtt_ms ();
  const bool rtt_known = r.rtt_ms > 0 && min_rtt > 0;
  /* What the path's jitter alone puts on an RTT: not a queue (see JITTER_ALLOWANCE_K). */
  const double allowance = JITTER_ALLOWANCE_K * std::max (0.0, r.jitter_ms);
  const double queuing = rtt_known ? std::max (0.0, r.rtt_ms - min_rtt - allowance) : 0;
  const double rise = std::max (RTT_RISE_MS, RTT_RISE_FRACTION * std::max (0.0, min_rtt));
  const bool delay_congested = queuing > rise;
  const bool loss_congested = loss_ >= LOSS_HOLD && queuing > rise / 2;
  congested_ = delay_congested || loss_congested;
  const bool heavy_loss = loss_ >= LOSS_HEAVY;
  const bool may_decrease = now_ - last_decrease_ >= DECREASE_HOLD_S && report_since_decrease_;

  if (delay_congested || loss_congested) {
    if (may_decrease && target_ > config_.min_bitrate)
      decrease (DECREASE_FACTOR, config_.min_bitrate, format ("congestion (rtt %.0f ms, %.0f ms "
          "above its minimum; loss %.1f %%)", r.rtt_ms, queuing, loss_ * 100), why);
    return;
  }
  if (probe_loss (r, fresh, why))
    return;
  if (!heavy_loss)
    heavy_since_ = -1;
  else if (heavy_since_ < 0)
    heavy_since_ = now_;
  if (heavy_loss && random_loss_ > 0 && loss_ < random_loss_ + RANDOM_LOSS_TOLERANCE)
    return; /* random, as the probe found: hold */
  if (heavy_loss) {
    /* FEC_MIN_BITRATE keeps room for FEC while the loss lasts. */
    double floor = std::max (config_.min_bitrate, std::min (config_.max_bitrate, FEC_MIN_BITRATE));
    if (may_decrease && target_ > floor) {
      double recent = 0;
      for (double l : recent_losses_)
        recent += l / recent_losses_.size ();
      const bool probe = !in_episode_ && !recent_losses_.empty () && recent <= RANDOM_LOSS_MAX;
      if (probe && now_ - heavy_since_ < PROBE_AFTER_S)
        return; /* not for long yet: held as random */
      if (probe) {
        /* The first one of an episode is a probe: does the loss follow the bitrate? */
        probe_ = {};
        probe_.running = true;
        probe_.start = now_;
        probe_.loss_before = recent;
        probe_.bitrate_before = target_;
        probe_.factor = DECREASE_FACTOR;
        decrease (DECREASE_FACTOR, floor, format ("heavy loss %.1f %% without rtt growth "
            "(probing whether it follows the bitrate)", loss_ * 100), why);
        probe_.factor = target_ / probe_.bitrate_before;
      } else {
        decrease (1 - loss_ / 2, floor, format ("heavy loss %.1f %% without rtt growth",
            loss_ * 100), why);
      }
    }
    return;
  }
  if (loss_ < LOSS_HOLD)
    random_loss_ = 0;

  const bool clean = rtt_known && loss_ < LOSS_HOLD && queuing <= rise / 2 &&
      now_ - last_decrease_ >= DECREASE_HOLD_S;
  if (clean)
    in_episode_ = false; /* the next congestion is a new episode, with a new ceiling */
  const bool app_limited = r.send_kbps * 1000 < APP_LIMITED_FRACTION * e.bitrate;
  if (!clean || app_limited || target_ >= config_.max_bitrate)
    return;

  double rate = INCREASE_BPS_PER_S;
  double cap = config_.max_bitrate;
  if (ceiling_ > 0) {
    const double plateau = CEILING_FRACTION * ceiling_;
    if (now_ - ceiling_time_ < CEILING_HOLD_S)
      cap = std::min (cap, std::max (target_, plateau));
    else if (target_ > (2 - CEILING_FRACTION) * ceiling_)
      ceiling_ = 0; /* well past the old ceiling without congestion: forget it */
    else if (target_ >= plateau)
      rate = PROBE_BPS_PER_S;
  }
  target_ = std::min (cap, target_ + rate * dt);
  const int bitrate = encoder_bitrate ();
  if (bitrate != e.bitrate) {
    add_reason (why, format ("%s: bitrate %d -> %d", rate == PROBE_BPS_PER_S ? "probing" : "clean",
        e.bitrate, bitrate));
    e.bitrate = bitrate;
  }
}

void
Controller::update_jitter_buffer (const vc::stats::Report &r, double dt, std::string *why)
{
  int &latency = current_.jitter_buffer_ms;
  const int lo = config_.min_latency_ms, hi = std::max (config_.min_latency_ms, config_.max_latency_ms);
  if (latency < lo || latency > hi) {
    int clamped = std::clamp (latency, lo, hi);
    add_reason (why, format ("jitter buffer %d ms outside [%d, %d]: %d ms", latency, lo, hi,
        clamped));
    latency = clamped;
  }
  if (r.receive_kbps <= 0)
    return; /* nothing arrives: no jitter to follow */

  if (r.playout.known && r.playout.mode == "adaptive" && r.playout.target_ms >= 0) {
    /* The playout downstream follows the jitter itself; the jitter buffer in front of it is
     * only a reorder window. It holds the packets behind a missing one until the missing
     * one is given up. The playout plays a packet about its target less a packet after the
     * fastest one would have come, and decodes it up to a tick before: a window that long
     * would hold the packet behind a hole, the one that carries the lost one's FEC, until
     * just after the playout had to conceal the hole (a 10 ms concealment, then FEC and an
     * acceleration); a shorter one gives up packets the playout could still have played.
     * So: the target less a packet and a tick. */
    int window = static_cast<int> (std::ceil ((r.playout.target_ms - REORDER_PACKET_MS -
        REORDER_TICK_MS) / LATENCY_STEP_MS - 1e-9)) * LATENCY_STEP_MS;
    window = std::clamp (window, lo, hi);
    if (window != latency) {
      add_reason (why, format ("playout target %.0f ms: reorder window %d -> %d ms",
          r.playout.target_ms, latency, window));
      latency = window;
    }
    below_since_ = -1;
    return;
  }

  const double j = std::max (0.0, r.jitter_ms);
  if (!have_jitter_ || j > jitter_envelope_)
    jitter_envelope_ = j;
  else
    jitter_envelope_ += ewma_alpha (dt, JITTER_DECAY_S) * (j - jitter_envelope_);
  have_jitter_ = true;

  double raw = JITTER_K * jitter_envelope_ + JITTER_MARGIN_MS;
  int target = static_cast<int> (std::ceil (raw / LATENCY_STEP_MS - 1e-9)) * LATENCY_STEP_MS;
  target = std::clamp (target, lo, hi);

  if (target > latency) {
    add_reason (why, format ("jitter %.1f ms: jitter buffer %d -> %d ms", j, latency, target));
    latency = target;
    below_since_ = -1;
    return;
  }
  const double hysteresis = std::max<double> (LATENCY_DECREASE_HYST_MS,
      LATENCY_DECREASE_HYST_FRACTION * latency);
  if (target > latency - hysteresis) {
    below_since_ = -1;
    return;
  }
  if (below_since_ < 0)
    below_since_ = now_;
  if (now_ - below_since_ >= LATENCY_DECREASE_HOLD_S) {
    add_reason (why, format ("jitter %.1f ms for %.0f s: jitter buffer %d -> %d ms", j,
        now_ - below_since_, latency, target));
    latency = target;
    below_since_ = -1;
  }
}

Decision
Controller::update (const vc::stats::Report &r, double interval_s)
{
  Decision d;
  if (!config_.enabled) {
    d.settings = current_;
    return d;
  }
  const Settings before = current_;
  const double dt = std::max (0.0, interval_s);
  now_ += dt;

  /* Limits first: they hold even before any feedback. */
  if (config_.min_bitrate > config_.max_bitrate)
    config_.min_bitrate = config_.max_bitrate;
  if (target_ < config_.min_bitrate || target_ > config_.max_bitrate) {
    target_ = std::clamp<double> (target_, config_.min_bitrate, config_.max_bitrate);
    current_.encoder.bitrate = encoder_bitrate ();
    add_reason (&d.reason, format ("bitrate %d outside [%d, %d]: %d", before.encoder.bitrate,
        config_.min_bitrate, config_.max_bitrate, current_.encoder.bitrate));
  }

  const bool fresh = r.rtt_ms > 0 && (r.rtt_ms != last_rtt_ ||
      r.remote_fraction_lost != last_remote_loss_);
  if (fresh) {
    last_rtt_ = r.rtt_ms;
    last_remote_loss_ = r.remote_fraction_lost;
    rtts_.emplace_back (now_, r.rtt_ms);
    recent_losses_.push_back (std::clamp (r.remote_fraction_lost, 0.0, 1.0));
    while (recent_losses_.size () > PROBE_REPORTS)
      recent_losses_.pop_front ();
    while (!rtts_.empty () && rtts_.front ().first < now_ - RTT_MIN_WINDOW_S)
      rtts_.pop_front ();
    if (!have_feedback_) {
      have_feedback_ = true;
      loss_ = std::clamp (r.remote_fraction_lost, 0.0, 1.0);
    }
  }

  if (have_feedback_) {
    update_loss_and_fec (r, dt, &d.reason);
    update_bitrate (r, dt, fresh, &d.reason);
    /* A decrease may take the bitrate below what FEC needs. */
    Encoder &e = current_.encoder;
    if (e.fec && e.bitrate < FEC_OFF_BITRATE) {
      e.fec = false;
      add_reason (&d.reason, format ("bitrate %d below %d: fec off (it would cost audio "
          "bandwidth)", e.bitrate, FEC_OFF_BITRATE));
    }
    /* FEC's share comes and goes with FEC, its packet-loss-percentage and congestion. */
    const int bitrate = encoder_bitrate ();
    if (bitrate != e.bitrate) {
      add_reason (&d.reason, format ("fec at %d %%%s: bitrate %d -> %d",
          e.packet_loss_percentage, bitrate > e.bitrate ? ", not congestion" : "",
          e.bitrate, bitrate));
      e.bitrate = bitrate;
    }
  }
  update_jitter_buffer (r, dt, &d.reason);

  d.settings = current_;
  d.encoder_changed = current_.encoder != before.encoder;
  d.jitter_buffer_changed = current_.jitter_buffer_ms != before.jitter_buffer_ms;
  if (!d.changed ())
    d.reason.clear ();
  return d;
}

Encoder
combine (const std::vector<Encoder> &wishes)
{
  Encoder out;
  bool first = true;
  for (const Encoder &w : wishes) {
    if (first) {
      out = w;
      first = false;
      continue;
    }
    out.bitrate = std::min (out.bitrate, w.bitrate);
    out.fec = out.fec || w.fec;
    out.packet_loss_percentage = std::max (out.packet_loss_percentage, w.packet_loss_percentage);
  }
  return out;
}

GstStructure *
encoder_structure (const Encoder &e)
{
  return gst_structure_new (ENCODER_SETTINGS, "bitrate", G_TYPE_INT, e.bitrate,
      "fec", G_TYPE_BOOLEAN, e.fec, "packet-loss-percentage", G_TYPE_INT,
      e.packet_loss_percentage, nullptr);
}

bool
parse_encoder_structure (const GstStructure *s, Encoder *e)
{
  if (!s || !gst_structure_has_name (s, ENCODER_SETTINGS))
    return false;
  gboolean fec;
  gst_structure_get_int (s, "bitrate", &e->bitrate);
  if (gst_structure_get_boolean (s, "fec", &fec))
    e->fec = fec;
  gst_structure_get_int (s, "packet-loss-percentage", &e->packet_loss_percentage);
  return true;
}

GstStructure *
to_structure (const Encoder &applied, int jitter_buffer_ms, const std::string &reason)
{
  return gst_structure_new ("voicecall-adaptation",
      "bitrate", G_TYPE_INT, applied.bitrate,
      "fec", G_TYPE_BOOLEAN, applied.fec,
      "packet-loss-percentage", G_TYPE_INT, applied.packet_loss_percentage,
      "jitter-buffer-ms", G_TYPE_INT, jitter_buffer_ms,
      "reason", G_TYPE_STRING, reason.c_str (),
      nullptr);
}

} // namespace vc::adaptive
