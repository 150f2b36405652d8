/* Fuzz target: HTTP request handling as a whole, through the real HTTP server signaller
 * (gst/httpserversignaller.cpp: routing, auth, CORS, body limits, the WHIP and JSON offers,
 * PATCH fragments and ICE restarts, DELETE), behind libsoup 3's HTTP/1 parser.
 *
 * The input is the bytes a peer sends on one connection (one request or several, pipelined).
 * The signaller is started once, on 127.0.0.1:0. Its SoupServer is private, so it is picked
 * up from its first "request-started" emission (one OPTIONS request over loopback); after
 * that each input is handed to the same SoupServer in memory, with
 * soup_server_accept_iostream () on a GIOStream whose input is the fuzz input, in the
 * server's own thread. The peer then hangs up as a real one would (see check_done ()); an
 * input the server is not done with within 10 s is a hang and aborts.
 *
 * The test plays the element: every offer gets aiortc's answer and gathering completes at
 * once, ICE restarts are answered too, and the input's sessions are ended after it, so that
 * no state carries over from one input to the next. "@SESSION@" in an input is replaced by
 * the id of a session made for it (a WHIP POST of Chrome's offer), so that PATCH and DELETE
 * reach a live session.
 */
#include "fuzz.h"
#include "gstptr.h"
#include "httpserversignaller.h"
#include "sdputil.h"
#include "vectors.h"

#include <gst/gst.h>
#include <libsoup/soup.h>

#include <chrono>
#include <cstring>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace {

constexpr const char *kPlaceholder = "@SESSION@";
constexpr auto kInputDeadline = std::chrono::seconds (10);

GstVoiceHttpServerSignaller *server;
SoupServer *soup;                     /* the signaller's, found by capture_server () */
GMainContext *context;                /* the signaller's thread's */
GSocketAddress *local_address, *remote_address;
GstWebRTCSessionDescription *answer;
std::vector<std::string> requested;   /* session ids of this input (server thread only) */

std::mutex lock;
std::condition_variable cond;

/* Runs fn in the server's thread and waits for it. */
void
in_server (std::function<void ()> fn)
{
  struct Call {
    std::function<void ()> fn;
    bool done = false;
  } call {std::move (fn)};
  g_main_context_invoke (context, [] (gpointer data) -> gboolean {
    auto *c = static_cast<Call *> (data);
    c->fn ();
    std::lock_guard<std::mutex> lk (lock);
    c->done = true;
    cond.notify_all ();
    return G_SOURCE_REMOVE;
  }, &call);
  std::unique_lock<std::mutex> lk (lock);
  cond.wait (lk, [&] { return call.done; });
}

gboolean
on_request_started (GSignalInvocationHint *hint, guint n, const GValue *values, gpointer data)
{
  std::lock_guard<std::mutex> lk (lock);
  if (!soup) {
    soup = SOUP_SERVER (g_value_dup_object (&values[0]));
    context = g_main_context_ref_thread_default ();
    cond.notify_all ();
  }
  return FALSE;   /* once: the hook removes itself */
}

/* One request over loopback, so that the server shows itself to the emission hook. */
void
capture_server ()
{
  g_signal_add_emission_hook (g_signal_lookup ("request-started", SOUP_TYPE_SERVER), 0,
      on_request_started, nullptr, nullptr);
  guint port = 0;
  g_object_get (server, "port", &port, nullptr);
  GSocketClient *client = g_socket_client_new ();
  GError *err = nullptr;
  GSocketConnection *conn = g_socket_client_connect_to_host (client, "127.0.0.1",
      static_cast<guint16> (port), nullptr, &err);
  if (!conn) {
    fprintf (stderr, "cannot connect to the server on 127.0.0.1:%u: %s\n", port, err->message);
    abort ();
  }
  const char request[] = "OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (conn)), request,
      sizeof request - 1, nullptr, nullptr, nullptr);
  char buf[4096];
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  while (g_input_stream_read (in, buf, sizeof buf, nullptr, nullptr) > 0) {
  }
  g_object_unref (conn);
  g_object_unref (client);
  std::unique_lock<std::mutex> lk (lock);
  if (!cond.wait_for (lk, std::chrono::seconds (10), [] { return soup != nullptr; })) {
    fprintf (stderr, "the server's SoupServer did not show itself\n");
    abort ();
  }
}

