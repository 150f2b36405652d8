/* gst-voicecall: voiceplaybackbin — Opus RTP → decode with loss concealment → audio sink. */
#pragma once

#include <gst/gst.h>

#include <string>

G_BEGIN_DECLS

#define GST_TYPE_VOICE_PLAYBACK_BIN (gst_voice_playback_bin_get_type ())
G_DECLARE_FINAL_TYPE (GstVoicePlaybackBin, gst_voice_playback_bin, GST, VOICE_PLAYBACK_BIN,
    GstBin)

GST_ELEMENT_REGISTER_DECLARE (voiceplaybackbin);

G_END_DECLS

/* The process-wide unique name of this bin's webrtcechoprobe (for voicecapturebin). */
std::string gst_voice_playback_bin_get_echo_probe_name (GstVoicePlaybackBin *self);
