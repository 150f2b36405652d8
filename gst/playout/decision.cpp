/* gst-voicecall: the playout's decision logic (see decision.h). */
#include "decision.h"

namespace vc::playout {

const char *
operation_name (Operation op)
{
  switch (op) {
    case Operation::NORMAL: return "normal";
    case Operation::ACCELERATE: return "accelerate";
    case Operation::PREEMPTIVE_EXPAND: return "preemptive-expand";
    case Operation::FEC: return "fec";
    case Operation::CONCEAL: return "conceal";
    case Operation::MERGE: return "merge";
  }
  return "?";
}

Thresholds
thresholds (int target_ms, int packet_ms, int tick_ms)
{
  Thresholds t;
  t.goal_ms = target_ms - packet_ms + tick_ms / 2.0;
  t.accelerate_above_ms = t.goal_ms + packet_ms / 2.0;
  t.expand_below_ms = t.goal_ms - packet_ms / 2.0;
  return t;
}

Operation
decide (const DecisionInput &in)
{
  if (!needs_decoding (in))
    return Operation::NORMAL;

  if (!in.next_present) {
    if (!in.later_present)
      return Operation::CONCEAL;
    if (in.hole_frames <= 0)
      return Operation::MERGE;
    if (in.fec_possible)
      return Operation::FEC;
    return Operation::CONCEAL;
  }

  if (in.previous == Operation::CONCEAL)
    return Operation::MERGE;
  const Thresholds t = thresholds (in.target_ms, in.packet_ms, in.tick_frames * 1000 / 48000);
  if (in.delay_ms > t.accelerate_above_ms)
    return Operation::ACCELERATE;
  if (in.delay_ms < t.expand_below_ms)
    return Operation::PREEMPTIVE_EXPAND;
  return Operation::NORMAL;
}

} // namespace vc::playout
