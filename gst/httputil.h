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

} // namespace vc::http
