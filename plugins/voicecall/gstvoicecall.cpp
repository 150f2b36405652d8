/* gst-voicecall: voicecall
 *
 * SECTION:element-voicecall
 * @title: voicecall
 *
 * A two-way WebRTC voice call. The sink pad takes the Opus RTP to send (from
 * voicecapturebin); the src pad gives the far end's Opus RTP (to voiceplaybackbin). Each call
 * ("session") is one webrtcbin inside this bin; a signaller carries SDP and ICE candidates:
 * `url=` makes this element a caller over HTTP, `listen=` a callee serving HTTP, and the
 * `signaller` property takes any GstVoiceSignaller (e.g. the in-process one for tests), whose
 * properties are reachable from gst-launch as `signaller::name=value`.
 *
 * With several sessions at once (a callee), every caller hears us; the src pad carries the
 * first caller's audio, and when that caller hangs up, the next one's.
 *
 * Bus messages (element messages from this element):
 *  - `voicecall-session-started`: session-id (string), peer (string), role ("caller"/"callee")
 *  - `voicecall-first-audio`: session-id, peer, setup-ms (double: session start → first audio)
 *  - `voicecall-session-ended`: session-id, peer, reason (string)
 *  - `voicecall-stats` (every stats-interval ms): session-id, peer, rtt-ms, fraction-lost,
 *    remote-fraction-lost, cumulative-lost, jitter-ms, send-kbps, receive-kbps,
 *    concealed-ratio, mos, packets-sent, packets-received, local-/remote-candidate-type
 *    (see docs/stats.md)
 *  - `voicecall-adaptation` (adaptive=true, whenever something changes): session-id, peer,
 *    bitrate, fec, packet-loss-percentage (what the shared encoder now does; absent without a
 *    voicecapturebin upstream), jitter-buffer-ms (this session's), reason (string)
 *
 * Adaptive audio (adaptive=true, the default): every stats-interval each session's RTCP
 * feedback sets the upstream voicecapturebin's Opus bitrate (within min-bitrate..max-bitrate,
 * the most conservative of all sessions), in-band FEC and packet-loss-percentage, and the
 * session's jitter buffer follows the measured jitter (within min-latency..max-latency,
 * starting at latency). See docs/adaptive.md.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 voicecapturebin ! voicecall listen=0.0.0.0:8080 ! voiceplaybackbin
 * gst-launch-1.0 voicecapturebin ! voicecall url=http://HOST:8080/call ! voiceplaybackbin
 * ]|
 */
#include "gstvoicecall.h"

#include "adaptive.h"
#include "binutil.h"
#include "callstats.h"
#include "contextthread.h"
#include "gstptr.h"
#include "httpclientsignaller.h"
#include "httpserversignaller.h"
#include "sdputil.h"
#include "signaller.h"

#include <gst/rtp/rtp.h>
#include <gst/webrtc/webrtc.h>
#include <nice/agent.h>

#include <atomic>
#include <cstring>
#include <map>
#include <utility>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

GST_DEBUG_CATEGORY_STATIC (voice_call_debug);
#define GST_CAT_DEFAULT voice_call_debug

enum {
  PROP_0,
  PROP_SIGNALLER,
  PROP_STUN_SERVER,
  PROP_TURN_SERVER,
  PROP_LATENCY,
  PROP_ADAPTIVE,
  PROP_MIN_BITRATE,
  PROP_MAX_BITRATE,
  PROP_MIN_LATENCY,
  PROP_MAX_LATENCY,
  PROP_ICE_ADDRESSES,
  PROP_STATS_INTERVAL,
  PROP_URL,
  PROP_LISTEN,
  PROP_ICE_TRANSPORT_POLICY,
};

/* 60 ms: three 20 ms Opus frames. Enough for the jitter of a LAN or a good internet path,
 * about what browsers' adaptive jitter buffers settle at on such paths, and a third of
 * webrtcbin's 200 ms default, which is audible as delay in conversation. */
constexpr guint DEFAULT_LATENCY = 60;
constexpr guint DEFAULT_STATS_INTERVAL = 1000;
constexpr int DEFAULT_PAYLOAD_TYPE = 96; /* what voicecapturebin's payloader uses */
constexpr guint HOST_CANDIDATES_QUIET_MS = 50;
constexpr const char *OPUS_CAPS = "application/x-rtp, media=(string)audio, "
                                  "encoding-name=(string)OPUS, clock-rate=(int)48000";

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink", GST_PAD_SINK,
    GST_PAD_ALWAYS, GST_STATIC_CAPS (OPUS_CAPS));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src", GST_PAD_SRC,
    GST_PAD_ALWAYS, GST_STATIC_CAPS (OPUS_CAPS));

namespace {

/* One call with one peer: a webrtcbin fed from the input tee. */
struct Session {
  std::string id;
  std::string peer;
  bool offerer = false;
  GstElement *webrtc = nullptr; /* owned by the bin */
  GstElement *queue = nullptr;  /* owned by the bin */
  vc::GstPtr<GstPad> tee_pad;
  vc::GstPtr<GstPad> selector_pad; /* once the far end's stream arrived */
  gint64 started_us = 0;
  bool got_audio = false;
  std::atomic<int> send_pt {-1};  /* payload type the peer expects from us */
  bool host_only = false;        /* no STUN/TURN: host candidates are all there will be */
  bool gathering_done = false;   /* end-of-candidates was given to the signaller */
  guint quiet_timer = 0;         /* host_only: ends gathering once candidates stop coming */
  std::atomic<bool> connected {false}; /* ICE and DTLS are up: our RTP may go */
  vc::stats::Sample last_stats;
  bool have_stats = false;
  guint jitter_buffer_ms = DEFAULT_LATENCY;        /* what its jitter buffer holds now */
  std::unique_ptr<vc::adaptive::Controller> adapt; /* adaptive=true, from the first stats */
};

struct Settings {
  std::string stun_server;
  std::string turn_server;
  guint latency = DEFAULT_LATENCY;
  vc::adaptive::Config adaptive; /* adaptive, min-/max-bitrate, min-/max-latency */
  std::string ice_addresses;
  guint stats_interval = DEFAULT_STATS_INTERVAL;
  std::string url;    /* set: we call it (an HTTP client signaller) */
  std::string listen; /* set: we answer on it (an HTTP server signaller) */
  GstWebRTCICETransportPolicy ice_transport_policy = GST_WEBRTC_ICE_TRANSPORT_POLICY_ALL;
};

} // namespace

struct GstVoiceCallPrivate {
  std::mutex lock; /* settings and signaller */
  Settings settings;
  vc::GstPtr<GstVoiceSignaller> signaller;
  std::vector<gulong> signaller_handlers;

  /* Everything below is used in the control thread only. */
  std::shared_ptr<vc::ContextThread> ctl;
  GstElement *tee = nullptr;
  GstElement *selector = nullptr;
  std::map<std::string, std::shared_ptr<Session>> sessions;
  std::string heard; /* the session whose audio goes to the src pad */
  bool running = false;
  bool client = false; /* a client ends with its one session */
  bool eos_sent = false;
  guint stats_timer = 0;
  bool encoder_asked = false; /* once: say so if nothing upstream answers */
  std::optional<vc::adaptive::Encoder> encoder; /* the upstream voicecapturebin's, if any */
};

struct _GstVoiceCall {
  GstBin parent;
  GstVoiceCallPrivate *priv;
};

static void gst_voice_call_child_proxy_init (GstChildProxyInterface *iface);

#define gst_voice_call_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstVoiceCall, gst_voice_call, GST_TYPE_BIN,
    G_IMPLEMENT_INTERFACE (GST_TYPE_CHILD_PROXY, gst_voice_call_child_proxy_init));
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (voicecall, "voicecall", GST_RANK_NONE, GST_TYPE_VOICE_CALL,
    GST_DEBUG_CATEGORY_INIT (voice_call_debug, "voicecall", 0, "voice call"));

/* Runs fn (self) in the control thread, holding a reference to self meanwhile. */
template <typename Fn>
static void
in_control (GstVoiceCall *self, Fn fn)
{
  vc::GstPtr<GstVoiceCall> ref = vc::ref (self);
  self->priv->ctl->invoke ([ref, fn] { fn (ref.get ()); });
}

static Settings
copy_settings (GstVoiceCall *self)
{
  std::lock_guard<std::mutex> lk (self->priv->lock);
  return self->priv->settings;
}

