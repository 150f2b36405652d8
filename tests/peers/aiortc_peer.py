#!/usr/bin/python3
"""Real aiortc WebRTC peer for gst-voicecall interop tests and lab experiments.

One script, two roles:

  server  HTTP signalling as in the aiortc "server" example: POST JSON
          {"sdp": ..., "type": "offer"} to --path, get 200 JSON answer.
  client  Creates an audio offer and POSTs it either as JSON (same protocol)
          or as WHIP (RFC 9725: application/sdp, 201 + Location, DELETE).

Both roles send a real-time sine tone (--freq Hz, 48 kHz, 20 ms frames) and
record what they receive to a WAV file (--record).

Machine-readable lines go to stdout, one event per line, flushed:
  LISTENING <host>:<port>                 server is accepting offers
  PC_NEW pc=<n> remote=<addr>             server got an offer
  RECORDING [pc=<n>] path=<file>
  ICE [pc=<n>] state=<iceConnectionState>
  STATE [pc=<n>] connection=<connectionState>
  OFFER_READY_MS <ms>                     client: offer created + gathered
  ANSWER_MS <ms>                          client: answer received
  CONNECTED_MS <ms>                       client: connectionState connected
  FIRST_AUDIO_MS <ms> [pc=<n>]            first decoded audio frame received
  FIRST_AUDIO_NS <ns>                     the same, as CLOCK_MONOTONIC nanoseconds
  PLAY_START_NS <ns>                      --play: when the WAV's first sample was due
  TIMELINE [pc=<n>] <json>                --timeline: per received frame, its first sample
                                          index in the WAV and arrival time (monotonic ns)
  RECORDED [pc=<n>] path=<file> frames=<n> seconds=<s>
  PC_CLOSED pc=<n>
  SHUTDOWN                                server got SIGTERM/SIGINT, closing
  WHIP_RESOURCE <url>                     client: resource from Location
  WHIP_DELETE status=<code>               client: hang-up DELETE result
  OPUS_CTL bitrate=.. fec=.. loss_perc=.. Opus encoder knobs applied
  RX_AUDIO frames=<n> seconds=<s>         client: total audio received
  HANGUP / DONE exit=<code>               client finished
  ERROR <kind> <message>                  kind: http, ice, audio, sdp, usage, internal
Times are milliseconds since the client process started its call (client) or
since the offer arrived (server).

Client exit codes: 0 ok, 1 internal error, 2 usage, 3 HTTP/signalling failure,
4 ICE/DTLS failure (or connection lost), 5 no audio received (or, with
--media-timeout, audio stopped).

Run with /usr/bin/python3 (Debian python3-aiortc 1.4, python3-aiohttp).
"""

import argparse
import asyncio
import ctypes
import ctypes.util
import fractions
import json
import logging
import math
import signal
import struct
import sys
import time
import wave
from urllib.parse import urljoin

import aioice.ice
import aioice.stun
import av
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError

SAMPLE_RATE = 48000
PTIME = 0.020
SAMPLES_PER_FRAME = int(SAMPLE_RATE * PTIME)

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_HTTP, EXIT_ICE, EXIT_NO_AUDIO = range(6)


def emit(tag, *fields):
    print(tag, *fields, flush=True)


def ms_since(t0):
    return int(round((time.monotonic() - t0) * 1000))


class PeerError(Exception):
    def __init__(self, kind, message, code):
        super().__init__(message)
        self.kind = kind
        self.code = code


# --------------------------------------------------------------------------
# media


