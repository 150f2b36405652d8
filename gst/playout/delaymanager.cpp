/* gst-voicecall: the playout's delay manager (see delaymanager.h). */
#include "delaymanager.h"

#include <algorithm>
#include <cmath>

namespace vc::playout {

Histogram::Histogram (int buckets, double bucket_width) : p_ (buckets, 0.0), width_ (bucket_width)
{
}

int
Histogram::bucket_of (double value) const
{
  const int b = static_cast<int> (std::floor (std::max (0.0, value) / width_));
  return std::min (b, static_cast<int> (p_.size ()) - 1);
}

void
Histogram::add (double value, double w)
{
  for (double &p : p_)
    p *= 1 - w;
  p_[bucket_of (value)] += w;
}

double
Histogram::quantile (double q) const
{
  double total = 0;
  for (double p : p_)
    total += p;
  if (total <= 0)
    return 0;
  double sum = 0;
  for (size_t b = 0; b < p_.size (); b++) {
    sum += p_[b];
    if (sum >= q * total)
      return (b + 1) * width_;
  }
  return p_.size () * width_;
}

void
Histogram::reset ()
{
  std::fill (p_.begin (), p_.end (), 0.0);
}

DelayManager::DelayManager (int min_delay_ms, int max_delay_ms)
    : min_ms_ (min_delay_ms), max_ms_ (max_delay_ms)
{
  update_target ();
}

void
DelayManager::set_limits (int min_delay_ms, int max_delay_ms)
{
  min_ms_ = min_delay_ms;
  max_ms_ = max_delay_ms;
  update_target ();
}

void
DelayManager::reset ()
{
  histogram_.reset ();
  window_.clear ();
  count_ = 0;
  update_target ();
}

double
DelayManager::update (int64_t timestamp, int duration, int64_t arrival_us)
{
  if (duration > 0)
    packet_ms_ = std::max (1, static_cast<int> (std::lround (duration * 1000.0 / RATE)));
  const double transit = arrival_us / 1000.0 - timestamp * 1000.0 / RATE;

  /* Sliding-window minimum: drop what left the window, and every older entry that is not
   * smaller than the new one (it can never be the minimum again). */
  const int64_t horizon = arrival_us - static_cast<int64_t> (WINDOW_MS * 1000);
  while (!window_.empty () && window_.front ().first < horizon)
    window_.pop_front ();
  while (!window_.empty () && window_.back ().second >= transit)
    window_.pop_back ();
  window_.emplace_back (arrival_us, transit);
  const double relative = transit - window_.front ().second;

  count_++;
  double w = std::max (1.0 - FORGET, 1.0 / count_);
  if (count_ > 1 && relative >= histogram_.quantile (QUANTILE))
    w = std::max (w, UP_WEIGHT);
  histogram_.add (relative, w);
  update_target ();
  return relative;
}

double
DelayManager::delay_ms (int64_t timestamp, int64_t now_us) const
{
  if (window_.empty ())
    return 0;
  return now_us / 1000.0 - timestamp * 1000.0 / RATE - window_.front ().second;
}

void
DelayManager::update_target ()
{
  const double q = count_ ? histogram_.quantile (QUANTILE) : 0;
  const int late_packets =
      std::max (0, static_cast<int> (std::ceil ((q - SLACK_MS) / packet_ms_)));
  int target = packet_ms_ * (1 + late_packets);
  target = std::max (target, min_ms_);
  target = std::min (target, std::max (max_ms_, packet_ms_));
  target_ms_ = std::max (target, packet_ms_);
}

} // namespace vc::playout
