#!/usr/bin/python3
"""gst-voicecall integration tests: real calls between separate processes over 127.0.0.1.

Each case starts its own processes (gst-launch-1.0, the gst-voicecall CLI, real aiortc),
lets them talk, hangs up with SIGINT (gst-launch -e turns it into EOS, so WAVs are
finalised), and checks by content: the dominant frequency each side recorded must be the
tone the other side sent (within 2 %).

Usage: calls.py --build BUILD_DIR CASE [CASE ...]    (calls.py --list for the cases)
Exit status 0 when every case passed.
"""
import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
PEER = os.path.join(HERE, "..", "peers", "aiortc_peer.py")
PEER_WATCH = os.path.join(HERE, "aiortc_watch.py")  # the same peer, and TRACK_ENDED lines
PY = "/usr/bin/python3"


# What GLib's default log handler prints for g_critical / g_warning (any domain):
# "(gst-launch-1.0:123): GStreamer-CRITICAL **: 05:25:07.394: ..." or "** (x:1): WARNING **: ...".
GLIB_COMPLAINT = re.compile(r"(CRITICAL|WARNING) \*\*: ")


class Failure(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Env:
    def __init__(self, build):
        self.build = os.path.abspath(build)
        self.cli = os.path.join(self.build, "pipelines", "gst-voicecall")
        self.env = dict(os.environ)
        self.env["GST_PLUGIN_PATH"] = os.path.join(self.build, "plugins", "voicecall")
        self.tmp = tempfile.mkdtemp(prefix="vc-int-")
        self.procs = []

    def path(self, name):
        return os.path.join(self.tmp, name)

    def start(self, name, argv, env=None, stdin=None):
        """Starts a process; a thread copies its output to NAME.log and notes when each line
        came (time.monotonic()), for wait_line. stdin=subprocess.PIPE to type keys into it."""
        log = open(self.path(name + ".log"), "w")
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             env=env or self.env, start_new_session=True, stdin=stdin)
        p.name, p.logpath, p.lines, p.started = name, log.name, [], time.monotonic()

        def copy():
            for raw in iter(p.stdout.readline, b""):
                line = raw.decode("utf-8", "replace")
                p.lines.append((time.monotonic(), line.rstrip("\n")))
                log.write(line)
                log.flush()
            log.close()

        p.reader = threading.Thread(target=copy, daemon=True)
        p.reader.start()
        self.procs.append(p)
        return p

    def log(self, p):
        with open(p.logpath) as f:
            return f.read()

    def wait_line(self, proc, pattern, timeout, after=0.0):
        """The time.monotonic() at which a line matching pattern came (after `after`), and
        the match."""
        deadline = time.monotonic() + timeout
        while True:
            for t, line in list(proc.lines):
                m = re.search(pattern, line) if t >= after else None
                if m:
                    return t, m
            if time.monotonic() > deadline or (proc.poll() is not None and not proc.reader.is_alive()):
                break
            time.sleep(0.01)
        raise Failure(f"{proc.name}: no line matching '{pattern}' within {timeout} s:\n{self.log(proc)[-3000:]}")

    def exits_by_itself(self, proc, timeout):
        """Waits for proc to exit on its own; returns (exit status, when)."""
        try:
            rc = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise Failure(f"{proc.name} did not exit by itself within {timeout} s:\n{self.log(proc)[-2000:]}")
        proc.reader.join(5)
        return rc, time.monotonic()

    def check_output(self):
        """Fails on any GLib CRITICAL or WARNING printed by a process this case started."""
        for p in self.procs:
            if p.poll() is not None:
                p.reader.join(5)
            for _, line in list(p.lines):
                if GLIB_COMPLAINT.search(line):
                    raise Failure(f"{p.name} printed a GLib warning: {line.strip()}\n"
                                  f"(full log: {p.logpath})")

    def stop(self, p, timeout=10):
        """SIGINT (hang-up), then wait; SIGKILL if it does not end."""
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                raise Failure(f"{p.name} did not exit within {timeout} s of SIGINT:\n{self.log(p)[-2000:]}")
        return p.returncode

    def print_logs(self):
        """After a failure: the end of each process's log."""
        for p in self.procs:
            print(f"--- log of {p.name} ({p.logpath})")
            print(self.log(p)[-1500:])

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()

    def gst_launch(self, name, pipeline):
        return self.start(name, ["gst-launch-1.0", "-e", "-m"] + pipeline)

    def party(self, freq, call_props, wav):
        return ["voicecapturebin", "noise-suppression=false",
                f"source=audiotestsrc is-live=true wave=sine volume=0.3 freq={freq}",
                "!", "voicecall"] + call_props + \
               ["!", "voiceplaybackbin", f"sink=wavenc ! filesink location={wav}"]

    def wait_http(self, port, proc, timeout=10):
        """Waits until the callee answers OPTIONS on its port."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if proc.poll() is not None:
                raise Failure(f"{proc.name} exited early:\n{self.log(proc)[-2000:]}")
            try:
                req = urllib.request.Request(f"http://127.0.0.1:{port}/call", method="OPTIONS")
                urllib.request.urlopen(req, timeout=1)
                return
            except urllib.error.HTTPError:
                return  # it answers
            except OSError:
                time.sleep(0.1)
        raise Failure(f"{proc.name} is not listening on {port} after {timeout} s")

    def wait_for(self, proc, pattern, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = re.search(pattern, self.log(proc))
            if m:
                return m
            if proc.poll() is not None:
                break
            time.sleep(0.1)
        raise Failure(f"{proc.name}: no '{pattern}' within {timeout} s:\n{self.log(proc)[-3000:]}")

    def frequency(self, wav):
        out = subprocess.run([self.cli, "analyze", wav], capture_output=True, text=True, env=self.env)
        m = re.search(r"dominant frequency ([0-9.]+) Hz", out.stdout)
        if out.returncode != 0 or not m:
            raise Failure(f"cannot analyse {wav}: {out.stdout}{out.stderr}")
        return float(m.group(1))

    def expect_tone(self, label, wav, hz):
        got = self.frequency(wav)
        print(f"  {label}: {got:.1f} Hz (expected {hz})")
        if abs(got - hz) > hz * 0.02:
            raise Failure(f"{label} heard {got:.1f} Hz, expected {hz} Hz ({wav})")


def callee_gst(env, port, freq, wav, extra=()):
    return env.gst_launch("callee", env.party(freq, [f"listen=127.0.0.1:{port}",
                                                     "ice-addresses=127.0.0.1", *extra], wav))


# ---- cases ------------------------------------------------------------------------------

def gst_to_gst(env, protocol):
    port = free_port()
    callee = callee_gst(env, port, 880, env.path("callee.wav"))
    env.wait_http(port, callee)
    path = "/call" if protocol == "whip" else "/offer"
    caller = env.gst_launch("caller", env.party(440, [
        f"url=http://127.0.0.1:{port}{path}", f"signaller::protocol={protocol}",
        "ice-addresses=127.0.0.1"], env.path("caller.wav")))
    env.wait_for(caller, r"voicecall-first-audio", 20)
    env.wait_for(callee, r"voicecall-first-audio", 20)
    time.sleep(2)
    env.stop(caller)
    # The callee sees the hang-up (WHIP: DELETE; JSON: the connection closes).
    if protocol == "whip":
        env.wait_for(callee, r"voicecall-session-ended", 10)
    env.stop(callee)
    env.expect_tone("caller heard", env.path("caller.wav"), 880)
    env.expect_tone("callee heard", env.path("callee.wav"), 440)


def case_gst_whip(env):
    """gst-launch caller → gst-launch callee, WHIP."""
    gst_to_gst(env, "whip")


def case_gst_json(env):
    """gst-launch caller → gst-launch callee, the aiortc JSON protocol at /offer."""
    gst_to_gst(env, "json")


def case_gst_to_aiortc(env):
    """our caller → a real aiortc server speaking the seed's /offer protocol."""
    port = free_port()
    server = env.start("aiortc-server", [PY, PEER, "server", "--listen", f"127.0.0.1:{port}",
                                         "--freq", "1000", "--record", env.path("aiortc.wav")])
    env.wait_for(server, r"LISTENING", 20)
    caller = env.gst_launch("caller", env.party(440, [
        f"url=http://127.0.0.1:{port}/offer", "signaller::protocol=json",
        "ice-addresses=127.0.0.1"], env.path("caller.wav")))
    env.wait_for(caller, r"voicecall-first-audio", 20)
    time.sleep(3)
    env.stop(caller)
    env.stop(server)
    env.expect_tone("our caller heard", env.path("caller.wav"), 1000)
    env.expect_tone("aiortc server heard", env.path("aiortc.wav"), 440)


