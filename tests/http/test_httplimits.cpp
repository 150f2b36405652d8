/* gst-voicecall: the HTTP server signaller's limits, with raw TCP clients over 127.0.0.1.
 *
 * What one peer can make the server hold: file descriptors per call (a connection must be
 * closed once its peer is gone), connections that never finish a request (request-timeout),
 * bodies declared or sent larger than max-body, oversized headers, bodies shorter than their
 * Content-Length, bursts of connections (the listen backlog).
 */
#include "httptest.h"
#include "rawhttp.h"

#include <poll.h>

#include <memory>

using namespace vctest;
using Mode = FakeServerElement::Mode;

static guint
port_of (GstVoiceHttpServerSignaller *server)
{
  guint port = 0;
  g_object_get (server, "port", &port, nullptr);
  return port;
}

/* POST the Chrome offer on a raw connection, read the answer; returns the Location. */
static std::string
raw_call (guint port)
{
  Raw c (port);
  g_assert_true (c.connected ());
  g_assert_true (c.send (raw_request ("POST", "/call", "application/sdp", kChromeOffer)));
  RawResponse r = c.response ();
  g_assert_cmpuint (r.status, ==, 201);
  return r.header ("Location");
}

static void
raw_delete (guint port, const std::string &location)
{
  Raw c (port);
  g_assert_true (c.send (raw_request ("DELETE", location)));
  g_assert_cmpuint (c.response ().status, ==, 200);
}

/* ------------------------------------------------------------------------------------------ */

static void
test_fds_answered_calls (void)
{
  /* offer → answer → client closes → DELETE, 100 times: the server's fd count stays flat
   * (it was one socket more per call, left in CLOSE-WAIT). */
  auto server = start_server ([] (GObject *s) { g_object_set (s, "max-sessions", 0, nullptr); });
  FakeServerElement element (server.get (), Mode::ANSWER_IN_HANDLER);
  guint port = port_of (server.get ());
  raw_delete (port, raw_call (port));   /* warm up: first-use allocations */
  guint before = wait_fd_count (0, 200);
  const guint n = 100;
  for (guint i = 0; i < n; i++)
    raw_delete (port, raw_call (port));
  g_assert_true (element.wait ([&] { return element.ended.size () == n + 1; }));
  guint after = wait_fd_count (before + 2, 2000);
  g_test_message ("fds: %u before, %u after %u answered + deleted calls", before, after, n);
  g_assert_cmpuint (after, <=, before + 2);
  gst_voice_signaller_stop (GST_VOICE_SIGNALLER (server.get ()));
}

static void
test_fds_answered_not_deleted (void)
{
  /* offer → answer → client closes; the session goes on (no DELETE): still no fd kept. */
  auto server = start_server ([] (GObject *s) { g_object_set (s, "max-sessions", 0, nullptr); });
  FakeServerElement element (server.get (), Mode::ANSWER_IN_HANDLER);
  guint port = port_of (server.get ());
  raw_call (port);
  guint before = wait_fd_count (0, 200);
  const guint n = 100;
  for (guint i = 0; i < n; i++)
    raw_call (port);
  guint after = wait_fd_count (before + 2, 2000);
  g_test_message ("fds: %u before, %u after %u answered calls", before, after, n);
  g_assert_cmpuint (after, <=, before + 2);
  gst_voice_signaller_stop (GST_VOICE_SIGNALLER (server.get ()));
}

static void
test_fds_peer_gone (void)
{
  /* offer → the client closes before the answer: session-ended, and no fd kept. */
  auto server = start_server ([] (GObject *s) { g_object_set (s, "max-sessions", 0, nullptr); });
  FakeServerElement element (server.get (), Mode::NOTHING);
  guint port = port_of (server.get ());
  auto one = [&] (guint i) {
    Raw c (port);
    g_assert_true (c.send (raw_request ("POST", "/call", "application/sdp", kChromeOffer)));
    g_assert_true (element.wait ([&] { return element.requested.size () == i + 1; }));
    c.close ();
    g_assert_true (element.wait ([&] { return element.ended.size () == i + 1; }));
  };
  one (0);
  guint before = wait_fd_count (0, 200);
  const guint n = 100;
  for (guint i = 1; i <= n; i++)
    one (i);
  guint after = wait_fd_count (before + 2, 2000);
  g_test_message ("fds: %u before, %u after %u calls the peer left", before, after, n);
  g_assert_cmpuint (after, <=, before + 2);
  gst_voice_signaller_stop (GST_VOICE_SIGNALLER (server.get ()));
}


