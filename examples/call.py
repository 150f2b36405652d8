#!/usr/bin/python3
"""A callee and a caller built from the gst-voicecall elements in code (PyGObject).

The callee answers on 127.0.0.1 (a free port) over HTTP (WHIP), the caller calls it; each sends a
tone and saves what it hears to OUT_DIR/{caller,callee}.wav. The bus shows the call's life
(voicecall-session-state) and statistics (voicecall-stats); after SECONDS the caller hangs up
(EOS), the callee sees "remote hang-up" and is stopped the same way.

  GST_PLUGIN_PATH=build/plugins/voicecall examples/call.py [OUT_DIR [SECONDS]]
"""
import sys
import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402


def make(factory, **props):
    element = Gst.ElementFactory.make(factory)
    if element is None:
        sys.exit(f"no {factory} element: is the voicecall plugin installed (GST_PLUGIN_PATH)?")
    for name, value in props.items():
        element.set_property(name.replace("_", "-"), value)
    return element


def party(name, tone_hz, wav, **call_props):
    """audiotestsrc → voicecapturebin → voicecall → voiceplaybackbin → WAV."""
    pipeline = Gst.Pipeline.new(name)
    capture = make("voicecapturebin", noise_suppression=False,
                   source=make("audiotestsrc", is_live=True, freq=tone_hz, volume=0.3))
    call = make("voicecall", ice_addresses="127.0.0.1", stats_interval=1000, **call_props)
    sink = Gst.parse_bin_from_description(f"wavenc ! filesink location={wav}", True)
    playback = make("voiceplaybackbin", sink=sink)
    for element in (capture, call, playback):
        pipeline.add(element)
    capture.link(call)
    call.link(playback)
    return pipeline, call


def watch(pipeline, on_state, on_end):
    def on_message(bus, msg):
        if msg.type == Gst.MessageType.ELEMENT:
            s = msg.get_structure()
            if s.get_name() == "voicecall-session-state":
                print(f"{pipeline.name}: {s.get_value('state')}"
                      + (f" ({s.get_value('reason')})" if s.has_field("reason") else ""), flush=True)
                on_state(pipeline, s.get_value("state"))
            elif s.get_name() == "voicecall-stats":
                print(f"{pipeline.name}: rtt {s.get_value('rtt-ms'):.1f} ms, received "
                      f"{s.get_value('receive-kbps'):.1f} kbit/s, mos {s.get_value('mos'):.2f}", flush=True)
        elif msg.type == Gst.MessageType.ERROR:
            on_end(pipeline, f"{pipeline.name}: error: {msg.parse_error()[0].message}")
        elif msg.type == Gst.MessageType.EOS:
            print(f"{pipeline.name}: stopped", flush=True)
            on_end(pipeline)
        return True

    pipeline.get_bus().add_watch(GLib.PRIORITY_DEFAULT, on_message)


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "."
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 3
    Gst.init(None)
    loop, stopped, failures = GLib.MainLoop(), set(), []
    callee, callee_call = party("callee", 880, f"{out_dir}/callee.wav", listen="127.0.0.1:0")
    callee.set_state(Gst.State.PLAYING)
    # The server signaller (a child of voicecall) says which port it bound.
    port = callee_call.get_property("signaller").get_property("port")
    caller, _ = party("caller", 440, f"{out_dir}/caller.wav", url=f"http://127.0.0.1:{port}/call")

    def on_state(pipeline, state):
        if pipeline is caller and state == "connected":  # talk, then hang up: EOS into the caller
            GLib.timeout_add(int(seconds * 1000), lambda: caller.send_event(Gst.Event.new_eos()) and False)
        elif pipeline is callee and state == "ended":  # the caller hung up: stop the callee
            callee.send_event(Gst.Event.new_eos())  # (the EOS finalises its WAV)

    def on_end(pipeline, failure=None):  # a pipeline stopped (EOS), or failed
        stopped.add(pipeline.name)
        failures.extend([failure] if failure else [])
        if failure or len(stopped) == 2:
            loop.quit()

    watch(caller, on_state, on_end)
    watch(callee, on_state, on_end)
    GLib.timeout_add_seconds(int(seconds) + 30, on_end, caller, "the call did not end in time")
    caller.set_state(Gst.State.PLAYING)
    loop.run()
    caller.set_state(Gst.State.NULL)
    callee.set_state(Gst.State.NULL)
    sys.exit("; ".join(failures) or None)


if __name__ == "__main__":
    main()
