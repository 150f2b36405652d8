/* gst-voicecall fuzz targets: the libFuzzer entry points every target defines.
 *
 * Each fuzz_<target>.cpp defines LLVMFuzzerInitialize (once per process) and
 * LLVMFuzzerTestOneInput (once per input). The same file is linked two ways:
 *   - with -fsanitize=fuzzer (the clang build, -Dfuzzing=true): libFuzzer's main drives it;
 *   - with replay.cpp (every build): a main() that feeds it each file of the given folders
 *     once, so the corpus and the regressions run as ordinary meson tests with gcc too.
 *
 * A target reports a broken invariant with fuzz_check (), which aborts: libFuzzer and the
 * replay test both see a crash.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

extern "C" int LLVMFuzzerInitialize (int *argc, char ***argv);
extern "C" int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define fuzz_check(cond)                                                                   \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      fprintf (stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond);        \
      abort ();                                                                            \
    }                                                                                      \
  } while (0)
