/* gst-voicecall: the Janus AudioBridge signaller (see janussignaller.h).
 *
 * Threading as in the HTTP client signaller: the SoupSession and everything below the
 * "thread" line of the private struct live in the thread of priv->rt; the vfuncs marshal
 * their arguments there; properties are under priv->lock and start () takes a snapshot;
 * signals are emitted from the thread through rt.defer ().
 */
#include "janussignaller.h"

#include "gstptr.h"
#include "janusurl.h"
#include "randomid.h"
#include "sdputil.h"
#include "signallerruntime.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

GST_DEBUG_CATEGORY_STATIC (gst_voice_janus_signaller_debug);
#define GST_CAT_DEFAULT gst_voice_janus_signaller_debug

namespace {

constexpr guint kDefaultTimeout = 10000;
constexpr guint kPollTimeoutMs = 45000;      /* Janus answers a long poll within 30 s */
constexpr guint kHangUpTimeoutMs = 1000;     /* leave + destroy, each */
constexpr guint kStopDrainMs = 500;
constexpr guint kDefaultKeepaliveMs = 20000; /* until /info said the session timeout */
constexpr guint kSamplingRate = 48000;
constexpr guint kHoldFailureMs = 2000;       /* longest wait for the offer before failing */
constexpr const char *kPlugin = "janus.plugin.audiobridge";

enum class Phase { IDLE, ATTACHING, READY, JOINING, JOINED, ENDED };

struct Settings {
  std::string url;
  vc::janus::Target over;            /* properties set on the signaller (override the URL) */
  bool create_room = false, muted = false;
  guint timeout = kDefaultTimeout;
};

using JsonPtr = std::shared_ptr<JsonNode>;

/* The answer to one request. */
struct Reply {
  std::string what;                  /* "POST http://…/janus/123" */
  std::string failure;               /* no usable answer: why */
  JsonPtr root;                      /* the JSON body */

  JsonObject *object () const
  {
    return root && JSON_NODE_HOLDS_OBJECT (root.get ()) ? json_node_get_object (root.get ()) :
        nullptr;
  }
};

struct Req {
  GstVoiceJanusSignaller *self = nullptr;
  std::string what;
  guint timer = 0;
  bool timed_out = false;
  vc::GstPtr<GCancellable> cancellable;
  vc::GstPtr<SoupMessage> msg;
  std::function<void (Reply &)> done;
};

std::string
member_string (JsonObject *o, const char *name)
{
  if (!o || !json_object_has_member (o, name))
    return "";
  JsonNode *n = json_object_get_member (o, name);
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return "";
  return json_node_get_string (n);
}

gint64
member_int (JsonObject *o, const char *name, gint64 fallback = 0)
{
  if (!o || !json_object_has_member (o, name))
    return fallback;
  JsonNode *n = json_object_get_member (o, name);
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
    return fallback;
  return json_node_get_int (n);
}

JsonObject *
member_object (JsonObject *o, const char *name)
{
  if (!o || !json_object_has_member (o, name))
    return nullptr;
  JsonNode *n = json_object_get_member (o, name);
  return JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : nullptr;
}

JsonArray *
member_array (JsonObject *o, const char *name)
{
  if (!o || !json_object_has_member (o, name))
    return nullptr;
  JsonNode *n = json_object_get_member (o, name);
  return JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : nullptr;
}

/* A Janus-level error in a reply ({"janus":"error","error":{code,reason}}), or "". */
std::string
janus_error (JsonObject *o)
{
  if (member_string (o, "janus") != "error")
    return "";
  JsonObject *e = member_object (o, "error");
  return "Janus error " + std::to_string (member_int (e, "code")) + ": " +
      member_string (e, "reason");
}

} // namespace

struct Participant {
  std::string display;
  bool muted = false;
};

struct GstVoiceJanusSignallerPrivate {
  std::mutex lock;
  Settings props;
  vc::SignallerRuntime rt {"voicecall-janus"};

  /* ---- thread ---- */
  vc::GstPtr<SoupSession> session;
  vc::janus::Target t;               /* as of start (): URL + properties */
  guint timeout = kDefaultTimeout;
  std::string id;
  Phase phase = Phase::IDLE;
  guint64 sid = 0, hid = 0, pid = 0; /* Janus session, handle, our participant id */
  vc::GUnique<GstWebRTCSessionDescription> offer;
  bool answered = false;
  std::vector<vc::sdp::Candidate> candidates;  /* local, not yet sent */
  bool gathered = false, eoc_sent = false, trickling = false;
  guint keepalive_ms = kDefaultKeepaliveMs, keepalive_timer = 0;
  Req *poll = nullptr;
  std::set<Req *> reqs;
  std::map<guint64, Participant> participants;
  bool control_muted = false;        /* the element's mute / hold of the session */
  /* A failure before our gathering completed: reported once it has (see fail ()). */
  bool failure_held = false, failure_refused = false;
  std::string failure;
  guint failure_timer = 0;
  bool sent_muted = false;           /* what Janus was last told */
};

struct _GstVoiceJanusSignaller {
  GObject parent;
  GstVoiceJanusSignallerPrivate *priv;
};

enum {
  PROP_0,
  PROP_URL,
  PROP_ROOM,
  PROP_DISPLAY,
  PROP_PIN,
  PROP_SECRET,
  PROP_TOKEN,
  PROP_APISECRET,
  PROP_CREATE_ROOM,
  PROP_MUTED,
  PROP_BITRATE,
  PROP_EXPECTED_LOSS,
  PROP_TIMEOUT,
};

static void gst_voice_janus_signaller_iface_init (GstVoiceSignallerInterface *iface);

G_DEFINE_TYPE_WITH_CODE (GstVoiceJanusSignaller, gst_voice_janus_signaller, G_TYPE_OBJECT,
    G_IMPLEMENT_INTERFACE (GST_TYPE_VOICE_SIGNALLER, gst_voice_janus_signaller_iface_init)
    GST_DEBUG_CATEGORY_INIT (gst_voice_janus_signaller_debug, "voicejanus", 0,
        "voicecall Janus AudioBridge signaller"))

using Self = GstVoiceJanusSignaller;

/* ------------------------------------------------------------------------------------------
 * Requests (in the thread)
 * ---------------------------------------------------------------------------------------- */

