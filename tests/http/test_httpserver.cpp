/* gst-voicecall: the HTTP server signaller, driven by real HTTP requests over 127.0.0.1.
 *
 * Each test starts a GstVoiceHttpServerSignaller on an ephemeral port, plays the element's
 * part with a FakeServerElement (canned aiortc answer + two candidates) and checks the WHIP
 * (RFC 9725) and JSON exchanges request by request.
 */
#include "httptest.h"
#include "sdpfrag.h"
#include "sdpjson.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>

using namespace vctest;
using Mode = FakeServerElement::Mode;

static const char *const kStun = "stun:127.0.0.1:3478";
static const char *const kTurn = "turn://alice:s%22cret@127.0.0.1:3478?transport=udp";

static std::string
fragment (const std::string &ufrag, const std::string &pwd, std::vector<std::string> cands,
    bool eoc)
{
  vc::sdpfrag::Frag f;
  f.ufrag = ufrag;
  f.pwd = pwd;
  vc::sdpfrag::Media m;
  m.mid = "0";
  m.candidates = std::move (cands);
  m.end_of_candidates = eoc;
  f.media.push_back (m);
  return vc::sdpfrag::build (f);
}

/* The Chrome offer's ICE credentials. */
static const char *const kOfferUfrag = "5DH+";
static const char *const kOfferPwd = "coLPjdqH9norYQpnPyFS4JP9";

static void
assert_problem (const Response &r, guint status)
{
  g_assert_cmpuint (r.status, ==, status);
  vc_assert_cmpstr (r.content_type.c_str (), ==, "application/problem+json");
  vc_assert_cmpstr (r.problem ("status").c_str (), ==, std::to_string (status).c_str ());
  vc_assert_cmpstr (r.problem ("type").c_str (), ==, "about:blank");
  g_assert_cmpuint (r.problem ("detail").size (), >, 0);
  vc_assert_cmpstr (r.header ("Access-Control-Allow-Origin").c_str (), ==, "*");
}

/* POST the Chrome offer (WHIP) and return the response. */
static Response
post_offer (Http &http, GstVoiceHttpServerSignaller *server,
    std::vector<std::pair<std::string, std::string>> headers = {})
{
  return http.send ("POST", server_url (server), "application/sdp", kChromeOffer, headers);
}

/* ------------------------------------------------------------------------------------------ */

static void
test_whip_post_created (void)
{
  auto server = start_server ([] (GObject *s) {
    const char *ice[] = {kStun, kTurn, nullptr};
    g_object_set (s, "ice-servers", ice, nullptr);
  });
  FakeServerElement element (server.get (), Mode::ANSWER_FROM_THREAD);
  Http http;

  Response r = post_offer (http, server.get ());
  vc_assert_cmpstr (r.error.c_str (), ==, "");
  g_assert_cmpuint (r.status, ==, 201);
  vc_assert_cmpstr (r.content_type.c_str (), ==, "application/sdp");

  /* Location: <path>/<128-bit hex id>, and the id is the one the element was given. */
  std::string location = r.header ("Location");
  g_assert_true (g_regex_match_simple ("^/call/[0-9a-f]{32}$", location.c_str (),
      G_REGEX_DEFAULT, G_REGEX_MATCH_DEFAULT));
  g_assert_true (element.wait ([&] { return element.requested.size () == 1; }));
  Requested req = element.get (element.requested[0]);
  vc_assert_cmpstr (("/call/" + req.id).c_str (), ==, location.c_str ());

  /* The element saw the peer's address and the offer. */
  g_assert_true (g_str_has_prefix (req.peer.c_str (), "127.0.0.1:"));
  g_assert_cmpint (count (req.offer, "m=audio"), ==, 1);
  g_assert_cmpint (count (req.offer, "a=ice-ufrag:5DH+"), ==, 1);

  /* A strong ETag. */
  std::string etag = r.header ("ETag");
  g_assert_true (g_regex_match_simple ("^\"[0-9a-f]{16}\"$", etag.c_str (), G_REGEX_DEFAULT,
      G_REGEX_MATCH_DEFAULT));

  /* The answer, with the element's candidates folded in (WHIP has no server trickle). */
  std::string error;
  auto answer = vc::sdp::parse (r.body.c_str (), &error);
  g_assert_nonnull (answer.get ());
  g_assert_cmpint (count (r.body, std::string ("a=") + kCand1 + "\r\n"), ==, 1);
  g_assert_cmpint (count (r.body, std::string ("a=") + kCand2 + "\r\n"), ==, 1);
  g_assert_cmpint (count (r.body, "a=end-of-candidates\r\n"), ==, 1);
  g_assert_cmpint (count (r.body, "a=ice-ufrag:ljko"), ==, 1);

  /* ICE servers in Link headers, TURN with its credentials (quoted, escaped). */
  std::string link = r.header ("Link");
  g_assert_cmpint (count (link, "<stun:127.0.0.1:3478>; rel=\"ice-server\""), ==, 1);
  g_assert_cmpint (count (link, "<turn:127.0.0.1:3478?transport=udp>; rel=\"ice-server\"; "
      "username=\"alice\"; credential=\"s\\\"cret\"; credential-type=\"password\""), ==, 1);

  vc_assert_cmpstr (r.header ("Access-Control-Allow-Origin").c_str (), ==, "*");
  g_assert_cmpint (count (r.header ("Access-Control-Expose-Headers"), "Location"), ==, 1);

  /* Every signal came from the signaller's thread. */
  for (const std::string &t : element.get (element.threads))
    vc_assert_cmpstr (t.c_str (), ==, "other");
  gst_voice_signaller_stop (GST_VOICE_SIGNALLER (server.get ()));
}

