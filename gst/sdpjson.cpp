/* gst-voicecall: the aiortc "/offer" JSON body (see sdpjson.h). */
#include "sdpjson.h"

#include <json-glib/json-glib.h>

#include <memory>

namespace vc::sdpjson {

using ParserPtr = std::unique_ptr<JsonParser, decltype (&g_object_unref)>;

static bool
string_member (JsonObject *obj, const char *name, std::string *out)
{
  JsonNode *n = json_object_get_member (obj, name);
  if (!n || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return false;
  /* json-glib also takes escapes JSON does not have ("\601" is the byte 0x81): what is not
   * UTF-8 is not a string. */
  const char *s = json_node_get_string (n);
  if (!s || !g_utf8_validate (s, -1, nullptr))
    return false;
  *out = s;
  return true;
}

bool
parse (const char *body, gsize len, std::string *type, std::string *sdp, std::string *error)
{
  if (!body || len == 0) {
    *error = "the body is empty";
    return false;
  }
  /* JSON is UTF-8 (RFC 8259 §8.1); json-glib takes invalid bytes inside strings as they are,
   * and an SDP read from them could not be written back as JSON. */
  if (!g_utf8_validate (body, static_cast<gssize> (len), nullptr)) {
    *error = "the body is not valid UTF-8 JSON";
    return false;
  }
  ParserPtr parser (json_parser_new (), g_object_unref);
  GError *err = nullptr;
  if (!json_parser_load_from_data (parser.get (), body, static_cast<gssize> (len), &err)) {
    *error = std::string ("the body is not valid JSON: ") + (err ? err->message : "?");
    g_clear_error (&err);
    return false;
  }
  JsonNode *root = json_parser_get_root (parser.get ());
  if (!root || !JSON_NODE_HOLDS_OBJECT (root)) {
    *error = "the body is not a JSON object";
    return false;
  }
  JsonObject *obj = json_node_get_object (root);
  if (!string_member (obj, "sdp", sdp)) {
    *error = "the JSON object has no \"sdp\" string";
    return false;
  }
  if (!string_member (obj, "type", type)) {
    *error = "the JSON object has no \"type\" string";
    return false;
  }
  return true;
}

std::string
build (const char *type, const std::string &sdp)
{
  std::unique_ptr<JsonBuilder, decltype (&g_object_unref)> b (json_builder_new (),
      g_object_unref);
  json_builder_begin_object (b.get ());
  json_builder_set_member_name (b.get (), "sdp");
  json_builder_add_string_value (b.get (), sdp.c_str ());
  json_builder_set_member_name (b.get (), "type");
  json_builder_add_string_value (b.get (), type);
  json_builder_end_object (b.get ());
  JsonNode *root = json_builder_get_root (b.get ());
  gchar *text = json_to_string (root, FALSE);
  json_node_unref (root);
  std::string out (text);
  g_free (text);
  return out;
}

} // namespace vc::sdpjson
