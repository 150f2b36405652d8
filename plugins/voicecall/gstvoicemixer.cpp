/* gst-voicecall: voicemixer
 *
 * SECTION:element-voicemixer
 * @title: voicemixer
 *
 * A conference's mixing as Janus AudioBridge does it: one thread for every participant. A
 * participant is a pair of request pads with the same number: `sink_N` takes its Opus RTP
 * (from its call's webrtcbin), `src_N` gives it Opus RTP of everyone else (mix-minus). The
 * always pad `local` takes our own Opus RTP (the local party: heard by every participant),
 * the always pad `src` gives every participant mixed (not the local party).
 *
 * Every 20 ms of the pipeline clock the element's one thread takes 20 ms of audio from each
 * input's playout (gst/playout: jitter buffer, FEC, concealment, time-stretching, as
 * voiceplayout), measures each participant's level, applies its gain and mute, and sums
 * them. The full mix (the local party and every participant) is encoded once and its
 * payload goes to every participant whose `src_N` pad has `own-mix` off (a listener: it
 * hears itself in that mix only as the silence it sends); a participant with `own-mix` on (a
 * speaker) gets the full mix minus itself, encoded for it alone. Each `src_N` is an RTP
 * stream of its own (SSRC, sequence numbers, timestamps) whichever encode it carries, so
 * switching `own-mix` is seamless for the receiver. No other thread, queue or element is
 * involved: per participant, the cost is its decode, its share of the sum, and an RTP header
 * (an encode while it speaks).
 *
 * `voicecall mix=all` uses it (docs/design.md, "Conference mixing"); it is an element of its
 * own so that it can be tested alone.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 voicemixer name=m ! rtpopusdepay ! opusdec ! autoaudiosink \
 *     udpsrc port=5004 caps="application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000" ! m.sink_0 \
 *     udpsrc port=5006 caps="application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000" ! m.sink_1
 * ]|
 */
#include "gstvoicemixer.h"

#include "callstats.h"
#include "clocktask.h"
#include "gstptr.h"
#include "playout/playout.h"

#include <gst/rtp/gstrtpbuffer.h>
#include <opus.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

GST_DEBUG_CATEGORY_STATIC (voice_mixer_debug);
#define GST_CAT_DEFAULT voice_mixer_debug

namespace {

using vc::playout::Playout;

constexpr int RATE = Playout::RATE;
constexpr int TICKS = 2;                                   /* 10-ms playout ticks a frame */
constexpr int FRAME = TICKS * Playout::TICK_FRAMES;         /* 20 ms: one Opus frame */
constexpr GstClockTime FRAME_TIME = TICKS * 10 * GST_MSECOND;
constexpr GstClockTime TICK_TIME = 10 * GST_MSECOND;
/* As voicecapturebin encodes: wideband speech with room for FEC. */
constexpr int DEFAULT_BITRATE = 32000;
/* Janus AudioBridge encodes at 4; 5 costs about the same (1.2 % of a core per encoder here,
 * against 2.1 % at 10, opusenc's default) and keeps SILK's better pitch analysis. */
constexpr int DEFAULT_COMPLEXITY = 5;
constexpr int DEFAULT_PT = 96;
constexpr int MAX_PACKET = 1500;

enum { PROP_0, PROP_BITRATE, PROP_COMPLEXITY, PROP_PT, PROP_ENCODERS };
enum { PAD_PROP_0, PAD_PROP_GAIN, PAD_PROP_MUTE, PAD_PROP_OWN_MIX };

GstStaticPadTemplate local_template = GST_STATIC_PAD_TEMPLATE ("local", GST_PAD_SINK,
    GST_PAD_ALWAYS, GST_STATIC_CAPS ("application/x-rtp, media=(string)audio, "
        "encoding-name=(string)OPUS, clock-rate=(int)48000"));
GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink_%u", GST_PAD_SINK,
    GST_PAD_REQUEST, GST_STATIC_CAPS ("application/x-rtp, media=(string)audio, "
        "encoding-name=(string)OPUS, clock-rate=(int)48000"));
GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src", GST_PAD_SRC,
    GST_PAD_ALWAYS, GST_STATIC_CAPS ("application/x-rtp, media=(string)audio, "
        "encoding-name=(string)OPUS, clock-rate=(int)48000"));
