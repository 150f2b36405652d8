/* gst-voicecall: one call with one peer (see callsession.h). */
#include "callsession.h"

#include "binutil.h"
#include "randomid.h"
#include "sdputil.h"

#include <gst/rtp/rtp.h>
#include <nice/agent.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <optional>
#include <sstream>
#include <utility>

GST_DEBUG_CATEGORY_STATIC (call_session_debug);
#define GST_CAT_DEFAULT call_session_debug

namespace vc {

/* Receiver reports every ~1 s instead of RTP's 5-s minimum, so that the peer's adaptation
 * hears about loss and delay sooner. AVPF (RFC 4585, which WebRTC uses) drops that minimum;
 * what remains is RTCP's 5 % bandwidth share, about one report a second at voice bitrates. */
constexpr guint64 ADAPTIVE_RTCP_MIN_INTERVAL = GST_SECOND;
/* How often a connected session checks that its peer is still sending. */
constexpr guint WATCHDOG_MAX_PERIOD_MS = 250;
/* After a BYE, RTP that still comes later than BYE_IN_FLIGHT_MS (packets sent just before it)
 * and within BYE_SILENCE_MS after that means the peer is still there. */
constexpr guint BYE_IN_FLIGHT_MS = 50;
constexpr guint BYE_SILENCE_MS = 200;
/* libnice's Ta, the pacing of ICE checks (see apply_ice_addresses). */
constexpr guint ICE_PACING_MS = 5;

const char *
end_reason_name (EndReason reason)
{
  switch (reason) {
    case EndReason::LOCAL_HANG_UP: return "local hang-up";
    case EndReason::REMOTE_HANG_UP: return "remote hang-up";
    case EndReason::TIMEOUT: return "timeout";
    case EndReason::ICE_FAILED: return "ice failed";
    case EndReason::REFUSED: return "refused";
    case EndReason::ERROR: return "error";
  }
  return "error";
}

/* The codec we send and take: Opus; `pt` is the payload type to use (the offer's, when
 * answering: webrtcbin matches our transceiver to the offer by these caps, and otherwise
 * answers recvonly). useinbandfec=1 asks the peer for FEC. */
static GstPtr<GstCaps>
codec_preferences (int pt, const std::vector<std::pair<int, int>> &telephone_events)
{
  GstCaps *caps = gst_caps_new_simple ("application/x-rtp", "media", G_TYPE_STRING, "audio",
      "encoding-name", G_TYPE_STRING, "OPUS", "clock-rate", G_TYPE_INT, 48000,
      "encoding-params", G_TYPE_STRING, "2", "payload", G_TYPE_INT, pt,
      "useinbandfec", G_TYPE_STRING, "1", nullptr);
  /* DTMF (RFC 4733): offered, or accepted at the payload types and rates of the offer
   * (browsers offer 48000 and 8000 Hz). */
  for (auto [te_pt, rate] : telephone_events)
    gst_caps_append_structure (caps, gst_structure_new ("application/x-rtp", "media",
        G_TYPE_STRING, "audio", "encoding-name", G_TYPE_STRING, "TELEPHONE-EVENT", "clock-rate",
        G_TYPE_INT, rate, "payload", G_TYPE_INT, te_pt, nullptr));
  return adopt (caps);
}

/* A copy of an RTP packet with another payload (the header, extensions included, kept), and
 * optionally another payload type, timestamp and marker. nullptr if `in` is not RTP. */
static GstBuffer *
with_payload (GstBuffer *in, const guint8 *payload, gsize size, int pt = -1,
    std::optional<guint32> timestamp = std::nullopt, std::optional<bool> marker = std::nullopt)
{
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (!gst_rtp_buffer_map (in, GST_MAP_READ, &rtp))
    return nullptr;
  guint header = gst_rtp_buffer_get_header_len (&rtp);
  GstBuffer *out = gst_buffer_new_allocate (nullptr, header + size, nullptr);
  GstMapInfo map;
  gst_buffer_map (out, &map, GST_MAP_WRITE);
  memcpy (map.data, rtp.data[0], header);
  memcpy (map.data + header, payload, size);
  map.data[0] &= ~0x20; /* no padding */
  gst_buffer_unmap (out, &map);
  gst_rtp_buffer_unmap (&rtp);
  gst_buffer_copy_into (out, in, GST_BUFFER_COPY_METADATA, 0, -1);
  if (gst_rtp_buffer_map (out, GST_MAP_WRITE, &rtp)) {
    if (pt >= 0)
      gst_rtp_buffer_set_payload_type (&rtp, pt);
    if (timestamp)
      gst_rtp_buffer_set_timestamp (&rtp, *timestamp);
    if (marker)
      gst_rtp_buffer_set_marker (&rtp, *marker);
    gst_rtp_buffer_unmap (&rtp);
  }
  return out;
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

CallSession::CallSession (Host &host, GstElement *bin, ContextThread &ctl,
    GstPtr<GstVoiceSignaller> signaller, const std::string &id, const std::string &peer,
    const SessionConfig &config)
    : host_ (host), bin_ (bin), ctl_ (ctl), signaller_ (std::move (signaller)), id_ (id),
      peer_ (peer), config_ (config), started_us_ (g_get_monotonic_time ()),
      jitter_buffer_ms_ (config.latency_ms), all_mute_ (config.mute), all_hold_ (config.hold)
{
  muted_ = all_mute_ || all_hold_;
  held_ = all_hold_;
  while (!send_ssrc_)
    random_bytes (&send_ssrc_, sizeof send_ssrc_);
}

CallSession::~CallSession ()
{
  /* The element finishes every session before dropping it; this is the safety net. */
  if (!finished_)
    GST_ERROR_OBJECT (bin_, "session %s destroyed without finishing", id_.c_str ());
}

std::shared_ptr<CallSession>
CallSession::create (Host &host, GstElement *bin, ContextThread &ctl,
    GstPtr<GstVoiceSignaller> signaller, const std::string &id, const std::string &peer,
    const SessionConfig &config)
{
  static gsize debug_once = 0;
  if (g_once_init_enter (&debug_once)) {
    GST_DEBUG_CATEGORY_INIT (call_session_debug, "voicecallsession", 0, "voicecall sessions");
    g_once_init_leave (&debug_once, 1);
  }
  std::shared_ptr<CallSession> s (new CallSession (host, bin, ctl, std::move (signaller), id,
      peer, config));
  if (!s->build ()) {
    s->finished_ = true;
    return nullptr;
  }
  return s;
}

template <typename Fn>
void
CallSession::later (Fn fn)
{
  std::weak_ptr<CallSession> weak = weak_from_this ();
  ctl_.invoke ([weak, fn] {
    if (auto s = weak.lock (); s && !s->finished_)
      fn (*s);
  });
}

void
CallSession::connect (gpointer object, const char *signal, GCallback callback)
{
  gulong id = g_signal_connect (object, signal, callback, this);
  handlers_.emplace_back (ref (G_OBJECT (object)), id);
}

void
CallSession::post (GstStructure *st)
{
  gst_structure_set (st, "session-id", G_TYPE_STRING, id_.c_str (), "peer", G_TYPE_STRING,
      peer_.c_str (), nullptr);
  gst_element_post_message (bin_, gst_message_new_element (GST_OBJECT (bin_), st));
}

void
CallSession::post_state (const char *state, GstStructure *st)
{
  gst_structure_set (st, "state", G_TYPE_STRING, state, nullptr);
  post (st);
}

void
CallSession::Host::release_request_pad (GstPad *pad)
{
  GstPtr<GstPad> peer = adopt (gst_pad_get_peer (pad));
  if (peer) {
    if (GST_PAD_IS_SRC (pad))
      gst_pad_unlink (pad, peer.get ());
    else
      gst_pad_unlink (peer.get (), pad);
  }
  gst_element_release_request_pad (GST_PAD_PARENT (pad), pad);
}

/* ---- building ------------------------------------------------------------------------ */

/* rtpsession holds a new source's packets on probation until two in sequence have come: the
 * first audio of a call waited a packet (20 ms) for it. Our peer's packets are SRTP,
 * authenticated before they get here, so there is nothing to be on probation against. */
static void
on_rtpbin_element_added (GstBin *, GstElement *element, gpointer)
{
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (element), "probation"))
    g_object_set (element, "probation", 0u, nullptr);
}

