/* gst-voicecall: the pure units under the HTTP signallers — RFC 8840 fragments, candidate
 * folding (sdputil), problem+json, the aiortc JSON body, ICE server Link headers, random ids,
 * header matching. No network.
 */
#include "httputil.h"
#include "iceservers.h"
#include "problem.h"
#include "randomid.h"
#include "sdpfrag.h"
#include "sdpjson.h"
#include "sdputil.h"
#include "signallerruntime.h"
#include "testutil.h"
#include "vectors.h"

#include <gst/gst.h>

#include <atomic>
#include <set>
#include <string>


/* The RFC 8840 §5 / RFC 9725 §4.3.1 example shape. */
static const char kFrag[] =
    "a=ice-ufrag:EsAw\r\n"
    "a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\n"
    "m=audio 9 RTP/AVP 0\r\n"
    "a=mid:0\r\n"
    "a=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host generation 0 ufrag EsAw "
    "network-id 1\r\n"
    "a=candidate:3471623853 1 udp 2122194687 198.51.100.2 61765 typ host generation 0 ufrag "
    "EsAw network-id 2\r\n"
    "a=candidate:473322822 1 tcp 1518280447 192.0.2.1 9 typ host tcptype active generation 0 "
    "ufrag EsAw network-id 1\r\n"
    "a=end-of-candidates\r\n";

static void
test_sdpfrag_parse (void)
{
  vc::sdpfrag::Frag f;
  std::string error;
  g_assert_true (vc::sdpfrag::parse (kFrag, strlen (kFrag), &f, &error));
  vc_assert_cmpstr (f.ufrag.c_str (), ==, "EsAw");
  vc_assert_cmpstr (f.pwd.c_str (), ==, "P2uYro0UCOQ4zxjKXaWCBui1");
  g_assert_cmpuint (f.media.size (), ==, 1);
  vc_assert_cmpstr (f.media[0].mid.c_str (), ==, "0");
  g_assert_cmpuint (f.media[0].candidates.size (), ==, 3);
  g_assert_true (g_str_has_prefix (f.media[0].candidates[0].c_str (), "candidate:1387637174 1"));
  g_assert_true (f.media[0].end_of_candidates);

  /* LF line ends, end-of-candidates only. */
  const char *eoc = "a=ice-ufrag:x\na=ice-pwd:y\nm=audio 9 RTP/AVP 0\na=mid:a\na=end-of-candidates\n";
  g_assert_true (vc::sdpfrag::parse (eoc, strlen (eoc), &f, &error));
  g_assert_true (f.media[0].candidates.empty ());
  g_assert_true (f.media[0].end_of_candidates);
  vc_assert_cmpstr (f.media[0].mid.c_str (), ==, "a");

  /* Session-level candidates (not RFC 8840, but sent by some clients) are kept. */
  const char *loose = "a=candidate:1 1 udp 1 127.0.0.1 9 typ host\r\n";
  g_assert_true (vc::sdpfrag::parse (loose, strlen (loose), &f, &error));
  g_assert_cmpuint (f.media.size (), ==, 1);
  vc_assert_cmpstr (f.media[0].mid.c_str (), ==, "");

  /* Refused, with a reason. */
  for (const char *bad : {"", "hello world", "a=ice-options:trickle\r\n", "a=ice-ufrag:x\r\n",
           "m=audio 9 RTP/AVP 0\r\na=mid:0\r\n", "a=candidate:1\r\n\x01=x\r\n"}) {
    g_assert_false (vc::sdpfrag::parse (bad, strlen (bad), &f, &error));
    g_assert_cmpuint (error.size (), >, 0);
  }
  const char nul[] = "a=ice-ufrag:x\r\na=ice-pwd:y\0\r\n";
  g_assert_false (vc::sdpfrag::parse (nul, sizeof nul - 1, &f, &error));
}

