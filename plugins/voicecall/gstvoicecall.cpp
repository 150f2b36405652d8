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
 * first caller's audio, and when that caller hangs up, the next one's (mix=first, the
 * default). mix=all makes a conference (one voicemixer, one thread): each caller's audio is
 * decoded once (adaptive jitter handling, as voiceplayout), each caller hears our audio and
 * every other caller mixed
 * (never itself; callers who are not speaking share one encode of the full mix), and the
 * src pad carries every caller mixed, as Opus RTP
 * (docs/design.md, "Conference mixing"); action signals `set-participant-gain` and
 * `set-participant-mute` (session-id, value) change what the others hear of one caller.
 *
 * Bus messages (element messages from this element):
 *  - `voicecall-session-started`: session-id (string), peer (string), role ("caller"/"callee")
 *  - `voicecall-first-audio`: session-id, peer, setup-ms (double: session start → first audio)
 *  - `voicecall-setup` (with the first audio): session-id, peer, role, and each step of the
 *    setup in ms from the session's start (doubles, absent if it did not happen):
 *    offer-created-ms / offer-received-ms, answer-received-ms / answer-sent-ms,
 *    first-local-candidate-ms, ice-checking-ms, ice-connected-ms, connected-ms (DTLS up),
 *    first-rtp-sent-ms, first-rtp-received-ms, first-audio-ms
 *  - `voicecall-session-state`: session-id, peer, state ("connecting", "connected",
 *    "ended"); connected: local-/remote-candidate-type (host, srflx, prflx, relay); ended:
 *    reason ("local hang-up", "remote hang-up", "timeout", "ice failed", "refused",
 *    "error"), detail (string), duration-ms (guint64, connected → ended, 0 if never)
 *  - `voicecall-session-ended`: session-id, peer, reason (as above), detail
 *  - `voicecall-stats` (every stats-interval ms): session-id, peer, rtt-ms, fraction-lost,
 *    remote-fraction-lost, cumulative-lost, jitter-ms, send-kbps, receive-kbps,
 *    concealed-ratio, mos, packets-sent, packets-received, local-/remote-candidate-type,
 *    muted, held (see docs/stats.md)
 *  - `voicecall-control` (a call's mute or hold changed): session-id, peer, muted, held
 *  - `voicecall-dtmf` (a DTMF digit received, RFC 4733): session-id, peer, digit (string),
 *    event (int 0-15), duration-ms (uint), volume (int, dBm0)
 *  - `voicecall-active-speaker` (mix=all, when it changes): session-id ("" for nobody), peer,
 *    level-db (the loudest caller above -45 dBFS over 200 ms, not muted)
 *  - `voicecall-level` (mix=all, every stats-interval ms): session-id, peer, rms-db, peak-db
 *    (what the caller says, before its gain), speaking, muted, gain
 *  - `voicecall-adaptation` (adaptive=true, whenever something changes): session-id, peer,
 *    bitrate, fec, packet-loss-percentage (what the shared encoder now does; absent without a
 *    voicecapturebin upstream), jitter-buffer-ms (this session's), reason (string)
 *  - whatever the signaller's "message" signal carries, as it is, with session-id (e.g. a
 *    conference server's room events: participants joined, left, talking)
 *
 * Adaptive audio (adaptive=true, the default): every stats-interval each session's RTCP
 * feedback sets the upstream voicecapturebin's Opus bitrate (within min-bitrate..max-bitrate,
 * the most conservative of all sessions), in-band FEC and packet-loss-percentage, and the
 * session's jitter buffer follows the measured jitter (within min-latency..max-latency,
 * starting at latency). See docs/adaptive.md.
 *
 * Call control (docs/elements/voicecall.md): action signals `hang-up` (session-id or NULL),
 * `set-mute` / `set-hold` (session-id or NULL, gboolean), `send-dtmf` (session-id or NULL,
 * digits, duration-ms); properties `mute` and `hold` for every call; signal `incoming-call`
 * (session-id, peer, headers) whose FALSE refuses a call with HTTP 403.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 voicecapturebin ! voicecall listen=0.0.0.0:8080 ! voiceplaybackbin
 * gst-launch-1.0 voicecapturebin ! voicecall url=http://HOST:8080/call ! voiceplaybackbin
 * gst-launch-1.0 voicecapturebin ! voicecall url="janus://HOST:8088/janus?room=1234&display=alice" ! voiceplaybackbin
 * ]|
 */
#include "gstvoicecall.h"

#include "adaptive.h"
#include "binutil.h"
#include "callcontrol.h"
#include "callsession.h"
#include "callstats.h"
#include "conference.h"
#include "contextthread.h"
#include "dtlskeycache.h"
#include "gstptr.h"
#include "sdputil.h"
#include "signaller.h"
#include "signallerfactory.h"

#include <gst/webrtc/webrtc.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
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
  PROP_PEER_TIMEOUT,
  PROP_CONNECT_TIMEOUT,
  PROP_MUTE,
  PROP_HOLD,
  PROP_MIX,
};

enum {
  SIGNAL_INCOMING_CALL,
  SIGNAL_HANG_UP,
  SIGNAL_SET_MUTE,
  SIGNAL_SET_HOLD,
  SIGNAL_SEND_DTMF,
  SIGNAL_SET_PARTICIPANT_GAIN,
  SIGNAL_SET_PARTICIPANT_MUTE,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

/* What our caller offers for DTMF: telephone-event at Opus's clock rate (browsers offer it at
 * 48000 and 8000 Hz, and send it at their audio codec's rate). */
constexpr int DEFAULT_TELEPHONE_EVENT_PT = 101;
constexpr guint DEFAULT_DTMF_DURATION_MS = 100;

/* 60 ms: three 20 ms Opus frames. Enough for the jitter of a LAN or a good internet path,
 * about what browsers' adaptive jitter buffers settle at on such paths, and a third of
 * webrtcbin's 200 ms default, which is audible as delay in conversation. */
constexpr guint DEFAULT_LATENCY = 60;
constexpr guint DEFAULT_STATS_INTERVAL = 1000;
constexpr int DEFAULT_PAYLOAD_TYPE = 96; /* what voicecapturebin's payloader uses */
constexpr guint HOST_CANDIDATES_QUIET_MS = 50;
/* No RTP or RTCP for this long from a connected peer: it is gone. Opus DTX still sends a
 * packet every 400 ms and RTCP comes about every second, so 5 s is a dozen missed packets
 * and a few missed reports, not a pause in speech. */
constexpr guint DEFAULT_PEER_TIMEOUT = 5000;
/* A call that has not started (ICE, DTLS and the peer's first packet) this long after it
 * began never will. Not less: with 10 % loss DTLS retransmits its flights after 1, 2, 4 s...
 * and a call through the lab's lossy link was seen still starting after 10 s; browsers give
 * ICE about as long before they call it failed. */
constexpr guint DEFAULT_CONNECT_TIMEOUT = 30000;
/* How long stopping waits for the sessions' RTCP BYEs to leave. */
constexpr guint STOP_BYE_WAIT_MS = 300;
constexpr const char *OPUS_CAPS = "application/x-rtp, media=(string)audio, "
                                  "encoding-name=(string)OPUS, clock-rate=(int)48000";

/* mix=all: how often the participants' levels are read for the active speaker and for who
 * gets a mix of their own (vc::Conference::SPEAKING_DB: speaking). */
constexpr guint LEVEL_INTERVAL_MS = 200;

/* What the src pad carries and what each caller hears (voicecall's mix property). */
enum GstVoiceCallMix { GST_VOICE_CALL_MIX_FIRST, GST_VOICE_CALL_MIX_ALL };
constexpr GstVoiceCallMix DEFAULT_MIX = GST_VOICE_CALL_MIX_FIRST;

static GType
gst_voice_call_mix_get_type ()
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_VOICE_CALL_MIX_FIRST, "The src pad carries the first caller (then the next); every "
        "caller hears only us", "first"},
    {GST_VOICE_CALL_MIX_ALL, "Conference: the src pad carries every caller mixed; each caller "
        "hears us and every other caller (never itself)", "all"},
    {0, nullptr, nullptr}};
  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstVoiceCallMix", values));
  return type;
}

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink", GST_PAD_SINK,
    GST_PAD_ALWAYS, GST_STATIC_CAPS (OPUS_CAPS));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src", GST_PAD_SRC,
    GST_PAD_ALWAYS, GST_STATIC_CAPS (OPUS_CAPS));

