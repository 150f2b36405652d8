/* A callee and a caller built from the gst-voicecall elements in code (C++, GStreamer's C API).
 * The callee answers on 127.0.0.1 (a free port) over HTTP (WHIP), the caller calls it; each sends
 * a tone and saves what it hears to OUT_DIR/{caller,callee}.wav. The bus shows the call's life
 * (voicecall-session-state) and statistics (voicecall-stats); after SECONDS the caller hangs up
 * (EOS), the callee sees "remote hang-up" and is stopped the same way.
 *   g++ call.cpp $(pkg-config --cflags --libs gstreamer-1.0) -o call
 *   GST_PLUGIN_PATH=build/plugins/voicecall ./call [OUT_DIR [SECONDS]]   */
#include <gst/gst.h>
#include <cstdio>
#include <string>

struct Party {
  const char *name;
  GstElement *pipeline = nullptr, *call = nullptr;
  bool stopped = false;
};
static Party caller {"caller"}, callee {"callee"};
static GMainLoop *loop;
static double seconds = 3;
static int status = 0;

static void
party (Party &p, int tone_hz, const std::string &wav)
{
  p.pipeline = gst_pipeline_new (p.name);
  GstElement *capture = gst_element_factory_make ("voicecapturebin", nullptr);
  GstElement *tone = gst_element_factory_make ("audiotestsrc", nullptr);
  p.call = gst_element_factory_make ("voicecall", nullptr);
  GstElement *playback = gst_element_factory_make ("voiceplaybackbin", nullptr);
  if (!capture || !p.call || !playback)
    g_error ("no voicecall elements: is the plugin installed (GST_PLUGIN_PATH)?");
  g_object_set (tone, "is-live", TRUE, "freq", (gdouble) tone_hz, "volume", 0.3, nullptr);
  g_object_set (capture, "source", tone, "noise-suppression", FALSE, nullptr);
  g_object_set (p.call, "ice-addresses", "127.0.0.1", "stats-interval", 1000u, nullptr);
  std::string sink = "wavenc ! filesink location=" + wav;
  g_object_set (playback, "sink", gst_parse_bin_from_description (sink.c_str (), TRUE, nullptr), nullptr);
  gst_bin_add_many (GST_BIN (p.pipeline), capture, p.call, playback, nullptr);
  gst_element_link_many (capture, p.call, playback, nullptr);
}

static gboolean
on_message (GstBus *, GstMessage *msg, gpointer data)
{
  auto &p = *static_cast<Party *> (data);
  const GstStructure *s = gst_message_get_structure (msg);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT && gst_structure_has_name (s, "voicecall-session-state")) {
    const char *state = gst_structure_get_string (s, "state"), *reason = gst_structure_get_string (s, "reason");
    printf ("%s: %s%s%s%s\n", p.name, state, reason ? " (" : "", reason ? reason : "", reason ? ")" : "");
    if (&p == &caller && g_str_equal (state, "connected"))   /* talk, then hang up */
      g_timeout_add (seconds * 1000, [] (gpointer) { gst_element_send_event (caller.pipeline, gst_event_new_eos ()); return G_SOURCE_REMOVE; }, nullptr);
    if (&p == &callee && g_str_equal (state, "ended"))        /* stop: EOS finalises the WAV */
      gst_element_send_event (callee.pipeline, gst_event_new_eos ());
  } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT && gst_structure_has_name (s, "voicecall-stats")) {
    double rtt = 0, kbps = 0, mos = 0;
    gst_structure_get (s, "rtt-ms", G_TYPE_DOUBLE, &rtt, "receive-kbps", G_TYPE_DOUBLE, &kbps, "mos", G_TYPE_DOUBLE, &mos, nullptr);
    printf ("%s: rtt %.1f ms, received %.1f kbit/s, mos %.2f\n", p.name, rtt, kbps, mos);
  } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    GError *err = nullptr;
    gst_message_parse_error (msg, &err, nullptr);
    fprintf (stderr, "%s: error: %s\n", p.name, err->message);
    g_error_free (err);
    status = 1;
    g_main_loop_quit (loop);
  } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS) {
    printf ("%s: stopped\n", p.name);
    p.stopped = true;
    if (caller.stopped && callee.stopped)
      g_main_loop_quit (loop);
  }
  fflush (stdout);
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  std::string out_dir = argc > 1 ? argv[1] : ".";
  seconds = argc > 2 ? g_ascii_strtod (argv[2], nullptr) : 3;
  loop = g_main_loop_new (nullptr, FALSE);
  party (callee, 880, out_dir + "/callee.wav");
  g_object_set (callee.call, "listen", "127.0.0.1:0", nullptr);
  gst_element_set_state (callee.pipeline, GST_STATE_PLAYING);
  guint port = 0;    /* the server signaller (a child of voicecall) says which port it bound */
  gst_child_proxy_get (GST_CHILD_PROXY (callee.call), "signaller::port", &port, nullptr);
  party (caller, 440, out_dir + "/caller.wav");
  g_object_set (caller.call, "url", ("http://127.0.0.1:" + std::to_string (port) + "/call").c_str (), nullptr);
  for (Party *p : {&caller, &callee})
    gst_bus_add_watch (GST_ELEMENT_BUS (p->pipeline), on_message, p);
  g_timeout_add_seconds (seconds + 30, [] (gpointer) { fprintf (stderr, "the call did not end in time\n"); status = 1; g_main_loop_quit (loop); return G_SOURCE_REMOVE; }, nullptr);
  gst_element_set_state (caller.pipeline, GST_STATE_PLAYING);
  g_main_loop_run (loop);
  for (Party *p : {&caller, &callee}) {
    gst_element_set_state (p->pipeline, GST_STATE_NULL);
    gst_object_unref (p->pipeline);
  }
  g_main_loop_unref (loop);
  return status;
}