static void
test_whip_answer_in_handler (void)
{
  /* The element answers synchronously from inside "session-requested". */
  auto server = start_server ();
  FakeServerElement element (server.get (), Mode::ANSWER_IN_HANDLER);
  Http http;
  Response r = post_offer (http, server.get ());
  g_assert_cmpuint (r.status, ==, 201);
  g_assert_cmpint (count (r.body, "a=candidate:"), ==, 2);
  gst_voice_signaller_stop (GST_VOICE_SIGNALLER (server.get ()));
}

static void
test_ids_distinct (void)
{
  auto server = start_server ([] (GObject *s) { g_object_set (s, "max-sessions", 0, nullptr); });
  FakeServerElement element (server.get (), Mode::ANSWER_IN_HANDLER);
  Http http;
  std::set<std::string> ids, etags;
  for (int i = 0; i < 32; i++) {
    Response r = post_offer (http, server.get ());
    g_assert_cmpuint (r.status, ==, 201);
    ids.insert (r.header ("Location"));
    etags.insert (r.header ("ETag"));
  }
  g_assert_cmpuint (ids.size (), ==, 32);
  g_assert_cmpuint (etags.size (), ==, 32);
  gst_voice_signaller_stop (GST_VOICE_SIGNALLER (server.get ()));
}

static void
test_trickle_patch (void)
{
  auto server = start_server ();
  FakeServerElement element (server.get (), Mode::ANSWER_IN_HANDLER);
  Http http;
  Response r = post_offer (http, server.get ());
  g_assert_cmpuint (r.status, ==, 201);
  std::string url = server_url (server.get (), r.header ("Location"));
  std::string etag = r.header ("ETag");
  std::string id = element.get (element.requested[0].id);

  /* Two candidates and end-of-candidates, If-Match: the ETag → 204 + handle-ice each. */
  Response p = http.send ("PATCH", url, "application/trickle-ice-sdpfrag",
      fragment (kOfferUfrag, kOfferPwd, {kCand1, kCand2}, true), {{"If-Match", etag}});
  g_assert_cmpuint (p.status, ==, 204);
  vc_assert_cmpstr (p.header ("Access-Control-Allow-Origin").c_str (), ==, "*");
  g_assert_true (element.wait ([&] { return element.ice.size () == 3; }));
  auto ice = element.get (element.ice);
  vc_assert_cmpstr (ice[0].id.c_str (), ==, id.c_str ());
  g_assert_cmpuint (ice[0].mline, ==, 0);
  vc_assert_cmpstr (ice[0].candidate.c_str (), ==, kCand1);
  vc_assert_cmpstr (ice[1].candidate.c_str (), ==, kCand2);
  vc_assert_cmpstr (ice[2].candidate.c_str (), ==, "");   /* end of candidates */

  /* Trickle without If-Match, and without credentials: taken too. */
  p = http.send ("PATCH", url, "application/trickle-ice-sdpfrag",
      "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=" + std::string (kCand1) + "\r\n");
  g_assert_cmpuint (p.status, ==, 204);
  g_assert_true (element.wait ([&] { return element.ice.size () == 4; }));

  /* A stale If-Match on trickle: 412. */
  p = http.send ("PATCH", url, "application/trickle-ice-sdpfrag",
      fragment (kOfferUfrag, kOfferPwd, {kCand2}, false), {{"If-Match", "\"0000\""}});
  assert_problem (p, 412);

  /* A mid the offer does not have: 422. */
  p = http.send ("PATCH", url, "application/trickle-ice-sdpfrag",
      "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:7\r\na=" + std::string (kCand1) + "\r\n");
  assert_problem (p, 422);
  gst_voice_signaller_stop (GST_VOICE_SIGNALLER (server.get ()));
}