namespace {

struct Settings {
  std::string stun_server;
  std::string turn_server;
  guint latency = DEFAULT_LATENCY;
  vc::adaptive::Config adaptive; /* adaptive, min-/max-bitrate, min-/max-latency */
  std::string ice_addresses;
  guint stats_interval = DEFAULT_STATS_INTERVAL;
  std::string url;    /* set: we call it (a client signaller) */
  std::string listen; /* set: we answer on it (a server signaller) */
  GstWebRTCICETransportPolicy ice_transport_policy = GST_WEBRTC_ICE_TRANSPORT_POLICY_ALL;
  guint peer_timeout = DEFAULT_PEER_TIMEOUT;
  guint connect_timeout = DEFAULT_CONNECT_TIMEOUT;
  bool mute = false, hold = false;
  GstVoiceCallMix mix = DEFAULT_MIX;
};

/* What the sessions ask of the element (see vc::CallSession::Host). */
class Host : public vc::CallSession::Host {
public:
  explicit Host (GstVoiceCall *self) : self_ (self) {}
  vc::GstPtr<GstPad> request_input (vc::CallSession &s) override;
  bool queue_input () override;
  void release_input (vc::CallSession &s, GstPad *pad) override;
  vc::GstPtr<GstPad> link_remote_stream (vc::CallSession &s, GstPad *src) override;
  void release_remote_stream (vc::CallSession &s, GstPad *pad) override;
  void session_stream_ready (vc::CallSession &s) override;
  void session_stats (vc::CallSession &s, const vc::stats::Report &report,
      double interval_s) override;
  void session_ended (vc::CallSession &s, vc::EndReason reason) override;
  vc::stats::Playout playout_stats (vc::CallSession &s) override;

private:
  GstVoiceCall *self_;
};

} // namespace

struct GstVoiceCallPrivate {
  explicit GstVoiceCallPrivate (GstVoiceCall *self) : host (self) {}

  std::mutex lock; /* settings and signaller */
  Settings settings;
  vc::GstPtr<GstVoiceSignaller> signaller;
  std::vector<gulong> signaller_handlers;

  /* Everything below is used in the control thread only. */
  std::unique_ptr<vc::ContextThread> ctl;
  Host host;
  GstElement *tee = nullptr;
  GstElement *selector = nullptr;
  std::map<std::string, std::shared_ptr<vc::CallSession>> sessions;
  std::string heard; /* the session whose audio goes to the src pad */
  bool running = false;
  bool client = false;     /* a client ends with its one session */
  bool hanging_up = false; /* EOS came: the src pad ends once every session has */
  bool eos_sent = false;
  guint stats_timer = 0;
  bool encoder_asked = false; /* once: say so if nothing upstream answers */
  std::optional<vc::adaptive::Encoder> encoder; /* the upstream voicecapturebin's, if any */

