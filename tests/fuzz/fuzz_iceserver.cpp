/* Fuzz target: ICE server URLs and the WHIP "Link" header (RFC 9725 §4.6), as a client reads
 * a server's Link headers and as a URL property is parsed. Whatever parses must be safe to
 * write into a header (no CR, LF or NUL) and parse again from what it writes. */
#include "fuzz.h"
#include "iceservers.h"

#include <glib.h>

static bool
header_safe (const std::string &s)
{
  return s.find_first_of (std::string ("\r\n\0", 3)) == std::string::npos;
}

extern "C" int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  return 0;
}

extern "C" int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  /* Both are C strings where they come from (a header value, a property). */
  std::string text (reinterpret_cast<const char *> (data), size);
  text = text.substr (0, text.find ('\0'));

  for (const vc::iceserver::Server &s : vc::iceserver::from_link_header (text.c_str ())) {
    fuzz_check (header_safe (vc::iceserver::to_link (s, true)));
    vc::iceserver::to_webrtcbin (s);
    vc::iceserver::to_uri (s);
  }

  vc::iceserver::Server s;
  std::string error;
  if (!vc::iceserver::parse (text.c_str (), &s, &error)) {
    fuzz_check (!error.empty ());
    return 0;
  }
  std::string link = vc::iceserver::to_link (s, true);
  fuzz_check (header_safe (link));
  /* The webrtcbin form parses back to the same server. */
  vc::iceserver::Server back;
  std::string url = vc::iceserver::to_webrtcbin (s);
  fuzz_check (vc::iceserver::parse (url.c_str (), &back, &error));
  fuzz_check (back.scheme == s.scheme && back.host == s.host && back.port == s.port);
  fuzz_check (back.username == s.username && back.credential == s.credential);
  /* And the Link header form reads back as one server. */
  auto servers = vc::iceserver::from_link_header (link.c_str ());
  fuzz_check (servers.size () == 1 && servers[0].host == s.host);
  return 0;
}
