/* gst-voicecall: the playout, NetEq's split in plain C++: Opus RTP payloads in, 10 ms of PCM
 * out on demand. No element, no clock of its own: the caller says when packets arrive and
 * when it wants audio.
 *
 *   insert ──▶ PacketBuffer (order, late, duplicates)      DelayManager (target delay)
 *                    │                                            │
 *   pull (per tick) ─┴──▶ decide (decision.h) ──▶ Decoder (decode / FEC / conceal)
 *                                                     └──▶ time-stretch (accelerate / expand)
 *                                                          └──▶ sync buffer ──▶ 10 ms out
 *
 * The sync buffer holds decoded audio not yet played. Its end is the RTP timestamp after the
 * last decoded packet, so the timestamp being played is that minus what the sync buffer
 * holds: concealment lets it fall behind the clock (the delay grows), accelerate moves it
 * ahead (the delay shrinks). */
#pragma once

#include "playout/decision.h"
#include "playout/decoder.h"
#include "playout/delaymanager.h"
#include "playout/packetbuffer.h"

#include <cstdint>
#include <deque>
#include <vector>

namespace vc::playout {

/* Loss and FEC headroom. A packet that is lost on a path held at one packet of delay is
 * concealed, not recovered: the next packet, which carries its FEC copy, arrives a packet
 * later, when the hole has been played. While packets are being lost, the playout therefore
 * asks for one packet and one tick more than the delay manager's target, so that the next
 * packet is here in time and FEC can be used (24 dB against 6 dB of concealment in the
 * tests, for 20 ms): the hole is decoded at the start of the tick that first needs it, up to
 * a tick before it plays. With one packet only, the next packet often came just too late
 * (a 10 ms concealment, then the FEC copy and an acceleration to take back the surplus).
 * The losses of the last LOSS_WINDOW packet slots (2 s at 20 ms) are counted: the headroom
 * comes with HEADROOM_LOSSES of them (one alone does not: it costs 20 ms for nothing) and
 * goes when there is none (2 s without loss); at 2 % steady loss it stays. Only while FEC is
 * enabled and the packets can carry it.
 *
 * With Config::start_with_headroom a stream starts with the headroom, as NetEq starts with
 * a target above what a clean path needs: nothing is known of the path yet, and a delay
 * grown while packets are being lost grows by concealment, which is what the headroom is
 * there to avoid. It goes like any other, after LOSS_WINDOW slots without a loss. Off by
 * default: it gained 0.013 STOI at 10 % loss and nothing at 20 % in the lab, and once given
 * back the delay rests at the top of the dead band (goal + half a packet) instead of where a
 * clean path puts it: 13 ms more on the loopback click benchmark for the whole call.
 *
 * Giving delay back. A surplus of less than SMALL_SURPLUS_PACKETS packets over the goal (the
 * headroom going, a jitter that has eased) is taken back in silence: a pitch period removed
 * from speech shifts what follows, a silence shortened does not change a word. Speech is cut
 * as well once such a surplus has waited SPEECH_CUT_AFTER_MS for a silence (a tone, music,
 * someone who never pauses), and at once when the surplus is larger. */
constexpr int LOSS_WINDOW = 100;
/* A long concealment fades to silence: libopus' concealment of a stream that stopped (a peer
 * gone, a long outage) is a buzz that goes on for as long as it is asked. Full concealment
 * for CONCEAL_FULL_MS (a burst of five lost packets), then a linear fade to silence over
 * CONCEAL_FADE_MS; the audio that follows a faded concealment fades in over a tick. */
constexpr int CONCEAL_FULL_MS = 100;
constexpr int CONCEAL_FADE_MS = 100;
constexpr int HEADROOM_LOSSES = 2;
constexpr int SMALL_SURPLUS_PACKETS = 2;
constexpr int64_t SPEECH_CUT_AFTER_MS = 2000;

/* As WebRTC's RTCInboundRtpStreamStats where they have a counterpart; samples per channel. */
struct PlayoutStats {
  double current_delay_ms = 0;   /* the playout delay at the last tick (see decision.h) */
  int target_delay_ms = 0;       /* the delay manager's target, plus the FEC headroom */
  int jitter_target_delay_ms = 0; /* the delay manager's target alone: what the jitter needs */
  double loss_rate = 0;          /* lost fraction of the last LOSS_WINDOW packet slots */
  bool fec_headroom = false;     /* a packet of headroom for FEC is being held */
  uint64_t packets_received = 0; /* valid packets inserted, late ones included */
  uint64_t packets_decoded = 0;
  uint64_t packets_lost = 0;     /* skipped: never played, neither decoded nor recovered */
  uint64_t late_discarded = 0;
  uint64_t duplicates = 0;
  uint64_t invalid = 0;          /* not Opus */
  uint64_t flushes = 0;
  uint64_t fec_recovered = 0;    /* packets decoded from the next packet's in-band FEC */
  uint64_t total_samples = 0;    /* played, silence before the first packet excluded */
  uint64_t concealed_samples = 0;
  uint64_t concealment_events = 0;
  uint64_t inserted_samples_for_deceleration = 0;
  uint64_t removed_samples_for_acceleration = 0;
  uint64_t accelerate_ops = 0, expand_ops = 0, merge_ops = 0;
};

class Playout {
public:
  static constexpr int RATE = 48000;
  static constexpr int TICK_FRAMES = 480; /* 10 ms */

