#!/usr/bin/python3
"""The speech experiment: calls through the network lab under loss, jitter and rate caps,
scored by STOI, with latency, loss, bitrate and MOS. docs/results.md reads its output.

    tests/bench/experiment.py --build build                 # the full matrix -> docs/results/
    tests/bench/experiment.py --build build --short         # CI: 2 conditions, asserts bounds

Needs root (network namespaces), the build (voicecall plugin, gst-voicecall CLI, lab tools),
espeak-ng, python3-gi, python3-aiortc, python3-numpy and, for the plots, python3-matplotlib
(tests/install-deps.sh installs them).

For every condition and every system, one call through one lab (tests/lab/lab.sh) whose
impairments change between calls, the same both ways at the router: one-way delay 80 ms,
uniform jitter ±J ms with reordering (impair, seeded), an optional tbf rate cap, and random
loss L % (iptables statistic, as lab.sh impair --loss). Loss starts once the callee hears the
call: ICE and DTLS under 20 % loss take from seconds to never, and setup is not what is
measured here. Systems:

  gst-adaptive   gst caller -> gst callee, voicecall adaptive=true (the default)
  gst-fixed      the same with adaptive=false (bitrate 32 kbit/s, FEC for 5 % loss, 60 ms
                 jitter buffer)
  aiortc-to-gst  aiortc client (tests/peers/aiortc_peer.py, sending) -> our callee
  gst-to-aiortc  our caller (adaptive) -> aiortc server (receiving, --fill-gaps)
  aiortc         aiortc client -> aiortc server: aiortc on both ends

The caller sends a speech WAV (espeak-ng, 8 Harvard sentences, 48 kHz); the callee sends
silence and records what it hears. Voice processing is off on our side (noise-suppression,
gain-control and echo-cancel false): the measurement is about the network and the codec, and
webrtcdsp would otherwise change the speech before it is sent. The call lasts --call-seconds
from the callee's first audio.

Each recording is scored by `gst-voicecall score --blocks` (STOI against the sent speech, on
the sent speech's timeline, placed on it per second), and again placed per 250 ms
(`--block-ms=250`, the stoi_250ms column: a playout that time-stretches moves its timeline a
few ms at every stretch). Latency is mouth-to-ear, for each aligned second of the
recording, the time it would be played minus the time the caller's source produced it
(CLOCK_MONOTONIC, shared by all namespaces); the median is reported:
  - our receiver: the buffer's timestamp + the latency GStreamer makes a synchronising sink
    (a sound card) add, i.e. what `voiceplaybackbin sink=autoaudiosink` would do;
  - aiortc's receiver: when the frame reaches the application (aiortc has no playout clock).
transit_ms is the time audio reached the recorder, for both.
Network loss and bitrate are counted at the router (caller -> callee); MOS is voicecall's
own estimate at our receiver (voicecall-stats), mos_emodel the same E-model fed with the
measured latency and network loss, for every system.
"""
import argparse
import csv
import json
import math
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
LAB = os.path.join(ROOT, "tests", "lab", "lab.sh")
PARTY = os.path.join(HERE, "party.py")
PEER = os.path.join(ROOT, "tests", "peers", "aiortc_peer.py")
PY = "/usr/bin/python3"

CALLER_IP = "10.77.1.2"
CALLEE_IP = "10.77.2.2"
PORT = 8080
DELAY_MS = 80

# Harvard sentences, list 1 (IEEE 1969), the usual material of speech-quality tests.
SENTENCES = (
    "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background. "
    "It is easy to tell the depth of a well. These days a chicken leg is a rare dish. "
    "Rice is often served in round bowls. The juice of lemons makes fine punch. "
    "The box was thrown beside the parked truck. The hogs were fed chopped corn and garbage.")

SYSTEMS = ["gst-adaptive", "gst-fixed", "aiortc-to-gst", "gst-to-aiortc", "aiortc"]

FIELDS = [
    "system", "loss_pct", "jitter_ms", "rate_kbps", "delay_ms", "rep", "ok", "error",
    "stoi", "stoi_250ms", "latency_ms", "latency_p90_ms", "transit_ms", "lag_spread_ms", "correlation", "scored_s",
    "level_dbfs", "net_loss_pct", "wire_kbps", "send_kbps", "final_bitrate",
    "receiver_loss_pct", "concealed_pct", "jitter_measured_ms", "jitter_buffer_ms", "mos",
    "mos_emodel", "adaptations", "setup_ms", "record_gaps", "wall_s",
]


class Failure(Exception):
    pass


# ------------------------------------------------------------------ helpers

def run(argv, env=None, check=True, timeout=60):
    p = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise Failure("%s failed (%d): %s%s" % (" ".join(argv[:3]), p.returncode, p.stdout[-1500:],
                                                p.stderr[-1500:]))
    return p


def mos_from_r(r):
    """ITU-T G.107 R -> MOS, as gst/callstats.cpp."""
    if r <= 0:
        return 1.0
    if r >= 100:
        return 4.5
    return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6