static void
test_ice_restart (void)
{
  auto server = start_server ();
  FakeServerElement element (server.get (), Mode::ANSWER_IN_HANDLER);
  element.handle_restarts ();
  Http http;
  Response r = post_offer (http, server.get ());
  g_assert_cmpuint (r.status, ==, 201);
  std::string url = server_url (server.get (), r.header ("Location"));
  std::string etag = r.header ("ETag");

  /* Missing If-Match on a restart: 428. */
  std::string restart = fragment ("new1", "newpassword0123456789012", {kCand1}, true);
  Response p = http.send ("PATCH", url, "application/trickle-ice-sdpfrag", restart);
  assert_problem (p, 428);

  /* Stale If-Match: 412. */
  p = http.send ("PATCH", url, "application/trickle-ice-sdpfrag", restart,
      {{"If-Match", "\"ffffffffffffffff\""}});
  assert_problem (p, 412);
  g_assert_cmpuint (element.get (element.restarts).size (), ==, 0);

  /* The current ETag: 200 + a new ETag + the answer fragment with the new credentials. */
  p = http.send ("PATCH", url, "application/trickle-ice-sdpfrag", restart, {{"If-Match", etag}});
  g_assert_cmpuint (p.status, ==, 200);
  vc_assert_cmpstr (p.content_type.c_str (), ==, "application/trickle-ice-sdpfrag");
  std::string etag2 = p.header ("ETag");
  vc_assert_cmpstr (etag2.c_str (), !=, "");
  vc_assert_cmpstr (etag2.c_str (), !=, etag.c_str ());
  vc::sdpfrag::Frag answer;
  std::string error;
  g_assert_true (vc::sdpfrag::parse (p.body.data (), p.body.size (), &answer, &error));
  vc_assert_cmpstr (answer.ufrag.c_str (), ==, "rst1");
  g_assert_cmpuint (answer.media.size (), ==, 1);
  vc_assert_cmpstr (answer.media[0].mid.c_str (), ==, "0");
  g_assert_cmpuint (answer.media[0].candidates.size (), ==, 2);
  g_assert_true (answer.media[0].end_of_candidates);

  /* The element got the session's offer with the new credentials and candidate. */
  auto restarts = element.get (element.restarts);
  g_assert_cmpuint (restarts.size (), ==, 1);
  g_assert_cmpint (count (restarts[0], "a=ice-ufrag:new1"), ==, 1);
  g_assert_cmpint (count (restarts[0], "a=ice-ufrag:5DH+"), ==, 0);
  g_assert_cmpint (count (restarts[0], std::string ("a=") + kCand1), ==, 1);
  g_assert_cmpint (count (restarts[0], "a=candidate:3742922256"), ==, 0);
  g_assert_cmpint (count (restarts[0], "o=- 8498233979625313580 3 "), ==, 1);

  /* The old ETag is stale now; trickle with the new one is fine. */
  p = http.send ("PATCH", url, "application/trickle-ice-sdpfrag",
      fragment ("new1", "newpassword0123456789012", {kCand2}, false), {{"If-Match", etag}});
  assert_problem (p, 412);
  p = http.send ("PATCH", url, "application/trickle-ice-sdpfrag",
      fragment ("new1", "newpassword0123456789012", {kCand2}, false), {{"If-Match", etag2}});
  g_assert_cmpuint (p.status, ==, 204);

  /* If-Match: * (RFC 9725's form for restarts) is accepted. */
  p = http.send ("PATCH", url, "application/trickle-ice-sdpfrag",
      fragment ("new2", "newpassword0123456789099", {}, true), {{"If-Match", "*"}});
  g_assert_cmpuint (p.status, ==, 200);
  g_assert_cmpuint (element.get (element.restarts).size (), ==, 2);
  gst_voice_signaller_stop (GST_VOICE_SIGNALLER (server.get ()));
}

static void
test_ice_restart_unsupported (void)
{
  /* No "ice-restart" handler: 422, and the session goes on with its ETag. */
  auto server = start_server ();
  FakeServerElement element (server.get (), Mode::ANSWER_IN_HANDLER);
  Http http;
  Response r = post_offer (http, server.get ());
  std::string url = server_url (server.get (), r.header ("Location"));
  std::string etag = r.header ("ETag");
  Response p = http.send ("PATCH", url, "application/trickle-ice-sdpfrag",
      fragment ("new1", "newpassword0123456789012", {kCand1}, true), {{"If-Match", etag}});
  assert_problem (p, 422);
  p = http.send ("PATCH", url, "application/trickle-ice-sdpfrag",
      fragment (kOfferUfrag, kOfferPwd, {kCand1}, false), {{"If-Match", etag}});
  g_assert_cmpuint (p.status, ==, 204);
  gst_voice_signaller_stop (GST_VOICE_SIGNALLER (server.get ()));
}

static void
test_delete (void)
{
  auto server = start_server ();
  FakeServerElement element (server.get (), Mode::ANSWER_IN_HANDLER);
  Http http;
  Response r = post_offer (http, server.get ());
  std::string url = server_url (server.get (), r.header ("Location"));
  std::string id = element.get (element.requested[0].id);

  Response d = http.send ("DELETE", url);
  g_assert_cmpuint (d.status, ==, 200);
  vc_assert_cmpstr (d.header ("Access-Control-Allow-Origin").c_str (), ==, "*");
  g_assert_true (element.wait ([&] { return element.ended.size () == 1; }));
  vc_assert_cmpstr (element.get (element.ended[0]).c_str (), ==, id.c_str ());

  assert_problem (http.send ("DELETE", url), 404);
  assert_problem (http.send ("PATCH", url, "application/trickle-ice-sdpfrag",
      fragment (kOfferUfrag, kOfferPwd, {kCand1}, false)), 404);
  gst_voice_signaller_stop (GST_VOICE_SIGNALLER (server.get ()));
}

