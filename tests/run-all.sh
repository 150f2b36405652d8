#!/usr/bin/env bash
# Installs the dependencies, builds, and runs every test; ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
tests/install-deps.sh || exit 1
BUILD=${BUILD:-build}
[ -d "$BUILD" ] || meson setup "$BUILD" || exit 1
ninja -C "$BUILD" || exit 1
meson test -C "$BUILD" --print-errorlogs --num-processes 1 "$@"
status=$?
/usr/bin/python3 - "$BUILD/meson-logs/testlog.json" <<'PY'
import json, sys
passed = failed = skipped = 0
try:
    lines = open(sys.argv[1]).read().splitlines()
except OSError:
    lines = []
for line in lines:
    if not line.strip():
        continue
    r = json.loads(line).get("result")
    if r in ("OK", "EXPECTEDFAIL"):
        passed += 1
    elif r == "SKIP":
        skipped += 1
    else:
        failed += 1
if not lines:
    failed = 1  # no test log: the suite did not run
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
PY
exit $status
