#!/usr/bin/env bash
# Network lab: caller <-> router <-> callee in three network namespaces, with
# per-direction impairments at the router.  See README.md beside this file.
#
#   lab.sh up [--nat] [--block-udp] [--relay IP[:PORT]]...
#   lab.sh impair --dir up|down [--delay-ms D] [--jitter-ms J]
#                 [--jitter-dist uniform|normal] [--reorder] [--loss PCT]
#                 [--nfq-loss PCT] [--seed S] [--rate KBIT] [--queue-ms MS]
#   lab.sh clear [--dir up|down]
#   lab.sh block-udp [--relay IP[:PORT]]...  |  lab.sh unblock-udp
#   lab.sh exec caller|router|callee CMD...
#   lab.sh env | status | down
#   lab.sh run [up options] -- CMD...      (up, CMD with LAB_* set, down)
#
# "up" is caller -> callee, "down" is callee -> caller.  Each direction is
# impaired where it leaves the router (mangle POSTROUTING and the root qdisc of
# that veth), so a relay in the router namespace sees every relayed packet
# impaired exactly once per direction.
#
# State (namespace names, impair PIDs, logs) lives in $LAB_STATE (default
# /tmp/vclab); give each concurrent lab its own.  Sourcing this file defines
# `lab ARGS...` (runs this script) and `lab_trap` (runs `lab down` on exit).

if [[ ${BASH_SOURCE[0]} != "$0" ]]; then
  LAB_SH=$(readlink -f "${BASH_SOURCE[0]}")
  lab () { "$LAB_SH" "$@"; }
  lab_trap () { trap '"$LAB_SH" down' EXIT; }
  return 0
fi

set -euo pipefail
shopt -s inherit_errexit          # also stop on errors inside $(...)

STATE=${LAB_STATE:-/tmp/vclab}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

CALLER_NET=10.77.1.0/24
CALLEE_NET=10.77.2.0/24
CALLER_IP=10.77.1.2
ROUTER_CALLER_IP=10.77.1.1
ROUTER_CALLEE_IP=10.77.2.1
CALLEE_IP=10.77.2.2

die () { echo "lab.sh: $*" >&2; exit 1; }
log () { [[ -n ${LAB_QUIET:-} ]] || echo "lab.sh: $*" >&2; }

# Direction -> router egress interface and NFQUEUE number.
egress_of () { [[ $1 == up ]] && echo to-callee || echo to-caller; }
queue_of () { [[ $1 == up ]] && echo 1 || echo 2; }
chain_of () { [[ $1 == up ]] && echo LAB_UP || echo LAB_DOWN; }

load_state () {
  [[ -f $STATE/prefix ]] || die "no lab is up (state dir $STATE)"
  PREFIX=$(<"$STATE/prefix")
  CALLER_NS=$PREFIX-caller
  ROUTER_NS=$PREFIX-router
  CALLEE_NS=$PREFIX-callee
}

ns_of () {
  case $1 in
    caller) echo "$CALLER_NS" ;;
    router) echo "$ROUTER_NS" ;;
    callee) echo "$CALLEE_NS" ;;
    *) die "unknown host '$1' (caller, router or callee)" ;;
  esac
}

ipt () { ip netns exec "$ROUTER_NS" iptables -w "$@"; }

find_impair () {
  local c
  for c in "${IMPAIR:-}" "${LAB_BIN_DIR:+$LAB_BIN_DIR/impair}" \
      "$(command -v impair || true)"; do
    [[ -n $c && -x $c ]] && { echo "$c"; return; }
  done
  die "impair binary not found: build it (meson compile -C build) and set" \
      "LAB_BIN_DIR=build/tests/lab or IMPAIR=/path/to/impair"
}

check_tools () {
  [[ $(id -u) == 0 ]] || die "needs root (network namespaces, iptables, tc)"
  local t
  for t in ip iptables tc; do
    command -v "$t" >/dev/null ||
      die "'$t' not found: apt-get install iproute2 iptables"
  done
}

print_env () {
  cat <<EOF
export LAB_STATE=$STATE
export LAB_CALLER_NS=$CALLER_NS
export LAB_ROUTER_NS=$ROUTER_NS
export LAB_CALLEE_NS=$CALLEE_NS
export LAB_CALLER_IP=$CALLER_IP
export LAB_CALLEE_IP=$CALLEE_IP
export LAB_ROUTER_CALLER_IP=$ROUTER_CALLER_IP
export LAB_ROUTER_CALLEE_IP=$ROUTER_CALLEE_IP
EOF
}

