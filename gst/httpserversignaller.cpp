/* gst-voicecall: the HTTP server signaller — WHIP (RFC 9725) and aiortc-JSON endpoint
 * (see httpserversignaller.h).
 *
 * Threading: everything below the "thread" line of the private struct is touched only in
 * the thread of priv->rt (vc::SignallerRuntime, which also owns start / stop / finalize):
 * the SoupServer callbacks run there, and the vfuncs marshal their arguments into it with
 * in_thread (). Properties are under priv->lock and copied out per request. Signals are
 * emitted from the thread, never from inside a SoupServer callback (rt.defer () puts them on
 * an idle), so a handler may call back into the signaller — even stop () — without pulling
 * the request it came from from under us.
 */
#include "httpserversignaller.h"

#include "gstptr.h"
#include "httputil.h"
#include "iceservers.h"
#include "problem.h"
#include "randomid.h"
#include "sdpfrag.h"
#include "sdpjson.h"
#include "sdputil.h"
#include "signallerruntime.h"

#include <gio/gnetworking.h>
#include <libsoup/soup.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

GST_DEBUG_CATEGORY_STATIC (gst_voice_http_server_signaller_debug);
#define GST_CAT_DEFAULT gst_voice_http_server_signaller_debug

namespace {

constexpr const char *kDefaultListen = "127.0.0.1:8080";
constexpr const char *kDefaultPath = "/call";
constexpr guint kDefaultMaxSessions = 10;
constexpr guint kDefaultMaxBody = 64 * 1024;
constexpr guint kDefaultGatherTimeout = 1000;
constexpr guint kDefaultRequestTimeout = 10000;
constexpr guint kDefaultMaxConnections = 256;
constexpr guint kDefaultMaxHeaderSize = 16 * 1024;
constexpr guint kDefaultListenBacklog = 1024;
constexpr guint kRetryAfterSeconds = 5;
constexpr guint kStopDrainMs = 1000;
constexpr guint kLingerMs = 1000;   /* a refused connection's graceful close, at most */
constexpr gsize kMaxTrickled = 100; /* remote candidates trickled per session (and restart) */
constexpr gsize kMaxWatchers = 4;   /* held GETs (end-of-call watchers) per session */

constexpr const char *kPageResource = "/org/gstvoicecall/index.html";
constexpr const char *kAllowMethods = "GET, POST, PATCH, DELETE, OPTIONS";
constexpr const char *kAllowHeaders = "Authorization, Content-Type, If-Match";
constexpr const char *kExposeHeaders = "Location, Link, ETag";
constexpr const char *kAcceptPost = "application/sdp, application/json";
constexpr const char *kSdpType = "application/sdp";
constexpr const char *kJsonType = "application/json";
constexpr const char *kSdpFragType = "application/trickle-ice-sdpfrag";
constexpr const char *kBodySize = "vc-body-size";

enum class Protocol { WHIP, JSON };

struct Session {
  std::string id;
  std::string peer;
  Protocol protocol = Protocol::WHIP;
  std::string etag;
  vc::GUnique<GstSDPMessage> offer;       /* the remote offer: mid ↔ m-line, ICE restarts */
  std::string remote_ufrag, remote_pwd;
  gsize trickled = 0;                     /* remote candidates taken by PATCH since the offer */

  /* The paused request that the element's answer completes: the POST, or an ICE-restart
   * PATCH. Null once answered. */
  vc::GstPtr<SoupServerMessage> pending;
  bool restarting = false;
  vc::GUnique<GstSDPMessage> restart_offer;
  vc::GUnique<GstWebRTCSessionDescription> answer;   /* in: waiting for candidates */
  std::vector<vc::sdp::Candidate> candidates;        /* local, not yet sent */
  bool gathered = false;
  guint gather_timer = 0;
  GSource *hangup_watch = nullptr;                   /* on the held request's socket */
  /* GET <path>/<id>: held until the session ends, then answered (how a browser learns of
   * a hang-up that webrtcbin 1.22 cannot tell it on the media path: no DTLS close_notify). */
  std::vector<vc::GstPtr<SoupServerMessage>> watchers;

  Session () = default;
  Session (const Session &) = delete;
  Session &operator= (const Session &) = delete;
  ~Session () { unwatch (); }
  void unwatch ()
  {
    if (hangup_watch) {
      g_source_destroy (hangup_watch);
      g_source_unref (hangup_watch);
      hangup_watch = nullptr;
    }
  }
};

/* What a request needs of the properties, copied under the lock. */
struct Settings {
  std::string auth_token;
  guint max_sessions = 0, max_body = 0, gather_timeout = 0;
  guint request_timeout = 0, max_connections = 0, max_header_size = 0;
  std::vector<std::string> ice_servers;
  bool serve_page = false;
};

enum class Route { PAGE, ENDPOINT, SESSION, OTHER };

/* A request in progress. Every response closes its connection (see on_request_started), so
 * this is also the connection: it begins when libsoup accepts the connection (or, on a
 * connection that is reused anyway, at the request's first byte) and ends when libsoup drops
 * the message. Its timer bounds the time to read the request and to write the response; the
 * time a request is held for the element's answer does not count. */
struct Request {
  GstVoiceHttpServerSignaller *self = nullptr;
  SoupServerMessage *msg = nullptr;   /* not owned: a weak reference removes this record */
  guint timer = 0;                    /* request-timeout */
  bool handled = false;               /* read completely, handed to handle_request */
  bool held = false;                  /* waiting for the element (no timer) */
  bool over_limit = false;            /* beyond max-connections: refused */
  gint64 started_us = 0;              /* when the connection came */
  guint refuse_timer = 0;
};

} // namespace

struct GstVoiceHttpServerSignallerPrivate {
  std::mutex lock;
  std::string listen = kDefaultListen;
  std::string path = kDefaultPath;
  std::string auth_token;
  guint max_sessions = kDefaultMaxSessions;
  guint max_body = kDefaultMaxBody;
  guint gather_timeout = kDefaultGatherTimeout;
  guint request_timeout = kDefaultRequestTimeout;
  guint max_connections = kDefaultMaxConnections;
  guint max_header_size = kDefaultMaxHeaderSize;
  guint listen_backlog = kDefaultListenBacklog;
  std::string tls_certificate, tls_key;        /* PEM files: both set → HTTPS */
  std::vector<std::string> ice_servers;
  bool serve_page = false;
  guint port = 0;
  vc::SignallerRuntime rt {"voicecall-httpd"};  /* the thread, running (), defer () */

  /* ---- thread ---- */
  vc::GstPtr<SoupServer> server;
  std::string active_path;                     /* `path` as of start () */
  bool https = false;                          /* as of start (): serving HTTPS */
  std::map<std::string, std::unique_ptr<Session>> sessions;
  std::set<SoupServerMessage *> watched;       /* held messages whose "finished" we follow */
  std::map<SoupServerMessage *, std::unique_ptr<Request>> requests;   /* = open connections */
  std::set<vc::http::GracefulClose *> closing; /* refused connections, closing gracefully */
};

struct _GstVoiceHttpServerSignaller {
  GObject parent;
  GstVoiceHttpServerSignallerPrivate *priv;
};

enum {
  PROP_0,
  PROP_LISTEN,
  PROP_PORT,
  PROP_PATH,
  PROP_AUTH_TOKEN,
  PROP_MAX_SESSIONS,
  PROP_MAX_BODY,
  PROP_GATHER_TIMEOUT,
  PROP_ICE_SERVERS,
  PROP_SERVE_PAGE,
  PROP_REQUEST_TIMEOUT,
  PROP_MAX_CONNECTIONS,
  PROP_MAX_HEADER_SIZE,
  PROP_LISTEN_BACKLOG,
  PROP_TLS_CERTIFICATE,
  PROP_TLS_KEY,
};

enum { SIGNAL_ICE_RESTART, N_SIGNALS };
static guint signals[N_SIGNALS];

static void gst_voice_http_server_signaller_iface_init (GstVoiceSignallerInterface *iface);

G_DEFINE_TYPE_WITH_CODE (GstVoiceHttpServerSignaller, gst_voice_http_server_signaller,
    G_TYPE_OBJECT,
    G_IMPLEMENT_INTERFACE (GST_TYPE_VOICE_SIGNALLER, gst_voice_http_server_signaller_iface_init)
    GST_DEBUG_CATEGORY_INIT (gst_voice_http_server_signaller_debug, "voicehttpserver", 0,
        "voicecall HTTP (WHIP / JSON) server signaller"))

using Self = GstVoiceHttpServerSignaller;

/* ------------------------------------------------------------------------------------------
 * Small helpers
 * ---------------------------------------------------------------------------------------- */

static Settings
settings (Self *self)
{
  auto *priv = self->priv;
  std::lock_guard<std::mutex> lk (priv->lock);
  Settings s;
  s.auth_token = priv->auth_token;
  s.max_sessions = priv->max_sessions;
  s.max_body = priv->max_body;
  s.gather_timeout = priv->gather_timeout;
  s.request_timeout = priv->request_timeout;
  s.max_connections = priv->max_connections;
  s.max_header_size = priv->max_header_size;
  s.ice_servers = priv->ice_servers;
  s.serve_page = priv->serve_page;
  return s;
}

static Session *
find_session (Self *self, const std::string &id)
{
  auto it = self->priv->sessions.find (id);
  return it == self->priv->sessions.end () ? nullptr : it->second.get ();
}

static void request_released (Self *self, SoupServerMessage *msg);
static void respond (SoupServerMessage *msg, guint status, const char *content_type,
    const std::string &body);