def case_gst_to_aiortc_muted(env):
    """our caller with mute=true → a real aiortc server: aiortc decodes our silence frames to silence (its recording is long but below -50 dBFS) while we hear its tone."""
    port = free_port()
    server = env.start("aiortc-server", [PY, PEER, "server", "--listen", f"127.0.0.1:{port}",
                                         "--freq", "1000", "--record", env.path("aiortc.wav")])
    env.wait_for(server, r"LISTENING", 20)
    caller = env.gst_launch("caller", env.party(440, [
        f"url=http://127.0.0.1:{port}/offer", "signaller::protocol=json",
        "ice-addresses=127.0.0.1", "mute=true"], env.path("caller.wav")))
    env.wait_for(caller, r"voicecall-first-audio", 20)
    time.sleep(3)
    env.stop(caller)
    env.stop(server)
    env.expect_tone("our muted caller heard", env.path("caller.wav"), 1000)
    levels = level_windows(env.path("aiortc.wav"), 0.5)
    print(f"  aiortc recorded {len(levels) * 0.5:.1f} s, loudest half second {max(levels):.1f} dBFS")
    if len(levels) < 4 or max(levels) > -50:
        raise Failure(f"aiortc recorded {len(levels) * 0.5:.1f} s at up to {max(levels):.1f} dBFS from "
                      "our muted caller, expected at least 2 s of silence")


def aiortc_to_gst(env, protocol):
    port = free_port()
    callee = callee_gst(env, port, 880, env.path("callee.wav"))
    env.wait_http(port, callee)
    path = "/call" if protocol == "whip" else "/offer"
    client = env.start("aiortc-client", [PY, PEER, "client", "--url",
                                         f"http://127.0.0.1:{port}{path}", "--protocol", protocol,
                                         "--freq", "660", "--duration", "3",
                                         "--record", env.path("aiortc.wav")])
    try:
        rc = client.wait(40)
    except subprocess.TimeoutExpired:
        raise Failure("aiortc client did not finish in 40 s:\n" + env.log(client)[-3000:])
    if rc != 0:
        raise Failure(f"aiortc client exited {rc}:\n{env.log(client)[-3000:]}\n--- callee:\n{env.log(callee)[-3000:]}")
    m = re.search(r"FIRST_AUDIO_MS (\d+)", env.log(client))
    print(f"  aiortc client: first audio after {m.group(1) if m else '?'} ms")
    if protocol == "whip":
        env.wait_for(callee, r"voicecall-session-ended", 10)
    env.stop(callee)
    env.expect_tone("aiortc client heard", env.path("aiortc.wav"), 880)
    env.expect_tone("our callee heard", env.path("callee.wav"), 660)


def case_aiortc_json_to_gst(env):
    """a real aiortc client → our callee, JSON /offer."""
    aiortc_to_gst(env, "json")


def case_aiortc_whip_to_gst(env):
    """a real aiortc client → our callee, WHIP."""
    aiortc_to_gst(env, "whip")


