/* gst-voicecall: the HTTP client signaller (see httpclientsignaller.h).
 *
 * Threading: the SoupSession lives in the thread of priv->rt (vc::SignallerRuntime, which
 * also owns start / stop / finalize) and so does everything below the "thread" line of the
 * private struct; the vfuncs marshal their arguments there with in_thread (). Properties are
 * under priv->lock; start () takes a snapshot of them. Signals are emitted from the thread,
 * outside libsoup callbacks (rt.defer () puts them on an idle).
 */
#include "httpclientsignaller.h"

#include "gstptr.h"
#include "httputil.h"
#include "iceservers.h"
#include "problem.h"
#include "randomid.h"
#include "sdpfrag.h"
#include "sdpjson.h"
#include "sdputil.h"
#include "signallerruntime.h"

#include <libsoup/soup.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

GST_DEBUG_CATEGORY_STATIC (gst_voice_http_client_signaller_debug);
#define GST_CAT_DEFAULT gst_voice_http_client_signaller_debug

namespace {

constexpr GstVoiceHttpProtocol kDefaultProtocol = GST_VOICE_HTTP_PROTOCOL_WHIP;
constexpr guint kDefaultGatherTimeout = 1000;
constexpr guint kDefaultTimeout = 10000;
constexpr guint kMaxRedirects = 5;
constexpr guint kTrickleBatchMs = 20;
constexpr guint kDeleteTimeoutMs = 2000;
constexpr guint kStopDeleteTimeoutMs = 1000;
constexpr guint kOptionsTimeoutMs = 2000;
constexpr guint kStopDrainMs = 500;
constexpr gsize kMaxResponseBody = 256 * 1024;   /* an answer is a few KiB */
constexpr gsize kReadBlock = 16 * 1024;

constexpr const char *kSdpType = "application/sdp";
constexpr const char *kJsonType = "application/json";
constexpr const char *kSdpFragType = "application/trickle-ice-sdpfrag";

enum class Phase { IDLE, REQUESTED, POSTING, ACTIVE, ENDED };

struct Settings {
  std::string url, auth_token;
  GstVoiceHttpProtocol protocol = kDefaultProtocol;
  guint gather_timeout = kDefaultGatherTimeout, timeout = kDefaultTimeout;
  bool use_link_ice_servers = false;
};

/* What came back for one request (after redirects). */
struct Reply {
  std::string method, url;           /* the URL that answered */
  std::string failure;               /* no HTTP response: why */
  guint status = 0;
  std::string reason, content_type, body;
  vc::GstPtr<SoupMessage> msg;

  bool ok () const { return failure.empty () && SOUP_STATUS_IS_SUCCESSFUL (status); }

  /* "POST http://…/call: HTTP 422 Unprocessable Content: the offer has no audio …" */
  std::string describe () const
  {
    if (!failure.empty ())
      return method + " " + url + " failed, no HTTP status: " + failure;
    std::string s = method + " " + url + ": HTTP " + std::to_string (status) + " " +
        (reason.empty () ? vc::problem::reason_phrase (status) : reason);
    std::string text = vc::problem::describe (content_type.c_str (), body.data (), body.size ());
    return text.empty () ? s : s + ": " + text;
  }
};

struct Call {
  GstVoiceHttpClientSignaller *self = nullptr;
  std::string method, url, content_type, if_match;
  vc::GstPtr<GBytes> body;
  guint redirects = 0;
  guint timeout_ms = kDefaultTimeout;
  guint timer = 0;
  bool timed_out = false;
  vc::GstPtr<GCancellable> cancellable;
  vc::GstPtr<SoupMessage> msg;
  vc::GstPtr<GInputStream> in;         /* the response body, read up to kMaxResponseBody */
  std::string received;
  std::function<void (Reply &)> done;
};

} // namespace

struct GstVoiceHttpClientSignallerPrivate {
  std::mutex lock;
  Settings props;
  std::vector<std::string> ice_servers;        /* webrtcbin form */
  vc::SignallerRuntime rt {"voicecall-http"};  /* the thread, running (), defer () */

  /* ---- thread ---- */
  vc::GstPtr<SoupSession> session;
  Settings s;                                  /* as of start () */
  std::string id;
  Phase phase = Phase::IDLE;
  vc::GUnique<GstWebRTCSessionDescription> offer;
  std::vector<vc::sdp::Candidate> candidates;  /* local, not yet sent */
  bool gathered = false, eoc_sent = false;
  guint gather_timer = 0, flush_timer = 0;
  std::string resource, etag;                  /* WHIP session URL (Location) and ETag */
  bool trickle = true, patching = false;
  std::set<Call *> calls;                      /* in flight */
};