/* Answers the session's held GETs: it has ended, and why (when the element said why). */
static void
end_watchers (Self *self, Session *sess, const std::string &reason)
{
  std::string body = "{\"state\":\"ended\"";
  if (!reason.empty ()) {
    vc::GUnique<gchar> escaped (g_strescape (reason.c_str (), nullptr));
    body += std::string (",\"reason\":\"") + escaped.get () + "\"";
  }
  body += "}";
  for (auto &w : sess->watchers) {
    respond (w.get (), SOUP_STATUS_OK, "application/json", body);
    request_released (self, w.get ());
    soup_server_message_unpause (w.get ());
  }
  sess->watchers.clear ();
}

static void
remove_session (Self *self, const std::string &id, const std::string &reason = "")
{
  auto *priv = self->priv;
  auto it = priv->sessions.find (id);
  if (it == priv->sessions.end ())
    return;
  priv->rt.cancel (it->second->gather_timer);
  end_watchers (self, it->second.get (), reason);
  priv->sessions.erase (it);
}

static bool
method_is (SoupServerMessage *msg, const char *method)
{
  return g_strcmp0 (soup_server_message_get_method (msg), method) == 0;
}

static SoupMessageHeaders *
response_headers (SoupServerMessage *msg)
{
  return soup_server_message_get_response_headers (msg);
}

static void
respond (SoupServerMessage *msg, guint status, const char *content_type = nullptr,
    const std::string &body = std::string ())
{
  SoupMessageHeaders *h = response_headers (msg);
  soup_message_headers_replace (h, "Access-Control-Allow-Origin", "*");
  soup_message_headers_replace (h, "Access-Control-Expose-Headers", kExposeHeaders);
  soup_server_message_set_status (msg, status, vc::problem::reason_phrase (status));
  if (content_type)
    soup_server_message_set_response (msg, content_type, SOUP_MEMORY_COPY, body.data (),
        body.size ());
}

static void
respond_problem (SoupServerMessage *msg, guint status, const std::string &detail)
{
  GST_DEBUG ("%s %s → %u: %s", soup_server_message_get_method (msg),
      g_uri_get_path (soup_server_message_get_uri (msg)), status, detail.c_str ());
  respond (msg, status, vc::problem::kContentType, vc::problem::make (status, detail));
}

static void
respond_not_allowed (SoupServerMessage *msg, const char *allow)
{
  soup_message_headers_replace (response_headers (msg), "Allow", allow);
  respond_problem (msg, SOUP_STATUS_METHOD_NOT_ALLOWED,
      std::string (soup_server_message_get_method (msg)) + " is not allowed here; allowed: " +
          allow);
}

static void
add_links (SoupServerMessage *msg, const Settings &s, bool with_credentials)
{
  for (const std::string &url : s.ice_servers) {
    vc::iceserver::Server server;
    std::string error;
    if (vc::iceserver::parse (url.c_str (), &server, &error))
      soup_message_headers_append (response_headers (msg), "Link",
          vc::iceserver::to_link (server, with_credentials).c_str ());
  }
}

static bool
authorized (SoupServerMessage *msg, const Settings &s)
{
  if (s.auth_token.empty ())
    return true;
  const char *auth = soup_message_headers_get_one (
      soup_server_message_get_request_headers (msg), "Authorization");
  return vc::http::bearer_matches (auth, s.auth_token);
}

static void
respond_unauthorized (SoupServerMessage *msg)
{
  bool given = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                   "Authorization") != nullptr;
  soup_message_headers_replace (response_headers (msg), "WWW-Authenticate",
      given ? "Bearer realm=\"voicecall\", error=\"invalid_token\""
            : "Bearer realm=\"voicecall\"");
  respond_problem (msg, SOUP_STATUS_UNAUTHORIZED,
      given ? "the bearer token is not the one this server expects"
            : "this server requires an \"Authorization: Bearer <token>\" header");
}

static Route
route (const char *path, const std::string &endpoint, std::string *id)
{
  std::string p (path ? path : "");
  if (p == "/" || p == "/index.html")
    return Route::PAGE;
  if (p == endpoint || p == "/offer")
    return Route::ENDPOINT;
  std::string prefix = endpoint + "/";
  if (p.compare (0, prefix.size (), prefix) == 0 && p.size () > prefix.size () &&
      p.find ('/', prefix.size ()) == std::string::npos) {
    *id = p.substr (prefix.size ());
    return Route::SESSION;
  }
  return Route::OTHER;
}

/* The request body, or false after answering 413. (A body larger than max-body is refused
 * while it comes in, see on_got_chunk; this catches a max-body lowered meanwhile.) */
static bool
read_body (SoupServerMessage *msg, const Settings &s, std::string *out)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  GBytes *bytes = soup_message_body_flatten (body);
  gsize size = g_bytes_get_size (bytes);
  if (size > s.max_body) {
    g_bytes_unref (bytes);
    respond_problem (msg, 413, "the body is larger than this server accepts (max-body " +
        std::to_string (s.max_body) + " bytes)");
    return false;
  }
  out->assign (static_cast<const char *> (g_bytes_get_data (bytes, nullptr)), size);
  g_bytes_unref (bytes);
  return true;
}

static const char *
request_content_type (SoupServerMessage *msg)
{
  return soup_message_headers_get_content_type (soup_server_message_get_request_headers (msg),
      nullptr);
}

static std::string
location (Self *self, const Session &sess)
{
  return self->priv->active_path + "/" + sess.id;
}

static std::string
new_etag ()
{
  return "\"" + vc::random_hex (8) + "\"";
}

/* ------------------------------------------------------------------------------------------
 * Connections: one Request each (see on_request_started), bounded in number and in time.
 * ---------------------------------------------------------------------------------------- */

static void on_request_gone (gpointer data, GObject *where_the_object_was);

static Request *
find_request (Self *self, SoupServerMessage *msg)
{
  auto it = self->priv->requests.find (msg);
  return it == self->priv->requests.end () ? nullptr : it->second.get ();
}

/* Stops following `msg` (its connection is being taken from libsoup). */
static void
forget_request (Self *self, SoupServerMessage *msg)
{
  auto *priv = self->priv;
  auto it = priv->requests.find (msg);
  if (it != priv->requests.end ()) {
    priv->rt.cancel (it->second->timer);
    priv->rt.cancel (it->second->refuse_timer);
    g_object_weak_unref (G_OBJECT (msg), on_request_gone, self);
    g_signal_handlers_disconnect_by_data (msg, it->second.get ());
    priv->requests.erase (it);
  }
  if (priv->watched.erase (msg))
    g_signal_handlers_disconnect_by_data (msg, self);
}

static std::string
busy_detail (Self *self)
{
  return "this server has " + std::to_string (settings (self).max_connections) +
      " connections open (max-connections); try again later";
}

/* 503 through libsoup, for a request already read. */
static void
respond_busy (Self *self, SoupServerMessage *msg)
{
  soup_message_headers_replace (response_headers (msg), "Retry-After",
      std::to_string (kRetryAfterSeconds).c_str ());
  respond_problem (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, busy_detail (self));
}

/* The size of the request line and header fields, as sent (give or take the line ends). */
static gsize
header_bytes (SoupServerMessage *msg)
{
  GUri *uri = soup_server_message_get_uri (msg);
  gsize size = strlen (soup_server_message_get_method (msg)) + 12 +
      (uri ? strlen (g_uri_get_path (uri)) + (g_uri_get_query (uri)
                                                    ? strlen (g_uri_get_query (uri)) + 1 : 0)
           : 0);
  soup_message_headers_foreach (soup_server_message_get_request_headers (msg),
      [] (const char *name, const char *value, gpointer data) {
        *static_cast<gsize *> (data) += strlen (name) + strlen (value) + 4;
      }, &size);
  return size;
}

/* A complete HTTP/1.1 response with a problem body, written by us on a taken connection. */
static std::string
raw_problem_response (guint status, const std::string &detail)
{
  std::string body = vc::problem::make (status, detail);
  std::string r = "HTTP/1.1 " + std::to_string (status) + " " +
      vc::problem::reason_phrase (status) + "\r\n"
      "Server: gst-voicecall\r\n"
      "Connection: close\r\n"
      "Access-Control-Allow-Origin: *\r\n"
      "Access-Control-Expose-Headers: " + kExposeHeaders + "\r\n"
      "Content-Type: " + vc::problem::kContentType + "\r\n"
      "Content-Length: " + std::to_string (body.size ()) + "\r\n";
  if (status == SOUP_STATUS_SERVICE_UNAVAILABLE)
    r += "Retry-After: " + std::to_string (kRetryAfterSeconds) + "\r\n";
  return r + "\r\n" + body;
}

/* The TLS connection under a connection taken from libsoup, which hands it over wrapped in
 * its SoupIOStream ("base-iostream"); nullptr if there is none. Borrowed. */
static GTlsConnection *
tls_connection_of (GIOStream *stream)
{
  if (G_IS_TLS_CONNECTION (stream))
    return G_TLS_CONNECTION (stream);
  if (!g_object_class_find_property (G_OBJECT_GET_CLASS (stream), "base-iostream"))
    return nullptr;
  GIOStream *base = nullptr;
  g_object_get (stream, "base-iostream", &base, nullptr);
  if (!base)
    return nullptr;
  g_object_unref (base);   /* the wrapper holds it */
  return G_IS_TLS_CONNECTION (base) ? G_TLS_CONNECTION (base) : nullptr;
}

