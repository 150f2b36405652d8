/* gst-voicecall: the playout (gst/playout/playout.h) with real Opus: speech-like syllables
 * (opus_speech.h) encoded by libopus with in-band FEC, packets delivered by a scripted network
 * (fixed path delay, jitter, a dropped packet), 10 ms pulled every 10 ms.
 *
 * Checked by content against a plain decode of every packet: on a clean path the output IS
 * that decode, one packet late; a lost packet recovered from the next one's FEC is close to
 * the lost audio (and closer than concealment); jitter that comes and goes is followed in both
 * directions by stretching, without a click and without changing the pitch. */
#include "playout/playout.h"
#include "tone.h"
#include "opus_speech.h"
#include "stoi.h"

#include <gst/check/gstcheck.h>
#include <opus.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>
#include <string>
#include <vector>

using vc::playout::Operation;
using vc::playout::Playout;

namespace {

constexpr int RATE = 48000;
constexpr int FRAME = 960;
constexpr int TICK = 480;
constexpr int64_t PATH_US = 50000;
constexpr double F0 = vctest::SPEECH_F0;
/* A packet in the middle of a syllable (2.2 s): Opus sends in-band FEC only for speech. */
constexpr int LOST = 110;
constexpr double SPEECH_CUT_AFTER_S = vc::playout::SPEECH_CUT_AFTER_MS / 1000.0;

struct Lcg {
  uint64_t state;
  explicit Lcg (uint64_t seed) : state (seed) {}
  double uniform ()
  {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double> (state >> 11) * (1.0 / 9007199254740992.0);
  }
};

using Encoded = vctest::EncodedSpeech;

const Encoded &
encoded (int seconds, bool varied = false)
{
  const Encoded &e = vctest::encoded_speech (seconds, varied);
  fail_unless (e.ok, "libopus failed");
  return e;
}

struct Run {
  std::vector<float> out;
  std::vector<Operation> ops;
  std::vector<double> delay_ms, target_ms; /* per tick */
  vc::playout::PlayoutStats stats;
  long first_audio_tick = -1;
};

/* Sends every packet of `e` at n × 20 ms; packet n arrives at its send time + PATH_US +
 * extra_us (n) (never, when `drop` says so). Ticks every 10 ms from PATH_US + 3 ms.
 * `held_us` (n): how long something in front of the playout held packet n after it came off
 * the network; `tell_network`: the playout is told when it came off the network. */
Run
simulate (const Encoded &e, const Playout::Config &config,
    const std::function<int64_t (int)> &extra_us, const std::set<int> &drop = {},
    const std::function<int64_t (int)> &held_us = nullptr, bool tell_network = false)
{
  struct Arrival {
    int64_t at;
    int n;
    int64_t network;
  };
  std::vector<Arrival> arrivals;
  for (int n = 0; n < static_cast<int> (e.packets.size ()); n++) {
    const int64_t network = n * 20000 + PATH_US + extra_us (n);
    if (!drop.count (n))
      arrivals.push_back ({network + (held_us ? held_us (n) : 0), n, network});
  }
  std::stable_sort (arrivals.begin (), arrivals.end (),
      [] (const Arrival &a, const Arrival &b) { return a.at < b.at; });

  Playout playout (config);
  Run r;
  std::vector<float> buf (TICK * config.channels);
  size_t next = 0;
  const long ticks = static_cast<long> (e.packets.size ()) * 2 - 10; /* stop before the end */
  for (long k = 0; k < ticks; k++) {
    const int64_t now = PATH_US + 3000 + k * 10000;
    for (; next < arrivals.size () && arrivals[next].at <= now; next++) {
      const int n = arrivals[next].n;
      const auto &p = e.packets[n];
      playout.insert (p.data (), p.size (), static_cast<uint16_t> (n + 65000),
          static_cast<uint32_t> (4294000000u + static_cast<uint32_t> (n) * FRAME), arrivals[next].at,
          tell_network ? arrivals[next].network : -1);
    }
    const bool started = playout.started ();
    r.ops.push_back (playout.pull (now, buf.data ()));
    if (!started)
      continue;
    if (r.first_audio_tick < 0)
      r.first_audio_tick = k;
    r.out.insert (r.out.end (), buf.begin (), buf.end ());
    r.delay_ms.push_back (playout.stats ().current_delay_ms);
    r.target_ms.push_back (playout.stats ().target_delay_ms);
  }
  r.stats = playout.stats ();
  return r;
}

double
max_step (const std::vector<float> &v, size_t from = 0, size_t to = SIZE_MAX)
{
  double m = 0;
  for (size_t i = std::max<size_t> (from, 1); i < std::min (to, v.size ()); i++)
    m = std::max (m, static_cast<double> (std::abs (v[i] - v[i - 1])));
  return m;
}

/* SNR (dB) of `x` against `ref` over [from, to). */
double
snr_db (const std::vector<float> &ref, const std::vector<float> &x, size_t from, size_t to)
{
  double s = 0, n = 0;
  for (size_t i = from; i < to; i++) {
    s += ref[i] * ref[i];
    n += (ref[i] - x[i]) * (ref[i] - x[i]);
  }
  return 10 * std::log10 (s / std::max (n, 1e-20));
}

/* Segmental SNR (dB) of `y` against `ref` with local alignment, for outputs whose timeline
 * moves (concealment, FEC after concealment, stretching): each 20 ms block of `y` is compared
 * with the part of `ref` it matches best within 15 ms of the previous block's lag (coarse
 * search, then refined). Blocks whose reference is quieter than -40 dBFS are skipped; each
 * block's SNR is clipped to [-10, 35] dB. */
double
aligned_segsnr (const std::vector<float> &ref, const std::vector<float> &y, long from, long to)
{
  constexpr long B = FRAME, SPAN = 720;
  long lag = 0; /* y[i] matches ref[i + lag] */
  double sum = 0;
  int blocks = 0;
  /* normalised: a louder stretch of the reference must not win */
  auto corr = [&] (long start, long l) {
    double c = 0, e = 0;
    for (long i = 0; i < B; i++) {
      c += y[start + i] * ref[start + i + l];
      e += ref[start + i + l] * ref[start + i + l];
    }
    return c / std::sqrt (e + 1e-12);
  };
  for (long start = from; start + B <= to && start + B <= static_cast<long> (y.size ()); start += B) {
    double energy = 0;
    for (long i = 0; i < B && start + i + lag < static_cast<long> (ref.size ()); i++)
      energy += ref[start + i + lag] * ref[start + i + lag];
    if (energy / B < 1e-4) /* -40 dBFS */
      continue;
    long best = lag;
    double best_c = -1e30;
    auto consider = [&] (long l) {
      if (start + l < 0 || start + l + B > static_cast<long> (ref.size ()))
        return;
      const double c = corr (start, l);
      if (c > best_c) {
        best_c = c;
        best = l;
      }
    };
    for (long l = lag - SPAN; l <= lag + SPAN; l += 4)
      consider (l);
    const long coarse = best;
    for (long l = coarse - 3; l <= coarse + 3; l++)
      consider (l);
    lag = best;
    double s = 0, n = 0;
    for (long i = 0; i < B; i++) {
      const double r = ref[start + i + lag];
      s += r * r;
      n += (r - y[start + i]) * (r - y[start + i]);
    }
    sum += std::clamp (10 * std::log10 (s / std::max (n, 1e-12)), -10.0, 35.0);
    blocks++;
  }
  return blocks ? sum / blocks : 0;
}

int64_t
none (int)
{
  return 0;
}

} // namespace

