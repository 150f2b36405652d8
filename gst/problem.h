/* gst-voicecall: RFC 9457 problem details ("application/problem+json").
 *
 * The HTTP server signaller answers every refused request with one:
 *
 *   {"type":"about:blank","title":"Unprocessable Content","status":422,
 *    "detail":"the offer has no audio media section (m=audio)"}
 *
 * and the HTTP client signaller turns an error response back into a sentence for the user
 * (describe ()), whatever the server sent: problem+json, plain text or nothing.
 */
#pragma once

#include <glib.h>

#include <string>

namespace vc::problem {

constexpr const char *kContentType = "application/problem+json";

/* The standard reason phrase of an HTTP status ("Precondition Required" for 428). */
const char *reason_phrase (guint status);

/* A problem+json document with type "about:blank", the status' title and `detail`. */
std::string make (guint status, const std::string &detail);

/* A one-line description of an error response body for a log or an error message: the
 * "detail" (else "title") of a problem+json or plain JSON body, the first line of a text
 * body (at most 200 characters), or "" when there is nothing readable. Never fails. */
std::string describe (const char *content_type, const char *body, gsize len);

} // namespace vc::problem
