/* gst-voicecall: voiceplayout
 *
 * SECTION:element-voiceplayout
 * @title: voiceplayout
 *
 * The receive side of a voice call as libwebrtc's NetEq does it, in one element: Opus RTP
 * packets go into a packet buffer as they arrive; every 10 ms of the pipeline clock the
 * element takes 10 ms of audio out, decoding, recovering a lost packet from the next one's
 * in-band FEC when that one is already here, concealing what is missing, and stretching or
 * squeezing voiced speech and silence by a pitch period so that the delay follows the
 * network's jitter (about one packet on a clean path). The logic is gst/playout/ (plain C++
 * units); this element only feeds it packets and clock ticks. docs/playout.md explains it.
 *
 * The output is timestamped with the running time at which it is produced: the adaptive
 * delay is already in it. The element answers a latency query with one tick (10 ms) and no
 * maximum; the current and target delays are in the "voiceplayout-stats" message and the
 * stats property (a sink would add a declared latency a second time).
 * It is live: it needs a clock and produces only in PLAYING, from the first packet on.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 udpsrc port=5004 caps="application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000" ! \
 *     voiceplayout ! audioconvert ! autoaudiosink
 * ]|
 */
#include "gstvoiceplayout.h"

#include "callstats.h"
#include "clocktask.h"
#include "playout/playout.h"

#include <gst/rtp/gstrtpbuffer.h>

#include <memory>
#include <mutex>

GST_DEBUG_CATEGORY_STATIC (voice_playout_debug);
#define GST_CAT_DEFAULT voice_playout_debug

enum {
  PROP_0,
  PROP_FEC,
  PROP_MIN_DELAY,
  PROP_MAX_DELAY,
  PROP_CHANNELS,
  PROP_STATS_INTERVAL,
  PROP_STATS,
  PROP_TICKS_PER_BUFFER,
};

constexpr gboolean DEFAULT_FEC = TRUE;
constexpr int DEFAULT_MIN_DELAY = 0;
constexpr int DEFAULT_MAX_DELAY = vc::playout::DelayManager::DEFAULT_MAX_DELAY_MS;
constexpr int DEFAULT_CHANNELS = 1;
constexpr int DEFAULT_STATS_INTERVAL = 1000;
constexpr int DEFAULT_TICKS_PER_BUFFER = 1;
constexpr GstClockTime TICK = 10 * GST_MSECOND;

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink", GST_PAD_SINK,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("application/x-rtp, media=(string)audio, encoding-name=(string)OPUS, "
        "clock-rate=(int)48000"));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src", GST_PAD_SRC,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("audio/x-raw, format=(string)S16LE, rate=(int)48000, "
        "channels=(int)[1, 2], layout=(string)interleaved"));

struct GstVoicePlayoutPrivate {
  std::mutex lock;
  /* settings */
  bool fec = DEFAULT_FEC;
  int min_delay = DEFAULT_MIN_DELAY, max_delay = DEFAULT_MAX_DELAY;
  int channels = DEFAULT_CHANNELS;
  int stats_interval = DEFAULT_STATS_INTERVAL;
  int ticks_per_buffer = DEFAULT_TICKS_PER_BUFFER;
  /* streaming */
  std::unique_ptr<vc::playout::Playout> playout;
  bool eos = false;
  bool need_events = true;
  vc::ClockTask task {lock};
  GstClockTime last_stats = GST_CLOCK_TIME_NONE;
};

struct _GstVoicePlayout {
  GstElement parent;
  GstPad *sinkpad, *srcpad;
  GstVoicePlayoutPrivate *priv;
};

