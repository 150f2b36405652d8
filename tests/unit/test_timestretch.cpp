/* gst-voicecall: the playout's time-stretcher (gst/playout/timestretch.h) on a steady sine
 * and on a harmonic "voiced" signal, mono float, stereo and int16: a stream processed block by
 * block, every block shortened (accelerate) or lengthened (preemptive expand) by one period.
 * Checked by content: the reported length is what was removed or inserted, the dominant
 * frequency is unchanged, and there is no click (the largest sample-to-sample step of the
 * output stays within 5 % of the input's; a plain cut of the same length breaks that bound).
 * Noise is left alone; silence is shortened by the longest lag that fits. */
#include "playout/timestretch.h"
#include "tone.h"

#include <gst/check/gstcheck.h>

#include <cmath>
#include <functional>
#include <vector>

using vc::playout::Stretch;

namespace {

constexpr int RATE = 48000;

std::vector<float>
sine (double f, double amp, size_t n, int channels = 1)
{
  std::vector<float> v (n * channels);
  for (size_t i = 0; i < n; i++)
    for (int c = 0; c < channels; c++)
      v[i * channels + c] = amp * std::sin (2 * M_PI * f * i / RATE + 0.7 * c);
  return v;
}

/* A steady voiced sound: f0 and 11 harmonics at 1/h amplitude with fixed phases. */
std::vector<float>
voiced (double f0, size_t n)
{
  std::vector<float> v (n);
  for (size_t i = 0; i < n; i++) {
    double s = 0;
    for (int h = 1; h <= 12; h++)
      s += std::sin (2 * M_PI * h * f0 * i / RATE + 0.9 * h * h) / h;
    v[i] = 0.25 * s;
  }
  return v;
}

double
max_step (const std::vector<float> &v, int channels = 1, int channel = 0)
{
  double m = 0;
  for (size_t i = channels + channel; i < v.size (); i += channels)
    m = std::max (m, static_cast<double> (std::abs (v[i] - v[i - channels])));
  return m;
}

std::vector<float>
channel_of (const std::vector<float> &v, int channels, int c)
{
  std::vector<float> o;
  for (size_t i = c; i < v.size (); i += channels)
    o.push_back (v[i]);
  return o;
}

using Op = std::function<Stretch (const float *, size_t, int, std::vector<float> *)>;

/* Runs `op` on consecutive blocks of `block` frames; returns the output stream and sums what
 * was reported. Fails when a block's output length is not what was reported. */
std::vector<float>
run (const std::vector<float> &in, int channels, size_t block, const Op &op, bool expand,
    long *total, int *stretched_blocks)
{
  std::vector<float> out, o;
  *total = 0;
  *stretched_blocks = 0;
  const size_t frames = in.size () / channels;
  for (size_t pos = 0; pos + block <= frames; pos += block) {
    Stretch s = op (in.data () + pos * channels, block, channels, &o);
    const long expect = static_cast<long> (block) + (expand ? s.frames : -s.frames);
    fail_unless_equals_int (o.size (), expect * channels);
    *total += s.frames;
    *stretched_blocks += s.frames > 0;
    out.insert (out.end (), o.begin (), o.end ());
  }
  return out;
}

void
check_stream (const char *what, const std::vector<float> &in, int channels, size_t block,
    bool expand)
{
  Op op = expand ? Op (static_cast<Stretch (*) (const float *, size_t, int, std::vector<float> *)> (
                       vc::playout::preemptive_expand))
                 : Op (static_cast<Stretch (*) (const float *, size_t, int, std::vector<float> *)> (
                       vc::playout::accelerate));
  long total;
  int stretched;
  auto out = run (in, channels, block, op, expand, &total, &stretched);
  const size_t blocks = in.size () / channels / block;
  const long in_frames = static_cast<long> (blocks * block);
  fail_unless_equals_int (out.size () / channels, in_frames + (expand ? total : -total));
  fail_unless (stretched == static_cast<int> (blocks), "%s: %d of %zu blocks stretched", what,
      stretched, blocks);
  for (int c = 0; c < channels; c++) {
    auto ic = channel_of (in, channels, c), oc = channel_of (out, channels, c);
    const double fi = vc::tone::dominant_frequency (ic, RATE);
    const double fo = vc::tone::dominant_frequency (oc, RATE);
    const double si = max_step (ic), so = max_step (oc);
    g_print ("%s ch%d: %s %ld of %ld frames (%.1f %%), dominant %.1f -> %.1f Hz, "
        "max step %.4f -> %.4f\n", what, c, expand ? "inserted" : "removed", total, in_frames,
        100.0 * total / in_frames, fi, fo, si, so);
    fail_unless (std::abs (fo - fi) <= 0.01 * fi, "%s: dominant %f -> %f Hz", what, fi, fo);
    fail_unless (so <= 1.05 * si, "%s: a click: max step %f -> %f", what, si, so);
  }
}

} // namespace

