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

GracefulClose *
GracefulClose::start (GIOStream *stream, GSocket *socket, const std::string &response,
    guint linger_ms, GMainContext *context, std::function<void (GracefulClose *)> closed)
{
  auto *c = new GracefulClose ();
  c->stream_ = G_IO_STREAM (g_object_ref (stream));
  c->socket_ = G_SOCKET (g_object_ref (socket));
  c->closed_ = std::move (closed);
  /* Nothing was written on this connection yet and the response is small: it fits in the
   * socket's send buffer. What does not is dropped rather than waited for. */
  gsize sent = 0;
  while (sent < response.size ()) {
    gssize n = g_socket_send_with_blocking (socket, response.data () + sent,
        response.size () - sent, FALSE, nullptr, nullptr);
    if (n <= 0)
      break;
    sent += n;
  }
  if (!g_socket_shutdown (socket, FALSE, TRUE, nullptr)) {
    c->close_now ();
    return nullptr;
  }
  c->watch_ = g_socket_create_source (socket,
      static_cast<GIOCondition> (G_IO_IN | G_IO_HUP | G_IO_ERR), nullptr);
  g_source_set_callback (c->watch_, G_SOURCE_FUNC (on_readable), c, nullptr);
  g_source_attach (c->watch_, context);
  c->timer_ = g_timeout_source_new (linger_ms);
  g_source_set_callback (c->timer_, on_timeout, c, nullptr);
  g_source_attach (c->timer_, context);
  return c;
}

gboolean
GracefulClose::on_readable (GSocket *socket, GIOCondition cond, gpointer data)
{
  auto *c = static_cast<GracefulClose *> (data);
  char buf[16384];
  gssize n = g_socket_receive_with_blocking (socket, buf, sizeof buf, FALSE, nullptr, nullptr);
  if (n > 0)
    c->dropped_ += n;
  if (n <= 0 || c->dropped_ > kMaxLingerBytes) {
    c->close_now ();   /* destroys this source: keep it, G_SOURCE_CONTINUE is ignored */
    return G_SOURCE_CONTINUE;
  }
  return G_SOURCE_CONTINUE;
}

gboolean
GracefulClose::on_timeout (gpointer data)
{
  static_cast<GracefulClose *> (data)->close_now ();
  return G_SOURCE_CONTINUE;
}

void
GracefulClose::close_now ()
{
  g_io_stream_close (stream_, nullptr, nullptr);
  if (closed_)
    closed_ (this);
  delete this;
}

GracefulClose::~GracefulClose ()
{
  for (GSource *s : {watch_, timer_}) {
    if (s) {
      g_source_destroy (s);
      g_source_unref (s);
    }
  }
  g_clear_object (&stream_);
  g_clear_object (&socket_);
}

} // namespace vc::http
