/* gst-voicecall: the signaller interface (see signaller.h). */
#include "signaller.h"

#include "callcontrol.h"

G_DEFINE_INTERFACE (GstVoiceSignaller, gst_voice_signaller, G_TYPE_OBJECT)
G_DEFINE_QUARK (gst-voice-signaller-error-quark, gst_voice_signaller_error)

enum {
  SIGNAL_SESSION_REQUESTED,
  SIGNAL_SESSION_DESCRIPTION,
  SIGNAL_HANDLE_ICE,
  SIGNAL_SESSION_ENDED,
  SIGNAL_SESSION_REFUSED,
  SIGNAL_ERROR,
  SIGNAL_ACCEPT_SESSION,
  SIGNAL_MESSAGE,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

/* The default ICE-server vfuncs: an implementation's "ice-servers" property (strv). */
static GParamSpec *
ice_servers_property (GstVoiceSignaller *self, GParamFlags needed)
{
  GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (self), "ice-servers");
  if (!pspec || pspec->value_type != G_TYPE_STRV || (pspec->flags & needed) != needed)
    return nullptr;
  return pspec;
}

static gchar **
default_get_ice_servers (GstVoiceSignaller *self)
{
  gchar **servers = nullptr;
  if (ice_servers_property (self, G_PARAM_READABLE))
    g_object_get (self, "ice-servers", &servers, nullptr);
  if (servers && !*servers) {
    g_strfreev (servers);
    servers = nullptr;
  }
  return servers;
}

static void
default_offer_ice_servers (GstVoiceSignaller *self, const gchar *const *servers)
{
  if (!servers || !*servers ||
      !ice_servers_property (self, static_cast<GParamFlags> (G_PARAM_READWRITE)))
    return;
  gchar **current = default_get_ice_servers (self);
  if (current) {
    g_strfreev (current); /* it was given servers of its own */
    return;
  }
  g_object_set (self, "ice-servers", servers, nullptr);
}