GST_START_TEST (test_clean_path)
{
  const Encoded &e = encoded (3);
  Playout::Config c;
  c.start_with_headroom = false; /* the path alone: test_start_headroom */
  Run r = simulate (e, c, none);
  const auto &s = r.stats;
  g_print ("clean: delay %.1f ms, target %d ms, concealed %" G_GUINT64_FORMAT
      ", accelerate %" G_GUINT64_FORMAT " expand %" G_GUINT64_FORMAT "\n",
      s.current_delay_ms, s.target_delay_ms, s.concealed_samples, s.accelerate_ops, s.expand_ops);
  fail_unless_equals_int (s.target_delay_ms, 20);
  fail_unless (s.current_delay_ms >= 0 && s.current_delay_ms < 10, "delay %f", s.current_delay_ms);
  fail_unless (s.packets_decoded >= e.packets.size () - 5, "decoded %" G_GUINT64_FORMAT, s.packets_decoded);
  fail_unless_equals_int (s.concealed_samples, 0);
  fail_unless_equals_int (s.accelerate_ops + s.expand_ops, 0);
  /* Sample for sample the plain decode. */
  fail_unless (r.out.size () >= e.reference.size () - 10 * TICK);
  double diff = 0;
  for (size_t i = 0; i < r.out.size (); i++)
    diff = std::max (diff, static_cast<double> (std::abs (r.out[i] - e.reference[i])));
  fail_unless (diff == 0, "output differs from the decode by %g", diff);
}
GST_END_TEST;

