/* gst-voicecall: voicecapturebin
 *
 * SECTION:element-voicecapturebin
 * @title: voicecapturebin
 *
 * Captures audio for a voice call: any audio source (by default the microphone), voice
 * processing with webrtcdsp (echo cancellation, noise suppression, automatic gain), Opus
 * encoding tuned for voice, and RTP payloading. Its src pad feeds voicecall.
 *
 * Echo cancellation needs to hear what the speakers play: when the pipeline also holds one
 * voiceplaybackbin, the two are paired automatically; otherwise echo cancellation is off.
 *
 * Adaptive audio: a voicecall downstream (adaptive=true, its default) sets the encoder's
 * bitrate, fec and packet-loss-percentage during the call with a custom upstream event
 * "voicecall-encoder-settings" (and reads them with a custom query of that name). The
 * properties here are then the starting point, and reading them gives what the encoder does
 * now; voicecall's min-bitrate/max-bitrate bound the adaptation, also around a bitrate set
 * here. To pin the encoder, set voicecall adaptive=false (see docs/adaptive.md).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 voicecapturebin source="audiotestsrc is-live=true freq=440" ! \
 *     voicecall url=http://127.0.0.1:8080/call ! voiceplaybackbin
 * ]|
 */
#include "gstvoicecapturebin.h"

#include "adaptive.h"
#include "binutil.h"
#include "gstptr.h"
#include "gstvoiceplaybackbin.h"

#include <mutex>
#include <string>

GST_DEBUG_CATEGORY_STATIC (voice_capture_bin_debug);
#define GST_CAT_DEFAULT voice_capture_bin_debug

/* Frame durations Opus can use, in ms. */
#define GST_TYPE_VOICE_FRAME_DURATION (gst_voice_frame_duration_get_type ())
static GType
gst_voice_frame_duration_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {10, "10 ms", "10"},
    {20, "20 ms", "20"},
    {40, "40 ms", "40"},
    {60, "60 ms", "60"},
    {0, nullptr, nullptr},
  };
  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstVoiceFrameDuration", values));
  return type;
}

enum {
  PROP_0,
  PROP_SOURCE,
  PROP_ECHO_CANCEL,
  PROP_NOISE_SUPPRESSION,
  PROP_GAIN_CONTROL,
  PROP_BITRATE,
  PROP_FEC,
  PROP_PACKET_LOSS_PERCENTAGE,
  PROP_DTX,
  PROP_FRAME_DURATION,
};

constexpr gboolean DEFAULT_ECHO_CANCEL = TRUE;
constexpr gboolean DEFAULT_NOISE_SUPPRESSION = TRUE;
constexpr gboolean DEFAULT_GAIN_CONTROL = TRUE;
constexpr gint DEFAULT_BITRATE = 32000;  /* wideband speech with room for FEC */
constexpr gint MIN_BITRATE = 6000;
constexpr gint MAX_BITRATE = 510000;
constexpr gboolean DEFAULT_FEC = TRUE;
constexpr gint DEFAULT_PACKET_LOSS_PERCENTAGE = 5; /* FEC needs a non-zero expected loss */
constexpr gboolean DEFAULT_DTX = FALSE;
constexpr gint DEFAULT_FRAME_DURATION = 20;
constexpr const char *PROCESSING_CAPS = "audio/x-raw, format=S16LE, rate=48000, channels=1, "
                                        "layout=interleaved";

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src", GST_PAD_SRC,
    GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("application/x-rtp, media=(string)audio, encoding-name=(string)OPUS, "
        "clock-rate=(int)48000"));

struct GstVoiceCaptureBinPrivate {
  std::mutex lock;
  GstElement *source = nullptr;  /* owned by the bin */
  bool default_source = true;    /* the microphone we created, not one the user set */
  GstElement *convert = nullptr; /* first element after the source */
  GstElement *dsp = nullptr;
  GstElement *encoder = nullptr;
  bool echo_cancel = DEFAULT_ECHO_CANCEL;
  std::string link_error; /* why the source could not be linked, reported when starting */
};