GstStaticPadTemplate part_src_template = GST_STATIC_PAD_TEMPLATE ("src_%u", GST_PAD_SRC,
    GST_PAD_REQUEST, GST_STATIC_CAPS ("application/x-rtp, media=(string)audio, "
        "encoding-name=(string)OPUS, clock-rate=(int)48000"));

struct EncoderDeleter {
  void operator() (OpusEncoder *e) const { opus_encoder_destroy (e); }
};
using Encoder = std::unique_ptr<OpusEncoder, EncoderDeleter>;

/* One encoded 20-ms frame, shared by the outputs that send it. */
struct Encoded {
  GstMemory *payload = nullptr;
  ~Encoded ()
  {
    if (payload)
      gst_memory_unref (payload);
  }
};

/* One decoding input: a participant's received stream, or the local party's. */
struct Input {
  std::mutex lock; /* the playout: insert (streaming thread) against pull (the mixer's) */
  std::unique_ptr<Playout> playout;
  bool eos = false;
  /* the level since take_level, before gain and mute (lock) */
  double sum2 = 0, peak = 0;
  guint64 samples = 0;
  std::vector<float> pcm = std::vector<float> (FRAME); /* this frame, gain applied */
  bool contributes = false;                           /* this frame: in the mix */
};

/* One RTP stream out. */
struct Output {
  GstPad *pad = nullptr; /* owned by the element */
  guint32 ssrc = 0, ts = 0;
  guint16 seq = 0;
  bool started = false;
  Encoder own; /* its own encode (mix-minus), while own_mix */
};

struct Participant {
  guint index = 0;
  GstPad *sink = nullptr, *src = nullptr; /* owned by the element; nullptr once released */
  std::shared_ptr<Input> input;
  std::shared_ptr<Output> output;
  std::atomic<double> gain {1.0};
  std::atomic<bool> muted {false}, own_mix {true};
};

} // namespace

struct GstVoiceMixerPrivate {
  std::mutex lock; /* participants, settings, task */
  int bitrate = DEFAULT_BITRATE, complexity = DEFAULT_COMPLEXITY, pt = DEFAULT_PT;
  std::map<guint, std::shared_ptr<Participant>> participants;
  std::shared_ptr<Input> local = std::make_shared<Input> ();
  std::shared_ptr<Output> out = std::make_shared<Output> (); /* the src pad */
  Encoder full, callers; /* the full mix (listeners), every participant (src) */
  std::atomic<int> encoders {0};
  vc::ClockTask task {lock}; /* next_tick: the running time of the next frame */
  /* scratch, the mixer's thread only */
  std::vector<float> sum = std::vector<float> (FRAME), callers_sum = std::vector<float> (FRAME),
                     minus = std::vector<float> (FRAME);
  std::vector<int16_t> pulled = std::vector<int16_t> (FRAME);
};

struct _GstVoiceMixer {
  GstElement parent;
  GstPad *local, *src;
  GstVoiceMixerPrivate *priv;
};

/* ---- the participant pads: gain, mute (sink_N), own-mix (src_N) ------------------------ */

#define GST_TYPE_VOICE_MIXER_PAD (gst_voice_mixer_pad_get_type ())
G_DECLARE_FINAL_TYPE (GstVoiceMixerPad, gst_voice_mixer_pad, GST, VOICE_MIXER_PAD, GstPad)

struct _GstVoiceMixerPad {
  GstPad parent;
  Participant *participant; /* while the pad is the element's (its parent keeps it) */
};

G_DEFINE_TYPE (GstVoiceMixerPad, gst_voice_mixer_pad, GST_TYPE_PAD);

static void
gst_voice_mixer_pad_set_property (GObject *object, guint id, const GValue *value,
    GParamSpec *pspec)
{
  Participant *p = GST_VOICE_MIXER_PAD (object)->participant;
  if (!p)
    return;
  switch (id) {
    case PAD_PROP_GAIN:
      p->gain = g_value_get_double (value);
      break;
    case PAD_PROP_MUTE:
      p->muted = g_value_get_boolean (value);
      break;
    case PAD_PROP_OWN_MIX:
      p->own_mix = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
  }
}

static void
gst_voice_mixer_pad_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  Participant *p = GST_VOICE_MIXER_PAD (object)->participant;
  switch (id) {
    case PAD_PROP_GAIN:
      g_value_set_double (value, p ? p->gain.load () : 1.0);
      break;
    case PAD_PROP_MUTE:
      g_value_set_boolean (value, p ? p->muted.load () : FALSE);
      break;
    case PAD_PROP_OWN_MIX:
      g_value_set_boolean (value, p ? p->own_mix.load () : FALSE);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
  }
}

