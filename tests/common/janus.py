"""A real Janus (Debian's `janus`, 1.1.2) for tests and benchmarks, started and stopped by PID.

    from janus import Janus
    with Janus(tmpdir, rooms={1234: {"pin": "secret"}}, session_timeout=5) as j:
        j.url                       # "http://127.0.0.1:PORT/janus"
        j.janus_url(1234, display="alice", pin="secret")   # "janus://127.0.0.1:PORT/janus?..."
        j.participants(1234)        # [{"id":…, "display":…, "muted":…}, …] (listparticipants)

It writes a config dir into `tmpdir`: janus.jcfg with only the AudioBridge plugin and the plain
HTTP transport (each loaded from a folder that holds only its .so, so no other plugin or
transport starts), ICE on the loopback interface only (`ice_enforce_list = "lo"`), the HTTP
transport and the Admin API (admin_secret, audiobridge_handles ()) on 127.0.0.1 and free
ports, and the rooms in janus.plugin.audiobridge.jcfg. Then it
runs `janus -F <cfgdir>` and waits until the HTTP API answers `{"janus":"info"}`. stop() sends
SIGTERM to that PID (SIGKILL after a grace time). Janus's log is in tmpdir/janus.log.

Loopback: Janus 1.1.2 skips interfaces flagged IFF_LOOPBACK whatever ice_enforce_list says
(src/ice.c), and libnice then gathers on the machine's other interfaces. To keep every packet
on 127.0.0.1, Janus runs with the build's tests/libjanus-loopback.so in LD_PRELOAD
(loopback_shim=, or $JANUS_LOOPBACK_SHIM; see tests/common/janus_loopback.c).
"""
import json
import os
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request

LIBDIR = "/usr/lib/x86_64-linux-gnu/janus"
JANUS = "/usr/bin/janus"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def available():
    return os.path.exists(JANUS) and os.path.exists(os.path.join(LIBDIR, "plugins",
                                                                  "libjanus_audiobridge.so"))


def _value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    return json.dumps(str(v))


