/* gst-voicecall: the HTTP client signaller, against the HTTP server signaller (both
 * protocols) and against stub servers (redirects, no PATCH, broken answers, silence), over
 * 127.0.0.1.
 */
#include "httptest.h"
#include "sdpfrag.h"

using namespace vctest;
using Mode = FakeServerElement::Mode;

/* The element side of a client signaller: offers (the Chrome offer without its candidates)
 * from a thread when asked, then trickles two candidates and the end of candidates. */
class FakeClientElement : public Recorder {
public:
  explicit FakeClientElement (GstVoiceHttpClientSignaller *client, bool end_of_candidates = true)
    : Recorder (client), eoc_ (end_of_candidates) {}
  ~FakeClientElement () override
  {
    if (thread_.joinable ())
      thread_.join ();
  }
  std::vector<std::string> ice_servers_at_request;

protected:
  void requested_hook (const Requested &r) override
  {
    gchar **servers = nullptr;
    g_object_get (sig_, "ice-servers", &servers, nullptr);
    for (gchar **s = servers; s && *s; s++)
      ice_servers_at_request.push_back (*s);
    g_strfreev (servers);
    std::string id = r.id;
    if (thread_.joinable ())
      thread_.join ();
    thread_ = std::thread ([this, id] {
      GstWebRTCSessionDescription *offer =
          make_desc (GST_WEBRTC_SDP_TYPE_OFFER, strip_candidates (kChromeOffer));
      gst_voice_signaller_send_sdp (sig_, id.c_str (), offer);
      gst_webrtc_session_description_free (offer);
      gst_voice_signaller_add_ice (sig_, id.c_str (), 0, kCand1);
      gst_voice_signaller_add_ice (sig_, id.c_str (), 0, kCand2);
      if (eoc_)
        gst_voice_signaller_add_ice (sig_, id.c_str (), 0, nullptr);
    });
  }

private:
  bool eoc_;
  std::thread thread_;
};

static vc::GstPtr<GstVoiceHttpClientSignaller>
make_client (const std::string &url, std::function<void (GObject *)> configure = nullptr)
{
  auto client = vc::adopt (gst_voice_http_client_signaller_new ());
  g_object_set (client.get (), "url", url.c_str (), nullptr);
  if (configure)
    configure (G_OBJECT (client.get ()));
  return client;
}

static void
start (GstVoiceHttpClientSignaller *client)
{
  GError *err = nullptr;
  g_assert_true (gst_voice_signaller_start (GST_VOICE_SIGNALLER (client), &err));
  g_assert_no_error (err);
}

static void
stop (gpointer signaller)
{
  gst_voice_signaller_stop (GST_VOICE_SIGNALLER (signaller));
}

/* ------------------------------------------------------------------------------------------ */

static void
test_whip (void)
{
  auto server = start_server ([] (GObject *s) {
    const char *ice[] = {"stun:127.0.0.1:3478", "turn://u:p@127.0.0.1:3478?transport=udp",
                         nullptr};
    g_object_set (s, "auth-token", "s3cret", "ice-servers", ice, nullptr);
  });
  FakeServerElement far (server.get (), Mode::ANSWER_FROM_THREAD);
  auto client = make_client (server_url (server.get ()), [] (GObject *c) {
    g_object_set (c, "auth-token", "s3cret", nullptr);
  });
  FakeClientElement near (client.get ());
  start (client.get ());

  /* The client asks for an offer, with a fresh id and the URL as the peer. */
  g_assert_true (near.wait ([&] { return near.requested.size () == 1; }));
  Requested req = near.get (near.requested[0]);
  g_assert_cmpuint (req.id.size (), ==, 32);
  vc_assert_cmpstr (req.peer.c_str (), ==, server_url (server.get ()).c_str ());
  vc_assert_cmpstr (req.offer.c_str (), ==, "");

  /* The answer, with the server's candidates in it. */
  g_assert_true (near.wait ([&] { return near.descriptions.size () == 1; }));
  auto desc = near.get (near.descriptions[0]);
  vc_assert_cmpstr (desc.first.c_str (), ==, req.id.c_str ());
  g_assert_cmpint (count (desc.second, "a=ice-ufrag:ljko"), ==, 1);
  g_assert_cmpint (count (desc.second, "a=candidate:"), ==, 2);

  /* The client's candidates reached the server's element: folded into the offer when they
   * came before the POST, trickled by PATCH after it; each exactly once, and the end. */
  g_assert_true (far.wait ([&] {
    return !far.requested.empty () && !far.ice.empty () && far.ice.back ().candidate.empty ();
  }));
  std::string offer = far.get (far.requested[0].offer);
  auto ice = far.get (far.ice);
  for (const char *c : {kCand1, kCand2}) {
    int n = count (offer, std::string ("a=") + c);
    for (const Ice &i : ice)
      n += i.candidate == c;
    g_assert_cmpint (n, ==, 1);
  }
  g_test_message ("%d candidate(s) in the offer, %zu handle-ice", count (offer, "a=candidate:"),
      ice.size ());

  /* The Link headers of the answer, in webrtcbin's form. */
  gchar **servers = nullptr;
  g_object_get (client.get (), "ice-servers", &servers, nullptr);
  g_assert_nonnull (servers);
  vc_assert_cmpstr (servers[0], ==, "stun://127.0.0.1:3478");
  vc_assert_cmpstr (servers[1], ==, "turn://u:p@127.0.0.1:3478?transport=udp");
  g_assert_null (servers[2]);
  g_strfreev (servers);

  /* Hang up: the server's element sees the DELETE. */
  std::string far_id = far.get (far.requested[0].id);
  gst_voice_signaller_end_session (GST_VOICE_SIGNALLER (client.get ()), req.id.c_str (), nullptr);
  g_assert_true (far.wait ([&] { return far.ended.size () == 1; }));
  vc_assert_cmpstr (far.get (far.ended[0]).c_str (), ==, far_id.c_str ());
  g_assert_cmpuint (near.get (near.errors).size (), ==, 0);
  stop (client.get ());
  stop (server.get ());
}