static void
gst_voice_mixer_pad_class_init (GstVoiceMixerPadClass *klass)
{
  auto *gobject_class = G_OBJECT_CLASS (klass);
  const auto flags = static_cast<GParamFlags> (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_PLAYING);
  gobject_class->set_property = gst_voice_mixer_pad_set_property;
  gobject_class->get_property = gst_voice_mixer_pad_get_property;
  g_object_class_install_property (gobject_class, PAD_PROP_GAIN,
      g_param_spec_double ("gain", "Gain",
          "The participant's gain in what the others hear (sink_N; 1.0: as received)", 0.0,
          10.0, 1.0, flags));
  g_object_class_install_property (gobject_class, PAD_PROP_MUTE,
      g_param_spec_boolean ("mute", "Mute",
          "The others do not hear the participant (sink_N; server-side mute)", FALSE, flags));
  g_object_class_install_property (gobject_class, PAD_PROP_OWN_MIX,
      g_param_spec_boolean ("own-mix", "Own mix",
          "The participant gets a mix without itself, encoded for it alone (src_N; a "
          "speaker), instead of the shared encode of everyone (a listener)", TRUE, flags));
}

static void
gst_voice_mixer_pad_init (GstVoiceMixerPad *)
{
}

/* ---- the element ------------------------------------------------------------------------ */

#define gst_voice_mixer_parent_class parent_class
G_DEFINE_TYPE (GstVoiceMixer, gst_voice_mixer, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (voicemixer, "voicemixer", GST_RANK_NONE,
    GST_TYPE_VOICE_MIXER,
    GST_DEBUG_CATEGORY_INIT (voice_mixer_debug, "voicemixer", 0, "voice conference mixer"));

static Encoder
make_encoder (int bitrate, int complexity)
{
  int err = OPUS_OK;
  Encoder e (opus_encoder_create (RATE, 1, OPUS_APPLICATION_VOIP, &err));
  if (err != OPUS_OK || !e)
    return nullptr;
  opus_encoder_ctl (e.get (), OPUS_SET_BITRATE (bitrate));
  opus_encoder_ctl (e.get (), OPUS_SET_COMPLEXITY (complexity));
  opus_encoder_ctl (e.get (), OPUS_SET_INBAND_FEC (1));
  opus_encoder_ctl (e.get (), OPUS_SET_SIGNAL (OPUS_SIGNAL_VOICE));
  return e;
}

/* When the packet reached the jitter buffer in front (voicecall's arrival meta), as
 * voiceplayout takes it; -1 without one. */
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
  return static_cast<int64_t> (at / GST_USECOND);
}

static std::shared_ptr<Input>
input_of (GstVoiceMixer *self, GstPad *pad)
{
  if (pad == self->local)
    return self->priv->local;
  std::lock_guard<std::mutex> l (self->priv->lock);
  Participant *p = GST_VOICE_MIXER_PAD (pad)->participant;
  return p ? p->input : nullptr;
}

static GstFlowReturn
gst_voice_mixer_chain (GstPad *pad, GstObject *parent, GstBuffer *buf)
{
  auto *self = GST_VOICE_MIXER (parent);
  std::shared_ptr<Input> in = input_of (self, pad);
  const GstClockTime now = vc::running_time_now (GST_ELEMENT (self));
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (!in || !GST_CLOCK_TIME_IS_VALID (now) || !gst_rtp_buffer_map (buf, GST_MAP_READ, &rtp)) {
    gst_buffer_unref (buf);
    return GST_FLOW_OK;
  }
  const int64_t came_us = network_arrival_us (buf, now);
  {
    std::lock_guard<std::mutex> l (in->lock);
    if (in->playout)
      in->playout->insert (static_cast<const uint8_t *> (gst_rtp_buffer_get_payload (&rtp)),
          gst_rtp_buffer_get_payload_len (&rtp), gst_rtp_buffer_get_seq (&rtp),
          gst_rtp_buffer_get_timestamp (&rtp), static_cast<int64_t> (now / GST_USECOND),
          came_us);
  }
  gst_rtp_buffer_unmap (&rtp);
  gst_buffer_unref (buf);
  return GST_FLOW_OK;
}

