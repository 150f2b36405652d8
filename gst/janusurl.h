/* gst-voicecall: what a janus:// URL says (plain logic, no I/O).
 *
 *   janus://HOST[:PORT]/PATH?room=1234&display=alice&pin=…&secret=…&token=…&apisecret=…
 *       &create=true&muted=true&bitrate=32000&expected_loss=10
 *
 * is the Janus HTTP API at http://HOST:PORT/PATH (januss:// for https://) and a join of the
 * AudioBridge room `room` (a number) as `display`, with the room's `pin`. `secret` is the
 * room's secret (needed to create it with create=true), `token` a Janus API token (token_auth)
 * and `apisecret` the server's API secret; `muted`, `bitrate` (bit/s) and `expected_loss`
 * (0-20 %) are the AudioBridge join/configure options of the same names.
 */
#pragma once

#include <glib.h>

#include <string>

namespace vc::janus {

struct Target {
  std::string api;          /* http://HOST:PORT/PATH, no trailing slash */
  guint64 room = 0;
  std::string display, pin, secret, token, apisecret;
  bool create = false, muted = false;
  int bitrate = 0;          /* 0: the room's default */
  int expected_loss = -1;   /* -1: the room's default */
};

/* Fills `t` from `url`; false with a sentence in `error` when it is not a usable janus://
 * URL (wrong scheme, no host, no or non-numeric room, a value out of range). Fields of `t`
 * the URL does not name are left as they are. */
bool parse_url (const std::string &url, Target *t, std::string *error);

/* "Janus AudioBridge: No such room (1235) (error 485)" and the like, with a hint on what to
 * do for the errors a user can fix. */
std::string describe_error (int code, const std::string &reason);

} // namespace vc::janus
