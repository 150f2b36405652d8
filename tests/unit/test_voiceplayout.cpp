/* gst-voicecall: the voiceplayout element in a GstHarness with a test clock. Opus RTP packets
 * of speech-like syllables (opus_speech.h) arrive every 20 ms, 3 ms before a tick; the test
 * releases each 10 ms tick of the element's clock and pulls what it produced.
 *
 * Checked by content: on a clean path the output is, sample for sample, a plain decode of the
 * packets one tick late; a dropped packet is concealed and counted; the pitch is kept; the
 * latency query, the statistics (property and messages) and EOS after the buffered audio. */
#include "callstats.h"
#include "opus_speech.h"
#include "tone.h"

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/check/gsttestclock.h>
#include <gst/rtp/gstrtpbuffer.h>

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <functional>
#include <set>
#include <vector>

namespace {

constexpr GstClockTime TICK = 10 * GST_MSECOND;
constexpr int TICK_FRAMES = 480;

GstBuffer *
rtp_packet (const std::vector<uint8_t> &payload, guint16 seq, guint32 ts)
{
  GstBuffer *buf = gst_rtp_buffer_new_allocate (payload.size (), 0, 0);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  gst_rtp_buffer_map (buf, GST_MAP_WRITE, &rtp);
  gst_rtp_buffer_set_payload_type (&rtp, 111);
  gst_rtp_buffer_set_seq (&rtp, seq);
  gst_rtp_buffer_set_timestamp (&rtp, ts);
  gst_rtp_buffer_set_ssrc (&rtp, 0x1234);
  std::copy (payload.begin (), payload.end (),
      static_cast<uint8_t *> (gst_rtp_buffer_get_payload (&rtp)));
  gst_rtp_buffer_unmap (&rtp);
  return buf;
}

/* Releases the element's next tick and returns its 10 ms (mono S16). */
std::vector<int16_t>
tick (GstHarness *h)
{
  fail_unless (gst_harness_crank_single_clock_wait (h));
  GstBuffer *buf = gst_harness_pull (h);
  fail_unless (buf != nullptr);
  GstMapInfo map;
  gst_buffer_map (buf, &map, GST_MAP_READ);
  fail_unless_equals_int (map.size, TICK_FRAMES * 2);
  const auto *s = reinterpret_cast<const int16_t *> (map.data);
  std::vector<int16_t> v (s, s + TICK_FRAMES);
  fail_unless_equals_uint64 (GST_BUFFER_DURATION (buf), TICK);
  gst_buffer_unmap (&*buf, &map);
  gst_buffer_unref (buf);
  return v;
}

/* A voiceplayout in a harness with Opus RTP caps and a test clock, with the properties given
 * (name, value, ..., nullptr) set before the harness starts it (it sets an element with a
 * sink pad to PLAYING at once, and some properties apply only from READY). */
GstHarness *
playout_harness (const char *first_prop, ...)
{
  GstElement *playout = gst_element_factory_make ("voiceplayout", nullptr);
  fail_unless (playout != nullptr);
  va_list args;
  va_start (args, first_prop);
  g_object_set_valist (G_OBJECT (playout), first_prop, args);
  va_end (args);
  GstHarness *h = gst_harness_new_with_element (playout, "sink", "src");
  gst_object_unref (playout);
  gst_harness_set_src_caps_str (h, "application/x-rtp, media=(string)audio, "
      "encoding-name=(string)OPUS, clock-rate=(int)48000, payload=(int)111");
  gst_harness_use_testclock (h);
  return h;
}

struct Played {
  std::vector<int16_t> out;
  GstStructure *stats = nullptr;
  int stats_messages = 0;
  guint64 last_message_received = 0; /* packets-received in the last stats message */
};

/* Plays `packets` packets (except `drop`) through voiceplayout; then EOS. With `came_early`,
 * each packet carries voicecall's arrival meta: it reached the jitter buffer in front
 * came_early (n) before it reaches the playout. */
Played
play (int packets, const std::set<int> &drop = {},
    const std::function<GstClockTime (int)> &came_early = nullptr, gboolean fec = TRUE)
{
  static GstStaticCaps arrival = GST_STATIC_CAPS (vc::stats::ARRIVAL_META_CAPS);
  const auto &e = vctest::encoded_speech (4);
  fail_unless (e.ok);
  GstHarness *h = playout_harness ("stats-interval", 1000, "fec", fec, nullptr);
  GstBus *bus = gst_bus_new ();
  gst_element_set_bus (h->element, bus);
  gst_harness_play (h);
  GstTestClock *clock = gst_harness_get_testclock (h);
  const GstClockTime base = gst_element_get_base_time (h->element);

  Played p;
  /* Tick 0: nothing has come yet, nothing is output (the task is back waiting for tick 1). */
  fail_unless (gst_harness_crank_single_clock_wait (h));
  gst_test_clock_wait_for_next_pending_id (clock, nullptr);
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);
  for (int n = 0; n < packets; n++) {
    gst_test_clock_set_time (clock, base + n * 2 * TICK + 3 * GST_MSECOND);
    if (!drop.count (n)) {
      GstBuffer *buf = rtp_packet (e.packets[n], 60000 + n,
          4000000000u + n * vctest::SPEECH_FRAME);
      if (came_early)
        gst_buffer_add_reference_timestamp_meta (buf, gst_static_caps_get (&arrival),
            n * 2 * TICK + 3 * GST_MSECOND - came_early (n), GST_CLOCK_TIME_NONE);
      fail_unless_equals_int (gst_harness_push (h, buf), GST_FLOW_OK);
    }
    for (int k = 0; k < 2; k++) {
      auto v = tick (h);
      p.out.insert (p.out.end (), v.begin (), v.end ());
    }
  }