/* GET on a session is held until the session ends, then says so: how the browser page hears
 * of a hang-up at once. Ended by the element (with and without a reason), then gone: 404. */
static void
test_watch_until_ended (void)
{
  auto server = start_server ();
  FakeServerElement element (server.get (), Mode::ANSWER_IN_HANDLER);
  Http http;
  for (const char *reason : {(const char *) nullptr, "nothing heard from the peer"}) {
    Response r = post_offer (http, server.get ());
    g_assert_cmpuint (r.status, ==, 201);
    std::string url = server_url (server.get (), r.header ("Location"));
    std::string id = element.get (element.requested.back ().id);
    Response watched;
    std::atomic<gint64> answered_ms {0};
    std::thread watcher ([&] {
      Http h;
      watched = h.send ("GET", url);
      answered_ms = now_ms ();
    });
    g_usleep (300 * 1000);
    g_assert_cmpint (answered_ms.load (), ==, 0); /* held while the call goes on */
    gint64 t0 = now_ms ();
    gst_voice_signaller_end_session (GST_VOICE_SIGNALLER (server.get ()), id.c_str (), reason);
    watcher.join ();
    g_test_message ("GET answered %" G_GINT64_FORMAT " ms after the session ended",
        answered_ms.load () - t0);
    g_assert_cmpint (answered_ms.load () - t0, <, 500);
    g_assert_cmpuint (watched.status, ==, 200);
    vc_assert_cmpstr (watched.content_type.c_str (), ==, "application/json");
    g_assert_true (watched.body.find ("\"state\":\"ended\"") != std::string::npos);
    if (reason)
      g_assert_true (watched.body.find (reason) != std::string::npos);
    assert_problem (http.send ("GET", url), 404);
  }
  gst_voice_signaller_stop (GST_VOICE_SIGNALLER (server.get ()));
}

static void
test_options (void)
{
  auto server = start_server ([] (GObject *s) {
    const char *ice[] = {kStun, kTurn, nullptr};
    g_object_set (s, "ice-servers", ice, "auth-token", "s3cret", nullptr);
  });
  Http http;
  /* A CORS preflight (no token): no 401, TURN without credentials. */
  Response o = http.send ("OPTIONS", server_url (server.get ()), nullptr, "",
      {{"Origin", "http://example.invalid"}, {"Access-Control-Request-Method", "POST"}});
  g_assert_cmpuint (o.status, ==, 204);
  vc_assert_cmpstr (o.header ("Access-Control-Allow-Origin").c_str (), ==, "*");
  std::string methods = o.header ("Access-Control-Allow-Methods");
  for (const char *m : {"POST", "PATCH", "DELETE", "OPTIONS"})
    g_assert_cmpint (count (methods, m), ==, 1);
  vc_assert_cmpstr (o.header ("Access-Control-Allow-Headers").c_str (), ==,
      "Authorization, Content-Type, If-Match");
  vc_assert_cmpstr (o.header ("Access-Control-Expose-Headers").c_str (), ==,
      "Location, Link, ETag");
  vc_assert_cmpstr (o.header ("Accept-Post").c_str (), ==, "application/sdp, application/json");
  std::string link = o.header ("Link");
  g_assert_cmpint (count (link, "rel=\"ice-server\""), ==, 2);
  g_assert_cmpint (count (link, "credential"), ==, 0);

  /* With the token, the TURN credentials. */
  o = http.send ("OPTIONS", server_url (server.get ()), nullptr, "",
      {{"Authorization", "Bearer s3cret"}});
  g_assert_cmpuint (o.status, ==, 204);
  g_assert_cmpint (count (o.header ("Link"), "username=\"alice\""), ==, 1);
  gst_voice_signaller_stop (GST_VOICE_SIGNALLER (server.get ()));
}

static void
test_auth (void)
{
  auto server = start_server ([] (GObject *s) {
    g_object_set (s, "auth-token", "s3cret", nullptr);
  });
  FakeServerElement element (server.get (), Mode::ANSWER_IN_HANDLER);
  Http http;

  Response r = post_offer (http, server.get ());
  assert_problem (r, 401);
  vc_assert_cmpstr (r.header ("WWW-Authenticate").c_str (), ==, "Bearer realm=\"voicecall\"");

  r = post_offer (http, server.get (), {{"Authorization", "Bearer wrong"}});
  assert_problem (r, 401);
  g_assert_cmpint (count (r.header ("WWW-Authenticate"), "invalid_token"), ==, 1);
  r = post_offer (http, server.get (), {{"Authorization", "Basic czNjcmV0"}});
  assert_problem (r, 401);
  g_assert_cmpuint (element.get (element.requested).size (), ==, 0);

  r = post_offer (http, server.get (), {{"Authorization", "Bearer s3cret"}});
  g_assert_cmpuint (r.status, ==, 201);
  std::string url = server_url (server.get (), r.header ("Location"));

  /* PATCH and DELETE need it too. */
  assert_problem (http.send ("PATCH", url, "application/trickle-ice-sdpfrag",
      fragment (kOfferUfrag, kOfferPwd, {kCand1}, false)), 401);
  assert_problem (http.send ("DELETE", url), 401);
  g_assert_cmpuint (http.send ("DELETE", url, nullptr, "",
      {{"Authorization", "bearer s3cret"}}).status, ==, 200);

  r = http.send ("POST", server_url (server.get (), "/offer"), "application/json",
      vc::sdpjson::build ("offer", kChromeOffer), {{"Authorization", "Bearer s3cret"}});
  g_assert_cmpuint (r.status, ==, 200);
  gst_voice_signaller_stop (GST_VOICE_SIGNALLER (server.get ()));
}

