/* gst-voicecall: the playout's time-stretcher (see timestretch.h). */
#include "timestretch.h"

#include <algorithm>
#include <cmath>

namespace vc::playout {

namespace {

int
window_for (int lag)
{
  return std::max (lag, Stretch::MIN_WINDOW);
}

/* out[i] = a[i] * (1 - w) + b[i] * w over `lag` frames, w rising linearly. */
void
crossfade (const float *a, const float *b, int lag, int channels, float *out)
{
  for (int i = 0; i < lag; i++) {
    const float w = (i + 0.5f) / lag;
    for (int c = 0; c < channels; c++)
      out[i * channels + c] = a[i * channels + c] * (1 - w) + b[i * channels + c] * w;
  }
}

Stretch
decide (const float *in, size_t frames, int channels)
{
  Stretch s = find_period (in, frames, channels);
  if (s.lag > 0 && (s.silent || s.correlation >= Stretch::VOICED))
    s.frames = s.lag;
  return s;
}

std::vector<float>
to_float (const int16_t *in, size_t n)
{
  std::vector<float> f (n);
  for (size_t i = 0; i < n; i++)
    f[i] = in[i] / 32768.f;
  return f;
}

void
to_int16 (const std::vector<float> &f, std::vector<int16_t> *out)
{
  out->resize (f.size ());
  for (size_t i = 0; i < f.size (); i++)
    (*out)[i] = static_cast<int16_t> (std::clamp (std::lround (f[i] * 32768.f), -32768L, 32767L));
}

} // namespace

Stretch
find_period (const float *in, size_t frames, int channels)
{
  Stretch s;
  std::vector<double> m (frames);
  for (size_t i = 0; i < frames; i++) {
    double v = 0;
    for (int c = 0; c < channels; c++)
      v += in[i * channels + c];
    m[i] = v / channels;
  }
  /* Prefix sums of squares: the energy of any window in O(1). */
  std::vector<double> e (frames + 1, 0.0);
  for (size_t i = 0; i < frames; i++)
    e[i + 1] = e[i] + m[i] * m[i];

  int max_lag = 0;
  for (int lag = Stretch::MIN_LAG; lag <= Stretch::MAX_LAG; lag++)
    if (static_cast<size_t> (lag + window_for (lag)) <= frames && 2 * static_cast<size_t> (lag) <= frames)
      max_lag = lag;
  if (max_lag == 0)
    return s;

  const size_t analysed = std::min (frames, static_cast<size_t> (max_lag + window_for (max_lag)));
  s.silent = std::sqrt (e[analysed] / analysed) < Stretch::SILENCE_RMS;
  if (s.silent) {
    s.lag = max_lag;
    return s;
  }

  double best = -2;
  for (int lag = Stretch::MIN_LAG; lag <= max_lag; lag++) {
    const int w = window_for (lag);
    double xy = 0;
    for (int i = 0; i < w; i++)
      xy += m[i] * m[i + lag];
    const double ex = e[w], ey = e[lag + w] - e[lag];
    const double c = (ex > 0 && ey > 0) ? xy / std::sqrt (ex * ey) : 0;
    if (c > best) {
      best = c;
      s.lag = lag;
    }
  }
  s.correlation = best;
  return s;
}

Stretch
accelerate (const float *in, size_t frames, int channels, std::vector<float> *out)
{
  Stretch s = decide (in, frames, channels);
  if (!s.frames) {
    out->assign (in, in + frames * channels);
    return s;
  }
  const int p = s.frames;
  out->assign ((frames - p) * channels, 0.f);
  crossfade (in, in + p * channels, p, channels, out->data ());
  std::copy (in + 2 * p * channels, in + frames * channels, out->data () + p * channels);
  return s;
}

Stretch
preemptive_expand (const float *in, size_t frames, int channels, std::vector<float> *out)
{
  Stretch s = decide (in, frames, channels);
  if (!s.frames) {
    out->assign (in, in + frames * channels);
    return s;
  }
  const int p = s.frames;
  out->assign ((frames + p) * channels, 0.f);
  std::copy (in, in + p * channels, out->data ());
  crossfade (in + p * channels, in, p, channels, out->data () + p * channels);
  std::copy (in + p * channels, in + frames * channels, out->data () + 2 * p * channels);
  return s;
}

Stretch
accelerate (const int16_t *in, size_t frames, int channels, std::vector<int16_t> *out)
{
  std::vector<float> f = to_float (in, frames * channels), o;
  Stretch s = accelerate (f.data (), frames, channels, &o);
  to_int16 (o, out);
  return s;
}

Stretch
preemptive_expand (const int16_t *in, size_t frames, int channels, std::vector<int16_t> *out)
{
  std::vector<float> f = to_float (in, frames * channels), o;
  Stretch s = preemptive_expand (f.data (), frames, channels, &o);
  to_int16 (o, out);
  return s;
}

} // namespace vc::playout