/* A jitter buffer in front holds packets behind a missing one: here every tenth packet
 * and the two after it reach the playout 40 ms after they came off the network (a clean
 * network). Told when they came off the network (voicecall's arrival meta), the playout's
 * target is one packet, plus the FEC headroom its holes bring (the held packets come too
 * late to play); judging by when they reach it, it buffers for 40 ms of jitter as well. */
GST_START_TEST (test_network_arrival)
{
  const Encoded &e = encoded (3);
  Playout::Config c;
  auto held = [] (int n) -> int64_t { return n % 10 < 3 ? 40000 : 0; };
  Run told = simulate (e, c, none, {}, held, true);
  Run not_told = simulate (e, c, none, {}, held, false);
  g_print ("held packets: target %d ms told the network arrival, %d ms not told\n",
      told.stats.target_delay_ms, not_told.stats.target_delay_ms);
  fail_unless (told.stats.target_delay_ms <= 40, "target %d ms", told.stats.target_delay_ms);
  fail_unless (not_told.stats.target_delay_ms >= told.stats.target_delay_ms + 20,
      "target %d ms", not_told.stats.target_delay_ms);
}
GST_END_TEST;

/* A 60 ms minimum delay: when packet LOST is due, the next is already held. */
GST_START_TEST (test_fec_recovers_loss)
{
  const Encoded &e = encoded (3);
  Playout::Config c;
  c.min_delay_ms = 60;
  Run clean = simulate (e, c, none);
  Run fec = simulate (e, c, none, {LOST});
  c.fec = false;
  Run plc = simulate (e, c, none, {LOST});

  fail_unless_equals_int (fec.stats.fec_recovered, 1);
  fail_unless_equals_int (fec.stats.concealed_samples, 0);
  fail_unless_equals_int (fec.stats.packets_lost, 0);
  fail_unless_equals_int (plc.stats.fec_recovered, 0);
  fail_unless (plc.stats.concealed_samples >= FRAME);
  /* The runs are identical up to the loss: find it, and compare 40 ms from there (the lost
   * packet and the decoder's recovery in the next). */
  size_t at = 0;
  while (at < fec.out.size () && fec.out[at] == clean.out[at])
    at++;
  fail_unless (at < fec.out.size () && at > (LOST - 10u) * FRAME, "first difference at %zu", at);
  const size_t to = at + 2 * FRAME;
  const double snr_fec = snr_db (clean.out, fec.out, at, to);
  const double snr_plc = snr_db (clean.out, plc.out, at, to);
  g_print ("packet %d lost at %.3f s of output: SNR against no loss, FEC %.1f dB, "
      "concealment %.1f dB; max step %.4f (no loss %.4f)\n", LOST, at / 48000.0, snr_fec, snr_plc,
      max_step (fec.out, at - 100, to), max_step (clean.out, at - 100, to));
  fail_unless (snr_fec > 10, "FEC SNR %f dB", snr_fec);
  fail_unless (snr_fec > snr_plc + 6, "FEC %f dB, concealment %f dB", snr_fec, snr_plc);
  fail_unless (max_step (fec.out, at - 100, to) <= 1.3 * max_step (clean.out, at - 100, to));
}
GST_END_TEST;

/* No minimum delay: when packet LOST is due nothing is held, nor 10 ms later; 20 ms are
 * concealed, the hole is covered and the next packet is played on time (FEC would have come
 * too late: it rides in that next packet). */