struct _GstVoiceCaptureBin {
  GstBin parent;
  GstVoiceCaptureBinPrivate *priv;
};

#define gst_voice_capture_bin_parent_class parent_class
G_DEFINE_TYPE (GstVoiceCaptureBin, gst_voice_capture_bin, GST_TYPE_BIN);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (voicecapturebin, "voicecapturebin", GST_RANK_NONE,
    GST_TYPE_VOICE_CAPTURE_BIN,
    GST_DEBUG_CATEGORY_INIT (voice_capture_bin_debug, "voicecapturebin", 0,
        "voice capture bin"));

/* Puts `source` in place of the current source; called with the state at NULL or READY. */
static bool
replace_source (GstVoiceCaptureBin *self, GstElement *source, bool is_default)
{
  auto *priv = self->priv;
  priv->default_source = is_default;
  /* Set from gst-launch, this runs before the bin has a bus: the error is kept for
   * change_state to report. */
  priv->link_error.clear ();
  if (!vc::swap_child (GST_BIN (self), &priv->source, source, nullptr, priv->convert)) {
    priv->link_error = std::string ("The source \"") + GST_OBJECT_NAME (source) +
        "\" has no audio src pad that can be linked: set source= to an audio source, e.g. "
        "source=\"audiotestsrc is-live=true\".";
    return false;
  }
  return true;
}

/* What the encoder does now. */
static vc::adaptive::Encoder
current_encoder (GstVoiceCaptureBin *self)
{
  gint bitrate = 0, plp = 0;
  gboolean fec = FALSE;
  g_object_get (self->priv->encoder, "bitrate", &bitrate, "inband-fec", &fec,
      "packet-loss-percentage", &plp, nullptr);
  return {bitrate, fec != FALSE, plp};
}

/* voicecall's adaptation: the custom upstream event "voicecall-encoder-settings" sets the
 * encoder (within the ranges of our own properties), the custom query of that name reads it. */
static GstPadProbeReturn
encoder_settings_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  auto *self = GST_VOICE_CAPTURE_BIN (user_data);
  if (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_EVENT_UPSTREAM) {
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
    if (GST_EVENT_TYPE (event) != GST_EVENT_CUSTOM_UPSTREAM)
      return GST_PAD_PROBE_OK;
    vc::adaptive::Encoder e = current_encoder (self);
    if (!vc::adaptive::parse_encoder_structure (gst_event_get_structure (event), &e))
      return GST_PAD_PROBE_OK;
    e.bitrate = CLAMP (e.bitrate, MIN_BITRATE, MAX_BITRATE);
    e.packet_loss_percentage = CLAMP (e.packet_loss_percentage, 0, 100);
    GST_INFO_OBJECT (self, "encoder settings from downstream: bitrate %d, fec %d, "
        "packet-loss-percentage %d", e.bitrate, e.fec, e.packet_loss_percentage);
    g_object_set (self->priv->encoder, "bitrate", e.bitrate, "inband-fec", e.fec,
        "packet-loss-percentage", e.packet_loss_percentage, nullptr);
    gst_event_unref (event);
    return GST_PAD_PROBE_HANDLED;
  }
  if (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_QUERY_UPSTREAM) {
    GstQuery *query = GST_PAD_PROBE_INFO_QUERY (info);
    if (GST_QUERY_TYPE (query) != GST_QUERY_CUSTOM)
      return GST_PAD_PROBE_OK;
    const GstStructure *asked = gst_query_get_structure (query);
    if (!asked || !gst_structure_has_name (asked, vc::adaptive::ENCODER_SETTINGS))
      return GST_PAD_PROBE_OK;
    vc::adaptive::Encoder e = current_encoder (self);
    gst_structure_set (gst_query_writable_structure (query), "bitrate", G_TYPE_INT, e.bitrate,
        "fec", G_TYPE_BOOLEAN, e.fec, "packet-loss-percentage", G_TYPE_INT,
        e.packet_loss_percentage, nullptr);
    return GST_PAD_PROBE_HANDLED;
  }
  return GST_PAD_PROBE_OK;
}

