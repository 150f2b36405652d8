/* Fuzz target: an SDP offer, as the HTTP server signaller validates a POSTed one (a NUL byte
 * refused, vc::sdp::parse, an audio m-line with ICE credentials), then what the signallers do
 * with an offer that passed: mid lookup, the Opus payload type, candidates folded in and
 * removed, ICE credentials replaced (an ICE restart), written back as text. */
#include "fuzz.h"
#include "sdputil.h"

#include <gst/gst.h>

#include <cstring>

extern "C" int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  gst_init (nullptr, nullptr);
  return 0;
}

extern "C" int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  std::string text (reinterpret_cast<const char *> (data), size);
  if (text.find ('\0') != std::string::npos)
    return 0;   /* refused before parsing (handle_offer) */
  std::string error;
  vc::GUnique<GstSDPMessage> offer = vc::sdp::parse (text.c_str (), &error);
  if (!offer) {
    fuzz_check (!error.empty ());
    return 0;
  }
  int audio = vc::sdp::first_audio_media (offer.get ());
  guint n = gst_sdp_message_medias_len (offer.get ());
  fuzz_check (audio < static_cast<int> (n));
  std::string ufrag, pwd;
  vc::sdp::ice_credentials (offer.get (), audio < 0 ? 0 : audio, &ufrag, &pwd);
  vc::sdp::opus_payload (offer.get (), audio < 0 ? 0 : audio);
  for (guint i = 0; i <= n; i++) {
    std::string mid = vc::sdp::media_mid (offer.get (), i);
    if (i < n && !mid.empty ()) {
      int found = vc::sdp::media_for_mid (offer.get (), mid);
      fuzz_check (found >= 0 && found <= static_cast<int> (i));
    }
  }

  GstSDPMessage *copy = nullptr;
  gst_sdp_message_copy (offer.get (), &copy);
  vc::GUnique<GstWebRTCSessionDescription> desc (
      gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_OFFER, copy));
  vc::GUnique<GstWebRTCSessionDescription> folded (vc::sdp::with_candidates (desc.get (),
      {{0, "candidate:1 1 UDP 2015363327 127.0.0.1 40000 typ host"},
       {n, "candidate:2 1 UDP 2015363327 127.0.0.1 40001 typ host"},
       {0, "a=candidate:1 1 UDP 2015363327 127.0.0.1 40000 typ host"}}, true));
  vc::sdp::remove_candidates (folded->sdp);
  vc::sdp::set_ice_credentials (folded->sdp, ufrag.empty () ? "u" : ufrag,
      pwd.empty () ? "p" : pwd);
  std::string out = vc::sdp::to_text (folded.get ());
  fuzz_check (out.find ("\na=candidate:") == std::string::npos);
  return 0;
}
