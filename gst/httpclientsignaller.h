/* gst-voicecall: the HTTP client signaller — calls a WHIP (RFC 9725) or aiortc-JSON endpoint.
 *
 * A GstVoiceSignaller with one session: start () emits "session-requested" (id, url, NULL)
 * so the element makes an offer; send_sdp (id, offer) sends it:
 *
 *   protocol=whip  POST application/sdp at once → 201 + Location + SDP answer; candidates
 *                  that come later through add_ice are sent in batches by PATCH
 *                  application/trickle-ice-sdpfrag (RFC 8840) to the Location, with
 *                  end-of-candidates; a server without PATCH (405/422/501) is tolerated.
 *                  end_session / stop DELETE the Location (bounded wait).
 *   protocol=json  waits for add_ice (id, …, NULL) or gather-timeout, folds the candidates
 *                  into the offer, POSTs {"sdp": …, "type": "offer"} → 200 {"sdp","type":
 *                  "answer"} (aiortc's examples/server "/offer").
 *
 * The answer comes back as "session-description" (id, answer). 307/308 redirects are followed
 * (five at most), keeping the method, the body and the Authorization header. Failures
 * (unreachable server, non-2xx status, wrong content type, unreadable body, timeout) are
 * emitted as "error" (NULL, message) naming the method, the URL, the HTTP status and the
 * server's problem text.
 *
 * ICE servers: the Link: rel="ice-server" headers of the answer (and, with
 * use-link-ice-servers, of an OPTIONS request sent by start () before "session-requested")
 * are exposed in the read-only `ice-servers` property in webrtcbin's form
 * ("stun://host:port", "turn://user:pass@host:port?transport=udp"); "notify::ice-servers" says
 * when it changes. With use-link-ice-servers the element reads it in its "session-requested"
 * handler and configures webrtcbin before it makes the offer.
 *
 * Network I/O and signal emission happen in a thread of the signaller's own; the vfuncs may
 * be called from any thread. Do not drop the last reference from inside a signal handler.
 *
 * Properties: url, protocol (GstVoiceHttpProtocol), auth-token, gather-timeout, timeout,
 * use-link-ice-servers, ice-servers (read-only), tls-ca (https:// URLs: a PEM file of the
 * CAs to trust instead of the system's).
 */
#pragma once

#include "signaller.h"

G_BEGIN_DECLS

typedef enum {
  GST_VOICE_HTTP_PROTOCOL_WHIP,   /* "whip": RFC 9725, application/sdp + trickle by PATCH */
  GST_VOICE_HTTP_PROTOCOL_JSON,   /* "json": aiortc's POST /offer, complete SDP in JSON */
} GstVoiceHttpProtocol;

#define GST_TYPE_VOICE_HTTP_PROTOCOL (gst_voice_http_protocol_get_type ())
GType gst_voice_http_protocol_get_type (void);

#define GST_TYPE_VOICE_HTTP_CLIENT_SIGNALLER (gst_voice_http_client_signaller_get_type ())
G_DECLARE_FINAL_TYPE (GstVoiceHttpClientSignaller, gst_voice_http_client_signaller, GST,
    VOICE_HTTP_CLIENT_SIGNALLER, GObject)

GstVoiceHttpClientSignaller *gst_voice_http_client_signaller_new (void);

G_END_DECLS
