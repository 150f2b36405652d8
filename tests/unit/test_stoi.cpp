/* gst-voicecall: STOI (gst/stoi.h) on synthetic cases — identical speech scores ~1, unrelated
 * noise low, the score falls monotonically as noise or dropped packets grow — plus the
 * resampler, the one-third octave bands, the alignment of delayed recordings, and values
 * computed by pystoi 0.4.1 (the reference port of Taal's MATLAB code) for the same signals.
 *
 * The "speech" is synthetic and reproducible: syllables of a harmonic voice shaped by three
 * formants, with pauses and some noise bursts, from a 64-bit LCG that
 * tests/unit/stoi_reference.py reproduces in numpy to compute pystoi's values. */
#include "stoi.h"

#include <gst/check/gstcheck.h>

#include <cmath>
#include <cstdint>
#include <vector>

namespace {

constexpr int RATE = 48000;

struct Lcg {
  uint64_t state;
  explicit Lcg (uint64_t seed) : state (seed) {}
  double uniform ()
  {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double> (state >> 11) * (1.0 / 9007199254740992.0);
  }
};

/* `seconds` of speech-like audio at `rate`, peak about 0.3. */
std::vector<float>
speechlike (double seconds, int rate, uint64_t seed)
{
  Lcg rng (seed);
  const long n = static_cast<long> (seconds * rate);
  std::vector<double> out (n, 0.0);
  long pos = 0;
  while (pos < n) {
    const long syllable = static_cast<long> ((0.12 + 0.18 * rng.uniform ()) * rate);
    const long gap = static_cast<long> ((0.03 + 0.12 * rng.uniform ()) * rate);
    const double f0 = 90 + 110 * rng.uniform ();
    const double f1 = 300 + 600 * rng.uniform ();
    const double f2 = 900 + 1600 * rng.uniform ();
    const double f3 = 2200 + 1200 * rng.uniform ();
    const bool burst = rng.uniform () < 0.3;
    const long burst_len = static_cast<long> (0.06 * rate);
    if (burst) {
      for (long i = 0; i < burst_len && pos + i < n; i++) {
        const double env = std::sin (M_PI * i / burst_len);
        out[pos + i] += 0.05 * env * (2 * rng.uniform () - 1);
      }
      pos += burst_len;
    }
    std::vector<double> amp;
    for (int h = 1; h * f0 < 4500; h++) {
      const double f = h * f0;
      amp.push_back (std::exp (-std::pow ((f - f1) / 150, 2)) +
          0.5 * std::exp (-std::pow ((f - f2) / 200, 2)) +
          0.25 * std::exp (-std::pow ((f - f3) / 250, 2)));
    }
    for (long i = 0; i < syllable && pos + i < n; i++) {
      const double env = std::pow (std::sin (M_PI * i / syllable), 2);
      const double t = static_cast<double> (i) / rate;
      double v = 0;
      for (size_t h = 0; h < amp.size (); h++)
        v += amp[h] * std::sin (2 * M_PI * (h + 1) * f0 * t);
      out[pos + i] += 0.1 * env * v;
    }
    pos += syllable + gap;
  }
  return std::vector<float> (out.begin (), out.end ());
}

/* Uniform white noise with the RMS `rms`. */
std::vector<float>
noise (long n, double rms, uint64_t seed)
{
  Lcg rng (seed);
  std::vector<float> v (n);
  for (auto &x : v)
    x = static_cast<float> (rms * std::sqrt (3.0) * (2 * rng.uniform () - 1));
  return v;
}

double
rms (const std::vector<float> &x)
{
  double s = 0;
  for (float v : x)
    s += static_cast<double> (v) * v;
  return std::sqrt (s / x.size ());
}

/* x plus white noise at `snr_db` below x's RMS. */
std::vector<float>
with_noise (const std::vector<float> &x, double snr_db, uint64_t seed)
{
  auto n = noise (static_cast<long> (x.size ()), rms (x) * std::pow (10.0, -snr_db / 20), seed);
  for (size_t i = 0; i < x.size (); i++)
    n[i] += x[i];
  return n;
}

/* x with random 20 ms packets zeroed (lost, no concealment). */
std::vector<float>
with_loss (const std::vector<float> &x, double loss, uint64_t seed)
{
  Lcg rng (seed);
  auto y = x;
  const long packet = RATE / 50;
  for (long p = 0; p + packet <= static_cast<long> (y.size ()); p += packet)
    if (rng.uniform () < loss)
      std::fill (y.begin () + p, y.begin () + p + packet, 0.f);
  return y;
}

} // namespace

