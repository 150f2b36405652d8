/* gst-voicecall CLI: `demo`, a call between two parties in this process. */
#include "cli.h"
#include "localsignaller.h"
#include "runner.h"

#include <cmath>
#include <cstdio>

namespace vc::cli {

int
demo (int argc, char **argv)
{
  double seconds = 4;
  gchar *out_dir = nullptr;
  gint caller_hz = 440, callee_hz = 880;
  GOptionEntry entries[] = {
    {"seconds", 's', 0, G_OPTION_ARG_DOUBLE, &seconds, "How long the call lasts (default 4)", "S"},
    {"out-dir", 'o', 0, G_OPTION_ARG_FILENAME, &out_dir,
        "Where caller.wav and callee.wav (what each party heard) are written (default .)", "DIR"},
    {"caller-tone", 0, 0, G_OPTION_ARG_INT, &caller_hz, "Tone the caller sends (default 440)", "HZ"},
    {"callee-tone", 0, 0, G_OPTION_ARG_INT, &callee_hz, "Tone the callee sends (default 880)", "HZ"},
    {nullptr},
  };
  GOptionContext *ctx = g_option_context_new ("- a voice call between two parties in this process");
  g_option_context_set_summary (ctx, "The caller sends a tone, the callee another; they talk over "
      "WebRTC on 127.0.0.1 through the in-process signaller. What each heard is saved to WAV and "
      "its dominant frequency printed.");
  g_option_context_add_main_entries (ctx, entries, nullptr);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  GUnique<GError> err;
  bool ok = g_option_context_parse (ctx, &argc, &argv, vc::out (err));
  g_option_context_free (ctx);
  if (!ok) {
    fprintf (stderr, "demo: %s\n", err->message);
    return 2;
  }
  if (!init (&argc, &argv))
    return 1;
  std::string dir = out_dir ? out_dir : ".";
  g_free (out_dir);
  g_mkdir_with_parents (dir.c_str (), 0755);
  std::string caller_wav = dir + "/caller.wav", callee_wav = dir + "/callee.wav";

  Runner runner;
  std::string error;
  const std::string call_props = "ice-addresses=127.0.0.1";
  auto party = [&] (int hz, const std::string &wav) {
    std::string e;
    return party_description (source_description ("tone:" + std::to_string (hz), &e),
        sink_description ("wav:" + wav, &e), call_props, false);
  };
  GstElement *caller = runner.add ("caller", party (caller_hz, caller_wav), &error);
  GstElement *callee = caller ? runner.add ("callee", party (callee_hz, callee_wav), &error) : nullptr;
  if (!caller || !callee) {
    fprintf (stderr, "demo: %s\n", error.c_str ());
    return 1;
  }
  GstVoiceSignaller *a, *b;
  gst_voice_local_signaller_new_pair (&a, &b);
  gst_child_proxy_set (GST_CHILD_PROXY (caller), "call::signaller", a, nullptr);
  gst_child_proxy_set (GST_CHILD_PROXY (callee), "call::signaller", b, nullptr);
  g_object_unref (a);
  g_object_unref (b);

  runner.on_element_message = [] (GstElement *pipeline, GstMessage *m) {
    const GstStructure *s = gst_message_get_structure (m);
    if (gst_structure_has_name (s, "voicecall-first-audio")) {
      double ms = 0;
      gst_structure_get_double (s, "setup-ms", &ms);
      printf ("%s: hearing the other party %.0f ms after the call started\n",
          GST_OBJECT_NAME (pipeline), ms);
    } else if (gst_structure_has_name (s, "voicecall-session-ended")) {
      printf ("%s: call ended (%s)\n", GST_OBJECT_NAME (pipeline),
          gst_structure_get_string (s, "reason"));
    }
  };
  gst_object_set_name (GST_OBJECT (caller), "caller");
  gst_object_set_name (GST_OBJECT (callee), "callee");
  printf ("demo: caller sends %d Hz, callee sends %d Hz, for %.0f s\n", caller_hz, callee_hz, seconds);
  int rc = runner.run (seconds);
  if (rc != 0)
    return rc;

  double heard_by_caller = report_frequency ("caller heard", caller_wav);
  double heard_by_callee = report_frequency ("callee heard", callee_wav);
  bool caller_ok = std::fabs (heard_by_caller - callee_hz) < callee_hz * 0.02;
  bool callee_ok = std::fabs (heard_by_callee - caller_hz) < caller_hz * 0.02;
  printf ("demo: %s (caller heard %.1f Hz, expected %d; callee heard %.1f Hz, expected %d)\n",
      caller_ok && callee_ok ? "OK" : "FAILED", heard_by_caller, callee_hz, heard_by_callee, caller_hz);
  return caller_ok && callee_ok ? 0 : 1;
}

} // namespace vc::cli
