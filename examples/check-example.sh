#!/bin/sh
# Runs an example (CMD ARGS... OUT_DIR SECONDS) and checks by dominant frequency that the
# caller heard the callee's 880 Hz and the callee the caller's 440 Hz.
#   check-example.sh GST_VOICECALL CMD [ARGS...]
set -u
cli=$1
shift
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$@" "$out" 3 || { echo "FAIL: the example exited with $?"; exit 1; }
status=0
for pair in caller:880 callee:440; do
  who=${pair%%:*} want=${pair#*:}
  hz=$("$cli" analyze "$out/$who.wav" | sed -n 's/.*dominant frequency \([0-9.]*\) Hz.*/\1/p')
  if [ -n "$hz" ] && awk -v h="$hz" -v w="$want" 'BEGIN { exit !(h > w * 0.98 && h < w * 1.02) }'; then
    echo "OK: the $who heard $hz Hz (expected $want Hz)"
  else
    echo "FAIL: the $who heard ${hz:-nothing} (expected $want Hz)"
    status=1
  fi
done
exit $status
