// Pure scheduling logic for the impair tool: decides, for each packet that
// arrives at the queue, whether to drop it and when to release it.  No
// netfilter and no clock in here, so it can be unit-tested without root.
#pragma once

#include <cstdint>
#include <queue>
#include <random>
#include <vector>

namespace lab {

enum class Jitter { kUniform, kNormal };

struct ScheduleConfig {
  double delay_ms = 0;          // base one-way delay added to every packet
  double jitter_ms = 0;         // uniform: +-jitter_ms; normal: stddev
  Jitter jitter = Jitter::kUniform;
  bool reorder = false;         // let jitter overtake earlier packets
  double loss_pct = 0;          // random drop, 0..100
  uint64_t seed = 1;
};

struct ScheduleCounters {
  uint64_t received = 0;        // packets offered
  uint64_t dropped = 0;         // dropped by --loss
  uint64_t released = 0;        // accepted when due
  uint64_t flushed = 0;         // accepted early by drain() at shutdown
  uint64_t reordered = 0;       // released after a packet that arrived later
  uint64_t max_held = 0;        // most packets held at once
};

// Times are nanoseconds on any monotonic clock the caller chooses.
class Schedule {
 public:
  explicit Schedule (const ScheduleConfig &config);

  // A packet with this verdict id arrived at now_ns.  Returns false if it is
  // to be dropped (the caller issues NF_DROP at once), true if it is held.
  bool offer (uint32_t id, int64_t now_ns);

  // Ids due at now_ns, in release order; removes them from the schedule.
  std::vector<uint32_t> take_due (int64_t now_ns);

  // Every held id, in release order (for shutdown).
  std::vector<uint32_t> drain ();

  bool empty () const { return held_.empty (); }
  // Release time of the next held packet; only valid if !empty().
  int64_t next_due_ns () const { return held_.top ().due_ns; }
  size_t held () const { return held_.size (); }
  const ScheduleCounters &counters () const { return counters_; }

 private:
  struct Held {
    int64_t due_ns;
    uint64_t arrival;           // arrival order, breaks ties
    uint32_t id;
    bool operator> (const Held &o) const
    { return due_ns != o.due_ns ? due_ns > o.due_ns : arrival > o.arrival; }
  };

  int64_t sample_delay_ns ();
  void note_release (const Held &h);

  ScheduleConfig config_;
  std::mt19937_64 rng_;
  std::priority_queue<Held, std::vector<Held>, std::greater<Held>> held_;
  uint64_t arrivals_ = 0;
  int64_t last_due_ns_ = INT64_MIN;      // for in-order mode
  uint64_t highest_released_ = 0;        // arrival number + 1, for counting
  ScheduleCounters counters_;
};

}  // namespace lab
