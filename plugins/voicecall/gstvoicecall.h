/* gst-voicecall: voicecall — a two-way WebRTC voice call around webrtcbin and a signaller. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_VOICE_CALL (gst_voice_call_get_type ())
G_DECLARE_FINAL_TYPE (GstVoiceCall, gst_voice_call, GST, VOICE_CALL, GstBin)

GST_ELEMENT_REGISTER_DECLARE (voicecall);

G_END_DECLS
