#!/usr/bin/python3
"""One GStreamer party of an experiment call, with the timing gst-launch-1.0 cannot report.

    party.py 'voicecapturebin ... ! voicecall ... ! voiceplaybackbin sink="wavenc name=rec ! ..."'

Runs the pipeline description like `gst-launch-1.0 -e -m` would, and prints one JSON object a
line (flushed) on stdout:

  {"ev": "playing", "base_time_ns": N}       the pipeline's base time on the system clock
  {"ev": "source-flowing", "t_ns": N}        the source's first buffer reached `pace`
  {"ev": "record-start", "t_ns": N}          when the first buffer reached the element named
                                             `rec` (the recorder)
  {"ev": "message", "name": S, "t_ns": N, "fields": {...}}
                                             voicecall-* and voiceplayout-stats element messages (stats, adaptation,
                                             first-audio, session-started/-ended)
  {"ev": "record-end", "samples": N, "gaps": N, "gap_ms": X, "overlap_ms": X}
                                             what reached `rec`, and where its timestamps were
                                             not contiguous (a WAV cannot show that)
  {"ev": "record-timeline", "index": [...], "arrival_ns": [...], "pts_abs_ns": [...],
   "latency_ns": [...]}                      per buffer that reached `rec`: its first sample's
                                             index in the recording, the clock time it arrived,
                                             base time + running time of its timestamp, and the
                                             upstream latency then. A sink that syncs (a sound
                                             card) plays it at pts_abs_ns + latency_ns.
  {"ev": "send-start", "abs_ns": N}          (at the end) clock time at which the source's
                                             first sample was due: base time + running time
                                             at voicecapturebin's `pace` clocksync
  {"ev": "error", "message": S} / {"ev": "eos"} / {"ev": "done", "exit": N}

The system clock is CLOCK_MONOTONIC, shared by every process and network namespace of the
machine: a sender's send-start and a receiver's record-start can be subtracted. SIGINT or
SIGTERM sends EOS (the WAV is finalised, the call hung up) and exits once it arrived.

Needs python3-gi with GStreamer's introspection data (gir1.2-gstreamer-1.0); the voicecall
plugin is found through GST_PLUGIN_PATH.
"""
import json
import signal
import sys
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GLib", "2.0")
from gi.repository import GLib, Gst  # noqa: E402


def emit(ev, **fields):
    fields["ev"] = ev
    print(json.dumps(fields), flush=True)


def structure_fields(s):
    out = {}
    for i in range(s.n_fields()):
        name = s.nth_field_name(i)
        try:
            v = s.get_value(name)
        except TypeError:
            continue
        if isinstance(v, (bool, int, float, str)):
            out[name] = v
    return out


