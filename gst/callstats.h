/* gst-voicecall: call statistics from webrtcbin's get-stats, and an E-model quality estimate.
 * Plain logic, no element: the voicecall element samples, this unit interprets. */
#pragma once

#include <gst/gst.h>

#include <string>

namespace vc::stats {

/* One sample of webrtcbin's statistics for an audio call (cumulative counters). */
struct Sample {
  double time_s = 0;             /* when it was taken (monotonic) */
  double rtt_ms = -1;            /* round-trip time from RTCP, -1 unknown */
  double remote_fraction_lost = 0; /* loss of our stream as the peer reports it (0..1) */
  guint64 packets_sent = 0, bytes_sent = 0;
  guint64 packets_received = 0, bytes_received = 0;
  gint64 packets_lost = 0;       /* of the stream we receive, cumulative */
  double jitter_ms = 0;          /* of the stream we receive */
  guint64 jb_pushed = 0, jb_lost = 0; /* jitter buffer: packets played / concealed */
  std::string local_candidate_type, remote_candidate_type; /* of the selected pair */
};

/* Reads a get-stats reply (application/x-webrtc-stats); false if it holds no RTP stream. */
bool parse (const GstStructure *stats, Sample *out);

/* The playout of the audio we hear, as the element that plays it reports it (WebRTC
 * getStats' jitterBufferDelay, concealedSamples, insertedSamplesForDeceleration, ...).
 * voicecall asks with a custom query named PLAYOUT_QUERY sent downstream from its src pad;
 * voiceplaybackbin answers (playout=fixed: its declared decoder latency; adaptive:
 * voiceplayout's own figures), filling the query's structure with the fields below. */
constexpr const char *PLAYOUT_QUERY = "voicecall-playout";

/* When a received RTP packet reached the jitter buffer (running time of the pipeline): voicecall
 * attaches it as a GstReferenceTimestampMeta with these reference caps, because rtpjitterbuffer
 * replaces the buffer's timestamps and holds the packets behind a missing one. The adaptive
 * playout learns the network's jitter from it rather than from when packets reach it. */
constexpr const char *ARRIVAL_META_CAPS = "timestamp/x-voicecall-arrival";
struct Playout {
  bool known = false;
  std::string mode;              /* "adaptive" or "fixed" */
  double delay_ms = -1;          /* audio held by the playout now */
  double target_ms = -1;         /* what it aims at */
  guint64 total_samples = 0, concealed_samples = 0, concealment_events = 0;
  guint64 inserted_samples = 0, removed_samples = 0; /* for deceleration / acceleration */
  guint64 fec_recovered = 0, late_discarded = 0;
  bool counters = false;         /* the sample counters above are known (adaptive) */
};
/* Reads an answered PLAYOUT_QUERY structure; false if it is not one or has no mode. */
bool parse_playout (const GstStructure *s, Playout *out);

/* What a call is like between two samples. */
struct Report {
  double rtt_ms = -1;
  double send_kbps = 0, receive_kbps = 0;
  double fraction_lost = 0;      /* of what we received in the interval (0..1) */
  double remote_fraction_lost = 0;
  gint64 cumulative_lost = 0;
  double jitter_ms = 0;
  double concealed_ratio = 0;    /* packets concealed / expected in the interval */
  double mos = 0;
  Playout playout;               /* of the audio we hear (only the heard session has one) */
};
/* The MOS counts the playout's delay when it is known. */
Report report (const Sample &previous, const Sample &current, double jitter_buffer_ms,
    const Playout &playout = Playout ());

/* ITU-T G.107 E-model, simplified for VoIP (Cole & Rosenbluth 2001): R from one-way
 * mouth-to-ear delay and random packet loss, with the Opus assumptions documented in
 * docs/stats.md (Ie = 0, Bpl = 20). Returns MOS-CQE between 1 and 4.5. */
double r_factor (double one_way_delay_ms, double loss_fraction);
double mos_from_r (double r);
double estimate_mos (double rtt_ms, double jitter_buffer_ms, double loss_fraction,
    double playout_delay_ms = 0);

/* The sample as an element message structure "voicecall-stats". */
GstStructure *to_structure (const Report &r, const Sample &s);

} // namespace vc::stats
