/* gst-voicecall: the playout's decision logic. Plain logic, no element, no audio.
 *
 * Once per tick (10 ms of output) the playout asks what to do. Nothing needs doing while the
 * decoded audio covers the tick. When it does not:
 *
 *  The packet at the cursor is held:
 *    after concealment               MERGE: decode it; libopus joins it to the concealment
 *    delay > goal + packet / 2       ACCELERATE: decode and remove a pitch period
 *    delay < goal - packet / 2       PREEMPTIVE_EXPAND: decode and repeat one
 *    otherwise                       NORMAL: decode it
 *  It is missing, but a later packet is held (a hole: lost, or overtaken):
 *    concealment already covered the hole             MERGE: skip to the later packet
 *    FEC enabled and the later packet can carry it    FEC: recover the hole from its in-band
 *                                                     FEC (libopus conceals all but its last
 *                                                     packet, which it decodes from the copy)
 *    otherwise                                        CONCEAL 10 ms, then look again
 *  Nothing is held: CONCEAL (an underrun, or a loss whose successor has not come yet).
 *
 * FEC is used only when it is free: the next packet is already here when the hole must be
 * played. No delay is added to wait for it.
 *
 * "delay" is how much later than the fastest packet of the last 2 s the audio plays
 * (DelayManager::delay_ms); the goal is what the delay manager's target leaves for lateness:
 *   goal = target - packet + tick / 2
 * (a packet that came in the fastest time still waits for the tick that plays it: tick / 2
 * on average). The half-packet dead band on either side keeps a buffer one packet off its
 * goal from being stretched back and forth. */
#pragma once

#include <cstdint>

namespace vc::playout {

enum class Operation {
  NORMAL,
  ACCELERATE,
  PREEMPTIVE_EXPAND,
  FEC,
  CONCEAL,
  MERGE,
};

const char *operation_name (Operation op);

struct DecisionInput {
  int tick_frames = 480;
  int sync_frames = 0;          /* decoded, not yet played */
  double delay_ms = 0;          /* the playout delay now */
  int target_ms = 20;           /* the delay manager's target */
  int packet_ms = 20;
  bool next_present = false;    /* the packet at the cursor is held */
  bool later_present = false;   /* some packet after the cursor is held */
  int64_t hole_frames = 0;      /* from the cursor to the first held packet, less what
                                   concealment already played of it */
  bool fec_possible = false;    /* FEC enabled and the first held packet can carry it */
  Operation previous = Operation::NORMAL; /* the previous decoding operation */
};

struct Thresholds {
  double goal_ms, accelerate_above_ms, expand_below_ms;
};

Thresholds thresholds (int target_ms, int packet_ms, int tick_ms);

/* Whether the tick needs a decoding operation at all (the decoded audio does not cover it). */
inline bool
needs_decoding (const DecisionInput &in)
{
  return in.sync_frames < in.tick_frames;
}

/* The operation for this tick; NORMAL without decoding when needs_decoding() is false. */
Operation decide (const DecisionInput &in);

} // namespace vc::playout
