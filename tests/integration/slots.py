#!/usr/bin/python3
"""gst-voicecall integration test: sessions that never connect give their slot back.

A callee with max-sessions=2 and connect-timeout=1500 gets two WHIP offers that can never
connect (no candidates), then a third (503: both slots taken). Each of the two must end with
reason "timeout" about connect-timeout after it began, and then a real caller must get
through and be heard (dominant frequency).

Usage: slots.py --build BUILD_DIR
"""
import argparse
import os
import re
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from calls import Env, Failure, callee_gst, free_port  # noqa: E402

# An Opus offer with ICE credentials and a fingerprint but no candidate: nothing to connect to.
OFFER = "\r\n".join([
    "v=0", "o=- 4611731400430051336 2 IN IP4 127.0.0.1", "s=-", "t=0 0",
    "a=group:BUNDLE 0", "m=audio 9 UDP/TLS/RTP/SAVPF 111", "c=IN IP4 127.0.0.1",
    "a=rtcp:9 IN IP4 0.0.0.0", "a=ice-ufrag:nocd", "a=ice-pwd:nocandidatesnocandidates",
    "a=fingerprint:sha-256 A6:2E:2E:1F:1E:29:D1:53:B1:71:B5:12:9B:8D:DE:44:B3:48:A0:99:92:42:"
    "00:04:A5:6F:F6:A7:59:35:0D:DA",
    "a=setup:actpass", "a=mid:0", "a=sendrecv", "a=rtcp-mux", "a=rtpmap:111 opus/48000/2",
    "a=fmtp:111 minptime=10;useinbandfec=1", ""])


def post_offer(port):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/call", data=OFFER.encode(),
                                 headers={"Content-Type": "application/sdp"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    args = ap.parse_args()
    env = Env(args.build)
    try:
        port = free_port()
        callee = callee_gst(env, port, 880, env.path("callee.wav"),
                            ["signaller::max-sessions=2", "connect-timeout=1500"])
        env.wait_http(port, callee)
        t0 = time.time()
        statuses = [post_offer(port), post_offer(port)]
        third = post_offer(port)
        print(f"  two unconnectable offers: {statuses}, then a third: {third}")
        if statuses != [201, 201] or third != 503:
            raise Failure(f"expected 201, 201 then 503, got {statuses} then {third}")
        pattern = r"voicecall-session-state, reason=\(string\)timeout"
        deadline = time.time() + 10
        while len(re.findall(pattern, env.log(callee))) < 2 and time.time() < deadline:
            time.sleep(0.05)
        ended = len(re.findall(pattern, env.log(callee)))
        took = time.time() - t0
        print(f"  {ended} sessions ended with reason timeout {took:.2f} s after the first offer")
        if ended < 2:
            raise Failure(f"only {ended} of 2 unconnected sessions timed out:\n"
                          + env.log(callee)[-3000:])
        if not 1.4 <= took <= 4.0:
            raise Failure(f"connect-timeout=1500 ended them after {took:.2f} s")
        caller = env.gst_launch("caller", env.party(440, [
            f"url=http://127.0.0.1:{port}/call", "ice-addresses=127.0.0.1"],
            env.path("caller.wav")))
        env.wait_for(caller, r"voicecall-first-audio", 20)
        time.sleep(2)
        env.stop(caller)
        env.stop(callee)
        env.expect_tone("the caller after the freed slots heard", env.path("caller.wav"), 880)
        env.expect_tone("callee heard", env.path("callee.wav"), 440)
    except Failure as e:
        print(f"FAIL: {e}")
        return 1
    finally:
        env.cleanup()
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
