#!/usr/bin/python3
"""Benchmark: CPU per call and calls per core, our callee vs the aiortc server.

K callers (gst-launch voicecall, JSON protocol at /offer, tones) call one callee: either
our gst-launch callee (voicecall listen=) or the seed's aiortc server. Once every call
hears audio, the callee process's CPU time is sampled over a window (from /proc/PID/stat,
user+system, children included) and reported as % of one core per call, and as calls per
core (100 / that). Both callees are measured in the same run on the same machine, with the
same callers.

Usage: cpu_per_call.py --build BUILD [--calls 4] [--window 10]
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import calls  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # utime, stime, cutime, cstime are fields 14-17 (1-based) of the whole line
    return sum(int(x) for x in fields[11:15]) / TICK


def measure(env, kind, k, window):
    port = calls.free_port()
    if kind == "gst-voicecall":
        callee = calls.callee_gst(env, port, 880, "/dev/null")
        env.wait_http(port, callee)
    else:
        callee = env.start("aiortc-server", [calls.PY, calls.PEER, "server", "--listen",
                                             f"127.0.0.1:{port}", "--freq", "880"])
        env.wait_for(callee, r"LISTENING", 20)
    callers = []
    for i in range(k):
        c = env.gst_launch(f"caller{i}", env.party(440 + 40 * i, [
            f"url=http://127.0.0.1:{port}/offer", "signaller::protocol=json",
            "ice-addresses=127.0.0.1"], "/dev/null"))
        env.wait_for(c, r"voicecall-first-audio", 30)
        callers.append(c)
    time.sleep(1)
    c0, t0 = cpu_seconds(callee.pid), time.time()
    time.sleep(window)
    c1, t1 = cpu_seconds(callee.pid), time.time()
    for c in callers:
        if c.poll() is not None:
            raise calls.Failure(f"{c.name} ended during the measurement")
    rss_kb = int(next(l for l in open(f"/proc/{callee.pid}/status") if l.startswith("VmRSS")).split()[1])
    for c in callers:
        env.stop(c)
    env.stop(callee)
    pct = (c1 - c0) / (t1 - t0) * 100
    return pct, rss_kb


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--calls", type=int, default=4)
    ap.add_argument("--window", type=float, default=10)
    args = ap.parse_args()
    print(f"{args.calls} simultaneous calls, callee CPU over {args.window:.0f} s "
          f"({os.cpu_count()} cores)")
    print(f"{'callee':<16} {'CPU total':>10} {'per call':>10} {'calls/core':>11} {'RSS':>9}")
    for kind in ["gst-voicecall", "aiortc"]:
        env = calls.Env(args.build)
        try:
            pct, rss = measure(env, kind, args.calls, args.window)
        finally:
            env.cleanup()
        per = pct / args.calls
        print(f"{kind:<16} {pct:>9.1f}% {per:>9.2f}% {100 / per if per else 0:>11.0f} "
              f"{rss / 1024:>7.0f} MB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
