/* gst-voicecall CLI: what the subcommands share (see cli.h). */
#include "cli.h"

#include "tone.h"

#include <gst/gst.h>

#include <cstdio>

namespace vc::cli {

bool
init (int *argc, char ***argv)
{
  gst_init (argc, argv);
#ifdef VC_BUILD_PLUGIN_DIR
  /* Run from the build tree: find the plugin there when it is not installed. */
  if (GstPluginFeature *f = gst_registry_lookup_feature (gst_registry_get (), "voicecall"))
    gst_object_unref (f);
  else
    gst_registry_scan_path (gst_registry_get (), VC_BUILD_PLUGIN_DIR);
#endif
  if (GstPluginFeature *f = gst_registry_lookup_feature (gst_registry_get (), "voicecall")) {
    gst_object_unref (f);
    return true;
  }
  fprintf (stderr, "gst-voicecall: the voicecall GStreamer plugin is not installed: build it "
      "and set GST_PLUGIN_PATH to its folder (e.g. build/plugins/voicecall).\n");
  return false;
}

std::string
quote (const std::string &value)
{
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  return out + "\"";
}

static bool
ends_with (const std::string &s, const std::string &suffix)
{
  return s.size () >= suffix.size () && s.compare (s.size () - suffix.size (), suffix.size (), suffix) == 0;
}

std::string
source_description (const std::string &spec, std::string *error)
{
  if (spec == "mic" || spec.empty ())
    return "autoaudiosrc";
  if (spec.rfind ("tone:", 0) == 0) {
    char *end = nullptr;
    double hz = g_ascii_strtod (spec.c_str () + 5, &end);
    if (!end || *end || hz < 20 || hz > 20000) {
      *error = "--source tone:FREQ needs a frequency in Hz between 20 and 20000, e.g. tone:440";
      return "";
    }
    return "audiotestsrc is-live=true wave=sine volume=0.3 freq=" + spec.substr (5);
  }
  std::string path = spec.rfind ("wav:", 0) == 0 ? spec.substr (4) : ends_with (spec, ".wav") ? spec : "";
  if (!path.empty ()) {
    if (!g_file_test (path.c_str (), G_FILE_TEST_IS_REGULAR)) {
      *error = "--source: no such WAV file: " + path;
      return "";
    }
    return "filesrc location=" + quote (path) + " ! wavparse";
  }
  *error = "--source must be mic, tone:FREQ or wav:FILE (got '" + spec + "')";
  return "";
}

std::string
sink_description (const std::string &spec, std::string *error)
{
  if (spec == "speakers" || spec.empty ())
    return "autoaudiosink";
  if (spec == "none")
    return "fakesink sync=true";
  std::string path = spec.rfind ("wav:", 0) == 0 ? spec.substr (4) : ends_with (spec, ".wav") ? spec : "";
  if (!path.empty ())
    return "wavenc ! filesink location=" + quote (path);
  *error = "--sink must be speakers, wav:FILE or none (got '" + spec + "')";
  return "";
}

std::string
party_description (const std::string &source, const std::string &sink,
    const std::string &call_properties, bool noise_suppression)
{
  return "voicecapturebin name=capture noise-suppression=" +
      std::string (noise_suppression ? "true" : "false") + " source=" + quote (source) +
      " ! voicecall name=call " + call_properties + " ! voiceplaybackbin name=playback sink=" +
      quote (sink);
}

double
report_frequency (const std::string &label, const std::string &path)
{
  std::vector<float> samples;
  int rate = 0;
  std::string error;
  if (!tone::read_wav (path, &samples, &rate, &error)) {
    fprintf (stderr, "%s: %s\n", label.c_str (), error.c_str ());
    return 0;
  }
  double hz = tone::dominant_frequency (samples, rate);
  printf ("%s: %s: %.1f s of audio, dominant frequency %.1f Hz, level %.1f dBFS\n",
      label.c_str (), path.c_str (), rate ? samples.size () / static_cast<double> (rate) : 0.0,
      hz, tone::level_dbfs (samples));
  return hz;
}

int
analyze (int argc, char **argv)
{
  if (argc != 2 || argv[1][0] == '-') {
    fprintf (argc == 2 ? stdout : stderr, "Usage: gst-voicecall analyze FILE.wav\n"
        "Prints the length, dominant frequency and level of a 16-bit or float WAV file.\n");
    return argc == 2 && !strcmp (argv[1], "--help") ? 0 : 2;
  }
  return report_frequency ("analyze", argv[1]) > 0 ? 0 : 1;
}

} // namespace vc::cli
