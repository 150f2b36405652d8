/* gst-voicecall: the playout's time-stretcher. Plain DSP, no element.
 *
 * Changes the length of decoded audio without changing its pitch and without a
 * discontinuity, by removing (accelerate) or repeating (preemptive expand) one pitch period,
 * as libwebrtc's NetEq does (pitch-synchronous overlap-add, the WSOLA family):
 *
 *  1. On the channels' mean, find the lag P in [MIN_LAG, MAX_LAG] (2.5–15 ms at 48 kHz: pitch
 *     from 67 to 400 Hz) with the largest normalised correlation between x[0, W) and
 *     x[P, P + W), W = max (P, MIN_WINDOW). The lag must fit the input: P + W <= frames.
 *  2. Voiced (correlation >= VOICED): the two periods are alike, P can be removed or repeated.
 *     Silent (RMS of the analysed part below SILENCE_RMS): any P can; the largest that fits
 *     is used. Otherwise (noise, unvoiced speech, transients) nothing is done: returns 0.
 *  3. Accelerate:  out = crossfade (x[0, P) -> x[P, 2P)) ++ x[2P, end)           (P shorter)
 *     Expand:      out = x[0, P) ++ crossfade (x[P, 2P) -> x[0, P)) ++ x[P, end)  (P longer)
 *     The crossfade is linear over the whole period. Each output starts with x[0] and ends with
 *     x[end - 1], so it joins what was played before and what follows without a step.
 *
 * Interleaved samples, any channel count; float or int16. */
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace vc::playout {

struct Stretch {
  static constexpr int MIN_LAG = 120;     /* 2.5 ms at 48 kHz */
  static constexpr int MAX_LAG = 720;     /* 15 ms */
  static constexpr int MIN_WINDOW = 240;  /* 5 ms */
  static constexpr double VOICED = 0.9;
  static constexpr double SILENCE_RMS = 0.003; /* about -50 dBFS */

  int frames = 0;            /* removed or inserted per channel; 0: nothing done */
  int lag = 0;               /* the period found (0: none fits) */
  double correlation = 0;
  bool silent = false;
};

/* The frames the input needs for the longest lag (2 × MAX_LAG: 30 ms). Shorter inputs are
 * stretched by the lags that fit. */
constexpr size_t STRETCH_FULL_FRAMES = 2 * Stretch::MAX_LAG;

/* `out` gets the stretched audio (a copy of the input when nothing was done). */
Stretch accelerate (const float *in, size_t frames, int channels, std::vector<float> *out);
Stretch preemptive_expand (const float *in, size_t frames, int channels, std::vector<float> *out);
Stretch accelerate (const int16_t *in, size_t frames, int channels, std::vector<int16_t> *out);
Stretch preemptive_expand (const int16_t *in, size_t frames, int channels,
    std::vector<int16_t> *out);

/* Step 1 alone: the best lag and its correlation, and whether the audio is silent. */
Stretch find_period (const float *in, size_t frames, int channels);

} // namespace vc::playout