  /* mix=all, from READY→PAUSED to PAUSED→READY (set and reset outside the control thread
   * while no session exists). */
  std::unique_ptr<vc::Conference> conference;
  vc::GstPtr<GstPad> local_input; /* the tee's pad into the conference's local branch */
  guint level_timer = 0;
  std::string active_speaker; /* session id, "" for nobody */
  struct LevelSum {
    double power = 0, peak_db = -127;
    int windows = 0;
    bool muted = false;
    double gain = 1.0;
  };
  std::map<std::string, LevelSum> levels; /* since the last voicecall-level messages */
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

static std::shared_ptr<vc::CallSession>
find_session (GstVoiceCall *self, const std::string &id)
{
  auto it = self->priv->sessions.find (id);
  return it == self->priv->sessions.end () ? nullptr : it->second;
}

/* Ends every session; each one leaves the map when it has finished. */
static void
end_all_sessions (GstVoiceCall *self, vc::EndReason reason, const std::string &detail)
{
  std::vector<std::shared_ptr<vc::CallSession>> all;
  for (auto &kv : self->priv->sessions)
    all.push_back (kv.second);
  for (auto &s : all)
    s->end (reason, detail);
}

/* ---- the far end's audio ------------------------------------------------------------ */

/* The call is over for this element: the src pad ends (files get finalised, gst-launch
 * exits). */
static void
push_eos_downstream (GstVoiceCall *self)
{
  auto *priv = self->priv;
  if (priv->eos_sent)
    return;
  priv->eos_sent = true;
  vc::GstPtr<GstPad> src = priv->conference ? vc::ref (priv->conference->output ()) :
      vc::adopt (gst_element_get_static_pad (priv->selector, "src"));
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

static void
choose_heard_session (GstVoiceCall *self)
{
  auto *priv = self->priv;
  if (!priv->heard.empty () || priv->conference)
    return; /* mix=all: everyone is heard */
  /* The oldest session that has a stream. */
  std::shared_ptr<vc::CallSession> best;
  for (auto &kv : priv->sessions)
    if (kv.second->has_stream () && !kv.second->ending () &&
        (!best || kv.second->started_us () < best->started_us ()))
      best = kv.second;
  if (!best)
    return;
  priv->heard = best->id ();
  g_object_set (priv->selector, "active-pad", best->output_pad (), nullptr);
  GST_INFO_OBJECT (self, "hearing session %s (%s)", best->id ().c_str (), best->peer ().c_str ());
}

/* A new tee pad takes the sticky events (stream-start, caps, segment) the tee's sink pad has
 * stored. An event that the tee is forwarding at that moment is stored there only after it
 * went to the pads that existed before: a pad requested in between gets neither, and its
 * first buffer comes "before segment" (seen once in 840 calls, when a caller's session
 * starts with its capture). Under the sink pad's stream lock, no event is half-way. Nothing
 * downstream of the tee blocks (leaky queues), so the lock is held only briefly. */
vc::GstPtr<GstPad>
Host::request_input (vc::CallSession &s)
{
  if (self_->priv->conference)
    return self_->priv->conference->add (s.id ());
  GstElement *tee = self_->priv->tee;
  vc::GstPtr<GstPad> sink = vc::adopt (gst_element_get_static_pad (tee, "sink"));
  GST_PAD_STREAM_LOCK (sink.get ());
  vc::GstPtr<GstPad> pad = vc::adopt (gst_element_request_pad_simple (tee, "src_%u"));
  GST_PAD_STREAM_UNLOCK (sink.get ());
  return pad;
}

/* mix=all: the mixer sends to every participant from its one thread, with no queue (a
 * wake-up per packet per participant less); it never blocks there (CallSession::Host). */
bool
Host::queue_input ()
{
  return !self_->priv->conference;
}

void
Host::release_input (vc::CallSession &s, GstPad *pad)
{
  if (self_->priv->conference)
    self_->priv->conference->remove_send (s.id ());
  else
    release_request_pad (pad);
}

void
Host::release_remote_stream (vc::CallSession &s, GstPad *pad)
{
  if (self_->priv->conference)
    self_->priv->conference->remove (s.id ());
  else
    release_request_pad (pad);
}

vc::GstPtr<GstPad>
Host::link_remote_stream (vc::CallSession &s, GstPad *src)
{
  if (self_->priv->conference)
    return self_->priv->conference->link_received (s.id (), src,
        [weak = s.weak_from_this ()] { auto p = weak.lock (); return p && p->held (); });
  GstElement *selector = self_->priv->selector;
  vc::GstPtr<GstPad> sink = vc::adopt (gst_element_request_pad_simple (selector, "sink_%u"));
  if (gst_pad_link (src, sink.get ()) != GST_PAD_LINK_OK) {
    GST_WARNING_OBJECT (self_, "session %s: cannot link the received stream", s.id ().c_str ());
    gst_element_release_request_pad (selector, sink.get ());
    return nullptr;
  }
  return sink;
}

void
Host::session_stream_ready (vc::CallSession &s)
{
  choose_heard_session (self_);
  /* The new jitter buffer adds latency: let the pipeline recompute it. */
  gst_element_post_message (GST_ELEMENT (self_), gst_message_new_latency (GST_OBJECT (self_)));
}

void
Host::session_ended (vc::CallSession &s, vc::EndReason reason)
{
  auto *priv = self_->priv;
  std::string id = s.id ();
  priv->sessions.erase (id); /* the caller holds the session until it returns */
  if (priv->conference) {
    priv->conference->remove (id); /* if its stream never came */
    priv->levels.erase (id);
  }
  if (priv->heard == id) {
    priv->heard.clear ();
    choose_heard_session (self_);
  }
  if (priv->running && priv->sessions.empty () && (priv->client || priv->hanging_up))
    push_eos_downstream (self_);
}

/* ---- adaptive audio (docs/adaptive.md) ----------------------------------------------- */

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

/* Asks downstream (voiceplaybackbin) how the heard session's audio is played out. */
vc::stats::Playout
Host::playout_stats (vc::CallSession &s)
{
  vc::stats::Playout p;
  if (self_->priv->heard != s.id ())
    return p;
  vc::GstPtr<GstPad> src = vc::adopt (gst_element_get_static_pad (GST_ELEMENT (self_), "src"));
  GstQuery *query = gst_query_new_custom (GST_QUERY_CUSTOM,
      gst_structure_new_empty (vc::stats::PLAYOUT_QUERY));
  if (src && gst_pad_peer_query (src.get (), query))
    vc::stats::parse_playout (gst_query_get_structure (query), &p);
  gst_query_unref (query);
  return p;
}

/* Runs the session's controller on one interval's report and applies what changed: the
 * encoder (shared, so the most conservative of all sessions' wishes, sent upstream as a
 * custom event that voicecapturebin applies) and the session's jitter buffer. Control
 * thread. */
void
Host::session_stats (vc::CallSession &s, const vc::stats::Report &report, double interval_s)
{
  GstVoiceCall *self = self_;
  auto *priv = self->priv;
  const vc::adaptive::Config config = copy_settings (self).adaptive;
  if (!config.enabled)
    return; /* everything stays as it is */
  bool others_adapt = false;
  for (auto &kv : priv->sessions)
    others_adapt = others_adapt || (kv.second.get () != &s && kv.second->controller);
  /* The first adapting session (of this call, or after the earlier ones ended) starts from
   * what the encoder does now: the user may have changed it between calls. */
  if (!s.controller && !others_adapt) {
    vc::adaptive::Encoder e;
    priv->encoder.reset ();
    if (query_encoder (self, &e))
      priv->encoder = e;
    else if (!priv->encoder_asked)
      GST_INFO_OBJECT (self, "no voicecapturebin upstream answers: only the jitter buffers "
          "adapt");
    priv->encoder_asked = true;
  }
  if (!s.controller) {
    vc::adaptive::Settings initial;
    if (priv->encoder)
      initial.encoder = *priv->encoder;
    initial.jitter_buffer_ms = s.jitter_buffer_ms ();
    s.controller = std::make_unique<vc::adaptive::Controller> (config, initial);
  }
  s.controller->set_config (config);
  vc::adaptive::Decision d = s.controller->update (report, interval_s);
  std::string reason = d.reason;

  bool encoder_changed = false;
  if (priv->encoder) {
    std::vector<vc::adaptive::Encoder> wishes;
    for (auto &kv : priv->sessions)
      if (kv.second->controller)
        wishes.push_back (kv.second->controller->settings ().encoder);
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
  if (d.jitter_buffer_changed)
    s.set_jitter_buffer (d.settings.jitter_buffer_ms);
  if (!encoder_changed && !d.jitter_buffer_changed)
    return;

  GST_INFO_OBJECT (self, "session %s: %s", s.id ().c_str (), reason.c_str ());
  GstStructure *st = gst_structure_new ("voicecall-adaptation", "session-id", G_TYPE_STRING,
      s.id ().c_str (), "peer", G_TYPE_STRING, s.peer ().c_str (), nullptr);
  if (priv->encoder)
    gst_structure_set (st, "bitrate", G_TYPE_INT, priv->encoder->bitrate, "fec", G_TYPE_BOOLEAN,
        priv->encoder->fec, "packet-loss-percentage", G_TYPE_INT,
        priv->encoder->packet_loss_percentage, nullptr);
  gst_structure_set (st, "jitter-buffer-ms", G_TYPE_INT, static_cast<gint> (s.jitter_buffer_ms ()),
      "reason", G_TYPE_STRING, reason.c_str (), nullptr);
  gst_element_post_message (GST_ELEMENT (self), gst_message_new_element (GST_OBJECT (self), st));
}

/* ---- conference levels (mix=all) ------------------------------------------------------ */

static double
power_db (double power)
{
  return power > 0 ? std::max (-127.0, 10 * std::log10 (power)) : -127.0;
}

/* Every LEVEL_INTERVAL_MS the participants' levels: the loudest one speaking (and heard: not
 * muted) is the active speaker, said with voicecall-active-speaker when it changes. */
static void
schedule_levels (GstVoiceCall *self)
{
  auto *priv = self->priv;
  if (!priv->conference || !priv->running)
    return;
  priv->level_timer = priv->ctl->timeout (LEVEL_INTERVAL_MS, [self] {
    auto *priv = self->priv;
    priv->level_timer = 0;
    if (!priv->conference)
      return;
    std::string loudest;
    double loudest_db = vc::Conference::SPEAKING_DB;
    const auto levels = priv->conference->take_levels ();
    priv->conference->follow_speakers (levels);
    for (const auto &l : levels) {
      auto &sum = priv->levels[l.id];
      sum.power += std::pow (10.0, l.rms_db / 10);
      sum.windows++;
      sum.peak_db = std::max (sum.peak_db, l.peak_db);
      sum.muted = l.muted;
      sum.gain = l.gain;
      if (!l.muted && l.gain > 0 && l.rms_db > loudest_db) {
        loudest = l.id;
        loudest_db = l.rms_db;
      }
    }
    if (loudest != priv->active_speaker) {
      priv->active_speaker = loudest;
      auto s = find_session (self, loudest);
      GST_INFO_OBJECT (self, "active speaker: %s", loudest.empty () ? "nobody" :
          loudest.c_str ());
      GstStructure *st = gst_structure_new ("voicecall-active-speaker", "session-id",
          G_TYPE_STRING, loudest.c_str (), "peer", G_TYPE_STRING, s ? s->peer ().c_str () : "",
          "level-db", G_TYPE_DOUBLE, loudest.empty () ? -127.0 : loudest_db, nullptr);
      gst_element_post_message (GST_ELEMENT (self),
          gst_message_new_element (GST_OBJECT (self), st));
    }
    schedule_levels (self);
  });
}

/* Each participant's level over the last stats interval (voicecall-level). */
static void
post_levels (GstVoiceCall *self)
{
  auto *priv = self->priv;
  for (auto &[id, sum] : priv->levels) {
    auto s = find_session (self, id);
    if (!s || !sum.windows)
      continue;
    GstStructure *st = gst_structure_new ("voicecall-level", "session-id", G_TYPE_STRING,
        id.c_str (), "peer", G_TYPE_STRING, s->peer ().c_str (), "rms-db", G_TYPE_DOUBLE,
        power_db (sum.power / sum.windows), "peak-db", G_TYPE_DOUBLE, sum.peak_db, "speaking",
        G_TYPE_BOOLEAN, id == priv->active_speaker, "muted", G_TYPE_BOOLEAN, sum.muted, "gain",
        G_TYPE_DOUBLE, sum.gain, nullptr);
    gst_element_post_message (GST_ELEMENT (self), gst_message_new_element (GST_OBJECT (self), st));
  }
  priv->levels.clear ();
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
      kv.second->request_stats ();
    post_levels (self);
    schedule_stats (self);
  });
}

/* ---- signaller callbacks (any thread) ------------------------------------------------ */

static vc::SessionConfig
session_config (GstVoiceCall *self, GstVoiceSignaller *signaller, bool offerer, int pt)
{
  Settings settings = copy_settings (self);
  vc::SessionConfig c;
  c.offerer = offerer;
  c.payload_type = pt;
  c.latency_ms = settings.latency;
  c.stun_server = settings.stun_server;
  c.turn_server = settings.turn_server;
  vc::GUnique<gchar *> servers (gst_voice_signaller_get_ice_servers (signaller));
  for (gchar **url = servers.get (); url && *url; url++)
    c.signaller_ice_servers.emplace_back (*url);
  c.ice_addresses = settings.ice_addresses;
  c.ice_transport_policy = settings.ice_transport_policy;
  c.adaptive = settings.adaptive.enabled;
  c.connect_timeout_ms = settings.connect_timeout;
  c.peer_timeout_ms = settings.peer_timeout;
  c.host_quiet_ms = HOST_CANDIDATES_QUIET_MS;
  c.mute = settings.mute;
  c.hold = settings.hold;
  return c;
}

static void
on_session_requested (GstVoiceSignaller *signaller, const gchar *session_id, const gchar *peer,
    GstWebRTCSessionDescription *offer, gpointer user_data)
{
  auto *self = GST_VOICE_CALL (user_data);
  std::string id = session_id, from = peer ? peer : "";
  std::shared_ptr<GstWebRTCSessionDescription> remote;
  if (offer)
    remote.reset (gst_webrtc_session_description_copy (offer), gst_webrtc_session_description_free);
  vc::GstPtr<GstVoiceSignaller> sig = vc::ref (signaller);
  in_control (self, [id, from, remote, sig] (GstVoiceCall *self) {
    auto *priv = self->priv;
    if (!priv->running || find_session (self, id))
      return;
    GST_INFO_OBJECT (self, "session %s requested by %s (%s)", id.c_str (), from.c_str (),
        remote ? "with an offer" : "we offer");
    /* Answering: send with the offer's Opus payload type (the session refuses an offer
     * without Opus). */
    int pt = DEFAULT_PAYLOAD_TYPE;
    std::vector<std::pair<int, int>> telephone_events = {{DEFAULT_TELEPHONE_EVENT_PT, 48000}};
    if (remote) {
      int media = vc::sdp::first_audio_media (remote->sdp);
      int offered = media >= 0 ? vc::sdp::opus_payload (remote->sdp, media) : -1;
      if (offered >= 0)
        pt = offered;
      telephone_events = media >= 0 ? vc::sdp::telephone_events (remote->sdp, media) :
          std::vector<std::pair<int, int>> ();
    }
    vc::SessionConfig config = session_config (self, sig.get (), !remote, pt);
    config.telephone_events = telephone_events;
    auto s = vc::CallSession::create (priv->host, GST_ELEMENT (self), *priv->ctl, sig, id, from,
        config);
    if (!s) {
      gst_voice_signaller_end_session (sig.get (), id.c_str (), "webrtcbin is missing");
      return;
    }
    /* This bin is a filter to its parent: its webrtcbins' sources and sinks are not the
     * pipeline's (their EOS is not the pipeline's EOS). */
    GST_OBJECT_FLAG_UNSET (self, GST_ELEMENT_FLAG_SINK | GST_ELEMENT_FLAG_SOURCE);
    priv->sessions[id] = s;
    if (remote)
      s->answer (remote.get ());
    else
      priv->client = true; /* we called: the call is over when this session ends */
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
    if (auto s = find_session (self, id))
      s->remote_answer (remote.get ());
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
      s->remote_candidate (mline, cand);
  });
}

static void
on_session_ended (GstVoiceSignaller *signaller, const gchar *session_id, gpointer user_data)
{
  auto *self = GST_VOICE_CALL (user_data);
  std::string id = session_id;
  in_control (self, [id] (GstVoiceCall *self) {
    if (auto s = find_session (self, id))
      s->end (vc::EndReason::REMOTE_HANG_UP, "the peer hung up (signalling)", false);
  });
}

static void
on_session_refused (GstVoiceSignaller *signaller, const gchar *session_id, const gchar *reason,
    gpointer user_data)
{
  auto *self = GST_VOICE_CALL (user_data);
  std::string id = session_id, why = reason ? reason : "refused by the peer";
  in_control (self, [id, why] (GstVoiceCall *self) {
    if (auto s = find_session (self, id))
      s->end (vc::EndReason::REFUSED, why, false);
  });
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
      auto s = find_session (self, id);
      if (!s)
        return;
      GST_ELEMENT_WARNING (self, RESOURCE, FAILED, ("Call %s: %s", id.c_str (), msg.c_str ()),
          (nullptr));
      s->end (vc::EndReason::ERROR, msg, false);
    });
    return;
  }
  /* The whole signaller failed: its sessions end with it (said on the bus before the error
   * stops the pipeline). */
  in_control (self, [msg] (GstVoiceCall *self) {
    end_all_sessions (self, vc::EndReason::ERROR, msg);
    GST_ELEMENT_ERROR (self, RESOURCE, FAILED, ("%s", msg.c_str ()), (nullptr));
  });
}