static void
gst_voice_signaller_default_init (GstVoiceSignallerInterface *iface)
{
  iface->get_ice_servers = default_get_ice_servers;
  iface->offer_ice_servers = default_offer_ice_servers;

  GType type = G_TYPE_FROM_INTERFACE (iface);
  GType sdp = GST_TYPE_WEBRTC_SESSION_DESCRIPTION;

  /* (session-id, peer, offer or NULL) */
  signals[SIGNAL_SESSION_REQUESTED] = g_signal_new ("session-requested", type,
      G_SIGNAL_RUN_LAST, 0, nullptr, nullptr, nullptr, G_TYPE_NONE, 3,
      G_TYPE_STRING, G_TYPE_STRING, sdp | G_SIGNAL_TYPE_STATIC_SCOPE);
  /* (session-id, answer) */
  signals[SIGNAL_SESSION_DESCRIPTION] = g_signal_new ("session-description", type,
      G_SIGNAL_RUN_LAST, 0, nullptr, nullptr, nullptr, G_TYPE_NONE, 2,
      G_TYPE_STRING, sdp | G_SIGNAL_TYPE_STATIC_SCOPE);
  /* (session-id, mline-index, candidate or NULL) */
  signals[SIGNAL_HANDLE_ICE] = g_signal_new ("handle-ice", type, G_SIGNAL_RUN_LAST, 0,
      nullptr, nullptr, nullptr, G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_UINT, G_TYPE_STRING);
  /* (session-id) */
  signals[SIGNAL_SESSION_ENDED] = g_signal_new ("session-ended", type, G_SIGNAL_RUN_LAST, 0,
      nullptr, nullptr, nullptr, G_TYPE_NONE, 1, G_TYPE_STRING);
  /* (session-id, reason) */
  signals[SIGNAL_SESSION_REFUSED] = g_signal_new ("session-refused", type, G_SIGNAL_RUN_LAST,
      0, nullptr, nullptr, nullptr, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  /* (session-id or NULL, message) */
  signals[SIGNAL_ERROR] = g_signal_new ("error", type, G_SIGNAL_RUN_LAST, 0, nullptr, nullptr,
      nullptr, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  /* (session-id, peer, request headers) → FALSE refuses: the first handler that answers
   * FALSE stops the emission. */
  signals[SIGNAL_ACCEPT_SESSION] = g_signal_new ("accept-session", type, G_SIGNAL_RUN_LAST, 0,
      vc::control::accept_accumulator, nullptr, nullptr, G_TYPE_BOOLEAN, 3, G_TYPE_STRING,
      G_TYPE_STRING, GST_TYPE_STRUCTURE | G_SIGNAL_TYPE_STATIC_SCOPE);
  /* (session-id or NULL, structure) */
  signals[SIGNAL_MESSAGE] = g_signal_new ("message", type, G_SIGNAL_RUN_LAST, 0, nullptr,
      nullptr, nullptr, G_TYPE_NONE, 2, G_TYPE_STRING,
      GST_TYPE_STRUCTURE | G_SIGNAL_TYPE_STATIC_SCOPE);
}

gboolean
gst_voice_signaller_start (GstVoiceSignaller *self, GError **error)
{
  g_return_val_if_fail (GST_IS_VOICE_SIGNALLER (self), FALSE);
  auto *iface = GST_VOICE_SIGNALLER_GET_IFACE (self);
  return iface->start ? iface->start (self, error) : TRUE;
}

void
gst_voice_signaller_stop (GstVoiceSignaller *self)
{
  g_return_if_fail (GST_IS_VOICE_SIGNALLER (self));
  auto *iface = GST_VOICE_SIGNALLER_GET_IFACE (self);
  if (iface->stop)
    iface->stop (self);
}

void
gst_voice_signaller_send_sdp (GstVoiceSignaller *self, const gchar *session_id,
    const GstWebRTCSessionDescription *sdp)
{
  g_return_if_fail (GST_IS_VOICE_SIGNALLER (self));
  g_return_if_fail (session_id != nullptr && sdp != nullptr);
  GST_VOICE_SIGNALLER_GET_IFACE (self)->send_sdp (self, session_id, sdp);
}

void
gst_voice_signaller_add_ice (GstVoiceSignaller *self, const gchar *session_id,
    guint mline_index, const gchar *candidate)
{
  g_return_if_fail (GST_IS_VOICE_SIGNALLER (self));
  g_return_if_fail (session_id != nullptr);
  auto *iface = GST_VOICE_SIGNALLER_GET_IFACE (self);
  if (iface->add_ice)
    iface->add_ice (self, session_id, mline_index, candidate);
}

void
gst_voice_signaller_end_session (GstVoiceSignaller *self, const gchar *session_id,
    const gchar *reason)
{
  g_return_if_fail (GST_IS_VOICE_SIGNALLER (self));
  g_return_if_fail (session_id != nullptr);
  auto *iface = GST_VOICE_SIGNALLER_GET_IFACE (self);
  if (iface->end_session)
    iface->end_session (self, session_id, reason);
}

gchar **
gst_voice_signaller_get_ice_servers (GstVoiceSignaller *self)
{
  g_return_val_if_fail (GST_IS_VOICE_SIGNALLER (self), nullptr);
  auto *iface = GST_VOICE_SIGNALLER_GET_IFACE (self);
  return iface->get_ice_servers ? iface->get_ice_servers (self) : nullptr;
}

void
gst_voice_signaller_offer_ice_servers (GstVoiceSignaller *self, const gchar *const *servers)
{
  g_return_if_fail (GST_IS_VOICE_SIGNALLER (self));
  auto *iface = GST_VOICE_SIGNALLER_GET_IFACE (self);
  if (iface->offer_ice_servers)
    iface->offer_ice_servers (self, servers);
}

void
gst_voice_signaller_session_control (GstVoiceSignaller *self, const gchar *session_id,
    gboolean muted, gboolean held)
{
  g_return_if_fail (GST_IS_VOICE_SIGNALLER (self));
  g_return_if_fail (session_id != nullptr);
  auto *iface = GST_VOICE_SIGNALLER_GET_IFACE (self);
  if (iface->session_control)
    iface->session_control (self, session_id, muted, held);
}

void
gst_voice_signaller_emit_session_requested (GstVoiceSignaller *self, const gchar *session_id,
    const gchar *peer, const GstWebRTCSessionDescription *offer)
{
  g_signal_emit (self, signals[SIGNAL_SESSION_REQUESTED], 0, session_id, peer, offer);
}

void
gst_voice_signaller_emit_session_description (GstVoiceSignaller *self,
    const gchar *session_id, const GstWebRTCSessionDescription *answer)
{
  g_signal_emit (self, signals[SIGNAL_SESSION_DESCRIPTION], 0, session_id, answer);
}

void
gst_voice_signaller_emit_handle_ice (GstVoiceSignaller *self, const gchar *session_id,
    guint mline_index, const gchar *candidate)
{
  g_signal_emit (self, signals[SIGNAL_HANDLE_ICE], 0, session_id, mline_index, candidate);
}

void
gst_voice_signaller_emit_session_ended (GstVoiceSignaller *self, const gchar *session_id)
{
  g_signal_emit (self, signals[SIGNAL_SESSION_ENDED], 0, session_id);
}

void
gst_voice_signaller_emit_session_refused (GstVoiceSignaller *self, const gchar *session_id,
    const gchar *reason)
{
  g_signal_emit (self, signals[SIGNAL_SESSION_REFUSED], 0, session_id, reason);
}

void
gst_voice_signaller_emit_error (GstVoiceSignaller *self, const gchar *session_id,
    const gchar *message)
{
  g_signal_emit (self, signals[SIGNAL_ERROR], 0, session_id, message);
}

gboolean
gst_voice_signaller_emit_accept_session (GstVoiceSignaller *self, const gchar *session_id,
    const gchar *peer, const GstStructure *headers)
{
  if (!g_signal_has_handler_pending (self, signals[SIGNAL_ACCEPT_SESSION], 0, FALSE))
    return TRUE;
  gboolean accept = TRUE;
  g_signal_emit (self, signals[SIGNAL_ACCEPT_SESSION], 0, session_id, peer, headers, &accept);
  return accept;
}

void
gst_voice_signaller_emit_message (GstVoiceSignaller *self, const gchar *session_id,
    const GstStructure *structure)
{
  g_signal_emit (self, signals[SIGNAL_MESSAGE], 0, session_id, structure);
}
