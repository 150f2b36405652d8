/* gst-voicecall CLI: `score`, how intelligible received speech is (STOI, see gst/stoi.h). */
#include "cli.h"

#include "stoi.h"
#include "tone.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace vc::cli {

int
score (int argc, char **argv)
{
  bool blocks = false;
  double block_s = 1.0;
  bool bad = false;
  while (argc > 1 && argv[1][0] == '-' && strcmp (argv[1], "--help") && strcmp (argv[1], "-h")) {
    if (!strcmp (argv[1], "--blocks")) {
      blocks = true;
    } else if (!strncmp (argv[1], "--block-ms=", 11)) {
      char *end = nullptr;
      const double ms = strtod (argv[1] + 11, &end);
      if (!end || *end || !(ms >= 100 && ms <= 5000))
        bad = true;
      block_s = ms / 1000;
    } else {
      bad = true;
    }
    argv++;
    argc--;
  }
  if (bad || argc != 3 || argv[1][0] == '-') {
    const bool help = argc >= 2 && (!strcmp (argv[1], "--help") || !strcmp (argv[1], "-h"));
    fprintf (help ? stdout : stderr,
        "Usage: gst-voicecall score [--blocks] [--block-ms=N] REFERENCE.wav RECEIVED.wav\n"
        "Puts the received speech on the reference's timeline (cross-correlation, refined per\n"
        "block of N ms, default 1000, 100..5000) and prints, one key=value a line:\n"
        "  stoi           Short-Time Objective Intelligibility (Taal et al. 2011), ~1 = as clear\n"
        "                 as the reference, ~0 = unrelated\n"
        "  lag-ms         received[t] is reference[t + lag]: where in the reference the\n"
        "                 recording starts (median over the aligned seconds)\n"
        "  lag-spread-ms  how much that lag moved during the recording (jitter buffer changes)\n"
        "  correlation    normalised cross-correlation at the lag\n"
        "  overlap-s      seconds of the reference the recording covers (what was scored)\n"
        "  level-dbfs     RMS level of the received audio there; reference-level-dbfs likewise\n"
        "--blocks adds a line per block of the recording: block=N start-ms= lag-ms=\n"
        "correlation= aligned=0|1 (a block that did not correlate keeps the previous lag).\n"
        "WAVs: 16-bit PCM or 32-bit float, any rate, channels averaged.\n");
    return help ? 0 : 2;
  }
  std::vector<float> ref, rec;
  int ref_rate = 0, rec_rate = 0;
  std::string error;
  if (!tone::read_wav (argv[1], &ref, &ref_rate, &error) ||
      !tone::read_wav (argv[2], &rec, &rec_rate, &error)) {
    fprintf (stderr, "score: %s\n", error.c_str ());
    return 1;
  }
  stoi::Score s;
  if (!stoi::score (ref, ref_rate, rec, rec_rate, &s, &error, block_s)) {
    fprintf (stderr, "score: %s: %s\n", argv[2], error.c_str ());
    return 1;
  }
  printf ("stoi=%.4f\nlag-ms=%.1f\nlag-spread-ms=%.1f\ncorrelation=%.3f\noverlap-s=%.2f\n"
      "level-dbfs=%.1f\nreference-level-dbfs=%.1f\naligned-blocks=%d/%d\n",
      s.stoi, s.lag_ms, s.lag_spread_ms, s.correlation, s.overlap_s, s.level_dbfs,
      s.reference_level_dbfs, s.blocks_aligned, s.blocks);
  if (blocks) {
    for (size_t i = 0; i < s.block_lags.size (); i++) {
      const auto &b = s.block_lags[i];
      printf ("block=%zu start-ms=%.1f lag-ms=%.1f correlation=%.3f aligned=%d\n", i, b.start_ms,
          b.lag_ms, b.correlation, b.aligned ? 1 : 0);
    }
  }
  return 0;
}

} // namespace vc::cli
