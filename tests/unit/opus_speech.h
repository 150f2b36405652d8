/* gst-voicecall tests: a reproducible speech-like signal encoded with libopus, for the playout
 * tests. Syllables (200 ms, sin² envelope) of a 150 Hz voice with ten harmonics and a ±4 %
 * vibrato, 100 ms pauses, a little noise (or, varied, syllables that differ). Opus sends in-band FEC only for speech: its voice
 * activity detector must see syllables come and go (a steady tone gets none). */
#pragma once

#include <opus.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

namespace vctest {

constexpr int SPEECH_RATE = 48000;
constexpr int SPEECH_FRAME = 960; /* 20 ms packets */
constexpr double SPEECH_F0 = 150;
constexpr double SYLLABLE_S = 0.2, PAUSE_S = 0.1;

struct EncodedSpeech {
  std::vector<std::vector<uint8_t>> packets;
  std::vector<float> reference; /* every packet decoded in order by a plain decoder */
  bool ok = false;
};

/* `seconds` of it, Opus VOIP 32 kbit/s mono with FEC for 20 % loss (cached). With `varied`,
 * every syllable has a length (120-300 ms), a pause (30-150 ms) and an F0 (100-200 Hz) of
 * its own, so that the signal does not repeat: what STOI's alignment needs. */
inline const EncodedSpeech &
encoded_speech (int seconds, bool varied = false)
{
  static std::map<std::pair<int, bool>, EncodedSpeech> cache;
  const auto key = std::make_pair (seconds, varied);
  auto it = cache.find (key);
  if (it != cache.end ())
    return it->second;
  EncodedSpeech e;
  int err = 0;
  OpusEncoder *enc = opus_encoder_create (SPEECH_RATE, 1, OPUS_APPLICATION_VOIP, &err);
  OpusDecoder *dec = opus_decoder_create (SPEECH_RATE, 1, &err);
  if (!enc || !dec)
    return cache[key];
  opus_encoder_ctl (enc, OPUS_SET_BITRATE (32000));
  opus_encoder_ctl (enc, OPUS_SET_INBAND_FEC (1));
  opus_encoder_ctl (enc, OPUS_SET_PACKET_LOSS_PERC (20));
  std::vector<float> pcm (SPEECH_FRAME), out (SPEECH_FRAME);
  uint8_t buf[1500];
  uint64_t rng = 11;
  auto uniform = [&rng] () {
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double> (rng >> 11) * (1.0 / 9007199254740992.0);
  };
  long t = 0;
  /* The current syllable: where it starts, its length and pause, its F0. */
  double start = 0, syllable = SYLLABLE_S, pause = PAUSE_S, f0 = SPEECH_F0;
  double phase = 0;
  e.ok = true;
  for (int n = 0; n < seconds * 50; n++) {
    for (int i = 0; i < SPEECH_FRAME; i++, t++) {
      const double sec = static_cast<double> (t) / SPEECH_RATE;
      if (sec >= start + syllable + pause) {
        start += syllable + pause;
        if (varied) {
          syllable = 0.12 + 0.18 * uniform ();
          pause = 0.03 + 0.12 * uniform ();
          f0 = 100 + 100 * uniform ();
        }
      }
      const double in_syllable = sec - start;
      const double env =
          in_syllable < syllable ? std::pow (std::sin (M_PI * in_syllable / syllable), 2) : 0;
      /* F0 with a ±4 % vibrato at 5 Hz */
      phase += 2 * M_PI * f0 * (1 + 0.04 * std::sin (2 * M_PI * 5 * sec)) / SPEECH_RATE;
      double s = 0;
      for (int h = 1; h <= 10; h++)
        s += std::sin (h * phase + 0.9 * h * h) / h;
      const double noise = uniform () - 0.5;
      pcm[i] = static_cast<float> (0.2 * env * s + 0.004 * noise);
    }
    const int len = opus_encode_float (enc, pcm.data (), SPEECH_FRAME, buf, sizeof buf);
    const int d = len > 0 ? opus_decode_float (dec, buf, len, out.data (), SPEECH_FRAME, 0) : -1;
    if (len <= 0 || d != SPEECH_FRAME) {
      e.ok = false;
      break;
    }
    e.packets.emplace_back (buf, buf + len);
    e.reference.insert (e.reference.end (), out.begin (), out.end ());
  }
  opus_encoder_destroy (enc);
  opus_decoder_destroy (dec);
  return cache.emplace (key, std::move (e)).first->second;
}

} // namespace vctest
