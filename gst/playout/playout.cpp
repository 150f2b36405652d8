/* gst-voicecall: the playout (see playout.h). */
#include "playout.h"

#include "playout/timestretch.h"

#include <algorithm>
#include <cmath>

namespace vc::playout {

Playout::Playout (const Config &config)
    : config_ (config),
      buffer_ (config.max_packets),
      delay_ (config.min_delay_ms, config.max_delay_ms),
      decoder_ (config.channels),
      headroom_ (config.fec && config.fec_headroom && config.start_with_headroom)
{
}

Insert
Playout::insert (const uint8_t *payload, size_t size, uint16_t seq, uint32_t timestamp,
    int64_t arrival_us, int64_t network_arrival_us)
{
  const int64_t came = network_arrival_us >= 0 && network_arrival_us <= arrival_us ?
      network_arrival_us : arrival_us;
  const int frames = Decoder::packet_frames (payload, size);
  if (frames <= 0) {
    stats_.invalid++;
    return Insert::LATE;
  }
  Packet p;
  const Insert r = buffer_.insert (seq, timestamp, frames,
      std::vector<uint8_t> (payload, payload + size), arrival_us, &p);
  if (r == Insert::DUPLICATE)
    return r;
  stats_.packets_received++;
  if (r == Insert::FLUSHED) {
    /* Overflow or a new numbering: start again from this packet. */
    delay_.reset ();
    sync_.clear ();
    decoder_.reset ();
    started_ = false;
  }
  if (r == Insert::LATE) {
    /* Too late to play, but it tells how late packets come. */
    delay_.update (p.timestamp, frames, came);
    return r;
  }
  if (!started_) {
    started_ = true;
    end_ts_ = p.timestamp;
    concealed_run_ = 0;
    previous_ = Operation::NORMAL;
  }
  delay_.update (p.timestamp, frames, came);
  return r;
}

void
Playout::count_slots (int64_t lost, int64_t received)
{
  for (int64_t i = 0; i < lost; i++)
    losses_.push_back (slot_++);
  slot_ += received;
  while (!losses_.empty () && losses_.front () < slot_ - LOSS_WINDOW)
    losses_.pop_front ();
  if (losses_.size () >= static_cast<size_t> (HEADROOM_LOSSES))
    headroom_ = true;
  else if (losses_.empty () && slot_ >= LOSS_WINDOW)
    headroom_ = false; /* LOSS_WINDOW slots without loss (the start's headroom too) */
}

int
Playout::target_ms () const
{
  const int target = delay_.target_ms ();
  if (!(config_.fec && config_.fec_headroom && headroom_ && fec_capable_))
    return target;
  const int tick_ms = TICK_FRAMES * 1000 / DelayManager::RATE;
  return std::max (target,
      std::min (target + delay_.packet_ms () + tick_ms, config_.max_delay_ms));
}

void
Playout::decode_packet (const Packet &p, int64_t skipped)
{
  fec_capable_ = Decoder::can_carry_fec (p.payload.data (), p.payload.size ());
  count_slots (skipped, 1);
  const size_t at = sync_.size ();
  const int n = decoder_.decode (p.payload.data (), p.payload.size (), &sync_);
  if (n < 0) {
    /* A packet libopus refuses: conceal its duration instead. */
    decoder_.conceal (std::max (Decoder::GRANULE, p.duration), &sync_);
  } else {
    stats_.packets_decoded++;
  }
  fade_in_from (at);
  stats_.packets_lost += skipped;
  end_ts_ = p.timestamp + p.duration;
  buffer_.set_cursor (p.seq + 1);
  concealed_run_ = 0;
}

/* The decision's thresholds for the target now (decision.h). */
Thresholds
Playout::current_thresholds () const
{
  return thresholds (target_ms (), delay_.packet_ms (), TICK_FRAMES * 1000 / DelayManager::RATE);
}

/* Whether acceleration may remove a period of sound, not only of silence (see
 * SMALL_SURPLUS_PACKETS). */
bool
Playout::may_cut_speech (double delay_ms, int64_t now_us)
{
  if (!config_.silence_first)
    return true;
  const Thresholds t = current_thresholds ();
  if (delay_ms >= t.goal_ms + SMALL_SURPLUS_PACKETS * delay_.packet_ms ())
    return true;
  return surplus_since_us_ >= 0 && now_us - surplus_since_us_ >= SPEECH_CUT_AFTER_MS * 1000;
}

/* 10 ms of concealment, faded past CONCEAL_FULL_MS of it (see there). */
void
Playout::conceal_tick ()
{
  const size_t before = sync_.size ();
  decoder_.conceal (TICK_FRAMES, &sync_);
  const int ch = config_.channels;
  const int64_t full = static_cast<int64_t> (CONCEAL_FULL_MS) * RATE / 1000;
  const int64_t fade = static_cast<int64_t> (CONCEAL_FADE_MS) * RATE / 1000;
  const size_t frames = (sync_.size () - before) / ch;
  for (size_t i = 0; i < frames; i++) {
    const int64_t t = concealed_run_ + static_cast<int64_t> (i) - full;
    conceal_gain_ = t <= 0 ? 1.f : t >= fade ? 0.f : 1.f - static_cast<float> (t) / fade;
    for (int c = 0; c < ch; c++)
      sync_[before + i * ch + c] *= conceal_gain_;
  }
  stats_.concealed_samples += TICK_FRAMES;
  concealed_run_ += TICK_FRAMES;
}

/* After a faded concealment, the decoded audio from `at` (an index into sync_) fades in from
 * the concealment's last gain over a tick. */
void
Playout::fade_in_from (size_t at)
{
  if (conceal_gain_ >= 1.f)
    return;
  const int ch = config_.channels;
  const size_t frames = std::min<size_t> ((sync_.size () - at) / ch, TICK_FRAMES);
  for (size_t i = 0; i < frames; i++) {
    const float g = conceal_gain_ + (1.f - conceal_gain_) * (i + 1) / frames;
    for (int c = 0; c < ch; c++)
      sync_[at + i * ch + c] *= g;
  }
  conceal_gain_ = 1.f;
}

/* Decodes the packet at the cursor, or with allow_skip the first held one after a hole. */
bool
Playout::take_and_decode_next (bool allow_skip)
{
  const Packet *first = buffer_.first ();
  if (!first || (!allow_skip && first->seq != buffer_.cursor ()))
    return false;
  Packet p;
  const int64_t skipped = first->seq - buffer_.cursor ();
  buffer_.take (first->seq, &p);
  decode_packet (p, skipped);
  return true;
}

Operation
Playout::pull (int64_t now_us, float *out)
{
  const size_t tick = static_cast<size_t> (TICK_FRAMES) * config_.channels;
  if (!started_ || !decoder_.ok ()) {
    std::fill (out, out + tick, 0.f);
    return Operation::NORMAL;
  }

  const int ch = config_.channels;
  auto sync_frames = [&] () { return static_cast<int> (sync_.size () / ch); };
  const double delay = delay_.delay_ms (end_ts_ - sync_frames (), now_us);
  if (delay <= current_thresholds ().accelerate_above_ms)
    surplus_since_us_ = -1;
  else if (surplus_since_us_ < 0)
    surplus_since_us_ = now_us;

  Operation op = Operation::NORMAL;
  bool first_op = true;
  for (int guard = 0; sync_frames () < TICK_FRAMES; guard++) {
    if (guard == 16) {
      /* Only if libopus kept failing: play silence rather than loop. */
      sync_.resize (tick, 0.f);
      break;
    }
    DecisionInput in;
    in.tick_frames = TICK_FRAMES;
    in.sync_frames = sync_frames ();
    in.delay_ms = delay;
    in.target_ms = target_ms ();
    in.packet_ms = delay_.packet_ms ();
    const Packet *first = buffer_.first ();
    in.next_present = first && first->seq == buffer_.cursor ();
    in.later_present = first && first->seq != buffer_.cursor ();
    if (in.later_present) {
      in.hole_frames = first->timestamp - end_ts_ - concealed_run_;
      in.fec_possible = config_.fec && first->seq > buffer_.cursor () &&
          Decoder::can_carry_fec (first->payload.data (), first->payload.size ());
    }
    in.previous = previous_;
    const Operation o = decide (in);

    switch (o) {
      case Operation::NORMAL:
        take_and_decode_next (false);
        break;
      case Operation::MERGE:
        take_and_decode_next (true);
        stats_.merge_ops++;
        break;
      case Operation::ACCELERATE: {
        take_and_decode_next (false);
        /* The stretcher finds long periods only in 30 ms: decode one more if it is here. */
        if (static_cast<size_t> (sync_frames ()) < STRETCH_FULL_FRAMES)
          take_and_decode_next (false);
        if (!may_cut_speech (delay, now_us) &&
            !find_period (sync_.data (), sync_frames (), ch).silent)
          break;
        const Stretch s = accelerate (sync_.data (), sync_frames (), ch, &stretched_);
        if (s.frames > 0) {
          sync_.swap (stretched_);
          stats_.removed_samples_for_acceleration += s.frames;
          stats_.accelerate_ops++;
        }
        break;
      }
      case Operation::PREEMPTIVE_EXPAND: {
        take_and_decode_next (false);
        const Stretch s = preemptive_expand (sync_.data (), sync_frames (), ch, &stretched_);
        if (s.frames > 0) {
          sync_.swap (stretched_);
          stats_.inserted_samples_for_deceleration += s.frames;
          stats_.expand_ops++;
        }
        break;
      }
      case Operation::FEC: {
        Packet p = *first;
        const int64_t missing = first->timestamp - end_ts_ - concealed_run_;
        int frames = static_cast<int> (std::max<int64_t> (missing, p.duration));
        frames = (frames + Decoder::GRANULE - 1) / Decoder::GRANULE * Decoder::GRANULE;
        if (frames > Decoder::MAX_FRAMES) {
          /* A hole longer than libopus recovers in one call: conceal its start first. */
          conceal_tick ();
          break;
        }
        const size_t before = sync_.size ();
        decoder_.decode_fec (p.payload.data (), p.payload.size (), frames, &sync_);
        fade_in_from (before);
        if (frames > missing) {
          /* Concealment already played part of the hole, and libopus recovers no less than
           * the whole packet: take the surplus back by a period where it can, within the
           * recovered audio (where it is the most periodic: the concealment's tail before it
           * is another signal). */
          const size_t n = (sync_.size () - before) / ch;
          const Stretch st = accelerate (sync_.data () + before, n, ch, &stretched_);
          if (st.frames > 0) {
            sync_.resize (before);
            sync_.insert (sync_.end (), stretched_.begin (), stretched_.end ());
            stats_.removed_samples_for_acceleration += st.frames;
            stats_.accelerate_ops++;
          }
        }
        stats_.fec_recovered++;
        /* The lost packets before the last are concealed by that call. */
        stats_.packets_lost += p.seq - buffer_.cursor () - 1;
        count_slots (p.seq - buffer_.cursor (), 0);
        end_ts_ = p.timestamp;
        buffer_.set_cursor (p.seq);
        concealed_run_ = 0;
        break;
      }
      case Operation::CONCEAL:
        if (previous_ != Operation::CONCEAL)
          stats_.concealment_events++;
        conceal_tick ();
        break;
    }
    if (first_op)
      op = o;
    first_op = false;
    previous_ = o;
  }

  /* libopus' float output may pass ±1 (a loud source, or a corrupt packet): clip here, as
   * a sink would, so that every consumer gets the same audio as the S16 output. */
  std::transform (sync_.begin (), sync_.begin () + tick, out,
      [] (float v) { return std::clamp (v, -1.f, 1.f); });
  sync_.erase (sync_.begin (), sync_.begin () + tick);
  stats_.total_samples += TICK_FRAMES;
  stats_.current_delay_ms = delay;
  stats_.target_delay_ms = target_ms ();
  stats_.jitter_target_delay_ms = delay_.target_ms ();
  stats_.loss_rate = static_cast<double> (losses_.size ()) /
      std::max<int64_t> (1, std::min<int64_t> (slot_, LOSS_WINDOW));
  stats_.fec_headroom = target_ms () > delay_.target_ms ();
  const BufferStats &b = buffer_.stats ();
  stats_.late_discarded = b.late_discarded;
  stats_.duplicates = b.duplicates;
  stats_.flushes = b.flushes;
  return op;
}

int64_t
Playout::buffered_frames () const
{
  return static_cast<int64_t> (sync_.size () / config_.channels) + buffer_.span_samples (end_ts_);
}

Operation
Playout::pull (int64_t now_us, int16_t *out)
{
  std::vector<float> f (static_cast<size_t> (TICK_FRAMES) * config_.channels);
  const Operation op = pull (now_us, f.data ());
  for (size_t i = 0; i < f.size (); i++)
    out[i] = static_cast<int16_t> (std::clamp (std::lround (f[i] * 32768.f), -32768L, 32767L));
  return op;
}

} // namespace vc::playout