static void
on_read (GObject *source, GAsyncResult *result, gpointer data)
{
  std::unique_ptr<Req> req (static_cast<Req *> (data));
  auto *priv = req->self->priv;
  priv->reqs.erase (req.get ());
  if (priv->poll == req.get ())
    priv->poll = nullptr;
  priv->rt.cancel (req->timer);
  GError *err = nullptr;
  GBytes *body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &err);
  Reply r;
  r.what = req->what;
  if (!body) {
    r.failure = req->timed_out ? "no answer within the timeout" : err->message;
    g_clear_error (&err);
  } else {
    guint status = soup_message_get_status (req->msg.get ());
    gsize size = 0;
    const char *data = static_cast<const char *> (g_bytes_get_data (body, &size));
    std::string text (data ? data : "", size);
    g_bytes_unref (body);
    JsonNode *root = SOUP_STATUS_IS_SUCCESSFUL (status) ?
        json_from_string (text.c_str (), &err) : nullptr;
    if (root) {
      r.root = JsonPtr (root, json_node_unref);
    } else {
      r.failure = "HTTP " + std::to_string (status) + ", " +
          (err ? std::string ("not JSON: ") + err->message : "not a Janus answer") +
          (text.empty () ? "" : ": " + text.substr (0, 200));
      g_clear_error (&err);
    }
  }
  req->done (r);
}

/* Sends `body` (a JSON object, transfer full; NULL: a GET) to api + path. */
static void
request (Self *self, const std::string &path, JsonObject *body, guint timeout_ms,
    std::function<void (Reply &)> done, bool is_poll = false)
{
  auto *priv = self->priv;
  std::string url = priv->t.api + path;
  auto req = std::make_unique<Req> ();
  req->self = self;
  req->what = std::string (body ? "POST " : "GET ") + url;
  req->done = std::move (done);
  /* No session: stopped (a hang-up's next step after stop () gave up waiting for it). */
  if (priv->session)
    req->msg = vc::adopt (soup_message_new (body ? "POST" : "GET", url.c_str ()));
  if (!req->msg) {
    if (body)
      json_object_unref (body);
    Reply r;
    r.what = req->what;
    r.failure = priv->session ? "not a valid URL" : "stopped";
    req->done (r);
    return;
  }
  if (body) {
    json_object_set_string_member (body, "transaction", vc::random_hex (8).c_str ());
    if (!priv->t.token.empty ())
      json_object_set_string_member (body, "token", priv->t.token.c_str ());
    if (!priv->t.apisecret.empty ())
      json_object_set_string_member (body, "apisecret", priv->t.apisecret.c_str ());
    JsonNode *node = json_node_init_object (json_node_alloc (), body);
    json_object_unref (body);
    gsize len = 0;
    gchar *text = json_to_string (node, FALSE);
    len = strlen (text);
    json_node_unref (node);
    GST_LOG_OBJECT (self, "POST %s %s", url.c_str (), text);
    GBytes *bytes = g_bytes_new_take (text, len);
    soup_message_set_request_body_from_bytes (req->msg.get (), "application/json", bytes);
    g_bytes_unref (bytes);
  }
  req->cancellable = vc::adopt (g_cancellable_new ());
  Req *raw = req.get ();
  raw->timer = priv->rt.timeout (timeout_ms, [raw] {
    raw->timer = 0;
    raw->timed_out = true;
    g_cancellable_cancel (raw->cancellable.get ());
  });
  priv->reqs.insert (raw);
  if (is_poll)
    priv->poll = raw;
  soup_session_send_and_read_async (priv->session.get (), raw->msg.get (), G_PRIORITY_DEFAULT,
      raw->cancellable.get (), on_read, req.release ());
}

static std::string
session_path (Self *self)
{
  return "/" + std::to_string (self->priv->sid);
}

static std::string
handle_path (Self *self)
{
  return session_path (self) + "/" + std::to_string (self->priv->hid);
}

/* A plugin message to our handle: body (transfer full), jsep (transfer full, or NULL). */
static void
plugin_message (Self *self, JsonObject *body, JsonObject *jsep, guint timeout_ms,
    std::function<void (Reply &)> done)
{
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "janus", "message");
  json_object_set_object_member (o, "body", body);
  if (jsep)
    json_object_set_object_member (o, "jsep", jsep);
  request (self, handle_path (self), o, timeout_ms, std::move (done));
}

static JsonObject *
janus_request (const char *what)
{
  JsonObject *o = json_object_new ();
  json_object_set_string_member (o, "janus", what);
  return o;
}

static void
cancel_requests (Self *self)
{
  for (Req *r : self->priv->reqs)
    g_cancellable_cancel (r->cancellable.get ());
}

/* ------------------------------------------------------------------------------------------
 * The session
 * ---------------------------------------------------------------------------------------- */

static void
stop_timers (Self *self)
{
  auto *priv = self->priv;
  priv->rt.cancel (priv->keepalive_timer);
  priv->keepalive_timer = 0;
  if (priv->poll)
    g_cancellable_cancel (priv->poll->cancellable.get ());
}

/* Leaves the room (when joined) and destroys the Janus session; `done` runs when both are
 * over (answered, failed or timed out). */
static void
hang_up (Self *self, std::function<void ()> done)
{
  auto *priv = self->priv;
  guint64 sid = priv->sid;
  bool joined = priv->hid && (priv->phase == Phase::JOINING || priv->phase == Phase::JOINED);
  priv->phase = Phase::ENDED;
  stop_timers (self);
  if (!sid) {
    if (done)
      done ();
    return;
  }
  auto destroy = [self, done] {
    request (self, session_path (self), janus_request ("destroy"), kHangUpTimeoutMs,
        [self, done] (Reply &r) {
          GST_INFO_OBJECT (self, "destroyed Janus session %" G_GUINT64_FORMAT ": %s",
              self->priv->sid, r.failure.empty () ? member_string (r.object (), "janus").c_str () :
              r.failure.c_str ());
          self->priv->sid = 0;
          if (done)
            done ();
        });
  };
  if (!joined) {
    destroy ();
    return;
  }
  JsonObject *leave = json_object_new ();
  json_object_set_string_member (leave, "request", "leave");
  plugin_message (self, leave, nullptr, kHangUpTimeoutMs, [self, destroy] (Reply &r) {
    GST_DEBUG_OBJECT (self, "leave: %s", r.failure.empty () ?
        member_string (r.object (), "janus").c_str () : r.failure.c_str ());
    destroy ();
  });
}

