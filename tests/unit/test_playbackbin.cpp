/* gst-voicecall: voiceplaybackbin — sink caps, properties, a WAV sink from a description,
 * and loss concealment (lost packets leave no hole in the output).
 *
 * The Opus RTP pushed in is made by a harness from audiotestsrc ! opusenc ! rtpopuspay. */
#include "gstptr.h"
#include "propcheck.h"
#include "tone.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <glib/gstdio.h>

#include <cmath>
#include <cstring>
#include <set>
#include <string>
#include <vector>

using vc::GstPtr;

namespace {

constexpr const char *OPUS_RTP_CAPS = "application/x-rtp, media=(string)audio, "
                                      "encoding-name=(string)OPUS, clock-rate=(int)48000";
constexpr int FRAME = 960; /* samples in a 20 ms packet at 48 kHz */

struct RtpStream {
  GstPtr<GstCaps> caps;
  std::vector<GstPtr<GstBuffer>> packets;
};

/* `count` 20 ms Opus RTP packets of a `freq` Hz tone, with their caps. */
RtpStream
make_opus_rtp (int freq, int count)
{
  std::string desc = "audiotestsrc samplesperbuffer=960 volume=0.3 freq=" +
      std::to_string (freq) + " num-buffers=" + std::to_string (count + 10) +
      " ! audioconvert ! opusenc frame-size=20 bitrate=32000 ! rtpopuspay pt=96";
  GstHarness *h = gst_harness_new_parse (desc.c_str ());
  gst_harness_play (h);
  RtpStream out;
  for (int i = 0; i < count; i++) {
    GstBuffer *buf = gst_harness_pull (h);
    fail_unless (buf != nullptr, "the RTP generator stopped after %d packets", i);
    out.packets.push_back (vc::adopt (buf));
  }
  out.caps = vc::adopt (gst_pad_get_current_caps (h->sinkpad));
  gst_harness_teardown (h);
  return out;
}

guint16
rtp_seqnum (GstBuffer *buf)
{
  guint8 header[4];
  gst_buffer_extract (buf, 0, header, sizeof header);
  return GST_READ_UINT16_BE (header + 2);
}

/* A voiceplaybackbin with `playout` (fixed: rtpopusdepay ! opusdec, which these tests of
 * the opusdec chain push into faster than real time). */
GstPtr<GstElement>
new_playback (const char *playout = "fixed")
{
  GstElement *e = gst_element_factory_make ("voiceplaybackbin", nullptr);
  fail_unless (e != nullptr, "voiceplaybackbin is not registered");
  if (playout)
    gst_util_set_object_arg (G_OBJECT (e), "playout", playout);
  return vc::ref_sink (e);
}

GstPtr<GstElement>
child (GstElement *bin, const char *name)
{
  GstPtr<GstElement> e = vc::adopt (gst_bin_get_by_name (GST_BIN (bin), name));
  fail_unless (e.get () != nullptr, "no child \"%s\"", name);
  return e;
}

gboolean
get_bool (GstElement *e, const char *name)
{
  gboolean v = FALSE;
  g_object_get (e, name, &v, nullptr);
  return v;
}

/* What came out of a voiceplaybackbin whose sink is an appsink. */
struct Output {
  std::vector<float> samples; /* mono */
  GstClockTime largest_hole = 0; /* between one buffer's end and the next one's start */
  guint64 plc_samples = 0;       /* opusdec's count of concealed samples */
};

/* Pushes `stream` into a voiceplaybackbin (sink=appsink) in a harness, except packets
 * [lost_from, lost_from + lost_count), for which it sends what rtpjitterbuffer's do-lost
 * sends (webrtcbin's path): a GstRTPPacketLost event per packet. */
Output
play_with_loss (const RtpStream &stream, int lost_from, int lost_count, gboolean plc)
{
  auto playback = new_playback ();
  GstElement *sink = gst_element_factory_make ("appsink", "out");
  g_object_set (sink, "sync", FALSE, "async", FALSE, "wait-on-eos", FALSE, nullptr);
  vc::GstPtr<GstCaps> mono = vc::adopt (gst_caps_from_string (
      "audio/x-raw, format=S16LE, rate=48000, channels=1"));
  g_object_set (sink, "caps", mono.get (), nullptr);
  g_object_set (playback.get (), "sink", sink, "plc", plc, nullptr);
  auto decoder = child (playback.get (), "decoder");

  GstHarness *h = gst_harness_new_with_element (playback.get (), "sink", nullptr);
  gst_harness_set_src_caps (h, gst_caps_ref (stream.caps.get ()));
  gst_harness_play (h);
  for (int i = 0; i < static_cast<int> (stream.packets.size ()); i++) {
    GstBuffer *buf = stream.packets[i].get ();
    if (i >= lost_from && i < lost_from + lost_count) {
      GstStructure *s = gst_structure_new ("GstRTPPacketLost", "seqnum", G_TYPE_UINT,
          static_cast<guint> (rtp_seqnum (buf)), "timestamp", G_TYPE_UINT64, GST_BUFFER_PTS (buf),
          "duration", G_TYPE_UINT64, GST_BUFFER_DURATION (buf), "retry", G_TYPE_UINT, 0u,
          nullptr);
      fail_unless (gst_harness_push_event (h, gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM,
          s)));
      continue;
    }
    GstBuffer *copy = gst_buffer_copy (buf);
    if (i == lost_from + lost_count)
      GST_BUFFER_FLAG_SET (copy, GST_BUFFER_FLAG_DISCONT);
    fail_unless_equals_int (gst_harness_push (h, copy), GST_FLOW_OK);
  }
  fail_unless (gst_harness_push_event (h, gst_event_new_eos ()));

