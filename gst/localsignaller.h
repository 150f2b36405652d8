/* gst-voicecall: an in-process signaller that connects two voicecall elements directly.
 *
 * For tests and for applications that embed both parties (no network signalling):
 *
 *   GstVoiceSignaller *a, *b;
 *   gst_voice_local_signaller_new_pair (&a, &b);   // a calls, b answers
 *   g_object_set (call_a, "signaller", a, NULL);
 *   g_object_set (call_b, "signaller", b, NULL);
 *
 * Messages are delivered asynchronously from a thread the pair shares, in order.
 */
#pragma once

#include "signaller.h"

G_BEGIN_DECLS

#define GST_TYPE_VOICE_LOCAL_SIGNALLER (gst_voice_local_signaller_get_type ())
G_DECLARE_FINAL_TYPE (GstVoiceLocalSignaller, gst_voice_local_signaller, GST,
    VOICE_LOCAL_SIGNALLER, GObject)

/* Creates two connected signallers (transfer full): the caller offers when started. */
void gst_voice_local_signaller_new_pair (GstVoiceSignaller **caller, GstVoiceSignaller **callee);

G_END_DECLS