/* ------------------------------------------------------------------------------------------
 * request-timeout
 * ---------------------------------------------------------------------------------------- */

static void
test_request_timeout (void)
{
  /* A request that never completes is answered 408 and closed after request-timeout (it was
   * held forever, one fd each); so is a connection that sends nothing. */
  auto server = start_server ([] (GObject *s) { g_object_set (s, "request-timeout", 300, nullptr); });
  FakeServerElement element (server.get (), Mode::ANSWER_IN_HANDLER);
  guint port = port_of (server.get ());

  Raw partial (port);
  g_assert_true (partial.send ("POST /call HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty"));
  Raw silent (port);
  gint64 t0 = now_ms ();
  RawResponse r = partial.response (3000);
  gint64 took = now_ms () - t0;
  g_test_message ("half-sent request answered %u after %" G_GINT64_FORMAT " ms", r.status, took);
  g_assert_cmpuint (r.status, ==, 408);
  vc_assert_cmpstr (r.header ("Content-Type"), ==, "application/problem+json");
  vc_assert_cmpstr (r.header ("Connection"), ==, "close");
  g_assert_cmpint (took, >=, 250);
  g_assert_cmpint (took, <, 2000);
  g_assert_true (partial.wait_closed (2000));
  g_assert_cmpuint (silent.response (2000).status, ==, 408);
  g_assert_true (silent.wait_closed (2000));

  /* Many at once: all closed, the fds come back. */
  guint before = wait_fd_count (0, 100);
  {
    std::vector<std::unique_ptr<Raw>> conns;
    for (int i = 0; i < 50; i++) {
      conns.push_back (std::make_unique<Raw> (port));
      g_assert_true (conns.back ()->send ("GET / HTTP/1.1\r\nHost: x\r\n"));
    }
    for (auto &c : conns)
      g_assert_true (c->wait_closed (3000));
  }
  guint after = wait_fd_count (before + 2, 2000);
  g_test_message ("fds: %u before, %u after 50 half-sent requests timed out", before, after);
  g_assert_cmpuint (after, <=, before + 2);

  /* A complete request is not affected, nor a held one: the element's answer may take longer
   * than request-timeout. */
  g_assert_cmpuint (raw_call (port).size (), >, 0);
  gst_voice_signaller_stop (GST_VOICE_SIGNALLER (server.get ()));
}

static void
test_held_longer_than_timeout (void)
{
  auto server = start_server ([] (GObject *s) { g_object_set (s, "request-timeout", 200, nullptr); });
  FakeServerElement element (server.get (), Mode::NOTHING);
  guint port = port_of (server.get ());
  Raw c (port);
  g_assert_true (c.send (raw_request ("POST", "/call", "application/sdp", kChromeOffer)));
  g_assert_true (element.wait ([&] { return element.requested.size () == 1; }));
  g_usleep (500 * 1000);
  element.answer (element.get (element.requested[0].id));
  g_assert_cmpuint (c.response ().status, ==, 201);
  gst_voice_signaller_stop (GST_VOICE_SIGNALLER (server.get ()));
}

static void
test_short_body (void)
{
  /* A body shorter than its Content-Length: no session. Kept open, the request times out
   * (408); half-closed, libsoup 3.2 closes the connection without a status. */
  auto server = start_server ([] (GObject *s) { g_object_set (s, "request-timeout", 300, nullptr); });
  FakeServerElement element (server.get (), Mode::ANSWER_IN_HANDLER);
  guint port = port_of (server.get ());
  std::string body = std::string (kChromeOffer).substr (0, 100);
  std::string request = raw_request ("POST", "/call", "application/sdp", body,
      "Content-Length: 1000\r\n");

  Raw open (port);
  g_assert_true (open.send (request));
  RawResponse r = open.response (3000);
  g_assert_cmpuint (r.status, ==, 408);
  g_assert_true (open.wait_closed (2000));

  g_object_set (server.get (), "request-timeout", 5000, nullptr);
  Raw half (port);
  g_assert_true (half.send (request));
  half.shutdown_write ();
  gint64 t0 = now_ms ();
  r = half.response (3000);
  g_assert_cmpuint (r.status, ==, 0);
  g_assert_true (half.wait_closed (100));
  g_assert_cmpint (now_ms () - t0, <, 2500);   /* at once, not after request-timeout */

  g_assert_cmpuint (element.get (element.requested).size (), ==, 0);
  gst_voice_signaller_stop (GST_VOICE_SIGNALLER (server.get ()));
}

