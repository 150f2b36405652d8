/* gst-voicecall benchmark: mouth-to-ear latency of a call, by detected clicks.
 *
 * Two parties in one process (in-process signaller, 127.0.0.1). A party sends a click
 * every 500 ms (audiotestsrc wave=ticks: click k starts at running time k × 500 ms); the
 * other's sink is a synchronised appsink, so a buffer arrives when it would be played. Both
 * pipelines run on the system clock, so a click's latency is the clock time its onset is
 * played minus the clock time it was generated. Everything is in it: capture, webrtcdsp,
 * Opus (20 ms frames), RTP/SRTP over loopback, jitter buffer, decoding, conversion.
 *
 * Both parties click (caller and callee alike), so one call measures both directions. Voice
 * processing is off (the clicks are not speech, and the echo canceller would take the far
 * end's clicks out of the near end's). Configurations: the fixed chain (rtpopusdepay !
 * opusdec) with voicecall's defaults, the adaptive playout with voicecall's jitter buffer at
 * its default and at 0, 10 and 20 ms, and the low-latency preset (10 ms Opus frames).
 * --aiortc runs tests/bench/latency_aiortc.py after them (aiortc <-> aiortc, two processes).
 *
 * Usage: bench-latency [--clicks N] [--aiortc tests/bench/latency_aiortc.py] [--only NAME]
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

struct Config {
  std::string name;
  std::string call;     /* voicecall properties */
  std::string playback; /* voiceplaybackbin properties */
  std::string capture;  /* voicecapturebin properties */
  std::string source;   /* audiotestsrc properties (the "microphone") */
};

struct Party {
  GstElement *pipeline = nullptr;
  Listener listener; /* what this party hears */
};

/* Click latencies (ms) heard by `hearer` of clicks made by `speaker`. */
std::vector<double>
latencies (Party &hearer, Party &speaker)
{
  std::vector<double> lat;
  const GstClockTime base = gst_element_get_base_time (speaker.pipeline);
  std::lock_guard<std::mutex> lk (hearer.listener.lock);
  /* Skip the first clicks (the call may start mid-way through one). */
  for (size_t i = 2; i < hearer.listener.onsets_ms.size (); i++) {
    double since_base = hearer.listener.onsets_ms[i] - base / 1e6;
    double tick_ms = TICK / 1e6;
    double generated = std::floor (since_base / tick_ms) * tick_ms;
    lat.push_back (since_base - generated);
  }
  return lat;
}

/* Runs one call in which both parties click; returns the latencies caller -> callee and
 * callee -> caller, in ms. */
std::pair<std::vector<double>, std::vector<double>>
run (const Config &c, int clicks)
{
  auto desc = [&c] (const char *out) {
    return std::string ("voicecapturebin echo-cancel=false noise-suppression=false "
        "gain-control=false ") + c.capture + " source=\"audiotestsrc is-live=true wave=ticks "
        "tick-interval=500000000 freq=1000 volume=0.8 " + c.source + "\" ! voicecall name=call "
        "ice-addresses=127.0.0.1 " + c.call + " ! voiceplaybackbin " + c.playback +
        " sink=\"appsink name=" + out + " emit-signals=true sync=true "
        "caps=audio/x-raw,format=S16LE,rate=48000,channels=1\"";
  };
  Party caller, callee;
  caller.pipeline = make (desc ("out"));
  callee.pipeline = make (desc ("out"));
  for (Party *p : {&caller, &callee}) {
    p->listener.pipeline = p->pipeline;
    GstElement *out = gst_bin_get_by_name (GST_BIN (p->pipeline), "out");
    g_signal_connect (out, "new-sample", G_CALLBACK (on_sample), &p->listener);
    gst_object_unref (out);
  }

  GstVoiceSignaller *a, *b;
  gst_voice_local_signaller_new_pair (&a, &b);
  gst_child_proxy_set (GST_CHILD_PROXY (caller.pipeline), "call::signaller", a, nullptr);
  gst_child_proxy_set (GST_CHILD_PROXY (callee.pipeline), "call::signaller", b, nullptr);
  g_object_unref (a);
  g_object_unref (b);

  /* One clock for both, so clock times compare directly. */
  GstClock *clock = gst_system_clock_obtain ();
  gst_pipeline_use_clock (GST_PIPELINE (caller.pipeline), clock);
  gst_pipeline_use_clock (GST_PIPELINE (callee.pipeline), clock);
  gst_element_set_state (callee.pipeline, GST_STATE_PLAYING);
  gst_element_set_state (caller.pipeline, GST_STATE_PLAYING);
  gst_element_get_state (caller.pipeline, nullptr, nullptr, 5 * GST_SECOND);

  gint64 deadline = g_get_monotonic_time () + (clicks + 6) * 600000;
  while (g_get_monotonic_time () < deadline) {
    bool done = true;
    for (Party *p : {&caller, &callee}) {
      std::lock_guard<std::mutex> lk (p->listener.lock);
      done = done && static_cast<int> (p->listener.onsets_ms.size ()) >= clicks + 2;
    }
    if (done)
      break;
    g_usleep (50000);
  }
  auto forward = latencies (callee, caller);
  auto backward = latencies (caller, callee);
  gst_element_set_state (caller.pipeline, GST_STATE_NULL);
  gst_element_set_state (callee.pipeline, GST_STATE_NULL);
  gst_object_unref (caller.pipeline);
  gst_object_unref (callee.pipeline);
  gst_object_unref (clock);
  return {forward, backward};
}

