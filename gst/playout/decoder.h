/* gst-voicecall: the playout's decoder: libopus behind plain calls (decode a packet, recover
 * a missing one from the next packet's in-band FEC, conceal), 48 kHz float interleaved.
 *
 * Continuity after concealment is libopus' own: it decodes each frame to follow whatever it
 * output last (concealment included), so everything it outputs must be played in order. */
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

struct OpusDecoder;

namespace vc::playout {

class Decoder {
public:
  static constexpr int RATE = 48000;
  static constexpr int MAX_FRAMES = 5760; /* 120 ms, Opus' longest packet */
  static constexpr int GRANULE = 120;     /* 2.5 ms: Opus decodes multiples of it */

  explicit Decoder (int channels);
  ~Decoder ();
  Decoder (const Decoder &) = delete;
  Decoder &operator= (const Decoder &) = delete;

  bool ok () const { return dec_ != nullptr; }
  int channels () const { return channels_; }

  /* Each appends to `out` and returns the frames appended (per channel), < 0 on error. */
  int decode (const uint8_t *payload, size_t size, std::vector<float> *out);
  /* Recovers the `frames` before `payload` (the next packet) from its in-band FEC: libopus
   * conceals all but the last packet's worth, which it decodes from the LBRR copy. `frames`
   * must be at least the packet's duration and a multiple of GRANULE. */
  int decode_fec (const uint8_t *payload, size_t size, int frames, std::vector<float> *out);
  int conceal (int frames, std::vector<float> *out);
  void reset ();

  /* Frames (per channel) in a packet, < 0 if it is not a valid Opus packet. */
  static int packet_frames (const uint8_t *payload, size_t size);
  /* Whether the packet can carry in-band FEC (SILK or hybrid mode, not CELT-only). */
  static bool can_carry_fec (const uint8_t *payload, size_t size);

private:
  OpusDecoder *dec_ = nullptr;
  int channels_;
};

} // namespace vc::playout
