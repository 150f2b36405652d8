/* gst-voicecall: conference mixing for voicecall mix=all (see conference.h). */
#include "conference.h"

#include "binutil.h"

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

static void
configure_mixer (GstElement *mixer)
{
  gst_util_set_object_arg (G_OBJECT (mixer), "start-time-selection", "first");
  g_object_set (mixer, "latency", MIXER_LATENCY, nullptr);
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
  if (!make_all (bin_, {{"queue", &local_queue_}, {"voiceplayout", &local_playout_},
          {"tee", &local_tee_}, {"audiomixer", &out_mixer_}, {"capsfilter", &out_filter_},
          {"opusenc", &out_encoder_}, {"rtpopuspay", &out_pay_}}))
    return false;
  /* Leaky: a stalled mix never holds back the capture. */
  g_object_set (local_queue_.get (), "max-size-buffers", 0, "max-size-bytes", 0,
      "max-size-time", static_cast<guint64> (200 * GST_MSECOND), nullptr);
  gst_util_set_object_arg (G_OBJECT (local_queue_.get ()), "leaky", "downstream");
  g_object_set (local_tee_.get (), "allow-not-linked", TRUE, nullptr);
  configure_mixer (out_mixer_.get ());
  configure_encoder (out_filter_.get (), out_encoder_.get (), out_pay_.get ());
  if (!add_and_link (GST_BIN (bin_), {local_queue_.get (), local_playout_.get (),
          local_tee_.get ()}) ||
      !add_and_link (GST_BIN (bin_), {out_mixer_.get (), out_filter_.get (),
          out_encoder_.get (), out_pay_.get ()})) {
    GST_ELEMENT_ERROR (bin_, CORE, NEGOTIATION, ("Cannot link the conference mixer"), (nullptr));
    return false;
  }
  for (auto *e : {local_queue_.get (), local_playout_.get (), local_tee_.get (),
           out_mixer_.get (), out_filter_.get (), out_encoder_.get (), out_pay_.get ()})
    gst_element_sync_state_with_parent (e);
  local_sink_ = adopt (gst_element_get_static_pad (local_queue_.get (), "sink"));
  output_ = adopt (gst_element_get_static_pad (out_pay_.get (), "src"));
  return true;
}

Conference::~Conference ()
{
  std::vector<std::string> ids;
  {
    std::lock_guard<std::mutex> lk (lock_);
    for (auto &kv : participants_)
      ids.push_back (kv.first);
  }
  for (auto &id : ids)
    remove (id);
  for (auto *e : {local_queue_.get (), local_playout_.get (), local_tee_.get (),
           out_mixer_.get (), out_filter_.get (), out_encoder_.get (), out_pay_.get ()}) {
    if (!e)
      continue;
    gst_bin_remove (GST_BIN (bin_), e);
    gst_element_set_state (e, GST_STATE_NULL);
  }
}

/* A new pad of `tee` into a new pad of `mixer`. The tee pad is requested under the stream
 * lock of the tee's sink, so that no sticky event is half-way (see voicecall's
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
      gst_pad_link (l.tee_pad.get (), l.mixer_pad.get ()) != GST_PAD_LINK_OK)
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

GstPtr<GstPad>
Conference::add (const std::string &id)
{
  if (has (id))
    return nullptr;
  auto p = std::make_shared<Participant> ();
  p->id = id;
  if (!make_all (bin_, {{"voiceplayout", &p->playout}, {"volume", &p->volume}, {"tee", &p->tee},
          {"audiomixer", &p->mixer}, {"capsfilter", &p->filter}, {"opusenc", &p->encoder},
          {"rtpopuspay", &p->pay}}))
    return nullptr;
  g_object_set (p->tee.get (), "allow-not-linked", TRUE, nullptr);
  configure_mixer (p->mixer.get ());
  configure_encoder (p->filter.get (), p->encoder.get (), p->pay.get ());
  if (!add_and_link (GST_BIN (bin_), {p->playout.get (), p->volume.get (), p->tee.get ()}) ||
      !add_and_link (GST_BIN (bin_), {p->mixer.get (), p->filter.get (), p->encoder.get (),
          p->pay.get ()})) {
    GST_WARNING_OBJECT (bin_, "participant %s: cannot link its elements", id.c_str ());
    for (auto *e : elements (*p))
      if (GST_OBJECT_PARENT (e) == GST_OBJECT (bin_))
        gst_bin_remove (GST_BIN (bin_), e);
    return nullptr;
  }
  p->meter = std::make_shared<Meter> ();
  GstPtr<GstPad> decoded = adopt (gst_element_get_static_pad (p->playout.get (), "src"));
  gst_pad_add_probe (decoded.get (), GST_PAD_PROBE_TYPE_BUFFER, meter_probe,
      new std::shared_ptr<Meter> (p->meter),
      [] (gpointer data) { delete static_cast<std::shared_ptr<Meter> *> (data); });

  /* Like the session's elements: they follow the participant, not the pipeline. */
  for (auto *e : elements (*p)) {
    gst_element_set_locked_state (e, TRUE);
    if (GstClock *clock = GST_ELEMENT_CLOCK (bin_))
      gst_element_set_clock (e, clock);
    gst_element_set_base_time (e, gst_element_get_base_time (bin_));
    gst_element_set_start_time (e, GST_CLOCK_TIME_NONE);
    gst_element_set_state (e, GST_STATE_PLAYING);
  }

  std::vector<std::shared_ptr<Participant>> others;
  {
    std::lock_guard<std::mutex> lk (lock_);
    for (auto &kv : participants_)
      others.push_back (kv.second);
  }
  p->feeds[""] = feed (local_tee_.get (), p->mixer.get ());
  for (auto &q : others) {
    p->feeds[q->id] = feed (q->tee.get (), p->mixer.get ());
    if (q->mixer)
      q->feeds[id] = feed (p->tee.get (), q->mixer.get ());
  }
  p->to_output = feed (p->tee.get (), out_mixer_.get ());
  GST_INFO_OBJECT (bin_, "participant %s joins %zu other(s)", id.c_str (), others.size ());
  GstPtr<GstPad> out = adopt (gst_element_get_static_pad (p->pay.get (), "src"));
  std::lock_guard<std::mutex> lk (lock_);
  participants_[id] = p;
  return out;
}

