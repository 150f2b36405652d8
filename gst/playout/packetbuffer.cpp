/* gst-voicecall: the playout's packet buffer (see packetbuffer.h). */
#include "packetbuffer.h"

#include <algorithm>

namespace vc::playout {

int64_t
Unwrapper::peek (uint32_t v) const
{
  if (!have_)
    return v;
  const int64_t range = int64_t (1) << bits_;
  const int64_t mask = range - 1;
  int64_t delta = (static_cast<int64_t> (v) - last_) & mask;
  if (delta >= range / 2)
    delta -= range;
  return last_ + delta;
}

int64_t
Unwrapper::unwrap (uint32_t v)
{
  const int64_t e = peek (v);
  if (!have_ || e > last_)
    last_ = e;
  have_ = true;
  return e;
}

Insert
PacketBuffer::insert (uint16_t seq, uint32_t timestamp, int duration,
    std::vector<uint8_t> payload, int64_t arrival_us, Packet *inserted)
{
  Insert result = Insert::INSERTED;
  int64_t ext = seq_unwrap_.peek (seq);
  const int64_t limit = static_cast<int64_t> (max_);
  if (cursor_ >= 0 && (ext < cursor_ - limit || ext >= cursor_ + limit)) {
    /* A restart of the numbering: start again from this packet. */
    flush ();
    seq_unwrap_.reset ();
    ts_unwrap_.reset ();
    ext = seq_unwrap_.peek (seq);
    cursor_ = ext;
    result = Insert::FLUSHED;
  } else if (cursor_ >= 0 && ext < cursor_) {
    stats_.late_discarded++;
    if (inserted) {
      inserted->seq = ext;
      inserted->timestamp = ts_unwrap_.peek (timestamp);
      inserted->duration = duration;
      inserted->arrival_us = arrival_us;
    }
    return Insert::LATE;
  } else if (packets_.count (ext)) {
    stats_.duplicates++;
    return Insert::DUPLICATE;
  } else if (packets_.size () >= max_) {
    flush ();
    cursor_ = ext;
    result = Insert::FLUSHED;
  }

  Packet p;
  p.seq = seq_unwrap_.unwrap (seq);
  p.timestamp = ts_unwrap_.unwrap (timestamp);
  p.duration = duration;
  p.arrival_us = arrival_us;
  p.payload = std::move (payload);
  if (cursor_ < 0)
    cursor_ = p.seq;
  stats_.inserted++;
  auto it = packets_.emplace (p.seq, std::move (p)).first;
  if (inserted)
    *inserted = it->second;
  return result;
}

void
PacketBuffer::set_cursor (int64_t seq)
{
  cursor_ = seq;
  packets_.erase (packets_.begin (), packets_.lower_bound (seq));
}

const Packet *
PacketBuffer::find (int64_t seq) const
{
  auto it = packets_.find (seq);
  return it == packets_.end () ? nullptr : &it->second;
}

const Packet *
PacketBuffer::first () const
{
  auto it = packets_.lower_bound (cursor_);
  return it == packets_.end () ? nullptr : &it->second;
}

bool
PacketBuffer::take (int64_t seq, Packet *out)
{
  auto it = packets_.find (seq);
  if (it == packets_.end ())
    return false;
  *out = std::move (it->second);
  packets_.erase (it);
  return true;
}

int64_t
PacketBuffer::span_samples (int64_t from_ts) const
{
  if (packets_.empty ())
    return 0;
  const Packet &last = packets_.rbegin ()->second;
  return std::max<int64_t> (0, last.timestamp + last.duration - from_ts);
}

void
PacketBuffer::flush ()
{
  if (!packets_.empty ()) {
    stats_.flushes++;
    stats_.flushed_packets += packets_.size ();
  }
  packets_.clear ();
}

} // namespace vc::playout
