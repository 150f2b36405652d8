/* gst-voicecall: robustness of everything that parses network input in the HTTP signallers.
 *
 * Mutates valid inputs (the Chrome offer, the aiortc answer, an RFC 8840 fragment, JSON
 * bodies, Link headers, problem documents) with bit flips, byte insertions and deletions,
 * truncation, chunk duplication and pure noise, and feeds them to the parsers and to what the
 * signallers do with a parsed result. Passing means: no crash, no hang, no GLib warning (they
 * are fatal under g_test). Then the same kind of garbage goes over HTTP to a running server
 * signaller, which must answer every request with a status and stay up.
 *
 * Deterministic: seed VC_FUZZ_SEED (default 1), VC_FUZZ_ITERATIONS per input (default 3000).
 * Run it longer, e.g. under ASan: VC_FUZZ_ITERATIONS=200000 meson test ... httpfuzz
 */
#include "httptest.h"
#include "iceservers.h"
#include "problem.h"
#include "sdpfrag.h"
#include "sdpjson.h"

#include <map>

using namespace vctest;

static guint32 seed = 1;
static guint iterations = 3000;

static const char kFrag[] =
    "a=ice-ufrag:EsAw\r\na=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\nm=audio 9 RTP/AVP 0\r\n"
    "a=mid:0\r\na=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host\r\n"
    "a=end-of-candidates\r\n";
static const char kLinks[] =
    "<stun:stun.example.net>; rel=\"ice-server\", <turn:turn.example.net?transport=udp>; "
    "rel=\"ice-server\"; username=\"user\"; credential=\"pass\"; credential-type=\"password\"";

static std::string
mutate (GRand *r, const std::string &in)
{
  std::string s = in;
  guint rounds = g_rand_int_range (r, 1, 9);
  for (guint i = 0; i < rounds; i++) {
    gsize n = s.size ();
    gsize pos = n ? g_rand_int_range (r, 0, n) : 0;
    switch (g_rand_int_range (r, 0, 8)) {
      case 0:   /* flip a bit */
        if (n)
          s[pos] ^= static_cast<char> (1 << g_rand_int_range (r, 0, 8));
        break;
      case 1:   /* random byte */
        if (n)
          s[pos] = static_cast<char> (g_rand_int_range (r, 0, 256));
        break;
      case 2: { /* insert interesting bytes */
        static const char interesting[] = "\0\r\n=:;\"\\{}[],<> \x7f\xff";
        s.insert (pos, std::string (1, interesting[g_rand_int_range (r, 0,
            sizeof interesting - 1)]));
        break;
      }
      case 3:   /* delete a run */
        if (n)
          s.erase (pos, g_rand_int_range (r, 1, 32));
        break;
      case 4:   /* truncate */
        s.resize (pos);
        break;
      case 5: { /* duplicate a chunk */
        gsize len = n ? g_rand_int_range (r, 1, 200) : 0;
        std::string chunk = s.substr (pos, len);
        s.insert (n ? g_rand_int_range (r, 0, n) : 0, chunk);
        break;
      }
      case 6: { /* noise */
        std::string noise (g_rand_int_range (r, 1, 64), '\0');
        for (char &c : noise)
          c = static_cast<char> (g_rand_int_range (r, 0, 256));
        s.insert (pos, noise);
        break;
      }
      default:  /* swap two lines' worth */
        if (n > 2) {
          gsize a = g_rand_int_range (r, 0, n), b = g_rand_int_range (r, 0, n);
          std::swap (s[a], s[b]);
        }
        break;
    }
  }
  return s;
}

/* Everything the signallers do with an SDP that parsed. */
static void
exercise_sdp (const std::string &input)
{
  std::string error;
  auto sdp = vc::sdp::parse (input.c_str (), &error);
  if (!sdp) {
    g_assert_cmpuint (error.size (), >, 0);
    return;
  }
  int audio = vc::sdp::first_audio_media (sdp.get ());
  std::string u, p;
  vc::sdp::ice_credentials (sdp.get (), audio < 0 ? 0 : audio, &u, &p);
  vc::sdp::media_mid (sdp.get (), 0);
  vc::sdp::media_for_mid (sdp.get (), "0");
  vc::sdp::opus_payload (sdp.get (), 0);
  GstWebRTCSessionDescription *desc = gst_webrtc_session_description_new (
      GST_WEBRTC_SDP_TYPE_OFFER, sdp.release ());
  GstWebRTCSessionDescription *folded = vc::sdp::with_candidates (desc,
      {{0, kCand1}, {1, kCand2}, {99, kCand1}}, true);
  vc::sdp::remove_candidates (folded->sdp);
  vc::sdp::set_ice_credentials (folded->sdp, "u", "p");
  std::string text = vc::sdp::to_text (folded);
  gst_webrtc_session_description_free (folded);
  gst_webrtc_session_description_free (desc);
}

static void
exercise_frag (const std::string &input)
{
  vc::sdpfrag::Frag f;
  std::string error;
  if (!vc::sdpfrag::parse (input.data (), input.size (), &f, &error)) {
    g_assert_cmpuint (error.size (), >, 0);
    return;
  }
  /* What parses builds and parses again to the same. */
  std::string text = vc::sdpfrag::build (f);
  vc::sdpfrag::Frag back;
  if (vc::sdpfrag::parse (text.data (), text.size (), &back, &error)) {
    vc_assert_cmpstr (back.ufrag, ==, f.ufrag);
    g_assert_cmpuint (back.media.size (), ==, f.media.size ());
  }
}

