/* gst-voicecall: the playout's packet buffer (gst/playout/packetbuffer.h) on scripted packet
 * arrivals: order, reordering, duplicates, late packets, the size bound, sequence number and
 * timestamp wrap-around, a sender restarting its numbering. */
#include "playout/packetbuffer.h"

#include <gst/check/gstcheck.h>

using vc::playout::Insert;
using vc::playout::Packet;
using vc::playout::PacketBuffer;

namespace {

constexpr int FRAME = 960; /* 20 ms at 48 kHz */

Insert
put (PacketBuffer &b, uint16_t seq, uint32_t ts, int64_t arrival_us = 0, Packet *p = nullptr)
{
  return b.insert (seq, ts, FRAME, std::vector<uint8_t> {static_cast<uint8_t> (seq & 0xff)},
      arrival_us, p);
}

} // namespace

GST_START_TEST (test_unwrapper)
{
  vc::playout::Unwrapper u (16);
  fail_unless_equals_int64 (u.unwrap (65534), 65534);
  fail_unless_equals_int64 (u.unwrap (65535), 65535);
  fail_unless_equals_int64 (u.unwrap (0), 65536);
  fail_unless_equals_int64 (u.unwrap (65535), 65535); /* older, after the wrap */
  fail_unless_equals_int64 (u.unwrap (3), 65539);
  vc::playout::Unwrapper t (32);
  fail_unless_equals_int64 (t.unwrap (0xffffff00u), 0xffffff00ll);
  fail_unless_equals_int64 (t.unwrap (0x100u), 0x100000100ll);
}
GST_END_TEST;

GST_START_TEST (test_reorder_and_take)
{
  PacketBuffer b;
  fail_unless (put (b, 10, 1000) == Insert::INSERTED);
  fail_unless (put (b, 12, 1000 + 2 * FRAME) == Insert::INSERTED);
  fail_unless (put (b, 11, 1000 + FRAME) == Insert::INSERTED); /* reordered: still in time */
  fail_unless_equals_int64 (b.cursor (), 10);
  fail_unless_equals_int (b.size (), 3);
  fail_unless_equals_int64 (b.span_samples (1000), 3 * FRAME);

  Packet p;
  for (int s = 10; s <= 12; s++) {
    fail_unless (b.first () && b.first ()->seq == s, "first is %d", s);
    fail_unless (b.take (s, &p));
    fail_unless_equals_int (p.payload[0], s);
    fail_unless_equals_int64 (p.timestamp, 1000 + (s - 10) * FRAME);
    b.set_cursor (s + 1);
  }
  fail_unless (b.empty ());
  fail_unless_equals_int64 (b.span_samples (1000 + 3 * FRAME), 0);
}
GST_END_TEST;

GST_START_TEST (test_duplicate_and_late)
{
  PacketBuffer b;
  put (b, 100, 0);
  put (b, 101, FRAME);
  fail_unless (put (b, 101, FRAME) == Insert::DUPLICATE);
  Packet p;
  b.take (100, &p);
  b.set_cursor (101);
  /* 100 was played: a copy of it, or anything older, is late. */
  fail_unless (put (b, 100, 0) == Insert::LATE);
  fail_unless (put (b, 95, 0) == Insert::LATE);
  /* The playout concealed 101 and moved on: 101 arriving now is late too, and dropped. */
  b.set_cursor (102);
  fail_unless (b.empty ());
  fail_unless (put (b, 101, FRAME) == Insert::LATE);
  fail_unless_equals_int (b.stats ().late_discarded, 3);
  fail_unless_equals_int (b.stats ().duplicates, 1);
  fail_unless_equals_int (b.stats ().inserted, 2);
}
GST_END_TEST;

GST_START_TEST (test_overflow_flushes)
{
  PacketBuffer b (5);
  for (int s = 0; s < 5; s++)
    fail_unless (put (b, s, s * FRAME) == Insert::INSERTED);
  /* The sixth does not fit: everything held is dropped and playout restarts at it. */
  fail_unless (put (b, 5, 5 * FRAME) == Insert::FLUSHED);
  fail_unless_equals_int (b.size (), 1);
  fail_unless_equals_int64 (b.cursor (), 5);
  fail_unless_equals_int (b.stats ().flushes, 1);
  fail_unless_equals_int (b.stats ().flushed_packets, 5);
  fail_unless (put (b, 6, 6 * FRAME) == Insert::INSERTED);
}
GST_END_TEST;

GST_START_TEST (test_wraparound)
{
  PacketBuffer b;
  const uint32_t ts0 = 0xffffffffu - FRAME; /* the timestamp wraps one packet later too */
  Packet p;
  put (b, 65534, ts0);
  put (b, 0, ts0 + 2 * FRAME, 0, &p); /* reordered across the wrap */
  fail_unless_equals_int64 (p.seq, 65536);
  fail_unless_equals_int64 (p.timestamp, int64_t (ts0) + 2 * FRAME);
  put (b, 65535, ts0 + FRAME);
  put (b, 1, ts0 + 3 * FRAME);
  fail_unless_equals_int (b.size (), 4);
  fail_unless_equals_int64 (b.span_samples (ts0), 4 * FRAME);
  int64_t expect = 65534;
  while (const Packet *f = b.first ()) {
    fail_unless_equals_int64 (f->seq, expect);
    const int64_t s = f->seq;
    b.take (s, &p);
    b.set_cursor (s + 1);
    expect++;
  }
  fail_unless_equals_int64 (expect, 65538);
}
GST_END_TEST;

GST_START_TEST (test_restart)
{
  PacketBuffer b (50);
  for (int s = 0; s < 3; s++)
    put (b, 1000 + s, s * FRAME);
  /* A new SSRC with new random numbers: far from the cursor, either way. */
  fail_unless (put (b, 40000, 123456) == Insert::FLUSHED);
  fail_unless_equals_int (b.size (), 1);
  fail_unless (b.first ()->seq == b.cursor ());
  fail_unless (put (b, 40001, 123456 + FRAME) == Insert::INSERTED);
  fail_unless_equals_int64 (b.span_samples (b.first ()->timestamp), 2 * FRAME);
}
GST_END_TEST;

static Suite *
packetbuffer_suite (void)
{
  Suite *s = suite_create ("packetbuffer");
  TCase *tc = tcase_create ("general");
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_unwrapper);
  tcase_add_test (tc, test_reorder_and_take);
  tcase_add_test (tc, test_duplicate_and_late);
  tcase_add_test (tc, test_overflow_flushes);
  tcase_add_test (tc, test_wraparound);
  tcase_add_test (tc, test_restart);
  return s;
}

GST_CHECK_MAIN (packetbuffer);