  GstClockTime min = 0, max = 0;
  gboolean live = FALSE;
  GstQuery *q = gst_query_new_latency ();
  fail_unless (gst_pad_peer_query (h->sinkpad, q));
  gst_query_parse_latency (q, &live, &min, &max);
  gst_query_unref (q);
  fail_unless (live && min == TICK, "latency live %d min %" GST_TIME_FORMAT, live,
      GST_TIME_ARGS (min));

  /* EOS: what is buffered plays out first (here nothing: a clean path holds less than a
   * tick at this point), then EOS follows at the next tick, with nothing concealed. */
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));
  fail_unless (gst_harness_crank_single_clock_wait (h));
  bool eos = false;
  while (!eos) {
    GstEvent *ev = gst_harness_pull_event (h);
    fail_unless (ev != nullptr, "no EOS after the buffered audio");
    eos = GST_EVENT_TYPE (ev) == GST_EVENT_EOS;
    gst_event_unref (ev);
  }
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);

  g_object_get (h->element, "stats", &p.stats, nullptr);
  while (GstMessage *m = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT)) {
    const GstStructure *st = gst_message_get_structure (m);
    if (gst_structure_has_name (st, "voiceplayout-stats")) {
      p.stats_messages++;
      gst_structure_get_uint64 (st, "packets-received", &p.last_message_received);
    }
    gst_message_unref (m);
  }
  gst_object_unref (clock);
  gst_harness_teardown (h);
  gst_object_unref (bus);
  return p;
}

} // namespace

GST_START_TEST (test_clean_is_the_decode)
{
  const auto &e = vctest::encoded_speech (4);
  Played p = play (150);
  /* Packet n arrives 3 ms before the tick that plays its first half: the output is the
   * plain decode, sample for sample. */
  for (size_t i = 0; i < p.out.size (); i++) {
    const long want = std::clamp (std::lround (e.reference[i] * 32768.f), -32768L, 32767L);
    if (p.out[i] != want)
      fail ("sample %zu: %d, the decode gives %ld", i, p.out[i], want);
  }
  int target = 0;
  double delay = -1;
  guint64 concealed = 1;
  gst_structure_get (p.stats, "target-delay-ms", G_TYPE_INT, &target, "current-delay-ms",
      G_TYPE_DOUBLE, &delay, "concealed-samples", G_TYPE_UINT64, &concealed, nullptr);
  g_print ("element, clean: target %d ms, current %.1f ms, concealed %" G_GUINT64_FORMAT "\n",
      target, delay, concealed);
  fail_unless_equals_int (target, 20);
  fail_unless (delay >= 0 && delay < 10, "delay %f", delay);
  fail_unless_equals_int (concealed, 0);
  /* One message a second of output, which starts with the first packet's tick: at 0.01,
   * 1.01 and 2.01 s; packets 0-100 (arriving at 20 n + 3 ms) are in at 2.01 s. */
  fail_unless_equals_int (p.stats_messages, 3);
  fail_unless_equals_int (p.last_message_received, 101);
  gst_structure_free (p.stats);
}
GST_END_TEST;