static void
report_failure (Self *self, const std::string &message, bool refused)
{
  std::string id = self->priv->id;
  self->priv->rt.defer ([self, message, refused, id] {
    if (refused)
      gst_voice_signaller_emit_session_refused (GST_VOICE_SIGNALLER (self), id.c_str (),
          message.c_str ());
    gst_voice_signaller_emit_error (GST_VOICE_SIGNALLER (self), nullptr, message.c_str ());
  });
}

/* A failure held until the offer: now. */
static void
release_failure (Self *self)
{
  auto *priv = self->priv;
  if (!priv->failure_held)
    return;
  priv->failure_held = false;
  priv->rt.cancel (priv->failure_timer);
  priv->failure_timer = 0;
  report_failure (self, priv->failure, priv->failure_refused);
}

/* The call cannot go on. `refused`: Janus refused to let us in (the room's answer to our
 * join): the session is refused, then the signaller reports the error. */
static void
fail (Self *self, const std::string &message, bool refused = false)
{
  auto *priv = self->priv;
  if (priv->phase == Phase::ENDED)
    return;
  GST_WARNING_OBJECT (self, "%s", message.c_str ());
  hang_up (self, nullptr);
  /* Janus can fail us (unreachable, not Janus) within a millisecond of start (), while the
   * element is still setting up the session our "session-requested" asked for. Ending it
   * then stops a webrtcbin that is still applying its local description: webrtcbin 1.22
   * then runs a queued task of its thread at teardown and prints a GStreamer-CRITICAL
   * (gst_segment_to_running_time, about 1 run in 70 on a loaded machine; also when the
   * failure was reported as the offer came). The failure waits until the session is set up:
   * until our gathering is complete (add_ice NULL), kHoldFailureMs at most. */
  if (!priv->gathered) {
    priv->failure_held = true;
    priv->failure = message;
    priv->failure_refused = refused;
    priv->failure_timer = priv->rt.timeout (kHoldFailureMs, [self] {
      self->priv->failure_timer = 0;
      release_failure (self);
    });
    return;
  }
  report_failure (self, message, refused);
}

/* Janus ended the call (hangup, detached, the room destroyed). */
static void
remote_end (Self *self, const std::string &why)
{
  auto *priv = self->priv;
  if (priv->phase == Phase::ENDED)
    return;
  GST_INFO_OBJECT (self, "Janus ended the call: %s", why.c_str ());
  if (priv->phase != Phase::JOINED) {
    fail (self, "Janus ended the call before it was set up: " + why);
    return;
  }
  hang_up (self, nullptr);
  std::string id = priv->id;
  priv->rt.defer ([self, id] {
    gst_voice_signaller_emit_session_ended (GST_VOICE_SIGNALLER (self), id.c_str ());
  });
}

/* A `janus-room` element message: event, room, and the participant's id and display. */
static void
post_room_event (Self *self, const char *event, guint64 id, const std::string &display,
    GstStructure *extra = nullptr)
{
  auto *priv = self->priv;
  GstStructure *s = extra ? extra : gst_structure_new_empty ("janus-room");
  gst_structure_set (s, "event", G_TYPE_STRING, event, "room", G_TYPE_UINT64, priv->t.room,
      "id", G_TYPE_UINT64, id, nullptr);
  if (!display.empty ())
    gst_structure_set (s, "display", G_TYPE_STRING, display.c_str (), nullptr);
  std::shared_ptr<GstStructure> msg (s, gst_structure_free);
  std::string sid = priv->id;
  GST_DEBUG_OBJECT (self, "room event %" GST_PTR_FORMAT, s);
  priv->rt.defer ([self, sid, msg] {
    gst_voice_signaller_emit_message (GST_VOICE_SIGNALLER (self), sid.c_str (), msg.get ());
  });
}

static void
update_participants (Self *self, JsonArray *list)
{
  auto *priv = self->priv;
  guint n = list ? json_array_get_length (list) : 0;
  for (guint i = 0; i < n; i++) {
    JsonNode *node = json_array_get_element (list, i);
    if (!JSON_NODE_HOLDS_OBJECT (node))
      continue;
    JsonObject *p = json_node_get_object (node);
    guint64 id = member_int (p, "id");
    if (!id || id == priv->pid)
      continue;
    bool muted = json_object_has_member (p, "muted") &&
        json_object_get_boolean_member (p, "muted");
    auto it = priv->participants.find (id);
    if (it == priv->participants.end ()) {
      Participant &part = priv->participants[id];
      part.display = member_string (p, "display");
      part.muted = muted;
      post_room_event (self, "participant-joined", id, part.display,
          gst_structure_new ("janus-room", "muted", G_TYPE_BOOLEAN, muted, nullptr));
    } else if (it->second.muted != muted) {
      it->second.muted = muted;
      post_room_event (self, muted ? "muted" : "unmuted", id, it->second.display);
    }
  }
}

static void
participant_left (Self *self, guint64 id)
{
  auto *priv = self->priv;
  auto it = priv->participants.find (id);
  std::string display = it != priv->participants.end () ? it->second.display : "";
  if (it != priv->participants.end ())
    priv->participants.erase (it);
  post_room_event (self, "participant-left", id, display);
}

static void send_configure (Self *self);

static void
handle_answer (Self *self, JsonObject *jsep)
{
  auto *priv = self->priv;
  if (!jsep || priv->answered)
    return;
  std::string type = member_string (jsep, "type"), text = member_string (jsep, "sdp");
  if (type != "answer") {
    GST_WARNING_OBJECT (self, "Janus sent a jsep of type \"%s\", not an answer: ignored",
        type.c_str ());
    return;
  }
  std::string error;
  vc::GUnique<GstSDPMessage> sdp = vc::sdp::parse (text.c_str (), &error);
  if (!sdp) {
    fail (self, "Janus's answer is not valid SDP: " + error);
    return;
  }
  priv->answered = true;
  priv->phase = Phase::JOINED;
  if (priv->sent_muted != (priv->t.muted || priv->control_muted))
    send_configure (self);
  std::shared_ptr<GstWebRTCSessionDescription> answer (
      gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_ANSWER, sdp.release ()),
      gst_webrtc_session_description_free);
  std::string id = priv->id;
  priv->rt.defer ([self, id, answer] {
    gst_voice_signaller_emit_session_description (GST_VOICE_SIGNALLER (self), id.c_str (),
        answer.get ());
  });
}

