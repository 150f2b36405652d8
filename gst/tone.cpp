/* gst-voicecall: what tone is in some audio (see tone.h). */
#include "tone.h"

#include "fft.h"

#include <cmath>
#include <complex>
#include <cstring>
#include <fstream>

namespace vc::tone {

namespace {
constexpr float SILENT = 1.5f / 32768; /* within a 16-bit sample's ±1 of zero */
}

double
dominant_frequency (const std::vector<float> &samples, int rate, double min_hz, double max_hz)
{
  /* Digital silence at the end is left out: a playout that went quiet after its peer left
   * keeps playing zeros until the call ends. */
  size_t end = samples.size ();
  while (end > 0 && std::fabs (samples[end - 1]) < SILENT)
    end--;
  size_t n = 1;
  while (n * 2 <= end && n < (1u << 18))
    n *= 2;
  if (n < 1024 || rate <= 0)
    return 0;
  /* The last n samples: the start of a call may hold silence or concealment. */
  const size_t off = end - n;
  std::vector<std::complex<double>> a (n);
  for (size_t i = 0; i < n; i++) {
    double w = 0.5 - 0.5 * std::cos (2 * M_PI * i / (n - 1));
    a[i] = samples[off + i] * w;
  }
  vc::fft (a);
  const double bin_hz = static_cast<double> (rate) / n;
  size_t lo = std::max<size_t> (1, static_cast<size_t> (min_hz / bin_hz));
  size_t hi = std::min (n / 2 - 1, static_cast<size_t> (max_hz / bin_hz));
  size_t best = 0;
  double best_mag = 0;
  for (size_t k = lo; k <= hi; k++) {
    double m = std::abs (a[k]);
    if (m > best_mag) {
      best_mag = m;
      best = k;
    }
  }
  if (best == 0 || best_mag < 1e-6 * n)
    return 0;
  /* Parabolic interpolation on log magnitudes around the peak. */
  double l = std::log (std::abs (a[best - 1]) + 1e-12), c = std::log (best_mag),
         r = std::log (std::abs (a[best + 1]) + 1e-12);
  double d = (l - 2 * c + r) != 0 ? 0.5 * (l - r) / (l - 2 * c + r) : 0;
  return (best + d) * bin_hz;
}

double
level_dbfs (const std::vector<float> &samples)
{
  if (samples.empty ())
    return -INFINITY;
  double sum = 0;
  for (float s : samples)
    sum += static_cast<double> (s) * s;
  double rms = std::sqrt (sum / samples.size ());
  return rms > 0 ? 20 * std::log10 (rms) : -INFINITY;
}

std::vector<float>
from_s16 (const int16_t *data, size_t frames, int channels)
{
  std::vector<float> out (frames);
  for (size_t i = 0; i < frames; i++) {
    double sum = 0;
    for (int c = 0; c < channels; c++)
      sum += data[i * channels + c] / 32768.0;
    out[i] = static_cast<float> (sum / channels);
  }
  return out;
}

bool
read_wav (const std::string &path, std::vector<float> *samples, int *rate, std::string *error)
{
  std::ifstream in (path, std::ios::binary);
  if (!in) {
    *error = "cannot open " + path;
    return false;
  }
  std::vector<char> data ((std::istreambuf_iterator<char> (in)), std::istreambuf_iterator<char> ());
  if (data.size () < 12 || memcmp (data.data (), "RIFF", 4) != 0 ||
      memcmp (data.data () + 8, "WAVE", 4) != 0) {
    *error = path + " is not a WAV file";
    return false;
  }
  int channels = 0, bits = 0, format = 0;
  size_t pos = 12;
  while (pos + 8 <= data.size ()) {
    uint32_t size;
    memcpy (&size, data.data () + pos + 4, 4);
    const char *id = data.data () + pos;
    const char *body = data.data () + pos + 8;
    size_t avail = std::min<size_t> (size, data.size () - pos - 8);
    if (memcmp (id, "fmt ", 4) == 0 && avail >= 16) {
      uint16_t f, ch, b;
      uint32_t r;
      memcpy (&f, body, 2);
      memcpy (&ch, body + 2, 2);
      memcpy (&r, body + 4, 4);
      memcpy (&b, body + 14, 2);
      format = f;
      channels = ch;
      *rate = static_cast<int> (r);
      bits = b;
    } else if (memcmp (id, "data", 4) == 0) {
      if (channels <= 0) {
        *error = path + ": data before fmt";
        return false;
      }
      /* A file whose header was never finalised says 0 or too much: use what is there. */
      if (size == 0 || size > data.size () - pos - 8)
        avail = data.size () - pos - 8;
      if (format == 1 && bits == 16) {
        size_t frames = avail / (2 * channels);
        std::vector<int16_t> pcm (frames * channels);
        memcpy (pcm.data (), body, frames * channels * 2);
        *samples = from_s16 (pcm.data (), frames, channels);
        return true;
      }
      if (format == 3 && bits == 32) {
        size_t frames = avail / (4 * channels);
        samples->assign (frames, 0.f);
        for (size_t i = 0; i < frames; i++) {
          float sum = 0;
          for (int c = 0; c < channels; c++) {
            float v;
            memcpy (&v, body + (i * channels + c) * 4, 4);
            sum += v;
          }
          (*samples)[i] = sum / channels;
        }
        return true;
      }
      *error = path + ": only 16-bit PCM and 32-bit float WAV are supported";
      return false;
    }
    pos += 8 + size + (size & 1);
  }
  *error = path + ": no data chunk";
  return false;
}

} // namespace vc::tone
