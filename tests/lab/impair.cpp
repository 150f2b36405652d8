// impair: userspace delay / jitter / reorder / loss for packets that an
// iptables NFQUEUE rule sends to a queue.  Each packet's verdict is held until
// the schedule (schedule.h) says it is due, then issued as NF_ACCEPT; the
// kernel lets verdicts come in any order, which is what makes reordering
// possible.  Stands in for netem, which this lab's kernels do not have.
//
//   impair --queue 1 --delay-ms 50 --jitter-ms 10 --jitter-dist normal
//
// SIGTERM/SIGINT accept every held packet, print the counters and exit 0.
// Run it inside the network namespace whose iptables rules feed the queue.

#include "schedule.h"
#include "toolutil.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <linux/netfilter.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libnetfilter_queue/libnetfilter_queue.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

constexpr uint32_t kQueueMaxLen = 16384;       // packets the kernel may hold
constexpr int kRecvBufBytes = 8 * 1024 * 1024;

struct Options {
  int queue = -1;
  lab::ScheduleConfig schedule;
  std::string stats_file;
  std::string ready_file;
};

struct Context {
  lab::Schedule *schedule;
  nfq_q_handle *qh = nullptr;
  uint64_t verdict_errors = 0;
  uint64_t enobufs = 0;
};

void
usage (FILE *out)
{
  std::fputs (
      "usage: impair --queue N [--delay-ms D] [--jitter-ms J]\n"
      "              [--jitter-dist uniform|normal] [--reorder] [--loss PCT]\n"
      "              [--seed S] [--stats-file F] [--ready-file F]\n"
      "  --delay-ms D     base delay added to every packet (default 0)\n"
      "  --jitter-ms J    uniform: delay is D+-J; normal: stddev J (default 0)\n"
      "  --reorder        let jitter reorder packets; without it a packet\n"
      "                   never leaves before one that arrived earlier\n"
      "  --loss PCT       drop PCT %% of packets at random (default 0)\n"
      "  --seed S         random seed (default 1)\n"
      "  --stats-file F   write counters as key=value lines to F on exit\n"
      "  --ready-file F   create F once the queue is bound\n",
      out);
}

bool
parse_options (int argc, char **argv, Options &o)
{
  enum { kQueue = 1, kDelay, kJitter, kDist, kReorder, kLoss, kSeed, kStats,
    kReady, kHelp };
  static const option longopts[] = {
    { "queue", required_argument, nullptr, kQueue },
    { "delay-ms", required_argument, nullptr, kDelay },
    { "jitter-ms", required_argument, nullptr, kJitter },
    { "jitter-dist", required_argument, nullptr, kDist },
    { "reorder", no_argument, nullptr, kReorder },
    { "loss", required_argument, nullptr, kLoss },
    { "seed", required_argument, nullptr, kSeed },
    { "stats-file", required_argument, nullptr, kStats },
    { "ready-file", required_argument, nullptr, kReady },
    { "help", no_argument, nullptr, kHelp },
    { nullptr, 0, nullptr, 0 },
  };
  lab::ScheduleConfig &c = o.schedule;
  double v;
  int opt;
  while ((opt = getopt_long (argc, argv, "", longopts, nullptr)) != -1) {
    switch (opt) {
      case kQueue:
        if (!lab::parse_number ("impair", "--queue", optarg, 0, 65535, v))
          return false;
        o.queue = static_cast<int> (v);
        break;
      case kDelay:
        if (!lab::parse_number ("impair", "--delay-ms", optarg, 0, 60000, c.delay_ms))
          return false;
        break;
      case kJitter:
        if (!lab::parse_number ("impair", "--jitter-ms", optarg, 0, 60000, c.jitter_ms))
          return false;
        break;
      case kDist:
        if (std::strcmp (optarg, "uniform") == 0)
          c.jitter = lab::Jitter::kUniform;
        else if (std::strcmp (optarg, "normal") == 0)
          c.jitter = lab::Jitter::kNormal;
        else {
          std::fprintf (stderr, "impair: --jitter-dist is uniform or normal\n");
          return false;
        }
        break;
      case kReorder:
        c.reorder = true;
        break;
      case kLoss:
        if (!lab::parse_number ("impair", "--loss", optarg, 0, 100, c.loss_pct))
          return false;
        break;
      case kSeed:
        if (!lab::parse_number ("impair", "--seed", optarg, 0, 1e18, v))
          return false;
        c.seed = static_cast<uint64_t> (v);
        break;
      case kStats:
        o.stats_file = optarg;
        break;
      case kReady:
        o.ready_file = optarg;
        break;
      case kHelp:
        usage (stdout);
        std::exit (0);
      default:
        usage (stderr);
        return false;
    }
  }
  if (optind != argc || o.queue < 0) {
    usage (stderr);
    return false;
  }
  return true;
}

void
verdict (Context &ctx, uint32_t id, uint32_t v)
{
  if (nfq_set_verdict (ctx.qh, id, v, 0, nullptr) < 0)
    ctx.verdict_errors++;
}

int
on_packet (nfq_q_handle *, nfgenmsg *, nfq_data *nfa, void *data)
{
  auto &ctx = *static_cast<Context *> (data);
  nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr (nfa);
  if (!ph)
    return 0;
  uint32_t id = ntohl (ph->packet_id);
  try {
    if (!ctx.schedule->offer (id, lab::now_ns ()))
      verdict (ctx, id, NF_DROP);
  } catch (...) {               // no exception may cross into libnfq
    verdict (ctx, id, NF_ACCEPT);
  }
  return 0;
}