static void
test_sdpfrag_roundtrip (void)
{
  vc::sdpfrag::Frag f;
  f.ufrag = "u1";
  f.pwd = "p1";
  vc::sdpfrag::Media m;
  m.mid = "0";
  m.candidates = {"candidate:1 1 UDP 2015363327 127.0.0.1 40000 typ host",
                  "a=candidate:2 1 UDP 1 127.0.0.1 9 typ host", "3 1 UDP 1 10.0.0.1 9 typ host"};
  m.end_of_candidates = true;
  f.media.push_back (m);
  std::string text = vc::sdpfrag::build (f);
  vc_assert_cmpstr (text.c_str (), ==,
      "a=ice-ufrag:u1\r\na=ice-pwd:p1\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n"
      "a=candidate:1 1 UDP 2015363327 127.0.0.1 40000 typ host\r\n"
      "a=candidate:2 1 UDP 1 127.0.0.1 9 typ host\r\n"
      "a=candidate:3 1 UDP 1 10.0.0.1 9 typ host\r\n"
      "a=end-of-candidates\r\n");
  vc::sdpfrag::Frag back;
  std::string error;
  g_assert_true (vc::sdpfrag::parse (text.data (), text.size (), &back, &error));
  vc_assert_cmpstr (back.ufrag.c_str (), ==, "u1");
  g_assert_cmpuint (back.media[0].candidates.size (), ==, 3);
  vc_assert_cmpstr (back.media[0].candidates[2].c_str (), ==, "candidate:3 1 UDP 1 10.0.0.1 9 typ host");
}

/* Our SSRC is the only one a media says (Janus drops RTP from an SSRC the SDP did not name). */
static void
test_sdputil_ssrc (void)
{
  std::string error;
  auto msg = vc::sdp::parse ("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
      "m=audio 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:audio0\r\n"
      "a=ssrc-group:FID 1 2\r\na=ssrc:1 cname:x\r\na=ssrc:2 cname:x\r\n"
      "a=rtpmap:96 OPUS/48000/2\r\n", &error);
  g_assert_nonnull (msg.get ());
  vc::sdp::set_ssrc (msg.get (), 0, 4000000000u, "voicecall-ab");
  vc::sdp::set_ssrc (msg.get (), 3, 5, "nothing");   /* no such media: nothing */
  vc::GUnique<gchar> text (gst_sdp_message_as_text (msg.get ()));
  g_assert_null (strstr (text.get (), "a=ssrc:1 "));
  g_assert_null (strstr (text.get (), "ssrc-group"));
  g_assert_nonnull (strstr (text.get (), "a=ssrc:4000000000 cname:voicecall-ab\r\n"));
  g_assert_nonnull (strstr (text.get (), "a=rtpmap:96 OPUS/48000/2"));
}