class ToneTrack(MediaStreamTrack):
    """Mono s16 sine at `freq` Hz, 48 kHz, 20 ms frames, paced in real time.

    freq 0 sends digital silence.
    """

    kind = "audio"

    def __init__(self, freq, amplitude=0.3):
        super().__init__()
        self.freq = float(freq)
        self.amplitude = max(0.0, min(1.0, float(amplitude)))
        self._start = None
        self._pts = 0
        self._phase = 0.0
        self._time_base = fractions.Fraction(1, SAMPLE_RATE)
        self._fmt = "<%dh" % SAMPLES_PER_FRAME

    async def recv(self):
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        else:
            wait = self._start + self._pts / SAMPLE_RATE - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)

        scale = self.amplitude * 32767.0
        w = 2.0 * math.pi * self.freq / SAMPLE_RATE
        ph = self._phase
        samples = [int(scale * math.sin(ph + w * i)) for i in range(SAMPLES_PER_FRAME)]
        self._phase = (ph + w * SAMPLES_PER_FRAME) % (2.0 * math.pi)

        frame = av.AudioFrame(format="s16", layout="mono", samples=SAMPLES_PER_FRAME)
        frame.planes[0].update(struct.pack(self._fmt, *samples))
        frame.pts = self._pts
        frame.sample_rate = SAMPLE_RATE
        frame.time_base = self._time_base
        self._pts += SAMPLES_PER_FRAME
        return frame


class WavTrack(MediaStreamTrack):
    """A 48 kHz mono s16 WAV, 20 ms frames paced in real time, then silence.

    Emits PLAY_START_NS with the CLOCK_MONOTONIC time its first sample was due: sample i is
    due at that time + i / 48000 (late frames are sent at once, so the pace catches up).
    """

    kind = "audio"

    def __init__(self, path):
        super().__init__()
        with wave.open(path, "rb") as w:
            if (w.getframerate(), w.getnchannels(), w.getsampwidth()) != (SAMPLE_RATE, 1, 2):
                raise PeerError("usage", "--play needs a 48 kHz mono 16-bit WAV, %s is %d Hz, "
                                "%d channel(s), %d bytes a sample" % (
                                    path, w.getframerate(), w.getnchannels(),
                                    w.getsampwidth()), EXIT_USAGE)
            self._data = w.readframes(w.getnframes())
        self._start = None
        self._pts = 0
        self._time_base = fractions.Fraction(1, SAMPLE_RATE)

    async def recv(self):
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
            emit("PLAY_START_NS", int(self._start * 1e9))
        else:
            wait = self._start + self._pts / SAMPLE_RATE - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        chunk = self._data[self._pts * 2:(self._pts + SAMPLES_PER_FRAME) * 2]
        chunk += bytes(SAMPLES_PER_FRAME * 2 - len(chunk))
        frame = av.AudioFrame(format="s16", layout="mono", samples=SAMPLES_PER_FRAME)
        frame.planes[0].update(chunk)
        frame.pts = self._pts
        frame.sample_rate = SAMPLE_RATE
        frame.time_base = self._time_base
        self._pts += SAMPLES_PER_FRAME
        return frame


def make_track(args):
    return WavTrack(args.play) if args.play else ToneTrack(args.freq, args.amplitude)