  Output out;
  GstClockTime next = GST_CLOCK_TIME_NONE;
  while (GstSample *s = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 0)) {
    GstPtr<GstSample> sample = vc::adopt (s);
    GstBuffer *buf = gst_sample_get_buffer (s);
    if (GST_CLOCK_TIME_IS_VALID (next) && GST_BUFFER_PTS (buf) > next)
      out.largest_hole = std::max (out.largest_hole, GST_BUFFER_PTS (buf) - next);
    next = GST_BUFFER_PTS (buf) + GST_BUFFER_DURATION (buf);
    GstMapInfo map;
    gst_buffer_map (buf, &map, GST_MAP_READ);
    auto samples = vc::tone::from_s16 (reinterpret_cast<const int16_t *> (map.data),
        map.size / 2, 1);
    out.samples.insert (out.samples.end (), samples.begin (), samples.end ());
    gst_buffer_unmap (buf, &map);
  }
  GstStructure *stats = nullptr;
  g_object_get (decoder.get (), "stats", &stats, nullptr);
  if (stats) {
    gst_structure_get_uint64 (stats, "plc-num-samples", &out.plc_samples);
    gst_structure_free (stats);
  }
  gst_harness_teardown (h);
  return out;
}

} // namespace

GST_START_TEST (test_sink_caps)
{
  auto playback = new_playback ();
  GstPtr<GstCaps> want = vc::adopt (gst_caps_from_string (OPUS_RTP_CAPS));
  GstPtr<GstPad> pad = vc::adopt (gst_element_get_static_pad (playback.get (), "sink"));
  fail_unless (pad.get () != nullptr);
  GstPtr<GstCaps> templ = vc::adopt (gst_pad_get_pad_template_caps (pad.get ()));
  fail_unless (gst_caps_is_equal (templ.get (), want.get ()), "sink template %" GST_PTR_FORMAT,
      templ.get ());

  /* What the pad accepts: Opus RTP as rtpopuspay makes it, nothing else. */
  RtpStream stream = make_opus_rtp (440, 1);
  fail_unless (gst_pad_query_accept_caps (pad.get (), stream.caps.get ()),
      "rtpopuspay's caps %" GST_PTR_FORMAT " are refused", stream.caps.get ());
  GstPtr<GstCaps> pcmu = vc::adopt (gst_caps_from_string (
      "application/x-rtp, media=audio, encoding-name=PCMU, clock-rate=8000, payload=0"));
  fail_unless (!gst_pad_query_accept_caps (pad.get (), pcmu.get ()));
}
GST_END_TEST;