static vc::GstPtr<GstVoiceSignaller>
current_signaller (GstVoiceCall *self)
{
  std::lock_guard<std::mutex> lk (self->priv->lock);
  return self->priv->signaller;
}

static std::shared_ptr<Session>
find_session (GstVoiceCall *self, const std::string &id)
{
  auto it = self->priv->sessions.find (id);
  return it == self->priv->sessions.end () ? nullptr : it->second;
}

static void
post_session_message (GstVoiceCall *self, const char *name, const Session &s,
    const char *field = nullptr, const GValue *value = nullptr)
{
  GstStructure *st = gst_structure_new (name, "session-id", G_TYPE_STRING, s.id.c_str (),
      "peer", G_TYPE_STRING, s.peer.c_str (), nullptr);
  if (field)
    gst_structure_set_value (st, field, value);
  gst_element_post_message (GST_ELEMENT (self), gst_message_new_element (GST_OBJECT (self), st));
}

/* ---- teardown ---------------------------------------------------------------------- */

static void push_eos_downstream (GstVoiceCall *self);
static void choose_heard_session (GstVoiceCall *self);

/* Removes a session's elements; control thread. */
static void
remove_session (GstVoiceCall *self, const std::string &id, const char *reason, bool tell_peer)
{
  auto *priv = self->priv;
  auto s = find_session (self, id);
  if (!s)
    return;
  priv->sessions.erase (id);
  priv->ctl->cancel (std::exchange (s->quiet_timer, 0));
  GST_INFO_OBJECT (self, "session %s (%s) ended: %s", id.c_str (), s->peer.c_str (), reason);

  vc::GstPtr<GstVoiceSignaller> signaller = current_signaller (self);
  if (tell_peer && signaller)
    gst_voice_signaller_end_session (signaller.get (), id.c_str (), nullptr);

  g_signal_handlers_disconnect_by_data (s->webrtc, self);
  if (s->tee_pad) {
    vc::GstPtr<GstPad> peer = vc::adopt (gst_pad_get_peer (s->tee_pad.get ()));
    if (peer)
      gst_pad_unlink (s->tee_pad.get (), peer.get ());
    gst_element_release_request_pad (priv->tee, s->tee_pad.get ());
  }
  if (s->selector_pad)
    gst_element_release_request_pad (priv->selector, s->selector_pad.get ());
  /* Out of the bin first, then stopped: stopping may wait for a streaming thread that a
   * synchronised sink holds in preroll while the pipeline changes state, and the bin's state
   * change must not then wait for this webrtcbin's locks. */
  vc::GstPtr<GstElement> webrtc = vc::ref (s->webrtc), queue = vc::ref (s->queue);
  gst_bin_remove_many (GST_BIN (self), s->webrtc, s->queue, nullptr);
  gst_element_set_state (webrtc.get (), GST_STATE_NULL);
  gst_element_set_state (queue.get (), GST_STATE_NULL);

  GValue v = G_VALUE_INIT;
  g_value_init (&v, G_TYPE_STRING);
  g_value_set_string (&v, reason);
  post_session_message (self, "voicecall-session-ended", *s, "reason", &v);
  g_value_unset (&v);

  if (priv->heard == id) {
    priv->heard.clear ();
    choose_heard_session (self);
  }
  if (priv->client && priv->running)
    push_eos_downstream (self);
}

static void
remove_all_sessions (GstVoiceCall *self, const char *reason, bool tell_peer)
{
  std::vector<std::string> ids;
  for (auto &kv : self->priv->sessions)
    ids.push_back (kv.first);
  for (auto &id : ids)
    remove_session (self, id, reason, tell_peer);
}

/* The call is over for this element: the src pad ends (files get finalised, gst-launch
 * exits). */
static void
push_eos_downstream (GstVoiceCall *self)
{
  auto *priv = self->priv;
  if (priv->eos_sent)
    return;
  priv->eos_sent = true;
  vc::GstPtr<GstPad> src = vc::adopt (gst_element_get_static_pad (priv->selector, "src"));
  if (!gst_pad_get_sticky_event (src.get (), GST_EVENT_STREAM_START, 0)) {
    /* Nothing was ever received: start the stream so that EOS is well-formed. */
    vc::GUnique<gchar> sid (gst_pad_create_stream_id (src.get (), GST_ELEMENT (self), "none"));
    gst_pad_push_event (src.get (), gst_event_new_stream_start (sid.get ()));
    vc::GstPtr<GstCaps> caps = vc::adopt (gst_caps_from_string (
        "application/x-rtp, media=audio, encoding-name=OPUS, clock-rate=48000, payload=96"));
    gst_pad_push_event (src.get (), gst_event_new_caps (caps.get ()));
    GstSegment segment;
    gst_segment_init (&segment, GST_FORMAT_TIME);
    gst_pad_push_event (src.get (), gst_event_new_segment (&segment));
  }
  GST_INFO_OBJECT (self, "call over: sending EOS downstream");
  gst_pad_push_event (src.get (), gst_event_new_eos ());
}

/* ---- the far end's audio ------------------------------------------------------------ */

static void
choose_heard_session (GstVoiceCall *self)
{
  auto *priv = self->priv;
  if (!priv->heard.empty ())
    return;
  /* The oldest session that has a stream. */
  std::shared_ptr<Session> best;
  for (auto &kv : priv->sessions)
    if (kv.second->selector_pad && (!best || kv.second->started_us < best->started_us))
      best = kv.second;
  if (!best)
    return;
  priv->heard = best->id;
  g_object_set (priv->selector, "active-pad", best->selector_pad.get (), nullptr);
  GST_INFO_OBJECT (self, "hearing session %s (%s)", best->id.c_str (), best->peer.c_str ());
}

static GstPadProbeReturn
first_audio_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  auto *self = GST_VOICE_CALL (user_data);
  std::string id = static_cast<const char *> (g_object_get_data (G_OBJECT (pad), "vc-session"));
  in_control (self, [id] (GstVoiceCall *self) {
    auto s = find_session (self, id);
    if (!s || s->got_audio)
      return;
    s->got_audio = true;
    double ms = (g_get_monotonic_time () - s->started_us) / 1000.0;
    GST_INFO_OBJECT (self, "session %s: first audio after %.1f ms", id.c_str (), ms);
    GValue v = G_VALUE_INIT;
    g_value_init (&v, G_TYPE_DOUBLE);
    g_value_set_double (&v, ms);
    post_session_message (self, "voicecall-first-audio", *s, "setup-ms", &v);
  });
  return GST_PAD_PROBE_REMOVE;
}

static void
on_webrtc_pad_added (GstElement *webrtc, GstPad *pad, gpointer user_data)
{
  auto *self = GST_VOICE_CALL (user_data);
  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  std::string id = static_cast<const char *> (g_object_get_data (G_OBJECT (webrtc), "vc-session"));
  g_object_set_data_full (G_OBJECT (pad), "vc-session", g_strdup (id.c_str ()), g_free);
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, first_audio_probe, self, nullptr);
  /* Linked here, before the first buffer: an unlinked webrtcbin pad is a stream error. */
  auto *priv = self->priv;
  vc::GstPtr<GstPad> selector_pad =
      vc::adopt (gst_element_request_pad_simple (priv->selector, "sink_%u"));
  if (gst_pad_link (pad, selector_pad.get ()) != GST_PAD_LINK_OK) {
    GST_WARNING_OBJECT (self, "session %s: cannot link the received stream", id.c_str ());
    gst_element_release_request_pad (priv->selector, selector_pad.get ());
    return;
  }
  in_control (self, [id, selector_pad] (GstVoiceCall *self) {
    auto *priv = self->priv;
    auto s = find_session (self, id);
    if (!s || s->selector_pad) {
      gst_element_release_request_pad (priv->selector, selector_pad.get ());
      return;
    }
    s->selector_pad = selector_pad;
    choose_heard_session (self);
    /* The new jitter buffer adds latency: let the pipeline recompute it. */
    gst_element_post_message (GST_ELEMENT (self), gst_message_new_latency (GST_OBJECT (self)));
  });
}

/* ---- the audio we send -------------------------------------------------------------- */

