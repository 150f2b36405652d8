/* gst-voicecall: the playout's delay manager. Plain logic, no element.
 *
 * From each packet's arrival time and RTP timestamp it learns how much buffering the network
 * needs, and proposes the target delay the decision logic steers the buffer level to.
 *
 *  Relative arrival delay. transit = arrival - timestamp / rate. The fastest packet of the
 *    last WINDOW_MS took the path's fixed delay; every packet's relative delay is how much
 *    later than that it came: transit - min (transit over the last WINDOW_MS), >= 0. A
 *    clock drift between the ends moves the minimum with it.
 *  Histogram. Relative delays in BUCKET_MS buckets, an exponentially forgetting histogram:
 *    each packet scales every bucket by (1 - w) and adds w to its own. w = 1 - FORGET
 *    normally (memory of ~1/(1 - FORGET) packets); a packet above the current quantile adds
 *    UP_WEIGHT instead, so that two such packets move the quantile (growing within a packet
 *    or two when jitter appears, while one outlier alone does not). Early on w is 1/n (a
 *    plain average) so the first packets are not drowned by the empty start.
 *  Target. q = the QUANTILE of the histogram (the upper edge of its bucket). The buffer must
 *    hold one packet plus what a packet can be late:
 *      target = packet * (1 + ceil ((q - SLACK_MS) / packet)), within [min, max] and at least
 *    one packet. SLACK_MS absorbs timer and scheduling noise on a clean path.
 *    When the jitter goes, the large delays leave the window after WINDOW_MS and their mass
 *    in the histogram falls below 1 - QUANTILE after ln (1 - QUANTILE) / ln (FORGET) packets
 *    (175 packets, 3.5 s at 20 ms). */
#pragma once

#include <cstdint>
#include <deque>
#include <utility>
#include <vector>

namespace vc::playout {

/* An exponentially forgetting histogram of non-negative values in fixed-width buckets. */
class Histogram {
public:
  Histogram (int buckets, double bucket_width);
  /* Adds `value` with weight w: every bucket *= (1 - w), its bucket += w. */
  void add (double value, double w);
  /* The smallest upper bucket edge below which at least `q` of the mass lies. */
  double quantile (double q) const;
  int bucket_of (double value) const;
  double bucket_width () const { return width_; }
  void reset ();

private:
  std::vector<double> p_;
  double width_;
};

class DelayManager {
public:
  static constexpr int RATE = 48000;
  static constexpr double WINDOW_MS = 2000;
  static constexpr double BUCKET_MS = 5;
  static constexpr int BUCKETS = 200;      /* up to 1 s */
  static constexpr double FORGET = 0.983;  /* as libwebrtc's NetEq */
  static constexpr double UP_WEIGHT = 0.03;
  static constexpr double QUANTILE = 0.95;
  static constexpr double SLACK_MS = 5;
  static constexpr int DEFAULT_MAX_DELAY_MS = 500;

  explicit DelayManager (int min_delay_ms = 0, int max_delay_ms = DEFAULT_MAX_DELAY_MS);

  /* A packet arrived: its extended RTP timestamp (48 kHz), duration in samples, and arrival
   * time. Returns its relative arrival delay in ms. */
  double update (int64_t timestamp, int duration, int64_t arrival_us);

  /* The target delay (ms): what the buffer should hold. */
  int target_ms () const { return target_ms_; }
  /* The histogram's QUANTILE relative delay (ms). */
  double quantile_ms () const { return histogram_.quantile (QUANTILE); }
  int packet_ms () const { return packet_ms_; }
  /* The playout delay of audio with RTP timestamp `timestamp` played at `now_us`: how much
   * later than the fastest packet of the last WINDOW_MS it plays (0 before any packet). */
  double delay_ms (int64_t timestamp, int64_t now_us) const;
  void set_limits (int min_delay_ms, int max_delay_ms);
  void reset ();

private:
  void update_target ();

  Histogram histogram_ {BUCKETS, BUCKET_MS};
  std::deque<std::pair<int64_t, double>> window_; /* (arrival us, transit ms), min-queue */
  uint64_t count_ = 0;
  int packet_ms_ = 20;
  int min_ms_, max_ms_;
  int target_ms_ = 20;
};

} // namespace vc::playout