static void
test_whip_stop_deletes (void)
{
  auto server = start_server ();
  FakeServerElement far (server.get (), Mode::ANSWER_IN_HANDLER);
  auto client = make_client (server_url (server.get ()));
  FakeClientElement near (client.get ());
  start (client.get ());
  g_assert_true (near.wait ([&] { return near.descriptions.size () == 1; }));
  stop (client.get ());
  /* stop () sent the DELETE (and waited for its answer). */
  g_assert_true (far.wait ([&] { return far.ended.size () == 1; }));
  stop (server.get ());
}

static void
test_json (void)
{
  auto server = start_server ();
  FakeServerElement far (server.get (), Mode::ANSWER_FROM_THREAD);
  auto client = make_client (server_url (server.get (), "/offer"), [] (GObject *c) {
    gst_util_set_object_arg (c, "protocol", "json");
    g_object_set (c, "gather-timeout", 5000, nullptr);
  });
  FakeClientElement near (client.get ());
  gint64 t0 = now_ms ();
  start (client.get ());
  g_assert_true (near.wait ([&] { return near.descriptions.size () == 1; }));
  gint64 took = now_ms () - t0;
  /* Sent as soon as gathering completed, not after gather-timeout. */
  g_assert_cmpint (took, <, 2500);
  g_test_message ("json call answered in %" G_GINT64_FORMAT " ms", took);

  /* The offer carried all the candidates and the end of candidates; no trickle. */
  std::string offer = far.get (far.requested[0].offer);
  g_assert_cmpint (count (offer, std::string ("a=") + kCand1 + "\r\n"), ==, 1);
  g_assert_cmpint (count (offer, std::string ("a=") + kCand2 + "\r\n"), ==, 1);
  g_assert_cmpint (count (offer, "a=end-of-candidates"), ==, 1);
  g_assert_cmpuint (far.get (far.ice).size (), ==, 0);
  auto desc = near.get (near.descriptions[0]);
  g_assert_cmpint (count (desc.second, "a=candidate:"), ==, 2);
  stop (client.get ());
  stop (server.get ());
}

static void
test_json_gather_timeout (void)
{
  /* Gathering never completes: the offer leaves after gather-timeout with what there is. */
  auto server = start_server ();
  FakeServerElement far (server.get (), Mode::ANSWER_IN_HANDLER);
  auto client = make_client (server_url (server.get (), "/offer"), [] (GObject *c) {
    gst_util_set_object_arg (c, "protocol", "json");
    g_object_set (c, "gather-timeout", 300, nullptr);
  });
  FakeClientElement near (client.get (), false);
  gint64 t0 = now_ms ();
  start (client.get ());
  g_assert_true (near.wait ([&] { return near.descriptions.size () == 1; }));
  gint64 took = now_ms () - t0;
  g_assert_cmpint (took, >=, 290);
  g_assert_cmpint (took, <, 3000);
  std::string offer = far.get (far.requested[0].offer);
  g_assert_cmpint (count (offer, "a=candidate:"), ==, 2);
  stop (client.get ());
  stop (server.get ());
}