bool
CallSession::build ()
{
  GstElement *webrtc = make_element (bin_, "webrtcbin", nullptr);
  const bool queued = host_.queue_input ();
  GstElement *queue = queued ? make_element (bin_, "queue", nullptr) : nullptr;
  if (!webrtc || (queued && !queue)) {
    if (webrtc)
      gst_object_unref (gst_object_ref_sink (webrtc));
    if (queue)
      gst_object_unref (gst_object_ref_sink (queue));
    return false;
  }
  webrtc_ = ref_sink (webrtc);
  if (queue)
    queue_ = ref_sink (queue);

  gst_util_set_object_arg (G_OBJECT (webrtc), "bundle-policy", "max-bundle");
  g_object_set (webrtc, "latency", config_.latency_ms, "ice-transport-policy",
      config_.ice_transport_policy, nullptr);
  apply_ice_servers ();
  apply_ice_addresses ();
  rtpbin_ = adopt (gst_bin_get_by_name (GST_BIN (webrtc), "rtpbin"));
  if (rtpbin_) {
    /* Gaps become loss events, so that opusdec conceals them (PLC / FEC). */
    g_object_set (rtpbin_.get (), "do-lost", TRUE, nullptr);
    connect (rtpbin_.get (), "pad-added", G_CALLBACK (on_rtpbin_pad_added));
    connect (rtpbin_.get (), "on-bye-ssrc", G_CALLBACK (on_bye_ssrc));
    connect (rtpbin_.get (), "new-jitterbuffer", G_CALLBACK (on_new_jitterbuffer));
    connect (rtpbin_.get (), "element-added", G_CALLBACK (on_rtpbin_element_added));
  }
  /* A leaky queue: a stalled session never holds back the others or the capture. */
  if (queue) {
    g_object_set (queue, "max-size-buffers", 0, "max-size-bytes", 0, "max-size-time",
        static_cast<guint64> (200 * GST_MSECOND), nullptr);
    gst_util_set_object_arg (G_OBJECT (queue), "leaky", "downstream");
  }

  connect (webrtc, "on-negotiation-needed", G_CALLBACK (on_negotiation_needed));
  connect (webrtc, "on-ice-candidate", G_CALLBACK (on_ice_candidate));
  connect (webrtc, "notify::ice-gathering-state", G_CALLBACK (on_gathering_state));
  connect (webrtc, "notify::connection-state", G_CALLBACK (on_connection_state));
  connect (webrtc, "notify::ice-connection-state", G_CALLBACK (on_ice_connection_state));
  connect (webrtc, "pad-added", G_CALLBACK (on_pad_added));

  gst_bin_add (GST_BIN (bin_), webrtc);
  if (queue)
    gst_bin_add (GST_BIN (bin_), queue);

  /* Our RTP leaves through the queue's src pad, or the host's pad straight into webrtcbin
   * (below). The send probe sits on the pad that pushes: on webrtcbin's own sink pad the
   * caps it rewrites (our payload type) came after webrtcbin had refused them, and a peer
   * whose Opus is not the host's payload type (Chromium's 111) got no packet. */
  GstPtr<GstPad> webrtc_sink = adopt (gst_element_request_pad_simple (webrtc, "sink_%u"));
  const auto send_types = static_cast<GstPadProbeType> (GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM);
  if (queue) {
    GstPtr<GstPad> queue_src = adopt (gst_element_get_static_pad (queue, "src"));
    gst_pad_add_probe (queue_src.get (), send_types, send_probe, this, nullptr);
    gst_pad_link (queue_src.get (), webrtc_sink.get ());
  }
  send_pt_ = config_.payload_type;
  GstPtr<GstWebRTCRTPTransceiver> trans;
  g_object_get (webrtc_sink.get (), "transceiver", trans.out (), nullptr);
  if (trans)
    g_object_set (trans.get (), "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV,
        "codec-preferences", codec_preferences (config_.payload_type,
            config_.telephone_events).get (), nullptr);

  /* A session's elements follow the session, not the pipeline's state changes: the control
   * thread alone starts and stops them. Otherwise a hang-up that stops a webrtcbin while the
   * pipeline changes state deadlocks (the bin waits for the webrtcbin's state lock, whose
   * streaming thread waits in a synchronised sink's preroll until the bin goes on). */
  for (GstElement *e : {queue, webrtc})
    if (e)
      start_locked (bin_, e);

  input_ = host_.request_input (*this);
  if (!queue && input_) {
    /* On the pad that pushes: a ghost pad's proxy checks the caps with webrtcbin first. */
    probed_pad_ = input_;
    if (GST_IS_GHOST_PAD (input_.get ()))
      if (GstPad *target = gst_ghost_pad_get_target (GST_GHOST_PAD (input_.get ())))
        probed_pad_ = adopt (target);
    input_probe_ = gst_pad_add_probe (probed_pad_.get (), send_types, send_probe, this, nullptr);
  }
  GstPtr<GstPad> input_sink = queue ? adopt (gst_element_get_static_pad (queue, "sink")) :
      webrtc_sink;
  gst_pad_link (input_.get (), input_sink.get ());

  if (config_.connect_timeout_ms > 0) {
    std::weak_ptr<CallSession> weak = weak_from_this ();
    connect_timer_ = ctl_.timeout (config_.connect_timeout_ms, [weak] {
      if (auto s = weak.lock (); s && !s->finished_) {
        s->connect_timer_ = 0;
        s->end (EndReason::TIMEOUT, "the call did not start within " +
            std::to_string (s->config_.connect_timeout_ms) + " ms (connect-timeout): " +
            (s->is_connected_ ? "connected, but nothing came from the peer" :
                "ICE/DTLS did not connect"));
      }
    });
  }
  post (gst_structure_new ("voicecall-session-started", "role", G_TYPE_STRING,
      config_.offerer ? "caller" : "callee", nullptr));
  post_state ("connecting", gst_structure_new_empty ("voicecall-session-state"));
  if (muted_ || held_) { /* the element's mute / hold applies from the start */
    post (gst_structure_new ("voicecall-control", "muted", G_TYPE_BOOLEAN, muted_.load (),
        "held", G_TYPE_BOOLEAN, held_.load (), nullptr));
    gst_voice_signaller_session_control (signaller_.get (), id_.c_str (), muted_, held_);
  }
  return true;
}

/* Uses stun-server/turn-server, or else the servers the signaller knows (a WHIP server's
 * Link headers, or a callee's signaller::ice-servers). */
