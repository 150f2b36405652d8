/* gst-voicecall: ICE server URLs and their WHIP "Link" header form (see iceservers.h). */
#include "iceservers.h"

#include <glib.h>
#include <libsoup/soup.h>

#include <cstring>

namespace vc::iceserver {

static bool
known_scheme (const std::string &s)
{
  return s == "stun" || s == "stuns" || s == "turn" || s == "turns";
}

/* Characters that may appear in a host, a query or a credential we write into a header. */
static bool
header_safe (const std::string &s)
{
  for (unsigned char c : s) {
    if (c <= 0x20 || c == 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' ||
        c == ',' || c == ';')
      return false;
  }
  return true;
}

/* Credentials may hold anything printable; they are quoted or percent-encoded when written. */
static bool
credentials_safe (const Server &s)
{
  for (const std::string *v : {&s.username, &s.credential}) {
    for (unsigned char c : *v) {
      if (c < 0x20 || c == 0x7f)
        return false;
    }
  }
  return true;
}

/* Percent-decodes `s`; false if it is not valid percent-encoding ("%4x", "%00"). */
static bool
unescape (const std::string &s, std::string *out)
{
  gchar *u = g_uri_unescape_string (s.c_str (), nullptr);
  if (!u)
    return false;
  *out = u;
  g_free (u);
  return true;
}

/* "host", "host:port", "[v6]", "[v6]:port" */
static bool
parse_hostport (const std::string &hp, Server *out, std::string *error)
{
  std::string host = hp, port;
  if (!hp.empty () && hp[0] == '[') {
    size_t close = hp.find (']');
    if (close == std::string::npos) {
      *error = "unterminated IPv6 address";
      return false;
    }
    host = hp.substr (1, close - 1);
    std::string rest = hp.substr (close + 1);
    if (!rest.empty ()) {
      if (rest[0] != ':') {
        *error = "garbage after the IPv6 address";
        return false;
      }
      port = rest.substr (1);
    }
  } else {
    size_t colon = hp.rfind (':');
    if (colon != std::string::npos) {
      host = hp.substr (0, colon);
      port = hp.substr (colon + 1);
    }
  }
  if (host.empty ()) {
    *error = "no host";
    return false;
  }
  /* A host name or IPv4 address of letters, digits, "-", ".", "_" and "~" (RFC 3986
   * unreserved), or an IPv6 address in brackets: anything else could not be written back
   * as a URL that reads the same. */
  bool bracketed = hp[0] == '[';
  auto reg_name = [] (const std::string &h) {
    for (unsigned char c : h) {
      if (!g_ascii_isalnum (c) && c != '-' && c != '.' && c != '_' && c != '~')
        return false;
    }
    return true;
  };
  if (bracketed ? !g_hostname_is_ip_address (host.c_str ()) || host.find (':') == std::string::npos
                : !reg_name (host)) {
    *error = "\"" + host + "\" is not a host name or an IPv4 or bracketed IPv6 address";
    return false;
  }
  if (!port.empty ()) {
    guint64 p = 0;
    if (!g_ascii_string_to_unsigned (port.c_str (), 10, 1, 65535, &p, nullptr)) {
      *error = "bad port \"" + port + "\"";
      return false;
    }
    out->port = static_cast<int> (p);
  }
  out->host = host;
  return true;
}

bool
parse (const char *url, Server *out, std::string *error)
{
  *out = Server ();
  if (!url || !*url) {
    *error = "empty ICE server URL";
    return false;
  }
  std::string s (url);
  size_t colon = s.find (':');
  if (colon == std::string::npos) {
    *error = "\"" + s + "\" has no scheme (stun:, turn:, turns:)";
    return false;
  }
  out->scheme = s.substr (0, colon);
  for (char &c : out->scheme)
    c = g_ascii_tolower (c);
  if (!known_scheme (out->scheme)) {
    *error = "\"" + s + "\" is not a stun:, stuns:, turn: or turns: URL";
    return false;
  }
  std::string rest = s.substr (colon + 1);
  if (rest.compare (0, 2, "//") == 0)
    rest = rest.substr (2);
  size_t q = rest.find ('?');
  if (q != std::string::npos) {
    out->query = rest.substr (q + 1);
    rest = rest.substr (0, q);
  }
  size_t at = rest.rfind ('@');
  if (at != std::string::npos) {
    std::string userinfo = rest.substr (0, at);
    rest = rest.substr (at + 1);
    size_t c = userinfo.find (':');
    /* A credential that does not decode is refused, not dropped: the server would be used
     * without it. */
    if (!unescape (userinfo.substr (0, c), &out->username) ||
        (c != std::string::npos && !unescape (userinfo.substr (c + 1), &out->credential))) {
      *error = "\"" + s + "\" has a malformed percent-encoding in its credentials";
      return false;
    }
    if (out->username.empty () && !out->credential.empty ()) {
      *error = "\"" + s + "\" has a credential but no username";
      return false;
    }
  }
  if (!rest.empty () && rest.back () == '/')
    rest.pop_back ();
  if (!parse_hostport (rest, out, error)) {
    *error = "\"" + s + "\": " + *error;
    return false;
  }
  if (!header_safe (out->host) || !header_safe (out->query)) {
    *error = "\"" + s + "\" contains characters not allowed in a URL";
    return false;
  }
  if (!credentials_safe (*out)) {
    *error = "\"" + s + "\" has a control character in its credentials";
    return false;
  }
  return true;
}

static std::string
host_port (const Server &s)
{
  std::string h = s.host.find (':') != std::string::npos ? "[" + s.host + "]" : s.host;
  if (s.port > 0)
    h += ":" + std::to_string (s.port);
  return h;
}

std::string
to_uri (const Server &s)
{
  std::string u = s.scheme + ":" + host_port (s);
  if (!s.query.empty ())
    u += "?" + s.query;
  return u;
}

/* A quoted-string (RFC 9110 §5.6.4). */
static std::string
quote (const std::string &v)
{
  std::string q = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\')
      q += '\\';
    q += c;
  }
  return q + "\"";
}

