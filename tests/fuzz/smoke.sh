#!/usr/bin/env bash
# Runs one libFuzzer target for a while and prints how many inputs it executed.
#   smoke.sh FUZZER SECONDS WORKDIR SEED_DIR...
# New inputs go to WORKDIR/corpus (never into the source tree), crashes to WORKDIR/. A crash,
# a leak, a sanitizer report or a hang fails it; the input is then left in WORKDIR: copy it
# into tests/fuzz/regressions/<target>/ once the bug is fixed.
#
# Two passes: the fuzzing itself with LeakSanitizer off (GLib and libsoup are built without
# frame pointers, so a leak's stack is cut at g_malloc unless every malloc is unwound the slow
# way, which makes fuzz_http ten times slower), then every input of the corpus once more with
# full stacks and LeakSanitizer on, with tests/lsan.supp.
set -uo pipefail
fuzzer=$1 seconds=$2 work=$3
shift 3
name=$(basename "$fuzzer")
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$work/corpus"
seeds=()
for d in "$@"; do [ -d "$d" ] && seeds+=("$d"); done
# Only this target's process: no system plugins, a registry of its own.
export GST_PLUGIN_SYSTEM_PATH_1_0="" GST_PLUGIN_PATH_1_0="" GST_REGISTRY_1_0="$work/registry.bin"
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
asan=${ASAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$root/tests/lsan.supp:print_suppressions=0}
log="$work/fuzz.log"
fail() {
  tail -60 "$1"
  echo "$name: FAILED ($2); inputs: $(ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* \
    "$work"/oom-* 2>/dev/null | tr '\n' ' ')"
  exit 1
}
ASAN_OPTIONS=$asan:detect_leaks=0 "$fuzzer" -max_total_time="$seconds" -timeout=15 \
  -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 -artifact_prefix="$work/" \
  "$work/corpus" "${seeds[@]}" >"$log" 2>&1 || fail "$log" "exit $?"
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
units=$(ls "$work/corpus" | wc -l)
ASAN_OPTIONS=$asan:detect_leaks=1:fast_unwind_on_malloc=0:malloc_context_size=16 "$fuzzer" \
  -runs=0 -timeout=15 -max_len=16384 -artifact_prefix="$work/" "$work/corpus" "${seeds[@]}" \
  >"$work/leaks.log" 2>&1 || fail "$work/leaks.log" "leak pass, exit $?"
echo "$name: ${execs:-?} executions in ${seconds} s (${rate:-?}/s), ${cov:-cov: ?}, corpus ${units}, no leak"