static void
gst_voice_capture_bin_init (GstVoiceCaptureBin *self)
{
  self->priv = new GstVoiceCaptureBinPrivate ();
  auto *priv = self->priv;
  auto *element = GST_ELEMENT (self);
  GstBin *bin = GST_BIN (self);

  GstElement *convert = vc::make_element (element, "audioconvert", "convert");
  GstElement *resample = vc::make_element (element, "audioresample", "resample");
  GstElement *filter = vc::make_element (element, "capsfilter", "processing-caps");
  GstElement *chunk = vc::make_element (element, "audiobuffersplit", "chunk");
  GstElement *pace = vc::make_element (element, "clocksync", "pace");
  GstElement *dsp = vc::make_element (element, "webrtcdsp", "dsp");
  GstElement *convert2 = vc::make_element (element, "audioconvert", "convert2");
  GstElement *encoder = vc::make_element (element, "opusenc", "encoder");
  GstElement *payloader = vc::make_element (element, "rtpopuspay", "payloader");
  if (!convert || !resample || !filter || !chunk || !pace || !dsp || !convert2 || !encoder ||
      !payloader)
    return;

  vc::GstPtr<GstCaps> caps = vc::adopt (gst_caps_from_string (PROCESSING_CAPS));
  g_object_set (filter, "caps", caps.get (), nullptr);
  /* Paced in 10 ms pieces, as a sound card delivers them: a file source's buffers (wavparse
   * gives 43 ms) would otherwise leave as bursts of two or three packets, which the far end
   * measures as ~15 ms of jitter on a clean path and its adaptive playout buffers for. */
  gst_util_set_object_arg (G_OBJECT (chunk), "output-buffer-duration", "1/100");
  g_object_set (dsp, "echo-cancel", DEFAULT_ECHO_CANCEL, "noise-suppression",
      DEFAULT_NOISE_SUPPRESSION, "gain-control", DEFAULT_GAIN_CONTROL, "delay-agnostic", TRUE,
      nullptr);
  gst_util_set_object_arg (G_OBJECT (encoder), "audio-type", "voice");
  gst_util_set_object_arg (G_OBJECT (encoder), "frame-size", "20");
  g_object_set (encoder, "bitrate", DEFAULT_BITRATE, "inband-fec", DEFAULT_FEC,
      "packet-loss-percentage", DEFAULT_PACKET_LOSS_PERCENTAGE, "dtx", DEFAULT_DTX, nullptr);
  g_object_set (payloader, "pt", 96, nullptr);

  vc::add_and_link (bin, {convert, resample, filter, chunk, pace, dsp, convert2, encoder,
      payloader});
  priv->convert = convert;
  priv->dsp = dsp;
  priv->encoder = encoder;

  GstPad *src = vc::add_ghost_pad (element, "src", payloader, "src",
      gst_static_pad_template_get (&src_template));
  gst_pad_add_probe (src, static_cast<GstPadProbeType> (GST_PAD_PROBE_TYPE_EVENT_UPSTREAM |
      GST_PAD_PROBE_TYPE_QUERY_UPSTREAM | GST_PAD_PROBE_TYPE_PUSH), encoder_settings_probe, self,
      nullptr);

  if (GstElement *mic = gst_element_factory_make ("autoaudiosrc", "source"))
    replace_source (self, mic, true);
}

