/* An application's own GstVoiceSignaller, built against the installed headers and
 * gstreamer-voicecall-1.0.pc, set on the installed voicecall element. It works only if the
 * application and the plugin share one registration of the interface's GType (one shared
 * core library): the element must take the object and call its start () and stop (). */
#include <gst/voicecall/signaller.h>

typedef struct { GObject parent; gboolean started, stopped; } MySignaller;
typedef struct { GObjectClass parent_class; } MySignallerClass;
static void my_signaller_iface_init (GstVoiceSignallerInterface *iface);
G_DEFINE_TYPE_WITH_CODE (MySignaller, my_signaller, G_TYPE_OBJECT,
    G_IMPLEMENT_INTERFACE (GST_TYPE_VOICE_SIGNALLER, my_signaller_iface_init))

static gboolean my_start (GstVoiceSignaller *s, GError **error) { ((MySignaller *) s)->started = TRUE; return TRUE; }
static void my_stop (GstVoiceSignaller *s) { ((MySignaller *) s)->stopped = TRUE; }
static void my_send_sdp (GstVoiceSignaller *s, const gchar *id, const GstWebRTCSessionDescription *sdp) {}
static void my_add_ice (GstVoiceSignaller *s, const gchar *id, guint mline, const gchar *candidate) {}
static void my_end_session (GstVoiceSignaller *s, const gchar *id, const gchar *reason) {}
static void my_signaller_iface_init (GstVoiceSignallerInterface *iface)
{
  iface->start = my_start;
  iface->stop = my_stop;
  iface->send_sdp = my_send_sdp;
  iface->add_ice = my_add_ice;
  iface->end_session = my_end_session;
}
static void my_signaller_class_init (MySignallerClass *klass) {}
static void my_signaller_init (MySignaller *self) {}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  GstElement *pipeline = gst_parse_launch ("voicecapturebin source=\"audiotestsrc is-live=true\" "
      "! voicecall name=call ! fakesink", NULL);
  if (!pipeline) { g_printerr ("FAIL: no voicecall elements\n"); return 1; }
  GstElement *call = gst_bin_get_by_name (GST_BIN (pipeline), "call");
  MySignaller *mine = g_object_new (my_signaller_get_type (), NULL);
  g_object_set (call, "signaller", mine, NULL);
  GObject *got = NULL;
  g_object_get (call, "signaller", &got, NULL);
  if (got != G_OBJECT (mine)) { g_printerr ("FAIL: voicecall did not take our signaller\n"); return 1; }
  g_object_unref (got);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  gst_element_get_state (pipeline, NULL, NULL, 10 * GST_SECOND);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gboolean ok = mine->started && mine->stopped;
  g_print ("%s: the element %s our signaller and %s it\n", ok ? "OK" : "FAIL",
      mine->started ? "started" : "did not start", mine->stopped ? "stopped" : "did not stop");
  gst_object_unref (call);
  gst_object_unref (pipeline);
  g_object_unref (mine);
  return ok ? 0 : 1;
}
