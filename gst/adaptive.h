/* gst-voicecall: adaptive audio. Plain logic, no element: voicecall feeds one Controller per
 * session with that session's statistics every stats-interval and applies what it decides.
 *
 * Two things adapt:
 *  - the Opus encoder (bitrate, in-band FEC, packet-loss-percentage), from the RTCP receiver
 *    reports the peer sends about our stream: loss and round-trip time;
 *  - the jitter buffer of the stream we receive, from its measured interarrival jitter.
 *
 * The rules, in the order they are applied each interval (docs/adaptive.md says why):
 *
 *  Feedback. Nothing about the encoder changes before the first receiver report (RTT known),
 *  except that the bitrate is brought inside [min-bitrate, max-bitrate]. A report is "new"
 *  when its RTT or fraction lost differs from the previous interval's (reports come every
 *  1–6 s; the statistics repeat the last one in between).
 *
 *  Loss. loss = EWMA of the peer's fraction lost with time constant LOSS_TAU_S (the first
 *  report initialises it).
 *    packet-loss-percentage = 0 while loss < FEC_OFF_LOSS, else
 *                             min (PLP_MAX, ceil (loss %) + PLP_MARGIN),
 *    applied when it moves by PLP_STEP or more, or to or from 0.
 *    FEC turns on at loss >= FEC_ON_LOSS and off below FEC_OFF_LOSS, and only while the
 *    bitrate is at least FEC_MIN_BITRATE (off below FEC_OFF_BITRATE): below that Opus would
 *    narrow the audio band to make room for the redundant copy, and such a low bitrate means
 *    the path is congested, where extra bits make things worse.
 *    FEC's share. Opus pays for the copy out of the bitrate it is given, and the voice loses
 *    what the copy takes. While FEC is on and the path shows no congestion (no RTT growth
 *    this interval, no congestion episode, no ceiling from one), the encoder gets
 *    FEC_EXTRA_BPS × packet-loss-percentage / PLP_MAX on top of the bitrate the rules below
 *    decide (within [min-bitrate, max-bitrate]); it goes again with FEC or with congestion.
 *
 *  Congestion (our bitrate is too high for the path):
 *    queuing = RTT - (minimum RTT of the last RTT_MIN_WINDOW_S)
 *              - JITTER_ALLOWANCE_K × the interarrival jitter of the stream we receive:
 *    jitter is not a queue. With ±J ms of jitter each way an RTT varies by up to 4 J above
 *    its minimum while RFC 3550's jitter estimate reads about 2 J / 3 (for uniform jitter);
 *    taken for queuing it would bring the bitrate down to min-bitrate on any jittery path.
 *    A queue grows beyond that, and its loss comes with it. (Our received jitter stands for
 *    both directions: reports do not carry the peer's jitter of our stream here.)
 *    rise    = max (RTT_RISE_MS, RTT_RISE_FRACTION * minimum RTT);
 *    congested when queuing > rise, or loss >= LOSS_HOLD while queuing > rise / 2.
 *    Then bitrate *= DECREASE_FACTOR (not below min-bitrate). Heavy loss (>= LOSS_HEAVY)
 *    without RTT growth (a policer drops instead of queueing) also decreases, by
 *    (1 - loss / 2), but not below FEC_MIN_BITRATE while FEC is wanted: random loss that
 *    heavy needs FEC more than it needs fewer bits.
 *    Heavy loss without RTT growth may also be random (a lossy radio hop), which a lower
 *    bitrate does not help and costs quality (0.07 STOI at 20 %% random loss in the lab). So
 *    heavy loss is held (as random) for its first PROBE_AFTER_S (bursts of loss on a radio
 *    link come and go; a probe in a short call costs more than it finds), then the first
 *    decrease of an episode (up to RANDOM_LOSS_MAX) is a probe, by
 *    DECREASE_FACTOR: a policer's loss follows the rate (1 - (1 - loss) / factor after it),
 *    random loss does not. The fraction lost of the last PROBE_REPORTS fresh reports before
 *    it and of PROBE_REPORTS after it (the first one after, which straddles the decrease,
 *    left out; at least PROBE_MIN_S, at most PROBE_MAX_S) are averaged; when the loss fell by
 *    less than PROBE_RANDOM_FRACTION of what a policer's would (at least
 *    PROBE_RANDOM_MIN_FALL), and rose by no more than that fraction of itself, it is random: the bitrate goes back to where it was, and heavy loss up to
 *    RANDOM_LOSS_TOLERANCE above the higher of the two holds the bitrate (as loss below LOSS_HEAVY
 *    does) until the loss falls under LOSS_HOLD. Otherwise the rule above goes on.
 *    A decrease needs DECREASE_HOLD_S since the previous one and a new report since then, so
 *    that one queue is not paid for twice out of the same old report.
 *    The lowest bitrate decreased from in a congestion episode (decreases with no clean
 *    interval between them) is remembered as the ceiling.
 *
 *  Increase (clean: RTT known, loss < LOSS_HOLD, queuing <= rise / 2, DECREASE_HOLD_S after a
 *  decrease, and the encoder actually sends at least APP_LIMITED_FRACTION of its bitrate):
 *    bitrate += INCREASE_BPS_PER_S per second, up to max-bitrate. For CEILING_HOLD_S after a
 *    congestion episode's last decrease it stops at CEILING_FRACTION * ceiling; after that it
 *    probes at PROBE_BPS_PER_S within (1 ± (1 - CEILING_FRACTION)) * ceiling, and the ceiling
 *    is forgotten above that.
 *    Loss between LOSS_HOLD and LOSS_HEAVY without RTT growth holds the bitrate: it is
 *    treated as random (a lossy hop), where FEC, not a lower bitrate, helps.
 *    Bitrates are applied in BITRATE_STEP steps.
 *
 *  Jitter buffer (of the stream we receive, only while it arrives):
 *    envelope = the jitter when it rises (at once), else an EWMA of it with time constant
 *               JITTER_DECAY_S (follows peaks, forgets them slowly);
 *    target   = JITTER_K * envelope + JITTER_MARGIN_MS, rounded up to LATENCY_STEP_MS,
 *               clamped to [min-latency, max-latency].
 *    Increases apply at once (late packets are lost audio); a decrease needs the target to
 *    stay at least max (LATENCY_DECREASE_HYST_MS, LATENCY_DECREASE_HYST_FRACTION * latency)
 *    below the current latency for LATENCY_DECREASE_HOLD_S.
 *    With an adaptive playout downstream (the report's playout mode), the playout follows
 *    the jitter and the jitter buffer is a reorder window: the playout's target delay less
 *    REORDER_PACKET_MS and REORDER_TICK_MS (the packet after a lost one, which carries its
 *    FEC, leaves the window a tick before the playout decodes the hole), rounded up to
 *    LATENCY_STEP_MS, clamped, applied at once both ways.
 */
