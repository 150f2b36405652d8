/* gst-voicecall: small HTTP helpers shared by the HTTP signallers (see httputil.h). */
#include "httputil.h"

#include <libsoup/soup.h>

#include <cstring>

namespace vc::http {

bool
bearer_matches (const char *authorization, const std::string &token)
{
  if (!authorization || token.empty ())
    return false;
  while (g_ascii_isspace (*authorization))
    authorization++;
  if (g_ascii_strncasecmp (authorization, "Bearer ", 7) != 0)
    return false;
  const char *given = authorization + 7;
  while (*given == ' ')
    given++;
  gsize len = strlen (given);
  while (len > 0 && g_ascii_isspace (given[len - 1]))
    len--;
  /* constant time in the token's content (its length is not secret enough to hide) */
  unsigned char diff = len == token.size () ? 0 : 1;
  for (gsize i = 0; i < token.size (); i++)
    diff |= static_cast<unsigned char> (token[i]) ^
        static_cast<unsigned char> (i < len ? given[i] : 0);
  return diff == 0;
}

bool
if_match_matches (const char *if_match, const std::string &etag)
{
  if (!if_match || etag.empty ())
    return false;
  GSList *tags = soup_header_parse_list (if_match);
  bool match = false;
  for (GSList *l = tags; l && !match; l = l->next) {
    const char *t = static_cast<const char *> (l->data);
    match = g_strcmp0 (t, "*") == 0 || etag == t;
  }
  soup_header_free_list (tags);
  return match;
}

std::string
address_string (GSocketAddress *address)
{
  if (!address || !G_IS_INET_SOCKET_ADDRESS (address))
    return "";
  auto *inet = G_INET_SOCKET_ADDRESS (address);
  GInetAddress *ip = g_inet_socket_address_get_address (inet);
  gchar *ip_text = g_inet_address_to_string (ip);
  std::string out = g_inet_address_get_family (ip) == G_SOCKET_FAMILY_IPV6
      ? std::string ("[") + ip_text + "]" : std::string (ip_text);
  g_free (ip_text);
  return out + ":" + std::to_string (g_inet_socket_address_get_port (inet));
}

std::string
resolve (const std::string &base, const std::string &reference)
{
  gchar *r = g_uri_resolve_relative (base.c_str (), reference.c_str (), G_URI_FLAGS_NONE,
      nullptr);
  std::string out = r ? r : "";
  g_free (r);
  return out;
}

static gboolean
wake (gpointer data)
{
  *static_cast<bool *> (data) = true;
  return G_SOURCE_REMOVE;
}

bool
iterate_until (GMainContext *context, const std::function<bool ()> &done, guint timeout_ms)
{
  if (done ())
    return true;
  bool expired = false;
  GSource *timer = g_timeout_source_new (timeout_ms);
  g_source_set_callback (timer, wake, &expired, nullptr);
  g_source_attach (timer, context);
  while (!done () && !expired)
    g_main_context_iteration (context, TRUE);
  g_source_destroy (timer);
  g_source_unref (timer);
  return done ();
}

} // namespace vc::http