static void
handle_plugin_event (Self *self, JsonObject *data, JsonObject *jsep)
{
  auto *priv = self->priv;
  std::string what = member_string (data, "audiobridge");
  if (json_object_has_member (data, "error_code")) {
    std::string msg = vc::janus::describe_error (member_int (data, "error_code"),
        member_string (data, "error"));
    if (priv->phase == Phase::JOINING)
      fail (self, msg + " (joining room " + std::to_string (priv->t.room) + ")", true);
    else
      GST_WARNING_OBJECT (self, "%s", msg.c_str ());
    return;
  }
  if (what == "joined") {
    if (json_object_has_member (data, "id") && !priv->pid) {
      priv->pid = member_int (data, "id");
      JsonArray *list = member_array (data, "participants");
      guint n = list ? json_array_get_length (list) : 0;
      GST_INFO_OBJECT (self, "joined room %" G_GUINT64_FORMAT " as %" G_GUINT64_FORMAT
          " with %u other(s)", priv->t.room, priv->pid, n);
      post_room_event (self, "joined", priv->pid, priv->t.display,
          gst_structure_new ("janus-room", "participants", G_TYPE_INT, (gint) n, nullptr));
    }
    update_participants (self, member_array (data, "participants"));
  } else if (what == "event" || what == "left") {
    update_participants (self, member_array (data, "participants"));
    if (json_object_has_member (data, "leaving"))
      participant_left (self, member_int (data, "leaving"));
    if (json_object_has_member (data, "kicked"))
      participant_left (self, member_int (data, "kicked"));
  } else if (what == "talking" || what == "stopped-talking") {
    guint64 id = member_int (data, "id");
    auto it = priv->participants.find (id);
    post_room_event (self, what.c_str (), id, it != priv->participants.end () ?
        it->second.display : id == priv->pid ? priv->t.display : "");
  } else if (what == "destroyed") {
    remote_end (self, "room " + std::to_string (priv->t.room) + " was destroyed");
    return;
  }
  handle_answer (self, jsep);
}

static void
handle_event (Self *self, JsonObject *e)
{
  auto *priv = self->priv;
  if (!e || priv->phase == Phase::ENDED)
    return;
  std::string kind = member_string (e, "janus");
  if (gst_debug_category_get_threshold (GST_CAT_DEFAULT) >= GST_LEVEL_LOG) {
    JsonNode *n = json_node_init_object (json_node_alloc (), e);
    vc::GUnique<gchar> text (json_to_string (n, FALSE));
    json_node_unref (n);
    GST_LOG_OBJECT (self, "event %s", text.get ());
  }
  guint64 sender = member_int (e, "sender");
  if (kind == "keepalive" || kind == "ack")
    return;
  if (sender && priv->hid && sender != priv->hid) {
    GST_DEBUG_OBJECT (self, "event \"%s\" for another handle", kind.c_str ());
    return;
  }
  if (kind == "event") {
    JsonObject *pd = member_object (e, "plugindata");
    handle_plugin_event (self, member_object (pd, "data"), member_object (e, "jsep"));
  } else if (kind == "trickle") {
    JsonObject *c = member_object (e, "candidate");
    std::string id = priv->id;
    if (!c)
      return;
    if (json_object_has_member (c, "completed")) {
      priv->rt.defer ([self, id] {
        gst_voice_signaller_emit_handle_ice (GST_VOICE_SIGNALLER (self), id.c_str (), 0, nullptr);
      });
      return;
    }
    std::string cand = member_string (c, "candidate");
    guint mline = member_int (c, "sdpMLineIndex");
    if (cand.rfind ("a=", 0) == 0)
      cand = cand.substr (2);
    priv->rt.defer ([self, id, mline, cand] {
      gst_voice_signaller_emit_handle_ice (GST_VOICE_SIGNALLER (self), id.c_str (), mline,
          cand.c_str ());
    });
  } else if (kind == "webrtcup") {
    GST_INFO_OBJECT (self, "Janus: PeerConnection up");
  } else if (kind == "media" || kind == "slowlink") {
    GST_INFO_OBJECT (self, "Janus: %s", kind.c_str ());
  } else if (kind == "hangup") {
    remote_end (self, "Janus hung up (" + member_string (e, "reason") + ")");
  } else if (kind == "detached") {
    remote_end (self, "Janus detached our handle");
  } else if (kind == "timeout") {
    fail (self, "Janus timed out our session (no keepalive within its session_timeout)");
  } else if (kind == "error") {
    fail (self, janus_error (e));
  } else {
    GST_DEBUG_OBJECT (self, "Janus event \"%s\" ignored", kind.c_str ());
  }
}

static void
poll (Self *self)
{
  auto *priv = self->priv;
  if (!priv->rt.running () || priv->phase == Phase::ENDED || !priv->sid || priv->poll)
    return;
  std::string path = session_path (self) + "?maxev=10&rid=" +
      std::to_string (g_get_real_time () / 1000);
  request (self, path, nullptr, kPollTimeoutMs, [self] (Reply &r) {
    auto *priv = self->priv;
    if (!priv->rt.running () || priv->phase == Phase::ENDED)
      return;
    if (!r.failure.empty ()) {
      fail (self, "lost Janus at " + priv->t.api + ": " + r.what + ": " + r.failure);
      return;
    }
    if (r.object () && !janus_error (r.object ()).empty ()) {
      fail (self, r.what + ": " + janus_error (r.object ()));
      return;
    }
    if (JSON_NODE_HOLDS_ARRAY (r.root.get ())) {
      JsonArray *a = json_node_get_array (r.root.get ());
      for (guint i = 0; i < json_array_get_length (a); i++) {
        JsonNode *n = json_array_get_element (a, i);
        if (JSON_NODE_HOLDS_OBJECT (n))
          handle_event (self, json_node_get_object (n));
      }
    } else {
      handle_event (self, r.object ());
    }
    poll (self);
  }, true);
}

