/* gst-voicecall: a GMainContext running in a thread of its own (see contextthread.h). */
#include "contextthread.h"

#include <condition_variable>
#include <mutex>

namespace vc {

ContextThread::ContextThread (const char *name)
  : context_ (GstPtr<GMainContext>::adopt (g_main_context_new ())),
    loop_ (GstPtr<GMainLoop>::adopt (g_main_loop_new (context_.get (), FALSE)))
{
  /* The thread holds its own references, so that it may outlive this object when the last
   * owner lets go of it from inside the thread (see the destructor). */
  g_main_context_ref (context_.get ());
  g_main_loop_ref (loop_.get ());
  thread_ = g_thread_new (name, run, loop_.get ());
  /* Wait until the loop runs, so is_current () and quit are well defined. */
  std::mutex m;
  std::condition_variable cv;
  bool started = false;
  invoke ([&] {
    std::lock_guard<std::mutex> lk (m);
    started = true;
    cv.notify_one ();
  });
  std::unique_lock<std::mutex> lk (m);
  cv.wait (lk, [&] { return started; });
}

ContextThread::~ContextThread ()
{
  g_main_loop_quit (loop_.get ());
  if (g_thread_self () == thread_) {
    /* Destroyed from a function running in the thread: it ends by itself when that returns. */
    g_thread_unref (thread_);
    return;
  }
  g_thread_join (thread_);
}

gpointer
ContextThread::run (gpointer data)
{
  auto *loop = static_cast<GMainLoop *> (data);
  GMainContext *context = g_main_loop_get_context (loop);
  g_main_context_push_thread_default (context);
  g_main_loop_run (loop);
  /* What was queued after the loop stopped is destroyed, not run, with the context. */
  g_main_context_pop_thread_default (context);
  g_main_loop_unref (loop);
  g_main_context_unref (context);
  return nullptr;
}

static gboolean
call_once (gpointer data)
{
  (*static_cast<std::function<void ()> *> (data)) ();
  return G_SOURCE_REMOVE;
}

static void
free_function (gpointer data)
{
  delete static_cast<std::function<void ()> *> (data);
}

void
ContextThread::invoke (std::function<void ()> fn)
{
  if (is_current ()) {
    fn ();
    return;
  }
  g_main_context_invoke_full (context_.get (), G_PRIORITY_DEFAULT, call_once,
      new std::function<void ()> (std::move (fn)), free_function);
}

void
ContextThread::invoke_sync (std::function<void ()> fn)
{
  if (is_current ()) {
    fn ();
    return;
  }
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  invoke ([&] {
    fn ();
    std::lock_guard<std::mutex> lk (m);
    done = true;
    cv.notify_one ();
  });
  std::unique_lock<std::mutex> lk (m);
  cv.wait (lk, [&] { return done; });
}

guint
ContextThread::timeout (guint delay_ms, std::function<void ()> fn)
{
  GSource *source = g_timeout_source_new (delay_ms);
  g_source_set_callback (source, call_once, new std::function<void ()> (std::move (fn)),
      free_function);
  guint id = g_source_attach (source, context_.get ());
  g_source_unref (source);
  return id;
}

void
ContextThread::cancel (guint source_id)
{
  if (source_id == 0)
    return;
  if (GSource *s = g_main_context_find_source_by_id (context_.get (), source_id))
    g_source_destroy (s);
}

} // namespace vc