static gboolean
gst_voice_mixer_sink_event (GstPad *pad, GstObject *parent, GstEvent *event)
{
  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_EOS: {
      /* That input is over: it stops contributing once what it has is played. */
      if (auto in = input_of (GST_VOICE_MIXER (parent), pad)) {
        std::lock_guard<std::mutex> l (in->lock);
        in->eos = true;
      }
      gst_event_unref (event);
      return TRUE;
    }
    default:
      /* The outputs have a timeline of their own (the clock's ticks): no serialized event of
       * an input goes on; loss events are not needed (the playout finds the holes). */
      if (GST_EVENT_IS_SERIALIZED (event) || GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_START) {
        gst_event_unref (event);
        return TRUE;
      }
      return gst_pad_event_default (pad, parent, event);
  }
}

static gboolean
gst_voice_mixer_src_query (GstPad *pad, GstObject *parent, GstQuery *query)
{
  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_LATENCY:
      /* Live; a frame is pushed when its last 10 ms are due (as voiceplayout
       * ticks-per-buffer=2); the packets wait in the playouts, so no maximum. */
      gst_query_set_latency (query, TRUE, FRAME_TIME, GST_CLOCK_TIME_NONE);
      return TRUE;
    case GST_QUERY_CAPS: {
      GstCaps *caps = gst_pad_get_pad_template_caps (pad);
      gst_query_set_caps_result (query, caps);
      gst_caps_unref (caps);
      return TRUE;
    }
    default:
      return gst_pad_query_default (pad, parent, query);
  }
}

static std::unique_ptr<Playout>
new_playout ()
{
  Playout::Config c;
  return std::make_unique<Playout> (c);
}

/* Stream-start, caps and segment for an output, before its first packet. */
static void
push_events (GstVoiceMixer *self, GstPad *pad, const Output &o, int pt)
{
  /* Our own stream (gst_pad_create_stream_id wants one sink pad at most). */
  vc::GUnique<gchar> id (g_strdup_printf ("%08x%08x/%s", g_random_int (), o.ssrc, GST_PAD_NAME (pad)));
  gst_pad_push_event (pad, gst_event_new_stream_start (id.get ()));
  GstCaps *caps = gst_caps_new_simple ("application/x-rtp", "media", G_TYPE_STRING, "audio",
      "clock-rate", G_TYPE_INT, RATE, "encoding-name", G_TYPE_STRING, "OPUS",
      "sprop-stereo", G_TYPE_STRING, "0", "encoding-params", G_TYPE_STRING, "2",
      "sprop-maxcapturerate", G_TYPE_STRING, "48000", "payload", G_TYPE_INT, pt,
      "ssrc", G_TYPE_UINT, o.ssrc, "timestamp-offset", G_TYPE_UINT, o.ts,
      "seqnum-offset", G_TYPE_UINT, static_cast<guint> (o.seq), nullptr);
  gst_pad_push_event (pad, gst_event_new_caps (caps));
  gst_caps_unref (caps);
  GstSegment segment;
  gst_segment_init (&segment, GST_FORMAT_TIME);
  gst_pad_push_event (pad, gst_event_new_segment (&segment));
}

static void
init_output (Output &o)
{
  o.ssrc = g_random_int ();
  o.ts = g_random_int ();
  o.seq = static_cast<guint16> (g_random_int_range (0, 0x10000));
  o.started = false;
}

/* An RTP packet of the output: its own header, the encoded payload shared. */
static GstBuffer *
rtp_packet (Output &o, GstMemory *payload, int pt, GstClockTime pts)
{
  GstBuffer *buf = gst_rtp_buffer_new_allocate (0, 0, 0);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  gst_rtp_buffer_map (buf, GST_MAP_WRITE, &rtp);
  gst_rtp_buffer_set_payload_type (&rtp, pt);
  gst_rtp_buffer_set_ssrc (&rtp, o.ssrc);
  gst_rtp_buffer_set_seq (&rtp, o.seq++);
  gst_rtp_buffer_set_timestamp (&rtp, o.ts);
  gst_rtp_buffer_set_marker (&rtp, !o.started);
  gst_rtp_buffer_unmap (&rtp);
  gst_buffer_append_memory (buf, gst_memory_ref (payload));
  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DURATION (buf) = FRAME_TIME;
  o.ts += FRAME;
  o.started = true;
  return buf;
}