class AudioSink:
    """Consumes a received audio track; optionally writes it to a WAV file.

    The WAV has the sample rate / channel count of the first decoded frame
    (Opus in aiortc: 48 kHz stereo; PCMU/PCMA: 8 kHz mono), 16-bit PCM.
    The header is patched after every write, so the file stays valid even if
    the process is killed hard.  With fill_gaps, RTP timestamp gaps (loss,
    DTX) are filled with silence so the WAV keeps the sender's timeline.
    """

    MAX_GAP_SECONDS = 10.0

    def __init__(self, path=None, on_first=None, fill_gaps=False):
        self.path = path
        self.on_first = on_first
        self.fill_gaps = fill_gaps
        self.frames = 0
        self.samples_written = 0
        self.first_frame_time = None
        self.last_frame_time = None
        self._wav = wave.open(path, "wb") if path else None
        self._params = None  # (rate, channels, layout)
        self._resampler = None
        self._next_pts = None
        self._task = None
        self._closed = False
        self.timeline = []  # (first sample index of a frame in the WAV, CLOCK_MONOTONIC ns)

    def add_track(self, track):
        if self._task is not None:
            # only the first audio track is recorded; drain others
            asyncio.ensure_future(self._drain(track))
            return
        self._task = asyncio.ensure_future(self._run(track))

    async def _drain(self, track):
        try:
            while True:
                await track.recv()
        except MediaStreamError:
            pass

    async def _run(self, track):
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            try:
                self._write(frame)
            except Exception as e:  # keep draining, report once
                logging.getLogger("aiortc_peer").exception("recording failed: %s", e)

    def _write(self, frame):
        if self._closed:
            return
        self.frames += 1
        self.last_frame_time = time.monotonic()
        if self.first_frame_time is None:
            self.first_frame_time = self.last_frame_time
            emit("FIRST_AUDIO_NS", int(self.first_frame_time * 1e9))
            if self.on_first:
                self.on_first()
        if self._params is None:
            channels = len(frame.layout.channels)
            self._params = (frame.sample_rate, channels, frame.layout.name)
            if self._wav:
                self._wav.setnchannels(channels)
                self._wav.setsampwidth(2)
                self._wav.setframerate(frame.sample_rate)
        rate, channels, layout = self._params

        # gap filling from RTP-derived pts (32-bit wrap-around aware)
        if self.fill_gaps and frame.pts is not None and frame.time_base is not None:
            if self._next_pts is not None:
                ticks_per_wrap = 2**32
                delta = (frame.pts - self._next_pts) % ticks_per_wrap
                if delta >= ticks_per_wrap // 2:
                    delta = 0  # late / reordered: don't rewind
                gap_s = float(delta * frame.time_base)
                if 0 < gap_s <= self.MAX_GAP_SECONDS:
                    self._write_raw(bytes(int(gap_s * rate) * channels * 2))
            self._next_pts = frame.pts + int(frame.samples / frame.time_base / frame.sample_rate)

        self.timeline.append((self.samples_written, time.monotonic_ns()))
        if (
            frame.format.name != "s16"
            or frame.sample_rate != rate
            or frame.layout.name != layout
        ):
            if self._resampler is None:
                self._resampler = av.AudioResampler(format="s16", layout=layout, rate=rate)
            out = self._resampler.resample(frame)
            if not isinstance(out, list):
                out = [out] if out is not None else []
        else:
            out = [frame]
        for f in out:
            self._write_raw(bytes(f.planes[0])[: f.samples * channels * 2])

    def _write_raw(self, data):
        self.samples_written += len(data) // (2 * self._params[1])
        if self._wav:
            self._wav.writeframes(data)

    @property
    def seconds(self):
        if self._params is None:
            return 0.0
        return self.samples_written / self._params[0]

    async def stop(self):
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        if not self._closed:
            self._closed = True
            if self._wav:
                if self._params is None:  # nothing received: valid empty WAV
                    self._wav.setnchannels(2)
                    self._wav.setsampwidth(2)
                    self._wav.setframerate(SAMPLE_RATE)
                self._wav.close()


def emit_timeline(sink, tag_fields):
    emit("TIMELINE", *tag_fields, json.dumps({
        "rate": sink._params[0] if sink._params else SAMPLE_RATE,
        "index": [i for i, _ in sink.timeline],
        "arrival_ns": [t for _, t in sink.timeline]}, separators=(",", ":")))


# --------------------------------------------------------------------------
# aiortc / aioice configuration


def patch_ice_addresses(spec):
    """aioice skips 127.0.0.1 when enumerating host addresses; pin them."""
    if spec in ("", "auto"):
        return
    addrs = [a.strip() for a in spec.split(",") if a.strip()]

    def get_host_addresses(use_ipv4, use_ipv6):
        return [a for a in addrs if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]

    aioice.ice.get_host_addresses = get_host_addresses


def patch_relay_only():
    """aiortc 1.4 has no iceTransportPolicy; aioice 0.8 does."""
    import aiortc.rtcicetransport as rit

    orig = rit.connection_kwargs

    def connection_kwargs(servers):
        kw = orig(servers)
        kw["transport_policy"] = aioice.ice.TransportPolicy.RELAY
        return kw

    rit.connection_kwargs = connection_kwargs