def emodel_mos(one_way_ms, loss_fraction):
    """gst/callstats.cpp's simplified E-model (Ie 0, Bpl 20 for Opus with PLC), fed with the
    measured mouth-to-ear latency and network loss, for every system alike."""
    d = max(0.0, one_way_ms)
    i_d = 0.024 * d + (0.11 * (d - 177.3) if d > 177.3 else 0)
    ppl = min(max(loss_fraction, 0.0), 1.0) * 100
    ie_eff = 95 * ppl / (ppl + 20)
    return mos_from_r(93.2 - i_d - ie_eff)


def mean(values):
    values = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return sum(values) / len(values) if values else None


def fmt(v, digits=3):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float):
        return "%.*f" % (digits, v)
    return str(v)


# ------------------------------------------------------------------ the lab

class Lab:
    def __init__(self, build, workdir):
        self.env = dict(os.environ)
        self.env["LAB_BIN_DIR"] = os.path.join(build, "tests", "lab")
        self.env["LAB_STATE"] = os.path.join(workdir, "lab")
        self.env["LAB_QUIET"] = "1"
        self.state = self.env["LAB_STATE"]
        self.up_done = False

    def lab(self, *args, check=True):
        return run([LAB, *args], env=self.env, check=check)

    def up(self):
        self.lab("up")
        self.up_done = True
        out = self.lab("env").stdout
        self.ns = dict(re.findall(r"export LAB_(CALLER|CALLEE|ROUTER)_NS=(\S+)", out))

    def down(self):
        if self.up_done:
            self.lab("down", check=False)
            self.up_done = False

    def router(self, *argv):
        return run(["ip", "netns", "exec", self.ns["ROUTER"], *argv])

    def impair(self, jitter, rate, seed):
        """Delay, jitter and rate cap, both ways; loss comes later (set_loss)."""
        for direction, s in (("up", seed), ("down", seed + 1000)):
            args = ["impair", "--dir", direction, "--delay-ms", str(DELAY_MS),
                    "--jitter-ms", str(jitter), "--jitter-dist", "uniform", "--seed", str(s)]
            if jitter:
                args.append("--reorder")
            if rate:
                args += ["--rate", str(rate)]
            self.lab(*args)

    def set_loss(self, loss):
        """Random loss both ways from now on (iptables statistic ahead of impair's queue, as
        lab.sh impair --loss does), and counters from zero."""
        if loss:
            for chain in ("LAB_UP", "LAB_DOWN"):
                self.router("iptables", "-w", "-t", "mangle", "-I", chain, "1", "-m", "statistic",
                            "--mode", "random", "--probability", "%.4f" % (loss / 100), "-j",
                            "DROP")
        self.router("iptables", "-w", "-t", "mangle", "-Z")
        return self.counters()

    def counters(self):
        """Up direction (caller -> callee): packets and bytes offered, dropped by the loss rule,
        dropped by the rate cap (tbf's counter only grows: subtract two readings)."""
        out = self.router("iptables", "-w", "-t", "mangle", "-L", "POSTROUTING", "-v", "-x",
                          "-n").stdout
        pkts = nbytes = 0
        for line in out.splitlines():
            f = line.split()
            if len(f) >= 3 and f[2] == "LAB_UP":
                pkts, nbytes = int(f[0]), int(f[1])
        out = self.router("iptables", "-w", "-t", "mangle", "-L", "LAB_UP", "-v", "-x",
                          "-n").stdout
        lost = sum(int(line.split()[0]) for line in out.splitlines()
                   if len(line.split()) > 2 and line.split()[2] == "DROP")
        tc = self.router("tc", "-s", "qdisc", "show", "dev", "to-callee").stdout
        m = re.search(r"dropped (\d+)", tc)
        return {"packets": pkts, "bytes": nbytes, "lost": lost,
                "tbf_dropped": int(m.group(1)) if m else 0, "time": time.time()}

    def clear(self):
        self.lab("clear")


# ------------------------------------------------------------------ parties

