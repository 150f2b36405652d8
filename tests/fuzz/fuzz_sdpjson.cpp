/* Fuzz target: the aiortc "/offer" JSON body ({"sdp": ..., "type": "offer"}), then the SDP
 * it carries as the server reads it. What parses must build and parse back the same. */
#include "fuzz.h"
#include "sdpjson.h"
#include "sdputil.h"

#include <gst/gst.h>

extern "C" int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  gst_init (nullptr, nullptr);
  return 0;
}

extern "C" int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  std::string type, sdp, error;
  if (!vc::sdpjson::parse (reinterpret_cast<const char *> (data), size, &type, &sdp, &error)) {
    fuzz_check (!error.empty ());
    return 0;
  }
  if (sdp.find ('\0') == std::string::npos && type.find ('\0') == std::string::npos) {
    std::string json = vc::sdpjson::build (type.c_str (), sdp);
    std::string type2, sdp2;
    fuzz_check (vc::sdpjson::parse (json.data (), json.size (), &type2, &sdp2, &error));
    fuzz_check (type2 == type && sdp2 == sdp);
    vc::sdp::parse (sdp.c_str (), &error);
  }
  return 0;
}