/* Gives our RTP the payload type the peer negotiated (webrtcbin does not rewrite it). */
static GstPadProbeReturn
payload_type_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  auto *s = static_cast<Session *> (user_data);
  /* Until DTLS is done webrtcbin blocks its transport, holding the first packet, and then
   * sends that packet (as old as the call setup) with the live ones: the far end's jitter
   * buffer times the stream from it and plays the whole call seconds late. */
  if ((info->type & GST_PAD_PROBE_TYPE_BUFFER) && !s->connected.load ())
    return GST_PAD_PROBE_DROP;
  int pt = s->send_pt.load ();
  if (pt < 0)
    return GST_PAD_PROBE_OK;

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    if (!gst_rtp_buffer_map (buf, GST_MAP_READ, &rtp))
      return GST_PAD_PROBE_OK;
    int have = gst_rtp_buffer_get_payload_type (&rtp);
    gst_rtp_buffer_unmap (&rtp);
    if (have == pt)
      return GST_PAD_PROBE_OK;
    buf = gst_buffer_make_writable (buf);
    if (gst_rtp_buffer_map (buf, GST_MAP_WRITE, &rtp)) {
      gst_rtp_buffer_set_payload_type (&rtp, pt);
      gst_rtp_buffer_unmap (&rtp);
    }
    GST_PAD_PROBE_INFO_DATA (info) = buf;
  } else if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
    if (GST_EVENT_TYPE (event) != GST_EVENT_CAPS)
      return GST_PAD_PROBE_OK;
    GstCaps *caps;
    gst_event_parse_caps (event, &caps);
    vc::GstPtr<GstCaps> fixed = vc::adopt (gst_caps_copy (caps));
    gst_caps_set_simple (fixed.get (), "payload", G_TYPE_INT, pt, nullptr);
    gst_event_unref (event);
    GST_PAD_PROBE_INFO_DATA (info) = gst_event_new_caps (fixed.get ());
  }
  return GST_PAD_PROBE_OK;
}

/* ---- negotiation --------------------------------------------------------------------- */

/* What to do with a webrtcbin promise's reply, in the control thread. */
using PromiseHandler = void (*) (GstVoiceCall *self, const std::shared_ptr<Session> &s,
    const GstStructure *reply);

struct PromiseContext {
  vc::GstPtr<GstVoiceCall> self;
  std::string id;
  const char *what;
  PromiseHandler handler;
};

static void report_negotiation_failure (GstVoiceCall *self, const std::string &id,
    const std::string &message);

/* The change func only hands the promise to the control thread: nothing waits or works in
 * webrtcbin's thread. There the promise is already resolved, so reading it never blocks. */
static void
on_promise_changed (GstPromise *promise, gpointer data)
{
  auto *ctx = static_cast<PromiseContext *> (data);
  vc::GstPtr<GstPromise> owned = vc::ref (promise);
  std::string id = ctx->id;
  const char *what = ctx->what;
  PromiseHandler handler = ctx->handler;
  in_control (ctx->self.get (), [owned, id, what, handler] (GstVoiceCall *self) {
    auto s = find_session (self, id);
    if (!s)
      return;
    if (gst_promise_wait (owned.get ()) != GST_PROMISE_RESULT_REPLIED) {
      GST_DEBUG_OBJECT (self, "session %s: %s was interrupted", id.c_str (), what);
      return;
    }
    const GstStructure *reply = gst_promise_get_reply (owned.get ());
    if (reply && gst_structure_has_field (reply, "error")) {
      GError *e = nullptr;
      gst_structure_get (reply, "error", G_TYPE_ERROR, &e, nullptr);
      vc::GUnique<GError> err (e);
      report_negotiation_failure (self, id, std::string (what) + " failed: " +
          (err ? err->message : "unknown error"));
      return;
    }
    handler (self, s, reply);
  });
}

static GstPromise *
make_promise (GstVoiceCall *self, const std::string &id, const char *what,
    PromiseHandler handler)
{
  return gst_promise_new_with_change_func (on_promise_changed,
      new PromiseContext {vc::ref (self), id, what, handler},
      [] (gpointer data) { delete static_cast<PromiseContext *> (data); });
}

static void
report_negotiation_failure (GstVoiceCall *self, const std::string &id, const std::string &message)
{
  GST_ELEMENT_WARNING (self, STREAM, FAILED, ("The call %s could not be negotiated: %s",
      id.c_str (), message.c_str ()), (nullptr));
  if (auto signaller = current_signaller (self))
    gst_voice_signaller_end_session (signaller.get (), id.c_str (), message.c_str ());
  remove_session (self, id, message.c_str (), false);
}

/* Sets our description and hands it to the signaller. */
static void
send_local_description (GstVoiceCall *self, const std::shared_ptr<Session> &s,
    const GstStructure *reply, const char *field)
{
  GstWebRTCSessionDescription *desc = nullptr;
  gst_structure_get (reply, field, GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &desc, nullptr);
  vc::GUnique<GstWebRTCSessionDescription> owned (desc);
  if (!desc) {
    report_negotiation_failure (self, s->id, std::string ("webrtcbin gave no ") + field);
    return;
  }
  if (desc->type == GST_WEBRTC_SDP_TYPE_ANSWER) {
    int media = vc::sdp::first_audio_media (desc->sdp);
    if (media >= 0)
      s->send_pt = vc::sdp::opus_payload (desc->sdp, media);
    GST_DEBUG_OBJECT (self, "session %s: sending with payload type %d", s->id.c_str (),
        s->send_pt.load ());
  }
  g_signal_emit_by_name (s->webrtc, "set-local-description", desc, nullptr);
  if (auto signaller = current_signaller (self))
    gst_voice_signaller_send_sdp (signaller.get (), s->id.c_str (), desc);
}

static void
on_offer_created (GstVoiceCall *self, const std::shared_ptr<Session> &s, const GstStructure *reply)
{
  send_local_description (self, s, reply, "offer");
}

static void
on_answer_created (GstVoiceCall *self, const std::shared_ptr<Session> &s, const GstStructure *reply)
{
  send_local_description (self, s, reply, "answer");
}

static void
on_offer_set (GstVoiceCall *self, const std::shared_ptr<Session> &s, const GstStructure *reply)
{
  g_signal_emit_by_name (s->webrtc, "create-answer", nullptr,
      make_promise (self, s->id, "creating the answer", on_answer_created));
}

static void
on_answer_set (GstVoiceCall *self, const std::shared_ptr<Session> &s, const GstStructure *reply)
{
  GST_DEBUG_OBJECT (self, "session %s: answer applied", s->id.c_str ());
}

static void
on_negotiation_needed (GstElement *webrtc, gpointer user_data)
{
  auto *self = GST_VOICE_CALL (user_data);
  std::string id = static_cast<const char *> (g_object_get_data (G_OBJECT (webrtc), "vc-session"));
  in_control (self, [id] (GstVoiceCall *self) {
    auto s = find_session (self, id);
    if (!s || !s->offerer)
      return;
    GST_DEBUG_OBJECT (self, "session %s: creating the offer", id.c_str ());
    g_signal_emit_by_name (s->webrtc, "create-offer", nullptr,
        make_promise (self, id, "creating the offer", on_offer_created));
  });
}

/* Tells the signaller, once, that this session has all its candidates; control thread. */
static void
end_of_candidates (GstVoiceCall *self, Session &s)
{
  if (s.gathering_done)
    return;
  s.gathering_done = true;
  self->priv->ctl->cancel (std::exchange (s.quiet_timer, 0));
  if (auto signaller = current_signaller (self))
    gst_voice_signaller_add_ice (signaller.get (), s.id.c_str (), 0, nullptr);
}

static void
on_ice_candidate (GstElement *webrtc, guint mline, const gchar *candidate, gpointer user_data)
{
  auto *self = GST_VOICE_CALL (user_data);
  const char *id = static_cast<const char *> (g_object_get_data (G_OBJECT (webrtc), "vc-session"));
  vc::GstPtr<GstVoiceSignaller> signaller = current_signaller (self);
  if (signaller && candidate && *candidate)
    gst_voice_signaller_add_ice (signaller.get (), id, mline, candidate);
  /* With host candidates only, they all come at once, but webrtcbin reports gathering
   * complete ~200 ms later, and a WHIP/JSON answer waits for that: end it once they stop. */
  std::string session = id;
  in_control (self, [session] (GstVoiceCall *self) {
    auto s = find_session (self, session);
    if (!s || !s->host_only || s->gathering_done)
      return;
    self->priv->ctl->cancel (s->quiet_timer);
    vc::GstPtr<GstVoiceCall> ref = vc::ref (self);
    s->quiet_timer = self->priv->ctl->timeout (HOST_CANDIDATES_QUIET_MS, [ref, session] {
      if (auto s = find_session (ref.get (), session)) {
        s->quiet_timer = 0;
        GST_DEBUG_OBJECT (ref.get (), "session %s: host candidates complete", session.c_str ());
        end_of_candidates (ref.get (), *s);
      }
    });
  });
}