def case_two_callers(env):
    """one callee, two callers at once; the first hangs up, the second keeps talking."""
    port = free_port()
    callee = callee_gst(env, port, 880, env.path("callee.wav"))
    env.wait_http(port, callee)
    first = env.gst_launch("caller1", env.party(440, [
        f"url=http://127.0.0.1:{port}/call", "ice-addresses=127.0.0.1"], env.path("c1.wav")))
    env.wait_for(first, r"voicecall-first-audio", 20)
    second = env.gst_launch("caller2", env.party(660, [
        f"url=http://127.0.0.1:{port}/call", "ice-addresses=127.0.0.1"], env.path("c2.wav")))
    env.wait_for(second, r"voicecall-first-audio", 20)
    time.sleep(1.5)
    env.stop(first)
    env.wait_for(callee, r"voicecall-session-ended", 10)
    # The second call goes on: its recording keeps growing after the first hung up.
    size = os.path.getsize(env.path("c2.wav")) if os.path.exists(env.path("c2.wav")) else 0
    time.sleep(2.5)
    if second.poll() is not None:
        raise Failure("the second caller ended when the first hung up:\n" + env.log(second)[-2000:])
    grown = os.path.getsize(env.path("c2.wav")) - size
    print(f"  second caller's recording grew by {grown} bytes in 2.5 s after the first hung up")
    if grown < 48000 * 2 * 2:  # at least 1 s of 48 kHz 16-bit mono audio
        raise Failure(f"the second call stalled after the first hung up (grew {grown} bytes)")
    env.stop(second)
    env.stop(callee)
    env.expect_tone("first caller heard", env.path("c1.wav"), 880)
    env.expect_tone("second caller heard", env.path("c2.wav"), 880)
    # We hear the first caller; after it hung up, the second one: the end of the recording is
    # the second caller's (the whole file may be mostly the first's).
    hz = tail_frequency(env.path("callee.wav"), 1.5)
    print(f"  callee heard at the end: {hz:.1f} Hz (expected the second caller's 660)")
    if abs(hz - 660) > 660 * 0.02:
        raise Failure(f"after the first caller hung up the callee heard {hz:.1f} Hz, expected the second caller's 660 Hz")


def tone_levels(path, t_start, t_first, seconds, tones=(440, 660, 880, 1100)):
    """The level (dB) of each tone in `seconds` of a 16-bit WAV whose first sample was heard
    at monotonic time t_first, from monotonic time t_start on (Hann window, the peak within
    10 Hz of each tone)."""
    import wave
    import numpy as np
    with wave.open(path, "rb") as w:
        rate, channels = w.getframerate(), w.getnchannels()
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(float) / 32768
    x = x.reshape(-1, channels).mean(axis=1)
    a = int(max(0.0, t_start - t_first) * rate)
    x = x[a:a + int(seconds * rate)]
    if len(x) < seconds * rate * 0.9:
        raise Failure(f"{path}: only {len(x) / rate:.2f} s from {t_start - t_first:.2f} s on, "
                      f"{seconds} s wanted")
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x)))) / len(x)
    freqs = np.fft.rfftfreq(len(x), 1 / rate)
    return {hz: 20 * np.log10(spec[(freqs > hz - 10) & (freqs < hz + 10)].max() + 1e-12)
            for hz in tones}


def expect_mix(label, levels, heard):
    """Each tone in `heard` within 25 dB of the loudest of the four, every other one at least
    35 dB below it."""
    loudest = max(levels.values())
    text = " ".join(f"{hz}:{db:.0f}" for hz, db in levels.items())
    print(f"  {label} (dB): {text}")
    for hz, db in levels.items():
        if hz in heard and db < loudest - 25:
            raise Failure(f"{label} does not hear {hz} Hz ({text})")
        if hz not in heard and db > loudest - 35:
            raise Failure(f"{label} hears {hz} Hz ({text})")


def case_conference(env):
    """a mix=all callee (440 Hz), two gst-launch callers (660, 880 Hz) and a real aiortc client (1100 Hz): each hears the other three and not itself; the 880-Hz caller hangs up and is gone from everyone's mix a second later."""
    port = free_port()
    callee = callee_gst(env, port, 440, env.path("callee.wav"), ["mix=all"])
    env.wait_http(port, callee)
    first = {}
    callers = {}
    for hz in (660, 880):
        callers[hz] = env.gst_launch(f"caller{hz}", env.party(hz, [
            f"url=http://127.0.0.1:{port}/call", "ice-addresses=127.0.0.1"],
            env.path(f"c{hz}.wav")))
        first[hz], _ = env.wait_line(callers[hz], r"voicecall-first-audio", 20)
    first[440], _ = env.wait_line(callee, r"voicecall-first-audio", 5)
    client = env.start("aiortc-client", [PY, PEER, "client", "--url",
                                         f"http://127.0.0.1:{port}/call", "--protocol", "whip",
                                         "--freq", "1100", "--duration", "6",
                                         "--record", env.path("aiortc.wav")])
    _, m = env.wait_line(client, r"FIRST_AUDIO_NS (\d+)", 20)
    first[1100] = int(m.group(1)) / 1e9
    t_all = time.monotonic() + 0.5
    time.sleep(2.5)
    t_leave = time.monotonic()
    env.stop(callers[880])
    time.sleep(2.2)
    t_end = time.monotonic()
    env.stop(callers[660])
    try:
        rc = client.wait(20)
    except subprocess.TimeoutExpired:
        raise Failure("aiortc client did not finish:\n" + env.log(client)[-2000:])
    if rc != 0:
        raise Failure(f"aiortc client exited {rc}:\n{env.log(client)[-2000:]}")
    env.stop(callee)
    wavs = {440: "callee.wav", 660: "c660.wav", 880: "c880.wav", 1100: "aiortc.wav"}
    both = t_leave - 0.2 - t_all
    for hz, wav in wavs.items():
        expect_mix(f"{wav} with all four", tone_levels(env.path(wav), t_all, first[hz], both),
                   {440, 660, 880, 1100} - {hz})
    for hz in (440, 660, 1100):
        wav = wavs[hz]
        expect_mix(f"{wav} from 1 s after 880 left",
                   tone_levels(env.path(wav), t_leave + 1.0, first[hz], t_end - 0.1 - t_leave - 1.0),
                   {440, 660, 1100} - {hz})