static void
keepalive (Self *self)
{
  auto *priv = self->priv;
  priv->keepalive_timer = priv->rt.timeout (priv->keepalive_ms, [self] {
    auto *priv = self->priv;
    priv->keepalive_timer = 0;
    if (priv->phase == Phase::ENDED || !priv->sid)
      return;
    request (self, session_path (self), janus_request ("keepalive"), priv->timeout,
        [self] (Reply &r) {
          if (!self->priv->rt.running () || self->priv->phase == Phase::ENDED)
            return;
          if (!r.failure.empty ())
            fail (self, "lost Janus at " + self->priv->t.api + ": keepalive: " + r.failure);
          else if (!janus_error (r.object ()).empty ())
            fail (self, "keepalive: " + janus_error (r.object ()));
        });
    keepalive (self);
  });
}

static void flush (Self *self);

/* Sends what we gathered since the last trickle, then {"completed":true} once gathering is
 * done; one request at a time. */
static void
flush (Self *self)
{
  auto *priv = self->priv;
  if (priv->trickling || (priv->phase != Phase::JOINING && priv->phase != Phase::JOINED))
    return;
  JsonObject *o = janus_request ("trickle");
  if (!priv->candidates.empty ()) {
    JsonArray *list = json_array_new ();
    for (const auto &c : priv->candidates) {
      JsonObject *cand = json_object_new ();
      json_object_set_string_member (cand, "candidate", c.candidate.c_str ());
      json_object_set_int_member (cand, "sdpMLineIndex", c.mline);
      std::string mid = vc::sdp::media_mid (priv->offer->sdp, c.mline);
      if (!mid.empty ())
        json_object_set_string_member (cand, "sdpMid", mid.c_str ());
      json_array_add_object_element (list, cand);
    }
    json_object_set_array_member (o, "candidates", list);
    GST_DEBUG_OBJECT (self, "trickling %zu candidate(s)", priv->candidates.size ());
    priv->candidates.clear ();
  } else if (priv->gathered && !priv->eoc_sent) {
    JsonObject *done = json_object_new ();
    json_object_set_boolean_member (done, "completed", TRUE);
    json_object_set_object_member (o, "candidate", done);
    priv->eoc_sent = true;
  } else {
    json_object_unref (o);
    return;
  }
  priv->trickling = true;
  request (self, handle_path (self), o, priv->timeout, [self] (Reply &r) {
    auto *priv = self->priv;
    priv->trickling = false;
    if (!priv->rt.running () || priv->phase == Phase::ENDED)
      return;
    if (!r.failure.empty () || !janus_error (r.object ()).empty ())
      GST_WARNING_OBJECT (self, "%s: %s", r.what.c_str (), r.failure.empty () ?
          janus_error (r.object ()).c_str () : r.failure.c_str ());
    flush (self);
  });
}

/* Muted in the room: the signaller's muted (or the URL's), or the element's mute / hold. */
static void
set_media_options (Self *self, JsonObject *body)
{
  auto *priv = self->priv;
  priv->sent_muted = priv->t.muted || priv->control_muted;
  json_object_set_boolean_member (body, "muted", priv->sent_muted);
  if (priv->t.bitrate > 0)
    json_object_set_int_member (body, "bitrate", priv->t.bitrate);
  if (priv->t.expected_loss >= 0)
    json_object_set_int_member (body, "expected_loss", priv->t.expected_loss);
}

/* The offer and the handle are both there: join the room with the offer. */
static void
maybe_join (Self *self)
{
  auto *priv = self->priv;
  if (priv->phase != Phase::READY || !priv->offer)
    return;
  priv->phase = Phase::JOINING;
  JsonObject *body = json_object_new ();
  json_object_set_string_member (body, "request", "join");
  json_object_set_int_member (body, "room", priv->t.room);
  if (!priv->t.display.empty ())
    json_object_set_string_member (body, "display", priv->t.display.c_str ());
  if (!priv->t.pin.empty ())
    json_object_set_string_member (body, "pin", priv->t.pin.c_str ());
  set_media_options (self, body);
  JsonObject *jsep = json_object_new ();
  json_object_set_string_member (jsep, "type", "offer");
  vc::GUnique<gchar> sdp (gst_sdp_message_as_text (priv->offer->sdp));
  json_object_set_string_member (jsep, "sdp", sdp.get ());
  GST_INFO_OBJECT (self, "joining room %" G_GUINT64_FORMAT " as \"%s\"", priv->t.room,
      priv->t.display.c_str ());
  plugin_message (self, body, jsep, priv->timeout, [self] (Reply &r) {
    auto *priv = self->priv;
    if (!priv->rt.running () || priv->phase == Phase::ENDED)
      return;
    if (!r.failure.empty ()) {
      fail (self, r.what + ": " + r.failure);
      return;
    }
    if (!janus_error (r.object ()).empty ()) {
      fail (self, r.what + ": " + janus_error (r.object ()), true);
      return;
    }
    flush (self);
  });
}

static void
attached (Self *self)
{
  auto *priv = self->priv;
  priv->phase = Phase::READY;
  maybe_join (self);
}

/* create=true: the room is created (48 kHz) unless it exists. */
static void
create_room (Self *self)
{
  auto *priv = self->priv;
  JsonObject *body = json_object_new ();
  json_object_set_string_member (body, "request", "create");
  json_object_set_int_member (body, "room", priv->t.room);
  json_object_set_int_member (body, "sampling_rate", kSamplingRate);
  json_object_set_boolean_member (body, "audiolevel_event", TRUE);
  json_object_set_boolean_member (body, "permanent", FALSE);
  if (!priv->t.pin.empty ())
    json_object_set_string_member (body, "pin", priv->t.pin.c_str ());
  if (!priv->t.secret.empty ())
    json_object_set_string_member (body, "secret", priv->t.secret.c_str ());
  plugin_message (self, body, nullptr, priv->timeout, [self] (Reply &r) {
    auto *priv = self->priv;
    if (!priv->rt.running () || priv->phase == Phase::ENDED)
      return;
    JsonObject *data = member_object (member_object (r.object (), "plugindata"), "data");
    gint64 code = member_int (data, "error_code");
    if (!r.failure.empty () || !janus_error (r.object ()).empty ()) {
      fail (self, r.what + ": " + (r.failure.empty () ? janus_error (r.object ()) : r.failure));
    } else if (code && code != 486) {
      fail (self, vc::janus::describe_error (code, member_string (data, "error")) +
          " (creating room " + std::to_string (priv->t.room) + ")", true);
    } else {
      GST_INFO_OBJECT (self, "room %" G_GUINT64_FORMAT " %s", priv->t.room,
          code ? "exists already" : "created");
      attached (self);
    }
  });
}

