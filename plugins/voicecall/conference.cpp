/* gst-voicecall: conference mixing for voicecall mix=all (see conference.h). */
#include "conference.h"

#include "binutil.h"

#include <gst/base/gstaggregator.h>
#include <gst/rtp/gstrtpbuffer.h>

#include <algorithm>
#include <cmath>
#include <utility>

GST_DEBUG_CATEGORY_STATIC (conference_debug);
#define GST_CAT_DEFAULT conference_debug

namespace vc {

/* What the mixers mix: voiceplayout's output. */
constexpr const char *MIX_CAPS = "audio/x-raw, format=(string)S16LE, rate=(int)48000, "
                                 "channels=(int)1, layout=(string)interleaved";
/* As voicecapturebin encodes: wideband speech with room for FEC, 20 ms frames. */
constexpr gint MIX_BITRATE = 32000;
constexpr int MIX_PAYLOAD_TYPE = 96;
/* How long a mixer waits for an input that is late (its thread was not scheduled in time)
 * before mixing without it; two 10-ms ticks of voiceplayout. */
constexpr GstClockTime MIXER_LATENCY = 20 * GST_MSECOND;
/* What a decoder and a mixer output at a time: one Opus frame (the encoders take 20 ms).
 * Each voiceplayout and each mixer's thread then wakes 50 times a second, not 100, and
 * every participant's audio is pushed through its tee into the mixers half as often: most of
 * what a listener costs (its silence is mixed as any audio) is these wake-ups. */
constexpr int PLAYOUT_TICKS = 2;
constexpr GstClockTime MIXER_BLOCK = PLAYOUT_TICKS * 10 * GST_MSECOND;

static void
configure_mixer (GstElement *mixer)
{
  gst_util_set_object_arg (G_OBJECT (mixer), "start-time-selection", "first");
  g_object_set (mixer, "latency", MIXER_LATENCY, "output-buffer-duration", MIXER_BLOCK, nullptr);
}

static void
configure_encoder (GstElement *filter, GstElement *encoder, GstElement *pay)
{
  GstPtr<GstCaps> caps = adopt (gst_caps_from_string (MIX_CAPS));
  g_object_set (filter, "caps", caps.get (), nullptr);
  gst_util_set_object_arg (G_OBJECT (encoder), "audio-type", "voice");
  gst_util_set_object_arg (G_OBJECT (encoder), "frame-size", "20");
  g_object_set (encoder, "bitrate", MIX_BITRATE, "inband-fec", TRUE, nullptr);
  g_object_set (pay, "pt", MIX_PAYLOAD_TYPE, nullptr);
}

/* Makes every factory's element, or none (an error names the missing one). */
static bool
make_all (GstElement *bin, std::initializer_list<std::pair<const char *, GstPtr<GstElement> *>> list)
{
  bool ok = true;
  for (auto &[factory, slot] : list) {
    GstElement *e = make_element (bin, factory, nullptr);
    if (e)
      *slot = ref_sink (e);
    ok = ok && e;
  }
  if (!ok)
    for (auto &item : list)
      item.second->reset ();
  return ok;
}

static GstPadProbeReturn
meter_probe (GstPad *, GstPadProbeInfo *info, gpointer data)
{
  auto &meter = **static_cast<std::shared_ptr<Conference::Meter> *> (data);
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstMapInfo map;
  if (!gst_buffer_map (buf, &map, GST_MAP_READ))
    return GST_PAD_PROBE_OK;
  const auto *s = reinterpret_cast<const gint16 *> (map.data);
  const gsize n = map.size / 2;
  double sum2 = 0, peak = 0;
  for (gsize i = 0; i < n; i++) {
    double x = s[i] / 32768.0;
    sum2 += x * x;
    peak = std::max (peak, std::fabs (x));
  }
  gst_buffer_unmap (buf, &map);
  std::lock_guard<std::mutex> lk (meter.lock);
  meter.sum2 += sum2;
  meter.peak = std::max (meter.peak, peak);
  meter.samples += n;
  return GST_PAD_PROBE_OK;
}

static double
to_db (double x)
{
  return x > 0 ? std::max (-127.0, 20 * std::log10 (x)) : -127.0;
}

/* What a session's selector sends (see Continuity): the first stream's SSRC, then every
 * packet the next sequence number, and at a switch of stream the timestamp that follows the
 * last one by the time between them. Caps and stream-start go once: the two streams' differ
 * only in what this rewrites. */
static GstPadProbeReturn
continuity_probe (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  auto &c = **static_cast<std::shared_ptr<Conference::Continuity> *> (data);
  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    /* Not linked yet (the session links it after it asked for it): the sticky events are
     * sent again, to the session, with the first buffer once it is. */
    if (!gst_pad_is_linked (pad))
      return GST_PAD_PROBE_OK;
    GstEventType type = GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info));
    std::lock_guard<std::mutex> lk (c.lock);
    bool &sent = type == GST_EVENT_CAPS ? c.caps_sent : c.stream_started;
    if (type != GST_EVENT_CAPS && type != GST_EVENT_STREAM_START)
      return GST_PAD_PROBE_OK;
    if (sent)
      return GST_PAD_PROBE_DROP;
    sent = true;
    return GST_PAD_PROBE_OK;
  }
  GstBuffer *buf = gst_buffer_make_writable (GST_PAD_PROBE_INFO_BUFFER (info));
  GST_PAD_PROBE_INFO_DATA (info) = buf;
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (!gst_rtp_buffer_map (buf, GST_MAP_READWRITE, &rtp))
    return GST_PAD_PROBE_OK;
  const guint32 ssrc = gst_rtp_buffer_get_ssrc (&rtp), ts = gst_rtp_buffer_get_timestamp (&rtp);
  const GstClockTime pts = GST_BUFFER_PTS (buf);
  std::lock_guard<std::mutex> lk (c.lock);
  if (!c.started) {
    c.started = true;
    c.ssrc = c.in_ssrc = ssrc;
    c.next_seq = gst_rtp_buffer_get_seq (&rtp);
    c.ts_offset = 0;
  } else if (ssrc != c.in_ssrc) {
    guint32 elapsed = 960; /* one 20-ms packet */
    if (GST_CLOCK_TIME_IS_VALID (pts) && GST_CLOCK_TIME_IS_VALID (c.last_pts) &&
        pts > c.last_pts)
      elapsed = static_cast<guint32> (gst_util_uint64_scale_round (pts - c.last_pts, 48000,
          GST_SECOND));
    c.ts_offset = c.last_ts + elapsed - ts;
    c.in_ssrc = ssrc;
  }
  c.last_ts = ts + c.ts_offset;
  c.last_pts = pts;
  gst_rtp_buffer_set_ssrc (&rtp, c.ssrc);
  gst_rtp_buffer_set_seq (&rtp, c.next_seq++);
  gst_rtp_buffer_set_timestamp (&rtp, c.last_ts);
  gst_rtp_buffer_unmap (&rtp);
  return GST_PAD_PROBE_OK;
}

