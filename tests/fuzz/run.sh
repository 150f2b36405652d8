#!/usr/bin/env bash
# Builds the fuzz targets (clang, libFuzzer, ASan+UBSan) and runs each for a while.
#   tests/fuzz/run.sh [SECONDS] [TARGET...]     default: 30 s, every target
# Prints one line per target: executions, executions per second, coverage, corpus size.
# The build dir is $FUZZ_BUILD (default build-fuzz); new inputs stay in
# $FUZZ_BUILD/tests/fuzz/work/<target>/. See docs/fuzzing.md.
set -uo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-30}
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(sdp sdpfrag sdpjson iceserver httpheader http)
BUILD=${FUZZ_BUILD:-build-fuzz}
if [ ! -d "$BUILD" ]; then
  CC=clang CXX=clang++ meson setup "$BUILD" -Dfuzzing=true || exit 1
fi
ninja -C "$BUILD" -j2 $(printf 'tests/fuzz/fuzz_%s ' "${targets[@]}") || exit 1
status=0
for t in "${targets[@]}"; do
  tests/fuzz/smoke.sh "$BUILD/tests/fuzz/fuzz_$t" "$seconds" "$BUILD/tests/fuzz/work/$t" \
    tests/fuzz/corpus/"$t" tests/fuzz/regressions/"$t" || status=1
done
exit $status