struct _GstVoiceHttpClientSignaller {
  GObject parent;
  GstVoiceHttpClientSignallerPrivate *priv;
};

enum {
  PROP_0,
  PROP_URL,
  PROP_PROTOCOL,
  PROP_AUTH_TOKEN,
  PROP_GATHER_TIMEOUT,
  PROP_TIMEOUT,
  PROP_USE_LINK_ICE_SERVERS,
  PROP_ICE_SERVERS,
};

GType
gst_voice_http_protocol_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_VOICE_HTTP_PROTOCOL_WHIP, "WHIP (RFC 9725): application/sdp, trickle by PATCH",
        "whip"},
    {GST_VOICE_HTTP_PROTOCOL_JSON, "aiortc JSON: {\"sdp\",\"type\"} with complete SDP",
        "json"},
    {0, nullptr, nullptr},
  };
  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstVoiceHttpProtocol", values));
  return type;
}

static void gst_voice_http_client_signaller_iface_init (GstVoiceSignallerInterface *iface);

G_DEFINE_TYPE_WITH_CODE (GstVoiceHttpClientSignaller, gst_voice_http_client_signaller,
    G_TYPE_OBJECT,
    G_IMPLEMENT_INTERFACE (GST_TYPE_VOICE_SIGNALLER, gst_voice_http_client_signaller_iface_init)
    GST_DEBUG_CATEGORY_INIT (gst_voice_http_client_signaller_debug, "voicehttpclient", 0,
        "voicecall HTTP (WHIP / JSON) client signaller"))

using Self = GstVoiceHttpClientSignaller;

/* ------------------------------------------------------------------------------------------
 * HTTP requests (in the thread)
 * ---------------------------------------------------------------------------------------- */

static void send_call (std::unique_ptr<Call> call);

static std::string
failure_of (const Call *call, const GError *err)
{
  if (call->timed_out)
    return "no response within " + std::to_string (call->timeout_ms) + " ms";
  return err ? err->message : "unknown error";
}

/* The request is over: with the whole body, or with a failure (no HTTP response). */
static void
finish_call (std::unique_ptr<Call> call, const std::string &failure)
{
  auto *priv = call->self->priv;
  priv->calls.erase (call.get ());
  priv->rt.cancel (call->timer);
  call->timer = 0;
  if (call->in) {
    /* Closing skips what is left of the body, blocking: cancelled, it drops the connection
     * instead (a body over the limit, a failure). At the end of the body, nothing is left. */
    if (!failure.empty ())
      g_cancellable_cancel (call->cancellable.get ());
    g_input_stream_close (call->in.get (), call->cancellable.get (), nullptr);
    call->in.reset ();
  }

  Reply r;
  r.method = call->method;
  r.url = call->url;
  r.msg = call->msg;
  if (!failure.empty ()) {
    r.failure = failure;
    call->done (r);
    return;
  }
  r.status = soup_message_get_status (call->msg.get ());
  const char *reason = soup_message_get_reason_phrase (call->msg.get ());
  r.reason = reason ? reason : "";
  SoupMessageHeaders *h = soup_message_get_response_headers (call->msg.get ());
  const char *ct = soup_message_headers_get_content_type (h, nullptr);
  r.content_type = ct ? ct : "";
  r.body = std::move (call->received);

  if (r.status == SOUP_STATUS_TEMPORARY_REDIRECT || r.status == SOUP_STATUS_PERMANENT_REDIRECT) {
    const char *location = soup_message_headers_get_one (h, "Location");
    std::string next = location ? vc::http::resolve (call->url, location) : "";
    if (next.empty ()) {
      r.failure = "HTTP " + std::to_string (r.status) + " redirect without a usable Location";
    } else if (call->redirects >= kMaxRedirects) {
      r.failure = "more than " + std::to_string (kMaxRedirects) + " redirects";
    } else {
      GST_DEBUG_OBJECT (call->self, "%s %s: %u redirect to %s", call->method.c_str (),
          call->url.c_str (), r.status, next.c_str ());
      call->url = next;
      call->redirects++;
      call->received.clear ();
      send_call (std::move (call));
      return;
    }
  }
  call->done (r);
}

static void read_more (std::unique_ptr<Call> call);

