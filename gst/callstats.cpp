/* gst-voicecall: call statistics and an E-model quality estimate (see callstats.h). */
#include "callstats.h"

#include <gst/webrtc/webrtc.h>

#include <algorithm>
#include <cmath>

namespace vc::stats {

/* Codec and packetisation delay of a 20 ms Opus frame plus its 6.5 ms look-ahead. */
constexpr double CODEC_DELAY_MS = 26.5;
constexpr double OPUS_IE = 0;   /* equipment impairment: transparent at voice bitrates */
constexpr double OPUS_BPL = 20; /* packet-loss robustness, with PLC */

static const GstStructure *
field_structure (const GstStructure *s, const char *name)
{
  const GValue *v = gst_structure_get_value (s, name);
  return v && G_VALUE_HOLDS (v, GST_TYPE_STRUCTURE) ? gst_value_get_structure (v) : nullptr;
}

static GstWebRTCStatsType
stats_type (const GstStructure *s)
{
  GstWebRTCStatsType type = static_cast<GstWebRTCStatsType> (0);
  gst_structure_get (s, "type", GST_TYPE_WEBRTC_STATS_TYPE, &type, nullptr);
  return type;
}

static std::string
candidate_type (const GstStructure *stats, const char *id)
{
  if (!id)
    return "";
  const GstStructure *c = field_structure (stats, id);
  const char *t = c ? gst_structure_get_string (c, "candidate-type") : nullptr;
  return t ? t : "";
}

bool
parse (const GstStructure *stats, Sample *out)
{
  bool any = false, any_inbound = false;
  out->time_s = g_get_monotonic_time () / 1e6;
  const int n = gst_structure_n_fields (stats);
  for (int i = 0; i < n; i++) {
    const GstStructure *s = field_structure (stats, gst_structure_nth_field_name (stats, i));
    if (!s)
      continue;
    switch (stats_type (s)) {
      case GST_WEBRTC_STATS_OUTBOUND_RTP:
        gst_structure_get_uint64 (s, "packets-sent", &out->packets_sent);
        gst_structure_get_uint64 (s, "bytes-sent", &out->bytes_sent);
        any = true;
        break;
      case GST_WEBRTC_STATS_REMOTE_INBOUND_RTP: {
        double rtt = -1, fraction = 0;
        if (gst_structure_get_double (s, "round-trip-time", &rtt) && rtt > 0)
          out->rtt_ms = rtt * 1000;
        if (gst_structure_get_double (s, "fraction-lost", &fraction))
          out->remote_fraction_lost = fraction;
        break;
      }
      case GST_WEBRTC_STATS_INBOUND_RTP: {
        /* The peer's RTCP-only SSRC (used before its RTP starts) is an inbound stream too,
         * with nothing received: keep the one that carries the audio. */
        guint64 received = 0;
        gst_structure_get_uint64 (s, "packets-received", &received);
        if (any_inbound && received < out->packets_received)
          break;
        any_inbound = true;
        double jitter = 0;
        out->packets_received = received;
        out->packets_lost = 0;
        out->jitter_ms = 0;
        out->jb_pushed = out->jb_lost = 0;
        gst_structure_get_uint64 (s, "bytes-received", &out->bytes_received);
        /* webrtcbin 1.22 takes packets-lost from the jitter buffer, which it does not find
         * when answering: then from the RTP source (expected - received). */
        const GstStructure *src = field_structure (s, "gst-rtpsource-stats");
        gint lost = 0;
        if (!gst_structure_get_int64 (s, "packets-lost", &out->packets_lost) && src &&
            gst_structure_get_int (src, "packets-lost", &lost))
          out->packets_lost = lost;
        if (gst_structure_get_double (s, "jitter", &jitter))
          out->jitter_ms = jitter * 1000;
        if (const GstStructure *jb = field_structure (s, "gst-rtpjitterbuffer-stats")) {
          gst_structure_get_uint64 (jb, "num-pushed", &out->jb_pushed);
          gst_structure_get_uint64 (jb, "num-lost", &out->jb_lost);
        }
        any = true;
        break;
      }
      case GST_WEBRTC_STATS_TRANSPORT: {
        const char *pair_id = gst_structure_get_string (s, "selected-candidate-pair-id");
        const GstStructure *pair = pair_id ? field_structure (stats, pair_id) : nullptr;
        if (pair) {
          out->local_candidate_type =
              candidate_type (stats, gst_structure_get_string (pair, "local-candidate-id"));
          out->remote_candidate_type =
              candidate_type (stats, gst_structure_get_string (pair, "remote-candidate-id"));
        }
        break;
      }
      default:
        break;
    }
  }
  return any;
}

double
r_factor (double one_way_delay_ms, double loss_fraction)
{
  const double d = std::max (0.0, one_way_delay_ms);
  const double id = 0.024 * d + (d > 177.3 ? 0.11 * (d - 177.3) : 0);
  const double ppl = std::clamp (loss_fraction, 0.0, 1.0) * 100;
  const double ie_eff = OPUS_IE + (95 - OPUS_IE) * ppl / (ppl + OPUS_BPL);
  return 93.2 - id - ie_eff;
}

double
mos_from_r (double r)
{
  if (r <= 0)
    return 1;
  if (r >= 100)
    return 4.5;
  return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6;
}

double
estimate_mos (double rtt_ms, double jitter_buffer_ms, double loss_fraction,
    double playout_delay_ms)
{
  const double one_way = (rtt_ms > 0 ? rtt_ms / 2 : 0) + jitter_buffer_ms +
      std::max (0.0, playout_delay_ms) + CODEC_DELAY_MS;
  return mos_from_r (r_factor (one_way, loss_fraction));
}

bool
parse_playout (const GstStructure *s, Playout *out)
{
  if (!s || !gst_structure_has_name (s, PLAYOUT_QUERY))
    return false;
  const gchar *mode = gst_structure_get_string (s, "mode");
  if (!mode)
    return false;
  Playout p;
  p.known = true;
  p.mode = mode;
  gst_structure_get_double (s, "current-delay-ms", &p.delay_ms);
  gint target = -1;
  if (gst_structure_get_int (s, "target-delay-ms", &target))
    p.target_ms = target;
  else
    gst_structure_get_double (s, "target-delay-ms", &p.target_ms);
  p.counters = gst_structure_has_field (s, "total-samples");
  gst_structure_get_uint64 (s, "total-samples", &p.total_samples);
  gst_structure_get_uint64 (s, "concealed-samples", &p.concealed_samples);
  gst_structure_get_uint64 (s, "concealment-events", &p.concealment_events);
  gst_structure_get_uint64 (s, "inserted-samples-for-deceleration", &p.inserted_samples);
  gst_structure_get_uint64 (s, "removed-samples-for-acceleration", &p.removed_samples);
  gst_structure_get_uint64 (s, "fec-recovered", &p.fec_recovered);
  gst_structure_get_uint64 (s, "late-discarded", &p.late_discarded);
  *out = p;
  return true;
}

Report
report (const Sample &prev, const Sample &cur, double jitter_buffer_ms, const Playout &playout)
{
  Report r;
  r.playout = playout;
  const double dt = cur.time_s - prev.time_s;
  r.rtt_ms = cur.rtt_ms;
  if (dt > 0) {
    r.send_kbps = (cur.bytes_sent - std::min (prev.bytes_sent, cur.bytes_sent)) * 8 / dt / 1000;
    r.receive_kbps =
        (cur.bytes_received - std::min (prev.bytes_received, cur.bytes_received)) * 8 / dt / 1000;
  }
  const double received = static_cast<double> (cur.packets_received) - prev.packets_received;
  const double lost = std::max (0.0, static_cast<double> (cur.packets_lost - prev.packets_lost));
  r.fraction_lost = received + lost > 0 ? lost / (received + lost) : 0;
  r.remote_fraction_lost = cur.remote_fraction_lost;
  r.cumulative_lost = std::max<gint64> (0, cur.packets_lost);
  r.jitter_ms = cur.jitter_ms;
  const double played = static_cast<double> (cur.jb_pushed) - prev.jb_pushed;
  const double concealed = static_cast<double> (cur.jb_lost) - prev.jb_lost;
  r.concealed_ratio = played + concealed > 0 ? std::max (0.0, concealed) / (played + concealed) : 0;
  r.mos = estimate_mos (r.rtt_ms, jitter_buffer_ms, std::max (r.fraction_lost, r.concealed_ratio),
      playout.known ? playout.delay_ms : 0);
  return r;
}

GstStructure *
to_structure (const Report &r, const Sample &s)
{
  GstStructure *st = gst_structure_new ("voicecall-stats",
      "rtt-ms", G_TYPE_DOUBLE, r.rtt_ms,
      "fraction-lost", G_TYPE_DOUBLE, r.fraction_lost,
      "remote-fraction-lost", G_TYPE_DOUBLE, r.remote_fraction_lost,
      "cumulative-lost", G_TYPE_INT64, r.cumulative_lost,
      "jitter-ms", G_TYPE_DOUBLE, r.jitter_ms,
      "send-kbps", G_TYPE_DOUBLE, r.send_kbps,
      "receive-kbps", G_TYPE_DOUBLE, r.receive_kbps,
      "concealed-ratio", G_TYPE_DOUBLE, r.concealed_ratio,
      "mos", G_TYPE_DOUBLE, r.mos,
      "packets-sent", G_TYPE_UINT64, s.packets_sent,
      "packets-received", G_TYPE_UINT64, s.packets_received,
      "local-candidate-type", G_TYPE_STRING, s.local_candidate_type.c_str (),
      "remote-candidate-type", G_TYPE_STRING, s.remote_candidate_type.c_str (),
      nullptr);
  const Playout &p = r.playout;
  if (p.known)
    gst_structure_set (st,
        "playout", G_TYPE_STRING, p.mode.c_str (),
        "playout-delay-ms", G_TYPE_DOUBLE, p.delay_ms,
        "playout-target-delay-ms", G_TYPE_DOUBLE, p.target_ms,
        nullptr);
  if (p.known && p.counters)
    gst_structure_set (st,
        "total-samples", G_TYPE_UINT64, p.total_samples,
        "concealed-samples", G_TYPE_UINT64, p.concealed_samples,
        "concealment-events", G_TYPE_UINT64, p.concealment_events,
        "inserted-samples-for-deceleration", G_TYPE_UINT64, p.inserted_samples,
        "removed-samples-for-acceleration", G_TYPE_UINT64, p.removed_samples,
        "fec-recovered", G_TYPE_UINT64, p.fec_recovered,
        "late-discarded", G_TYPE_UINT64, p.late_discarded,
        nullptr);
  return st;
}

} // namespace vc::stats
