/* gst-voicecall: small helpers shared by the bins of this plugin (see binutil.h). */
#include "binutil.h"

#include "gstptr.h"

namespace vc {

GstElement *
make_element (GstElement *owner, const char *factory, const char *name)
{
  GstElement *e = gst_element_factory_make (factory, name);
  if (!e) {
    GST_ELEMENT_ERROR (owner, CORE, MISSING_PLUGIN,
        ("GStreamer element \"%s\" is missing: install the package that provides it "
            "(gst-inspect-1.0 %s; on Debian: gstreamer1.0-plugins-base, -good, -bad, "
            "gstreamer1.0-nice).", factory, factory), (nullptr));
  }
  return e;
}

bool
add_and_link (GstBin *bin, std::initializer_list<GstElement *> chain)
{
  GstElement *prev = nullptr;
  for (GstElement *e : chain) {
    gst_bin_add (bin, e);
    if (prev && !gst_element_link (prev, e)) {
      GST_ERROR_OBJECT (bin, "could not link %s to %s", GST_OBJECT_NAME (prev),
          GST_OBJECT_NAME (e));
      return false;
    }
    prev = e;
  }
  return true;
}

GstPad *
add_ghost_pad (GstElement *bin, const char *name, GstElement *target, const char *target_pad,
    GstPadTemplate *templ)
{
  GstPtr<GstPad> inner = adopt (gst_element_get_static_pad (target, target_pad));
  GstPad *ghost = gst_ghost_pad_new_from_template (name, inner.get (), templ);
  gst_pad_set_active (ghost, TRUE);
  gst_element_add_pad (bin, ghost);
  return ghost;
}

bool
swap_child (GstBin *bin, GstElement **slot, GstElement *replacement, GstElement *upstream,
    GstElement *downstream)
{
  if (*slot) {
    gst_element_set_state (*slot, GST_STATE_NULL);
    gst_bin_remove (bin, *slot);
  }
  *slot = replacement;
  gst_bin_add (bin, replacement);
  return upstream ? gst_element_link (upstream, replacement)
                  : gst_element_link (replacement, downstream);
}

bool
is_within (GstObject *element, GstObject *ancestor)
{
  return element == ancestor || gst_object_has_as_ancestor (element, ancestor);
}

GstElement *
toplevel (GstElement *element)
{
  GstElement *top = element;
  while (GstObject *parent = GST_OBJECT_PARENT (top)) {
    if (!GST_IS_ELEMENT (parent))
      break;
    top = GST_ELEMENT (parent);
  }
  return top;
}

void
start_locked (GstElement *bin, GstElement *element)
{
  gst_element_set_locked_state (element, TRUE);
  if (GstClock *clock = GST_ELEMENT_CLOCK (bin))
    gst_element_set_clock (element, clock);
  gst_element_set_base_time (element, gst_element_get_base_time (bin));
  gst_element_set_start_time (element, GST_CLOCK_TIME_NONE);
  gst_element_set_state (element, GST_STATE_PLAYING);
}

} // namespace vc
