/* gst-voicecall: one CallSession driven directly, with a scripted signaller that records what
 * the session tells it and a host that records what the session asks: refusal, negotiation
 * failure, the payload type taken from the offer, the order of candidates and their end,
 * the connect timeout, and the state messages with their reasons. */
#include "callsession.h"
#include "contextthread.h"
#include "gstptr.h"
#include "signaller.h"

#include "../http/vectors.h"

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/rtp/rtp.h>

#include <condition_variable>

#include <mutex>
#include <string>
#include <vector>

using vc::GstPtr;

/* ---- a signaller that records ---------------------------------------------------------- */

namespace {
struct Call {
  std::string what; /* "sdp", "ice", "end-of-candidates", "end" */
  std::string text; /* the SDP, the candidate, the reason */
};
} // namespace

#define TEST_TYPE_SIGNALLER (test_signaller_get_type ())
G_DECLARE_FINAL_TYPE (TestSignaller, test_signaller, TEST, SIGNALLER, GObject)

struct _TestSignaller {
  GObject parent;
  std::mutex *lock;
  std::vector<Call> *calls;
};

static void test_signaller_iface_init (GstVoiceSignallerInterface *iface);
G_DEFINE_TYPE_WITH_CODE (TestSignaller, test_signaller, G_TYPE_OBJECT,
    G_IMPLEMENT_INTERFACE (GST_TYPE_VOICE_SIGNALLER, test_signaller_iface_init))

static void
record (GstVoiceSignaller *s, const std::string &what, const std::string &text)
{
  auto *self = TEST_SIGNALLER (s);
  std::lock_guard<std::mutex> lk (*self->lock);
  self->calls->push_back ({what, text});
}

static void
test_send_sdp (GstVoiceSignaller *s, const gchar *, const GstWebRTCSessionDescription *sdp)
{
  vc::GUnique<gchar> text (gst_sdp_message_as_text (sdp->sdp));
  record (s, "sdp", text.get ());
}

static void
test_add_ice (GstVoiceSignaller *s, const gchar *, guint, const gchar *candidate)
{
  record (s, candidate ? "ice" : "end-of-candidates", candidate ? candidate : "");
}

static void
test_end_session (GstVoiceSignaller *s, const gchar *, const gchar *reason)
{
  record (s, "end", reason ? reason : "");
}

static void
test_signaller_iface_init (GstVoiceSignallerInterface *iface)
{
  iface->send_sdp = test_send_sdp;
  iface->add_ice = test_add_ice;
  iface->end_session = test_end_session;
}

static void
test_signaller_init (TestSignaller *self)
{
  self->lock = new std::mutex ();
  self->calls = new std::vector<Call> ();
}

static void
test_signaller_finalize (GObject *o)
{
  delete TEST_SIGNALLER (o)->lock;
  delete TEST_SIGNALLER (o)->calls;
  G_OBJECT_CLASS (test_signaller_parent_class)->finalize (o);
}

static void
test_signaller_class_init (TestSignallerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_signaller_finalize;
}

/* ---- a host that records ----------------------------------------------------------------- */

namespace {

struct Host : vc::CallSession::Host {
  std::mutex lock;
  bool ended = false;
  vc::EndReason reason = vc::EndReason::LOCAL_HANG_UP;
  GstElement *tee = nullptr;

  GstPtr<GstPad> request_input (vc::CallSession &) override
  {
    return vc::adopt (gst_element_request_pad_simple (tee, "src_%u"));
  }
  GstPtr<GstPad> link_remote_stream (vc::CallSession &, GstPad *) override { return nullptr; }
  void session_stream_ready (vc::CallSession &) override {}
  void session_stats (vc::CallSession &, const vc::stats::Report &, double) override {}
  void session_ended (vc::CallSession &, vc::EndReason r) override
  {
    std::lock_guard<std::mutex> lk (lock);
    ended = true;
    reason = r;
  }
};

/* One session in a pipeline of its own (for the bus), fed from a tee, with a control thread,
 * the scripted signaller and the recording host. */
struct Fixture {
  GstPtr<GstElement> pipeline = vc::ref_sink (gst_pipeline_new (nullptr));
  GstElement *tee = gst_element_factory_make ("tee", nullptr);
  vc::ContextThread ctl {"test-ctl"};
  GstPtr<GstVoiceSignaller> signaller =
      vc::adopt (GST_VOICE_SIGNALLER (g_object_new (TEST_TYPE_SIGNALLER, nullptr)));
  Host host;
  std::shared_ptr<vc::CallSession> session;

