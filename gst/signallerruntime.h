/* gst-voicecall: the life of a signaller that runs in a thread of its own.
 *
 * The HTTP client and server signallers do their I/O and emit their signals in a
 * vc::ContextThread. What they share around it lives here, once:
 *
 *   - the thread, made by the first start () and joined when the signaller is finalized
 *     (with a critical, and the thread leaked, if that happens in the thread itself);
 *   - running () and a generation per start (), so that work queued by one run is dropped
 *     once it stopped, or once another run began;
 *   - defer (): emit a signal later, from the main loop rather than from inside a libsoup
 *     callback, and not at all after stop ();
 *   - call (): what a vfunc does, marshalled into the thread and dropped when not running;
 *   - stop (): the signaller's teardown in the thread, with running () already false, and
 *     drain () to let the replies it causes leave before it returns.
 *
 *   struct Priv { vc::SignallerRuntime rt {"voicecall-http"}; ... };
 *   start:    ok = priv->rt.start ([&] { ...open...; return opened; });
 *   vfunc:    if (!priv->rt.call ([=] { ... })) GST_WARNING_OBJECT (self, "not started");
 *   signal:   priv->rt.defer ([=] { gst_voice_signaller_emit_...; });
 *   stop:     priv->rt.stop ([&] { ...close...; priv->rt.drain (done, ms); });
 *   finalize: priv->rt.finalize (object, [&] { my_stop (self); }); delete priv;
 *
 * Like gst-plugins-bad's GstCudaIpcServer, the base owns run / stop and the thread; the
 * signallers only do their I/O.
 */
#pragma once

#include "contextthread.h"

#include <glib-object.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace vc {

class SignallerRuntime {
public:
  explicit SignallerRuntime (const char *thread_name) : thread_name_ (thread_name) {}
  ~SignallerRuntime ();
  SignallerRuntime (const SignallerRuntime &) = delete;
  SignallerRuntime &operator= (const SignallerRuntime &) = delete;

  /* Any thread. Makes the thread if needed, then runs `open` in it and waits. running () is
   * already true (a new generation) while `open` runs; if it returns false, it is false
   * again and whatever `open` deferred is dropped. Running already: nothing, true. */
  bool start (const std::function<bool ()> &open);

  /* Any thread. If running: running () becomes false, then `teardown` runs in the thread;
   * returns when it did. */
  void stop (const std::function<void ()> &teardown);

  /* Any thread (a vfunc): runs `fn` in the thread (at once from it) if running then.
   * False if there never was a start (), and fn is dropped. */
  bool call (std::function<void ()> fn);

  /* The thread. Runs `fn` from the main loop, outside the current callback, if this run is
   * still going then (not stopped, not restarted). */
  void defer (std::function<void ()> fn);

  /* The thread. */
  bool running () const { return running_; }
  guint timeout (guint delay_ms, std::function<void ()> fn) { return thread_->timeout (delay_ms, std::move (fn)); }
  void cancel (guint source_id) { thread_->cancel (source_id); }
  GMainContext *context () const { return thread_->context (); }
  /* Iterates the thread's context until done () or timeout_ms passed (in stop's teardown:
   * lets the replies leave). Returns done (). */
  bool drain (const std::function<bool ()> &done, guint timeout_ms);

  /* From the owner's finalize: if it was ever started, runs `stop` (its stop vfunc) and
   * joins the thread. Dropping the last reference from inside the thread (one of its signal
   * handlers) cannot join it: then the thread is leaked, with a critical. */
  void finalize (GObject *owner, const std::function<void ()> &stop);

private:
  ContextThread *thread ();

  std::string thread_name_;
  std::mutex lock_;                         /* thread_ itself */
  std::unique_ptr<ContextThread> thread_;
  /* ---- thread ---- */
  bool running_ = false;
  guint64 generation_ = 0;
};

} // namespace vc
