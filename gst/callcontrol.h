/* gst-voicecall: call control without an element — the Opus silence frame that mute and hold
 * send, and DTMF as RFC 4733 telephone-events (the payload, what a sender puts in each packet
 * slot, what a receiver reports). Plain logic, unit-tested in tests/unit/test_callcontrol.cpp;
 * vc::CallSession applies it to its RTP. */
#pragma once

#include <glib-object.h>

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace vc::control {

/* The accumulator of the signals that let an application refuse a call (the signaller's
 * accept-session, voicecall's incoming-call): keeps the last answer, and a FALSE stops the
 * emission. */
gboolean accept_accumulator (GSignalInvocationHint *hint, GValue *acc,
    const GValue *handler_return, gpointer data);

/* One 20 ms CELT frame that every Opus decoder decodes to digital silence (TOC 0xF8: CELT
 * fullband 20 ms, mono, one frame). Mute and hold put it in place of our Opus payload:
 * the peer's jitter buffer, stats and SSRC see the stream go on, and nothing is
 * renegotiated. */
extern const guint8 OPUS_SILENCE[3];

/* RFC 4733 events: 0-9 → 0-9, * → 10, # → 11, A-D → 12-15. -1 for anything else. */
int dtmf_event (char digit);
/* The digit of an event 0-15, or '\0'. */
char dtmf_digit (int event);
/* Whether every character of `digits` is a DTMF digit (and there is at least one). */
bool valid_digits (const std::string &digits);

/* The 4-byte RFC 4733 payload. */
struct Event {
  int event = 0;
  bool end = false;
  int volume = 10;      /* -dBm0, 0..63 */
  guint duration = 0;   /* in RTP clock units */
};
void write_event (const Event &e, guint8 out[4]);
std::optional<Event> parse_event (const guint8 *payload, gsize size);

/* Sends queued digits in place of the audio packets, as libwebrtc does: each packet slot of
 * a digit carries the event with the digit's first timestamp and its growing duration (the
 * first with the marker bit), the last one three times with the end bit, then `gap_ms` of
 * audio before the next digit. */
class DtmfSender {
public:
  static constexpr guint MIN_DURATION_MS = 40, MAX_DURATION_MS = 1300;
  static constexpr guint DEFAULT_GAP_MS = 70;
  static constexpr int END_REPEATS = 3;

  explicit DtmfSender (guint clock_rate = 48000) : clock_rate_ (clock_rate) {}
  /* Queues digits (each sent for duration_ms, clamped to 40..1300 ms: one event's duration
   * field holds at most 1.36 s at 48 kHz, and RFC 4733's segments for longer ones are not
   * done); false if one of them is not a DTMF digit (nothing is queued). */
  bool queue (const std::string &digits, guint duration_ms, guint gap_ms = DEFAULT_GAP_MS);
  bool busy () const { return !queue_.empty () || active_; }

  /* What to send in the packet slot whose audio has RTP timestamp `ts` and lasts
   * `samples`: nothing (send the audio), or an event with the timestamp to give it and
   * whether it carries the marker. */
  struct Slot {
    Event event;
    guint32 timestamp;
    bool marker;
  };
  std::optional<Slot> next (guint32 ts, guint samples);

private:
  struct Digit {
    int event;
    guint duration_ms, gap_ms;
  };
  guint clock_rate_;
  std::deque<Digit> queue_;
  bool active_ = false;
  Digit current_ {};
  guint32 start_ts_ = 0;
  guint sent_ = 0;       /* duration covered so far, clock units */
  int ends_left_ = 0;    /* end packets still to send */
  guint32 gap_until_ = 0;
  bool in_gap_ = false;
};

/* Turns received telephone-event packets into digits: one report per event (the first packet
 * with the end bit, or a later event's start when every end packet of it was lost). */
class DtmfReceiver {
public:
  struct Digit {
    char digit;
    int event;
    guint duration_ms;
    int volume;
  };
  /* One packet (its RTP timestamp, payload and the clock rate of its payload type); the
   * digit it completes, if any. */
  std::optional<Digit> packet (guint32 ts, const Event &e, guint clock_rate);

private:
  bool have_ = false, reported_ = false;
  guint32 ts_ = 0;
  Event last_;
  guint rate_ = 8000;
  Digit make () const;
};

} // namespace vc::control
