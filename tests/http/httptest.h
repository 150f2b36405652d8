/* gst-voicecall HTTP tests: shared helpers.
 *
 *   Recorder     connects to a signaller's signals and records them; wait () blocks on a
 *                condition with a deadline (no sleeps).
 *   FakeServerElement / FakeClientElement
 *                play the voicecall element's part: answer offers with a canned answer and
 *                candidates, or make the offer, from the signal handler or from a thread of
 *                their own (as webrtcbin would).
 *   Http         synchronous libsoup requests from the test thread.
 *   StubServer   a SoupServer in a thread of its own with a handler given by the test (for
 *                redirects, servers without PATCH, broken servers).
 */
#pragma once

#include "contextthread.h"
#include "gstptr.h"
#include "httpclientsignaller.h"
#include "httpserversignaller.h"
#include "sdputil.h"
#include "testutil.h"
#include "vectors.h"

#include <gst/gst.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace vctest {

constexpr guint kWaitMs = 5000;   /* longest wait for anything that should happen */

static const char *const kCand1 = "candidate:1 1 UDP 2015363327 127.0.0.1 40000 typ host";
static const char *const kCand2 = "candidate:2 1 TCP 1015021823 127.0.0.1 9 typ host tcptype active";

/* `text` without its a=candidate and a=end-of-candidates lines (as webrtcbin makes them). */
inline std::string
strip_candidates (const char *text)
{
  std::string out;
  gchar **lines = g_strsplit (text, "\r\n", -1);
  for (gchar **l = lines; *l; l++) {
    if (!**l || g_str_has_prefix (*l, "a=candidate:") || g_str_has_prefix (*l, "a=end-of-candidates"))
      continue;
    out += std::string (*l) + "\r\n";
  }
  g_strfreev (lines);
  return out;
}

inline GstWebRTCSessionDescription *
make_desc (GstWebRTCSDPType type, const std::string &text)
{
  std::string error;
  auto sdp = vc::sdp::parse (text.c_str (), &error);
  g_assert_true (sdp != nullptr);
  return gst_webrtc_session_description_new (type, sdp.release ());
}

/* The canned answer: aiortc's, without its candidates (they come through add_ice). */
inline GstWebRTCSessionDescription *
canned_answer (const char *ufrag = nullptr)
{
  std::string text = strip_candidates (kAiortcAnswer);
  if (ufrag) {
    auto pos = text.find ("a=ice-ufrag:ljko");
    text.replace (pos, strlen ("a=ice-ufrag:ljko"), std::string ("a=ice-ufrag:") + ufrag);
  }
  return make_desc (GST_WEBRTC_SDP_TYPE_ANSWER, text);
}


/* ------------------------------------------------------------------------------------------ */

struct Ice {
  std::string id;
  guint mline;
  std::string candidate;   /* "" = end of candidates */
};

struct Requested {
  std::string id, peer, offer;   /* offer "" = none */
};

class Recorder {
public:
  explicit Recorder (gpointer signaller) : sig_ (GST_VOICE_SIGNALLER (signaller))
  {
    g_signal_connect (sig_, "session-requested", G_CALLBACK (on_requested), this);
    g_signal_connect (sig_, "session-description", G_CALLBACK (on_description), this);
    g_signal_connect (sig_, "handle-ice", G_CALLBACK (on_ice), this);
    g_signal_connect (sig_, "session-ended", G_CALLBACK (on_ended), this);
    g_signal_connect (sig_, "error", G_CALLBACK (on_error), this);
  }
  virtual ~Recorder () { g_signal_handlers_disconnect_by_data (sig_, this); }

  /* Waits until pred () (called under the lock) holds; false after timeout_ms. */
  bool wait (const std::function<bool ()> &pred, guint timeout_ms = kWaitMs)
  {
    std::unique_lock<std::mutex> lk (lock);
    return cv.wait_for (lk, std::chrono::milliseconds (timeout_ms), pred);
  }
  template <typename T> T get (const T &field)
  {
    std::lock_guard<std::mutex> lk (lock);
    return field;
  }