/* Takes the connection of `msg` from libsoup, answers `status` (0: nothing) and closes it
 * gracefully. For what libsoup cannot do: refuse a request without reading its body first,
 * or give up on a request that does not come, or a response that is not taken, in time.
 * Safe from libsoup's own signals (as its WebSocket upgrade is): it does not touch the
 * message's I/O once the connection is gone. */
static void
close_request (Self *self, SoupServerMessage *msg, guint status, const std::string &detail)
{
  auto *priv = self->priv;
  GSocket *socket = soup_server_message_get_socket (msg);
  if (!socket)
    return;
  vc::GstPtr<GSocket> sock = vc::ref (socket);
  vc::GstPtr<SoupServerMessage> keep = vc::ref (msg);
  std::string peer = vc::http::address_string (soup_server_message_get_remote_address (msg));
  if (status)
    GST_DEBUG_OBJECT (self, "%s → %u (connection closed): %s", peer.c_str (), status,
        detail.c_str ());
  else
    GST_DEBUG_OBJECT (self, "%s: connection closed", peer.c_str ());
  forget_request (self, msg);
  auto stream = vc::adopt (soup_server_message_steal_connection (msg));
  if (!stream)
    return;
  std::string response = status ? raw_problem_response (status, detail) : std::string ();
  if (self->priv->https) {
    /* HTTPS: the response goes through TLS (never in plain text onto the socket), and only
     * once the handshake is done (a write before would block in it). It is small: it fits in
     * the socket's send buffer. */
    GTlsConnection *tls = tls_connection_of (stream.get ());
    if (tls && !response.empty () &&
        g_tls_connection_get_protocol_version (tls) != G_TLS_PROTOCOL_VERSION_UNKNOWN)
      g_output_stream_write_all (g_io_stream_get_output_stream (stream.get ()),
          response.data (), response.size (), nullptr, nullptr, nullptr);
    response.clear ();
  }
  auto *closer = vc::http::GracefulClose::start (stream.get (), sock.get (), response, kLingerMs,
      priv->rt.context (), [priv] (vc::http::GracefulClose *c) { priv->closing.erase (c); });
  if (closer)
    priv->closing.insert (closer);
}

/* ------------------------------------------------------------------------------------------
 * Held requests: a POST (or restart PATCH) waits, paused, for the element's answer.
 * ---------------------------------------------------------------------------------------- */

static void on_message_finished (SoupServerMessage *msg, gpointer data);
static gboolean on_peer_readable (GSocket *socket, GIOCondition cond, gpointer data);
static void request_held (Self *self, SoupServerMessage *msg);
static void request_released (Self *self, SoupServerMessage *msg);

struct WatchData {
  Self *self;
  std::string id;
};

/* Pauses the request until the element's answer, and watches its connection: a peer that
 * hangs up while it waits ends the session at once (libsoup reads nothing while a message
 * is paused, so it would not notice). */
static void
hold (Self *self, Session *sess, SoupServerMessage *msg)
{
  sess->pending = vc::ref (msg);
  soup_server_message_pause (msg);
  request_held (self, msg);
  if (self->priv->watched.insert (msg).second)
    g_signal_connect (msg, "finished", G_CALLBACK (on_message_finished), self);
  sess->unwatch ();
  if (GSocket *socket = soup_server_message_get_socket (msg)) {
    sess->hangup_watch = g_socket_create_source (socket,
        static_cast<GIOCondition> (G_IO_IN | G_IO_HUP | G_IO_ERR), nullptr);
    g_source_set_callback (sess->hangup_watch, G_SOURCE_FUNC (on_peer_readable),
        new WatchData {self, sess->id},
        [] (gpointer d) { delete static_cast<WatchData *> (d); });
    g_source_attach (sess->hangup_watch, self->priv->rt.context ());
  }
}

/* Answers the held request of `sess` and lets it go. */
static void
release (Self *self, Session *sess)
{
  sess->unwatch ();
  vc::GstPtr<SoupServerMessage> msg = std::move (sess->pending);
  if (!msg)
    return;
  request_released (self, msg.get ());
  soup_server_message_unpause (msg.get ());
}

static gboolean
on_peer_readable (GSocket *socket, GIOCondition cond, gpointer data)
{
  auto *w = static_cast<WatchData *> (data);
  Self *self = w->self;
  Session *sess = find_session (self, w->id);
  if (!sess || !sess->pending)
    return G_SOURCE_CONTINUE;   /* unwatch () destroys us */
  char byte;
  GInputVector v = {&byte, 1};
  gint flags = G_SOCKET_MSG_PEEK;
  gssize n = g_socket_receive_message (socket, nullptr, &v, 1, nullptr, nullptr, &flags,
      nullptr, nullptr);
  if (n > 0) {
    /* A pipelined request, not a hang-up: leave it to libsoup. */
    g_source_unref (sess->hangup_watch);
    sess->hangup_watch = nullptr;
    return G_SOURCE_REMOVE;
  }
  std::string id = w->id;
  SoupServerMessage *msg = sess->pending.get ();
  respond_problem (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "the peer went away");
  g_source_unref (sess->hangup_watch);
  sess->hangup_watch = nullptr;   /* G_SOURCE_REMOVE below destroys it */
  if (sess->restarting) {
    GST_INFO_OBJECT (self, "session %s: the ICE restart request went away", id.c_str ());
    sess->restarting = false;
    sess->restart_offer.reset ();
    release (self, sess);
    return G_SOURCE_REMOVE;
  }
  GST_INFO_OBJECT (self, "session %s: the peer went away before the answer", id.c_str ());
  release (self, sess);
  remove_session (self, id);
  self->priv->rt.defer ([self, id] {
    gst_voice_signaller_emit_session_ended (GST_VOICE_SIGNALLER (self), id.c_str ());
  });
  return G_SOURCE_REMOVE;
}

static void
on_message_finished (SoupServerMessage *msg, gpointer data)
{
  auto *self = static_cast<Self *> (data);
  auto *priv = self->priv;
  priv->watched.erase (msg);
  g_signal_handlers_disconnect_by_data (msg, self);
  /* A held request that finishes before we answered it: the peer went away. */
  for (auto &[id, sess] : priv->sessions) {
    if (sess->pending.get () != msg)
      continue;
    sess->pending.reset ();
    if (sess->restarting) {
      GST_INFO_OBJECT (self, "session %s: the ICE restart request went away", id.c_str ());
      sess->restarting = false;
      sess->answer.reset ();
      return;
    }
    std::string gone = id;
    GST_INFO_OBJECT (self, "session %s: the peer went away before the answer", gone.c_str ());
    remove_session (self, gone);
    self->priv->rt.defer ([self, gone] {
      gst_voice_signaller_emit_session_ended (GST_VOICE_SIGNALLER (self), gone.c_str ());
    });
    return;
  }
}

/* The answer is in and gathering is complete (or timed out): send it. */
static void
complete (Self *self, Session *sess)
{
  auto *priv = self->priv;
  priv->rt.cancel (sess->gather_timer);
  sess->gather_timer = 0;
  if (!sess->pending || !sess->answer)
    return;

  SoupServerMessage *msg = sess->pending.get ();
  Settings s = settings (self);
  vc::GUnique<GstWebRTCSessionDescription> folded (
      vc::sdp::with_candidates (sess->answer.get (), sess->candidates, true));
  GST_DEBUG_OBJECT (self, "session %s: answering with %zu candidates%s", sess->id.c_str (),
      sess->candidates.size (), sess->gathered ? "" : " (gather-timeout)");

  if (sess->restarting) {
    int audio = std::max (0, vc::sdp::first_audio_media (folded->sdp));
    vc::sdpfrag::Frag frag;
    vc::sdp::ice_credentials (folded->sdp, audio, &frag.ufrag, &frag.pwd);
    vc::sdpfrag::Media media;
    media.mid = vc::sdp::media_mid (folded->sdp, audio);
    for (const auto &c : sess->candidates)
      media.candidates.push_back (c.candidate);
    media.end_of_candidates = true;
    frag.media.push_back (media);

    sess->etag = new_etag ();
    sess->offer = std::move (sess->restart_offer);
    vc::sdp::ice_credentials (sess->offer.get (), std::max (0,
        vc::sdp::first_audio_media (sess->offer.get ())), &sess->remote_ufrag,
        &sess->remote_pwd);
    sess->trickled = 0;
    soup_message_headers_replace (response_headers (msg), "ETag", sess->etag.c_str ());
    respond (msg, SOUP_STATUS_OK, kSdpFragType, vc::sdpfrag::build (frag));
  } else {
    std::string sdp = vc::sdp::to_text (folded.get ());
    SoupMessageHeaders *h = response_headers (msg);
    soup_message_headers_replace (h, "Location", location (self, *sess).c_str ());
    soup_message_headers_replace (h, "ETag", sess->etag.c_str ());
    add_links (msg, s, true);
    if (sess->protocol == Protocol::WHIP)
      respond (msg, SOUP_STATUS_CREATED, kSdpType, sdp);
    else
      respond (msg, SOUP_STATUS_OK, kJsonType, vc::sdpjson::build ("answer", sdp));
  }
  sess->restarting = false;
  sess->answer.reset ();
  sess->candidates.clear ();
  release (self, sess);
}

/* ------------------------------------------------------------------------------------------
 * Requests
 * ---------------------------------------------------------------------------------------- */

