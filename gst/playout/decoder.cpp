/* gst-voicecall: the playout's Opus decoder (see decoder.h). */
#include "decoder.h"

#include <opus.h>

namespace vc::playout {

Decoder::Decoder (int channels) : channels_ (channels)
{
  int err = 0;
  dec_ = opus_decoder_create (RATE, channels, &err);
  if (err != OPUS_OK)
    dec_ = nullptr;
}

Decoder::~Decoder ()
{
  if (dec_)
    opus_decoder_destroy (dec_);
}

void
Decoder::reset ()
{
  if (dec_)
    opus_decoder_ctl (dec_, OPUS_RESET_STATE);
}

static int
append (OpusDecoder *dec, int channels, const uint8_t *data, size_t size, int frames, int fec,
    std::vector<float> *out)
{
  if (!dec)
    return -1;
  const size_t old = out->size ();
  out->resize (old + static_cast<size_t> (frames) * channels);
  const int n = opus_decode_float (dec, data, static_cast<opus_int32> (size), out->data () + old,
      frames, fec);
  out->resize (old + static_cast<size_t> (n > 0 ? n : 0) * channels);
  return n;
}

int
Decoder::decode (const uint8_t *payload, size_t size, std::vector<float> *out)
{
  return append (dec_, channels_, payload, size, MAX_FRAMES, 0, out);
}

int
Decoder::decode_fec (const uint8_t *payload, size_t size, int frames, std::vector<float> *out)
{
  return append (dec_, channels_, payload, size, frames, 1, out);
}

int
Decoder::conceal (int frames, std::vector<float> *out)
{
  return append (dec_, channels_, nullptr, 0, frames, 0, out);
}

int
Decoder::packet_frames (const uint8_t *payload, size_t size)
{
  if (!payload || size == 0)
    return -1;
  const int n = opus_packet_get_nb_samples (payload, static_cast<opus_int32> (size), RATE);
  return n > 0 ? n : -1;
}

bool
Decoder::can_carry_fec (const uint8_t *payload, size_t size)
{
  /* TOC configurations 0-11 are SILK-only, 12-15 hybrid, 16-31 CELT-only. */
  return payload && size > 0 && (payload[0] >> 3) < 16;
}

} // namespace vc::playout
