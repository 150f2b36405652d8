/* gst-voicecall: an in-process signaller pair (see localsignaller.h). */
#include "localsignaller.h"

#include "contextthread.h"

#include <memory>
#include <mutex>
#include <string>

GST_DEBUG_CATEGORY_STATIC (local_signaller_debug);
#define GST_CAT_DEFAULT local_signaller_debug

namespace {

/* What the two ends of a pair share: the delivery thread and weak links to both ends. */
struct Link {
  vc::ContextThread thread {"voicecall-local"};
  GWeakRef ends[2];
  Link () { g_weak_ref_init (&ends[0], nullptr); g_weak_ref_init (&ends[1], nullptr); }
  ~Link () { g_weak_ref_clear (&ends[0]); g_weak_ref_clear (&ends[1]); }
};

} // namespace

struct GstVoiceLocalSignallerPrivate {
  std::shared_ptr<Link> link;
  int side = 0; /* 0: caller, 1: callee */
  std::mutex lock;
  std::string session; /* the current session id, empty when none */
};

struct _GstVoiceLocalSignaller {
  GObject parent;
  GstVoiceLocalSignallerPrivate *priv;
};

static void gst_voice_local_signaller_iface_init (GstVoiceSignallerInterface *iface);

G_DEFINE_TYPE_WITH_CODE (GstVoiceLocalSignaller, gst_voice_local_signaller, G_TYPE_OBJECT,
    G_IMPLEMENT_INTERFACE (GST_TYPE_VOICE_SIGNALLER, gst_voice_local_signaller_iface_init)
    GST_DEBUG_CATEGORY_INIT (local_signaller_debug, "voicelocalsignaller", 0,
        "voicecall in-process signaller"))

/* Runs fn with the end `side` (if it still exists) in the pair's thread. */
template <typename Fn>
static void
deliver (const std::shared_ptr<Link> &link, int side, Fn fn)
{
  link->thread.invoke ([link, side, fn] {
    vc::GstPtr<GObject> end = vc::adopt (static_cast<GObject *> (g_weak_ref_get (&link->ends[side])));
    if (end)
      fn (GST_VOICE_SIGNALLER (end.get ()));
  });
}

static void
set_session (GstVoiceLocalSignaller *self, const std::string &id)
{
  std::lock_guard<std::mutex> lk (self->priv->lock);
  self->priv->session = id;
}

static gboolean
local_start (GstVoiceSignaller *signaller, GError **error)
{
  auto *self = GST_VOICE_LOCAL_SIGNALLER (signaller);
  auto *priv = self->priv;
  if (!priv->link) {
    g_set_error (error, GST_VOICE_SIGNALLER_ERROR, 0,
        "this local signaller is not paired: use gst_voice_local_signaller_new_pair ()");
    return FALSE;
  }
  if (priv->side == 0) {
    vc::GUnique<gchar> id (g_uuid_string_random ());
    std::string session = id.get ();
    set_session (self, session);
    GST_DEBUG_OBJECT (self, "requesting session %s", session.c_str ());
    deliver (priv->link, 0, [session] (GstVoiceSignaller *end) {
      gst_voice_signaller_emit_session_requested (end, session.c_str (), "local", nullptr);
    });
  }
  return TRUE;
}

static void
local_end_session (GstVoiceSignaller *signaller, const gchar *session_id, const gchar *reason)
{
  auto *self = GST_VOICE_LOCAL_SIGNALLER (signaller);
  auto *priv = self->priv;
  {
    std::lock_guard<std::mutex> lk (priv->lock);
    if (priv->session != session_id)
      return;
    priv->session.clear ();
  }
  GST_DEBUG_OBJECT (self, "ending session %s (%s)", session_id, reason ? reason : "hang-up");
  std::string session = session_id;
  int other = 1 - priv->side;
  deliver (priv->link, other, [session] (GstVoiceSignaller *end) {
    auto *peer = GST_VOICE_LOCAL_SIGNALLER (end);
    {
      std::lock_guard<std::mutex> lk (peer->priv->lock);
      if (peer->priv->session != session)
        return;
      peer->priv->session.clear ();
    }
    gst_voice_signaller_emit_session_ended (end, session.c_str ());
  });
}

static void
local_stop (GstVoiceSignaller *signaller)
{
  auto *self = GST_VOICE_LOCAL_SIGNALLER (signaller);
  std::string session;
  {
    std::lock_guard<std::mutex> lk (self->priv->lock);
    session = self->priv->session;
  }
  if (!session.empty ())
    local_end_session (signaller, session.c_str (), nullptr);
}

static void
local_send_sdp (GstVoiceSignaller *signaller, const gchar *session_id,
    const GstWebRTCSessionDescription *sdp)
{
  auto *self = GST_VOICE_LOCAL_SIGNALLER (signaller);
  auto *priv = self->priv;
  std::string session = session_id;
  std::shared_ptr<GstWebRTCSessionDescription> desc (gst_webrtc_session_description_copy (sdp),
      gst_webrtc_session_description_free);
  if (priv->side == 0) {
    deliver (priv->link, 1, [session, desc] (GstVoiceSignaller *end) {
      set_session (GST_VOICE_LOCAL_SIGNALLER (end), session);
      gst_voice_signaller_emit_session_requested (end, session.c_str (), "local", desc.get ());
    });
  } else {
    deliver (priv->link, 0, [session, desc] (GstVoiceSignaller *end) {
      gst_voice_signaller_emit_session_description (end, session.c_str (), desc.get ());
    });
  }
}

static void
local_add_ice (GstVoiceSignaller *signaller, const gchar *session_id, guint mline_index,
    const gchar *candidate)
{
  auto *self = GST_VOICE_LOCAL_SIGNALLER (signaller);
  if (!candidate)
    return; /* webrtcbin needs no end-of-candidates */
  std::string session = session_id, cand = candidate;
  deliver (self->priv->link, 1 - self->priv->side, [session, mline_index, cand] (GstVoiceSignaller *end) {
    gst_voice_signaller_emit_handle_ice (end, session.c_str (), mline_index, cand.c_str ());
  });
}

static void
gst_voice_local_signaller_iface_init (GstVoiceSignallerInterface *iface)
{
  iface->start = local_start;
  iface->stop = local_stop;
  iface->send_sdp = local_send_sdp;
  iface->add_ice = local_add_ice;
  iface->end_session = local_end_session;
}

static void
gst_voice_local_signaller_init (GstVoiceLocalSignaller *self)
{
  self->priv = new GstVoiceLocalSignallerPrivate ();
}

static void
gst_voice_local_signaller_finalize (GObject *object)
{
  delete GST_VOICE_LOCAL_SIGNALLER (object)->priv;
  G_OBJECT_CLASS (gst_voice_local_signaller_parent_class)->finalize (object);
}

static void
gst_voice_local_signaller_class_init (GstVoiceLocalSignallerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = gst_voice_local_signaller_finalize;
}

void
gst_voice_local_signaller_new_pair (GstVoiceSignaller **caller, GstVoiceSignaller **callee)
{
  auto link = std::make_shared<Link> ();
  GstVoiceLocalSignaller *ends[2];
  for (int side = 0; side < 2; side++) {
    ends[side] = GST_VOICE_LOCAL_SIGNALLER (g_object_new (GST_TYPE_VOICE_LOCAL_SIGNALLER, nullptr));
    ends[side]->priv->link = link;
    ends[side]->priv->side = side;
    g_weak_ref_set (&link->ends[side], ends[side]);
  }
  *caller = GST_VOICE_SIGNALLER (ends[0]);
  *callee = GST_VOICE_SIGNALLER (ends[1]);
}
