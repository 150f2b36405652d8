/* gst-voicecall: ICE server URLs and their WHIP "Link" header form (RFC 9725 §4.6).
 *
 * A WHIP endpoint advertises STUN/TURN servers as
 *
 *   Link: <stun:stun.example.net:3478>; rel="ice-server"
 *   Link: <turn:turn.example.net:3478?transport=udp>; rel="ice-server"; username="user";
 *         credential="secret"; credential-type="password"
 *
 * while webrtcbin's "stun-server" / "turn-server" properties take
 * "stun://host:port" and "turn://user:secret@host:port?transport=udp". Both spellings are
 * accepted wherever a URL is parsed; the element side always gets the webrtcbin form.
 */
#pragma once

#include <string>
#include <vector>

namespace vc::iceserver {

struct Server {
  std::string scheme;      /* "stun", "stuns", "turn" or "turns" */
  std::string host;        /* an IPv6 address without brackets */
  int port = 0;            /* 0: the scheme's default */
  std::string query;       /* "transport=udp" or "" */
  std::string username, credential;
};

/* Parses "stun:host[:port]", "turn:host[:port][?transport=x]" (RFC 7064/7065) or the
 * webrtcbin form with "//" and "user:pass@". Refuses anything that could not be written
 * into a header safely. */
bool parse (const char *url, Server *out, std::string *error);

/* "stun:host:port" / "turn:host:port?transport=udp" (RFC 7064/7065), no credentials. */
std::string to_uri (const Server &s);

/* One Link header value; the TURN credentials are included only with_credentials. */
std::string to_link (const Server &s, bool with_credentials);

/* The rel="ice-server" entries of Link header values (several values may be given joined by
 * commas, as libsoup does with repeated headers). Malformed entries are skipped. */
std::vector<Server> from_link_header (const char *value);

/* The webrtcbin form: "stun://host:port", "turn://user:pass@host:port?transport=udp"
 * (user and password percent-encoded). */
std::string to_webrtcbin (const Server &s);

} // namespace vc::iceserver
