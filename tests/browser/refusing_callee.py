#!/usr/bin/python3
"""A voicecall callee whose application refuses every call (voicecall's incoming-call signal
answers FALSE), printing what it saw: REFUSED <peer> <user-agent>. Stops on SIGINT.

Usage: refusing_callee.py --port PORT
"""
import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args()
    Gst.init(None)
    pipeline = Gst.parse_launch(
        'voicecapturebin noise-suppression=false source="audiotestsrc is-live=true freq=880" '
        f"! voicecall name=call listen=127.0.0.1:{args.port} ice-addresses=127.0.0.1 "
        "! voiceplaybackbin sink=fakesink")
    call = pipeline.get_by_name("call")

    def incoming(element, session_id, peer, headers):
        print(f"REFUSED {peer} {headers.get_value('user-agent')}", flush=True)
        return False

    call.connect("incoming-call", incoming)
    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, lambda: loop.quit() or False)
    pipeline.set_state(Gst.State.PLAYING)
    loop.run()
    pipeline.set_state(Gst.State.NULL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