#define gst_voice_playout_parent_class parent_class
G_DEFINE_TYPE (GstVoicePlayout, gst_voice_playout, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (voiceplayout, "voiceplayout", GST_RANK_NONE,
    GST_TYPE_VOICE_PLAYOUT,
    GST_DEBUG_CATEGORY_INIT (voice_playout_debug, "voiceplayout", 0, "voice playout"));

static GstStructure *
stats_structure (const vc::playout::PlayoutStats &s)
{
  return gst_structure_new ("voiceplayout-stats",
      "current-delay-ms", G_TYPE_DOUBLE, s.current_delay_ms,
      "target-delay-ms", G_TYPE_INT, s.target_delay_ms,
      "jitter-target-delay-ms", G_TYPE_INT, s.jitter_target_delay_ms,
      "fec-headroom", G_TYPE_BOOLEAN, s.fec_headroom,
      "loss-rate", G_TYPE_DOUBLE, s.loss_rate,
      "packets-received", G_TYPE_UINT64, s.packets_received,
      "packets-decoded", G_TYPE_UINT64, s.packets_decoded,
      "packets-lost", G_TYPE_UINT64, s.packets_lost,
      "late-discarded", G_TYPE_UINT64, s.late_discarded,
      "duplicates", G_TYPE_UINT64, s.duplicates,
      "fec-recovered", G_TYPE_UINT64, s.fec_recovered,
      "total-samples", G_TYPE_UINT64, s.total_samples,
      "concealed-samples", G_TYPE_UINT64, s.concealed_samples,
      "concealment-events", G_TYPE_UINT64, s.concealment_events,
      "inserted-samples-for-deceleration", G_TYPE_UINT64, s.inserted_samples_for_deceleration,
      "removed-samples-for-acceleration", G_TYPE_UINT64, s.removed_samples_for_acceleration,
      nullptr);
}

/* When the packet reached the jitter buffer in front (voicecall's arrival meta, running time
 * in µs), or -1 without one. Taken only if it is within the last 2 s: anything else is not an
 * arrival time of this pipeline. */
static int64_t
network_arrival_us (GstBuffer *buf, GstClockTime now)
{
  static GstStaticCaps reference = GST_STATIC_CAPS (vc::stats::ARRIVAL_META_CAPS);
  GstReferenceTimestampMeta *meta =
      gst_buffer_get_reference_timestamp_meta (buf, gst_static_caps_get (&reference));
  if (!meta || !GST_CLOCK_TIME_IS_VALID (now) || !GST_CLOCK_TIME_IS_VALID (meta->timestamp))
    return -1;
  const GstClockTime at = meta->timestamp;
  if (at > now || now - at > 2 * GST_SECOND)
    return -1;
  GST_LOG ("packet held %" GST_TIME_FORMAT " before it reached the playout",
      GST_TIME_ARGS (now - at));
  return static_cast<int64_t> (at / GST_USECOND);
}

static GstFlowReturn
gst_voice_playout_chain (GstPad *pad, GstObject *parent, GstBuffer *buf)
{
  auto *self = GST_VOICE_PLAYOUT (parent);
  auto *priv = self->priv;
  const GstClockTime now = vc::running_time_now (GST_ELEMENT (self));
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (!gst_rtp_buffer_map (buf, GST_MAP_READ, &rtp)) {
    GST_DEBUG_OBJECT (self, "dropping a buffer that is not RTP");
    gst_buffer_unref (buf);
    return GST_FLOW_OK;
  }
  const int64_t came_us = network_arrival_us (buf, now);
  {
    std::lock_guard<std::mutex> l (priv->lock);
    if (priv->task.flushing || !priv->playout || !GST_CLOCK_TIME_IS_VALID (now)) {
      GST_DEBUG_OBJECT (self, "not playing: dropping packet %u", gst_rtp_buffer_get_seq (&rtp));
    } else {
      priv->playout->insert (static_cast<const uint8_t *> (gst_rtp_buffer_get_payload (&rtp)),
          gst_rtp_buffer_get_payload_len (&rtp), gst_rtp_buffer_get_seq (&rtp),
          gst_rtp_buffer_get_timestamp (&rtp), static_cast<int64_t> (now / GST_USECOND),
          came_us);
    }
  }
  gst_rtp_buffer_unmap (&rtp);
  gst_buffer_unref (buf);
  return GST_FLOW_OK;
}

static gboolean
gst_voice_playout_sink_event (GstPad *pad, GstObject *parent, GstEvent *event)
{
  auto *self = GST_VOICE_PLAYOUT (parent);
  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_EOS: {
      /* The task plays out what is buffered, then sends EOS. */
      std::lock_guard<std::mutex> l (self->priv->lock);
      self->priv->eos = true;
      gst_event_unref (event);
      return TRUE;
    }
    case GST_EVENT_CAPS:
    case GST_EVENT_SEGMENT:
    case GST_EVENT_STREAM_START:
    case GST_EVENT_FLUSH_START:
    case GST_EVENT_FLUSH_STOP:
    case GST_EVENT_GAP:
    case GST_EVENT_CUSTOM_DOWNSTREAM:
      /* The src side has a timeline of its own (the clock's ticks): nothing to forward. A
       * jitter buffer's loss events (rtpjitterbuffer do-lost: GAP, GstRTPPacketLost) are
       * not needed either: the playout finds the holes in the sequence numbers itself. */
      gst_event_unref (event);
      return TRUE;
    default:
      if (GST_EVENT_IS_SERIALIZED (event) && GST_EVENT_IS_DOWNSTREAM (event)) {
        /* Tags, segment-done…: in the upstream timeline, which the output does not share;
         * pushed from this thread they would race with the task's buffers. */
        gst_event_unref (event);
        return TRUE;
      }
      return gst_pad_event_default (pad, parent, event);
  }
}