std::vector<GstElement *>
Conference::elements (const Participant &p) const
{
  std::vector<GstElement *> all;
  for (auto *e : {p.playout.get (), p.volume.get (), p.tee.get (), p.mixer.get (),
           p.filter.get (), p.encoder.get (), p.pay.get ()})
    if (e)
      all.push_back (e);
  return all;
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
  if (gst_pad_link (src, sink.get ()) != GST_PAD_LINK_OK) {
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
Conference::remove_mix (const std::string &id)
{
  auto p = find (id);
  if (!p || !p->mixer)
    return;
  /* Nothing more into its mixer, then the mixer and its encoder stop before they leave the
   * bin (which unlinks them from the session). */
  for (auto &[source, link] : p->feeds) {
    auto q = source.empty () ? nullptr : find (source);
    GstElement *tee = source.empty () ? local_tee_.get () : q ? q->tee.get () : nullptr;
    if (tee)
      release (tee, p->mixer.get (), link, true);
  }
  p->feeds.clear ();
  for (auto *slot : {&p->mixer, &p->filter, &p->encoder, &p->pay})
    gst_element_set_state (slot->get (), GST_STATE_NULL);
  for (auto *slot : {&p->mixer, &p->filter, &p->encoder, &p->pay}) {
    gst_bin_remove (GST_BIN (bin_), slot->get ());
    slot->reset ();
  }
  GST_DEBUG_OBJECT (bin_, "participant %s: its mix stopped", id.c_str ());
}

void
Conference::remove (const std::string &id)
{
  remove_mix (id);
  std::shared_ptr<Participant> p;
  std::vector<std::shared_ptr<Participant>> others;
  {
    std::lock_guard<std::mutex> lk (lock_);
    auto it = participants_.find (id);
    if (it == participants_.end ())
      return;
    p = it->second;
    participants_.erase (it);
    for (auto &kv : participants_)
      others.push_back (kv.second);
  }
  /* Its decoder stops first: then nothing comes out of its tee, and its pads in the others'
   * mixers can go in any order. */
  gst_element_set_state (p->playout.get (), GST_STATE_NULL);
  for (auto &q : others) {
    auto it = q->feeds.find (id);
    if (it != q->feeds.end () && q->mixer) {
      release (p->tee.get (), q->mixer.get (), it->second, false);
      q->feeds.erase (it);
    }
  }
  release (p->tee.get (), out_mixer_.get (), p->to_output, false);
  for (auto *e : elements (*p))
    gst_bin_remove (GST_BIN (bin_), e);
  for (auto *e : elements (*p))
    gst_element_set_state (e, GST_STATE_NULL);
  GST_INFO_OBJECT (bin_, "participant %s left; %zu remain", id.c_str (), others.size ());
}

bool
Conference::set_gain (const std::string &id, double gain)
{
  auto p = find (id);
  if (!p)
    return false;
  p->gain = gain;
  g_object_set (p->volume.get (), "volume", gain, nullptr);
  return true;
}

bool
Conference::set_muted (const std::string &id, bool muted)
{
  auto p = find (id);
  if (!p)
    return false;
  p->muted = muted;
  g_object_set (p->volume.get (), "mute", muted, nullptr);
  return true;
}

std::vector<Conference::Level>
Conference::take_levels ()
{
  std::vector<std::shared_ptr<Participant>> all;
  {
    std::lock_guard<std::mutex> lk (lock_);
    for (auto &kv : participants_)
      all.push_back (kv.second);
  }
  std::vector<Level> levels;
  for (auto &p : all) {
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
