// udpprobe: numbered, timestamped UDP packets at a fixed rate, to measure
// what the lab's impairments do.  All namespaces share CLOCK_MONOTONIC, so a
// receiver in another namespace can measure one-way delay directly.
//
//   udpprobe recv --bind 10.77.2.2:9000 [--count N] [--idle-ms 1500]
//   udpprobe send --to 10.77.2.2:9000 --count 200 --pps 100 [--size 160]
//   udpprobe echo --bind 10.77.2.2:9001 [--timeout-ms 60000]
//   udpprobe ping --to 10.77.2.2:9001 --count 200 --pps 100 [--size 160]
//
// recv and ping print key=value lines (ping with up_ and down_ prefixes for
// the two one-way delays); see probestats.h.  All modes stop by themselves.

#include "probestats.h"
#include "toolutil.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

constexpr uint32_t kMagic = 0x76634c42;          // "vcLB"
constexpr int kMinSize = 32, kMaxSize = 1400;

struct Probe {
  uint32_t magic;
  uint32_t seq;
  uint32_t count;                 // packets in the whole run
  uint32_t reserved;
  int64_t send_ns;
  int64_t echo_ns;                // set by echo: when it received the probe
};
static_assert (sizeof (Probe) == kMinSize, "probe header size");

struct Options {
  std::string mode;
  sockaddr_in addr = {};
  bool have_addr = false;
  long count = 0;
  double pps = 50;
  int size = 160;
  int idle_ms = 1500;
  int timeout_ms = 60000;
  std::string ready_file;
};

void
usage ()
{
  std::fputs (
      "usage: udpprobe recv --bind IP:PORT [--count N] [--idle-ms MS]\n"
      "                     [--timeout-ms MS] [--ready-file F]\n"
      "       udpprobe send --to IP:PORT --count N [--pps R] [--size BYTES]\n"
      "       udpprobe echo --bind IP:PORT [--idle-ms MS] [--timeout-ms MS]\n"
      "                     [--ready-file F]\n"
      "       udpprobe ping --to IP:PORT --count N [--pps R] [--size BYTES]\n"
      "                     [--idle-ms MS]\n"
      "recv/ping stop once all packets arrived, after --idle-ms without one\n"
      "(default 1500; 0 = never for echo), or after --timeout-ms (60000).\n",
      stderr);
}

bool
parse_addr (const char *text, sockaddr_in &out)
{
  std::string s (text);
  size_t colon = s.rfind (':');
  if (colon == std::string::npos)
    return false;
  out = {};
  out.sin_family = AF_INET;
  int port = std::atoi (s.c_str () + colon + 1);
  if (port <= 0 || port > 65535 ||
      inet_pton (AF_INET, s.substr (0, colon).c_str (), &out.sin_addr) != 1)
    return false;
  out.sin_port = htons (static_cast<uint16_t> (port));
  return true;
}

bool
parse_options (int argc, char **argv, Options &o)
{
  if (argc < 2) {
    usage ();
    return false;
  }
  o.mode = argv[1];
  if (o.mode != "recv" && o.mode != "send" && o.mode != "echo" &&
      o.mode != "ping") {
    usage ();
    return false;
  }
  enum { kBind = 1, kTo, kCount, kPps, kSize, kIdle, kTimeout, kReady };
  static const option longopts[] = {
    { "bind", required_argument, nullptr, kBind },
    { "to", required_argument, nullptr, kTo },
    { "count", required_argument, nullptr, kCount },
    { "pps", required_argument, nullptr, kPps },
    { "size", required_argument, nullptr, kSize },
    { "idle-ms", required_argument, nullptr, kIdle },
    { "timeout-ms", required_argument, nullptr, kTimeout },
    { "ready-file", required_argument, nullptr, kReady },
    { nullptr, 0, nullptr, 0 },
  };
  optind = 2;
  long v;
  int opt;
  while ((opt = getopt_long (argc, argv, "", longopts, nullptr)) != -1) {
    switch (opt) {
      case kBind:
      case kTo:
        if (!parse_addr (optarg, o.addr)) {
          std::fprintf (stderr, "udpprobe: bad address '%s' (IP:PORT)\n",
              optarg);
          return false;
        }
        o.have_addr = true;
        break;
      case kCount:
        if (!lab::parse_number ("udpprobe", "--count", optarg, 1, 10000000, o.count))
          return false;
        break;
      case kPps:
        if (!lab::parse_number ("udpprobe", "--pps", optarg, 1, 100000, v))
          return false;
        o.pps = static_cast<double> (v);
        break;
      case kSize:
        if (!lab::parse_number ("udpprobe", "--size", optarg, kMinSize, kMaxSize, v))
          return false;
        o.size = static_cast<int> (v);
        break;
      case kIdle:
        if (!lab::parse_number ("udpprobe", "--idle-ms", optarg, 0, 600000, v))
          return false;
        o.idle_ms = static_cast<int> (v);
        break;
      case kTimeout:
        if (!lab::parse_number ("udpprobe", "--timeout-ms", optarg, 1, 3600000, v))
          return false;
        o.timeout_ms = static_cast<int> (v);
        break;
      case kReady:
        o.ready_file = optarg;
        break;
      default:
        usage ();
        return false;
    }
  }
  if (optind != argc || !o.have_addr ||
      ((o.mode == "send" || o.mode == "ping") && o.count <= 0)) {
    usage ();
    return false;
  }
  return true;
}

