/* gst-voicecall: SDP helpers on GstSDPMessage (no element code here). */
#pragma once

#include "gstptr.h"

#include <string>
#include <utility>
#include <vector>

namespace vc::sdp {

/* Parses SDP text; on failure returns nullptr and a message saying what is wrong. */
GUnique<GstSDPMessage> parse (const char *text, std::string *error);

/* The index of the first audio m-line with a non-zero port, or -1. */
int first_audio_media (const GstSDPMessage *msg);

/* The payload type of the first "opus/48000" rtpmap of media `index`, or -1. */
int opus_payload (const GstSDPMessage *msg, guint index);

/* The telephone-event (RFC 4733) payload types of media `index`: (payload type, clock rate)
 * for each "telephone-event/RATE" rtpmap, in the SDP's order. */
std::vector<std::pair<int, int>> telephone_events (const GstSDPMessage *msg, guint index);

/* Adds the telephone-events (payload type, clock rate) whose payload types media `index`
 * does not use yet: the payload type to its formats, "a=rtpmap:PT telephone-event/RATE" and
 * "a=fmtp:PT 0-15". */
void add_telephone_events (GstSDPMessage *msg, guint index,
    const std::vector<std::pair<int, int>> &events);

/* A copy of a session description (type + message). */
GstWebRTCSessionDescription *copy (const GstWebRTCSessionDescription *desc);

/* The SDP text of a description. */
std::string to_text (const GstWebRTCSessionDescription *desc);

/* Media `index` says it sends from `ssrc` (a=ssrc:SSRC cname:CNAME, RFC 5576) and from no
 * other: any a=ssrc / a=ssrc-group already there is removed. */
void set_ssrc (GstSDPMessage *msg, guint index, guint32 ssrc, const std::string &cname);

/* ICE candidates (added for the HTTP signallers, which fold them into SDP bodies). */

/* One ICE candidate of one m-line, as webrtcbin gives it: "candidate:1 1 UDP ...". */
struct Candidate {
  guint mline;
  std::string candidate;
};

/* The a=mid of media `index`, or "" when it has none. */
std::string media_mid (const GstSDPMessage *msg, guint index);

/* The index of the media whose a=mid is `mid`, or -1. */
int media_for_mid (const GstSDPMessage *msg, const std::string &mid);

/* The a=ice-ufrag / a=ice-pwd that apply to media `index` (media level, else session level;
 * "" when absent). */
void ice_credentials (const GstSDPMessage *msg, guint index, std::string *ufrag,
    std::string *pwd);

/* Adds each candidate to its m-line as "a=candidate:..." (with or without the "candidate:"
 * prefix; duplicates and those of an m-line the SDP lacks are skipped), then, if
 * end_of_candidates, "a=end-of-candidates" to every m-line that lacks it. */
void add_candidates (GstSDPMessage *msg, const std::vector<Candidate> &candidates,
    bool end_of_candidates);

/* Removes every a=candidate and a=end-of-candidates line, session and media level. */
void remove_candidates (GstSDPMessage *msg);

/* Replaces the ICE credentials: a=ice-ufrag / a=ice-pwd on every m-line, none at session
 * level. */
void set_ice_credentials (GstSDPMessage *msg, const std::string &ufrag, const std::string &pwd);

/* A copy of desc with the candidates folded in (see add_candidates). */
GstWebRTCSessionDescription *with_candidates (const GstWebRTCSessionDescription *desc,
    const std::vector<Candidate> &candidates, bool end_of_candidates);

} // namespace vc::sdp