GST_START_TEST (test_identical_is_one)
{
  auto x = speechlike (6, RATE, 1);
  double d = vc::stoi::stoi (x, x, RATE);
  fail_unless (std::abs (d - 1) < 1e-6, "identical speech scored %f", d);
  /* Level does not matter: STOI normalises every 384 ms segment. */
  auto quiet = x;
  for (auto &v : quiet)
    v *= 0.05f;
  d = vc::stoi::stoi (x, quiet, RATE);
  fail_unless (std::abs (d - 1) < 1e-6, "speech at -26 dB scored %f", d);
}
GST_END_TEST;

/* STOI's floor for unrelated audio is not 0: within a 384 ms segment the clipping at 15 dB
 * above the clean envelope makes any processed envelope dip where the clean one dips (here:
 * the pauses between syllables). pystoi gives the same 0.51 for this noise (test_matches_pystoi);
 * what matters is that it is far below what intelligible speech scores. */
GST_START_TEST (test_noise_is_low)
{
  auto x = speechlike (6, RATE, 2);
  auto n = noise (static_cast<long> (x.size ()), rms (x), 99);
  double d = vc::stoi::stoi (x, n, RATE);
  fail_unless (d < 0.55, "unrelated noise scored %f", d);
  /* Other speech (same kind of signal, other syllables) is not intelligible either. */
  auto other = speechlike (6, RATE, 3);
  double o = vc::stoi::stoi (x, other, RATE);
  fail_unless (o < 0.55, "other speech scored %f", o);
  /* Both far below speech in noise at 0 dB SNR. */
  double noisy = vc::stoi::stoi (x, with_noise (x, 0, 7), RATE);
  fail_unless (noisy > d + 0.25 && noisy > o + 0.25, "0 dB SNR %f, noise %f, other %f", noisy, d, o);
}
GST_END_TEST;

GST_START_TEST (test_monotonic_in_noise)
{
  auto x = speechlike (6, RATE, 4);
  double previous = 1.0001;
  for (double snr : {30.0, 20.0, 10.0, 5.0, 0.0, -5.0, -10.0, -20.0}) {
    double d = vc::stoi::stoi (x, with_noise (x, snr, 7), RATE);
    GST_INFO ("SNR %+.0f dB: STOI %.4f", snr, d);
    fail_unless (d < previous, "STOI %f at %+.0f dB SNR is not below %f", d, snr, previous);
    previous = d;
  }
  fail_unless (vc::stoi::stoi (x, with_noise (x, 30, 7), RATE) > 0.97);
  fail_unless (previous < 0.6, "-20 dB SNR scored %f", previous);
}
GST_END_TEST;

GST_START_TEST (test_monotonic_in_loss)
{
  auto x = speechlike (8, RATE, 5);
  double previous = 1.0001;
  for (double loss : {0.0, 0.05, 0.1, 0.2, 0.4}) {
    double d = vc::stoi::stoi (x, with_loss (x, loss, 11), RATE);
    GST_INFO ("loss %.0f %%: STOI %.4f", loss * 100, d);
    fail_unless (d < previous, "STOI %f at %.0f %% loss is not below %f", d, loss * 100,
        previous);
    previous = d;
  }
}
GST_END_TEST;

/* pystoi.stoi (x, y, 48000) for the same signals (tests/unit/stoi_reference.py). Its resampler
 * is scipy's resample_poly with the same Octave-style filter; small differences remain. */
GST_START_TEST (test_matches_pystoi)
{
  auto x = speechlike (6, RATE, 4);
  struct { double snr, expected; } cases[] = {
    {10, 0.9252}, {0, 0.8431}, {-5, 0.7865},
  };
  for (auto &c : cases) {
    double d = vc::stoi::stoi (x, with_noise (x, c.snr, 7), RATE);
    fail_unless (std::abs (d - c.expected) < 0.005, "SNR %+.0f dB: STOI %.4f, pystoi %.4f",
        c.snr, d, c.expected);
  }
  double d = vc::stoi::stoi (x, with_loss (x, 0.2, 11), RATE);
  fail_unless (std::abs (d - 0.8342) < 0.005, "20 %% loss: STOI %.4f, pystoi 0.8342", d);
  /* And unrelated noise: pystoi says 0.5142 (see test_noise_is_low). */
  auto x2 = speechlike (6, RATE, 2);
  d = vc::stoi::stoi (x2, noise (static_cast<long> (x2.size ()), rms (x2), 99), RATE);
  fail_unless (std::abs (d - 0.5142) < 0.005, "noise: STOI %.4f, pystoi 0.5142", d);
}
GST_END_TEST;

