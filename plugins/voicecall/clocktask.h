/* gst-voicecall: the src pad task of an element that produces on the ticks of its clock. */
#pragma once

#include <gst/gst.h>

#include <mutex>

namespace vc {

/* The running time of the element's clock now, or NONE without a clock. */
GstClockTime running_time_now (GstElement *element);

/* What voiceplayout and voicemixer do alike to produce on the ticks of the pipeline clock: a
 * task on the src pad, started in PLAYING, that waits on the element's clock until each buffer
 * is due and pauses itself once the element leaves PLAYING. The element's change_state hands
 * the transition on through change_state (); an iteration of its loop is arm (), wait (), then
 * its own work: what it produces, and how far next_tick goes on.
 *
 * flushing, clock_id and next_tick are guarded by the element's lock (`lock`): arm () and
 * wait () hold it where the element reads its own state with them, so that both are seen at
 * one moment. */
struct ClockTask {
  explicit ClockTask (std::mutex &element_lock) : lock (element_lock) {}

  std::mutex &lock;
  bool flushing = true;                         /* not PLAYING: the task pauses itself */
  GstClockID clock_id = nullptr;                /* the wait in progress, to unschedule */
  GstClockTime next_tick = GST_CLOCK_TIME_NONE; /* running time of the next buffer */

  /* The element's state change, from its change_state: the task (`loop (element)` on `pad`)
   * around that of `parent_class`, and the live source's NO_PREROLL. */
  GstStateChangeReturn change_state (GstElement *element, GstStateChange transition,
      GstElementClass *parent_class, GstPad *pad, GstTaskFunction loop);

  /* In the task: the clock wait for the next buffer, `ahead ()` after next_tick (now, the
   * first time). `ahead` is called under the lock, where the element reads what goes with the
   * buffer. nullptr if the task paused instead: no clock (`no_clock` is posted as the error)
   * or not PLAYING. */
  template <typename Ahead>
  GstClockID arm (GstElement *element, GstPad *pad, const char *no_clock, Ahead &&ahead)
  {
    GstClock *clock = element_clock (element, pad, no_clock);
    if (!clock)
      return nullptr;
    const GstClockTime base = gst_element_get_base_time (element);
    GstClockID id = nullptr;
    {
      std::lock_guard<std::mutex> l (lock);
      if (ticking (clock, base, pad)) {
        const GstClockTime due = base + next_tick + ahead ();
        id = clock_id = gst_clock_new_single_shot_id (clock, due);
      }
    }
    gst_object_unref (clock);
    return id;
  }

  /* In the task: waits on `id` (from arm ()). Returns the lock held if the buffer is due; not
   * held if the task paused (not PLAYING) or the wait was cut short by a pause that PLAYING
   * has undone since (nothing is due: the next iteration starts from now). */
  std::unique_lock<std::mutex> wait (GstPad *pad, GstClockID id);

private:
  /* Out of PLAYING: flushing, and the task's clock wait returns now. */
  void stop_waiting ();
  /* The element's clock (a reference), or nullptr: the error posted, the task paused. */
  GstClock *element_clock (GstElement *element, GstPad *pad, const char *no_clock);
  /* Under the lock: false (the task paused) if not PLAYING; next_tick is set if it was not. */
  bool ticking (GstClock *clock, GstClockTime base, GstPad *pad);
};

} // namespace vc
