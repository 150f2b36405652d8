/* gst-voicecall: the playout's decision logic (gst/playout/decision.h): one scripted tick at a
 * time, what it decides from the buffer's state. */
#include "playout/decision.h"

#include <gst/check/gstcheck.h>

using vc::playout::DecisionInput;
using vc::playout::Operation;
using vc::playout::decide;
using vc::playout::operation_name;

namespace {

/* A tick that needs decoding, on a clean path: target one 20 ms packet, delay on its goal. */
DecisionInput
tick ()
{
  DecisionInput in;
  in.sync_frames = 0;
  in.target_ms = 20;
  in.packet_ms = 20;
  in.delay_ms = 5;
  in.next_present = true;
  return in;
}

void
expect (const DecisionInput &in, Operation want, const char *why)
{
  const Operation got = decide (in);
  fail_unless (got == want, "%s: %s, wanted %s", why, operation_name (got), operation_name (want));
}

} // namespace

GST_START_TEST (test_thresholds)
{
  auto t = vc::playout::thresholds (20, 20, 10);
  fail_unless (t.goal_ms == 5 && t.accelerate_above_ms == 15 && t.expand_below_ms == -5);
  t = vc::playout::thresholds (80, 20, 10);
  fail_unless (t.goal_ms == 65 && t.accelerate_above_ms == 75 && t.expand_below_ms == 55);
}
GST_END_TEST;

GST_START_TEST (test_packet_present)
{
  DecisionInput in = tick ();
  expect (in, Operation::NORMAL, "on the goal");
  in.sync_frames = 480;
  in.delay_ms = 100;
  expect (in, Operation::NORMAL, "decoded audio covers the tick");
  in = tick ();
  in.delay_ms = 16;
  expect (in, Operation::ACCELERATE, "a packet too much");
  in.delay_ms = 14;
  expect (in, Operation::NORMAL, "within the dead band");
  in.target_ms = 80;
  in.delay_ms = 50;
  expect (in, Operation::PREEMPTIVE_EXPAND, "the target grew");
  in.delay_ms = 60;
  expect (in, Operation::NORMAL, "target 80, delay 60");
  in.previous = Operation::CONCEAL;
  in.delay_ms = 200;
  expect (in, Operation::MERGE, "after concealment, whatever the delay");
}
GST_END_TEST;

GST_START_TEST (test_packet_missing)
{
  DecisionInput in = tick ();
  in.next_present = false;
  in.later_present = false;
  expect (in, Operation::CONCEAL, "nothing held");
  in.fec_possible = true;
  expect (in, Operation::CONCEAL, "FEC impossible without the next packet");

  in.later_present = true;
  in.hole_frames = 960;
  expect (in, Operation::FEC, "missing, the next packet is here");
  in.fec_possible = false;
  expect (in, Operation::CONCEAL, "missing, no FEC in the next packet");
  in.hole_frames = 0;
  expect (in, Operation::MERGE, "concealment covered the hole");
  in.hole_frames = -480;
  expect (in, Operation::MERGE, "concealment covered more than the hole");
}
GST_END_TEST;

/* A scripted sequence: 20 ms packets, 10 ms ticks, packet 3 lost; the playout's bookkeeping
 * done by hand. FEC is chosen once its successor is here, not before. */
GST_START_TEST (test_scripted_loss)
{
  struct Step {
    int sync, next, later, hole, previous;
    Operation want;
  } steps[] = {
    {0, 1, 0, 0, 0, Operation::NORMAL},      /* packet 2 decoded */
    {480, 0, 0, 0, 0, Operation::NORMAL},    /* its second half plays */
    {0, 0, 0, 0, 0, Operation::CONCEAL},     /* 3 should be here: nothing is */
    {0, 0, 1, 480, 1, Operation::FEC},       /* 4 came: recover 3 from it */
    {480, 1, 0, 0, 2, Operation::NORMAL},    /* FEC's output still playing */
    {0, 1, 0, 0, 2, Operation::NORMAL},      /* 4 decoded */
  };
  const Operation prev[] = {Operation::NORMAL, Operation::CONCEAL, Operation::FEC};
  for (const auto &s : steps) {
    DecisionInput in = tick ();
    in.sync_frames = s.sync;
    in.next_present = s.next;
    in.later_present = s.later;
    in.hole_frames = s.hole;
    in.fec_possible = s.later;
    in.previous = prev[s.previous];
    expect (in, s.want, "scripted");
  }
}
GST_END_TEST;

static Suite *
decision_suite (void)
{
  Suite *s = suite_create ("decision");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_thresholds);
  tcase_add_test (tc, test_packet_present);
  tcase_add_test (tc, test_packet_missing);
  tcase_add_test (tc, test_scripted_loss);
  return s;
}

GST_CHECK_MAIN (decision);