int
open_socket (const Options &o)
{
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    std::perror ("udpprobe: socket");
    return -1;
  }
  int buf = 4 * 1024 * 1024;
  setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  const sockaddr *sa = reinterpret_cast<const sockaddr *> (&o.addr);
  bool server = o.mode == "recv" || o.mode == "echo";
  if ((server ? bind (fd, sa, sizeof o.addr) : connect (fd, sa,
              sizeof o.addr)) < 0) {
    std::fprintf (stderr, "udpprobe: %s: %s\n", server ? "bind" : "connect",
        std::strerror (errno));
    close (fd);
    return -1;
  }
  if (server && !o.ready_file.empty ()) {
    FILE *f = std::fopen (o.ready_file.c_str (), "w");
    if (f)
      std::fclose (f);
  }
  return fd;
}

// Waits up to ms (-1: forever) for fd to be readable; false on timeout/signal.
bool
wait_readable (int fd, int ms)
{
  pollfd pfd = { fd, POLLIN, 0 };
  return poll (&pfd, 1, ms) > 0;
}

int
ms_until (int64_t deadline_ns)
{
  int64_t left = deadline_ns - lab::now_ns ();
  return left <= 0 ? 0 : static_cast<int> ((left + 999999) / 1000000);
}

void
sleep_until (int64_t t_ns)
{
  timespec ts = { static_cast<time_t> (t_ns / 1000000000),
    static_cast<long> (t_ns % 1000000000) };
  while (clock_nanosleep (CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) ==
      EINTR && !lab::stop_requested) {
  }
}

// Reads one probe; false if the datagram is not one of ours.
bool
read_probe (int fd, char *buf, ssize_t &len, Probe &p, sockaddr_in *from)
{
  socklen_t flen = sizeof (sockaddr_in);
  len = recvfrom (fd, buf, kMaxSize, MSG_DONTWAIT,
      reinterpret_cast<sockaddr *> (from), from ? &flen : nullptr);
  if (len < kMinSize)
    return false;
  std::memcpy (&p, buf, sizeof p);
  return p.magic == kMagic;
}

int
run_recv (const Options &o, int fd)
{
  lab::ProbeStats stats;
  uint64_t expected = o.count;
  char buf[kMaxSize];
  const int64_t deadline = lab::now_ns () + o.timeout_ms * int64_t (1000000);
  int64_t idle_deadline = lab::now_ns () + o.idle_ms * int64_t (1000000);
  while (!lab::stop_requested && (expected == 0 || stats.received () < expected)) {
    int wait = std::min (ms_until (deadline), ms_until (idle_deadline));
    if (wait == 0 || !wait_readable (fd, wait))
      break;
    ssize_t len;
    Probe p;
    while (read_probe (fd, buf, len, p, nullptr)) {
      int64_t now = lab::now_ns ();
      if (!o.count)
        expected = p.count;
      stats.add (p.seq, now - p.send_ns, static_cast<size_t> (len), now);
      idle_deadline = now + o.idle_ms * int64_t (1000000);
    }
  }
  std::fputs (stats.report (expected).c_str (), stdout);
  return 0;
}

// Sends probe seq.  Errors a lab produces on purpose (no route, ICMP
// unreachable from a blocked port) are counted, anything else is fatal.
bool
send_probe (int fd, const Options &o, char *buf, uint32_t seq,
    uint64_t &errors)
{
  Probe p = { kMagic, seq, static_cast<uint32_t> (o.count), 0, lab::now_ns (), 0 };
  std::memcpy (buf, &p, sizeof p);
  if (send (fd, buf, o.size, 0) >= 0)
    return true;
  if (errno == ECONNREFUSED || errno == ENETUNREACH || errno == EHOSTUNREACH
      || errno == EPERM) {
    errors++;
    return true;
  }
  std::perror ("udpprobe: send");
  return false;
}

