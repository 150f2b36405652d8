#!/bin/sh
# A call over HTTPS between two gst-voicecall processes: the callee serves HTTPS with a
# certificate signed by the test's own CA (made here with openssl), the caller trusts that CA
# (--tls-ca). Each sends a tone; what each heard is checked by its dominant frequency. Also:
# a caller that does not trust the CA, and plain HTTP to the HTTPS port, must both fail.
#   https-call.sh GST_VOICECALL
set -u
cli=$1
here=$(dirname "$0")
dir=$(mktemp -d)
serve_pid=
cleanup () { [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
fail () { echo "FAIL: $*"; [ -f "$dir/serve.log" ] && sed 's/^/  callee: /' "$dir/serve.log"; exit 1; }

"$here/make-certs.sh" "$dir" voice.test || fail "openssl could not make the certificates"
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$cli" serve --quiet --listen "127.0.0.1:$port" --tls-cert "$dir/server.pem" --tls-key "$dir/server.key" \
  --source tone:880 --sink "wav:$dir/callee.wav" --ice-address 127.0.0.1 > "$dir/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 50); do
  /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
  sleep 0.1
done

url="https://127.0.0.1:$port/call"
if "$cli" call "$url" --quiet --source tone:440 --sink none --ice-address 127.0.0.1 --seconds 20 \
    > "$dir/untrusted.log" 2>&1; then
  fail "a caller that does not trust the test's CA got through: $(cat "$dir/untrusted.log")"
fi
grep -q "TLS certificate" "$dir/untrusted.log" || fail "untrusted caller: no certificate error: $(cat "$dir/untrusted.log")"
echo "OK: without --tls-ca: $(grep -o 'failed.*' "$dir/untrusted.log")"
if "$cli" call "http://127.0.0.1:$port/call" --quiet --source tone:440 --sink none \
    --ice-address 127.0.0.1 --seconds 20 > "$dir/plain.log" 2>&1; then
  fail "plain HTTP to the HTTPS port got through"
fi
echo "OK: plain http:// to the HTTPS port fails: $(grep -o 'failed.*' "$dir/plain.log")"

# A response the server writes itself on a connection it takes from libsoup (413 before the
# body) must go through TLS too.
status=$(/usr/bin/python3 - "$port" "$dir/ca.pem" <<'PY'
import http.client, ssl, sys
c = http.client.HTTPSConnection("127.0.0.1", int(sys.argv[1]), timeout=10,
                                context=ssl.create_default_context(cafile=sys.argv[2]))
try:
    c.request("POST", "/call", body=b"v=0\r\n" + b"a" * 70000, headers={"Content-Type": "application/sdp"})
    print(c.getresponse().status)
except Exception as e:
    print(f"no HTTP status: {e!r}")
PY
)
[ "$status" = 413 ] || fail "a body over max-body over HTTPS: expected 413, got $status"
echo "OK: a body over max-body gets 413 over HTTPS"

"$cli" call "$url" --tls-ca "$dir/ca.pem" --quiet --source tone:440 --sink "wav:$dir/caller.wav" \
  --ice-address 127.0.0.1 --seconds 3 > "$dir/call.log" 2>&1 || fail "the call failed: $(cat "$dir/call.log")"
kill -INT "$serve_pid"
wait "$serve_pid" || fail "the callee exited with $? after SIGINT"
serve_pid=
status=0
for pair in caller:880 callee:440; do
  who=${pair%%:*} want=${pair#*:}
  hz=$("$cli" analyze "$dir/$who.wav" | sed -n 's/.*dominant frequency \([0-9.]*\) Hz.*/\1/p')
  if [ -n "$hz" ] && awk -v h="$hz" -v w="$want" 'BEGIN { exit !(h > w * 0.98 && h < w * 1.02) }'; then
    echo "OK: over HTTPS the $who heard $hz Hz (expected $want Hz)"
  else
    echo "FAIL: over HTTPS the $who heard ${hz:-nothing} (expected $want Hz)"
    status=1
  fi
done
# (gupnp's warnings are libnice's UPnP, which webrtcbin leaves on: not ours to fail on here.)
if grep -E "CRITICAL|WARNING" "$dir"/*.log | grep -v "gupnp-context"; then
  echo "FAIL: GLib criticals or warnings"
  status=1
fi
exit $status