/* The element's part: answer at once, with one candidate, gathering complete. */
void
answer_session (GstVoiceSignaller *sig, const char *id)
{
  gst_voice_signaller_send_sdp (sig, id, answer);
  gst_voice_signaller_add_ice (sig, id, 0, "candidate:1 1 UDP 2015363327 127.0.0.1 40000 typ host");
  gst_voice_signaller_add_ice (sig, id, 0, nullptr);
}

void
on_session_requested (GstVoiceSignaller *sig, const char *id, const char *peer,
    GstWebRTCSessionDescription *offer, gpointer data)
{
  requested.push_back (id);
  fuzz_check (offer != nullptr);
  answer_session (sig, id);
}

gboolean
on_ice_restart (GstVoiceSignaller *sig, const char *id, GstWebRTCSessionDescription *offer,
    gpointer data)
{
  fuzz_check (offer != nullptr);
  answer_session (sig, id);
  return TRUE;
}

/* ------------------------------------------------------------------------------------------
 * The peer's side of a connection: an input stream that gives what the peer sent and then
 * would block (a peer that waits), until it is ended (a peer that hung up).
 * ---------------------------------------------------------------------------------------- */

struct FuzzInput {
  GInputStream parent;
  GByteArray *data;
  gsize pos;
  gboolean ended;
  GCancellable *wake;      /* cancelled when there is more to read: wakes the waiting sources */
};
struct FuzzInputClass {
  GInputStreamClass parent;
};

void fuzz_input_pollable_init (GPollableInputStreamInterface *iface);
G_DEFINE_TYPE_WITH_CODE (FuzzInput, fuzz_input, G_TYPE_INPUT_STREAM,
    G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_INPUT_STREAM, fuzz_input_pollable_init))

gssize
fuzz_input_read_nonblocking (GPollableInputStream *stream, void *buffer, gsize count,
    GError **error)
{
  auto *self = reinterpret_cast<FuzzInput *> (stream);
  gsize size = self->data->len;
  if (self->pos < size) {
    gsize n = MIN (count, size - self->pos);
    memcpy (buffer, self->data->data + self->pos, n);
    self->pos += n;
    return static_cast<gssize> (n);
  }
  if (self->ended)
    return 0;
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK, "the peer sent everything");
  return -1;
}

gssize
fuzz_input_read (GInputStream *stream, void *buffer, gsize count, GCancellable *,
    GError **error)
{
  return fuzz_input_read_nonblocking (G_POLLABLE_INPUT_STREAM (stream), buffer, count, error);
}

gboolean
fuzz_input_is_readable (GPollableInputStream *stream)
{
  auto *self = reinterpret_cast<FuzzInput *> (stream);
  return self->ended || self->pos < self->data->len;
}

GSource *
fuzz_input_create_source (GPollableInputStream *stream, GCancellable *cancellable)
{
  auto *self = reinterpret_cast<FuzzInput *> (stream);
  GSource *child = fuzz_input_is_readable (stream) ? g_timeout_source_new (0)
                                                   : g_cancellable_source_new (self->wake);
  GSource *source = g_pollable_source_new_full (stream, child, cancellable);
  g_source_unref (child);
  return source;
}

void
fuzz_input_finalize (GObject *object)
{
  auto *self = reinterpret_cast<FuzzInput *> (object);
  g_byte_array_unref (self->data);
  g_object_unref (self->wake);
  G_OBJECT_CLASS (fuzz_input_parent_class)->finalize (object);
}

void
fuzz_input_class_init (FuzzInputClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = fuzz_input_finalize;
  G_INPUT_STREAM_CLASS (klass)->read_fn = fuzz_input_read;
}