static void
redirect_to (SoupServerMessage *msg, guint status, const std::string &target)
{
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Location",
      target.c_str ());
  soup_server_message_set_status (msg, status, nullptr);
}

static void
test_redirect (void)
{
  for (guint status : {307u, 308u}) {
    auto server = start_server ([] (GObject *s) {
      g_object_set (s, "auth-token", "s3cret", nullptr);
    });
    FakeServerElement far (server.get (), Mode::ANSWER_IN_HANDLER);
    std::string target = server_url (server.get ());
    /* Two hops: /a → /b (relative) → the server signaller (absolute). */
    StubServer stub ([&] (SoupServerMessage *msg, const std::string &path) {
      if (path == "/a")
        redirect_to (msg, status, "/b");
      else
        redirect_to (msg, status, target);
    });
    auto client = make_client (stub.url ("/a"), [] (GObject *c) {
      g_object_set (c, "auth-token", "s3cret", nullptr);
    });
    FakeClientElement near (client.get ());
    start (client.get ());
    g_assert_true (near.wait ([&] {
      return near.descriptions.size () == 1 || !near.errors.empty ();
    }));
    g_assert_cmpuint (near.get (near.errors).size (), ==, 0);
    {
      std::lock_guard<std::mutex> lk (stub.lock);
      g_assert_cmpuint (stub.seen.size (), ==, 2);
      vc_assert_cmpstr (stub.seen[0].c_str (), ==, "POST /a Bearer s3cret");
      vc_assert_cmpstr (stub.seen[1].c_str (), ==, "POST /b Bearer s3cret");
    }
    /* The Location is resolved against the final URL: trickle reaches the real server. */
    g_assert_true (far.wait ([&] {
      return !far.ice.empty () && far.ice.back ().candidate.empty ();
    }));
    stop (client.get ());
    stop (server.get ());
  }
}

static void
test_redirect_loop (void)
{
  StubServer stub ([&] (SoupServerMessage *msg, const std::string &path) {
    redirect_to (msg, 307, "/loop");
  });
  auto client = make_client (stub.url ("/loop"));
  FakeClientElement near (client.get ());
  start (client.get ());
  g_assert_true (near.wait ([&] { return !near.errors.empty (); }));
  std::string error = near.get (near.errors[0]);
  g_test_message ("%s", error.c_str ());
  g_assert_cmpint (count (error, "redirects"), ==, 1);
  stop (client.get ());
}

static void
test_unreachable (void)
{
  std::string url = "http://127.0.0.1:" + std::to_string (closed_port ()) + "/call";
  auto client = make_client (url);
  FakeClientElement near (client.get ());
  start (client.get ());
  g_assert_true (near.wait ([&] { return !near.errors.empty (); }));
  std::string error = near.get (near.errors[0]);
  g_test_message ("%s", error.c_str ());
  g_assert_true (g_str_has_prefix (error.c_str (), ("POST " + url + " failed, no HTTP status: ").c_str ()));
  g_assert_cmpint (count (lower (error), "refused"), ==, 1);
  g_assert_cmpuint (near.get (near.descriptions).size (), ==, 0);
  gint64 t0 = now_ms ();
  stop (client.get ());
  g_assert_cmpint (now_ms () - t0, <, 500);
}

static void
test_http_error (void)
{
  /* A wrong token: the error names the URL, the status and the server's problem text. */
  auto server = start_server ([] (GObject *s) {
    g_object_set (s, "auth-token", "s3cret", nullptr);
  });
  {
    auto client = make_client (server_url (server.get ()), [] (GObject *c) {
      g_object_set (c, "auth-token", "wrong", nullptr);
    });
    FakeClientElement near (client.get ());
    start (client.get ());
    g_assert_true (near.wait ([&] { return !near.errors.empty (); }));
    std::string error = near.get (near.errors[0]);
    g_test_message ("%s", error.c_str ());
    vc_assert_cmpstr (error, ==, "POST " + server_url (server.get ()) +
        ": HTTP 401 Unauthorized: the bearer token is not the one this server expects");
    stop (client.get ());
  }
  {
    /* An offer the far element refuses. */
    FakeServerElement far (server.get (), Mode::REFUSE);
    auto client = make_client (server_url (server.get ()), [] (GObject *c) {
      g_object_set (c, "auth-token", "s3cret", nullptr);
    });
    FakeClientElement near (client.get ());
    start (client.get ());
    g_assert_true (near.wait ([&] { return !near.errors.empty (); }));
    std::string error = near.get (near.errors[0]);
    g_test_message ("%s", error.c_str ());
    g_assert_cmpint (count (error, "HTTP 422 Unprocessable Content: busy here"), ==, 1);
    stop (client.get ());
  }
  stop (server.get ());
}