static void
test_max_sessions (void)
{
  auto server = start_server ([] (GObject *s) { g_object_set (s, "max-sessions", 1, nullptr); });
  FakeServerElement element (server.get (), Mode::ANSWER_IN_HANDLER);
  Http http;
  Response r = post_offer (http, server.get ());
  g_assert_cmpuint (r.status, ==, 201);
  Response busy = post_offer (http, server.get ());
  assert_problem (busy, 503);
  vc_assert_cmpstr (busy.header ("Retry-After").c_str (), ==, "5");
  g_assert_cmpuint (element.get (element.requested).size (), ==, 1);

  /* The element hanging up frees the place, and so does a DELETE. */
  gst_voice_signaller_end_session (GST_VOICE_SIGNALLER (server.get ()),
      element.get (element.requested[0].id).c_str (), nullptr);
  bool freed = false;
  for (int i = 0; i < 100 && !freed; i++) {
    /* end_session is asynchronous: poll a bounded number of times (each a real request). */
    Response again = post_offer (http, server.get ());
    freed = again.status == 201;
    if (!freed)
      g_assert_cmpuint (again.status, ==, 503);
    else
      g_assert_cmpuint (http.send ("DELETE", server_url (server.get (),
          again.header ("Location"))).status, ==, 200);
  }
  g_assert_true (freed);
  g_assert_cmpuint (post_offer (http, server.get ()).status, ==, 201);
  gst_voice_signaller_stop (GST_VOICE_SIGNALLER (server.get ()));
}

static void
test_bad_input (void)
{
  auto server = start_server ([] (GObject *s) { g_object_set (s, "max-body", 4096, nullptr); });
  FakeServerElement element (server.get (), Mode::ANSWER_IN_HANDLER);
  Http http;
  std::string url = server_url (server.get ());

  /* 400: not SDP, SDP without media, JSON that is not JSON / not an offer. */
  assert_problem (http.send ("POST", url, "application/sdp", "hello"), 400);
  assert_problem (http.send ("POST", url, "application/sdp", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n"
      "s=-\r\nt=0 0\r\n"), 400);
  assert_problem (http.send ("POST", url, "application/sdp",
      strip_candidates (kChromeOffer).replace (0, 3, "v=1")), 400);
  std::string no_ice = kChromeOffer;
  no_ice.replace (no_ice.find ("a=ice-ufrag:"), 12, "a=x-ufrag:");
  assert_problem (http.send ("POST", url, "application/sdp", no_ice), 400);
  assert_problem (http.send ("POST", url, "application/json", "{\"sdp\": "), 400);
  assert_problem (http.send ("POST", url, "application/json", "[1,2]"), 400);
  assert_problem (http.send ("POST", url, "application/json",
      vc::sdpjson::build ("answer", kChromeOffer)), 400);
  assert_problem (http.send ("POST", url, "application/json", "{\"type\":\"offer\"}"), 400);

  /* 422: no audio. */
  std::string video = kChromeOffer;
  video.replace (video.find ("m=audio"), 7, "m=video");
  Response r = http.send ("POST", url, "application/sdp", video);
  assert_problem (r, 422);
  g_assert_cmpint (count (r.problem ("detail"), "audio"), >=, 1);

  /* 415: wrong content type, or none. */
  r = http.send ("POST", url, "text/plain", kChromeOffer);
  assert_problem (r, 415);
  vc_assert_cmpstr (r.header ("Accept-Post").c_str (), ==, "application/sdp, application/json");
  assert_problem (http.send ("POST", url), 415);

  /* 413: declared too large (refused before the body is read), and chunked too large. */
  std::string big (5000, 'a');
  assert_problem (http.send ("POST", url, "application/sdp", big), 413);
  assert_problem (http.send ("POST", url, "application/sdp", big, {}, true), 413);
  g_assert_cmpuint (http.send ("POST", url, "application/sdp", kChromeOffer, {}, true).status,
      ==, 201);

  /* 404: unknown session, unknown path. */
  assert_problem (http.send ("PATCH", url + "/0123456789abcdef0123456789abcdef",
      "application/trickle-ice-sdpfrag", fragment (kOfferUfrag, kOfferPwd, {kCand1}, false)),
      404);
  assert_problem (http.send ("POST", server_url (server.get (), "/elsewhere"),
      "application/sdp", kChromeOffer), 404);
  assert_problem (http.send ("GET", server_url (server.get (), "/")), 404);   /* no page */

  /* 405 + Allow. */
  r = http.send ("GET", url);
  assert_problem (r, 405);
  vc_assert_cmpstr (r.header ("Allow").c_str (), ==, "POST, OPTIONS");
  r = http.send ("PUT", url + "/0123456789abcdef0123456789abcdef", "application/sdp",
      kChromeOffer);
  assert_problem (r, 405);
  vc_assert_cmpstr (r.header ("Allow").c_str (), ==, "GET, PATCH, DELETE, OPTIONS");

  /* PATCH: bad fragment 400, wrong type 415. */
  Response ok = http.send ("POST", url, "application/sdp", kChromeOffer);
  g_assert_cmpuint (ok.status, ==, 201);
  std::string session = server_url (server.get (), ok.header ("Location"));
  assert_problem (http.send ("PATCH", session, "application/trickle-ice-sdpfrag",
      "this is not a fragment"), 400);
  assert_problem (http.send ("PATCH", session, "application/trickle-ice-sdpfrag",
      "a=ice-options:trickle\r\n"), 400);
  assert_problem (http.send ("PATCH", session, "application/sdp", kChromeOffer), 415);

  /* None of the refused offers reached the element. */
  g_assert_cmpuint (element.get (element.requested).size (), ==, 2);
  gst_voice_signaller_stop (GST_VOICE_SIGNALLER (server.get ()));
}