static void
test_sdputil_candidates (void)
{
  std::string error;
  auto offer = vc::sdp::parse (kChromeOffer, &error);
  g_assert_nonnull (offer.get ());
  vc_assert_cmpstr (vc::sdp::media_mid (offer.get (), 0).c_str (), ==, "0");
  vc_assert_cmpstr (vc::sdp::media_mid (offer.get (), 5).c_str (), ==, "");
  g_assert_cmpint (vc::sdp::media_for_mid (offer.get (), "0"), ==, 0);
  g_assert_cmpint (vc::sdp::media_for_mid (offer.get (), "1"), ==, -1);
  std::string u, p;
  vc::sdp::ice_credentials (offer.get (), 0, &u, &p);
  vc_assert_cmpstr (u.c_str (), ==, "5DH+");
  vc_assert_cmpstr (p.c_str (), ==, "coLPjdqH9norYQpnPyFS4JP9");

  /* Folding: new ones added, duplicates and unknown m-lines skipped, end-of-candidates once. */
  GstWebRTCSessionDescription *desc = gst_webrtc_session_description_new (
      GST_WEBRTC_SDP_TYPE_OFFER, offer.release ());
  std::vector<vc::sdp::Candidate> cands = {
    {0, "candidate:1 1 UDP 2015363327 127.0.0.1 40000 typ host"},
    {0, "candidate:1 1 UDP 2015363327 127.0.0.1 40000 typ host"},
    {0, "candidate:3742922256 1 udp 2122260223 192.168.3.106 55175 typ host generation 0 "
        "network-id 1 network-cost 10"},
    {3, "candidate:9 1 UDP 1 127.0.0.1 9 typ host"},
  };
  GstWebRTCSessionDescription *folded = vc::sdp::with_candidates (desc, cands, true);
  std::string text = vc::sdp::to_text (folded);
  g_assert_cmpint (count (text, "a=candidate:"), ==, 3);
  g_assert_cmpint (count (text, "a=candidate:1 1 UDP 2015363327 127.0.0.1 40000 typ host\r\n"), ==, 1);
  g_assert_cmpint (count (text, "a=end-of-candidates\r\n"), ==, 1);
  /* The original is untouched; folding twice adds nothing. */
  g_assert_cmpint (count (vc::sdp::to_text (desc), "a=candidate:"), ==, 2);
  vc::sdp::add_candidates (folded->sdp, cands, true);
  g_assert_cmpint (count (vc::sdp::to_text (folded), "a=end-of-candidates"), ==, 1);

  /* ICE restart helpers. */
  vc::sdp::remove_candidates (folded->sdp);
  vc::sdp::set_ice_credentials (folded->sdp, "nu", "np");
  text = vc::sdp::to_text (folded);
  g_assert_cmpint (count (text, "a=candidate:"), ==, 0);
  g_assert_cmpint (count (text, "a=end-of-candidates"), ==, 0);
  g_assert_cmpint (count (text, "a=ice-ufrag:nu\r\n"), ==, 1);
  g_assert_cmpint (count (text, "a=ice-ufrag:"), ==, 1);
  g_assert_cmpint (count (text, "a=ice-pwd:np\r\n"), ==, 1);
  gst_webrtc_session_description_free (folded);
  gst_webrtc_session_description_free (desc);
}

static void
test_problem (void)
{
  std::string doc = vc::problem::make (422, "the offer has no \"audio\"");
  vc_assert_cmpstr (doc.c_str (), ==, "{\"type\":\"about:blank\",\"title\":\"Unprocessable Content\","
      "\"status\":422,\"detail\":\"the offer has no \\\"audio\\\"\"}");
  vc_assert_cmpstr (vc::problem::describe ("application/problem+json", doc.data (), doc.size ()).c_str (),
      ==, "the offer has no \"audio\"");
  std::string no_detail = vc::problem::make (428, "");
  vc_assert_cmpstr (vc::problem::describe ("application/problem+json", no_detail.data (),
      no_detail.size ()).c_str (), ==, "Precondition Required");
  const char *text = "Bad offer\r\nsecond line";
  vc_assert_cmpstr (vc::problem::describe ("text/plain", text, strlen (text)).c_str (), ==,
      "Bad offer");
  const char *html = "<html>oops</html>";
  vc_assert_cmpstr (vc::problem::describe ("text/html", html, strlen (html)).c_str (), ==, "");
  vc_assert_cmpstr (vc::problem::describe ("application/json", "{", 1).c_str (), ==, "");
  vc_assert_cmpstr (vc::problem::describe (nullptr, "x", 1).c_str (), ==, "");
  std::string longtext (1000, 'x');
  g_assert_cmpuint (vc::problem::describe ("text/plain", longtext.data (), longtext.size ()).size (),
      ==, 200);
  vc_assert_cmpstr (vc::problem::reason_phrase (413), ==, "Content Too Large");
  vc_assert_cmpstr (vc::problem::reason_phrase (404), ==, "Not Found");
}