static void
connect_janus (Self *self)
{
  auto *priv = self->priv;
  /* No connection or no answer: not reachable; an answer that is not Janus's: not Janus. */
  auto unreachable = [self] (const Reply &r) {
    auto *priv = self->priv;
    bool answered = r.failure.empty () || r.failure.rfind ("HTTP ", 0) == 0;
    std::string why = r.failure.empty () ? janus_error (r.object ()) : r.failure;
    if (why.empty ())
      why = "not a Janus answer";
    fail (self, std::string (answered ? "no Janus API at " : "Janus is not reachable at ") +
        priv->t.api + ": " + r.what + ": " + why);
  };
  priv->phase = Phase::ATTACHING;
  request (self, "/info", nullptr, priv->timeout, [self, unreachable] (Reply &r) {
    auto *priv = self->priv;
    if (!priv->rt.running () || priv->phase == Phase::ENDED)
      return;
    if (!r.failure.empty () || member_string (r.object (), "janus") != "server_info") {
      unreachable (r);
      return;
    }
    gint64 timeout_s = member_int (r.object (), "session-timeout", 60);
    if (timeout_s > 0)
      priv->keepalive_ms = std::clamp<guint> (timeout_s * 1000 / 3, 500, kDefaultKeepaliveMs);
    GST_INFO_OBJECT (self, "%s: session-timeout %" G_GINT64_FORMAT " s, keepalive every %u ms",
        member_string (r.object (), "name").c_str (), timeout_s, priv->keepalive_ms);
    request (self, "", janus_request ("create"), priv->timeout, [self, unreachable] (Reply &r) {
      auto *priv = self->priv;
      if (!priv->rt.running () || priv->phase == Phase::ENDED)
        return;
      guint64 sid = member_int (member_object (r.object (), "data"), "id");
      if (!r.failure.empty () || !sid) {
        unreachable (r);
        return;
      }
      priv->sid = sid;
      poll (self);
      keepalive (self);
      JsonObject *attach = janus_request ("attach");
      json_object_set_string_member (attach, "plugin", kPlugin);
      request (self, session_path (self), attach, priv->timeout, [self, unreachable] (Reply &r) {
        auto *priv = self->priv;
        if (!priv->rt.running () || priv->phase == Phase::ENDED)
          return;
        guint64 hid = member_int (member_object (r.object (), "data"), "id");
        if (!r.failure.empty () || !hid) {
          unreachable (r);
          return;
        }
        priv->hid = hid;
        GST_INFO_OBJECT (self, "Janus session %" G_GUINT64_FORMAT ", AudioBridge handle %"
            G_GUINT64_FORMAT, priv->sid, priv->hid);
        if (priv->t.create)
          create_room (self);
        else
          attached (self);
      });
    });
  });
}

/* ------------------------------------------------------------------------------------------
 * GstVoiceSignaller
 * ---------------------------------------------------------------------------------------- */

static gboolean
janus_start (GstVoiceSignaller *signaller, GError **error)
{
  auto *self = GST_VOICE_JANUS_SIGNALLER (signaller);
  auto *priv = self->priv;
  Settings s;
  {
    std::lock_guard<std::mutex> lk (priv->lock);
    s = priv->props;
  }
  vc::janus::Target t;
  std::string err;
  if (s.over.room)
    t.room = s.over.room;   /* a room given as a property needs none in the URL */
  if (!vc::janus::parse_url (s.url, &t, &err)) {
    g_set_error (error, GST_VOICE_SIGNALLER_ERROR, 0, "%s", err.c_str ());
    return FALSE;
  }
  /* Properties set on the signaller win over the URL's query. */
  if (s.over.room)
    t.room = s.over.room;
  for (auto [field, over] : {std::pair {&t.display, &s.over.display}, {&t.pin, &s.over.pin},
           {&t.secret, &s.over.secret}, {&t.token, &s.over.token},
           {&t.apisecret, &s.over.apisecret}})
    if (!over->empty ())
      *field = *over;
  t.create = t.create || s.create_room;
  t.muted = t.muted || s.muted;
  if (s.over.bitrate > 0)
    t.bitrate = s.over.bitrate;
  if (s.over.expected_loss >= 0)
    t.expected_loss = s.over.expected_loss;

  priv->rt.start ([self, priv, s, t] {
    priv->session = vc::adopt (soup_session_new_with_options ("user-agent", "gst-voicecall",
        nullptr));
    priv->t = t;
    priv->timeout = s.timeout;
    priv->id = vc::random_hex (16);
    priv->phase = Phase::IDLE;
    priv->sid = priv->hid = priv->pid = 0;
    priv->offer.reset ();
    priv->answered = false;
    priv->candidates.clear ();
    priv->gathered = priv->eoc_sent = priv->trickling = false;
    priv->keepalive_ms = kDefaultKeepaliveMs;
    priv->participants.clear ();
    priv->control_muted = priv->sent_muted = false;
    priv->failure_held = false;
    GST_INFO_OBJECT (self, "session %s: joining room %" G_GUINT64_FORMAT " on %s",
        priv->id.c_str (), t.room, t.api.c_str ());
    std::string id = priv->id, url = s.url;
    priv->rt.defer ([self, id, url] {
      gst_voice_signaller_emit_session_requested (GST_VOICE_SIGNALLER (self), id.c_str (),
          url.c_str (), nullptr);
    });
    connect_janus (self);
    return true;
  });
  return TRUE;
}

static void
janus_stop (GstVoiceSignaller *signaller)
{
  auto *self = GST_VOICE_JANUS_SIGNALLER (signaller);
  auto *priv = self->priv;
  priv->rt.stop ([self, priv] {
    /* running () is false: the replies of what is cancelled here are dropped. */
    stop_timers (self);
    priv->rt.cancel (priv->failure_timer);
    priv->failure_timer = 0;
    priv->failure_held = false;
    if (priv->phase != Phase::ENDED || priv->sid) {
      /* Shared: a reply that comes after the waits below still finds it. */
      auto done = std::make_shared<bool> (false);
      hang_up (self, [done] { *done = true; });
      priv->rt.drain ([done] { return *done; }, 2 * kHangUpTimeoutMs + 100);
    }
    priv->phase = Phase::ENDED;
    cancel_requests (self);
    priv->rt.drain ([priv] { return priv->reqs.empty (); }, kStopDrainMs);
    priv->session.reset ();
    GST_INFO_OBJECT (self, "stopped");
  });
}