void
CallSession::apply_ice_servers ()
{
  GstElement *webrtc = webrtc_.get ();
  if (!config_.stun_server.empty ())
    g_object_set (webrtc, "stun-server", webrtcbin_url (config_.stun_server).c_str (), nullptr);
  if (!config_.turn_server.empty ())
    g_object_set (webrtc, "turn-server", webrtcbin_url (config_.turn_server).c_str (), nullptr);
  bool have_servers = !config_.stun_server.empty () || !config_.turn_server.empty ();
  if (!have_servers) {
    bool have_stun = false;
    for (const std::string &url : config_.signaller_ice_servers) {
      std::string u = webrtcbin_url (url);
      if (u.compare (0, 4, "stun") == 0 && !have_stun) {
        g_object_set (webrtc, "stun-server", u.c_str (), nullptr);
        have_stun = have_servers = true;
      } else if (u.compare (0, 4, "turn") == 0) {
        gboolean ok = FALSE;
        g_signal_emit_by_name (webrtc, "add-turn-server", u.c_str (), &ok);
        have_servers = have_servers || ok;
      }
      GST_INFO_OBJECT (bin_, "session %s: ICE server %s from the signaller", id_.c_str (),
          url.c_str ());
    }
  }
  host_only_ = !have_servers;
}

/* Lets libnice gather on the configured addresses only (it skips loopback otherwise), and
 * never ask routers for UPnP port mappings: that multicasts SSDP to the local network and
 * warns when its HTTP port is taken; browsers do not do it either. Checks are paced at 5 ms
 * (RFC 8445's lowest Ta) instead of libnice's 20: with regular nomination the controlling
 * side waits two ticks after the first valid pair before the pair is nominated, 40 ms of a
 * loopback call's 60 ms of ICE. A voice call has one component, so it sends few checks. */
void
CallSession::apply_ice_addresses ()
{
  GstPtr<GObject> ice, agent;
  g_object_get (webrtc_.get (), "ice-agent", ice.out (), nullptr);
  if (ice)
    g_object_get (ice.get (), "agent", agent.out (), nullptr);
  if (!agent) {
    if (!config_.ice_addresses.empty ())
      GST_WARNING_OBJECT (bin_, "no libnice agent: ice-addresses ignored");
    return;
  }
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (agent.get ()), "upnp"))
    g_object_set (agent.get (), "upnp", FALSE, nullptr);
  g_object_set (agent.get (), "stun-pacing-timer", ICE_PACING_MS, nullptr);
  if (config_.ice_addresses.empty ())
    return;
  std::stringstream in (config_.ice_addresses);
  std::string address;
  while (std::getline (in, address, ',')) {
    address.erase (0, address.find_first_not_of (" \t"));
    address.erase (address.find_last_not_of (" \t") + 1);
    if (address.empty ())
      continue;
    NiceAddress nice;
    nice_address_init (&nice);
    if (!nice_address_set_from_string (&nice, address.c_str ())) {
      GST_WARNING_OBJECT (bin_, "ice-addresses: \"%s\" is not an IP address", address.c_str ());
      continue;
    }
    nice_agent_add_local_address (NICE_AGENT (agent.get ()), &nice);
  }
}

/* ---- the audio we send --------------------------------------------------------------- */

/* Gives our RTP the payload type the peer negotiated (webrtcbin does not rewrite it) and the
 * SSRC our SDP named (send_ssrc_). */
GstPadProbeReturn
CallSession::send_probe (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  auto *s = static_cast<CallSession *> (data);
  /* Until DTLS is done webrtcbin blocks its transport, holding the first packet, and then
   * sends that packet (as old as the call setup) with the live ones: the far end's jitter
   * buffer times the stream from it and plays the whole call seconds late. So a packet waits
   * here for DTLS as long as it is the newest (a packet's time, until the next one comes),
   * and is dropped after that: the first packet leaves the moment DTLS is up, not when the
   * capture gives the next one (10 ms later on average). Only in the session's own queue
   * thread: without one (a conference) this is the mixer's thread, which serves everyone. */
  if ((info->type & GST_PAD_PROBE_TYPE_BUFFER) && !s->media_up_.load ()) {
    if (!s->queue_)
      return GST_PAD_PROBE_DROP;
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
    const GstClockTime d = GST_BUFFER_DURATION_IS_VALID (buf) ?
        std::min<GstClockTime> (GST_BUFFER_DURATION (buf), 60 * GST_MSECOND) :
        20 * GST_MSECOND;
    std::unique_lock<std::mutex> lk (s->media_lock_);
    if (!s->media_cond_.wait_for (lk, std::chrono::nanoseconds (d),
            [s] { return s->media_up_.load (); }))
      return GST_PAD_PROBE_DROP;
  }
  if ((info->type & GST_PAD_PROBE_TYPE_BUFFER) && !s->first_rtp_sent_us_.load ()) {
    gint64 none = 0;
    s->first_rtp_sent_us_.compare_exchange_strong (none, g_get_monotonic_time ());
  }
  int pt = s->send_pt_.load ();
  if (pt < 0)
    return GST_PAD_PROBE_OK;

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    if (!gst_rtp_buffer_map (buf, GST_MAP_READ, &rtp))
      return GST_PAD_PROBE_OK;
    int have = gst_rtp_buffer_get_payload_type (&rtp);
    guint32 have_ssrc = gst_rtp_buffer_get_ssrc (&rtp);
    guint32 ts = gst_rtp_buffer_get_timestamp (&rtp);
    gst_rtp_buffer_unmap (&rtp);
    /* Call control: a DTMF digit's event, or silence, in place of our audio. */
    GstBuffer *replaced = nullptr;
    const bool held = s->held_.load ();
    if (!held) {
      std::lock_guard<std::mutex> lk (s->dtmf_lock_);
      guint samples = 960; /* 20 ms */
      if (s->have_send_ts_ && ts - s->last_send_ts_ > 0 && ts - s->last_send_ts_ <= 48000)
        samples = ts - s->last_send_ts_;
      s->last_send_ts_ = ts;
      s->have_send_ts_ = true;
      if (s->dtmf_send_pt_ >= 0 && s->dtmf_sender_.busy ()) {
        if (auto slot = s->dtmf_sender_.next (ts, samples)) {
          guint8 payload[4];
          control::write_event (slot->event, payload);
          replaced = with_payload (buf, payload, sizeof payload, s->dtmf_send_pt_,
              slot->timestamp, slot->marker);
        }
      }
    }
    if (!replaced && s->muted_.load ())
      replaced = with_payload (buf, control::OPUS_SILENCE, sizeof control::OPUS_SILENCE, pt);
    if (replaced) {
      gst_buffer_unref (buf);
      if (gst_rtp_buffer_map (replaced, GST_MAP_WRITE, &rtp)) {
        gst_rtp_buffer_set_ssrc (&rtp, s->send_ssrc_);
        gst_rtp_buffer_unmap (&rtp);
      }
      GST_PAD_PROBE_INFO_DATA (info) = replaced;
      return GST_PAD_PROBE_OK;
    }
    if (have == pt && have_ssrc == s->send_ssrc_)
      return GST_PAD_PROBE_OK;
    buf = gst_buffer_make_writable (buf);
    if (gst_rtp_buffer_map (buf, GST_MAP_WRITE, &rtp)) {
      gst_rtp_buffer_set_payload_type (&rtp, pt);
      gst_rtp_buffer_set_ssrc (&rtp, s->send_ssrc_);
      gst_rtp_buffer_unmap (&rtp);
    }
    GST_PAD_PROBE_INFO_DATA (info) = buf;
  } else if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
    if (GST_EVENT_TYPE (event) != GST_EVENT_CAPS)
      return GST_PAD_PROBE_OK;
    GstCaps *caps;
    gst_event_parse_caps (event, &caps);
    GstPtr<GstCaps> fixed = adopt (gst_caps_copy (caps));
    gst_caps_set_simple (fixed.get (), "payload", G_TYPE_INT, pt, "ssrc", G_TYPE_UINT,
        s->send_ssrc_, nullptr);
    gst_event_unref (event);
    GST_PAD_PROBE_INFO_DATA (info) = gst_event_new_caps (fixed.get ());
  }
  return GST_PAD_PROBE_OK;
}

