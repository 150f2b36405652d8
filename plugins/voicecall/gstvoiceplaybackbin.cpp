/* gst-voicecall: voiceplaybackbin
 *
 * SECTION:element-voiceplaybackbin
 * @title: voiceplaybackbin
 *
 * Plays the far end of a voice call: Opus RTP from voicecall is depayloaded and decoded with
 * packet loss concealment and in-band FEC recovery, converted, passed through an echo probe
 * (so that voicecapturebin's echo canceller knows what the speakers play) and sent to the
 * sink (by default the speakers).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 voicecapturebin source="audiotestsrc is-live=true" ! \
 *     voicecall listen=0.0.0.0:8080 ! voiceplaybackbin sink="wavenc ! filesink location=in.wav"
 * ]|
 */
#include "gstvoiceplaybackbin.h"

#include "binutil.h"
#include "gstptr.h"

#include <atomic>

GST_DEBUG_CATEGORY_STATIC (voice_playback_bin_debug);
#define GST_CAT_DEFAULT voice_playback_bin_debug

enum {
  PROP_0,
  PROP_SINK,
  PROP_PLC,
  PROP_FEC,
};

constexpr gboolean DEFAULT_PLC = TRUE;
constexpr gboolean DEFAULT_FEC = TRUE;
constexpr const char *PROBE_CAPS = "audio/x-raw, format=S16LE, rate=48000, layout=interleaved";

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink", GST_PAD_SINK,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("application/x-rtp, media=(string)audio, encoding-name=(string)OPUS, "
        "clock-rate=(int)48000"));

struct GstVoicePlaybackBinPrivate {
  GstElement *sink = nullptr;    /* owned by the bin */
  GstElement *last = nullptr;    /* the element the sink is linked to */
  GstElement *decoder = nullptr;
  std::string probe_name;
  std::string link_error; /* why the sink could not be linked, reported when starting */
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
gst_voice_playback_bin_init (GstVoicePlaybackBin *self)
{
  self->priv = new GstVoicePlaybackBinPrivate ();
  auto *priv = self->priv;
  auto *element = GST_ELEMENT (self);

  static std::atomic<int> counter {0};
  priv->probe_name = "voiceplaybackbin-echoprobe-" + std::to_string (counter++);

  GstElement *depay = vc::make_element (element, "rtpopusdepay", "depayloader");
  GstElement *decoder = vc::make_element (element, "opusdec", "decoder");
  GstElement *convert = vc::make_element (element, "audioconvert", "convert");
  GstElement *resample = vc::make_element (element, "audioresample", "resample");
  GstElement *filter = vc::make_element (element, "capsfilter", "probe-caps");
  GstElement *probe = vc::make_element (element, "webrtcechoprobe", priv->probe_name.c_str ());
  GstElement *convert2 = vc::make_element (element, "audioconvert", "convert2");
  GstElement *resample2 = vc::make_element (element, "audioresample", "resample2");
  if (!depay || !decoder || !convert || !resample || !filter || !probe || !convert2 || !resample2)
    return;

  g_object_set (decoder, "plc", DEFAULT_PLC, "use-inband-fec", DEFAULT_FEC, nullptr);
  vc::GstPtr<GstCaps> caps = vc::adopt (gst_caps_from_string (PROBE_CAPS));
  g_object_set (filter, "caps", caps.get (), nullptr);
  vc::add_and_link (GST_BIN (self), {depay, decoder, convert, resample, filter, probe, convert2,
      resample2});
  priv->decoder = decoder;
  priv->last = resample2;

  vc::add_ghost_pad (element, "sink", depay, "sink",
      gst_static_pad_template_get (&sink_template));

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
      g_object_set_property (G_OBJECT (priv->decoder), "plc", value);
      break;
    case PROP_FEC:
      g_object_set_property (G_OBJECT (priv->decoder), "use-inband-fec", value);
      break;
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
      g_object_get_property (G_OBJECT (priv->decoder), "plc", value);
      break;
    case PROP_FEC:
      g_object_get_property (G_OBJECT (priv->decoder), "use-inband-fec", value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
}

static GstStateChangeReturn
gst_voice_playback_bin_change_state (GstElement *element, GstStateChange transition)
{
  auto *priv = GST_VOICE_PLAYBACK_BIN (element)->priv;
  if (!priv->decoder)
    return GST_STATE_CHANGE_FAILURE; /* a missing plugin was reported in init */
  if (!priv->link_error.empty () && (transition == GST_STATE_CHANGE_NULL_TO_READY ||
          transition == GST_STATE_CHANGE_READY_TO_PAUSED)) {
    GST_ELEMENT_ERROR (element, CORE, NEGOTIATION, ("%s", priv->link_error.c_str ()), (nullptr));
    return GST_STATE_CHANGE_FAILURE;
  }
  return GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
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

  g_object_class_install_property (gobject_class, PROP_SINK,
      g_param_spec_object ("sink", "Sink",
          "The audio sink: an element or, from gst-launch, a pipeline description such as "
          "sink=\"wavenc ! filesink location=out.wav\". Default: the speakers "
          "(autoaudiosink). Set in the NULL or READY state.", GST_TYPE_ELEMENT,
          static_cast<GParamFlags> (flags | GST_PARAM_MUTABLE_READY)));
  g_object_class_install_property (gobject_class, PROP_PLC,
      g_param_spec_boolean ("plc", "Loss concealment",
          "Conceal lost packets with Opus packet loss concealment", DEFAULT_PLC,
          static_cast<GParamFlags> (flags | GST_PARAM_MUTABLE_READY)));
  g_object_class_install_property (gobject_class, PROP_FEC,
      g_param_spec_boolean ("fec", "FEC recovery",
          "Recover lost packets from the in-band FEC of the next packet (needs plc)",
          DEFAULT_FEC, static_cast<GParamFlags> (flags | GST_PARAM_MUTABLE_READY)));

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