GST_START_TEST (test_bands)
{
  const auto &b = vc::stoi::bands ();
  fail_unless_equals_int (b.size (), 15);
  fail_unless (std::abs (b[0].centre_hz - 150) < 1e-9);
  const double bin_hz = static_cast<double> (vc::stoi::RATE) / vc::stoi::FFT_SIZE;
  /* First band 133.6–168.4 Hz, last 3.4–4.3 kHz, to the nearest 19.5 Hz bin. */
  fail_unless (std::abs (b[0].first_bin * bin_hz - 133.6) <= bin_hz / 2);
  fail_unless (std::abs (b[14].end_bin * bin_hz - 4276) <= bin_hz / 2, "top edge %f Hz",
      b[14].end_bin * bin_hz);
  for (int j = 1; j < 15; j++) {
    fail_unless (b[j].first_bin == b[j - 1].end_bin, "band %d does not follow band %d", j, j - 1);
    fail_unless (std::abs (b[j].centre_hz / b[j - 1].centre_hz - std::cbrt (2.0)) < 1e-9);
  }
}
GST_END_TEST;

GST_START_TEST (test_resample)
{
  for (int from : {48000, 44100, 16000, 22050}) {
    const long n = from; /* one second */
    std::vector<float> sine (n);
    for (long i = 0; i < n; i++)
      sine[i] = static_cast<float> (0.5 * std::sin (2 * M_PI * 1000.0 * i / from));
    auto out = vc::stoi::resample (sine, from, 10000);
    fail_unless_equals_int (out.size (), (n * 10000 + from - 1) / from);
    /* Away from the edges it is the same sine at 10 kHz (no delay, unity gain). */
    double max_err = 0;
    for (long i = 500; i < static_cast<long> (out.size ()) - 500; i++)
      max_err = std::max (max_err,
          std::abs (out[i] - 0.5 * std::sin (2 * M_PI * 1000.0 * i / 10000)));
    fail_unless (max_err < 0.005, "%d Hz -> 10 kHz: error %f", from, max_err);
    /* 6 kHz is above the new Nyquist frequency: removed, not folded to 4 kHz. */
    std::vector<float> high (n);
    for (long i = 0; i < n; i++)
      high[i] = static_cast<float> (0.5 * std::sin (2 * M_PI * 6000.0 * i / from));
    if (from > 12000) {
      auto gone = vc::stoi::resample (high, from, 10000);
      std::vector<float> mid (gone.begin () + 500, gone.end () - 500);
      fail_unless (rms (mid) < 0.5 / std::sqrt (2.0) * 0.001, "%d Hz: 6 kHz leaks at %f", from,
          rms (mid));
    }
  }
}
GST_END_TEST;

GST_START_TEST (test_too_short)
{
  auto x = speechlike (0.3, RATE, 6);
  fail_unless (std::isnan (vc::stoi::stoi (x, x, RATE)));
  std::vector<float> silence (RATE * 2, 0.f);
  vc::stoi::Score s;
  std::string error;
  fail_if (vc::stoi::score (speechlike (4, RATE, 6), RATE, silence, RATE, &s, &error));
  fail_unless (error.find ("silent") != std::string::npos, "%s", error.c_str ());
}
GST_END_TEST;

GST_START_TEST (test_align_delayed)
{
  /* The recording starts 0.5 s before the far end's audio, which starts 1.3 s into the
   * reference: received[t] = reference[t + 0.8 s]. */
  auto ref = speechlike (10, RATE, 8);
  std::vector<float> rec (RATE / 2, 0.f);
  rec.insert (rec.end (), ref.begin () + static_cast<long> (1.3 * RATE), ref.end ());
  vc::stoi::Score s;
  std::string error;
  fail_unless (vc::stoi::score (ref, RATE, rec, RATE, &s, &error), "%s", error.c_str ());
  fail_unless (std::abs (s.lag_ms - 800) <= 0.1, "lag %f ms", s.lag_ms);
  fail_unless (s.lag_spread_ms <= 0.1, "spread %f ms", s.lag_spread_ms);
  fail_unless (s.stoi > 0.999, "stoi %f", s.stoi);
  fail_unless (std::abs (s.overlap_s - 8.7) <= 0.03, "overlap %f s", s.overlap_s); /* 20 ms trim steps */
  fail_unless (std::abs (s.level_dbfs - s.reference_level_dbfs) < 0.1);

  /* A recording that starts before the reference: a negative lag. */
  std::vector<float> early (RATE, 0.f);
  early.insert (early.end (), ref.begin (), ref.end ());
  fail_unless (vc::stoi::score (ref, RATE, early, RATE, &s, &error));
  fail_unless (std::abs (s.lag_ms + 1000) <= 0.1, "lag %f ms", s.lag_ms);

  /* Another rate: the recording at 16 kHz. */
  auto rec16 = vc::stoi::resample (rec, RATE, 16000);
  fail_unless (vc::stoi::score (ref, RATE, rec16, 16000, &s, &error));
  fail_unless (std::abs (s.lag_ms - 800) <= 0.2, "lag %f ms", s.lag_ms);
  fail_unless (s.stoi > 0.99, "stoi %f", s.stoi);
}
GST_END_TEST;