static void
on_read (GObject *source, GAsyncResult *result, gpointer data)
{
  std::unique_ptr<Call> call (static_cast<Call *> (data));
  GError *err = nullptr;
  GBytes *bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &err);
  if (!bytes) {
    std::string failure = failure_of (call.get (), err);
    g_clear_error (&err);
    finish_call (std::move (call), failure);
    return;
  }
  gsize n = g_bytes_get_size (bytes);
  call->received.append (static_cast<const char *> (g_bytes_get_data (bytes, nullptr)), n);
  g_bytes_unref (bytes);
  if (n == 0) {
    finish_call (std::move (call), "");
  } else if (call->received.size () > kMaxResponseBody) {
    finish_call (std::move (call), "HTTP " +
        std::to_string (soup_message_get_status (call->msg.get ())) + " with a body larger "
        "than " + std::to_string (kMaxResponseBody) + " bytes (not read further)");
  } else {
    read_more (std::move (call));
  }
}

static void
read_more (std::unique_ptr<Call> call)
{
  GInputStream *in = call->in.get ();
  GCancellable *cancellable = call->cancellable.get ();
  g_input_stream_read_bytes_async (in, kReadBlock, G_PRIORITY_DEFAULT, cancellable, on_read,
      call.release ());
}

static void
on_sent (GObject *source, GAsyncResult *result, gpointer data)
{
  std::unique_ptr<Call> call (static_cast<Call *> (data));
  GError *err = nullptr;
  GInputStream *in = soup_session_send_finish (SOUP_SESSION (source), result, &err);
  if (!in) {
    std::string failure = failure_of (call.get (), err);
    g_clear_error (&err);
    finish_call (std::move (call), failure);
    return;
  }
  call->in = vc::adopt (in);
  read_more (std::move (call));
}

/* Sends call->method to call->url with the token and body; call->done gets the reply (also
 * when cancelled: then with a failure). */
static void
send_call (std::unique_ptr<Call> call)
{
  Self *self = call->self;
  auto *priv = self->priv;
  GError *err = nullptr;
  GUri *uri = g_uri_parse (call->url.c_str (), static_cast<GUriFlags> (SOUP_HTTP_URI_FLAGS), &err);
  if (!uri) {
    Reply r;
    r.method = call->method;
    r.url = call->url;
    r.failure = std::string ("not a valid URL: ") + err->message;
    g_error_free (err);
    call->done (r);
    return;
  }
  call->msg = vc::adopt (soup_message_new_from_uri (call->method.c_str (), uri));
  g_uri_unref (uri);
  SoupMessage *msg = call->msg.get ();
  soup_message_add_flags (msg, SOUP_MESSAGE_NO_REDIRECT);
  SoupMessageHeaders *h = soup_message_get_request_headers (msg);
  if (!priv->s.auth_token.empty ())
    soup_message_headers_replace (h, "Authorization",
        ("Bearer " + priv->s.auth_token).c_str ());
  if (!call->if_match.empty ())
    soup_message_headers_replace (h, "If-Match", call->if_match.c_str ());
  if (call->body)
    soup_message_set_request_body_from_bytes (msg, call->content_type.c_str (),
        call->body.get ());

  call->cancellable = vc::adopt (g_cancellable_new ());
  Call *raw = call.get ();
  raw->timer = priv->rt.timeout (raw->timeout_ms, [raw] {
    raw->timer = 0;
    raw->timed_out = true;
    g_cancellable_cancel (raw->cancellable.get ());
  });
  priv->calls.insert (raw);
  GST_DEBUG_OBJECT (self, "%s %s", raw->method.c_str (), raw->url.c_str ());
  soup_session_send_async (priv->session.get (), msg, G_PRIORITY_DEFAULT,
      raw->cancellable.get (), on_sent, call.release ());
}

static void
request (Self *self, const char *method, const std::string &url, const char *content_type,
    const std::string &body, const std::string &if_match, guint timeout_ms,
    std::function<void (Reply &)> done)
{
  auto call = std::make_unique<Call> ();
  call->self = self;
  call->method = method;
  call->url = url;
  call->if_match = if_match;
  call->timeout_ms = timeout_ms;
  call->done = std::move (done);
  if (content_type) {
    call->content_type = content_type;
    call->body = vc::adopt (g_bytes_new (body.data (), body.size ()));
  }
  send_call (std::move (call));
}

static void
cancel_calls (Self *self)
{
  for (Call *c : self->priv->calls)
    g_cancellable_cancel (c->cancellable.get ());
}

/* ------------------------------------------------------------------------------------------
 * The session
 * ---------------------------------------------------------------------------------------- */

