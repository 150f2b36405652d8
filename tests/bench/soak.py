#!/usr/bin/python3
"""Benchmark: does a callee hold up over many calls? Prints figures; asserts nothing.

One gst-launch-1.0 callee (voicecall listen=127.0.0.1:PORT) takes, in one run:

  sequential  N calls one after the other from an in-process caller (python3-gi, the same
              pipeline set PLAYING and NULL again: WHIP POST, ICE/DTLS, audio, BYE + DELETE);
              every K-th call is instead a gst-launch-1.0 caller killed with SIGKILL once its
              audio flows (no goodbye: the callee must end it by peer-timeout). The callee's
              open fds, threads and RSS are printed at 0 calls and at each checkpoint, once
              every session has ended (voicecall-session-state ended = started).
  concurrent  C gst-launch-1.0 callers at once (max-sessions raised to C); each records what
              it hears, and its dominant frequency must be the callee's tone.
  slowloris   S connections to the callee that send half a request and stay open, while a real
              caller calls: its setup time (first audio) against the same call without them.

Usage: soak.py --build BUILD [--calls 1000] [--kill-every 10] [--concurrent 30]
               [--slowloris 800] [PART ...]         (PART: sequential, concurrent, slowloris)
"""
import argparse
import os
import re
import resource
import socket
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import calls  # noqa: E402

import gi  # noqa: E402
gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

CALLEE_HZ = 880


def usage(pid):
    """(fds, threads, RSS MiB) of a process."""
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    threads = rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                threads = int(line.split()[1])
            elif line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
    return fds, threads, rss


def count(env, proc, pattern):
    return len(re.findall(pattern, env.log(proc)))