/* voicecall's playout query (callstats.h): the same figures as the stats message. */
static gboolean
gst_voice_playout_sink_query (GstPad *pad, GstObject *parent, GstQuery *query)
{
  if (GST_QUERY_TYPE (query) == GST_QUERY_CUSTOM) {
    GstStructure *s = gst_query_writable_structure (query);
    if (s && gst_structure_has_name (s, vc::stats::PLAYOUT_QUERY)) {
      auto *priv = GST_VOICE_PLAYOUT (parent)->priv;
      GstStructure *stats;
      {
        std::lock_guard<std::mutex> l (priv->lock);
        if (!priv->playout)
          return FALSE;
        stats = stats_structure (priv->playout->stats ());
      }
      gst_structure_foreach (stats, [] (GQuark field, const GValue *value, gpointer to) -> gboolean {
        gst_structure_id_set_value (static_cast<GstStructure *> (to), field, value);
        return TRUE;
      }, s);
      gst_structure_free (stats);
      gst_structure_set (s, "mode", G_TYPE_STRING, "adaptive", nullptr);
      return TRUE;
    }
  }
  return gst_pad_query_default (pad, parent, query);
}

static gboolean
gst_voice_playout_src_query (GstPad *pad, GstObject *parent, GstQuery *query)
{
  if (GST_QUERY_TYPE (query) == GST_QUERY_LATENCY) {
    /* Live; each tick's audio is pushed when it is due: one tick to get downstream. It can
     * be pushed as much later as downstream wants (the packets wait in the playout), so the
     * maximum is unbounded: a sink's processing deadline needs no queue. */
    int ticks;
    {
      auto *priv = GST_VOICE_PLAYOUT (parent)->priv;
      std::lock_guard<std::mutex> l (priv->lock);
      ticks = priv->ticks_per_buffer;
    }
    gst_query_set_latency (query, TRUE, ticks * TICK, GST_CLOCK_TIME_NONE);
    return TRUE;
  }
  return gst_pad_query_default (pad, parent, query);
}

static void
push_events (GstVoicePlayout *self, int channels)
{
  gchar *id = gst_pad_create_stream_id (self->srcpad, GST_ELEMENT (self), nullptr);
  gst_pad_push_event (self->srcpad, gst_event_new_stream_start (id));
  g_free (id);
  GstCaps *caps = gst_caps_new_simple ("audio/x-raw", "format", G_TYPE_STRING, "S16LE",
      "rate", G_TYPE_INT, 48000, "channels", G_TYPE_INT, channels,
      "layout", G_TYPE_STRING, "interleaved", nullptr);
  gst_pad_push_event (self->srcpad, gst_event_new_caps (caps));
  gst_caps_unref (caps);
  GstSegment segment;
  gst_segment_init (&segment, GST_FORMAT_TIME);
  gst_pad_push_event (self->srcpad, gst_event_new_segment (&segment));
}