def patch_opus(bitrate=None, fec=False, loss_perc=10):
    """aiortc 1.4's Opus encoder has no knobs; call opus_encoder_ctl via ctypes
    on the encoder it created (same libopus.so.0 the aiortc extension links)."""
    import aiortc.codecs as ac
    from aiortc.codecs import opus as aopus

    if fec:
        # advertise that we can receive in-band FEC (and make a peer use it);
        # our aiortc decoder itself does not do FEC recovery.
        for codec in ac.CODECS["audio"]:
            if codec.mimeType.lower() == "audio/opus":
                codec.parameters["useinbandfec"] = 1
    if bitrate is None and not fec:
        return

    lib = ctypes.CDLL(ctypes.util.find_library("opus") or "libopus.so.0")
    ctl = lib.opus_encoder_ctl
    ctl.restype = ctypes.c_int
    requests = []
    if bitrate is not None:
        requests.append(("bitrate", 4002, int(bitrate)))  # OPUS_SET_BITRATE
    if fec:
        requests.append(("fec", 4012, 1))  # OPUS_SET_INBAND_FEC
        requests.append(("loss_perc", 4014, int(loss_perc)))  # OPUS_SET_PACKET_LOSS_PERC
    base = aopus.OpusEncoder
    announced = []

    class TunedOpusEncoder(base):
        def __init__(self):
            super().__init__()
            ptr = ctypes.c_void_p(int(aopus.ffi.cast("uintptr_t", self.encoder)))
            for name, req, val in requests:
                rc = ctl(ptr, ctypes.c_int(req), ctypes.c_int(val))
                if rc != 0:
                    raise RuntimeError("opus_encoder_ctl(%s=%s) failed: %d" % (name, val, rc))
            if not announced:
                announced.append(True)
                emit("OPUS_CTL", *("%s=%s" % (n, v) for n, _, v in requests))

    ac.OpusEncoder = TunedOpusEncoder


def make_configuration(args):
    servers = []
    for url in args.stun or []:
        servers.append(RTCIceServer(urls=url))
    for url in args.turn or []:
        servers.append(
            RTCIceServer(urls=url, username=args.turn_user, credential=args.turn_pass)
        )
    # NB: iceServers=None would make aiortc use stun.l.google.com; pass a list.
    return RTCConfiguration(iceServers=servers)


def apply_codec_preference(pc, codec):
    if not codec:
        return
    caps = RTCRtpSender.getCapabilities("audio").codecs
    want = [c for c in caps if c.mimeType.lower() == "audio/" + codec.lower()]
    if not want:
        raise PeerError("usage", "codec %s not supported by aiortc" % codec, EXIT_USAGE)
    for t in pc.getTransceivers():
        if t.kind == "audio":
            t.setCodecPreferences(want)


def wire_state_events(pc, tag_fields, on_state=None):
    @pc.on("iceconnectionstatechange")
    def _ice():
        emit("ICE", *tag_fields, "state=%s" % pc.iceConnectionState)

    @pc.on("connectionstatechange")
    async def _conn():
        state = pc.connectionState
        emit("STATE", *tag_fields, "connection=%s" % state)
        if on_state:
            await on_state(state)


# --------------------------------------------------------------------------
# server role


def record_path(template, n):
    if not template:
        return None
    if "{n}" in template:
        return template.replace("{n}", str(n))
    if n == 1:
        return template
    stem, dot, ext = template.rpartition(".")
    if not dot:
        return "%s-%d" % (template, n)
    return "%s-%d.%s" % (stem, n, ext)


