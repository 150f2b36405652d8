/* gst-voicecall: the signaller interface.
 *
 * A signaller carries SDP offers/answers and ICE candidates between a voicecall element and
 * its peers. The element is protocol-agnostic; each protocol (in-process, WHIP, the aiortc JSON
 * protocol) is one implementation of this interface, as a client (one session it starts) or a
 * server (any number of sessions started by remote peers).
 *
 * Element → signaller (the vfuncs; may be called from any thread, never block):
 *   start()        begin: a client asks for its session (emits "session-requested" with no
 *                  offer), a server starts listening. Returns FALSE + GError on failure.
 *   stop()         end every session and release resources. Synchronous.
 *   send_sdp()     the element's offer (client) or answer (server) for a session, as created
 *                  by webrtcbin: it may hold no candidates yet.
 *   add_ice()      one local candidate ("candidate:..." attribute value) for a session, or NULL
 *                  when gathering is complete. Trickle-capable protocols send each one; others
 *                  fold the candidates into the SDP before sending it (bounded wait).
 *   end_session()  hang up one session; reason NULL for a normal hang-up, or the text of why
 *                  the element refused or dropped it (a server answers a pending offer with it).
 *   get_ice_servers()  the STUN/TURN servers of calls through this signaller (a WHIP client
 *                  learns them from Link headers; a server is given them), as webrtcbin or
 *                  RFC 7064/7065 URLs; the element uses them when it has none of its own.
 *   offer_ice_servers()  the element's own STUN/TURN servers, which a signaller may pass on
 *                  to its peers (a WHIP server in Link headers) unless it was given others.
 *   Both default to an "ice-servers" string-array property, if the implementation has one.
 *   session_control()  the element's mute / hold of a session changed (and, at its start, if
 *                  it starts muted or held): a protocol that carries it (a Janus room's
 *                  "configure" muted) tells its peer. Optional; the audio itself is already
 *                  silenced by the element either way.
 *
 * Signaller → element (signals; may be emitted from any thread):
 *   "session-requested" (id, peer, offer-or-NULL)  a session begins: with a remote offer
 *                  (server) the element answers it; with NULL (client) the element offers.
 *   "session-description" (id, answer)             the remote answer to our offer.
 *   "handle-ice" (id, mline, candidate)            a remote candidate (NULL: end of candidates).
 *   "session-ended" (id)                           the remote side hung up / the session is gone.
 *   "session-refused" (id, reason)                 the remote side refused the session (a
 *                  callee's HTTP 4xx/5xx answer to our offer: busy, unauthorized, no codec).
 *   "error" (id-or-NULL, message)                  a failure; with an id it concerns only that
 *                  session, without one the whole signaller (e.g. server unreachable).
 *   gboolean "accept-session" (id, peer, headers)  a server asks, before it takes a remote
 *                  offer (before "session-requested"), whether the call is wanted: `headers`
 *                  is a GstStructure "headers" of the signalling request's headers (names in
 *                  lower case, repeated headers joined with ", "). A handler that answers FALSE
 *                  refuses the call (an HTTP server answers 403 with a problem text); the
 *                  first FALSE stops the emission. No handler: accepted. Emitted in the
 *                  signaller's thread: a handler must not block.
 *   "message" (id-or-NULL, structure)              something the protocol tells that the
 *                  application may want (a Janus room's participants joining, leaving,
 *                  talking): the element posts the structure on the bus as an element
 *                  message (with the session-id added), and does nothing else with it.
 */
#pragma once

#include <gst/gst.h>
#include <gst/webrtc/webrtc.h>

G_BEGIN_DECLS

#define GST_TYPE_VOICE_SIGNALLER (gst_voice_signaller_get_type ())
G_DECLARE_INTERFACE (GstVoiceSignaller, gst_voice_signaller, GST, VOICE_SIGNALLER, GObject)

struct _GstVoiceSignallerInterface {
  GTypeInterface parent_iface;

  gboolean (*start) (GstVoiceSignaller *self, GError **error);
  void (*stop) (GstVoiceSignaller *self);
  void (*send_sdp) (GstVoiceSignaller *self, const gchar *session_id,
      const GstWebRTCSessionDescription *sdp);
  void (*add_ice) (GstVoiceSignaller *self, const gchar *session_id, guint mline_index,
      const gchar *candidate);
  void (*end_session) (GstVoiceSignaller *self, const gchar *session_id, const gchar *reason);
  gchar **(*get_ice_servers) (GstVoiceSignaller *self);
  void (*offer_ice_servers) (GstVoiceSignaller *self, const gchar *const *servers);
  void (*session_control) (GstVoiceSignaller *self, const gchar *session_id, gboolean muted,
      gboolean held);
};

gboolean gst_voice_signaller_start (GstVoiceSignaller *self, GError **error);
void gst_voice_signaller_stop (GstVoiceSignaller *self);
void gst_voice_signaller_send_sdp (GstVoiceSignaller *self, const gchar *session_id,
    const GstWebRTCSessionDescription *sdp);
void gst_voice_signaller_add_ice (GstVoiceSignaller *self, const gchar *session_id,
    guint mline_index, const gchar *candidate);
void gst_voice_signaller_end_session (GstVoiceSignaller *self, const gchar *session_id,
    const gchar *reason);
/* Transfer full; NULL when there are none. */
gchar **gst_voice_signaller_get_ice_servers (GstVoiceSignaller *self);
void gst_voice_signaller_offer_ice_servers (GstVoiceSignaller *self,
    const gchar *const *servers);

void gst_voice_signaller_session_control (GstVoiceSignaller *self, const gchar *session_id,
    gboolean muted, gboolean held);

/* For implementations: emit the interface's signals. */
void gst_voice_signaller_emit_session_requested (GstVoiceSignaller *self,
    const gchar *session_id, const gchar *peer, const GstWebRTCSessionDescription *offer);
void gst_voice_signaller_emit_session_description (GstVoiceSignaller *self,
    const gchar *session_id, const GstWebRTCSessionDescription *answer);
void gst_voice_signaller_emit_handle_ice (GstVoiceSignaller *self, const gchar *session_id,
    guint mline_index, const gchar *candidate);
void gst_voice_signaller_emit_session_ended (GstVoiceSignaller *self, const gchar *session_id);
void gst_voice_signaller_emit_session_refused (GstVoiceSignaller *self, const gchar *session_id,
    const gchar *reason);
void gst_voice_signaller_emit_error (GstVoiceSignaller *self, const gchar *session_id,
    const gchar *message);
void gst_voice_signaller_emit_message (GstVoiceSignaller *self, const gchar *session_id,
    const GstStructure *structure);
/* TRUE if the session is accepted (also when nothing is connected to "accept-session"). */
gboolean gst_voice_signaller_emit_accept_session (GstVoiceSignaller *self,
    const gchar *session_id, const gchar *peer, const GstStructure *headers);

/* GQuark of errors returned by start(). */
#define GST_VOICE_SIGNALLER_ERROR (gst_voice_signaller_error_quark ())
GQuark gst_voice_signaller_error_quark (void);

G_END_DECLS
