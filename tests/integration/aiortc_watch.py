#!/usr/bin/python3
"""tests/peers/aiortc_peer.py, plus a TRACK_ENDED line when a received track ends.

aiortc 1.4 stops a receiver's decoder when an RTCP BYE arrives, which ends the remote track;
its connectionState changes only on DTLS close_notify or ICE failure. aiortc_peer.py's own
output says nothing about the track, so this wrapper reports it. Same arguments as
aiortc_peer.py.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peers"))
import aiortc_peer  # noqa: E402

_run = aiortc_peer.AudioSink._run


async def run_and_report(self, track):
    await _run(self, track)  # returns when the track ends (cancelled when the sink stops)
    aiortc_peer.emit("TRACK_ENDED", "frames=%d" % self.frames)


aiortc_peer.AudioSink._run = run_and_report

# Every RTCP BYE that arrives (RTCP_BYE sources=...) and every new RTP SSRC (RTP_SSRC ...), so a
# BYE that names an SSRC aiortc never received RTP from (and so ignores) can be told apart
# from a BYE that never came.
from aiortc import rtcdtlstransport  # noqa: E402
from aiortc.rtp import RtcpByePacket, RtcpPacket  # noqa: E402

_handle_rtcp_data = rtcdtlstransport.RTCDtlsTransport._handle_rtcp_data
_route_rtp = rtcdtlstransport.RtpRouter.route_rtp
_ssrcs_seen = set()


async def handle_rtcp_data(self, data):
    try:
        for packet in RtcpPacket.parse(data):
            if isinstance(packet, RtcpByePacket):
                aiortc_peer.emit("RTCP_BYE", "sources=" + ",".join("%08x" % s for s in packet.sources))
    except ValueError:
        pass
    await _handle_rtcp_data(self, data)


def route_rtp(self, packet):
    if packet.ssrc not in _ssrcs_seen:
        _ssrcs_seen.add(packet.ssrc)
        aiortc_peer.emit("RTP_SSRC", "%08x" % packet.ssrc)
    return _route_rtp(self, packet)


rtcdtlstransport.RTCDtlsTransport._handle_rtcp_data = handle_rtcp_data
rtcdtlstransport.RtpRouter.route_rtp = route_rtp

if __name__ == "__main__":
    sys.exit(aiortc_peer.main())
