/* gst-voicecall tests: one party of a call (see party.h). */
#include "party.h"

#include "localsignaller.h"

#include <gst/app/gstappsink.h>

namespace vc::test {

static GstFlowReturn
on_new_sample (GstAppSink *sink, gpointer data)
{
  auto *party = static_cast<Party *> (data);
  GstPtr<GstSample> sample = adopt (gst_app_sink_pull_sample (sink));
  if (!sample)
    return GST_FLOW_EOS;
  GstBuffer *buf = gst_sample_get_buffer (sample.get ());
  GstMapInfo map;
  if (gst_buffer_map (buf, &map, GST_MAP_READ)) {
    auto mono = tone::from_s16 (reinterpret_cast<const int16_t *> (map.data), map.size / 2, 1);
    std::lock_guard<std::mutex> lk (party->lock);
    if (!party->first_audio_us)
      party->first_audio_us = g_get_monotonic_time ();
    party->received.insert (party->received.end (), mono.begin (), mono.end ());
    gst_buffer_unmap (buf, &map);
  }
  return GST_FLOW_OK;
}

Party::Party (const std::string &party_name, int freq, const std::string &call_props)
  : name (party_name)
{
  std::string desc = "voicecapturebin name=capture noise-suppression=false "
      "source=\"audiotestsrc is-live=true wave=sine volume=0.3 freq=" + std::to_string (freq) +
      "\" ! voicecall name=call ice-addresses=127.0.0.1 " + call_props +
      " ! voiceplaybackbin name=playback sink=\"appsink name=out emit-signals=true "
      "sync=false caps=audio/x-raw,format=S16LE,rate=48000,channels=1\"";
  GUnique<GError> err;
  GstElement *p = gst_parse_launch (desc.c_str (), vc::out (err));
  if (!p) {
    g_printerr ("cannot build party %s: %s\n", name.c_str (), err ? err->message : "?");
    return;
  }
  pipeline = ref_sink (p);
  gst_object_set_name (GST_OBJECT (p), name.c_str ());
  call = gst_bin_get_by_name (GST_BIN (p), "call");
  capture = gst_bin_get_by_name (GST_BIN (p), "capture");
  gst_object_unref (call);    /* borrowed: the pipeline owns them */
  gst_object_unref (capture);
  GstElement *out = gst_bin_get_by_name (GST_BIN (p), "out");
  g_signal_connect (out, "new-sample", G_CALLBACK (on_new_sample), this);
  gst_object_unref (out);
}

Party::~Party ()
{
  if (pipeline)
    gst_element_set_state (pipeline.get (), GST_STATE_NULL);
}

void
Party::play ()
{
  playing_us = g_get_monotonic_time ();
  gst_element_set_state (pipeline.get (), GST_STATE_PLAYING);
}

std::string
Party::bus_error ()
{
  GstPtr<GstBus> bus = adopt (gst_element_get_bus (pipeline.get ()));
  while (GstMessage *m = gst_bus_pop_filtered (bus.get (), GST_MESSAGE_ERROR)) {
    GstPtr<GstMessage> msg = adopt (m);
    GError *e = nullptr;
    gst_message_parse_error (m, &e, nullptr);
    GUnique<GError> err (e);
    return name + ": " + (err ? err->message : "error");
  }
  return "";
}

bool
Party::wait_audio (double seconds, double timeout_s, std::string *error)
{
  const gint64 deadline = g_get_monotonic_time () + static_cast<gint64> (timeout_s * 1e6);
  const size_t want = static_cast<size_t> (seconds * 48000);
  while (g_get_monotonic_time () < deadline) {
    {
      std::lock_guard<std::mutex> lk (lock);
      if (received.size () >= want)
        return true;
    }
    std::string e = bus_error ();
    if (!e.empty ()) {
      *error = e;
      return false;
    }
    g_usleep (20000);
  }
  *error = name + ": no " + std::to_string (seconds) + " s of audio within " +
      std::to_string (timeout_s) + " s";
  return false;
}

double
Party::dominant_frequency ()
{
  std::lock_guard<std::mutex> lk (lock);
  return tone::dominant_frequency (received, 48000);
}

void
pair (Party &a, Party &b)
{
  GstVoiceSignaller *sa, *sb;
  gst_voice_local_signaller_new_pair (&sa, &sb);
  g_object_set (a.call, "signaller", sa, nullptr);
  g_object_set (b.call, "signaller", sb, nullptr);
  g_object_unref (sa);
  g_object_unref (sb);
}

static GstBusSyncReply
log_element_message (GstBus *, GstMessage *msg, gpointer data)
{
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT) {
    auto *log = static_cast<MessageLog *> (data);
    std::lock_guard<std::mutex> lk (log->lock);
    log->messages.push_back (vc::ref (msg));
  }
  return GST_BUS_PASS;
}

void
watch_messages (Party &p, MessageLog *log)
{
  GstPtr<GstBus> bus = vc::adopt (gst_element_get_bus (p.pipeline.get ()));
  gst_bus_set_sync_handler (bus.get (), log_element_message, log, nullptr);
}

} // namespace vc::test