double
median (std::vector<double> v)
{
  std::sort (v.begin (), v.end ());
  return v.empty () ? 0 : v[v.size () / 2];
}

} // namespace

void
print_row (const std::string &name, const std::vector<double> &lat)
{
  if (lat.empty ()) {
    printf ("%-44s no clicks detected\n", name.c_str ());
    return;
  }
  printf ("%-44s %8.1f %8.1f %8.1f %6zu\n", name.c_str (), median (lat),
      *std::min_element (lat.begin (), lat.end ()), *std::max_element (lat.begin (), lat.end ()),
      lat.size ());
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  setvbuf (stdout, nullptr, _IOLBF, 0);
  int clicks = 10;
  const char *aiortc = nullptr;
  std::vector<std::string> only;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string opt = argv[i];
    if (opt == "--clicks")
      clicks = std::max (3, atoi (argv[i + 1]));
    else if (opt == "--aiortc")
      aiortc = argv[i + 1];
    else if (opt == "--only")
      only.push_back (argv[i + 1]);
  }
  const std::vector<Config> configs = {
    {"fixed, voicecall defaults (before)", "", "playout=fixed", ""},
    {"fixed, latency=20 adaptive=false", "latency=20 adaptive=false", "playout=fixed", ""},
    {"adaptive playout, voicecall defaults", "", "playout=adaptive", ""},
    {"adaptive, latency=0 adaptive=false", "latency=0 adaptive=false", "playout=adaptive", ""},
    {"adaptive, latency=10 adaptive=false", "latency=10 adaptive=false", "playout=adaptive", ""},
    {"adaptive, latency=20 adaptive=false", "latency=20 adaptive=false", "playout=adaptive", ""},
    {"low latency: 10 ms frames, latency=10", "latency=10 adaptive=false", "playout=adaptive",
        "frame-duration=10", ""},
    {"low latency + 10 ms capture periods", "latency=10 adaptive=false", "playout=adaptive",
        "frame-duration=10", "samplesperbuffer=480"},
  };
  printf ("click latency over 127.0.0.1, one-way, both ways in one call, %d clicks each (ms); "
      "FEC on\n", clicks);
  printf ("%-44s %8s %8s %8s %6s\n", "configuration (direction)", "median", "min", "max",
      "clicks");
  for (const Config &c : configs) {
    if (!only.empty () && std::find (only.begin (), only.end (), c.name) == only.end ())
      continue;
    auto lat = run (c, clicks);
    print_row (c.name + " (caller to callee)", lat.first);
    print_row (c.name + " (callee to caller)", lat.second);
  }
  if (aiortc) {
    /* aiortc in the same run: its own two processes (tests/bench/latency_aiortc.py). */
    std::string cmd = std::string ("/usr/bin/python3 ") + aiortc + " --clicks " +
        std::to_string (clicks);
    fflush (stdout);
    if (system (cmd.c_str ()) != 0)
      printf ("aiortc: %s failed\n", cmd.c_str ());
  }
  return 0;
}
