/* gst-voicecall: voiceplaybackbin
 *
 * SECTION:element-voiceplaybackbin
 * @title: voiceplaybackbin
 *
 * Plays the far end of a voice call: Opus RTP from voicecall is decoded with packet loss
 * concealment and in-band FEC recovery, converted, passed through an echo probe (so that
 * voicecapturebin's echo canceller knows what the speakers play) and sent to the sink (by
 * default the speakers).
 *
 * With playout=adaptive (the default) the decoding is voiceplayout: a NetEq-class playout
 * whose delay follows the network's jitter, with FEC used only when the next packet is
 * already here and no fixed latency declared for it. playout=fixed is rtpopusdepay !
 * opusdec, which with fec=true declares 120 ms of latency.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 voicecapturebin source="audiotestsrc is-live=true" ! \
 *     voicecall listen=0.0.0.0:8080 ! voiceplaybackbin sink="wavenc ! filesink location=in.wav"
 * ]|
 */
#include "gstvoiceplaybackbin.h"

#include "binutil.h"
#include "callstats.h"
#include "gstptr.h"

#include <atomic>

GST_DEBUG_CATEGORY_STATIC (voice_playback_bin_debug);
#define GST_CAT_DEFAULT voice_playback_bin_debug

enum {
  PROP_0,
  PROP_SINK,
  PROP_PLC,
  PROP_FEC,
  PROP_PLAYOUT,
};

enum GstVoicePlayoutMode {
  GST_VOICE_PLAYOUT_ADAPTIVE,
  GST_VOICE_PLAYOUT_FIXED,
};

#define GST_TYPE_VOICE_PLAYOUT_MODE (gst_voice_playout_mode_get_type ())
static GType
gst_voice_playout_mode_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {GST_VOICE_PLAYOUT_ADAPTIVE, "voiceplayout: the delay follows the network's jitter "
        "(time-stretching), FEC only when the next packet is here", "adaptive"},
    {GST_VOICE_PLAYOUT_FIXED, "rtpopusdepay ! opusdec: the jitter buffer's latency only; "
        "with fec, 120 ms more declared", "fixed"},
    {0, nullptr, nullptr},
  };
  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstVoicePlayoutMode", values));
  return type;
}

constexpr gboolean DEFAULT_PLC = TRUE;
constexpr gboolean DEFAULT_FEC = TRUE;
/* adaptive since it holds speech through jitter and loss as well as the fixed chain, at half
 * its latency (docs/results.md, the fourth round). */
constexpr GstVoicePlayoutMode DEFAULT_PLAYOUT = GST_VOICE_PLAYOUT_ADAPTIVE;
constexpr const char *PROBE_CAPS = "audio/x-raw, format=S16LE, rate=48000, layout=interleaved";

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink", GST_PAD_SINK,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("application/x-rtp, media=(string)audio, encoding-name=(string)OPUS, "
        "clock-rate=(int)48000"));

struct GstVoicePlaybackBinPrivate {
  GstElement *sink = nullptr;    /* owned by the bin */
  GstElement *last = nullptr;    /* the element the sink is linked to */
  GstElement *convert = nullptr; /* the first element after the decoding head */
  GstPad *ghost = nullptr;        /* the sink ghost pad (owned by the bin) */
  /* The decoding head: rtpopusdepay ! opusdec (fixed) or voiceplayout (adaptive); owned by
   * the bin. */
  GstElement *depay = nullptr, *decoder = nullptr, *playout = nullptr;
  GstVoicePlayoutMode mode = DEFAULT_PLAYOUT;
  gboolean plc = DEFAULT_PLC, fec = DEFAULT_FEC;
  std::string probe_name;
  std::string link_error; /* why the sink could not be linked, reported when starting */
  std::atomic<bool> decoder_eos {false}; /* opusdec has had its EOS (see handle_message) */
};

struct _GstVoicePlaybackBin {
  GstBin parent;
  GstVoicePlaybackBinPrivate *priv;
};

#define gst_voice_playback_bin_parent_class parent_class
G_DEFINE_TYPE (GstVoicePlaybackBin, gst_voice_playback_bin, GST_TYPE_BIN);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (voiceplaybackbin, "voiceplaybackbin", GST_RANK_NONE,
    GST_TYPE_VOICE_PLAYBACK_BIN,
    GST_DEBUG_CATEGORY_INIT (voice_playback_bin_debug, "voiceplaybackbin", 0,
        "voice playback bin"));

