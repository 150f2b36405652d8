/* gst-voicecall: STOI and the alignment of received speech (see stoi.h). */
#include "stoi.h"

#include "fft.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <limits>
#include <numeric>

namespace vc::stoi {

/* numpy's float eps, as pystoi adds it to norms and energies. */
constexpr double EPS = 2.220446049250313e-16;

/* ---------------------------------------------------------------- helpers */

static size_t
next_pow2 (size_t n)
{
  size_t p = 1;
  while (p < n)
    p <<= 1;
  return p;
}

/* Zeroth-order modified Bessel function of the first kind (power series). */
static double
bessel_i0 (double x)
{
  double sum = 1, term = 1;
  for (int k = 1; k < 200; k++) {
    term *= (x / (2 * k)) * (x / (2 * k));
    sum += term;
    if (term < 1e-17 * sum)
      break;
  }
  return sum;
}

/* numpy.hanning (n + 2)[1:-1], MATLAB's hanning (n): no zero end points. */
static const std::vector<double> &
hann_window ()
{
  static const std::vector<double> w = [] {
    std::vector<double> v (FRAME);
    for (int i = 0; i < FRAME; i++)
      v[i] = 0.5 - 0.5 * std::cos (2 * M_PI * (i + 1) / (FRAME + 1));
    return v;
  } ();
  return w;
}

/* ---------------------------------------------------------------- resampling */

std::vector<float>
resample (const std::vector<float> &in, int from_rate, int to_rate)
{
  if (from_rate == to_rate || in.empty () || from_rate <= 0 || to_rate <= 0)
    return in;
  const long g = std::gcd (from_rate, to_rate);
  const long p = to_rate / g, q = from_rate / g; /* up by p, down by q */
  /* Octave's resample (pystoi's resample_oct): 60 dB rejection, 10 % roll-off. */
  const double cutoff = 1.0 / (2.0 * std::max (p, q));
  const double roll_off = cutoff / 10;
  const double rejection_db = 60;
  const long half = static_cast<long> (std::ceil ((rejection_db - 8) / (28.714 * roll_off)));
  const double beta = 0.1102 * (rejection_db - 8.7);
  std::vector<double> h (2 * half + 1);
  double sum = 0;
  for (long t = -half; t <= half; t++) {
    const double x = 2 * cutoff * t;
    const double sinc = t == 0 ? 1 : std::sin (M_PI * x) / (M_PI * x);
    const double r = static_cast<double> (t) / half;
    const double kaiser = bessel_i0 (beta * std::sqrt (std::max (0.0, 1 - r * r))) /
        bessel_i0 (beta);
    h[t + half] = 2 * p * cutoff * sinc * kaiser;
    sum += h[t + half];
  }
  for (auto &v : h)
    v *= p / sum; /* every polyphase branch sums to about 1: unity gain */

  const long n_in = static_cast<long> (in.size ());
  const long n_out = (n_in * p + q - 1) / q;
  std::vector<float> out (n_out);
  for (long n = 0; n < n_out; n++) {
    /* out[n] = sum_k in[k] h[n q - k p + half], over |n q - k p| <= half. */
    const long centre = n * q;
    long k_lo = (centre - half + p - 1) / p;
    if (centre - half < 0)
      k_lo = -((half - centre) / p);
    const long k_hi = std::min (n_in - 1, (centre + half) / p);
    double acc = 0;
    for (long k = std::max (0L, k_lo); k <= k_hi; k++)
      acc += in[k] * h[centre - k * p + half];
    out[n] = static_cast<float> (acc);
  }
  return out;
}

/* ---------------------------------------------------------------- STOI */

const std::vector<Band> &
bands ()
{
  /* pystoi's thirdoct: band edges at the DFT bins nearest to the geometric band limits. */
  static const std::vector<Band> b = [] {
    std::vector<Band> v;
    const int bins = FFT_SIZE / 2 + 1;
    auto nearest = [&] (double hz) {
      int best = 0;
      double best_d = std::numeric_limits<double>::infinity ();
      for (int k = 0; k < bins; k++) {
        const double d = std::abs (k * static_cast<double> (RATE) / FFT_SIZE - hz);
        if (d < best_d) {
          best_d = d;
          best = k;
        }
      }
      return best;
    };
    for (int k = 0; k < BANDS; k++) {
      Band band;
      band.centre_hz = MIN_CENTRE_HZ * std::pow (2.0, k / 3.0);
      band.first_bin = nearest (MIN_CENTRE_HZ * std::pow (2.0, (2 * k - 1) / 6.0));
      band.end_bin = nearest (MIN_CENTRE_HZ * std::pow (2.0, (2 * k + 1) / 6.0));
      v.push_back (band);
    }
    return v;
  } ();
  return b;
}

/* Removes the frames where the clean signal is more than DYNAMIC_RANGE_DB below its loudest
 * frame, from both signals, and overlap-adds the windowed frames that remain. */
static void
remove_silent_frames (const std::vector<double> &x, const std::vector<double> &y,
    std::vector<double> *x_out, std::vector<double> *y_out)
{
  const auto &w = hann_window ();
  const long hop = FRAME / 2;
  const long n = static_cast<long> (x.size ());
  std::vector<long> starts;
  for (long i = 0; i < n - FRAME; i += hop)
    starts.push_back (i);
  std::vector<double> energy (starts.size ());
  double max_energy = -std::numeric_limits<double>::infinity ();
  for (size_t f = 0; f < starts.size (); f++) {
    double sum = 0;
    for (int i = 0; i < FRAME; i++) {
      const double v = w[i] * x[starts[f] + i];
      sum += v * v;
    }
    energy[f] = 20 * std::log10 (std::sqrt (sum) + EPS);
    max_energy = std::max (max_energy, energy[f]);
  }
  std::vector<long> kept;
  for (size_t f = 0; f < starts.size (); f++)
    if (max_energy - DYNAMIC_RANGE_DB - energy[f] < 0)
      kept.push_back (starts[f]);
  x_out->clear ();
  y_out->clear ();
  if (kept.empty ())
    return;
  const size_t len = (kept.size () - 1) * hop + FRAME;
  x_out->assign (len, 0);
  y_out->assign (len, 0);
  for (size_t k = 0; k < kept.size (); k++) {
    for (int i = 0; i < FRAME; i++) {
      (*x_out)[k * hop + i] += w[i] * x[kept[k] + i];
      (*y_out)[k * hop + i] += w[i] * y[kept[k] + i];
    }
  }
}

/* One-third octave band envelopes: out[band][frame]. */
static std::vector<std::vector<double>>
band_envelopes (const std::vector<double> &x)
{
  const auto &w = hann_window ();
  const auto &b = bands ();
  const long hop = FRAME / 2;
  std::vector<std::vector<double>> out (BANDS);
  std::vector<std::complex<double>> spectrum (FFT_SIZE);
  for (long start = 0; start < static_cast<long> (x.size ()) - FRAME; start += hop) {
    std::fill (spectrum.begin (), spectrum.end (), 0.0);
    for (int i = 0; i < FRAME; i++)
      spectrum[i] = w[i] * x[start + i];
    vc::fft (spectrum);
    for (int j = 0; j < BANDS; j++) {
      double power = 0;
      for (int k = b[j].first_bin; k < b[j].end_bin; k++)
        power += std::norm (spectrum[k]);
      out[j].push_back (std::sqrt (power));
    }
  }
  return out;
}

double
stoi (const std::vector<float> &clean, const std::vector<float> &processed, int rate)
{
  const size_t n = std::min (clean.size (), processed.size ());
  std::vector<float> c (clean.begin (), clean.begin () + n);
  std::vector<float> p (processed.begin (), processed.begin () + n);
  if (rate != RATE) {
    c = resample (c, rate, RATE);
    p = resample (p, rate, RATE);
  }
  std::vector<double> x, y;
  remove_silent_frames (std::vector<double> (c.begin (), c.end ()),
      std::vector<double> (p.begin (), p.end ()), &x, &y);
  const auto X = band_envelopes (x);
  const auto Y = band_envelopes (y);
  const long frames = static_cast<long> (X[0].size ());
  if (frames < SEGMENT)
    return std::numeric_limits<double>::quiet_NaN ();

  const double clip = std::pow (10.0, -BETA_DB / 20);
  double sum = 0;
  long count = 0;
  double xs[SEGMENT], ys[SEGMENT];
  for (long m = SEGMENT; m <= frames; m++) {
    for (int j = 0; j < BANDS; j++) {
      double xn = 0, yn = 0;
      for (int i = 0; i < SEGMENT; i++) {
        xs[i] = X[j][m - SEGMENT + i];
        ys[i] = Y[j][m - SEGMENT + i];
        xn += xs[i] * xs[i];
        yn += ys[i] * ys[i];
      }
      /* Scale the processed envelope to the clean one's energy, clip at -15 dB SDR. */
      const double alpha = std::sqrt (xn) / (std::sqrt (yn) + EPS);
      double xm = 0, ym = 0;
      for (int i = 0; i < SEGMENT; i++) {
        ys[i] = std::min (ys[i] * alpha, xs[i] * (1 + clip));
        xm += xs[i];
        ym += ys[i];
      }
      xm /= SEGMENT;
      ym /= SEGMENT;
      double xx = 0, yy = 0, xy = 0;
      for (int i = 0; i < SEGMENT; i++) {
        const double a = xs[i] - xm, b = ys[i] - ym;
        xx += a * a;
        yy += b * b;
        xy += a * b;
      }
      sum += xy / ((std::sqrt (xx) + EPS) * (std::sqrt (yy) + EPS));
      count++;
    }
  }
  return sum / count;
}

/* ---------------------------------------------------------------- alignment */

/* c[k] = sum_j b[j] a[j + k] for k in [-(|b| - 1), |a| - 1]; returned with an offset of
 * |b| - 1 (out[k + |b| - 1]). */
static std::vector<double>
cross_correlation (const std::vector<float> &a, const std::vector<float> &b)
{
  const size_t n = next_pow2 (a.size () + b.size ());
  std::vector<std::complex<double>> fa (n), fb (n);
  for (size_t i = 0; i < a.size (); i++)
    fa[i] = a[i];
  for (size_t i = 0; i < b.size (); i++)
    fb[i] = b[i];
  vc::fft (fa);
  vc::fft (fb);
  for (size_t i = 0; i < n; i++)
    fa[i] *= std::conj (fb[i]);
  vc::fft (fa, true);
  const long nb = static_cast<long> (b.size ()), na = static_cast<long> (a.size ());
  std::vector<double> out (na + nb - 1);
  for (long k = -(nb - 1); k <= na - 1; k++)
    out[k + nb - 1] = fa[(k + static_cast<long> (n)) % n].real ();
  return out;
}

/* Prefix sums of squares, for the energy of any stretch. */
static std::vector<double>
energy_prefix (const std::vector<float> &x)
{
  std::vector<double> e (x.size () + 1, 0);
  for (size_t i = 0; i < x.size (); i++)
    e[i + 1] = e[i] + static_cast<double> (x[i]) * x[i];
  return e;
}

static double
energy_of (const std::vector<double> &prefix, long from, long to)
{
  const long n = static_cast<long> (prefix.size ()) - 1;
  from = std::clamp (from, 0L, n);
  to = std::clamp (to, 0L, n);
  return to > from ? prefix[to] - prefix[from] : 0;
}

Alignment
align (const std::vector<float> &ref, const std::vector<float> &rec, int rate, double block_s,
    double refine_s)
{
  Alignment a;
  const long nr = static_cast<long> (ref.size ()), nd = static_cast<long> (rec.size ());
  a.placed.assign (nr, 0.f);
  if (nr == 0 || nd == 0)
    return a;
  const auto ref_e = energy_prefix (ref), rec_e = energy_prefix (rec);

  /* Global lag: the largest raw cross-correlation over all overlaps. */
  const auto c = cross_correlation (ref, rec);
  long best = 0;
  for (long i = 1; i < static_cast<long> (c.size ()); i++)
    if (c[i] > c[best])
      best = i;
  const long global = best - (nd - 1);
  {
    const long j0 = std::max (0L, -global), j1 = std::min (nd, nr - global);
    const double e = energy_of (rec_e, j0, j1) * energy_of (ref_e, j0 + global, j1 + global);
    a.correlation = e > 0 ? c[best] / std::sqrt (e) : 0;
  }

  /* Per block, within ±refine of the previous block's lag. */
  const long block = std::max (1L, static_cast<long> (block_s * rate));
  const long reach = static_cast<long> (refine_s * rate);
  double loudest = 0;
  for (long b0 = 0; b0 < nd; b0 += block)
    loudest = std::max (loudest, energy_of (rec_e, b0, b0 + block) / block);
  std::vector<long> lags;
  std::vector<bool> written (nr, false);
  long lag = global;
  a.first = nr;
  a.end = 0;
  for (long b0 = 0; b0 < nd; b0 += block) {
    const long b1 = std::min (nd, b0 + block);
    a.blocks++;
    const double e = energy_of (rec_e, b0, b1);
    BlockLag bl;
    bl.start = b0;
    if (e / block > loudest * 1e-3) { /* within 30 dB of the loudest block */
      /* ref window [b0 + lag - reach, b1 + lag + reach) against rec [b0, b1). */
      const long w0 = b0 + lag - reach, w1 = b1 + lag + reach;
      std::vector<float> window (w1 - w0, 0.f);
      for (long i = w0; i < w1; i++)
        if (i >= 0 && i < nr)
          window[i - w0] = ref[i];
      std::vector<float> piece (rec.begin () + b0, rec.begin () + b1);
      const auto cb = cross_correlation (window, piece);
      const long offset = static_cast<long> (piece.size ()) - 1;
      long best_k = reach;
      double best_r = -2;
      for (long k = 0; k <= 2 * reach; k++) {
        const double er = energy_of (ref_e, w0 + k, w0 + k + (b1 - b0));
        const double r = er > 0 ? cb[k + offset] / std::sqrt (er * e) : 0;
        if (r > best_r) {
          best_r = r;
          best_k = k;
        }
      }
      bl.correlation = best_r;
      if (best_r >= 0.3) {
        lag = lag - reach + best_k;
        lags.push_back (lag);
        a.blocks_aligned++;
        bl.aligned = true;
      }
    }
    bl.lag = lag;
    a.block_lags.push_back (bl);
    /* Where the lag fell (the recording repeats a stretch of the reference's time, e.g. a
     * pause the jitter buffer inserted), what was placed first stays: it was heard. */
    for (long j = b0; j < b1; j++) {
      const long i = j + lag;
      if (i >= 0 && i < nr && !written[i]) {
        a.placed[i] = rec[j];
        written[i] = true;
        a.first = std::min (a.first, i);
        a.end = std::max (a.end, i + 1);
      }
    }
  }
  if (lags.empty ()) {
    a.lag = a.lag_min = a.lag_max = global;
  } else {
    auto sorted = lags;
    std::sort (sorted.begin (), sorted.end ());
    a.lag = sorted[sorted.size () / 2];
    a.lag_min = sorted.front ();
    a.lag_max = sorted.back ();
  }
  if (a.end <= a.first)
    a.first = a.end = 0;
  return a;
}

/* ---------------------------------------------------------------- score */

static double
level_dbfs (const float *x, long n)
{
  double sum = 0;
  for (long i = 0; i < n; i++)
    sum += static_cast<double> (x[i]) * x[i];
  return n > 0 && sum > 0 ? 10 * std::log10 (sum / n) : -INFINITY;
}

bool
score (const std::vector<float> &reference, int reference_rate,
    const std::vector<float> &received, int received_rate, Score *out, std::string *error,
    double block_s)
{
  if (reference_rate <= 0 || received_rate <= 0) {
    *error = "unknown sample rate";
    return false;
  }
  const auto ref = resample (reference, reference_rate, RATE);
  const auto rec = resample (received, received_rate, RATE);
  if (level_dbfs (rec.data (), static_cast<long> (rec.size ())) < -90) {
    *error = "the received audio is silent";
    return false;
  }
  /* A recording may start before the far end's audio arrives or go on after it stopped:
   * leading and trailing digital silence (20 ms frames below -70 dBFS) is not scored. */
  const long frame = RATE / 50;
  long begin = 0, finish = static_cast<long> (rec.size ());
  while (begin + frame <= finish && level_dbfs (rec.data () + begin, frame) < -70)
    begin += frame;
  while (finish - frame >= begin && level_dbfs (rec.data () + finish - frame, frame) < -70)
    finish -= frame;
  std::vector<float> heard_part (rec.begin () + begin, rec.begin () + finish);
  Alignment a = align (ref, heard_part, RATE, block_s, std::min (0.25, block_s / 2));
  /* Lag of the whole recording, not of its trimmed part. */
  a.lag -= begin;
  a.lag_min -= begin;
  a.lag_max -= begin;
  for (auto &b : a.block_lags) {
    b.start += begin;
    b.lag -= begin;
  }
  const long n = a.end - a.first;
  std::vector<float> clean (ref.begin () + a.first, ref.begin () + a.end);
  std::vector<float> heard (a.placed.begin () + a.first, a.placed.begin () + a.end);
  out->stoi = stoi (clean, heard, RATE);
  if (std::isnan (out->stoi)) {
    *error = "less than 0.4 s of speech in common: nothing to score";
    return false;
  }
  out->lag_ms = a.lag * 1000.0 / RATE;
  out->lag_spread_ms = (a.lag_max - a.lag_min) * 1000.0 / RATE;
  out->correlation = a.correlation;
  out->overlap_s = n / static_cast<double> (RATE);
  out->level_dbfs = level_dbfs (heard.data (), n);
  out->reference_level_dbfs = level_dbfs (clean.data (), n);
  out->blocks = a.blocks;
  out->blocks_aligned = a.blocks_aligned;
  out->block_lags.clear ();
  for (const auto &b : a.block_lags)
    out->block_lags.push_back ({b.start * 1000.0 / RATE, b.lag * 1000.0 / RATE, b.correlation,
        b.aligned});
  return true;
}

} // namespace vc::stoi