GST_START_TEST (test_property_defaults)
{
  auto names = vc::test::check_own_properties ("voiceplaybackbin", {"sink"});
  vc::test::expect_properties ("voiceplaybackbin", names, {"sink", "plc", "fec", "playout"});

  auto playback = new_playback (nullptr);
  gint mode = -1;
  g_object_get (playback.get (), "playout", &mode, nullptr);
  GEnumValue *v = g_enum_get_value (G_ENUM_CLASS (g_type_class_peek (
      G_PARAM_SPEC_VALUE_TYPE (g_object_class_find_property (G_OBJECT_GET_CLASS (
          playback.get ()), "playout")))), mode);
  fail_unless (v != nullptr);
  fail_unless_equals_string (v->value_nick, "adaptive");
  auto playout = child (playback.get (), "playout");
  GstPtr<GstElement> decoder = vc::adopt (gst_bin_get_by_name (GST_BIN (playback.get ()),
      "decoder"));
  fail_unless (decoder.get () == nullptr);
  fail_unless (get_bool (playback.get (), "plc"));
  fail_unless (get_bool (playback.get (), "fec"));
  GstPtr<GstElement> sink;
  g_object_get (playback.get (), "sink", sink.out (), nullptr);
  fail_unless (sink.get () != nullptr);
  fail_unless_equals_string (GST_OBJECT_NAME (gst_element_get_factory (sink.get ())),
      "autoaudiosink");
  fail_unless (GST_OBJECT_PARENT (sink.get ()) == GST_OBJECT (playback.get ()));
}
GST_END_TEST;

/* plc and fec are opusdec's plc and use-inband-fec. */
GST_START_TEST (test_plc_fec_reach_opusdec)
{
  auto playback = new_playback ();
  auto decoder = child (playback.get (), "decoder");
  fail_unless (get_bool (decoder.get (), "plc"));
  fail_unless (get_bool (decoder.get (), "use-inband-fec"));
  for (gboolean plc : {gboolean (FALSE), gboolean (TRUE)}) {
    for (gboolean fec : {gboolean (FALSE), gboolean (TRUE)}) {
      g_object_set (playback.get (), "plc", plc, "fec", fec, nullptr);
      fail_unless_equals_int (get_bool (playback.get (), "plc"), plc);
      fail_unless_equals_int (get_bool (playback.get (), "fec"), fec);
      fail_unless_equals_int (get_bool (decoder.get (), "plc"), plc);
      fail_unless_equals_int (get_bool (decoder.get (), "use-inband-fec"), fec);
    }
  }
}
GST_END_TEST;

/* playout=fixed and back: the head is rebuilt (the sink pad leads to it), fec carried over. */
GST_START_TEST (test_playout_switch)
{
  auto playback = new_playback ("adaptive");
  g_object_set (playback.get (), "fec", FALSE, nullptr);
  fail_if (get_bool (child (playback.get (), "playout").get (), "fec"));
  gst_util_set_object_arg (G_OBJECT (playback.get ()), "playout", "fixed");
  auto decoder = child (playback.get (), "decoder");
  fail_if (get_bool (decoder.get (), "use-inband-fec"));
  GstPtr<GstElement> gone = vc::adopt (gst_bin_get_by_name (GST_BIN (playback.get ()),
      "playout"));
  fail_unless (gone.get () == nullptr, "voiceplayout is still in the bin");
  gst_util_set_object_arg (G_OBJECT (playback.get ()), "playout", "adaptive");
  auto playout = child (playback.get (), "playout");
  fail_if (get_bool (playout.get (), "fec"));
  gone = vc::adopt (gst_bin_get_by_name (GST_BIN (playback.get ()), "decoder"));
  fail_unless (gone.get () == nullptr, "opusdec is still in the bin");
  GstPtr<GstPad> ghost = vc::adopt (gst_element_get_static_pad (playback.get (), "sink"));
  GstPtr<GstPad> target = vc::adopt (gst_ghost_pad_get_target (GST_GHOST_PAD (ghost.get ())));
  fail_unless (target.get () != nullptr && GST_PAD_PARENT (target.get ()) ==
      GST_ELEMENT (playout.get ()), "the sink pad does not lead to voiceplayout");
  GstPtr<GstPad> src = vc::adopt (gst_element_get_static_pad (playout.get (), "src"));
  fail_unless (gst_pad_is_linked (src.get ()));
}
GST_END_TEST;