static void
test_sdpjson (void)
{
  std::string body = vc::sdpjson::build ("offer", kChromeOffer);
  std::string type, sdp, error;
  g_assert_true (vc::sdpjson::parse (body.data (), body.size (), &type, &sdp, &error));
  vc_assert_cmpstr (type.c_str (), ==, "offer");
  vc_assert_cmpstr (sdp.c_str (), ==, kChromeOffer);
  /* aiortc clients send extra members. */
  const char *extra = "{\"sdp\":\"v=0\\r\\n\",\"type\":\"offer\",\"video_transform\":\"none\"}";
  g_assert_true (vc::sdpjson::parse (extra, strlen (extra), &type, &sdp, &error));
  for (const char *bad : {"", "{", "[]", "{\"sdp\":1,\"type\":\"offer\"}", "{\"type\":\"offer\"}",
           "{\"sdp\":\"v=0\"}", "null", "\"str\""}) {
    g_assert_false (vc::sdpjson::parse (bad, strlen (bad), &type, &sdp, &error));
    g_assert_cmpuint (error.size (), >, 0);
  }
}

static void
test_iceservers (void)
{
  vc::iceserver::Server s;
  std::string error;
  g_assert_true (vc::iceserver::parse ("stun:stun.example.net", &s, &error));
  vc_assert_cmpstr (vc::iceserver::to_uri (s).c_str (), ==, "stun:stun.example.net");
  vc_assert_cmpstr (vc::iceserver::to_webrtcbin (s).c_str (), ==, "stun://stun.example.net");

  g_assert_true (vc::iceserver::parse ("turn://us%40er:p%3Ass@turn.example.net:3478?transport=tcp",
      &s, &error));
  vc_assert_cmpstr (s.username.c_str (), ==, "us@er");
  vc_assert_cmpstr (s.credential.c_str (), ==, "p:ss");
  g_assert_cmpint (s.port, ==, 3478);
  vc_assert_cmpstr (vc::iceserver::to_link (s, true).c_str (), ==,
      "<turn:turn.example.net:3478?transport=tcp>; rel=\"ice-server\"; username=\"us@er\"; "
      "credential=\"p:ss\"; credential-type=\"password\"");
  vc_assert_cmpstr (vc::iceserver::to_link (s, false).c_str (), ==,
      "<turn:turn.example.net:3478?transport=tcp>; rel=\"ice-server\"");
  vc_assert_cmpstr (vc::iceserver::to_webrtcbin (s).c_str (), ==,
      "turn://us%40er:p%3Ass@turn.example.net:3478?transport=tcp");

  g_assert_true (vc::iceserver::parse ("stun:[::1]:3478", &s, &error));
  vc_assert_cmpstr (s.host.c_str (), ==, "::1");
  vc_assert_cmpstr (vc::iceserver::to_uri (s).c_str (), ==, "stun:[::1]:3478");

  for (const char *bad : {"", "http://x", "stun:", "stun:host:99999", "stun:ho\"st",
           "turn:a b", "stun:host>; rel=x", "nothing"}) {
    g_assert_false (vc::iceserver::parse (bad, &s, &error));
    g_assert_cmpuint (error.size (), >, 0);
  }

  /* Link headers as libsoup joins them; other relations and bad entries are skipped. */
  const char *links = "<stun:stun.example.net>; rel=\"ice-server\", "
      "<turn:turn.example.net?transport=udp>; rel=\"ice-server\"; username=\"user\"; "
      "credential=\"my,pass\\\"word\"; credential-type=\"password\", "
      "<https://example.net/>; rel=\"help\", <stun:bad host>; rel=ice-server, garbage";
  auto servers = vc::iceserver::from_link_header (links);
  g_assert_cmpuint (servers.size (), ==, 2);
  vc_assert_cmpstr (vc::iceserver::to_webrtcbin (servers[0]).c_str (), ==,
      "stun://stun.example.net");
  vc_assert_cmpstr (servers[1].username.c_str (), ==, "user");
  vc_assert_cmpstr (servers[1].credential.c_str (), ==, "my,pass\"word");
  vc_assert_cmpstr (vc::iceserver::to_webrtcbin (servers[1]).c_str (), ==,
      "turn://user:my%2Cpass%22word@turn.example.net?transport=udp");

  /* What to_link writes, from_link_header reads back. */
  vc::iceserver::Server t;
  g_assert_true (vc::iceserver::parse ("turn://a%22b:c%5Cd@127.0.0.1:3478", &t, &error));
  auto back = vc::iceserver::from_link_header (vc::iceserver::to_link (t, true).c_str ());
  g_assert_cmpuint (back.size (), ==, 1);
  vc_assert_cmpstr (back[0].username.c_str (), ==, "a\"b");
  vc_assert_cmpstr (back[0].credential.c_str (), ==, "c\\d");
}