static void
test_json (void)
{
  auto server = start_server ();
  FakeServerElement element (server.get (), Mode::ANSWER_FROM_THREAD);
  Http http;
  for (const char *path : {"/offer", "/call"}) {
    Response r = http.send ("POST", server_url (server.get (), path), "application/json",
        vc::sdpjson::build ("offer", kChromeOffer));
    g_assert_cmpuint (r.status, ==, 200);
    vc_assert_cmpstr (r.content_type.c_str (), ==, "application/json");
    std::string type, sdp, error;
    g_assert_true (vc::sdpjson::parse (r.body.data (), r.body.size (), &type, &sdp, &error));
    vc_assert_cmpstr (type.c_str (), ==, "answer");
    g_assert_nonnull (vc::sdp::parse (sdp.c_str (), &error).get ());
    g_assert_cmpint (count (sdp, "a=candidate:"), ==, 2);
    g_assert_cmpint (count (sdp, "a=end-of-candidates"), ==, 1);
  }
  gst_voice_signaller_stop (GST_VOICE_SIGNALLER (server.get ()));
}

static void
test_refused_by_element (void)
{
  auto server = start_server ();
  FakeServerElement element (server.get (), Mode::REFUSE);
  Http http;
  Response r = post_offer (http, server.get ());
  assert_problem (r, 422);
  vc_assert_cmpstr (r.problem ("detail").c_str (), ==, "busy here");
  gst_voice_signaller_stop (GST_VOICE_SIGNALLER (server.get ()));
}

/* The application's accept-session: it sees the peer and the request's headers; its FALSE
 * answers 403 with a problem text, before any session is made (no session-requested, and
 * max-sessions is not used up). */
struct AcceptLog {
  std::mutex lock;
  std::vector<std::string> seen; /* "peer authorization user-agent" */
  std::string allowed = "Bearer ok";
};

static gboolean
on_accept_session (GstVoiceSignaller *, const gchar *id, const gchar *peer,
    const GstStructure *headers, gpointer data)
{
  auto *log = static_cast<AcceptLog *> (data);
  const gchar *auth = gst_structure_get_string (headers, "authorization");
  const gchar *agent = gst_structure_get_string (headers, "user-agent");
  std::lock_guard<std::mutex> lk (log->lock);
  log->seen.push_back (std::string (peer) + " " + (auth ? auth : "-") + " " + (agent ? agent : "-"));
  return auth && log->allowed == auth;
}

static void
test_accept_session (void)
{
  auto server = start_server ([] (GObject *s) { g_object_set (s, "max-sessions", 1, nullptr); });
  FakeServerElement element (server.get (), Mode::ANSWER_IN_HANDLER);
  AcceptLog log;
  g_signal_connect (server.get (), "accept-session", G_CALLBACK (on_accept_session), &log);
  Http http;
  for (int i = 0; i < 2; i++) { /* refusals do not take the one place */
    Response r = post_offer (http, server.get (), {{"Authorization", "Bearer no"},
        {"User-Agent", "test/1"}});
    assert_problem (r, 403);
    vc_assert_cmpstr (r.problem ("detail").c_str (), ==, "the callee refused this call");
  }
  g_assert_cmpuint (element.get (element.requested).size (), ==, 0);
  Response ok = post_offer (http, server.get (), {{"Authorization", "Bearer ok"}});
  g_assert_cmpuint (ok.status, ==, 201);
  g_assert_cmpuint (element.get (element.requested).size (), ==, 1);
  std::lock_guard<std::mutex> lk (log.lock);
  g_assert_cmpuint (log.seen.size (), ==, 3);
  g_assert_true (g_str_has_prefix (log.seen[0].c_str (), "127.0.0.1:"));
  g_assert_true (g_str_has_suffix (log.seen[0].c_str (), " Bearer no test/1"));
  gst_voice_signaller_stop (GST_VOICE_SIGNALLER (server.get ()));
}

