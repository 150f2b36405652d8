/* gst-voicecall: an in-place radix-2 FFT (see fft.h). */
#include "fft.h"

#include <cmath>

namespace vc {

void
fft (std::vector<std::complex<double>> &a, bool inverse)
{
  const size_t n = a.size ();
  for (size_t i = 1, j = 0; i < n; i++) {
    size_t bit = n >> 1;
    for (; j & bit; bit >>= 1)
      j ^= bit;
    j ^= bit;
    if (i < j)
      std::swap (a[i], a[j]);
  }
  for (size_t len = 2; len <= n; len <<= 1) {
    const double ang = (inverse ? 2 : -2) * M_PI / len;
    for (size_t j = 0; j < len / 2; j++) {
      /* Twiddles computed directly: no error build-up over long transforms. */
      const std::complex<double> w (std::cos (ang * j), std::sin (ang * j));
      for (size_t i = 0; i < n; i += len) {
        auto u = a[i + j], v = a[i + j + len / 2] * w;
        a[i + j] = u + v;
        a[i + j + len / 2] = u - v;
      }
    }
  }
  if (inverse)
    for (auto &x : a)
      x /= static_cast<double> (n);
}

} // namespace vc
