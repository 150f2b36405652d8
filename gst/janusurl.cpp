/* gst-voicecall: what a janus:// URL says (see janusurl.h). */
#include "janusurl.h"

#include <gio/gio.h>

#include <cerrno>
#include <cstdlib>

namespace vc::janus {

static bool
parse_number (const char *text, gint64 min, gint64 max, gint64 *out)
{
  if (!text || !*text)
    return false;
  char *end = nullptr;
  errno = 0;
  long long v = g_ascii_strtoll (text, &end, 10);
  if (errno || *end || v < min || v > max)
    return false;
  *out = v;
  return true;
}

static bool
parse_bool (const char *text, bool *out)
{
  if (!g_ascii_strcasecmp (text, "true") || !strcmp (text, "1") ||
      !g_ascii_strcasecmp (text, "yes")) {
    *out = true;
    return true;
  }
  if (!g_ascii_strcasecmp (text, "false") || !strcmp (text, "0") ||
      !g_ascii_strcasecmp (text, "no")) {
    *out = false;
    return true;
  }
  return false;
}

bool
parse_url (const std::string &url, Target *t, std::string *error)
{
  GError *err = nullptr;
  GUri *uri = g_uri_parse (url.c_str (), G_URI_FLAGS_ENCODED_QUERY, &err);
  if (!uri) {
    *error = "url \"" + url + "\" is not a valid URL: " + err->message;
    g_error_free (err);
    return false;
  }
  bool ok = false;
  std::string scheme = g_uri_get_scheme (uri);
  const char *host = g_uri_get_host (uri);
  const char *query = g_uri_get_query (uri);
  GHashTable *params = nullptr;
  if (scheme != "janus" && scheme != "januss") {
    *error = "url \"" + url + "\" is not a janus:// (or januss://, for https) URL";
  } else if (!host || !*host) {
    *error = "url \"" + url + "\" has no host: janus://HOST:8088/janus?room=1234";
  } else if (query && !(params = g_uri_parse_params (query, -1, "&",
      G_URI_PARAMS_NONE, &err))) {
    *error = "url \"" + url + "\": cannot read its query: " + err->message;
    g_error_free (err);
  } else {
    ok = true;
    std::string h = host;
    if (h.find (':') != std::string::npos)
      h = "[" + h + "]";
    std::string api = std::string (scheme == "januss" ? "https" : "http") + "://" + h;
    if (g_uri_get_port (uri) > 0)
      api += ":" + std::to_string (g_uri_get_port (uri));
    std::string path = g_uri_get_path (uri);
    while (!path.empty () && path.back () == '/')
      path.pop_back ();
    t->api = api + (path.empty () ? "/janus" : path);

    GHashTableIter it;
    gpointer k, v;
    if (params)
      g_hash_table_iter_init (&it, params);
    while (ok && params && g_hash_table_iter_next (&it, &k, &v)) {
      std::string key = static_cast<const char *> (k);
      const char *value = static_cast<const char *> (v);
      gint64 n = 0;
      if (key == "room") {
        ok = parse_number (value, 1, G_MAXINT64, &n);
        if (ok)
          t->room = n;
        else
          *error = "url \"" + url + "\": room must be a positive number (got \"" + value +
              "\")";
      } else if (key == "display") {
        t->display = value;
      } else if (key == "pin") {
        t->pin = value;
      } else if (key == "secret") {
        t->secret = value;
      } else if (key == "token") {
        t->token = value;
      } else if (key == "apisecret") {
        t->apisecret = value;
      } else if (key == "create" || key == "muted") {
        ok = parse_bool (value, key == "create" ? &t->create : &t->muted);
        if (!ok)
          *error = "url \"" + url + "\": " + key + " must be true or false (got \"" + value +
              "\")";
      } else if (key == "bitrate") {
        ok = parse_number (value, 0, 512000, &n);
        if (ok)
          t->bitrate = n;
        else
          *error = "url \"" + url + "\": bitrate must be 0-512000 bit/s (got \"" + value +
              "\")";
      } else if (key == "expected_loss") {
        ok = parse_number (value, 0, 20, &n);
        if (ok)
          t->expected_loss = n;
        else
          *error = "url \"" + url + "\": expected_loss must be 0-20 % (got \"" + value +
              "\")";
      } else {
        /* Unknown names are left alone: a later version may know them. */
      }
    }
    if (ok && t->room == 0) {
      ok = false;
      *error = "url \"" + url + "\" names no room: add ?room=NUMBER (an AudioBridge room)";
    }
  }
  if (params)
    g_hash_table_unref (params);
  g_uri_unref (uri);
  return ok;
}

std::string
describe_error (int code, const std::string &reason)
{
  std::string s = "Janus AudioBridge: " + reason + " (error " + std::to_string (code) + ")";
  switch (code) {
    case 485:
      return s + ": check room= (or add create=true, with the room's secret, to create it)";
    case 483:
      return s + ": add it to the URL (e.g. pin=, the room's PIN)";
    case 489:
      return s + ": check pin= (the room's PIN) or secret=";
    case 490:
    case 491:
      return s + ": this participant is in the room already";
    default:
      return s;
  }
}

} // namespace vc::janus
