#!/usr/bin/env bash
# Installs the dependencies, builds, and runs every test; ends with "N passed, N failed".
#
# Three build dirs, each with its meson test log, all counted in the last line:
#   $BUILD       (build)       every suite
#   $ASAN_BUILD  (build-asan)  -Db_sanitize=address,undefined: the unit, http, integration
#                              and fuzz (corpus replay) suites under ASan, UBSan and LSan
#                              (meson test --setup asan, tests/lsan.supp)
#   $FUZZ_BUILD  (build-fuzz)  clang -Dfuzzing=true: each libFuzzer target for fuzz_seconds
#                              (suite fuzz-smoke)
# SANITIZE=0 skips the last two (a quick local run). Extra arguments go to the first
# meson test only.
set -uo pipefail
cd "$(dirname "$0")/.."
tests/install-deps.sh || exit 1
BUILD=${BUILD:-build}
ASAN_BUILD=${ASAN_BUILD:-build-asan}
FUZZ_BUILD=${FUZZ_BUILD:-build-fuzz}
SANITIZE=${SANITIZE:-1}
logs=("$BUILD/meson-logs/testlog.json")
status=0

rm -f "$BUILD/meson-logs/testlog.json"
if { [ -d "$BUILD" ] || meson setup "$BUILD"; } && ninja -C "$BUILD"; then
  meson test -C "$BUILD" --print-errorlogs --num-processes 1 "$@" || status=1
else
  status=1
fi

# The sanitizer run: the unit, http, integration and fuzz (replay) suites of $ASAN_BUILD.
# Tests with a known bug in code outside tests/fuzz are listed here with the finding:
# - left out: the bug fails the test under any sanitizer;
# - LSan off (setup asannoleak; ASan and UBSan still on): the bug is a leak.
asan_left_out=(
  # Timing: under ASan on 2 cores test_next_call_starts_from_the_encoder fails with "the
  # first call did not adapt" (the bitrate stays at 32k for the test's 4 s)
  adaptive_call
  # Waits that are the test (peer-timeout after a kill -9, an aiortc peer's own timers, a
  # deliberate CRITICAL): the code they reach runs under ASan in the cases above; under ASan
  # they would add minutes of waiting and check no other code
  call-caller_killed call-callee_killed call-cli_callee_killed call-aiortc_sees_our_hangup
  call-we_see_aiortc_hangup call-critical_is_caught call-unconnected-slots
  # Timing: the callee's `serve --seconds 4` must outlast the call's setup and some audio;
  # under ASan the setup alone took 2.5 s and the recording came out empty
  call-cli_remote_hangup
  # Time: 43 s under ASan (0.6 s without); the same server code gets garbage under ASan in
  # the fuzz_http corpus replay (suite fuzz, above) and smoke run (below)
  httpfuzz
)
asan_no_leak_check=(
  # gst-launch-1.0, the CLI and python3 are run with libasan preloaded: their own and
  # python's allocations at exit are not ours to fix
  call-gst_whip call-gst_json call-gst_to_aiortc call-aiortc_json_to_gst
  call-aiortc_whip_to_gst call-two_callers call-unreachable call-cli call-callee_hangs_up
  call-caller_hangs_up_whip call-caller_hangs_up_json call-serve_seconds_hangs_up
  call-cli_clean_stops call-cli_refused call-cli_start_truths call-cli_keys
  call-gst_to_aiortc_muted call-conference
)
asan_tests() {  # the tests of the checked suites: $1 = in (LSan on) | noleak
  meson test -C "$ASAN_BUILD" --list 2>/dev/null |
    sed -n 's/^[^:]*:\([^ ]*\) \/ \(.*\)$/\1 \2/p' |
    while read -r suites name; do
      case "+$suites+" in *+unit+*|*+http+*|*+integration+*|*+fuzz+*) ;; *) continue ;; esac
      [[ " ${asan_left_out[*]} " == *" $name "* ]] && continue
      kind=in; [[ " ${asan_no_leak_check[*]} " == *" $name "* ]] && kind=noleak
      [ "$kind" = "$1" ] && echo "$name"
    done
}
asan_run() {  # $1 = setup, $2 = in | noleak
  local tests
  tests=$(asan_tests "$2")
  [ -n "$tests" ] || { echo "no test to run with --setup $1"; return 1; }
  # shellcheck disable=SC2086  # one word per test name
  meson test -C "$ASAN_BUILD" --setup "$1" --print-errorlogs --num-processes 1 $tests
}

if [ "$SANITIZE" = 1 ]; then
  logs+=("$ASAN_BUILD/meson-logs/testlog-asan.json" "$ASAN_BUILD/meson-logs/testlog-asannoleak.json"
    "$FUZZ_BUILD/meson-logs/testlog.json")
  t0=$(date +%s)
  rm -f "$ASAN_BUILD"/meson-logs/testlog-asan*.json
  # -O1, as ASan recommends: it builds in half the time of the default -O2
  if { [ -d "$ASAN_BUILD" ] || meson setup "$ASAN_BUILD" -Db_sanitize=address,undefined \
        -Doptimization=1; } && ninja -C "$ASAN_BUILD" -j"${JOBS:-2}"; then
    # Fill the plugin registry once, with LSan off: scanning loads every system plugin.
    GST_REGISTRY_1_0="$PWD/$ASAN_BUILD/tests/registry.bin" GST_REGISTRY_FORK=no \
      GST_PLUGIN_PATH_1_0="$PWD/$ASAN_BUILD/plugins/voicecall" GST_PLUGIN_LOADING_WHITELIST= \
      LD_PRELOAD="$(g++ -print-file-name=libasan.so)" ASAN_OPTIONS=detect_leaks=0 \
      gst-inspect-1.0 voicecall >/dev/null || status=1
    echo "left out of the sanitizer run (see tests/run-all.sh): ${asan_left_out[*]}"
    asan_run asan in || status=1
    asan_run asannoleak noleak || status=1
  else
    status=1
  fi
  t1=$(date +%s)
  rm -f "$FUZZ_BUILD/meson-logs/testlog.json"
  fuzzers=$(printf 'tests/fuzz/fuzz_%s ' sdp sdpfrag sdpjson iceserver httpheader http)
  if { [ -d "$FUZZ_BUILD" ] || CC=clang CXX=clang++ meson setup "$FUZZ_BUILD" -Dfuzzing=true; } &&
      ninja -C "$FUZZ_BUILD" -j"${JOBS:-2}" $fuzzers; then
    # --no-rebuild: the fuzz dir builds only the fuzzers, not the whole project with clang
    meson test -C "$FUZZ_BUILD" --no-rebuild --print-errorlogs --num-processes 1 \
      --suite fuzz-smoke || status=1
    grep -h "executions in" "$FUZZ_BUILD/meson-logs/testlog.txt" 2>/dev/null
  else
    status=1
  fi
  echo "sanitizer build and tests: $((t1 - t0)) s; fuzz build and smoke: $(($(date +%s) - t1)) s"
fi

/usr/bin/python3 - "${logs[@]}" <<'PY'
import json, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        lines = [l for l in open(path).read().splitlines() if l.strip()]
    except OSError:
        lines = []
    if not lines:
        print(f"{path}: no test log (the build or the suite did not run)")
        failed += 1
        continue
    for line in lines:
        r = json.loads(line).get("result")
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
PY
exit $status
