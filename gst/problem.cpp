/* gst-voicecall: RFC 9457 problem details (see problem.h). */
#include "problem.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include <cstring>
#include <memory>

namespace vc::problem {

constexpr gsize kMaxDescription = 200;

const char *
reason_phrase (guint status)
{
  switch (status) {
    /* libsoup 3.2 knows neither 428/431 nor the RFC 9110 names of 413/422. */
    case 413: return "Content Too Large";
    case 422: return "Unprocessable Content";
    case 428: return "Precondition Required";
    case 431: return "Request Header Fields Too Large";
    default: return soup_status_get_phrase (status);
  }
}

std::string
make (guint status, const std::string &detail)
{
  std::unique_ptr<JsonBuilder, decltype (&g_object_unref)> b (json_builder_new (),
      g_object_unref);
  json_builder_begin_object (b.get ());
  json_builder_set_member_name (b.get (), "type");
  json_builder_add_string_value (b.get (), "about:blank");
  json_builder_set_member_name (b.get (), "title");
  json_builder_add_string_value (b.get (), reason_phrase (status));
  json_builder_set_member_name (b.get (), "status");
  json_builder_add_int_value (b.get (), status);
  if (!detail.empty ()) {
    json_builder_set_member_name (b.get (), "detail");
    json_builder_add_string_value (b.get (), detail.c_str ());
  }
  json_builder_end_object (b.get ());

  JsonNode *root = json_builder_get_root (b.get ());
  gchar *text = json_to_string (root, FALSE);
  json_node_unref (root);
  std::string out (text);
  g_free (text);
  return out;
}

/* Printable, single-line, bounded: the text goes into error messages and logs. */
static std::string
one_line (const char *text, gsize len)
{
  std::string out;
  for (gsize i = 0; i < len && out.size () < kMaxDescription; i++) {
    char c = text[i];
    if (c == '\r' || c == '\n') {
      if (!out.empty ())
        break;
      continue;
    }
    out += (static_cast<unsigned char> (c) < 0x20 || c == 0x7f) ? ' ' : c;
  }
  while (!out.empty () && out.back () == ' ')
    out.pop_back ();
  if (!g_utf8_validate (out.data (), out.size (), nullptr)) {
    gchar *valid = g_utf8_make_valid (out.data (), out.size ());
    out = valid;
    g_free (valid);
  }
  return out;
}

static std::string
from_json (const char *body, gsize len)
{
  std::unique_ptr<JsonParser, decltype (&g_object_unref)> parser (json_parser_new (),
      g_object_unref);
  if (!json_parser_load_from_data (parser.get (), body, static_cast<gssize> (len), nullptr))
    return "";
  JsonNode *root = json_parser_get_root (parser.get ());
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    return "";
  JsonObject *obj = json_node_get_object (root);
  for (const char *member : {"detail", "title", "error", "message"}) {
    JsonNode *n = json_object_get_member (obj, member);
    if (n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING) {
      const char *s = json_node_get_string (n);
      if (s && *s)
        return one_line (s, strlen (s));
    }
  }
  return "";
}

std::string
describe (const char *content_type, const char *body, gsize len)
{
  if (!body || len == 0)
    return "";
  if (content_type && (g_str_has_suffix (content_type, "json") ||
          g_str_has_suffix (content_type, "+json")))
    return from_json (body, len);
  if (content_type && g_str_has_prefix (content_type, "text/") &&
      g_strcmp0 (content_type, "text/html") != 0)
    return one_line (body, len);
  return "";
}

} // namespace vc::problem