def case_cli(env):
    """the CLI: serve and call, with the live status line."""
    port = free_port()
    serve = env.start("serve", [env.cli, "serve", "--listen", f"127.0.0.1:{port}",
                                "--source", "tone:880", "--sink", "wav:" + env.path("serve.wav"),
                                "--ice-address", "127.0.0.1"])
    env.wait_http(port, serve)
    call = env.start("call", [env.cli, "call", f"http://127.0.0.1:{port}/call", "--source",
                              "tone:440", "--sink", "wav:" + env.path("call.wav"),
                              "--ice-address", "127.0.0.1", "--seconds", "5"])
    try:
        rc = call.wait(30)
    except subprocess.TimeoutExpired:
        raise Failure("call did not end after --seconds 5:\n" + env.log(call)[-2000:])
    log = env.log(call)
    if rc != 0:
        raise Failure(f"call exited {rc}:\n{log[-2000:]}")
    # ... and the playout delay voiceplaybackbin reports (the adaptive playout, the default:
    # about a packet on loopback, where the fixed chain's opusdec would hold 120 ms)
    status = re.findall(r"rtt \d+ ms \| loss [0-9.]+% \| jitter [0-9.]+ ms \| send \d+ kbit/s .*\| MOS [0-9.]+ \| playout (\d+) ms", log)
    if not status:
        raise Failure("no live status line with stats:\n" + log[-2000:])
    if int(status[-1]) >= 100:
        raise Failure(f"playout {status[-1]} ms on loopback:\n" + log[-2000:])
    # The life of the call, a line each; the status line shows the call's duration and the
    # selected candidate types.
    for pattern in [r"call \S+ with \S+: connecting", r"call \S+ with \S+: connected",
                    r"\[call 00:0[1-4]\] connected host/host \| rtt",
                    r"call \S+ with \S+: ended: local hang-up after [0-9.]+ s$",
                    r"call: call over: local hang-up"]:
        if not re.search(pattern, log, re.M):
            raise Failure(f"no line matching '{pattern}' in the call's output:\n{log[-2000:]}")
    t_end, _ = session_ended(env, serve, 0, 5, CLI_ENDED)
    # Back to waiting, with no stale call, stats or received level.
    env.wait_line(serve, r"^\[serve\] waiting for calls \| in -?\d+ dB$", 3, t_end)
    env.stop(serve)
    env.expect_tone("call heard", env.path("call.wav"), 880)
    env.expect_tone("serve heard", env.path("serve.wav"), 440)


def level_windows(path, window_s=0.1):
    """The RMS level (dBFS) of each window_s of a 16-bit WAV."""
    import wave
    import numpy as np
    with wave.open(path, "rb") as w:
        rate, channels = w.getframerate(), w.getnchannels()
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(float) / 32768
    x = x.reshape(-1, channels).mean(axis=1)
    n = int(window_s * rate)
    return [10 * np.log10(np.mean(x[i:i + n] ** 2) + 1e-12) for i in range(0, len(x) - n + 1, n)]


def type_keys(proc, keys):
    proc.stdin.write(keys.encode())
    proc.stdin.flush()


def case_cli_keys(env):
    """gst-voicecall call driven by keys on stdin: m mutes (serve's recording goes silent, then the tone comes back), the status line says muted, digits go as DTMF (serve prints them in order), h hangs up (exit 0)."""
    port = free_port()
    serve = env.start("serve", [env.cli, "serve", "--listen", f"127.0.0.1:{port}", "--source",
                                "tone:880", "--sink", "wav:" + env.path("serve.wav"),
                                "--ice-address", "127.0.0.1"])
    env.wait_http(port, serve)
    call = env.start("call", [env.cli, "call", f"http://127.0.0.1:{port}/call", "--source",
                              "tone:440", "--sink", "none", "--ice-address", "127.0.0.1"],
                     stdin=subprocess.PIPE)
    t0, _ = env.wait_line(call, r"hearing them", 20)
    time.sleep(1)
    type_keys(call, "m")
    t1, _ = env.wait_line(call, r": muted \(they hear silence\)$", 3, t0)
    time.sleep(2)
    type_keys(call, "m")
    t2, _ = env.wait_line(call, r": unmuted$", 3, t1)
    time.sleep(1.5)
    type_keys(call, "12#")
    digits = []
    deadline = time.monotonic() + 5
    while len(digits) < 3 and time.monotonic() < deadline:
        digits = [m.group(1) for _, l in list(serve.lines) for m in [re.search(r": DTMF (\S) \((\d+) ms\)$", l)] if m]
        time.sleep(0.05)
    print(f"  serve printed DTMF {' '.join(digits) or 'nothing'}")
    if digits != ["1", "2", "#"]:
        raise Failure(f"serve printed DTMF {digits}, expected 1 2 #:\n{env.log(serve)[-2000:]}")
    t3 = time.monotonic()
    type_keys(call, "h")
    rc, _ = env.exits_by_itself(call, 5)
    log = env.log(call)
    if rc != 0 or "call over: local hang-up" not in log:
        raise Failure(f"h: expected exit 0 and 'call over: local hang-up' (exit {rc}):\n{log[-2000:]}")
    print(f"  h: call exited {rc} {(time.monotonic() - t3) * 1000:.0f} ms after the key")
    if not re.search(r"^\[call 00:\d\d\] connected .*\| muted \|", log, re.M):
        raise Failure("the status line never said muted:\n" + log[-2000:])
    session_ended(env, serve, t3, 5, CLI_ENDED)
    env.stop(serve)
    # serve's recording: the tone, then silence for the ~2 s of mute, then the tone again.
    levels = level_windows(env.path("serve.wav"))
    loud = [db > -35 for db in levels]
    silent = [db < -50 for db in levels]
    runs, i = [], 0
    while i < len(levels):  # the silent runs between loud audio
        if silent[i] and any(loud[:i]):
            j = i
            while j < len(levels) and not loud[j]:
                j += 1
            if j < len(levels) and sum(silent[i:j]) >= 0.8 * (j - i):
                runs.append((i, j))
            i = j
        else:
            i += 1
    longest = max(((j - i) * 0.1 for i, j in runs), default=0)
    print(f"  serve's recording: longest silence between tones {longest:.1f} s (muted for "
          f"{t2 - t1:.1f} s by the caller's clock)")
    if not 1.2 <= longest <= (t2 - t1) + 1.0:
        raise Failure(f"serve's recording has a silence of {longest:.1f} s between tones, expected "
                      f"about the {t2 - t1:.1f} s of mute (levels: {[round(x) for x in levels]})")
    env.expect_tone("serve heard", env.path("serve.wav"), 440)


