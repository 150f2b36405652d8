/* gst-voicecall: the Janus signaller — joins a Janus AudioBridge room over its HTTP API.
 *
 * A GstVoiceSignaller with one session: start () emits "session-requested" (id, url, NULL)
 * so the element makes an offer while, in parallel, the Janus session is made:
 *
 *   POST {"janus":"create"}                 → session id
 *   POST {"janus":"attach","plugin":"janus.plugin.audiobridge"}  → handle id
 *   (create=true: POST the AudioBridge "create" request, 48 kHz; "already exists" is fine)
 *   POST "message" {"request":"join","room",…} with the offer as jsep
 *   GET  /janus/<session>?maxev=10 (long poll, always one outstanding): the answer comes in
 *        the "joined" event's jsep → "session-description"; Janus's own candidates (if it
 *        trickles) → "handle-ice"
 *   POST {"janus":"trickle"} for each batch of our candidates, then {"completed":true}
 *   POST {"janus":"keepalive"} every third of the server's session-timeout (GET /info)
 *   hang-up: "message" {"request":"leave"}, then {"janus":"destroy"} (bounded waits)
 *
 * The room's events are emitted as "message" (id, structure) with the structure
 * `janus-room`: event ("joined": us, with id; "participant-joined", "participant-left",
 * "talking", "stopped-talking", "muted", "unmuted"), room (guint64), id (guint64, the
 * participant), display (string, if known), and for "joined" participants (int, how many were
 * there already). AudioBridge errors on join (no such room, wrong PIN, …) are the session's
 * refusal ("session-refused") and then an "error"; Janus unreachable, a request without an
 * answer within `timeout`, a session that expired or a Janus hang-up end the call the same way.
 *
 * Properties (each also a query name of the URL, see janusurl.h): url (janus://…), room,
 * display, pin, secret, token, apisecret, create-room, muted (sends "configure" at once when
 * changed during a call), bitrate, expected-loss (likewise), timeout.
 */
#pragma once

#include "signaller.h"

G_BEGIN_DECLS

#define GST_TYPE_VOICE_JANUS_SIGNALLER (gst_voice_janus_signaller_get_type ())
G_DECLARE_FINAL_TYPE (GstVoiceJanusSignaller, gst_voice_janus_signaller, GST,
    VOICE_JANUS_SIGNALLER, GObject)

GstVoiceJanusSignaller *gst_voice_janus_signaller_new (void);

G_END_DECLS
