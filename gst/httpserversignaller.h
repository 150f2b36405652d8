/* gst-voicecall: the HTTP server signaller — WHIP (RFC 9725) and aiortc-JSON endpoint.
 *
 * A GstVoiceSignaller that listens on `listen` and takes calls from any number of peers
 * (browsers, WHIP clients, aiortc's "/offer" clients, another voicecall element). The
 * protocol is chosen per request by its Content-Type:
 *
 *   POST <path> | /offer   application/sdp   → 201 Created, Location: <path>/<id>, ETag,
 *                                              Link ice-servers, application/sdp answer
 *                          application/json  → 200, {"sdp": answer, "type": "answer"}
 *   PATCH <path>/<id>      application/trickle-ice-sdpfrag (RFC 8840)
 *                          candidates       → "handle-ice" per candidate, 204
 *                          new ice-ufrag/pwd → ICE restart: "ice-restart", 200 + new ETag
 *                                              + answer fragment (If-Match: the ETag or "*";
 *                                              412 if stale, 428 if missing)
 *   DELETE <path>/<id>     → 200, "session-ended"
 *   GET <path>/<id>        → held until the session ends, then 200 application/json
 *                            {"state": "ended", "reason": …}; 404 once it has ended (how a
 *                            browser hears of our hang-up: webrtcbin 1.22 sends no DTLS
 *                            close_notify, and browsers ignore RTCP BYE)
 *   OPTIONS *              → 204, CORS + Accept-Post + Link ice-servers
 *   GET /                  → the browser page, when serve-page is set
 *
 * Each POST first asks "accept-session" (id, peer, the request's headers): a handler's FALSE
 * answers it 403 ("the callee refused this call") and no session is made. Then it emits
 * "session-requested" (id, "IP:PORT" of the peer, offer) and is held until
 * the element answers with send_sdp (id, answer); the answer is sent once the element's
 * add_ice (id, …, NULL) says gathering is complete or gather-timeout passed, with the
 * candidates folded in (WHIP has no server→client trickle). end_session (id, reason) on a
 * pending POST answers it with an error carrying the reason. Refused requests get an RFC 9457
 * application/problem+json body; every response carries CORS headers.
 *
 * The server runs in a thread of its own (no application main loop is needed) and emits all
 * signals from it; the vfuncs may be called from any thread. Do not drop the last reference
 * from inside one of its signal handlers.
 *
 * Properties: listen, port (read-only), path, auth-token, max-sessions, max-body,
 * gather-timeout, ice-servers, serve-page, and the limits on what one peer can hold:
 * request-timeout, max-connections, max-header-size, listen-backlog, and tls-certificate +
 * tls-key (PEM files: the server speaks HTTPS, docs/https.md). See their blurbs
 * (gst-inspect), httpserversignaller.cpp and docs/http-signalling.md ("Limits"). Every
 * response closes its connection (libsoup 3.2 leaks kept-alive connections that the peer
 * closes).
 *
 * Signal (in addition to GstVoiceSignaller's):
 *   gboolean "ice-restart" (id, offer)  a WHIP client restarted ICE: `offer` is the session's
 *            offer with the new ICE credentials and candidates. A handler that can restart
 *            ICE returns TRUE and later calls send_sdp (id, answer) with the new answer (and
 *            add_ice as usual); with no such handler the PATCH gets 422 and the session goes
 *            on unchanged.
 */
#pragma once

#include "signaller.h"

G_BEGIN_DECLS

#define GST_TYPE_VOICE_HTTP_SERVER_SIGNALLER (gst_voice_http_server_signaller_get_type ())
G_DECLARE_FINAL_TYPE (GstVoiceHttpServerSignaller, gst_voice_http_server_signaller, GST,
    VOICE_HTTP_SERVER_SIGNALLER, GObject)

GstVoiceHttpServerSignaller *gst_voice_http_server_signaller_new (void);

G_END_DECLS