static void
fail (Self *self, const std::string &message)
{
  auto *priv = self->priv;
  GST_WARNING_OBJECT (self, "%s", message.c_str ());
  priv->phase = Phase::ENDED;
  priv->rt.cancel (priv->gather_timer);
  priv->rt.cancel (priv->flush_timer);
  priv->gather_timer = priv->flush_timer = 0;
  self->priv->rt.defer ([self, message] {
    gst_voice_signaller_emit_error (GST_VOICE_SIGNALLER (self), nullptr, message.c_str ());
  });
}

static void
update_ice_servers (Self *self, const Reply &r)
{
  SoupMessageHeaders *h = soup_message_get_response_headers (r.msg.get ());
  const char *links = soup_message_headers_get_list (h, "Link");
  if (!links)
    return;
  std::vector<std::string> servers;
  for (const auto &s : vc::iceserver::from_link_header (links))
    servers.push_back (vc::iceserver::to_webrtcbin (s));
  if (servers.empty ())
    return;
  {
    std::lock_guard<std::mutex> lk (self->priv->lock);
    if (self->priv->ice_servers == servers)
      return;
    self->priv->ice_servers = servers;
  }
  GST_INFO_OBJECT (self, "%zu ICE server(s) from the Link headers of %s %s", servers.size (),
      r.method.c_str (), r.url.c_str ());
  g_object_notify (G_OBJECT (self), "ice-servers");
}

static void flush (Self *self);

static void
schedule_flush (Self *self)
{
  auto *priv = self->priv;
  if (priv->flush_timer)
    return;
  priv->flush_timer = priv->rt.timeout (kTrickleBatchMs, [self] {
    self->priv->flush_timer = 0;
    flush (self);
  });
}

/* Sends the candidates gathered since the last PATCH (and end-of-candidates once gathering is
 * done), one PATCH at a time. */
static void
flush (Self *self)
{
  auto *priv = self->priv;
  if (!priv->rt.running () || priv->phase != Phase::ACTIVE || !priv->trickle ||
      priv->resource.empty () || priv->patching)
    return;
  priv->rt.cancel (priv->flush_timer);
  priv->flush_timer = 0;
  bool eoc = priv->gathered && !priv->eoc_sent;
  if (priv->candidates.empty () && !eoc)
    return;

  const GstSDPMessage *offer = priv->offer->sdp;
  std::map<guint, vc::sdpfrag::Media> media;
  for (const auto &c : priv->candidates)
    media[c.mline].candidates.push_back (c.candidate);
  if (eoc && media.empty ())
    media[std::max (0, vc::sdp::first_audio_media (offer))];
  vc::sdpfrag::Frag frag;
  vc::sdp::ice_credentials (offer, media.begin ()->first, &frag.ufrag, &frag.pwd);
  for (auto &[mline, m] : media) {
    m.mid = vc::sdp::media_mid (offer, mline);
    m.end_of_candidates = eoc;
    frag.media.push_back (m);
  }
  GST_DEBUG_OBJECT (self, "trickling %zu candidate(s)%s", priv->candidates.size (),
      eoc ? " + end-of-candidates" : "");
  priv->candidates.clear ();
  priv->eoc_sent = priv->eoc_sent || eoc;
  priv->patching = true;

  request (self, "PATCH", priv->resource, kSdpFragType, vc::sdpfrag::build (frag), priv->etag,
      priv->s.timeout, [self] (Reply &r) {
        auto *priv = self->priv;
        priv->patching = false;
        if (!priv->rt.running () || priv->phase != Phase::ACTIVE)
          return;
        if (!r.failure.empty ()) {
          GST_WARNING_OBJECT (self, "%s", r.describe ().c_str ());
        } else if (r.status == SOUP_STATUS_METHOD_NOT_ALLOWED ||
            r.status == SOUP_STATUS_NOT_IMPLEMENTED ||
            r.status == SOUP_STATUS_UNPROCESSABLE_ENTITY) {
          GST_INFO_OBJECT (self, "the server takes no trickled candidates (HTTP %u): ICE goes "
              "on with the candidates already exchanged", r.status);
          priv->trickle = false;
          priv->candidates.clear ();
          return;
        } else if (!r.ok ()) {
          GST_WARNING_OBJECT (self, "%s", r.describe ().c_str ());
        }
        flush (self);
      });
}

