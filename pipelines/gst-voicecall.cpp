/* gst-voicecall: the command-line caller and callee.
 *
 *   gst-voicecall join janus://…?room=N     a participant of a Janus AudioBridge room
 *   gst-voicecall demo                      a call between two parties in this process
 *   gst-voicecall analyze FILE.wav          the dominant frequency of a recording
 *   gst-voicecall score REF.wav HEARD.wav   how intelligible received speech is (STOI)
 *
 * Every subcommand has --help.
 */
#include "cli.h"

#include <cstdio>
#include <cstring>
#include <string>

static void
usage (FILE *out)
{
  fprintf (out,
      "gst-voicecall: two-way WebRTC voice calls with GStreamer\n"
      "\n"
      "Usage:\n"
      "  gst-voicecall serve [--listen ADDR:PORT] [options]   answer calls (HTTP: WHIP and JSON)\n"
      "  gst-voicecall call URL [options]                      call a callee, e.g.\n"
      "                                                        http://127.0.0.1:8080/call\n"
      "  gst-voicecall join janus://HOST:8088/janus?room=N     join a Janus AudioBridge room\n"
      "  gst-voicecall demo [--seconds N] [--out-dir DIR]      a call between two parties in\n"
      "                                                        this process, with test tones\n"
      "  gst-voicecall analyze FILE.wav                        print the dominant frequency\n"
      "  gst-voicecall score REFERENCE.wav RECEIVED.wav        speech intelligibility (STOI),\n"
      "                                                        lag and level of a recording\n"
      "\n"
      "Run 'gst-voicecall COMMAND --help' for the options of a command.\n"
      "Audio sources: --source mic | tone:FREQ | wav:FILE; sinks: --sink speakers | wav:FILE | none.\n"
      "During a call (serve, call, join), keys: h hang up (H every call), m mute (M every call),\n"
      "p hold: silence both ways (P every call), 0-9 * # A-D send DTMF, ? list them.\n"
      "Who may call serve: --max-sessions N (more get 503), --token TOKEN (others get 401).\n");
}

int
main (int argc, char **argv)
{
  if (argc < 2 || !strcmp (argv[1], "--help") || !strcmp (argv[1], "-h") ||
      !strcmp (argv[1], "help")) {
    usage (argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  std::string command = argv[1];
  /* The subcommand sees its own name as argv[0]. */
  argc--;
  argv++;
  if (command == "demo")
    return vc::cli::demo (argc, argv);
  if (command == "analyze")
    return vc::cli::analyze (argc, argv);
  if (command == "score")
    return vc::cli::score (argc, argv);
  if (command == "serve")
    return vc::cli::serve (argc, argv);
  if (command == "call")
    return vc::cli::call (argc, argv);
  if (command == "join")
    return vc::cli::join (argc, argv);
  fprintf (stderr, "gst-voicecall: unknown command '%s'\n\n", command.c_str ());
  usage (stderr);
  return 2;
}
