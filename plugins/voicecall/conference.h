/* gst-voicecall: conference mixing for voicecall mix=all (docs/design.md, "Conference mixing").
 *
 * Every participant's received RTP is decoded once, by a voiceplayout of its own (adaptive
 * jitter handling before mixing), and fanned out by a tee; our own RTP (the sink pad's) is
 * decoded once the same way. One mixer mixes everyone (the local source and every
 * participant) and is encoded once: the shared mix, which every participant who is not
 * speaking gets. A participant who speaks (or spoke within the last second) gets a mix of its
 * own instead, without itself (mix-minus), encoded for it alone. One more mixer mixes every
 * participant (not the local source) for the element's src pad:
 *
 *   our RTP ─▶ queue ─▶ voiceplayout ─▶ tee ─────────────┬─▶ mixer(shared) ─▶ opusenc ─▶ pay ─▶ tee(shared)
 *   A's RTP ─▶ voiceplayout ─▶ volume ─▶ tee(A) ─────────┼─▶ mixer(out) ─▶ opusenc ─▶ pay ─▶ src pad
 *                                                        └─▶ mixer(B) ─▶ opusenc ─▶ pay ─┐  (B speaks)
 *   tee(shared) ─▶ selector(B) ◀───────────────────────────────────────────────────────────┘
 *   selector(B) ─▶ B's session
 *
 * A session's RTP goes through its selector, whose probe keeps one SSRC, consecutive
 * sequence numbers and continuous timestamps across the switches between the shared and its
 * own stream. The volume element is the participant's gain and server-side mute; a probe
 * before it measures the participant's level (what it says, whatever its gain). The local
 * branch and the shared and callers' mixes follow the element's state; a participant's
 * elements follow its session (locked state, started when added, stopped when removed).
 *
 * Control thread, but for link_received (any thread).
 */
#pragma once

#include "gstptr.h"

#include <gst/gst.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace vc {

class Conference {
public:
  /* Builds the local branch and the callers' mix in `bin`. nullptr if an element is missing
   * (an error was posted on `bin`). */
  static std::unique_ptr<Conference> create (GstElement *bin);
  /* Removes every participant and its own elements from the bin (which is in READY or
   * NULL). */
  ~Conference ();
  Conference (const Conference &) = delete;
  Conference &operator= (const Conference &) = delete;

  /* The local branch's input: link a pad that carries our RTP/Opus to it. */
  GstPad *local_sink () const { return local_sink_.get (); }
  /* Every participant mixed (not the local source), as RTP/Opus. */
  GstPad *output () const { return output_.get (); }

  /* A new participant: returns the pad that gives its mix (everyone but itself) as RTP/Opus,
   * nullptr if an element is missing. */
  GstPtr<GstPad> add (const std::string &id);
  /* Links the participant's received RTP (`src`) to its decoder; returns the decoder's pad,
   * nullptr if there is no such participant. Any thread. */
  GstPtr<GstPad> link_received (const std::string &id, GstPad *src);
  /* Stops what the participant's session gets (it no longer takes it): its selector and its
   * own mix, if any, leave; the others still hear it (idempotent). */
  void remove_send (const std::string &id);
  /* Stops all of the participant's elements and removes them (idempotent). */
  void remove (const std::string &id);
  bool has (const std::string &id) const;

  /* Gain (1.0: as received) and server-side mute of what the others hear of a participant;
   * false if there is no such participant. */
  bool set_gain (const std::string &id, double gain);
  bool set_muted (const std::string &id, bool muted);

  struct Level {
    std::string id;
    double rms_db = -127; /* dBFS over the time since the last take_levels */
    double peak_db = -127;
    bool muted = false;
    double gain = 1.0;
  };
  /* Each participant's level since the last call (control thread). */
  std::vector<Level> take_levels ();
  /* Gives a mix of its own to each participant that is speaking (heard by the others, above
   * SPEAKING_DB) or spoke within OWN_MIX_HOLD_US, the shared mix to the others. */
  void follow_speakers (const std::vector<Level> &levels);
  static constexpr double SPEAKING_DB = -45.0;
  static constexpr gint64 OWN_MIX_HOLD_US = G_USEC_PER_SEC;
  /* How many participants have a mix of their own now. */
  int own_mixes () const;

