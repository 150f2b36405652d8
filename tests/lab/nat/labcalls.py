#!/usr/bin/python3
"""Calls through the network lab (tests/lab/lab.sh): NAT with a real coturn as STUN server,
TURN over UDP and over TCP, ice-transport-policy=relay, and a lossy link.

Each case brings a lab up (caller / router / callee namespaces), starts coturn by hand where
it needs one, runs a gst-launch-1.0 callee and caller inside the namespaces (signalling over
the lab network too), hangs up with SIGINT and checks:
  - the tone each side heard (440 Hz caller -> callee, 880 Hz callee -> caller, within 2 %),
  - the selected candidate pair each side reports in voicecall-stats,
  - what the case is about (coturn's allocations, TCP to the relay, the loss voicecall-stats
    measured).

Needs root, coturn (/usr/bin/turnserver) and the lab's tools; without them it fails, never
skips.  Usage: labcalls.py --build BUILD_DIR CASE [CASE ...]   (labcalls.py --list)
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LAB_SH = os.path.join(HERE, "..", "lab.sh")
sys.path.insert(0, os.path.join(HERE, "..", "..", "integration"))
import calls  # noqa: E402  (Env, Failure: how our integration tests run parties)
from calls import Failure  # noqa: E402

TURNSERVER = "/usr/bin/turnserver"
TURN_USER, TURN_PASSWORD, TURN_PORT = "vc", "vc-lab-secret", 3478
SIGNAL_PORT = 8080
CALLER_FREQ, CALLEE_FREQ = 440, 880
CALLER_NET, CALLEE_NET = "10.77.1.0/24", "10.77.2.0/24"


class Env(calls.Env):
    """calls.Env, with its processes in our process group: when meson kills the test on a
    timeout it kills them too (the lab itself is taken down from a session of its own)."""

    def start(self, name, argv):
        log = open(self.path(name + ".log"), "w")
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=self.env)
        p.name, p.logpath = name, log.name
        self.procs.append(p)
        return p


class Lab:
    """lab.sh up/down with a state dir of its own; exposes LAB_* as attributes."""

    def __init__(self, build, *up_args):
        self.state = tempfile.mkdtemp(prefix="vclab-calls-")
        self.env = dict(os.environ, LAB_STATE=self.state, LAB_QUIET="1",
                        LAB_BIN_DIR=os.path.join(os.path.abspath(build), "tests", "lab"))
        self.up = False
        out = subprocess.run([LAB_SH, "up", *up_args], env=self.env, capture_output=True,
                             text=True)
        if out.returncode != 0:
            raise Failure(f"lab.sh up {' '.join(up_args)} failed: {out.stderr.strip()}")
        self.up = True
        self.vars = dict(re.findall(r"^export (LAB_\w+)=(\S*)$", out.stdout, re.M))
        self.caller_ns, self.callee_ns = self.vars["LAB_CALLER_NS"], self.vars["LAB_CALLEE_NS"]
        self.router_ns = self.vars["LAB_ROUTER_NS"]
        self.caller_ip, self.callee_ip = self.vars["LAB_CALLER_IP"], self.vars["LAB_CALLEE_IP"]
        self.router_ip = self.vars["LAB_ROUTER_CALLEE_IP"]  # where a relay in the router listens

    def lab(self, *args):
        out = subprocess.run([LAB_SH, *args], env=self.env, capture_output=True, text=True)
        if out.returncode != 0:
            raise Failure(f"lab.sh {' '.join(args)} failed: {out.stderr.strip()}")
        return out.stdout

    def router(self, *argv):
        """Runs a command in the router namespace (iptables, ss)."""
        out = subprocess.run(["ip", "netns", "exec", self.router_ns, *argv],
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise Failure(f"{' '.join(argv)} in the router failed: {out.stderr.strip()}")
        return out.stdout

    def block_direct_tcp(self):
        """Drops TCP between the two subnets except the signalling: libnice gathers ICE-TCP
        host candidates, so with only UDP blocked a call still connects directly over TCP."""
        ipt = ["iptables", "-w"]
        self.router(*ipt, "-N", "VC_CALLS")
        self.router(*ipt, "-I", "FORWARD", "1", "-j", "VC_CALLS")
        self.router(*ipt, "-A", "VC_CALLS", "-p", "tcp", "-d", self.callee_ip, "--dport",
                    str(SIGNAL_PORT), "-j", "RETURN")
        self.router(*ipt, "-A", "VC_CALLS", "-p", "tcp", "-s", self.callee_ip, "--sport",
                    str(SIGNAL_PORT), "-j", "RETURN")
        self.router(*ipt, "-A", "VC_CALLS", "-p", "tcp", "-s", CALLER_NET, "-d", CALLEE_NET,
                    "-j", "DROP")
        self.router(*ipt, "-A", "VC_CALLS", "-p", "tcp", "-s", CALLEE_NET, "-d", CALLER_NET,
                    "-j", "DROP")

    def block_udp_to_router(self):
        """Drops all UDP the parties send to the router itself (where the relay is), which
        block-udp never touches (it only filters what the router forwards)."""
        for iface in ("to-caller", "to-callee"):
            self.router("iptables", "-w", "-I", "INPUT", "-i", iface, "-p", "udp", "-j", "DROP")

    def down(self):
        if self.up:
            # A session of its own: meson's SIGKILL of our group cannot cut it short.
            subprocess.run([LAB_SH, "down"], env=self.env, start_new_session=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.up = False
        shutil.rmtree(self.state, ignore_errors=True)


class Coturn:
    """A coturn started by hand in a namespace, with a config written to the test's dir."""

    def __init__(self, env, ns, ip):
        self.env, self.ns, self.ip = env, ns, ip
        self.logfile = env.path("coturn-server.log")
        conf = env.path("turnserver.conf")
        with open(conf, "w") as f:
            f.write("\n".join([
                f"listening-ip={ip}", f"relay-ip={ip}", f"listening-port={TURN_PORT}",
                "min-port=49152", "max-port=49999",
                "lt-cred-mech", f"user={TURN_USER}:{TURN_PASSWORD}", "realm=voicecall.lab",
                "fingerprint", "no-tls", "no-dtls", "no-cli", "no-multicast-peers",
                "verbose", "simple-log", "no-stdout-log", f"log-file={self.logfile}",
                f"pidfile={env.path('turnserver.pid')}",
                f"userdb={env.path('turndb')}",  # never the system's /var/lib/turn/turndb
                ""]))
        self.proc = env.start("coturn", ["ip", "netns", "exec", ns, TURNSERVER, "-c", conf])
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise Failure(f"coturn exited at start ({self.proc.returncode}):\n"
                              f"{env.log(self.proc)[-1500:]}\n{self.log()[-1500:]}")
            if self.listening("-Hltn") and self.listening("-Hlun"):
                return
            time.sleep(0.1)
        raise Failure(f"coturn is not listening on {ip}:{TURN_PORT} after 10 s:\n{self.log()[-1500:]}")

    def listening(self, flags):
        out = subprocess.run(["ip", "netns", "exec", self.ns, "ss", flags,
                              f"sport = :{TURN_PORT}"], capture_output=True, text=True)
        return self.ip in out.stdout

    def log(self):
        try:
            with open(self.logfile) as f:
                return f.read()
        except OSError:
            return ""

    def url(self, transport=None):
        """webrtcbin's form; without ?transport= libnice allocates over UDP and TCP both."""
        return (f"turn://{TURN_USER}:{TURN_PASSWORD}@{self.ip}:{TURN_PORT}"
                + (f"?transport={transport}" if transport else ""))

    def allocations(self):
        return len(re.findall(r"ALLOCATE processed, success", self.log()))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ---- what gst-launch -m prints -----------------------------------------------------------