static void
test_bad_answers (void)
{
  struct Case {
    guint status;
    const char *type;
    std::string body;
    const char *expect;
  };
  std::vector<Case> cases = {
    {201, "text/html", "<html></html>", "the body is text/html, not application/sdp"},
    {201, "application/sdp", "not sdp", "the answer is not valid SDP"},
    {200, "application/sdp", "", "the answer is not valid SDP"},
    {500, "text/plain", "database on fire\nmore", "HTTP 500 Internal Server Error: database on fire"},
    {302, "text/plain", "", "HTTP 302 Found"},
    /* Not read whole into memory: at most 256 KiB of a response body. */
    {201, "application/sdp", std::string (4 << 20, 'v'),
        "HTTP 201 with a body larger than 262144 bytes"},
  };
  for (const Case &c : cases) {
    StubServer stub ([&] (SoupServerMessage *msg, const std::string &) {
      soup_server_message_set_status (msg, c.status, nullptr);
      soup_server_message_set_response (msg, c.type, SOUP_MEMORY_COPY, c.body.data (),
          c.body.size ());
    });
    auto client = make_client (stub.url ("/call"));
    FakeClientElement near (client.get ());
    start (client.get ());
    g_assert_true (near.wait ([&] { return !near.errors.empty (); }));
    std::string error = near.get (near.errors[0]);
    g_test_message ("%s", error.c_str ());
    g_assert_cmpint (count (error, stub.url ("/call")), ==, 1);
    g_assert_cmpint (count (error, c.expect), ==, 1);
    stop (client.get ());
  }

  /* JSON: not JSON, not an answer. */
  for (const char *body : {"{oops", "{\"sdp\":\"v=0\\r\\n\",\"type\":\"offer\"}"}) {
    StubServer stub ([&] (SoupServerMessage *msg, const std::string &) {
      soup_server_message_set_status (msg, 200, nullptr);
      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, body,
          strlen (body));
    });
    auto client = make_client (stub.url ("/offer"), [] (GObject *c) {
      gst_util_set_object_arg (c, "protocol", "json");
    });
    FakeClientElement near (client.get ());
    start (client.get ());
    g_assert_true (near.wait ([&] { return !near.errors.empty (); }));
    g_test_message ("%s", near.get (near.errors[0]).c_str ());
    stop (client.get ());
  }
}

static void
test_no_patch_support (void)
{
  /* A WHIP server without trickle: one PATCH gets 405, the client stops trickling and does
   * not fail. */
  std::string answer = strip_candidates (kAiortcAnswer);
  int patches = 0;
  StubServer stub ([&] (SoupServerMessage *msg, const std::string &path) {
    const char *method = soup_server_message_get_method (msg);
    if (g_strcmp0 (method, "POST") == 0) {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Location",
          "/res/1");
      soup_server_message_set_status (msg, 201, nullptr);
      soup_server_message_set_response (msg, "application/sdp", SOUP_MEMORY_COPY,
          answer.data (), answer.size ());
    } else if (g_strcmp0 (method, "PATCH") == 0) {
      patches++;
      soup_server_message_set_status (msg, 405, nullptr);
    } else {
      soup_server_message_set_status (msg, 200, nullptr);
    }
  });
  auto client = make_client (stub.url ("/call"));
  FakeClientElement near (client.get ());
  start (client.get ());
  g_assert_true (near.wait ([&] { return near.descriptions.size () == 1; }));
  /* stop () DELETEs the resource: after it, the PATCH story is complete. */
  stop (client.get ());
  std::lock_guard<std::mutex> lk (stub.lock);
  vc_assert_cmpstr (stub.seen.back ().c_str (), ==, "DELETE /res/1 -");
  g_assert_cmpint (patches, <=, 1);
  g_assert_cmpuint (near.get (near.errors).size (), ==, 0);
}