async def run_server(args):
    from aiohttp import web

    host, _, port = args.listen.rpartition(":")
    host = host.strip("[]")
    pcs = {}  # pc -> (n, sink)
    counter = [0]

    async def close_pc(pc):
        entry = pcs.pop(pc, None)
        if entry is None:
            return
        n, sink = entry
        await pc.close()
        await sink.stop()
        if sink.path:
            emit("RECORDED", "pc=%d" % n, "path=%s" % sink.path,
                 "frames=%d" % sink.frames, "seconds=%.2f" % sink.seconds)
        if args.timeline:
            emit_timeline(sink, ["pc=%d" % n])
        emit("PC_CLOSED", "pc=%d" % n)

    async def offer(request):
        t0 = time.monotonic()
        try:
            params = await request.json()
            sdp, typ = params["sdp"], params["type"]
        except Exception as e:
            return web.Response(status=400, text="bad offer JSON: %s\n" % e)
        if typ != "offer" or not isinstance(sdp, str):
            return web.Response(status=400, text="expected type=offer\n")

        counter[0] += 1
        n = counter[0]
        emit("PC_NEW", "pc=%d" % n, "remote=%s" % request.remote)
        pc = RTCPeerConnection(configuration=make_configuration(args))
        path = record_path(args.record, n)
        sink = AudioSink(
            path,
            on_first=lambda: emit("FIRST_AUDIO_MS", ms_since(t0), "pc=%d" % n),
            fill_gaps=args.fill_gaps,
        )
        pcs[pc] = (n, sink)
        if path:
            emit("RECORDING", "pc=%d" % n, "path=%s" % path)

        async def on_state(state):
            if state in ("failed", "closed"):
                await close_pc(pc)

        wire_state_events(pc, ["pc=%d" % n], on_state)

        @pc.on("track")
        def on_track(track):
            if track.kind == "audio":
                sink.add_track(track)

        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type=typ))
            pc.addTrack(make_track(args))
            apply_codec_preference(pc, args.codec)
            answer = await pc.createAnswer()
            await pc.setLocalDescription(answer)
        except Exception as e:
            emit("ERROR", "sdp", "pc=%d" % n, str(e).replace("\n", " "))
            await close_pc(pc)
            return web.Response(status=400, text="cannot answer offer: %s\n" % e)

        if args.print_sdp:
            sys.stderr.write("--- offer pc=%d ---\n%s--- answer pc=%d ---\n%s" % (
                n, sdp, n, pc.localDescription.sdp))
            sys.stderr.flush()
        return web.Response(
            content_type="application/json",
            text=json.dumps({"sdp": pc.localDescription.sdp, "type": pc.localDescription.type}),
        )

    app = web.Application()
    app.router.add_post(args.path, offer)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host or "127.0.0.1", int(port))
    await site.start()
    addr = runner.addresses[0]
    bound_host = addr[0]
    shown = "[%s]" % bound_host if ":" in bound_host else bound_host
    emit("LISTENING", "%s:%d" % (shown, addr[1]))

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()

    emit("SHUTDOWN")
    for pc in list(pcs):
        await close_pc(pc)
    await runner.cleanup()
    return EXIT_OK


# --------------------------------------------------------------------------
# client role


async def signal_json(session, args, offer_sdp):
    async with session.post(args.url, json={"sdp": offer_sdp, "type": "offer"},
                            headers=auth_headers(args)) as resp:
        body = await resp.text()
        if resp.status != 200:
            raise PeerError("http", "POST %s -> %d %s: %s" % (
                args.url, resp.status, resp.reason, body.strip()[:300]), EXIT_HTTP)
        try:
            answer = json.loads(body)
            sdp, typ = answer["sdp"], answer["type"]
        except Exception as e:
            raise PeerError("http", "POST %s: bad answer JSON (%s): %s" % (
                args.url, e, body.strip()[:300]), EXIT_HTTP)
        if typ != "answer":
            raise PeerError("http", "POST %s: answer has type=%r" % (args.url, typ), EXIT_HTTP)
        return sdp, None


