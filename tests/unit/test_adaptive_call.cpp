/* gst-voicecall: adaptive audio through the elements, in one process.
 *
 *  - voicecapturebin applies the "voicecall-encoder-settings" upstream event to its encoder
 *    and answers the query of that name;
 *  - two parties over 127.0.0.1 with stats-interval=200: voicecall-adaptation messages come,
 *    the encoders reach max-bitrate on the clean loopback link, and a jitter buffer started
 *    at 200 ms comes down to what the (tiny) loopback jitter needs;
 *  - adaptive=false: no message, encoder and jitter buffer as configured;
 *  - a second call starts from the encoder's bitrate at that time (set between calls).
 * Each call prints its timeline (messages and the encoder's bitrate once a second). */
#include "adaptive.h"
#include "callstats.h"
#include "localsignaller.h"
#include "party.h"

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

using vc::test::Party;

static gint
get_int (GstElement *e, const char *name)
{
  gint v = 0;
  g_object_get (e, name, &v, nullptr);
  return v;
}

static gboolean
get_bool (GstElement *e, const char *name)
{
  gboolean v = FALSE;
  g_object_get (e, name, &v, nullptr);
  return v;
}

/* The latencies of the rtpjitterbuffers inside `bin`. */
static std::vector<guint>
jitterbuffer_latencies (GstElement *bin)
{
  std::vector<guint> out;
  vc::GUnique<GstIterator> it (gst_bin_iterate_recurse (GST_BIN (bin)));
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next (it.get (), &item) == GST_ITERATOR_OK) {
    auto *e = GST_ELEMENT (g_value_get_object (&item));
    GstElementFactory *f = gst_element_get_factory (e);
    if (f && g_strcmp0 (GST_OBJECT_NAME (f), "rtpjitterbuffer") == 0) {
      guint latency = 0;
      g_object_get (e, "latency", &latency, nullptr);
      out.push_back (latency);
    }
    g_value_reset (&item);
  }
  g_value_unset (&item);
  return out;
}

struct Adaptation {
  double t;
  gint bitrate = -1, plp = -1, jb = -1;
  gboolean fec = FALSE;
  std::string reason;
};

struct Timeline {
  std::vector<Adaptation> adaptations;
  std::vector<std::pair<double, gint>> bitrates; /* the encoder's, once a second */
  std::vector<double> report_times;              /* when a new RTT showed in the stats */
  std::string error;
  vc::GUnique<GstStructure> last_stats;          /* the last voicecall-stats message */
};

/* Runs the call for `seconds`, recording `p`'s messages and its encoder's bitrate. */
static Timeline
record (Party &p, Party &other, double seconds)
{
  Timeline tl;
  vc::GstPtr<GstBus> bus = vc::adopt (gst_element_get_bus (p.pipeline.get ()));
  const gint64 start = p.playing_us;
  const gint64 end = g_get_monotonic_time () + static_cast<gint64> (seconds * 1e6);
  gint64 next_sample = 0;
  double last_rtt = -1;
  while (g_get_monotonic_time () < end) {
    const gint64 now = g_get_monotonic_time ();
    const double t = (now - start) / 1e6;
    if (now >= next_sample) {
      tl.bitrates.emplace_back (t, get_int (p.capture, "bitrate"));
      next_sample = now + G_USEC_PER_SEC;
    }
    std::string e = other.bus_error ();
    if (!e.empty ()) {
      tl.error = e;
      break;
    }
    vc::GstPtr<GstMessage> msg = vc::adopt (gst_bus_timed_pop_filtered (bus.get (),
        50 * GST_MSECOND, static_cast<GstMessageType> (GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR)));
    if (!msg)
      continue;
    if (GST_MESSAGE_TYPE (msg.get ()) == GST_MESSAGE_ERROR) {
      GError *err = nullptr;
      gst_message_parse_error (msg.get (), &err, nullptr);
      tl.error = p.name + ": " + (err ? err->message : "error");
      g_clear_error (&err);
      break;
    }
    const GstStructure *s = gst_message_get_structure (msg.get ());
    if (gst_structure_has_name (s, "voicecall-stats")) {
      double rtt = -1;
      gst_structure_get_double (s, "rtt-ms", &rtt);
      if (rtt > 0 && rtt != last_rtt)
        tl.report_times.push_back (t);
      last_rtt = rtt;
      tl.last_stats.reset (gst_structure_copy (s));
    } else if (gst_structure_has_name (s, "voicecall-adaptation")) {
      Adaptation a;
      a.t = t;
      gst_structure_get_int (s, "bitrate", &a.bitrate);
      gst_structure_get_boolean (s, "fec", &a.fec);
      gst_structure_get_int (s, "packet-loss-percentage", &a.plp);
      gst_structure_get_int (s, "jitter-buffer-ms", &a.jb);
      const char *reason = gst_structure_get_string (s, "reason");
      a.reason = reason ? reason : "";
      fail_unless (gst_structure_get_string (s, "session-id") != nullptr);
      fail_unless (!a.reason.empty (), "an adaptation without a reason");
      g_print ("%s %5.1f s  bitrate %5d  fec %d  plp %2d  jb %3d ms   %s\n", p.name.c_str (), t,
          a.bitrate, a.fec, a.plp, a.jb, a.reason.c_str ());
      tl.adaptations.push_back (a);
    }
  }
  std::string line;
  for (auto &b : tl.bitrates)
    line += " " + std::to_string (static_cast<int> (b.first + 0.5)) + "s:" +
        std::to_string (b.second / 1000) + "k";
  g_print ("%s encoder bitrate once a second:%s\n", p.name.c_str (), line.c_str ());
  return tl;
}

