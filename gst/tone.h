/* gst-voicecall: what tone is in some audio (used by the CLI's demo and analyze, and by tests). */
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vc::tone {

/* The frequency (Hz) with the most energy between min_hz and max_hz, by FFT with a Hann
 * window and parabolic interpolation, over the last 2^k samples (up to 2^18) before any
 * digital silence at the end; 0 when the audio is silent or too short. */
double dominant_frequency (const std::vector<float> &samples, int rate, double min_hz = 50,
    double max_hz = 8000);

/* RMS level of the samples, in dBFS (-inf for silence). */
double level_dbfs (const std::vector<float> &samples);

/* Reads a 16-bit PCM or 32-bit float WAV into mono floats (channels averaged). */
bool read_wav (const std::string &path, std::vector<float> *samples, int *rate, std::string *error);

/* Converts interleaved S16 to mono floats. */
std::vector<float> from_s16 (const int16_t *data, size_t frames, int channels);

} // namespace vc::tone