GST_START_TEST (test_loss_on_a_tight_path)
{
  const Encoded &e = encoded (3);
  Playout::Config c;
  c.start_with_headroom = false; /* a path held at one packet */
  Run clean = simulate (e, c, none);
  Run r = simulate (e, c, none, {LOST});
  g_print ("tight loss: concealed %" G_GUINT64_FORMAT ", fec %" G_GUINT64_FORMAT
      ", lost %" G_GUINT64_FORMAT ", merge %" G_GUINT64_FORMAT "\n", r.stats.concealed_samples,
      r.stats.fec_recovered, r.stats.packets_lost, r.stats.merge_ops);
  fail_unless_equals_int (r.stats.concealed_samples, FRAME);
  fail_unless_equals_int (r.stats.packets_lost, 1);
  fail_unless_equals_int (r.stats.merge_ops, 1);
  fail_unless (r.stats.current_delay_ms < 10, "delay %f", r.stats.current_delay_ms);
  const double ref_step = max_step (clean.out);
  fail_unless (max_step (r.out) <= 1.3 * ref_step, "step %f, no loss %f", max_step (r.out),
      ref_step);
  const double f = vc::tone::dominant_frequency (r.out, RATE);
  fail_unless (std::abs (f - F0) < 1.5, "dominant %f Hz", f);
}
GST_END_TEST;

/* 2 s clean, 4 s of ±30 ms jitter (reordering), 6 s clean again. */
GST_START_TEST (test_jitter_comes_and_goes)
{
  const Encoded &e = encoded (12);
  Lcg rng (7);
  std::vector<int64_t> extra (e.packets.size ());
  for (size_t n = 0; n < extra.size (); n++)
    extra[n] = (n >= 100 && n < 300) ? static_cast<int64_t> ((2 * rng.uniform () - 1) * 30000) : 0;
  Playout::Config c;
  Run clean = simulate (e, c, none);
  Run r = simulate (e, c, [&] (int n) { return extra[n]; });
  const auto &s = r.stats;

  /* Output seconds: jitter from 2 s to 6 s (plus the startup). */
  auto at = [&] (double sec) { return static_cast<size_t> (sec * 100); };
  double max_target = 0, max_delay = 0;
  for (size_t k = at (2); k < at (6); k++) {
    max_target = std::max (max_target, r.target_ms[k]);
    max_delay = std::max (max_delay, r.delay_ms[k]);
  }
  double back = -1;
  for (size_t k = at (6); k < r.delay_ms.size (); k++) {
    if (back < 0 && r.delay_ms[k] < 15 && r.target_ms[k] <= 20)
      back = k / 100.0 - 6;
    if (back >= 0)
      fail_unless (r.delay_ms[k] < 25, "delay %f ms at %f s after back", r.delay_ms[k], k / 100.0);
  }
  const double f = vc::tone::dominant_frequency (r.out, RATE);
  g_print ("jitter: target up to %.0f ms, delay up to %.1f ms; back to <15 ms %.2f s after it "
      "stopped; inserted %" G_GUINT64_FORMAT " removed %" G_GUINT64_FORMAT " concealed %"
      G_GUINT64_FORMAT " samples, late %" G_GUINT64_FORMAT ", fec %" G_GUINT64_FORMAT
      "; dominant %.1f Hz; max step %.4f (plain decode %.4f)\n", max_target, max_delay, back,
      s.inserted_samples_for_deceleration, s.removed_samples_for_acceleration,
      s.concealed_samples, s.late_discarded, s.fec_recovered, f, max_step (r.out),
      max_step (clean.out));
  fail_unless (max_target >= 60, "target %f", max_target);
  fail_unless (s.inserted_samples_for_deceleration > 0);
  fail_unless (s.removed_samples_for_acceleration > 0);
  fail_unless (back >= 0 && back < 6, "delay back after %f s", back);
  fail_unless (std::abs (f - F0) < 1.5, "dominant %f Hz", f);
  fail_unless (max_step (r.out) <= 1.3 * max_step (clean.out), "a click: %f vs %f",
      max_step (r.out), max_step (clean.out));
  /* Concealment stays rare: under 5 % of the jittery part. */
  fail_unless (s.concealed_samples < 0.05 * 4 * RATE, "concealed %" G_GUINT64_FORMAT,
      s.concealed_samples);
}
GST_END_TEST;

GST_START_TEST (test_stereo_and_s16)
{
  /* Mono packets into a stereo playout: libopus upmixes; int16 output. */
  const Encoded &e = encoded (3);
  Playout::Config c;
  c.channels = 2;
  Playout p (c);
  std::vector<int16_t> out (2 * TICK);
  std::vector<float> left;
  for (int n = 0; n < 100; n++) {
    p.insert (e.packets[n].data (), e.packets[n].size (), n, n * FRAME, n * 20000);
    for (int k = 0; k < 2; k++) {
      p.pull (n * 20000 + k * 10000 + 1000, out.data ());
      bool same = true;
      for (int i = 0; i < TICK; i++) {
        same &= out[2 * i] == out[2 * i + 1];
        left.push_back (out[2 * i] / 32768.f);
      }
      fail_unless (same, "left and right differ");
    }
  }
  const double f = vc::tone::dominant_frequency (left, RATE);
  fail_unless (std::abs (f - F0) < 1.5, "dominant %f Hz", f);
  uint8_t junk[3] = {0xff, 0xff, 0xff};
  p.insert (junk, 0, 100, 100 * FRAME, 2000000);
  fail_unless_equals_int (p.stats ().invalid, 1);
}
GST_END_TEST;

