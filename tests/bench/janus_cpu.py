#!/usr/bin/python3
"""CPU of a Janus AudioBridge room per participant: a real Janus (tests/common/janus.py), N of
our participants (gst-launch-1.0 … voicecall url=janus://…, a tone each, what they hear to a
fakesink) in one 48 kHz room, Janus's CPU time (/proc/PID/stat utime+stime) over --seconds
once all are connected, for each N of --counts. Also the mean CPU of one of our participants.

    /usr/bin/python3 tests/bench/janus_cpu.py --build build [--counts 2,4,8] [--seconds 10]
"""
import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from janus_calls import GST_FIRST_AUDIO, ROOM, JanusEnv, first_audio  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK   # utime, stime


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--counts", default="2,4,8")
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()
    rows = []
    for n in [int(c) for c in args.counts.split(",")]:
        env = JanusEnv(args.build)
        env.env.setdefault("GST_REGISTRY_1_0", os.path.join(env.tmp, "registry.bin"))
        try:
            janus = env.start_janus(rooms={ROOM: {"pin": "4321"}})
            parties = []
            for i in range(n):
                url = janus.janus_url(ROOM, display=f"p{i}", pin="4321")
                p = env.gst_launch(f"p{i}", [
                    "voicecapturebin", "noise-suppression=false", "echo-cancel=false",
                    f"source=audiotestsrc is-live=true wave=sine volume=0.3 freq={300 + 97 * i}",
                    "!", "voicecall", f"url={url}", "ice-addresses=127.0.0.1", "!",
                    "voiceplaybackbin", "sink=fakesink sync=true"])
                first_audio(env, p, GST_FIRST_AUDIO, 60)
                parties.append(p)
            time.sleep(1)
            j0 = cpu_seconds(janus.proc.pid)
            p0 = [cpu_seconds(p.pid) for p in parties]
            t0 = time.monotonic()
            time.sleep(args.seconds)
            wall = time.monotonic() - t0
            janus_cpu = (cpu_seconds(janus.proc.pid) - j0) / wall
            ours = sum(cpu_seconds(p.pid) - c for p, c in zip(parties, p0)) / wall / n
            rows.append((n, janus_cpu, ours))
            print(f"{n} participants: Janus {janus_cpu * 100:.1f} % of a core "
                  f"({janus_cpu / n * 100:.2f} % each), one of ours {ours * 100:.1f} %", flush=True)
            for p in parties:
                env.stop(p)
            env.check_output()
        finally:
            env.cleanup()
    print("participants | Janus (% of a core) | Janus per participant | one of ours")
    for n, j, o in rows:
        print(f"{n} | {j * 100:.1f} | {j / n * 100:.2f} | {o * 100:.1f}")
    if len(rows) >= 2:
        (n1, j1, _), (n2, j2, _) = rows[0], rows[-1]
        slope = (j2 - j1) / (n2 - n1)
        print(f"Janus's cost of one more participant: {slope * 100:.2f} % of a core "
              f"(about {1 / slope:.0f} participants per core)" if slope > 0 else "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