/* Still hearing the far end: a second brings most of a second of audio. */
static void
expect_audio_flows (Party &p)
{
  size_t before, after;
  {
    std::lock_guard<std::mutex> lk (p.lock);
    before = p.received.size ();
  }
  g_usleep (G_USEC_PER_SEC);
  {
    std::lock_guard<std::mutex> lk (p.lock);
    after = p.received.size ();
  }
  fail_unless (after - before > 48000 * 8 / 10, "%s heard %zu samples in a second",
      p.name.c_str (), after - before);
}

GST_START_TEST (test_capturebin_takes_encoder_settings)
{
  GstElement *bin = gst_element_factory_make ("voicecapturebin", nullptr);
  fail_unless (bin != nullptr);
  GstElement *tone = gst_element_factory_make ("audiotestsrc", nullptr);
  g_object_set (tone, "is-live", TRUE, nullptr);
  g_object_set (bin, "source", tone, "echo-cancel", FALSE, nullptr);
  GstHarness *h = gst_harness_new_with_element (bin, nullptr, "src");
  gst_harness_use_systemclock (h); /* clocksync inside paces by the clock */
  gst_harness_play (h);
  gst_buffer_unref (gst_harness_pull (h)); /* running */

  /* The query reads the encoder. */
  vc::GstPtr<GstQuery> query = vc::adopt (gst_query_new_custom (GST_QUERY_CUSTOM,
      gst_structure_new_empty (vc::adaptive::ENCODER_SETTINGS)));
  fail_unless (gst_pad_peer_query (h->sinkpad, query.get ()), "voicecapturebin ignored the query");
  vc::adaptive::Encoder e;
  fail_unless (vc::adaptive::parse_encoder_structure (gst_query_get_structure (query.get ()), &e));
  fail_unless_equals_int (e.bitrate, 32000);
  fail_unless (e.fec);
  fail_unless_equals_int (e.packet_loss_percentage, 5);

  /* The event sets it, while playing. */
  fail_unless (gst_harness_push_upstream_event (h, gst_event_new_custom (
      GST_EVENT_CUSTOM_UPSTREAM, vc::adaptive::encoder_structure ({20000, false, 12}))));
  fail_unless_equals_int (get_int (bin, "bitrate"), 20000);
  fail_unless (!get_bool (bin, "fec"));
  fail_unless_equals_int (get_int (bin, "packet-loss-percentage"), 12);
  vc::GstPtr<GstElement> encoder = vc::adopt (gst_bin_get_by_name (GST_BIN (bin), "encoder"));
  fail_unless_equals_int (get_int (encoder.get (), "bitrate"), 20000);

  /* Out of the bin's own ranges: clamped. Other custom events pass on. */
  fail_unless (gst_harness_push_upstream_event (h, gst_event_new_custom (
      GST_EVENT_CUSTOM_UPSTREAM, vc::adaptive::encoder_structure ({1000000, true, 400}))));
  fail_unless_equals_int (get_int (bin, "bitrate"), 510000);
  fail_unless_equals_int (get_int (bin, "packet-loss-percentage"), 100);
  gst_harness_push_upstream_event (h, gst_event_new_custom (GST_EVENT_CUSTOM_UPSTREAM,
      gst_structure_new_empty ("something-else")));
  fail_unless_equals_int (get_int (bin, "bitrate"), 510000);

  gst_harness_teardown (h);
  gst_object_unref (bin);
}
GST_END_TEST;