  explicit Fixture (vc::SessionConfig config)
  {
    gst_bin_add (GST_BIN (pipeline.get ()), tee);
    host.tee = tee;
    config.ice_addresses = "127.0.0.1";
    ctl.invoke_sync ([this, config] {
      session = vc::CallSession::create (host, pipeline.get (), ctl, signaller, "s1", "test",
          config);
    });
    fail_unless (session != nullptr);
  }
  ~Fixture ()
  {
    ctl.invoke_sync ([this] {
      session->finish ();
      session.reset ();
    });
  }

  std::vector<Call> calls ()
  {
    auto *t = TEST_SIGNALLER (signaller.get ());
    std::lock_guard<std::mutex> lk (*t->lock);
    return *t->calls;
  }
  bool ended ()
  {
    std::lock_guard<std::mutex> lk (host.lock);
    return host.ended;
  }
  /* Waits until pred () or timeout_s; returns pred (). */
  template <typename Pred> bool wait_for (Pred pred, double timeout_s)
  {
    gint64 end = g_get_monotonic_time () + static_cast<gint64> (timeout_s * G_USEC_PER_SEC);
    while (!pred () && g_get_monotonic_time () < end)
      g_usleep (10000);
    return pred ();
  }
  /* The voicecall-session-state messages posted so far: "state" or "ended:reason". */
  std::vector<std::string> states ()
  {
    std::vector<std::string> out;
    GstPtr<GstBus> bus = vc::adopt (gst_element_get_bus (pipeline.get ()));
    while (GstMessage *m = gst_bus_pop_filtered (bus.get (), GST_MESSAGE_ELEMENT)) {
      GstPtr<GstMessage> msg = vc::adopt (m);
      const GstStructure *s = gst_message_get_structure (m);
      if (!gst_structure_has_name (s, "voicecall-session-state"))
        continue;
      fail_unless_equals_string (gst_structure_get_string (s, "session-id"), "s1");
      std::string state = gst_structure_get_string (s, "state");
      if (state == "ended") {
        state += std::string (":") + gst_structure_get_string (s, "reason");
        fail_unless (gst_structure_get_string (s, "detail") != nullptr);
        guint64 duration = 1;
        fail_unless (gst_structure_get_uint64 (s, "duration-ms", &duration));
        fail_unless_equals_uint64 (duration, 0); /* never connected */
      }
      out.push_back (state);
    }
    return out;
  }
};

GstWebRTCSessionDescription *
description (GstWebRTCSDPType type, const char *text)
{
  GstSDPMessage *sdp = nullptr;
  gst_sdp_message_new_from_text (text, &sdp);
  fail_unless (sdp != nullptr);
  return gst_webrtc_session_description_new (type, sdp);
}

/* Chrome's offer without its candidates (its addresses are not ours to send to): ICE has
 * nothing to check, so the session never connects. */
std::string
chrome_offer_without_candidates ()
{
  std::string offer = kChromeOffer, out;
  size_t pos = 0;
  while (pos < offer.size ()) {
    size_t end = offer.find ("\r\n", pos) + 2;
    std::string line = offer.substr (pos, end - pos);
    if (line.rfind ("a=candidate:", 0) != 0)
      out += line.rfind ("c=IN IP4 ", 0) == 0 ? "c=IN IP4 127.0.0.1\r\n" : line;
    pos = end;
  }
  fail_unless (out.find ("a=candidate") == std::string::npos);
  return out;
}

void
answer (Fixture &f, const std::string &offer_text)
{
  vc::GUnique<GstWebRTCSessionDescription> offer (
      description (GST_WEBRTC_SDP_TYPE_OFFER, offer_text.c_str ()));
  f.ctl.invoke_sync ([&f, &offer] { f.session->answer (offer.get ()); });
}

} // namespace

