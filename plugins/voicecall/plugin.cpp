/* gst-voicecall: the voicecall plugin (registration only). */
#include "gstvoicecall.h"
#include "gstvoicecapturebin.h"
#include "gstvoicemixer.h"
#include "gstvoiceplaybackbin.h"
#include "gstvoiceplayout.h"

static gboolean
plugin_init (GstPlugin *plugin)
{
  gboolean ok = FALSE;
  ok |= GST_ELEMENT_REGISTER (voicecapturebin, plugin);
  ok |= GST_ELEMENT_REGISTER (voiceplaybackbin, plugin);
  ok |= GST_ELEMENT_REGISTER (voicecall, plugin);
  ok |= GST_ELEMENT_REGISTER (voiceplayout, plugin);
  ok |= GST_ELEMENT_REGISTER (voicemixer, plugin);
  return ok;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, voicecall,
    "Two-way WebRTC voice calls: capture, call and playback bins", plugin_init, VERSION,
    GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