static void
test_random_ids (void)
{
  std::set<std::string> seen;
  for (int i = 0; i < 1000; i++) {
    std::string id = vc::random_hex (16);
    g_assert_cmpuint (id.size (), ==, 32);
    g_assert_true (g_regex_match_simple ("^[0-9a-f]{32}$", id.c_str (), G_REGEX_DEFAULT,
        G_REGEX_MATCH_DEFAULT));
    seen.insert (id);
  }
  g_assert_cmpuint (seen.size (), ==, 1000);
  /* Rough uniformity: every hex digit shows up in 32000 digits about 2000 times. */
  int digits[16] = {0};
  for (const std::string &id : seen)
    for (char c : id)
      digits[g_ascii_xdigit_value (c)]++;
  for (int d : digits)
    g_assert_cmpint (d, >, 1500);
}

static void
test_http_helpers (void)
{
  g_assert_true (vc::http::bearer_matches ("Bearer s3cret", "s3cret"));
  g_assert_true (vc::http::bearer_matches ("bearer   s3cret ", "s3cret"));
  g_assert_false (vc::http::bearer_matches ("Bearer s3cre", "s3cret"));
  g_assert_false (vc::http::bearer_matches ("Bearer s3cretx", "s3cret"));
  g_assert_false (vc::http::bearer_matches ("Basic s3cret", "s3cret"));
  g_assert_false (vc::http::bearer_matches (nullptr, "s3cret"));
  g_assert_false (vc::http::bearer_matches ("Bearer ", ""));

  g_assert_true (vc::http::if_match_matches ("\"abc\"", "\"abc\""));
  g_assert_true (vc::http::if_match_matches ("\"x\", \"abc\"", "\"abc\""));
  g_assert_true (vc::http::if_match_matches ("*", "\"abc\""));
  g_assert_false (vc::http::if_match_matches ("W/\"abc\"", "\"abc\""));
  g_assert_false (vc::http::if_match_matches ("\"abd\"", "\"abc\""));
  g_assert_false (vc::http::if_match_matches (nullptr, "\"abc\""));

  vc_assert_cmpstr (vc::http::resolve ("http://a:1/call", "/call/x").c_str (), ==,
      "http://a:1/call/x");
  vc_assert_cmpstr (vc::http::resolve ("http://a:1/w/call", "s/x").c_str (), ==,
      "http://a:1/w/s/x");
  vc_assert_cmpstr (vc::http::resolve ("http://a:1/call", "http://b:2/r").c_str (), ==,
      "http://b:2/r");

  GInetAddress *ip = g_inet_address_new_from_string ("::1");
  GSocketAddress *a = g_inet_socket_address_new (ip, 4242);
  vc_assert_cmpstr (vc::http::address_string (a).c_str (), ==, "[::1]:4242");
  g_object_unref (a);
  g_object_unref (ip);
}


