/* gst-voicecall: signallers from the voicecall element's url= and listen=.
 *
 * The element knows the signaller interface only; this is where a URL or a listen address
 * becomes a protocol's implementation: janus:// (januss://) a Janus AudioBridge participant,
 * any other URL an HTTP client (WHIP and the aiortc JSON protocol). The
 * signaller checks what it was given when it starts, and says there what is wrong.
 */
#pragma once

#include "signaller.h"

G_BEGIN_DECLS

/* A client that calls `url` (transfer full). */
GstVoiceSignaller *gst_voice_signaller_new_for_url (const gchar *url);
/* A server that answers calls on `listen` (ADDR:PORT) and serves the call page (transfer
 * full). */
GstVoiceSignaller *gst_voice_signaller_new_for_listen (const gchar *listen);

G_END_DECLS