/* The delay manager learns the jitter from when packets came off the network (voicecall's
 * arrival meta), not from when they reach the element: packets that all reach it on time but
 * of which every tenth and the two after it had come 40 ms sooner than the others (the others
 * were held by a jitter buffer) make it buffer for 40 ms of jitter. */
GST_START_TEST (test_arrival_meta)
{
  Played p = play (150, {}, [] (int n) -> GstClockTime {
    return n % 10 < 3 ? 0 : 40 * GST_MSECOND;
  });
  int target = 0;
  gst_structure_get (p.stats, "target-delay-ms", G_TYPE_INT, &target, nullptr);
  g_print ("element, arrival meta with 40 ms of jitter: target %d ms\n", target);
  fail_unless (target >= 60, "target %d ms: the arrival meta was not read", target);
  gst_structure_free (p.stats);
}
GST_END_TEST;

GST_START_TEST (test_loss_concealed)
{
  Played p = play (150, {110});
  guint64 concealed = 0, lost = 0, received = 0;
  gst_structure_get (p.stats, "concealed-samples", G_TYPE_UINT64, &concealed, "packets-lost",
      G_TYPE_UINT64, &lost, "packets-received", G_TYPE_UINT64, &received, nullptr);
  fail_unless_equals_int (concealed, vctest::SPEECH_FRAME);
  fail_unless_equals_int (lost, 1);
  fail_unless_equals_int (received, 149);
  std::vector<float> f (p.out.size ());
  for (size_t i = 0; i < f.size (); i++)
    f[i] = p.out[i] / 32768.f;
  const double hz = vc::tone::dominant_frequency (f, vctest::SPEECH_RATE);
  g_print ("element, one loss: dominant %.1f Hz\n", hz);
  fail_unless (std::abs (hz - vctest::SPEECH_F0) < 2, "dominant %f Hz", hz);
  gst_structure_free (p.stats);
}
GST_END_TEST;

/* PLAYING -> PAUSED -> PLAYING while packets come, then READY and PLAYING again: the task
 * stops waiting on the clock when paused, resumes from the clock's time (no burst of missed
 * ticks), and a new start plays a new stream. */
GST_START_TEST (test_pause_resume)
{
  const auto &e = vctest::encoded_speech (4);
  GstHarness *h = playout_harness ("stats-interval", 0, nullptr);
  for (int round = 0; round < 2; round++) {
    gst_harness_play (h);
    GstTestClock *clock = gst_harness_get_testclock (h);
    const GstClockTime base = gst_element_get_base_time (h->element);
    const GstClockTime start = gst_clock_get_time (GST_CLOCK (clock)) - base;
    /* The first tick: nothing has come, nothing is output. */
    fail_unless (gst_harness_crank_single_clock_wait (h));
    gst_test_clock_wait_for_next_pending_id (clock, nullptr);
    fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);
    for (int n = 0; n < 20; n++) {
      gst_test_clock_set_time (clock, base + start + n * 2 * TICK + 3 * GST_MSECOND);
      gst_harness_push (h, rtp_packet (e.packets[n], 100 * round + n, 960 * n));
      tick (h);
      tick (h);
      if (n == 9) {
        fail_unless_equals_int (gst_element_set_state (h->element, GST_STATE_PAUSED),
            GST_STATE_CHANGE_NO_PREROLL);
        fail_unless_equals_int (gst_element_set_state (h->element, GST_STATE_PLAYING),
            GST_STATE_CHANGE_SUCCESS);
      }
    }
    guint64 decoded = 0;
    GstStructure *st = nullptr;
    g_object_get (h->element, "stats", &st, nullptr);
    gst_structure_get_uint64 (st, "packets-decoded", &decoded);
    gst_structure_free (st);
    fail_unless (decoded >= 19, "round %d: %" G_GUINT64_FORMAT " decoded", round, decoded);
    gst_object_unref (clock);
    fail_unless_equals_int (gst_element_set_state (h->element, GST_STATE_READY),
        GST_STATE_CHANGE_SUCCESS);
    while (GstBuffer *b = gst_harness_try_pull (h))
      gst_buffer_unref (b);
  }
  gst_harness_teardown (h);
}
GST_END_TEST;

