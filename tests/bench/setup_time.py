#!/usr/bin/python3
"""Benchmark: call setup time, caller start → first remote audio, over 127.0.0.1.

Pairs (each N calls, one at a time):
  gst-gst     gst-launch caller (WHIP) → gst-launch callee
  gst-aiortc  gst-launch caller (JSON) → aiortc server (the seed's /offer)
  aiortc-gst  aiortc client (JSON) → gst-launch callee (aiortc's own FIRST_AUDIO_MS)
  aiortc-aiortc  aiortc client → aiortc server: the peer we compare with
  gst-gst-stunhole  gst → gst with the caller's stun-server= on a UDP port of 127.0.0.1
              that drops every request (a STUN server that never answers); compare with
              gst-gst: a host-reachable call should not wait for it

"process" is from starting the caller's process to its first decoded remote audio (as the
bus message appears in its output); "session" is the element's own figure, from the session's
creation to the first audio (voicecall-first-audio setup-ms).

--breakdown also prints, for our caller and our callee, the median of each step of the
element's voicecall-setup timeline (ms from the session's start): offer, answer, first local
candidate, ICE checking / connected, DTLS connected, first RTP sent / received, first audio.

Usage: setup_time.py --build BUILD [--calls 20] [PAIR ...]
"""
import argparse
import os
import re
import socket
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import calls  # noqa: E402

PAIRS = ["gst-gst", "gst-aiortc", "aiortc-gst", "aiortc-aiortc", "gst-gst-stunhole"]


def wait_first_audio(env, proc, pattern, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = re.search(pattern, env.log(proc))
        if m:
            return m
        if proc.poll() is not None:
            break
        time.sleep(0.005)
    raise calls.Failure(f"{proc.name}: no first audio:\n{env.log(proc)[-2000:]}")


def black_hole():
    """A UDP socket on 127.0.0.1 that reads and never answers: a STUN server that is gone."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    return sock


def one_call(env, pair, hole):
    port = calls.free_port()
    stun = []
    if pair == "gst-gst-stunhole":
        pair = "gst-gst"
        stun = [f"stun-server=stun://127.0.0.1:{hole.getsockname()[1]}"]
    if pair.endswith("-gst"):
        callee = calls.callee_gst(env, port, 880, env.path("callee.wav"))
        env.wait_http(port, callee)
    else:
        callee = env.start("aiortc-server", [calls.PY, calls.PEER, "server", "--listen",
                                             f"127.0.0.1:{port}", "--freq", "880"])
        env.wait_for(callee, r"LISTENING", 20)
    t0 = time.time()
    if pair.startswith("gst-"):
        proto, path = ("whip", "/call") if pair == "gst-gst" else ("json", "/offer")
        caller = env.gst_launch("caller", env.party(440, [
            f"url=http://127.0.0.1:{port}{path}", f"signaller::protocol={proto}",
            "ice-addresses=127.0.0.1"] + stun, env.path("caller.wav")))
        m = wait_first_audio(env, caller, r"voicecall-first-audio.*?setup-ms=\(double\)([0-9.]+)")
        process_ms = (time.time() - t0) * 1000
        session_ms = float(m.group(1))
    else:
        caller = env.start("aiortc-client", [calls.PY, calls.PEER, "client", "--url",
                                             f"http://127.0.0.1:{port}/offer", "--protocol", "json",
                                             "--duration", "0.5"])
        m = wait_first_audio(env, caller, r"FIRST_AUDIO_MS (\d+)")
        process_ms = (time.time() - t0) * 1000
        session_ms = float(m.group(1))
    steps = {}
    for role, proc in (("caller", caller), ("callee", callee)):
        if proc.name in ("caller", "callee"):  # gst-launch: its voicecall-setup message
            try:
                m = env.wait_for(proc, r"voicecall-setup, (.*)", 5)
            except calls.Failure:
                continue
            for name, value in re.findall(r"([a-z-]+)-ms=\(double\)([0-9.]+)", m.group(1)):
                steps[f"{role} {name}"] = float(value)
    env.stop(caller)
    env.stop(callee)
    return process_ms, session_ms, steps


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--calls", type=int, default=20)
    ap.add_argument("--breakdown", action="store_true",
                    help="the median of each setup step of our caller and callee")
    ap.add_argument("pairs", nargs="*", default=PAIRS)
    args = ap.parse_args()
    print(f"{'pair':<17} {'calls':>5} {'process median':>15} {'p90':>7} {'session median':>15}")
    hole = black_hole()  # read by nobody: the kernel drops what overflows its buffer
    for pair in args.pairs:
        proc, sess, steps = [], [], {}
        for _ in range(args.calls):
            env = calls.Env(args.build)
            try:
                p, s, st = one_call(env, pair, hole)
                proc.append(p)
                sess.append(s)
                for k, v in st.items():
                    steps.setdefault(k, []).append(v)
            finally:
                env.cleanup()
        p90 = sorted(proc)[max(0, int(len(proc) * 0.9) - 1)]
        print(f"{pair:<17} {len(proc):>5} {statistics.median(proc):>12.0f} ms {p90:>4.0f} ms "
              f"{statistics.median(sess):>12.0f} ms", flush=True)
        if args.breakdown:
            for k, v in sorted(steps.items(), key=lambda kv: (kv[0].split()[0],
                                                               statistics.median(kv[1]))):
                print(f"    {k:<36} {statistics.median(v):7.1f} ms  ({len(v)} calls)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