static GstMemory *
encode (OpusEncoder *enc, const std::vector<float> &pcm)
{
  GstMemory *mem = gst_allocator_alloc (nullptr, MAX_PACKET, nullptr);
  GstMapInfo map;
  gst_memory_map (mem, &map, GST_MAP_WRITE);
  const opus_int32 n = opus_encode_float (enc, pcm.data (), FRAME, map.data, MAX_PACKET);
  gst_memory_unmap (mem, &map);
  if (n <= 0) {
    gst_memory_unref (mem);
    return nullptr;
  }
  gst_memory_resize (mem, 0, n);
  return mem;
}

/* Takes a frame of the input's audio (nothing before its first packet or after its end):
 * its level is counted, then its gain applied. */
static void
pull_input (Input &in, int64_t now_us, double gain, bool muted, std::vector<int16_t> &scratch)
{
  std::lock_guard<std::mutex> l (in.lock);
  in.contributes = false;
  if (!in.playout || !in.playout->started ())
    return;
  if (in.eos && in.playout->buffered_frames () < Playout::TICK_FRAMES)
    return;
  for (int i = 0; i < TICKS; i++)
    in.playout->pull (now_us, scratch.data () + i * Playout::TICK_FRAMES);
  double sum2 = 0, peak = 0;
  const float g = muted ? 0.f : static_cast<float> (gain);
  for (int i = 0; i < FRAME; i++) {
    const float x = scratch[i] / 32768.f;
    sum2 += static_cast<double> (x) * x;
    peak = std::max (peak, static_cast<double> (std::fabs (x)));
    in.pcm[i] = x * g;
  }
  in.sum2 += sum2;
  in.peak = std::max (in.peak, peak);
  in.samples += FRAME;
  in.contributes = g > 0;
}

static void
clamp (std::vector<float> &x)
{
  for (float &v : x)
    v = std::clamp (v, -1.f, 1.f);
}

/* One frame: every input pulled, mixed, encoded and sent. */
static void
mix_frame (GstVoiceMixer *self, GstClockTime pts)
{
  auto *priv = self->priv;
  /* A participant as this frame sees it: its input and its pad are taken under the lock
   * (a pad's release changes them in another thread). */
  struct Part {
    std::shared_ptr<Participant> p;
    std::shared_ptr<Input> input;
    vc::GstPtr<GstPad> src;
  };
  std::vector<Part> parts;
  int bitrate, complexity, pt;
  {
    std::lock_guard<std::mutex> l (priv->lock);
    bitrate = priv->bitrate;
    complexity = priv->complexity;
    pt = priv->pt;
    for (auto &kv : priv->participants)
      parts.push_back ({kv.second, kv.second->input,
          kv.second->src ? vc::ref (kv.second->src) : nullptr});
  }
  /* Each tick's audio is taken now, when the frame's last tick is due (as voiceplayout). */
  const int64_t now_us = static_cast<int64_t> ((pts + (TICKS - 1) * TICK_TIME) / GST_USECOND);
  std::fill (priv->sum.begin (), priv->sum.end (), 0.f);
  std::fill (priv->callers_sum.begin (), priv->callers_sum.end (), 0.f);
  bool any_caller = false;
  for (auto &[p, input, src] : parts) {
    if (!input)
      continue;
    pull_input (*input, now_us, p->gain, p->muted, priv->pulled);
    if (!input->contributes)
      continue;
    any_caller = true;
    for (int i = 0; i < FRAME; i++)
      priv->callers_sum[i] += input->pcm[i];
  }
  pull_input (*priv->local, now_us, 1.0, false, priv->pulled);
  for (int i = 0; i < FRAME; i++)
    priv->sum[i] = priv->callers_sum[i] + (priv->local->contributes ? priv->local->pcm[i] : 0.f);

  /* The participants' outputs: an own encode, or the shared one. */
  std::shared_ptr<Encoded> shared;
  for (auto &[p, input, src] : parts) {
    GstPad *pad = src.get ();
    Output &o = *p->output;
    if (!pad) {
      o.own.reset (); /* it left: nothing more is sent to it */
      continue;
    }
    GstMemory *payload = nullptr;
    if (p->own_mix) {
      if (!o.own)
        o.own = make_encoder (bitrate, complexity);
      const bool self_in = input && input->contributes;
      for (int i = 0; i < FRAME; i++)
        priv->minus[i] = priv->sum[i] - (self_in ? input->pcm[i] : 0.f);
      clamp (priv->minus);
      payload = o.own ? encode (o.own.get (), priv->minus) : nullptr;
    } else {
      o.own.reset ();
      if (!shared) {
        shared = std::make_shared<Encoded> ();
        if (!priv->full)
          priv->full = make_encoder (bitrate, complexity);
        priv->minus = priv->sum;
        clamp (priv->minus);
        if (priv->full)
          shared->payload = encode (priv->full.get (), priv->minus);
      }
      payload = shared->payload ? gst_memory_ref (shared->payload) : nullptr;
    }
    if (payload) {
      if (!o.started)
        push_events (self, pad, o, pt);
      GstBuffer *buf = rtp_packet (o, payload, pt, pts);
      gst_memory_unref (payload);
      GstFlowReturn ret = gst_pad_push (pad, buf);
      if (ret != GST_FLOW_OK && ret != GST_FLOW_FLUSHING && ret != GST_FLOW_NOT_LINKED)
        GST_DEBUG_OBJECT (self, "participant %u: %s", p->index, gst_flow_get_name (ret));
    }
  }
  if (!shared)
    priv->full.reset (); /* nobody takes the shared encode; a new one starts when needed */
  int encoders = priv->full ? 1 : 0;
  for (auto &part : parts)
    encoders += part.p->output->own ? 1 : 0;

  /* The src pad: every participant, once one has been heard. */
  Output &o = *priv->out;
  priv->encoders = encoders + (any_caller || o.started ? 1 : 0);
  if (!any_caller && !o.started)
    return;
  if (!priv->callers)
    priv->callers = make_encoder (bitrate, complexity);
  clamp (priv->callers_sum);
  GstMemory *payload = priv->callers ? encode (priv->callers.get (), priv->callers_sum) : nullptr;
  if (!payload)
    return;
  if (!o.started)
    push_events (self, self->src, o, pt);
  GstBuffer *buf = rtp_packet (o, payload, pt, pts);
  gst_memory_unref (payload);
  const GstFlowReturn ret = gst_pad_push (self->src, buf);
  if (ret != GST_FLOW_OK && ret != GST_FLOW_FLUSHING && ret != GST_FLOW_NOT_LINKED &&
      ret != GST_FLOW_EOS)
    GST_ELEMENT_FLOW_ERROR (self, ret);
}