FIELD = re.compile(r'([\w-]+)=\((\w+)\)("(?:[^"\\]|\\.)*"|[^,;]*)')


def messages(log, name):
    """The fields of every `name` element message gst-launch -m printed, in order."""
    out = []
    for line in log.splitlines():
        m = re.search(r"\(element\): " + re.escape(name) + r", (.*)$", line)
        if not m:
            continue
        fields = {}
        for key, typ, value in FIELD.findall(m.group(1)):
            value = value.strip('"')
            if typ in ("double", "float"):
                value = float(value)
            elif typ in ("int", "uint", "gint64", "guint64", "int64", "uint64"):
                value = int(value)
            fields[key] = value
        out.append(fields)
    return out


def selected_pair(stats, who):
    """(local-candidate-type, remote-candidate-type) of the last voicecall-stats that has a
    selected pair. Which end webrtcbin 1.22 names "local" is not reliable (README.md), so the
    checks look at the pair as a whole."""
    for s in reversed(stats):
        if s.get("local-candidate-type") and s.get("remote-candidate-type"):
            return s["local-candidate-type"], s["remote-candidate-type"]
    raise Failure(f"{who}: no voicecall-stats message with a selected candidate pair")


def recording(env, wav):
    """(seconds of audio, dominant frequency) of a recording."""
    out = subprocess.run([env.cli, "analyze", wav], capture_output=True, text=True, env=env.env)
    m = re.search(r"([0-9.]+) s of audio, dominant frequency ([0-9.]+) Hz", out.stdout)
    if out.returncode != 0 or not m:
        raise Failure(f"cannot analyse {wav}: {out.stdout}{out.stderr}")
    return float(m.group(1)), float(m.group(2))