/* The next packet comes a few ms after the hole had to start: 10 ms are concealed, then the
 * packet is recovered from FEC, which libopus does for no less than the whole packet. The
 * surplus is taken back by a period at once, so the delay does not keep those 10 ms. */
GST_START_TEST (test_fec_after_concealment)
{
  const Encoded &e = encoded (3);
  Playout::Config c;
  c.min_delay_ms = 40;
  c.fec_headroom = false;
  Run clean = simulate (e, c, none);
  Run r = simulate (e, c, none, {LOST});
  const size_t at = LOST * 2; /* the loss's tick, give or take the delay */
  const double before = r.delay_ms[at - 20], after = r.delay_ms[at + 20];
  g_print ("FEC after concealment: fec %" G_GUINT64_FORMAT ", concealed %" G_GUINT64_FORMAT
      ", removed %" G_GUINT64_FORMAT " (no loss: %" G_GUINT64_FORMAT "); delay %.1f ms before, "
      "%.1f ms after\n", r.stats.fec_recovered, r.stats.concealed_samples,
      r.stats.removed_samples_for_acceleration, clean.stats.removed_samples_for_acceleration,
      before, after);
  fail_unless_equals_int (r.stats.fec_recovered, 1);
  fail_unless_equals_int (r.stats.concealed_samples, TICK);
  fail_unless (r.stats.removed_samples_for_acceleration >
      clean.stats.removed_samples_for_acceleration + 120);
  fail_unless (after < before + 5, "delay %f ms before, %f after", before, after);
  fail_unless (max_step (r.out) <= 1.3 * max_step (clean.out));
}
GST_END_TEST;

/* 10 % random loss from 1 s to 6 s on an otherwise clean path, then 3 s clean. With the FEC
 * headroom, the playout holds a packet and a tick more while packets are lost, so that the packet
 * carrying each lost one's FEC copy is here in time: most losses are recovered instead of
 * concealed, for 20 ms of delay, which goes again when the losses stop. Compared with the
 * headroom off, against the loss-free decode. */
GST_START_TEST (test_loss_fec_headroom)
{
  const Encoded &e = encoded (9, true);
  Lcg rng (21);
  std::set<int> drop;
  for (int n = 50; n < 300; n++)
    if (rng.uniform () < 0.10)
      drop.insert (n);
  struct Case {
    const char *name;
    bool fec, headroom;
    Run r;
    double stoi = 0, mean_delay = 0, segsnr = 0;
  } cases[] = {{"fec+headroom", true, true, {}}, {"fec, no headroom", true, false, {}}};
  /* (FEC off gives the no-headroom run exactly: on a one-packet path FEC is never used.) */
  for (auto &c : cases) {
    Playout::Config config;
    config.fec = c.fec;
    config.fec_headroom = c.headroom;
    c.r = simulate (e, config, none, drop);
    vc::stoi::Score score;
    std::string error;
    fail_unless (vc::stoi::score (e.reference, RATE, c.r.out, RATE, &score, &error), "%s",
        error.c_str ());
    c.stoi = score.stoi;
    /* the lossy part: output 1-6.5 s (the playout starts at 0) */
    c.segsnr = aligned_segsnr (e.reference, c.r.out, RATE, 13 * RATE / 2);
    for (size_t k = 150; k < 600 && k < c.r.delay_ms.size (); k++)
      c.mean_delay += c.r.delay_ms[k] / 450;
    g_print ("%zu lost of 250 (10 %%), %s: fec %" G_GUINT64_FORMAT " lost %" G_GUINT64_FORMAT
        " concealed %" G_GUINT64_FORMAT " samples, mean delay %.1f ms (target %d ms at the "
        "end), STOI %.4f, aligned segmental SNR %.1f dB\n", drop.size (), c.name, c.r.stats.fec_recovered,
        c.r.stats.packets_lost, c.r.stats.concealed_samples, c.mean_delay,
        c.r.stats.target_delay_ms, c.stoi, c.segsnr);
  }
  const auto &on = cases[0], &off = cases[1];
  fail_unless (on.r.stats.fec_recovered >= 0.6 * drop.size (), "recovered %" G_GUINT64_FORMAT,
      on.r.stats.fec_recovered);
  fail_unless (on.r.stats.concealed_samples * 2 < off.r.stats.concealed_samples);
  /* Quality by the locally aligned segmental SNR. STOI is printed but not compared: its
   * alignment is one lag per second, and the second in which the headroom is taken (and the
   * one in which it goes) mixes two lags, which it scores as damage (0.92 against 0.96 here,
   * with correlations of 0.48 and 0.84 for those two blocks and >= 0.99 for the others). */
  fail_unless (on.segsnr > off.segsnr + 2, "segmental SNR %f, %f dB", on.segsnr, off.segsnr);
  /* A packet and a tick of headroom: with a packet only, the packet carrying a hole's FEC
   * often came a tick too late (10 ms concealed, then the whole FEC copy and an acceleration):
   * STOI 0.916 here, against 0.951. */
  fail_unless (on.stoi > 0.94, "STOI with the headroom %f", on.stoi);
  fail_unless_equals_int (off.r.stats.fec_recovered, 0);
  fail_unless (on.mean_delay < 35, "mean delay %f", on.mean_delay);
  /* The losses stopped 3 s before the end: the headroom is gone (2 s without loss). */
  fail_unless (!on.r.stats.fec_headroom && on.r.stats.target_delay_ms == 20);
  fail_unless (on.r.delay_ms.back () < 15, "delay at the end %f", on.r.delay_ms.back ());
}
GST_END_TEST;