class Janus:
    def __init__(self, tmpdir, rooms=None, session_timeout=60, port=None, debug_level=4,
                 loopback_shim=None):
        self.dir = os.path.join(tmpdir, "janus")
        self.port = port or free_port()
        self.admin_port = free_port()
        self.admin_secret = "gst-voicecall-test-admin"
        self.url = f"http://127.0.0.1:{self.port}/janus"
        self.rooms = rooms if rooms is not None else {1234: {}}
        self.session_timeout = session_timeout
        self.debug_level = debug_level
        self.proc = None
        self.log = os.path.join(tmpdir, "janus.log")
        self.loopback_shim = loopback_shim or os.environ.get("JANUS_LOOPBACK_SHIM")

    def janus_url(self, room, **query):
        q = {"room": room, **{k: v for k, v in query.items() if v is not None}}
        return f"janus://127.0.0.1:{self.port}/janus?" + urllib.parse.urlencode(q)

    def write_config(self):
        cfg = os.path.join(self.dir, "conf")
        for sub in ("conf", "plugins", "transports", "events", "loggers"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        links = {"plugins": "libjanus_audiobridge.so", "transports": "libjanus_http.so"}
        for sub, name in links.items():
            dst = os.path.join(self.dir, sub, name)
            if not os.path.exists(dst):
                os.symlink(os.path.join(LIBDIR, sub, name), dst)
        with open(os.path.join(cfg, "janus.jcfg"), "w") as f:
            f.write(f"""general: {{
	configs_folder = "{cfg}"
	plugins_folder = "{self.dir}/plugins"
	transports_folder = "{self.dir}/transports"
	events_folder = "{self.dir}/events"
	loggers_folder = "{self.dir}/loggers"
	debug_level = {self.debug_level}
	session_timeout = {self.session_timeout}
	server_name = "gst-voicecall-test"
	admin_secret = "{self.admin_secret}"
}}
media: {{
	rtp_port_range = "20000-40000"
}}
nat: {{
	ice_enforce_list = "lo"
	nice_debug = false
}}
plugins: {{
}}
transports: {{
}}
events: {{
	broadcast = false
}}
""")
        with open(os.path.join(cfg, "janus.transport.http.jcfg"), "w") as f:
            f.write(f"""general: {{
	json = "plain"
	base_path = "/janus"
	http = true
	port = {self.port}
	ip = "127.0.0.1"
	https = false
}}
admin: {{
	admin_base_path = "/admin"
	admin_http = true
	admin_port = {self.admin_port}
	admin_ip = "127.0.0.1"
	admin_https = false
}}
""")
        with open(os.path.join(cfg, "janus.plugin.audiobridge.jcfg"), "w") as f:
            f.write("general: {\n}\n")
            for room, opts in self.rooms.items():
                o = {"description": f"room {room}", "sampling_rate": 48000,
                     "audiolevel_event": True, "audio_active_packets": 50,
                     "audio_level_average": 40, **opts}
                f.write(f"room-{room}: {{\n")
                for k, v in o.items():
                    f.write(f"\t{k} = {_value(v)}\n")
                f.write("}\n")
        return cfg

    def start(self, timeout=15):
        cfg = self.write_config()
        log = open(self.log, "w")
        env = dict(os.environ)
        env.pop("LD_PRELOAD", None)   # a sanitizer run's libasan is not Janus's
        if self.loopback_shim:
            env["LD_PRELOAD"] = self.loopback_shim
        self.proc = subprocess.Popen([JANUS, "-F", cfg, "-C", os.path.join(cfg, "janus.jcfg"),
                                      "-o"], stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True, env=env)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"janus exited ({self.proc.returncode}):\n{self.tail()}")
            try:
                if self.api({"janus": "info"}, path="", timeout=1).get("janus") == "server_info":
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"janus does not answer on {self.url} after {timeout} s:\n{self.tail()}")

    def tail(self, n=3000):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()[-n:]
        except OSError:
            return ""

    def stop(self, grace=5):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ---- the HTTP API, for checks ---------------------------------------------------------

    def api(self, body, path="", timeout=5):
        body = {"transaction": os.urandom(6).hex(), **body}
        if body.get("janus") == "info":
            req = urllib.request.Request(self.url + "/info")
        else:
            req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read())

    def request(self, plugin_body):
        """A synchronous AudioBridge request (list, listparticipants, exists, …) in a session
        of its own; returns the plugin's data."""
        sid = self.api({"janus": "create"})["data"]["id"]
        try:
            hid = self.api({"janus": "attach", "plugin": "janus.plugin.audiobridge"},
                           f"/{sid}")["data"]["id"]
            r = self.api({"janus": "message", "body": plugin_body}, f"/{sid}/{hid}")
            return r["plugindata"]["data"]
        finally:
            self.api({"janus": "destroy"}, f"/{sid}")

    def admin(self, body, path=""):
        """A request to the Admin API (127.0.0.1 only, with the test's admin_secret)."""
        body = {"transaction": os.urandom(6).hex(), "admin_secret": self.admin_secret, **body}
        req = urllib.request.Request(f"http://127.0.0.1:{self.admin_port}/admin{path}",
                                     data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.loads(r.read())

    def audiobridge_handles(self):
        """The AudioBridge's own view of every handle (handle_info's plugin_specific: display,
        muted, expected-loss, opus-bitrate, …)."""
        out = []
        for sid in self.admin({"janus": "list_sessions"}).get("sessions", []):
            for hid in self.admin({"janus": "list_handles"}, f"/{sid}").get("handles", []):
                info = self.admin({"janus": "handle_info"}, f"/{sid}/{hid}").get("info", {})
                if info.get("plugin") == "janus.plugin.audiobridge":
                    out.append(info.get("plugin_specific", {}))
        return out

    def participants(self, room):
        data = self.request({"request": "listparticipants", "room": room})
        return data.get("participants", [])