  /* What a session's selector sends: one SSRC, consecutive sequence numbers, continuous
   * timestamps, whichever stream it takes. */
  struct Continuity {
    std::mutex lock;
    bool started = false, caps_sent = false, stream_started = false;
    guint32 ssrc = 0, in_ssrc = 0, last_ts = 0, ts_offset = 0;
    guint16 next_seq = 0;
    GstClockTime last_pts = GST_CLOCK_TIME_NONE;
  };

  /* The levels of what the participants say (decoded, before gain and mute). */
  struct Meter {
    std::mutex lock;
    double sum2 = 0, peak = 0;
    guint64 samples = 0;
  };

private:
  explicit Conference (GstElement *bin) : bin_ (bin) {}
  struct Link {
    GstPtr<GstPad> tee_pad, mixer_pad;
  };
  struct Participant {
    std::string id;
    GstPtr<GstElement> playout, volume, tee; /* its decoded audio */
    GstPtr<GstElement> selector;             /* what its session gets */
    GstPtr<GstElement> mixer, filter, encoder, pay; /* its own mix, while it speaks */
    std::shared_ptr<Meter> meter;
    std::shared_ptr<Continuity> rtp;
    Link shared_in;                    /* the shared mix's tee → its selector */
    GstPtr<GstPad> own_in;             /* its own mix → its selector */
    std::map<std::string, Link> feeds; /* into its own mixer, by source ("" = local) */
    Link to_output, to_shared;         /* its tee → the callers' mix, the shared mix */
    double gain = 1.0;
    bool muted = false;
    gint64 heard_us = 0; /* when it was last speaking */
  };
  bool build ();
  std::shared_ptr<Participant> find (const std::string &id) const;
  std::vector<std::shared_ptr<Participant>> all () const;
  Link feed (GstElement *tee, GstElement *mixer);
  void release (GstElement *tee, GstElement *mixer, Link &link, bool tee_first);
  /* For a mixer that keeps running: the tee's pad goes now, the mixer's once nothing is
   * queued on it any more (reap). audiomixer 1.22 can unref a queued buffer twice when the
   * pad it waits on is released while it mixes (a GStreamer-CRITICAL in the aggregator's
   * gst_aggregator_pad_drop_buffer, 1 unit run in ~20 on a loaded machine). */
  void retire (GstElement *tee, GstElement *mixer, Link &link);
  /* Releases the retired pads that are empty (`all`: every one; their mixers are stopped). */
  void reap (bool all);
  bool start_own_mix (Participant &p);
  void stop_own_mix (Participant &p);
  /* Starts its own mix if it may be heard (not muted, gain above 0) and has none. */
  void speaks (Participant &p);

  GstElement *bin_; /* not owned: the voicecall element */
  /* The participants' decoders (voiceplayout, volume, tee), in a bin of their own: their
   * links to the sessions' webrtcbins and to the mixers cross its border without ghost pads,
   * so that the element's bin sees no loop (a participant's mix goes to its webrtcbin, whose
   * received stream goes to the others' mixes) when it orders its children for a state
   * change (GstBin warns of a loop otherwise). */
  GstPtr<GstElement> decoders_;
  GstPtr<GstElement> local_queue_, local_playout_, local_tee_;
  GstPtr<GstElement> out_mixer_, out_filter_, out_encoder_, out_pay_;
  GstPtr<GstElement> shared_mixer_, shared_filter_, shared_encoder_, shared_pay_, shared_tee_;
  Link local_to_shared_;
  GstPtr<GstPad> local_sink_, output_;
  mutable std::mutex lock_; /* participants_ (link_received reads it from any thread) */
  std::map<std::string, std::shared_ptr<Participant>> participants_;
  std::vector<std::pair<GstPtr<GstElement>, GstPtr<GstPad>>> retiring_; /* (mixer, its pad) */
};

} // namespace vc