/* `seconds` of a steady 440 Hz tone, as encoded_speech encodes speech (but never silent). */
Encoded
encoded_tone (int seconds)
{
  Encoded e;
  int err = 0;
  OpusEncoder *enc = opus_encoder_create (RATE, 1, OPUS_APPLICATION_VOIP, &err);
  fail_unless (enc != nullptr);
  opus_encoder_ctl (enc, OPUS_SET_BITRATE (32000));
  opus_encoder_ctl (enc, OPUS_SET_INBAND_FEC (1));
  opus_encoder_ctl (enc, OPUS_SET_PACKET_LOSS_PERC (20));
  std::vector<float> pcm (FRAME);
  uint8_t buf[1500];
  for (int n = 0; n < seconds * 50; n++) {
    for (int i = 0; i < FRAME; i++)
      pcm[i] = static_cast<float> (0.3 * std::sin (2 * M_PI * 440 * (n * FRAME + i) / RATE));
    const int len = opus_encode_float (enc, pcm.data (), FRAME, buf, sizeof buf);
    fail_unless (len > 0);
    e.packets.emplace_back (buf, buf + len);
  }
  opus_encoder_destroy (enc);
  e.ok = true;
  return e;
}

/* With start_with_headroom a stream starts with the FEC headroom: loss may come from the
 * first packet, and a delay grown while packets are being lost grows by concealment. The
 * headroom is reached by expansion and, once LOSS_WINDOW packets have passed without loss,
 * given back in the pauses, not in the syllables. */