/* ---- the far end ---------------------------------------------------------------------- */

constexpr guint FASTSTART_PACKETS = 1;

/* Stamps each packet with when it reached the jitter buffer (stats::ARRIVAL_META_CAPS). */
static GstPadProbeReturn
arrival_probe (GstPad *pad, GstPadProbeInfo *info, gpointer)
{
  static GstStaticCaps reference = GST_STATIC_CAPS (stats::ARRIVAL_META_CAPS);
  GstElement *element = GST_PAD_PARENT (pad);
  GstClock *clock = element ? gst_element_get_clock (element) : nullptr;
  if (!clock)
    return GST_PAD_PROBE_OK;
  const GstClockTime now = gst_clock_get_time (clock);
  gst_object_unref (clock);
  const GstClockTime base = gst_element_get_base_time (element);
  GstBuffer *buffer = gst_buffer_make_writable (GST_PAD_PROBE_INFO_BUFFER (info));
  GST_PAD_PROBE_INFO_DATA (info) = buffer;
  gst_buffer_add_reference_timestamp_meta (buffer, gst_static_caps_get (&reference),
      now >= base ? now - base : 0, GST_CLOCK_TIME_NONE);
  return GST_PAD_PROBE_OK;
}

/* rtpjitterbuffer 1.22 checks faststart-min-packets only as a packet comes in, and only when
 * a packet heads its queue. The stream's first packet comes right behind its sticky events
 * (stream-start, caps, segment), which the jitter buffer's own thread has not pushed yet:
 * the check fails, and the first audio waited for the third packet, 40 ms. The first packet
 * therefore waits (at most FIRST_PACKET_WAIT) until that thread has pushed the segment. */
constexpr auto FIRST_PACKET_WAIT = std::chrono::milliseconds (20); /* a packet's time */

struct FirstPacket {
  std::mutex lock;
  std::condition_variable pushed;
  bool events_out = false;

  static FirstPacket &of (gpointer data)
  {
    return **static_cast<std::shared_ptr<FirstPacket> *> (data);
  }
  static void drop (gpointer data) { delete static_cast<std::shared_ptr<FirstPacket> *> (data); }
};

static GstPadProbeReturn
first_packet_segment_probe (GstPad *, GstPadProbeInfo *info, gpointer data)
{
  if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) != GST_EVENT_SEGMENT)
    return GST_PAD_PROBE_OK;
  FirstPacket &f = FirstPacket::of (data);
  std::lock_guard<std::mutex> lk (f.lock);
  f.events_out = true;
  f.pushed.notify_all ();
  return GST_PAD_PROBE_REMOVE;
}

static GstPadProbeReturn
first_packet_probe (GstPad *, GstPadProbeInfo *, gpointer data)
{
  FirstPacket &f = FirstPacket::of (data);
  std::unique_lock<std::mutex> lk (f.lock);
  f.pushed.wait_for (lk, FIRST_PACKET_WAIT, [&f] { return f.events_out; });
  return GST_PAD_PROBE_REMOVE;
}

void
play_first_packet_at_once (GstElement *jitterbuffer)
{
  g_object_set (jitterbuffer, "faststart-min-packets", FASTSTART_PACKETS, nullptr);
  GstPtr<GstPad> sink = adopt (gst_element_get_static_pad (jitterbuffer, "sink"));
  GstPtr<GstPad> src = adopt (gst_element_get_static_pad (jitterbuffer, "src"));
  if (!sink || !src)
    return;
  auto first = std::make_shared<FirstPacket> ();
  gst_pad_add_probe (src.get (), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      first_packet_segment_probe, new std::shared_ptr<FirstPacket> (first), FirstPacket::drop);
  gst_pad_add_probe (sink.get (), GST_PAD_PROBE_TYPE_BUFFER, first_packet_probe,
      new std::shared_ptr<FirstPacket> (first), FirstPacket::drop);
}

void
CallSession::on_new_jitterbuffer (GstElement *rtpbin, GstElement *jitterbuffer, guint session,
    guint ssrc, gpointer data)
{
  auto *s = static_cast<CallSession *> (data);
  GstPtr<GstPad> sink = adopt (gst_element_get_static_pad (jitterbuffer, "sink"));
  if (sink)
    gst_pad_add_probe (sink.get (), GST_PAD_PROBE_TYPE_BUFFER, arrival_probe, nullptr, nullptr);
  play_first_packet_at_once (jitterbuffer);
  if (!s->config_.adaptive)
    return;
  GstPtr<GstElement> rtpsession;
  g_signal_emit_by_name (rtpbin, "get-session", session, rtpsession.out ());
  if (rtpsession)
    g_object_set (rtpsession.get (), "rtcp-min-interval", ADAPTIVE_RTCP_MIN_INTERVAL, nullptr);
}

void
CallSession::on_pad_added (GstElement *webrtc, GstPad *pad, gpointer data)
{
  auto *s = static_cast<CallSession *> (data);
  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, first_audio_probe, s, nullptr);
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, held_probe, s, nullptr);
  /* Linked here, before the first buffer: an unlinked webrtcbin pad is a stream error. */
  GstPtr<GstPad> linked = s->host_.link_remote_stream (*s, pad);
  if (!linked)
    return;
  s->later ([linked] (CallSession &s) {
    if (s.output_pad_ || s.ending_) {
      s.host_.release_remote_stream (s, linked.get ());
      return;
    }
    s.output_pad_ = linked;
    s.host_.session_stream_ready (s);
  });
}

GstPadProbeReturn
CallSession::first_audio_probe (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  const gint64 now = g_get_monotonic_time (); /* not when the control thread gets to it */
  static_cast<CallSession *> (data)->later ([now] (CallSession &s) {
    if (s.got_audio_)
      return;
    s.got_audio_ = true;
    double ms = (now - s.started_us_) / 1000.0;
    GST_INFO_OBJECT (s.bin_, "session %s: first audio after %.1f ms", s.id_.c_str (), ms);
    s.post (gst_structure_new ("voicecall-first-audio", "setup-ms", G_TYPE_DOUBLE, ms, nullptr));
    /* The timeline of the setup, each step in ms from the session's start. */
    const bool caller = s.config_.offerer;
    const char *const names[N_STEPS] = {caller ? "offer-created-ms" : "offer-received-ms",
        caller ? "answer-received-ms" : "answer-sent-ms", "first-local-candidate-ms",
        "ice-checking-ms", "ice-connected-ms", "connected-ms"};
    GstStructure *st = gst_structure_new ("voicecall-setup", "role", G_TYPE_STRING,
        caller ? "caller" : "callee", nullptr);
    auto put = [&s, st] (const char *name, gint64 us) {
      if (us > 0)
        gst_structure_set (st, name, G_TYPE_DOUBLE, (us - s.started_us_) / 1000.0, nullptr);
    };
    for (int i = 0; i < N_STEPS; i++)
      put (names[i], s.milestones_[i]);
    put ("first-rtp-sent-ms", s.first_rtp_sent_us_.load ());
    put ("first-rtp-received-ms", s.first_rtp_received_us_.load ());
    put ("first-audio-ms", now);
    s.post (st);
  });
  return GST_PAD_PROBE_REMOVE;
}

/* Every RTP and RTCP packet of the peer, after SRTP, passes one of rtpbin's receive pads:
 * their time is how we know the peer is still there. */
