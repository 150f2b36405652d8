/* gst-voicecall: small helpers shared by the bins of this plugin. */
#pragma once

#include <gst/gst.h>

#include <initializer_list>

namespace vc {

/* Creates an element of `factory`, or posts an error on `owner` naming the missing plugin
 * package and returns nullptr. */
GstElement *make_element (GstElement *owner, const char *factory, const char *name);

/* Adds the elements to `bin` and links them in order; false if a link fails. */
bool add_and_link (GstBin *bin, std::initializer_list<GstElement *> chain);

/* Creates an always ghost pad named `name` for `target`'s pad `target_pad` on `bin`. */
GstPad *add_ghost_pad (GstElement *bin, const char *name, GstElement *target,
    const char *target_pad, GstPadTemplate *templ);

/* Puts `replacement` in `bin` in place of `*slot` (stopped and removed, if any), and links it
 * after `upstream` or before `downstream` (the other one nullptr); false if that link fails. */
bool swap_child (GstBin *bin, GstElement **slot, GstElement *replacement, GstElement *upstream,
    GstElement *downstream);

/* Whether `element` is `ancestor` or inside it. */
bool is_within (GstObject *element, GstObject *ancestor);

/* The outermost bin that holds `element` (the element itself if it has no parent). */
GstElement *toplevel (GstElement *element);

/* Starts `element`, a child of `bin`, on its own: locked state (the bin's state changes leave
 * it alone), the bin's clock and base time, no start time, PLAYING. For the elements of a
 * call session or a conference participant, which only the control thread starts and stops. */
void start_locked (GstElement *bin, GstElement *element);

} // namespace vc
