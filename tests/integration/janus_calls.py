#!/usr/bin/python3
"""gst-voicecall with a real Janus: voicecall url=janus://… in a Janus AudioBridge room.

Each case starts its own Janus (Debian's janus 1.1.2, tests/common/janus.py: a config dir in a
temp dir, AudioBridge and the HTTP transport only, ICE and HTTP on 127.0.0.1, stopped by PID)
and its own participants: gst-launch-1.0, the CLI (`gst-voicecall join`) and a real aiortc
(tests/peers/aiortc_janus.py, plain HTTP). Audio is checked by content: the spectral peaks of
each recording, at the participants' tones.

Usage: janus_calls.py --build BUILD_DIR CASE [CASE ...]    (--list for the cases)
"""
import argparse
import os
import re
import subprocess
import sys
import time
import wave

import numpy

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "common"))
from calls import PY, Env, Failure, free_port, run_cases  # noqa: E402
from janus import Janus  # noqa: E402

AIORTC_JANUS = os.path.join(HERE, "..", "peers", "aiortc_janus.py")
ROOM, PIN = 1234, "4321"
ALICE, BOB, CAROL = 440.0, 660.0, 1000.0   # no tone is a harmonic of another


# ---- audio --------------------------------------------------------------------------------

def read_wav(path):
    with wave.open(path) as w:
        rate, ch, n = w.getframerate(), w.getnchannels(), w.getnframes()
        data = numpy.frombuffer(w.readframes(n), dtype="<i2").astype(numpy.float64)
    return data.reshape(-1, ch).mean(axis=1) / 32768.0, rate


def tone_levels(path, freqs, start, end):
    """dB of each frequency in seconds [start, end) of the WAV (negative: from its end),
    relative to full scale, and the spectrum's median (the floor)."""
    x, rate = read_wav(path)
    n = len(x)
    a = int((start if start >= 0 else n / rate + start) * rate)
    b = int((end if end > 0 else n / rate + end) * rate)
    a, b = max(0, a), min(n, b)
    if b - a < rate // 2:
        raise Failure(f"{path}: {n / rate:.2f} s recorded, too short for [{start}, {end})")
    seg = x[a:b] * numpy.hanning(b - a)
    spec = numpy.abs(numpy.fft.rfft(seg)) / (b - a) * 4
    bins = numpy.fft.rfftfreq(b - a, 1.0 / rate)
    db = 20 * numpy.log10(spec + 1e-12)
    levels = {f: float(db[(bins > f - 8) & (bins < f + 8)].max()) for f in freqs}
    floor = float(numpy.median(db[(bins > 100) & (bins < 4000)]))
    return levels, floor


def expect_mix(label, path, present, absent, start, end):
    """The recording has each `present` tone (at most 20 dB under the loudest of them and
    30 dB over the floor) and no `absent` one (30 dB or more under the weakest present)."""
    levels, floor = tone_levels(path, present + absent, start, end)
    text = ", ".join(f"{f:.0f} Hz {levels[f]:.1f} dB" for f in present + absent)
    print(f"  {label}: {text} (floor {floor:.1f} dB)")
    top = max(levels[f] for f in present)
    weakest = min(levels[f] for f in present)
    for f in present:
        if levels[f] < top - 20 or levels[f] < floor + 30:
            raise Failure(f"{label}: {f:.0f} Hz missing ({text}, floor {floor:.1f} dB; {path})")
    for f in absent:
        if levels[f] > weakest - 30:
            raise Failure(f"{label}: {f:.0f} Hz should not be there ({text}; {path})")


# ---- parties ------------------------------------------------------------------------------