static void
test_gather_timeout (void)
{
  /* The element never says gathering is complete: the answer leaves after gather-timeout. */
  auto server = start_server ([] (GObject *s) {
    g_object_set (s, "gather-timeout", 300, nullptr);
  });
  FakeServerElement element (server.get (), Mode::ANSWER_NO_EOC);
  Http http;
  gint64 t0 = now_ms ();
  Response r = post_offer (http, server.get ());
  gint64 took = now_ms () - t0;
  g_assert_cmpuint (r.status, ==, 201);
  g_assert_cmpint (count (r.body, std::string ("a=") + kCand1), ==, 1);
  g_assert_cmpint (took, >=, 290);
  g_assert_cmpint (took, <, 3000);
  g_test_message ("answer after %" G_GINT64_FORMAT " ms with gather-timeout 300", took);
  gst_voice_signaller_stop (GST_VOICE_SIGNALLER (server.get ()));
}

static void
test_stop_fails_pending (void)
{
  /* A POST waits for an answer that never comes; stop () answers it 503 and returns. */
  auto server = start_server ();
  FakeServerElement element (server.get (), Mode::NOTHING);
  std::string url = server_url (server.get ());
  Response r;
  std::thread client ([&] {
    Http http;
    r = http.send ("POST", url, "application/sdp", kChromeOffer);
  });
  g_assert_true (element.wait ([&] { return element.requested.size () == 1; }));
  gint64 t0 = now_ms ();
  gst_voice_signaller_stop (GST_VOICE_SIGNALLER (server.get ()));
  gint64 took = now_ms () - t0;
  client.join ();
  assert_problem (r, 503);
  vc_assert_cmpstr (r.header ("Retry-After").c_str (), ==, "5");
  g_assert_cmpint (took, <, 1500);
  g_test_message ("stop () with a pending POST took %" G_GINT64_FORMAT " ms", took);

  /* Stopped means closed. */
  Http http;
  vc_assert_cmpstr (http.send ("POST", url, "application/sdp", kChromeOffer).error.c_str (), !=,
      "");
  /* And it starts again. */
  g_assert_true (gst_voice_signaller_start (GST_VOICE_SIGNALLER (server.get ()), nullptr));
  g_assert_cmpuint (http.send ("OPTIONS", server_url (server.get ())).status, ==, 204);
  gst_voice_signaller_stop (GST_VOICE_SIGNALLER (server.get ()));
}