static void
gst_voice_mixer_loop (gpointer data)
{
  auto *self = GST_VOICE_MIXER (data);
  auto *priv = self->priv;
  GstClockTime pts = GST_CLOCK_TIME_NONE;
  GstClockID id = priv->task.arm (GST_ELEMENT (self), self->src,
      "voicemixer needs a clock to mix.", [&] {
        pts = priv->task.next_tick;
        /* A frame goes when its last tick is due. */
        return (TICKS - 1) * TICK_TIME;
      });
  if (!id)
    return;
  {
    std::unique_lock<std::mutex> l = priv->task.wait (self->src, id);
    if (!l)
      return;
    priv->task.next_tick += FRAME_TIME;
  }
  mix_frame (self, pts);
}

static void
reset_input (Input &in, bool make)
{
  std::lock_guard<std::mutex> l (in.lock);
  in.playout = make ? new_playout () : nullptr;
  in.eos = false;
}

static GstStateChangeReturn
gst_voice_mixer_change_state (GstElement *element, GstStateChange transition)
{
  auto *self = GST_VOICE_MIXER (element);
  auto *priv = self->priv;
  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED: {
      reset_input (*priv->local, true);
      std::lock_guard<std::mutex> l (priv->lock);
      for (auto &kv : priv->participants)
        reset_input (*kv.second->input, true);
      init_output (*priv->out);
      priv->task.next_tick = GST_CLOCK_TIME_NONE;
      break;
    }
    default:
      break;
  }
  const GstStateChangeReturn ret = priv->task.change_state (element, transition,
      GST_ELEMENT_CLASS (parent_class), self->src, gst_voice_mixer_loop);
  if (ret == GST_STATE_CHANGE_FAILURE)
    return ret;
  switch (transition) {
    case GST_STATE_CHANGE_PAUSED_TO_READY: {
      reset_input (*priv->local, false);
      std::lock_guard<std::mutex> l (priv->lock);
      for (auto &kv : priv->participants)
        reset_input (*kv.second->input, false);
      priv->encoders = 0;
      priv->full.reset ();
      priv->callers.reset ();
      break;
    }
    default:
      break;
  }
  return ret;
}