static void
on_gathering_state (GstElement *webrtc, GParamSpec *pspec, gpointer user_data)
{
  auto *self = GST_VOICE_CALL (user_data);
  GstWebRTCICEGatheringState state;
  g_object_get (webrtc, "ice-gathering-state", &state, nullptr);
  if (state != GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
    return;
  std::string id = static_cast<const char *> (g_object_get_data (G_OBJECT (webrtc), "vc-session"));
  GST_DEBUG_OBJECT (self, "session %s: gathering complete", id.c_str ());
  in_control (self, [id] (GstVoiceCall *self) {
    if (auto s = find_session (self, id))
      end_of_candidates (self, *s);
  });
}

static void
on_connection_state (GstElement *webrtc, GParamSpec *pspec, gpointer user_data)
{
  auto *self = GST_VOICE_CALL (user_data);
  GstWebRTCPeerConnectionState state;
  g_object_get (webrtc, "connection-state", &state, nullptr);
  std::string id = static_cast<const char *> (g_object_get_data (G_OBJECT (webrtc), "vc-session"));
  GST_INFO_OBJECT (self, "session %s: connection state %d", id.c_str (), state);
  if (state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED) {
    in_control (self, [id] (GstVoiceCall *self) {
      if (auto s = find_session (self, id))
        s->connected = true;
    });
  }
  if (state != GST_WEBRTC_PEER_CONNECTION_STATE_FAILED)
    return;
  in_control (self, [id] (GstVoiceCall *self) {
    auto s = find_session (self, id);
    if (!s)
      return;
    GST_ELEMENT_WARNING (self, RESOURCE, OPEN_READ_WRITE,
        ("The call %s with %s failed to connect (ICE/DTLS): check that the peer is reachable, "
            "or configure stun-server/turn-server.", id.c_str (), s->peer.c_str ()), (nullptr));
    remove_session (self, id, "connection failed", true);
  });
}

/* Lets libnice gather on the configured addresses only (it skips loopback otherwise). */
static void
apply_ice_addresses (GstVoiceCall *self, GstElement *webrtc, const std::string &list)
{
  if (list.empty ())
    return;
  vc::GstPtr<GObject> ice;
  g_object_get (webrtc, "ice-agent", ice.out (), nullptr);
  vc::GstPtr<GObject> agent;
  if (ice)
    g_object_get (ice.get (), "agent", agent.out (), nullptr);
  if (!agent) {
    GST_WARNING_OBJECT (self, "no libnice agent: ice-addresses ignored");
    return;
  }
  std::stringstream in (list);
  std::string address;
  while (std::getline (in, address, ',')) {
    address.erase (0, address.find_first_not_of (" \t"));
    address.erase (address.find_last_not_of (" \t") + 1);
    if (address.empty ())
      continue;
    NiceAddress nice;
    nice_address_init (&nice);
    if (!nice_address_set_from_string (&nice, address.c_str ())) {
      GST_WARNING_OBJECT (self, "ice-addresses: \"%s\" is not an IP address", address.c_str ());
      continue;
    }
    nice_agent_add_local_address (NICE_AGENT (agent.get ()), &nice);
  }
}

/* Uses the STUN/TURN servers a signaller learnt (a WHIP server's Link headers). */
static bool
apply_signaller_ice_servers (GstVoiceCall *self, GstElement *webrtc)
{
  vc::GstPtr<GstVoiceSignaller> signaller = current_signaller (self);
  if (!signaller || !GST_IS_VOICE_HTTP_CLIENT_SIGNALLER (signaller.get ()))
    return false;
  gchar **servers = nullptr;
  g_object_get (signaller.get (), "ice-servers", &servers, nullptr);
  vc::GUnique<gchar *> owned (servers);
  bool have_stun = false;
  for (gchar **url = servers; url && *url; url++) {
    if (g_str_has_prefix (*url, "stun") && !have_stun) {
      g_object_set (webrtc, "stun-server", *url, nullptr);
      have_stun = true;
    } else if (g_str_has_prefix (*url, "turn")) {
      gboolean ok = FALSE;
      g_signal_emit_by_name (webrtc, "add-turn-server", *url, &ok);
    }
    GST_INFO_OBJECT (self, "using ICE server %s from the signaller", *url);
  }
  return servers && *servers;
}

/* Accepts "stun:host:port" (RFC 7064) as well as webrtcbin's "stun://host:port". */
static std::string
webrtcbin_url (const std::string &url)
{
  for (const char *scheme : {"stun:", "turn:", "turns:"}) {
    size_t n = strlen (scheme);
    if (url.compare (0, n, scheme) == 0 && url.compare (n, 2, "//") != 0)
      return url.substr (0, n) + "//" + url.substr (n);
  }
  return url;
}

/* ---- adaptive audio (docs/adaptive.md) ----------------------------------------------- */

/* Receiver reports every ~1 s instead of RTP's 5-s minimum, so that the peer's adaptation
 * hears about loss and delay sooner. AVPF (RFC 4585, which WebRTC uses) drops that minimum;
 * what remains is RTCP's 5 % bandwidth share, about one report a second at voice bitrates. */
constexpr guint64 ADAPTIVE_RTCP_MIN_INTERVAL = GST_SECOND;

static void
on_new_jitterbuffer (GstElement *rtpbin, GstElement *jitterbuffer, guint session, guint ssrc,
    gpointer user_data)
{
  GstElement *rtpsession = nullptr;
  g_signal_emit_by_name (rtpbin, "get-session", session, &rtpsession);
  if (!rtpsession)
    return;
  g_object_set (rtpsession, "rtcp-min-interval", ADAPTIVE_RTCP_MIN_INTERVAL, nullptr);
  gst_object_unref (rtpsession);
}

/* Asks the upstream voicecapturebin what its encoder does (a custom query); false if nothing
 * upstream answers. */
static bool
query_encoder (GstVoiceCall *self, vc::adaptive::Encoder *e)
{
  vc::GstPtr<GstPad> sink = vc::adopt (gst_element_get_static_pad (GST_ELEMENT (self), "sink"));
  vc::GstPtr<GstQuery> query = vc::adopt (gst_query_new_custom (GST_QUERY_CUSTOM,
      gst_structure_new_empty (vc::adaptive::ENCODER_SETTINGS)));
  return gst_pad_peer_query (sink.get (), query.get ()) &&
      vc::adaptive::parse_encoder_structure (gst_query_get_structure (query.get ()), e);
}

/* Runs the session's controller on one interval's report and applies what changed: the
 * encoder (shared, so the most conservative of all sessions' wishes, sent upstream as a
 * custom event that voicecapturebin applies) and the session's jitter buffer. Control
 * thread. */
static void
adapt (GstVoiceCall *self, const std::shared_ptr<Session> &s, const vc::stats::Report &report,
    double interval_s)
{
  auto *priv = self->priv;
  const vc::adaptive::Config config = copy_settings (self).adaptive;
  if (!config.enabled)
    return; /* everything stays as it is */
  bool others_adapt = false;
  for (auto &kv : priv->sessions)
    others_adapt = others_adapt || (kv.second != s && kv.second->adapt);
  /* The first adapting session (of this call, or after the earlier ones ended) starts from
   * what the encoder does now: the user may have changed it between calls. */
  if (!s->adapt && !others_adapt) {
    vc::adaptive::Encoder e;
    priv->encoder.reset ();
    if (query_encoder (self, &e))
      priv->encoder = e;
    else if (!priv->encoder_asked)
      GST_INFO_OBJECT (self, "no voicecapturebin upstream answers: only the jitter buffers "
          "adapt");
    priv->encoder_asked = true;
  }
  if (!s->adapt) {
    vc::adaptive::Settings initial;
    if (priv->encoder)
      initial.encoder = *priv->encoder;
    initial.jitter_buffer_ms = s->jitter_buffer_ms;
    s->adapt = std::make_unique<vc::adaptive::Controller> (config, initial);
  }
  s->adapt->set_config (config);
  vc::adaptive::Decision d = s->adapt->update (report, interval_s);
  std::string reason = d.reason;

  bool encoder_changed = false;
  if (priv->encoder) {
    std::vector<vc::adaptive::Encoder> wishes;
    for (auto &kv : priv->sessions)
      if (kv.second->adapt)
        wishes.push_back (kv.second->adapt->settings ().encoder);
    vc::adaptive::Encoder applied = vc::adaptive::combine (wishes);
    if (applied != *priv->encoder) {
      if (applied != d.settings.encoder || reason.empty ())
        reason += std::string (reason.empty () ? "" : "; ") + "encoder: the most conservative "
            "of " + std::to_string (wishes.size ()) + " session(s)";
      vc::GstPtr<GstPad> sink = vc::adopt (gst_element_get_static_pad (GST_ELEMENT (self), "sink"));
      if (!gst_pad_push_event (sink.get (), gst_event_new_custom (GST_EVENT_CUSTOM_UPSTREAM,
              vc::adaptive::encoder_structure (applied))))
        GST_WARNING_OBJECT (self, "the encoder settings were not taken upstream");
      priv->encoder = applied;
      encoder_changed = true;
    }
  }
  if (d.jitter_buffer_changed) {
    /* webrtcbin hands its latency to rtpbin, which sets it on its jitter buffers (and on
     * those it makes later). */
    s->jitter_buffer_ms = d.settings.jitter_buffer_ms;
    g_object_set (s->webrtc, "latency", s->jitter_buffer_ms, nullptr);
  }
  if (!encoder_changed && !d.jitter_buffer_changed)
    return;

  GST_INFO_OBJECT (self, "session %s: %s", s->id.c_str (), reason.c_str ());
  GstStructure *st = gst_structure_new ("voicecall-adaptation", "session-id", G_TYPE_STRING,
      s->id.c_str (), "peer", G_TYPE_STRING, s->peer.c_str (), nullptr);
  if (priv->encoder)
    gst_structure_set (st, "bitrate", G_TYPE_INT, priv->encoder->bitrate, "fec", G_TYPE_BOOLEAN,
        priv->encoder->fec, "packet-loss-percentage", G_TYPE_INT,
        priv->encoder->packet_loss_percentage, nullptr);
  gst_structure_set (st, "jitter-buffer-ms", G_TYPE_INT, static_cast<gint> (s->jitter_buffer_ms),
      "reason", G_TYPE_STRING, reason.c_str (), nullptr);
  gst_element_post_message (GST_ELEMENT (self), gst_message_new_element (GST_OBJECT (self), st));
}

/* ---- sessions ----------------------------------------------------------------------- */

/* The codec we send and take: Opus; `pt` is the payload type to use (the offer's, when
 * answering: webrtcbin matches our transceiver to the offer by these caps, and otherwise
 * answers recvonly). useinbandfec=1 asks the peer for FEC. */
static vc::GstPtr<GstCaps>
codec_preferences (int pt)
{
  return vc::adopt (gst_caps_new_simple ("application/x-rtp", "media", G_TYPE_STRING, "audio",
      "encoding-name", G_TYPE_STRING, "OPUS", "clock-rate", G_TYPE_INT, 48000,
      "encoding-params", G_TYPE_STRING, "2", "payload", G_TYPE_INT, pt,
      "useinbandfec", G_TYPE_STRING, "1", nullptr));
}

static std::shared_ptr<Session>
create_session (GstVoiceCall *self, const std::string &id, const std::string &peer, bool offerer,
    int pt)
{
  auto *priv = self->priv;
  Settings settings = copy_settings (self);
  auto s = std::make_shared<Session> ();
  s->id = id;
  s->peer = peer;
  s->offerer = offerer;
  s->started_us = g_get_monotonic_time ();

  s->webrtc = vc::make_element (GST_ELEMENT (self), "webrtcbin", nullptr);
  s->queue = vc::make_element (GST_ELEMENT (self), "queue", nullptr);
  if (!s->webrtc || !s->queue)
    return nullptr;
  g_object_set_data_full (G_OBJECT (s->webrtc), "vc-session", g_strdup (id.c_str ()), g_free);
  gst_util_set_object_arg (G_OBJECT (s->webrtc), "bundle-policy", "max-bundle");
  g_object_set (s->webrtc, "latency", settings.latency, nullptr);
  if (!settings.stun_server.empty ())
    g_object_set (s->webrtc, "stun-server", webrtcbin_url (settings.stun_server).c_str (), nullptr);
  if (!settings.turn_server.empty ())
    g_object_set (s->webrtc, "turn-server", webrtcbin_url (settings.turn_server).c_str (), nullptr);
  if (settings.stun_server.empty () && settings.turn_server.empty ())
    s->host_only = !apply_signaller_ice_servers (self, s->webrtc);
  g_object_set (s->webrtc, "ice-transport-policy", settings.ice_transport_policy, nullptr);
  apply_ice_addresses (self, s->webrtc, settings.ice_addresses);
  /* Gaps become loss events, so that opusdec conceals them (PLC / FEC). */
  if (GstElement *rtpbin = gst_bin_get_by_name (GST_BIN (s->webrtc), "rtpbin")) {
    g_object_set (rtpbin, "do-lost", TRUE, nullptr);
    if (settings.adaptive.enabled)
      g_signal_connect (rtpbin, "new-jitterbuffer", G_CALLBACK (on_new_jitterbuffer), nullptr);
    gst_object_unref (rtpbin);
  }
  s->jitter_buffer_ms = settings.latency;
  /* A leaky queue: a stalled session never holds back the others or the capture. */
  g_object_set (s->queue, "max-size-buffers", 0, "max-size-bytes", 0, "max-size-time",
      static_cast<guint64> (200 * GST_MSECOND), nullptr);
  gst_util_set_object_arg (G_OBJECT (s->queue), "leaky", "downstream");

  g_signal_connect (s->webrtc, "on-negotiation-needed", G_CALLBACK (on_negotiation_needed), self);
  g_signal_connect (s->webrtc, "on-ice-candidate", G_CALLBACK (on_ice_candidate), self);
  g_signal_connect (s->webrtc, "notify::ice-gathering-state", G_CALLBACK (on_gathering_state), self);
  g_signal_connect (s->webrtc, "notify::connection-state", G_CALLBACK (on_connection_state), self);
  g_signal_connect (s->webrtc, "pad-added", G_CALLBACK (on_webrtc_pad_added), self);

  gst_bin_add_many (GST_BIN (self), s->queue, s->webrtc, nullptr);
  /* This bin is a filter to its parent: its webrtcbins' sources and sinks are not the
   * pipeline's (their EOS is not the pipeline's EOS). */
  GST_OBJECT_FLAG_UNSET (self, GST_ELEMENT_FLAG_SINK | GST_ELEMENT_FLAG_SOURCE);

  vc::GstPtr<GstPad> queue_src = vc::adopt (gst_element_get_static_pad (s->queue, "src"));
  gst_pad_add_probe (queue_src.get (), static_cast<GstPadProbeType> (GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM), payload_type_probe, s.get (), nullptr);
  vc::GstPtr<GstPad> webrtc_sink = vc::adopt (gst_element_request_pad_simple (s->webrtc, "sink_%u"));
  gst_pad_link (queue_src.get (), webrtc_sink.get ());
  s->send_pt = pt;
  GstWebRTCRTPTransceiver *trans = nullptr;
  g_object_get (webrtc_sink.get (), "transceiver", &trans, nullptr);
  if (trans) {
    g_object_set (trans, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV,
        "codec-preferences", codec_preferences (pt).get (), nullptr);
    gst_object_unref (trans);
  }

  /* A session's elements follow the session, not the pipeline's state changes: the control
   * thread alone starts and stops them. Otherwise a hang-up that stops a webrtcbin while the
   * pipeline changes state deadlocks (the bin waits for the webrtcbin's state lock, whose
   * streaming thread waits in a synchronised sink's preroll until the bin goes on). */
  for (GstElement *e : {s->queue, s->webrtc}) {
    gst_element_set_locked_state (e, TRUE);
    if (GstClock *clock = GST_ELEMENT_CLOCK (self))
      gst_element_set_clock (e, clock);
    gst_element_set_base_time (e, gst_element_get_base_time (GST_ELEMENT (self)));
    gst_element_set_start_time (e, GST_CLOCK_TIME_NONE);
    gst_element_set_state (e, GST_STATE_PLAYING);
  }

  s->tee_pad = vc::adopt (gst_element_request_pad_simple (priv->tee, "src_%u"));
  vc::GstPtr<GstPad> queue_sink = vc::adopt (gst_element_get_static_pad (s->queue, "sink"));
  gst_pad_link (s->tee_pad.get (), queue_sink.get ());

  priv->sessions[id] = s;
  GValue v = G_VALUE_INIT;
  g_value_init (&v, G_TYPE_STRING);
  g_value_set_string (&v, offerer ? "caller" : "callee");
  post_session_message (self, "voicecall-session-started", *s, "role", &v);
  g_value_unset (&v);
  return s;
}

/* ---- statistics ---------------------------------------------------------------------- */

static void
on_stats (GstVoiceCall *self, const std::shared_ptr<Session> &s, const GstStructure *reply)
{
  vc::stats::Sample sample;
  if (!reply || !vc::stats::parse (reply, &sample))
    return;
  if (s->have_stats) {
    auto report = vc::stats::report (s->last_stats, sample, s->jitter_buffer_ms);
    GstStructure *st = vc::stats::to_structure (report, sample);
    gst_structure_set (st, "session-id", G_TYPE_STRING, s->id.c_str (), "peer", G_TYPE_STRING,
        s->peer.c_str (), nullptr);
    gst_element_post_message (GST_ELEMENT (self), gst_message_new_element (GST_OBJECT (self), st));
    adapt (self, s, report, sample.time_s - s->last_stats.time_s);
  }
  s->last_stats = sample;
  s->have_stats = true;
}

/* Every stats-interval ms, each session's statistics become a voicecall-stats message. */
static void
schedule_stats (GstVoiceCall *self)
{
  auto *priv = self->priv;
  guint interval = copy_settings (self).stats_interval;
  if (interval == 0 || !priv->running)
    return;
  priv->stats_timer = priv->ctl->timeout (interval, [self] {
    auto *priv = self->priv;
    priv->stats_timer = 0;
    for (auto &kv : priv->sessions)
      g_signal_emit_by_name (kv.second->webrtc, "get-stats", nullptr,
          make_promise (self, kv.first, "reading statistics", on_stats));
    schedule_stats (self);
  });
}

/* ---- signaller callbacks (any thread) ------------------------------------------------ */

static void
on_session_requested (GstVoiceSignaller *signaller, const gchar *session_id, const gchar *peer,
    GstWebRTCSessionDescription *offer, gpointer user_data)
{
  auto *self = GST_VOICE_CALL (user_data);
  std::string id = session_id, from = peer ? peer : "";
  std::shared_ptr<GstWebRTCSessionDescription> remote;
  if (offer)
    remote.reset (gst_webrtc_session_description_copy (offer), gst_webrtc_session_description_free);
  in_control (self, [id, from, remote] (GstVoiceCall *self) {
    if (!self->priv->running || find_session (self, id))
      return;
    GST_INFO_OBJECT (self, "session %s requested by %s (%s)", id.c_str (), from.c_str (),
        remote ? "with an offer" : "we offer");
    /* Answering: send with the offer's Opus payload type. */
    int pt = DEFAULT_PAYLOAD_TYPE;
    if (remote) {
      int media = vc::sdp::first_audio_media (remote->sdp);
      pt = media >= 0 ? vc::sdp::opus_payload (remote->sdp, media) : -1;
      if (pt < 0) {
        std::string why = "the offer has no Opus audio (opus/48000/2): nothing in common";
        GST_ELEMENT_WARNING (self, STREAM, CODEC_NOT_FOUND, ("Call %s from %s refused: %s",
            id.c_str (), from.c_str (), why.c_str ()), (nullptr));
        if (auto signaller = current_signaller (self))
          gst_voice_signaller_end_session (signaller.get (), id.c_str (), why.c_str ());
        return;
      }
    }
    auto s = create_session (self, id, from, !remote, pt);
    if (!s)
      return;
    if (!remote)
      self->priv->client = true; /* we called: the call is over when this session ends */
    if (remote)
      g_signal_emit_by_name (s->webrtc, "set-remote-description", remote.get (),
          make_promise (self, id, "applying the offer", on_offer_set));
  });
}

static void
on_session_description (GstVoiceSignaller *signaller, const gchar *session_id,
    GstWebRTCSessionDescription *answer, gpointer user_data)
{
  auto *self = GST_VOICE_CALL (user_data);
  std::string id = session_id;
  std::shared_ptr<GstWebRTCSessionDescription> remote (gst_webrtc_session_description_copy (answer),
      gst_webrtc_session_description_free);
  in_control (self, [id, remote] (GstVoiceCall *self) {
    auto s = find_session (self, id);
    if (!s)
      return;
    g_signal_emit_by_name (s->webrtc, "set-remote-description", remote.get (),
        make_promise (self, id, "applying the answer", on_answer_set));
  });
}

static void
on_handle_ice (GstVoiceSignaller *signaller, const gchar *session_id, guint mline,
    const gchar *candidate, gpointer user_data)
{
  auto *self = GST_VOICE_CALL (user_data);
  if (!candidate || !*candidate)
    return;
  std::string id = session_id, cand = candidate;
  in_control (self, [id, mline, cand] (GstVoiceCall *self) {
    if (auto s = find_session (self, id))
      g_signal_emit_by_name (s->webrtc, "add-ice-candidate", mline, cand.c_str ());
  });
}

static void
on_session_ended (GstVoiceSignaller *signaller, const gchar *session_id, gpointer user_data)
{
  auto *self = GST_VOICE_CALL (user_data);
  std::string id = session_id;
  in_control (self, [id] (GstVoiceCall *self) { remove_session (self, id, "remote hang-up", false); });
}

static void
on_signaller_error (GstVoiceSignaller *signaller, const gchar *session_id, const gchar *message,
    gpointer user_data)
{
  auto *self = GST_VOICE_CALL (user_data);
  std::string msg = message ? message : "unknown signalling error";
  if (session_id) {
    std::string id = session_id;
    in_control (self, [id, msg] (GstVoiceCall *self) {
      if (!find_session (self, id))
        return;
      GST_ELEMENT_WARNING (self, RESOURCE, FAILED, ("Call %s: %s", id.c_str (), msg.c_str ()),
          (nullptr));
      remove_session (self, id, msg.c_str (), false);
    });
    return;
  }
  GST_ELEMENT_ERROR (self, RESOURCE, FAILED, ("%s", msg.c_str ()), (nullptr));
}

/* ---- state --------------------------------------------------------------------------- */

static void
connect_signaller (GstVoiceCall *self, GstVoiceSignaller *signaller)
{
  auto &h = self->priv->signaller_handlers;
  h.push_back (g_signal_connect (signaller, "session-requested", G_CALLBACK (on_session_requested), self));
  h.push_back (g_signal_connect (signaller, "session-description", G_CALLBACK (on_session_description), self));
  h.push_back (g_signal_connect (signaller, "handle-ice", G_CALLBACK (on_handle_ice), self));
  h.push_back (g_signal_connect (signaller, "session-ended", G_CALLBACK (on_session_ended), self));
  h.push_back (g_signal_connect (signaller, "error", G_CALLBACK (on_signaller_error), self));
}

static void
disconnect_signaller (GstVoiceCall *self, GstVoiceSignaller *signaller)
{
  for (gulong id : self->priv->signaller_handlers)
    g_signal_handler_disconnect (signaller, id);
  self->priv->signaller_handlers.clear ();
}

/* A server tells its callers (Link headers) about our STUN/TURN servers, unless it was given
 * a list of its own. */
static void
advertise_ice_servers (GstVoiceCall *self, GstVoiceSignaller *server)
{
  Settings settings = copy_settings (self);
  gchar **current = nullptr;
  g_object_get (server, "ice-servers", &current, nullptr);
  vc::GUnique<gchar *> owned (current);
  if (current && *current)
    return;
  std::vector<const gchar *> list;
  if (!settings.stun_server.empty ())
    list.push_back (settings.stun_server.c_str ());
  if (!settings.turn_server.empty ())
    list.push_back (settings.turn_server.c_str ());
  if (list.empty ())
    return;
  list.push_back (nullptr);
  g_object_set (server, "ice-servers", list.data (), nullptr);
}

static bool
start (GstVoiceCall *self)
{
  auto *priv = self->priv;
  vc::GstPtr<GstVoiceSignaller> signaller = current_signaller (self);
  if (!signaller) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
        ("voicecall has nothing to call with: set url= to call a callee, listen= to answer "
            "calls, or the signaller property."), (nullptr));
    return false;
  }
  priv->ctl->invoke_sync ([self] {
    self->priv->running = true;
    self->priv->eos_sent = false;
    self->priv->client = false; /* until this run offers a session */
    schedule_stats (self);
  });
  if (GST_IS_VOICE_HTTP_SERVER_SIGNALLER (signaller.get ()))
    advertise_ice_servers (self, signaller.get ());
  connect_signaller (self, signaller.get ());
  vc::GUnique<GError> err;
  if (!gst_voice_signaller_start (signaller.get (), vc::out (err))) {
    disconnect_signaller (self, signaller.get ());
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ_WRITE, ("%s", err ? err->message :
        "the signaller failed to start"), (nullptr));
    return false;
  }
  return true;
}