std::unique_ptr<Conference>
Conference::create (GstElement *bin)
{
  static gsize debug_once = 0;
  if (g_once_init_enter (&debug_once)) {
    GST_DEBUG_CATEGORY_INIT (conference_debug, "voicecallmix", 0, "voicecall conference mixing");
    g_once_init_leave (&debug_once, 1);
  }
  std::unique_ptr<Conference> c (new Conference (bin));
  if (!c->build ())
    return nullptr;
  return c;
}

bool
Conference::build ()
{
  if (!make_all (bin_, {{"bin", &decoders_}, {"queue", &local_queue_}, {"voiceplayout", &local_playout_},
          {"tee", &local_tee_}, {"audiomixer", &out_mixer_}, {"capsfilter", &out_filter_},
          {"opusenc", &out_encoder_}, {"rtpopuspay", &out_pay_},
          {"audiomixer", &shared_mixer_}, {"capsfilter", &shared_filter_},
          {"opusenc", &shared_encoder_}, {"rtpopuspay", &shared_pay_}, {"tee", &shared_tee_}}))
    return false;
  /* Leaky: a stalled mix never holds back the capture. */
  g_object_set (local_queue_.get (), "max-size-buffers", 0, "max-size-bytes", 0,
      "max-size-time", static_cast<guint64> (200 * GST_MSECOND), nullptr);
  gst_util_set_object_arg (G_OBJECT (local_queue_.get ()), "leaky", "downstream");
  g_object_set (local_tee_.get (), "allow-not-linked", TRUE, nullptr);
  g_object_set (local_playout_.get (), "ticks-per-buffer", PLAYOUT_TICKS, nullptr);
  g_object_set (shared_tee_.get (), "allow-not-linked", TRUE, nullptr);
  configure_mixer (out_mixer_.get ());
  configure_encoder (out_filter_.get (), out_encoder_.get (), out_pay_.get ());
  configure_mixer (shared_mixer_.get ());
  configure_encoder (shared_filter_.get (), shared_encoder_.get (), shared_pay_.get ());
  gst_bin_add (GST_BIN (bin_), decoders_.get ());
  gst_element_sync_state_with_parent (decoders_.get ());
  if (!add_and_link (GST_BIN (bin_), {local_queue_.get (), local_playout_.get (),
          local_tee_.get ()}) ||
      !add_and_link (GST_BIN (bin_), {out_mixer_.get (), out_filter_.get (),
          out_encoder_.get (), out_pay_.get ()}) ||
      !add_and_link (GST_BIN (bin_), {shared_mixer_.get (), shared_filter_.get (),
          shared_encoder_.get (), shared_pay_.get (), shared_tee_.get ()})) {
    GST_ELEMENT_ERROR (bin_, CORE, NEGOTIATION, ("Cannot link the conference mixer"), (nullptr));
    return false;
  }
  local_to_shared_ = feed (local_tee_.get (), shared_mixer_.get ());
  for (auto *e : {local_queue_.get (), local_playout_.get (), local_tee_.get (),
           out_mixer_.get (), out_filter_.get (), out_encoder_.get (), out_pay_.get (),
           shared_mixer_.get (), shared_filter_.get (), shared_encoder_.get (),
           shared_pay_.get (), shared_tee_.get ()})
    gst_element_sync_state_with_parent (e);
  local_sink_ = adopt (gst_element_get_static_pad (local_queue_.get (), "sink"));
  output_ = adopt (gst_element_get_static_pad (out_pay_.get (), "src"));
  return true;
}