static void
in_thread (Self *self, std::function<void ()> fn)
{
  if (!self->priv->rt.call (std::move (fn)))
    GST_WARNING_OBJECT (self, "not started");
}

static void
janus_send_sdp (GstVoiceSignaller *signaller, const gchar *session_id,
    const GstWebRTCSessionDescription *sdp)
{
  auto *self = GST_VOICE_JANUS_SIGNALLER (signaller);
  std::shared_ptr<GstWebRTCSessionDescription> offer (gst_webrtc_session_description_copy (sdp),
      gst_webrtc_session_description_free);
  std::string id (session_id);
  in_thread (self, [self, id, offer] {
    auto *priv = self->priv;
    if (id != priv->id || priv->phase == Phase::ENDED)
      return;
    if (offer->type != GST_WEBRTC_SDP_TYPE_OFFER || priv->offer) {
      GST_WARNING_OBJECT (self, "session %s: send_sdp takes one offer (got a %s)", id.c_str (),
          gst_webrtc_sdp_type_to_string (offer->type));
      return;
    }
    priv->offer.reset (gst_webrtc_session_description_copy (offer.get ()));
    maybe_join (self);
  });
}

static void
janus_add_ice (GstVoiceSignaller *signaller, const gchar *session_id, guint mline_index,
    const gchar *candidate)
{
  auto *self = GST_VOICE_JANUS_SIGNALLER (signaller);
  std::string id (session_id);
  bool end = candidate == nullptr;
  std::string cand (candidate ? candidate : "");
  in_thread (self, [self, id, mline_index, end, cand] {
    auto *priv = self->priv;
    if (id == priv->id && end && priv->failure_held) {
      priv->gathered = true;
      release_failure (self);
      return;
    }
    if (id != priv->id || priv->phase == Phase::ENDED)
      return;
    if (end)
      priv->gathered = true;
    else
      priv->candidates.push_back ({mline_index, cand});
    flush (self);
  });
}

static void
janus_end_session (GstVoiceSignaller *signaller, const gchar *session_id, const gchar *reason)
{
  auto *self = GST_VOICE_JANUS_SIGNALLER (signaller);
  std::string id (session_id);
  in_thread (self, [self, id] {
    auto *priv = self->priv;
    if (id != priv->id || priv->phase == Phase::ENDED)
      return;
    GST_INFO_OBJECT (self, "session %s: leaving room %" G_GUINT64_FORMAT, id.c_str (),
        priv->t.room);
    hang_up (self, nullptr);
  });
}

static void janus_session_control (GstVoiceSignaller *signaller, const gchar *session_id,
    gboolean muted, gboolean held);

static void
gst_voice_janus_signaller_iface_init (GstVoiceSignallerInterface *iface)
{
  iface->start = janus_start;
  iface->stop = janus_stop;
  iface->send_sdp = janus_send_sdp;
  iface->add_ice = janus_add_ice;
  iface->end_session = janus_end_session;
  iface->session_control = janus_session_control;
}

/* "configure" with our muted, bitrate and expected_loss, once joined (a change before is
 * sent when the answer comes). */
static void
send_configure (Self *self)
{
  auto *priv = self->priv;
  if (priv->phase != Phase::JOINED)
    return;
  JsonObject *body = json_object_new ();
  json_object_set_string_member (body, "request", "configure");
  set_media_options (self, body);
  GST_INFO_OBJECT (self, "configure: muted %d, bitrate %d, expected_loss %d", priv->sent_muted,
      priv->t.bitrate, priv->t.expected_loss);
  plugin_message (self, body, nullptr, priv->timeout, [self] (Reply &r) {
    if (!r.failure.empty () || !janus_error (r.object ()).empty ())
      GST_WARNING_OBJECT (self, "%s: %s", r.what.c_str (), r.failure.empty () ?
          janus_error (r.object ()).c_str () : r.failure.c_str ());
  });
}

static void
janus_session_control (GstVoiceSignaller *signaller, const gchar *session_id, gboolean muted,
    gboolean held)
{
  auto *self = GST_VOICE_JANUS_SIGNALLER (signaller);
  std::string id (session_id);
  bool silent = muted || held;
  self->priv->rt.call ([self, id, silent] {
    auto *priv = self->priv;
    if (id != priv->id || priv->control_muted == silent)
      return;
    priv->control_muted = silent;
    if (priv->sent_muted != (priv->t.muted || silent))
      send_configure (self);
  });
}

/* A change of muted, bitrate or expected-loss during a call: "configure". */
static void
reconfigure (Self *self)
{
  bool muted;
  int bitrate, loss;
  {
    std::lock_guard<std::mutex> lk (self->priv->lock);
    muted = self->priv->props.muted;
    bitrate = self->priv->props.over.bitrate;
    loss = self->priv->props.over.expected_loss;
  }
  self->priv->rt.call ([self, muted, bitrate, loss] {
    auto *priv = self->priv;
    if (bitrate > 0)
      priv->t.bitrate = bitrate;
    if (loss >= 0)
      priv->t.expected_loss = loss;
    priv->t.muted = muted;
    send_configure (self);
  });
}

/* ------------------------------------------------------------------------------------------
 * GObject
 * ---------------------------------------------------------------------------------------- */

static std::string
string_of (const GValue *value)
{
  return g_value_get_string (value) ? g_value_get_string (value) : "";
}

static void
gst_voice_janus_signaller_set_property (GObject *object, guint prop_id, const GValue *value,
    GParamSpec *pspec)
{
  auto *self = GST_VOICE_JANUS_SIGNALLER (object);
  bool configure = false;
  {
    std::lock_guard<std::mutex> lk (self->priv->lock);
    Settings &p = self->priv->props;
    switch (prop_id) {
      case PROP_URL: p.url = string_of (value); break;
      case PROP_ROOM: p.over.room = g_value_get_uint64 (value); break;
      case PROP_DISPLAY: p.over.display = string_of (value); break;
      case PROP_PIN: p.over.pin = string_of (value); break;
      case PROP_SECRET: p.over.secret = string_of (value); break;
      case PROP_TOKEN: p.over.token = string_of (value); break;
      case PROP_APISECRET: p.over.apisecret = string_of (value); break;
      case PROP_CREATE_ROOM: p.create_room = g_value_get_boolean (value); break;
      case PROP_MUTED:
        configure = p.muted != (bool) g_value_get_boolean (value);
        p.muted = g_value_get_boolean (value);
        break;
      case PROP_BITRATE:
        configure = p.over.bitrate != g_value_get_int (value);
        p.over.bitrate = g_value_get_int (value);
        break;
      case PROP_EXPECTED_LOSS:
        configure = p.over.expected_loss != g_value_get_int (value);
        p.over.expected_loss = g_value_get_int (value);
        break;
      case PROP_TIMEOUT: p.timeout = g_value_get_uint (value); break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
        break;
    }
  }
  if (configure)
    reconfigure (self);
}

