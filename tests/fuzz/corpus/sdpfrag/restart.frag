a=ice-ufrag:EsAw
a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1
m=audio 9 UDP/TLS/RTP/SAVPF 0
a=mid:0
a=candidate:1 1 udp 2122260223 192.0.2.1 61764 typ host