Conference::~Conference ()
{
  for (auto &p : all ())
    remove (p->id);
  for (auto *e : {local_queue_.get (), local_playout_.get (), local_tee_.get (),
           out_mixer_.get (), out_filter_.get (), out_encoder_.get (), out_pay_.get (),
           shared_mixer_.get (), shared_filter_.get (), shared_encoder_.get (),
           shared_pay_.get (), shared_tee_.get (), decoders_.get ()}) {
    if (!e)
      continue;
    gst_bin_remove (GST_BIN (bin_), e);
    gst_element_set_state (e, GST_STATE_NULL);
  }
  reap (true);
}

/* A new pad of `tee` into a new pad of `mixer` (or selector). The tee pad is requested under
 * the stream lock of the tee's sink, so that no sticky event is half-way (see voicecall's
 * request_input). */
Conference::Link
Conference::feed (GstElement *tee, GstElement *mixer)
{
  Link l;
  l.mixer_pad = adopt (gst_element_request_pad_simple (mixer, "sink_%u"));
  GstPtr<GstPad> sink = adopt (gst_element_get_static_pad (tee, "sink"));
  GST_PAD_STREAM_LOCK (sink.get ());
  l.tee_pad = adopt (gst_element_request_pad_simple (tee, "src_%u"));
  GST_PAD_STREAM_UNLOCK (sink.get ());
  if (!l.mixer_pad || !l.tee_pad ||
      gst_pad_link_full (l.tee_pad.get (), l.mixer_pad.get (), GST_PAD_LINK_CHECK_CAPS) !=
          GST_PAD_LINK_OK)
    GST_WARNING_OBJECT (bin_, "cannot link %s to %s", GST_OBJECT_NAME (tee),
        GST_OBJECT_NAME (mixer));
  return l;
}

/* Releases both ends of a link. `tee_first`: the tee may still push into the mixer;
 * releasing its pad first waits for a push in progress (the mixer, running, takes it), so
 * that the mixer's pad never answers a push with FLUSHING (which would stop the tee's
 * source for everyone). */
void
Conference::release (GstElement *tee, GstElement *mixer, Link &l, bool tee_first)
{
  if (tee_first && l.tee_pad)
    gst_element_release_request_pad (tee, l.tee_pad.get ());
  if (l.mixer_pad)
    gst_element_release_request_pad (mixer, l.mixer_pad.get ());
  if (!tee_first && l.tee_pad)
    gst_element_release_request_pad (tee, l.tee_pad.get ());
  l.tee_pad.reset ();
  l.mixer_pad.reset ();
}

void
Conference::retire (GstElement *tee, GstElement *mixer, Link &l)
{
  if (l.tee_pad)
    gst_element_release_request_pad (tee, l.tee_pad.get ());
  if (l.mixer_pad)
    retiring_.emplace_back (ref (mixer), std::move (l.mixer_pad));
  l.tee_pad.reset ();
  l.mixer_pad.reset ();
}