void
CallSession::on_rtpbin_pad_added (GstElement *rtpbin, GstPad *pad, gpointer data)
{
  const gchar *name = GST_PAD_NAME (pad);
  guint session, ssrc, pt;
  if (sscanf (name, "recv_rtp_src_%u_%u_%u", &session, &ssrc, &pt) == 3) {
    /* The far end's audio comes from this SSRC: its BYE is a hang-up. */
    static_cast<CallSession *> (data)->later ([ssrc] (CallSession &s) {
      s.media_ssrcs_.insert (ssrc);
    });
    return;
  }
  if (GST_PAD_DIRECTION (pad) != GST_PAD_SINK ||
      !(g_str_has_prefix (name, "recv_rtp_sink_") || g_str_has_prefix (name, "recv_rtcp_sink_")))
    return;
  bool rtp = g_str_has_prefix (name, "recv_rtp_sink_");
  gst_pad_add_probe (pad, static_cast<GstPadProbeType> (GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST), rtp ? heard_rtp_probe : heard_probe, data, nullptr);
}

GstPadProbeReturn
CallSession::heard_probe (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  static_cast<CallSession *> (data)->last_heard_us_ = g_get_monotonic_time ();
  return GST_PAD_PROBE_OK;
}

/* On hold we hear silence from this peer: its Opus payloads become the silence frame. */
GstPadProbeReturn
CallSession::held_probe (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  auto *s = static_cast<CallSession *> (data);
  if (!s->held_.load ())
    return GST_PAD_PROBE_OK;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  if (GstBuffer *silent = with_payload (buf, control::OPUS_SILENCE,
          sizeof control::OPUS_SILENCE)) {
    gst_buffer_unref (buf);
    GST_PAD_PROBE_INFO_DATA (info) = silent;
  }
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn
CallSession::heard_rtp_probe (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  auto *s = static_cast<CallSession *> (data);
  gint64 now = g_get_monotonic_time (), none = 0;
  s->last_heard_us_ = s->last_rtp_us_ = now;
  if (!s->first_rtp_received_us_.load ())
    s->first_rtp_received_us_.compare_exchange_strong (none, now);
  /* The peer's DTMF: webrtcbin 1.22 has no path for a second payload type of a stream (it
   * drops telephone-event packets, GStreamer issue 4458), so they are taken here, after
   * SRTP and before rtpbin, and go no further. */
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER)
    return s->take_dtmf (GST_PAD_PROBE_INFO_BUFFER (info)) ? GST_PAD_PROBE_DROP :
        GST_PAD_PROBE_OK;
  {
    std::lock_guard<std::mutex> lk (s->dtmf_lock_);
    if (s->dtmf_recv_pts_.empty ())
      return GST_PAD_PROBE_OK;
  }
  GstBufferList *list = gst_buffer_list_make_writable (GST_PAD_PROBE_INFO_BUFFER_LIST (info));
  for (guint i = 0; i < gst_buffer_list_length (list);) {
    if (s->take_dtmf (gst_buffer_list_get (list, i)))
      gst_buffer_list_remove (list, i, 1);
    else
      i++;
  }
  GST_PAD_PROBE_INFO_DATA (info) = list;
  return gst_buffer_list_length (list) ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
}

bool
CallSession::take_dtmf (GstBuffer *buf)
{
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (!gst_rtp_buffer_map (buf, GST_MAP_READ, &rtp))
    return false;
  int pt = gst_rtp_buffer_get_payload_type (&rtp);
  std::optional<control::DtmfReceiver::Digit> digit;
  bool taken = false;
  {
    std::lock_guard<std::mutex> lk (dtmf_lock_);
    auto it = dtmf_recv_pts_.find (pt);
    if (it != dtmf_recv_pts_.end ()) {
      taken = true;
      auto e = control::parse_event (static_cast<const guint8 *> (
          gst_rtp_buffer_get_payload (&rtp)), gst_rtp_buffer_get_payload_len (&rtp));
      if (e)
        digit = dtmf_receiver_.packet (gst_rtp_buffer_get_timestamp (&rtp), *e, it->second);
    }
  }
  gst_rtp_buffer_unmap (&rtp);
  if (digit) {
    control::DtmfReceiver::Digit d = *digit;
    later ([d] (CallSession &s) {
      GST_INFO_OBJECT (s.bin_, "session %s: DTMF %c (%u ms)", s.id_.c_str (), d.digit,
          d.duration_ms);
      char text[2] = {d.digit, '\0'};
      s.post (gst_structure_new ("voicecall-dtmf", "digit", G_TYPE_STRING, text, "event",
          G_TYPE_INT, d.event, "duration-ms", G_TYPE_UINT, d.duration_ms, "volume", G_TYPE_INT,
          -d.volume, nullptr));
    });
  }
  return taken;
}

/* A BYE for the SSRC that carries the far end's audio ends the call at once. A BYE for
 * another SSRC ends it only if the peer's RTP stops with it: rtpsession also says BYE for an
 * SSRC it retires while its RTP goes on (seen a few seconds into in-process calls), and a
 * peer may name only such an SSRC when it hangs up. */
void
CallSession::on_bye_ssrc (GstElement *rtpbin, guint session, guint ssrc, gpointer data)
{
  static_cast<CallSession *> (data)->later ([ssrc] (CallSession &s) {
    bool media = s.media_ssrcs_.count (ssrc) > 0;
    GST_INFO_OBJECT (s.bin_, "session %s: RTCP BYE from SSRC %u (%s)", s.id_.c_str (), ssrc,
        media ? "the audio's" : "not the audio's");
    if (s.ending_)
      return;
    if (media) {
      s.end (EndReason::REMOTE_HANG_UP, "the peer sent RTCP BYE");
      return;
    }
    if (s.bye_check_timer_)
      return;
    gint64 bye_us = g_get_monotonic_time ();
    std::weak_ptr<CallSession> weak = s.weak_from_this ();
    s.bye_check_timer_ = s.ctl_.timeout (BYE_SILENCE_MS + BYE_IN_FLIGHT_MS, [weak, bye_us, ssrc] {
      auto s = weak.lock ();
      if (!s || s->finished_)
        return;
      s->bye_check_timer_ = 0;
      if (s->last_rtp_us_.load () > bye_us + BYE_IN_FLIGHT_MS * 1000) {
        GST_INFO_OBJECT (s->bin_, "session %s: RTP goes on after the BYE of SSRC %u: no "
            "hang-up", s->id_.c_str (), ssrc);
        return;
      }
      s->end (EndReason::REMOTE_HANG_UP, "the peer sent RTCP BYE");
    });
  });
}

/* ---- negotiation ----------------------------------------------------------------------- */

