/* gst-voicecall: an in-place radix-2 FFT, for the audio analysis units (tone, STOI). */
#pragma once

#include <complex>
#include <vector>

namespace vc {

/* Transforms `a` (its size a power of two) in place; the inverse is scaled by 1/n. */
void fft (std::vector<std::complex<double>> &a, bool inverse = false);

} // namespace vc