async def signal_whip(session, args, offer_sdp):
    headers = {"Content-Type": "application/sdp", "Accept": "application/sdp"}
    headers.update(auth_headers(args))
    async with session.post(args.url, data=offer_sdp.encode(), headers=headers) as resp:
        body = await resp.text()
        if resp.status != 201:
            raise PeerError("http", "WHIP POST %s -> %d %s (expected 201): %s" % (
                args.url, resp.status, resp.reason, body.strip()[:300]), EXIT_HTTP)
        location = resp.headers.get("Location")
        if not location:
            raise PeerError("http", "WHIP POST %s -> 201 without Location header" % args.url,
                            EXIT_HTTP)
        ctype = resp.headers.get("Content-Type", "")
        if not ctype.lower().startswith("application/sdp"):
            raise PeerError("http", "WHIP POST %s -> Content-Type %r, expected application/sdp"
                            % (args.url, ctype), EXIT_HTTP)
        if not body.startswith("v=0"):
            raise PeerError("http", "WHIP POST %s: answer body is not SDP: %r" % (
                args.url, body[:100]), EXIT_HTTP)
        resource = urljoin(str(resp.url), location)
        emit("WHIP_RESOURCE", resource)
        return body, resource


async def whip_delete(session, args, resource):
    async with session.delete(resource, headers=auth_headers(args)) as resp:
        await resp.read()
        emit("WHIP_DELETE", "status=%d" % resp.status)
        if resp.status // 100 != 2:
            raise PeerError("http", "WHIP DELETE %s -> %d %s" % (
                resource, resp.status, resp.reason), EXIT_HTTP)


def auth_headers(args):
    return {"Authorization": "Bearer %s" % args.token} if args.token else {}


async def media_watchdog(sink, timeout, stalled):
    start = time.monotonic()
    while True:
        await asyncio.sleep(min(0.1, timeout / 4))
        last = sink.last_frame_time or start
        if time.monotonic() - last > timeout:
            stalled.set()
            return