/* vc::SignallerRuntime: the thread lifecycle of both HTTP signallers. */
static void
test_runtime (void)
{
  vc::SignallerRuntime rt ("test-runtime");
  std::atomic<int> ran {0};
  /* Never started: calls are refused (and dropped); stop is a no-op. */
  g_assert_false (rt.call ([&] { ran++; }));
  rt.stop ([&] { ran += 100; });
  g_assert_cmpint (ran.load (), ==, 0);

  /* A failed start leaves it stopped, and what it deferred is dropped. */
  g_assert_false (rt.start ([&] {
    g_assert_true (rt.running ());
    rt.defer ([&] { ran += 1000; });
    return false;
  }));
  GThread *thread = nullptr;
  g_assert_true (rt.start ([&] {
    thread = g_thread_self ();
    return true;
  }));
  g_assert_true (thread != g_thread_self ());
  /* Running already: start does nothing. */
  g_assert_true (rt.start ([&] { ran += 10000; return true; }));

  /* call runs in the thread; defer runs later, in order, outside the caller. */
  std::vector<int> order;
  bool sync_done = false;
  g_assert_true (rt.call ([&] {
    g_assert_true (g_thread_self () == thread);
    rt.defer ([&] { order.push_back (2); });
    order.push_back (1);
  }));
  rt.call ([&] { rt.defer ([&] { sync_done = true; }); });
  gint64 end = g_get_monotonic_time () + G_USEC_PER_SEC * 5;
  while (!sync_done && g_get_monotonic_time () < end)
    g_usleep (1000);
  g_assert_true (sync_done);
  g_assert_cmpuint (order.size (), ==, 2);
  g_assert_cmpint (order[0], ==, 1);
  g_assert_cmpint (order[1], ==, 2);

  /* Deferred before stop: dropped. Deferred by a previous run: dropped after a restart. */
  bool stale = false, teardown_saw_running = true;
  rt.stop ([&] {
    teardown_saw_running = rt.running ();
    rt.defer ([&] { stale = true; });
  });
  g_assert_false (teardown_saw_running);
  g_assert_true (rt.call ([&] { ran++; }));   /* the thread exists: queued, then dropped */
  g_assert_true (rt.start ([&] {
    rt.defer ([&] { sync_done = false; });
    return true;
  }));
  end = g_get_monotonic_time () + G_USEC_PER_SEC * 5;
  while (sync_done && g_get_monotonic_time () < end)
    g_usleep (1000);
  g_assert_false (sync_done);   /* this run's deferred call ran ... */
  g_assert_false (stale);       /* ... the stopped run's did not */
  g_assert_cmpint (ran.load (), ==, 0);

  /* drain (in stop's teardown) iterates the thread's context until done () or the time is up. */
  bool fired = false, drained = false, gave_up = false;
  rt.stop ([&] {
    rt.timeout (20, [&] { fired = true; });
    drained = rt.drain ([&] { return fired; }, 2000);
    gave_up = !rt.drain ([] { return false; }, 30);
  });
  g_assert_true (drained);
  g_assert_true (gave_up);

  /* finalize runs the owner's stop and joins the thread. */
  bool stopped = false;
  GObject *owner = G_OBJECT (g_object_new (G_TYPE_OBJECT, nullptr));
  rt.finalize (owner, [&] { stopped = true; });
  g_object_unref (owner);
  g_assert_true (stopped);
  g_assert_false (rt.call ([] {}));   /* no thread any more */
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, nullptr);
  gst_init (&argc, &argv);
  g_test_add_func ("/http/units/sdpfrag-parse", test_sdpfrag_parse);
  g_test_add_func ("/http/units/sdpfrag-roundtrip", test_sdpfrag_roundtrip);
  g_test_add_func ("/http/units/sdputil-candidates", test_sdputil_candidates);
  g_test_add_func ("/http/units/sdputil-ssrc", test_sdputil_ssrc);
  g_test_add_func ("/http/units/problem", test_problem);
  g_test_add_func ("/http/units/sdpjson", test_sdpjson);
  g_test_add_func ("/http/units/iceservers", test_iceservers);
  g_test_add_func ("/http/units/random-ids", test_random_ids);
  g_test_add_func ("/http/units/http-helpers", test_http_helpers);
  g_test_add_func ("/http/units/runtime", test_runtime);
  return g_test_run ();
}
