/* gst-voicecall: one call with one peer, as an object that owns its life.
 *
 * A CallSession owns its webrtcbin and queue (inside the voicecall bin), the pads and probes
 * that join them to the bin's tee and selector, its webrtcbin promise chain, its timers and
 * its statistics. It connects its own signals with a weak reference to itself (no lookup by
 * id), and it ends in one place, end (), which says why:
 *
 *   connecting ──ICE+DTLS up──▶ connected ──────────────┐
 *        │                                               ▼
 *        └── refused / ice failed / timeout / error ──▶ ended (reason, duration)
 *
 * Ending first tells the peer on the media path (EOS into webrtcbin: RTCP BYE, and DTLS
 * close_notify where dtlsenc sends it) and on the signalling path (end_session: a WHIP
 * client DELETEs), waits for the BYE to leave (bounded), then removes its elements and posts
 * `voicecall-session-state` (ended) and `voicecall-session-ended`.
 *
 * It knows its element only as a Host (below) and a GstElement to live in and post from: it
 * never includes the element's file. Everything but the constructor's callers' streaming
 * callbacks runs in the element's control thread.
 */
#pragma once

#include "adaptive.h"
#include "callcontrol.h"
#include "callstats.h"
#include "contextthread.h"
#include "gstptr.h"
#include "signaller.h"

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace vc {

/* Sets `jitterbuffer` (an rtpjitterbuffer) to push the stream's first packet as soon as it
 * comes, not after its latency, which is for reordering in steady state: a call is heard
 * that much sooner. */
void play_first_packet_at_once (GstElement *jitterbuffer);

enum class EndReason { LOCAL_HANG_UP, REMOTE_HANG_UP, TIMEOUT, ICE_FAILED, REFUSED, ERROR };

/* "local hang-up", "remote hang-up", "timeout", "ice failed", "refused", "error" */
const char *end_reason_name (EndReason reason);

struct SessionConfig {
  bool offerer = false;     /* we make the offer (a caller) */
  int payload_type = 96;    /* the Opus payload type we send with */
  guint latency_ms = 60;    /* jitter buffer */
  std::string stun_server;  /* in webrtcbin's form (stun://host:port), may be empty */
  std::string turn_server;  /* turn://user:pass@host:port, may be empty */
  std::vector<std::string> signaller_ice_servers; /* used when stun/turn are both empty */
  std::string ice_addresses; /* comma-separated local addresses for libnice */
  GstWebRTCICETransportPolicy ice_transport_policy = GST_WEBRTC_ICE_TRANSPORT_POLICY_ALL;
  bool adaptive = true;     /* RTCP every second for the adaptation */
  guint connect_timeout_ms = 30000; /* 0: never */
  guint peer_timeout_ms = 5000;     /* 0: never */
  guint host_quiet_ms = 50; /* host candidates only: gathering ends once they stop coming */
  guint bye_wait_ms = 250;  /* how long an ending waits for its RTCP BYE to leave */
  /* telephone-event (RFC 4733) payload types and clock rates to put in our codec
   * preferences: the offer's (answering) or our own (offering) */
  std::vector<std::pair<int, int>> telephone_events;
  bool mute = false, hold = false; /* the element's mute / hold, for every session */
};

class CallSession : public std::enable_shared_from_this<CallSession> {
public:
  /* What a session asks of the element that holds it. Control thread unless said. */
  class Host {
  public:
    virtual ~Host () = default;
    /* A new pad that carries the audio to send to this session (a tee's request pad, or
     * the session's own mix); the session gives it back with release_input when it ends. */
    virtual GstPtr<GstPad> request_input (CallSession &session) = 0;
    /* Whether a leaky queue (a thread of its own) takes that pad's buffers into webrtcbin
     * (the default), so that nothing upstream ever waits for this session's sending. Without
     * it the pad's own thread sends (rtpbin, SRTP, sendmsg): one thread wake-up less per
     * packet. webrtcbin does not hold that thread: its transport blocks RTP until the DTLS
     * keys are set, and the session drops our RTP until the connection is up, which comes
     * after them; its nicesink is not synchronised. */
    virtual bool queue_input () { return true; }
    virtual void release_input (CallSession &session, GstPad *pad)
    {
      release_request_pad (pad);
    }
    /* The far end's stream appeared on `src`: link it (any thread, before data flows);
     * returns the pad it was linked to, given back with release_remote_stream when the
     * session ends. */
    virtual GstPtr<GstPad> link_remote_stream (CallSession &session, GstPad *src) = 0;
    virtual void release_remote_stream (CallSession &session, GstPad *pad)
    {
      release_request_pad (pad);
    }
    /* Unlinks a request pad and gives it back to its element. */
    static void release_request_pad (GstPad *pad);
    /* The stream link_remote_stream linked is there (control thread). */
    virtual void session_stream_ready (CallSession &session) = 0;
    /* One stats interval's report. */
    virtual void session_stats (CallSession &session, const stats::Report &report,
        double interval_s) = 0;
    /* The session has ended and its elements are gone: forget it. */
    virtual void session_ended (CallSession &session, EndReason reason) = 0;
    /* How the audio of this session is played out, if it is the one heard (control thread;
     * stats::PLAYOUT_QUERY). Unknown by default. */
    virtual stats::Playout playout_stats (CallSession &session) { return stats::Playout (); }
  };

  /* Creates the session's elements in `bin` (which also posts its messages), fed from the
   * host's request_input () once they are running. Posts
   * voicecall-session-started and voicecall-session-state (connecting). nullptr if
   * webrtcbin is missing (an error was posted on `bin`). */
  static std::shared_ptr<CallSession> create (Host &host, GstElement *bin, ContextThread &ctl,
      GstPtr<GstVoiceSignaller> signaller, const std::string &id, const std::string &peer,
      const SessionConfig &config);
  ~CallSession ();
  CallSession (const CallSession &) = delete;
  CallSession &operator= (const CallSession &) = delete;

  /* Negotiation (control thread). A callee calls answer () with the remote offer (refused,
   * and ended, if it has no Opus); a caller's offer is made when webrtcbin asks for it, and
   * the remote answer comes to remote_answer (). */
  void answer (const GstWebRTCSessionDescription *offer);
  void remote_answer (const GstWebRTCSessionDescription *answer);
  void remote_candidate (guint mline, const std::string &candidate);

  /* Ends the session (idempotent): tells the peer unless `tell_peer` is false (it told us),
   * waits at most bye_wait_ms for the BYE, then tears down and tells the host. */
  void end (EndReason reason, const std::string &detail, bool tell_peer = true);
  /* Tears down now, without waiting for the BYE (idempotent): the element's stop calls it
   * on the sessions that have not finished after their bounded wait. */
  void finish ();

  void request_stats ();
  void set_jitter_buffer (guint ms);

  /* Call control (control thread). Mute sends the Opus silence frame in place of our audio;
   * hold also silences what we hear from this peer. Both are done on our RTP, not by
   * renegotiating (webrtcbin 1.22 cannot change a transceiver's direction). A session is
   * muted if it or the element is (set_all: the element's mute/hold). Each change posts
   * voicecall-control. */
  void set_mute (bool on);
  void set_hold (bool on);
  void set_all (bool mute, bool hold);
  bool muted () const { return muted_.load (); }
  bool held () const { return held_.load (); }
  /* Queues DTMF digits (0-9 * # A-D), each sent for duration_ms as RFC 4733 events in place
   * of our audio; false and why if they cannot be sent (bad digits, not negotiated). */
  bool send_dtmf (const std::string &digits, guint duration_ms, std::string *why);

  const std::string &id () const { return id_; }
  const std::string &peer () const { return peer_; }
  bool offerer () const { return config_.offerer; }
  gint64 started_us () const { return started_us_; }
  bool has_stream () const { return static_cast<bool> (output_pad_); }
  GstPad *output_pad () const { return output_pad_.get (); }
  bool ending () const { return ending_; }
  guint jitter_buffer_ms () const { return jitter_buffer_ms_; }
  /* The adaptation's controller, made by the element on the first report. */
  std::unique_ptr<adaptive::Controller> controller;

private:
  CallSession (Host &host, GstElement *bin, ContextThread &ctl,
      GstPtr<GstVoiceSignaller> signaller, const std::string &id, const std::string &peer,
      const SessionConfig &config);
  bool build ();
  void release_input (); /* the host's input pad, and the send probe when it sits there */

  /* Runs fn (session) in the control thread if the session still lives and has not ended. */
  template <typename Fn> void later (Fn fn);
  void post (GstStructure *st);
  void post_state (const char *state, GstStructure *st);

  /* webrtcbin's signals (its threads) */
  static void on_negotiation_needed (GstElement *webrtc, gpointer data);
  static void on_ice_candidate (GstElement *webrtc, guint mline, const gchar *candidate,
      gpointer data);
  static void on_gathering_state (GstElement *webrtc, GParamSpec *pspec, gpointer data);
  static void on_connection_state (GstElement *webrtc, GParamSpec *pspec, gpointer data);
  static void on_pad_added (GstElement *webrtc, GstPad *pad, gpointer data);
  static void on_rtpbin_pad_added (GstElement *rtpbin, GstPad *pad, gpointer data);
  static void on_new_jitterbuffer (GstElement *rtpbin, GstElement *jitterbuffer,
      guint session, guint ssrc, gpointer data);
  static void on_bye_ssrc (GstElement *rtpbin, guint session, guint ssrc, gpointer data);
  static GstPadProbeReturn send_probe (GstPad *pad, GstPadProbeInfo *info, gpointer data);
  static GstPadProbeReturn heard_rtp_probe (GstPad *pad, GstPadProbeInfo *info,
      gpointer data);
  static GstPadProbeReturn heard_probe (GstPad *pad, GstPadProbeInfo *info, gpointer data);
  static GstPadProbeReturn first_audio_probe (GstPad *pad, GstPadProbeInfo *info,
      gpointer data);
  static GstPadProbeReturn bye_sent_probe (GstPad *pad, GstPadProbeInfo *info, gpointer data);
  static GstPadProbeReturn held_probe (GstPad *pad, GstPadProbeInfo *info, gpointer data);
  /* The negotiated telephone-event payload types, from the answer. */
  void negotiated (const GstSDPMessage *answer);
  /* A received RTP packet that is a telephone-event: reports its digit (if it completes
   * one). Streaming thread. */
  bool take_dtmf (GstBuffer *buf);
  void apply_control ();
  void connect (gpointer object, const char *signal, GCallback callback);

  /* The promise chain: each step's reply is handled in the control thread. The caller owns
   * the promise (webrtcbin's action signals take their own reference). */
  using Step = void (CallSession::*) (const GstStructure *reply);
  GstPtr<GstPromise> promise (const char *what, Step step);
  void offer_created (const GstStructure *reply);
  void answer_created (const GstStructure *reply);
  void offer_set (const GstStructure *reply);
  void answer_set (const GstStructure *reply);
  void stats_read (const GstStructure *reply);
  void connected_stats_read (const GstStructure *reply);
  void send_local_description (const GstStructure *reply, const char *field);

  /* The one place that decides that gathering is over. */
  enum class Gathering { CANDIDATE, COMPLETE, QUIET };
  void gathering (Gathering event);

  void connected ();
  /* The setup timeline (voicecall-setup): when each step happened, monotonic µs, 0 if not
   * yet. Control thread, but for the two set from streaming threads. */
  enum Milestone { OFFER, ANSWER, FIRST_LOCAL_CANDIDATE, ICE_CHECKING, ICE_CONNECTED, CONNECTED,
    N_STEPS };
  void mark (Milestone m);
  gint64 milestones_[N_STEPS] = {};
  std::atomic<gint64> first_rtp_sent_us_ {0}, first_rtp_received_us_ {0};
  static void on_ice_connection_state (GstElement *webrtc, GParamSpec *pspec, gpointer data);
  void watchdog ();
  void apply_ice_servers ();
  void apply_ice_addresses ();

  Host &host_;
  GstElement *bin_;  /* not owned: the element that holds us */
  ContextThread &ctl_;
  GstPtr<GstVoiceSignaller> signaller_;
  const std::string id_, peer_;
  const SessionConfig config_;
  const gint64 started_us_;

  GstPtr<GstElement> webrtc_, queue_;
  GstPtr<GstElement> rtpbin_;
  GstPtr<GstPad> input_;       /* tee → queue */
  GstPtr<GstPad> output_pad_;  /* what link_remote_stream linked the far end's stream to */
  std::vector<std::pair<GstPtr<GObject>, gulong>> handlers_;

  std::atomic<int> send_pt_ {-1};
  /* The SSRC of our RTP, said in our offer or answer (a=ssrc): the send probe puts it in
   * every packet. A server that routes by SSRC (Janus) drops RTP from an SSRC its SDP did not
   * name, and webrtcbin 1.22 names one only if our caps reached it before the SDP was made. */
  guint32 send_ssrc_ = 0;              /* set once, in the constructor */
  GstPtr<GstPad> probed_pad_;            /* input_ or its target: the send probe's pad */
  gulong input_probe_ = 0;               /* the send probe there, when there is no queue */
  std::atomic<bool> media_up_ {false};   /* ICE+DTLS up: our RTP may go */
  std::mutex media_lock_;                /* media_up_'s change, for the packet waiting on it */
  std::condition_variable media_cond_;
  std::atomic<gint64> last_heard_us_ {0}; /* the peer's last RTP/RTCP */
  std::atomic<gint64> last_rtp_us_ {0};   /* the peer's last RTP */
  bool host_only_ = false;      /* no STUN/TURN: host candidates are all there will be */
  bool gathering_done_ = false; /* end-of-candidates was given to the signaller */
  guint quiet_timer_ = 0, connect_timer_ = 0, watchdog_timer_ = 0, bye_timer_ = 0;
  guint bye_check_timer_ = 0;
  bool got_audio_ = false;
  std::set<guint> media_ssrcs_; /* the SSRCs the far end's audio came from */
  bool is_connected_ = false;
  gint64 connected_us_ = 0;
  bool ending_ = false, finished_ = false;
  EndReason end_reason_ = EndReason::LOCAL_HANG_UP;
  std::string end_detail_;
  guint jitter_buffer_ms_;
  stats::Sample last_stats_;
  bool have_stats_ = false;

  /* Call control: what the session and the element asked (control thread), and what the
   * streaming threads apply. */
  bool own_mute_ = false, own_hold_ = false, all_mute_ = false, all_hold_ = false;
  std::atomic<bool> muted_ {false}, held_ {false};
  std::mutex dtmf_lock_; /* the DTMF state below (streaming threads and control) */
  control::DtmfSender dtmf_sender_;
  control::DtmfReceiver dtmf_receiver_;
  int dtmf_send_pt_ = -1;             /* telephone-event/48000 in the answer, or -1 */
  std::map<int, int> dtmf_recv_pts_;  /* telephone-event payload type → clock rate */
  guint32 last_send_ts_ = 0;
  bool have_send_ts_ = false;
};

} // namespace vc
