/* gst-voicecall: SDP helpers on GstSDPMessage (see sdputil.h). */
#include "sdputil.h"

#include <cstring>
#include <initializer_list>

namespace vc::sdp {

GUnique<GstSDPMessage>
parse (const char *text, std::string *error)
{
  if (!text || !*text) {
    if (error)
      *error = "the SDP is empty";
    return nullptr;
  }
  if (strncmp (text, "v=0", 3) != 0) {
    if (error)
      *error = "the SDP does not start with \"v=0\"";
    return nullptr;
  }
  GstSDPMessage *msg = nullptr;
  gst_sdp_message_new (&msg);
  GUnique<GstSDPMessage> owned (msg);
  if (gst_sdp_message_parse_buffer (reinterpret_cast<const guint8 *> (text), strlen (text),
          msg) != GST_SDP_OK) {
    if (error)
      *error = "the SDP could not be parsed";
    return nullptr;
  }
  if (gst_sdp_message_medias_len (msg) == 0) {
    if (error)
      *error = "the SDP has no media section (m=)";
    return nullptr;
  }
  for (guint i = 0; i < gst_sdp_message_medias_len (msg); i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media (msg, i);
    if (!gst_sdp_media_get_media (m) || gst_sdp_media_formats_len (m) == 0) {
      if (error)
        *error = "media section " + std::to_string (i) + " has no media type or no format";
      return nullptr;
    }
  }
  return owned;
}

int
first_audio_media (const GstSDPMessage *msg)
{
  for (guint i = 0; i < gst_sdp_message_medias_len (msg); i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media (msg, i);
    if (g_strcmp0 (gst_sdp_media_get_media (m), "audio") == 0 && gst_sdp_media_get_port (m) != 0)
      return static_cast<int> (i);
  }
  return -1;
}

int
opus_payload (const GstSDPMessage *msg, guint index)
{
  if (index >= gst_sdp_message_medias_len (msg))
    return -1;
  const GstSDPMedia *m = gst_sdp_message_get_media (msg, index);
  for (guint i = 0; i < gst_sdp_media_attributes_len (m); i++) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute (m, i);
    if (g_strcmp0 (a->key, "rtpmap") != 0 || !a->value)
      continue;
    int pt = -1;
    char name[64] = {0};
    if (sscanf (a->value, "%d %63[^/]/48000", &pt, name) == 2 && g_ascii_strcasecmp (name, "opus") == 0)
      return pt;
  }
  return -1;
}

std::vector<std::pair<int, int>>
telephone_events (const GstSDPMessage *msg, guint index)
{
  std::vector<std::pair<int, int>> events;
  if (index >= gst_sdp_message_medias_len (msg))
    return events;
  const GstSDPMedia *m = gst_sdp_message_get_media (msg, index);
  for (guint i = 0; i < gst_sdp_media_attributes_len (m); i++) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute (m, i);
    if (g_strcmp0 (a->key, "rtpmap") != 0 || !a->value)
      continue;
    int pt = -1, rate = 0;
    char name[64] = {0};
    if (sscanf (a->value, "%d %63[^/]/%d", &pt, name, &rate) == 3 &&
        g_ascii_strcasecmp (name, "telephone-event") == 0 && pt >= 0 && pt < 128 && rate > 0)
      events.emplace_back (pt, rate);
  }
  return events;
}

void
add_telephone_events (GstSDPMessage *msg, guint index,
    const std::vector<std::pair<int, int>> &events)
{
  if (index >= gst_sdp_message_medias_len (msg))
    return;
  GstSDPMedia *m = &g_array_index (msg->medias, GstSDPMedia, index);
  for (auto [pt, rate] : events) {
    std::string fmt = std::to_string (pt);
    bool taken = false; /* by a telephone-event already, or by another codec */
    for (guint i = 0; i < gst_sdp_media_formats_len (m); i++)
      taken = taken || fmt == gst_sdp_media_get_format (m, i);
    if (taken)
      continue;
    gst_sdp_media_add_format (m, fmt.c_str ());
    gst_sdp_media_add_attribute (m, "rtpmap",
        (fmt + " telephone-event/" + std::to_string (rate)).c_str ());
    gst_sdp_media_add_attribute (m, "fmtp", (fmt + " 0-15").c_str ());
  }
}

void
set_ssrc (GstSDPMessage *msg, guint index, guint32 ssrc, const std::string &cname)
{
  if (index >= gst_sdp_message_medias_len (msg))
    return;
  GstSDPMedia *m = &g_array_index (msg->medias, GstSDPMedia, index);
  for (guint i = gst_sdp_media_attributes_len (m); i-- > 0;) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute (m, i);
    if (!g_strcmp0 (a->key, "ssrc") || !g_strcmp0 (a->key, "ssrc-group"))
      gst_sdp_media_remove_attribute (m, i);
  }
  gst_sdp_media_add_attribute (m, "ssrc", (std::to_string (ssrc) + " cname:" + cname).c_str ());
}

GstWebRTCSessionDescription *
copy (const GstWebRTCSessionDescription *desc)
{
  return gst_webrtc_session_description_copy (desc);
}

std::string
to_text (const GstWebRTCSessionDescription *desc)
{
  GUnique<gchar> text (gst_sdp_message_as_text (desc->sdp));
  return text ? text.get () : "";
}

} // namespace vc::sdp

