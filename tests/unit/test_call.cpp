/* gst-voicecall: a two-party call in one process over 127.0.0.1, checked by content. */
#include "localsignaller.h"
#include "party.h"

#include <gst/check/gstcheck.h>

#include <cmath>

using vc::test::Party;

static void
expect_tone (Party &p, double hz)
{
  double got = p.dominant_frequency ();
  g_print ("%s received %.1f Hz (expected %.0f)\n", p.name.c_str (), got, hz);
  fail_unless (std::fabs (got - hz) < hz * 0.02, "%s heard %.1f Hz, expected %.0f Hz",
      p.name.c_str (), got, hz);
}

GST_START_TEST (test_two_party_call)
{
  Party a ("caller", 440), b ("callee", 880);
  fail_unless (a.pipeline && b.pipeline);
  vc::test::pair (a, b);
  b.play ();
  a.play ();
  std::string error;
  fail_unless (a.wait_audio (1.5, 20, &error), "%s", error.c_str ());
  fail_unless (b.wait_audio (1.5, 20, &error), "%s", error.c_str ());
  g_print ("PLAYING to first decoded remote audio: caller %.0f ms, callee %.0f ms\n",
      (a.first_audio_us - a.playing_us) / 1000.0, (b.first_audio_us - b.playing_us) / 1000.0);
  expect_tone (a, 880);
  expect_tone (b, 440);
}
GST_END_TEST;

static Suite *
call_suite (void)
{
  Suite *s = suite_create ("call");
  TCase *tc = tcase_create ("inprocess");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_two_party_call);
  suite_add_tcase (s, tc);
  return s;
}

GST_CHECK_MAIN (call);