void
fuzz_input_init (FuzzInput *self)
{
  self->wake = g_cancellable_new ();
}

void
fuzz_input_pollable_init (GPollableInputStreamInterface *iface)
{
  iface->is_readable = fuzz_input_is_readable;
  iface->create_source = fuzz_input_create_source;
  iface->read_nonblocking = fuzz_input_read_nonblocking;
}

FuzzInput *
fuzz_input_new (const std::string &bytes)
{
  auto *self = static_cast<FuzzInput *> (g_object_new (fuzz_input_get_type (), nullptr));
  self->data = g_byte_array_sized_new (bytes.size ());
  g_byte_array_append (self->data, reinterpret_cast<const guint8 *> (bytes.data ()),
      bytes.size ());
  return self;
}

void
fuzz_input_wake (FuzzInput *self)
{
  g_cancellable_cancel (self->wake);
  g_object_unref (self->wake);
  self->wake = g_cancellable_new ();
}

/* The peer sends more. */
void
fuzz_input_send (FuzzInput *self, const char *text)
{
  g_byte_array_append (self->data, reinterpret_cast<const guint8 *> (text), strlen (text));
  fuzz_input_wake (self);
}

/* The peer hangs up. */
void
fuzz_input_end (FuzzInput *self)
{
  self->ended = TRUE;
  fuzz_input_wake (self);
}

/* ------------------------------------------------------------------------------------------
 * One input's connection
 * ---------------------------------------------------------------------------------------- */

/* Server thread only, but `gone` (under `lock`). */
struct Conn {
  FuzzInput *in = nullptr;
  GIOStream *io = nullptr;             /* the connection, as handed to the server */
  guint started = 0, finished = 0;     /* requests, as the SoupServer counts them */
  bool closing = false;                /* the closing request was sent */
  GSource *check = nullptr;            /* check_done () */
  bool gone = false;
};
Conn *current;

void
on_started (SoupServer *, SoupServerMessage *msg, gpointer)
{
  if (current)
    current->started++;
}

void
on_finished (SoupServer *, SoupServerMessage *msg, gpointer)
{
  if (!current)
    return;
  current->finished++;
}

/* Runs at low priority, i.e. whenever the server has done all it could with what it read,
 * and hangs up as a peer would once it has its answers:
 *  - every request that began has finished: one last request that closes the connection is
 *    sent (an HTTP/1.0 OPTIONS; its answer is not looked at). Ending the input instead
 *    would not do: libsoup 3.2 does not close a keep-alive connection whose peer hangs up
 *    between two requests (fixed in libsoup 3.3 by "server: do not leak idle connections
 *    closed by the client");
 *  - a request is still in progress (it waits for more): the input ends. libsoup fails the
 *    request and closes the connection, or answers it (400) and then, for the reason
 *    above, keeps the connection: the input is done all the same once nothing is in
 *    progress. */
gboolean
check_done (gpointer data)
{
  auto *conn = static_cast<Conn *> (data);
  FuzzInput *in = conn->in;
  bool idle = conn->started == conn->finished;
  if (g_io_stream_is_closed (conn->io) || (in->ended && idle)) {
    std::lock_guard<std::mutex> lk (lock);
    conn->gone = true;
    cond.notify_all ();
    return G_SOURCE_REMOVE;
  }
  if (in->pos < in->data->len || in->ended)
    return G_SOURCE_CONTINUE;
  if (idle && !conn->closing) {
    conn->closing = true;
    fuzz_input_send (in, "OPTIONS * HTTP/1.0\r\n\r\n");
  } else {
    fuzz_input_end (in);
  }
  return G_SOURCE_CONTINUE;
}