/* ICE candidates */

namespace vc::sdp {

static const char *
attribute_value (const GstSDPMedia *m, const char *key)
{
  return gst_sdp_media_get_attribute_val (m, key);
}

std::string
media_mid (const GstSDPMessage *msg, guint index)
{
  if (index >= gst_sdp_message_medias_len (msg))
    return "";
  const char *mid = attribute_value (gst_sdp_message_get_media (msg, index), "mid");
  return mid ? mid : "";
}

int
media_for_mid (const GstSDPMessage *msg, const std::string &mid)
{
  for (guint i = 0; i < gst_sdp_message_medias_len (msg); i++) {
    if (media_mid (msg, i) == mid)
      return static_cast<int> (i);
  }
  return -1;
}

void
ice_credentials (const GstSDPMessage *msg, guint index, std::string *ufrag, std::string *pwd)
{
  const char *u = nullptr, *p = nullptr;
  if (index < gst_sdp_message_medias_len (msg)) {
    const GstSDPMedia *m = gst_sdp_message_get_media (msg, index);
    u = attribute_value (m, "ice-ufrag");
    p = attribute_value (m, "ice-pwd");
  }
  if (!u)
    u = gst_sdp_message_get_attribute_val (msg, "ice-ufrag");
  if (!p)
    p = gst_sdp_message_get_attribute_val (msg, "ice-pwd");
  *ufrag = u ? u : "";
  *pwd = p ? p : "";
}

static const char *
strip_candidate_prefix (const std::string &candidate)
{
  const char *c = candidate.c_str ();
  if (g_str_has_prefix (c, "a="))
    c += 2;
  if (g_str_has_prefix (c, "candidate:"))
    c += strlen ("candidate:");
  return c;
}

static bool
media_has (const GstSDPMedia *m, const char *key, const char *value)
{
  for (guint i = 0; i < gst_sdp_media_attributes_len (m); i++) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute (m, i);
    if (g_strcmp0 (a->key, key) == 0 && (!value || g_strcmp0 (a->value, value) == 0))
      return true;
  }
  return false;
}

void
add_candidates (GstSDPMessage *msg, const std::vector<Candidate> &candidates,
    bool end_of_candidates)
{
  guint n = gst_sdp_message_medias_len (msg);
  for (const Candidate &c : candidates) {
    if (c.mline >= n)
      continue;
    auto *m = const_cast<GstSDPMedia *> (gst_sdp_message_get_media (msg, c.mline));
    const char *value = strip_candidate_prefix (c.candidate);
    if (!*value || media_has (m, "candidate", value))
      continue;
    gst_sdp_media_add_attribute (m, "candidate", value);
  }
  if (!end_of_candidates)
    return;
  for (guint i = 0; i < n; i++) {
    auto *m = const_cast<GstSDPMedia *> (gst_sdp_message_get_media (msg, i));
    if (!media_has (m, "end-of-candidates", nullptr))
      gst_sdp_media_add_attribute (m, "end-of-candidates", nullptr);
  }
}

static void
media_remove (GstSDPMedia *m, std::initializer_list<const char *> keys)
{
  for (guint i = gst_sdp_media_attributes_len (m); i > 0; i--) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute (m, i - 1);
    for (const char *k : keys) {
      if (g_strcmp0 (a->key, k) == 0) {
        gst_sdp_media_remove_attribute (m, i - 1);
        break;
      }
    }
  }
}

static void
session_remove (GstSDPMessage *msg, std::initializer_list<const char *> keys)
{
  for (guint i = gst_sdp_message_attributes_len (msg); i > 0; i--) {
    const GstSDPAttribute *a = gst_sdp_message_get_attribute (msg, i - 1);
    for (const char *k : keys) {
      if (g_strcmp0 (a->key, k) == 0) {
        gst_sdp_message_remove_attribute (msg, i - 1);
        break;
      }
    }
  }
}

void
remove_candidates (GstSDPMessage *msg)
{
  session_remove (msg, {"candidate", "end-of-candidates"});
  for (guint i = 0; i < gst_sdp_message_medias_len (msg); i++)
    media_remove (const_cast<GstSDPMedia *> (gst_sdp_message_get_media (msg, i)),
        {"candidate", "end-of-candidates"});
}

void
set_ice_credentials (GstSDPMessage *msg, const std::string &ufrag, const std::string &pwd)
{
  session_remove (msg, {"ice-ufrag", "ice-pwd"});
  for (guint i = 0; i < gst_sdp_message_medias_len (msg); i++) {
    auto *m = const_cast<GstSDPMedia *> (gst_sdp_message_get_media (msg, i));
    media_remove (m, {"ice-ufrag", "ice-pwd"});
    gst_sdp_media_add_attribute (m, "ice-ufrag", ufrag.c_str ());
    gst_sdp_media_add_attribute (m, "ice-pwd", pwd.c_str ());
  }
}

GstWebRTCSessionDescription *
with_candidates (const GstWebRTCSessionDescription *desc,
    const std::vector<Candidate> &candidates, bool end_of_candidates)
{
  GstWebRTCSessionDescription *out = gst_webrtc_session_description_copy (desc);
  add_candidates (out->sdp, candidates, end_of_candidates);
  return out;
}

} // namespace vc::sdp
