/* gst-voicecall: voiceplayout — Opus RTP in, 10 ms of PCM out every 10 ms, through the
 * adaptive playout of gst/playout (jitter buffer, FEC, concealment, time-stretching). */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_VOICE_PLAYOUT (gst_voice_playout_get_type ())
G_DECLARE_FINAL_TYPE (GstVoicePlayout, gst_voice_playout, GST, VOICE_PLAYOUT, GstElement)

GST_ELEMENT_REGISTER_DECLARE (voiceplayout);

G_END_DECLS