static void
on_answer (Self *self, Reply &r)
{
  auto *priv = self->priv;
  if (!priv->rt.running () || priv->phase != Phase::POSTING)
    return;
  if (!r.ok ()) {
    fail (self, r.describe ());
    return;
  }
  update_ice_servers (self, r);

  bool whip = priv->s.protocol == GST_VOICE_HTTP_PROTOCOL_WHIP;
  const char *expected = whip ? kSdpType : kJsonType;
  std::string head = r.method + " " + r.url + ": HTTP " + std::to_string (r.status) + " " +
      r.reason;
  if (g_ascii_strcasecmp (r.content_type.c_str (), expected) != 0) {
    fail (self, head + ", but the body is " +
        (r.content_type.empty () ? std::string ("untyped") : r.content_type) +
        ", not " + expected);
    return;
  }
  std::string text, error;
  if (whip) {
    text = r.body;
  } else {
    std::string type;
    if (!vc::sdpjson::parse (r.body.data (), r.body.size (), &type, &text, &error)) {
      fail (self, head + ", but " + error);
      return;
    }
    if (type != "answer") {
      fail (self, head + ", but the JSON \"type\" is \"" + type + "\", not \"answer\"");
      return;
    }
  }
  if (text.find ('\0') != std::string::npos)
    text.resize (text.find ('\0'));
  vc::GUnique<GstSDPMessage> sdp = vc::sdp::parse (text.c_str (), &error);
  if (!sdp) {
    fail (self, head + ", but the answer is not valid SDP: " + error);
    return;
  }

  SoupMessageHeaders *h = soup_message_get_response_headers (r.msg.get ());
  const char *loc = soup_message_headers_get_one (h, "Location");
  const char *etag = soup_message_headers_get_one (h, "ETag");
  priv->resource = loc ? vc::http::resolve (r.url, loc) : "";
  priv->etag = etag ? etag : "";
  if (whip && priv->resource.empty ())
    GST_WARNING_OBJECT (self, "%s without a Location: no trickle ICE, no DELETE at the end",
        head.c_str ());
  priv->phase = Phase::ACTIVE;
  GST_INFO_OBJECT (self, "answered by %s (session %s)", r.url.c_str (),
      priv->resource.empty () ? "without URL" : priv->resource.c_str ());

  std::shared_ptr<GstWebRTCSessionDescription> answer (
      gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_ANSWER, sdp.release ()),
      gst_webrtc_session_description_free);
  std::string id = priv->id;
  self->priv->rt.defer ([self, id, answer] {
    gst_voice_signaller_emit_session_description (GST_VOICE_SIGNALLER (self), id.c_str (),
        answer.get ());
  });
  if (whip)
    flush (self);
}

/* POSTs the offer with the candidates gathered so far folded in. */
static void
post_offer (Self *self)
{
  auto *priv = self->priv;
  priv->rt.cancel (priv->gather_timer);
  priv->gather_timer = 0;
  if (!priv->rt.running () || priv->phase != Phase::REQUESTED || !priv->offer)
    return;
  bool whip = priv->s.protocol == GST_VOICE_HTTP_PROTOCOL_WHIP;
  /* JSON has no later trickle: what is not in the offer never gets there. */
  bool eoc = priv->gathered || !whip;
  vc::GUnique<GstWebRTCSessionDescription> folded (
      vc::sdp::with_candidates (priv->offer.get (), priv->candidates, eoc));
  GST_DEBUG_OBJECT (self, "offering with %zu candidate(s)%s", priv->candidates.size (),
      eoc ? " + end-of-candidates" : "");
  priv->candidates.clear ();
  priv->eoc_sent = eoc;
  priv->phase = Phase::POSTING;
  std::string sdp = vc::sdp::to_text (folded.get ());
  request (self, "POST", priv->s.url, whip ? kSdpType : kJsonType,
      whip ? sdp : vc::sdpjson::build ("offer", sdp), "", priv->s.timeout,
      [self] (Reply &r) { on_answer (self, r); });
}

/* Best-effort DELETE of the WHIP session; done (if any) runs when it is over. */
static void
delete_resource (Self *self, guint timeout_ms, std::function<void ()> done = nullptr)
{
  auto *priv = self->priv;
  std::string url = priv->resource;
  priv->resource.clear ();
  request (self, "DELETE", url, nullptr, "", "", timeout_ms, [self, done] (Reply &r) {
    if (r.ok () || r.status == SOUP_STATUS_NOT_FOUND)
      GST_DEBUG_OBJECT (self, "%s: %u", r.url.c_str (), r.status);
    else
      GST_INFO_OBJECT (self, "%s", r.describe ().c_str ());
    if (done)
      done ();
  });
}

static void
emit_session_requested (Self *self)
{
  auto *priv = self->priv;
  std::string id = priv->id, url = priv->s.url;
  self->priv->rt.defer ([self, id, url] {
    gst_voice_signaller_emit_session_requested (GST_VOICE_SIGNALLER (self), id.c_str (),
        url.c_str (), nullptr);
  });
}