static void
test_stop_does_not_hang (void)
{
  /* A server that never answers: stop () cancels the POST and returns at once, no error. */
  StubServer *stub_ptr = nullptr;
  StubServer stub ([&] (SoupServerMessage *msg, const std::string &) { stub_ptr->hold (msg); });
  stub_ptr = &stub;
  auto client = make_client (stub.url ("/call"));
  FakeClientElement near (client.get ());
  start (client.get ());
  g_assert_true (stub.wait_requests (1));
  gint64 t0 = now_ms ();
  stop (client.get ());
  gint64 took = now_ms () - t0;
  g_test_message ("stop () with a POST in flight: %" G_GINT64_FORMAT " ms", took);
  g_assert_cmpint (took, <, 1000);
  g_assert_cmpuint (near.get (near.errors).size (), ==, 0);

  /* An established WHIP session whose server is gone: the DELETE fails fast. */
  auto server = start_server ();
  FakeServerElement far (server.get (), Mode::ANSWER_IN_HANDLER);
  auto client2 = make_client (server_url (server.get ()));
  FakeClientElement near2 (client2.get ());
  start (client2.get ());
  g_assert_true (near2.wait ([&] { return near2.descriptions.size () == 1; }));
  stop (server.get ());
  t0 = now_ms ();
  stop (client2.get ());
  took = now_ms () - t0;
  g_test_message ("stop () with the server gone: %" G_GINT64_FORMAT " ms", took);
  g_assert_cmpint (took, <, 1500);
}

static void
test_timeout (void)
{
  /* The request timeout bounds a silent server and says so. */
  StubServer *stub_ptr = nullptr;
  StubServer stub ([&] (SoupServerMessage *msg, const std::string &) { stub_ptr->hold (msg); });
  stub_ptr = &stub;
  auto client = make_client (stub.url ("/call"), [] (GObject *c) {
    g_object_set (c, "timeout", 300, nullptr);
  });
  FakeClientElement near (client.get ());
  start (client.get ());
  g_assert_true (near.wait ([&] { return !near.errors.empty (); }));
  std::string error = near.get (near.errors[0]);
  g_test_message ("%s", error.c_str ());
  g_assert_cmpint (count (error, "no response within 300 ms"), ==, 1);
  stop (client.get ());
}

static void
test_link_ice_servers_first (void)
{
  /* use-link-ice-servers: the ICE servers are known when "session-requested" comes. */
  auto server = start_server ([] (GObject *s) {
    const char *ice[] = {"stun:127.0.0.1:3478", "turn:127.0.0.1:3478?transport=udp", nullptr};
    g_object_set (s, "ice-servers", ice, nullptr);
  });
  FakeServerElement far (server.get (), Mode::ANSWER_IN_HANDLER);
  auto client = make_client (server_url (server.get ()), [] (GObject *c) {
    g_object_set (c, "use-link-ice-servers", TRUE, nullptr);
  });
  FakeClientElement near (client.get ());
  start (client.get ());
  g_assert_true (near.wait ([&] { return near.descriptions.size () == 1; }));
  auto servers = near.get (near.ice_servers_at_request);
  g_assert_cmpuint (servers.size (), ==, 2);
  vc_assert_cmpstr (servers[0].c_str (), ==, "stun://127.0.0.1:3478");
  vc_assert_cmpstr (servers[1].c_str (), ==, "turn://127.0.0.1:3478?transport=udp");
  stop (client.get ());
  stop (server.get ());
}

static void
test_start_errors (void)
{
  for (const char *url : {"", "ftp://x/y", "not a url"}) {
    auto client = make_client (url);
    GError *err = nullptr;
    g_assert_false (gst_voice_signaller_start (GST_VOICE_SIGNALLER (client.get ()), &err));
    g_assert_nonnull (err);
    g_clear_error (&err);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, nullptr);
  gst_init (&argc, &argv);
  g_test_add_func ("/http/client/whip", test_whip);
  g_test_add_func ("/http/client/whip-stop-deletes", test_whip_stop_deletes);
  g_test_add_func ("/http/client/json", test_json);
  g_test_add_func ("/http/client/json-gather-timeout", test_json_gather_timeout);
  g_test_add_func ("/http/client/redirect", test_redirect);
  g_test_add_func ("/http/client/redirect-loop", test_redirect_loop);
  g_test_add_func ("/http/client/unreachable", test_unreachable);
  g_test_add_func ("/http/client/http-error", test_http_error);
  g_test_add_func ("/http/client/bad-answers", test_bad_answers);
  g_test_add_func ("/http/client/no-patch-support", test_no_patch_support);
  g_test_add_func ("/http/client/stop-does-not-hang", test_stop_does_not_hang);
  g_test_add_func ("/http/client/timeout", test_timeout);
  g_test_add_func ("/http/client/link-ice-servers-first", test_link_ice_servers_first);
  g_test_add_func ("/http/client/start-errors", test_start_errors);
  return g_test_run ();
}
