#include "schedule.h"

#include <algorithm>

namespace lab {

Schedule::Schedule (const ScheduleConfig &config)
    : config_ (config), rng_ (config.seed)
{
}

int64_t
Schedule::sample_delay_ns ()
{
  double ms = config_.delay_ms;
  if (config_.jitter_ms > 0) {
    if (config_.jitter == Jitter::kNormal)
      ms += std::normal_distribution<double> (0.0, config_.jitter_ms) (rng_);
    else
      ms += std::uniform_real_distribution<double> (-config_.jitter_ms,
          config_.jitter_ms) (rng_);
  }
  return static_cast<int64_t> (std::max (ms, 0.0) * 1e6);
}

bool
Schedule::offer (uint32_t id, int64_t now_ns)
{
  counters_.received++;
  if (config_.loss_pct > 0 &&
      std::uniform_real_distribution<double> (0.0, 100.0) (rng_) <
          config_.loss_pct) {
    counters_.dropped++;
    return false;
  }

  int64_t due = now_ns + sample_delay_ns ();
  // Without --reorder a packet never leaves before the one ahead of it: the
  // jitter then only stretches gaps, like a queue whose service time varies.
  if (!config_.reorder)
    due = std::max (due, last_due_ns_);
  last_due_ns_ = std::max (last_due_ns_, due);

  held_.push (Held { due, arrivals_++, id });
  counters_.max_held = std::max<uint64_t> (counters_.max_held, held_.size ());
  return true;
}

void
Schedule::note_release (const Held &h)
{
  if (h.arrival + 1 < highest_released_)
    counters_.reordered++;
  highest_released_ = std::max (highest_released_, h.arrival + 1);
}

std::vector<uint32_t>
Schedule::take_due (int64_t now_ns)
{
  std::vector<uint32_t> ids;
  while (!held_.empty () && held_.top ().due_ns <= now_ns) {
    note_release (held_.top ());
    ids.push_back (held_.top ().id);
    held_.pop ();
    counters_.released++;
  }
  return ids;
}

std::vector<uint32_t>
Schedule::drain ()
{
  std::vector<uint32_t> ids;
  while (!held_.empty ()) {
    note_release (held_.top ());
    ids.push_back (held_.top ().id);
    held_.pop ();
    counters_.flushed++;
  }
  return ids;
}

}  // namespace lab