static void
gst_voice_janus_signaller_get_property (GObject *object, guint prop_id, GValue *value,
    GParamSpec *pspec)
{
  auto *self = GST_VOICE_JANUS_SIGNALLER (object);
  std::lock_guard<std::mutex> lk (self->priv->lock);
  const Settings &p = self->priv->props;
  auto str = [value] (const std::string &s) {
    g_value_set_string (value, s.empty () ? nullptr : s.c_str ());
  };
  switch (prop_id) {
    case PROP_URL: str (p.url); break;
    case PROP_ROOM: g_value_set_uint64 (value, p.over.room); break;
    case PROP_DISPLAY: str (p.over.display); break;
    case PROP_PIN: str (p.over.pin); break;
    case PROP_SECRET: str (p.over.secret); break;
    case PROP_TOKEN: str (p.over.token); break;
    case PROP_APISECRET: str (p.over.apisecret); break;
    case PROP_CREATE_ROOM: g_value_set_boolean (value, p.create_room); break;
    case PROP_MUTED: g_value_set_boolean (value, p.muted); break;
    case PROP_BITRATE: g_value_set_int (value, p.over.bitrate); break;
    case PROP_EXPECTED_LOSS: g_value_set_int (value, p.over.expected_loss); break;
    case PROP_TIMEOUT: g_value_set_uint (value, p.timeout); break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_voice_janus_signaller_finalize (GObject *object)
{
  auto *self = GST_VOICE_JANUS_SIGNALLER (object);
  self->priv->rt.finalize (object, [self] { janus_stop (GST_VOICE_SIGNALLER (self)); });
  delete self->priv;
  G_OBJECT_CLASS (gst_voice_janus_signaller_parent_class)->finalize (object);
}

static void
gst_voice_janus_signaller_init (GstVoiceJanusSignaller *self)
{
  self->priv = new GstVoiceJanusSignallerPrivate ();
}

static void
gst_voice_janus_signaller_class_init (GstVoiceJanusSignallerClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  gobject_class->set_property = gst_voice_janus_signaller_set_property;
  gobject_class->get_property = gst_voice_janus_signaller_get_property;
  gobject_class->finalize = gst_voice_janus_signaller_finalize;

  auto rw = static_cast<GParamFlags> (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY);
  auto live = static_cast<GParamFlags> (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_PLAYING);

  g_object_class_install_property (gobject_class, PROP_URL,
      g_param_spec_string ("url", "URL",
          "The Janus server and room: janus://HOST:8088/janus?room=1234&display=NAME&pin=PIN "
          "(januss:// for https; also secret, token, apisecret, create, muted, bitrate, "
          "expected_loss)", nullptr, rw));
  g_object_class_install_property (gobject_class, PROP_ROOM,
      g_param_spec_uint64 ("room", "Room", "The AudioBridge room to join (0: the URL's room=)",
          0, G_MAXUINT64, 0, rw));
  g_object_class_install_property (gobject_class, PROP_DISPLAY,
      g_param_spec_string ("display", "Display name",
          "Our name in the room, as the other participants see it (unset: the URL's display=)",
          nullptr, rw));
  g_object_class_install_property (gobject_class, PROP_PIN,
      g_param_spec_string ("pin", "PIN", "The room's PIN, if it has one (unset: the URL's pin=)",
          nullptr, rw));
  g_object_class_install_property (gobject_class, PROP_SECRET,
      g_param_spec_string ("secret", "Room secret",
          "The room's secret, for create-room (unset: the URL's secret=)", nullptr, rw));
  g_object_class_install_property (gobject_class, PROP_TOKEN,
      g_param_spec_string ("token", "Janus API token",
          "Sent as \"token\" with every request, for a Janus with token_auth (unset: the "
          "URL's token=)", nullptr, rw));
  g_object_class_install_property (gobject_class, PROP_APISECRET,
      g_param_spec_string ("apisecret", "Janus API secret",
          "Sent as \"apisecret\" with every request, for a Janus with api_secret (unset: the "
          "URL's apisecret=)", nullptr, rw));
  g_object_class_install_property (gobject_class, PROP_CREATE_ROOM,
      g_param_spec_boolean ("create-room", "Create the room",
          "Create the room (48 kHz, not permanent) before joining it if it does not exist "
          "(or the URL's create=true)", FALSE, rw));
  g_object_class_install_property (gobject_class, PROP_MUTED,
      g_param_spec_boolean ("muted", "Muted in the room",
          "Join muted, or mute/unmute during the call (AudioBridge \"configure\": Janus "
          "drops our audio from the mix and tells the others)", FALSE, live));
  g_object_class_install_property (gobject_class, PROP_BITRATE,
      g_param_spec_int ("bitrate", "Bitrate",
          "The bitrate, in bit/s, of the mix Janus sends us (0: the room's default)",
          0, 512000, 0, live));
  g_object_class_install_property (gobject_class, PROP_EXPECTED_LOSS,
      g_param_spec_int ("expected-loss", "Expected loss",
          "The packet loss, in %, Janus's encoder plans in-band FEC for on our mix (-1: the "
          "room's default)", -1, 20, -1, live));
  g_object_class_install_property (gobject_class, PROP_TIMEOUT,
      g_param_spec_uint ("timeout", "Timeout",
          "Longest wait, in ms, for Janus to answer one request", 100, 600000,
          kDefaultTimeout, rw));
}

GstVoiceJanusSignaller *
gst_voice_janus_signaller_new (void)
{
  return static_cast<GstVoiceJanusSignaller *> (
      g_object_new (GST_TYPE_VOICE_JANUS_SIGNALLER, nullptr));
}