/* sink_N or src_N: participant N, made by the first of its two pads. */
static GstPad *
gst_voice_mixer_request_new_pad (GstElement *element, GstPadTemplate *templ, const gchar *name,
    const GstCaps *)
{
  auto *self = GST_VOICE_MIXER (element);
  auto *priv = self->priv;
  const bool sink = GST_PAD_TEMPLATE_DIRECTION (templ) == GST_PAD_SINK;
  guint index = 0;
  GstPad *pad;
  {
    std::lock_guard<std::mutex> l (priv->lock);
    if (name && sscanf (name, sink ? "sink_%u" : "src_%u", &index) == 1) {
    } else {
      while (priv->participants.count (index))
        index++;
    }
    auto &p = priv->participants[index];
    if (!p) {
      p = std::make_shared<Participant> ();
      p->index = index;
      p->input = std::make_shared<Input> ();
      p->output = std::make_shared<Output> ();
      init_output (*p->output);
    }
    if ((sink && p->sink) || (!sink && p->src)) {
      GST_WARNING_OBJECT (self, "pad %s_%u exists", sink ? "sink" : "src", index);
      return nullptr;
    }
    vc::GUnique<gchar> pad_name (g_strdup_printf (sink ? "sink_%u" : "src_%u", index));
    pad = GST_PAD (g_object_new (GST_TYPE_VOICE_MIXER_PAD, "name", pad_name.get (),
        "direction", sink ? GST_PAD_SINK : GST_PAD_SRC, "template", templ, nullptr));
    GST_VOICE_MIXER_PAD (pad)->participant = p.get ();
    if (sink) {
      p->sink = pad;
      if (GST_STATE (element) >= GST_STATE_PAUSED || GST_STATE_PENDING (element) >= GST_STATE_PAUSED)
        reset_input (*p->input, true);
    } else {
      p->src = pad;
    }
  }
  if (sink) {
    gst_pad_set_chain_function (pad, GST_DEBUG_FUNCPTR (gst_voice_mixer_chain));
    gst_pad_set_event_function (pad, GST_DEBUG_FUNCPTR (gst_voice_mixer_sink_event));
  } else {
    gst_pad_set_query_function (pad, GST_DEBUG_FUNCPTR (gst_voice_mixer_src_query));
    gst_pad_use_fixed_caps (pad);
  }
  gst_pad_set_active (pad, TRUE);
  gst_element_add_pad (element, pad);
  GST_DEBUG_OBJECT (self, "participant %u: %s", index, GST_PAD_NAME (pad));
  return pad;
}

static void
gst_voice_mixer_release_pad (GstElement *element, GstPad *pad)
{
  auto *self = GST_VOICE_MIXER (element);
  auto *priv = self->priv;
  {
    std::lock_guard<std::mutex> l (priv->lock);
    Participant *p = GST_VOICE_MIXER_PAD (pad)->participant;
    if (p) {
      GST_VOICE_MIXER_PAD (pad)->participant = nullptr;
      if (p->sink == pad)
        p->sink = nullptr;
      if (p->src == pad)
        p->src = nullptr;
      if (!p->sink && !p->src)
        priv->participants.erase (p->index);
      else if (!p->sink)
        p->input = nullptr; /* not heard any more; the mixer's thread holds its own ref */
    }
  }
  gst_pad_set_active (pad, FALSE);
  gst_element_remove_pad (element, pad);
}

gboolean
gst_voice_mixer_take_level (GstVoiceMixer *self, guint index, gdouble *rms_db, gdouble *peak_db)
{
  std::shared_ptr<Input> in;
  {
    std::lock_guard<std::mutex> l (self->priv->lock);
    auto it = self->priv->participants.find (index);
    if (it == self->priv->participants.end () || !it->second->input)
      return FALSE;
    in = it->second->input;
  }
  auto db = [] (double x) { return x > 0 ? std::max (-127.0, 20 * std::log10 (x)) : -127.0; };
  std::lock_guard<std::mutex> l (in->lock);
  *rms_db = in->samples ? db (std::sqrt (in->sum2 / in->samples)) : -127.0;
  *peak_db = in->samples ? db (in->peak) : -127.0;
  in->sum2 = in->peak = 0;
  in->samples = 0;
  return TRUE;
}