static void
handle_options (Self *self, SoupServerMessage *msg, const Settings &s)
{
  SoupMessageHeaders *h = response_headers (msg);
  soup_message_headers_replace (h, "Access-Control-Allow-Methods", kAllowMethods);
  soup_message_headers_replace (h, "Access-Control-Allow-Headers", kAllowHeaders);
  soup_message_headers_replace (h, "Access-Control-Max-Age", "600");
  soup_message_headers_replace (h, "Allow", kAllowMethods);
  soup_message_headers_replace (h, "Accept-Post", kAcceptPost);
  /* A CORS preflight carries no Authorization: TURN credentials only to a caller who shows
   * the token (or when there is none). */
  add_links (msg, s, authorized (msg, s));
  respond (msg, SOUP_STATUS_NO_CONTENT);
}

static void
handle_page (Self *self, SoupServerMessage *msg, const Settings &s)
{
  if (!s.serve_page) {
    respond_problem (msg, SOUP_STATUS_NOT_FOUND, "there is no page here (serve-page is off); "
        "offers go to POST " + self->priv->active_path);
    return;
  }
  if (!method_is (msg, SOUP_METHOD_GET) && !method_is (msg, SOUP_METHOD_HEAD)) {
    respond_not_allowed (msg, "GET, HEAD, OPTIONS");
    return;
  }
  GBytes *page = g_resources_lookup_data (kPageResource, G_RESOURCE_LOOKUP_FLAGS_NONE, nullptr);
  if (!page) {
    respond_problem (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "the page is not built in");
    return;
  }
  soup_message_headers_replace (response_headers (msg), "Cache-Control", "no-cache");
  respond (msg, SOUP_STATUS_OK, "text/html; charset=utf-8",
      std::string (static_cast<const char *> (g_bytes_get_data (page, nullptr)),
          g_bytes_get_size (page)));
  g_bytes_unref (page);
}

/* The request's headers as a GstStructure "headers": names in lower case, a repeated
 * header's values joined with ", ". */
static vc::GUnique<GstStructure>
request_headers (SoupServerMessage *msg)
{
  GstStructure *st = gst_structure_new_empty ("headers");
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);
  soup_message_headers_foreach (req, [] (const char *name, const char *, gpointer data) {
    auto *st = static_cast<GstStructure *> (data);
    vc::GUnique<gchar> lower (g_ascii_strdown (name, -1));
    if (gst_structure_has_field (st, lower.get ()))
      return;
    /* The values of every header of this name, joined. */
    gst_structure_set (st, lower.get (), G_TYPE_STRING, "", nullptr);
  }, st);
  for (int i = 0, n = gst_structure_n_fields (st); i < n; i++) {
    const gchar *name = gst_structure_nth_field_name (st, i);
    const char *value = soup_message_headers_get_list (req, name);
    gst_structure_set (st, name, G_TYPE_STRING, value ? value : "", nullptr);
  }
  return vc::GUnique<GstStructure> (st);
}

static void
handle_offer (Self *self, SoupServerMessage *msg, const Settings &s)
{
  auto *priv = self->priv;
  if (s.max_sessions > 0 && priv->sessions.size () >= s.max_sessions) {
    soup_message_headers_replace (response_headers (msg), "Retry-After",
        std::to_string (kRetryAfterSeconds).c_str ());
    respond_problem (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "this server is busy: " +
        std::to_string (priv->sessions.size ()) + " of " + std::to_string (s.max_sessions) +
        " calls (max-sessions) in progress; try again later");
    return;
  }

  const char *ct = request_content_type (msg);
  Protocol protocol;
  if (ct && g_ascii_strcasecmp (ct, kSdpType) == 0) {
    protocol = Protocol::WHIP;
  } else if (ct && g_ascii_strcasecmp (ct, kJsonType) == 0) {
    protocol = Protocol::JSON;
  } else {
    soup_message_headers_replace (response_headers (msg), "Accept-Post", kAcceptPost);
    respond_problem (msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
        std::string ("POST the offer as application/sdp (WHIP) or as application/json "
                     "{\"sdp\": ..., \"type\": \"offer\"}, not ") +
            (ct ? ct : "a body without Content-Type"));
    return;
  }

  std::string body, text, error;
  if (!read_body (msg, s, &body))
    return;
  if (protocol == Protocol::JSON) {
    std::string type;
    if (!vc::sdpjson::parse (body.data (), body.size (), &type, &text, &error)) {
      respond_problem (msg, SOUP_STATUS_BAD_REQUEST, error);
      return;
    }
    if (type != "offer") {
      respond_problem (msg, SOUP_STATUS_BAD_REQUEST,
          "the JSON \"type\" is \"" + type + "\"; POST an \"offer\"");
      return;
    }
  } else {
    text = std::move (body);
  }
  if (text.find ('\0') != std::string::npos) {
    respond_problem (msg, SOUP_STATUS_BAD_REQUEST, "the SDP offer contains a NUL byte");
    return;
  }
  vc::GUnique<GstSDPMessage> offer = vc::sdp::parse (text.c_str (), &error);
  if (!offer) {
    respond_problem (msg, SOUP_STATUS_BAD_REQUEST, "malformed SDP offer: " + error);
    return;
  }
  int audio = vc::sdp::first_audio_media (offer.get ());
  if (audio < 0) {
    respond_problem (msg, SOUP_STATUS_UNPROCESSABLE_ENTITY, "the offer has no audio media "
        "section (an m=audio line with a non-zero port): this endpoint takes voice calls");
    return;
  }
  auto sess = std::make_unique<Session> ();
  vc::sdp::ice_credentials (offer.get (), audio, &sess->remote_ufrag, &sess->remote_pwd);
  if (sess->remote_ufrag.empty () || sess->remote_pwd.empty ()) {
    respond_problem (msg, SOUP_STATUS_BAD_REQUEST,
        "malformed SDP offer: the audio section has no a=ice-ufrag / a=ice-pwd");
    return;
  }

  sess->id = vc::random_hex (16);
  sess->etag = new_etag ();
  sess->protocol = protocol;
  sess->peer = vc::http::address_string (soup_server_message_get_remote_address (msg));
  /* The application may refuse the call, seeing who calls and how (Authorization, Origin,
   * User-Agent...): before a session exists, so nothing is left of a refused call. */
  vc::GUnique<GstStructure> headers = request_headers (msg);
  if (!gst_voice_signaller_emit_accept_session (GST_VOICE_SIGNALLER (self), sess->id.c_str (),
          sess->peer.c_str (), headers.get ())) {
    GST_INFO_OBJECT (self, "call from %s refused by the application", sess->peer.c_str ());
    respond_problem (msg, SOUP_STATUS_FORBIDDEN, "the callee refused this call");
    return;
  }
  GstSDPMessage *copy = nullptr;
  gst_sdp_message_copy (offer.get (), &copy);
  std::shared_ptr<GstWebRTCSessionDescription> desc (
      gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_OFFER, copy),
      gst_webrtc_session_description_free);
  sess->offer = std::move (offer);
  std::string id = sess->id, peer = sess->peer;
  Session *raw = sess.get ();
  priv->sessions.emplace (id, std::move (sess));
  hold (self, raw, msg);
  GST_INFO_OBJECT (self, "session %s: %s offer from %s", id.c_str (),
      protocol == Protocol::WHIP ? "WHIP" : "JSON", peer.c_str ());

  self->priv->rt.defer ([self, id, peer, desc] {
    if (find_session (self, id))
      gst_voice_signaller_emit_session_requested (GST_VOICE_SIGNALLER (self), id.c_str (),
          peer.c_str (), desc.get ());
  });
}

/* The m-line of the session's offer a fragment's m-section stands for, or -1. */
static int
frag_mline (const Session &sess, const vc::sdpfrag::Media &media)
{
  if (!media.mid.empty ())
    return vc::sdp::media_for_mid (sess.offer.get (), media.mid);
  return vc::sdp::first_audio_media (sess.offer.get ());
}

static GstSDPMessage *
restart_offer (const Session &sess, const vc::sdpfrag::Frag &frag,
    const std::vector<vc::sdp::Candidate> &candidates, bool end_of_candidates)
{
  GstSDPMessage *offer = nullptr;
  gst_sdp_message_copy (sess.offer.get (), &offer);
  vc::sdp::set_ice_credentials (offer, frag.ufrag, frag.pwd);
  vc::sdp::remove_candidates (offer);
  vc::sdp::add_candidates (offer, candidates, end_of_candidates);
  /* A new version of the same session (RFC 3264 §8). */
  const GstSDPOrigin *o = gst_sdp_message_get_origin (offer);
  auto str = [] (const char *s) { return std::string (s ? s : ""); };
  /* copies: set_origin frees the strings `o` points to */
  std::string user = str (o->username), id = str (o->sess_id), net = str (o->nettype),
      addrtype = str (o->addrtype), addr = str (o->addr);
  guint64 version = o->sess_version ? g_ascii_strtoull (o->sess_version, nullptr, 10) : 0;
  std::string v = std::to_string (version + 1);
  gst_sdp_message_set_origin (offer, user.c_str (), id.c_str (), v.c_str (), net.c_str (),
      addrtype.c_str (), addr.c_str ());
  return offer;
}

