/* Fuzz target: an RFC 8840 fragment (application/trickle-ice-sdpfrag), the body of a WHIP
 * PATCH. What parses must build and parse back to the same fragment. */
#include "fuzz.h"
#include "sdpfrag.h"

extern "C" int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  return 0;
}

extern "C" int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  vc::sdpfrag::Frag frag;
  std::string error;
  if (!vc::sdpfrag::parse (reinterpret_cast<const char *> (data), size, &frag, &error)) {
    fuzz_check (!error.empty ());
    return 0;
  }
  std::string text = vc::sdpfrag::build (frag);
  vc::sdpfrag::Frag back;
  if (!vc::sdpfrag::parse (text.data (), text.size (), &back, &error))
    return 0;
  fuzz_check (back.ufrag == frag.ufrag && back.pwd == frag.pwd);
  fuzz_check (back.media.size () == frag.media.size ());
  return 0;
}
