#!/usr/bin/python3
"""Benchmark: CPU and RSS of one conference callee (voicecall mix=all) with N participants.

One gst-launch callee (voicecall listen= mix=all, a 440-Hz tone as its local source, what it
hears to fakesink) takes N callers. The callers are N voicecall elements in one other
gst-launch process (each `audiotestsrc ! opusenc ! rtpopuspay ! voicecall url=… ! fakesink`,
so that 16 callers cost one process, not 16). Two cases per N:

  all  every caller talks (a tone of its own): N mix-minus encodes
  one  caller 0 talks, the others are silent (mute=true: they send the Opus silence frame):
       one own encode, the others share one encode of the full mix

Once every caller hears audio and 2 s more (silent callers move to the shared mix after a
second), the callee's CPU time (user+system, /proc/PID/stat) is sampled over a window and
given as % of one core, in total and per participant; RSS is the callee's VmRSS then, and per
added participant the growth from the callee's RSS before the first call, divided by N.
`--baseline` adds the same with mix=first (no mixing: everyone hears only the callee).

Usage: conference.py --build BUILD [--participants 4 8 16] [--window 8] [--baseline]
"""
import argparse
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import calls  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / TICK


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(next(l for l in f if l.startswith("VmRSS")).split()[1])


def callers_pipeline(port, n, talking):
    args = []
    for i in range(n):
        silent = [] if i < talking else ["mute=true"]
        args += ["audiotestsrc", "is-live=true", "wave=sine", "volume=0.3", f"freq={500 + 37 * i}",
                 "!", "opusenc", "audio-type=voice", "frame-size=20", "!", "rtpopuspay", "pt=96",
                 "!", "voicecall", f"url=http://127.0.0.1:{port}/call", "ice-addresses=127.0.0.1",
                 *silent, "!", "fakesink", "sync=false", "async=false"]
    return args


def measure(env, n, talking, mix, window):
    port = calls.free_port()
    callee = env.gst_launch("callee", [
        "audiotestsrc", "is-live=true", "wave=sine", "volume=0.3", "freq=440", "!",
        "opusenc", "audio-type=voice", "frame-size=20", "!", "rtpopuspay", "pt=96", "!",
        "voicecall", f"listen=127.0.0.1:{port}", "signaller::max-sessions=64",
        "ice-addresses=127.0.0.1", f"mix={mix}",
        "stats-interval=0", "!", "fakesink", "sync=false", "async=false"])
    env.wait_http(port, callee)
    time.sleep(0.5)
    rss0 = rss_kb(callee.pid)
    callers = env.gst_launch("callers", callers_pipeline(port, n, talking))
    deadline = time.monotonic() + 60
    while len(re.findall(r"voicecall-first-audio", env.log(callers))) < n:
        if time.monotonic() > deadline or callers.poll() is not None:
            raise calls.Failure(f"only {len(re.findall('voicecall-first-audio', env.log(callers)))} "
                                f"of {n} callers heard audio:\n{env.log(callers)[-2000:]}")
        time.sleep(0.1)
    time.sleep(2)
    c0, t0 = cpu_seconds(callee.pid), time.time()
    time.sleep(window)
    c1, t1 = cpu_seconds(callee.pid), time.time()
    rss = rss_kb(callee.pid)
    ended = len(re.findall(r"voicecall-session-ended", env.log(callee)))
    env.stop(callers)
    env.stop(callee)
    if ended:
        raise calls.Failure(f"{ended} session(s) ended during the measurement")
    return (c1 - c0) / (t1 - t0) * 100, rss, (rss - rss0) / n


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--participants", type=int, nargs="+", default=[4, 8, 16])
    ap.add_argument("--window", type=float, default=8)
    ap.add_argument("--baseline", action="store_true", help="also mix=first (no mixing)")
    args = ap.parse_args()
    print(f"one callee, N callers; callee CPU over {args.window:.0f} s ({os.cpu_count()} cores)")
    print(f"{'mix':<6} {'N':>3} {'talking':>8} {'CPU total':>10} {'per part.':>10} {'RSS':>8} "
          f"{'RSS/part.':>10}")
    cases = [("all", "all"), ("all", "one")] + ([("first", "all")] if args.baseline else [])
    for n in args.participants:
        for mix, who in cases:
            env = calls.Env(args.build)
            try:
                pct, rss, per_rss = measure(env, n, n if who == "all" else 1, mix, args.window)
            finally:
                env.cleanup()
            print(f"{mix:<6} {n:>3} {who:>8} {pct:>9.1f}% {pct / n:>9.2f}% {rss / 1024:>6.0f} MB "
                  f"{per_rss / 1024:>8.2f} MB", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