GST_START_TEST (test_adaptive_call_reaches_max_bitrate)
{
  /* The caller starts with a 200 ms jitter buffer, which loopback jitter does not need. */
  Party a ("caller", 440, "stats-interval=200 latency=200"), b ("callee", 880, "stats-interval=200");
  fail_unless (a.pipeline && b.pipeline);
  vc::test::pair (a, b);
  b.play ();
  a.play ();
  Timeline tl = record (a, b, 18);
  fail_unless (tl.error.empty (), "%s", tl.error.c_str ());

  std::string line;
  for (size_t i = 1; i < tl.report_times.size (); i++)
    line += " " + std::to_string (static_cast<int> (
        (tl.report_times[i] - tl.report_times[i - 1]) * 1000)) + "ms";
  g_print ("caller: %zu receiver reports, gaps:%s\n", tl.report_times.size (), line.c_str ());

  fail_unless (!tl.adaptations.empty (), "no voicecall-adaptation message");
  double at_max = -1;
  for (auto &m : tl.adaptations)
    if (m.bitrate == vc::adaptive::DEFAULT_MAX_BITRATE && at_max < 0)
      at_max = m.t;
  g_print ("caller: %zu adaptations, max-bitrate at %.1f s after PLAYING\n",
      tl.adaptations.size (), at_max);
  fail_unless (at_max > 0, "the encoder never reached max-bitrate");
  /* Both encoders really run at max-bitrate now (each voicecall set its own capture bin). */
  fail_unless_equals_int (get_int (a.capture, "bitrate"), vc::adaptive::DEFAULT_MAX_BITRATE);
  fail_unless_equals_int (get_int (b.capture, "bitrate"), vc::adaptive::DEFAULT_MAX_BITRATE);
  fail_unless (!get_bool (a.capture, "fec"), "FEC on over a clean loopback link");
  fail_unless_equals_int (get_int (a.capture, "packet-loss-percentage"), 0);
  /* The bitrate only went up. */
  for (size_t i = 1; i < tl.adaptations.size (); i++)
    fail_unless (tl.adaptations[i].bitrate >= tl.adaptations[i - 1].bitrate,
        "bitrate went down on a clean link: %s", tl.adaptations[i].reason.c_str ());

  /* The 200 ms jitter buffer came down after the 10 s hold, and the rtpjitterbuffer follows. */
  const Adaptation &last = tl.adaptations.back ();
  fail_unless (last.jb < 200, "jitter buffer still %d ms", last.jb);
  auto latencies = jitterbuffer_latencies (a.call);
  fail_unless (!latencies.empty (), "no rtpjitterbuffer in the caller");
  for (guint l : latencies)
    fail_unless_equals_int (l, last.jb);

  expect_audio_flows (a);
}
GST_END_TEST;

GST_START_TEST (test_not_adaptive_leaves_settings)
{
  Party a ("caller", 440, "stats-interval=200 adaptive=false"),
      b ("callee", 880, "stats-interval=200 adaptive=false");
  fail_unless (a.pipeline && b.pipeline);
  vc::test::pair (a, b);
  b.play ();
  a.play ();
  Timeline tl = record (a, b, 8);
  fail_unless (tl.error.empty (), "%s", tl.error.c_str ());
  fail_unless (tl.report_times.size () >= 1, "no receiver report in 8 s: the test saw nothing");
  fail_unless_equals_int (tl.adaptations.size (), 0);
  for (auto &sample : tl.bitrates)
    fail_unless_equals_int (sample.second, 32000);
  fail_unless (get_bool (a.capture, "fec"));
  fail_unless_equals_int (get_int (a.capture, "packet-loss-percentage"), 5);
  for (guint l : jitterbuffer_latencies (a.call))
    fail_unless_equals_int (l, 60);
  expect_audio_flows (a);
}
GST_END_TEST;

/* voicecall-stats carry how the heard audio is played out, as voiceplaybackbin answers
 * voicecall's playout query: the fixed chain its declared 120 ms, the adaptive playout its
 * own delay and sample counters; the MOS counts that delay. */