async def run_client(args):
    import aiohttp

    t0 = time.monotonic()
    pc = RTCPeerConnection(configuration=make_configuration(args))
    sink = AudioSink(args.record,
                     on_first=lambda: emit("FIRST_AUDIO_MS", ms_since(t0)),
                     fill_gaps=args.fill_gaps)
    if args.record:
        emit("RECORDING", "path=%s" % args.record)
    connected = asyncio.Event()
    broken = asyncio.Event()
    hangup = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, hangup.set)

    async def on_state(state):
        if state == "connected":
            if not connected.is_set():
                emit("CONNECTED_MS", ms_since(t0))
            connected.set()
        elif state in ("failed", "closed"):
            broken.set()

    wire_state_events(pc, [], on_state)

    @pc.on("track")
    def on_track(track):
        if track.kind == "audio":
            sink.add_track(track)

    pc.addTrack(make_track(args))
    apply_codec_preference(pc, args.codec)

    timeout = aiohttp.ClientTimeout(total=args.http_timeout)
    resource = None
    code = EXIT_OK
    async with aiohttp.ClientSession(timeout=timeout) as session:
        try:
            try:
                # aiortc gathers *all* candidates here (no trickle)
                await asyncio.wait_for(pc.setLocalDescription(await pc.createOffer()),
                                       args.gather_timeout)
            except asyncio.TimeoutError:
                raise PeerError("ice", "candidate gathering took more than %.1f s "
                                "(STUN/TURN server unreachable?)" % args.gather_timeout,
                                EXIT_ICE)
            except (aioice.stun.TransactionFailed, aioice.stun.TransactionTimeout,
                    OSError) as e:
                raise PeerError("ice", "candidate gathering failed (STUN/TURN server "
                                "unreachable or refused?): %s: %s" % (type(e).__name__, e),
                                EXIT_ICE)
            offer_sdp = pc.localDescription.sdp
            emit("OFFER_READY_MS", ms_since(t0))
            if args.print_sdp:
                sys.stderr.write("--- offer ---\n%s" % offer_sdp)
            try:
                if args.protocol == "whip":
                    answer_sdp, resource = await signal_whip(session, args, offer_sdp)
                else:
                    answer_sdp, resource = await signal_json(session, args, offer_sdp)
            except (aiohttp.ClientError, asyncio.TimeoutError) as e:
                raise PeerError("http", "%s %s: %s" % (
                    args.protocol, args.url, e or type(e).__name__), EXIT_HTTP)
            emit("ANSWER_MS", ms_since(t0))
            if args.print_sdp:
                sys.stderr.write("--- answer ---\n%s" % answer_sdp)
                sys.stderr.flush()
            try:
                await pc.setRemoteDescription(RTCSessionDescription(sdp=answer_sdp, type="answer"))
            except Exception as e:
                raise PeerError("http", "cannot apply answer: %s" % e, EXIT_HTTP)

            # wait for ICE + DTLS
            waits = [asyncio.ensure_future(e.wait()) for e in (connected, broken, hangup)]
            done, pending = await asyncio.wait(waits, timeout=args.connect_timeout,
                                               return_when=asyncio.FIRST_COMPLETED)
            for w in pending:
                w.cancel()
            if not connected.is_set():
                if hangup.is_set():
                    raise PeerError("ice", "interrupted before connecting", EXIT_ICE)
                raise PeerError("ice", "connection %s after %d ms (ice=%s)" % (
                    "failed" if broken.is_set() else "timed out", ms_since(t0),
                    pc.iceConnectionState), EXIT_ICE)

            # the call
            stalled = asyncio.Event()
            watchdog = None
            if args.media_timeout > 0:
                watchdog = asyncio.ensure_future(media_watchdog(sink, args.media_timeout, stalled))
            waits = [asyncio.ensure_future(e.wait()) for e in (broken, hangup, stalled)]
            done, pending = await asyncio.wait(waits, timeout=args.duration,
                                               return_when=asyncio.FIRST_COMPLETED)
            for w in pending:
                w.cancel()
            if watchdog:
                watchdog.cancel()
            if broken.is_set() and not hangup.is_set():
                raise PeerError("ice", "connection lost during call (state=%s)"
                                % pc.connectionState, EXIT_ICE)
            if stalled.is_set() and not hangup.is_set():
                raise PeerError("audio", "no audio for %.1f s (media timeout)"
                                % args.media_timeout, EXIT_NO_AUDIO)
            if sink.first_frame_time is None:
                code = EXIT_NO_AUDIO
                emit("ERROR", "audio", "no audio received")
        except PeerError as e:
            emit("ERROR", e.kind, str(e))
            code = e.code
        finally:
            emit("HANGUP")
            if resource:
                try:
                    await whip_delete(session, args, resource)
                except PeerError as e:
                    emit("ERROR", e.kind, str(e))
                    code = code or e.code
                except (aiohttp.ClientError, asyncio.TimeoutError) as e:
                    emit("ERROR", "http", "WHIP DELETE %s: %s" % (resource, e or type(e).__name__))
                    code = code or EXIT_HTTP
            await pc.close()
            await sink.stop()
            emit("RX_AUDIO", "frames=%d" % sink.frames, "seconds=%.2f" % sink.seconds)
            if args.record:
                emit("RECORDED", "path=%s" % args.record, "frames=%d" % sink.frames,
                     "seconds=%.2f" % sink.seconds)
            if args.timeline:
                emit_timeline(sink, [])
    emit("DONE", "exit=%d" % code)
    return code


# --------------------------------------------------------------------------