GST_START_TEST (test_start_headroom)
{
  const Encoded &e = encoded (9, true);
  auto stoi = [&] (const Run &r) {
    vc::stoi::Score score;
    std::string error;
    fail_unless (vc::stoi::score (e.reference, RATE, r.out, RATE, &score, &error), "%s",
        error.c_str ());
    return score.stoi;
  };
  auto back_at = [] (const Run &r) {
    for (size_t k = 0; k < r.delay_ms.size (); k++) {
      bool stays = true;
      for (size_t u = k; u < r.delay_ms.size () && stays; u++)
        stays = r.delay_ms[u] < 15;
      if (stays)
        return static_cast<double> (k) / 100;
    }
    return -1.0;
  };
  Playout::Config c, speech_too, plain;
  c.start_with_headroom = true;
  speech_too.start_with_headroom = true;
  speech_too.silence_first = false;
  plain.start_with_headroom = false;

  Run clean = simulate (e, c, none), clean_speech_too = simulate (e, speech_too, none);
  double early = 0;
  for (size_t k = 0; k < 150; k++)
    early = std::max (early, clean.delay_ms[k]);
  const double back = back_at (clean);
  const double snr = aligned_segsnr (e.reference, clean.out, 0, clean.out.size ()),
      snr_speech_too = aligned_segsnr (e.reference, clean_speech_too.out, 0,
          clean_speech_too.out.size ());

  Lcg rng (5);
  std::set<int> drop;
  for (int n = 0; n < 300; n++)
    if (rng.uniform () < 0.10)
      drop.insert (n);
  Run lossy = simulate (e, c, none, drop), lossy_plain = simulate (e, plain, none, drop);
  const double s_lossy = stoi (lossy), s_plain = stoi (lossy_plain);
  g_print ("start: clean path, delay up to %.1f ms in the first 1.5 s, back under 15 ms for good "
      "at %.2f s; concealed %" G_GUINT64_FORMAT ", inserted %" G_GUINT64_FORMAT ", removed %"
      G_GUINT64_FORMAT "; aligned segmental SNR %.1f dB (cutting speech too: %.1f dB, back "
      "at %.2f s)\n", early, back, clean.stats.concealed_samples,
      clean.stats.inserted_samples_for_deceleration,
      clean.stats.removed_samples_for_acceleration, snr, snr_speech_too,
      back_at (clean_speech_too));
  g_print ("start: %zu of 300 lost from the first packet: STOI %.4f (fec %" G_GUINT64_FORMAT
      ", concealed %" G_GUINT64_FORMAT "), without the start's headroom %.4f (fec %"
      G_GUINT64_FORMAT ", concealed %" G_GUINT64_FORMAT ")\n", drop.size (), s_lossy,
      lossy.stats.fec_recovered, lossy.stats.concealed_samples, s_plain,
      lossy_plain.stats.fec_recovered, lossy_plain.stats.concealed_samples);

  /* A tone is never silent: its surplus waits SPEECH_CUT_AFTER_MS for a silence, then is cut
   * all the same. */
  const Encoded tone = encoded_tone (8);
  Run t = simulate (tone, c, none), t_speech_too = simulate (tone, speech_too, none);
  const double f = vc::tone::dominant_frequency (t.out, RATE);
  g_print ("start: a tone, back under 15 ms at %.2f s (cutting speech too: %.2f s), "
      "%.1f Hz, largest step %.4f (cutting speech too %.4f)\n", back_at (t),
      back_at (t_speech_too), f, max_step (t.out), max_step (t_speech_too.out));

  fail_unless (early >= 25, "the delay reached only %.1f ms at the start", early);
  fail_unless_equals_int (clean.stats.concealed_samples, 0);
  fail_unless (clean.stats.inserted_samples_for_deceleration > 0);
  /* held for LOSS_WINDOW packets (2 s), then given back in a pause */
  fail_unless (back >= 1.9 && back < 3, "back at %.2f s", back);
  fail_unless (snr > 30, "aligned segmental SNR %.1f dB", snr);
  fail_unless (s_lossy > s_plain + 0.005, "STOI %.4f, without the start's headroom %.4f",
      s_lossy, s_plain);
  fail_unless (lossy.stats.concealed_samples < lossy_plain.stats.concealed_samples);
  const double t_back = back_at (t);
  fail_unless (t_back >= 1.9 + SPEECH_CUT_AFTER_S && t_back < 3 + SPEECH_CUT_AFTER_S,
      "the tone's delay back at %.2f s", t_back);
  fail_unless (back_at (t_speech_too) < 3, "cutting speech too: back at %.2f s",
      back_at (t_speech_too));
  fail_unless (std::abs (f - 440) < 2, "%.1f Hz", f);
}
GST_END_TEST;

/* A stream that stops (a peer gone) is concealed for CONCEAL_FULL_MS, faded to silence over
 * CONCEAL_FADE_MS, then silent, however long nothing comes; when it comes back (an outage of
 * a second) it fades in, without a step larger than the plain decode's, and plays on time. */
