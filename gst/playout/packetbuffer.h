/* gst-voicecall: the playout's packet buffer. Plain logic, no element, no codec.
 *
 * Holds received RTP payloads (Opus) keyed by their extended (unwrapped) sequence number, in
 * order, until the playout takes them. It knows the playout's cursor, the sequence number it
 * will ask for next:
 *  - a packet behind the cursor arrived after its turn: it is counted as late and discarded;
 *  - a packet already held is counted as a duplicate and discarded;
 *  - the buffer holds at most max_packets: a packet that does not fit flushes it (the playout
 *    fell far behind the sender: what it holds is too old to be worth playing), and the
 *    cursor restarts at that packet;
 *  - a packet more than max_packets behind the cursor or ahead of it is taken as the sender
 *    restarting its numbering (a new SSRC's random sequence numbers): flush and restart there.
 * 16-bit sequence numbers and 32-bit timestamps are unwrapped against the newest packet seen,
 * so wrap-around is invisible to the rest of the playout. */
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

namespace vc::playout {

/* Unwraps an RTP counter of `bits` bits (16 or 32) into a monotonic 64-bit value, relative to
 * the newest value seen: a value within half the range ahead is newer, within half behind is
 * older. */
class Unwrapper {
public:
  explicit Unwrapper (int bits) : bits_ (bits) {}
  /* The extended value of `v`, without changing the reference. */
  int64_t peek (uint32_t v) const;
  /* The extended value of `v`; a newer one becomes the reference. */
  int64_t unwrap (uint32_t v);
  void reset () { have_ = false; }

private:
  int bits_;
  bool have_ = false;
  int64_t last_ = 0;
};

struct Packet {
  int64_t seq = 0;        /* extended sequence number */
  int64_t timestamp = 0;  /* extended RTP timestamp (48 kHz samples for Opus) */
  int duration = 0;       /* samples per channel at the RTP clock rate */
  int64_t arrival_us = 0;
  std::vector<uint8_t> payload;
};

enum class Insert {
  INSERTED,
  DUPLICATE,  /* already held: discarded */
  LATE,       /* behind the cursor: discarded */
  FLUSHED,    /* inserted after flushing everything (overflow or restart) */
};

struct BufferStats {
  uint64_t inserted = 0;
  uint64_t late_discarded = 0;
  uint64_t duplicates = 0;
  uint64_t flushes = 0;
  uint64_t flushed_packets = 0;
};

class PacketBuffer {
public:
  static constexpr size_t DEFAULT_MAX_PACKETS = 100; /* 2 s of 20 ms packets */

  explicit PacketBuffer (size_t max_packets = DEFAULT_MAX_PACKETS) : max_ (max_packets) {}

  /* Takes a packet as received; `inserted` gets it with its extended seq and timestamp (a
   * late one too, without its payload). */
  Insert insert (uint16_t seq, uint32_t timestamp, int duration, std::vector<uint8_t> payload,
      int64_t arrival_us, Packet *inserted = nullptr);

  /* The playout's cursor: the extended seq it plays next (-1 before the first packet). */
  int64_t cursor () const { return cursor_; }
  /* Moves the cursor (forward after playing or skipping); held packets behind it are dropped. */
  void set_cursor (int64_t seq);

  const Packet *find (int64_t seq) const;
  /* The first held packet at or after the cursor, or nullptr. */
  const Packet *first () const;
  /* Removes and returns the packet `seq`; false when not held. */
  bool take (int64_t seq, Packet *out);

  size_t size () const { return packets_.size (); }
  bool empty () const { return packets_.empty (); }
  /* Samples from `from_ts` to the end of the newest held packet (0 when empty). Holes count:
   * they are played too, concealed or recovered. */
  int64_t span_samples (int64_t from_ts) const;

  const BufferStats &stats () const { return stats_; }
  void flush ();

private:
  size_t max_;
  std::map<int64_t, Packet> packets_;
  Unwrapper seq_unwrap_ {16};
  Unwrapper ts_unwrap_ {32};
  int64_t cursor_ = -1;
  BufferStats stats_;
};

} // namespace vc::playout
