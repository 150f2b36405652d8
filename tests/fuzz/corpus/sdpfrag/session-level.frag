a=candidate:2 1 TCP 1015021823 127.0.0.1 9 typ host tcptype active
a=end-of-candidates