# ---- one call ----------------------------------------------------------------------------

class Call:
    """What one call between the lab's caller and callee gave."""

    def __init__(self):
        self.setup_ms = {}
        self.stats = {}
        self.pair = {}
        self.heard = {}


def in_ns(ns, argv):
    return ["ip", "netns", "exec", ns] + argv


def wait_listening(lab, ip, port, proc, env, timeout=15):
    """Waits until the callee accepts TCP on ip:port, probing from the caller's namespace."""
    probe = ("import socket,sys,time\n"
             f"d=time.time()+{timeout}\n"
             "while time.time()<d:\n"
             " try:\n"
             f"  socket.create_connection(('{ip}',{port}),1).close(); sys.exit(0)\n"
             " except OSError: time.sleep(0.1)\n"
             "sys.exit(1)\n")
    rc = subprocess.run(in_ns(lab.caller_ns, ["/usr/bin/python3", "-c", probe])).returncode
    if rc != 0 or proc.poll() is not None:
        raise Failure(f"the callee is not listening on {ip}:{port}:\n{env.log(proc)[-2000:]}")


def call(env, lab, caller_props=(), callee_props=(), talk=3.0, connect_timeout=30,
         during=None):
    """Callee (880 Hz) in the callee namespace, caller (440 Hz) in the caller's; both talk
    for `talk` seconds after each heard the other; `during(lab)` runs meanwhile."""
    c = Call()
    callee = env.start("callee", in_ns(lab.callee_ns, ["gst-launch-1.0", "-e", "-m"] + env.party(
        CALLEE_FREQ, [f"listen={lab.callee_ip}:{SIGNAL_PORT}", f"ice-addresses={lab.callee_ip}",
                      *callee_props], env.path("callee.wav"))))
    wait_listening(lab, lab.callee_ip, SIGNAL_PORT, callee, env)
    caller = env.start("caller", in_ns(lab.caller_ns, ["gst-launch-1.0", "-e", "-m"] + env.party(
        CALLER_FREQ, [f"url=http://{lab.callee_ip}:{SIGNAL_PORT}/call",
                      f"ice-addresses={lab.caller_ip}", *caller_props], env.path("caller.wav"))))
    t0 = time.time()
    env.wait_for(caller, r"voicecall-first-audio", connect_timeout)
    env.wait_for(callee, r"voicecall-first-audio", max(1, connect_timeout - (time.time() - t0)))
    t_audio = time.time()
    if during:
        during(lab)
    time.sleep(max(0.0, talk - (time.time() - t_audio)))
    talked = time.time() - t_audio
    env.stop(caller)
    env.wait_for(callee, r"voicecall-session-ended", 10)
    env.stop(callee)
    for who, proc, wav, hz in (("caller", caller, "caller.wav", CALLEE_FREQ),
                               ("callee", callee, "callee.wav", CALLER_FREQ)):
        log = env.log(proc)
        c.setup_ms[who] = messages(log, "voicecall-first-audio")[0]["setup-ms"]
        c.stats[who] = messages(log, "voicecall-stats")
        c.pair[who] = selected_pair(c.stats[who], who)
        seconds, freq = recording(env, env.path(wav))
        c.heard[who] = (seconds, freq)
        print(f"  {who}: first audio after {c.setup_ms[who]:.0f} ms; heard {freq:.1f} Hz "
              f"(expected {hz}), {seconds:.1f} s of audio in the {talked:.1f} s after first "
              f"audio; selected pair: local-candidate-type={c.pair[who][0]} "
              f"remote-candidate-type={c.pair[who][1]}")
    for who, hz in (("caller", CALLEE_FREQ), ("callee", CALLER_FREQ)):
        seconds, freq = c.heard[who]
        if abs(freq - hz) > hz * 0.02:
            raise Failure(f"the {who} heard {freq:.1f} Hz, expected {hz} Hz")
        # Audio held back (e.g. a stale first packet timing the far end's jitter buffer)
        # shows as a recording much shorter than the call.
        if seconds < talked - 1.0:
            raise Failure(f"the {who} recorded {seconds:.1f} s of audio in {talked:.1f} s of "
                          "call: the far end's audio plays late")
    return c


