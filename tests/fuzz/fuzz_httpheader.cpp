/* Fuzz target: the request headers the HTTP server signaller matches by hand: Authorization
 * ("Bearer <token>", vc::http::bearer_matches) and If-Match (vc::http::if_match_matches),
 * and the error bodies the client signaller turns into a sentence (vc::problem::describe).
 * The input is split at the first NUL: header value, then the expected token. */
#include "fuzz.h"
#include "httputil.h"
#include "problem.h"

#include <glib.h>

extern "C" int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  return 0;
}

extern "C" int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  std::string input (reinterpret_cast<const char *> (data), size);
  std::string value = input.substr (0, input.find ('\0'));
  std::string token = value.size () < input.size () ? input.substr (value.size () + 1) : "";
  token = token.substr (0, token.find ('\0'));

  bool matches = vc::http::bearer_matches (value.c_str (), token);
  fuzz_check (!matches || !token.empty ());
  /* Its own header always matches a token without spaces at its ends. */
  if (!token.empty () && !g_ascii_isspace (token.front ()) && !g_ascii_isspace (token.back ()))
    fuzz_check (vc::http::bearer_matches (("Bearer " + token).c_str (), token));
  vc::http::bearer_matches (value.c_str (), "secret");

  vc::http::if_match_matches (value.c_str (), token);
  vc::http::if_match_matches (value.c_str (), "\"0123456789abcdef\"");

  std::string d = vc::problem::describe (vc::problem::kContentType, input.data (), size);
  fuzz_check (d.find ('\n') == std::string::npos);
  vc::problem::describe ("application/json", input.data (), size);
  d = vc::problem::describe ("text/plain", input.data (), size);
  fuzz_check (d.size () <= 3 * 200);   /* 200 characters, each at worst U+FFFD */
  vc::problem::describe (nullptr, input.data (), size);
  return 0;
}