GST_START_TEST (test_stats_report_the_playout)
{
  Party a ("caller", 440, "stats-interval=200"), b ("callee", 880, "stats-interval=200");
  fail_unless (a.pipeline && b.pipeline);
  vc::GstPtr<GstElement> playback = vc::adopt (gst_bin_get_by_name (GST_BIN (b.pipeline.get ()),
      "playback"));
  gst_util_set_object_arg (G_OBJECT (playback.get ()), "playout", "adaptive");
  vc::GstPtr<GstElement> fixed = vc::adopt (gst_bin_get_by_name (GST_BIN (a.pipeline.get ()),
      "playback"));
  gst_util_set_object_arg (G_OBJECT (fixed.get ()), "playout", "fixed");
  vc::test::pair (a, b);
  b.play ();
  a.play ();
  Timeline ta = record (a, b, 4);
  fail_unless (ta.error.empty (), "%s", ta.error.c_str ());
  Timeline tb = record (b, a, 1);
  fail_unless (tb.error.empty (), "%s", tb.error.c_str ());
  fail_unless (ta.last_stats && tb.last_stats, "no voicecall-stats");
  const GstStructure *fa = ta.last_stats.get (), *fb = tb.last_stats.get ();
  g_print ("caller: %s\ncallee: %s\n", vc::GUnique<gchar> (gst_structure_to_string (fa)).get (),
      vc::GUnique<gchar> (gst_structure_to_string (fb)).get ());

  fail_unless_equals_string (gst_structure_get_string (fa, "playout"), "fixed");
  double delay = -1, target = -1;
  fail_unless (gst_structure_get_double (fa, "playout-delay-ms", &delay));
  fail_unless (delay == 120, "fixed playout delay %f", delay);
  fail_if (gst_structure_has_field (fa, "concealed-samples"), "the fixed chain has no counters");

  fail_unless_equals_string (gst_structure_get_string (fb, "playout"), "adaptive");
  fail_unless (gst_structure_get_double (fb, "playout-delay-ms", &delay));
  fail_unless (gst_structure_get_double (fb, "playout-target-delay-ms", &target));
  fail_unless (delay >= 0 && delay <= 200 && target >= 10 && target <= 200,
      "adaptive playout delay %f, target %f", delay, target);
  guint64 total = 0, concealed = G_MAXUINT64;
  fail_unless (gst_structure_get_uint64 (fb, "total-samples", &total));
  fail_unless (gst_structure_get_uint64 (fb, "concealed-samples", &concealed));
  /* At least a second of audio played by now (48 kHz), and hardly any of it concealed. */
  fail_unless (total >= 48000, "total-samples %" G_GUINT64_FORMAT, total);
  fail_unless (concealed < total / 10, "concealed %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT,
      concealed, total);
  for (const char *field : {"inserted-samples-for-deceleration",
           "removed-samples-for-acceleration", "fec-recovered", "late-discarded"})
    fail_unless (gst_structure_has_field (fb, field), "no %s", field);
  /* The E-model counts the playout: the fixed chain's MOS with its 120 ms, compared with the
   * same statistics without it. */
  double rtt = -1, loss = 0, concealed_ratio = 0, mos = 0;
  gst_structure_get_double (fa, "rtt-ms", &rtt);
  gst_structure_get_double (fa, "fraction-lost", &loss);
  gst_structure_get_double (fa, "concealed-ratio", &concealed_ratio);
  gst_structure_get_double (fa, "mos", &mos);
  const double lost = std::max (loss, concealed_ratio);
  guint jb = 0;
  g_object_get (a.call, "latency", &jb, nullptr);
  fail_unless (std::fabs (mos - vc::stats::estimate_mos (rtt, jb, lost, 120)) < 1e-9,
      "MOS %f without the playout's 120 ms", mos);
  fail_unless (mos < vc::stats::estimate_mos (rtt, jb, lost, 0));
}
GST_END_TEST;

GST_START_TEST (test_next_call_starts_from_the_encoder)
{
  Party a ("caller", 440, "stats-interval=200"), b ("callee", 880, "stats-interval=200");
  fail_unless (a.pipeline && b.pipeline);
  vc::test::pair (a, b);
  b.play ();
  a.play ();
  Timeline first = record (a, b, 4);
  fail_unless (first.error.empty (), "%s", first.error.c_str ());
  fail_unless (!first.adaptations.empty () && first.adaptations.back ().bitrate > 32000,
      "the first call did not adapt");

  /* Between calls the user sets another bitrate: the next call starts from it. */
  gst_element_set_state (a.pipeline.get (), GST_STATE_NULL);
  gst_element_set_state (b.pipeline.get (), GST_STATE_NULL);
  g_object_set (a.capture, "bitrate", 20000, nullptr);
  b.play ();
  a.play ();
  Timeline second = record (a, b, 3);
  fail_unless (second.error.empty (), "%s", second.error.c_str ());
  fail_unless (!second.adaptations.empty (), "the second call did not adapt");
  const Adaptation &m = second.adaptations.front ();
  fail_unless (m.bitrate >= 20000 && m.bitrate <= 21000, "the second call began at %d bit/s, "
      "not from the 20000 set between calls (%s)", m.bitrate, m.reason.c_str ());
}
GST_END_TEST;

static Suite *
adaptive_call_suite (void)
{
  Suite *s = suite_create ("adaptive_call");
  TCase *tc = tcase_create ("inprocess");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_capturebin_takes_encoder_settings);
  tcase_add_test (tc, test_adaptive_call_reaches_max_bitrate);
  tcase_add_test (tc, test_not_adaptive_leaves_settings);
  tcase_add_test (tc, test_stats_report_the_playout);
  tcase_add_test (tc, test_next_call_starts_from_the_encoder);
  suite_add_tcase (s, tc);
  return s;
}

GST_CHECK_MAIN (adaptive_call);
