/* gst-voicecall benchmark: what Opus' in-band FEC costs the voice and what it recovers,
 * with libopus and the playout alone (no network, no element, no clock but the packets').
 *
 * The speech (a 48 kHz mono WAV: the experiment's espeak-ng sentences, see
 * docs/benchmarks.md) is encoded as voicecapturebin does (Opus VOIP, 20 ms, in-band FEC on)
 * at each bitrate and packet-loss-percentage, and every packet goes through the playout
 * (gst/playout/playout.h): a fixed 80 ms path, packets 3 ms before the tick that needs them,
 * random loss (a seeded generator per run). STOI against the WAV, placed per second and per
 * 250 ms (gst/stoi.h), the mean of --seeds runs. It shows why voicecall's controller gives
 * FEC a share of its own on top of the bitrate (docs/adaptive.md): the copy is paid out of
 * the voice.
 *
 * Usage: bench-codec-fec SPEECH.wav [--seeds N]
 */
#include "playout/playout.h"
#include "stoi.h"
#include "tone.h"

#include <opus.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

namespace {

constexpr int RATE = 48000;
constexpr int FRAME = 960;
constexpr int64_t PATH_US = 80000;

std::vector<std::vector<uint8_t>>
encode (const std::vector<float> &speech, int bitrate, int plp)
{
  std::vector<std::vector<uint8_t>> packets;
  int err = 0;
  OpusEncoder *enc = opus_encoder_create (RATE, 1, OPUS_APPLICATION_VOIP, &err);
  if (!enc)
    return packets;
  opus_encoder_ctl (enc, OPUS_SET_BITRATE (bitrate));
  opus_encoder_ctl (enc, OPUS_SET_INBAND_FEC (1));
  opus_encoder_ctl (enc, OPUS_SET_PACKET_LOSS_PERC (plp));
  uint8_t buf[1500];
  for (size_t at = 0; at + FRAME <= speech.size (); at += FRAME) {
    const int n = opus_encode_float (enc, speech.data () + at, FRAME, buf, sizeof buf);
    if (n <= 0)
      break;
    packets.emplace_back (buf, buf + n);
  }
  opus_encoder_destroy (enc);
  return packets;
}

struct Scores {
  double stoi = 0, stoi_250ms = 0, fec = 0, concealed_events = 0;
};

Scores
play (const std::vector<float> &speech, const std::vector<std::vector<uint8_t>> &packets,
    double loss, int seeds)
{
  Scores s;
  for (int seed = 1; seed <= seeds; seed++) {
    std::mt19937 rng (seed);
    std::uniform_real_distribution<double> uniform (0, 1);
    vc::playout::Playout playout ({});
    std::vector<float> out, tick (vc::playout::Playout::TICK_FRAMES);
    size_t next = 0;
    const long ticks = static_cast<long> (packets.size ()) * 2 - 10;
    for (long k = 0; k < ticks; k++) {
      const int64_t now = PATH_US + 3000 + k * 10000;
      for (; next < packets.size () && static_cast<int64_t> (next) * 20000 + PATH_US <= now; next++)
        if (uniform (rng) >= loss)
          playout.insert (packets[next].data (), packets[next].size (),
              static_cast<uint16_t> (next), static_cast<uint32_t> (next * FRAME),
              static_cast<int64_t> (next) * 20000 + PATH_US);
      const bool started = playout.started ();
      playout.pull (now, tick.data ());
      if (started)
        out.insert (out.end (), tick.begin (), tick.end ());
    }
    vc::stoi::Score second, quarter;
    std::string error;
    if (!vc::stoi::score (speech, RATE, out, RATE, &second, &error, 1.0) ||
        !vc::stoi::score (speech, RATE, out, RATE, &quarter, &error, 0.25)) {
      fprintf (stderr, "scoring: %s\n", error.c_str ());
      exit (1);
    }
    s.stoi += second.stoi / seeds;
    s.stoi_250ms += quarter.stoi / seeds;
    s.fec += static_cast<double> (playout.stats ().fec_recovered) / seeds;
    s.concealed_events += static_cast<double> (playout.stats ().concealment_events) / seeds;
  }
  return s;
}

} // namespace

int
main (int argc, char **argv)
{
  if (argc < 2) {
    fprintf (stderr, "usage: %s SPEECH.wav [--seeds N]\n", argv[0]);
    return 2;
  }
  int seeds = 4;
  for (int i = 2; i + 1 < argc; i++)
    if (std::string (argv[i]) == "--seeds")
      seeds = std::max (1, atoi (argv[i + 1]));
  std::vector<float> speech;
  int rate = 0;
  std::string error;
  if (!vc::tone::read_wav (argv[1], &speech, &rate, &error) || rate != RATE) {
    fprintf (stderr, "%s: %s\n", argv[1], error.empty () ? "not 48 kHz" : error.c_str ());
    return 1;
  }
  printf ("%s: %.1f s of speech; Opus VOIP 20 ms, in-band FEC on; STOI per second / per 250 ms\n",
      argv[1], speech.size () / static_cast<double> (RATE));

  printf ("\nNo loss: what the copy costs the voice\n");
  printf ("bitrate  plp 0          plp 10         plp 20\n");
  for (int bitrate : {24000, 32000, 40000, 48000, 64000}) {
    printf ("%5d   ", bitrate);
    for (int plp : {0, 10, 20}) {
      const Scores s = play (speech, encode (speech, bitrate, plp), 0, 1);
      printf (" %.3f / %.3f", s.stoi, s.stoi_250ms);
    }
    printf ("\n");
  }

  printf ("\nRandom loss, packet-loss-percentage 10 (mean of %d runs; FEC-recovered packets, "
      "concealment events)\n", seeds);
  printf ("bitrate  10 %% loss                  20 %% loss\n");
  for (int bitrate : {32000, 40000, 48000, 64000}) {
    const auto packets = encode (speech, bitrate, 10);
    printf ("%5d   ", bitrate);
    for (double loss : {0.10, 0.20}) {
      const Scores s = play (speech, packets, loss, seeds);
      printf (" %.3f / %.3f (%3.0f, %2.0f)", s.stoi, s.stoi_250ms, s.fec, s.concealed_events);
    }
    printf ("\n");
  }
  return 0;
}