  std::mutex lock;
  std::condition_variable cv;
  std::vector<Requested> requested;
  std::vector<std::pair<std::string, std::string>> descriptions;
  std::vector<Ice> ice;
  std::vector<std::string> ended, errors;
  std::vector<std::string> threads;   /* "self" when a signal came from the test thread */

protected:
  virtual void requested_hook (const Requested &) {}
  void note (std::function<void ()> fn)
  {
    {
      std::lock_guard<std::mutex> lk (lock);
      fn ();
      threads.push_back (g_thread_self () == main_thread_ ? "main" : "other");
    }
    cv.notify_all ();
  }

  GstVoiceSignaller *sig_;
  GThread *main_thread_ = g_thread_self ();

private:
  static void on_requested (GstVoiceSignaller *, const char *id, const char *peer,
      GstWebRTCSessionDescription *offer, Recorder *r)
  {
    Requested req {id, peer ? peer : "", offer ? vc::sdp::to_text (offer) : ""};
    r->note ([&] { r->requested.push_back (req); });
    r->requested_hook (req);
  }
  static void on_description (GstVoiceSignaller *, const char *id,
      GstWebRTCSessionDescription *answer, Recorder *r)
  {
    std::string text = vc::sdp::to_text (answer);
    r->note ([&] { r->descriptions.emplace_back (id, text); });
  }
  static void on_ice (GstVoiceSignaller *, const char *id, guint mline, const char *cand,
      Recorder *r)
  {
    r->note ([&] { r->ice.push_back ({id, mline, cand ? cand : ""}); });
  }
  static void on_ended (GstVoiceSignaller *, const char *id, Recorder *r)
  {
    r->note ([&] { r->ended.push_back (id); });
  }
  static void on_error (GstVoiceSignaller *, const char *id, const char *message, Recorder *r)
  {
    r->note ([&] { r->errors.push_back (message ? message : ""); });
  }
};

/* The element side of a server signaller. */
class FakeServerElement : public Recorder {
public:
  enum class Mode {
    ANSWER_IN_HANDLER,   /* send_sdp + add_ice from inside "session-requested" */
    ANSWER_FROM_THREAD,  /* … from a thread of its own, as webrtcbin would */
    REFUSE,              /* end_session (id, "busy here") */
    NOTHING,             /* never answer */
    ANSWER_NO_EOC,       /* answer + one candidate, never the end of candidates */
  };

  FakeServerElement (GstVoiceHttpServerSignaller *server, Mode mode)
    : Recorder (server), mode_ (mode) {}
  ~FakeServerElement () override
  {
    for (auto &t : threads_)
      t.join ();
  }

  /* Answer ICE restarts (with a new ufrag) from a thread. */
  void handle_restarts ()
  {
    g_signal_connect (sig_, "ice-restart", G_CALLBACK (on_restart), this);
  }
  std::vector<std::string> restarts;

  void answer (const std::string &id, const char *ufrag = nullptr, bool eoc = true)
  {
    GstWebRTCSessionDescription *a = canned_answer (ufrag);
    gst_voice_signaller_send_sdp (sig_, id.c_str (), a);
    gst_webrtc_session_description_free (a);
    gst_voice_signaller_add_ice (sig_, id.c_str (), 0, kCand1);
    if (mode_ != Mode::ANSWER_NO_EOC) {
      gst_voice_signaller_add_ice (sig_, id.c_str (), 0, kCand2);
      if (eoc)
        gst_voice_signaller_add_ice (sig_, id.c_str (), 0, nullptr);
    }
  }

protected:
  void requested_hook (const Requested &r) override
  {
    switch (mode_) {
      case Mode::ANSWER_IN_HANDLER:
      case Mode::ANSWER_NO_EOC:
        answer (r.id);
        break;
      case Mode::ANSWER_FROM_THREAD: {
        std::lock_guard<std::mutex> lk (threads_lock_);
        std::string id = r.id;
        threads_.emplace_back ([this, id] { answer (id); });
        break;
      }
      case Mode::REFUSE:
        gst_voice_signaller_end_session (sig_, r.id.c_str (), "busy here");
        break;
      case Mode::NOTHING:
        break;
    }
  }

private:
  static gboolean on_restart (GstVoiceSignaller *, const char *id,
      GstWebRTCSessionDescription *offer, FakeServerElement *self)
  {
    std::string text = vc::sdp::to_text (offer);
    self->note ([&] { self->restarts.push_back (text); });
    std::lock_guard<std::mutex> lk (self->threads_lock_);
    std::string sid = id;
    self->threads_.emplace_back ([self, sid] { self->answer (sid, "rst1"); });
    return TRUE;
  }