#pragma once

#include "callstats.h"

#include <gst/gst.h>

#include <deque>
#include <string>
#include <utility>
#include <vector>

namespace vc::adaptive {

/* Loss */
constexpr double LOSS_TAU_S = 4.0;
constexpr double FEC_ON_LOSS = 0.01;
constexpr double FEC_OFF_LOSS = 0.005;
constexpr int PLP_MARGIN = 2;
constexpr int PLP_MAX = 10;       /* more costs the voice more than the copy gives (docs/adaptive.md) */
constexpr int PLP_STEP = 2;
constexpr int FEC_EXTRA_BPS = 16000; /* FEC's share at PLP_MAX, in proportion below */
constexpr int FEC_MIN_BITRATE = 16000; /* Opus 1.3 keeps wideband with FEC from ~16 kbit/s */
constexpr int FEC_OFF_BITRATE = 14000;
/* Congestion and bitrate */
constexpr double LOSS_HOLD = 0.02;
constexpr double LOSS_HEAVY = 0.20;
constexpr double RTT_RISE_MS = 50;
constexpr double RTT_RISE_FRACTION = 0.5;
constexpr double JITTER_ALLOWANCE_K = 5;
constexpr double RTT_MIN_WINDOW_S = 60;
constexpr double DECREASE_FACTOR = 0.7;
constexpr double DECREASE_HOLD_S = 2.0;
constexpr int PROBE_REPORTS = 3;
constexpr double PROBE_AFTER_S = 10.0;
constexpr double RANDOM_LOSS_MAX = 0.5;
constexpr double PROBE_RANDOM_FRACTION = 0.25;
constexpr double PROBE_RANDOM_MIN_FALL = 0.03;
constexpr double PROBE_MIN_S = 3.0;
constexpr double PROBE_MAX_S = 20.0;
constexpr double RANDOM_LOSS_TOLERANCE = 0.10;
constexpr double INCREASE_BPS_PER_S = 4000;
constexpr double PROBE_BPS_PER_S = 1000;
constexpr double CEILING_FRACTION = 0.85;
constexpr double CEILING_HOLD_S = 30;
constexpr double APP_LIMITED_FRACTION = 0.5;
constexpr int BITRATE_STEP = 1000;
/* Jitter buffer */
constexpr double JITTER_K = 3;
constexpr double JITTER_MARGIN_MS = 40; /* two 20 ms frames */
constexpr double JITTER_DECAY_S = 10;
constexpr int LATENCY_STEP_MS = 10;
constexpr int LATENCY_DECREASE_HYST_MS = 20;
constexpr double LATENCY_DECREASE_HYST_FRACTION = 0.2;
constexpr double LATENCY_DECREASE_HOLD_S = 10;
constexpr double REORDER_PACKET_MS = 20; /* an adaptive playout's packet, for its window */
constexpr double REORDER_TICK_MS = 10;   /* and its tick */

/* Defaults of voicecall's properties. */
constexpr int DEFAULT_MIN_BITRATE = 12000;
constexpr int DEFAULT_MAX_BITRATE = 64000;
constexpr int DEFAULT_MIN_LATENCY = 20;
constexpr int DEFAULT_MAX_LATENCY = 400;

struct Config {
  bool enabled = true; /* false: every decision leaves the settings as they are */
  int min_bitrate = DEFAULT_MIN_BITRATE, max_bitrate = DEFAULT_MAX_BITRATE;
  int min_latency_ms = DEFAULT_MIN_LATENCY, max_latency_ms = DEFAULT_MAX_LATENCY;
};

/* What opusenc does; shared by all sessions of a voicecall. */
struct Encoder {
  int bitrate = 32000;
  bool fec = true;
  int packet_loss_percentage = 5;
  bool operator== (const Encoder &o) const
  { return bitrate == o.bitrate && fec == o.fec && packet_loss_percentage == o.packet_loss_percentage; }
  bool operator!= (const Encoder &o) const { return !(*this == o); }
};

struct Settings {
  Encoder encoder;
  int jitter_buffer_ms = 60;
};

struct Decision {
  Settings settings;               /* what this session's controller wants now */
  bool encoder_changed = false;    /* compared with its previous decision */
  bool jitter_buffer_changed = false;
  std::string reason;              /* "" when nothing changed */
  bool changed () const { return encoder_changed || jitter_buffer_changed; }
};

class Controller {
public:
  /* `initial`: what the encoder and the jitter buffer do when the session starts. */
  Controller (const Config &config, const Settings &initial);