void
Conference::reap (bool all)
{
  for (auto it = retiring_.begin (); it != retiring_.end ();) {
    GstElement *mixer = it->first.get ();
    GstPad *pad = it->second.get ();
    const bool stopped = GST_STATE (mixer) == GST_STATE_NULL;
    if (all || stopped || !gst_aggregator_pad_has_buffer (GST_AGGREGATOR_PAD (pad))) {
      gst_element_release_request_pad (mixer, pad);
      it = retiring_.erase (it);
    } else {
      ++it;
    }
  }
}

std::vector<std::shared_ptr<Conference::Participant>>
Conference::all () const
{
  std::lock_guard<std::mutex> lk (lock_);
  std::vector<std::shared_ptr<Participant>> list;
  for (auto &kv : participants_)
    list.push_back (kv.second);
  return list;
}

GstPtr<GstPad>
Conference::add (const std::string &id)
{
  if (has (id))
    return nullptr;
  auto p = std::make_shared<Participant> ();
  p->id = id;
  if (!make_all (bin_, {{"voiceplayout", &p->playout}, {"volume", &p->volume}, {"tee", &p->tee},
          {"input-selector", &p->selector}}))
    return nullptr;
  g_object_set (p->tee.get (), "allow-not-linked", TRUE, nullptr);
  g_object_set (p->playout.get (), "ticks-per-buffer", PLAYOUT_TICKS, nullptr);
  g_object_set (p->selector.get (), "sync-streams", FALSE, nullptr);
  if (!add_and_link (GST_BIN (decoders_.get ()), {p->playout.get (), p->volume.get (),
          p->tee.get ()}) || !gst_bin_add (GST_BIN (bin_), p->selector.get ())) {
    GST_WARNING_OBJECT (bin_, "participant %s: cannot link its elements", id.c_str ());
    for (auto *e : {p->playout.get (), p->volume.get (), p->tee.get (), p->selector.get ()})
      if (GstObject *parent = GST_OBJECT_PARENT (e))
        gst_bin_remove (GST_BIN (parent), e);
    return nullptr;
  }
  p->meter = std::make_shared<Meter> ();
  GstPtr<GstPad> decoded = adopt (gst_element_get_static_pad (p->playout.get (), "src"));
  gst_pad_add_probe (decoded.get (), GST_PAD_PROBE_TYPE_BUFFER, meter_probe,
      new std::shared_ptr<Meter> (p->meter),
      [] (gpointer data) { delete static_cast<std::shared_ptr<Meter> *> (data); });
  p->rtp = std::make_shared<Continuity> ();
  GstPtr<GstPad> out = adopt (gst_element_get_static_pad (p->selector.get (), "src"));
  gst_pad_add_probe (out.get (), static_cast<GstPadProbeType> (GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM), continuity_probe,
      new std::shared_ptr<Continuity> (p->rtp),
      [] (gpointer data) { delete static_cast<std::shared_ptr<Continuity> *> (data); });
  for (auto *e : {p->playout.get (), p->volume.get (), p->tee.get (), p->selector.get ()})
    start_locked (bin_, e); /* like the session's: it follows its participant */

  auto others = all ();
  for (auto &q : others)
    if (q->mixer)
      q->feeds[id] = feed (p->tee.get (), q->mixer.get ());
  p->to_output = feed (p->tee.get (), out_mixer_.get ());
  p->to_shared = feed (p->tee.get (), shared_mixer_.get ());
  p->shared_in = feed (shared_tee_.get (), p->selector.get ());
  {
    std::lock_guard<std::mutex> lk (lock_);
    participants_[id] = p;
  }
  /* It starts as a speaker: it gets the shared mix (which has it) only once it has been
   * silent for a while. */
  p->heard_us = g_get_monotonic_time ();
  start_own_mix (*p);
  GST_INFO_OBJECT (bin_, "participant %s joins %zu other(s)", id.c_str (), others.size ());
  return out;
}

/* Switches the selector to its own stream on the first packet there, so that the session's
 * stream never waits for the new mix to start. */
static GstPadProbeReturn
own_first_probe (GstPad *pad, GstPadProbeInfo *, gpointer)
{
  GstPtr<GstElement> selector = adopt (gst_pad_get_parent_element (pad));
  if (selector)
    g_object_set (selector.get (), "active-pad", pad, nullptr);
  return GST_PAD_PROBE_REMOVE;
}

