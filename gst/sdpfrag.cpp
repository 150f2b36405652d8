/* gst-voicecall: RFC 8840 SDP fragments (see sdpfrag.h). */
#include "sdpfrag.h"

#include <gst/sdp/sdp.h>

#include <cstring>
#include <memory>

namespace vc::sdpfrag {

/* Every line "x=...": GstSDPMessage skips what it does not understand, and a body of
 * garbage must be refused, not read as an empty fragment. */
static bool
check_lines (const char *text, gsize len, std::string *error)
{
  if (memchr (text, '\0', len)) {
    *error = "the fragment contains a NUL byte";
    return false;
  }
  guint line = 1;
  gsize start = 0;
  while (start < len) {
    const char *nl = static_cast<const char *> (memchr (text + start, '\n', len - start));
    gsize end = nl ? static_cast<gsize> (nl - text) : len;
    gsize l = end - start;
    if (l > 0 && text[end - 1] == '\r')
      l--;
    if (l > 0 && (l < 2 || !g_ascii_isalpha (text[start]) || text[start + 1] != '=')) {
      *error = "line " + std::to_string (line) + " is not an SDP line of the form \"x=...\"";
      return false;
    }
    start = end + 1;
    line++;
  }
  return true;
}

static void
add_attribute (Frag *out, Media *media, const GstSDPAttribute *a)
{
  if (g_strcmp0 (a->key, "ice-ufrag") == 0 && a->value) {
    if (out->ufrag.empty ())
      out->ufrag = a->value;
  } else if (g_strcmp0 (a->key, "ice-pwd") == 0 && a->value) {
    if (out->pwd.empty ())
      out->pwd = a->value;
  } else if (g_strcmp0 (a->key, "mid") == 0 && a->value && media) {
    media->mid = a->value;
  } else if (g_strcmp0 (a->key, "candidate") == 0 && a->value && *a->value && media) {
    media->candidates.push_back (std::string ("candidate:") + a->value);
  } else if (g_strcmp0 (a->key, "end-of-candidates") == 0 && media) {
    media->end_of_candidates = true;
  }
}

bool
parse (const char *text, gsize len, Frag *out, std::string *error)
{
  *out = Frag ();
  if (!text || len == 0) {
    *error = "the fragment is empty";
    return false;
  }
  if (!check_lines (text, len, error))
    return false;

  GstSDPMessage *raw = nullptr;
  gst_sdp_message_new (&raw);
  std::unique_ptr<GstSDPMessage, decltype (&gst_sdp_message_free)> msg (raw,
      gst_sdp_message_free);
  if (gst_sdp_message_parse_buffer (reinterpret_cast<const guint8 *> (text),
          static_cast<guint> (len), msg.get ()) != GST_SDP_OK) {
    *error = "the fragment could not be parsed as SDP lines";
    return false;
  }

  /* Session-level candidates are not in RFC 8840, but some clients send them. */
  Media session_media;
  for (guint i = 0; i < gst_sdp_message_attributes_len (msg.get ()); i++)
    add_attribute (out, &session_media, gst_sdp_message_get_attribute (msg.get (), i));
  if (!session_media.candidates.empty () || session_media.end_of_candidates)
    out->media.push_back (session_media);

  for (guint i = 0; i < gst_sdp_message_medias_len (msg.get ()); i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media (msg.get (), i);
    Media media;
    for (guint j = 0; j < gst_sdp_media_attributes_len (m); j++)
      add_attribute (out, &media, gst_sdp_media_get_attribute (m, j));
    out->media.push_back (media);
  }

  bool any = !out->ufrag.empty ();
  for (const Media &m : out->media)
    any = any || !m.candidates.empty () || m.end_of_candidates;
  if (!any) {
    *error = "the fragment has no a=ice-ufrag, a=candidate or a=end-of-candidates line";
    return false;
  }
  if (out->ufrag.empty () != out->pwd.empty ()) {
    *error = "the fragment has only one of a=ice-ufrag and a=ice-pwd";
    return false;
  }
  return true;
}

std::string
build (const Frag &frag)
{
  std::string s;
  if (!frag.ufrag.empty ())
    s += "a=ice-ufrag:" + frag.ufrag + "\r\n";
  if (!frag.pwd.empty ())
    s += "a=ice-pwd:" + frag.pwd + "\r\n";
  for (const Media &m : frag.media) {
    s += "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\n";
    if (!m.mid.empty ())
      s += "a=mid:" + m.mid + "\r\n";
    for (const std::string &c : m.candidates) {
      const char *v = c.c_str ();
      if (g_str_has_prefix (v, "a="))
        v += 2;
      s += std::string ("a=") + (g_str_has_prefix (v, "candidate:") ? "" : "candidate:") + v +
          "\r\n";
    }
    if (m.end_of_candidates)
      s += "a=end-of-candidates\r\n";
  }
  return s;
}

} // namespace vc::sdpfrag
