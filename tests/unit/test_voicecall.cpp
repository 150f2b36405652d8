/* gst-voicecall: voicecall — pads, properties, the error without a signaller, GstChildProxy,
 * repeated in-process calls (no leak, no hang) and hang-up by EOS. */
#include "localsignaller.h"
#include "party.h"
#include "propcheck.h"

#include <gst/check/gstcheck.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <set>
#include <mutex>
#include <string>
#include <vector>

using vc::GstPtr;
using vc::test::MessageLog;
using vc::test::Party;

namespace {

constexpr const char *OPUS_RTP_CAPS = "application/x-rtp, media=(string)audio, "
                                      "encoding-name=(string)OPUS, clock-rate=(int)48000";

GstPtr<GstElement>
new_call ()
{
  GstElement *e = gst_element_factory_make ("voicecall", nullptr);
  fail_unless (e != nullptr, "voicecall is not registered");
  return vc::ref_sink (e);
}

std::string
get_string (GObject *o, const char *name)
{
  gchar *v = nullptr;
  g_object_get (o, name, &v, nullptr);
  std::string s = v ? v : "";
  g_free (v);
  return s;
}

guint
get_uint (GObject *o, const char *name)
{
  guint v = 0;
  g_object_get (o, name, &v, nullptr);
  return v;
}

void
expect_tone (Party &p, double hz)
{
  double got = p.dominant_frequency ();
  fail_unless (std::fabs (got - hz) < hz * 0.02, "%s heard %.1f Hz, expected %.0f Hz",
      p.name.c_str (), got, hz);
}

void
forget_audio (Party &p)
{
  std::lock_guard<std::mutex> lk (p.lock);
  p.received.clear ();
  p.first_audio_us = 0;
}

/* The next element message named `name` in `log` within `timeout_s`, or null. */
GstPtr<GstMessage>
wait_element_message (MessageLog &log, const char *name, double timeout_s)
{
  const gint64 deadline = g_get_monotonic_time () + static_cast<gint64> (timeout_s * 1e6);
  do {
    {
      std::lock_guard<std::mutex> lk (log.lock);
      for (; log.read < log.messages.size (); log.read++)
        if (gst_message_has_name (log.messages[log.read].get (), name))
          return log.messages[log.read++];
    }
    g_usleep (10000);
  } while (g_get_monotonic_time () < deadline);
  return nullptr;
}

/* Counts the finalisation of every webrtcbin created in a pipeline. */
struct WebrtcbinCounter {
  std::atomic<int> created {0};
  std::atomic<int> finalized {0};
};

void
on_webrtcbin_finalized (gpointer data, GObject *)
{
  static_cast<WebrtcbinCounter *> (data)->finalized++;
}

void
on_deep_element_added (GstBin *, GstBin *, GstElement *element, gpointer data)
{
  GstElementFactory *f = gst_element_get_factory (element);
  if (f && !strcmp (GST_OBJECT_NAME (f), "webrtcbin")) {
    static_cast<WebrtcbinCounter *> (data)->created++;
    g_object_weak_ref (G_OBJECT (element), on_webrtcbin_finalized, data);
  }
}

int
count_webrtcbins (GstElement *call)
{
  int n = 0;
  GstIterator *it = gst_bin_iterate_elements (GST_BIN (call));
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    GstElementFactory *f = gst_element_get_factory (GST_ELEMENT (g_value_get_object (&item)));
    if (f && !strcmp (GST_OBJECT_NAME (f), "webrtcbin"))
      n++;
    g_value_reset (&item);
  }
  g_value_unset (&item);
  gst_iterator_free (it);
  return n;
}

/* The "probation" of each rtpsession in `call`'s sessions, or -1 if it has none. */
std::vector<int>
rtpsession_probations (GstElement *call)
{
  std::vector<int> found;
  GstIterator *it = gst_bin_iterate_recurse (GST_BIN (call));
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    GstElement *e = GST_ELEMENT (g_value_get_object (&item));
    GstElementFactory *f = gst_element_get_factory (e);
    if (f && !strcmp (GST_OBJECT_NAME (f), "rtpsession")) {
      guint probation = 0;
      g_object_get (e, "probation", &probation, nullptr);
      found.push_back (static_cast<int> (probation));
    }
    g_value_reset (&item);
  }
  g_value_unset (&item);
  gst_iterator_free (it);
  return found;
}