/* ------------------------------------------------------------------------------------------
 * GstVoiceSignaller
 * ---------------------------------------------------------------------------------------- */

static gboolean
client_start (GstVoiceSignaller *signaller, GError **error)
{
  auto *self = GST_VOICE_HTTP_CLIENT_SIGNALLER (signaller);
  auto *priv = self->priv;
  Settings s;
  {
    std::lock_guard<std::mutex> lk (priv->lock);
    s = priv->props;
  }
  GUri *uri = g_uri_parse (s.url.c_str (), static_cast<GUriFlags> (SOUP_HTTP_URI_FLAGS), nullptr);
  bool http = uri && (g_strcmp0 (g_uri_get_scheme (uri), "http") == 0 ||
                         g_strcmp0 (g_uri_get_scheme (uri), "https") == 0);
  if (uri)
    g_uri_unref (uri);
  if (!http) {
    g_set_error (error, GST_VOICE_SIGNALLER_ERROR, 0,
        "url \"%s\" is not an http:// or https:// URL", s.url.c_str ());
    return FALSE;
  }

  priv->rt.start ([self, priv, s] {
    priv->session = vc::adopt (soup_session_new_with_options ("user-agent", "gst-voicecall",
        nullptr));
    priv->s = s;
    priv->id = vc::random_hex (16);
    priv->phase = Phase::REQUESTED;
    priv->offer.reset ();
    priv->candidates.clear ();
    priv->gathered = priv->eoc_sent = priv->patching = false;
    priv->trickle = true;
    priv->resource.clear ();
    priv->etag.clear ();
    GST_INFO_OBJECT (self, "session %s: calling %s (%s)", priv->id.c_str (), s.url.c_str (),
        s.protocol == GST_VOICE_HTTP_PROTOCOL_WHIP ? "WHIP" : "JSON");

    if (!s.use_link_ice_servers) {
      emit_session_requested (self);
      return true;
    }
    /* Ask for the ICE servers first, so that the offer can use them. */
    request (self, "OPTIONS", s.url, nullptr, "", "", std::min (s.timeout, kOptionsTimeoutMs),
        [self] (Reply &r) {
          if (!self->priv->rt.running () || self->priv->phase != Phase::REQUESTED)
            return;
          if (r.ok ())
            update_ice_servers (self, r);
          else
            GST_INFO_OBJECT (self, "no ICE servers from %s", r.describe ().c_str ());
          emit_session_requested (self);
        });
    return true;
  });
  return TRUE;
}

static void
client_stop (GstVoiceSignaller *signaller)
{
  auto *self = GST_VOICE_HTTP_CLIENT_SIGNALLER (signaller);
  auto *priv = self->priv;
  priv->rt.stop ([self, priv] {
    /* running () is false: replies to the calls cancelled here are dropped. */
    priv->rt.cancel (priv->gather_timer);
    priv->rt.cancel (priv->flush_timer);
    priv->gather_timer = priv->flush_timer = 0;
    cancel_calls (self);
    bool deleting = priv->phase == Phase::ACTIVE && !priv->resource.empty ();
    priv->phase = Phase::ENDED;
    if (deleting) {
      bool done = false;
      delete_resource (self, kStopDeleteTimeoutMs, [&done] { done = true; });
      priv->rt.drain ([&done] { return done; }, kStopDeleteTimeoutMs + 100);
    }
    cancel_calls (self);
    priv->rt.drain ([priv] { return priv->calls.empty (); }, kStopDrainMs);
    priv->session.reset ();
    GST_INFO_OBJECT (self, "stopped");
  });
}

/* A vfunc's work, in the thread if the client runs then. */
static void
in_thread (Self *self, std::function<void ()> fn)
{
  if (!self->priv->rt.call (std::move (fn)))
    GST_WARNING_OBJECT (self, "not started");
}

