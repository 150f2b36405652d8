/* gst-voicecall: the life of a signaller that runs in a thread of its own (see
 * signallerruntime.h). */
#include "signallerruntime.h"

#include "httputil.h"

namespace vc {

SignallerRuntime::~SignallerRuntime ()
{
  thread_.reset ();
}

ContextThread *
SignallerRuntime::thread ()
{
  std::lock_guard<std::mutex> lk (lock_);
  return thread_.get ();
}

bool
SignallerRuntime::start (const std::function<bool ()> &open)
{
  ContextThread *t;
  {
    std::lock_guard<std::mutex> lk (lock_);
    if (!thread_)
      thread_ = std::make_unique<ContextThread> (thread_name_.c_str ());
    t = thread_.get ();
  }
  bool ok = true;
  t->invoke_sync ([&] {
    if (running_)
      return;
    generation_++;
    running_ = true;
    ok = open ();
    if (!ok)
      running_ = false;
  });
  return ok;
}

void
SignallerRuntime::stop (const std::function<void ()> &teardown)
{
  ContextThread *t = thread ();
  if (!t)
    return;
  t->invoke_sync ([&] {
    if (!running_)
      return;
    running_ = false;
    teardown ();
  });
}

bool
SignallerRuntime::call (std::function<void ()> fn)
{
  ContextThread *t = thread ();
  if (!t)
    return false;
  t->invoke ([this, fn = std::move (fn)] {
    if (running_)
      fn ();
  });
  return true;
}

void
SignallerRuntime::defer (std::function<void ()> fn)
{
  guint64 generation = generation_;
  thread_->timeout (0, [this, generation, fn = std::move (fn)] {
    if (running_ && generation_ == generation)
      fn ();
  });
}

bool
SignallerRuntime::drain (const std::function<bool ()> &done, guint timeout_ms)
{
  return http::iterate_until (thread_->context (), done, timeout_ms);
}

void
SignallerRuntime::finalize (GObject *owner, const std::function<void ()> &stop)
{
  if (!thread ())
    return;
  stop ();
  if (thread_->is_current ()) {
    g_critical ("the last reference to %s was dropped in its own signal handler: leaking "
        "its thread", G_OBJECT_TYPE_NAME (owner));
    (void) thread_.release ();
  }
  thread_.reset ();   /* joins; what is still queued finds running () false */
}

} // namespace vc
