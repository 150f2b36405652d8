#!/usr/bin/python3
"""Click latency of aiortc <-> aiortc over 127.0.0.1, one process per party, both ways.

    latency_aiortc.py [--clicks N]

Each party (tests/peers/aiortc_peer.py, server and client) plays a WAV of clicks (a 10 ms
1 kHz burst every 500 ms) and records what it receives, with the arrival time of each
frame (CLOCK_MONOTONIC, shared by both processes). aiortc has no playout clock: a click
counts as heard when the application gets the frame that holds its onset (a generous
reference). Prints one line per direction: median, min, max in ms, and the clicks counted,
in the format of bench-latency's table. Used by bench-latency --aiortc.
"""
import argparse
import json
import math
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import wave

PEER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peers", "aiortc_peer.py")
RATE = 48000
PERIOD = 0.5


def write_clicks(path, clicks):
    n = int((clicks + 4) * PERIOD * RATE)
    data = bytearray(n * 2)
    for k in range(clicks + 4):
        start = int(k * PERIOD * RATE)
        for i in range(RATE // 100):
            v = int(0.8 * 32767 * math.sin(2 * math.pi * 1000 * i / RATE))
            struct.pack_into("<h", data, (start + i) * 2, v)
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(bytes(data))


def onsets(path):
    """Sample indices of click onsets (after 100 ms of quiet) in a recording's 1st channel."""
    with wave.open(path, "rb") as w:
        ch, n = w.getnchannels(), w.getnframes()
        raw = w.readframes(n)
    samples = struct.unpack("<%dh" % (len(raw) // 2), raw)[::ch]
    out, quiet, in_click = [], RATE, False
    for i, s in enumerate(samples):
        loud = abs(s) > 3000
        if loud and not in_click and quiet > RATE // 10:
            out.append(i)
            in_click = True
        if loud:
            quiet = 0
        else:
            quiet += 1
            if quiet > RATE // 10:
                in_click = False
    return out


def arrival_ns(timeline, index):
    """When the frame holding sample `index` reached the application, plus the offset in it."""
    best = None
    for i, t in zip(timeline["index"], timeline["arrival_ns"]):
        if i <= index:
            best = (i, t)
        else:
            break
    i, t = best
    return t + (index - i) * 1e9 / timeline["rate"]


def latencies(rec, timeline, play_start_ns):
    lat = []
    for idx in onsets(rec)[2:]:
        t = arrival_ns(timeline, idx) - play_start_ns
        k = math.floor(t / 1e9 / PERIOD)
        lat.append((t / 1e9 - k * PERIOD) * 1000)
    return lat


def read_events(proc, until, timeout):
    events = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        tag, _, rest = line.strip().partition(" ")
        events.setdefault(tag, []).append(rest)
        if tag == until:
            break
    return events


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--clicks", type=int, default=10)
    args = p.parse_args()
    tmp = tempfile.mkdtemp(prefix="vc-latency-aiortc-")
    clicks = os.path.join(tmp, "clicks.wav")
    write_clicks(clicks, args.clicks)
    srv_rec, cli_rec = os.path.join(tmp, "server.wav"), os.path.join(tmp, "client.wav")
    server = subprocess.Popen([sys.executable, PEER, "server", "--listen", "127.0.0.1:0",
                               "--play", clicks, "--record", srv_rec, "--timeline"],
                              stdout=subprocess.PIPE, text=True)
    try:
        ev = read_events(server, "LISTENING", 20)
        addr = ev["LISTENING"][0]
        duration = (args.clicks + 3) * PERIOD
        client = subprocess.run([sys.executable, PEER, "client", "--url",
                                 "http://%s/offer" % addr, "--play", clicks, "--record", cli_rec,
                                 "--timeline", "--duration", str(duration)],
                                stdout=subprocess.PIPE, text=True, timeout=duration + 60)
        server.terminate()
        sev = read_events(server, "PC_CLOSED", 20)
        server.wait(10)
    finally:
        if server.poll() is None:
            server.kill()
    cev = {}
    for line in client.stdout.splitlines():
        tag, _, rest = line.partition(" ")
        cev.setdefault(tag, []).append(rest)
    cli_start = int(cev["PLAY_START_NS"][0])
    srv_start = int(ev.get("PLAY_START_NS", sev.get("PLAY_START_NS", ["0"]))[0])
    cli_tl = json.loads(cev["TIMELINE"][0])
    srv_tl = json.loads(sev["TIMELINE"][0].split(" ", 1)[1])
    for name, rec, tl, start in (("aiortc -> aiortc (client to server)", srv_rec, srv_tl, cli_start),
                                 ("aiortc -> aiortc (server to client)", cli_rec, cli_tl, srv_start)):
        lat = latencies(rec, tl, start)
        if not lat:
            print("%s: no clicks detected" % name)
            return 1
        print("%-44s %8.1f %8.1f %8.1f %6d" % (name, statistics.median(lat), min(lat), max(lat),
                                               len(lat)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