static void
client_send_sdp (GstVoiceSignaller *signaller, const gchar *session_id,
    const GstWebRTCSessionDescription *sdp)
{
  auto *self = GST_VOICE_HTTP_CLIENT_SIGNALLER (signaller);
  std::shared_ptr<GstWebRTCSessionDescription> offer (gst_webrtc_session_description_copy (sdp),
      gst_webrtc_session_description_free);
  std::string id (session_id);
  in_thread (self, [self, id, offer] {
    auto *priv = self->priv;
    if (id != priv->id)
      return;
    if (priv->phase != Phase::REQUESTED || priv->offer) {
      GST_WARNING_OBJECT (self, "session %s: an offer was sent already", id.c_str ());
      return;
    }
    if (offer->type != GST_WEBRTC_SDP_TYPE_OFFER) {
      GST_WARNING_OBJECT (self, "session %s: send_sdp needs an offer, got a %s", id.c_str (),
          gst_webrtc_sdp_type_to_string (offer->type));
      return;
    }
    priv->offer.reset (gst_webrtc_session_description_copy (offer.get ()));
    if (priv->s.protocol == GST_VOICE_HTTP_PROTOCOL_WHIP || priv->gathered) {
      post_offer (self);
      return;
    }
    priv->gather_timer = priv->rt.timeout (priv->s.gather_timeout, [self] {
      self->priv->gather_timer = 0;
      GST_INFO_OBJECT (self, "gather-timeout: offering with %zu candidate(s)",
          self->priv->candidates.size ());
      post_offer (self);
    });
  });
}

static void
client_add_ice (GstVoiceSignaller *signaller, const gchar *session_id, guint mline_index,
    const gchar *candidate)
{
  auto *self = GST_VOICE_HTTP_CLIENT_SIGNALLER (signaller);
  std::string id (session_id);
  bool end = candidate == nullptr;
  std::string cand (candidate ? candidate : "");
  in_thread (self, [self, id, mline_index, end, cand] {
    auto *priv = self->priv;
    if (id != priv->id || priv->phase == Phase::ENDED)
      return;
    if (end)
      priv->gathered = true;
    else
      priv->candidates.push_back ({mline_index, cand});
    switch (priv->phase) {
      case Phase::REQUESTED:
        if (end && priv->offer)
          post_offer (self);
        break;
      case Phase::ACTIVE:
        if (end)
          flush (self);
        else
          schedule_flush (self);
        break;
      default:
        break;
    }
  });
}

static void
client_end_session (GstVoiceSignaller *signaller, const gchar *session_id, const gchar *reason)
{
  auto *self = GST_VOICE_HTTP_CLIENT_SIGNALLER (signaller);
  std::string id (session_id);
  in_thread (self, [self, id] {
    auto *priv = self->priv;
    if (id != priv->id || priv->phase == Phase::ENDED)
      return;
    GST_INFO_OBJECT (self, "session %s: hanging up", id.c_str ());
    priv->rt.cancel (priv->gather_timer);
    priv->rt.cancel (priv->flush_timer);
    priv->gather_timer = priv->flush_timer = 0;
    cancel_calls (self);
    bool deleting = priv->phase == Phase::ACTIVE && !priv->resource.empty ();
    priv->phase = Phase::ENDED;
    if (deleting)
      delete_resource (self, std::min (priv->s.timeout, kDeleteTimeoutMs));
  });
}

static void
gst_voice_http_client_signaller_iface_init (GstVoiceSignallerInterface *iface)
{
  iface->start = client_start;
  iface->stop = client_stop;
  iface->send_sdp = client_send_sdp;
  iface->add_ice = client_add_ice;
  iface->end_session = client_end_session;
}

/* ------------------------------------------------------------------------------------------
 * GObject
 * ---------------------------------------------------------------------------------------- */