static void
exercise_json (const std::string &input)
{
  std::string type, sdp, error;
  if (vc::sdpjson::parse (input.data (), input.size (), &type, &sdp, &error))
    exercise_sdp (sdp);
  else
    g_assert_cmpuint (error.size (), >, 0);
  vc::problem::describe ("application/problem+json", input.data (), input.size ());
  vc::problem::describe ("text/plain", input.data (), input.size ());
}

static void
exercise_links (const std::string &input)
{
  std::string z = input.substr (0, input.find ('\0'));
  for (const auto &s : vc::iceserver::from_link_header (z.c_str ())) {
    vc::iceserver::to_webrtcbin (s);
    vc::iceserver::to_link (s, true);
  }
  vc::iceserver::Server s;
  std::string error;
  if (vc::iceserver::parse (z.c_str (), &s, &error)) {
    /* Whatever parses is safe to write into a header. */
    std::string link = vc::iceserver::to_link (s, true);
    g_assert_true (link.find_first_of ("\r\n") == std::string::npos);
  }
}

static void
fuzz (const char *name, const std::string &valid, void (*exercise) (const std::string &))
{
  GRand *r = g_rand_new_with_seed (seed);
  gint64 t0 = g_get_monotonic_time ();
  exercise (valid);
  for (guint i = 0; i < iterations; i++)
    exercise (mutate (r, valid));
  for (guint i = 0; i < iterations / 10; i++) {   /* pure noise */
    std::string noise (g_rand_int_range (r, 0, 512), '\0');
    for (char &c : noise)
      c = static_cast<char> (g_rand_int_range (r, 0, 256));
    exercise (noise);
  }
  g_test_message ("%s: %u inputs in %" G_GINT64_FORMAT " ms (seed %u)", name,
      iterations + iterations / 10, (g_get_monotonic_time () - t0) / 1000, seed);
  g_rand_free (r);
}

static void
test_sdp (void)
{
  fuzz ("sdp offer", kChromeOffer, exercise_sdp);
  fuzz ("sdp answer", kAiortcAnswer, exercise_sdp);
}

static void
test_sdpfrag (void)
{
  fuzz ("sdpfrag", kFrag, exercise_frag);
}

static void
test_json (void)
{
  fuzz ("json offer", vc::sdpjson::build ("offer", kChromeOffer), exercise_json);
  fuzz ("problem", vc::problem::make (422, "the offer has no audio"), exercise_json);
}

static void
test_links (void)
{
  fuzz ("link header", kLinks, exercise_links);
  fuzz ("ice url", "turn://user:pass@turn.example.net:3478?transport=udp", exercise_links);
}

/* Garbage over HTTP: every request gets a status, the server stays up. */
static void
test_server (void)
{
  auto server = start_server ([] (GObject *s) {
    g_object_set (s, "gather-timeout", 0, "max-sessions", 0, nullptr);
  });
  FakeServerElement element (server.get (), FakeServerElement::Mode::ANSWER_IN_HANDLER);
  Http http;
  Response first = http.send ("POST", server_url (server.get ()), "application/sdp",
      kChromeOffer);
  g_assert_cmpuint (first.status, ==, 201);
  std::string session = server_url (server.get (), first.header ("Location"));

  GRand *r = g_rand_new_with_seed (seed);
  const std::string json = vc::sdpjson::build ("offer", kChromeOffer);
  guint n = MIN (iterations / 10, 400u);
  std::map<guint, guint> statuses;
  for (guint i = 0; i < n; i++) {
    Response resp;
    switch (i % 3) {
      case 0:
        resp = http.send ("POST", server_url (server.get ()), "application/sdp",
            mutate (r, kChromeOffer));
        break;
      case 1:
        resp = http.send ("POST", server_url (server.get (), "/offer"), "application/json",
            mutate (r, json));
        break;
      default:
        resp = http.send ("PATCH", session, "application/trickle-ice-sdpfrag",
            mutate (r, kFrag));
        break;
    }
    vc_assert_cmpstr (resp.error.c_str (), ==, "");
    g_assert_cmpuint (resp.status, >=, 200);
    g_assert_cmpuint (resp.status, <, 500);
    statuses[resp.status]++;
  }
  std::string summary;
  for (auto &[status, times] : statuses)
    summary += " " + std::to_string (status) + "x" + std::to_string (times);
  g_test_message ("%u garbage requests:%s", n, summary.c_str ());
  g_rand_free (r);
  g_assert_cmpuint (http.send ("OPTIONS", server_url (server.get ())).status, ==, 204);
  gst_voice_signaller_stop (GST_VOICE_SIGNALLER (server.get ()));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, nullptr);
  gst_init (&argc, &argv);
  if (const char *s = g_getenv ("VC_FUZZ_SEED"))
    seed = static_cast<guint32> (g_ascii_strtoull (s, nullptr, 10));
  if (const char *s = g_getenv ("VC_FUZZ_ITERATIONS"))
    iterations = static_cast<guint> (g_ascii_strtoull (s, nullptr, 10));
  g_test_add_func ("/http/fuzz/sdp", test_sdp);
  g_test_add_func ("/http/fuzz/sdpfrag", test_sdpfrag);
  g_test_add_func ("/http/fuzz/json", test_json);
  g_test_add_func ("/http/fuzz/links", test_links);
  g_test_add_func ("/http/fuzz/server", test_server);
  return g_test_run ();
}