class JanusEnv(Env):
    def __init__(self, build):
        super().__init__(build)
        shim = os.environ.get("JANUS_LOOPBACK_SHIM") or os.path.join(
            self.build, "tests", "integration", "libjanus-loopback.so")
        if not os.path.exists(shim):
            raise Failure(f"{shim} is missing: build the tests (ninja -C {build})")
        self.shim = shim
        self.janus = None

    def print_logs(self):
        super().print_logs()
        if self.janus:
            print(f"--- janus ({self.janus.log})\n{self.janus.tail(1500)}")

    def start_janus(self, **kw):
        self.janus = Janus(self.tmp, loopback_shim=self.shim, **kw)
        t = time.monotonic()
        try:
            self.janus.start()
        except RuntimeError as e:
            raise Failure(str(e))
        print(f"  janus {self.janus.url} up in {(time.monotonic() - t) * 1000:.0f} ms "
              f"(pid {self.janus.proc.pid})")
        return self.janus

    def cleanup(self):
        super().cleanup()
        if self.janus:
            self.janus.stop()

    def gst_party(self, name, freq, display, pin=PIN, room=ROOM, extra=()):
        url = self.janus.janus_url(room, display=display, pin=pin)
        return self.gst_launch(name, self.party(freq, [f"url={url}", "ice-addresses=127.0.0.1",
                                                       *extra], self.path(name + ".wav")))

    def cli_party(self, name, freq, display, pin=PIN, room=ROOM, url=None, extra=(), stdin=None):
        url = url or self.janus.janus_url(room)
        argv = [self.cli, "join", url, "--display", display, "--source", f"tone:{freq:.0f}",
                "--sink", f"wav:{self.path(name + '.wav')}", "--ice-address", "127.0.0.1", "-q"]
        if pin:
            argv += ["--pin", pin]
        return self.start(name, argv + list(extra), stdin=stdin)

    def aiortc_party(self, name, freq, display, pin=PIN, room=ROOM, keepalive=20):
        return self.start(name, [PY, AIORTC_JANUS, "--url", self.janus.url, "--room", str(room),
                                 "--display", display, "--pin", pin, "--freq", str(freq),
                                 "--keepalive", str(keepalive),
                                 "--record", self.path(name + ".wav")])

    def participants(self):
        return sorted(p.get("display", "") for p in self.janus.participants(ROOM))

    def wait_participants(self, names, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            got = self.participants()
            if got == sorted(names):
                return got
            if time.monotonic() > deadline:
                raise Failure(f"listparticipants: {got}, expected {sorted(names)}")
            time.sleep(0.1)


def first_audio(env, proc, pattern, timeout=20):
    """(ms from the call's start as the party measured it, ms from the process's launch)."""
    t, m = env.wait_line(proc, pattern, timeout)
    return float(m.group(1)), (t - proc.started) * 1000


GST_FIRST_AUDIO = r"voicecall-first-audio, setup-ms=\(double\)([0-9.]+)"
CLI_FIRST_AUDIO = r"hearing them after ([0-9]+) ms"
AIORTC_FIRST_AUDIO = r"^FIRST_AUDIO_MS ([0-9]+)"


# ---- cases --------------------------------------------------------------------------------

def case_room_of_three(env):
    """alice (gst-launch, 440 Hz), bob (gst-voicecall join, 660 Hz) and carol (aiortc,
    1000 Hz) in one room: each hears the other two and not itself, alice is told carol
    talks; bob leaves: he is gone from the others' mix, from listparticipants, and alice is
    told"""
    env.start_janus(rooms={ROOM: {"pin": PIN}})
    alice = env.gst_party("alice", ALICE, "alice")
    a_call, a_wall = first_audio(env, alice, GST_FIRST_AUDIO)
    bob = env.cli_party("bob", BOB, "bob")
    b_call, b_wall = first_audio(env, bob, CLI_FIRST_AUDIO)
    carol = env.aiortc_party("carol", CAROL, "carol")
    c_call, c_wall = first_audio(env, carol, AIORTC_FIRST_AUDIO)
    print(f"  join time (first audio from the room; from the call's start / from the process's "
          f"launch): alice (gst-launch) {a_call:.0f} / {a_wall:.0f} ms, bob (CLI) {b_call:.0f} "
          f"/ {b_wall:.0f} ms, carol (aiortc) {c_call:.0f} / {c_wall:.0f} ms")
    print(f"  listparticipants: {env.wait_participants(['alice', 'bob', 'carol'])}")
    env.wait_line(alice, r"janus-room.*event=\(string\)participant-joined.*display=\(string\)bob", 5)
    env.wait_line(alice, r"janus-room.*event=\(string\)participant-joined.*display=\(string\)carol", 5)
    env.wait_line(bob, r"room 1234: carol joined", 5)
    t_all = time.monotonic()
    time.sleep(3)
    # The room has audiolevel_event: Janus says who talks from the RTP audio-level header
    # extension, which aiortc sends and webrtcbin 1.22 does not: carol talks, we never do.
    env.wait_line(alice, r"janus-room.*event=\(string\)talking.*display=\(string\)carol", 1)
    t_left = time.monotonic()
    rc = env.stop(bob)
    if rc != 0:
        raise Failure(f"bob's join exited {rc} on SIGINT")
    env.wait_line(alice, r"janus-room.*event=\(string\)participant-left.*display=\(string\)bob", 5,
                  after=t_left)
    print(f"  after bob left: {env.wait_participants(['alice', 'carol'])}")
    time.sleep(3)
    t_stop = time.monotonic()
    for p in (alice, carol):
        rc = env.stop(p)
        if rc != 0:
            raise Failure(f"{p.name} exited {rc} on SIGINT")

    def window(t0, t1):   # wall-clock window → seconds from the recording's end
        return t0 - t_stop, t1 - t_stop
    both = window(t_all + 0.5, t_left - 0.3)
    after = window(t_left + 1.0, t_stop - 0.3)
    expect_mix("alice hears bob and carol", env.path("alice.wav"), [BOB, CAROL], [ALICE], *both)
    expect_mix("carol hears alice and bob", env.path("carol.wav"), [ALICE, BOB], [CAROL], *both)
    expect_mix("bob hears alice and carol", env.path("bob.wav"), [ALICE, CAROL], [BOB], -3.0, -0.3)
    expect_mix("alice, bob gone: hears carol", env.path("alice.wav"), [CAROL], [BOB, ALICE], *after)
    expect_mix("carol, bob gone: hears alice", env.path("carol.wav"), [ALICE], [BOB, CAROL], *after)


def case_refused(env):
    """wrong room, wrong PIN, no PIN, Janus not running: a clear error, a prompt exit (CLI
    status 3 refused / 1 error; gst-launch an element error; within 10 s, not the 30-s
    connect-timeout), no crash"""
    env.start_janus(rooms={ROOM: {"pin": PIN}})
    down = f"janus://127.0.0.1:{free_port()}/janus?room={ROOM}"
    cases = [
        ("cli", env.janus.janus_url(ROOM + 1), PIN, 3, r"No such room \(1235\).*check room="),
        ("cli", env.janus.janus_url(ROOM), "0000", 3, r"wrong pin.*check pin="),
        ("cli", env.janus.janus_url(ROOM), None, 3, r"Missing mandatory element \(pin\)"),
        ("cli", down, PIN, 1, r"Janus is not reachable at http://127\.0\.0\.1:\d+/janus"),
        ("gst", env.janus.janus_url(ROOM + 1, display="x", pin=PIN), None, 1,
         r"ERROR: from element .*voicecall0.*No such room \(1235\)"),
        ("gst", down + "&display=x", None, 1,
         r"ERROR: from element .*voicecall0.*Janus is not reachable"),
    ]
    for i, (kind, url, pin, status, pattern) in enumerate(cases):
        name = f"{kind}{i}"
        if kind == "cli":
            p = env.cli_party(name, 440, "x", pin=pin, url=url)
        else:
            p = env.gst_launch(name, env.party(440, [f"url={url}", "ice-addresses=127.0.0.1"],
                                               env.path(name + ".wav")))
        rc, t = env.exits_by_itself(p, 20)
        took = t - p.started
        log = env.log(p)
        if rc != status or not re.search(pattern, log):
            raise Failure(f"{name} ({url}): exit {rc} (expected {status}), "
                          f"'{pattern}' in:\n{log[-1500:]}")
        line = next((l for l in log.splitlines() if re.search(pattern, l)), "")
        print(f"  {name}: exit {rc} after {took:.2f} s: {line.strip()[:150]}")
        # 0.2-1.4 s here; the bound is far under connect-timeout (30 s), which a hang would
        # reach, and leaves room for a loaded machine (7.5 s under ASan)
        if took > 10:
            raise Failure(f"{name} took {took:.1f} s to give up")
    if env.participants():
        raise Failure(f"refused participants are in the room: {env.participants()}")


def case_keepalive(env):
    """Janus with session_timeout = 3 s: a call of 9 s stays up (our keepalive every third of
    the timeout), alice still hears carol at its end, and Janus expired no session. (Janus's
    HTTP transport also counts a pending long poll as activity; the keepalive covers the gaps
    between polls and other transports.)"""
    env.start_janus(rooms={ROOM: {"pin": PIN}}, session_timeout=3)
    env.env["GST_DEBUG"] = "voicejanus:4"
    alice = env.gst_party("alice", ALICE, "alice")
    first_audio(env, alice, GST_FIRST_AUDIO)
    _, m = env.wait_line(alice, r"session-timeout (\d+) s, keepalive every (\d+) ms", 5)
    print(f"  alice: Janus session-timeout {m.group(1)} s, keepalive every {m.group(2)} ms")
    carol = env.aiortc_party("carol", CAROL, "carol", keepalive=1)
    first_audio(env, carol, AIORTC_FIRST_AUDIO)
    time.sleep(9)
    print(f"  after 9 s: {env.wait_participants(['alice', 'carol'], timeout=1)}")
    for line in env.log(alice).splitlines():
        if "voicecall-session-ended" in line:
            raise Failure(f"alice's call ended: {line}")
    env.stop(alice)
    env.stop(carol)
    if "Timeout expired for session" in env.janus.tail(10 ** 6):
        raise Failure(f"Janus expired a session:\n{env.janus.tail()}")
    expect_mix("alice hears carol at the end", env.path("alice.wav"), [CAROL], [ALICE], -2.5, -0.3)


def case_options(env):
    """alice creates room 4242 (create=true, with a secret) and joins it muted with bitrate and
    expected_loss; carol (aiortc) and bob (gst-voicecall join) join it: the room exists at
    48 kHz, listparticipants shows alice muted, Janus's Admin API her bitrate and
    expected_loss, and carol hears no 440 Hz (Janus leaves a muted
    participant out of the mix); then bob's `m` key mutes him: Janus shows him muted too
    (configure) and carol stops hearing his 660 Hz"""
    env.start_janus(rooms={})
    room = 4242
    url = env.janus.janus_url(room, display="alice", create="true", secret="s3cret",
                              pin=PIN, muted="true", bitrate=24000, expected_loss=10)
    alice = env.gst_launch("alice", env.party(ALICE, [f"url={url}", "ice-addresses=127.0.0.1"],
                                              env.path("alice.wav")))
    first_audio(env, alice, GST_FIRST_AUDIO)
    rooms = {r["room"]: r for r in env.janus.request({"request": "list"})["list"]}
    if room not in rooms or rooms[room]["sampling_rate"] != 48000 or not rooms[room]["pin_required"]:
        raise Failure(f"room {room} was not created at 48 kHz with a PIN: {rooms}")
    print(f"  created: {rooms[room]}")
    carol = env.aiortc_party("carol", CAROL, "carol", room=room)
    first_audio(env, carol, AIORTC_FIRST_AUDIO)
    bob = env.cli_party("bob", BOB, "bob", room=room, stdin=subprocess.PIPE)
    first_audio(env, bob, CLI_FIRST_AUDIO)

    def muted():
        return {p["display"]: p["muted"] for p in env.janus.participants(room)}
    print(f"  listparticipants (muted): {muted()}")
    if muted() != {"alice": True, "bob": False, "carol": False}:
        raise Failure(f"expected alice muted, bob and carol not: {muted()}")
    handles = {h.get("display"): h for h in env.janus.audiobridge_handles()}
    a = handles.get("alice", {})
    print(f"  Admin API handle_info of alice: opus-bitrate {a.get('opus-bitrate')}, "
          f"expected-loss {a.get('expected-loss')}, fec {a.get('fec')}")
    if a.get("opus-bitrate") != 24000 or a.get("expected-loss") != 10:
        raise Failure(f"alice's bitrate and expected_loss did not reach Janus: {a}")
    t_all = time.monotonic()
    time.sleep(2)
    t_m = time.monotonic()
    bob.stdin.write(b"m\n")
    bob.stdin.flush()
    env.wait_line(bob, r"muted \(they hear silence\)", 5, after=t_m)
    deadline = time.monotonic() + 3
    while muted().get("bob") is not True:
        if time.monotonic() > deadline:
            raise Failure(f"bob's mute did not reach Janus: {muted()}")
        time.sleep(0.05)
    print(f"  after bob's m, in {(time.monotonic() - t_m) * 1000:.0f} ms: {muted()}")
    time.sleep(2.5)
    t_stop = time.monotonic()
    for p in (bob, alice, carol):
        env.stop(p)
    expect_mix("alice hears carol", env.path("alice.wav"), [CAROL], [ALICE], -2.5, -0.3)
    before = (t_all + 0.3 - t_stop, t_m - 0.2 - t_stop)
    after = (t_m + 1.0 - t_stop, -0.3)
    for label, window, bob_heard in (("before", before, True), ("after", after, False)):
        levels, floor = tone_levels(env.path("carol.wav"), [ALICE, BOB], *window)
        print(f"  carol, {label} bob's m: alice (muted) {levels[ALICE]:.1f} dB, bob "
              f"{levels[BOB]:.1f} dB (floor {floor:.1f} dB; a tone that is there: about -8 dB; absent: under -45 dB)")
        if levels[ALICE] > -45:
            raise Failure(f"carol hears muted alice {label} bob's m: {levels[ALICE]:.1f} dB")
        if (levels[BOB] > -30) != bob_heard:
            raise Failure(f"carol {label} bob's m: bob at {levels[BOB]:.1f} dB")


def case_janus_ends(env):
    """the room is destroyed during the call (AudioBridge "destroy" with its secret): bob's
    join ends it as a remote hang-up (exit 0); then Janus is killed during alice's call:
    gst-launch ends with an element error saying Janus was lost (exit 1), within seconds"""
    env.start_janus(rooms={ROOM: {"pin": PIN, "secret": "s3cret"}})
    bob = env.cli_party("bob", BOB, "bob")
    first_audio(env, bob, CLI_FIRST_AUDIO)
    t = time.monotonic()
    reply = env.janus.request({"request": "destroy", "room": ROOM, "secret": "s3cret"})
    if reply.get("audiobridge") != "destroyed":
        raise Failure(f"destroy: {reply}")
    rc, t_end = env.exits_by_itself(bob, 15)
    _, m = env.wait_line(bob, r"ended: (.*)", 1)
    print(f"  room destroyed: bob exits {rc} after {t_end - t:.2f} s: {m.group(0)}")
    if rc != 0 or "remote hang-up" not in m.group(1):
        raise Failure(f"bob: exit {rc}, {m.group(0)}")

    env.janus.stop()
    env.start_janus(rooms={ROOM: {"pin": PIN}})
    alice = env.gst_party("alice", ALICE, "alice")
    first_audio(env, alice, GST_FIRST_AUDIO)
    t = time.monotonic()
    env.janus.proc.kill()
    env.janus.proc.wait()
    rc, t_end = env.exits_by_itself(alice, 15)
    _, m = env.wait_line(alice, r"ERROR: from element .*voicecall0: (.*)", 1)
    print(f"  Janus killed: alice exits {rc} after {t_end - t:.2f} s: {m.group(1)[:120]}")
    if rc != 1 or "lost Janus" not in m.group(1):
        raise Failure(f"alice: exit {rc}, {m.group(0)}")


def case_not_janus(env):
    """a URL whose server is not Janus: one that answers HTML, one that answers HTTP 500, one
    that takes the connection and never answers (signaller::timeout=1000): each an element
    error saying so, within seconds; a garbage reply crashes nothing"""
    import http.server
    import socketserver
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def reply(self):
            if self.server.mode == "silent":
                time.sleep(5)
                return
            body = b"<html>not janus</html>" if self.server.mode == "html" else b'{"oops'
            self.send_response(200 if self.server.mode == "html" else 500)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = reply

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True

    cases = [("html", r"no Janus API at .*: GET .*/janus/info: HTTP 200, not JSON"),
             ("500", r"no Janus API at .*: GET .*/janus/info: HTTP 500"),
             ("silent", r"Janus is not reachable at .*: GET .*/janus/info: no answer within")]
    for mode, pattern in cases:
        server = Server(("127.0.0.1", 0), Handler)
        server.mode = mode
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            url = f"janus://127.0.0.1:{server.server_address[1]}/janus?room={ROOM}&display=x"
            p = env.gst_launch(mode, env.party(440, [f"url={url}", "ice-addresses=127.0.0.1",
                                                     "signaller::timeout=1000"],
                                               env.path(mode + ".wav")))
            rc, t = env.exits_by_itself(p, 20)
            _, m = env.wait_line(p, r"ERROR: from element .*voicecall0: (.*)", 1)
            print(f"  {mode}: exit {rc} after {t - p.started:.2f} s: {m.group(1)[:110]}")
            if rc != 1 or not re.search(pattern, m.group(1)):
                raise Failure(f"{mode}: exit {rc}: {m.group(1)}")
        finally:
            server.shutdown()
            server.server_close()


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
    if not os.path.exists("/usr/bin/janus"):
        print("janus is not installed (apt-get install janus; tests/install-deps.sh): skipped")
        return 77
    return run_cases(CASES, args.cases, lambda: JanusEnv(args.build))


if __name__ == "__main__":
    sys.exit(main())