# ---------------------------------------------------------------- up / down

cmd_up () {
  local nat=0 block=0 relays=()
  while (($#)); do
    case $1 in
      --nat) nat=1 ;;
      --block-udp) block=1 ;;
      --relay) relays+=(--relay "${2:?--relay needs IP[:PORT]}"); shift ;;
      *) die "up: unknown option '$1'" ;;
    esac
    shift
  done
  check_tools
  [[ ! -f $STATE/prefix ]] ||
    die "a lab is already up in $STATE ($(<"$STATE/prefix")); run down first"
  mkdir -p "$STATE"

  PREFIX=vclab$$
  while ip netns list | grep -q "^$PREFIX-"; do PREFIX=vclab$$r$RANDOM; done
  echo "$PREFIX" >"$STATE/prefix"
  CALLER_NS=$PREFIX-caller
  ROUTER_NS=$PREFIX-router
  CALLEE_NS=$PREFIX-callee

  # Whatever happens from here on, a failed up leaves nothing behind.
  UP_OK=0
  trap '((UP_OK)) || { echo "lab.sh: up failed, cleaning up" >&2; cmd_down; }' EXIT
  trap 'exit 143' TERM INT HUP

  local ns
  for ns in "$CALLER_NS" "$ROUTER_NS" "$CALLEE_NS"; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
  done
  ip -n "$ROUTER_NS" link add name to-caller type veth \
      peer name veth0 netns "$CALLER_NS"
  ip -n "$ROUTER_NS" link add name to-callee type veth \
      peer name veth0 netns "$CALLEE_NS"
  ip -n "$ROUTER_NS" addr add "$ROUTER_CALLER_IP/24" dev to-caller
  ip -n "$ROUTER_NS" addr add "$ROUTER_CALLEE_IP/24" dev to-callee
  ip -n "$CALLER_NS" addr add "$CALLER_IP/24" dev veth0
  ip -n "$CALLEE_NS" addr add "$CALLEE_IP/24" dev veth0
  for ns in "$CALLER_NS" "$CALLEE_NS"; do ip -n "$ns" link set veth0 up; done
  ip -n "$ROUTER_NS" link set to-caller up
  ip -n "$ROUTER_NS" link set to-callee up
  ip netns exec "$ROUTER_NS" sysctl -qw net.ipv4.ip_forward=1

  # The caller reaches everything through the router.  Without NAT the callee
  # routes back to the caller's subnet; behind NAT it has no route there and
  # the router drops anything the caller did not start.
  ip -n "$CALLER_NS" route add default via "$ROUTER_CALLER_IP"
  if ((nat)); then
    ipt -t nat -A POSTROUTING -s "$CALLER_NET" -o to-callee -j MASQUERADE
    ipt -A FORWARD -i to-callee -o to-caller \
        -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
    ipt -A FORWARD -i to-callee -o to-caller -j DROP
    echo 1 >"$STATE/nat"
  else
    ip -n "$CALLEE_NS" route add "$CALLER_NET" via "$ROUTER_CALLEE_IP"
  fi

  # Per-direction impairment chains, empty until `impair`.
  local dir
  for dir in up down; do
    ipt -t mangle -N "$(chain_of $dir)"
    ipt -t mangle -A POSTROUTING -o "$(egress_of $dir)" -j "$(chain_of $dir)"
  done
  ipt -N LAB_BLOCK
  ipt -I FORWARD 1 -j LAB_BLOCK
  if ((block)); then cmd_block_udp "${relays[@]}"; fi

  UP_OK=1
  trap - EXIT TERM INT HUP
  log "up: $CALLER_NS ($CALLER_IP) <-> $ROUTER_NS <-> $CALLEE_NS ($CALLEE_IP)" \
      "$( ((nat)) && echo '[nat]')$( ((block)) && echo '[block-udp]')"
  print_env
}