static void
start_restart (Self *self, Session *sess, SoupServerMessage *msg,
    const vc::sdpfrag::Frag &frag, const std::vector<vc::sdp::Candidate> &candidates,
    bool end_of_candidates)
{
  GstSDPMessage *offer = restart_offer (*sess, frag, candidates, end_of_candidates);
  GstSDPMessage *copy = nullptr;
  gst_sdp_message_copy (offer, &copy);
  sess->restart_offer.reset (offer);
  std::shared_ptr<GstWebRTCSessionDescription> desc (
      gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_OFFER, copy),
      gst_webrtc_session_description_free);
  sess->restarting = true;
  sess->answer.reset ();
  sess->candidates.clear ();
  sess->gathered = false;
  hold (self, sess, msg);
  GST_INFO_OBJECT (self, "session %s: ICE restart (ufrag %s)", sess->id.c_str (),
      frag.ufrag.c_str ());

  std::string id = sess->id;
  self->priv->rt.defer ([self, id, desc, msg] {
    gboolean handled = FALSE;
    g_signal_emit (self, signals[SIGNAL_ICE_RESTART], 0, id.c_str (), desc.get (), &handled);
    if (handled)
      return;
    Session *s = find_session (self, id);
    if (!s || !s->restarting || s->pending.get () != msg)
      return;
    respond_problem (msg, SOUP_STATUS_UNPROCESSABLE_ENTITY, "this endpoint supports trickle "
        "ICE but not ICE restarts; the session goes on with its current ICE credentials");
    s->restarting = false;
    s->restart_offer.reset ();
    release (self, s);
  });
}

static void
handle_patch (Self *self, SoupServerMessage *msg, const Settings &s, Session *sess)
{
  const char *ct = request_content_type (msg);
  if (!ct || g_ascii_strcasecmp (ct, kSdpFragType) != 0) {
    respond_problem (msg, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
        std::string ("PATCH takes an RFC 8840 fragment as application/trickle-ice-sdpfrag, "
                     "not ") + (ct ? ct : "a body without Content-Type"));
    return;
  }
  std::string body, error;
  if (!read_body (msg, s, &body))
    return;
  vc::sdpfrag::Frag frag;
  if (!vc::sdpfrag::parse (body.data (), body.size (), &frag, &error)) {
    respond_problem (msg, SOUP_STATUS_BAD_REQUEST, "malformed SDP fragment: " + error);
    return;
  }
  if (sess->pending) {
    respond_problem (msg, SOUP_STATUS_CONFLICT,
        "the session is still being answered or restarted; retry when that is done");
    return;
  }

  std::vector<vc::sdp::Candidate> candidates;
  std::vector<guint> ended;
  for (const vc::sdpfrag::Media &m : frag.media) {
    int mline = frag_mline (*sess, m);
    if (mline < 0) {
      respond_problem (msg, SOUP_STATUS_UNPROCESSABLE_ENTITY,
          "the fragment names a=mid:" + m.mid + ", which the offer does not have");
      return;
    }
    for (const std::string &c : m.candidates)
      candidates.push_back ({static_cast<guint> (mline), c});
    if (m.end_of_candidates)
      ended.push_back (static_cast<guint> (mline));
  }

  const char *if_match = soup_message_headers_get_one (
      soup_server_message_get_request_headers (msg), "If-Match");
  bool restart = !frag.ufrag.empty () &&
      (frag.ufrag != sess->remote_ufrag || frag.pwd != sess->remote_pwd);
  if (restart && !if_match) {
    respond_problem (msg, 428, "an ICE restart must carry If-Match with the session's ETag "
        "or \"*\" (RFC 9725 §4.3.2)");
    return;
  }
  if (if_match && !vc::http::if_match_matches (if_match, sess->etag)) {
    respond_problem (msg, SOUP_STATUS_PRECONDITION_FAILED,
        "If-Match does not match the session's current ETag (an ICE restart happened since?)");
    return;
  }
  if (restart) {
    start_restart (self, sess, msg, frag, candidates, !ended.empty ());
    return;
  }
  /* Each candidate reaches webrtcbin, which pairs and checks it: a bounded number. */
  if (sess->trickled + candidates.size () > kMaxTrickled) {
    respond_problem (msg, SOUP_STATUS_UNPROCESSABLE_ENTITY, "this session took " +
        std::to_string (sess->trickled) + " trickled candidates already, and takes at most " +
        std::to_string (kMaxTrickled) + " (until an ICE restart)");
    return;
  }
  sess->trickled += candidates.size ();

  respond (msg, SOUP_STATUS_NO_CONTENT);
  std::string id = sess->id;
  self->priv->rt.defer ([self, id, candidates, ended] {
    for (const auto &c : candidates) {
      if (!find_session (self, id))
        return;
      gst_voice_signaller_emit_handle_ice (GST_VOICE_SIGNALLER (self), id.c_str (), c.mline,
          c.candidate.c_str ());
    }
    for (guint mline : ended) {
      if (!find_session (self, id))
        return;
      gst_voice_signaller_emit_handle_ice (GST_VOICE_SIGNALLER (self), id.c_str (), mline,
          nullptr);
    }
  });
}

static void
handle_delete (Self *self, SoupServerMessage *msg, Session *sess)
{
  std::string id = sess->id;
  if (sess->pending) {
    respond_problem (sess->pending.get (), SOUP_STATUS_CONFLICT, "the session was deleted");
    release (self, sess);
  }
  remove_session (self, id);
  GST_INFO_OBJECT (self, "session %s: deleted by the peer", id.c_str ());
  respond (msg, SOUP_STATUS_OK);
  self->priv->rt.defer ([self, id] {
    gst_voice_signaller_emit_session_ended (GST_VOICE_SIGNALLER (self), id.c_str ());
  });
}

/* GET <path>/<id>: held until the session ends (then 200 {"state":"ended"}), so that a
 * browser hears at once of a hang-up on our side. At most kMaxWatchers per session. */
static void
handle_watch (Self *self, SoupServerMessage *msg, Session *sess)
{
  if (sess->watchers.size () >= kMaxWatchers)
    return respond_problem (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "this session is watched by " +
        std::to_string (kMaxWatchers) + " requests already");
  soup_server_message_pause (msg);
  request_held (self, msg);
  sess->watchers.push_back (vc::ref (msg));
}

static void
handle_request (SoupServer *server, SoupServerMessage *msg, const char *path,
    GHashTable *query, gpointer data)
{
  auto *self = static_cast<Self *> (data);
  if (!self->priv->rt.running ())
    return respond_problem (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "the server is stopping");
  Request *req = find_request (self, msg);
  if (req) {
    req->handled = true;
    if (req->over_limit)
      return respond_busy (self, msg);
  }
  Settings s = settings (self);
  std::string id;
  Route r = route (path, self->priv->active_path, &id);

  if (method_is (msg, SOUP_METHOD_OPTIONS))
    return handle_options (self, msg, s);
  if (r == Route::PAGE)
    return handle_page (self, msg, s);
  if (!authorized (msg, s))
    return respond_unauthorized (msg);

  switch (r) {
    case Route::ENDPOINT:
      if (!method_is (msg, SOUP_METHOD_POST))
        return respond_not_allowed (msg, "POST, OPTIONS");
      return handle_offer (self, msg, s);
    case Route::SESSION: {
      bool patch = method_is (msg, "PATCH"), del = method_is (msg, SOUP_METHOD_DELETE);
      bool get = method_is (msg, SOUP_METHOD_GET);
      if (!patch && !del && !get)
        return respond_not_allowed (msg, "GET, PATCH, DELETE, OPTIONS");
      Session *sess = find_session (self, id);
      if (!sess)
        return respond_problem (msg, SOUP_STATUS_NOT_FOUND,
            "there is no session " + id + " here (it ended, or never began)");
      if (get)
        return handle_watch (self, msg, sess);
      return patch ? handle_patch (self, msg, s, sess) : handle_delete (self, msg, sess);
    }
    default:
      return respond_problem (msg, SOUP_STATUS_NOT_FOUND, std::string ("there is nothing at ") +
          path + "; offers go to POST " + self->priv->active_path);
  }
}

/* Before the body is read: refuse what needs no body to refuse (headers too large, auth,
 * declared size). A refused body is not read: the connection is answered and closed. */
static void
handle_early (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
    gpointer data)
{
  auto *self = static_cast<Self *> (data);
  Settings s = settings (self);
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);
  gsize header_size = header_bytes (msg);
  if (header_size > s.max_header_size)
    return close_request (self, msg, 431, "the request's header section (" +
        std::to_string (header_size) + " bytes) is larger than this server accepts "
        "(max-header-size " + std::to_string (s.max_header_size) + " bytes)");
  Request *r = find_request (self, msg);
  if (r && r->over_limit)
    return close_request (self, msg, SOUP_STATUS_SERVICE_UNAVAILABLE, busy_detail (self));
  if (soup_message_headers_get_encoding (req) == SOUP_ENCODING_CONTENT_LENGTH &&
      soup_message_headers_get_content_length (req) > static_cast<goffset> (s.max_body))
    return close_request (self, msg, 413, "the body is larger than this server accepts "
        "(max-body " + std::to_string (s.max_body) + " bytes)");
  if (method_is (msg, SOUP_METHOD_OPTIONS))
    return;
  std::string id;
  if (route (path, self->priv->active_path, &id) == Route::PAGE)
    return;
  if (!authorized (msg, s))
    return respond_unauthorized (msg);
}

/* A body without Content-Length (chunked) is counted as it comes, and refused (413, the
 * connection closed) as soon as it is over max-body. */
static void
on_got_chunk (SoupServerMessage *msg, GBytes *chunk, gpointer data)
{
  auto *req = static_cast<Request *> (data);
  guint max = settings (req->self).max_body;
  auto size = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (msg), kBodySize)) +
      g_bytes_get_size (chunk);
  g_object_set_data (G_OBJECT (msg), kBodySize, GSIZE_TO_POINTER (size));
  if (size > max)
    close_request (req->self, msg, 413, "the body is larger than this server accepts "
        "(max-body " + std::to_string (max) + " bytes)");
}

