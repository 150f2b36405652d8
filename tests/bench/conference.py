#!/usr/bin/python3
"""Benchmark: CPU and RSS of one conference callee (voicecall mix=all) with N participants,
against Janus AudioBridge carrying the same participants in the same run.

For each N and each case, two servers are measured one after the other, with the same
callers:

  ours   one gst-launch callee: voicecall listen= mix=all (its local source silence, what it
         hears to fakesink), taking N calls
  janus  a real Janus (Debian's janus, tests/common/janus.py: its own config dir, AudioBridge
         and plain HTTP only, on 127.0.0.1, stopped by PID) with one 48-kHz AudioBridge room,
         which the N callers join (voicecall url=janus://…?room=…&display=pI)

The callers are N voicecall elements in one other gst-launch process (each
`audiotestsrc ! opusenc ! rtpopuspay ! voicecall url=… ! fakesink`, so that 16 callers cost one
process, not 16); only they differ in their url. Two cases per N:

  all  every caller talks (a tone of its own)
  one  caller 0 talks (a tone); the others listen: audiotestsrc wave=silence, encoded and sent
       as any other audio (not voicecall's mute, which would tell Janus they are muted)

Once every caller hears audio and 2 s more, the server's CPU time (user+system,
/proc/PID/stat) is sampled over a window and given as % of one core, in total and per
participant; RSS is the server's VmRSS then, and per added participant its growth from the
server's RSS before the first call, divided by N. Only the server process (our callee, or
Janus) is measured, not the callers. `--baseline` adds our callee with mix=first (no mixing:
everyone hears only the callee), for scale; `--no-janus` leaves Janus out.

Usage: conference.py --build BUILD [--participants 4 8 16] [--window 8] [--baseline] [--no-janus]
"""
import argparse
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
import calls  # noqa: E402
import janus  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
ROOM = 1234


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK   # utime, stime


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(next(l for l in f if l.startswith("VmRSS")).split()[1])


def source(talks, freq):
    if talks:
        return ["audiotestsrc", "is-live=true", "wave=sine", "volume=0.3", f"freq={freq}"]
    return ["audiotestsrc", "is-live=true", "wave=silence"]


def callers_pipeline(urls, talking):
    """One voicecall per url; the first `talking` send a tone, the others silence."""
    args = []
    for i, url in enumerate(urls):
        args += [*source(i < talking, 500 + 37 * i), "!",
                 "opusenc", "audio-type=voice", "frame-size=20", "!", "rtpopuspay", "pt=96",
                 "!", "voicecall", f"url={url}", "ice-addresses=127.0.0.1",
                 "!", "fakesink", "sync=false", "async=false"]
    return args


def count(pattern, text):
    return len(re.findall(pattern, text))


def run_callers(env, server_pid, urls, talking, window, watch=()):
    """Starts the callers, waits until each hears audio and 2 s more, and measures the server
    over the window: (% of a core, RSS in kB). The callers are stopped; no session of theirs
    nor of the `watch` processes may have ended before."""
    n = len(urls)
    callers = env.gst_launch("callers", callers_pipeline(urls, talking))
    deadline = time.monotonic() + 60
    while count("voicecall-first-audio", env.log(callers)) < n:
        if time.monotonic() > deadline or callers.poll() is not None:
            raise calls.Failure(f"only {count('voicecall-first-audio', env.log(callers))} "
                                f"of {n} callers heard audio:\n{env.log(callers)[-2000:]}")
        time.sleep(0.1)
    time.sleep(2)
    c0, t0 = cpu_seconds(server_pid), time.monotonic()
    time.sleep(window)
    c1, t1 = cpu_seconds(server_pid), time.monotonic()
    rss = rss_kb(server_pid)
    ended = sum(count("voicecall-session-ended", env.log(p)) for p in (callers, *watch))
    env.stop(callers)
    if ended:
        raise calls.Failure(f"{ended} session(s) ended during the measurement")
    return (c1 - c0) / (t1 - t0) * 100, rss