static void
gst_voice_playout_loop (gpointer data)
{
  auto *self = GST_VOICE_PLAYOUT (data);
  auto *priv = self->priv;
  auto *element = GST_ELEMENT (self);

  bool need_events = false;
  int channels = 0, ticks = 0;
  GstClockID id = priv->task.arm (element, self->srcpad, "voiceplayout needs a clock to play out.",
      [&] {
        ticks = priv->ticks_per_buffer;
        need_events = priv->need_events;
        priv->need_events = false;
        channels = priv->channels;
        /* A buffer of several ticks goes when its last tick is due. */
        return (ticks - 1) * TICK;
      });
  if (!id)
    return;

  if (need_events)
    push_events (self, channels);

  GstClockTime pts;
  bool send_eos;
  {
    std::unique_lock<std::mutex> l = priv->task.wait (self->srcpad, id);
    if (!l)
      return;
    pts = priv->task.next_tick;
    send_eos = priv->eos && priv->playout->buffered_frames () < vc::playout::Playout::TICK_FRAMES;
  }
  if (send_eos) {
    /* Everything received has been played (but for less than a tick that stretching left
     * over): nothing to conceal. */
    gst_pad_push_event (self->srcpad, gst_event_new_eos ());
    gst_pad_pause_task (self->srcpad);
    return;
  }
  const gsize tick_samples = vc::playout::Playout::TICK_FRAMES * channels;
  GstBuffer *buf = gst_buffer_new_allocate (nullptr, ticks * tick_samples * sizeof (int16_t),
      nullptr);
  GstStructure *stats = nullptr;
  {
    std::lock_guard<std::mutex> l (priv->lock);
    if (!priv->playout->started ()) {
      /* Nothing has come yet: no output (as a decoder), so that a recording starts with the
       * call's first audio rather than with the time the pipeline waited for it. */
      priv->task.next_tick += ticks * TICK;
      gst_buffer_unref (buf);
      return;
    }
    GstMapInfo map;
    gst_buffer_map (buf, &map, GST_MAP_WRITE);
    /* Each tick's audio is taken now, when the last one is due. */
    const GstClockTime pulled = pts + (ticks - 1) * TICK;
    for (int i = 0; i < ticks; i++)
      priv->playout->pull (static_cast<int64_t> (pulled / GST_USECOND),
          reinterpret_cast<int16_t *> (map.data) + i * tick_samples);
    gst_buffer_unmap (buf, &map);
    priv->task.next_tick += ticks * TICK;
    if (priv->stats_interval > 0 && (!GST_CLOCK_TIME_IS_VALID (priv->last_stats) ||
            pts >= priv->last_stats + priv->stats_interval * GST_MSECOND)) {
      priv->last_stats = pts;
      stats = stats_structure (priv->playout->stats ());
    }
  }
  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DURATION (buf) = ticks * TICK;
  if (stats)
    gst_element_post_message (element, gst_message_new_element (GST_OBJECT (self), stats));

  const GstFlowReturn ret = gst_pad_push (self->srcpad, buf);
  if (ret != GST_FLOW_OK) {
    GST_DEBUG_OBJECT (self, "pausing: %s", gst_flow_get_name (ret));
    if (ret == GST_FLOW_NOT_LINKED || ret < GST_FLOW_EOS)
      GST_ELEMENT_FLOW_ERROR (self, ret);
    gst_pad_pause_task (self->srcpad);
  }
}

/* Flagged a source (it produces on its own clock), the element gets what a bin sends its
 * sources: an application's EOS to the pipeline would go straight into the sink pad and end
 * the playout ahead of the audio still on its way, which gets that EOS from its own sources
 * upstream. It is left to come from there. */