class Proc:
    """A process in a namespace whose stdout lines are collected in a log file."""

    def __init__(self, name, ns, argv, env, workdir):
        self.name = name
        self.logpath = os.path.join(workdir, name + ".log")
        self.errpath = os.path.join(workdir, name + ".err")
        self.p = subprocess.Popen(["ip", "netns", "exec", ns, *argv], env=env,
                                  stdout=open(self.logpath, "w"), stderr=open(self.errpath, "w"),
                                  start_new_session=True)

    def text(self):
        with open(self.logpath) as f:
            return f.read()

    def events(self):
        out = []
        for line in self.text().splitlines():
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
        return out

    def wait_for(self, pattern, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = re.search(pattern, self.text())
            if m:
                return m
            if self.p.poll() is not None:
                break
            time.sleep(0.05)
        return None

    def stop(self, timeout=8):
        if self.p.poll() is None:
            os.killpg(self.p.pid, signal.SIGINT)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait()
                return False
        return True

    def kill(self):
        if self.p.poll() is None:
            os.killpg(self.p.pid, signal.SIGKILL)
            self.p.wait()

    def tail(self):
        try:
            with open(self.errpath) as f:
                err = f.read()[-800:]
        except OSError:
            err = ""
        return "%s: %s | %s" % (self.name, self.text()[-800:].replace("\n", " "),
                                err.replace("\n", " "))


# Extra properties for our parties (--call, --playback), e.g. playout=fixed for the former
# receive chain.
EXTRA = {"call": "", "playback": ""}


def gst_party(source, call, sink):
    voice = "noise-suppression=false gain-control=false echo-cancel=false"
    return ('voicecapturebin %s source="%s" ! voicecall stats-interval=1000 %s %s ! '
            'voiceplaybackbin %s sink="%s"' % (voice, source, call, EXTRA["call"],
                                               EXTRA["playback"], sink))


class Experiment:
    def __init__(self, args):
        self.args = args
        self.build = os.path.abspath(args.build)
        self.cli = os.path.join(self.build, "pipelines", "gst-voicecall")
        self.workdir = tempfile.mkdtemp(prefix="vc-experiment-")
        self.env = dict(os.environ)
        self.env["GST_PLUGIN_PATH"] = os.path.join(self.build, "plugins", "voicecall")
        self.env["GST_REGISTRY_1_0"] = os.path.join(self.workdir, "registry.bin")
        self.env["PYTHONUNBUFFERED"] = "1"
        self.lab = Lab(self.build, self.workdir)
        self.procs = []
        self.speech = os.path.join(self.workdir, "speech.wav")
        self.adaptive_supported = False

    # -------------------------------------------------------------- setup

    def check(self):
        if os.geteuid() != 0:
            raise Failure("needs root (network namespaces): run as root")
        for path in (self.cli, os.path.join(self.build, "tests", "lab", "impair")):
            if not os.path.exists(path):
                raise Failure("%s is missing: build first (ninja -C %s)" % (path, self.build))
        for tool in ("espeak-ng", "gst-launch-1.0", "gst-inspect-1.0"):
            if not shutil.which(tool):
                raise Failure("%s not found: run tests/install-deps.sh" % tool)
        out = run(["gst-inspect-1.0", "voicecall"], env=self.env).stdout
        self.adaptive_supported = re.search(r"^\s+adaptive\s+:", out, re.M) is not None
        if not self.adaptive_supported:
            print("NOTE: this build's voicecall has no 'adaptive' property: gst-adaptive and "
                  "gst-fixed run the same (non-adaptive) element", flush=True)

    def make_speech(self):
        raw = os.path.join(self.workdir, "speech-22k.wav")
        run(["espeak-ng", "-v", "en-us", "-s", "160", "-w", raw, SENTENCES])
        run(["gst-launch-1.0", "-q", "filesrc", "location=" + raw, "!", "wavparse", "!",
             "audioconvert", "!", "audioresample", "quality=10", "!",
             "audio/x-raw,format=S16LE,rate=48000,channels=1", "!", "wavenc", "!", "filesink",
             "location=" + self.speech], env=self.env)
        seconds = (os.path.getsize(self.speech) - 44) / 96000
        print("speech: %s, %.1f s (espeak-ng, 48 kHz)" % (self.speech, seconds), flush=True)
        if seconds < self.args.call_seconds + 6:
            raise Failure("the speech is shorter than a call")

    # -------------------------------------------------------------- one call

    def start(self, name, ns, argv):
        p = Proc(name, ns, argv, self.env, self.rundir)
        self.procs.append(p)
        return p

    def adaptive_prop(self, on):
        if not self.adaptive_supported:
            return ""
        return "adaptive=%s" % ("true" if on else "false")

    def call(self, system, cond, rep):
        """One call; returns the CSV row."""
        loss, jitter, rate = cond
        row = {"system": system, "loss_pct": loss, "jitter_ms": jitter, "rate_kbps": rate,
               "delay_ms": DELAY_MS, "rep": rep, "ok": 0, "error": ""}
        tag = "%s-l%g-j%g-r%g-%d" % (system, loss, jitter, rate, rep)
        self.rundir = os.path.join(self.workdir, tag)
        os.makedirs(self.rundir)
        wav = os.path.join(self.rundir, "heard.wav")
        t_wall = time.time()
        seed = 1 + rep * 7 + int(jitter * 17 + rate * 19)
        self.lab.impair(jitter, rate, seed)
        ns_caller, ns_callee = self.lab.ns["CALLER"], self.lab.ns["CALLEE"]
        gst_receiver = system in ("gst-adaptive", "gst-fixed", "aiortc-to-gst")
        gst_sender = system in ("gst-adaptive", "gst-fixed", "gst-to-aiortc")
        adaptive = system != "gst-fixed"
        try:
            # The callee (receiver) first.
            if gst_receiver:
                callee = self.start("callee", ns_callee, [PY, PARTY, gst_party(
                    "audiotestsrc is-live=true wave=silence",
                    "listen=%s:%d ice-addresses=%s %s" % (CALLEE_IP, PORT, CALLEE_IP,
                                                          self.adaptive_prop(adaptive)),
                    "wavenc name=rec ! filesink location=%s" % wav)])
                # Its live source runs once it plays (the pipeline's own PLAYING message waits
                # for the recorder to preroll, i.e. for a call).
                ready = callee.wait_for(r'"ev": "source-flowing"', 20)
                time.sleep(0.3)
            else:
                callee = self.start("callee", ns_callee, [
                    PY, PEER, "server", "--listen", "%s:%d" % (CALLEE_IP, PORT), "--freq", "0",
                    "--record", wav, "--fill-gaps", "--timeline", "--ice-address", CALLEE_IP])
                ready = callee.wait_for(r"LISTENING", 30)
            if not ready:
                raise Failure("the callee did not start: " + callee.tail())
            # Then the caller (sender).
            if gst_sender:
                path = "/call" if gst_receiver else "/offer"
                proto = "" if gst_receiver else "signaller::protocol=json"
                caller = self.start("caller", ns_caller, [PY, PARTY, gst_party(
                    "filesrc location=%s ! wavparse" % self.speech,
                    "url=http://%s:%d%s %s ice-addresses=%s %s" % (
                        CALLEE_IP, PORT, path, proto, CALLER_IP, self.adaptive_prop(adaptive)),
                    "fakesink sync=false")])
            else:
                # Our callee takes WHIP at /call; aiortc's server only JSON at /offer.
                url = "http://%s:%d%s" % (CALLEE_IP, PORT, "/call" if gst_receiver else "/offer")
                caller = self.start("caller", ns_caller, [
                    PY, PEER, "client", "--url", url,
                    "--protocol", "whip" if gst_receiver else "json", "--play", self.speech,
                    "--duration", str(self.args.call_seconds + 20), "--connect-timeout", "25",
                    "--ice-address", CALLER_IP])
            t_start = time.time()
            first = callee.wait_for(
                r'"ev": "record-start"' if gst_receiver else r"FIRST_AUDIO_NS", 30)
            if not first:
                raise Failure("no audio reached the callee within 30 s: %s || %s" % (
                    callee.tail(), caller.tail()))
            row["setup_ms"] = round((time.time() - t_start) * 1000)
            # Loss only once the call is up: ICE and DTLS under 20 % loss take from seconds
            # to never (DTLS retransmits after 1, 2, 4... s), and setup is not what this
            # measures. The first few hundred ms of the recording are therefore loss-free.
            before = self.lab.set_loss(loss)
            time.sleep(self.args.call_seconds)
            after = self.lab.counters()
            caller.stop()
            time.sleep(0.5)
            callee.stop()
            self.lab.clear()
            self.measure(row, callee, caller, gst_receiver, gst_sender, wav, before, after)
            row["ok"] = 1 if row.get("stoi") not in (None, "") else 0
        except Failure as e:
            row["error"] = str(e)[:300].replace("\n", " ")
            self.lab.clear()
        finally:
            for p in self.procs:
                p.kill()
            self.procs = []
        row["wall_s"] = round(time.time() - t_wall, 1)
        return row

    # -------------------------------------------------------------- measuring

    def measure(self, row, callee, caller, gst_receiver, gst_sender, wav, before, after):
        # Network, up direction, from the loss on.
        if after["packets"]:
            dropped = after["lost"] + after["tbf_dropped"] - before["tbf_dropped"]
            row["net_loss_pct"] = round(100.0 * dropped / after["packets"], 2)
        if after["time"] > before["time"]:
            row["wire_kbps"] = round(after["bytes"] * 8 / 1000 / (after["time"] - before["time"]), 1)

        # The sender's start and the receiver's timeline.
        if gst_sender:
            ev = [e for e in caller.events() if e["ev"] == "send-start"]
            send_start = ev[0]["abs_ns"] if ev else None
        else:
            m = re.search(r"PLAY_START_NS (\d+)", caller.text())
            send_start = int(m.group(1)) if m else None
        if gst_receiver:
            ev = [e for e in callee.events() if e["ev"] == "record-timeline"]
            timeline = None
            if ev:
                # Played by a sink that syncs: timestamp + the latency it is told to add.
                played = [p + l if p is not None else a for p, l, a in zip(
                    ev[0]["pts_abs_ns"], ev[0]["latency_ns"], ev[0]["arrival_ns"])]
                timeline = (ev[0]["index"], played, ev[0]["arrival_ns"], 48000)
            ev = [e for e in callee.events() if e["ev"] == "record-end"]
            row["record_gaps"] = ev[0]["gaps"] if ev else ""
        else:
            m = re.search(r"TIMELINE (?:pc=\d+ )?(\{.*\})", callee.text())
            t = json.loads(m.group(1)) if m else None
            # aiortc has no playout clock: a frame is played when the application gets it.
            timeline = (t["index"], t["arrival_ns"], t["arrival_ns"], t["rate"]) if t else None

        # Score.
        out = run([self.cli, "score", "--blocks", self.speech, wav], env=self.env, check=False)
        if out.returncode != 0:
            raise Failure("score: " + (out.stderr or out.stdout).strip())
        kv = dict(re.findall(r"^([a-z-]+)=(\S+)$", out.stdout, re.M))
        row["stoi"] = round(float(kv["stoi"]), 4)
        # The same recording placed per 250 ms: a playout that time-stretches moves its
        # timeline by a few ms at each stretch, which one lag per second charges as distortion.
        fine = run([self.cli, "score", "--block-ms=250", self.speech, wav], env=self.env,
                   check=False)
        m = re.search(r"^stoi=(\S+)$", fine.stdout, re.M)
        row["stoi_250ms"] = round(float(m.group(1)), 4) if fine.returncode == 0 and m else ""
        row["lag_spread_ms"] = float(kv["lag-spread-ms"])
        row["correlation"] = float(kv["correlation"])
        row["scored_s"] = float(kv["overlap-s"])
        row["level_dbfs"] = float(kv["level-dbfs"])
        blocks = [dict(re.findall(r"([a-z-]+)=(\S+)", line)) for line in out.stdout.splitlines()
                  if line.startswith("block=")]
        if send_start and timeline:
            index, played, arrival, rate = timeline
            lat, transit = [], []
            for b in blocks:
                if b.get("aligned") != "1":
                    continue
                t_ms = float(b["start-ms"]) + 500  # the middle of the block
                j = t_ms * rate / 1000
                k = max(0, _bisect(index, j) - 1)
                sent = send_start + (t_ms + float(b["lag-ms"])) * 1e6
                offset = (j - index[k]) * 1e9 / rate
                lat.append((played[k] + offset - sent) / 1e6)
                transit.append((arrival[k] + offset - sent) / 1e6)
            if lat:
                lat.sort()
                row["latency_ms"] = round(statistics.median(lat), 1)
                row["latency_p90_ms"] = round(lat[min(len(lat) - 1, int(0.9 * len(lat)))], 1)
                row["transit_ms"] = round(statistics.median(transit), 1)

        # Our receiver's statistics and adaptation.
        if gst_receiver:
            stats = [e["fields"] for e in callee.events()
                     if e["ev"] == "message" and e["name"] == "voicecall-stats"]
            stats = [s for s in stats if s.get("packets-received", 0) > 0]
            if stats:
                last = stats[-1]
                lost = last.get("cumulative-lost", 0)
                got = last.get("packets-received", 0)
                row["receiver_loss_pct"] = round(100.0 * lost / (lost + got), 2) if got else ""
                row["concealed_pct"] = round(100 * mean([s.get("concealed-ratio") for s in stats]), 2)
                row["jitter_measured_ms"] = round(mean([s.get("jitter-ms") for s in stats]), 1)
                row["mos"] = round(mean([s.get("mos") for s in stats]), 2)
            adapt = [e["fields"] for e in callee.events()
                     if e["ev"] == "message" and e["name"] == "voicecall-adaptation"]
            if adapt:
                row["jitter_buffer_ms"] = adapt[-1].get("jitter-buffer-ms", "")
        if gst_sender:
            stats = [e["fields"] for e in caller.events()
                     if e["ev"] == "message" and e["name"] == "voicecall-stats"]
            row["send_kbps"] = round(mean([s.get("send-kbps") for s in stats[1:]]) or 0, 1)
            adapt = [e["fields"] for e in caller.events()
                     if e["ev"] == "message" and e["name"] == "voicecall-adaptation"]
            row["adaptations"] = len(adapt)
            if adapt:
                row["final_bitrate"] = adapt[-1].get("bitrate", "")
        if row.get("latency_ms") not in (None, "") and row.get("net_loss_pct") not in (None, ""):
            row["mos_emodel"] = round(emodel_mos(row["latency_ms"], row["net_loss_pct"] / 100), 2)

    # -------------------------------------------------------------- the matrix

    def conditions(self):
        a = self.args
        if a.short:
            return [(0, 0, 0), (20, 0, 0)]
        losses, jitters, rates = a.loss, a.jitter, a.rate
        if a.design == "full":
            return [(l, j, r) for r in rates for j in jitters for l in losses]
        # One factor at a time, plus loss x jitter and a loss under each cap.
        conds = []
        for l in losses:
            for j in jitters:
                conds.append((l, j, 0))
        for r in rates:
            if r:
                for l in (losses[0], losses[len(losses) // 2]):
                    conds.append((l, 0, r))
        seen = set()
        return [c for c in conds if not (c in seen or seen.add(c))]

    def run(self):
        a = self.args
        self.check()
        self.make_speech()
        systems = ["gst-adaptive"] if a.short else a.systems
        conds = self.conditions()
        total = len(conds) * len(systems) * a.reps
        print("%d conditions x %d systems x %d repetitions = %d calls of ~%d s" % (
            len(conds), len(systems), a.reps, total, a.call_seconds + 5), flush=True)
        os.makedirs(a.out, exist_ok=True)
        csv_path = os.path.join(a.out, "experiment.csv")
        rows = []
        t0 = time.time()
        self.lab.up()
        try:
            with open(csv_path, "w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=FIELDS + ["adaptive_property"])
                w.writeheader()
                n = 0
                for rep in range(a.reps):
                    for cond in conds:
                        for system in systems:
                            n += 1
                            row = self.call(system, cond, rep)
                            row["adaptive_property"] = int(self.adaptive_supported)
                            rows.append(row)
                            w.writerow({k: fmt(row.get(k)) if isinstance(row.get(k), float)
                                        else row.get(k, "") for k in w.fieldnames})
                            f.flush()
                            print("[%d/%d %4.0f s] %-13s loss %2g%% jitter %2g ms rate %2g: %s" % (
                                n, total, time.time() - t0, system, *cond, summary(row)),
                                flush=True)
        finally:
            self.lab.down()
        elapsed = time.time() - t0
        meta = {"calls": total, "elapsed_s": round(elapsed), "call_seconds": a.call_seconds,
                "delay_ms": DELAY_MS, "adaptive_property": self.adaptive_supported,
                "design": "short" if a.short else a.design, "reps": a.reps,
                "command": " ".join(sys.argv)}
        with open(os.path.join(a.out, "experiment.json"), "w") as f:
            json.dump(meta, f, indent=1)
        print("%d calls in %.0f s; CSV: %s" % (total, elapsed, csv_path), flush=True)
        if not a.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)
        else:
            print("recordings and logs kept in " + self.workdir)
        return rows, meta


def _bisect(values, x):
    lo, hi = 0, len(values)
    while lo < hi:
        mid = (lo + hi) // 2
        if values[mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    return lo


def summary(row):
    if not row.get("ok"):
        return "FAILED: " + row.get("error", "")
    return "STOI %.3f (%s per 250 ms), latency %s ms, net loss %s %%, %s kbit/s on the wire, " \
        "MOS %s" % (row["stoi"], fmt(row.get("stoi_250ms")), fmt(row.get("latency_ms")), fmt(row.get("net_loss_pct")),
        fmt(row.get("wire_kbps")), fmt(row.get("mos")) or "n/a")


# ------------------------------------------------------------------ report

def aggregate(rows):
    """Mean of each metric per (system, condition) over the repetitions that worked."""
    groups = {}
    for r in rows:
        key = (r["system"], float(r["loss_pct"]), float(r["jitter_ms"]), float(r["rate_kbps"]))
        groups.setdefault(key, []).append(r)
    out = {}
    for key, rs in groups.items():
        ok = [r for r in rs if str(r.get("ok")) == "1"]
        agg = {"n": len(rs), "ok": len(ok)}
        for k in ("stoi", "stoi_250ms", "latency_ms", "net_loss_pct", "wire_kbps", "send_kbps", "mos",
                  "mos_emodel", "concealed_pct", "jitter_buffer_ms", "final_bitrate",
                  "receiver_loss_pct"):
            vals = []
            for r in ok:
                try:
                    vals.append(float(r.get(k)))
                except (TypeError, ValueError):
                    pass
            agg[k] = sum(vals) / len(vals) if vals else None
        out[key] = agg
    return out


def write_summary(rows, meta, out_dir):
    agg = aggregate(rows)
    systems = [s for s in SYSTEMS if any(k[0] == s for k in agg)]
    conds = sorted({k[1:] for k in agg}, key=lambda c: (c[2], c[1], c[0]))
    lines = ["# Experiment summary (generated by tests/bench/experiment.py)", "",
             "`%s`: %d calls in %d s (%.1f min); %d s per call after the first audio; one-way "
             "delay %d ms each way in every condition; adaptive property %s." % (
                 meta["command"], meta["calls"], meta["elapsed_s"], meta["elapsed_s"] / 60,
                 meta["call_seconds"], meta["delay_ms"],
                 "present" if meta["adaptive_property"] else "ABSENT (on = off)"),
             "", "Means over repetitions; empty = not measured (MOS needs our receiver, "
             "send kbit/s our sender); `x/y` = calls that worked / calls made.", "",
             "| loss % | jitter ms | cap kbit/s | system | STOI | STOI, 250 ms blocks | "
             "latency ms | net loss % | "
             "wire kbit/s | MOS (stats) | MOS (E-model, measured) | concealed % | jitter "
             "buffer ms | ok |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for c in conds:
        for s in systems:
            a = agg.get((s,) + c)
            if not a:
                continue
            lines.append("| %g | %g | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | "
                         "%d/%d |" % (
                c[0], c[1], "%g" % c[2] if c[2] else "none", s, fmt(a["stoi"]),
                fmt(a["stoi_250ms"]),
                fmt(a["latency_ms"], 0), fmt(a["net_loss_pct"], 1), fmt(a["wire_kbps"], 1),
                fmt(a["mos"], 2), fmt(a["mos_emodel"], 2), fmt(a["concealed_pct"], 1),
                fmt(a["jitter_buffer_ms"], 0), a["ok"], a["n"]))
    path = os.path.join(out_dir, "summary.md")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def plot(rows, out_dir):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("no plots: apt-get install python3-matplotlib", flush=True)
        return []
    agg = aggregate(rows)
    systems = [s for s in SYSTEMS if any(k[0] == s for k in agg)]
    style = {"gst-adaptive": ("C0", "o", "-"), "gst-fixed": ("C1", "s", "--"),
             "aiortc-to-gst": ("C2", "^", "-."), "gst-to-aiortc": ("C4", "v", ":"),
             "aiortc": ("C3", "D", "-")}
    written = []

    def series(system, vary, fixed, metric):
        pts = []
        for (s, l, j, r), a in agg.items():
            cond = {"loss": l, "jitter": j, "rate": r}
            if s != system or any(cond[k] != v for k, v in fixed.items()):
                continue
            if a.get(metric) is not None:
                pts.append((cond[vary], a[metric]))
        return sorted(pts)

    def line_plot(ax, vary, fixed, metric, xlabel, ylabel, title):
        for s in systems:
            pts = series(s, vary, fixed, metric)
            if pts:
                c, m, ls = style[s]
                ax.plot([p[0] for p in pts], [p[1] for p in pts], color=c, marker=m, ls=ls,
                        label=s)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)

    def save(fig, name):
        for ext in ("png", "svg"):
            p = os.path.join(out_dir, "%s.%s" % (name, ext))
            fig.savefig(p, dpi=110, bbox_inches="tight")
            written.append(p)
        plt.close(fig)

    # 1. Loss: STOI, MOS, latency (no jitter, no cap).
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    line_plot(axes[0], "loss", {"jitter": 0, "rate": 0}, "stoi", "packet loss each way (%)",
              "STOI", "Intelligibility vs loss (jitter 0, no cap)")
    line_plot(axes[1], "loss", {"jitter": 0, "rate": 0}, "mos_emodel",
              "packet loss each way (%)", "MOS (E-model from measured latency and loss)",
              "MOS estimate vs loss")
    for s in ("gst-adaptive", "gst-fixed", "aiortc-to-gst"):
        pts = series(s, "loss", {"jitter": 0, "rate": 0}, "mos")
        if pts:
            c, m, _ = style[s]
            axes[1].plot([p[0] for p in pts], [p[1] for p in pts], color=c, marker=m, ls="none",
                         mfc="none", ms=9, label=s + " (voicecall-stats)")
    line_plot(axes[2], "loss", {"jitter": 0, "rate": 0}, "latency_ms",
              "packet loss each way (%)", "mouth-to-ear latency (ms)", "Latency vs loss")
    axes[0].legend(fontsize=8)
    axes[1].legend(fontsize=7)
    save(fig, "stoi-vs-loss")

    # 2. Jitter: STOI and latency (loss 0), and at the middle loss.
    losses = sorted({k[1] for k in agg})
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for l, ls_override in ((losses[0], None), (losses[len(losses) // 2], ":")):
        for s in systems:
            pts = series(s, "jitter", {"loss": l, "rate": 0}, "stoi")
            lat = series(s, "jitter", {"loss": l, "rate": 0}, "latency_ms")
            if len(pts) > 1:
                c, m, ls = style[s]
                axes[0].plot([p[0] for p in pts], [p[1] for p in pts], color=c, marker=m,
                             ls=ls_override or ls, label="%s, loss %g%%" % (s, l))
            if len(lat) > 1:
                c, m, ls = style[s]
                axes[1].plot([p[0] for p in lat], [p[1] for p in lat], color=c, marker=m,
                             ls=ls_override or ls, label="%s, loss %g%%" % (s, l))
        if len(losses) < 2:
            break
    axes[0].set_xlabel("jitter ± ms (uniform, around 80 ms delay)")
    axes[0].set_ylabel("STOI")
    axes[0].set_title("Intelligibility vs jitter", fontsize=10)
    axes[1].set_xlabel("jitter ± ms (uniform, around 80 ms delay)")
    axes[1].set_ylabel("mouth-to-ear latency (ms)")
    axes[1].set_title("Latency vs jitter", fontsize=10)
    for ax in axes:
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    save(fig, "stoi-vs-jitter")

    # 3. Rate caps: STOI, bitrate, MOS per system.
    rates = sorted({k[3] for k in agg})
    if len(rates) > 1:
        fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
        width = 0.8 / max(1, len(systems))
        l0 = losses[0]
        for i, s in enumerate(systems):
            for ax, metric in zip(axes, ("stoi", "wire_kbps", "mos_emodel")):
                vals = []
                for r in rates:
                    a = agg.get((s, l0, 0.0, r))
                    vals.append(a[metric] if a and a[metric] is not None else float("nan"))
                xs = [k + (i - (len(systems) - 1) / 2) * width for k in range(len(rates))]
                ax.bar(xs, vals, width, color=style[s][0], label=s)
        for ax, (ylabel, title) in zip(axes, (
                ("STOI", "Intelligibility under a rate cap (loss %g%%)" % l0),
                ("kbit/s on the wire, caller -> callee", "Offered bitrate"),
                ("MOS (E-model, measured)", "MOS estimate"))):
            ax.set_xticks(range(len(rates)))
            ax.set_xticklabels(["none" if r == 0 else "%g kbit/s" % r for r in rates])
            ax.set_ylabel(ylabel)
            ax.set_title(title, fontsize=10)
            ax.grid(alpha=0.3, axis="y")
        axes[1].axhline(y=0, color="k", lw=0.5)
        for r_i, r in enumerate(rates):
            if r:
                axes[1].plot([r_i - 0.45, r_i + 0.45], [r, r], color="k", ls="--", lw=1)
        axes[0].legend(fontsize=8)
        save(fig, "rate-caps")
    return written


# ------------------------------------------------------------------ main

def check_short(rows):
    """The CI bounds."""
    by_loss = {float(r["loss_pct"]): r for r in rows}
    problems = []
    clean, lossy = by_loss.get(0.0), by_loss.get(20.0)
    for name, r in (("0 %", clean), ("20 %", lossy)):
        if not r or not r.get("ok"):
            problems.append("the call at %s loss failed: %s" % (name, r.get("error") if r else "?"))
    if problems:
        return problems
    # The adaptive playout (voiceplaybackbin's default) time-stretches: its timeline moves a
    # few ms at every stretch, which STOI placed per second scores as distortion, and more so
    # on a loaded machine. Placed per 250 ms it scores the audio (see "What is measured").
    key = "stoi_250ms" if clean.get("stoi_250ms") not in (None, "") and \
        lossy.get("stoi_250ms") not in (None, "") else "stoi"
    if not clean[key] > 0.9:
        problems.append("%s at 0 %% loss is %.3f, expected > 0.9" % (key, clean[key]))
    if not lossy[key] < clean[key]:
        problems.append("%s at 20 %% loss (%.3f) is not below 0 %% (%.3f)" % (
            key, lossy[key], clean[key]))
    if not lossy[key] > 0.5:
        problems.append("%s at 20 %% loss is %.3f: concealment and FEC should keep it above "
                        "0.5" % (key, lossy[key]))
    for name, r in (("0 %", clean), ("20 %", lossy)):
        lat = r.get("latency_ms")
        if lat in (None, "") or not DELAY_MS < lat < 1000:
            problems.append("latency at %s loss is %s ms, expected between the path's %d ms and "
                            "1000 ms" % (name, lat, DELAY_MS))
        if r.get("net_loss_pct") in (None, ""):
            problems.append("no network loss counted at %s" % name)
    if not 10 <= lossy.get("net_loss_pct", 0) <= 30:
        problems.append("the lab dropped %s %% at 20 %% loss" % lossy.get("net_loss_pct"))
    if clean.get("mos") in (None, "") or not clean["mos"] > 3.5:
        problems.append("MOS at 0 %% loss is %s, expected > 3.5" % clean.get("mos"))
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build", help="meson build directory")
    ap.add_argument("--out", help="where the CSV, plots and summary go (default docs/results; "
                    "--short: a temporary directory)")
    ap.add_argument("--short", action="store_true",
                    help="CI: gst-adaptive at 0 and 20 %% loss, check bounds, exit 1 if off")
    ap.add_argument("--systems", default=",".join(SYSTEMS),
                    help="comma-separated, of: " + ", ".join(SYSTEMS))
    ap.add_argument("--loss", default="0,5,10,20", help="loss %% each way, default 0,5,10,20")
    ap.add_argument("--jitter", default="0,30,80", help="jitter ± ms, default 0,30,80")
    ap.add_argument("--rate", default="0,64,24", help="rate caps kbit/s (0 none), default 0,64,24")
    ap.add_argument("--design", choices=["sweep", "full"], default="sweep",
                    help="sweep: loss x jitter without cap, plus each cap at the lowest and the "
                    "middle loss; full: every combination")
    ap.add_argument("--reps", type=int, default=1, help="repetitions of every call, default 1")
    ap.add_argument("--call-seconds", type=int, default=12,
                    help="seconds of call after the first audio, default 12 (--short: 8)")
    ap.add_argument("--keep", action="store_true", help="keep the recordings and logs")
    ap.add_argument("--call", default="",
                    help="more voicecall properties for our parties, e.g. 'latency=20'")
    ap.add_argument("--playback", default="",
                    help="voiceplaybackbin properties for our parties, e.g. 'playout=fixed'")
    ap.add_argument("--no-plots", action="store_true")
    args = ap.parse_args()
    EXTRA["call"], EXTRA["playback"] = args.call, args.playback
    args.systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    for s in args.systems:
        if s not in SYSTEMS:
            ap.error("unknown system %s" % s)
    args.loss = [float(x) for x in args.loss.split(",")]
    args.jitter = [float(x) for x in args.jitter.split(",")]
    args.rate = [float(x) for x in args.rate.split(",")]
    if args.short and args.call_seconds == 12:
        args.call_seconds = 8
    tmp_out = None
    if not args.out:
        if args.short:
            args.out = tmp_out = tempfile.mkdtemp(prefix="vc-experiment-short-")
        else:
            args.out = os.path.join(ROOT, "docs", "results")

    exp = Experiment(args)

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        rows, meta = exp.run()
    except Failure as e:
        print("experiment: " + str(e), flush=True)
        return 1
    except KeyboardInterrupt:
        print("experiment: interrupted", flush=True)
        return 1
    finally:
        for p in exp.procs:
            p.kill()
        exp.lab.down()

    path = write_summary(rows, meta, args.out)
    print(open(path).read())
    if not args.no_plots and not args.short:
        for p in plot(rows, args.out):
            print("plot: " + p)
    if args.short:
        problems = check_short(rows)
        for p in problems:
            print("FAIL: " + p)
        if tmp_out:
            shutil.rmtree(tmp_out, ignore_errors=True)
        print("experiment-short: %s" % ("FAIL" if problems else "PASS"))
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
