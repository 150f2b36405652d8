/* gst-voicecall: small HTTP helpers shared by the HTTP client and server signallers
 * (header matching, addresses, waiting on a context with a deadline). No signaller state. */
#pragma once

#include <gio/gio.h>

#include <functional>
#include <string>

namespace vc::http {

/* Whether an "Authorization" header value is "Bearer <token>" (scheme case-insensitive; the
 * token compared in constant time). An empty token never matches. */
bool bearer_matches (const char *authorization, const std::string &token);

/* Whether an If-Match header value (a list of entity-tags or "*") matches `etag` with the
 * strong comparison of RFC 9110 §13.1.1 (weak "W/" tags never match). */
bool if_match_matches (const char *if_match, const std::string &etag);

/* "IP:PORT" ("[IPv6]:PORT") of a socket address, "" if it is not an internet address. */
std::string address_string (GSocketAddress *address);

/* `reference` resolved against `base` (RFC 3986), "" if either is not a valid URI. */
std::string resolve (const std::string &base, const std::string &reference);

/* Iterates `context` (which the calling thread must own or be able to acquire) until done()
 * returns true or timeout_ms passed. Returns done(). */
bool iterate_until (GMainContext *context, const std::function<bool ()> &done,
    guint timeout_ms);

/* A connection taken from libsoup (soup_server_message_steal_connection) that is answered
 * with `response` (complete HTTP/1.1 bytes, may be empty) and closed gracefully: the response
 * is sent, our side shut down, and what the peer still sends is read and dropped until it
 * closes too, linger_ms pass or kMaxLingerBytes were dropped; then the socket is closed.
 * Closing at once with unread input would make the kernel send a TCP reset, which can destroy
 * the response before the peer reads it (the "lingering close" of RFC 9112 §9.6).
 *
 * Lives in `context` (the calling thread must be the one running it). `closed` runs there
 * once the socket is closed, by itself or by close_now (); the object is deleted after it. */
class GracefulClose {
public:
  static constexpr gsize kMaxLingerBytes = 1024 * 1024;

  static GracefulClose *start (GIOStream *stream, GSocket *socket, const std::string &response,
      guint linger_ms, GMainContext *context, std::function<void (GracefulClose *)> closed);
  /* Closes the socket now (if it is still open), runs `closed` and deletes this. */
  void close_now ();

private:
  GracefulClose () = default;
  ~GracefulClose ();
  static gboolean on_readable (GSocket *socket, GIOCondition cond, gpointer data);
  static gboolean on_timeout (gpointer data);

  GIOStream *stream_ = nullptr;
  GSocket *socket_ = nullptr;
  GSource *watch_ = nullptr, *timer_ = nullptr;
  gsize dropped_ = 0;
  std::function<void (GracefulClose *)> closed_;
};

} // namespace vc::http