def case_cli_remote_hangup(env):
    """gst-voicecall call, the callee (serve --seconds 4) hangs up: call exits by itself, status 0, saying why."""
    port = free_port()
    serve = env.start("serve", [env.cli, "serve", "--listen", f"127.0.0.1:{port}", "--quiet",
                                "--source", "tone:880", "--sink", "none", "--ice-address", "127.0.0.1",
                                "--seconds", "4"])
    env.wait_http(port, serve)
    call = env.start("call", [env.cli, "call", f"http://127.0.0.1:{port}/call", "--source",
                              "tone:440", "--sink", "wav:" + env.path("call.wav"), "--quiet",
                              "--ice-address", "127.0.0.1"])
    t0, _ = session_ended(env, serve, 0, 15, CLI_ENDED)
    rc, t1 = env.exits_by_itself(call, 5)
    log = env.log(call)
    print(f"  call exited {rc} {(t1 - t0) * 1000:.0f} ms after serve hung up")
    if rc != 0 or not re.search(r"ended: remote hang-up after [0-9.]+ s$", log, re.M) \
            or "call over: remote hang-up" not in log:
        raise Failure(f"expected exit status 0 and lines saying 'remote hang-up' (exit {rc}):\n{log[-2000:]}")
    env.exits_by_itself(serve, 5)
    wav_frames(env.path("call.wav"))
    env.expect_tone("call heard", env.path("call.wav"), 880)


def case_cli_callee_killed(env):
    """gst-voicecall call whose callee is killed (-9): it exits by itself, status 5 (timeout), saying why."""
    port = free_port()
    serve = env.start("serve", [env.cli, "serve", "--listen", f"127.0.0.1:{port}", "--quiet",
                                "--source", "tone:880", "--sink", "none", "--ice-address", "127.0.0.1"])
    env.wait_http(port, serve)
    call = env.start("call", [env.cli, "call", f"http://127.0.0.1:{port}/call", "--source",
                              "tone:440", "--sink", "wav:" + env.path("call.wav"), "--quiet",
                              "--ice-address", "127.0.0.1", "--peer-timeout", str(PEER_TIMEOUT_MS)])
    env.wait_for(call, r"hearing them", 20)
    time.sleep(1)
    t0 = time.monotonic()
    serve.kill()
    rc, t1 = env.exits_by_itself(call, PEER_TIMEOUT_MS / 1000 + 6)
    log = env.log(call)
    print(f"  call exited {rc} {(t1 - t0) * 1000:.0f} ms after the callee was killed")
    if rc != 5 or not re.search(r"ended: timeout.* after [0-9.]+ s", log) or "call failed: timeout" not in log:
        raise Failure(f"expected exit status 5 and lines saying 'timeout' (exit {rc}):\n{log[-2000:]}")
    wav_frames(env.path("call.wav"))
    env.expect_tone("call heard", env.path("call.wav"), 880)


def case_cli_clean_stops(env):
    """serve stopped with no call, and serve/call with a broken source: no GLib CRITICAL or WARNING."""
    port = free_port()
    serve = env.start("serve", [env.cli, "serve", "--listen", f"127.0.0.1:{port}", "--source",
                                "tone:880", "--sink", "wav:" + env.path("serve.wav"),
                                "--ice-address", "127.0.0.1"])
    env.wait_http(port, serve)
    time.sleep(1)
    rc = env.stop(serve)
    if rc != 0:
        raise Failure(f"serve stopped with no call exited {rc}:\n{env.log(serve)[-2000:]}")
    bad = env.path("not-audio.wav")
    with open(bad, "w") as f:
        f.write("this is not a WAV file\n")
    for role, extra in [("serve", ["--listen", f"127.0.0.1:{free_port()}"]),
                        ("call", [f"http://127.0.0.1:{port}/call"])]:
        p = env.start(role + "-bad-source", [env.cli, role, *extra, "--source", "wav:" + bad,
                                             "--sink", "none", "--ice-address", "127.0.0.1"])
        rc, _ = env.exits_by_itself(p, 10)
        log = env.log(p)
        if rc != 1 or "error" not in log:
            raise Failure(f"{role} with a broken source: expected exit 1 and an error (exit {rc}):\n{log[-2000:]}")
        print(f"  {role} with a broken source: " + next(l for l in log.splitlines() if "error" in l))
    # env.check_output() (after every case) fails it on any CRITICAL / WARNING.


def case_cli_start_truths(env):
    """The CLI says what it really does at start: the URL it bound, a taken port as an error
    (and no 'answering' line), bad option values refused, and no microphone explained."""
    serve = env.start("serve-any-port", [env.cli, "serve", "--listen", "127.0.0.1", "--quiet",
                                         "--source", "tone:880", "--sink", "none"])
    m = env.wait_for(serve, r"answering calls on http://127\.0\.0\.1:(\d+)/call", 10)
    port = int(m.group(1))
    if port == 0:
        raise Failure("serve without a port printed port 0")
    env.wait_http(port, serve)  # it really answers there
    print(f"  --listen 127.0.0.1 answers on the port it printed ({port})")
    taken = env.start("serve-taken", [env.cli, "serve", "--listen", f"127.0.0.1:{port}",
                                      "--quiet", "--source", "tone:880", "--sink", "none"])
    rc, _ = env.exits_by_itself(taken, 10)
    log = env.log(taken)
    if rc == 0 or "answering calls" in log or "Address already in use" not in log:
        raise Failure(f"serve on a taken port: exit {rc}:\n{log[-1500:]}")
    print("  a taken port: " + next(l for l in log.splitlines() if "already in use" in l))
    env.stop(serve)
    for argv, expect in [(["serve", "--seconds", "-5", "--source", "tone:880"], ">= 0"),
                         (["call", f"http://127.0.0.1:{port}/call", "--peer-timeout", "-3",
                           "--source", "tone:880"], ">= 0")]:
        p = env.start("bad-value", [env.cli, *argv])
        rc, _ = env.exits_by_itself(p, 10)
        if rc != 2 or expect not in env.log(p):
            raise Failure(f"{' '.join(argv)}: exit {rc}:\n{env.log(p)[-1500:]}")
    print("  negative --seconds / --peer-timeout refused (exit 2)")
    if not os.path.exists("/proc/asound/cards") or "no soundcards" in open("/proc/asound/cards").read():
        p = env.start("no-mic", [env.cli, "call", f"http://127.0.0.1:{port}/call"])
        rc, _ = env.exits_by_itself(p, 10)
        log = env.log(p)
        if rc != 2 or "--source tone:440" not in log or "ALSA" in log:
            raise Failure(f"call without a microphone: exit {rc}:\n{log[-1500:]}")
        print("  no microphone: " + log.strip().splitlines()[0])