static void
test_peer_gone (void)
{
  /* A client that gives up on its POST while the element is still answering: the session
   * ends ("session-ended") without waiting for the answer. */
  auto server = start_server ();
  FakeServerElement element (server.get (), Mode::NOTHING);
  std::string url = server_url (server.get ());
  auto cancel = vc::adopt (g_cancellable_new ());
  std::thread client ([&] {
    auto session = vc::adopt (soup_session_new ());
    auto msg = vc::adopt (soup_message_new ("POST", url.c_str ()));
    GBytes *b = g_bytes_new_static (kChromeOffer, strlen (kChromeOffer));
    soup_message_set_request_body_from_bytes (msg.get (), "application/sdp", b);
    g_bytes_unref (b);
    GError *err = nullptr;
    GBytes *reply = soup_session_send_and_read (session.get (), msg.get (), cancel.get (), &err);
    g_assert_null (reply);
    g_assert_error (err, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_error_free (err);
  });
  g_assert_true (element.wait ([&] { return element.requested.size () == 1; }));
  g_cancellable_cancel (cancel.get ());
  client.join ();
  std::string id = element.get (element.requested[0].id);
  g_assert_true (element.wait ([&] { return element.ended.size () == 1; }));
  vc_assert_cmpstr (element.get (element.ended[0]).c_str (), ==, id.c_str ());

  /* The element's late answer goes nowhere, harmlessly. */
  element.answer (id);
  Http http;
  g_assert_cmpuint (http.send ("OPTIONS", url).status, ==, 204);
  gst_voice_signaller_stop (GST_VOICE_SIGNALLER (server.get ()));
}

static void
test_serve_page (void)
{
  auto server = start_server ([] (GObject *s) {
    g_object_set (s, "serve-page", TRUE, "auth-token", "s3cret", nullptr);
  });
  Http http;
  Response r = http.send ("GET", server_url (server.get (), "/"));
  g_assert_cmpuint (r.status, ==, 200);
  vc_assert_cmpstr (r.content_type.c_str (), ==, "text/html");
  g_assert_cmpint (count (lower (r.body), "<html"), ==, 1);
  assert_problem (http.send ("POST", server_url (server.get (), "/"), "application/sdp",
      kChromeOffer), 405);
  gst_voice_signaller_stop (GST_VOICE_SIGNALLER (server.get ()));
}

static void
test_listen_errors (void)
{
  auto server = vc::adopt (gst_voice_http_server_signaller_new ());
  GError *err = nullptr;
  g_object_set (server.get (), "listen", "not-an-address:80", nullptr);
  g_assert_false (gst_voice_signaller_start (GST_VOICE_SIGNALLER (server.get ()), &err));
  g_assert_nonnull (err);
  g_test_message ("%s", err->message);
  g_clear_error (&err);

  /* A port that is taken. */
  auto first = start_server ();
  guint port = 0;
  g_object_get (first.get (), "port", &port, nullptr);
  g_assert_cmpuint (port, >, 0);
  std::string listen = "127.0.0.1:" + std::to_string (port);
  g_object_set (server.get (), "listen", listen.c_str (), nullptr);
  g_assert_false (gst_voice_signaller_start (GST_VOICE_SIGNALLER (server.get ()), &err));
  g_assert_nonnull (err);
  g_assert_nonnull (strstr (err->message, listen.c_str ()));
  g_clear_error (&err);
  gst_voice_signaller_stop (GST_VOICE_SIGNALLER (first.get ()));

  /* Other spellings of a loopback address. */
  for (const char *ok : {"localhost:0", "[::1]:0"}) {
    g_object_set (server.get (), "listen", ok, nullptr);
    if (!gst_voice_signaller_start (GST_VOICE_SIGNALLER (server.get ()), &err)) {
      g_assert_nonnull (strstr (ok, "::1"));   /* only IPv6 may be missing here */
      g_test_message ("no IPv6 loopback: %s", err->message);
      g_clear_error (&err);
      continue;
    }
    g_object_get (server.get (), "port", &port, nullptr);
    g_assert_cmpuint (port, >, 0);
    gst_voice_signaller_stop (GST_VOICE_SIGNALLER (server.get ()));
    g_object_get (server.get (), "port", &port, nullptr);
    g_assert_cmpuint (port, ==, 0);
  }
}

/* Signalling cost alone (no webrtcbin): sequential WHIP POST → 201 → DELETE round trips with
 * an element that answers at once. Runs with -m perf:
 *   build/tests/http/test_httpserver -m perf -p /http/server/perf */
static void
test_perf (void)
{
  if (!g_test_perf ()) {
    g_test_skip ("run with -m perf");
    return;
  }
  auto server = start_server ([] (GObject *s) { g_object_set (s, "max-sessions", 0, nullptr); });
  FakeServerElement element (server.get (), Mode::ANSWER_IN_HANDLER);
  Http http;
  const int n = 500;
  std::vector<double> post_ms;
  gint64 t0 = g_get_monotonic_time ();
  for (int i = 0; i < n; i++) {
    gint64 a = g_get_monotonic_time ();
    Response r = post_offer (http, server.get ());
    post_ms.push_back ((g_get_monotonic_time () - a) / 1000.0);
    g_assert_cmpuint (r.status, ==, 201);
    g_assert_cmpuint (http.send ("DELETE", server_url (server.get (), r.header ("Location"))).status,
        ==, 200);
  }
  double total_s = (g_get_monotonic_time () - t0) / 1e6;
  std::sort (post_ms.begin (), post_ms.end ());
  g_test_minimized_result (post_ms[n / 2], "POST->201 median %.3f ms", post_ms[n / 2]);
  g_test_message ("%d POST+DELETE in %.2f s (%.0f calls/s); POST->201 p50 %.3f ms, p95 %.3f ms, "
      "p99 %.3f ms, max %.3f ms", n, total_s, n / total_s, post_ms[n / 2],
      post_ms[n * 95 / 100], post_ms[n * 99 / 100], post_ms[n - 1]);
  gst_voice_signaller_stop (GST_VOICE_SIGNALLER (server.get ()));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, nullptr);
  gst_init (&argc, &argv);
  g_test_add_func ("/http/server/whip-post-created", test_whip_post_created);
  g_test_add_func ("/http/server/whip-answer-in-handler", test_whip_answer_in_handler);
  g_test_add_func ("/http/server/ids-distinct", test_ids_distinct);
  g_test_add_func ("/http/server/trickle-patch", test_trickle_patch);
  g_test_add_func ("/http/server/ice-restart", test_ice_restart);
  g_test_add_func ("/http/server/ice-restart-unsupported", test_ice_restart_unsupported);
  g_test_add_func ("/http/server/delete", test_delete);
  g_test_add_func ("/http/server/watch-until-ended", test_watch_until_ended);
  g_test_add_func ("/http/server/options", test_options);
  g_test_add_func ("/http/server/auth", test_auth);
  g_test_add_func ("/http/server/max-sessions", test_max_sessions);
  g_test_add_func ("/http/server/bad-input", test_bad_input);
  g_test_add_func ("/http/server/json", test_json);
  g_test_add_func ("/http/server/refused-by-element", test_refused_by_element);
  g_test_add_func ("/http/server/accept-session", test_accept_session);
  g_test_add_func ("/http/server/gather-timeout", test_gather_timeout);
  g_test_add_func ("/http/server/stop-fails-pending", test_stop_fails_pending);
  g_test_add_func ("/http/server/peer-gone", test_peer_gone);
  g_test_add_func ("/http/server/serve-page", test_serve_page);
  g_test_add_func ("/http/server/listen-errors", test_listen_errors);
  g_test_add_func ("/http/server/perf", test_perf);
  return g_test_run ();
}