static void
gst_voice_mixer_init (GstVoiceMixer *self)
{
  self->priv = new GstVoiceMixerPrivate ();
  self->local = gst_pad_new_from_static_template (&local_template, "local");
  gst_pad_set_chain_function (self->local, GST_DEBUG_FUNCPTR (gst_voice_mixer_chain));
  gst_pad_set_event_function (self->local, GST_DEBUG_FUNCPTR (gst_voice_mixer_sink_event));
  gst_element_add_pad (GST_ELEMENT (self), self->local);
  self->src = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_set_query_function (self->src, GST_DEBUG_FUNCPTR (gst_voice_mixer_src_query));
  gst_pad_use_fixed_caps (self->src);
  gst_element_add_pad (GST_ELEMENT (self), self->src);
  GST_OBJECT_FLAG_SET (self, GST_ELEMENT_FLAG_SOURCE);
}

static void
gst_voice_mixer_finalize (GObject *object)
{
  delete GST_VOICE_MIXER (object)->priv;
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_voice_mixer_set_property (GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
  auto *priv = GST_VOICE_MIXER (object)->priv;
  std::lock_guard<std::mutex> l (priv->lock);
  switch (id) {
    case PROP_BITRATE:
      priv->bitrate = g_value_get_int (value);
      break;
    case PROP_COMPLEXITY:
      priv->complexity = g_value_get_int (value);
      break;
    case PROP_PT:
      priv->pt = g_value_get_int (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
  }
}

static void
gst_voice_mixer_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  auto *priv = GST_VOICE_MIXER (object)->priv;
  std::lock_guard<std::mutex> l (priv->lock);
  switch (id) {
    case PROP_BITRATE:
      g_value_set_int (value, priv->bitrate);
      break;
    case PROP_COMPLEXITY:
      g_value_set_int (value, priv->complexity);
      break;
    case PROP_PT:
      g_value_set_int (value, priv->pt);
      break;
    case PROP_ENCODERS:
      g_value_set_int (value, priv->encoders.load ());
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
  }
}

static void
gst_voice_mixer_class_init (GstVoiceMixerClass *klass)
{
  auto *gobject_class = G_OBJECT_CLASS (klass);
  auto *element_class = GST_ELEMENT_CLASS (klass);
  const auto ready_flags = static_cast<GParamFlags> (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY);
  gobject_class->finalize = gst_voice_mixer_finalize;
  gobject_class->set_property = gst_voice_mixer_set_property;
  gobject_class->get_property = gst_voice_mixer_get_property;
  element_class->change_state = GST_DEBUG_FUNCPTR (gst_voice_mixer_change_state);
  element_class->request_new_pad = GST_DEBUG_FUNCPTR (gst_voice_mixer_request_new_pad);
  element_class->release_pad = GST_DEBUG_FUNCPTR (gst_voice_mixer_release_pad);

  g_object_class_install_property (gobject_class, PROP_BITRATE,
      g_param_spec_int ("bitrate", "Bitrate", "Opus bitrate of every encode (bit/s)", 6000,
          510000, DEFAULT_BITRATE, ready_flags));
  g_object_class_install_property (gobject_class, PROP_COMPLEXITY,
      g_param_spec_int ("complexity", "Complexity", "Opus encoder complexity (0-10)", 0, 10,
          DEFAULT_COMPLEXITY, ready_flags));
  g_object_class_install_property (gobject_class, PROP_PT,
      g_param_spec_int ("pt", "Payload type", "RTP payload type of every output", 0, 127,
          DEFAULT_PT, ready_flags));
  g_object_class_install_property (gobject_class, PROP_ENCODERS,
      g_param_spec_int ("encoders", "Encoders",
          "Opus encoders running now: the src pad's, the shared one (if a participant "
          "takes it) and one per participant with own-mix", 0, G_MAXINT, 0,
          static_cast<GParamFlags> (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  gst_element_class_add_static_pad_template (element_class, &local_template);
  gst_element_class_add_static_pad_template_with_gtype (element_class, &sink_template,
      GST_TYPE_VOICE_MIXER_PAD);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_add_static_pad_template_with_gtype (element_class, &part_src_template,
      GST_TYPE_VOICE_MIXER_PAD);
  gst_type_mark_as_plugin_api (GST_TYPE_VOICE_MIXER_PAD, static_cast<GstPluginAPIFlags> (0));
  gst_element_class_set_static_metadata (element_class, "Voice conference mixer",
      "Filter/Audio/Network",
      "Opus RTP in per participant, each participant's mix of everyone else out as Opus RTP, "
      "decoded, mixed and encoded in one thread every 20 ms (mix-minus for speakers, one "
      "shared encode for listeners)",
      "gst-voicecall");
}
