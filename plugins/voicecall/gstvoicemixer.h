/* gst-voicecall: voicemixer — a conference's decoding, mixing and encoding in one thread:
 * Opus RTP in per participant, every participant's mix-minus out as Opus RTP, every 20 ms of
 * the pipeline clock. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_VOICE_MIXER (gst_voice_mixer_get_type ())
G_DECLARE_FINAL_TYPE (GstVoiceMixer, gst_voice_mixer, GST, VOICE_MIXER, GstElement)

GST_ELEMENT_REGISTER_DECLARE (voicemixer);

/* The level of what a participant said (decoded, before its gain and mute) since the last
 * call, in dBFS (-127: nothing); FALSE if `mixer` has no participant `index`. Any thread. */
gboolean gst_voice_mixer_take_level (GstVoiceMixer *mixer, guint index, gdouble *rms_db,
    gdouble *peak_db);

G_END_DECLS
