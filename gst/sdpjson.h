/* gst-voicecall: the aiortc "/offer" JSON body, {"sdp": "v=0...", "type": "offer"|"answer"}.
 *
 * The protocol of aiortc's examples/server: the client POSTs its complete offer (candidates
 * included) as application/json and gets a 200 with the complete answer in the same shape.
 */
#pragma once

#include <glib.h>

#include <string>

namespace vc::sdpjson {

/* Parses a body; on failure returns false and a sentence saying what is wrong. Other members
 * (aiortc clients send e.g. "video_transform") are ignored. */
bool parse (const char *body, gsize len, std::string *type, std::string *sdp,
    std::string *error);

/* {"sdp": sdp, "type": type} */
std::string build (const char *type, const std::string &sdp);

} // namespace vc::sdpjson
