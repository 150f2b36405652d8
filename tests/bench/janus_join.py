#!/usr/bin/python3
"""Join time of a Janus AudioBridge room: ours (gst-launch-1.0 … voicecall url=janus://…)
against aiortc (tests/peers/aiortc_janus.py, plain HTTP), taking turns into the same room.

A real Janus (tests/common/janus.py) with one participant already talking (aiortc, 1000 Hz);
then --rounds times: our party joins, hears the room, leaves; aiortc joins, hears the room,
leaves. The join time is from the start of the call (ours: voicecall-first-audio setup-ms,
from the session's start; aiortc: FIRST_AUDIO_MS, from before its "create") to the first
decoded audio of the room's mix, and from the launch of the process to that line (ours pays
GStreamer's start, aiortc Python's imports).

    /usr/bin/python3 tests/bench/janus_join.py --build build [--rounds 5]
"""
import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from janus_calls import (AIORTC_FIRST_AUDIO, CAROL, GST_FIRST_AUDIO, ROOM, JanusEnv,  # noqa: E402
                         first_audio)


def summary(label, values):
    return (f"{label}: median {statistics.median(values):.0f} ms, min {min(values):.0f}, "
            f"max {max(values):.0f} (n={len(values)})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    env = JanusEnv(args.build)
    env.env.setdefault("GST_REGISTRY_1_0", os.path.join(env.tmp, "registry.bin"))
    ours, ours_wall, theirs, theirs_wall = [], [], [], []
    try:
        env.start_janus(rooms={ROOM: {"pin": "4321"}})
        talker = env.aiortc_party("talker", CAROL, "talker")
        first_audio(env, talker, AIORTC_FIRST_AUDIO, 30)
        # a first run of ours fills the plugin registry, not counted
        warm = env.gst_party("warm", 440, "warm")
        first_audio(env, warm, GST_FIRST_AUDIO, 60)
        env.stop(warm)
        for i in range(args.rounds):
            p = env.gst_party(f"gst{i}", 440, f"gst{i}")
            call, wall = first_audio(env, p, GST_FIRST_AUDIO)
            ours.append(call)
            ours_wall.append(wall)
            env.stop(p)
            a = env.aiortc_party(f"aiortc{i}", 660, f"aiortc{i}")
            call, wall = first_audio(env, a, AIORTC_FIRST_AUDIO)
            theirs.append(call)
            theirs_wall.append(wall)
            env.stop(a)
            print(f"round {i + 1}: ours {ours[-1]:.0f} ms ({ours_wall[-1]:.0f} from launch), "
                  f"aiortc {theirs[-1]:.0f} ms ({theirs_wall[-1]:.0f} from launch)", flush=True)
        env.stop(talker)
        env.check_output()
    finally:
        env.cleanup()
    print("join time, call start → first audio from the room")
    print("  " + summary("ours (voicecall url=janus://)", ours))
    print("  " + summary("aiortc 1.4 (plain HTTP)", theirs))
    print("join time, process launch → first audio from the room")
    print("  " + summary("ours (gst-launch-1.0)", ours_wall))
    print("  " + summary("aiortc 1.4 (python3)", theirs_wall))
    return 0


if __name__ == "__main__":
    sys.exit(main())