  struct Config {
    int channels = 1;
    bool fec = true;
    bool fec_headroom = true; /* see LOSS_WINDOW */
    bool start_with_headroom = false; /* with fec_headroom: from the first packet */
    bool silence_first = true;       /* a small surplus is taken back in silence first */
    int min_delay_ms = 0;
    int max_delay_ms = DelayManager::DEFAULT_MAX_DELAY_MS;
    size_t max_packets = PacketBuffer::DEFAULT_MAX_PACKETS;
  };

  explicit Playout (const Config &config);

  /* A received packet: Opus payload, RTP sequence number and timestamp, arrival time (any
   * monotonic clock in µs, the same as pull's). `network_arrival_us`, when known (≥ 0, same
   * clock), is when the packet came off the network, if something held it between there
   * and here (a jitter buffer holding the packets behind a missing one): the delay manager
   * learns the network's jitter from it, not what the holding added. */
  Insert insert (const uint8_t *payload, size_t size, uint16_t seq, uint32_t timestamp,
      int64_t arrival_us, int64_t network_arrival_us = -1);

  /* The next 10 ms (TICK_FRAMES × channels interleaved samples, within [-1, 1]) for playing
   * at `now_us`. Silence before the first packet. Returns what was done. */
  Operation pull (int64_t now_us, float *out);
  Operation pull (int64_t now_us, int16_t *out);

  const PlayoutStats &stats () const { return stats_; }
  /* Audio still to play: decoded and in held packets (frames per channel). */
  int64_t buffered_frames () const;
  int channels () const { return config_.channels; }
  bool started () const { return started_; }

private:
  void decode_packet (const Packet &p, int64_t skipped);
  void count_slots (int64_t lost, int64_t received);
  int target_ms () const;
  bool take_and_decode_next (bool allow_skip);
  void conceal_tick ();
  void fade_in_from (size_t at);
  bool may_cut_speech (double delay_ms, int64_t now_us);
  Thresholds current_thresholds () const;

  Config config_;
  PacketBuffer buffer_;
  DelayManager delay_;
  Decoder decoder_;
  std::vector<float> sync_, stretched_;
  int64_t end_ts_ = 0;           /* RTP timestamp after the last decoded packet */
  int64_t concealed_run_ = 0;    /* frames concealed since the last decoded packet */
  float conceal_gain_ = 1;       /* the gain at the end of the last concealment */
  Operation previous_ = Operation::NORMAL;
  bool started_ = false;
  int64_t slot_ = 0;             /* packet slots played */
  std::deque<int64_t> losses_;   /* the slots lost in the last LOSS_WINDOW */
  bool headroom_ = false;
  int64_t surplus_since_us_ = -1; /* since when the delay has been above accelerating */
  bool fec_capable_ = false;     /* the last decoded packet could carry FEC */
  PlayoutStats stats_;
};

} // namespace vc::playout
