/* gst-voicecall: janus:// URLs (gst/janusurl.h) — what each query name sets, the HTTP API URL
 * made from the host, port and path, and the URLs that are refused with a reason — and the
 * Janus signaller's start () refusing them as the factory's janus:// signaller. */
#include "janusurl.h"
#include "signallerfactory.h"

#include <gst/check/gstcheck.h>

using vc::janus::Target;

GST_START_TEST (test_full_url)
{
  Target t;
  std::string error;
  fail_unless (vc::janus::parse_url ("janus://127.0.0.1:8088/janus?room=1234&display=alice"
      "&pin=p%20w&secret=s&token=tk&apisecret=as&create=true&muted=1&bitrate=24000"
      "&expected_loss=10", &t, &error), "%s", error.c_str ());
  fail_unless_equals_string (t.api.c_str (), "http://127.0.0.1:8088/janus");
  fail_unless_equals_uint64 (t.room, 1234);
  fail_unless_equals_string (t.display.c_str (), "alice");
  fail_unless_equals_string (t.pin.c_str (), "p w");
  fail_unless_equals_string (t.secret.c_str (), "s");
  fail_unless_equals_string (t.token.c_str (), "tk");
  fail_unless_equals_string (t.apisecret.c_str (), "as");
  fail_unless (t.create && t.muted);
  fail_unless_equals_int (t.bitrate, 24000);
  fail_unless_equals_int (t.expected_loss, 10);
}
GST_END_TEST;

GST_START_TEST (test_defaults_and_paths)
{
  Target t;
  std::string error;
  fail_unless (vc::janus::parse_url ("janus://example.org?room=7", &t, &error));
  fail_unless_equals_string (t.api.c_str (), "http://example.org/janus");
  fail_unless (!t.create && !t.muted);
  fail_unless_equals_int (t.bitrate, 0);
  fail_unless_equals_int (t.expected_loss, -1);
  Target u;
  fail_unless (vc::janus::parse_url ("januss://[::1]:8089/gw/janus/?room=9", &u, &error));
  fail_unless_equals_string (u.api.c_str (), "https://[::1]:8089/gw/janus");
}
GST_END_TEST;

GST_START_TEST (test_refused)
{
  const char *bad[][2] = {
    {"http://127.0.0.1:8088/janus?room=1", "janus://"},
    {"janus://127.0.0.1:8088/janus", "names no room"},
    {"janus://127.0.0.1:8088/janus?room=abc", "positive number"},
    {"janus://127.0.0.1:8088/janus?room=0", "positive number"},
    {"janus://127.0.0.1/janus?room=1&create=maybe", "true or false"},
    {"janus://127.0.0.1/janus?room=1&expected_loss=30", "0-20"},
    {"janus:///janus?room=1", "no host"},
  };
  for (auto &b : bad) {
    Target t;
    std::string error;
    fail_if (vc::janus::parse_url (b[0], &t, &error), "%s was taken", b[0]);
    fail_unless (error.find (b[1]) != std::string::npos, "%s: %s", b[0], error.c_str ());
  }
}
GST_END_TEST;

GST_START_TEST (test_errors_say_what_to_do)
{
  fail_unless (vc::janus::describe_error (485, "No such room (1235)").find ("room=") !=
      std::string::npos);
  fail_unless (vc::janus::describe_error (489, "Unauthorized (wrong pin)").find ("pin=") !=
      std::string::npos);
}
GST_END_TEST;

GST_START_TEST (test_factory_and_start)
{
  GstVoiceSignaller *s = gst_voice_signaller_new_for_url ("janus://127.0.0.1:1/janus");
  fail_unless (g_str_equal (G_OBJECT_TYPE_NAME (s), "GstVoiceJanusSignaller"));
  GError *err = nullptr;
  fail_if (gst_voice_signaller_start (s, &err));
  fail_unless (err && strstr (err->message, "names no room"));
  g_clear_error (&err);
  /* A room given as a property needs none in the URL; Janus is then asked (and the
   * unreachable port is an "error" signal later, not a failed start). */
  g_object_set (s, "room", (guint64) 5, nullptr);
  fail_unless (gst_voice_signaller_start (s, &err));
  gst_voice_signaller_stop (s);
  g_object_unref (s);
  GstVoiceSignaller *h = gst_voice_signaller_new_for_url ("http://127.0.0.1:1/call");
  fail_unless (g_str_equal (G_OBJECT_TYPE_NAME (h), "GstVoiceHttpClientSignaller"));
  g_object_unref (h);
}
GST_END_TEST;

static Suite *
janusurl_suite (void)
{
  Suite *s = suite_create ("janusurl");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_full_url);
  tcase_add_test (tc, test_defaults_and_paths);
  tcase_add_test (tc, test_refused);
  tcase_add_test (tc, test_errors_say_what_to_do);
  tcase_add_test (tc, test_factory_and_start);
  return s;
}

GST_CHECK_MAIN (janusurl);
