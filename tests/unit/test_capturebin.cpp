/* gst-voicecall: voicecapturebin — output caps and content, properties, frame durations, a
 * bitrate change while playing, rejected values and error messages.
 *
 * The bin runs in a GstHarness with a live audiotestsrc on the system clock (the bin paces
 * its input with clocksync); its RTP is parsed by hand and decoded in a second harness. */
#include "gstptr.h"
#include "propcheck.h"
#include "tone.h"

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <set>
#include <string>
#include <vector>

using vc::GstPtr;

namespace {

/* The fields of an RTP packet (RFC 3550 §5.1) these tests look at. */
struct RtpPacket {
  bool valid = false;
  guint pt = 0;
  guint16 seq = 0;
  guint32 timestamp = 0;
  gsize payload = 0;
};

RtpPacket
parse_rtp (GstBuffer *buf)
{
  RtpPacket p;
  GstMapInfo map;
  if (!gst_buffer_map (buf, &map, GST_MAP_READ))
    return p;
  const guint8 *d = map.data;
  gsize n = map.size;
  if (n >= 12 && (d[0] >> 6) == 2) {
    gsize header = 12 + 4 * (d[0] & 0x0f);
    if ((d[0] & 0x10) && n >= header + 4)
      header += 4 + 4 * GST_READ_UINT16_BE (d + header + 2);
    gsize padding = (d[0] & 0x20) ? d[n - 1] : 0;
    if (n >= header + padding) {
      p.valid = true;
      p.pt = d[1] & 0x7f;
      p.seq = GST_READ_UINT16_BE (d + 2);
      p.timestamp = GST_READ_UINT32_BE (d + 4);
      p.payload = n - header - padding;
    }
  }
  gst_buffer_unmap (buf, &map);
  return p;
}

/* A started voicecapturebin named "capture" in a harness; `props` in gst-launch syntax. */
GstHarness *
start_capture (const std::string &props)
{
  std::string desc = "voicecapturebin name=capture " + props;
  GstHarness *h = gst_harness_new_parse (desc.c_str ());
  fail_unless (h != nullptr, "cannot build %s", desc.c_str ());
  gst_harness_use_systemclock (h);
  fail_unless (gst_element_set_state (h->element, GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE, "%s did not start", desc.c_str ());
  return h;
}

GstPtr<GstElement>
capture_of (GstHarness *h)
{
  return vc::adopt (gst_harness_find_element (h, "voicecapturebin"));
}

/* The next `n` RTP packets (fails after 10 s without one). */
std::vector<GstPtr<GstBuffer>>
pull_packets (GstHarness *h, int n)
{
  std::vector<GstPtr<GstBuffer>> out;
  for (int i = 0; i < n; i++) {
    GstBuffer *buf = nullptr;
    for (int tries = 0; !buf && tries < 1000; tries++) {
      buf = gst_harness_try_pull (h);
      if (!buf)
        g_usleep (10000);
    }
    fail_unless (buf != nullptr, "no RTP packet %d within 10 s", i);
    out.push_back (vc::adopt (buf));
  }
  return out;
}

/* Drops what the harness queued so far. */
void
drain (GstHarness *h)
{
  while (GstBuffer *buf = gst_harness_try_pull (h))
    gst_buffer_unref (buf);
}

/* Payload bit rate in bit/s over `packets`, by their RTP timestamps (media time, so that the
 * harness's scheduling does not matter). */
double
payload_bitrate (const std::vector<GstPtr<GstBuffer>> &packets)
{
  gsize bytes = 0;
  for (auto &b : packets)
    bytes += parse_rtp (b.get ()).payload;
  RtpPacket first = parse_rtp (packets.front ().get ());
  RtpPacket last = parse_rtp (packets.back ().get ());
  RtpPacket before_last = parse_rtp (packets[packets.size () - 2].get ());
  guint32 span = last.timestamp - first.timestamp + (last.timestamp - before_last.timestamp);
  return bytes * 8.0 * 48000.0 / span;
}

/* Decodes Opus RTP with rtpopusdepay ! opusdec into 48 kHz mono floats. */
std::vector<float>
decode (GstCaps *caps, const std::vector<GstPtr<GstBuffer>> &packets)
{
  GstHarness *dec = gst_harness_new_parse ("rtpopusdepay ! opusdec ! audioconvert ! "
      "audioresample ! capsfilter caps=audio/x-raw,format=S16LE,rate=48000,channels=1");
  gst_harness_set_src_caps (dec, gst_caps_ref (caps));
  std::vector<float> samples;
  for (auto &p : packets) {
    fail_unless_equals_int (gst_harness_push (dec, gst_buffer_ref (p.get ())), GST_FLOW_OK);
    while (GstBuffer *out = gst_harness_try_pull (dec)) {
      GstMapInfo map;
      gst_buffer_map (out, &map, GST_MAP_READ);
      auto mono = vc::tone::from_s16 (reinterpret_cast<const int16_t *> (map.data),
          map.size / 2, 1);
      samples.insert (samples.end (), mono.begin (), mono.end ());
      gst_buffer_unmap (out, &map);
      gst_buffer_unref (out);
    }
  }
  gst_harness_teardown (dec);
  return samples;
}

/* The first message of `type` on `bus` within `timeout_s`, or null. */
GstPtr<GstMessage>
wait_message (GstBus *bus, GstMessageType type, double timeout_s)
{
  return vc::adopt (gst_bus_timed_pop_filtered (bus,
      static_cast<GstClockTime> (timeout_s * GST_SECOND), type));
}

std::string
error_text (GstMessage *msg)
{
  GError *err = nullptr;
  gst_message_parse_error (msg, &err, nullptr);
  std::string text = err ? err->message : "";
  g_clear_error (&err);
  return text;
}

int
get_int (GstElement *e, const char *name)
{
  int v = 0;
  g_object_get (e, name, &v, nullptr);
  return v;
}

gboolean
get_bool (GstElement *e, const char *name)
{
  gboolean v = FALSE;
  g_object_get (e, name, &v, nullptr);
  return v;
}

GstPtr<GstElement>
new_capture ()
{
  GstElement *e = gst_element_factory_make ("voicecapturebin", nullptr);
  fail_unless (e != nullptr, "voicecapturebin is not registered");
  return vc::ref_sink (e);
}

GstPtr<GstElement>
child (GstElement *bin, const char *name)
{
  GstPtr<GstElement> e = vc::adopt (gst_bin_get_by_name (GST_BIN (bin), name));
  fail_unless (e.get () != nullptr, "no child \"%s\"", name);
  return e;
}

} // namespace

/* The src pad says Opus RTP, and the packets carry the source's tone. */
GST_START_TEST (test_src_caps_and_content)
{
  GstHarness *h = start_capture ("noise-suppression=false "
      "source=\"audiotestsrc is-live=true freq=1000 volume=0.3\"");
  auto packets = pull_packets (h, 100); /* 2 s */

  GstPtr<GstCaps> caps = vc::adopt (gst_pad_get_current_caps (h->sinkpad));
  fail_unless (caps.get () != nullptr);
  GstStructure *s = gst_caps_get_structure (caps.get (), 0);
  fail_unless (gst_structure_has_name (s, "application/x-rtp"), "caps %" GST_PTR_FORMAT,
      caps.get ());
  fail_unless_equals_string (gst_structure_get_string (s, "media"), "audio");
  fail_unless_equals_string (gst_structure_get_string (s, "encoding-name"), "OPUS");
  int rate = 0, pt = 0;
  fail_unless (gst_structure_get_int (s, "clock-rate", &rate));
  fail_unless_equals_int (rate, 48000);
  fail_unless (gst_structure_get_int (s, "payload", &pt));
  fail_unless_equals_int (pt, 96);

  RtpPacket prev;
  for (auto &b : packets) {
    RtpPacket p = parse_rtp (b.get ());
    fail_unless (p.valid, "not an RTP packet");
    fail_unless_equals_int (p.pt, 96);
    fail_unless (p.payload > 0);
    if (prev.valid)
      fail_unless_equals_int (static_cast<guint16> (p.seq - prev.seq), 1);
    prev = p;
  }

  auto samples = decode (caps.get (), packets);
  fail_unless (samples.size () > 48000 * 19 / 10, "decoded only %zu samples of 2 s",
      samples.size ());
  /* Past the first half second, where the gain control settles. */
  std::vector<float> settled (samples.begin () + 24000, samples.end ());
  double hz = vc::tone::dominant_frequency (settled, 48000);
  double dbfs = vc::tone::level_dbfs (settled);
  g_print ("capture: decoded %.1f Hz at %.1f dBFS (source 1000 Hz)\n", hz, dbfs);
  fail_unless (std::fabs (hz - 1000) < 20, "decoded %.1f Hz, expected 1000 Hz", hz);
  fail_unless (dbfs > -30, "decoded level %.1f dBFS: the tone was lost", dbfs);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* Every property of the element itself: a new element reports the registry's default and
 * set values read back (generic, tests/common/propcheck.h); the defaults are the intended
 * ones. */
GST_START_TEST (test_property_defaults)
{
  auto names = vc::test::check_own_properties ("voicecapturebin", {"source"});
  vc::test::expect_properties ("voicecapturebin", names, {"source", "echo-cancel",
      "noise-suppression", "gain-control", "bitrate", "fec", "packet-loss-percentage", "dtx",
      "frame-duration"});

  auto bin = new_capture ();
  fail_unless (get_bool (bin.get (), "echo-cancel"));
  fail_unless (get_bool (bin.get (), "noise-suppression"));
  fail_unless (get_bool (bin.get (), "gain-control"));
  fail_unless_equals_int (get_int (bin.get (), "bitrate"), 32000);
  fail_unless (get_bool (bin.get (), "fec"));
  fail_unless_equals_int (get_int (bin.get (), "packet-loss-percentage"), 5);
  fail_unless (!get_bool (bin.get (), "dtx"));
  fail_unless_equals_int (get_int (bin.get (), "frame-duration"), 20);

  /* The default source is the microphone. */
  GstPtr<GstElement> source;
  g_object_get (bin.get (), "source", source.out (), nullptr);
  fail_unless (source.get () != nullptr);
  GstElementFactory *f = gst_element_get_factory (source.get ());
  fail_unless_equals_string (GST_OBJECT_NAME (f), "autoaudiosrc");
  fail_unless (GST_OBJECT_PARENT (source.get ()) == GST_OBJECT (bin.get ()));
}
GST_END_TEST;

GST_START_TEST (test_property_round_trip)
{
  auto bin = new_capture ();
  g_object_set (bin.get (), "echo-cancel", FALSE, "noise-suppression", FALSE, "gain-control",
      FALSE, "bitrate", 64000, "fec", FALSE, "packet-loss-percentage", 20, "dtx", TRUE, nullptr);
  gst_util_set_object_arg (G_OBJECT (bin.get ()), "frame-duration", "40");
  fail_unless (!get_bool (bin.get (), "echo-cancel"));
  fail_unless (!get_bool (bin.get (), "noise-suppression"));
  fail_unless (!get_bool (bin.get (), "gain-control"));
  fail_unless_equals_int (get_int (bin.get (), "bitrate"), 64000);
  fail_unless (!get_bool (bin.get (), "fec"));
  fail_unless_equals_int (get_int (bin.get (), "packet-loss-percentage"), 20);
  fail_unless (get_bool (bin.get (), "dtx"));
  fail_unless_equals_int (get_int (bin.get (), "frame-duration"), 40);

  /* Edges of the ranges are accepted. */
  for (int rate : {6000, 510000}) {
    g_object_set (bin.get (), "bitrate", rate, nullptr);
    fail_unless_equals_int (get_int (bin.get (), "bitrate"), rate);
  }
  for (int ms : {10, 20, 40, 60}) {
    g_object_set (bin.get (), "frame-duration", ms, nullptr);
    fail_unless_equals_int (get_int (bin.get (), "frame-duration"), ms);
  }

  /* A source element replaces the microphone inside the bin. */
  GstElement *tone = gst_element_factory_make ("audiotestsrc", "tone");
  g_object_set (bin.get (), "source", tone, nullptr);
  GstPtr<GstElement> got;
  g_object_get (bin.get (), "source", got.out (), nullptr);
  fail_unless (got.get () == tone);
  fail_unless (GST_OBJECT_PARENT (tone) == GST_OBJECT (bin.get ()));
  GstPtr<GstElement> old = vc::adopt (gst_bin_get_by_name (GST_BIN (bin.get ()), "source"));
  fail_unless (old.get () == nullptr, "the replaced microphone is still in the bin");
}
GST_END_TEST;

/* What the bin's properties mean is what its opusenc and webrtcdsp are set to. */
GST_START_TEST (test_settings_reach_children)
{
  auto bin = new_capture ();
  auto encoder = child (bin.get (), "encoder");
  auto dsp = child (bin.get (), "dsp");

  /* Defaults. */
  fail_unless_equals_int (get_int (encoder.get (), "bitrate"), 32000);
  fail_unless (get_bool (encoder.get (), "inband-fec"));
  fail_unless_equals_int (get_int (encoder.get (), "packet-loss-percentage"), 5);
  fail_unless (!get_bool (encoder.get (), "dtx"));
  fail_unless_equals_int (get_int (encoder.get (), "frame-size"), 20);
  vc::GUnique<gchar> audio_type;
  {
    GValue v = G_VALUE_INIT;
    g_value_init (&v, G_PARAM_SPEC_VALUE_TYPE (
        g_object_class_find_property (G_OBJECT_GET_CLASS (encoder.get ()), "audio-type")));
    g_object_get_property (G_OBJECT (encoder.get ()), "audio-type", &v);
    audio_type.reset (gst_value_serialize (&v));
    g_value_unset (&v);
  }
  fail_unless_equals_string (audio_type.get (), "voice");

  for (gboolean on : {gboolean (FALSE), gboolean (TRUE)}) {
    g_object_set (bin.get (), "fec", on, "dtx", !on, "noise-suppression", on, "gain-control",
        !on, nullptr);
    fail_unless_equals_int (get_bool (encoder.get (), "inband-fec"), on);
    fail_unless_equals_int (get_bool (encoder.get (), "dtx"), !on);
    fail_unless_equals_int (get_bool (dsp.get (), "noise-suppression"), on);
    fail_unless_equals_int (get_bool (dsp.get (), "gain-control"), !on);
  }
  for (int pct : {0, 17, 100}) {
    g_object_set (bin.get (), "packet-loss-percentage", pct, nullptr);
    fail_unless_equals_int (get_int (encoder.get (), "packet-loss-percentage"), pct);
  }
  g_object_set (bin.get (), "bitrate", 24000, nullptr);
  fail_unless_equals_int (get_int (encoder.get (), "bitrate"), 24000);
  for (int ms : {10, 20, 40, 60}) {
    g_object_set (bin.get (), "frame-duration", ms, nullptr);
    fail_unless_equals_int (get_int (encoder.get (), "frame-size"), ms);
  }
}
GST_END_TEST;

/* frame-duration sets the audio per packet: RTP timestamps advance by 48 samples per ms. */
GST_START_TEST (test_frame_duration)
{
  for (int ms : {10, 20, 40, 60}) {
    std::string props = "frame-duration=" + std::to_string (ms) +
        " source=\"audiotestsrc is-live=true wave=white-noise volume=0.3\"";
    GstHarness *h = start_capture (props);
    pull_packets (h, 2); /* the first packet is shorter by the encoder's lookahead */
    auto packets = pull_packets (h, 8);
    std::set<guint32> steps;
    for (size_t i = 1; i < packets.size (); i++)
      steps.insert (parse_rtp (packets[i].get ()).timestamp -
          parse_rtp (packets[i - 1].get ()).timestamp);
    g_print ("frame-duration %d: RTP timestamp steps", ms);
    for (guint32 s : steps)
      g_print (" %u", s);
    g_print ("\n");
    fail_unless (steps.size () == 1 && *steps.begin () == static_cast<guint32> (48 * ms),
        "frame-duration %d: RTP timestamps step by %u.. (%zu distinct), expected %d", ms,
        *steps.begin (), steps.size (), 48 * ms);
    fail_unless_equals_uint64 (GST_BUFFER_DURATION (packets[3].get ()), ms * GST_MSECOND);
    gst_harness_teardown (h);
  }
}
GST_END_TEST;

/* bitrate is changeable in PLAYING: the payload rate follows within a few packets. Noise
 * keeps the constrained-VBR encoder at its target (a tone or silence would undershoot). */
GST_START_TEST (test_bitrate_change_while_playing)
{
  GstHarness *h = start_capture ("bitrate=12000 noise-suppression=false gain-control=false "
      "source=\"audiotestsrc is-live=true wave=white-noise volume=0.5\"");
  auto capture = capture_of (h);

  pull_packets (h, 10); /* the encoder's start */
  double low = payload_bitrate (pull_packets (h, 100));

  g_object_set (capture.get (), "bitrate", 64000, nullptr);
  drain (h);
  pull_packets (h, 10);
  double high = payload_bitrate (pull_packets (h, 100));

  g_object_set (capture.get (), "bitrate", 12000, nullptr);
  drain (h);
  pull_packets (h, 10);
  double low_again = payload_bitrate (pull_packets (h, 100));

  g_print ("capture payload bitrate: bitrate=12000 -> %.0f bit/s, 64000 -> %.0f bit/s, back to "
      "12000 -> %.0f bit/s (ratio %.2f)\n", low, high, low_again, high / low);
  fail_unless (low > 12000 * 0.7 && low < 12000 * 1.3, "at 12 kbit/s: %.0f bit/s", low);
  fail_unless (high > 64000 * 0.7 && high < 64000 * 1.3, "at 64 kbit/s: %.0f bit/s", high);
  fail_unless (low_again > 12000 * 0.7 && low_again < 12000 * 1.3,
      "back at 12 kbit/s: %.0f bit/s", low_again);
  fail_unless (high / low > 3.5, "64 vs 12 kbit/s: ratio only %.2f", high / low);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* Out-of-range values are refused with a GLib warning and change nothing. */
GST_START_TEST (test_bad_values_rejected)
{
  auto bin = new_capture ();
  auto encoder = child (bin.get (), "encoder");

  ASSERT_WARNING (g_object_set (bin.get (), "bitrate", 5999, nullptr));
  ASSERT_WARNING (g_object_set (bin.get (), "bitrate", 510001, nullptr));
  ASSERT_WARNING (gst_util_set_object_arg (G_OBJECT (bin.get ()), "bitrate", "1000"));
  fail_unless_equals_int (get_int (bin.get (), "bitrate"), 32000);
  fail_unless_equals_int (get_int (encoder.get (), "bitrate"), 32000);

  ASSERT_WARNING (g_object_set (bin.get (), "packet-loss-percentage", 101, nullptr));
  ASSERT_WARNING (g_object_set (bin.get (), "packet-loss-percentage", -1, nullptr));
  fail_unless_equals_int (get_int (bin.get (), "packet-loss-percentage"), 5);
  fail_unless_equals_int (get_int (encoder.get (), "packet-loss-percentage"), 5);

  /* 30 ms is not an Opus frame duration: not parsed from text, refused as a number. */
  gst_util_set_object_arg (G_OBJECT (bin.get ()), "frame-duration", "30");
  ASSERT_WARNING (g_object_set (bin.get (), "frame-duration", 30, nullptr));
  fail_unless_equals_int (get_int (bin.get (), "frame-duration"), 20);
  fail_unless_equals_int (get_int (encoder.get (), "frame-size"), 20);

  /* A source must be an element, and is fixed once the bin runs. */
  ASSERT_WARNING (g_object_set (bin.get (), "source", nullptr, nullptr));
  GstPtr<GstElement> source;
  g_object_get (bin.get (), "source", source.out (), nullptr);
  fail_unless (source.get () != nullptr);
}
GST_END_TEST;

GST_START_TEST (test_source_fixed_while_playing)
{
  GstHarness *h = start_capture ("source=\"audiotestsrc is-live=true\"");
  auto capture = capture_of (h);
  pull_packets (h, 2);
  GstPtr<GstElement> before;
  g_object_get (capture.get (), "source", before.out (), nullptr);
  GstElement *other = gst_element_factory_make ("audiotestsrc", nullptr);
  gst_object_ref_sink (other);
  ASSERT_WARNING (g_object_set (capture.get (), "source", other, nullptr));
  GstPtr<GstElement> after;
  g_object_get (capture.get (), "source", after.out (), nullptr);
  fail_unless (after.get () == before.get ());
  fail_unless (GST_OBJECT_PARENT (other) == nullptr);
  gst_object_unref (other);
  pull_packets (h, 5); /* still running */
  gst_harness_teardown (h);
}
GST_END_TEST;

static GstPadProbeReturn
count_buffers (GstPad *, GstPadProbeInfo *, gpointer data)
{
  static_cast<std::atomic<int> *> (data)->fetch_add (1);
  return GST_PAD_PROBE_OK;
}

/* source= takes a pipeline description, as gst-launch users write it. */
GST_START_TEST (test_source_from_description)
{
  GError *err = nullptr;
  GstElement *p = gst_parse_launch ("voicecapturebin name=capture "
      "source=\"audiotestsrc name=tone is-live=true ! audioconvert name=conv\" ! "
      "fakesink name=out", &err);
  fail_unless (p != nullptr && err == nullptr, "%s", err ? err->message : "");
  GstPtr<GstElement> pipeline = vc::ref_sink (p);
  auto capture = child (pipeline.get (), "capture");

  GstPtr<GstElement> source;
  g_object_get (capture.get (), "source", source.out (), nullptr);
  fail_unless (GST_IS_BIN (source.get ()), "source is not the described bin");
  fail_unless (GST_OBJECT_PARENT (source.get ()) == GST_OBJECT (capture.get ()));
  child (source.get (), "tone");
  child (source.get (), "conv");

  std::atomic<int> buffers {0};
  auto out = child (pipeline.get (), "out");
  GstPtr<GstPad> pad = vc::adopt (gst_element_get_static_pad (out.get (), "sink"));
  gst_pad_add_probe (pad.get (), GST_PAD_PROBE_TYPE_BUFFER, count_buffers, &buffers, nullptr);
  fail_unless (gst_element_set_state (pipeline.get (), GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  GstPtr<GstBus> bus = vc::adopt (gst_element_get_bus (pipeline.get ()));
  for (int i = 0; i < 500 && buffers < 25; i++) {
    auto msg = wait_message (bus.get (), GST_MESSAGE_ERROR, 0.01);
    fail_unless (msg.get () == nullptr, "error: %s", error_text (msg.get ()).c_str ());
  }
  fail_unless (buffers >= 25, "only %d packets in 5 s", buffers.load ());
  gst_element_set_state (pipeline.get (), GST_STATE_NULL);
}
GST_END_TEST;

/* When each packet left the bin: the monotonic clock, µs. */
static GstPadProbeReturn
stamp_packet (GstPad *, GstPadProbeInfo *, gpointer data)
{
  static_cast<std::vector<gint64> *> (data)->push_back (g_get_monotonic_time ());
  return GST_PAD_PROBE_OK;
}

/* A file source hands over large buffers (wavparse: 43 ms; here 85 ms) at once. The bin
 * paces it as a sound card would deliver it, in 10 ms pieces, so the 20 ms packets leave one
 * by one: sent in bursts, they look like ~15 ms of jitter to the far end (the experiment's
 * callee measured 15 ms on a clean path before the pieces). A stall of the machine can
 * still bunch a few; without the pieces three of four packets leave < 5 ms after the one
 * before. */
GST_START_TEST (test_file_source_leaves_paced)
{
  GError *err = nullptr;
  GstElement *p = gst_parse_launch ("voicecapturebin name=capture noise-suppression=false "
      "source=\"audiotestsrc is-live=false samplesperbuffer=4096 num-buffers=20\" ! "
      "fakesink name=out sync=false", &err);
  fail_unless (p != nullptr && err == nullptr, "%s", err ? err->message : "");
  GstPtr<GstElement> pipeline = vc::ref_sink (p);
  std::vector<gint64> sent;
  auto out = child (pipeline.get (), "out");
  GstPtr<GstPad> pad = vc::adopt (gst_element_get_static_pad (out.get (), "sink"));
  gst_pad_add_probe (pad.get (), GST_PAD_PROBE_TYPE_BUFFER, stamp_packet, &sent, nullptr);
  fail_unless (gst_element_set_state (pipeline.get (), GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  GstPtr<GstBus> bus = vc::adopt (gst_element_get_bus (pipeline.get ()));
  auto msg = wait_message (bus.get (), static_cast<GstMessageType> (GST_MESSAGE_EOS |
      GST_MESSAGE_ERROR), 10);
  fail_unless (msg && GST_MESSAGE_TYPE (msg.get ()) == GST_MESSAGE_EOS, "no EOS: %s",
      error_text (msg.get ()).c_str ());
  gst_element_set_state (pipeline.get (), GST_STATE_NULL);
  /* 20 × 4096 samples = 1.7 s: 85 packets of 20 ms. */
  fail_unless (sent.size () >= 80, "%zu packets", sent.size ());
  int bunched = 0;
  for (size_t i = 1; i < sent.size (); i++)
    if (sent[i] - sent[i - 1] < 5000)
      bunched++;
  const double fraction = bunched / static_cast<double> (sent.size () - 1);
  GST_INFO ("%d of %zu packets left < 5 ms after the one before", bunched, sent.size () - 1);
  fail_unless (fraction < 0.2, "%d of %zu packets left < 5 ms after the one before: sent in "
      "bursts", bunched, sent.size () - 1);
}
GST_END_TEST;

/* Runs `desc` and returns its first ERROR message (within 5 s), or null if the pipeline
 * produced `buffers` buffers at the sink named "out" without one. */
static GstPtr<GstMessage>
run_until_error (const char *desc, int buffers, GstPtr<GstElement> *pipeline_out)
{
  GError *err = nullptr;
  GstElement *p = gst_parse_launch (desc, &err);
  fail_unless (p != nullptr && err == nullptr, "%s", err ? err->message : "");
  GstPtr<GstElement> pipeline = vc::ref_sink (p);
  std::atomic<int> count {0};
  auto out = child (pipeline.get (), "out");
  GstPtr<GstPad> pad = vc::adopt (gst_element_get_static_pad (out.get (), "sink"));
  gst_pad_add_probe (pad.get (), GST_PAD_PROBE_TYPE_BUFFER, count_buffers, &count, nullptr);
  gst_element_set_state (pipeline.get (), GST_STATE_PLAYING);
  GstPtr<GstBus> bus = vc::adopt (gst_element_get_bus (pipeline.get ()));
  GstPtr<GstMessage> msg;
  for (int i = 0; i < 500 && !msg && count < buffers; i++)
    msg = wait_message (bus.get (), GST_MESSAGE_ERROR, 0.01);
  gst_element_set_state (pipeline.get (), GST_STATE_NULL);
  *pipeline_out = pipeline;
  return msg;
}

/* A source that fails: the ERROR comes from voicecapturebin and names the source. */
GST_START_TEST (test_failing_source_error)
{
  GstPtr<GstElement> pipeline;
  auto msg = run_until_error ("voicecapturebin name=capture "
      "source=\"filesrc location=/nonexistent.wav ! wavparse\" ! fakesink name=out", 1,
      &pipeline);
  fail_unless (msg.get () != nullptr, "no ERROR for a source that cannot open its file");
  auto capture = child (pipeline.get (), "capture");
  GstPtr<GstElement> source;
  g_object_get (capture.get (), "source", source.out (), nullptr);
  std::string text = error_text (msg.get ());
  g_print ("failing source: \"%s\" from %s\n", text.c_str (), GST_MESSAGE_SRC_NAME (msg.get ()));
  fail_unless (GST_MESSAGE_SRC (msg.get ()) == GST_OBJECT (capture.get ()),
      "the error comes from %s, not voicecapturebin", GST_MESSAGE_SRC_NAME (msg.get ()));
  fail_unless (text.find (std::string ("\"") + GST_OBJECT_NAME (source.get ()) + "\"") !=
      std::string::npos, "\"%s\" does not name the source %s", text.c_str (),
      GST_OBJECT_NAME (source.get ()));
  fail_unless (text.find ("set source=") == std::string::npos,
      "a source the user chose is not a missing microphone: \"%s\"", text.c_str ());
}
GST_END_TEST;

/* A source that cannot be linked (set from a description, before the bin has a bus): starting
 * fails with an ERROR from voicecapturebin that says what to set. */
GST_START_TEST (test_unlinkable_source)
{
  GError *err = nullptr;
  GstElement *p = gst_parse_launch ("voicecapturebin source=\"fakesink\" ! fakesink", &err);
  fail_unless (p != nullptr && err == nullptr, "%s", err ? err->message : "");
  GstPtr<GstElement> pipeline = vc::ref_sink (p);
  fail_unless_equals_int (gst_element_set_state (pipeline.get (), GST_STATE_PLAYING),
      GST_STATE_CHANGE_FAILURE);
  GstPtr<GstBus> bus = vc::adopt (gst_element_get_bus (pipeline.get ()));
  GstPtr<GstMessage> msg = vc::adopt (gst_bus_pop_filtered (bus.get (), GST_MESSAGE_ERROR));
  gst_element_set_state (pipeline.get (), GST_STATE_NULL);
  fail_unless (msg.get () != nullptr, "no ERROR for an unlinkable source");
  GError *e = nullptr;
  gst_message_parse_error (msg.get (), &e, nullptr);
  std::string text = e ? e->message : "";
  g_clear_error (&e);
  g_print ("unlinkable source: \"%s\" from %s\n", text.c_str (), GST_MESSAGE_SRC_NAME (msg.get ()));
  fail_unless (g_str_has_prefix (GST_MESSAGE_SRC_NAME (msg.get ()), "voicecapturebin"),
      "the error comes from %s", GST_MESSAGE_SRC_NAME (msg.get ()));
  fail_unless (text.find ("set source=") != std::string::npos, "\"%s\" does not say to set source=",
      text.c_str ());
}
GST_END_TEST;

/* The default microphone on a machine without a sound card (like CI): an ERROR that says to
 * set source=. Where a microphone works this cannot be tested, and the test says so. */
GST_START_TEST (test_no_microphone_error)
{
  GstPtr<GstElement> pipeline;
  auto msg = run_until_error ("voicecapturebin name=capture ! fakesink name=out", 25,
      &pipeline);
  fail_unless (msg.get () != nullptr, "the default source (autoaudiosrc) delivered audio: "
      "this machine has a working microphone, so the no-microphone error cannot be tested "
      "here; run this test on a machine without a sound card (like CI)");
  auto capture = child (pipeline.get (), "capture");
  std::string text = error_text (msg.get ());
  g_print ("no microphone: \"%s\"\n", text.c_str ());
  fail_unless (GST_MESSAGE_SRC (msg.get ()) == GST_OBJECT (capture.get ()),
      "the error comes from %s, not voicecapturebin", GST_MESSAGE_SRC_NAME (msg.get ()));
  fail_unless (text.find ("set source=") != std::string::npos,
      "\"%s\" does not tell to set source=", text.c_str ());
}
GST_END_TEST;

static Suite *
capturebin_suite (void)
{
  Suite *s = suite_create ("capturebin");
  TCase *props = tcase_create ("properties");
  tcase_add_test (props, test_property_defaults);
  tcase_add_test (props, test_property_round_trip);
  tcase_add_test (props, test_settings_reach_children);
  tcase_add_test (props, test_bad_values_rejected);
  suite_add_tcase (s, props);

  TCase *stream = tcase_create ("stream");
  tcase_set_timeout (stream, 60);
  tcase_add_test (stream, test_src_caps_and_content);
  tcase_add_test (stream, test_frame_duration);
  tcase_add_test (stream, test_bitrate_change_while_playing);
  tcase_add_test (stream, test_source_fixed_while_playing);
  tcase_add_test (stream, test_source_from_description);
  tcase_add_test (stream, test_file_source_leaves_paced);
  suite_add_tcase (s, stream);

  TCase *errors = tcase_create ("errors");
  tcase_set_timeout (errors, 30);
  tcase_add_test (errors, test_failing_source_error);
  tcase_add_test (errors, test_no_microphone_error);
  tcase_add_test (errors, test_unlinkable_source);
  suite_add_tcase (s, errors);
  return s;
}

GST_CHECK_MAIN (capturebin);