/* A server signaller asks whether to take a call: the application answers through
 * "incoming-call" (signaller's thread). */
static gboolean
on_accept_session (GstVoiceSignaller *signaller, const gchar *session_id, const gchar *peer,
    const GstStructure *headers, gpointer user_data)
{
  auto *self = GST_VOICE_CALL (user_data);
  gboolean accept = TRUE;
  g_signal_emit (self, signals[SIGNAL_INCOMING_CALL], 0, session_id, peer, headers, &accept);
  if (!accept)
    GST_INFO_OBJECT (self, "call %s from %s refused by the application", session_id, peer);
  return accept;
}

/* What the protocol tells the application (a conference room's participants): an element
 * message, with the session id added (signaller's thread). */
static void
on_signaller_message (GstVoiceSignaller *signaller, const gchar *session_id,
    const GstStructure *structure, gpointer user_data)
{
  auto *self = GST_VOICE_CALL (user_data);
  GstStructure *s = gst_structure_copy (structure);
  if (session_id)
    gst_structure_set (s, "session-id", G_TYPE_STRING, session_id, nullptr);
  gst_element_post_message (GST_ELEMENT (self), gst_message_new_element (GST_OBJECT (self), s));
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
  h.push_back (g_signal_connect (signaller, "session-refused", G_CALLBACK (on_session_refused), self));
  h.push_back (g_signal_connect (signaller, "error", G_CALLBACK (on_signaller_error), self));
  h.push_back (g_signal_connect (signaller, "accept-session", G_CALLBACK (on_accept_session), self));
  h.push_back (g_signal_connect (signaller, "message", G_CALLBACK (on_signaller_message), self));
}