/* An offer with no Opus is refused: the signaller is told why, the host that it ended. */
GST_START_TEST (test_refusal)
{
  vc::SessionConfig config;
  Fixture f (config);
  std::string offer = chrome_offer_without_candidates ();
  /* Chrome's offer, less Opus (and RED, which carries Opus). */
  for (const char *line : {"a=rtpmap:111 opus/48000/2\r\n", "a=rtcp-fb:111 transport-cc\r\n",
           "a=fmtp:111 minptime=10;useinbandfec=1\r\n", "a=rtpmap:63 red/48000/2\r\n",
           "a=fmtp:63 111/111\r\n"})
    offer.erase (offer.find (line), strlen (line));
  offer.replace (offer.find ("SAVPF 111 63 "), strlen ("SAVPF 111 63 "), "SAVPF ");
  answer (f, offer);
  fail_unless (f.wait_for ([&f] { return f.ended (); }, 5), "a refused session did not end");
  fail_unless (f.host.reason == vc::EndReason::REFUSED);
  auto calls = f.calls ();
  fail_unless_equals_int (calls.size (), 1);
  fail_unless_equals_string (calls[0].what.c_str (), "end");
  fail_unless (calls[0].text.find ("Opus") != std::string::npos, "reason: %s",
      calls[0].text.c_str ());
  auto states = f.states ();
  fail_unless_equals_int (states.size (), 2);
  fail_unless_equals_string (states[0].c_str (), "connecting");
  fail_unless_equals_string (states[1].c_str (), "ended:refused");
}
GST_END_TEST;

/* A negotiation step that webrtcbin rejects ends the session with reason "error", and the
 * signaller hears what failed. */
GST_START_TEST (test_negotiation_failure)
{
  vc::SessionConfig config; /* a callee: an answer is not what it can take first */
  Fixture f (config);
  vc::GUnique<GstWebRTCSessionDescription> bogus (description (GST_WEBRTC_SDP_TYPE_ANSWER,
      chrome_offer_without_candidates ().c_str ()));
  f.ctl.invoke_sync ([&f, &bogus] { f.session->remote_answer (bogus.get ()); });
  fail_unless (f.wait_for ([&f] { return f.ended (); }, 5), "a failed negotiation did not end");
  fail_unless (f.host.reason == vc::EndReason::ERROR);
  auto calls = f.calls ();
  fail_unless_equals_int (calls.size (), 1);
  fail_unless_equals_string (calls[0].what.c_str (), "end");
  fail_unless (calls[0].text.find ("applying the answer failed") == 0, "reason: %s",
      calls[0].text.c_str ());
  auto states = f.states ();
  fail_unless_equals_int (states.size (), 2);
  fail_unless_equals_string (states[1].c_str (), "ended:error");
}
GST_END_TEST;

/* Answering Chrome's offer: the answer carries Opus with the offer's payload type (111, not
 * our 96), then every candidate, then one end-of-candidates, and nothing after it. */
GST_START_TEST (test_answer_payload_type_and_candidate_order)
{
  vc::SessionConfig config;
  config.payload_type = 111; /* what the element takes from the offer */
  config.connect_timeout_ms = 0;
  Fixture f (config);
  answer (f, chrome_offer_without_candidates ());
  auto has_end = [&f] {
    for (auto &c : f.calls ())
      if (c.what == "end-of-candidates")
        return true;
    return false;
  };
  fail_unless (f.wait_for (has_end, 10), "gathering never ended");
  g_usleep (500 * 1000); /* anything late would come now */
  auto calls = f.calls ();
  fail_unless (calls.size () >= 3, "%zu calls", calls.size ());
  fail_unless_equals_string (calls.front ().what.c_str (), "sdp");
  const std::string &sdp = calls.front ().text;
  fail_unless (sdp.find ("a=rtpmap:111 OPUS/48000/2") != std::string::npos ||
      sdp.find ("a=rtpmap:111 opus/48000/2") != std::string::npos, "answer:\n%s", sdp.c_str ());
  fail_unless (sdp.find ("RTP/SAVPF 111") != std::string::npos, "answer:\n%s", sdp.c_str ());
  int ends = 0;
  for (size_t i = 1; i < calls.size (); i++) {
    if (calls[i].what == "end-of-candidates")
      ends++;
    else
      fail_unless_equals_string (calls[i].what.c_str (), "ice");
  }
  fail_unless_equals_int (ends, 1);
  fail_unless_equals_string (calls.back ().what.c_str (), "end-of-candidates");
  fail_unless (calls[1].text.find ("127.0.0.1") != std::string::npos, "candidate %s",
      calls[1].text.c_str ());
  fail_if (f.ended ());
}
GST_END_TEST;

/* A session that cannot connect (the offer has no candidates) ends with
 * reason "timeout" after connect-timeout, and tells the signaller why. */
