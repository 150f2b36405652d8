/* gst-voicecall: call control without an element (see callcontrol.h). */
#include "callcontrol.h"

#include <algorithm>
#include <cstring>

namespace vc::control {

gboolean
accept_accumulator (GSignalInvocationHint *, GValue *acc, const GValue *handler_return,
    gpointer)
{
  gboolean accept = g_value_get_boolean (handler_return);
  g_value_set_boolean (acc, accept);
  return accept;
}

const guint8 OPUS_SILENCE[3] = {0xf8, 0xff, 0xfe};

static const char DIGITS[] = "0123456789*#ABCD";

int
dtmf_event (char digit)
{
  char d = g_ascii_toupper (digit);
  const char *p = d ? strchr (DIGITS, d) : nullptr;
  return p ? static_cast<int> (p - DIGITS) : -1;
}

char
dtmf_digit (int event)
{
  return event >= 0 && event < 16 ? DIGITS[event] : '\0';
}

bool
valid_digits (const std::string &digits)
{
  return !digits.empty () && std::all_of (digits.begin (), digits.end (),
      [] (char c) { return dtmf_event (c) >= 0; });
}

void
write_event (const Event &e, guint8 out[4])
{
  out[0] = static_cast<guint8> (e.event);
  out[1] = static_cast<guint8> ((e.end ? 0x80 : 0) | (e.volume & 0x3f));
  guint d = std::min (e.duration, 0xffffu);
  out[2] = static_cast<guint8> (d >> 8);
  out[3] = static_cast<guint8> (d & 0xff);
}

std::optional<Event>
parse_event (const guint8 *payload, gsize size)
{
  if (!payload || size < 4)
    return std::nullopt;
  Event e;
  e.event = payload[0];
  e.end = payload[1] & 0x80;
  e.volume = payload[1] & 0x3f;
  e.duration = (payload[2] << 8) | payload[3];
  return e;
}

bool
DtmfSender::queue (const std::string &digits, guint duration_ms, guint gap_ms)
{
  if (!valid_digits (digits))
    return false;
  guint d = std::clamp (duration_ms, MIN_DURATION_MS, MAX_DURATION_MS);
  for (char c : digits)
    queue_.push_back ({dtmf_event (c), d, gap_ms});
  return true;
}

std::optional<DtmfSender::Slot>
DtmfSender::next (guint32 ts, guint samples)
{
  if (in_gap_) {
    if (static_cast<gint32> (ts - gap_until_) < 0)
      return std::nullopt;
    in_gap_ = false;
  }
  if (!active_) {
    if (queue_.empty ())
      return std::nullopt;
    current_ = queue_.front ();
    queue_.pop_front ();
    active_ = true;
    start_ts_ = ts;
    sent_ = 0;
    ends_left_ = END_REPEATS;
  }
  /* The event's duration field holds 65535 units (1.36 s at 48 kHz): queue () keeps digits
   * shorter than that. */
  const guint target = std::min<guint64> (static_cast<guint64> (current_.duration_ms) *
      clock_rate_ / 1000, 0xffff);
  Slot slot;
  slot.timestamp = start_ts_;
  slot.marker = sent_ == 0;
  slot.event.event = current_.event;
  if (sent_ < target) {
    sent_ = std::min (sent_ + samples, target);
    slot.event.duration = sent_;
    slot.event.end = false;
    if (sent_ < target)
      return slot;
  }
  slot.event.duration = sent_;
  slot.event.end = true;
  if (--ends_left_ <= 0) {
    active_ = false;
    in_gap_ = true;
    gap_until_ = ts + samples + current_.gap_ms * clock_rate_ / 1000;
  }
  return slot;
}

DtmfReceiver::Digit
DtmfReceiver::make () const
{
  return {dtmf_digit (last_.event), last_.event,
      static_cast<guint> (static_cast<guint64> (last_.duration) * 1000 / (rate_ ? rate_ : 8000)),
      last_.volume};
}

std::optional<DtmfReceiver::Digit>
DtmfReceiver::packet (guint32 ts, const Event &e, guint clock_rate)
{
  if (e.event > 15)
    return std::nullopt; /* not a DTMF digit (RFC 4733 has other events) */
  std::optional<Digit> done;
  if (have_ && ts != ts_) {
    /* A new event: the last one is over, reported or not (its end packets were lost). */
    if (!reported_)
      done = make ();
    have_ = false;
  }
  if (have_ && reported_)
    return done; /* a repeated end packet */
  have_ = true;
  ts_ = ts;
  last_ = e;
  rate_ = clock_rate;
  reported_ = false;
  if (e.end) {
    reported_ = true;
    /* Two digits at once (a lost end and a new end) cannot be: the earlier one is reported
     * first, this one when its next packet (or the next event) comes. */
    if (done) {
      reported_ = false;
      return done;
    }
    return make ();
  }
  return done;
}

} // namespace vc::control