GstPtr<GstPromise>
CallSession::promise (const char *what, Step step)
{
  struct Context {
    std::weak_ptr<CallSession> session;
    ContextThread *ctl;
    const char *what;
    Step step;
  };
  /* The change func only hands the promise to the control thread: nothing waits or works
   * in webrtcbin's thread. There the promise is already resolved, so reading it never
   * blocks. */
  auto changed = [] (GstPromise *promise, gpointer data) {
    auto *ctx = static_cast<Context *> (data);
    GstPtr<GstPromise> owned = ref (promise);
    std::weak_ptr<CallSession> weak = ctx->session;
    const char *what = ctx->what;
    Step step = ctx->step;
    ctx->ctl->invoke ([owned, weak, what, step] {
      auto s = weak.lock ();
      if (!s || s->finished_)
        return;
      if (gst_promise_wait (owned.get ()) != GST_PROMISE_RESULT_REPLIED) {
        GST_DEBUG_OBJECT (s->bin_, "session %s: %s was interrupted", s->id_.c_str (), what);
        return;
      }
      const GstStructure *reply = gst_promise_get_reply (owned.get ());
      if (reply && gst_structure_has_field (reply, "error")) {
        GError *e = nullptr;
        gst_structure_get (reply, "error", G_TYPE_ERROR, &e, nullptr);
        GUnique<GError> err (e);
        std::string message = std::string (what) + " failed: " +
            (err ? err->message : "unknown error");
        GST_ELEMENT_WARNING (s->bin_, STREAM, FAILED, ("The call %s could not be negotiated: "
            "%s", s->id_.c_str (), message.c_str ()), (nullptr));
        s->end (EndReason::ERROR, message);
        return;
      }
      ((*s).*step) (reply);
    });
  };
  return adopt (gst_promise_new_with_change_func (changed,
      new Context {weak_from_this (), &ctl_, what, step},
      [] (gpointer data) { delete static_cast<Context *> (data); }));
}

void
CallSession::on_negotiation_needed (GstElement *webrtc, gpointer data)
{
  static_cast<CallSession *> (data)->later ([] (CallSession &s) {
    if (!s.config_.offerer || s.ending_)
      return;
    GST_DEBUG_OBJECT (s.bin_, "session %s: creating the offer", s.id_.c_str ());
    g_signal_emit_by_name (s.webrtc_.get (), "create-offer", nullptr,
        s.promise ("creating the offer", &CallSession::offer_created).get ());
  });
}

void
CallSession::mark (Milestone m)
{
  if (!milestones_[m])
    milestones_[m] = g_get_monotonic_time ();
}

void
CallSession::answer (const GstWebRTCSessionDescription *offer)
{
  mark (OFFER);
  int media = sdp::first_audio_media (offer->sdp);
  int pt = media >= 0 ? sdp::opus_payload (offer->sdp, media) : -1;
  if (pt < 0) {
    std::string why = "the offer has no Opus audio (opus/48000/2): nothing in common";
    GST_ELEMENT_WARNING (bin_, STREAM, CODEC_NOT_FOUND, ("Call %s from %s refused: %s",
        id_.c_str (), peer_.c_str (), why.c_str ()), (nullptr));
    end (EndReason::REFUSED, why);
    return;
  }
  g_signal_emit_by_name (webrtc_.get (), "set-remote-description", offer,
      promise ("applying the offer", &CallSession::offer_set).get ());
}

void
CallSession::remote_answer (const GstWebRTCSessionDescription *answer)
{
  if (ending_)
    return;
  mark (ANSWER);
  negotiated (answer->sdp);
  g_signal_emit_by_name (webrtc_.get (), "set-remote-description", answer,
      promise ("applying the answer", &CallSession::answer_set).get ());
}

void
CallSession::remote_candidate (guint mline, const std::string &candidate)
{
  if (!ending_)
    g_signal_emit_by_name (webrtc_.get (), "add-ice-candidate", mline, candidate.c_str ());
}

void
CallSession::offer_set (const GstStructure *)
{
  g_signal_emit_by_name (webrtc_.get (), "create-answer", nullptr,
      promise ("creating the answer", &CallSession::answer_created).get ());
}

void
CallSession::answer_set (const GstStructure *)
{
  GST_DEBUG_OBJECT (bin_, "session %s: answer applied", id_.c_str ());
}

void
CallSession::offer_created (const GstStructure *reply)
{
  send_local_description (reply, "offer");
}

void
CallSession::answer_created (const GstStructure *reply)
{
  send_local_description (reply, "answer");
}

/* Sets our description and hands it to the signaller. */
void
CallSession::send_local_description (const GstStructure *reply, const char *field)
{
  if (ending_)
    return;
  GstWebRTCSessionDescription *desc = nullptr;
  if (reply)
    gst_structure_get (reply, field, GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &desc, nullptr);
  GUnique<GstWebRTCSessionDescription> owned (desc);
  if (!desc) {
    end (EndReason::ERROR, std::string ("webrtcbin gave no ") + field);
    return;
  }
  int media = sdp::first_audio_media (desc->sdp);
  /* webrtcbin 1.22 answers with the first codec only (gst_sdp_media_set_media_from_caps maps
   * one caps structure), and offers only what the caps of its input allow (once our Opus
   * caps have reached it, its codec preferences are cut down to them): the telephone-events
   * are added here. */
  if (media >= 0) {
    sdp::add_telephone_events (desc->sdp, media, config_.telephone_events);
    sdp::set_ssrc (desc->sdp, media, send_ssrc_, "voicecall-" + id_.substr (0, 8));
  }
  if (desc->type == GST_WEBRTC_SDP_TYPE_ANSWER) {
    if (media >= 0)
      send_pt_ = sdp::opus_payload (desc->sdp, media);
    negotiated (desc->sdp);
    GST_DEBUG_OBJECT (bin_, "session %s: sending with payload type %d", id_.c_str (),
        send_pt_.load ());
  }
  mark (desc->type == GST_WEBRTC_SDP_TYPE_OFFER ? OFFER : ANSWER);
  g_signal_emit_by_name (webrtc_.get (), "set-local-description", desc, nullptr);
  gst_voice_signaller_send_sdp (signaller_.get (), id_.c_str (), desc);
}

/* Both sides use the answer's payload types. We send DTMF with the telephone-event of Opus's
 * clock rate (its timestamps are those of our audio), and take it at any rate. */
void
CallSession::negotiated (const GstSDPMessage *answer)
{
  int media = sdp::first_audio_media (answer);
  auto events = media >= 0 ? sdp::telephone_events (answer, media) :
      std::vector<std::pair<int, int>> ();
  std::lock_guard<std::mutex> lk (dtmf_lock_);
  dtmf_recv_pts_.clear ();
  dtmf_send_pt_ = -1;
  for (auto [pt, rate] : events) {
    dtmf_recv_pts_[pt] = rate;
    if (rate == 48000 && dtmf_send_pt_ < 0)
      dtmf_send_pt_ = pt;
  }
  GST_INFO_OBJECT (bin_, "session %s: %zu telephone-event payload type(s), sending DTMF with "
      "%d", id_.c_str (), events.size (), dtmf_send_pt_);
}

/* ---- candidates ------------------------------------------------------------------------ */

/* Candidates go to the signaller from the control thread, as does the end of them, so the
 * signaller gets them in order. */
void
CallSession::on_ice_candidate (GstElement *webrtc, guint mline, const gchar *candidate,
    gpointer data)
{
  std::string cand = candidate ? candidate : "";
  static_cast<CallSession *> (data)->later ([mline, cand] (CallSession &s) {
    if (s.ending_ || s.gathering_done_)
      return;
    if (!cand.empty ()) {
      s.mark (FIRST_LOCAL_CANDIDATE);
      gst_voice_signaller_add_ice (s.signaller_.get (), s.id_.c_str (), mline, cand.c_str ());
    }
    s.gathering (Gathering::CANDIDATE);
  });
}