static void
gst_voice_capture_bin_finalize (GObject *object)
{
  delete GST_VOICE_CAPTURE_BIN (object)->priv;
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_voice_capture_bin_set_property (GObject *object, guint prop_id, const GValue *value,
    GParamSpec *pspec)
{
  auto *self = GST_VOICE_CAPTURE_BIN (object);
  auto *priv = self->priv;

  switch (prop_id) {
    case PROP_SOURCE: {
      GstState state = GST_STATE (self);
      if (state > GST_STATE_READY) {
        g_warning ("voicecapturebin: source can only be set in the NULL or READY state");
        break;
      }
      auto *source = GST_ELEMENT (g_value_get_object (value));
      if (!source) {
        g_warning ("voicecapturebin: source cannot be NULL");
        break;
      }
      replace_source (self, source, false);
      break;
    }
    case PROP_ECHO_CANCEL: {
      std::lock_guard<std::mutex> lk (priv->lock);
      priv->echo_cancel = g_value_get_boolean (value);
      break;
    }
    case PROP_NOISE_SUPPRESSION:
      g_object_set_property (G_OBJECT (priv->dsp), "noise-suppression", value);
      break;
    case PROP_GAIN_CONTROL:
      g_object_set_property (G_OBJECT (priv->dsp), "gain-control", value);
      break;
    case PROP_BITRATE:
      g_object_set_property (G_OBJECT (priv->encoder), "bitrate", value);
      break;
    case PROP_FEC:
      g_object_set_property (G_OBJECT (priv->encoder), "inband-fec", value);
      break;
    case PROP_PACKET_LOSS_PERCENTAGE:
      g_object_set_property (G_OBJECT (priv->encoder), "packet-loss-percentage", value);
      break;
    case PROP_DTX:
      g_object_set_property (G_OBJECT (priv->encoder), "dtx", value);
      break;
    case PROP_FRAME_DURATION: {
      /* Our enum values are opusenc's frame-size values (ms). */
      gint ms = g_value_get_enum (value);
      vc::GUnique<gchar> text (g_strdup_printf ("%d", ms));
      gst_util_set_object_arg (G_OBJECT (priv->encoder), "frame-size", text.get ());
      break;
    }
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
}

static void
gst_voice_capture_bin_get_property (GObject *object, guint prop_id, GValue *value,
    GParamSpec *pspec)
{
  auto *self = GST_VOICE_CAPTURE_BIN (object);
  auto *priv = self->priv;

  switch (prop_id) {
    case PROP_SOURCE:
      g_value_set_object (value, priv->source);
      break;
    case PROP_ECHO_CANCEL: {
      std::lock_guard<std::mutex> lk (priv->lock);
      g_value_set_boolean (value, priv->echo_cancel);
      break;
    }
    case PROP_NOISE_SUPPRESSION:
      g_object_get_property (G_OBJECT (priv->dsp), "noise-suppression", value);
      break;
    case PROP_GAIN_CONTROL:
      g_object_get_property (G_OBJECT (priv->dsp), "gain-control", value);
      break;
    case PROP_BITRATE:
      g_object_get_property (G_OBJECT (priv->encoder), "bitrate", value);
      break;
    case PROP_FEC:
      g_object_get_property (G_OBJECT (priv->encoder), "inband-fec", value);
      break;
    case PROP_PACKET_LOSS_PERCENTAGE:
      g_object_get_property (G_OBJECT (priv->encoder), "packet-loss-percentage", value);
      break;
    case PROP_DTX:
      g_object_get_property (G_OBJECT (priv->encoder), "dtx", value);
      break;
    case PROP_FRAME_DURATION: {
      gint frame_size = 0;
      g_object_get (priv->encoder, "frame-size", &frame_size, nullptr);
      g_value_set_enum (value, frame_size);
      break;
    }
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
}

/* Pairs webrtcdsp with the echo probe of the one voiceplaybackbin in the pipeline. */
static void
pair_echo_probe (GstVoiceCaptureBin *self)
{
  auto *priv = self->priv;
  bool wanted;
  {
    std::lock_guard<std::mutex> lk (priv->lock);
    wanted = priv->echo_cancel;
  }
  std::string probe;
  int found = 0;
  if (wanted) {
    GstElement *top = vc::toplevel (GST_ELEMENT (self));
    if (GST_IS_BIN (top)) {
      vc::GUnique<GstIterator> it (gst_bin_iterate_recurse (GST_BIN (top)));
      GValue item = G_VALUE_INIT;
      while (gst_iterator_next (it.get (), &item) == GST_ITERATOR_OK) {
        auto *e = GST_ELEMENT (g_value_get_object (&item));
        if (GST_IS_VOICE_PLAYBACK_BIN (e)) {
          found++;
          probe = gst_voice_playback_bin_get_echo_probe_name (GST_VOICE_PLAYBACK_BIN (e));
        }
        g_value_reset (&item);
      }
      g_value_unset (&item);
    }
  }
  bool on = wanted && found == 1;
  if (wanted && found != 1)
    GST_WARNING_OBJECT (self, "echo cancellation off: it needs exactly one voiceplaybackbin "
        "in the pipeline, found %d", found);
  if (on)
    g_object_set (priv->dsp, "probe", probe.c_str (), nullptr);
  g_object_set (priv->dsp, "echo-cancel", on, nullptr);
  GST_INFO_OBJECT (self, "echo cancellation %s%s%s", on ? "on, probe " : "off",
      on ? probe.c_str () : "", "");
}

static GstStateChangeReturn
gst_voice_capture_bin_change_state (GstElement *element, GstStateChange transition)
{
  auto *self = GST_VOICE_CAPTURE_BIN (element);
  if (!self->priv->encoder)
    return GST_STATE_CHANGE_FAILURE; /* a missing plugin was reported in init */
  if (!self->priv->link_error.empty () && (transition == GST_STATE_CHANGE_NULL_TO_READY ||
          transition == GST_STATE_CHANGE_READY_TO_PAUSED)) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, ("%s", self->priv->link_error.c_str ()),
        (nullptr));
    return GST_STATE_CHANGE_FAILURE;
  }
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED)
    pair_echo_probe (self);

  GstStateChangeReturn ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE && self->priv->default_source &&
      transition == GST_STATE_CHANGE_NULL_TO_READY) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
        ("No microphone could be opened: set source= to another audio source, e.g. "
            "source=\"audiotestsrc is-live=true\" or source=\"filesrc location=voice.wav ! "
            "wavparse\"."), ("the default source (autoaudiosrc) failed to start"));
  }
  return ret;
}