/* Hands `bytes` to the server as one connection and waits until it is done (check_done). */
void
feed (const std::string &bytes)
{
  Conn conn;
  in_server ([&conn, &bytes] {
    conn.in = fuzz_input_new (bytes);
    GOutputStream *out = g_memory_output_stream_new_resizable ();
    conn.io = g_simple_io_stream_new (G_INPUT_STREAM (conn.in), out);
    g_object_unref (out);
    current = &conn;
    GError *err = nullptr;
    if (!soup_server_accept_iostream (soup, conn.io, local_address, remote_address, &err)) {
      fprintf (stderr, "soup_server_accept_iostream: %s\n", err->message);
      abort ();
    }
    conn.check = g_idle_source_new ();
    g_source_set_priority (conn.check, G_PRIORITY_LOW);
    g_source_set_callback (conn.check, check_done, &conn, nullptr);
    g_source_attach (conn.check, context);
  });
  std::unique_lock<std::mutex> lk (lock);
  if (!cond.wait_for (lk, kInputDeadline, [&conn] { return conn.gone; })) {
    fprintf (stderr, "the server was not done with the input within %lld s\n",
        static_cast<long long> (kInputDeadline.count ()));
    abort ();
  }
  lk.unlock ();
  in_server ([&conn] {
    current = nullptr;
    g_source_destroy (conn.check);
    g_source_unref (conn.check);
    g_clear_object (&conn.in);
    g_clear_object (&conn.io);
  });
}

std::string
whip_post (const std::string &body)
{
  return "POST /call HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer secret\r\n"
         "Content-Type: application/sdp\r\nContent-Length: " + std::to_string (body.size ()) +
      "\r\n\r\n" + body;
}

} // namespace

extern "C" int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  gst_init (nullptr, nullptr);
  g_log_set_always_fatal (static_cast<GLogLevelFlags> (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL));
  std::string error;
  auto sdp = vc::sdp::parse (kAiortcAnswer, &error);
  fuzz_check (sdp != nullptr);
  answer = gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_ANSWER, sdp.release ());
  local_address = g_inet_socket_address_new_from_string ("127.0.0.1", 8080);
  remote_address = g_inet_socket_address_new_from_string ("127.0.0.1", 40000);

  server = gst_voice_http_server_signaller_new ();
  const char *ice[] = {"stun:stun.example.net:3478",
                       "turn://user:pass@turn.example.net:3478?transport=udp", nullptr};
  /* Small limits, so that the fuzzer reaches them: max-body, max-sessions. */
  g_object_set (server, "listen", "127.0.0.1:0", "auth-token", "secret", "max-body", 8192,
      "max-sessions", 4, "serve-page", TRUE, "ice-servers", ice, nullptr);
  g_signal_connect (server, "session-requested", G_CALLBACK (on_session_requested), nullptr);
  g_signal_connect (server, "ice-restart", G_CALLBACK (on_ice_restart), nullptr);
  GError *err = nullptr;
  if (!gst_voice_signaller_start (GST_VOICE_SIGNALLER (server), &err)) {
    fprintf (stderr, "cannot start the server: %s\n", err->message);
    abort ();
  }
  capture_server ();
  in_server ([] {
    g_signal_connect (soup, "request-started", G_CALLBACK (on_started), nullptr);
    g_signal_connect (soup, "request-finished", G_CALLBACK (on_finished), nullptr);
    g_signal_connect (soup, "request-aborted", G_CALLBACK (on_finished), nullptr);
  });
  return 0;
}

extern "C" int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  std::string input (reinterpret_cast<const char *> (data), size);
  if (input.find (kPlaceholder) != std::string::npos) {
    feed (whip_post (kChromeOffer));
    std::string id;
    in_server ([&id] {
      if (!requested.empty ())
        id = requested.front ();
    });
    fuzz_check (!id.empty ());
    for (size_t at; (at = input.find (kPlaceholder)) != std::string::npos;)
      input.replace (at, strlen (kPlaceholder), id);
  }
  feed (input);
  in_server ([] {
    for (const std::string &id : requested)
      gst_voice_signaller_end_session (GST_VOICE_SIGNALLER (server), id.c_str (), nullptr);
    requested.clear ();
  });
  return 0;
}