static gboolean
gst_voice_playout_send_event (GstElement *element, GstEvent *event)
{
  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS) {
    GST_DEBUG_OBJECT (element, "EOS sent to the element: it comes from upstream");
    gst_event_unref (event);
    return TRUE;
  }
  return GST_ELEMENT_CLASS (parent_class)->send_event (element, event);
}

static GstStateChangeReturn
gst_voice_playout_change_state (GstElement *element, GstStateChange transition)
{
  auto *self = GST_VOICE_PLAYOUT (element);
  auto *priv = self->priv;

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED: {
      std::lock_guard<std::mutex> l (priv->lock);
      vc::playout::Playout::Config c;
      c.channels = priv->channels;
      c.fec = priv->fec;
      c.min_delay_ms = priv->min_delay;
      c.max_delay_ms = priv->max_delay;
      priv->playout = std::make_unique<vc::playout::Playout> (c);
      priv->need_events = true;
      priv->eos = false;
      priv->task.next_tick = GST_CLOCK_TIME_NONE;
      priv->last_stats = GST_CLOCK_TIME_NONE;
      break;
    }
    default:
      break;
  }

  const GstStateChangeReturn ret = priv->task.change_state (element, transition,
      GST_ELEMENT_CLASS (parent_class), self->srcpad, gst_voice_playout_loop);
  if (ret == GST_STATE_CHANGE_FAILURE)
    return ret;

  switch (transition) {
    case GST_STATE_CHANGE_PAUSED_TO_READY: {
      std::lock_guard<std::mutex> l (priv->lock);
      priv->playout.reset ();
      break;
    }
    default:
      break;
  }
  return ret;
}

static void
gst_voice_playout_init (GstVoicePlayout *self)
{
  self->priv = new GstVoicePlayoutPrivate ();
  self->sinkpad = gst_pad_new_from_static_template (&sink_template, "sink");
  gst_pad_set_chain_function (self->sinkpad, GST_DEBUG_FUNCPTR (gst_voice_playout_chain));
  gst_pad_set_event_function (self->sinkpad, GST_DEBUG_FUNCPTR (gst_voice_playout_sink_event));
  gst_pad_set_query_function (self->sinkpad, GST_DEBUG_FUNCPTR (gst_voice_playout_sink_query));
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);
  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_set_query_function (self->srcpad, GST_DEBUG_FUNCPTR (gst_voice_playout_src_query));
  gst_pad_use_fixed_caps (self->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);
  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SOURCE);
}