static void
replace_sink (GstVoicePlaybackBin *self, GstElement *sink)
{
  auto *priv = self->priv;
  /* Set from gst-launch, this runs before the bin has a bus: the error is kept for
   * change_state to report. */
  priv->link_error.clear ();
  if (!vc::swap_child (GST_BIN (self), &priv->sink, sink, priv->last, nullptr)) {
    priv->link_error = std::string ("The sink \"") + GST_OBJECT_NAME (sink) +
        "\" has no audio sink pad that can be linked: set sink= to an audio sink, e.g. "
        "sink=\"wavenc ! filesink location=out.wav\".";
  }
}

static void
remove_child (GstBin *bin, GstElement **slot)
{
  if (!*slot)
    return;
  gst_element_set_state (*slot, GST_STATE_NULL);
  gst_bin_remove (bin, *slot);
  *slot = nullptr;
}

/* Builds the decoding head for `mode` in front of `convert`, in place of the current one. */
static bool
build_head (GstVoicePlaybackBin *self, GstVoicePlayoutMode mode)
{
  auto *priv = self->priv;
  auto *bin = GST_BIN (self);
  auto *element = GST_ELEMENT (self);
  remove_child (bin, &priv->depay);
  remove_child (bin, &priv->decoder);
  remove_child (bin, &priv->playout);
  priv->mode = mode;

  GstElement *first = nullptr;
  if (mode == GST_VOICE_PLAYOUT_FIXED) {
    GstElement *depay = vc::make_element (element, "rtpopusdepay", "depayloader");
    GstElement *decoder = vc::make_element (element, "opusdec", "decoder");
    if (!depay || !decoder) {
      if (depay)
        gst_object_unref (gst_object_ref_sink (depay));
      if (decoder)
        gst_object_unref (gst_object_ref_sink (decoder));
      return false;
    }
    g_object_set (decoder, "plc", priv->plc, "use-inband-fec", priv->fec, nullptr);
    priv->decoder_eos = false;
    vc::GstPtr<GstPad> decoder_sink = vc::adopt (gst_element_get_static_pad (decoder, "sink"));
    gst_pad_add_probe (decoder_sink.get (), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
        [] (GstPad *, GstPadProbeInfo *info, gpointer data) -> GstPadProbeReturn {
          switch (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info))) {
            case GST_EVENT_EOS:
              static_cast<GstVoicePlaybackBinPrivate *> (data)->decoder_eos = true;
              break;
            case GST_EVENT_STREAM_START:
            case GST_EVENT_FLUSH_STOP:
              static_cast<GstVoicePlaybackBinPrivate *> (data)->decoder_eos = false;
              break;
            default:
              break;
          }
          return GST_PAD_PROBE_OK;
        }, priv, nullptr);
    gst_bin_add_many (bin, depay, decoder, nullptr);
    priv->depay = depay;
    priv->decoder = decoder;
    if (!gst_element_link_many (depay, decoder, priv->convert, nullptr))
      return false;
    first = depay;
  } else {
    GstElement *playout = vc::make_element (element, "voiceplayout", "playout");
    if (!playout)
      return false;
    g_object_set (playout, "fec", priv->fec, nullptr);
    gst_bin_add (bin, playout);
    priv->playout = playout;
    if (!gst_element_link (playout, priv->convert))
      return false;
    first = playout;
  }
  vc::GstPtr<GstPad> target = vc::adopt (gst_element_get_static_pad (first, "sink"));
  return gst_ghost_pad_set_target (GST_GHOST_PAD (priv->ghost), target.get ());
}

/* voicecall's playout query (callstats.h). The adaptive playout answers it itself; the fixed
 * chain has no playout of its own beyond opusdec's declared latency: with FEC it holds one
 * 120 ms packet's worth (the longest Opus packet), without none. */
static gboolean
ghost_query (GstPad *pad, GstObject *parent, GstQuery *query)
{
  if (GST_QUERY_TYPE (query) == GST_QUERY_CUSTOM) {
    GstStructure *s = gst_query_writable_structure (query);
    auto *self = GST_VOICE_PLAYBACK_BIN (parent);
    if (s && gst_structure_has_name (s, vc::stats::PLAYOUT_QUERY) &&
        self->priv->mode == GST_VOICE_PLAYOUT_FIXED) {
      const double held = self->priv->fec ? 120 : 0;
      gst_structure_set (s, "mode", G_TYPE_STRING, "fixed", "current-delay-ms", G_TYPE_DOUBLE,
          held, "target-delay-ms", G_TYPE_DOUBLE, held, nullptr);
      return TRUE;
    }
  }
  return gst_pad_query_default (pad, parent, query);
}