/* ------------------------------------------------------------------------------------------
 * Sizes
 * ---------------------------------------------------------------------------------------- */

static void
test_declared_too_large (void)
{
  /* Content-Length over max-body: 413 before the body is read (libsoup read and dropped the
   * whole body first: 30 MB went in, no answer). */
  auto server = start_server ();
  FakeServerElement element (server.get (), Mode::ANSWER_IN_HANDLER);
  guint port = port_of (server.get ());
  Raw c (port);
  g_assert_true (c.send ("POST /call HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
      "application/sdp\r\nContent-Length: 100000000\r\n\r\n"));
  g_assert_true (c.send (std::string (64 * 1024, 'v')));
  gint64 t0 = now_ms ();
  RawResponse r = c.response (2000);
  g_test_message ("413 after %" G_GINT64_FORMAT " ms", now_ms () - t0);
  g_assert_cmpuint (r.status, ==, 413);
  vc_assert_cmpstr (r.header ("Connection"), ==, "close");
  g_assert_cmpint (count (r.body, "max-body 65536"), ==, 1);
  /* The server stops taking the body: sending the rest fails well before 100 MB. */
  std::string chunk (256 * 1024, 'v');
  gsize sent = 0;
  while (sent < 100000000 && c.send (chunk))
    sent += chunk.size ();
  g_test_message ("%zu more bytes went in before the server closed", sent);
  g_assert_cmpuint (sent, <, 20 * 1000 * 1000);
  g_assert_cmpuint (element.get (element.requested).size (), ==, 0);
  gst_voice_signaller_stop (GST_VOICE_SIGNALLER (server.get ()));
}

static void
test_chunked_too_large (void)
{
  /* A chunked body is refused as soon as it passes max-body, not at its end. */
  auto server = start_server ([] (GObject *s) { g_object_set (s, "max-body", 4096, nullptr); });
  FakeServerElement element (server.get (), Mode::ANSWER_IN_HANDLER);
  Raw c (port_of (server.get ()));
  g_assert_true (c.send ("POST /call HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
      "application/sdp\r\nTransfer-Encoding: chunked\r\n\r\n"));
  for (int i = 0; i < 5; i++)
    g_assert_true (c.send ("400\r\n" + std::string (1024, 'v') + "\r\n"));
  RawResponse r = c.response (2000);   /* no last chunk: the body never ends */
  g_assert_cmpuint (r.status, ==, 413);
  g_assert_true (c.wait_closed (2000));
  gst_voice_signaller_stop (GST_VOICE_SIGNALLER (server.get ()));
}

static void
test_header_too_large (void)
{
  auto server = start_server ();
  FakeServerElement element (server.get (), Mode::ANSWER_IN_HANDLER);
  guint port = port_of (server.get ());
  std::string offer = raw_request ("POST", "/call", "application/sdp", kChromeOffer);

  /* Over max-header-size (16 KiB), under libsoup's 64 KiB: 431 (libsoup took it). */
  Raw big (port);
  g_assert_true (big.send (raw_request ("POST", "/call", "application/sdp", kChromeOffer,
      "X-Big: " + std::string (20000, 'h') + "\r\n")));
  RawResponse r = big.response ();
  g_assert_cmpuint (r.status, ==, 431);
  vc_assert_cmpstr (r.header ("Content-Type"), ==, "application/problem+json");
  g_assert_cmpint (count (r.body, "max-header-size 16384"), ==, 1);
  g_assert_true (big.wait_closed (2000));

  /* Over 64 KiB: libsoup 3.2 gives up reading ("Header too big") and closes the connection
   * without a status; with the rest of the request unread the kernel resets it. The server
   * goes on, with no fd left behind. */
  guint before = wait_fd_count (0, 100);
  for (int i = 0; i < 20; i++) {
    Raw huge (port);
    huge.send ("POST /call HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string (70000, 'h') +
        "\r\n\r\n");
    RawResponse hr = huge.response (2000);
    g_assert_cmpuint (hr.status, ==, 0);
    g_assert_true (huge.wait_closed (2000));
  }
  g_assert_cmpuint (wait_fd_count (before + 2, 2000), <=, before + 2);

  /* Under max-header-size: fine. */
  Raw ok (port);
  g_assert_true (ok.send (raw_request ("POST", "/call", "application/sdp", kChromeOffer,
      "X-Big: " + std::string (8000, 'h') + "\r\n")));
  g_assert_cmpuint (ok.response ().status, ==, 201);
  g_assert_cmpuint (element.get (element.requested).size (), ==, 1);
  gst_voice_signaller_stop (GST_VOICE_SIGNALLER (server.get ()));
}