/* Its own mix: the local source and every other participant. */
bool
Conference::start_own_mix (Participant &p)
{
  if (p.mixer || !p.selector)
    return true;
  if (!make_all (bin_, {{"audiomixer", &p.mixer}, {"capsfilter", &p.filter},
          {"opusenc", &p.encoder}, {"rtpopuspay", &p.pay}}))
    return false;
  configure_mixer (p.mixer.get ());
  configure_encoder (p.filter.get (), p.encoder.get (), p.pay.get ());
  if (!add_and_link (GST_BIN (bin_), {p.mixer.get (), p.filter.get (), p.encoder.get (),
          p.pay.get ()})) {
    GST_WARNING_OBJECT (bin_, "participant %s: cannot link its mix", p.id.c_str ());
    for (auto *slot : {&p.mixer, &p.filter, &p.encoder, &p.pay}) {
      if (GST_OBJECT_PARENT (slot->get ()) == GST_OBJECT (bin_))
        gst_bin_remove (GST_BIN (bin_), slot->get ());
      slot->reset ();
    }
    return false;
  }
  for (auto *slot : {&p.mixer, &p.filter, &p.encoder, &p.pay})
    start_locked (bin_, slot->get ());
  p.own_in = adopt (gst_element_request_pad_simple (p.selector.get (), "sink_%u"));
  gst_pad_add_probe (p.own_in.get (), GST_PAD_PROBE_TYPE_BUFFER, own_first_probe, nullptr,
      nullptr);
  GstPtr<GstPad> pay_src = adopt (gst_element_get_static_pad (p.pay.get (), "src"));
  gst_pad_link (pay_src.get (), p.own_in.get ());
  p.feeds[""] = feed (local_tee_.get (), p.mixer.get ());
  for (auto &q : all ())
    if (q->id != p.id)
      p.feeds[q->id] = feed (q->tee.get (), p.mixer.get ());
  GST_DEBUG_OBJECT (bin_, "participant %s: a mix of its own", p.id.c_str ());
  return true;
}

/* Back to the shared mix: the selector switches first, then nothing more goes into its
 * mixer, and the mixer and encoder stop before they leave the bin. */
void
Conference::stop_own_mix (Participant &p)
{
  if (!p.mixer)
    return;
  if (p.shared_in.mixer_pad)
    g_object_set (p.selector.get (), "active-pad", p.shared_in.mixer_pad.get (), nullptr);
  /* Nothing more into the mixer, then it stops, then its pads go: a pad released while the
   * mixer runs may be mixing (see retire). */
  for (auto &[source, link] : p.feeds) {
    auto q = source.empty () ? nullptr : find (source);
    GstElement *tee = source.empty () ? local_tee_.get () : q ? q->tee.get () : nullptr;
    if (tee && link.tee_pad)
      gst_element_release_request_pad (tee, link.tee_pad.get ());
    link.tee_pad.reset ();
  }
  for (auto *slot : {&p.mixer, &p.filter, &p.encoder, &p.pay})
    gst_element_set_state (slot->get (), GST_STATE_NULL);
  for (auto &[source, link] : p.feeds)
    if (link.mixer_pad)
      gst_element_release_request_pad (p.mixer.get (), link.mixer_pad.get ());
  p.feeds.clear ();
  reap (false); /* the pads retired into this mixer */
  for (auto *slot : {&p.mixer, &p.filter, &p.encoder, &p.pay}) {
    gst_bin_remove (GST_BIN (bin_), slot->get ());
    slot->reset ();
  }
  if (p.own_in)
    gst_element_release_request_pad (p.selector.get (), std::exchange (p.own_in, nullptr).get ());
  GST_DEBUG_OBJECT (bin_, "participant %s: the shared mix", p.id.c_str ());
}

void
Conference::speaks (Participant &p)
{
  p.heard_us = g_get_monotonic_time ();
  if (!p.muted && p.gain > 0)
    start_own_mix (p);
}

void
Conference::follow_speakers (const std::vector<Level> &levels)
{
  reap (false);
  const gint64 now = g_get_monotonic_time ();
  for (const Level &l : levels) {
    auto p = find (l.id);
    if (!p || !p->selector)
      continue;
    if (!p->muted && p->gain > 0 && l.rms_db > SPEAKING_DB)
      speaks (*p);
    else if (p->mixer && now - p->heard_us >= OWN_MIX_HOLD_US)
      stop_own_mix (*p);
  }
}

