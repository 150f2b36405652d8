/* gst-voicecall: conference mixing for voicecall mix=all (docs/design.md, "Conference mixing").
 *
 * Every participant's received RTP is decoded once, by a voiceplayout of its own (adaptive
 * jitter handling before mixing), and fanned out by a tee; our own RTP (the sink pad's) is
 * decoded once the same way. Each participant has an audiomixer of its own that mixes the
 * local source and every other participant (mix-minus: never its own voice), encoded to Opus
 * RTP for its session; one more audiomixer mixes every participant (not the local source)
 * for the element's src pad:
 *
 *   our RTP ─▶ queue ─▶ voiceplayout ─▶ tee ──────────────────┬──▶ mixer(A) ─▶ opusenc ─▶ pay ─▶ session A
 *   A's RTP ─▶ voiceplayout ─▶ volume ─▶ tee(A) ─┬─▶ mixer(B) ─┼──▶ mixer(B) ─▶ ...       ─▶ session B
 *                                                └─▶ mixer(out) ─▶ opusenc ─▶ pay ─▶ src pad
 *
 * The volume element is the participant's gain and server-side mute; a probe before it
 * measures the participant's level (what it says, whatever its gain). The local branch and
 * the callers' mix follow the element's state; a participant's elements follow its session
 * (locked state, started when added, stopped when removed).
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
  /* Every participant mixed, as RTP/Opus. */
  GstPad *output () const { return output_.get (); }

  /* A new participant: returns the pad that gives its mix (everyone but itself) as RTP/Opus,
   * nullptr if an element is missing. */
  GstPtr<GstPad> add (const std::string &id);
  /* Links the participant's received RTP (`src`) to its decoder; returns the decoder's pad,
   * nullptr if there is no such participant. Any thread. */
  GstPtr<GstPad> link_received (const std::string &id, GstPad *src);
  /* Stops the participant's mix (its session no longer takes it): its mixer and encoder
   * leave; the others still hear it (idempotent). */
  void remove_mix (const std::string &id);
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
    GstPtr<GstElement> playout, volume, tee, mixer, filter, encoder, pay;
    std::shared_ptr<Meter> meter;
    std::map<std::string, Link> feeds; /* into this participant's mixer, by source ("" = local) */
    Link to_output;                    /* its tee → the callers' mix */
    double gain = 1.0;
    bool muted = false;
  };
  bool build ();
  std::shared_ptr<Participant> find (const std::string &id) const;
  Link feed (GstElement *tee, GstElement *mixer);
  void release (GstElement *tee, GstElement *mixer, Link &link, bool tee_first);
  std::vector<GstElement *> elements (const Participant &p) const;

  GstElement *bin_; /* not owned: the voicecall element */
  GstPtr<GstElement> local_queue_, local_playout_, local_tee_;
  GstPtr<GstElement> out_mixer_, out_filter_, out_encoder_, out_pay_;
  GstPtr<GstPad> local_sink_, output_;
  mutable std::mutex lock_; /* participants_ (link_received reads it from any thread) */
  std::map<std::string, std::shared_ptr<Participant>> participants_;
};

} // namespace vc