static void
gst_voice_playback_bin_init (GstVoicePlaybackBin *self)
{
  self->priv = new GstVoicePlaybackBinPrivate ();
  auto *priv = self->priv;
  auto *element = GST_ELEMENT (self);

  static std::atomic<int> counter {0};
  priv->probe_name = "voiceplaybackbin-echoprobe-" + std::to_string (counter++);

  GstElement *convert = vc::make_element (element, "audioconvert", "convert");
  GstElement *resample = vc::make_element (element, "audioresample", "resample");
  GstElement *filter = vc::make_element (element, "capsfilter", "probe-caps");
  GstElement *probe = vc::make_element (element, "webrtcechoprobe", priv->probe_name.c_str ());
  GstElement *convert2 = vc::make_element (element, "audioconvert", "convert2");
  GstElement *resample2 = vc::make_element (element, "audioresample", "resample2");
  if (!convert || !resample || !filter || !probe || !convert2 || !resample2)
    return;

  vc::GstPtr<GstCaps> caps = vc::adopt (gst_caps_from_string (PROBE_CAPS));
  g_object_set (filter, "caps", caps.get (), nullptr);
  vc::add_and_link (GST_BIN (self), {convert, resample, filter, probe, convert2, resample2});
  priv->convert = convert;
  priv->last = resample2;

  priv->ghost = gst_ghost_pad_new_no_target_from_template ("sink",
      gst_static_pad_template_get (&sink_template));
  gst_pad_set_query_function (priv->ghost, GST_DEBUG_FUNCPTR (ghost_query));
  gst_pad_set_active (priv->ghost, TRUE);
  gst_element_add_pad (element, priv->ghost);
  if (!build_head (self, DEFAULT_PLAYOUT))
    return;

  if (GstElement *speakers = gst_element_factory_make ("autoaudiosink", "sink"))
    replace_sink (self, speakers);
}