static void
stop (GstVoiceCall *self)
{
  auto *priv = self->priv;
  vc::GstPtr<GstVoiceSignaller> signaller = current_signaller (self);
  priv->ctl->invoke_sync ([self] {
    self->priv->running = false;
    self->priv->ctl->cancel (std::exchange (self->priv->stats_timer, 0));
    remove_all_sessions (self, "stopped", true);
  });
  if (signaller) {
    gst_voice_signaller_stop (signaller.get ());
    disconnect_signaller (self, signaller.get ());
  }
}

static GstStateChangeReturn
gst_voice_call_change_state (GstElement *element, GstStateChange transition)
{
  auto *self = GST_VOICE_CALL (element);
  if (!self->priv->tee)
    return GST_STATE_CHANGE_FAILURE; /* a missing plugin was reported in init */

  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED && !start (self))
    return GST_STATE_CHANGE_FAILURE;
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    stop (self);

  GstStateChangeReturn ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE && transition == GST_STATE_CHANGE_READY_TO_PAUSED)
    stop (self);
  /* Sessions come and go with the network: never wait for their preroll. */
  if (ret == GST_STATE_CHANGE_SUCCESS && transition == GST_STATE_CHANGE_READY_TO_PAUSED)
    ret = GST_STATE_CHANGE_NO_PREROLL;
  return ret;
}