static void
gst_voice_http_client_signaller_set_property (GObject *object, guint prop_id,
    const GValue *value, GParamSpec *pspec)
{
  auto *self = GST_VOICE_HTTP_CLIENT_SIGNALLER (object);
  std::lock_guard<std::mutex> lk (self->priv->lock);
  Settings &p = self->priv->props;
  switch (prop_id) {
    case PROP_URL:
      p.url = g_value_get_string (value) ? g_value_get_string (value) : "";
      break;
    case PROP_PROTOCOL:
      p.protocol = static_cast<GstVoiceHttpProtocol> (g_value_get_enum (value));
      break;
    case PROP_AUTH_TOKEN:
      p.auth_token = g_value_get_string (value) ? g_value_get_string (value) : "";
      break;
    case PROP_GATHER_TIMEOUT:
      p.gather_timeout = g_value_get_uint (value);
      break;
    case PROP_TIMEOUT:
      p.timeout = g_value_get_uint (value);
      break;
    case PROP_USE_LINK_ICE_SERVERS:
      p.use_link_ice_servers = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_voice_http_client_signaller_get_property (GObject *object, guint prop_id, GValue *value,
    GParamSpec *pspec)
{
  auto *self = GST_VOICE_HTTP_CLIENT_SIGNALLER (object);
  std::lock_guard<std::mutex> lk (self->priv->lock);
  const Settings &p = self->priv->props;
  switch (prop_id) {
    case PROP_URL:
      g_value_set_string (value, p.url.empty () ? nullptr : p.url.c_str ());
      break;
    case PROP_PROTOCOL:
      g_value_set_enum (value, p.protocol);
      break;
    case PROP_AUTH_TOKEN:
      g_value_set_string (value, p.auth_token.empty () ? nullptr : p.auth_token.c_str ());
      break;
    case PROP_GATHER_TIMEOUT:
      g_value_set_uint (value, p.gather_timeout);
      break;
    case PROP_TIMEOUT:
      g_value_set_uint (value, p.timeout);
      break;
    case PROP_USE_LINK_ICE_SERVERS:
      g_value_set_boolean (value, p.use_link_ice_servers);
      break;
    case PROP_ICE_SERVERS: {
      GStrvBuilder *b = g_strv_builder_new ();
      for (const std::string &u : self->priv->ice_servers)
        g_strv_builder_add (b, u.c_str ());
      g_value_take_boxed (value, g_strv_builder_end (b));
      g_strv_builder_unref (b);
      break;
    }
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_voice_http_client_signaller_finalize (GObject *object)
{
  auto *self = GST_VOICE_HTTP_CLIENT_SIGNALLER (object);
  self->priv->rt.finalize (object, [self] { client_stop (GST_VOICE_SIGNALLER (self)); });
  delete self->priv;
  G_OBJECT_CLASS (gst_voice_http_client_signaller_parent_class)->finalize (object);
}

static void
gst_voice_http_client_signaller_init (GstVoiceHttpClientSignaller *self)
{
  self->priv = new GstVoiceHttpClientSignallerPrivate ();
}

static void
gst_voice_http_client_signaller_class_init (GstVoiceHttpClientSignallerClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  gobject_class->set_property = gst_voice_http_client_signaller_set_property;
  gobject_class->get_property = gst_voice_http_client_signaller_get_property;
  gobject_class->finalize = gst_voice_http_client_signaller_finalize;

  auto rw = static_cast<GParamFlags> (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY);
  auto ro = static_cast<GParamFlags> (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_property (gobject_class, PROP_URL,
      g_param_spec_string ("url", "URL",
          "The endpoint to call: a WHIP endpoint, or aiortc's http://host:port/offer",
          nullptr, rw));
  g_object_class_install_property (gobject_class, PROP_PROTOCOL,
      g_param_spec_enum ("protocol", "Protocol",
          "How the offer is sent: whip (application/sdp, trickle ICE by PATCH) or json "
          "(aiortc's {\"sdp\",\"type\"} with all candidates in the SDP)",
          GST_TYPE_VOICE_HTTP_PROTOCOL, kDefaultProtocol, rw));
  g_object_class_install_property (gobject_class, PROP_AUTH_TOKEN,
      g_param_spec_string ("auth-token", "Auth token",
          "Sent as \"Authorization: Bearer <token>\" with every request (also across "
          "redirects)", nullptr, rw));
  g_object_class_install_property (gobject_class, PROP_GATHER_TIMEOUT,
      g_param_spec_uint ("gather-timeout", "Gather timeout",
          "json: longest wait, in ms, for ICE gathering to complete before the offer is sent "
          "with the candidates gathered so far", 0, 60000, kDefaultGatherTimeout, rw));
  g_object_class_install_property (gobject_class, PROP_TIMEOUT,
      g_param_spec_uint ("timeout", "Timeout",
          "Longest wait, in ms, for the server to answer one request", 100, 600000,
          kDefaultTimeout, rw));
  g_object_class_install_property (gobject_class, PROP_USE_LINK_ICE_SERVERS,
      g_param_spec_boolean ("use-link-ice-servers", "Use Link ICE servers",
          "Before the offer, ask the endpoint (OPTIONS) for its STUN/TURN servers "
          "(Link: rel=\"ice-server\") and publish them in ice-servers for the element to use",
          FALSE, rw));
  g_object_class_install_property (gobject_class, PROP_ICE_SERVERS,
      g_param_spec_boxed ("ice-servers", "ICE servers",
          "STUN/TURN servers the endpoint advertised in Link headers, in webrtcbin's form "
          "(stun://host:port, turn://user:pass@host:port?transport=udp)", G_TYPE_STRV, ro));

  gst_type_mark_as_plugin_api (GST_TYPE_VOICE_HTTP_PROTOCOL, static_cast<GstPluginAPIFlags> (0));
}

GstVoiceHttpClientSignaller *
gst_voice_http_client_signaller_new (void)
{
  return static_cast<GstVoiceHttpClientSignaller *> (
      g_object_new (GST_TYPE_VOICE_HTTP_CLIENT_SIGNALLER, nullptr));
}