  Mode mode_;
  std::mutex threads_lock_;
  std::vector<std::thread> threads_;
};

/* ------------------------------------------------------------------------------------------ */

struct Response {
  guint status = 0;
  std::string body, content_type, error;
  vc::GstPtr<SoupMessage> msg;

  std::string header (const char *name) const
  {
    const char *v = soup_message_headers_get_list (
        soup_message_get_response_headers (msg.get ()), name);
    return v ? v : "";
  }
  /* The problem+json member `name` ("" if none). */
  std::string problem (const char *name) const
  {
    vc::GstPtr<JsonParser> p = vc::adopt (json_parser_new ());
    if (!json_parser_load_from_data (p.get (), body.data (), body.size (), nullptr))
      return "";
    JsonNode *root = json_parser_get_root (p.get ());
    if (!root || !JSON_NODE_HOLDS_OBJECT (root))
      return "";
    JsonNode *n = json_object_get_member (json_node_get_object (root), name);
    if (!n || !JSON_NODE_HOLDS_VALUE (n))
      return "";
    if (json_node_get_value_type (n) == G_TYPE_INT64)
      return std::to_string (json_node_get_int (n));
    return json_node_get_string (n) ? json_node_get_string (n) : "";
  }
};

class Http {
public:
  Http () : session_ (vc::adopt (soup_session_new_with_options ("timeout", 10, nullptr))) {}

  Response send (const char *method, const std::string &url, const char *content_type = nullptr,
      const std::string &body = std::string (),
      std::vector<std::pair<std::string, std::string>> headers = {}, bool chunked = false)
  {
    Response r;
    r.msg = vc::adopt (soup_message_new (method, url.c_str ()));
    g_assert_nonnull (r.msg.get ());
    soup_message_add_flags (r.msg.get (), SOUP_MESSAGE_NO_REDIRECT);
    SoupMessageHeaders *h = soup_message_get_request_headers (r.msg.get ());
    for (auto &[k, v] : headers)
      soup_message_headers_replace (h, k.c_str (), v.c_str ());
    if (content_type && chunked) {
      GInputStream *in = g_memory_input_stream_new_from_data (g_memdup2 (body.data (),
          body.size ()), body.size (), g_free);
      soup_message_set_request_body (r.msg.get (), content_type, in, -1);
      g_object_unref (in);
    } else if (content_type) {
      GBytes *b = g_bytes_new (body.data (), body.size ());
      soup_message_set_request_body_from_bytes (r.msg.get (), content_type, b);
      g_bytes_unref (b);
    }
    GError *err = nullptr;
    GBytes *bytes = soup_session_send_and_read (session_.get (), r.msg.get (), nullptr, &err);
    if (!bytes) {
      r.error = err->message;
      g_error_free (err);
      return r;
    }
    r.status = soup_message_get_status (r.msg.get ());
    r.body.assign (static_cast<const char *> (g_bytes_get_data (bytes, nullptr)),
        g_bytes_get_size (bytes));
    g_bytes_unref (bytes);
    const char *ct = soup_message_headers_get_content_type (
        soup_message_get_response_headers (r.msg.get ()), nullptr);
    r.content_type = ct ? ct : "";
    return r;
  }

private:
  vc::GstPtr<SoupSession> session_;
};

/* ------------------------------------------------------------------------------------------ */

/* A SoupServer on 127.0.0.1:<ephemeral> in a thread of its own. */
class StubServer {
public:
  using Handler = std::function<void (SoupServerMessage *msg, const std::string &path)>;