/* ticks-per-buffer=2 (voicecall mix=all): each buffer is two ticks, 20 ms, pushed when the
 * second is due, timestamped one after the other, and the latency is 20 ms; a clean path
 * plays every packet, nothing concealed. */
GST_START_TEST (test_two_ticks_per_buffer)
{
  const auto &e = vctest::encoded_speech (4);
  fail_unless (e.ok);
  GstHarness *h = playout_harness ("ticks-per-buffer", 2, "stats-interval", 0, nullptr);
  gst_harness_play (h);
  GstTestClock *clock = gst_harness_get_testclock (h);
  const GstClockTime base = gst_element_get_base_time (h->element);
  /* The first buffer's ticks (0 and 10 ms): nothing has come, nothing is output. */
  fail_unless (gst_harness_crank_single_clock_wait (h));
  gst_test_clock_wait_for_next_pending_id (clock, nullptr);
  fail_unless_equals_int (gst_harness_buffers_in_queue (h), 0);
  const int packets = 100;
  GstClockTime last_pts = GST_CLOCK_TIME_NONE;
  for (int n = 0; n < packets; n++) {
    /* Packet n comes 7 ms before the buffer that plays it is due (at 30 + 20 n ms). */
    gst_test_clock_set_time (clock, base + 23 * GST_MSECOND + n * 2 * TICK);
    fail_unless_equals_int (gst_harness_push (h, rtp_packet (e.packets[n], 100 + n,
        n * vctest::SPEECH_FRAME)), GST_FLOW_OK);
    fail_unless (gst_harness_crank_single_clock_wait (h));
    fail_unless_equals_uint64 (gst_clock_get_time (GST_CLOCK (clock)) - base,
        30 * GST_MSECOND + n * 2 * TICK);
    GstBuffer *buf = gst_harness_pull (h);
    fail_unless (buf != nullptr);
    fail_unless_equals_int (gst_buffer_get_size (buf), 2 * TICK_FRAMES * 2);
    fail_unless_equals_uint64 (GST_BUFFER_DURATION (buf), 2 * TICK);
    if (GST_CLOCK_TIME_IS_VALID (last_pts))
      fail_unless_equals_uint64 (GST_BUFFER_PTS (buf), last_pts + 2 * TICK);
    last_pts = GST_BUFFER_PTS (buf);
    gst_buffer_unref (buf);
  }
  GstClockTime min = 0, max = 0;
  gboolean live = FALSE;
  GstQuery *q = gst_query_new_latency ();
  fail_unless (gst_pad_peer_query (h->sinkpad, q));
  gst_query_parse_latency (q, &live, &min, &max);
  gst_query_unref (q);
  fail_unless (live && min == 2 * TICK, "latency live %d min %" GST_TIME_FORMAT, live,
      GST_TIME_ARGS (min));
  GstStructure *stats = nullptr;
  g_object_get (h->element, "stats", &stats, nullptr);
  guint64 decoded = 0, concealed = 1;
  gst_structure_get (stats, "packets-decoded", G_TYPE_UINT64, &decoded, "concealed-samples",
      G_TYPE_UINT64, &concealed, nullptr);
  g_print ("element, two ticks a buffer: %" G_GUINT64_FORMAT " packets decoded, %"
      G_GUINT64_FORMAT " samples concealed\n", decoded, concealed);
  fail_unless (decoded >= packets - 2, "%" G_GUINT64_FORMAT " decoded", decoded);
  fail_unless_equals_uint64 (concealed, 0);
  gst_structure_free (stats);
  gst_object_unref (clock);
  gst_harness_teardown (h);
}
GST_END_TEST;

static Suite *
voiceplayout_suite (void)
{
  Suite *s = suite_create ("voiceplayout");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 30);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_clean_is_the_decode);
  tcase_add_test (tc, test_loss_concealed);
  tcase_add_test (tc, test_arrival_meta);
  tcase_add_test (tc, test_pause_resume);
  tcase_add_test (tc, test_two_ticks_per_buffer);
  return s;
}

GST_CHECK_MAIN (voiceplayout);