def case_cli_refused(env):
    """gst-voicecall call without the callee's token: refused (401), exit status 3, saying why."""
    port = free_port()
    serve = env.start("serve", [env.cli, "serve", "--listen", f"127.0.0.1:{port}", "--quiet",
                                "--source", "tone:880", "--sink", "none", "--token", "SECRET",
                                "--ice-address", "127.0.0.1"])
    env.wait_http(port, serve)
    call = env.start("call", [env.cli, "call", f"http://127.0.0.1:{port}/call", "--source",
                              "tone:440", "--sink", "none", "--quiet", "--ice-address", "127.0.0.1"])
    rc, _ = env.exits_by_itself(call, 15)
    log = env.log(call)
    print(f"  call exited {rc}: " + (log.strip().splitlines() or [""])[-1])
    if rc != 3 or "call failed: refused" not in log or "401" not in log:
        raise Failure(f"expected exit status 3, 'call failed: refused' and the 401 (exit {rc}):\n{log[-2000:]}")
    env.stop(serve)


def case_unreachable(env):
    """calling a port where nothing listens: an error naming the URL, no hang."""
    port = free_port()
    caller = env.gst_launch("caller", env.party(440, [f"url=http://127.0.0.1:{port}/call",
                                                      "ice-addresses=127.0.0.1"],
                                                env.path("caller.wav")))
    try:
        rc = caller.wait(20)
    except subprocess.TimeoutExpired:
        raise Failure("the caller hangs when the callee is unreachable")
    log = env.log(caller)
    if rc == 0 or f"127.0.0.1:{port}/call" not in log:
        raise Failure(f"expected an error naming the URL (exit {rc}):\n{log[-2000:]}")
    print("  " + next(l for l in log.splitlines() if "ERROR" in l))

# ---- the end of a call ------------------------------------------------------------------

# gst-launch-1.0 -m prints our bus messages; the end of a session is voicecall-session-state
# with state=ended (and voicecall-session-ended). The CLI prints "call ID with PEER: ended...".
GST_ENDED = r"voicecall-session-state.*state=\(string\)ended|voicecall-session-ended"
CLI_ENDED = r"call \S+ with .*: ended(?: before it connected)?: (.*?)(?: after [0-9.]+ s)?$"
END_LIMIT = 1.0  # a hang-up must be noticed within this many seconds


def reason_of(line):
    """The reason field of a gst-launch -m bus message line, or of a CLI 'ended:' line."""
    m = re.search(r'reason=\(string\)("(?:[^"\\]|\\.)*"|[^,;]*)', line)
    if m:
        return re.sub(r"\\(.)", r"\1", m.group(1).strip('"'))
    m = re.search(CLI_ENDED, line)
    return m.group(1).split(" (")[0] if m else None


def session_ended(env, proc, after, timeout, pattern=GST_ENDED):
    """Waits for proc to report the end of a session (a line after `after`): (when, reason)."""
    t, m = env.wait_line(proc, pattern, timeout, after)
    line = next(l for tt, l in proc.lines if tt == t and re.search(pattern, l))
    return t, reason_of(line)


def expect_end(label, t0, t1, reason, want_reason, limit):
    took = t1 - t0
    print(f"  {label}: ended ({reason}) {took * 1000:.0f} ms after the hang-up (limit {limit * 1000:.0f} ms)")
    if reason != want_reason:
        raise Failure(f"{label}: session ended with reason {reason!r}, expected {want_reason!r}")
    if took > limit:
        raise Failure(f"{label}: noticed the end after {took:.2f} s, more than {limit} s")


def wav_frames(path):
    """Checks that a WAV was finalised (its header's data size matches the file); returns
    its number of frames."""
    import wave
    try:
        with wave.open(path, "rb") as w:
            frames, width, channels = w.getnframes(), w.getsampwidth(), w.getnchannels()
    except (OSError, EOFError, wave.Error) as e:
        raise Failure(f"{path} is not a valid WAV: {e}")
    data = os.path.getsize(path) - 44
    if frames == 0 or abs(frames * width * channels - data) > 64:
        raise Failure(f"{path} was not finalised: header says {frames} frames, the file holds "
                      f"{data // (width * channels)}")
    return frames


def tail_frequency(path, seconds):
    """Dominant frequency of the last `seconds` of a 16-bit WAV (Hann window, peak bin)."""
    import wave
    import numpy as np
    with wave.open(path, "rb") as w:
        rate, channels = w.getframerate(), w.getnchannels()
        n = w.getnframes()
        w.setpos(max(0, n - int(seconds * rate)))
        x = np.frombuffer(w.readframes(n), dtype="<i2").astype(float)
    x = x.reshape(-1, channels).mean(axis=1)
    if len(x) < rate // 4:
        raise Failure(f"{path}: only {len(x)} frames to analyse")
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    spec[: int(20 * len(x) / rate)] = 0
    return np.argmax(spec) * rate / len(x)