def expect_pair(c, who, allowed, required):
    """The pair's types are all in `allowed` and include one of `required`."""
    types = set(c.pair[who])
    if not types <= set(allowed) or not types & set(required):
        raise Failure(f"the {who}'s selected pair is {c.pair[who]}: expected types from "
                      f"{sorted(allowed)} including {' or '.join(sorted(required))}")


# ---- cases -------------------------------------------------------------------------------

def case_stun_nat(env):
    """caller behind the router's NAT, coturn as STUN server on the public side: the pair
    uses the caller's server-reflexive address."""
    lab = env.lab = Lab(env.build, "--nat")
    # coturn in the callee's namespace (the public side), not in the router: what the router
    # receives itself is never masqueraded, so a STUN server there would see the caller's
    # private address, and libnice drops a srflx candidate equal to its host candidate.
    stun = env.coturn = Coturn(env, lab.callee_ns, lab.callee_ip)
    url = f"stun-server=stun://{lab.callee_ip}:{TURN_PORT}"
    c = call(env, lab, [url], [url])
    # The caller's own candidate is its NAT mapping (srflx, learnt from coturn, or prflx if
    # the callee's check discovered it first); the callee's is its host address.
    for who in ("caller", "callee"):
        expect_pair(c, who, {"host", "srflx", "prflx"}, {"srflx", "prflx"})
        if "host" not in c.pair[who]:
            raise Failure(f"the {who}'s pair {c.pair[who]} has no host candidate (the callee's)")
    if "srflx" not in c.pair["caller"] + c.pair["callee"]:
        raise Failure("neither side selected a server-reflexive candidate: STUN did not "
                      "contribute (coturn log: " + stun.logfile + ")")


def turn_call(env, tcp):
    lab = env.lab = Lab(env.build)
    lab.lab("block-udp", "--relay", f"{lab.router_ip}:{TURN_PORT}")
    lab.block_direct_tcp()
    if tcp:
        lab.block_udp_to_router()
    turn = env.coturn = Coturn(env, lab.router_ns, lab.router_ip)
    url = f"turn-server={turn.url('tcp' if tcp else 'udp')}"
    seen = {}

    def tcp_peers(lab):
        out = lab.router("ss", "-Htn", "state", "established", f"sport = :{TURN_PORT}")
        seen["tcp"] = sorted(set(re.findall(r"\s(10\.77\.\d+\.\d+):\d+\s*$", out, re.M)))

    c = call(env, lab, [url], [url], talk=4.0 if tcp else 3.0, during=tcp_peers)
    for who in ("caller", "callee"):
        expect_pair(c, who, {"host", "prflx", "relay"}, {"relay"})
    print(f"  coturn: {turn.allocations()} successful allocation(s); TCP connections to "
          f"{lab.router_ip}:{TURN_PORT} during the call from {seen['tcp'] or 'nobody'}")
    if turn.allocations() == 0:
        raise Failure("coturn logged no successful allocation")
    if tcp and not {lab.caller_ip, lab.callee_ip} <= set(seen["tcp"]):
        raise Failure(f"expected both parties connected to the relay over TCP, saw {seen['tcp']}")
    if not tcp and seen["tcp"]:
        raise Failure(f"?transport=udp, yet {seen['tcp']} connected to the relay over TCP")
    return c


def case_turn_udp(env):
    """UDP between the parties blocked (direct TCP too), both given a TURN server
    (?transport=udp): the call goes through coturn's relay over UDP."""
    turn_call(env, tcp=False)


def case_turn_tcp(env):
    """all UDP blocked, also to the relay; TURN over TCP (?transport=tcp): relayed over TCP."""
    turn_call(env, tcp=True)


def case_relay_policy(env):
    """an open network, both sides with ice-transport-policy=relay: the pair is relay."""
    lab = env.lab = Lab(env.build)
    turn = env.coturn = Coturn(env, lab.router_ns, lab.router_ip)
    props = [f"turn-server={turn.url()}", "ice-transport-policy=relay"]
    c = call(env, lab, props, props)
    for who in ("caller", "callee"):
        expect_pair(c, who, {"relay", "prflx"}, {"relay"})
    print(f"  coturn: {turn.allocations()} successful allocation(s)")