GST_START_TEST (test_connect_timeout)
{
  vc::SessionConfig config;
  config.payload_type = 111;
  config.connect_timeout_ms = 700;
  Fixture f (config);
  gint64 start = g_get_monotonic_time ();
  answer (f, chrome_offer_without_candidates ());
  fail_unless (f.wait_for ([&f] { return f.ended (); }, 5), "never timed out");
  double waited = (g_get_monotonic_time () - start) / 1000.0;
  fail_unless (f.host.reason == vc::EndReason::TIMEOUT);
  fail_unless (waited >= 600 && waited < 2500, "ended after %.0f ms", waited);
  auto calls = f.calls ();
  fail_unless_equals_string (calls.back ().what.c_str (), "end");
  fail_unless (calls.back ().text.find ("connect-timeout") != std::string::npos, "reason: %s",
      calls.back ().text.c_str ());
  auto states = f.states ();
  fail_unless_equals_string (states.back ().c_str (), "ended:timeout");
}
GST_END_TEST;

/* ---- the first packet ----------------------------------------------------------------- */

namespace {
struct Gate {
  std::mutex lock;
  std::condition_variable cond;
  bool open = false;
};
} // namespace

static GstPadProbeReturn
open_gate (GstPad *, GstPadProbeInfo *, gpointer data)
{
  auto *g = static_cast<Gate *> (data);
  std::lock_guard<std::mutex> lk (g->lock);
  g->open = true;
  g->cond.notify_all ();
  return GST_PAD_PROBE_REMOVE;
}

static GstPadProbeReturn
wait_gate_on_stream_start (GstPad *, GstPadProbeInfo *info, gpointer data)
{
  if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) != GST_EVENT_STREAM_START)
    return GST_PAD_PROBE_OK;
  auto *g = static_cast<Gate *> (data);
  std::unique_lock<std::mutex> lk (g->lock);
  g->cond.wait_for (lk, std::chrono::seconds (2), [g] { return g->open; });
  return GST_PAD_PROBE_REMOVE;
}

/* As in a call: the stream's first packet reaches the jitter buffer before its thread has
 * pushed the stream's sticky events (here its thread is held at stream-start until the packet
 * has come). With a 1 s latency on a test clock that never moves, rtpjitterbuffer 1.22 would
 * hold that packet for ever; play_first_packet_at_once () lets it out at once. */
GST_START_TEST (test_first_packet_at_once)
{
  GstHarness *h = gst_harness_new ("rtpjitterbuffer");
  g_object_set (h->element, "latency", 1000, nullptr);
  Gate gate;
  GstPtr<GstPad> sink = vc::adopt (gst_element_get_static_pad (h->element, "sink"));
  GstPtr<GstPad> src = vc::adopt (gst_element_get_static_pad (h->element, "src"));
  gst_pad_add_probe (src.get (), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, wait_gate_on_stream_start,
      &gate, nullptr);
  gst_pad_add_probe (sink.get (), GST_PAD_PROBE_TYPE_BUFFER, open_gate, &gate, nullptr);
  vc::play_first_packet_at_once (h->element);
  gst_harness_set_src_caps_str (h, "application/x-rtp, media=(string)audio, "
      "clock-rate=(int)48000, encoding-name=(string)OPUS, payload=(int)96");

  GstBuffer *packet = gst_rtp_buffer_new_allocate (40, 0, 0);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  fail_unless (gst_rtp_buffer_map (packet, GST_MAP_WRITE, &rtp));
  gst_rtp_buffer_set_payload_type (&rtp, 96);
  gst_rtp_buffer_set_seq (&rtp, 1000);
  gst_rtp_buffer_set_timestamp (&rtp, 48000);
  gst_rtp_buffer_set_ssrc (&rtp, 0x1234);
  gst_rtp_buffer_unmap (&rtp);
  GST_BUFFER_DTS (packet) = 0;
  fail_unless_equals_int (gst_harness_push (h, packet), GST_FLOW_OK);

  GstBuffer *out = nullptr;
  for (int i = 0; i < 200 && !out; i++) {
    out = gst_harness_try_pull (h);
    if (!out)
      g_usleep (10000);
  }
  fail_unless (out != nullptr, "the first packet is still in the jitter buffer after 2 s");
  fail_unless (gst_rtp_buffer_map (out, GST_MAP_READ, &rtp));
  fail_unless_equals_int (gst_rtp_buffer_get_seq (&rtp), 1000);
  gst_rtp_buffer_unmap (&rtp);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}
GST_END_TEST;

static Suite *
callsession_suite (void)
{
  Suite *s = suite_create ("callsession");
  TCase *tc = tcase_create ("session");
  tcase_set_timeout (tc, 60);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_refusal);
  tcase_add_test (tc, test_negotiation_failure);
  tcase_add_test (tc, test_answer_payload_type_and_candidate_order);
  tcase_add_test (tc, test_connect_timeout);
  tcase_add_test (tc, test_first_packet_at_once);
  return s;
}

GST_CHECK_MAIN (callsession);