def wait_idle(env, callee, timeout=30):
    """Until every session the callee started has ended."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        started = count(env, callee, r"voicecall-session-state, state=\(string\)connecting")
        ended = count(env, callee, r"voicecall-session-state, reason=")
        if started == ended:
            return started
        time.sleep(0.1)
    raise calls.Failure(f"sessions still open after {timeout} s")


def start_callee(env, port, extra=()):
    callee = calls.callee_gst(env, port, CALLEE_HZ, "/dev/null", extra)
    env.wait_http(port, callee)
    return callee


class InProcessCaller:
    """One caller pipeline, reused for every call."""

    def __init__(self, port):
        self.pipeline = Gst.parse_launch(
            "voicecapturebin noise-suppression=false echo-cancel=false "
            "source=\"audiotestsrc is-live=true freq=440\" ! "
            f"voicecall url=http://127.0.0.1:{port}/call ice-addresses=127.0.0.1 "
            "stats-interval=0 ! voiceplaybackbin sink=fakesink")
        self.bus = self.pipeline.get_bus()

    def call(self, talk_s=0.3, timeout_s=15):
        self.pipeline.set_state(Gst.State.PLAYING)
        deadline = time.time() + timeout_s
        ok = False
        while time.time() < deadline:
            msg = self.bus.timed_pop_filtered(100 * Gst.MSECOND,
                                              Gst.MessageType.ELEMENT | Gst.MessageType.ERROR)
            if msg is None:
                continue
            if msg.type == Gst.MessageType.ERROR:
                raise calls.Failure(f"caller error: {msg.parse_error()[0].message}")
            if msg.get_structure().get_name() == "voicecall-first-audio":
                ok = True
                break
        if not ok:
            self.pipeline.set_state(Gst.State.NULL)
            raise calls.Failure("a sequential call got no audio")
        time.sleep(talk_s)
        self.pipeline.set_state(Gst.State.NULL)  # BYE + DELETE
        while self.bus.pop():
            pass


def killed_call(env, port, i):
    caller = env.gst_launch(f"killed{i}", env.party(440, [
        f"url=http://127.0.0.1:{port}/call", "ice-addresses=127.0.0.1"], "/dev/null"))
    env.wait_for(caller, r"voicecall-first-audio", 20)
    caller.kill()
    caller.wait()
    env.procs.remove(caller)


def part_sequential(env, args):
    port = calls.free_port()
    callee = start_callee(env, port, ["stats-interval=0"])
    caller = InProcessCaller(port)
    checkpoints = sorted({0, 100, 500, args.calls} | {c for c in (10, 50) if c < args.calls})
    checkpoints = [c for c in checkpoints if c <= args.calls]
    rows, killed, t0 = [], 0, time.time()
    for i in range(args.calls + 1):
        if i in checkpoints:
            sessions = wait_idle(env, callee, timeout=30)
            fds, threads, rss = usage(callee.pid)
            rows.append((i, fds, threads, rss, sessions))
            print(f"  after {i:5d} calls ({killed} killed): fds {fds:4d}  threads {threads:3d}  "
                  f"RSS {rss:7.1f} MiB  ({time.time() - t0:.0f} s)", flush=True)
        if i == args.calls:
            break
        if args.kill_every and i % args.kill_every == args.kill_every - 1:
            killed_call(env, port, i)
            killed += 1
        else:
            caller.call()
    caller.pipeline.set_state(Gst.State.NULL)
    ended = count(env, callee, r"voicecall-session-state, reason=")
    timeouts = count(env, callee, r"voicecall-session-state, reason=\(string\)timeout")
    hangups = count(env, callee, r"voicecall-session-state, reason=\(string\)\"remote\\ hang-up\"")
    print(f"  {ended} sessions ended: {hangups} remote hang-up, {timeouts} timeout "
          f"(killed callers: {killed})")
    first, last = rows[0], rows[-1]
    print(f"  growth over {last[0]} calls: fds {last[1] - first[1]:+d}, threads "
          f"{last[2] - first[2]:+d}, RSS {last[3] - first[3]:+.1f} MiB")
    env.stop(callee)


def part_concurrent(env, args):
    port = calls.free_port()
    n = args.concurrent
    callee = start_callee(env, port, [f"signaller::max-sessions={n}", "stats-interval=0",
                                      "connect-timeout=30000"])
    callers = []
    t0 = time.time()
    # One caller every 0.3 s: each new process spends ~0.3 s of CPU on its DTLS key, and 30
    # at once on 2 cores would be a test of process start-up, not of the callee.
    for i in range(n):
        callers.append(env.gst_launch(f"caller{i}", env.party(300 + 10 * i, [
            f"url=http://127.0.0.1:{port}/call", "ice-addresses=127.0.0.1",
            "stats-interval=0", "connect-timeout=30000"], env.path(f"caller{i}.wav"))))
        time.sleep(0.3)
    for c in callers:
        env.wait_for(c, r"voicecall-first-audio", 60)
    print(f"  {n} callers connected and hearing within {time.time() - t0:.1f} s")
    fds, threads, rss = usage(callee.pid)
    print(f"  callee with {n} calls: fds {fds}, threads {threads}, RSS {rss:.1f} MiB")
    time.sleep(3)
    for c in callers:
        env.stop(c, timeout=20)
    good = 0
    for i in range(n):
        hz = env.frequency(env.path(f"caller{i}.wav"))
        good += abs(hz - CALLEE_HZ) <= CALLEE_HZ * 0.02
    print(f"  {good}/{n} callers heard the callee's {CALLEE_HZ} Hz")
    env.stop(callee)


def setup_ms(env, port, name):
    caller = env.gst_launch(name, env.party(440, [
        f"url=http://127.0.0.1:{port}/call", "ice-addresses=127.0.0.1"], "/dev/null"))
    m = env.wait_for(caller, r"voicecall-first-audio.*?setup-ms=\(double\)([0-9.]+)", 30)
    env.stop(caller)
    return float(m.group(1))


def part_slowloris(env, args):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, args.slowloris + 256)), hard))
    port = calls.free_port()
    callee = start_callee(env, port)
    quiet = [setup_ms(env, port, f"quiet{i}") for i in range(3)]
    socks, refused = [], 0
    for _ in range(args.slowloris):
        s = socket.socket()
        try:
            s.settimeout(2)
            s.connect(("127.0.0.1", port))
            s.send(b"POST /call HTTP/1.1\r\nHost: x\r\nContent-Type: application/sdp\r\n")
            socks.append(s)
        except OSError:
            refused += 1
            s.close()
    fds, threads, rss = usage(callee.pid)
    print(f"  {len(socks)} half-sent requests held open ({refused} refused); callee fds {fds}")
    loaded = [setup_ms(env, port, f"loaded{i}") for i in range(3)]
    waiting = answered = closed = 0
    for s in socks:
        try:
            s.settimeout(0)
            data = s.recv(64)
            if data.startswith(b"HTTP/1.1 "):
                answered += 1  # 408 (the oldest went to make room) or 503
            else:
                closed += 1
        except BlockingIOError:
            waiting += 1       # still held by the server
        except OSError:
            closed += 1
        s.close()
    print(f"  setup (session → first audio), median of 3: {statistics.median(quiet):.0f} ms "
          f"without, {statistics.median(loaded):.0f} ms with them")
    print(f"  at the end: {waiting} still held by the server, {answered} answered (408/503), "
          f"{closed} closed")
    env.stop(callee)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--kill-every", type=int, default=10)
    ap.add_argument("--concurrent", type=int, default=30)
    ap.add_argument("--slowloris", type=int, default=800)
    ap.add_argument("parts", nargs="*", default=["sequential", "concurrent", "slowloris"])
    args = ap.parse_args()
    env = calls.Env(args.build)
    os.environ.update(env.env)
    Gst.init(None)
    try:
        for part in args.parts:
            print(f"{part}:", flush=True)
            globals()[f"part_{part}"](env, args)
    except calls.Failure as e:
        print(f"FAILED: {e}")
        return 1
    finally:
        env.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