GST_START_TEST (test_align_timeline_change)
{
  /* A jitter buffer that grows by 120 ms at 4 s: 120 ms of silence inserted, the rest later. */
  auto ref = speechlike (10, RATE, 9);
  std::vector<float> rec (ref.begin () + RATE, ref.begin () + 4 * RATE);
  rec.insert (rec.end (), RATE * 12 / 100, 0.f);
  rec.insert (rec.end (), ref.begin () + 4 * RATE, ref.end ());
  vc::stoi::Score s;
  std::string error;
  fail_unless (vc::stoi::score (ref, RATE, rec, RATE, &s, &error), "%s", error.c_str ());
  fail_unless (std::abs (s.lag_spread_ms - 120) <= 0.2, "spread %f ms", s.lag_spread_ms);
  fail_unless (s.stoi > 0.97, "stoi %f", s.stoi);
  /* Aligned once for all, the second part would be 120 ms off and score far lower. */
  std::vector<float> once (rec.begin (), rec.begin () + (ref.size () - RATE));
  std::vector<float> clean (ref.begin () + RATE, ref.end ());
  double global = vc::stoi::stoi (clean, once, RATE);
  fail_unless (global < s.stoi - 0.2, "one lag for all: %f, per block: %f", global, s.stoi);
}
GST_END_TEST;

/* A playout that time-stretches: 10 ms of audio removed (accelerate) every 0.4 s, at
 * points that do not fall on the one-second blocks. Placed per 250 ms block the recording
 * scores 0.94; per second, the part of each second after a cut is off by up to 30 ms (0.84).
 * The same recording without cuts scores the same either way. */
GST_START_TEST (test_align_short_blocks)
{
  auto ref = speechlike (10, RATE, 11);
  std::vector<float> rec;
  const long cut = RATE / 100;
  for (long at = RATE; at < static_cast<long> (ref.size ()); at += RATE * 4 / 10)
    rec.insert (rec.end (), ref.begin () + at,
        ref.begin () + std::min<long> (ref.size (), at + RATE * 4 / 10 - cut));
  std::string error;
  vc::stoi::Score second, quarter;
  fail_unless (vc::stoi::score (ref, RATE, rec, RATE, &second, &error, 1.0), "%s",
      error.c_str ());
  fail_unless (vc::stoi::score (ref, RATE, rec, RATE, &quarter, &error, 0.25), "%s",
      error.c_str ());
  g_print ("10 ms cut every 0.4 s: STOI %.3f aligned per second, %.3f per 250 ms\n",
      second.stoi, quarter.stoi);
  fail_unless (quarter.stoi > 0.93, "per 250 ms: %f", quarter.stoi);
  fail_unless (quarter.stoi > second.stoi + 0.05, "per second %f, per 250 ms %f", second.stoi,
      quarter.stoi);
  std::vector<float> plain (ref.begin () + RATE, ref.end ());
  fail_unless (vc::stoi::score (ref, RATE, plain, RATE, &second, &error, 1.0));
  fail_unless (vc::stoi::score (ref, RATE, plain, RATE, &quarter, &error, 0.25));
  fail_unless (std::abs (second.stoi - quarter.stoi) < 0.002, "uncut: %f / %f", second.stoi,
      quarter.stoi);
}
GST_END_TEST;

static Suite *
stoi_suite (void)
{
  Suite *s = suite_create ("stoi");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 60);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_identical_is_one);
  tcase_add_test (tc, test_noise_is_low);
  tcase_add_test (tc, test_monotonic_in_noise);
  tcase_add_test (tc, test_monotonic_in_loss);
  tcase_add_test (tc, test_matches_pystoi);
  tcase_add_test (tc, test_bands);
  tcase_add_test (tc, test_resample);
  tcase_add_test (tc, test_too_short);
  tcase_add_test (tc, test_align_delayed);
  tcase_add_test (tc, test_align_timeline_change);
  tcase_add_test (tc, test_align_short_blocks);
  return s;
}

GST_CHECK_MAIN (stoi);