  /* New limits (properties changed during the call); applied at the next update. */
  void set_config (const Config &config) { config_ = config; }
  const Config &config () const { return config_; }

  /* One interval's statistics, `interval_s` after the previous ones. */
  Decision update (const vc::stats::Report &report, double interval_s);

  const Settings &settings () const { return current_; }
  double smoothed_loss () const { return loss_; }
  /* The heavy loss found to be random (not following the bitrate), or 0. */
  double random_loss () const { return random_loss_; }
  double min_rtt_ms () const;

private:
  void update_loss_and_fec (const vc::stats::Report &r, double dt, std::string *why);
  void update_bitrate (const vc::stats::Report &r, double dt, bool fresh, std::string *why);
  void update_jitter_buffer (const vc::stats::Report &r, double dt, std::string *why);
  void decrease (double factor, double floor, const std::string &what, std::string *why);
  /* The encoder's bitrate for target_: FEC's share on top of it when it applies. */
  int encoder_bitrate () const;
  /* The heavy-loss probe; true while it runs (the bitrate is left alone meanwhile). */
  bool probe_loss (const vc::stats::Report &r, bool fresh, std::string *why);

  Config config_;
  Settings current_;
  double now_ = 0;
  bool have_feedback_ = false;
  double last_rtt_ = -1, last_remote_loss_ = -1;
  std::deque<std::pair<double, double>> rtts_; /* (time, rtt) of each new report */
  double loss_ = 0;
  double target_ = 0;           /* bitrate, before rounding to BITRATE_STEP */
  double last_decrease_ = -1e9;
  bool report_since_decrease_ = true;
  bool in_episode_ = false;
  bool congested_ = false;      /* the last interval's RTT (and loss) said congestion */
  double ceiling_ = 0, ceiling_time_ = -1e9;
  /* The heavy-loss probe and what it found. */
  struct {
    bool running = false;
    double start = 0, loss_before = 0, factor = 1, bitrate_before = 0;
    double sum = 0;
    int reports = 0, skipped = 0;
  } probe_;
  std::deque<double> recent_losses_; /* the fraction lost of the last fresh reports */
  double random_loss_ = 0; /* > 0: heavy loss at about this level is random */
  double heavy_since_ = -1; /* since when the loss has been heavy, or -1 */
  bool have_jitter_ = false;
  double jitter_envelope_ = 0;
  double below_since_ = -1;
};

/* The shared encoder gets the most conservative of the sessions' wishes: the lowest bitrate,
 * FEC if any wants it, the highest packet-loss-percentage. */
Encoder combine (const std::vector<Encoder> &wishes);

/* The custom upstream event / query voicecall sends to voicecapturebin, and its fields:
 * bitrate (int, bit/s), fec (boolean), packet-loss-percentage (int). */
constexpr const char *ENCODER_SETTINGS = "voicecall-encoder-settings";
GstStructure *encoder_structure (const Encoder &e);
/* Reads the fields present; false if the structure is not ENCODER_SETTINGS. */
bool parse_encoder_structure (const GstStructure *s, Encoder *e);

/* The "voicecall-adaptation" element message body (voicecall adds session-id and peer). */
GstStructure *to_structure (const Encoder &applied, int jitter_buffer_ms, const std::string &reason);

} // namespace vc::adaptive