cmd_down () {
  [[ -f $STATE/prefix ]] || { log "down: nothing is up in $STATE"; return 0; }
  load_state
  local dir ns
  for dir in up down; do stop_impair "$dir"; done
  for ns in "$CALLER_NS" "$ROUTER_NS" "$CALLEE_NS"; do
    ip netns del "$ns" 2>/dev/null || true
  done
  rm -f "$STATE"/prefix "$STATE"/nat "$STATE"/impair-*.{pid,ready,log,stats}
  rmdir "$STATE" 2>/dev/null || true
  log "down: removed $PREFIX"
}

# ---------------------------------------------------------------- impairments

# True if pid is alive and is the impair we started for this queue.
is_our_impair () {
  local pid=$1 queue=$2 state
  [[ -r /proc/$pid/cmdline ]] || return 1
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ $state != Z ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "impair .*--queue $queue "
}

stop_impair () {
  local dir=$1 pidfile="$STATE/impair-$1.pid" pid i
  [[ -f $pidfile ]] || return 0
  pid=$(<"$pidfile")
  # Stop feeding the queue first; impair then accepts what it still holds.
  ipt -t mangle -F "$(chain_of "$dir")" 2>/dev/null || true
  if is_our_impair "$pid" "$(queue_of "$dir")"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      is_our_impair "$pid" "$(queue_of "$dir")" || break
      sleep 0.1
    done
    if is_our_impair "$pid" "$(queue_of "$dir")"; then
      log "impair $pid did not stop on SIGTERM; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$pidfile" "$STATE/impair-$dir.ready"
}

clear_dir () {
  local dir=$1
  stop_impair "$dir"
  ipt -t mangle -F "$(chain_of "$dir")"
  ip netns exec "$ROUTER_NS" tc qdisc del dev "$(egress_of "$dir")" root \
      2>/dev/null || true
}

cmd_clear () {
  load_state
  local dirs=(up down)
  if (($#)); then
    [[ $1 == --dir && ${2:-} =~ ^(up|down)$ ]] || die "clear [--dir up|down]"
    dirs=("$2")
  fi
  local dir
  for dir in "${dirs[@]}"; do clear_dir "$dir"; done
}

is_number () { [[ $1 =~ ^[0-9]+([.][0-9]+)?$ ]] || die "$2 needs a number, got '$1'"; }

cmd_impair () {
  load_state
  local dir="" delay=0 jitter=0 dist=uniform reorder="" loss=0 nfq_loss=0
  local seed=1 rate=0 queue_ms=200
  while (($#)); do
    case $1 in
      --dir) dir=${2:-}; shift ;;
      --delay-ms) delay=${2:-}; is_number "$delay" "$1"; shift ;;
      --jitter-ms) jitter=${2:-}; is_number "$jitter" "$1"; shift ;;
      --jitter-dist) dist=${2:-}; shift ;;
      --reorder) reorder=--reorder ;;
      --loss) loss=${2:-}; is_number "$loss" "$1"; shift ;;
      --nfq-loss) nfq_loss=${2:-}; is_number "$nfq_loss" "$1"; shift ;;
      --seed) seed=${2:-}; is_number "$seed" "$1"; shift ;;
      --rate) rate=${2:-}; is_number "$rate" "$1"; shift ;;
      --queue-ms) queue_ms=${2:-}; is_number "$queue_ms" "$1"; shift ;;
      *) die "impair: unknown option '$1'" ;;
    esac
    shift
  done
  [[ $dir == up || $dir == down ]] || die "impair needs --dir up|down"
  [[ $dist == uniform || $dist == normal ]] ||
    die "--jitter-dist is uniform or normal"

  clear_dir "$dir"                # an impair call replaces, never stacks
  local chain egress queue
  chain=$(chain_of "$dir")
  egress=$(egress_of "$dir")
  queue=$(queue_of "$dir")

  if awk "BEGIN { exit !($loss > 0) }"; then
    ipt -t mangle -A "$chain" -m statistic --mode random \
        --probability "$(awk "BEGIN { print $loss / 100 }")" -j DROP
  fi

  if awk "BEGIN { exit !($delay > 0 || $jitter > 0 || $nfq_loss > 0) }"; then
    local bin pid i
    bin=$(find_impair)
    rm -f "$STATE/impair-$dir.ready" "$STATE/impair-$dir.stats"
    ip netns exec "$ROUTER_NS" "$bin" --queue "$queue" --delay-ms "$delay" \
        --jitter-ms "$jitter" --jitter-dist "$dist" $reorder \
        --loss "$nfq_loss" --seed "$seed" \
        --stats-file "$STATE/impair-$dir.stats" \
        --ready-file "$STATE/impair-$dir.ready" \
        </dev/null >"$STATE/impair-$dir.log" 2>&1 &
    pid=$!
    echo "$pid" >"$STATE/impair-$dir.pid"
    for ((i = 0; i < 50; i++)); do
      [[ -f $STATE/impair-$dir.ready ]] && break
      kill -0 "$pid" 2>/dev/null ||
        die "impair failed to start: $(cat "$STATE/impair-$dir.log")"
      sleep 0.1
    done
    [[ -f $STATE/impair-$dir.ready ]] || die "impair did not bind queue $queue"
    # No --queue-bypass: if impair dies the direction goes dark, not clean.
    ipt -t mangle -A "$chain" -j NFQUEUE --queue-num "$queue"
  fi

  if awk "BEGIN { exit !($rate > 0) }"; then
    # Burst: one full frame or 20 ms at the rate, whichever is larger.
    local burst
    burst=$(awk "BEGIN { b = $rate * 1000 / 8 / 50; print (b < 1600 ? 1600 : int(b)) }")
    ip netns exec "$ROUTER_NS" tc qdisc replace dev "$egress" root tbf \
        rate "${rate}kbit" burst "$burst" latency "${queue_ms}ms"
  fi
  log "impair $dir: delay ${delay}ms jitter ${jitter}ms ($dist)${reorder:+ reorder}" \
      "loss ${loss}% nfq-loss ${nfq_loss}% rate ${rate}kbit"
}