/* A sink element replaces the speakers; none is refused. */
GST_START_TEST (test_sink_replaced)
{
  auto playback = new_playback ();
  GstElement *fake = gst_element_factory_make ("fakesink", "quiet");
  g_object_set (playback.get (), "sink", fake, nullptr);
  GstPtr<GstElement> got;
  g_object_get (playback.get (), "sink", got.out (), nullptr);
  fail_unless (got.get () == fake);
  fail_unless (GST_OBJECT_PARENT (fake) == GST_OBJECT (playback.get ()));
  GstPtr<GstElement> old = vc::adopt (gst_bin_get_by_name (GST_BIN (playback.get ()), "sink"));
  fail_unless (old.get () == nullptr, "the replaced speakers are still in the bin");
  ASSERT_WARNING (g_object_set (playback.get (), "sink", nullptr, nullptr));
  g_object_get (playback.get (), "sink", got.out (), nullptr);
  fail_unless (got.get () == fake);
}
GST_END_TEST;

/* sink="wavenc ! filesink location=…", as from gst-launch, writes a WAV of what came in. */
GST_START_TEST (test_wav_sink_from_description)
{
  const int packets = 100; /* 2 s */
  RtpStream stream = make_opus_rtp (440, packets);

  gchar *path = nullptr;
  gint fd = g_file_open_tmp ("vc-playback-XXXXXX.wav", &path, nullptr);
  fail_unless (fd >= 0);
  close (fd);
  vc::GUnique<gchar> caps_text (gst_caps_to_string (stream.caps.get ()));
  std::string desc = std::string ("appsrc name=in format=time caps=\"") + caps_text.get () +
      "\" ! voiceplaybackbin name=playback playout=fixed sink=\"wavenc ! filesink location=" + path + "\"";
  GError *err = nullptr;
  GstElement *p = gst_parse_launch (desc.c_str (), &err);
  fail_unless (p != nullptr && err == nullptr, "%s: %s", desc.c_str (), err ? err->message : "");
  GstPtr<GstElement> pipeline = vc::ref_sink (p);

  auto playback = child (pipeline.get (), "playback");
  GstPtr<GstElement> sink;
  g_object_get (playback.get (), "sink", sink.out (), nullptr);
  fail_unless (GST_IS_BIN (sink.get ()), "sink is not the described bin");

  auto src = child (pipeline.get (), "in");
  fail_unless (gst_element_set_state (pipeline.get (), GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  for (auto &b : stream.packets)
    fail_unless_equals_int (gst_app_src_push_buffer (GST_APP_SRC (src.get ()),
        gst_buffer_ref (b.get ())), GST_FLOW_OK);
  gst_app_src_end_of_stream (GST_APP_SRC (src.get ()));

  GstPtr<GstBus> bus = vc::adopt (gst_element_get_bus (pipeline.get ()));
  GstPtr<GstMessage> msg = vc::adopt (gst_bus_timed_pop_filtered (bus.get (), 10 * GST_SECOND,
      static_cast<GstMessageType> (GST_MESSAGE_EOS | GST_MESSAGE_ERROR)));
  fail_unless (msg.get () != nullptr, "no EOS within 10 s");
  fail_unless (GST_MESSAGE_TYPE (msg.get ()) == GST_MESSAGE_EOS, "error: %" GST_PTR_FORMAT,
      msg.get ());
  gst_element_set_state (pipeline.get (), GST_STATE_NULL);

  std::vector<float> samples;
  int rate = 0;
  std::string error;
  fail_unless (vc::tone::read_wav (path, &samples, &rate, &error), "%s: %s", path,
      error.c_str ());
  g_unlink (path);
  double hz = vc::tone::dominant_frequency (samples, rate);
  g_print ("WAV sink: %zu samples at %d Hz (pushed %d), %.1f Hz (sent 440 Hz)\n",
      samples.size (), rate, packets * FRAME, hz);
  fail_unless_equals_int (rate, 48000);
  /* Within a packet: with fec, opusdec decodes one packet late and drops the last. */
  fail_unless (std::abs (static_cast<int> (samples.size ()) - packets * FRAME) <= FRAME,
      "%zu samples in the WAV, %d pushed", samples.size (), packets * FRAME);
  fail_unless (std::fabs (hz - 440) < 440 * 0.02, "the WAV holds %.1f Hz, expected 440 Hz", hz);
  g_free (path);
}
GST_END_TEST;

/* Five packets (100 ms) lost in the middle: with plc the output has no hole (as many samples
 * out as without the loss) and opusdec counts the concealed samples; without plc a hole
 * remains (this proves the measurement sees one). The reference is the same stream without
 * loss: with fec, opusdec decodes one packet late and the last one never comes out. */
GST_START_TEST (test_loss_concealment)
{
  const int packets = 150, lost_from = 60, lost = 5;
  RtpStream stream = make_opus_rtp (440, packets);

  Output none = play_with_loss (stream, packets, 0, TRUE);
  Output with = play_with_loss (stream, lost_from, lost, TRUE);
  Output without = play_with_loss (stream, lost_from, lost, FALSE);
  const long ref = static_cast<long> (none.samples.size ());
  g_print ("loss of %d x 20 ms in %d packets: no loss: %ld samples; plc on: %zu samples, "
      "largest hole %.1f ms, plc-num-samples %" G_GUINT64_FORMAT "; plc off: %zu samples, "
      "largest hole %.1f ms\n", lost, packets, ref, with.samples.size (),
      with.largest_hole / 1e6, with.plc_samples, without.samples.size (),
      without.largest_hole / 1e6);

  fail_unless (std::labs (ref - static_cast<long> (packets) * FRAME) <= FRAME,
      "without loss %ld samples came out of %d packets", ref, packets);
  fail_unless (std::labs (static_cast<long> (with.samples.size ()) - ref) < FRAME / 4,
      "with plc, %zu samples came out instead of %ld: the loss left a hole",
      with.samples.size (), ref);
  fail_unless (with.largest_hole < GST_MSECOND, "with plc, a %.1f ms hole in the timestamps",
      with.largest_hole / 1e6);
  fail_unless (with.plc_samples >= static_cast<guint64> (lost) * FRAME,
      "opusdec concealed only %" G_GUINT64_FORMAT " samples", with.plc_samples);
  double hz = vc::tone::dominant_frequency (with.samples, 48000);
  fail_unless (std::fabs (hz - 440) < 440 * 0.02, "concealed output is %.1f Hz", hz);

  fail_unless (static_cast<long> (without.samples.size ()) <= ref - (lost - 1) * FRAME,
      "without plc, %zu samples came out instead of %ld: the hole was not measured",
      without.samples.size (), ref);
  fail_unless (without.largest_hole >= static_cast<GstClockTime> (lost - 1) * 20 * GST_MSECOND);
  fail_unless_equals_uint64 (without.plc_samples, 0);
}
GST_END_TEST;

/* A sink that cannot be linked (set from a description, before the bin has a bus): starting
 * fails with an ERROR from voiceplaybackbin that says what to set. */
GST_START_TEST (test_unlinkable_sink)
{
  GError *err = nullptr;
  GstElement *p = gst_parse_launch ("appsrc caps=\"application/x-rtp, media=audio, encoding-name=OPUS, clock-rate=48000\" ! voiceplaybackbin sink=\"audiotestsrc\"", &err);
  fail_unless (p != nullptr && err == nullptr, "%s", err ? err->message : "");
  GstPtr<GstElement> pipeline = vc::ref_sink (p);
  fail_unless_equals_int (gst_element_set_state (pipeline.get (), GST_STATE_PLAYING),
      GST_STATE_CHANGE_FAILURE);
  GstPtr<GstBus> bus = vc::adopt (gst_element_get_bus (pipeline.get ()));
  GstPtr<GstMessage> msg = vc::adopt (gst_bus_pop_filtered (bus.get (), GST_MESSAGE_ERROR));
  gst_element_set_state (pipeline.get (), GST_STATE_NULL);
  fail_unless (msg.get () != nullptr, "no ERROR for an unlinkable sink");
  GError *e = nullptr;
  gst_message_parse_error (msg.get (), &e, nullptr);
  std::string text = e ? e->message : "";
  g_clear_error (&e);
  g_print ("unlinkable sink: \"%s\" from %s\n", text.c_str (), GST_MESSAGE_SRC_NAME (msg.get ()));
  fail_unless (g_str_has_prefix (GST_MESSAGE_SRC_NAME (msg.get ()), "voiceplaybackbin"),
      "the error comes from %s", GST_MESSAGE_SRC_NAME (msg.get ()));
  fail_unless (text.find ("set sink=") != std::string::npos, "\"%s\" does not say to set sink=",
      text.c_str ());
}
GST_END_TEST;

/* A call that ends right after its first packet (a Janus room destroyed as we joined): with
 * FEC, opusdec still holds that packet at EOS and GstAudioDecoder calls it "No valid frames
 * decoded before end of stream". The stream ends, not in an error. */
GST_START_TEST (test_one_packet_then_eos)
{
  RtpStream stream = make_opus_rtp (440, 1);
  GstPtr<GstElement> pipeline = vc::ref_sink (gst_parse_launch (
      "appsrc name=src format=time ! voiceplaybackbin name=playback fec=true plc=true "
      "sink=\"fakesink sync=false\"", nullptr));
  fail_unless (pipeline.get () != nullptr);
  GstPtr<GstElement> src = vc::adopt (gst_bin_get_by_name (GST_BIN (pipeline.get ()), "src"));
  g_object_set (src.get (), "caps", stream.caps.get (), nullptr);
  fail_unless (gst_element_set_state (pipeline.get (), GST_STATE_PLAYING) !=
      GST_STATE_CHANGE_FAILURE);
  fail_unless_equals_int (gst_app_src_push_buffer (GST_APP_SRC (src.get ()),
      gst_buffer_copy (stream.packets[0].get ())), GST_FLOW_OK);
  fail_unless_equals_int (gst_app_src_end_of_stream (GST_APP_SRC (src.get ())), GST_FLOW_OK);
  GstPtr<GstBus> bus = vc::adopt (gst_element_get_bus (pipeline.get ()));
  GstPtr<GstMessage> msg = vc::adopt (gst_bus_timed_pop_filtered (bus.get (), 5 * GST_SECOND,
      static_cast<GstMessageType> (GST_MESSAGE_EOS | GST_MESSAGE_ERROR)));
  fail_unless (msg.get () != nullptr, "neither EOS nor an error within 5 s");
  if (GST_MESSAGE_TYPE (msg.get ()) == GST_MESSAGE_ERROR) {
    GError *error = nullptr;
    gst_message_parse_error (msg.get (), &error, nullptr);
    std::string text = error->message;
    g_error_free (error);
    fail ("error from %s: %s", GST_OBJECT_NAME (GST_MESSAGE_SRC (msg.get ())), text.c_str ());
  }
  gst_element_set_state (pipeline.get (), GST_STATE_NULL);
}
GST_END_TEST;

static Suite *
playbackbin_suite (void)
{
  Suite *s = suite_create ("playbackbin");
  TCase *props = tcase_create ("properties");
  tcase_add_test (props, test_sink_caps);
  tcase_add_test (props, test_property_defaults);
  tcase_add_test (props, test_plc_fec_reach_opusdec);
  tcase_add_test (props, test_playout_switch);
  tcase_add_test (props, test_sink_replaced);
  tcase_add_test (props, test_unlinkable_sink);
  suite_add_tcase (s, props);

  TCase *stream = tcase_create ("stream");
  tcase_set_timeout (stream, 60);
  tcase_add_test (stream, test_wav_sink_from_description);
  tcase_add_test (stream, test_loss_concealment);
  tcase_add_test (stream, test_one_packet_then_eos);
  suite_add_tcase (s, stream);
  return s;
}

GST_CHECK_MAIN (playbackbin);
