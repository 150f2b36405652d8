/* gst-voicecall: conference mixing for voicecall mix=all (see conference.h). */
#include "conference.h"

#include "binutil.h"
#include "gstvoicemixer.h"

#include <atomic>
#include <utility>

GST_DEBUG_CATEGORY_STATIC (conference_debug);
#define GST_CAT_DEFAULT conference_debug

namespace vc {

/* As voicecapturebin encodes: wideband speech with room for FEC. */
constexpr gint MIX_BITRATE = 32000;
constexpr int MIX_PAYLOAD_TYPE = 96;

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
  GstElement *mixer = make_element (bin_, "voicemixer", nullptr);
  GstElement *queue = mixer ? make_element (bin_, "queue", nullptr) : nullptr;
  if (!mixer || !queue) {
    if (mixer)
      gst_object_unref (gst_object_ref_sink (mixer));
    return false;
  }
  mixer_ = ref_sink (mixer);
  out_queue_ = ref_sink (queue);
  mixbin_ = ref_sink (gst_bin_new ("mixbin"));
  gst_bin_add (GST_BIN (mixbin_.get ()), mixer);
  g_object_set (mixer, "bitrate", MIX_BITRATE, "pt", MIX_PAYLOAD_TYPE, nullptr);
  /* Leaky: whatever is downstream of the element (a synchronised sink) never holds back the
   * mixer, which sends to every participant. */
  g_object_set (queue, "max-size-buffers", 0, "max-size-bytes", 0, "max-size-time",
      static_cast<guint64> (200 * GST_MSECOND), nullptr);
  gst_util_set_object_arg (G_OBJECT (queue), "leaky", "downstream");
  GstPtr<GstPad> local = adopt (gst_element_get_static_pad (mixer, "local"));
  GstPtr<GstPad> src = adopt (gst_element_get_static_pad (mixer, "src"));
  GstPad *local_ghost = gst_ghost_pad_new ("local", local.get ());
  GstPad *src_ghost = gst_ghost_pad_new ("src", src.get ());
  gst_pad_set_active (local_ghost, TRUE);
  gst_pad_set_active (src_ghost, TRUE);
  gst_element_add_pad (mixbin_.get (), local_ghost);
  gst_element_add_pad (mixbin_.get (), src_ghost);
  if (!add_and_link (GST_BIN (bin_), {mixbin_.get (), queue})) {
    GST_ELEMENT_ERROR (bin_, CORE, NEGOTIATION, ("Cannot link the conference mixer"), (nullptr));
    return false;
  }
  gst_element_sync_state_with_parent (queue);
  gst_element_sync_state_with_parent (mixbin_.get ());
  local_sink_ = ref (local_ghost);
  output_ = adopt (gst_element_get_static_pad (queue, "src"));
  return true;
}

