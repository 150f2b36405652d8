#!/usr/bin/python3
"""A real aiortc participant of a Janus AudioBridge room, over Janus's plain HTTP API (no janus.js).

    aiortc_janus.py --url http://127.0.0.1:8088/janus --room 1234 --display carol \
        --freq 550 --record carol.wav [--pin PIN] [--duration S]

create → attach janus.plugin.audiobridge → join with aiortc's offer (all candidates in it,
aiortc does not trickle) → the answer from the long poll → talk (a sine at --freq) and record
the room's mix → on SIGINT/SIGTERM or after --duration: leave, destroy, close.

Lines on stdout (flushed), times in ms since the call started (before "create"):
  ATTACHED_MS <ms>     session and handle made
  JOINED_MS <ms>       the "joined" event (with the answer)
  CONNECTED_MS <ms>    connectionState connected
  FIRST_AUDIO_MS <ms>  first decoded frame of the room's mix
  EVENT <json>         every other AudioBridge event (participants, leaving, talking)
  ERROR <kind> <msg>   and exit status 3 (Janus refused or unreachable) / 4 (ICE) / 5 (no audio)
  DONE exit=<code>

Run with /usr/bin/python3 (Debian's python3-aiortc, python3-aiohttp).
"""
import argparse
import asyncio
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aiortc_peer import (AudioSink, ToneTrack, emit, ms_since,  # noqa: E402
                         patch_ice_addresses)
from aiortc import RTCPeerConnection, RTCSessionDescription  # noqa: E402

EXIT_OK, EXIT_HTTP, EXIT_ICE, EXIT_NO_AUDIO = 0, 3, 4, 5


class JanusError(Exception):
    pass


class Janus:
    def __init__(self, http, url):
        self.http, self.url = http, url
        self.session = self.handle = None

    async def post(self, path, body):
        body = dict(body, transaction=os.urandom(6).hex())
        async with self.http.post(self.url + path, json=body) as r:
            reply = await r.json(content_type=None)
        if reply.get("janus") == "error":
            raise JanusError("%s: %s" % (body.get("janus"), reply["error"]))
        return reply

    async def message(self, body, jsep=None):
        msg = {"janus": "message", "body": body}
        if jsep:
            msg["jsep"] = jsep
        return await self.post("/%d/%d" % (self.session, self.handle), msg)

    async def events(self):
        """Long poll, forever: yields each event."""
        while True:
            async with self.http.get("%s/%d?maxev=10" % (self.url, self.session)) as r:
                reply = await r.json(content_type=None)
            for e in reply if isinstance(reply, list) else [reply]:
                if e.get("janus") != "keepalive":
                    yield e


async def run(args):
    import aiohttp

    t0 = time.monotonic()
    pc = RTCPeerConnection()
    sink = AudioSink(args.record, on_first=lambda: emit("FIRST_AUDIO_MS", ms_since(t0)))
    connected, broken, hangup = asyncio.Event(), asyncio.Event(), asyncio.Event()
    answer = asyncio.get_running_loop().create_future()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, hangup.set)

    @pc.on("connectionstatechange")
    async def on_state():
        if pc.connectionState == "connected" and not connected.is_set():
            emit("CONNECTED_MS", ms_since(t0))
            connected.set()
        elif pc.connectionState in ("failed", "closed"):
            broken.set()

    @pc.on("track")
    def on_track(track):
        if track.kind == "audio":
            sink.add_track(track)

    pc.addTrack(ToneTrack(args.freq))
    code = EXIT_OK
    timeout = aiohttp.ClientTimeout(total=45)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        janus = Janus(http, args.url)
        poller = keepalive = None
        try:
            try:
                janus.session = (await janus.post("", {"janus": "create"}))["data"]["id"]
                janus.handle = (await janus.post("/%d" % janus.session, {
                    "janus": "attach", "plugin": "janus.plugin.audiobridge"}))["data"]["id"]
            except (aiohttp.ClientError, asyncio.TimeoutError, JanusError) as e:
                raise JanusError("Janus at %s: %s" % (args.url, e or type(e).__name__))
            emit("ATTACHED_MS", ms_since(t0))

            async def poll():
                async for e in janus.events():
                    data = e.get("plugindata", {}).get("data", {})
                    if "error_code" in data and not answer.done():
                        answer.set_exception(JanusError("%s (%s)" % (data.get("error"),
                                                                      data["error_code"])))
                    elif e.get("jsep") and not answer.done():
                        emit("JOINED_MS", ms_since(t0))
                        answer.set_result(e["jsep"]["sdp"])
                    elif data:
                        emit("EVENT", json.dumps(data, separators=(",", ":")))
                    if e.get("janus") == "hangup":
                        broken.set()

            async def keep():
                while True:
                    await asyncio.sleep(args.keepalive)
                    await janus.post("/%d" % janus.session, {"janus": "keepalive"})

            poller = asyncio.ensure_future(poll())
            keepalive = asyncio.ensure_future(keep())
            await pc.setLocalDescription(await pc.createOffer())
            body = {"request": "join", "room": args.room, "display": args.display}
            if args.pin:
                body["pin"] = args.pin
            await janus.message(body, {"type": "offer", "sdp": pc.localDescription.sdp})
            sdp = await asyncio.wait_for(answer, 10)
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))

            waits = [asyncio.ensure_future(e.wait()) for e in (connected, broken, hangup)]
            await asyncio.wait(waits, timeout=15, return_when=asyncio.FIRST_COMPLETED)
            if not connected.is_set():
                code = EXIT_ICE
                emit("ERROR", "ice", "not connected (state %s)" % pc.connectionState)
            else:
                waits = [asyncio.ensure_future(e.wait()) for e in (broken, hangup)]
                await asyncio.wait(waits, timeout=args.duration,
                                   return_when=asyncio.FIRST_COMPLETED)
                if broken.is_set() and not hangup.is_set():
                    code = EXIT_ICE
                    emit("ERROR", "ice", "call lost (state %s)" % pc.connectionState)
                elif sink.first_frame_time is None:
                    code = EXIT_NO_AUDIO
                    emit("ERROR", "audio", "no audio from the room")
        except (JanusError, asyncio.TimeoutError, aiohttp.ClientError) as e:
            emit("ERROR", "janus", str(e) or type(e).__name__)
            code = EXIT_HTTP
        finally:
            for task in (poller, keepalive):
                if task:
                    task.cancel()
            if janus.handle:
                try:
                    await janus.message({"request": "leave"})
                    await janus.post("/%d" % janus.session, {"janus": "destroy"})
                except Exception as e:  # the call is over anyway
                    emit("ERROR", "janus", "leave/destroy: %s" % e)
            await pc.close()
            await sink.stop()
            emit("RX_AUDIO", "frames=%d" % sink.frames, "seconds=%.2f" % sink.seconds)
    emit("DONE", "exit=%d" % code)
    return code


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", required=True, help="Janus HTTP API, e.g. http://127.0.0.1:8088/janus")
    p.add_argument("--room", type=int, required=True)
    p.add_argument("--display", default="aiortc")
    p.add_argument("--pin")
    p.add_argument("--freq", type=float, default=550.0)
    p.add_argument("--record", help="WAV file of the room's mix")
    p.add_argument("--duration", type=float, default=3600.0)
    p.add_argument("--keepalive", type=float, default=20.0, help="seconds between keepalives")
    p.add_argument("--ice-address", default="127.0.0.1")
    args = p.parse_args()
    patch_ice_addresses(args.ice_address)
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