/* EOS from upstream: hang up every session, then end our own stream. */
static GstPadProbeReturn
sink_eos_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  auto *self = GST_VOICE_CALL (user_data);
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  if (GST_EVENT_TYPE (event) != GST_EVENT_EOS)
    return GST_PAD_PROBE_OK;
  GST_INFO_OBJECT (self, "EOS: hanging up");
  in_control (self, [] (GstVoiceCall *self) {
    remove_all_sessions (self, "local hang-up", true);
    push_eos_downstream (self);
  });
  return GST_PAD_PROBE_DROP;
}

static void
gst_voice_call_handle_message (GstBin *bin, GstMessage *message)
{
  /* The webrtcbins' EOS is not ours (see push_eos_downstream). */
  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_EOS) {
    gst_message_unref (message);
    return;
  }
  GST_BIN_CLASS (parent_class)->handle_message (bin, message);
}

/* ---- properties ---------------------------------------------------------------------- */

static void
gst_voice_call_set_property (GObject *object, guint prop_id, const GValue *value,
    GParamSpec *pspec)
{
  auto *self = GST_VOICE_CALL (object);
  auto *priv = self->priv;
  std::lock_guard<std::mutex> lk (priv->lock);

  switch (prop_id) {
    case PROP_SIGNALLER:
      priv->signaller = vc::ref (GST_VOICE_SIGNALLER (g_value_get_object (value)));
      break;
    case PROP_STUN_SERVER:
      priv->settings.stun_server = g_value_get_string (value) ? g_value_get_string (value) : "";
      break;
    case PROP_TURN_SERVER:
      priv->settings.turn_server = g_value_get_string (value) ? g_value_get_string (value) : "";
      break;
    case PROP_LATENCY:
      priv->settings.latency = g_value_get_uint (value);
      break;
    case PROP_ADAPTIVE:
      priv->settings.adaptive.enabled = g_value_get_boolean (value);
      break;
    case PROP_MIN_BITRATE:
      priv->settings.adaptive.min_bitrate = g_value_get_int (value);
      break;
    case PROP_MAX_BITRATE:
      priv->settings.adaptive.max_bitrate = g_value_get_int (value);
      break;
    case PROP_MIN_LATENCY:
      priv->settings.adaptive.min_latency_ms = g_value_get_uint (value);
      break;
    case PROP_MAX_LATENCY:
      priv->settings.adaptive.max_latency_ms = g_value_get_uint (value);
      break;
    case PROP_ICE_ADDRESSES:
      priv->settings.ice_addresses = g_value_get_string (value) ? g_value_get_string (value) : "";
      break;
    case PROP_STATS_INTERVAL:
      priv->settings.stats_interval = g_value_get_uint (value);
      break;
    case PROP_ICE_TRANSPORT_POLICY:
      priv->settings.ice_transport_policy =
          static_cast<GstWebRTCICETransportPolicy> (g_value_get_enum (value));
      break;
    case PROP_URL: {
      const gchar *url = g_value_get_string (value);
      priv->settings.url = url ? url : "";
      if (url && *url) {
        auto *client = gst_voice_http_client_signaller_new ();
        g_object_set (client, "url", url, nullptr);
        priv->signaller = vc::adopt (GST_VOICE_SIGNALLER (client));
        priv->settings.listen.clear ();
      }
      break;
    }
    case PROP_LISTEN: {
      const gchar *listen = g_value_get_string (value);
      priv->settings.listen = listen ? listen : "";
      if (listen && *listen) {
        auto *server = gst_voice_http_server_signaller_new ();
        g_object_set (server, "listen", listen, "serve-page", TRUE, nullptr);
        priv->signaller = vc::adopt (GST_VOICE_SIGNALLER (server));
        priv->settings.url.clear ();
      }
      break;
    }
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
}

static void
gst_voice_call_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  auto *self = GST_VOICE_CALL (object);
  auto *priv = self->priv;
  std::lock_guard<std::mutex> lk (priv->lock);

  switch (prop_id) {
    case PROP_SIGNALLER:
      g_value_set_object (value, priv->signaller.get ());
      break;
    case PROP_STUN_SERVER:
      g_value_set_string (value, priv->settings.stun_server.c_str ());
      break;
    case PROP_TURN_SERVER:
      g_value_set_string (value, priv->settings.turn_server.c_str ());
      break;
    case PROP_LATENCY:
      g_value_set_uint (value, priv->settings.latency);
      break;
    case PROP_ADAPTIVE:
      g_value_set_boolean (value, priv->settings.adaptive.enabled);
      break;
    case PROP_MIN_BITRATE:
      g_value_set_int (value, priv->settings.adaptive.min_bitrate);
      break;
    case PROP_MAX_BITRATE:
      g_value_set_int (value, priv->settings.adaptive.max_bitrate);
      break;
    case PROP_MIN_LATENCY:
      g_value_set_uint (value, priv->settings.adaptive.min_latency_ms);
      break;
    case PROP_MAX_LATENCY:
      g_value_set_uint (value, priv->settings.adaptive.max_latency_ms);
      break;
    case PROP_ICE_ADDRESSES:
      g_value_set_string (value, priv->settings.ice_addresses.c_str ());
      break;
    case PROP_STATS_INTERVAL:
      g_value_set_uint (value, priv->settings.stats_interval);
      break;
    case PROP_ICE_TRANSPORT_POLICY:
      g_value_set_enum (value, priv->settings.ice_transport_policy);
      break;
    case PROP_URL:
      g_value_set_string (value, priv->settings.url.empty () ? nullptr : priv->settings.url.c_str ());
      break;
    case PROP_LISTEN:
      g_value_set_string (value,
          priv->settings.listen.empty () ? nullptr : priv->settings.listen.c_str ());
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
}

/* ---- GstChildProxy: "signaller::prop=value" ------------------------------------------ */

static GstChildProxyInterface *parent_child_proxy_iface;

static GObject *
gst_voice_call_child_proxy_get_child_by_name (GstChildProxy *proxy, const gchar *name)
{
  auto *self = GST_VOICE_CALL (proxy);
  if (g_strcmp0 (name, "signaller") == 0) {
    std::lock_guard<std::mutex> lk (self->priv->lock);
    return self->priv->signaller ? G_OBJECT (vc::ref (self->priv->signaller.get ()).release ())
                                 : nullptr;
  }
  return parent_child_proxy_iface->get_child_by_name (proxy, name);
}

/* The signaller, when there is one, is child 0; the bin's children follow. */
static GObject *
gst_voice_call_child_proxy_get_child_by_index (GstChildProxy *proxy, guint index)
{
  auto *self = GST_VOICE_CALL (proxy);
  {
    std::lock_guard<std::mutex> lk (self->priv->lock);
    if (self->priv->signaller) {
      if (index == 0)
        return G_OBJECT (vc::ref (self->priv->signaller.get ()).release ());
      index--;
    }
  }
  return parent_child_proxy_iface->get_child_by_index (proxy, index);
}

static guint
gst_voice_call_child_proxy_get_children_count (GstChildProxy *proxy)
{
  auto *self = GST_VOICE_CALL (proxy);
  guint signallers;
  {
    std::lock_guard<std::mutex> lk (self->priv->lock);
    signallers = self->priv->signaller ? 1 : 0;
  }
  return signallers + parent_child_proxy_iface->get_children_count (proxy);
}

static void
gst_voice_call_child_proxy_init (GstChildProxyInterface *iface)
{
  parent_child_proxy_iface = static_cast<GstChildProxyInterface *> (
      g_type_interface_peek_parent (iface));
  iface->get_child_by_name = gst_voice_call_child_proxy_get_child_by_name;
  iface->get_child_by_index = gst_voice_call_child_proxy_get_child_by_index;
  iface->get_children_count = gst_voice_call_child_proxy_get_children_count;
}

/* ---- GObject ------------------------------------------------------------------------- */

static void
gst_voice_call_init (GstVoiceCall *self)
{
  self->priv = new GstVoiceCallPrivate ();
  auto *priv = self->priv;
  auto *element = GST_ELEMENT (self);
  priv->ctl = std::make_shared<vc::ContextThread> ("voicecall-ctl");

  GstElement *tee = vc::make_element (element, "tee", "input");
  GstElement *selector = vc::make_element (element, "input-selector", "output");
  if (!tee || !selector)
    return;
  g_object_set (tee, "allow-not-linked", TRUE, nullptr);
  g_object_set (selector, "sync-streams", FALSE, nullptr);
  gst_bin_add_many (GST_BIN (self), tee, selector, nullptr);
  priv->tee = tee;
  priv->selector = selector;

  GstPad *sink = vc::add_ghost_pad (element, "sink", tee, "sink",
      gst_static_pad_template_get (&sink_template));
  gst_pad_add_probe (sink, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, sink_eos_probe, self, nullptr);
  vc::add_ghost_pad (element, "src", selector, "src", gst_static_pad_template_get (&src_template));
}

static void
gst_voice_call_finalize (GObject *object)
{
  delete GST_VOICE_CALL (object)->priv;
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_voice_call_class_init (GstVoiceCallClass *klass)
{
  auto *gobject_class = G_OBJECT_CLASS (klass);
  auto *element_class = GST_ELEMENT_CLASS (klass);
  const auto flags = static_cast<GParamFlags> (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY);

  gobject_class->finalize = gst_voice_call_finalize;
  gobject_class->set_property = gst_voice_call_set_property;
  gobject_class->get_property = gst_voice_call_get_property;
  element_class->change_state = gst_voice_call_change_state;
  GST_BIN_CLASS (klass)->handle_message = gst_voice_call_handle_message;

  g_object_class_install_property (gobject_class, PROP_SIGNALLER,
      g_param_spec_object ("signaller", "Signaller",
          "What carries SDP and ICE candidates to the peer (set by url=/listen=, or any "
          "GstVoiceSignaller); its properties are reachable as signaller::name=value",
          GST_TYPE_VOICE_SIGNALLER, flags));
  g_object_class_install_property (gobject_class, PROP_URL,
      g_param_spec_string ("url", "URL",
          "Call this callee: an HTTP endpoint taking offers, e.g. http://host:8080/call (WHIP; "
          "signaller::protocol=json for the aiortc /offer protocol). Creates the signaller.",
          nullptr, flags));
  g_object_class_install_property (gobject_class, PROP_LISTEN,
      g_param_spec_string ("listen", "Listen",
          "Answer calls on ADDR:PORT over HTTP (WHIP and JSON at /call and /offer, the browser "
          "page at /; signaller::serve-page=false to turn it off). Creates the signaller.",
          nullptr, flags));
  g_object_class_install_property (gobject_class, PROP_STUN_SERVER,
      g_param_spec_string ("stun-server", "STUN server",
          "STUN server to learn our public address, stun:host:port (RFC 7064) or "
          "stun://host:port", nullptr, flags));
  g_object_class_install_property (gobject_class, PROP_TURN_SERVER,
      g_param_spec_string ("turn-server", "TURN server",
          "TURN relay for when no direct path exists, turn://user:password@host:port "
          "(add ?transport=tcp for TCP)", nullptr, flags));
  g_object_class_install_property (gobject_class, PROP_LATENCY,
      g_param_spec_uint ("latency", "Jitter buffer latency",
          "Jitter buffer of the received audio, in ms (default 60: three 20 ms packets); with "
          "adaptive=true the starting value, which then follows the measured jitter",
          0, 2000, DEFAULT_LATENCY, flags));
  const auto playing_flags = static_cast<GParamFlags> (G_PARAM_READWRITE |
      G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  g_object_class_install_property (gobject_class, PROP_ADAPTIVE,
      g_param_spec_boolean ("adaptive", "Adaptive audio",
          "Adapt to the network from RTCP feedback: the upstream voicecapturebin's Opus bitrate "
          "(min-bitrate..max-bitrate), FEC and expected loss, and each jitter buffer's latency "
          "(min-latency..max-latency); posts voicecall-adaptation messages. false: leave them "
          "as set", TRUE, playing_flags));
  g_object_class_install_property (gobject_class, PROP_MIN_BITRATE,
      g_param_spec_int ("min-bitrate", "Minimum bitrate",
          "adaptive: the lowest Opus bitrate to go down to on a congested path, in bit/s",
          6000, 510000, vc::adaptive::DEFAULT_MIN_BITRATE, playing_flags));
  g_object_class_install_property (gobject_class, PROP_MAX_BITRATE,
      g_param_spec_int ("max-bitrate", "Maximum bitrate",
          "adaptive: the highest Opus bitrate to go up to on a clean path, in bit/s",
          6000, 510000, vc::adaptive::DEFAULT_MAX_BITRATE, playing_flags));
  g_object_class_install_property (gobject_class, PROP_MIN_LATENCY,
      g_param_spec_uint ("min-latency", "Minimum jitter buffer latency",
          "adaptive: the jitter buffer never gets shorter than this, in ms", 0, 2000,
          vc::adaptive::DEFAULT_MIN_LATENCY, playing_flags));
  g_object_class_install_property (gobject_class, PROP_MAX_LATENCY,
      g_param_spec_uint ("max-latency", "Maximum jitter buffer latency",
          "adaptive: the jitter buffer never gets longer than this, in ms", 0, 2000,
          vc::adaptive::DEFAULT_MAX_LATENCY, playing_flags));
  g_object_class_install_property (gobject_class, PROP_ICE_ADDRESSES,
      g_param_spec_string ("ice-addresses", "ICE addresses",
          "Comma-separated local IP addresses to use for ICE, e.g. 127.0.0.1 to call on this "
          "machine (libnice skips loopback otherwise). Empty: every interface but loopback.",
          nullptr, flags));
  g_object_class_install_property (gobject_class, PROP_STATS_INTERVAL,
      g_param_spec_uint ("stats-interval", "Statistics interval",
          "Every this many ms, post a voicecall-stats element message per session (RTT, loss, "
          "jitter, bitrates, concealment, MOS estimate); 0: never", 0, 60000,
          DEFAULT_STATS_INTERVAL, flags));
  g_object_class_install_property (gobject_class, PROP_ICE_TRANSPORT_POLICY,
      g_param_spec_enum ("ice-transport-policy", "ICE transport policy",
          "Which candidates ICE may use: all, or relay (only through turn-server, e.g. to hide "
          "our addresses from the peer)", GST_TYPE_WEBRTC_ICE_TRANSPORT_POLICY,
          GST_WEBRTC_ICE_TRANSPORT_POLICY_ALL, flags));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "Voice call", "Filter/Network/WebRTC",
      "A two-way WebRTC voice call: sends the Opus RTP it receives and outputs the far "
      "end's, with SDP offer/answer over a signaller (HTTP WHIP/JSON or in-process)",
      "gst-voicecall developers");
}
