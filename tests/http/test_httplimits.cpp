/* gst-voicecall: the HTTP server signaller's limits, with raw TCP clients over 127.0.0.1.
 *
 * What one peer can make the server hold: file descriptors per call (a connection must be
 * closed once its peer is gone), connections that never finish a request (request-timeout),
 * bodies declared or sent larger than max-body, oversized headers, bodies shorter than their
 * Content-Length, bursts of connections (the listen backlog).
 */
#include "httptest.h"
#include "rawhttp.h"

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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, nullptr);
  gst_init (&argc, &argv);
  g_test_add_func ("/http/limits/fds-answered-calls", test_fds_answered_calls);
  g_test_add_func ("/http/limits/fds-answered-not-deleted", test_fds_answered_not_deleted);
  g_test_add_func ("/http/limits/fds-peer-gone", test_fds_peer_gone);
  return g_test_run ();
}