/* ------------------------------------------------------------------------------------------
 * Connections
 * ---------------------------------------------------------------------------------------- */

static void
test_max_connections (void)
{
  auto server = start_server ([] (GObject *s) { g_object_set (s, "max-connections", 4, nullptr); });
  FakeServerElement element (server.get (), Mode::NOTHING);
  guint port = port_of (server.get ());

  /* Four connections that never finish their request (slow-loris) hold every slot. A real
   * request still gets through: the oldest incomplete one makes room (408, closed). */
  std::vector<std::unique_ptr<Raw>> idle;
  for (int i = 0; i < 4; i++) {
    idle.push_back (std::make_unique<Raw> (port));
    g_usleep (20 * 1000); /* accepted in this order */
  }
  Raw real (port);
  gint64 t0 = now_ms ();
  g_assert_true (real.send (raw_request ("OPTIONS", "/call")));
  g_assert_cmpuint (real.response (2000).status, ==, 204);
  g_assert_cmpint (now_ms () - t0, <, 1000);
  RawResponse evicted = idle[0]->response (2000);
  g_assert_cmpuint (evicted.status, ==, 408);
  g_assert_cmpint (count (evicted.body, "max-connections"), ==, 1);
  g_assert_true (idle[0]->wait_closed (2000));
  g_assert_false (idle[3]->wait_closed (100)); /* the newer ones wait their turn */
  idle.clear ();

  /* Four calls held for the element's answer are busy, not idle: a fifth connection is
   * refused (503), whole request or not. */
  g_usleep (100 * 1000);
  std::vector<std::unique_ptr<Raw>> held;
  for (int i = 0; i < 4; i++) {
    held.push_back (std::make_unique<Raw> (port));
    g_assert_true (held.back ()->send (raw_request ("POST", "/call", "application/sdp",
        kChromeOffer)));
  }
  g_assert_true (element.wait ([&] { return element.requested.size () == 4; }));
  Raw fifth (port);
  RawResponse r = fifth.response (2000);
  g_assert_cmpuint (r.status, ==, 503);
  vc_assert_cmpstr (r.header ("Retry-After"), ==, "5");
  g_assert_cmpint (count (r.body, "max-connections"), ==, 1);
  g_assert_true (fifth.wait_closed (2000));
  Raw sixth (port);
  g_assert_true (sixth.send (raw_request ("OPTIONS", "/call")));
  g_assert_cmpuint (sixth.response (2000).status, ==, 503);

  /* Once they are gone, there is room again (the server notices asynchronously: a bounded
   * number of real requests). */
  held.clear ();
  fifth.close ();
  sixth.close ();
  guint status = 0;
  for (int i = 0; i < 100 && status != 204; i++) {
    Raw again (port);
    g_assert_true (again.send (raw_request ("OPTIONS", "/call")));
    status = again.response ().status;
    if (status != 204) {
      g_assert_cmpuint (status, ==, 503);
      g_usleep (20 * 1000);
    }
  }
  g_assert_cmpuint (status, ==, 204);
  gst_voice_signaller_stop (GST_VOICE_SIGNALLER (server.get ()));
}

struct Blocker {
  std::mutex lock;
  std::condition_variable cv;
  bool blocked = false, go = false;

  static void on_requested (GstVoiceSignaller *, const char *, const char *,
      GstWebRTCSessionDescription *, Blocker *b)
  {
    std::unique_lock<std::mutex> lk (b->lock);
    b->blocked = true;
    b->cv.notify_all ();
    b->cv.wait (lk, [b] { return b->go; });
  }
};

