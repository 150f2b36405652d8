/* gst-voicecall: the src pad task of an element that produces on the ticks of its clock (see
 * clocktask.h). */
#include "clocktask.h"

namespace vc {

GstClockTime
running_time_now (GstElement *element)
{
  GstClock *clock = gst_element_get_clock (element);
  if (!clock)
    return GST_CLOCK_TIME_NONE;
  const GstClockTime now = gst_clock_get_time (clock);
  gst_object_unref (clock);
  const GstClockTime base = gst_element_get_base_time (element);
  return now >= base ? now - base : 0;
}

GstStateChangeReturn
ClockTask::change_state (GstElement *element, GstStateChange transition,
    GstElementClass *parent_class, GstPad *pad, GstTaskFunction loop)
{
  switch (transition) {
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING: {
      {
        std::lock_guard<std::mutex> l (lock);
        flushing = false;
        /* After a pause, go on from now rather than catch up on the ticks missed. */
        next_tick = GST_CLOCK_TIME_NONE;
      }
      gst_pad_start_task (pad, loop, element, nullptr);
      break;
    }
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      /* The task pauses itself once its clock wait is unscheduled. It is not paused from
       * here: it may be blocked pushing into a sink that went to PAUSED first and waits for
       * preroll (as basesrc does for a live source, nothing here waits for the stream
       * lock); the sink lets it go when it plays again or goes to READY. */
      stop_waiting ();
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      stop_waiting ();
      gst_pad_stop_task (pad);
      break;
    default:
      break;
  }
  GstStateChangeReturn ret = parent_class->change_state (element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE)
    return ret;
  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      ret = GST_STATE_CHANGE_NO_PREROLL; /* live */
      break;
    default:
      break;
  }
  return ret;
}

void
ClockTask::stop_waiting ()
{
  std::lock_guard<std::mutex> l (lock);
  flushing = true;
  if (clock_id)
    gst_clock_id_unschedule (clock_id);
}

GstClock *
ClockTask::element_clock (GstElement *element, GstPad *pad, const char *no_clock)
{
  GstClock *clock = gst_element_get_clock (element);
  if (!clock) {
    GST_ELEMENT_ERROR (element, CORE, CLOCK, ("%s", no_clock), (nullptr));
    gst_pad_pause_task (pad);
  }
  return clock;
}

bool
ClockTask::ticking (GstClock *clock, GstClockTime base, GstPad *pad)
{
  if (flushing) {
    /* Paused under the lock: PLAYING again (flushing cleared, then the task started) cannot
     * come in between and be undone. */
    gst_pad_pause_task (pad);
    return false;
  }
  if (!GST_CLOCK_TIME_IS_VALID (next_tick)) {
    const GstClockTime now = gst_clock_get_time (clock);
    next_tick = now > base ? now - base : 0;
  }
  return true;
}

std::unique_lock<std::mutex>
ClockTask::wait (GstPad *pad, GstClockID id)
{
  const GstClockReturn ret = gst_clock_id_wait (id, nullptr);
  std::unique_lock<std::mutex> l (lock);
  gst_clock_id_unref (id);
  clock_id = nullptr;
  if (flushing) {
    gst_pad_pause_task (pad);
    l.unlock ();
  } else if (ret == GST_CLOCK_UNSCHEDULED) {
    /* Paused and already playing again: the next iteration waits for a tick from now. */
    l.unlock ();
  }
  return l;
}

} // namespace vc
