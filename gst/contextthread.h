/* gst-voicecall: a GMainContext running in a thread of its own.
 *
 * Signallers do their network I/O and their signal emission here, so that neither the
 * application's main loop nor webrtcbin's streaming threads are needed or blocked:
 *
 *   vc::ContextThread loop ("voicecall-http");
 *   loop.invoke ([this] { ... runs in the thread ... });
 *   loop.context ();  // for soup_server_attach / g_source_attach / push_thread_default
 *
 * The destructor quits the loop and joins the thread; invoke() from the thread itself runs
 * the function at once.
 */
#pragma once

#include "gstptr.h"

#include <functional>
#include <string>

namespace vc {

class ContextThread {
public:
  explicit ContextThread (const char *name);
  ~ContextThread ();
  ContextThread (const ContextThread &) = delete;
  ContextThread &operator= (const ContextThread &) = delete;

  GMainContext *context () const { return context_.get (); }
  bool is_current () const { return g_main_context_is_owner (context_.get ()); }

  /* Runs fn in the thread (at once when called from it). */
  void invoke (std::function<void ()> fn);
  /* Runs fn in the thread and waits for it to return (at once when called from it). */
  void invoke_sync (std::function<void ()> fn);
  /* Runs fn in the thread after delay_ms; returns the source id (for cancel ()). */
  guint timeout (guint delay_ms, std::function<void ()> fn);
  void cancel (guint source_id);

private:
  static gpointer run (gpointer data);

  GstPtr<GMainContext> context_;
  GstPtr<GMainLoop> loop_;
  GThread *thread_ = nullptr;
};

} // namespace vc