def build_parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="role", required=True)

    def common(sp):
        sp.add_argument("--freq", type=float, default=440.0,
                        help="tone frequency in Hz (0 = silence), default 440")
        sp.add_argument("--amplitude", type=float, default=0.3,
                        help="tone amplitude 0..1 of full scale, default 0.3")
        sp.add_argument("--record", metavar="FILE.wav",
                        help="write received audio to this WAV (server: FILE.wav for "
                             "the 1st connection, FILE-2.wav ...; or use {n} in the name)")
        sp.add_argument("--fill-gaps", action="store_true",
                        help="fill RTP timestamp gaps with silence in the WAV")
        sp.add_argument("--play", metavar="FILE.wav",
                        help="send this 48 kHz mono 16-bit WAV (then silence) instead of the "
                             "tone; prints PLAY_START_NS")
        sp.add_argument("--timeline", action="store_true",
                        help="when the recording ends, print TIMELINE {json}: each received "
                             "frame's first sample index in the WAV and its arrival time "
                             "(CLOCK_MONOTONIC ns)")
        sp.add_argument("--ice-address", default="127.0.0.1",
                        help="comma-separated host candidate addresses, default 127.0.0.1; "
                             "'auto' = aioice's own enumeration (skips loopback)")
        sp.add_argument("--stun", action="append", metavar="URL",
                        help="stun:host[:port] (aioice uses only the first); default none")
        sp.add_argument("--turn", action="append", metavar="URL",
                        help="turn:host[:port][?transport=udp|tcp] or turns:... "
                             "(aioice uses only the first)")
        sp.add_argument("--turn-user", help="TURN username")
        sp.add_argument("--turn-pass", help="TURN password")
        sp.add_argument("--relay-only", action="store_true",
                        help="ICE transport policy relay (needs --turn)")
        sp.add_argument("--codec", choices=["opus", "PCMU", "PCMA"],
                        help="restrict the audio codec (default: aiortc order opus, PCMU, PCMA)")
        sp.add_argument("--opus-bitrate", type=int, metavar="BPS",
                        help="Opus encoder target bitrate (opus_encoder_ctl)")
        sp.add_argument("--opus-fec", action="store_true",
                        help="enable Opus in-band FEC in our encoder and signal useinbandfec=1")
        sp.add_argument("--opus-loss-perc", type=int, default=10,
                        help="expected packet loss %% given to the encoder with --opus-fec")
        sp.add_argument("--print-sdp", action="store_true", help="print offer/answer to stderr")
        sp.add_argument("-v", "--verbose", action="count", default=0,
                        help="-v: aiortc info logs, -vv: debug (stderr)")

    s = sub.add_parser("server", help="answer JSON offers over HTTP (aiortc server example)")
    s.add_argument("--listen", required=True, metavar="HOST:PORT",
                   help="HTTP listen address, e.g. 127.0.0.1:8080 (port 0 = pick one)")
    s.add_argument("--path", default="/offer", help="offer endpoint path, default /offer")
    common(s)

    c = sub.add_parser("client", help="make one call, record it, hang up")
    c.add_argument("--url", required=True, help="offer endpoint (json) or WHIP endpoint URL")
    c.add_argument("--protocol", choices=["json", "whip"], default="json")
    c.add_argument("--token", help="Bearer token for the Authorization header")
    c.add_argument("--duration", type=float, default=5.0,
                   help="seconds to stay in the call after connecting, default 5")
    c.add_argument("--connect-timeout", type=float, default=15.0,
                   help="seconds from answer to connectionState=connected, default 15")
    c.add_argument("--media-timeout", type=float, default=0.0,
                   help="fail (exit 5) if no audio frame arrives for this many seconds "
                        "during the call (counted from connect); default 0 = off")
    c.add_argument("--gather-timeout", type=float, default=20.0,
                   help="seconds allowed for candidate gathering, default 20 (a dead "
                        "TURN server otherwise takes aioice ~64 s)")
    c.add_argument("--http-timeout", type=float, default=10.0,
                   help="per-request HTTP timeout in seconds, default 10")
    common(c)
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.verbose:
        logging.basicConfig(level=logging.DEBUG if args.verbose > 1 else logging.INFO,
                            stream=sys.stderr)
    else:
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    if args.relay_only and not args.turn:
        emit("ERROR", "usage", "--relay-only needs --turn")
        return EXIT_USAGE
    patch_ice_addresses(args.ice_address)
    if args.relay_only:
        patch_relay_only()
    patch_opus(args.opus_bitrate, args.opus_fec, args.opus_loss_perc)

    try:
        if args.role == "server":
            return asyncio.run(run_server(args))
        return asyncio.run(run_client(args))
    except PeerError as e:
        emit("ERROR", e.kind, str(e))
        return e.code
    except KeyboardInterrupt:
        return EXIT_INTERNAL
    except Exception as e:
        logging.getLogger("aiortc_peer").exception("internal error")
        emit("ERROR", "internal", "%s: %s" % (type(e).__name__, e))
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