static void
gst_voice_playout_finalize (GObject *object)
{
  delete GST_VOICE_PLAYOUT (object)->priv;
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_voice_playout_set_property (GObject *object, guint prop_id, const GValue *value,
    GParamSpec *pspec)
{
  auto *priv = GST_VOICE_PLAYOUT (object)->priv;
  std::lock_guard<std::mutex> l (priv->lock);
  switch (prop_id) {
    case PROP_FEC:
      priv->fec = g_value_get_boolean (value);
      break;
    case PROP_MIN_DELAY:
      priv->min_delay = g_value_get_int (value);
      break;
    case PROP_MAX_DELAY:
      priv->max_delay = g_value_get_int (value);
      break;
    case PROP_CHANNELS:
      priv->channels = g_value_get_int (value);
      break;
    case PROP_STATS_INTERVAL:
      priv->stats_interval = g_value_get_int (value);
      break;
    case PROP_TICKS_PER_BUFFER:
      priv->ticks_per_buffer = g_value_get_int (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
}

static void
gst_voice_playout_get_property (GObject *object, guint prop_id, GValue *value,
    GParamSpec *pspec)
{
  auto *priv = GST_VOICE_PLAYOUT (object)->priv;
  std::lock_guard<std::mutex> l (priv->lock);
  switch (prop_id) {
    case PROP_FEC:
      g_value_set_boolean (value, priv->fec);
      break;
    case PROP_MIN_DELAY:
      g_value_set_int (value, priv->min_delay);
      break;
    case PROP_MAX_DELAY:
      g_value_set_int (value, priv->max_delay);
      break;
    case PROP_CHANNELS:
      g_value_set_int (value, priv->channels);
      break;
    case PROP_STATS_INTERVAL:
      g_value_set_int (value, priv->stats_interval);
      break;
    case PROP_TICKS_PER_BUFFER:
      g_value_set_int (value, priv->ticks_per_buffer);
      break;
    case PROP_STATS:
      g_value_take_boxed (value, stats_structure (priv->playout ? priv->playout->stats ()
                                                                : vc::playout::PlayoutStats ()));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
}

static void
gst_voice_playout_class_init (GstVoicePlayoutClass *klass)
{
  auto *gobject_class = G_OBJECT_CLASS (klass);
  auto *element_class = GST_ELEMENT_CLASS (klass);
  const auto flags = static_cast<GParamFlags> (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  const auto ready_flags = static_cast<GParamFlags> (flags | GST_PARAM_MUTABLE_READY);

  gobject_class->finalize = gst_voice_playout_finalize;
  gobject_class->set_property = gst_voice_playout_set_property;
  gobject_class->get_property = gst_voice_playout_get_property;
  element_class->change_state = GST_DEBUG_FUNCPTR (gst_voice_playout_change_state);
  element_class->send_event = GST_DEBUG_FUNCPTR (gst_voice_playout_send_event);

  g_object_class_install_property (gobject_class, PROP_FEC,
      g_param_spec_boolean ("fec", "FEC",
          "Recover a lost packet from the next packet's Opus in-band FEC when that packet is "
          "already here; while packets are being lost, hold one packet more so that it is",
          DEFAULT_FEC, ready_flags));
  g_object_class_install_property (gobject_class, PROP_MIN_DELAY,
      g_param_spec_int ("min-delay", "Minimum delay",
          "The target delay never goes below this (ms); 0: one packet", 0, 10000,
          DEFAULT_MIN_DELAY, ready_flags));
  g_object_class_install_property (gobject_class, PROP_MAX_DELAY,
      g_param_spec_int ("max-delay", "Maximum delay",
          "The target delay never goes above this (ms), whatever the jitter", 0, 10000,
          DEFAULT_MAX_DELAY, ready_flags));
  g_object_class_install_property (gobject_class, PROP_CHANNELS,
      g_param_spec_int ("channels", "Channels", "Channels of the audio produced (1 or 2)", 1, 2,
          DEFAULT_CHANNELS, ready_flags));
  g_object_class_install_property (gobject_class, PROP_STATS_INTERVAL,
      g_param_spec_int ("stats-interval", "Statistics interval",
          "Post a voiceplayout-stats element message every this many ms of output (0: never)",
          0, G_MAXINT, DEFAULT_STATS_INTERVAL, flags));
  g_object_class_install_property (gobject_class, PROP_TICKS_PER_BUFFER,
      g_param_spec_int ("ticks-per-buffer", "Ticks per buffer",
          "10-ms ticks of audio in each output buffer, pushed when the last is due: fewer, "
          "larger buffers wake the element and downstream less often (a mixer that encodes "
          "20-ms Opus frames takes 2); the latency grows by 10 ms per tick more than 1",
          1, 10, DEFAULT_TICKS_PER_BUFFER, ready_flags));
  g_object_class_install_property (gobject_class, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "Delays (current-delay-ms, target-delay-ms) and counters (packets, late, FEC, "
          "concealed, inserted and removed samples), as in WebRTC's getStats",
          GST_TYPE_STRUCTURE, static_cast<GParamFlags> (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "Voice playout",
      "Codec/Decoder/Audio/Network",
      "Adaptive playout of Opus RTP: jitter buffer, FEC, concealment and time-stretching, "
      "10 ms of audio per clock tick",
      "gst-voicecall");
}