GST_START_TEST (test_accelerate_sine)
{
  check_stream ("accelerate sine 440", sine (440, 0.5, RATE), 1, 1440, false);
}
GST_END_TEST;

GST_START_TEST (test_accelerate_voiced)
{
  check_stream ("accelerate voiced 137", voiced (137.3, RATE), 1, 1440, false);
}
GST_END_TEST;

GST_START_TEST (test_expand_sine)
{
  check_stream ("expand sine 440", sine (440, 0.5, RATE), 1, 960, true);
}
GST_END_TEST;

GST_START_TEST (test_expand_voiced)
{
  check_stream ("expand voiced 137", voiced (137.3, RATE), 1, 960, true);
}
GST_END_TEST;

GST_START_TEST (test_stereo)
{
  check_stream ("accelerate stereo 300", sine (300, 0.4, RATE, 2), 2, 1440, false);
  check_stream ("expand stereo 300", sine (300, 0.4, RATE, 2), 2, 1440, true);
}
GST_END_TEST;

GST_START_TEST (test_int16)
{
  auto f = voiced (180, RATE / 10);
  std::vector<int16_t> in (f.size ()), out;
  for (size_t i = 0; i < f.size (); i++)
    in[i] = static_cast<int16_t> (std::lround (f[i] * 32767));
  Stretch s = vc::playout::accelerate (in.data (), 1440, 1, &out);
  fail_unless (s.frames > 0, "voiced int16 not accelerated (correlation %f)", s.correlation);
  fail_unless_equals_int (out.size (), 1440 - s.frames);
  /* Starts and ends where the input does, and never steps further than it. */
  fail_unless_equals_int (out.front (), in.front ());
  fail_unless_equals_int (out.back (), in[1439]);
  int in_step = 0, out_step = 0;
  for (size_t i = 1; i < 1440; i++)
    in_step = std::max (in_step, std::abs (in[i] - in[i - 1]));
  for (size_t i = 1; i < out.size (); i++)
    out_step = std::max (out_step, std::abs (out[i] - out[i - 1]));
  fail_unless (out_step <= in_step * 1.05, "step %d -> %d", in_step, out_step);
  s = vc::playout::preemptive_expand (in.data (), 960, 1, &out);
  fail_unless (s.frames > 0 && out.size () == 960u + s.frames);
}
GST_END_TEST;

/* The click measure can fail: cutting the same period out without a crossfade, at a point
 * that is not a whole number of periods, steps far beyond the input's largest step. */
GST_START_TEST (test_plain_cut_clicks)
{
  auto in = voiced (137.3, 1440);
  std::vector<float> cut (in.begin (), in.begin () + 200);
  cut.insert (cut.end (), in.begin () + 200 + 300, in.end ());
  fail_unless (max_step (cut) > 1.5 * max_step (in), "plain cut %f, input %f", max_step (cut),
      max_step (in));
}
GST_END_TEST;

GST_START_TEST (test_noise_untouched)
{
  uint64_t state = 5;
  std::vector<float> in (1440), out;
  for (auto &v : in) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    v = 0.3f * (static_cast<float> (state >> 40) / (1 << 24) - 0.5f);
  }
  Stretch s = vc::playout::accelerate (in.data (), in.size (), 1, &out);
  g_print ("noise: best correlation %.2f, removed %d\n", s.correlation, s.frames);
  fail_unless_equals_int (s.frames, 0);
  fail_unless (out == in);
  s = vc::playout::preemptive_expand (in.data (), in.size (), 1, &out);
  fail_unless_equals_int (s.frames, 0);
}
GST_END_TEST;

GST_START_TEST (test_silence_and_short)
{
  std::vector<float> in (1440, 0.f), out;
  in[700] = 0.001f;
  Stretch s = vc::playout::accelerate (in.data (), in.size (), 1, &out);
  fail_unless (s.silent);
  fail_unless_equals_int (s.frames, Stretch::MAX_LAG);
  fail_unless_equals_int (out.size (), 1440 - Stretch::MAX_LAG);
  /* 10 ms: only lags up to 5 ms fit; shorter than 2 × MIN_LAG + ..., nothing fits. */
  s = vc::playout::accelerate (in.data (), 480, 1, &out);
  fail_unless_equals_int (s.frames, 240);
  s = vc::playout::accelerate (in.data (), 200, 1, &out);
  fail_unless_equals_int (s.frames, 0);
  fail_unless_equals_int (out.size (), 200);
}
GST_END_TEST;

static Suite *
timestretch_suite (void)
{
  Suite *s = suite_create ("timestretch");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_accelerate_sine);
  tcase_add_test (tc, test_accelerate_voiced);
  tcase_add_test (tc, test_expand_sine);
  tcase_add_test (tc, test_expand_voiced);
  tcase_add_test (tc, test_stereo);
  tcase_add_test (tc, test_int16);
  tcase_add_test (tc, test_plain_cut_clicks);
  tcase_add_test (tc, test_noise_untouched);
  tcase_add_test (tc, test_silence_and_short);
  return s;
}

GST_CHECK_MAIN (timestretch);
