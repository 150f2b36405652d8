/* gst-voicecall: voicecapturebin — audio source → voice processing → Opus → RTP. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_VOICE_CAPTURE_BIN (gst_voice_capture_bin_get_type ())
G_DECLARE_FINAL_TYPE (GstVoiceCaptureBin, gst_voice_capture_bin, GST, VOICE_CAPTURE_BIN, GstBin)

GST_ELEMENT_REGISTER_DECLARE (voicecapturebin);

G_END_DECLS