void
CallSession::on_gathering_state (GstElement *webrtc, GParamSpec *, gpointer data)
{
  GstWebRTCICEGatheringState state;
  g_object_get (webrtc, "ice-gathering-state", &state, nullptr);
  if (state != GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
    return;
  static_cast<CallSession *> (data)->later ([] (CallSession &s) {
    GST_DEBUG_OBJECT (s.bin_, "session %s: webrtcbin says gathering is complete", s.id_.c_str ());
    s.gathering (Gathering::COMPLETE);
  });
}

/* The one place that decides that this session has all its candidates, and tells the
 * signaller once. With host candidates only, they all come at once, but webrtcbin reports
 * gathering complete ~200 ms later, and a WHIP/JSON answer waits for that: end it once they
 * stop coming (host_quiet_ms). */
void
CallSession::gathering (Gathering event)
{
  if (gathering_done_ || ending_)
    return;
  if (event == Gathering::CANDIDATE) {
    if (!host_only_)
      return;
    ctl_.cancel (quiet_timer_);
    std::weak_ptr<CallSession> weak = weak_from_this ();
    quiet_timer_ = ctl_.timeout (config_.host_quiet_ms, [weak] {
      if (auto s = weak.lock (); s && !s->finished_) {
        s->quiet_timer_ = 0;
        s->gathering (Gathering::QUIET);
      }
    });
    return;
  }
  gathering_done_ = true;
  ctl_.cancel (std::exchange (quiet_timer_, 0));
  GST_DEBUG_OBJECT (bin_, "session %s: end of candidates (%s)", id_.c_str (),
      event == Gathering::QUIET ? "host candidates stopped coming" : "gathering complete");
  gst_voice_signaller_add_ice (signaller_.get (), id_.c_str (), 0, nullptr);
}

/* ---- connection ----------------------------------------------------------------------- */

void
CallSession::on_connection_state (GstElement *webrtc, GParamSpec *, gpointer data)
{
  GstWebRTCPeerConnectionState state;
  g_object_get (webrtc, "connection-state", &state, nullptr);
  auto *s = static_cast<CallSession *> (data);
  GST_INFO_OBJECT (s->bin_, "session %s: connection state %d", s->id_.c_str (), state);
  if (state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED) {
    {
      std::lock_guard<std::mutex> lk (s->media_lock_);
      s->media_up_ = true;
    }
    s->media_cond_.notify_all ();
    s->later ([] (CallSession &s) { s.connected (); });
  } else if (state == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED) {
    s->later ([] (CallSession &s) {
      if (s.ending_)
        return;
      GST_ELEMENT_WARNING (s.bin_, RESOURCE, OPEN_READ_WRITE,
          ("The call %s with %s failed to connect (ICE/DTLS): check that the peer is "
              "reachable, or configure stun-server/turn-server.", s.id_.c_str (),
              s.peer_.c_str ()), (nullptr));
      s.end (EndReason::ICE_FAILED, "ICE/DTLS failed");
    });
  }
}

void
CallSession::on_ice_connection_state (GstElement *webrtc, GParamSpec *, gpointer data)
{
  GstWebRTCICEConnectionState state;
  g_object_get (webrtc, "ice-connection-state", &state, nullptr);
  if (state != GST_WEBRTC_ICE_CONNECTION_STATE_CHECKING &&
      state != GST_WEBRTC_ICE_CONNECTION_STATE_CONNECTED &&
      state != GST_WEBRTC_ICE_CONNECTION_STATE_COMPLETED)
    return;
  Milestone m = state == GST_WEBRTC_ICE_CONNECTION_STATE_CHECKING ? ICE_CHECKING : ICE_CONNECTED;
  gint64 now = g_get_monotonic_time ();
  static_cast<CallSession *> (data)->later ([m, now] (CallSession &s) {
    if (!s.milestones_[m])
      s.milestones_[m] = now;
  });
}

void
CallSession::connected ()
{
  if (is_connected_ || ending_)
    return;
  is_connected_ = true;
  mark (CONNECTED);
  connected_us_ = g_get_monotonic_time ();
  watchdog ();
  /* The connected state says which candidates won: ask webrtcbin first. */
  g_signal_emit_by_name (webrtc_.get (), "get-stats", nullptr,
      promise ("reading the selected candidates", &CallSession::connected_stats_read).get ());
}

void
CallSession::connected_stats_read (const GstStructure *reply)
{
  if (ending_)
    return;
  GstStructure *st = gst_structure_new_empty ("voicecall-session-state");
  stats::Sample sample;
  if (reply) {
    stats::parse (reply, &sample); /* no RTP stream yet, but the candidate pair */
    if (!sample.local_candidate_type.empty ())
      gst_structure_set (st, "local-candidate-type", G_TYPE_STRING,
          sample.local_candidate_type.c_str (), nullptr);
    if (!sample.remote_candidate_type.empty ())
      gst_structure_set (st, "remote-candidate-type", G_TYPE_STRING,
          sample.remote_candidate_type.c_str (), nullptr);
  }
  GST_INFO_OBJECT (bin_, "session %s: connected after %.1f ms", id_.c_str (),
      (connected_us_ - started_us_) / 1000.0);
  post_state ("connected", st);
}

/* Ends a connected session whose peer has sent nothing (no RTP, no RTCP) for peer-timeout:
 * it vanished (killed, unplugged, a tab closed without hanging up). Until the peer's first
 * packet the call has not really started (our side of DTLS may be up before the peer's:
 * with loss its last flight is retransmitted seconds later), and connect-timeout applies. */
void
CallSession::watchdog ()
{
  gint64 now = g_get_monotonic_time (), heard = last_heard_us_.load ();
  if (heard)
    ctl_.cancel (std::exchange (connect_timer_, 0));
  gint64 silent_ms = (now - (heard ? heard : connected_us_)) / 1000;
  bool waiting_to_start = !heard && config_.connect_timeout_ms > 0;
  if (config_.peer_timeout_ms > 0 && !waiting_to_start &&
      silent_ms >= config_.peer_timeout_ms) {
    end (EndReason::TIMEOUT, "nothing heard from the peer for " + std::to_string (silent_ms) +
        " ms (peer-timeout)");
    return;
  }
  std::weak_ptr<CallSession> weak = weak_from_this ();
  guint period = config_.peer_timeout_ms ?
      std::min (WATCHDOG_MAX_PERIOD_MS, config_.peer_timeout_ms) : WATCHDOG_MAX_PERIOD_MS;
  watchdog_timer_ = ctl_.timeout (period,
      [weak] {
        if (auto s = weak.lock (); s && !s->finished_) {
          s->watchdog_timer_ = 0;
          s->watchdog ();
        }
      });
}

/* ---- statistics ------------------------------------------------------------------------ */

void
CallSession::request_stats ()
{
  if (!ending_)
    g_signal_emit_by_name (webrtc_.get (), "get-stats", nullptr,
        promise ("reading statistics", &CallSession::stats_read).get ());
}

void
CallSession::stats_read (const GstStructure *reply)
{
  stats::Sample sample;
  if (ending_ || !reply || !stats::parse (reply, &sample))
    return;
  if (have_stats_) {
    auto report = stats::report (last_stats_, sample, jitter_buffer_ms_,
        host_.playout_stats (*this));
    GstStructure *st = stats::to_structure (report, sample);
    gst_structure_set (st, "muted", G_TYPE_BOOLEAN, muted_.load (), "held", G_TYPE_BOOLEAN,
        held_.load (), nullptr);
    post (st);
    host_.session_stats (*this, report, sample.time_s - last_stats_.time_s);
  }
  last_stats_ = sample;
  have_stats_ = true;
}

void
CallSession::set_jitter_buffer (guint ms)
{
  /* webrtcbin hands its latency to rtpbin, which sets it on its jitter buffers (and on
   * those it makes later). */
  jitter_buffer_ms_ = ms;
  g_object_set (webrtc_.get (), "latency", ms, nullptr);
}

/* ---- call control ------------------------------------------------------------------------ */

void
CallSession::apply_control ()
{
  bool muted = own_mute_ || all_mute_ || own_hold_ || all_hold_;
  bool held = own_hold_ || all_hold_;
  if (muted == muted_.load () && held == held_.load ())
    return;
  muted_ = muted;
  held_ = held;
  GST_INFO_OBJECT (bin_, "session %s: %s, %s", id_.c_str (), muted ? "muted" : "not muted",
      held ? "on hold" : "not on hold");
  if (!ending_) {
    post (gst_structure_new ("voicecall-control", "muted", G_TYPE_BOOLEAN, muted, "held",
        G_TYPE_BOOLEAN, held, nullptr));
    gst_voice_signaller_session_control (signaller_.get (), id_.c_str (), muted, held);
  }
}

void
CallSession::set_mute (bool on)
{
  own_mute_ = on;
  apply_control ();
}

void
CallSession::set_hold (bool on)
{
  own_hold_ = on;
  apply_control ();
}

void
CallSession::set_all (bool mute, bool hold)
{
  all_mute_ = mute;
  all_hold_ = hold;
  apply_control ();
}

bool
CallSession::send_dtmf (const std::string &digits, guint duration_ms, std::string *why)
{
  if (!control::valid_digits (digits)) {
    *why = "\"" + digits + "\" is not DTMF: use 0-9, *, #, A-D";
    return false;
  }
  if (ending_) {
    *why = "the call is ending";
    return false;
  }
  std::lock_guard<std::mutex> lk (dtmf_lock_);
  if (dtmf_send_pt_ < 0) {
    *why = dtmf_recv_pts_.empty () ? "the peer did not negotiate telephone-event (RFC 4733)" :
        "the peer negotiated telephone-event only at a rate other than Opus's 48000 Hz";
    return false;
  }
  dtmf_sender_.queue (digits, duration_ms);
  GST_INFO_OBJECT (bin_, "session %s: sending DTMF %s (%u ms each)", id_.c_str (),
      digits.c_str (), duration_ms);
  return true;
}

/* ---- the end ----------------------------------------------------------------------------- */

/* Our RTCP BYE has been pushed towards the network when rtpsession sends EOS after it. */
GstPadProbeReturn
CallSession::bye_sent_probe (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) != GST_EVENT_EOS)
    return GST_PAD_PROBE_OK;
  static_cast<CallSession *> (data)->later ([] (CallSession &s) {
    GST_DEBUG_OBJECT (s.bin_, "session %s: BYE sent", s.id_.c_str ());
    s.finish ();
  });
  return GST_PAD_PROBE_OK;
}

