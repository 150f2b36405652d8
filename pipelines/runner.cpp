/* gst-voicecall CLI: runs pipelines until they end (see runner.h). */
#include "runner.h"

#include <glib-unix.h>

#include <cstdio>
#include <utility>

namespace vc::cli {

constexpr gint64 HANG_UP_MESSAGES_S = 2;

Runner::Runner () : loop_ (adopt (g_main_loop_new (nullptr, FALSE))) {}

Runner::~Runner ()
{
  for (auto &e : pipelines_) {
    gst_element_set_state (e.pipeline.get (), GST_STATE_NULL);
    if (e.watch)
      g_source_remove (e.watch);
  }
}

GstElement *
Runner::add (const std::string &name, const std::string &description, std::string *error)
{
  GUnique<GError> err;
  GstElement *p = gst_parse_launch (description.c_str (), vc::out (err));
  if (!p || err) {
    *error = "cannot build the " + name + " pipeline: " + (err ? err->message : "unknown error");
    if (p)
      gst_object_unref (p);
    return nullptr;
  }
  Entry e;
  e.name = name;
  e.pipeline = ref_sink (p);
  GstPtr<GstBus> bus = adopt (gst_element_get_bus (p));
  e.watch = gst_bus_add_watch (bus.get (), on_bus, this);
  pipelines_.push_back (std::move (e));
  return p;
}

gboolean
Runner::on_bus (GstBus *bus, GstMessage *message, gpointer data)
{
  auto *self = static_cast<Runner *> (data);
  Entry *entry = nullptr;
  for (auto &e : self->pipelines_)
    if (gst_object_has_as_ancestor (GST_MESSAGE_SRC (message), GST_OBJECT (e.pipeline.get ())) ||
        GST_MESSAGE_SRC (message) == GST_OBJECT (e.pipeline.get ()))
      entry = &e;
  if (!entry)
    return G_SOURCE_CONTINUE;

  switch (GST_MESSAGE_TYPE (message)) {
    case GST_MESSAGE_ERROR: {
      GError *e = nullptr;
      gchar *debug = nullptr;
      gst_message_parse_error (message, &e, &debug);
      GUnique<GError> err (e);
      GUnique<gchar> dbg (debug);
      fprintf (stderr, "\n%s: error: %s\n", entry->name.c_str (), err->message);
      if (g_getenv ("VOICECALL_DEBUG") && dbg)
        fprintf (stderr, "  (%s)\n", dbg.get ());
      self->failed_ = true;
      g_main_loop_quit (self->loop_.get ());
      break;
    }
    case GST_MESSAGE_WARNING: {
      GError *e = nullptr;
      gst_message_parse_warning (message, &e, nullptr);
      GUnique<GError> err (e);
      fprintf (stderr, "\n%s: warning: %s\n", entry->name.c_str (), err->message);
      break;
    }
    case GST_MESSAGE_EOS: {
      entry->eos = true;
      bool all = true;
      for (auto &e : self->pipelines_)
        all = all && e.eos;
      if (all)
        g_main_loop_quit (self->loop_.get ());
      break;
    }
    case GST_MESSAGE_ELEMENT:
      if (self->on_element_message)
        self->on_element_message (entry->pipeline.get (), message);
      break;
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

void
Runner::hang_up ()
{
  if (hung_up_)
    return;
  hung_up_ = true;
  for (auto &e : pipelines_)
    gst_element_send_event (e.pipeline.get (), gst_event_new_eos ());
  /* Files are finalised within a second; do not wait for ever on a stuck pipeline. */
  hang_up_guard_ = g_timeout_add_seconds (5, [] (gpointer data) -> gboolean {
    auto *self = static_cast<Runner *> (data);
    self->hang_up_guard_ = 0;
    fprintf (stderr, "\nhang-up did not finish within 5 s: stopping\n");
    self->failed_ = true;
    g_main_loop_quit (self->loop_.get ());
    return G_SOURCE_REMOVE;
  }, this);
}

int
Runner::run (double seconds)
{
  for (auto &e : pipelines_) {
    if (gst_element_set_state (e.pipeline.get (), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
      /* The error message on the bus says why. */
      failed_ = true;
    }
  }
  if (!failed_ && on_started)
    on_started ();
  guint sigint = g_unix_signal_add (SIGINT, [] (gpointer data) -> gboolean {
    fprintf (stderr, "\nhanging up\n");
    static_cast<Runner *> (data)->hang_up ();
    return G_SOURCE_CONTINUE;
  }, this);
  guint sigterm = g_unix_signal_add (SIGTERM, [] (gpointer data) -> gboolean {
    static_cast<Runner *> (data)->hang_up ();
    return G_SOURCE_CONTINUE;
  }, this);
  if (seconds > 0)
    limit_ = g_timeout_add (static_cast<guint> (seconds * 1000), [] (gpointer data) -> gboolean {
      auto *self = static_cast<Runner *> (data);
      self->limit_ = 0;
      self->hang_up ();
      return G_SOURCE_REMOVE;
    }, this);
  guint tick = g_timeout_add_seconds (1, [] (gpointer data) -> gboolean {
    auto *self = static_cast<Runner *> (data);
    if (self->on_tick)
      self->on_tick ();
    return G_SOURCE_CONTINUE;
  }, this);

  /* A failure before the loop (e.g. a bad source) is on the bus already. */
  g_main_loop_run (loop_.get ());

  /* Element messages already posted when the loop stopped (a session's end that came with
   * the error that stopped us) still count, and after a hang-up those still awaited (see
   * awaiting_messages). */
  if (on_element_message)
    for (auto &e : pipelines_) {
      GstPtr<GstBus> bus = adopt (gst_element_get_bus (e.pipeline.get ()));
      const gint64 until = g_get_monotonic_time () + HANG_UP_MESSAGES_S * G_USEC_PER_SEC;
      for (;;) {
        GstMessage *m = gst_bus_pop_filtered (bus.get (), GST_MESSAGE_ELEMENT);
        if (!m && hung_up_ && awaiting_messages && awaiting_messages ()) {
          const gint64 left = until - g_get_monotonic_time ();
          if (left > 0)
            m = gst_bus_timed_pop_filtered (bus.get (), left * GST_USECOND, GST_MESSAGE_ELEMENT);
        }
        if (!m)
          break;
        on_element_message (e.pipeline.get (), m);
        gst_message_unref (m);
      }
    }

  g_source_remove (sigint);
  g_source_remove (sigterm);
  g_source_remove (tick);
  for (guint *id : {&limit_, &hang_up_guard_})
    if (*id)
      g_source_remove (std::exchange (*id, 0));
  for (auto &e : pipelines_)
    gst_element_set_state (e.pipeline.get (), GST_STATE_NULL);
  return failed_ ? 1 : 0;
}

} // namespace vc::cli
