/* gst-voicecall benchmark: mouth-to-ear latency of a call, by detected clicks.
 *
 * Two parties in one process (in-process signaller, 127.0.0.1). The caller sends a click
 * every 500 ms (audiotestsrc wave=ticks: click k starts at running time k × 500 ms); the
 * callee's sink is a synchronised appsink, so a buffer arrives when it would be played. Both
 * pipelines run on the system clock, so a click's latency is the clock time its onset is
 * played minus the clock time it was generated. Everything is in it: capture, webrtcdsp,
 * Opus (20 ms frames), RTP/SRTP over loopback, jitter buffer, decoding, conversion.
 *
 * The same run measures the jitter buffer latency we ship (60 ms) and webrtcbin's default
 * (200 ms, what an application using webrtcbin as it comes gets).
 *
 * Usage: bench-latency [--clicks N]
 */
#include "gstptr.h"
#include "localsignaller.h"

#include <gst/app/gstappsink.h>
#include <gst/gst.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

namespace {

constexpr GstClockTime TICK = 500 * GST_MSECOND;

struct Listener {
  std::mutex lock;
  std::vector<double> onsets_ms; /* clock time (ms) at which each click onset plays */
  bool in_click = false;
  gint64 quiet_samples = 0;
  GstElement *pipeline = nullptr;
};

GstFlowReturn
on_sample (GstAppSink *sink, gpointer data)
{
  auto *l = static_cast<Listener *> (data);
  vc::GstPtr<GstSample> sample = vc::adopt (gst_app_sink_pull_sample (sink));
  if (!sample)
    return GST_FLOW_EOS;
  /* Delivered when it plays (sync=true): now is the buffer's start on the clock. */
  vc::GstPtr<GstClock> clock = vc::adopt (gst_element_get_clock (l->pipeline));
  double now_ms = gst_clock_get_time (clock.get ()) / 1e6;
  GstBuffer *buf = gst_sample_get_buffer (sample.get ());
  GstMapInfo map;
  if (!gst_buffer_map (buf, &map, GST_MAP_READ))
    return GST_FLOW_OK;
  auto *s = reinterpret_cast<const int16_t *> (map.data);
  size_t n = map.size / 2;
  std::lock_guard<std::mutex> lk (l->lock);
  for (size_t i = 0; i < n; i++) {
    bool loud = std::abs (s[i]) > 3000;
    if (loud && !l->in_click && l->quiet_samples > 48000 / 10) {
      l->onsets_ms.push_back (now_ms + i / 48.0);
      l->in_click = true;
    }
    if (loud) {
      l->quiet_samples = 0;
    } else if (++l->quiet_samples > 48000 / 10) {
      l->in_click = false;
    }
  }
  gst_buffer_unmap (buf, &map);
  return GST_FLOW_OK;
}

GstElement *
make (const std::string &desc)
{
  GError *err = nullptr;
  GstElement *p = gst_parse_launch (desc.c_str (), &err);
  if (!p) {
    fprintf (stderr, "cannot build: %s\n", err ? err->message : "?");
    exit (1);
  }
  return p;
}

/* Runs one call; returns the click latencies in ms. */
std::vector<double>
run (guint latency_ms, int clicks)
{
  const std::string common = " ! voicecall name=call ice-addresses=127.0.0.1 latency=" +
      std::to_string (latency_ms) + " ! voiceplaybackbin ";
  GstElement *caller = make ("voicecapturebin noise-suppression=false gain-control=false "
      "source=\"audiotestsrc is-live=true wave=ticks tick-interval=500000000 freq=1000 volume=0.8\"" +
      common + "sink=\"fakesink sync=true\"");
  GstElement *callee = make ("voicecapturebin noise-suppression=false source=\"audiotestsrc "
      "is-live=true wave=silence\"" + common + "sink=\"appsink name=out emit-signals=true "
      "sync=true caps=audio/x-raw,format=S16LE,rate=48000,channels=1\"");
  Listener listener;
  listener.pipeline = callee;
  GstElement *out = gst_bin_get_by_name (GST_BIN (callee), "out");
  g_signal_connect (out, "new-sample", G_CALLBACK (on_sample), &listener);
  gst_object_unref (out);

  GstVoiceSignaller *a, *b;
  gst_voice_local_signaller_new_pair (&a, &b);
  gst_child_proxy_set (GST_CHILD_PROXY (caller), "call::signaller", a, nullptr);
  gst_child_proxy_set (GST_CHILD_PROXY (callee), "call::signaller", b, nullptr);
  g_object_unref (a);
  g_object_unref (b);

  /* One clock and one base time for both, so running times compare directly. */
  GstClock *clock = gst_system_clock_obtain ();
  gst_pipeline_use_clock (GST_PIPELINE (caller), clock);
  gst_pipeline_use_clock (GST_PIPELINE (callee), clock);
  gst_element_set_state (callee, GST_STATE_PLAYING);
  gst_element_set_state (caller, GST_STATE_PLAYING);
  gst_element_get_state (caller, nullptr, nullptr, 5 * GST_SECOND);

  gint64 deadline = g_get_monotonic_time () + (clicks + 6) * 600000;
  while (g_get_monotonic_time () < deadline) {
    {
      std::lock_guard<std::mutex> lk (listener.lock);
      if (static_cast<int> (listener.onsets_ms.size ()) >= clicks + 2)
        break;
    }
    g_usleep (50000);
  }
  GstClockTime caller_base = gst_element_get_base_time (caller);
  gst_element_set_state (caller, GST_STATE_NULL);
  gst_element_set_state (callee, GST_STATE_NULL);
  gst_object_unref (caller);
  gst_object_unref (callee);
  gst_object_unref (clock);

  std::vector<double> lat;
  std::lock_guard<std::mutex> lk (listener.lock);
  /* Skip the first clicks (the call may start mid-way through one). */
  for (size_t i = 2; i < listener.onsets_ms.size (); i++) {
    double since_base = listener.onsets_ms[i] - caller_base / 1e6;
    double tick_ms = TICK / 1e6;
    double generated = std::floor (since_base / tick_ms) * tick_ms;
    lat.push_back (since_base - generated);
  }
  return lat;
}

double
median (std::vector<double> v)
{
  std::sort (v.begin (), v.end ());
  return v.empty () ? 0 : v[v.size () / 2];
}

} // namespace

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  setvbuf (stdout, nullptr, _IOLBF, 0);
  int clicks = 10;
  if (argc == 3 && std::string (argv[1]) == "--clicks")
    clicks = std::max (3, atoi (argv[2]));
  printf ("mouth-to-ear latency over 127.0.0.1, %d clicks each (ms)\n", clicks);
  printf ("%-34s %8s %8s %8s\n", "configuration", "median", "min", "max");
  for (guint jb : {60u, 200u}) {
    auto lat = run (jb, clicks);
    if (lat.empty ()) {
      printf ("jitter buffer %u ms: no clicks detected\n", jb);
      return 1;
    }
    printf ("%-34s %8.1f %8.1f %8.1f\n", (std::string ("jitter buffer ") + std::to_string (jb) +
        (jb == 60 ? " ms (voicecall default)" : " ms (webrtcbin default)")).c_str (),
        median (lat), *std::min_element (lat.begin (), lat.end ()),
        *std::max_element (lat.begin (), lat.end ()));
  }
  return 0;
}