def case_lossy(env):
    """10 % loss and 30 ms delay each way: the tones get through and voicecall-stats report
    the loss."""
    lab = env.lab = Lab(env.build)
    for d in ("up", "down"):
        lab.lab("impair", "--dir", d, "--loss", "10", "--delay-ms", "30")
    c = call(env, lab, talk=10.0, connect_timeout=40)
    for who in ("caller", "callee"):
        expect_pair(c, who, {"host", "prflx"}, {"host", "prflx"})
    for who in ("caller", "callee"):
        stats = [s for s in c.stats[who] if s.get("packets-received", 0) > 0]
        if not stats:
            raise Failure(f"the {who} reported no received packets")
        last = stats[-1]
        lost, received = last["cumulative-lost"], last["packets-received"]
        loss = 100.0 * lost / (lost + received)
        intervals = [100.0 * s["fraction-lost"] for s in stats[1:]]
        mean = sum(intervals) / len(intervals) if intervals else float("nan")
        remote = [100.0 * s["remote-fraction-lost"] for s in stats if s["remote-fraction-lost"] > 0]
        rtt = [s["rtt-ms"] for s in stats if s["rtt-ms"] > 0]
        print(f"  {who}: received {received}, lost {lost}: {loss:.1f} % "
              f"(per-second fraction-lost mean {mean:.1f} %; the peer's RTCP reports "
              f"{', '.join(f'{r:.0f}' for r in remote) or 'none'} %; "
              f"rtt {rtt[-1] if rtt else -1:.0f} ms)")
        if not 5.0 <= loss <= 15.0:
            raise Failure(f"the {who} measured {loss:.1f} % loss, expected 5-15 % with 10 % asked")
        if received < 300:
            raise Failure(f"the {who} received only {received} packets in 10 s")


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


# ---- main --------------------------------------------------------------------------------

def preflight(build):
    """Why the lab cannot run here, or None."""
    if os.geteuid() != 0:
        return "these calls run in network namespaces and need root: run the 'lab' suite as root"
    if not os.access(TURNSERVER, os.X_OK):
        return f"coturn is not installed ({TURNSERVER} missing): apt-get install coturn"
    for tool in ("ip", "iptables", "ss", "gst-launch-1.0"):
        if not shutil.which(tool):
            return f"'{tool}' not found: apt-get install iproute2 iptables gstreamer1.0-tools"
    bindir = os.path.join(build, "tests", "lab")
    if not os.access(os.path.join(bindir, "impair"), os.X_OK):
        return (f"{bindir}/impair is missing: install libnetfilter-queue-dev, then meson setup "
                "--reconfigure and build")
    probe = f"vclabcallcheck{os.getpid()}"
    if subprocess.run(["ip", "netns", "add", probe], capture_output=True).returncode != 0:
        return "cannot create a network namespace (needs CAP_SYS_ADMIN and netns support)"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("cases", nargs="*")
    args = ap.parse_args()
    if args.list:
        for name, fn in CASES.items():
            print(f"{name}: {fn.__doc__}")
        return 0
    unknown = [c for c in args.cases if c not in CASES]
    if unknown or not args.cases:
        print(f"FAIL: unknown or no case(s) {unknown}: one of {', '.join(CASES)}")
        return 1
    why = preflight(args.build)
    if why:
        print(f"FAIL: {why}")
        return 1

    # meson stops a test with SIGTERM: clean up as on any failure.
    def terminated(signum, frame):
        raise Failure(f"terminated by signal {signum}")
    signal.signal(signal.SIGTERM, terminated)

    failed = 0
    for name in args.cases:
        env = Env(args.build)
        env.lab = env.coturn = None
        print(f"{name}: {CASES[name].__doc__}")
        t0 = time.time()
        try:
            CASES[name](env)
            print(f"{name}: PASS ({time.time() - t0:.1f} s)")
        except Failure as e:
            failed += 1
            print(f"{name}: FAIL: {e}")
            for p in env.procs:
                print(f"--- log of {p.name} ({p.logpath})")
                print(env.log(p)[-1500:])
            if env.coturn:
                print(f"--- coturn's log ({env.coturn.logfile})")
                print(env.coturn.log()[-1500:])
        finally:
            env.cleanup()
            if env.lab:
                env.lab.down()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