cmd_block_udp () {
  load_state
  local spec ip port
  ipt -F LAB_BLOCK
  while (($#)); do
    [[ $1 == --relay && -n ${2:-} ]] || die "block-udp [--relay IP[:PORT]]..."
    spec=$2
    shift 2
    ip=${spec%%:*}
    port=""
    [[ $spec == *:* ]] && port=${spec#*:}
    ipt -A LAB_BLOCK -p udp -d "$ip" ${port:+--dport "$port"} -j RETURN
    ipt -A LAB_BLOCK -p udp -s "$ip" ${port:+--sport "$port"} -j RETURN
  done
  ipt -A LAB_BLOCK -p udp -s "$CALLER_NET" -d "$CALLEE_NET" -j DROP
  ipt -A LAB_BLOCK -p udp -s "$CALLEE_NET" -d "$CALLER_NET" -j DROP
}

cmd_unblock_udp () { load_state; ipt -F LAB_BLOCK; }

# ---------------------------------------------------------------- the rest

cmd_exec () {
  load_state
  (($# >= 2)) || die "exec caller|router|callee CMD..."
  local ns
  ns=$(ns_of "$1")
  shift
  exec ip netns exec "$ns" "$@"
}

cmd_status () {
  load_state
  print_env
  local dir pid
  for dir in up down; do
    pid=$(cat "$STATE/impair-$dir.pid" 2>/dev/null || echo none)
    echo "# $dir ($(egress_of $dir)): impair pid $pid"
    ipt -t mangle -S "$(chain_of $dir)" | sed 's/^/#   /'
    ip netns exec "$ROUTER_NS" tc qdisc show dev "$(egress_of $dir)" |
      sed 's/^/#   /'
  done
  ipt -S LAB_BLOCK | sed 's/^/#   /'
}

cmd_run () {
  local up_args=()
  while (($#)) && [[ $1 != -- ]]; do up_args+=("$1"); shift; done
  [[ ${1:-} == -- ]] && shift
  (($#)) || die "run [up options] -- CMD..."
  trap 'cmd_down' EXIT
  trap 'exit 143' TERM INT HUP
  local env
  env=$(LAB_QUIET=1 cmd_up "${up_args[@]}")
  eval "$env"
  "$@"
}

main () {
  local cmd=${1:-}
  (($#)) && shift
  case $cmd in
    up) cmd_up "$@" ;;
    down) cmd_down ;;
    impair) cmd_impair "$@" ;;
    clear) cmd_clear "$@" ;;
    block-udp) cmd_block_udp "$@" ;;
    unblock-udp) cmd_unblock_udp ;;
    exec) cmd_exec "$@" ;;
    env) load_state; print_env ;;
    status) cmd_status ;;
    run) cmd_run "$@" ;;
    *) sed -n '2,/^$/s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
  esac
}

main "$@"
