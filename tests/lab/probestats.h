// Statistics of a stream of numbered probe packets: one-way delay, loss,
// reordering, duplicates and received rate.  Pure logic for udpprobe, so it
// can be unit-tested without a network.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lab {

// Ethernet + IPv4 + UDP header bytes: what a qdisc counts on top of payload.
constexpr int kWireOverhead = 14 + 20 + 8;

struct DelayStats {
  uint64_t n = 0;
  double mean_ms = 0, stddev_ms = 0, min_ms = 0, max_ms = 0;
  // The delay 99 % of the packets stayed under (nearest rank): unlike max_ms,
  // not moved by the one packet a loaded machine scheduled late.
  double p99_ms = 0;
};

class DelayAccumulator {
 public:
  void add (int64_t delay_ns);
  DelayStats stats () const;

 private:
  uint64_t n_ = 0;
  double sum_ = 0, sumsq_ = 0;
  double min_ = 0, max_ = 0;
  std::vector<double> samples_;
};

class ProbeStats {
 public:
  // A packet numbered seq (0-based) of payload bytes arrived at arrival_ns
  // after delay_ns in flight.
  void add (uint32_t seq, int64_t delay_ns, size_t bytes, int64_t arrival_ns);

  uint64_t received () const { return received_; }
  uint64_t reordered () const { return reordered_; }
  uint64_t duplicates () const { return duplicates_; }
  DelayStats delay () const { return delay_.stats (); }
  // Loss against the number of packets sent.
  double loss_pct (uint64_t sent) const;
  // Received rate in kbit/s between the first and the last arrival, from
  // payload bytes, or with kWireOverhead added per packet.
  double rate_kbit (bool wire) const;
  double duration_s () const;

  // key=value lines, each key prefixed with prefix.
  std::string report (uint64_t sent, const std::string &prefix = "") const;

 private:
  std::vector<bool> seen_;
  uint64_t received_ = 0, reordered_ = 0, duplicates_ = 0;
  int64_t highest_ = -1;
  DelayAccumulator delay_;
  int64_t first_ns_ = 0, last_ns_ = 0;
  uint64_t bytes_after_first_ = 0, packets_after_first_ = 0;
};

}  // namespace lab