class Party:
    def __init__(self, description, eos_timeout):
        self.pipeline = Gst.parse_launch(description)
        self.loop = GLib.MainLoop()
        self.eos_timeout = eos_timeout
        self.exit = 0
        self.stopping = False
        self.base_time = None
        self.send_running = None
        self.record = {"samples": 0, "gaps": 0, "gap_ms": 0.0, "overlap_ms": 0.0, "next": None,
                       "timeline": [], "latency": 0, "latency_at": 0}
        self._probe("pace", "sink", self._on_send_buffer)
        self._probe("rec", "sink", self._on_record_buffer)
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message", self._on_message)

    def _probe(self, element_name, pad_name, callback):
        element = self.pipeline.get_by_name(element_name)
        if element is None:
            return
        pad = element.get_static_pad(pad_name)
        pad.add_probe(Gst.PadProbeType.BUFFER, callback)

    @staticmethod
    def _running_time(pad, buf):
        """Running time of a buffer's timestamp (None if it has none)."""
        event = pad.get_sticky_event(Gst.EventType.SEGMENT, 0)
        if event is None or buf.pts == Gst.CLOCK_TIME_NONE:
            return None
        rt = event.parse_segment().to_running_time(Gst.Format.TIME, buf.pts)
        return rt if rt != Gst.CLOCK_TIME_NONE else None

    def _on_send_buffer(self, pad, info):
        # Running time only: data may pass before the pipeline plays and has its base time.
        rt = self._running_time(pad, info.get_buffer())
        if rt is not None:
            self.send_running = rt
            emit("source-flowing", t_ns=time.monotonic_ns())
            return Gst.PadProbeReturn.REMOVE
        return Gst.PadProbeReturn.OK

    def _on_record_buffer(self, pad, info):
        buf = info.get_buffer()
        caps = pad.get_current_caps()
        if caps is None:
            return Gst.PadProbeReturn.OK
        s = caps.get_structure(0)
        rate = s.get_int("rate")[1]
        channels = s.get_int("channels")[1]
        width = 2 if s.get_string("format") in ("S16LE", "S16BE") else 4
        samples = buf.get_size() // (channels * width)
        r = self.record
        if r["next"] is None:
            emit("record-start", t_ns=time.monotonic_ns(), rate=rate, channels=channels)
        elif buf.pts != Gst.CLOCK_TIME_NONE:
            delta_ms = (buf.pts - r["next"]) / 1e6
            if delta_ms > 1:
                r["gaps"] += 1
                r["gap_ms"] += delta_ms
            elif delta_ms < -1:
                r["overlap_ms"] -= delta_ms
        if buf.pts != Gst.CLOCK_TIME_NONE:
            r["next"] = buf.pts + samples * Gst.SECOND // rate
        rt = self._running_time(pad, buf)
        now = time.monotonic_ns()
        if now - r["latency_at"] > 500_000_000:
            # What a sink here would add to the timestamps: the upstream latency (jitter
            # buffer, decoder), re-read twice a second since an adaptive jitter buffer moves.
            q = Gst.Query.new_latency()
            if pad.peer_query(q):
                live, min_latency, _ = q.parse_latency()
                r["latency"] = min_latency
            r["latency_at"] = now
        r["timeline"].append((r["samples"], now, rt, r["latency"]))
        r["samples"] += samples
        return Gst.PadProbeReturn.OK

    def _on_message(self, bus, msg):
        t = msg.type
        if t == Gst.MessageType.ELEMENT:
            s = msg.get_structure()
            if s is not None and s.get_name().startswith(("voicecall-", "voiceplayout-")):
                emit("message", name=s.get_name(), t_ns=time.monotonic_ns(),
                     src=msg.src.get_name(), fields=structure_fields(s))
        elif t == Gst.MessageType.STATE_CHANGED and msg.src == self.pipeline:
            old, new, _ = msg.parse_state_changed()
            if new == Gst.State.PLAYING and self.base_time is None:
                self.base_time = self.pipeline.get_base_time()
                clock = self.pipeline.get_clock()
                emit("playing", base_time_ns=self.base_time,
                     clock_now_ns=clock.get_time() if clock else None,
                     monotonic_now_ns=time.monotonic_ns())
        elif t == Gst.MessageType.EOS:
            emit("eos")
            self.loop.quit()
        elif t == Gst.MessageType.ERROR:
            err, debug = msg.parse_error()
            emit("error", src=msg.src.get_name(), message=err.message, debug=debug or "")
            self.exit = 1
            self.loop.quit()

    def stop(self, *_):
        if self.stopping:
            return GLib.SOURCE_REMOVE
        self.stopping = True
        self.pipeline.send_event(Gst.Event.new_eos())
        GLib.timeout_add(int(self.eos_timeout * 1000), self._eos_timeout)
        return GLib.SOURCE_REMOVE

    def _eos_timeout(self):
        emit("error", src="party", message="no EOS within %.1f s of the hang-up" % self.eos_timeout)
        self.loop.quit()
        return GLib.SOURCE_REMOVE

    def run(self):
        GLib.unix_signal_add(GLib.PRIORITY_HIGH, signal.SIGINT, self.stop)
        GLib.unix_signal_add(GLib.PRIORITY_HIGH, signal.SIGTERM, self.stop)
        if self.pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            emit("error", src="party", message="the pipeline cannot go to PLAYING")
            self.exit = 1
        else:
            self.loop.run()
        # The base time is set when the pipeline first plays and stays: take it now.
        base = self.pipeline.get_base_time()
        if self.send_running is not None:
            emit("send-start", abs_ns=base + self.send_running, running_ns=self.send_running)
        self.pipeline.set_state(Gst.State.NULL)
        r = self.record
        emit("record-end", samples=r["samples"], gaps=r["gaps"], gap_ms=round(r["gap_ms"], 1),
             overlap_ms=round(r["overlap_ms"], 1))
        if r["timeline"]:
            emit("record-timeline", index=[x[0] for x in r["timeline"]],
                 arrival_ns=[x[1] for x in r["timeline"]],
                 pts_abs_ns=[base + x[2] if x[2] is not None else None for x in r["timeline"]],
                 latency_ns=[x[3] for x in r["timeline"]])
        emit("done", exit=self.exit)
        return self.exit


def main():
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        return 2
    Gst.init(None)
    try:
        party = Party(sys.argv[1], eos_timeout=5.0)
    except GLib.Error as e:
        emit("error", src="party", message="bad pipeline: %s" % e.message)
        emit("done", exit=2)
        return 2
    return party.run()


if __name__ == "__main__":
    sys.exit(main())