def measure_ours(build, n, talking, mix, window):
    env = calls.Env(build)
    try:
        port = calls.free_port()
        callee = env.gst_launch("callee", [
            *source(False, 0), "!",
            "opusenc", "audio-type=voice", "frame-size=20", "!", "rtpopuspay", "pt=96", "!",
            "voicecall", f"listen=127.0.0.1:{port}", "signaller::max-sessions=64",
            "ice-addresses=127.0.0.1", f"mix={mix}",
            "stats-interval=0", "!", "fakesink", "sync=false", "async=false"])
        env.wait_http(port, callee)
        time.sleep(0.5)
        rss0 = rss_kb(callee.pid)
        pct, rss = run_callers(env, callee.pid, [f"http://127.0.0.1:{port}/call"] * n, talking,
                               window, watch=(callee,))
        env.stop(callee)
        return pct, rss, (rss - rss0) / n
    finally:
        env.cleanup()


def measure_janus(build, n, talking, window):
    env = calls.Env(build)
    shim = os.environ.get("JANUS_LOOPBACK_SHIM") or os.path.join(
        env.build, "tests", "integration", "libjanus-loopback.so")
    server = janus.Janus(env.tmp, rooms={ROOM: {}}, loopback_shim=shim)
    try:
        server.start()
        time.sleep(0.5)
        rss0 = rss_kb(server.proc.pid)
        urls = [server.janus_url(ROOM, display=f"p{i}") for i in range(n)]
        pct, rss = run_callers(env, server.proc.pid, urls, talking, window)
        return pct, rss, (rss - rss0) / n
    except RuntimeError as e:
        raise calls.Failure(str(e))
    finally:
        env.cleanup()
        server.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--participants", type=int, nargs="+", default=[4, 8, 16])
    ap.add_argument("--window", type=float, default=8)
    ap.add_argument("--baseline", action="store_true", help="also mix=first (no mixing)")
    ap.add_argument("--no-janus", action="store_true", help="leave Janus AudioBridge out")
    args = ap.parse_args()
    with_janus = not args.no_janus
    if with_janus and not janus.available():
        print(f"{janus.JANUS} or its AudioBridge plugin is missing (apt-get install janus), "
              "or run with --no-janus", file=sys.stderr)
        return 2
    print(f"one server, N callers (one gst-launch); only the server's CPU over "
          f"{args.window:.0f} s ({os.cpu_count()} cores), load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'server':<10} {'N':>3} {'talking':>8} {'CPU total':>10} {'per part.':>10} "
          f"{'RSS':>8} {'RSS/part.':>10}")
    systems = [("ours", "all")] + ([("janus", None)] if with_janus else []) + \
        ([("ours", "first")] if args.baseline else [])
    results = {}
    failed = 0
    for n in args.participants:
        for who in ("all", "one"):
            talking = n if who == "all" else 1
            for system, mix in systems:
                if mix == "first" and who == "one":
                    continue
                name = f"mix={mix}" if system == "ours" else "janus"
                try:
                    if system == "ours":
                        r = measure_ours(args.build, n, talking, mix, args.window)
                    else:
                        r = measure_janus(args.build, n, talking, args.window)
                except calls.Failure as e:
                    # A case that fails (a caller that never heard audio, a session that
                    # ended) is reported and the run goes on with the next.
                    failed += 1
                    print(f"{name:<10} {n:>3} {who:>8} failed: {str(e).splitlines()[0]}",
                          flush=True)
                    continue
                results[(name, n, who)] = r
                pct, rss, per_rss = r
                print(f"{name:<10} {n:>3} {who:>8} {pct:>9.1f}% {pct / n:>9.2f}% "
                      f"{rss / 1024:>6.0f} MB {per_rss / 1024:>8.2f} MB", flush=True)
    if with_janus:
        print("\nours (mix=all) / Janus AudioBridge, same run:")
        print(f"{'N':>3} {'talking':>8} {'CPU/part. ours':>15} {'Janus':>7} {'ratio':>6} "
              f"{'RSS/part. ours':>15} {'Janus':>9}")
        for n in args.participants:
            for who in ("all", "one"):
                o, j = results.get(("mix=all", n, who)), results.get(("janus", n, who))
                if not o or not j:
                    continue
                ratio = f"{o[0] / j[0]:.2f}" if j[0] > 0 else "-"
                print(f"{n:>3} {who:>8} {o[0] / n:>14.2f}% {j[0] / n:>6.2f}% {ratio:>6} "
                      f"{o[2] / 1024:>12.2f} MB {j[2] / 1024:>6.2f} MB")
    if failed:
        print(f"{failed} case(s) failed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