  explicit StubServer (Handler handler) : handler_ (std::move (handler)), loop_ ("stub-http")
  {
    loop_.invoke_sync ([this] {
      server_ = vc::adopt (static_cast<SoupServer *> (g_object_new (SOUP_TYPE_SERVER, nullptr)));
      soup_server_add_handler (server_.get (), nullptr, on_request, this, nullptr);
      GInetAddress *ip = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
      GSocketAddress *addr = g_inet_socket_address_new (ip, 0);
      g_assert_true (soup_server_listen (server_.get (), addr,
          static_cast<SoupServerListenOptions> (0), nullptr));
      g_object_unref (addr);
      g_object_unref (ip);
      GSList *uris = soup_server_get_uris (server_.get ());
      port_ = g_uri_get_port (static_cast<GUri *> (uris->data));
      g_slist_free_full (uris, reinterpret_cast<GDestroyNotify> (g_uri_unref));
    });
  }
  ~StubServer ()
  {
    loop_.invoke_sync ([this] {
      for (auto &m : held_)
        soup_server_message_unpause (m.get ());
      held_.clear ();
      soup_server_disconnect (server_.get ());
      server_.reset ();
    });
  }

  std::string url (const std::string &path) const
  {
    return "http://127.0.0.1:" + std::to_string (port_) + path;
  }
  /* From the handler: hold the request forever (until the stub is destroyed). */
  void hold (SoupServerMessage *msg)
  {
    soup_server_message_pause (msg);
    held_.push_back (vc::ref (msg));
  }

  /* Waits until `n` requests came in; false after timeout_ms. */
  bool wait_requests (size_t n, guint timeout_ms = kWaitMs)
  {
    std::unique_lock<std::mutex> lk (lock);
    return cv_.wait_for (lk, std::chrono::milliseconds (timeout_ms),
        [&] { return seen.size () >= n; });
  }

  std::mutex lock;
  std::vector<std::string> seen;   /* "METHOD path auth-header" */

private:
  static void on_request (SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *,
      gpointer data)
  {
    auto *self = static_cast<StubServer *> (data);
    const char *auth = soup_message_headers_get_one (
        soup_server_message_get_request_headers (msg), "Authorization");
    {
      std::lock_guard<std::mutex> lk (self->lock);
      self->seen.push_back (std::string (soup_server_message_get_method (msg)) + " " + path +
          " " + (auth ? auth : "-"));
    }
    self->cv_.notify_all ();
    self->handler_ (msg, path);
  }

  Handler handler_;
  std::condition_variable cv_;
  vc::ContextThread loop_;
  vc::GstPtr<SoupServer> server_;
  std::vector<vc::GstPtr<SoupServerMessage>> held_;
  guint port_ = 0;
};

/* ------------------------------------------------------------------------------------------ */

/* A started server signaller on 127.0.0.1:<ephemeral>. */
inline vc::GstPtr<GstVoiceHttpServerSignaller>
start_server (std::function<void (GObject *)> configure = nullptr)
{
  auto server = vc::adopt (gst_voice_http_server_signaller_new ());
  g_object_set (server.get (), "listen", "127.0.0.1:0", nullptr);
  if (configure)
    configure (G_OBJECT (server.get ()));
  GError *err = nullptr;
  gboolean ok = gst_voice_signaller_start (GST_VOICE_SIGNALLER (server.get ()), &err);
  g_assert_no_error (err);
  g_assert_true (ok);
  return server;
}

inline std::string
server_url (GstVoiceHttpServerSignaller *server, const std::string &path = "")
{
  guint port = 0;
  gchar *p = nullptr;
  g_object_get (server, "port", &port, "path", &p, nullptr);
  std::string url = "http://127.0.0.1:" + std::to_string (port) + (path.empty () ? p : path);
  g_free (p);
  return url;
}

/* A TCP port on 127.0.0.1 that nothing listens on (bound, then closed). */
inline guint
closed_port ()
{
  GSocket *s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, nullptr);
  GInetAddress *ip = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new (ip, 0);
  g_assert_true (g_socket_bind (s, addr, FALSE, nullptr));
  GSocketAddress *local = g_socket_get_local_address (s, nullptr);
  guint port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  g_object_unref (local);
  g_object_unref (addr);
  g_object_unref (ip);
  g_socket_close (s, nullptr);
  g_object_unref (s);
  return port;
}

inline gint64
now_ms ()
{
  return g_get_monotonic_time () / 1000;
}

} // namespace vctest