std::string
counters_text (const Options &o, const Context &ctx)
{
  const lab::ScheduleCounters &c = ctx.schedule->counters ();
  char buf[512];
  std::snprintf (buf, sizeof buf,
      "queue=%d\nreceived=%llu\ndropped=%llu\nreleased=%llu\nflushed=%llu\n"
      "reordered=%llu\nmax_held=%llu\nverdict_errors=%llu\nenobufs=%llu\n",
      o.queue, (unsigned long long) c.received,
      (unsigned long long) c.dropped, (unsigned long long) c.released,
      (unsigned long long) c.flushed, (unsigned long long) c.reordered,
      (unsigned long long) c.max_held,
      (unsigned long long) ctx.verdict_errors,
      (unsigned long long) ctx.enobufs);
  return buf;
}

bool
write_file (const std::string &path, const std::string &text)
{
  std::string tmp = path + ".tmp";
  FILE *f = std::fopen (tmp.c_str (), "w");
  if (!f)
    return false;
  bool ok = std::fputs (text.c_str (), f) >= 0;
  ok = std::fclose (f) == 0 && ok;
  return ok && std::rename (tmp.c_str (), path.c_str ()) == 0;
}

// Reads every pending netlink message; false on a fatal socket error.
bool
read_packets (nfq_handle *h, int fd, Context &ctx)
{
  alignas (nlmsghdr) static char buf[65536];
  for (;;) {
    ssize_t n = recv (fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n >= 0) {
      nfq_handle_packet (h, buf, static_cast<int> (n));
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK)
      return true;
    if (errno == EINTR)
      continue;
    if (errno == ENOBUFS) {     // kernel could not tell us about some packets
      ctx.enobufs++;
      continue;
    }
    std::perror ("impair: recv");
    return false;
  }
}

}  // namespace

int
main (int argc, char **argv)
{
  Options o;
  if (!parse_options (argc, argv, o))
    return 2;

  // Signals stay blocked except while waiting in ppoll(), so a SIGTERM can
  // only interrupt the wait, never a verdict half way through.
  sigset_t block, wait_mask;
  sigemptyset (&block);
  sigaddset (&block, SIGINT);
  sigaddset (&block, SIGTERM);
  sigprocmask (SIG_BLOCK, &block, &wait_mask);
  sigdelset (&wait_mask, SIGINT);
  sigdelset (&wait_mask, SIGTERM);
  lab::install_stop_signals ();

  lab::Schedule schedule (o.schedule);
  Context ctx;
  ctx.schedule = &schedule;

  nfq_handle *h = nfq_open ();
  if (!h) {
    std::perror ("impair: nfq_open (need root / CAP_NET_ADMIN)");
    return 1;
  }
  ctx.qh = nfq_create_queue (h, static_cast<uint16_t> (o.queue), on_packet,
      &ctx);
  if (!ctx.qh) {
    std::fprintf (stderr, "impair: cannot bind queue %d (in use, or no "
        "nfnetlink_queue support): %s\n", o.queue, std::strerror (errno));
    nfq_close (h);
    return 1;
  }
  if (nfq_set_mode (ctx.qh, NFQNL_COPY_META, 0) < 0 ||
      nfq_set_queue_maxlen (ctx.qh, kQueueMaxLen) < 0) {
    std::perror ("impair: configuring queue");
    nfq_destroy_queue (ctx.qh);
    nfq_close (h);
    return 1;
  }
  nfnl_rcvbufsiz (nfq_nfnlh (h), kRecvBufBytes);
  int fd = nfq_fd (h);

  const lab::ScheduleConfig &c = o.schedule;
  std::fprintf (stderr, "impair: queue %d delay %.1f ms jitter %.1f ms (%s)%s "
      "loss %.1f %% seed %llu\n", o.queue, c.delay_ms, c.jitter_ms,
      c.jitter == lab::Jitter::kNormal ? "normal" : "uniform",
      c.reorder ? " reorder" : "", c.loss_pct, (unsigned long long) c.seed);
  if (!o.ready_file.empty () && !write_file (o.ready_file, "ready\n"))
    std::fprintf (stderr, "impair: cannot write %s\n", o.ready_file.c_str ());

  int rc = 0;
  while (!lab::stop_requested) {
    timespec timeout, *tp = nullptr;
    if (!schedule.empty ()) {
      int64_t wait = schedule.next_due_ns () - lab::now_ns ();
      if (wait < 0)
        wait = 0;
      timeout.tv_sec = wait / 1000000000;
      timeout.tv_nsec = wait % 1000000000;
      tp = &timeout;
    }
    pollfd pfd = { fd, POLLIN, 0 };
    int n = ppoll (&pfd, 1, tp, &wait_mask);
    if (n < 0 && errno != EINTR) {
      std::perror ("impair: ppoll");
      rc = 1;
      break;
    }
    if (n > 0 && !read_packets (h, fd, ctx)) {
      rc = 1;
      break;
    }
    for (uint32_t id : schedule.take_due (lab::now_ns ()))
      verdict (ctx, id, NF_ACCEPT);
  }

  // Let go of everything still held: closing the queue would drop it.
  for (uint32_t id : schedule.drain ())
    verdict (ctx, id, NF_ACCEPT);
  nfq_destroy_queue (ctx.qh);
  nfq_close (h);

  std::string text = counters_text (o, ctx);
  std::fputs (text.c_str (), stderr);
  if (!o.stats_file.empty () && !write_file (o.stats_file, text)) {
    std::fprintf (stderr, "impair: cannot write %s\n", o.stats_file.c_str ());
    rc = 1;
  }
  return rc;
}