int
Conference::own_mixes () const
{
  int n = 0;
  for (auto &p : all ())
    n += p->mixer ? 1 : 0;
  return n;
}

GstPtr<GstPad>
Conference::link_received (const std::string &id, GstPad *src)
{
  GstPtr<GstPad> sink;
  {
    std::lock_guard<std::mutex> lk (lock_);
    auto it = participants_.find (id);
    if (it == participants_.end ())
      return nullptr;
    sink = adopt (gst_element_get_static_pad (it->second->playout.get (), "sink"));
  }
  if (gst_pad_link_full (src, sink.get (), GST_PAD_LINK_CHECK_CAPS) != GST_PAD_LINK_OK) {
    GST_WARNING_OBJECT (bin_, "participant %s: cannot link its received stream", id.c_str ());
    return nullptr;
  }
  return sink;
}

bool
Conference::has (const std::string &id) const
{
  std::lock_guard<std::mutex> lk (lock_);
  return participants_.count (id) > 0;
}

std::shared_ptr<Conference::Participant>
Conference::find (const std::string &id) const
{
  std::lock_guard<std::mutex> lk (lock_);
  auto it = participants_.find (id);
  return it == participants_.end () ? nullptr : it->second;
}

void
Conference::remove_send (const std::string &id)
{
  auto p = find (id);
  if (!p || !p->selector)
    return;
  stop_own_mix (*p);
  release (shared_tee_.get (), p->selector.get (), p->shared_in, true);
  gst_element_set_state (p->selector.get (), GST_STATE_NULL);
  gst_bin_remove (GST_BIN (bin_), p->selector.get ());
  p->selector.reset ();
  GST_DEBUG_OBJECT (bin_, "participant %s: nothing more sent to it", id.c_str ());
}

void
Conference::remove (const std::string &id)
{
  remove_send (id);
  std::shared_ptr<Participant> p;
  {
    std::lock_guard<std::mutex> lk (lock_);
    auto it = participants_.find (id);
    if (it == participants_.end ())
      return;
    p = it->second;
    participants_.erase (it);
  }
  auto others = all ();
  /* Its decoder stops first: then nothing comes out of its tee, and its pads in the mixers
   * can go in any order. */
  gst_element_set_state (p->playout.get (), GST_STATE_NULL);
  for (auto &q : others) {
    auto it = q->feeds.find (id);
    if (it != q->feeds.end () && q->mixer) {
      retire (p->tee.get (), q->mixer.get (), it->second);
      q->feeds.erase (it);
    }
  }
  retire (p->tee.get (), out_mixer_.get (), p->to_output);
  retire (p->tee.get (), shared_mixer_.get (), p->to_shared);
  reap (false);
  for (auto *e : {p->playout.get (), p->volume.get (), p->tee.get ()}) {
    gst_bin_remove (GST_BIN (decoders_.get ()), e);
    gst_element_set_state (e, GST_STATE_NULL);
  }
  GST_INFO_OBJECT (bin_, "participant %s left; %zu remain", id.c_str (), others.size ());
}

bool
Conference::set_gain (const std::string &id, double gain)
{
  auto p = find (id);
  if (!p)
    return false;
  const bool was_silent = p->gain <= 0;
  p->gain = gain;
  g_object_set (p->volume.get (), "volume", gain, nullptr);
  if (was_silent && gain > 0)
    speaks (*p); /* heard again: not in its own ears through the shared mix */
  return true;
}

bool
Conference::set_muted (const std::string &id, bool muted)
{
  auto p = find (id);
  if (!p)
    return false;
  const bool was_muted = p->muted;
  p->muted = muted;
  g_object_set (p->volume.get (), "mute", muted, nullptr);
  if (was_muted && !muted)
    speaks (*p); /* heard again: not in its own ears through the shared mix */
  return true;
}

std::vector<Conference::Level>
Conference::take_levels ()
{
  std::vector<Level> levels;
  for (auto &p : all ()) {
    Level l;
    l.id = p->id;
    l.muted = p->muted;
    l.gain = p->gain;
    std::lock_guard<std::mutex> lk (p->meter->lock);
    if (p->meter->samples) {
      l.rms_db = to_db (std::sqrt (p->meter->sum2 / p->meter->samples));
      l.peak_db = to_db (p->meter->peak);
    }
    p->meter->sum2 = p->meter->peak = 0;
    p->meter->samples = 0;
    levels.push_back (l);
  }
  return levels;
}

} // namespace vc