void
on_finalized (gpointer data, GObject *)
{
  static_cast<std::atomic<int> *> (data)->fetch_add (1);
}

/* Waits up to `timeout_s` for `counter` to reach `want`. */
bool
wait_count (const std::atomic<int> &counter, int want, double timeout_s)
{
  const gint64 deadline = g_get_monotonic_time () + static_cast<gint64> (timeout_s * 1e6);
  while (counter.load () < want && g_get_monotonic_time () < deadline)
    g_usleep (10000);
  return counter.load () >= want;
}

GstPadProbeReturn
on_src_event (GstPad *, GstPadProbeInfo *info, gpointer data)
{
  if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) == GST_EVENT_EOS)
    static_cast<std::atomic<int> *> (data)->fetch_add (1);
  return GST_PAD_PROBE_OK;
}

} // namespace

GST_START_TEST (test_pad_templates)
{
  GstPtr<GstElementFactory> factory = vc::adopt (gst_element_factory_find ("voicecall"));
  fail_unless (factory.get () != nullptr);
  GstPtr<GstCaps> want = vc::adopt (gst_caps_from_string (OPUS_RTP_CAPS));
  std::set<std::string> names;
  for (const GList *l = gst_element_factory_get_static_pad_templates (factory.get ()); l;
       l = l->next) {
    auto *templ = static_cast<GstStaticPadTemplate *> (l->data);
    names.insert (templ->name_template);
    fail_unless_equals_int (templ->presence, GST_PAD_ALWAYS);
    fail_unless_equals_int (templ->direction,
        strcmp (templ->name_template, "sink") == 0 ? GST_PAD_SINK : GST_PAD_SRC);
    GstPtr<GstCaps> caps = vc::adopt (gst_static_pad_template_get_caps (templ));
    fail_unless (gst_caps_is_equal (caps.get (), want.get ()), "%s: %" GST_PTR_FORMAT,
        templ->name_template, caps.get ());
  }
  fail_unless (names == std::set<std::string> ({"sink", "src"}));

  auto call = new_call ();
  for (const char *name : {"sink", "src"}) {
    GstPtr<GstPad> pad = vc::adopt (gst_element_get_static_pad (call.get (), name));
    fail_unless (pad.get () != nullptr, "no %s pad", name);
  }
}
GST_END_TEST;

GST_START_TEST (test_properties)
{
  auto call = new_call ();
  GObject *o = G_OBJECT (call.get ());

  auto names = vc::test::check_own_properties ("voicecall", {"signaller"});
  vc::test::expect_properties ("voicecall", names, {"signaller", "url", "listen",
      "stun-server", "turn-server", "latency", "ice-addresses", "stats-interval"});

  fail_unless_equals_int (get_uint (o, "latency"), 60);
  fail_unless_equals_int (get_uint (o, "stats-interval"), 1000);
  GstPtr<GObject> signaller;
  g_object_get (o, "signaller", signaller.out (), nullptr);
  fail_unless (signaller.get () == nullptr);

  for (const char *name : {"stun-server", "turn-server", "ice-addresses"}) {
    for (const char *value : {"stun:stun.example.org:3478",
             "turn://user:secret@turn.example.org:3478?transport=tcp", "127.0.0.1,::1", ""}) {
      g_object_set (o, name, value, nullptr);
      std::string got = get_string (o, name);
      fail_unless_equals_string (got.c_str (), value);
    }
  }
  for (guint ms : {0u, 20u, 200u, 2000u}) {
    g_object_set (o, "latency", ms, nullptr);
    fail_unless_equals_int (get_uint (o, "latency"), ms);
  }
  ASSERT_WARNING (g_object_set (o, "latency", 2001u, nullptr));
  fail_unless_equals_int (get_uint (o, "latency"), 2000);
  g_object_set (o, "stats-interval", 0u, nullptr);
  fail_unless_equals_int (get_uint (o, "stats-interval"), 0);

  /* url= and listen= create the HTTP signallers; each replaces the other. */
  g_object_set (o, "url", "http://127.0.0.1:9/call", nullptr);
  fail_unless (get_string (o, "url") == "http://127.0.0.1:9/call");
  g_object_get (o, "signaller", signaller.out (), nullptr);
  fail_unless_equals_string (G_OBJECT_TYPE_NAME (signaller.get ()),
      "GstVoiceHttpClientSignaller");
  fail_unless (get_string (signaller.get (), "url") == "http://127.0.0.1:9/call");
  g_object_set (o, "listen", "127.0.0.1:0", nullptr);
  fail_unless (get_string (o, "listen") == "127.0.0.1:0");
  fail_unless (get_string (o, "url").empty ());
  g_object_get (o, "signaller", signaller.out (), nullptr);
  fail_unless_equals_string (G_OBJECT_TYPE_NAME (signaller.get ()),
      "GstVoiceHttpServerSignaller");

  /* Any signaller object. */
  GstVoiceSignaller *sa, *sb;
  gst_voice_local_signaller_new_pair (&sa, &sb);
  g_object_set (o, "signaller", sa, nullptr);
  g_object_get (o, "signaller", signaller.out (), nullptr);
  fail_unless (signaller.get () == G_OBJECT (sa));
  g_object_unref (sa);
  g_object_unref (sb);
}
GST_END_TEST;