static void
disconnect_signaller (GstVoiceCall *self, GstVoiceSignaller *signaller)
{
  for (gulong id : self->priv->signaller_handlers)
    g_signal_handler_disconnect (signaller, id);
  self->priv->signaller_handlers.clear ();
}

/* A signaller may pass our STUN/TURN servers on to its peers (a WHIP server's Link
 * headers), unless it was given a list of its own. */
static void
offer_ice_servers (GstVoiceCall *self, GstVoiceSignaller *signaller)
{
  Settings settings = copy_settings (self);
  std::vector<const gchar *> list;
  if (!settings.stun_server.empty ())
    list.push_back (settings.stun_server.c_str ());
  if (!settings.turn_server.empty ())
    list.push_back (settings.turn_server.c_str ());
  if (list.empty ())
    return;
  list.push_back (nullptr);
  gst_voice_signaller_offer_ice_servers (signaller, list.data ());
}

/* mix=all: the conference's elements join the bin, our RTP goes to its local branch, and the
 * src pad carries its callers' mix. READY. */
static bool
start_mixing (GstVoiceCall *self)
{
  auto *priv = self->priv;
  priv->conference = vc::Conference::create (GST_ELEMENT (self));
  if (!priv->conference)
    return false;
  priv->local_input = vc::adopt (gst_element_request_pad_simple (priv->tee, "src_%u"));
  gst_pad_link (priv->local_input.get (), priv->conference->local_sink ());
  vc::GstPtr<GstPad> src = vc::adopt (gst_element_get_static_pad (GST_ELEMENT (self), "src"));
  gst_ghost_pad_set_target (GST_GHOST_PAD (src.get ()), priv->conference->output ());
  return true;
}

