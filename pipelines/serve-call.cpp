/* gst-voicecall CLI: `serve` and `call` (HTTP signalling). */
#include "cli.h"

#include <cstdio>

namespace vc::cli {

int
serve (int argc, char **argv)
{
  fprintf (stderr, "serve: not available yet\n");
  return 2;
}

int
call (int argc, char **argv)
{
  fprintf (stderr, "call: not available yet\n");
  return 2;
}

} // namespace vc::cli
