/* gst-voicecall: conference mixing for voicecall mix=all (docs/design.md, "Conference mixing").
 *
 * One voicemixer element does all of it, in one thread (gstvoicemixer.cpp): every
 * participant's received RTP is decoded once (its pad sink_N), our own RTP too (local), and
 * every 20 ms everything is mixed. The full mix (the local source and every participant) is
 * encoded once and goes to every participant who is not speaking; a participant who speaks
 * (or spoke within the last second) gets a mix without itself (mix-minus), encoded for it
 * alone (own-mix). The mixer's src pad carries every participant (not the local source):
 *
 *   our RTP ───────────────▶ local  ┐
 *   A's RTP (A's webrtcbin) ▶ sink_0 ├ voicemixer ─ src ─▶ queue ─▶ the element's src pad
 *   B's RTP (B's webrtcbin) ▶ sink_1 ┘    ├─ src_0 ─▶ A's webrtcbin (the shared encode or its own)
 *                                         └─ src_1 ─▶ B's webrtcbin
 *
 * The received RTP reaches sink_N past webrtcbin's jitter buffer (link_received), and src_N
 * feeds webrtcbin without a queue (the host's queue_input): the mixer's thread does the
 * sending.
 *
 * Each src_N is an RTP stream of its own (one SSRC, consecutive sequence numbers, continuous
 * timestamps) whichever encode it carries. A participant's gain and server-side mute are
 * properties of its pads; its level is measured on what it says (before them). The mixer
 * follows the element's state; a participant's pads come and go with its session.
 *
 * Control thread, but for link_received (any thread).
 */
#pragma once

#include "gstptr.h"

#include <gst/gst.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace vc {

class Conference {
public:
  /* Builds the mixer in `bin`. nullptr if an element is missing (an error was posted on
   * `bin`). */
  static std::unique_ptr<Conference> create (GstElement *bin);
  /* Removes every participant and the mixer from the bin (which is in READY or NULL). */
  ~Conference ();
  Conference (const Conference &) = delete;
  Conference &operator= (const Conference &) = delete;

  /* The local input: link a pad that carries our RTP/Opus to it. */
  GstPad *local_sink () const { return local_sink_.get (); }
  /* Every participant mixed (not the local source), as RTP/Opus. */
  GstPad *output () const { return output_.get (); }

  /* A new participant: returns the pad that gives its mix (everyone but itself) as RTP/Opus,
   * nullptr if it exists. */
  GstPtr<GstPad> add (const std::string &id);
  /* Links the participant's received RTP (`src`, a webrtcbin's pad) to its input; returns
   * the mixer's pad, nullptr if there is no such participant. From then on its packets go to
   * the mixer straight from webrtcbin's receive thread, past webrtcbin's jitter buffer (the
   * mixer's playout is one), but while `held` () says the session is on hold: then they go
   * the long way, through the session's hold (silence). Any thread. */
  GstPtr<GstPad> link_received (const std::string &id, GstPad *src,
      std::function<bool ()> held = nullptr);
  /* Stops what the participant's session gets (it no longer takes it); the others still
   * hear it (idempotent). */
  void remove_send (const std::string &id);
  /* Removes the participant's pads (idempotent). */
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

private:
  explicit Conference (GstElement *bin) : bin_ (bin) {}
  struct Participant {
    std::string id;
    guint index = 0;
    GstPtr<GstPad> src, sink; /* the mixer's src_N (what its session gets) and sink_N */
    GstPtr<GstPad> ghost;     /* src_N on the mixer's bin, which its session links */
    double gain = 1.0;
    bool muted = false;
    bool own_mix = true; /* it starts as a speaker (the mixer's default) */
    gint64 heard_us = 0; /* when it was last speaking */
  };
  bool build ();
  std::shared_ptr<Participant> find (const std::string &id) const;
  std::vector<std::shared_ptr<Participant>> all () const;
  /* A property of the participant, on whichever of its pads is there. */
  void set_property (Participant &p, const char *name, bool value);
  void set_own_mix (Participant &p, bool own);
  /* Gives it its own mix if it may be heard (not muted, gain above 0). */
  void speaks (Participant &p);

  GstElement *bin_; /* not owned: the voicecall element */
  /* The mixer, in a bin of its own: its participants' pads link to the sessions'
   * webrtcbins both ways, and the element's bin would see a loop (and warn) when it orders
   * its children for a state change. The sessions link to ghost pads of this bin; a
   * webrtcbin's stream links to the mixer's pad across the border (no ghost pad), which
   * hides the loop. */
  GstPtr<GstElement> mixbin_, mixer_, out_queue_;
  GstPtr<GstPad> local_sink_, output_;
  mutable std::mutex lock_; /* participants_ (link_received reads it from any thread) */
  std::map<std::string, std::shared_ptr<Participant>> participants_;
  guint next_index_ = 0;
};

} // namespace vc