int
run_send (const Options &o, int fd)
{
  char buf[kMaxSize] = {};
  const int64_t start = lab::now_ns (), gap = static_cast<int64_t> (1e9 / o.pps);
  long sent = 0;
  uint64_t errors = 0;
  // The schedule is absolute, so a late wake-up cannot make the rate drift.
  for (; sent < o.count && !lab::stop_requested; sent++) {
    sleep_until (start + sent * gap);
    if (!send_probe (fd, o, buf, static_cast<uint32_t> (sent), errors))
      return 1;
  }
  std::printf ("sent=%ld\nsend_errors=%llu\n", sent,
      (unsigned long long) errors);
  return 0;
}

int
run_echo (const Options &o, int fd)
{
  char buf[kMaxSize];
  const int64_t deadline = lab::now_ns () + o.timeout_ms * int64_t (1000000);
  int64_t idle_deadline = INT64_MAX;
  uint64_t echoed = 0;
  char peer[INET_ADDRSTRLEN + 8] = "none";
  while (!lab::stop_requested) {
    int wait = ms_until (deadline);
    if (o.idle_ms > 0 && idle_deadline != INT64_MAX)
      wait = std::min (wait, ms_until (idle_deadline));
    if (wait == 0 || !wait_readable (fd, wait))
      break;
    ssize_t len;
    Probe p;
    sockaddr_in from;
    while (read_probe (fd, buf, len, p, &from)) {
      p.echo_ns = lab::now_ns ();
      if (!echoed) {                // shows whether a NAT rewrote the source
        char ip[INET_ADDRSTRLEN];
        inet_ntop (AF_INET, &from.sin_addr, ip, sizeof ip);
        std::snprintf (peer, sizeof peer, "%s:%u", ip, ntohs (from.sin_port));
      }
      std::memcpy (buf, &p, sizeof p);
      sendto (fd, buf, static_cast<size_t> (len), 0,
          reinterpret_cast<sockaddr *> (&from), sizeof from);
      echoed++;
      idle_deadline = p.echo_ns + o.idle_ms * int64_t (1000000);
    }
  }
  std::printf ("echoed=%llu\nfirst_peer=%s\n", (unsigned long long) echoed,
      peer);
  return 0;
}

int
run_ping (const Options &o, int fd)
{
  char buf[kMaxSize] = {};
  lab::ProbeStats rtt;            // counts, reordering on the way back
  lab::DelayAccumulator up, down;
  const int64_t start = lab::now_ns (), gap = static_cast<int64_t> (1e9 / o.pps);
  long sent = 0;
  uint64_t errors = 0;
  int64_t deadline = start + o.timeout_ms * int64_t (1000000);
  while (!lab::stop_requested && lab::now_ns () < deadline &&
      rtt.received () < static_cast<uint64_t> (o.count)) {
    int64_t next = sent < o.count ? start + sent * gap
                                  : lab::now_ns () + o.idle_ms * int64_t (1000000);
    if (wait_readable (fd, ms_until (std::min (next, deadline)))) {
      ssize_t len;
      Probe p;
      while (read_probe (fd, buf, len, p, nullptr)) {
        int64_t now = lab::now_ns ();
        rtt.add (p.seq, now - p.send_ns, static_cast<size_t> (len), now);
        up.add (p.echo_ns - p.send_ns);
        down.add (now - p.echo_ns);
      }
      continue;
    }
    if (sent >= o.count)
      break;                      // idle after the last send
    if (!send_probe (fd, o, buf, static_cast<uint32_t> (sent++), errors))
      return 1;
  }
  std::fputs (rtt.report (static_cast<uint64_t> (sent)).c_str (), stdout);
  std::printf ("send_errors=%llu\n", (unsigned long long) errors);
  for (const auto &d : { std::make_pair ("up", up.stats ()),
           std::make_pair ("down", down.stats ()) }) {
    std::printf ("%s_delay_mean_ms=%.3f\n%s_delay_stddev_ms=%.3f\n"
        "%s_delay_min_ms=%.3f\n%s_delay_max_ms=%.3f\n", d.first,
        d.second.mean_ms, d.first, d.second.stddev_ms, d.first,
        d.second.min_ms, d.first, d.second.max_ms);
  }
  return 0;
}

}  // namespace

int
main (int argc, char **argv)
{
  Options o;
  if (!parse_options (argc, argv, o))
    return 2;
  lab::install_stop_signals ();

  int fd = open_socket (o);
  if (fd < 0)
    return 2;
  int rc;
  if (o.mode == "recv")
    rc = run_recv (o, fd);
  else if (o.mode == "send")
    rc = run_send (o, fd);
  else if (o.mode == "echo")
    rc = run_echo (o, fd);
  else
    rc = run_ping (o, fd);
  close (fd);
  return rc;
}