/* Without url, listen or signaller there is nothing to call with: READY→PAUSED fails with an
 * ERROR that says what to set. */
GST_START_TEST (test_no_signaller_error)
{
  GstPtr<GstElement> pipeline = vc::ref_sink (gst_pipeline_new (nullptr));
  GstElement *call = gst_element_factory_make ("voicecall", "call");
  gst_bin_add (GST_BIN (pipeline.get ()), call);
  fail_unless_equals_int (gst_element_set_state (pipeline.get (), GST_STATE_READY),
      GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (gst_element_set_state (pipeline.get (), GST_STATE_PAUSED),
      GST_STATE_CHANGE_FAILURE);

  GstPtr<GstBus> bus = vc::adopt (gst_element_get_bus (pipeline.get ()));
  GstPtr<GstMessage> msg = vc::adopt (gst_bus_timed_pop_filtered (bus.get (), GST_SECOND,
      GST_MESSAGE_ERROR));
  fail_unless (msg.get () != nullptr, "no ERROR message");
  fail_unless (GST_MESSAGE_SRC (msg.get ()) == GST_OBJECT (call));
  GError *err = nullptr;
  gst_message_parse_error (msg.get (), &err, nullptr);
  std::string text = err->message;
  g_clear_error (&err);
  g_print ("no signaller: \"%s\"\n", text.c_str ());
  for (const char *what : {"url=", "listen=", "signaller"})
    fail_unless (text.find (what) != std::string::npos, "\"%s\" does not mention %s",
        text.c_str (), what);
  gst_element_set_state (pipeline.get (), GST_STATE_NULL);
}
GST_END_TEST;

/* Every index below the children count is a child; true if `wanted` is among them. */
static bool
check_children (GstChildProxy *proxy, GObject *wanted)
{
  guint count = gst_child_proxy_get_children_count (proxy);
  bool seen = false;
  for (guint i = 0; i < count; i++) {
    GstPtr<GObject> c = vc::adopt (gst_child_proxy_get_child_by_index (proxy, i));
    fail_unless (c.get () != nullptr, "child %u of %u is missing", i, count);
    seen |= c.get () == wanted;
  }
  return seen;
}

/* "signaller::" names the signaller, beside the bin's own children. */
GST_START_TEST (test_child_proxy)
{
  auto call = new_call ();
  GstChildProxy *proxy = GST_CHILD_PROXY (call.get ());
  GstPtr<GObject> got = vc::adopt (gst_child_proxy_get_child_by_name (proxy, "signaller"));
  fail_unless (got.get () == nullptr, "a signaller child before one was set");
  check_children (proxy, nullptr);

  GstVoiceSignaller *sa, *sb;
  gst_voice_local_signaller_new_pair (&sa, &sb);
  g_object_set (call.get (), "signaller", sa, nullptr);
  got = vc::adopt (gst_child_proxy_get_child_by_name (proxy, "signaller"));
  fail_unless (got.get () == G_OBJECT (sa));

  GObject *target = nullptr;
  GParamSpec *pspec = nullptr;
  fail_unless (!gst_child_proxy_lookup (proxy, "signaller::no-such-property", &target, &pspec),
      "the local signaller has no properties");
  /* The bin's own children are still reachable. */
  fail_unless (gst_child_proxy_lookup (proxy, "input::allow-not-linked", &target, &pspec));
  fail_unless_equals_string (GST_OBJECT_NAME (target), "input");
  g_object_unref (target);

  fail_unless (check_children (proxy, G_OBJECT (sa)), "the signaller is not among the children");
  g_object_unref (sa);
  g_object_unref (sb);

  /* From gst-launch: url= creates the signaller, signaller::name=value sets its properties. */
  GError *err = nullptr;
  GstElement *e = gst_parse_launch ("voicecall url=http://127.0.0.1:9/call "
      "signaller::protocol=json signaller::timeout=1234", &err);
  fail_unless (e != nullptr && err == nullptr, "%s", err ? err->message : "");
  GstPtr<GstElement> parsed = vc::ref_sink (e);
  proxy = GST_CHILD_PROXY (parsed.get ());
  fail_unless (gst_child_proxy_lookup (proxy, "signaller::timeout", &target, &pspec));
  GstPtr<GObject> signaller;
  g_object_get (parsed.get (), "signaller", signaller.out (), nullptr);
  fail_unless (target == signaller.get ());
  g_object_unref (target);
  fail_unless_equals_int (get_uint (signaller.get (), "timeout"), 1234);
  GValue v = G_VALUE_INIT;
  gst_child_proxy_get_property (proxy, "signaller::protocol", &v);
  vc::GUnique<gchar> protocol (gst_value_serialize (&v));
  g_value_unset (&v);
  fail_unless_equals_string (protocol.get (), "json");
}
GST_END_TEST;

/* NULL→PLAYING→NULL three times with the same two parties: audio both ways every time, the
 * state changes return in bounded time, and every webrtcbin and pipeline is freed. */
GST_START_TEST (test_call_cycles)
{
  WebrtcbinCounter webrtcbins;
  std::atomic<int> pipelines_freed {0};
  {
    Party a ("caller", 440), b ("callee", 880);
    fail_unless (a.pipeline && b.pipeline);
    vc::test::pair (a, b);
    for (Party *p : {&a, &b}) {
      g_signal_connect (p->pipeline.get (), "deep-element-added",
          G_CALLBACK (on_deep_element_added), &webrtcbins);
      g_object_weak_ref (G_OBJECT (p->pipeline.get ()), on_finalized, &pipelines_freed);
    }

    for (int cycle = 1; cycle <= 3; cycle++) {
      forget_audio (a);
      forget_audio (b);
      b.play ();
      a.play ();
      std::string error;
      fail_unless (a.wait_audio (1.0, 20, &error), "cycle %d: %s", cycle, error.c_str ());
      fail_unless (b.wait_audio (1.0, 20, &error), "cycle %d: %s", cycle, error.c_str ());
      expect_tone (a, 880);
      expect_tone (b, 440);

      gint64 t0 = g_get_monotonic_time ();
      fail_unless (gst_element_set_state (a.pipeline.get (), GST_STATE_NULL) ==
          GST_STATE_CHANGE_SUCCESS);
      fail_unless (gst_element_set_state (b.pipeline.get (), GST_STATE_NULL) ==
          GST_STATE_CHANGE_SUCCESS);
      double stop_ms = (g_get_monotonic_time () - t0) / 1000.0;
      g_print ("cycle %d: first audio %.0f/%.0f ms after PLAYING, both stopped in %.0f ms\n",
          cycle, (a.first_audio_us - a.playing_us) / 1000.0,
          (b.first_audio_us - b.playing_us) / 1000.0, stop_ms);
      fail_unless (stop_ms < 5000, "cycle %d: stopping took %.0f ms", cycle, stop_ms);
      fail_unless_equals_int (count_webrtcbins (a.call), 0);
      fail_unless_equals_int (count_webrtcbins (b.call), 0);
      fail_unless_equals_int (webrtcbins.created.load (), 2 * cycle);
      fail_unless (wait_count (webrtcbins.finalized, 2 * cycle, 5),
          "cycle %d: %d of %d webrtcbins were freed", cycle, webrtcbins.finalized.load (),
          webrtcbins.created.load ());
    }
  }
  fail_unless (wait_count (pipelines_freed, 2, 5), "%d of 2 pipelines were freed",
      pipelines_freed.load ());
}
GST_END_TEST;

/* EOS into the caller hangs up: the callee is told (voicecall-session-ended, "remote
 * hang-up"), the caller's src pad ends with EOS and the callee keeps running. */
GST_START_TEST (test_hang_up_by_eos)
{
  Party a ("caller", 440), b ("callee", 880);
  fail_unless (a.pipeline && b.pipeline);
  vc::test::pair (a, b);
  MessageLog a_log, b_log;
  watch_messages (a, &a_log);
  watch_messages (b, &b_log);
  std::atomic<int> a_src_eos {0};
  GstPtr<GstPad> a_src = vc::adopt (gst_element_get_static_pad (a.call, "src"));
  gst_pad_add_probe (a_src.get (), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_src_event,
      &a_src_eos, nullptr);

  b.play ();
  a.play ();
  std::string error;
  fail_unless (a.wait_audio (0.5, 20, &error), "%s", error.c_str ());
  fail_unless (b.wait_audio (0.5, 20, &error), "%s", error.c_str ());

  auto a_started = wait_element_message (a_log, "voicecall-session-started", 1);
  auto b_started = wait_element_message (b_log, "voicecall-session-started", 1);
  fail_unless (a_started && b_started, "no voicecall-session-started");
  const GstStructure *as = gst_message_get_structure (a_started.get ());
  const GstStructure *bs = gst_message_get_structure (b_started.get ());
  fail_unless_equals_string (gst_structure_get_string (as, "role"), "caller");
  fail_unless_equals_string (gst_structure_get_string (bs, "role"), "callee");
  std::string id = gst_structure_get_string (as, "session-id");
  fail_unless_equals_string (gst_structure_get_string (bs, "session-id"), id.c_str ());
  fail_unless_equals_int (a_src_eos.load (), 0);

  gint64 t0 = g_get_monotonic_time ();
  fail_unless (gst_element_send_event (a.pipeline.get (), gst_event_new_eos ()));

  auto b_ended = wait_element_message (b_log, "voicecall-session-ended", 5);
  fail_unless (b_ended.get () != nullptr, "the callee was not told of the hang-up");
  double ms = (g_get_monotonic_time () - t0) / 1000.0;
  const GstStructure *be = gst_message_get_structure (b_ended.get ());
  g_print ("hang-up: callee's session-ended after %.0f ms, reason \"%s\"\n", ms,
      gst_structure_get_string (be, "reason"));
  fail_unless_equals_string (gst_structure_get_string (be, "session-id"), id.c_str ());
  fail_unless_equals_string (gst_structure_get_string (be, "reason"), "remote hang-up");
  fail_unless (GST_MESSAGE_SRC (b_ended.get ()) == GST_OBJECT (b.call));

  auto a_ended = wait_element_message (a_log, "voicecall-session-ended", 5);
  fail_unless (a_ended.get () != nullptr);
  fail_unless_equals_string (gst_structure_get_string (gst_message_get_structure (
      a_ended.get ()), "reason"), "local hang-up");
  fail_unless (wait_count (a_src_eos, 1, 5), "the caller's src pad sent no EOS");

  /* The caller's pipeline ends (its playback got EOS); the callee's goes on. */
  GstPtr<GstBus> a_bus = vc::adopt (gst_element_get_bus (a.pipeline.get ()));
  GstPtr<GstMessage> eos = vc::adopt (gst_bus_timed_pop_filtered (a_bus.get (), 5 * GST_SECOND,
      GST_MESSAGE_EOS));
  fail_unless (eos.get () != nullptr, "the caller's pipeline did not reach EOS");
  fail_unless_equals_int (count_webrtcbins (b.call), 0);
  GstState state;
  gst_element_get_state (b.pipeline.get (), &state, nullptr, 0);
  fail_unless_equals_int (state, GST_STATE_PLAYING);
  fail_unless (b.bus_error ().empty ());
}
GST_END_TEST;

/* Calls b from a, waits for audio both ways, and gives each one's voicecall-setup steps
 * `first` and `second` (ms from its session's start), the caller's first. The logs must
 * outlive the parties. */
static std::vector<std::pair<double, double>>
setup_steps (Party &a, MessageLog &a_log, Party &b, MessageLog &b_log, const char *first,
    const char *second)
{
  vc::test::pair (a, b);
  watch_messages (a, &a_log);
  watch_messages (b, &b_log);
  b.play ();
  a.play ();
  std::string error;
  fail_unless (a.wait_audio (0.2, 20, &error), "%s", error.c_str ());
  fail_unless (b.wait_audio (0.2, 20, &error), "%s", error.c_str ());
  std::vector<std::pair<double, double>> steps;
  for (MessageLog *log : {&a_log, &b_log}) {
    auto setup = wait_element_message (*log, "voicecall-setup", 5);
    fail_unless (setup.get () != nullptr, "no voicecall-setup");
    const GstStructure *st = gst_message_get_structure (setup.get ());
    double x = -1, y = -1;
    fail_unless (gst_structure_get_double (st, first, &x) &&
        gst_structure_get_double (st, second, &y), "%" GST_PTR_FORMAT, st);
    g_print ("%s: %s %.1f, %s %.1f\n", gst_structure_get_string (st, "role"), first, x,
        second, y);
    steps.emplace_back (x, y);
  }
  return steps;
}

/* The first packet is played as soon as it comes, not after the jitter buffer's latency
 * (rtpjitterbuffer faststart): with a 1 s jitter buffer the first audio still follows the
 * first RTP packet by a few ms (without faststart: a second later). Nor does rtpsession hold
 * it until a second packet of its source has come (probation). */
GST_START_TEST (test_first_packet_not_held)
{
  MessageLog a_log, b_log;
  Party a ("caller", 440, "latency=1000 adaptive=false"),
      b ("callee", 880, "latency=1000 adaptive=false");
  fail_unless (a.pipeline && b.pipeline);
  for (auto [rtp, audio] :
      setup_steps (a, a_log, b, b_log, "first-rtp-received-ms", "first-audio-ms"))
    fail_unless (audio - rtp < 500, "the first packet waited %.0f ms in the jitter buffer",
        audio - rtp);
  for (Party *p : {&a, &b}) {
    std::vector<int> probations = rtpsession_probations (p->call);
    fail_unless (!probations.empty (), "%s: no rtpsession", p->name.c_str ());
    for (int probation : probations)
      fail_unless_equals_int (probation, 0);
  }
}
GST_END_TEST;

/* Our first packet leaves the moment DTLS is up: the newest packet waits for it, instead of
 * being dropped while the next one is captured. Dropping, the first packet left 0-20 ms after
 * "connected" (a packet's time, 10 on average; a test run without the wait passes one time in
 * sixteen); waiting, within a millisecond. */
GST_START_TEST (test_first_packet_leaves_with_dtls)
{
  MessageLog a_log, b_log;
  Party a ("caller", 440), b ("callee", 880);
  fail_unless (a.pipeline && b.pipeline);
  for (auto [connected, sent] :
      setup_steps (a, a_log, b, b_log, "connected-ms", "first-rtp-sent-ms"))
    fail_unless (sent - connected < 5, "the first packet left %.1f ms after DTLS was up",
        sent - connected);
}
GST_END_TEST;

static Suite *
voicecall_suite (void)
{
  Suite *s = suite_create ("voicecall");
  TCase *element = tcase_create ("element");
  tcase_add_test (element, test_pad_templates);
  tcase_add_test (element, test_properties);
  tcase_add_test (element, test_no_signaller_error);
  tcase_add_test (element, test_child_proxy);
  suite_add_tcase (s, element);

  TCase *call = tcase_create ("inprocess");
  tcase_set_timeout (call, 90);
  tcase_add_test (call, test_call_cycles);
  tcase_add_test (call, test_hang_up_by_eos);
  tcase_add_test (call, test_first_packet_not_held);
  tcase_add_test (call, test_first_packet_leaves_with_dtls);
  suite_add_tcase (s, call);
  return s;
}

GST_CHECK_MAIN (voicecall);