void
CallSession::end (EndReason reason, const std::string &detail, bool tell_peer)
{
  if (ending_)
    return;
  ending_ = true;
  end_reason_ = reason;
  end_detail_ = detail;
  GST_INFO_OBJECT (bin_, "session %s (%s) ending: %s (%s)", id_.c_str (), peer_.c_str (),
      end_reason_name (reason), detail.c_str ());
  for (guint *timer : {&quiet_timer_, &connect_timer_, &watchdog_timer_, &bye_check_timer_})
    ctl_.cancel (std::exchange (*timer, 0));

  /* The signalling's goodbye: a WHIP client DELETEs, a server answers a pending offer with
   * the reason or forgets the session. */
  if (tell_peer) {
    bool normal = reason == EndReason::LOCAL_HANG_UP || reason == EndReason::REMOTE_HANG_UP;
    gst_voice_signaller_end_session (signaller_.get (), id_.c_str (),
        normal ? nullptr : detail.c_str ());
  }

  /* Our input is cut first, so that nothing follows the EOS below. */
  release_input ();
  /* The media path's goodbye: EOS into rtpsession makes it send RTCP BYE, then EOS on its
   * RTCP pad. It goes to rtpsession itself: in webrtcbin 1.22 an EOS into the sink pad
   * stops in rtprtxsend's queue and never reaches rtpsession. */
  GstPtr<GstElement> rtpsession;
  if (rtpbin_ && is_connected_)
    g_signal_emit_by_name (rtpbin_.get (), "get-session", 0u, rtpsession.out ());
  GstPtr<GstPad> send_sink, rtcp_src;
  if (rtpsession) {
    send_sink = adopt (gst_element_get_static_pad (rtpsession.get (), "send_rtp_sink"));
    rtcp_src = adopt (gst_element_get_static_pad (rtpsession.get (), "send_rtcp_src"));
  }
  if (!send_sink || !rtcp_src) {
    finish ();
    return;
  }
  gst_pad_add_probe (rtcp_src.get (), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, bye_sent_probe,
      this, nullptr);
  gst_pad_send_event (send_sink.get (), gst_event_new_eos ());
  std::weak_ptr<CallSession> weak = weak_from_this ();
  bye_timer_ = ctl_.timeout (config_.bye_wait_ms, [weak] {
    if (auto s = weak.lock (); s && !s->finished_) {
      s->bye_timer_ = 0;
      GST_DEBUG_OBJECT (s->bin_, "session %s: no BYE within %u ms", s->id_.c_str (),
          s->config_.bye_wait_ms);
      s->finish ();
    }
  });
}

/* The host's input pad, and the send probe when it sits there. */
void
CallSession::release_input ()
{
  if (!input_)
    return;
  if (input_probe_)
    gst_pad_remove_probe (probed_pad_.get (), std::exchange (input_probe_, 0));
  probed_pad_.reset ();
  host_.release_input (*this, std::exchange (input_, nullptr).get ());
}

/* The one place where a session's resources go. */
void
CallSession::finish ()
{
  if (finished_)
    return;
  if (!ending_) {
    ending_ = true;
    end_reason_ = EndReason::LOCAL_HANG_UP;
  }
  finished_ = true;
  for (guint *timer : {&quiet_timer_, &connect_timer_, &watchdog_timer_, &bye_timer_,
           &bye_check_timer_})
    ctl_.cancel (std::exchange (*timer, 0));
  for (auto &[object, handler] : handlers_)
    g_signal_handler_disconnect (object.get (), handler);
  handlers_.clear ();

  release_input ();
  if (output_pad_)
    host_.release_remote_stream (*this, std::exchange (output_pad_, nullptr).get ());
  /* Out of the bin first, then stopped: stopping may wait for a streaming thread that a
   * synchronised sink holds in preroll while the pipeline changes state, and the bin's state
   * change must not then wait for this webrtcbin's locks. */
  gst_bin_remove (GST_BIN (bin_), webrtc_.get ());
  if (queue_)
    gst_bin_remove (GST_BIN (bin_), queue_.get ());
  gst_element_set_state (webrtc_.get (), GST_STATE_NULL);
  if (queue_)
    gst_element_set_state (queue_.get (), GST_STATE_NULL);
  rtpbin_.reset ();

  guint64 duration_ms = is_connected_ ? (g_get_monotonic_time () - connected_us_) / 1000 : 0;
  const char *reason = end_reason_name (end_reason_);
  GST_INFO_OBJECT (bin_, "session %s (%s) ended: %s after %" G_GUINT64_FORMAT " ms",
      id_.c_str (), peer_.c_str (), reason, duration_ms);
  post_state ("ended", gst_structure_new ("voicecall-session-state", "reason", G_TYPE_STRING,
      reason, "detail", G_TYPE_STRING, end_detail_.c_str (), "duration-ms", G_TYPE_UINT64,
      duration_ms, nullptr));
  post (gst_structure_new ("voicecall-session-ended", "reason", G_TYPE_STRING, reason,
      "detail", G_TYPE_STRING, end_detail_.c_str (), nullptr));
  host_.session_ended (*this, end_reason_);
}

} // namespace vc