GST_START_TEST (test_long_concealment_fades)
{
  const Encoded &e = encoded (6);
  Playout::Config c;
  c.start_with_headroom = false;
  std::set<int> gone;
  for (int n = LOST; n < LOST + 50; n++)
    gone.insert (n); /* 1 s without a packet, from the middle of a syllable on */
  Run clean = simulate (e, c, none);
  Run r = simulate (e, c, none, gone);
  /* Output tick k plays about packet k / 2 (the playout starts with the first packet). */
  auto rms = [&] (size_t from_tick, size_t ticks) {
    double sum = 0;
    size_t n = 0;
    for (size_t i = from_tick * TICK; i < (from_tick + ticks) * TICK && i < r.out.size (); i++, n++)
      sum += r.out[i] * r.out[i];
    return n ? std::sqrt (sum / n) : -1.0;
  };
  const size_t stop = 2 * LOST; /* the tick of packet LOST */
  const double full = rms (stop, 8), faded = rms (stop + 22, 70);
  const double step = max_step (r.out), ref_step = max_step (clean.out);
  const double f = vc::tone::dominant_frequency (
      std::vector<float> (r.out.begin () + (stop + 120) * TICK, r.out.end ()), RATE);
  g_print ("long concealment: RMS %.4f in its first 80 ms, %.6f from 220 ms on (the speech "
      "%.4f); after 1 s the stream comes back: %.1f Hz, largest step %.4f (plain decode %.4f), "
      "delay at the end %.1f ms\n", full, faded, rms (stop - 100, 100), f, step, ref_step,
      r.delay_ms.back ());
  fail_unless (full > 0.01, "no concealment at first: RMS %f", full);
  fail_unless (faded == 0, "the concealment still sounds after 220 ms: RMS %f", faded);
  fail_unless (step <= 1.3 * ref_step, "a step of %f (the plain decode's largest %f)", step,
      ref_step);
  fail_unless (std::abs (f - F0) < 1.5, "dominant %f Hz", f);
  fail_unless (r.delay_ms.back () < 15, "delay %f ms at the end", r.delay_ms.back ());
}
GST_END_TEST;

/* Network input is untrusted: random payloads (some valid Opus TOCs, most not), random
 * sequence numbers and timestamps, duplicates and huge jumps. Nothing crashes, every tick
 * gives 10 ms of finite audio within [-1, 1] (libopus' float output of garbage passes ±1:
 * the playout clips), and the counters add up. */
GST_START_TEST (test_garbage)
{
  Lcg rng (99);
  Playout::Config c;
  c.channels = 2;
  c.max_packets = 20;
  Playout p (c);
  std::vector<float> out (2 * TICK);
  uint16_t seq = 0;
  uint32_t ts = 0;
  for (int k = 0; k < 3000; k++) {
    const double r = rng.uniform ();
    seq += r < 0.05 ? static_cast<uint16_t> (rng.uniform () * 65536) : (r < 0.5 ? 1 : 0);
    ts += r < 0.05 ? static_cast<uint32_t> (rng.uniform () * 4e9) : FRAME;
    std::vector<uint8_t> payload (static_cast<size_t> (rng.uniform () * 80));
    for (auto &b : payload)
      b = static_cast<uint8_t> (rng.uniform () * 256);
    p.insert (payload.data (), payload.size (), seq, ts, k * 10000);
    p.pull (k * 10000 + 5000, out.data ());
    /* (one check per tick: gst-check records every assertion it passes) */
    bool bounded = true;
    for (float v : out)
      bounded &= std::isfinite (v) && v >= -1.f && v <= 1.f;
    fail_unless (bounded, "tick %d has a sample out of [-1, 1]", k);
  }
  const auto &s = p.stats ();
  g_print ("garbage: %" G_GUINT64_FORMAT " received, %" G_GUINT64_FORMAT " invalid, %"
      G_GUINT64_FORMAT " decoded, %" G_GUINT64_FORMAT " flushes\n", s.packets_received,
      s.invalid, s.packets_decoded, s.flushes);
  fail_unless (s.packets_received + s.invalid + s.duplicates == 3000);
}
GST_END_TEST;

static Suite *
playout_suite (void)
{
  Suite *s = suite_create ("playout");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 30);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_clean_path);
  tcase_add_test (tc, test_network_arrival);
  tcase_add_test (tc, test_fec_recovers_loss);
  tcase_add_test (tc, test_loss_on_a_tight_path);
  tcase_add_test (tc, test_fec_after_concealment);
  tcase_add_test (tc, test_jitter_comes_and_goes);
  tcase_add_test (tc, test_loss_fec_headroom);
  tcase_add_test (tc, test_stereo_and_s16);
  tcase_add_test (tc, test_start_headroom);
  tcase_add_test (tc, test_long_concealment_fades);
  tcase_add_test (tc, test_garbage);
  return s;
}

GST_CHECK_MAIN (playout);