def connected_pair(env, caller_props, callee_props=(), protocol="whip", caller_freq=440,
                   callee_freq=880):
    """A gst-launch callee and a gst-launch caller in a call, both hearing each other."""
    port = free_port()
    callee = callee_gst(env, port, callee_freq, env.path("callee.wav"), callee_props)
    env.wait_http(port, callee)
    path = "/call" if protocol == "whip" else "/offer"
    caller = env.gst_launch("caller", env.party(caller_freq, [
        f"url=http://127.0.0.1:{port}{path}", f"signaller::protocol={protocol}",
        "ice-addresses=127.0.0.1", *caller_props], env.path("caller.wav")))
    env.wait_for(caller, r"voicecall-first-audio", 20)
    env.wait_for(callee, r"voicecall-first-audio", 20)
    time.sleep(1.5)
    return callee, caller


def case_callee_hangs_up(env):
    """the callee (gst-launch -e) is stopped with SIGINT: our caller ends within 1 s, exits by itself, WAV valid."""
    callee, caller = connected_pair(env, [])
    t0 = time.monotonic()
    callee.send_signal(signal.SIGINT)
    t1, reason = session_ended(env, caller, t0, 10)
    expect_end("caller", t0, t1, reason, "remote hang-up", END_LIMIT)
    rc, t2 = env.exits_by_itself(caller, 5)
    print(f"  caller's gst-launch exited {rc} by itself {(t2 - t0) * 1000:.0f} ms after the hang-up")
    if rc != 0:
        raise Failure(f"the caller exited {rc}:\n{env.log(caller)[-2000:]}")
    env.stop(callee)
    wav_frames(env.path("caller.wav"))
    env.expect_tone("caller heard", env.path("caller.wav"), 880)
    env.expect_tone("callee heard", env.path("callee.wav"), 440)


def caller_hangs_up(env, protocol):
    callee, caller = connected_pair(env, [], protocol=protocol)
    t0 = time.monotonic()
    caller.send_signal(signal.SIGINT)
    t1, reason = session_ended(env, callee, t0, 10)
    expect_end("callee", t0, t1, reason, "remote hang-up", END_LIMIT)
    env.stop(caller)
    env.stop(callee)
    env.expect_tone("caller heard", env.path("caller.wav"), 880)
    env.expect_tone("callee heard", env.path("callee.wav"), 440)


def case_caller_hangs_up_whip(env):
    """the caller (gst-launch -e, WHIP) is stopped with SIGINT: the callee ends within 1 s."""
    caller_hangs_up(env, "whip")


def case_caller_hangs_up_json(env):
    """the caller (gst-launch -e, JSON: no DELETE; the signalling connection closes) hangs up: the callee ends within 1 s."""
    caller_hangs_up(env, "json")


def case_serve_seconds_hangs_up(env):
    """gst-voicecall serve --seconds 5 hangs up by itself: our caller ends within 1 s and exits, WAV valid."""
    port = free_port()
    serve = env.start("serve", [env.cli, "serve", "--listen", f"127.0.0.1:{port}", "--quiet",
                                "--source", "tone:880", "--sink", "wav:" + env.path("serve.wav"),
                                "--ice-address", "127.0.0.1", "--seconds", "5"])
    env.wait_http(port, serve)
    caller = env.gst_launch("caller", env.party(440, [
        f"url=http://127.0.0.1:{port}/call", "ice-addresses=127.0.0.1"], env.path("caller.wav")))
    env.wait_for(caller, r"voicecall-first-audio", 20)
    # serve's own line for its hang-up is when it ended the call.
    t0, reason = session_ended(env, serve, 0, 10, CLI_ENDED)
    if reason != "local hang-up":
        raise Failure(f"serve --seconds ended its call with {reason!r}, expected 'local hang-up'")
    t1, reason = session_ended(env, caller, 0, 10)
    expect_end("caller", t0, t1, reason, "remote hang-up", END_LIMIT)
    rc, _ = env.exits_by_itself(caller, 5)
    if rc != 0:
        raise Failure(f"the caller exited {rc}:\n{env.log(caller)[-2000:]}")
    rc, _ = env.exits_by_itself(serve, 10)
    if rc != 0:
        raise Failure(f"serve --seconds exited {rc}:\n{env.log(serve)[-2000:]}")
    wav_frames(env.path("caller.wav"))
    env.expect_tone("caller heard", env.path("caller.wav"), 880)
    env.expect_tone("serve heard", env.path("serve.wav"), 440)


def case_aiortc_sees_our_hangup(env):
    """our caller hangs up on a real aiortc server (JSON: no DELETE): aiortc's track or connection ends within 1 s."""
    port = free_port()
    server = env.start("aiortc-server", [PY, PEER_WATCH, "server", "--listen", f"127.0.0.1:{port}",
                                         "--freq", "1000", "--record", env.path("aiortc.wav")])
    env.wait_for(server, r"LISTENING", 20)
    caller = env.gst_launch("caller", env.party(440, [
        f"url=http://127.0.0.1:{port}/offer", "signaller::protocol=json",
        "ice-addresses=127.0.0.1"], env.path("caller.wav")))
    env.wait_for(caller, r"voicecall-first-audio", 20)
    env.wait_for(server, r"FIRST_AUDIO_MS", 10)
    time.sleep(1.5)
    t0 = time.monotonic()
    caller.send_signal(signal.SIGINT)
    # RTCP BYE ends aiortc's track; DTLS close_notify closes its connection.
    t1, m = env.wait_line(server, r"^(TRACK_ENDED|STATE pc=1 connection=(?:closed|failed))", 10, t0)
    took = t1 - t0
    print(f"  aiortc: {m.group(1)} {took * 1000:.0f} ms after our hang-up (limit {END_LIMIT * 1000:.0f} ms)")
    if "failed" in m.group(1) or took > END_LIMIT:
        raise Failure(f"aiortc saw {m.group(1)} after {took:.2f} s, expected the track to end or the "
                      f"connection to close within {END_LIMIT} s")
    try:
        t2, m2 = env.wait_line(server, r"^STATE pc=1 connection=\S+", 1.5, t0)
        print(f"  aiortc: {m2.group(0)} {(t2 - t0) * 1000:.0f} ms after our hang-up")
    except Failure:
        print("  aiortc: its connectionState did not change within 1.5 s (no DTLS close_notify)")
    env.stop(caller)
    env.stop(server)
    env.expect_tone("our caller heard", env.path("caller.wav"), 1000)
    env.expect_tone("aiortc server heard", env.path("aiortc.wav"), 440)