static void
gst_voice_playback_bin_finalize (GObject *object)
{
  delete GST_VOICE_PLAYBACK_BIN (object)->priv;
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_voice_playback_bin_set_property (GObject *object, guint prop_id, const GValue *value,
    GParamSpec *pspec)
{
  auto *self = GST_VOICE_PLAYBACK_BIN (object);
  auto *priv = self->priv;

  switch (prop_id) {
    case PROP_SINK: {
      if (GST_STATE (self) > GST_STATE_READY) {
        g_warning ("voiceplaybackbin: sink can only be set in the NULL or READY state");
        break;
      }
      auto *sink = GST_ELEMENT (g_value_get_object (value));
      if (!sink) {
        g_warning ("voiceplaybackbin: sink cannot be NULL");
        break;
      }
      replace_sink (self, sink);
      break;
    }
    case PROP_PLC:
      priv->plc = g_value_get_boolean (value);
      if (priv->decoder)
        g_object_set (priv->decoder, "plc", priv->plc, nullptr);
      break;
    case PROP_FEC:
      priv->fec = g_value_get_boolean (value);
      if (priv->decoder)
        g_object_set (priv->decoder, "use-inband-fec", priv->fec, nullptr);
      if (priv->playout)
        g_object_set (priv->playout, "fec", priv->fec, nullptr);
      break;
    case PROP_PLAYOUT: {
      if (GST_STATE (self) > GST_STATE_READY) {
        g_warning ("voiceplaybackbin: playout can only be set in the NULL or READY state");
        break;
      }
      auto mode = static_cast<GstVoicePlayoutMode> (g_value_get_enum (value));
      if (mode != priv->mode && priv->convert)
        build_head (self, mode);
      break;
    }
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
}

static void
gst_voice_playback_bin_get_property (GObject *object, guint prop_id, GValue *value,
    GParamSpec *pspec)
{
  auto *priv = GST_VOICE_PLAYBACK_BIN (object)->priv;

  switch (prop_id) {
    case PROP_SINK:
      g_value_set_object (value, priv->sink);
      break;
    case PROP_PLC:
      g_value_set_boolean (value, priv->plc);
      break;
    case PROP_FEC:
      g_value_set_boolean (value, priv->fec);
      break;
    case PROP_PLAYOUT:
      g_value_set_enum (value, priv->mode);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
}

static GstStateChangeReturn
gst_voice_playback_bin_change_state (GstElement *element, GstStateChange transition)
{
  auto *priv = GST_VOICE_PLAYBACK_BIN (element)->priv;
  if (!priv->decoder && !priv->playout)
    return GST_STATE_CHANGE_FAILURE; /* a missing plugin was reported */
  if (!priv->link_error.empty () && (transition == GST_STATE_CHANGE_NULL_TO_READY ||
          transition == GST_STATE_CHANGE_READY_TO_PAUSED)) {
    GST_ELEMENT_ERROR (element, CORE, NEGOTIATION, ("%s", priv->link_error.c_str ()), (nullptr));
    return GST_STATE_CHANGE_FAILURE;
  }
  return GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
}

/* opusdec with use-inband-fec holds each packet until the next one comes (its FEC copy may
 * stand in for a lost one). A stream that ends after its first packet leaves that packet
 * held, and GstAudioDecoder then posts "No valid frames decoded before end of stream": a call
 * hung up the moment it began (a Janus room destroyed as we joined) ended in an error. That
 * error, from our decoder after its EOS, says nothing of the call: it is logged, not posted. */
static void
gst_voice_playback_bin_handle_message (GstBin *bin, GstMessage *msg)
{
  auto *priv = GST_VOICE_PLAYBACK_BIN (bin)->priv;
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR && priv->decoder_eos.load () &&
      priv->decoder && GST_MESSAGE_SRC (msg) == GST_OBJECT (priv->decoder)) {
    GError *error = nullptr;
    gst_message_parse_error (msg, &error, nullptr);
    const bool undrained = g_error_matches (error, GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE);
    if (undrained) {
      GST_INFO_OBJECT (bin, "the stream ended with its only packet in opusdec: %s",
          error->message);
      g_error_free (error);
      gst_message_unref (msg);
      return;
    }
    g_error_free (error);
  }
  GST_BIN_CLASS (parent_class)->handle_message (bin, msg);
}

static void
gst_voice_playback_bin_class_init (GstVoicePlaybackBinClass *klass)
{
  auto *gobject_class = G_OBJECT_CLASS (klass);
  auto *element_class = GST_ELEMENT_CLASS (klass);
  const auto flags = static_cast<GParamFlags> (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  gobject_class->finalize = gst_voice_playback_bin_finalize;
  gobject_class->set_property = gst_voice_playback_bin_set_property;
  gobject_class->get_property = gst_voice_playback_bin_get_property;
  element_class->change_state = gst_voice_playback_bin_change_state;
  GST_BIN_CLASS (klass)->handle_message = gst_voice_playback_bin_handle_message;

  g_object_class_install_property (gobject_class, PROP_SINK,
      g_param_spec_object ("sink", "Sink",
          "The audio sink: an element or, from gst-launch, a pipeline description such as "
          "sink=\"wavenc ! filesink location=out.wav\". Default: the speakers "
          "(autoaudiosink). Set in the NULL or READY state.", GST_TYPE_ELEMENT,
          static_cast<GParamFlags> (flags | GST_PARAM_MUTABLE_READY)));
  g_object_class_install_property (gobject_class, PROP_PLC,
      g_param_spec_boolean ("plc", "Loss concealment",
          "Conceal lost packets with Opus packet loss concealment (playout=fixed; the "
          "adaptive playout always conceals: its output follows the clock)", DEFAULT_PLC,
          static_cast<GParamFlags> (flags | GST_PARAM_MUTABLE_READY)));
  g_object_class_install_property (gobject_class, PROP_FEC,
      g_param_spec_boolean ("fec", "FEC recovery",
          "Recover lost packets from the in-band FEC of the next packet (fixed: needs plc, "
          "and declares 120 ms of latency; adaptive: only when the next packet is here)",
          DEFAULT_FEC, static_cast<GParamFlags> (flags | GST_PARAM_MUTABLE_READY)));
  g_object_class_install_property (gobject_class, PROP_PLAYOUT,
      g_param_spec_enum ("playout", "Playout",
          "How received packets become audio: adaptive (voiceplayout: a delay that follows "
          "the network's jitter, about one packet on a clean path; use a small jitter buffer "
          "in voicecall) or fixed (rtpopusdepay ! opusdec after voicecall's jitter buffer, "
          "which declares 120 ms with FEC). "
          "Set in the NULL or READY state.", GST_TYPE_VOICE_PLAYOUT_MODE, DEFAULT_PLAYOUT,
          static_cast<GParamFlags> (flags | GST_PARAM_MUTABLE_READY)));

  gst_type_mark_as_plugin_api (GST_TYPE_VOICE_PLAYOUT_MODE, static_cast<GstPluginAPIFlags> (0));
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class, "Voice playback bin",
      "Sink/Audio/Network", "Decodes the Opus RTP of a voice call with loss concealment and "
      "plays it", "gst-voicecall developers");
}

std::string
gst_voice_playback_bin_get_echo_probe_name (GstVoicePlaybackBin *self)
{
  return self->priv->probe_name;
}