/* The default microphone's own errors are replaced by one that says what to do. */
static void
gst_voice_capture_bin_handle_message (GstBin *bin, GstMessage *message)
{
  auto *self = GST_VOICE_CAPTURE_BIN (bin);
  auto *priv = self->priv;
  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ERROR && priv->source &&
      vc::is_within (GST_MESSAGE_SRC (message), GST_OBJECT (priv->source))) {
    vc::GUnique<GError> err;
    vc::GUnique<gchar> debug;
    {
      GError *e = nullptr;
      gchar *d = nullptr;
      gst_message_parse_error (message, &e, &d);
      err.reset (e);
      debug.reset (d);
    }
    if (priv->default_source) {
      GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ,
          ("No microphone could be opened (%s): set source= to another audio source, e.g. "
              "source=\"audiotestsrc is-live=true\".", err->message),
          ("%s", debug ? debug.get () : ""));
    } else {
      GST_ELEMENT_ERROR (self, RESOURCE, READ,
          ("The audio source \"%s\" failed: %s", GST_OBJECT_NAME (priv->source), err->message),
          ("%s", debug ? debug.get () : ""));
    }
    gst_message_unref (message);
    return;
  }
  GST_BIN_CLASS (parent_class)->handle_message (bin, message);
}

static void
gst_voice_capture_bin_class_init (GstVoiceCaptureBinClass *klass)
{
  auto *gobject_class = G_OBJECT_CLASS (klass);
  auto *element_class = GST_ELEMENT_CLASS (klass);
  auto *bin_class = GST_BIN_CLASS (klass);
  const auto flags = static_cast<GParamFlags> (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  const auto mutable_flags = static_cast<GParamFlags> (flags | GST_PARAM_MUTABLE_PLAYING);
  const auto ready_flags = static_cast<GParamFlags> (flags | GST_PARAM_MUTABLE_READY);

  gobject_class->finalize = gst_voice_capture_bin_finalize;
  gobject_class->set_property = gst_voice_capture_bin_set_property;
  gobject_class->get_property = gst_voice_capture_bin_get_property;
  element_class->change_state = gst_voice_capture_bin_change_state;
  bin_class->handle_message = gst_voice_capture_bin_handle_message;

  g_object_class_install_property (gobject_class, PROP_SOURCE,
      g_param_spec_object ("source", "Source",
          "The audio source: an element or, from gst-launch, a pipeline description such as "
          "source=\"audiotestsrc is-live=true freq=440\" or "
          "source=\"filesrc location=voice.wav ! wavparse\". Default: the microphone "
          "(autoaudiosrc). Set in the NULL or READY state.",
          GST_TYPE_ELEMENT, ready_flags));
  g_object_class_install_property (gobject_class, PROP_ECHO_CANCEL,
      g_param_spec_boolean ("echo-cancel", "Echo cancellation",
          "Remove the far end's voice picked up from the speakers (needs one voiceplaybackbin "
          "in the same pipeline; off otherwise)", DEFAULT_ECHO_CANCEL, ready_flags));
  g_object_class_install_property (gobject_class, PROP_NOISE_SUPPRESSION,
      g_param_spec_boolean ("noise-suppression", "Noise suppression",
          "Suppress steady background noise (note: it also attenuates steady test tones). "
          "webrtcdsp reads it when it starts: set in the NULL or READY state",
          DEFAULT_NOISE_SUPPRESSION, ready_flags));
  g_object_class_install_property (gobject_class, PROP_GAIN_CONTROL,
      g_param_spec_boolean ("gain-control", "Gain control",
          "Automatic gain control of the voice level (read when webrtcdsp starts: set in the "
          "NULL or READY state)", DEFAULT_GAIN_CONTROL, ready_flags));
  g_object_class_install_property (gobject_class, PROP_BITRATE,
      g_param_spec_int ("bitrate", "Bitrate", "Opus target bitrate in bit/s; can be changed "
          "during a call. With an adaptive voicecall downstream: the starting bitrate (reads "
          "give the current one)", MIN_BITRATE, MAX_BITRATE, DEFAULT_BITRATE, mutable_flags));
  g_object_class_install_property (gobject_class, PROP_FEC,
      g_param_spec_boolean ("fec", "FEC", "Opus in-band forward error correction: lost "
          "packets are partly recovered from the next one (uses packet-loss-percentage). An "
          "adaptive voicecall downstream turns it on and off with the measured loss",
          DEFAULT_FEC, mutable_flags));
  g_object_class_install_property (gobject_class, PROP_PACKET_LOSS_PERCENTAGE,
      g_param_spec_int ("packet-loss-percentage", "Expected packet loss",
          "Packet loss the encoder prepares for with FEC, in percent (an adaptive voicecall "
          "downstream sets it from the measured loss)", 0, 100,
          DEFAULT_PACKET_LOSS_PERCENTAGE, mutable_flags));
  g_object_class_install_property (gobject_class, PROP_DTX,
      g_param_spec_boolean ("dtx", "DTX", "Discontinuous transmission: send almost nothing "
          "during silence", DEFAULT_DTX, mutable_flags));
  g_object_class_install_property (gobject_class, PROP_FRAME_DURATION,
      g_param_spec_enum ("frame-duration", "Frame duration",
          "Duration of the audio in one packet, in ms: shorter is lower latency, longer is "
          "less overhead", GST_TYPE_VOICE_FRAME_DURATION, DEFAULT_FRAME_DURATION, ready_flags));

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "Voice capture bin",
      "Source/Audio/Network", "Captures audio, applies voice processing (echo cancellation, "
      "noise suppression, gain control) and encodes it as Opus RTP for a voice call",
      "gst-voicecall developers");
  gst_type_mark_as_plugin_api (GST_TYPE_VOICE_FRAME_DURATION, static_cast<GstPluginAPIFlags> (0));
}
