/* gst-voicecall: RFC 8840 SDP fragments ("application/trickle-ice-sdpfrag").
 *
 * WHIP (RFC 9725 §4.3) carries trickled candidates and ICE restarts in PATCH bodies like:
 *
 *   a=ice-ufrag:EsAw
 *   a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1
 *   m=audio 9 UDP/TLS/RTP/SAVPF 0
 *   a=mid:0
 *   a=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host
 *   a=end-of-candidates
 *
 * parse() reads one with GstSDPMessage (which takes a fragment as it takes a full SDP);
 * build() writes one by hand, because gst_sdp_message_as_text() always adds a "t=" line
 * that a fragment must not have.
 */
#pragma once

#include <glib.h>

#include <string>
#include <vector>

namespace vc::sdpfrag {

struct Media {
  std::string mid;                      /* "" when the m-section has no a=mid */
  std::vector<std::string> candidates;  /* "candidate:..." */
  bool end_of_candidates = false;
};

struct Frag {
  std::string ufrag, pwd;               /* "" when absent */
  std::vector<Media> media;             /* in order; candidates given before any m= line
                                         * (tolerated) form a first entry with no mid */
};

/* Parses a fragment; on failure returns false and a sentence saying what is wrong. A fragment
 * must be text lines of the form "x=...", and hold at least one of ice-ufrag, candidate or
 * end-of-candidates. */
bool parse (const char *text, gsize len, Frag *out, std::string *error);

/* The text of a fragment, CRLF line ends. */
std::string build (const Frag &frag);

} // namespace vc::sdpfrag