static void
test_backlog_burst (void)
{
  /* 200 connections at once while the server's thread is busy: the kernel completes them
   * all (listen-backlog 1024). With GLib's default backlog of 10, all but ~11 waited for a
   * SYN retry (1 s). */
  auto server = start_server ([] (GObject *s) { g_object_set (s, "max-connections", 0, nullptr); });
  guint port = port_of (server.get ());
  Blocker b;
  g_signal_connect (server.get (), "session-requested", G_CALLBACK (Blocker::on_requested), &b);
  Raw busy (port);
  g_assert_true (busy.send (raw_request ("POST", "/call", "application/sdp", kChromeOffer)));
  {
    std::unique_lock<std::mutex> lk (b.lock);
    g_assert_true (b.cv.wait_for (lk, std::chrono::seconds (5), [&] { return b.blocked; }));
  }

  const int n = 200;
  GInetAddress *ip = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new (ip, port);
  std::vector<GSocket *> socks;
  std::vector<pollfd> fds;
  gint64 t0 = now_ms ();
  for (int i = 0; i < n; i++) {
    GSocket *s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
        nullptr);
    g_socket_set_blocking (s, FALSE);
    GError *err = nullptr;
    if (!g_socket_connect (s, addr, nullptr, &err)) {
      g_assert_error (err, G_IO_ERROR, G_IO_ERROR_PENDING);
      g_error_free (err);
    }
    socks.push_back (s);
    fds.push_back ({g_socket_get_fd (s), POLLOUT, 0});
  }
  int connected = 0;
  while (connected < n && now_ms () - t0 < 900) {
    poll (fds.data (), fds.size (), 10);
    connected = 0;
    for (auto &p : fds)
      connected += (p.revents & POLLOUT) ? 1 : 0;
  }
  gint64 took = now_ms () - t0;
  for (int i = 0; i < n; i++)
    g_assert_true (!(fds[i].revents & POLLOUT) || g_socket_check_connect_result (socks[i], nullptr));
  g_test_message ("%d of %d connections complete after %" G_GINT64_FORMAT " ms", connected, n,
      took);
  {
    std::lock_guard<std::mutex> lk (b.lock);
    b.go = true;
    b.cv.notify_all ();
  }
  for (GSocket *s : socks) {
    g_socket_close (s, nullptr);
    g_object_unref (s);
  }
  g_object_unref (addr);
  g_object_unref (ip);
  g_assert_cmpint (connected, ==, n);
  g_signal_handlers_disconnect_by_data (server.get (), &b);
  gst_voice_signaller_stop (GST_VOICE_SIGNALLER (server.get ()));
}

static void
test_trickle_cap (void)
{
  /* A peer cannot feed webrtcbin candidates without end: 100 per session, then 422. */
  auto server = start_server ();
  FakeServerElement element (server.get (), Mode::ANSWER_IN_HANDLER);
  guint port = port_of (server.get ());
  std::string location = raw_call (port);
  auto patch = [&] (int first, int n) {
    std::string frag = "a=ice-ufrag:5DH+\r\na=ice-pwd:coLPjdqH9norYQpnPyFS4JP9\r\n"
                       "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n";
    for (int i = first; i < first + n; i++)
      frag += "a=candidate:" + std::to_string (i) + " 1 udp 2122260223 127.0.0.1 " +
          std::to_string (40000 + i) + " typ host\r\n";
    Raw c (port);
    g_assert_true (c.send (raw_request ("PATCH", location, "application/trickle-ice-sdpfrag",
        frag)));
    return c.response ();
  };
  for (int i = 0; i < 10; i++)
    g_assert_cmpuint (patch (i * 10, 10).status, ==, 204);
  RawResponse r = patch (100, 1);
  g_assert_cmpuint (r.status, ==, 422);
  g_assert_cmpint (count (r.body, "at most 100"), ==, 1);
  g_assert_true (element.wait ([&] { return element.ice.size () == 100; }));
  g_usleep (50 * 1000);
  g_assert_cmpuint (element.get (element.ice).size (), ==, 100);
  gst_voice_signaller_stop (GST_VOICE_SIGNALLER (server.get ()));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, nullptr);
  gst_init (&argc, &argv);
  g_test_add_func ("/http/limits/fds-answered-calls", test_fds_answered_calls);
  g_test_add_func ("/http/limits/fds-answered-not-deleted", test_fds_answered_not_deleted);
  g_test_add_func ("/http/limits/fds-peer-gone", test_fds_peer_gone);
  g_test_add_func ("/http/limits/request-timeout", test_request_timeout);
  g_test_add_func ("/http/limits/held-longer-than-timeout", test_held_longer_than_timeout);
  g_test_add_func ("/http/limits/short-body", test_short_body);
  g_test_add_func ("/http/limits/declared-too-large", test_declared_too_large);
  g_test_add_func ("/http/limits/chunked-too-large", test_chunked_too_large);
  g_test_add_func ("/http/limits/header-too-large", test_header_too_large);
  g_test_add_func ("/http/limits/max-connections", test_max_connections);
  g_test_add_func ("/http/limits/backlog-burst", test_backlog_burst);
  g_test_add_func ("/http/limits/trickle-cap", test_trickle_cap);
  return g_test_run ();
}