/* Back to the selector, once no session is left (READY). */
static void
stop_mixing (GstVoiceCall *self)
{
  auto *priv = self->priv;
  if (!priv->conference)
    return;
  vc::GstPtr<GstPad> src = vc::adopt (gst_element_get_static_pad (GST_ELEMENT (self), "src"));
  vc::GstPtr<GstPad> selected = vc::adopt (gst_element_get_static_pad (priv->selector, "src"));
  gst_ghost_pad_set_target (GST_GHOST_PAD (src.get ()), selected.get ());
  if (priv->local_input)
    vc::CallSession::Host::release_request_pad (std::exchange (priv->local_input, nullptr).get ());
  priv->conference.reset ();
  priv->levels.clear ();
  priv->active_speaker.clear ();
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
  if (copy_settings (self).mix == GST_VOICE_CALL_MIX_ALL && !start_mixing (self))
    return false;
  priv->ctl->invoke_sync ([self] {
    auto *priv = self->priv;
    priv->running = true;
    priv->eos_sent = false;
    priv->hanging_up = false;
    priv->client = false; /* until this run offers a session */
    schedule_stats (self);
    schedule_levels (self);
  });
  offer_ice_servers (self, signaller.get ());
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

/* Hangs up every session, tells the peers (BYE, and the signalling's goodbye), gives the BYEs
 * a bounded time to leave, and frees everything. */
static void
stop (GstVoiceCall *self)
{
  auto *priv = self->priv;
  vc::GstPtr<GstVoiceSignaller> signaller = current_signaller (self);
  priv->ctl->invoke_sync ([self] {
    self->priv->running = false;
    self->priv->ctl->cancel (std::exchange (self->priv->stats_timer, 0));
    self->priv->ctl->cancel (std::exchange (self->priv->level_timer, 0));
    end_all_sessions (self, vc::EndReason::LOCAL_HANG_UP, "the element stopped");
  });
  gint64 deadline = g_get_monotonic_time () + STOP_BYE_WAIT_MS * 1000;
  bool left = true;
  while (left && g_get_monotonic_time () < deadline) {
    priv->ctl->invoke_sync ([&left, self] { left = !self->priv->sessions.empty (); });
    if (left)
      g_usleep (10000);
  }
  priv->ctl->invoke_sync ([self] {
    std::vector<std::shared_ptr<vc::CallSession>> all;
    for (auto &kv : self->priv->sessions)
      all.push_back (kv.second);
    for (auto &s : all)
      s->finish ();
  });
  if (signaller) {
    gst_voice_signaller_stop (signaller.get ());
    disconnect_signaller (self, signaller.get ());
  }
}

/* The first DTLS element of a process generates the certificate that every later one shares
 * (an RSA key: 170-700 ms here), and a session's offer or answer waits for it. Make it once, in
 * the background, as soon as an element gets ready, on a key the process before made ahead of
 * time (dtlskeycache.h): a caller's first offer and a callee's first answer then need not wait.
 * An element going back to NULL waits for the thread, at most a second more for the keys of
 * later processes: a process that exits while OpenSSL initialises in another thread can
 * crash. */
static std::mutex warm_up_lock;
static bool warm_up_started = false;
static GThread *warm_up_thread = nullptr;
/* A process that ends soon after its call still leaves a key for the next one (~300 ms of
 * work), but never waits longer than this for it. */
constexpr gint64 WARM_UP_EXIT_WAIT_US = G_USEC_PER_SEC;
static std::atomic<gint64> warm_up_stop_at {0};

/* The plugins and classes of the elements a session's webrtcbin creates, loaded once ahead:
 * otherwise the first offer or answer loads them (libsrtp, libnice, ...). The DTLS plugin
 * first, which the DTLS warm-up needs (plugins load one at a time), then libsrtp, whose
 * initialisation runs its ciphers' self-tests (18-30 ms here). */
static void
load_session_elements ()
{
  for (const char *name : {"dtlsdec", "srtpenc", "srtpdec", "webrtcbin", "nicesrc", "nicesink",
           "rtpbin", "rtpjitterbuffer", "rtprtxsend", "rtprtxreceive", "rtpstorage",
           "rtpulpfecdec", "rtpredenc", "rtpopusdepay", "opusdec"}) {
    GstElementFactory *factory = gst_element_factory_find (name);
    if (!factory)
      continue;
    if (GstPluginFeature *loaded = gst_plugin_feature_load (GST_PLUGIN_FEATURE (factory))) {
      GType type = gst_element_factory_get_element_type (GST_ELEMENT_FACTORY (loaded));
      if (type)
        g_type_class_unref (g_type_class_ref (type));
      gst_object_unref (loaded);
    }
    gst_object_unref (factory);
  }
}

/* The session elements load in a thread of their own from the moment a voicecall exists,
 * while the rest of the pipeline is built, not after the first session has begun (when the
 * caller's first offer waited for them). */
static std::mutex load_lock;
static bool load_started = false;
static GThread *load_thread = nullptr;

static void
start_loading_session_elements ()
{
  std::lock_guard<std::mutex> lk (load_lock);
  if (std::exchange (load_started, true))
    return;
  load_thread = g_thread_try_new ("voicecall-load", [] (gpointer) -> gpointer {
    load_session_elements ();
    return nullptr;
  }, nullptr, nullptr);
}

/* A process must not exit while another thread is in a plugin's init. */
static void
wait_for_session_elements ()
{
  std::lock_guard<std::mutex> lk (load_lock);
  if (GThread *thread = std::exchange (load_thread, nullptr))
    g_thread_join (thread);
}

static void
warm_up_dtls_certificate ()
{
  std::lock_guard<std::mutex> lk (warm_up_lock);
  if (warm_up_started)
    return;
  warm_up_started = true;
  warm_up_thread = g_thread_try_new ("voicecall-dtls", [] (gpointer) -> gpointer {
    vc::DtlsKeyCacheResult r = vc::dtls_key_cache_warm_up (std::string (), &warm_up_stop_at);
    GST_DEBUG ("DTLS certificate ready (%s); key for the next process %s",
        r.used_cached_key ? "on a key made ahead of time" : r.detail.c_str (),
        r.stored_next_key ? "stored" : "not stored");
    return nullptr;
  }, nullptr, nullptr);
}

static void
wait_for_dtls_certificate ()
{
  std::lock_guard<std::mutex> lk (warm_up_lock);
  if (GThread *thread = std::exchange (warm_up_thread, nullptr)) {
    warm_up_stop_at = g_get_monotonic_time () + WARM_UP_EXIT_WAIT_US;
    g_thread_join (thread);
  }
}

static GstStateChangeReturn
gst_voice_call_change_state (GstElement *element, GstStateChange transition)
{
  auto *self = GST_VOICE_CALL (element);
  if (!self->priv->tee)
    return GST_STATE_CHANGE_FAILURE; /* a missing plugin was reported in init */

  if (transition == GST_STATE_CHANGE_NULL_TO_READY)
    warm_up_dtls_certificate ();
  if (transition == GST_STATE_CHANGE_READY_TO_NULL) {
    wait_for_session_elements ();
    wait_for_dtls_certificate ();
  }

  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED && !start (self)) {
    stop_mixing (self);
    return GST_STATE_CHANGE_FAILURE;
  }
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    stop (self);

  GstStateChangeReturn ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE && transition == GST_STATE_CHANGE_READY_TO_PAUSED)
    stop (self);
  if ((ret == GST_STATE_CHANGE_FAILURE && transition == GST_STATE_CHANGE_READY_TO_PAUSED) ||
      transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    stop_mixing (self);
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
    self->priv->hanging_up = true;
    if (self->priv->sessions.empty ())
      push_eos_downstream (self);
    else
      end_all_sessions (self, vc::EndReason::LOCAL_HANG_UP, "hang-up (end of stream)");
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
    case PROP_PEER_TIMEOUT:
      priv->settings.peer_timeout = g_value_get_uint (value);
      break;
    case PROP_CONNECT_TIMEOUT:
      priv->settings.connect_timeout = g_value_get_uint (value);
      break;
    case PROP_MUTE:
    case PROP_HOLD: {
      bool &flag = prop_id == PROP_MUTE ? priv->settings.mute : priv->settings.hold;
      flag = g_value_get_boolean (value);
      bool mute = priv->settings.mute, hold = priv->settings.hold;
      in_control (self, [mute, hold] (GstVoiceCall *self) {
        for (auto &kv : self->priv->sessions)
          kv.second->set_all (mute, hold);
      });
      break;
    }
    case PROP_MIX:
      priv->settings.mix = static_cast<GstVoiceCallMix> (g_value_get_enum (value));
      break;
    case PROP_URL: {
      const gchar *url = g_value_get_string (value);
      priv->settings.url = url ? url : "";
      if (url && *url) {
        priv->signaller = vc::adopt (gst_voice_signaller_new_for_url (url));
        priv->settings.listen.clear ();
      }
      break;
    }
    case PROP_LISTEN: {
      const gchar *listen = g_value_get_string (value);
      priv->settings.listen = listen ? listen : "";
      if (listen && *listen) {
        priv->signaller = vc::adopt (gst_voice_signaller_new_for_listen (listen));
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
    case PROP_PEER_TIMEOUT:
      g_value_set_uint (value, priv->settings.peer_timeout);
      break;
    case PROP_CONNECT_TIMEOUT:
      g_value_set_uint (value, priv->settings.connect_timeout);
      break;
    case PROP_MUTE:
      g_value_set_boolean (value, priv->settings.mute);
      break;
    case PROP_HOLD:
      g_value_set_boolean (value, priv->settings.hold);
      break;
    case PROP_MIX:
      g_value_set_enum (value, priv->settings.mix);
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

/* ---- call control: action signals (any thread) ----------------------------------------- */

/* Runs fn on the session `id`, or on every session when id is NULL or empty, in the control
 * thread; false if there is no such session. */
template <typename Fn>
static bool
for_sessions (GstVoiceCall *self, const gchar *id, Fn fn)
{
  std::string wanted = id ? id : "";
  bool found = false;
  self->priv->ctl->invoke_sync ([self, &wanted, &found, &fn] {
    std::vector<std::shared_ptr<vc::CallSession>> chosen;
    for (auto &kv : self->priv->sessions)
      if (!kv.second->ending () && (wanted.empty () || kv.first == wanted))
        chosen.push_back (kv.second);
    for (auto &s : chosen)
      fn (*s);
    found = !chosen.empty ();
  });
  if (!found && !wanted.empty ())
    GST_WARNING_OBJECT (self, "no call %s (session ids are in the voicecall-session-* "
        "messages)", wanted.c_str ());
  return found;
}

static gboolean
gst_voice_call_hang_up (GstVoiceCall *self, const gchar *session_id)
{
  return for_sessions (self, session_id, [] (vc::CallSession &s) {
    s.end (vc::EndReason::LOCAL_HANG_UP, "hung up by the application");
  });
}

static gboolean
gst_voice_call_set_mute (GstVoiceCall *self, const gchar *session_id, gboolean mute)
{
  return for_sessions (self, session_id, [mute] (vc::CallSession &s) { s.set_mute (mute); });
}

static gboolean
gst_voice_call_set_hold (GstVoiceCall *self, const gchar *session_id, gboolean hold)
{
  return for_sessions (self, session_id, [hold] (vc::CallSession &s) { s.set_hold (hold); });
}

static gboolean
gst_voice_call_send_dtmf (GstVoiceCall *self, const gchar *session_id, const gchar *digits,
    guint duration_ms)
{
  std::string text = digits ? digits : "";
  bool sent = false;
  std::string why;
  bool found = for_sessions (self, session_id, [&] (vc::CallSession &s) {
    std::string w;
    if (s.send_dtmf (text, duration_ms ? duration_ms : DEFAULT_DTMF_DURATION_MS, &w))
      sent = true;
    else
      why = "call " + s.id () + ": " + w;
  });
  if (found && !why.empty ())
    GST_ELEMENT_WARNING (self, STREAM, FAILED, ("Cannot send DTMF: %s", why.c_str ()), (nullptr));
  return sent;
}

/* Runs fn (conference, session id) on the session `id` (NULL: every session) of a mix=all
 * conference; FALSE (and a warning) with mix=first or if there is no such participant. */
template <typename Fn>
static gboolean
for_participants (GstVoiceCall *self, const gchar *id, const char *what, Fn fn)
{
  bool mixing = false, done = false;
  for_sessions (self, id, [self, &mixing, &done, &fn] (vc::CallSession &s) {
    if (!self->priv->conference)
      return;
    mixing = true;
    done = fn (*self->priv->conference, s.id ()) || done;
  });
  if (!mixing)
    GST_WARNING_OBJECT (self, "%s: only a conference (mix=all) mixes participants", what);
  return done;
}

static gboolean
gst_voice_call_set_participant_gain (GstVoiceCall *self, const gchar *session_id, gdouble gain)
{
  gain = CLAMP (gain, 0.0, 10.0);
  return for_participants (self, session_id, "set-participant-gain",
      [gain] (vc::Conference &c, const std::string &id) { return c.set_gain (id, gain); });
}

static gboolean
gst_voice_call_set_participant_mute (GstVoiceCall *self, const gchar *session_id, gboolean mute)
{
  return for_participants (self, session_id, "set-participant-mute",
      [mute] (vc::Conference &c, const std::string &id) { return c.set_muted (id, mute); });
}

/* The default answer to incoming-call: take it. */
static gboolean
gst_voice_call_accept_call (GstVoiceCall *, const gchar *, const gchar *, const GstStructure *)
{
  return TRUE;
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
  self->priv = new GstVoiceCallPrivate (self);
  auto *priv = self->priv;
  auto *element = GST_ELEMENT (self);
  priv->ctl = std::make_unique<vc::ContextThread> ("voicecall-ctl");
  start_loading_session_elements ();

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
  wait_for_session_elements ();
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

  /* Before any DTLS element of ours initialises OpenSSL (dtlskeycache.h says why). */
  vc::openssl_without_exit_cleanup ();

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
          "signaller::protocol=json for the aiortc /offer protocol), or join a Janus "
          "AudioBridge room: janus://host:8088/janus?room=1234&display=NAME&pin=PIN. Creates "
          "the signaller.",
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

  g_object_class_install_property (gobject_class, PROP_PEER_TIMEOUT,
      g_param_spec_uint ("peer-timeout", "Peer timeout",
          "End a connected call (reason \"timeout\") when nothing (no RTP, no RTCP) came from "
          "the peer for this many ms: it was killed, unplugged or closed without hanging up; "
          "0: never", 0, 600000, DEFAULT_PEER_TIMEOUT, flags));
  g_object_class_install_property (gobject_class, PROP_CONNECT_TIMEOUT,
      g_param_spec_uint ("connect-timeout", "Connect timeout",
          "End a call (reason \"timeout\") that has not started (ICE, DTLS and the peer's "
          "first packet) this many ms after it began, freeing its slot; 0: never", 0, 600000, DEFAULT_CONNECT_TIMEOUT,
          flags));

  g_object_class_install_property (gobject_class, PROP_MUTE,
      g_param_spec_boolean ("mute", "Mute",
          "Send silence to every call (the Opus silence frame in place of our audio, no "
          "renegotiation); the set-mute action signal mutes one call", FALSE, playing_flags));
  g_object_class_install_property (gobject_class, PROP_HOLD,
      g_param_spec_boolean ("hold", "Hold",
          "Put every call on hold: silence both ways (we send and hear silence), the calls "
          "stay up; the set-hold action signal holds one call", FALSE, playing_flags));

  g_object_class_install_property (gobject_class, PROP_MIX,
      g_param_spec_enum ("mix", "Mix",
          "What the src pad carries and each caller hears: first (the first caller, then the "
          "next; each caller hears only us) or all (a conference: the src pad carries every "
          "caller mixed; each caller hears us and every other caller, never itself)",
          gst_voice_call_mix_get_type (), DEFAULT_MIX, flags));
  gst_type_mark_as_plugin_api (gst_voice_call_mix_get_type (), static_cast<GstPluginAPIFlags> (0));

  /**
   * GstVoiceCall::incoming-call:
   * @session-id: the new call's session id
   * @peer: the caller's address (IP:PORT)
   * @headers: the signalling request's headers (a GstStructure "headers", names in lower case)
   *
   * A server (listen=) got an offer. Return FALSE to refuse it: the caller gets HTTP 403 with
   * a problem text, and no session is made. Emitted in the signaller's thread: do not block.
   */
  signals[SIGNAL_INCOMING_CALL] = g_signal_new_class_handler ("incoming-call",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, G_CALLBACK (gst_voice_call_accept_call),
      vc::control::accept_accumulator, nullptr, nullptr, G_TYPE_BOOLEAN, 3, G_TYPE_STRING,
      G_TYPE_STRING, GST_TYPE_STRUCTURE | G_SIGNAL_TYPE_STATIC_SCOPE);
  /**
   * GstVoiceCall::hang-up:
   * @session-id: the call to hang up, NULL for every call
   *
   * Hangs up (RTCP BYE, the signalling's goodbye); the other calls go on. Returns FALSE if
   * there is no such call.
   */
  signals[SIGNAL_HANG_UP] = g_signal_new_class_handler ("hang-up", G_TYPE_FROM_CLASS (klass),
      static_cast<GSignalFlags> (G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK (gst_voice_call_hang_up), nullptr, nullptr, nullptr, G_TYPE_BOOLEAN, 1,
      G_TYPE_STRING);
  /**
   * GstVoiceCall::set-mute:
   * @session-id: the call, NULL for every call now there
   * @mute: TRUE: send it silence
   */
  signals[SIGNAL_SET_MUTE] = g_signal_new_class_handler ("set-mute", G_TYPE_FROM_CLASS (klass),
      static_cast<GSignalFlags> (G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK (gst_voice_call_set_mute), nullptr, nullptr, nullptr, G_TYPE_BOOLEAN, 2,
      G_TYPE_STRING, G_TYPE_BOOLEAN);
  /**
   * GstVoiceCall::set-hold:
   * @session-id: the call, NULL for every call now there
   * @hold: TRUE: silence both ways
   */
  signals[SIGNAL_SET_HOLD] = g_signal_new_class_handler ("set-hold", G_TYPE_FROM_CLASS (klass),
      static_cast<GSignalFlags> (G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK (gst_voice_call_set_hold), nullptr, nullptr, nullptr, G_TYPE_BOOLEAN, 2,
      G_TYPE_STRING, G_TYPE_BOOLEAN);
  /**
   * GstVoiceCall::send-dtmf:
   * @session-id: the call, NULL for every call
   * @digits: 0-9, *, #, A-D
   * @duration-ms: how long each digit lasts (40..1300; 0: 100 ms), 70 ms apart
   *
   * Sends RFC 4733 telephone-events in place of our audio. FALSE (and a warning saying why)
   * if the digits are not DTMF or the peer did not negotiate telephone-event at 48000 Hz.
   */
  signals[SIGNAL_SEND_DTMF] = g_signal_new_class_handler ("send-dtmf", G_TYPE_FROM_CLASS (klass),
      static_cast<GSignalFlags> (G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK (gst_voice_call_send_dtmf), nullptr, nullptr, nullptr, G_TYPE_BOOLEAN, 3,
      G_TYPE_STRING, G_TYPE_STRING, G_TYPE_UINT);

  /**
   * GstVoiceCall::set-participant-gain:
   * @session-id: the participant (a call), NULL for every one now there
   * @gain: 0.0 - 10.0, 1.0 as received
   *
   * mix=all: how loud the others (and the src pad) hear this participant. FALSE with
   * mix=first or without such a call.
   */
  signals[SIGNAL_SET_PARTICIPANT_GAIN] = g_signal_new_class_handler ("set-participant-gain",
      G_TYPE_FROM_CLASS (klass), static_cast<GSignalFlags> (G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK (gst_voice_call_set_participant_gain), nullptr, nullptr, nullptr,
      G_TYPE_BOOLEAN, 2, G_TYPE_STRING, G_TYPE_DOUBLE);
  /**
   * GstVoiceCall::set-participant-mute:
   * @session-id: the participant (a call), NULL for every one now there
   * @mute: TRUE: nobody hears this participant (server-side mute; it still hears the others)
   *
   * mix=all only; FALSE with mix=first or without such a call.
   */
  signals[SIGNAL_SET_PARTICIPANT_MUTE] = g_signal_new_class_handler ("set-participant-mute",
      G_TYPE_FROM_CLASS (klass), static_cast<GSignalFlags> (G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK (gst_voice_call_set_participant_mute), nullptr, nullptr, nullptr,
      G_TYPE_BOOLEAN, 2, G_TYPE_STRING, G_TYPE_BOOLEAN);

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "Voice call", "Filter/Network/WebRTC",
      "A two-way WebRTC voice call: sends the Opus RTP it receives and outputs the far "
      "end's, with SDP offer/answer over a signaller (HTTP WHIP/JSON, Janus AudioBridge or "
      "in-process)",
      "gst-voicecall developers");
}