def case_we_see_aiortc_hangup(env):
    """a real aiortc client (JSON: no DELETE) hangs up after 3 s: our callee ends within 1 s."""
    port = free_port()
    callee = callee_gst(env, port, 880, env.path("callee.wav"))
    env.wait_http(port, callee)
    client = env.start("aiortc-client", [PY, PEER, "client", "--url", f"http://127.0.0.1:{port}/offer",
                                         "--protocol", "json", "--freq", "660", "--duration", "3",
                                         "--record", env.path("aiortc.wav")])
    env.wait_for(callee, r"voicecall-first-audio", 20)
    t0, _ = env.wait_line(client, r"^HANGUP", 20)
    t1, reason = session_ended(env, callee, 0, 10)
    expect_end("our callee", t0, t1, reason, "remote hang-up", END_LIMIT)
    rc, _ = env.exits_by_itself(client, 10)
    if rc != 0:
        raise Failure(f"aiortc client exited {rc}:\n{env.log(client)[-2000:]}")
    env.stop(callee)
    env.expect_tone("aiortc client heard", env.path("aiortc.wav"), 880)
    env.expect_tone("our callee heard", env.path("callee.wav"), 660)


PEER_TIMEOUT_MS = 2000


def case_caller_killed(env):
    """kill -9 of a caller: serve ends its call within peer-timeout + 1 s (timeout), and a new call works."""
    port = free_port()
    serve = env.start("serve", [env.cli, "serve", "--listen", f"127.0.0.1:{port}", "--quiet",
                                "--source", "tone:880", "--sink", "wav:" + env.path("serve.wav"),
                                "--ice-address", "127.0.0.1", "--peer-timeout", str(PEER_TIMEOUT_MS)])
    env.wait_http(port, serve)
    first = env.gst_launch("caller1", env.party(440, [
        f"url=http://127.0.0.1:{port}/call", "ice-addresses=127.0.0.1"], env.path("c1.wav")))
    env.wait_for(first, r"voicecall-first-audio", 20)
    time.sleep(1)
    t0 = time.monotonic()
    first.kill()
    t1, reason = session_ended(env, serve, t0, 10, CLI_ENDED)
    expect_end("serve", t0, t1, reason, "timeout", PEER_TIMEOUT_MS / 1000 + 1)
    second = env.gst_launch("caller2", env.party(660, [
        f"url=http://127.0.0.1:{port}/call", "ice-addresses=127.0.0.1"], env.path("c2.wav")))
    env.wait_for(second, r"voicecall-first-audio", 20)
    time.sleep(2)
    env.stop(second)
    session_ended(env, serve, t1 + 0.001, 5, CLI_ENDED)
    if serve.poll() is not None:
        raise Failure("serve exited:\n" + env.log(serve)[-2000:])
    env.stop(serve)
    env.expect_tone("the new caller heard", env.path("c2.wav"), 880)
    hz = tail_frequency(env.path("serve.wav"), 1.0)
    print(f"  serve heard at the end: {hz:.1f} Hz (expected the new caller's 660)")
    if abs(hz - 660) > 660 * 0.02:
        raise Failure(f"serve heard {hz:.1f} Hz from the new caller, expected 660 Hz")


def case_callee_killed(env):
    """kill -9 of the callee: our caller ends within peer-timeout + 1 s (timeout) and gst-launch exits, WAV valid."""
    callee, caller = connected_pair(env, [f"peer-timeout={PEER_TIMEOUT_MS}"])
    t0 = time.monotonic()
    callee.kill()
    t1, reason = session_ended(env, caller, t0, 10)
    expect_end("caller", t0, t1, reason, "timeout", PEER_TIMEOUT_MS / 1000 + 1)
    rc, _ = env.exits_by_itself(caller, 5)
    if rc != 0:
        raise Failure(f"the caller exited {rc}:\n{env.log(caller)[-2000:]}")
    wav_frames(env.path("caller.wav"))
    env.expect_tone("caller heard", env.path("caller.wav"), 880)



def case_critical_is_caught(env):
    """the suite's own check: a process that prints a GLib CRITICAL fails its case."""
    p = env.start("critical", [PY, "-c", "import gi; gi.require_version('Gst', '1.0'); "
                               "from gi.repository import Gst; Gst.init(None); "
                               "Gst.util_uint64_scale_round(1, 1, 0); print('survived')"])
    rc, _ = env.exits_by_itself(p, 20)
    try:
        env.check_output()
    except Failure as e:
        print("  caught: " + str(e).splitlines()[0])
    else:
        raise Failure("a GLib CRITICAL went unnoticed:\n" + env.log(p))
    if "fatal-warnings" in env.env.get("G_DEBUG", "") and rc != -signal.SIGTRAP:
        raise Failure(f"G_DEBUG=fatal-warnings is set but the CRITICAL did not stop the process (exit {rc})")
    print(f"  the process exited {rc} (G_DEBUG={env.env.get('G_DEBUG', '')!r})")
    env.procs.remove(p)  # its CRITICAL was the point: the case passes


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("cases", nargs="*")
    args = ap.parse_args()
    if args.list:
        for name, fn in CASES.items():
            print(f"{name}: {fn.__doc__}")
        return 0
    return run_cases(CASES, args.cases, lambda: Env(args.build))


def run_cases(cases, names, make_env):
    """Runs the named cases, each in an environment of its own (make_env ()); 1 if any
    failed. Also the runner of the other suites' case files (janus_calls.py)."""
    failed = 0
    for name in names:
        env = make_env()
        print(f"{name}: {' '.join(cases[name].__doc__.split())}")
        t0 = time.time()
        try:
            cases[name](env)
            env.check_output()
            print(f"{name}: PASS ({time.time() - t0:.1f} s)")
        except Failure as e:
            failed += 1
            print(f"{name}: FAIL: {e}")
            env.print_logs()
        finally:
            env.cleanup()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