std::string
to_link (const Server &s, bool with_credentials)
{
  std::string l = "<" + to_uri (s) + ">; rel=\"ice-server\"";
  bool turn = s.scheme == "turn" || s.scheme == "turns";
  if (with_credentials && turn && !s.username.empty ()) {
    l += "; username=" + quote (s.username);
    l += "; credential=" + quote (s.credential);
    l += "; credential-type=\"password\"";
  }
  return l;
}

std::vector<Server>
from_link_header (const char *value)
{
  std::vector<Server> out;
  if (!value)
    return out;
  GSList *items = soup_header_parse_list (value);
  for (GSList *l = items; l; l = l->next) {
    const char *item = static_cast<const char *> (l->data);
    while (g_ascii_isspace (*item))
      item++;
    if (*item != '<')
      continue;
    const char *close = strchr (item, '>');
    if (!close)
      continue;
    std::string uri (item + 1, close - item - 1);
    const char *params = strchr (close, ';');
    if (!params)
      continue;
    GHashTable *p = soup_header_parse_semi_param_list (params + 1);
    const char *rel = static_cast<const char *> (g_hash_table_lookup (p, "rel"));
    bool ice = false;
    if (rel) {
      /* rel may hold several space-separated relation types */
      gchar **rels = g_strsplit (rel, " ", -1);
      for (gchar **r = rels; *r; r++)
        ice = ice || g_ascii_strcasecmp (*r, "ice-server") == 0;
      g_strfreev (rels);
    }
    Server s;
    std::string error;
    if (ice && parse (uri.c_str (), &s, &error)) {
      auto param = [p] (const char *name) {
        const char *v = static_cast<const char *> (g_hash_table_lookup (p, name));
        return std::string (v ? v : "");
      };
      if (s.username.empty ()) {
        s.username = param ("username");
        s.credential = param ("credential");
      }
      if (credentials_safe (s))
        out.push_back (s);
    }
    soup_header_free_param_list (p);
  }
  soup_header_free_list (items);
  return out;
}

std::string
to_webrtcbin (const Server &s)
{
  std::string u = s.scheme + "://";
  if (!s.username.empty ()) {
    gchar *user = g_uri_escape_string (s.username.c_str (), nullptr, FALSE);
    gchar *cred = g_uri_escape_string (s.credential.c_str (), nullptr, FALSE);
    u += std::string (user) + ":" + cred + "@";
    g_free (user);
    g_free (cred);
  }
  u += host_port (s);
  if (!s.query.empty ())
    u += "?" + s.query;
  return u;
}

} // namespace vc::iceserver