Conference::~Conference ()
{
  for (auto &p : all ())
    remove (p->id);
  for (auto *e : {out_queue_.get (), mixbin_.get ()}) {
    if (!e)
      continue;
    gst_bin_remove (GST_BIN (bin_), e);
    gst_element_set_state (e, GST_STATE_NULL);
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
  p->index = next_index_++;
  GUnique<gchar> name (g_strdup_printf ("src_%u", p->index));
  p->src = adopt (gst_element_request_pad_simple (mixer_.get (), name.get ()));
  if (!p->src) {
    GST_WARNING_OBJECT (bin_, "participant %s: no mixer pad", id.c_str ());
    return nullptr;
  }
  GstPad *ghost = gst_ghost_pad_new (name.get (), p->src.get ());
  gst_pad_set_active (ghost, TRUE);
  gst_element_add_pad (mixbin_.get (), ghost);
  p->ghost = ref (ghost);
  /* It starts as a speaker (own-mix, the mixer's default): it gets the shared mix (which
   * has it) only once it has been silent for a while. */
  p->heard_us = g_get_monotonic_time ();
  size_t others;
  {
    std::lock_guard<std::mutex> lk (lock_);
    others = participants_.size ();
    participants_[id] = p;
  }
  GST_INFO_OBJECT (bin_, "participant %s joins %zu other(s)", id.c_str (), others);
  return p->ghost;
}

/* A participant's webrtcbin's jitter buffer (rtpbin's, one per SSRC) holds nothing in order
 * and only hands the packets to a thread of its own, which pushes them to the mixer, whose
 * playout is the jitter buffer that counts: a wake-up per packet per participant for
 * nothing. A probe on its sink pad (after SRTP, rtpsession and the arrival time) gives each
 * packet to the mixer's pad in the receiving thread and drops it there, but while the
 * session is on hold (the packets then go through webrtcbin, whose pad makes them silence).
 * Its loss events go (do-lost): the playout finds the holes itself, and a jitter buffer that
 * saw no packet for a while would report them all lost. */
struct Tap {
  GstPtr<GstPad> sink; /* the mixer's sink_N */
  std::function<bool ()> held;
  /* The stream's sticky events reach the mixer's pad the normal way, from the jitter
   * buffer's thread; until they have, the packets go that way too (the mixer's pad wants a
   * stream-start, caps and a segment before data, and its playout puts them in order). */
  std::atomic<bool> started {false};
};

static GstPadProbeReturn
tap_probe (GstPad *, GstPadProbeInfo *info, gpointer data)
{
  auto *tap = static_cast<Tap *> (data);
  if (tap->held && tap->held ())
    return GST_PAD_PROBE_OK;
  if (!tap->started.load ()) {
    GstEvent *segment = gst_pad_get_sticky_event (tap->sink.get (), GST_EVENT_SEGMENT, 0);
    if (!segment)
      return GST_PAD_PROBE_OK;
    gst_event_unref (segment);
    tap->started = true;
  }
  gst_pad_chain (tap->sink.get (), gst_buffer_ref (GST_PAD_PROBE_INFO_BUFFER (info)));
  return GST_PAD_PROBE_DROP;
}

static void
tap_jitter_buffers (GstPad *webrtc_src, GstPad *mixer_sink, std::function<bool ()> held)
{
  GstPtr<GstElement> webrtc = adopt (gst_pad_get_parent_element (webrtc_src));
  if (!webrtc || !GST_IS_BIN (webrtc.get ()))
    return;
  GstIterator *it = gst_bin_iterate_recurse (GST_BIN (webrtc.get ()));
  GValue v = G_VALUE_INIT;
  while (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
    GstElement *e = GST_ELEMENT (g_value_get_object (&v));
    GstElementFactory *f = gst_element_get_factory (e);
    const gchar *name = f ? GST_OBJECT_NAME (f) : "";
    if (g_strcmp0 (name, "rtpjitterbuffer") == 0) {
      g_object_set (e, "do-lost", FALSE, nullptr);
      GstPtr<GstPad> sink = adopt (gst_element_get_static_pad (e, "sink"));
      gst_pad_add_probe (sink.get (), GST_PAD_PROBE_TYPE_BUFFER, tap_probe,
          new Tap {ref (mixer_sink), held, {}},
          [] (gpointer data) { delete static_cast<Tap *> (data); });
    }
    g_value_reset (&v);
  }
  g_value_unset (&v);
  gst_iterator_free (it);
}

GstPtr<GstPad>
Conference::link_received (const std::string &id, GstPad *src, std::function<bool ()> held)
{
  GstPtr<GstPad> sink;
  double gain;
  bool muted;
  {
    std::lock_guard<std::mutex> lk (lock_);
    auto it = participants_.find (id);
    if (it == participants_.end () || it->second->sink)
      return nullptr;
    GUnique<gchar> name (g_strdup_printf ("sink_%u", it->second->index));
    sink = adopt (gst_element_request_pad_simple (mixer_.get (), name.get ()));
    it->second->sink = sink;
    gain = it->second->gain;
    muted = it->second->muted;
  }
  if (!sink)
    return nullptr;
  g_object_set (sink.get (), "gain", gain, "mute", muted, nullptr);
  tap_jitter_buffers (src, sink.get (), std::move (held));
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

/* Unlinks a pad of the mixer and gives it back. */
static void
release_pad (GstElement *mixer, GstPtr<GstPad> &pad)
{
  if (!pad)
    return;
  if (GstPtr<GstPad> peer = adopt (gst_pad_get_peer (pad.get ()))) {
    if (GST_PAD_IS_SRC (pad.get ()))
      gst_pad_unlink (pad.get (), peer.get ());
    else
      gst_pad_unlink (peer.get (), pad.get ());
  }
  gst_element_release_request_pad (mixer, pad.get ());
  pad.reset ();
}

void
Conference::remove_send (const std::string &id)
{
  auto p = find (id);
  if (!p || !p->src)
    return;
  GstPtr<GstPad> src, ghost;
  {
    std::lock_guard<std::mutex> lk (lock_);
    src = std::move (p->src);
    ghost = std::move (p->ghost);
  }
  if (ghost) {
    if (GstPtr<GstPad> peer = adopt (gst_pad_get_peer (ghost.get ())))
      gst_pad_unlink (ghost.get (), peer.get ());
    gst_element_remove_pad (mixbin_.get (), ghost.get ());
  }
  release_pad (mixer_.get (), src);
  GST_DEBUG_OBJECT (bin_, "participant %s: nothing more sent to it", id.c_str ());
}

void
Conference::remove (const std::string &id)
{
  remove_send (id);
  std::shared_ptr<Participant> p;
  size_t left;
  {
    std::lock_guard<std::mutex> lk (lock_);
    auto it = participants_.find (id);
    if (it == participants_.end ())
      return;
    p = it->second;
    participants_.erase (it);
    left = participants_.size ();
  }
  release_pad (mixer_.get (), p->sink);
  GST_INFO_OBJECT (bin_, "participant %s left; %zu remain", id.c_str (), left);
}

void
Conference::set_property (Participant &p, const char *name, bool value)
{
  std::lock_guard<std::mutex> lk (lock_);
  for (GstPad *pad : {p.src.get (), p.sink.get ()})
    if (pad)
      g_object_set (pad, name, value, nullptr);
}

void
Conference::set_own_mix (Participant &p, bool own)
{
  if (p.own_mix == own)
    return;
  p.own_mix = own;
  set_property (p, "own-mix", own);
  GST_DEBUG_OBJECT (bin_, "participant %s: %s", p.id.c_str (),
      own ? "a mix of its own" : "the shared mix");
}

void
Conference::speaks (Participant &p)
{
  p.heard_us = g_get_monotonic_time ();
  if (!p.muted && p.gain > 0)
    set_own_mix (p, true);
}

void
Conference::follow_speakers (const std::vector<Level> &levels)
{
  const gint64 now = g_get_monotonic_time ();
  for (const Level &l : levels) {
    auto p = find (l.id);
    if (!p || !p->src)
      continue;
    if (!p->muted && p->gain > 0 && l.rms_db > SPEAKING_DB)
      speaks (*p);
    else if (p->own_mix && now - p->heard_us >= OWN_MIX_HOLD_US)
      set_own_mix (*p, false);
  }
}

int
Conference::own_mixes () const
{
  int n = 0;
  for (auto &p : all ())
    n += p->src && p->own_mix ? 1 : 0;
  return n;
}

bool
Conference::set_gain (const std::string &id, double gain)
{
  auto p = find (id);
  if (!p)
    return false;
  const bool was_silent = p->gain <= 0;
  p->gain = gain;
  {
    std::lock_guard<std::mutex> lk (lock_);
    for (GstPad *pad : {p->src.get (), p->sink.get ()})
      if (pad)
        g_object_set (pad, "gain", gain, nullptr);
  }
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
  set_property (*p, "mute", muted);
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
    gst_voice_mixer_take_level (GST_VOICE_MIXER (mixer_.get ()), p->index, &l.rms_db,
        &l.peak_db);
    levels.push_back (l);
  }
  return levels;
}

} // namespace vc
