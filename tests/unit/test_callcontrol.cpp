/* gst-voicecall: call control — hang up one call, refuse a call, mute, hold and DTMF, checked
 * on what the other party hears (its decoded audio: level and tone) and on the bus. */
#include "callcontrol.h"
#include "party.h"

#include <gst/check/gstcheck.h>

#include <cmath>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

using vc::GstPtr;
using vc::test::MessageLog;
using vc::test::Party;
namespace control = vc::control;

namespace {

/* The structures of the messages named `name` so far (copies). */
std::vector<vc::GUnique<GstStructure>>
messages (MessageLog &log, const char *name)
{
  std::vector<vc::GUnique<GstStructure>> out;
  std::lock_guard<std::mutex> lk (log.lock);
  for (auto &m : log.messages)
    if (gst_message_has_name (m.get (), name))
      out.emplace_back (gst_structure_copy (gst_message_get_structure (m.get ())));
  return out;
}

/* Waits until `log` has `count` messages named `name` (or timeout_s passed). */
bool
wait_messages (MessageLog &log, const char *name, size_t count, double timeout_s)
{
  const gint64 deadline = g_get_monotonic_time () + static_cast<gint64> (timeout_s * 1e6);
  while (messages (log, name).size () < count) {
    if (g_get_monotonic_time () > deadline)
      return false;
    g_usleep (20000);
  }
  return true;
}

/* The level (dBFS) and tone of the last `seconds` a party heard. */
std::vector<float>
tail (Party &p, double seconds)
{
  std::lock_guard<std::mutex> lk (p.lock);
  size_t n = static_cast<size_t> (seconds * 48000);
  if (p.received.size () < n)
    n = p.received.size ();
  return std::vector<float> (p.received.end () - n, p.received.end ());
}

double
tail_level (Party &p, double seconds)
{
  return vc::tone::level_dbfs (tail (p, seconds));
}

/* Lets `seconds` of audio pass (the parties' audio comes in real time). */
void
listen (Party &p, double seconds)
{
  size_t have;
  {
    std::lock_guard<std::mutex> lk (p.lock);
    have = p.received.size ();
  }
  std::string error;
  fail_unless (p.wait_audio (have / 48000.0 + seconds, seconds + 5, &error), "%s",
      error.c_str ());
}

/* A tone is heard: loud (within 20 dB of what was sent at volume 0.3, -13.5 dBFS) and at
 * its frequency; silence: below -50 dBFS. */
constexpr double HEARD_DB = -35, SILENT_DB = -50;

void
expect_heard (Party &p, double hz, const char *when)
{
  auto x = tail (p, 0.5);
  double db = vc::tone::level_dbfs (x), got = vc::tone::dominant_frequency (x, 48000);
  g_print ("  %s: %s hears %.1f dBFS at %.0f Hz\n", when, p.name.c_str (), db, got);
  fail_unless (db > HEARD_DB, "%s: %s hears %.1f dBFS, expected the tone", when,
      p.name.c_str (), db);
  fail_unless (std::fabs (got - hz) < hz * 0.02, "%s: %s hears %.0f Hz, expected %.0f", when,
      p.name.c_str (), got, hz);
}

void
expect_silence (Party &p, const char *when)
{
  double db = tail_level (p, 0.5);
  g_print ("  %s: %s hears %.1f dBFS\n", when, p.name.c_str (), db);
  fail_unless (db < SILENT_DB, "%s: %s hears %.1f dBFS, expected silence", when,
      p.name.c_str (), db);
}

std::string
session_id (MessageLog &log)
{
  auto started = messages (log, "voicecall-session-started");
  fail_unless (!started.empty (), "no voicecall-session-started");
  return gst_structure_get_string (started.front ().get (), "session-id");
}

gboolean
emit_bool (GstElement *call, const char *signal, const char *id, gboolean on)
{
  gboolean ok = FALSE;
  g_signal_emit_by_name (call, signal, id, on, &ok);
  return ok;
}

/* Two parties in a call (in-process signaller), both hearing each other. */
void
start_call (Party &a, Party &b)
{
  vc::test::pair (a, b);
  b.play ();
  a.play ();
  std::string error;
  fail_unless (a.wait_audio (1.0, 20, &error), "%s", error.c_str ());
  fail_unless (b.wait_audio (1.0, 20, &error), "%s", error.c_str ());
}

guint
server_port (Party &p)
{
  GstPtr<GObject> signaller;
  g_object_get (p.call, "signaller", signaller.out (), nullptr);
  guint port = 0;
  for (int i = 0; i < 200 && port == 0; i++) {
    g_object_get (signaller.get (), "port", &port, nullptr);
    if (!port)
      g_usleep (10000);
  }
  return port;
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

} // namespace

/* ---- the logic ------------------------------------------------------------------------- */

GST_START_TEST (test_dtmf_payload)
{
  for (char c : std::string ("0123456789*#ABCD")) {
    int e = control::dtmf_event (c);
    fail_unless (e >= 0 && control::dtmf_digit (e) == c, "%c", c);
  }
  fail_unless_equals_int (control::dtmf_event ('a'), 12);
  fail_unless_equals_int (control::dtmf_event ('x'), -1);
  fail_unless (!control::valid_digits (""));
  fail_unless (!control::valid_digits ("12x"));
  fail_unless (control::valid_digits ("1234#"));

  control::Event e {11, true, 10, 4800};
  guint8 p[4];
  control::write_event (e, p);
  fail_unless (p[0] == 11 && p[1] == 0x8a && p[2] == 0x12 && p[3] == 0xc0);
  auto back = control::parse_event (p, 4);
  fail_unless (back && back->event == 11 && back->end && back->volume == 10 &&
      back->duration == 4800);
  fail_unless (!control::parse_event (p, 3));
}
GST_END_TEST;

/* The sender's packets, through the receiver: each digit once, in order, with its duration;
 * with every end packet but one lost, and with all of a digit's end packets lost. */
GST_START_TEST (test_dtmf_sender_receiver)
{
  control::DtmfSender sender;
  fail_unless (!sender.queue ("1x", 100));
  fail_unless (!sender.busy ());
  fail_unless (sender.queue ("1#9", 100));
  control::DtmfReceiver receiver;
  std::string got;
  std::vector<guint> durations;
  guint32 ts = 1000;
  int events = 0, markers = 0, audio = 0, lost_ends = 0;
  for (int i = 0; i < 100; i++, ts += 960) {
    auto slot = sender.next (ts, 960);
    if (!slot) {
      audio++;
      continue;
    }
    events++;
    markers += slot->marker;
    guint8 p[4];
    control::write_event (slot->event, p);
    auto e = control::parse_event (p, 4);
    /* The 2nd digit ('#') loses two of its three end packets; the 3rd all of them. */
    if (e->end && ((e->event == 11 && lost_ends++ < 2) || e->event == 9))
      continue;
    if (auto d = receiver.packet (slot->timestamp, *e, 48000)) {
      got += d->digit;
      durations.push_back (d->duration_ms);
    }
  }
  /* The last digit, all of whose ends were lost, is reported by the next event. */
  guint8 p[4];
  control::write_event ({5, false, 10, 960}, p);
  if (auto d = receiver.packet (ts, *control::parse_event (p, 4), 48000)) {
    got += d->digit;
    durations.push_back (d->duration_ms);
  }
  g_print ("dtmf: %d event packets, %d markers, %d audio packets, heard \"%s\"\n", events,
      markers, audio, got.c_str ());
  fail_unless_equals_string (got.c_str (), "1#9");
  fail_unless_equals_int (markers, 3);
  /* 100 ms = 5 packets + 2 repeated ends each */
  fail_unless_equals_int (events, 3 * 7);
  fail_unless_equals_int (durations[0], 100);
  fail_unless_equals_int (durations[1], 100);
  fail_unless (durations[2] >= 80 && durations[2] <= 100, "%u", durations[2]);
  fail_unless (!sender.busy ());

  /* A peer's telephone-event at 8000 Hz: its duration is in 8 kHz units. */
  control::DtmfReceiver at8k;
  fail_unless (!at8k.packet (5000, {7, false, 10, 160}, 8000));
  auto d = at8k.packet (5000, {7, true, 10, 800}, 8000);
  fail_unless (d && d->digit == '7' && d->duration_ms == 100);
  fail_unless (!at8k.packet (5000, {7, true, 10, 800}, 8000), "a repeated end reported twice");
  /* Not a DTMF event (RFC 4733 has others): ignored. */
  fail_unless (!at8k.packet (9000, {40, true, 10, 800}, 8000));
}
GST_END_TEST;

/* ---- calls --------------------------------------------------------------------------- */

/* Mute: the far end's received level drops to silence and comes back; the muted side still
 * hears. Then the element's mute property does the same for every call. */
GST_START_TEST (test_mute)
{
  MessageLog a_log; /* before the parties: their buses post into it until they are gone */
  Party a ("caller", 440), b ("callee", 880);
  fail_unless (a.pipeline && b.pipeline);
  watch_messages (a, &a_log);
  start_call (a, b);
  std::string id = session_id (a_log);
  expect_heard (b, 440, "before mute");

  fail_unless (emit_bool (a.call, "set-mute", id.c_str (), TRUE));
  listen (b, 0.7);
  expect_silence (b, "caller muted");
  expect_heard (a, 880, "caller muted");
  fail_unless (wait_messages (a_log, "voicecall-control", 1, 2));
  auto ctl = messages (a_log, "voicecall-control");
  gboolean muted = FALSE, held = TRUE;
  gst_structure_get_boolean (ctl.back ().get (), "muted", &muted);
  gst_structure_get_boolean (ctl.back ().get (), "held", &held);
  fail_unless (muted && !held);
  /* voicecall-stats says so */
  size_t before = messages (a_log, "voicecall-stats").size ();
  fail_unless (wait_messages (a_log, "voicecall-stats", before + 1, 3));
  gst_structure_get_boolean (messages (a_log, "voicecall-stats").back ().get (), "muted",
      &muted);
  fail_unless (muted, "voicecall-stats does not say muted");

  fail_unless (emit_bool (a.call, "set-mute", id.c_str (), FALSE));
  listen (b, 0.7);
  expect_heard (b, 440, "caller unmuted");

  g_object_set (a.call, "mute", TRUE, nullptr);
  listen (b, 0.7);
  expect_silence (b, "mute=true");
  g_object_set (a.call, "mute", FALSE, nullptr);
  listen (b, 0.7);
  expect_heard (b, 440, "mute=false");

  /* An unknown call: FALSE (and a warning). */
  fail_unless (!emit_bool (a.call, "set-mute", "no-such-call", TRUE));
}
GST_END_TEST;

/* Hold silences both directions, from either side, and both come back. */
GST_START_TEST (test_hold)
{
  MessageLog a_log, b_log; /* before the parties: their buses post into it */
  Party a ("caller", 440), b ("callee", 880);
  fail_unless (a.pipeline && b.pipeline);
  watch_messages (a, &a_log);
  watch_messages (b, &b_log);
  start_call (a, b);
  std::string id = session_id (a_log);

  for (Party *holder : {&a, &b}) {
    std::string when = holder->name + " holds";
    fail_unless (emit_bool (holder->call, "set-hold", id.c_str (), TRUE));
    listen (a, 0.7);
    listen (b, 0.7);
    expect_silence (a, when.c_str ());
    expect_silence (b, when.c_str ());
    fail_unless (emit_bool (holder->call, "set-hold", nullptr, FALSE));
    listen (a, 0.7);
    listen (b, 0.7);
    when = holder->name + " resumes";
    expect_heard (a, 880, when.c_str ());
    expect_heard (b, 440, when.c_str ());
  }
  gboolean held = FALSE;
  auto ctl = messages (b_log, "voicecall-control");
  fail_unless (!ctl.empty ());
  gst_structure_get_boolean (ctl.front ().get (), "held", &held);
  fail_unless (held);
}
GST_END_TEST;

/* DTMF both ways between two of our elements: each side's digits come out of the other as
 * voicecall-dtmf messages, in order, with their duration. */
GST_START_TEST (test_dtmf_both_ways)
{
  MessageLog a_log, b_log; /* before the parties: their buses post into it */
  Party a ("caller", 440), b ("callee", 880);
  fail_unless (a.pipeline && b.pipeline);
  watch_messages (a, &a_log);
  watch_messages (b, &b_log);
  start_call (a, b);
  std::string id = session_id (a_log);

  struct Way {
    Party *from;
    MessageLog *to_log;
    const char *digits;
    guint ms;
  };
  for (Way w : {Way {&a, &b_log, "1234#", 100}, Way {&b, &a_log, "*0D", 160}}) {
    gboolean ok = FALSE;
    g_signal_emit_by_name (w.from->call, "send-dtmf", id.c_str (), w.digits, w.ms, &ok);
    fail_unless (ok, "%s could not send DTMF", w.from->name.c_str ());
    size_t n = strlen (w.digits);
    fail_unless (wait_messages (*w.to_log, "voicecall-dtmf", n, 5), "%zu of %zu digits came",
        messages (*w.to_log, "voicecall-dtmf").size (), n);
    std::string got;
    for (auto &m : messages (*w.to_log, "voicecall-dtmf")) {
      got += gst_structure_get_string (m.get (), "digit");
      guint ms = 0;
      gst_structure_get_uint (m.get (), "duration-ms", &ms);
      fail_unless (ms >= w.ms - 20 && ms <= w.ms, "a digit of %u ms, sent for %u", ms, w.ms);
      fail_unless_equals_string (gst_structure_get_string (m.get (), "session-id"), id.c_str ());
    }
    g_print ("  %s sent \"%s\": heard \"%s\"\n", w.from->name.c_str (), w.digits, got.c_str ());
    fail_unless_equals_string (got.c_str (), w.digits);
  }
  /* The audio goes on after the digits. */
  listen (a, 0.5);
  listen (b, 0.5);
  expect_heard (a, 880, "after DTMF");
  expect_heard (b, 440, "after DTMF");

  /* Not DTMF: FALSE and a WARNING message saying why, nothing sent. */
  gboolean ok = TRUE;
  g_signal_emit_by_name (a.call, "send-dtmf", id.c_str (), "12x", 100u, &ok);
  fail_unless (!ok);
  GstPtr<GstBus> bus = vc::adopt (gst_element_get_bus (a.pipeline.get ()));
  GstPtr<GstMessage> warning = vc::adopt (gst_bus_timed_pop_filtered (bus.get (), GST_SECOND,
      GST_MESSAGE_WARNING));
  fail_unless (warning.get () != nullptr, "no WARNING for digits that are not DTMF");
  GError *err = nullptr;
  gst_message_parse_warning (warning.get (), &err, nullptr);
  g_print ("  \"12x\": %s\n", err->message);
  fail_unless (strstr (err->message, "not DTMF") != nullptr);
  g_clear_error (&err);
}
GST_END_TEST;

static gboolean
refuse_calls (GstElement *, const gchar *id, const gchar *peer, const GstStructure *headers,
    gpointer data)
{
  auto *seen = static_cast<std::string *> (data);
  const gchar *ct = headers ? gst_structure_get_string (headers, "content-type") : nullptr;
  *seen = std::string (peer ? peer : "") + " " + (ct ? ct : "(no content-type)");
  return FALSE;
}

/* A callee with two callers hangs up one of them by its id: that one ends (its caller is
 * told), the other keeps talking both ways. */
GST_START_TEST (test_hang_up_one_of_two)
{
  MessageLog b_log, c1_log, c2_log; /* before the parties: their buses post into it */
  Party b ("callee", 880, "listen=127.0.0.1:0");
  fail_unless (b.pipeline);
  watch_messages (b, &b_log);
  b.play ();
  guint port = server_port (b);
  fail_unless (port != 0);
  std::string url = "url=http://127.0.0.1:" + std::to_string (port) + "/call";
  Party c1 ("caller1", 440, url), c2 ("caller2", 660, url);
  watch_messages (c1, &c1_log);
  watch_messages (c2, &c2_log);
  c1.play ();
  std::string error;
  fail_unless (c1.wait_audio (0.5, 20, &error), "%s", error.c_str ());
  c2.play ();
  fail_unless (c2.wait_audio (0.5, 20, &error), "%s", error.c_str ());
  fail_unless (wait_messages (b_log, "voicecall-session-started", 2, 5));
  /* The callee's id of the first caller's call (ids are the signaller's: a WHIP client's
   * is its own). */
  auto b_started = messages (b_log, "voicecall-session-started");
  std::string id1 = gst_structure_get_string (b_started[0].get (), "session-id");

  gboolean ok = FALSE;
  g_signal_emit_by_name (b.call, "hang-up", id1.c_str (), &ok);
  fail_unless (ok, "hang-up %s returned FALSE", id1.c_str ());
  fail_unless (wait_messages (c1_log, "voicecall-session-ended", 1, 3),
      "the hung-up caller was not told");
  fail_unless (wait_messages (b_log, "voicecall-session-ended", 1, 3));
  auto ended = messages (b_log, "voicecall-session-ended");
  fail_unless_equals_string (gst_structure_get_string (ended[0].get (), "session-id"),
      id1.c_str ());
  fail_unless_equals_string (gst_structure_get_string (ended[0].get (), "reason"),
      "local hang-up");
  auto c1_ended = messages (c1_log, "voicecall-session-ended");
  g_print ("  the hung-up caller: %s\n", gst_structure_get_string (c1_ended[0].get (), "reason"));
  fail_unless_equals_string (gst_structure_get_string (c1_ended[0].get (), "reason"),
      "remote hang-up");

  listen (c2, 1.5);
  listen (b, 1.5);
  expect_heard (c2, 880, "after the other caller was hung up");
  expect_heard (b, 660, "after the other caller was hung up");
  fail_unless_equals_int (messages (c2_log, "voicecall-session-ended").size (), 0);
  fail_unless_equals_int (messages (b_log, "voicecall-session-ended").size (), 1);
  fail_unless_equals_int (count_webrtcbins (b.call), 1);
  /* An id that is not there: FALSE. */
  g_signal_emit_by_name (b.call, "hang-up", id1.c_str (), &ok);
  fail_unless (!ok);
}
GST_END_TEST;

/* incoming-call answered FALSE: the caller's session ends "refused" with the HTTP status and
 * the problem text, and the callee keeps no session. */
GST_START_TEST (test_refuse_call)
{
  MessageLog b_log, c_log; /* before the parties: their buses post into it */
  std::string seen;
  Party b ("callee", 880, "listen=127.0.0.1:0");
  fail_unless (b.pipeline);
  gulong handler = g_signal_connect (b.call, "incoming-call", G_CALLBACK (refuse_calls), &seen);
  watch_messages (b, &b_log);
  b.play ();
  guint port = server_port (b);
  fail_unless (port != 0);
  std::string url = "url=http://127.0.0.1:" + std::to_string (port) + "/call";
  {
    Party c ("caller", 440, url);
    watch_messages (c, &c_log);
    c.play ();
    fail_unless (wait_messages (c_log, "voicecall-session-ended", 1, 10), "the caller goes on");
    auto ended = messages (c_log, "voicecall-session-ended");
    std::string reason = gst_structure_get_string (ended[0].get (), "reason");
    std::string detail = gst_structure_get_string (ended[0].get (), "detail");
    g_print ("  refused: reason \"%s\", detail \"%s\"; the callee saw %s\n", reason.c_str (),
        detail.c_str (), seen.c_str ());
    fail_unless_equals_string (reason.c_str (), "refused");
    fail_unless (detail.find ("403") != std::string::npos, "no status in \"%s\"", detail.c_str ());
    fail_unless (detail.find ("refused") != std::string::npos, "no problem text in \"%s\"",
        detail.c_str ());
    fail_unless (seen.rfind ("127.0.0.1:", 0) == 0 && seen.find ("application/sdp") !=
        std::string::npos, "the handler saw \"%s\"", seen.c_str ());
  }
  g_usleep (200000);
  fail_unless_equals_int (messages (b_log, "voicecall-session-started").size (), 0);
  fail_unless_equals_int (count_webrtcbins (b.call), 0);

  /* Without the refusal the next call is taken. */
  g_signal_handler_disconnect (b.call, handler);
  Party c ("caller", 440, url);
  c.play ();
  std::string error;
  fail_unless (c.wait_audio (0.5, 20, &error), "%s", error.c_str ());
  fail_unless_equals_int (messages (b_log, "voicecall-session-started").size (), 1);
}
GST_END_TEST;

static Suite *
callcontrol_suite (void)
{
  Suite *s = suite_create ("callcontrol");
  TCase *logic = tcase_create ("logic");
  tcase_add_test (logic, test_dtmf_payload);
  tcase_add_test (logic, test_dtmf_sender_receiver);
  suite_add_tcase (s, logic);

  TCase *calls = tcase_create ("calls");
  tcase_set_timeout (calls, 60);
  tcase_add_test (calls, test_hang_up_one_of_two);
  tcase_add_test (calls, test_refuse_call);
  tcase_add_test (calls, test_mute);
  tcase_add_test (calls, test_hold);
  tcase_add_test (calls, test_dtmf_both_ways);
  suite_add_tcase (s, calls);
  return s;
}

GST_CHECK_MAIN (callcontrol);
