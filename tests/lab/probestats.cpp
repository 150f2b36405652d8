#include "probestats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace lab {

void
DelayAccumulator::add (int64_t delay_ns)
{
  double ms = delay_ns / 1e6;
  min_ = n_ ? std::min (min_, ms) : ms;
  max_ = n_ ? std::max (max_, ms) : ms;
  sum_ += ms;
  sumsq_ += ms * ms;
  samples_.push_back (ms);
  n_++;
}

DelayStats
DelayAccumulator::stats () const
{
  DelayStats s;
  s.n = n_;
  if (!n_)
    return s;
  s.mean_ms = sum_ / n_;
  s.stddev_ms = std::sqrt (std::max (0.0, sumsq_ / n_ - s.mean_ms * s.mean_ms));
  s.min_ms = min_;
  s.max_ms = max_;
  std::vector<double> sorted (samples_);
  size_t rank = static_cast<size_t> (std::ceil (0.99 * n_));
  std::nth_element (sorted.begin (), sorted.begin () + (rank - 1), sorted.end ());
  s.p99_ms = sorted[rank - 1];
  return s;
}

void
ProbeStats::add (uint32_t seq, int64_t delay_ns, size_t bytes,
    int64_t arrival_ns)
{
  if (seq >= seen_.size ())
    seen_.resize (seq + 1, false);
  if (seen_[seq]) {
    duplicates_++;
    return;
  }
  seen_[seq] = true;
  if (static_cast<int64_t> (seq) < highest_)
    reordered_++;                 // arrived after a later-numbered packet
  highest_ = std::max<int64_t> (highest_, seq);

  if (received_ == 0) {
    first_ns_ = arrival_ns;
  } else {
    bytes_after_first_ += bytes;
    packets_after_first_++;
  }
  last_ns_ = arrival_ns;
  received_++;
  delay_.add (delay_ns);
}

double
ProbeStats::loss_pct (uint64_t sent) const
{
  if (!sent)
    return 0;
  return 100.0 * (static_cast<double> (sent) - received_) / sent;
}

double
ProbeStats::duration_s () const
{
  return (last_ns_ - first_ns_) / 1e9;
}

double
ProbeStats::rate_kbit (bool wire) const
{
  double d = duration_s ();
  if (d <= 0)
    return 0;
  double bytes = bytes_after_first_ +
      (wire ? static_cast<double> (packets_after_first_) * kWireOverhead : 0);
  return bytes * 8 / d / 1000;
}

std::string
ProbeStats::report (uint64_t sent, const std::string &prefix) const
{
  DelayStats d = delay ();
  char buf[1024];
  const char *p = prefix.c_str ();
  std::snprintf (buf, sizeof buf,
      "%ssent=%llu\n%sreceived=%llu\n%sloss_pct=%.2f\n%sreordered=%llu\n"
      "%sduplicates=%llu\n%sdelay_mean_ms=%.3f\n%sdelay_stddev_ms=%.3f\n"
      "%sdelay_min_ms=%.3f\n%sdelay_max_ms=%.3f\n%sdelay_p99_ms=%.3f\n"
      "%sduration_s=%.3f\n"
      "%srate_kbit=%.1f\n%swire_rate_kbit=%.1f\n",
      p, (unsigned long long) sent, p, (unsigned long long) received_,
      p, loss_pct (sent), p, (unsigned long long) reordered_,
      p, (unsigned long long) duplicates_, p, d.mean_ms, p, d.stddev_ms,
      p, d.min_ms, p, d.max_ms, p, d.p99_ms, p, duration_s (), p, rate_kbit (false),
      p, rate_kbit (true));
  return buf;
}

}  // namespace lab