/* libsoup dropped the message: its connection is closed (or was taken by close_request). */
static void
on_request_gone (gpointer data, GObject *where_the_object_was)
{
  auto *self = static_cast<Self *> (data);
  auto *priv = self->priv;
  auto *msg = reinterpret_cast<SoupServerMessage *> (where_the_object_was);
  priv->watched.erase (msg);
  auto it = priv->requests.find (msg);
  if (it == priv->requests.end ())
    return;
  priv->rt.cancel (it->second->timer);
  priv->rt.cancel (it->second->refuse_timer);
  priv->requests.erase (it);
}

static void
on_request_finished (SoupServerMessage *msg, gpointer data)
{
  auto *req = static_cast<Request *> (data);
  req->self->priv->rt.cancel (req->timer);
  req->timer = 0;
}

static void
on_request_timeout (Self *self, SoupServerMessage *msg)
{
  Request *req = find_request (self, msg);
  if (!req)
    return;
  req->timer = 0;
  guint timeout = settings (self).request_timeout;
  /* Read completely, or refused already (libsoup may be writing that response): no 408. */
  if (req->handled || soup_server_message_get_status (msg) != 0) {
    GST_INFO_OBJECT (self, "%s: the response was not taken within request-timeout (%u ms): "
        "closing", vc::http::address_string (soup_server_message_get_remote_address (msg))
            .c_str (), timeout);
    close_request (self, msg, 0, "");
    return;
  }
  close_request (self, msg, SOUP_STATUS_REQUEST_TIMEOUT, "the request was not complete "
      "within request-timeout (" + std::to_string (timeout) + " ms)");
}

static void
arm_request_timer (Self *self, Request *req)
{
  auto *priv = self->priv;
  priv->rt.cancel (req->timer);
  req->timer = 0;
  guint timeout = settings (self).request_timeout;
  if (timeout == 0)
    return;
  SoupServerMessage *msg = req->msg;
  req->timer = priv->rt.timeout (timeout, [self, msg] { on_request_timeout (self, msg); });
}

static void
request_held (Self *self, SoupServerMessage *msg)
{
  if (Request *req = find_request (self, msg)) {
    self->priv->rt.cancel (req->timer);
    req->timer = 0;
    req->held = true;
  }
}

/* The held request was answered: the response must leave within request-timeout. */
static void
request_released (Self *self, SoupServerMessage *msg)
{
  if (Request *req = find_request (self, msg)) {
    req->held = false;
    arm_request_timer (self, req);
  }
}

static void
on_request_started (SoupServer *server, SoupServerMessage *msg, gpointer data)
{
  auto *self = static_cast<Self *> (data);
  auto *priv = self->priv;
  /* One request per connection. libsoup 3.2 never closes a kept-alive connection that its
   * peer closes between two requests (fixed upstream in 3.3.0, commit d20c6601): every
   * answered request would leave its socket in CLOSE-WAIT. With "Connection: close" libsoup
   * closes the connection once the response is written, and each connection is one Request
   * with one timer. */
  soup_message_headers_replace (response_headers (msg), "Connection", "close");
  Settings s = settings (self);
  auto req = std::make_unique<Request> ();
  req->self = self;
  req->msg = msg;
  req->started_us = g_get_monotonic_time ();
  Request *raw = req.get ();
  priv->requests[msg] = std::move (req);
  g_object_weak_ref (G_OBJECT (msg), on_request_gone, self);
  g_signal_connect (msg, "got-chunk", G_CALLBACK (on_got_chunk), raw);
  g_signal_connect (msg, "finished", G_CALLBACK (on_request_finished), raw);
  arm_request_timer (self, raw);

  gsize open = priv->requests.size () + priv->closing.size ();
  /* At the limit, the oldest connection that has not finished sending its request makes room
   * (a slow-loris attack holds such connections open; a real caller's POST arrives whole in
   * milliseconds): only when every other one is being answered or held is the new one
   * refused. */
  if (s.max_connections > 0 && open > s.max_connections) {
    Request *oldest = nullptr;
    for (auto &[m, r] : priv->requests)
      if (m != msg && !r->handled && !r->held && !r->over_limit &&
          soup_server_message_get_status (m) == 0 && (!oldest || r->started_us < oldest->started_us))
        oldest = r.get ();
    if (oldest) {
      GST_INFO_OBJECT (self, "%zu connections open, max-connections is %u: closing the oldest "
          "incomplete request", open, s.max_connections);
      SoupServerMessage *victim = oldest->msg;
      priv->rt.timeout (0, [self, victim] {
        Request *r = find_request (self, victim);
        if (r && !r->handled && !r->held && soup_server_message_get_status (victim) == 0)
          close_request (self, victim, SOUP_STATUS_REQUEST_TIMEOUT, "the request was not "
              "complete when the server needed its connection (max-connections)");
      });
      oldest->over_limit = true; /* it goes: not evicted twice */
      return;
    }
  }
  if (s.max_connections > 0 && open > s.max_connections) {
    /* Refused once libsoup is done accepting it (not from inside its accept). If the whole
     * request is already in, the handlers answer 503 before that. */
    raw->over_limit = true;
    GST_INFO_OBJECT (self, "%zu connections open, max-connections is %u: refusing one", open,
        s.max_connections);
    raw->refuse_timer = priv->rt.timeout (0, [self, msg] {
      Request *r = find_request (self, msg);
      if (!r)
        return;
      r->refuse_timer = 0;
      if (!r->handled && !r->held && soup_server_message_get_status (msg) == 0)
        close_request (self, msg, SOUP_STATUS_SERVICE_UNAVAILABLE, busy_detail (self));
    });
  }
}

/* ------------------------------------------------------------------------------------------
 * GstVoiceSignaller
 * ---------------------------------------------------------------------------------------- */

static bool
listen_address (const std::string &listen, GInetAddress **address, guint16 *port,
    std::string *error)
{
  GError *err = nullptr;
  GSocketConnectable *c = g_network_address_parse (listen.c_str (), 0, &err);
  if (!c) {
    *error = "listen \"" + listen + "\" is not ADDR:PORT (" + err->message + ")";
    g_error_free (err);
    return false;
  }
  std::string h = g_network_address_get_hostname (G_NETWORK_ADDRESS (c));
  const char *host = h.c_str ();
  *port = g_network_address_get_port (G_NETWORK_ADDRESS (c));
  if (g_strcmp0 (host, "localhost") == 0)
    *address = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  else if (h == "*" || h.empty ())
    *address = g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
  else
    *address = g_inet_address_new_from_string (host);
  g_object_unref (c);
  if (!*address) {
    *error = "listen \"" + listen + "\": \"" + h +
        "\" is not a numeric IP address (or localhost)";
    return false;
  }
  return true;
}

/* A listening socket as soup_server_listen () makes one, but with our backlog: libsoup's
 * (GLib's default, 10) makes a burst of connections wait for SYN retries (1 s, 3 s, ...). */
static GSocket *
listen_socket (GSocketAddress *address, guint backlog, GError **error)
{
  GSocketFamily family = g_socket_address_get_family (address);
  GSocket *socket = g_socket_new (family, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
  if (!socket)
    return nullptr;
  if (family == G_SOCKET_FAMILY_IPV6)
    g_socket_set_option (socket, IPPROTO_IPV6, IPV6_V6ONLY, TRUE, nullptr);
  g_socket_set_listen_backlog (socket, static_cast<gint> (backlog));
  if (!g_socket_bind (socket, address, TRUE, error) || !g_socket_listen (socket, error)) {
    g_object_unref (socket);
    return nullptr;
  }
  return socket;
}

static gboolean
server_start (GstVoiceSignaller *signaller, GError **error)
{
  auto *self = GST_VOICE_HTTP_SERVER_SIGNALLER (signaller);
  auto *priv = self->priv;
  std::string listen, path, cert_file, key_file;
  guint backlog = 0;
  {
    std::lock_guard<std::mutex> lk (priv->lock);
    listen = priv->listen;
    path = priv->path;
    backlog = priv->listen_backlog;
    cert_file = priv->tls_certificate;
    key_file = priv->tls_key;
  }

  std::string message;
  vc::GstPtr<GTlsCertificate> cert;
  if (!cert_file.empty () || !key_file.empty ()) {
    GError *err = nullptr;
    if (cert_file.empty () || key_file.empty ())
      message = "HTTPS needs both tls-certificate and tls-key";
    else if (!(cert = vc::adopt (g_tls_certificate_new_from_files (cert_file.c_str (),
                   key_file.c_str (), &err)))) {
      message = "cannot use the TLS certificate " + cert_file + " with the key " + key_file +
          ": " + err->message;
      g_error_free (err);
    }
  }

  if (message.empty ()) priv->rt.start ([&] {
    GInetAddress *ip = nullptr;
    guint16 port = 0;
    if (!listen_address (listen, &ip, &port, &message))
      return false;
    GSocketAddress *address = g_inet_socket_address_new (ip, port);
    g_object_unref (ip);

    auto server = vc::adopt (static_cast<SoupServer *> (
        g_object_new (SOUP_TYPE_SERVER, "server-header", "gst-voicecall",
            "tls-certificate", cert.get (), nullptr)));
    soup_server_add_early_handler (server.get (), nullptr, handle_early, self, nullptr);
    soup_server_add_handler (server.get (), nullptr, handle_request, self, nullptr);
    g_signal_connect (server.get (), "request-started", G_CALLBACK (on_request_started), self);
    GError *err = nullptr;
    auto socket = vc::adopt (listen_socket (address, backlog, &err));
    g_object_unref (address);
    if (!socket || !soup_server_listen_socket (server.get (), socket.get (),
                       cert ? SOUP_SERVER_LISTEN_HTTPS : static_cast<SoupServerListenOptions> (0),
                       &err)) {
      message = "cannot listen on " + listen + ": " + err->message;
      g_error_free (err);
      return false;
    }

    guint bound = 0;
    GSList *listeners = soup_server_get_listeners (server.get ());
    if (listeners) {
      GSocketAddress *local = g_socket_get_local_address (G_SOCKET (listeners->data), nullptr);
      if (local && G_IS_INET_SOCKET_ADDRESS (local))
        bound = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
      g_clear_object (&local);
    }
    g_slist_free (listeners);

    priv->server = std::move (server);
    priv->active_path = path;
    priv->https = static_cast<bool> (cert);
    std::lock_guard<std::mutex> lk (priv->lock);
    priv->port = bound;
    GST_INFO_OBJECT (self, "listening on %s (port %u, %s), endpoint %s", listen.c_str (),
        bound, cert ? "HTTPS" : "HTTP", path.c_str ());
    return true;
  });

  if (!message.empty ()) {
    GST_WARNING_OBJECT (self, "%s", message.c_str ());
    g_set_error_literal (error, GST_VOICE_SIGNALLER_ERROR, 0, message.c_str ());
    return FALSE;
  }
  g_object_notify (G_OBJECT (self), "port");
  return TRUE;
}

static void
server_stop (GstVoiceSignaller *signaller)
{
  auto *self = GST_VOICE_HTTP_SERVER_SIGNALLER (signaller);
  auto *priv = self->priv;
  priv->rt.stop ([self, priv] {
    /* Fail the held requests, and give their 503s a moment to leave. */
    for (auto &[id, sess] : priv->sessions) {
      priv->rt.cancel (sess->gather_timer);
      if (sess->pending) {
        soup_message_headers_replace (response_headers (sess->pending.get ()), "Retry-After",
            std::to_string (kRetryAfterSeconds).c_str ());
        respond_problem (sess->pending.get (), SOUP_STATUS_SERVICE_UNAVAILABLE,
            "the server is stopping");
        release (self, sess.get ());
      }
    }
    for (auto &[id, sess] : priv->sessions)
      end_watchers (self, sess.get (), "the server is stopping");
    priv->sessions.clear ();
    priv->rt.drain ([priv] { return priv->watched.empty (); },
        kStopDrainMs);
    for (SoupServerMessage *m : priv->watched)
      g_signal_handlers_disconnect_by_data (m, self);
    priv->watched.clear ();
    for (auto &[m, req] : priv->requests) {
      priv->rt.cancel (req->timer);
      priv->rt.cancel (req->refuse_timer);
      g_object_weak_unref (G_OBJECT (m), on_request_gone, self);
      g_signal_handlers_disconnect_by_data (m, req.get ());
    }
    priv->requests.clear ();
    auto closing = std::move (priv->closing);
    priv->closing.clear ();
    for (vc::http::GracefulClose *c : closing)
      c->close_now ();
    g_signal_handlers_disconnect_by_data (priv->server.get (), self);
    soup_server_disconnect (priv->server.get ());
    priv->server.reset ();
    std::lock_guard<std::mutex> lk (priv->lock);
    priv->port = 0;
    GST_INFO_OBJECT (self, "stopped");
  });
}

/* A vfunc's work, in the thread if the server runs then. */
static void
in_thread (Self *self, std::function<void ()> fn)
{
  if (!self->priv->rt.call (std::move (fn)))
    GST_WARNING_OBJECT (self, "not started");
}

static void
server_send_sdp (GstVoiceSignaller *signaller, const gchar *session_id,
    const GstWebRTCSessionDescription *sdp)
{
  auto *self = GST_VOICE_HTTP_SERVER_SIGNALLER (signaller);
  std::shared_ptr<GstWebRTCSessionDescription> answer (
      gst_webrtc_session_description_copy (sdp), gst_webrtc_session_description_free);
  std::string id (session_id);
  in_thread (self, [self, id, answer] {
    auto *priv = self->priv;
    Session *sess = find_session (self, id);
    if (!sess || !sess->pending || sess->answer) {
      GST_WARNING_OBJECT (self, "session %s: no offer waits for an answer", id.c_str ());
      return;
    }
    if (answer->type != GST_WEBRTC_SDP_TYPE_ANSWER) {
      GST_WARNING_OBJECT (self, "session %s: send_sdp needs an answer, got a %s", id.c_str (),
          gst_webrtc_sdp_type_to_string (answer->type));
      return;
    }
    sess->answer.reset (gst_webrtc_session_description_copy (answer.get ()));
    if (sess->gathered) {
      complete (self, sess);
      return;
    }
    guint timeout = settings (self).gather_timeout;
    sess->gather_timer = priv->rt.timeout (timeout, [self, id] {
      if (!self->priv->rt.running ())
        return;
      if (Session *s = find_session (self, id)) {
        s->gather_timer = 0;
        GST_INFO_OBJECT (self, "session %s: gather-timeout, answering with %zu candidates",
            id.c_str (), s->candidates.size ());
        complete (self, s);
      }
    });
  });
}

static void
server_add_ice (GstVoiceSignaller *signaller, const gchar *session_id, guint mline_index,
    const gchar *candidate)
{
  auto *self = GST_VOICE_HTTP_SERVER_SIGNALLER (signaller);
  std::string id (session_id);
  bool end = candidate == nullptr;
  std::string cand (candidate ? candidate : "");
  in_thread (self, [self, id, mline_index, end, cand] {
    Session *sess = find_session (self, id);
    if (!sess)
      return;
    if (!sess->pending) {
      GST_LOG_OBJECT (self, "session %s: candidate after the answer is dropped (WHIP has no "
          "server-to-client trickle)", id.c_str ());
      return;
    }
    if (end) {
      sess->gathered = true;
      if (sess->answer)
        complete (self, sess);
      return;
    }
    sess->candidates.push_back ({mline_index, cand});
  });
}

static void
server_end_session (GstVoiceSignaller *signaller, const gchar *session_id, const gchar *reason)
{
  auto *self = GST_VOICE_HTTP_SERVER_SIGNALLER (signaller);
  std::string id (session_id);
  bool has_reason = reason != nullptr;
  std::string why (reason ? reason : "");
  in_thread (self, [self, id, has_reason, why] {
    Session *sess = find_session (self, id);
    if (!sess)
      return;
    GST_INFO_OBJECT (self, "session %s: ended by the element%s%s", id.c_str (),
        has_reason ? ": " : "", why.c_str ());
    if (sess->pending) {
      if (has_reason)
        respond_problem (sess->pending.get (), SOUP_STATUS_UNPROCESSABLE_ENTITY, why);
      else
        respond_problem (sess->pending.get (), SOUP_STATUS_INTERNAL_SERVER_ERROR,
            "the call was ended before it was answered");
      release (self, sess);
    }
    remove_session (self, id, why);
  });
}

static void
gst_voice_http_server_signaller_iface_init (GstVoiceSignallerInterface *iface)
{
  iface->start = server_start;
  iface->stop = server_stop;
  iface->send_sdp = server_send_sdp;
  iface->add_ice = server_add_ice;
  iface->end_session = server_end_session;
}

/* ------------------------------------------------------------------------------------------
 * GObject
 * ---------------------------------------------------------------------------------------- */

static std::string
normalize_path (const char *path)
{
  std::string p (path && *path ? path : kDefaultPath);
  if (p[0] != '/')
    p = "/" + p;
  while (p.size () > 1 && p.back () == '/')
    p.pop_back ();
  return p;
}

static void
gst_voice_http_server_signaller_set_property (GObject *object, guint prop_id,
    const GValue *value, GParamSpec *pspec)
{
  auto *self = GST_VOICE_HTTP_SERVER_SIGNALLER (object);
  auto *priv = self->priv;
  std::lock_guard<std::mutex> lk (priv->lock);
  switch (prop_id) {
    case PROP_LISTEN:
      priv->listen = g_value_get_string (value) ? g_value_get_string (value) : kDefaultListen;
      break;
    case PROP_PATH: {
      std::string p = normalize_path (g_value_get_string (value));
      if (p == "/" || p == "/index.html") {
        GST_WARNING_OBJECT (self, "path %s is the page's; keeping %s", p.c_str (),
            priv->path.c_str ());
        break;
      }
      priv->path = p;
      break;
    }
    case PROP_AUTH_TOKEN:
      priv->auth_token = g_value_get_string (value) ? g_value_get_string (value) : "";
      break;
    case PROP_MAX_SESSIONS:
      priv->max_sessions = g_value_get_uint (value);
      break;
    case PROP_MAX_BODY:
      priv->max_body = g_value_get_uint (value);
      break;
    case PROP_GATHER_TIMEOUT:
      priv->gather_timeout = g_value_get_uint (value);
      break;
    case PROP_ICE_SERVERS: {
      priv->ice_servers.clear ();
      auto **urls = static_cast<gchar **> (g_value_get_boxed (value));
      for (gchar **u = urls; u && *u; u++) {
        vc::iceserver::Server server;
        std::string error;
        if (vc::iceserver::parse (*u, &server, &error))
          priv->ice_servers.push_back (*u);
        else
          GST_WARNING_OBJECT (self, "ignoring ICE server: %s", error.c_str ());
      }
      break;
    }
    case PROP_SERVE_PAGE:
      priv->serve_page = g_value_get_boolean (value);
      break;
    case PROP_REQUEST_TIMEOUT:
      priv->request_timeout = g_value_get_uint (value);
      break;
    case PROP_MAX_CONNECTIONS:
      priv->max_connections = g_value_get_uint (value);
      break;
    case PROP_MAX_HEADER_SIZE:
      priv->max_header_size = g_value_get_uint (value);
      break;
    case PROP_LISTEN_BACKLOG:
      priv->listen_backlog = g_value_get_uint (value);
      break;
    case PROP_TLS_CERTIFICATE:
      priv->tls_certificate = g_value_get_string (value) ? g_value_get_string (value) : "";
      break;
    case PROP_TLS_KEY:
      priv->tls_key = g_value_get_string (value) ? g_value_get_string (value) : "";
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_voice_http_server_signaller_get_property (GObject *object, guint prop_id, GValue *value,
    GParamSpec *pspec)
{
  auto *self = GST_VOICE_HTTP_SERVER_SIGNALLER (object);
  auto *priv = self->priv;
  std::lock_guard<std::mutex> lk (priv->lock);
  switch (prop_id) {
    case PROP_LISTEN:
      g_value_set_string (value, priv->listen.c_str ());
      break;
    case PROP_PORT:
      g_value_set_uint (value, priv->port);
      break;
    case PROP_PATH:
      g_value_set_string (value, priv->path.c_str ());
      break;
    case PROP_AUTH_TOKEN:
      g_value_set_string (value, priv->auth_token.empty () ? nullptr : priv->auth_token.c_str ());
      break;
    case PROP_MAX_SESSIONS:
      g_value_set_uint (value, priv->max_sessions);
      break;
    case PROP_MAX_BODY:
      g_value_set_uint (value, priv->max_body);
      break;
    case PROP_GATHER_TIMEOUT:
      g_value_set_uint (value, priv->gather_timeout);
      break;
    case PROP_ICE_SERVERS: {
      GStrvBuilder *b = g_strv_builder_new ();
      for (const std::string &u : priv->ice_servers)
        g_strv_builder_add (b, u.c_str ());
      g_value_take_boxed (value, g_strv_builder_end (b));
      g_strv_builder_unref (b);
      break;
    }
    case PROP_SERVE_PAGE:
      g_value_set_boolean (value, priv->serve_page);
      break;
    case PROP_REQUEST_TIMEOUT:
      g_value_set_uint (value, priv->request_timeout);
      break;
    case PROP_MAX_CONNECTIONS:
      g_value_set_uint (value, priv->max_connections);
      break;
    case PROP_MAX_HEADER_SIZE:
      g_value_set_uint (value, priv->max_header_size);
      break;
    case PROP_LISTEN_BACKLOG:
      g_value_set_uint (value, priv->listen_backlog);
      break;
    case PROP_TLS_CERTIFICATE:
      g_value_set_string (value, priv->tls_certificate.empty () ? nullptr :
          priv->tls_certificate.c_str ());
      break;
    case PROP_TLS_KEY:
      g_value_set_string (value, priv->tls_key.empty () ? nullptr : priv->tls_key.c_str ());
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_voice_http_server_signaller_finalize (GObject *object)
{
  auto *self = GST_VOICE_HTTP_SERVER_SIGNALLER (object);
  self->priv->rt.finalize (object, [self] { server_stop (GST_VOICE_SIGNALLER (self)); });
  delete self->priv;
  G_OBJECT_CLASS (gst_voice_http_server_signaller_parent_class)->finalize (object);
}

static void
gst_voice_http_server_signaller_init (GstVoiceHttpServerSignaller *self)
{
  self->priv = new GstVoiceHttpServerSignallerPrivate ();
}

static void
gst_voice_http_server_signaller_class_init (GstVoiceHttpServerSignallerClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  gobject_class->set_property = gst_voice_http_server_signaller_set_property;
  gobject_class->get_property = gst_voice_http_server_signaller_get_property;
  gobject_class->finalize = gst_voice_http_server_signaller_finalize;

  auto rw = static_cast<GParamFlags> (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  auto rw_ready = static_cast<GParamFlags> (rw | GST_PARAM_MUTABLE_READY);
  auto ro = static_cast<GParamFlags> (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_property (gobject_class, PROP_LISTEN,
      g_param_spec_string ("listen", "Listen",
          "Address and port to listen on: ADDR:PORT or [IPv6]:PORT; port 0 picks a free one "
          "(see the port property)", kDefaultListen, rw_ready));
  g_object_class_install_property (gobject_class, PROP_PORT,
      g_param_spec_uint ("port", "Port", "The port the server listens on (0 when stopped)",
          0, 65535, 0, ro));
  g_object_class_install_property (gobject_class, PROP_PATH,
      g_param_spec_string ("path", "Path",
          "Endpoint path that takes offers (POST); sessions live at <path>/<id>. "
          "\"/offer\" (aiortc's) is accepted as well", kDefaultPath, rw_ready));
  g_object_class_install_property (gobject_class, PROP_AUTH_TOKEN,
      g_param_spec_string ("auth-token", "Auth token",
          "If set, every request but OPTIONS and the page needs "
          "\"Authorization: Bearer <token>\" (else 401)", nullptr, rw));
  g_object_class_install_property (gobject_class, PROP_MAX_SESSIONS,
      g_param_spec_uint ("max-sessions", "Max sessions",
          "Calls taken at once; offers beyond get 503 + Retry-After (0 = no limit)",
          0, G_MAXUINT, kDefaultMaxSessions, rw));
  g_object_class_install_property (gobject_class, PROP_MAX_BODY,
      g_param_spec_uint ("max-body", "Max body",
          "Largest request body accepted, in bytes (larger: 413)", 1024, 16 * 1024 * 1024,
          kDefaultMaxBody, rw));
  g_object_class_install_property (gobject_class, PROP_GATHER_TIMEOUT,
      g_param_spec_uint ("gather-timeout", "Gather timeout",
          "Longest wait, in ms, for the element's ICE candidates before the answer is sent "
          "with those gathered so far", 0, 60000, kDefaultGatherTimeout, rw));
  g_object_class_install_property (gobject_class, PROP_ICE_SERVERS,
      g_param_spec_boxed ("ice-servers", "ICE servers",
          "STUN/TURN servers advertised to callers in Link: rel=\"ice-server\" headers: "
          "stun:host:port, turn:host:port?transport=udp, or webrtcbin's "
          "turn://user:password@host:port (credentials sent as username/credential)",
          G_TYPE_STRV, rw));
  g_object_class_install_property (gobject_class, PROP_SERVE_PAGE,
      g_param_spec_boolean ("serve-page", "Serve page",
          "Serve the browser call page at GET /", FALSE, rw));
  g_object_class_install_property (gobject_class, PROP_REQUEST_TIMEOUT,
      g_param_spec_uint ("request-timeout", "Request timeout",
          "Longest time, in ms, a connection may take to send its request (from connecting), "
          "and to take the response; then it gets 408 (or nothing) and is closed. The wait "
          "for the element's answer does not count (0 = no limit)",
          0, 3600000, kDefaultRequestTimeout, rw));
  g_object_class_install_property (gobject_class, PROP_MAX_CONNECTIONS,
      g_param_spec_uint ("max-connections", "Max connections",
          "Connections open at once; one more gets 503 + Retry-After and is closed "
          "(0 = no limit)", 0, G_MAXUINT, kDefaultMaxConnections, rw));
  g_object_class_install_property (gobject_class, PROP_MAX_HEADER_SIZE,
      g_param_spec_uint ("max-header-size", "Max header size",
          "Largest request line + header fields accepted, in bytes (larger: 431). libsoup "
          "itself closes a connection whose header section passes 64 KiB, without a status",
          1024, 64 * 1024, kDefaultMaxHeaderSize, rw));
  g_object_class_install_property (gobject_class, PROP_LISTEN_BACKLOG,
      g_param_spec_uint ("listen-backlog", "Listen backlog",
          "Connections the kernel completes before the server accepts them (the kernel caps "
          "it at net.core.somaxconn)", 1, 65535, kDefaultListenBacklog, rw_ready));
  g_object_class_install_property (gobject_class, PROP_TLS_CERTIFICATE,
      g_param_spec_string ("tls-certificate", "TLS certificate",
          "PEM file of the server's certificate (and its chain): with tls-key, the server "
          "speaks HTTPS only (browsers give the microphone only to https:// pages or "
          "localhost)", nullptr, rw_ready));
  g_object_class_install_property (gobject_class, PROP_TLS_KEY,
      g_param_spec_string ("tls-key", "TLS key",
          "PEM file of the private key of tls-certificate (may be the same file)", nullptr,
          rw_ready));

  signals[SIGNAL_ICE_RESTART] = g_signal_new ("ice-restart", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, g_signal_accumulator_true_handled, nullptr, nullptr,
      G_TYPE_BOOLEAN, 2, G_TYPE_STRING,
      GST_TYPE_WEBRTC_SESSION_DESCRIPTION | G_SIGNAL_TYPE_STATIC_SCOPE);
}

GstVoiceHttpServerSignaller *
gst_voice_http_server_signaller_new (void)
{
  return static_cast<GstVoiceHttpServerSignaller *> (
      g_object_new (GST_TYPE_VOICE_HTTP_SERVER_SIGNALLER, nullptr));
}
