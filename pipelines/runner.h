/* gst-voicecall CLI: runs pipelines until they end, Ctrl-C, or a time limit. */
#pragma once

#include "gstptr.h"

#include <gst/gst.h>

#include <functional>
#include <string>
#include <vector>

namespace vc::cli {

class Runner {
public:
  Runner ();
  ~Runner ();

  /* Adds a party's pipeline (built from a gst-launch description); nullptr + message on error. */
  GstElement *add (const std::string &name, const std::string &description, std::string *error);
  /* Runs until every pipeline reached EOS, one failed, or Ctrl-C / `seconds` (0: no limit)
   * hung up (EOS sent, then a bounded wait for the files to be finalised). Returns 0 if all
   * ended well. */
  int run (double seconds);
  /* Called for every element message of a pipeline (bus messages from voicecall, level). */
  std::function<void (GstElement *pipeline, GstMessage *message)> on_element_message;
  /* After a hang-up, while this says so, element messages are awaited for up to
   * HANG_UP_MESSAGES_S after the loop stopped: a session posts its end once its webrtcbin
   * has stopped, which may come after its audio's EOS ended the pipeline. */
  std::function<bool ()> awaiting_messages;
  /* Called once every pipeline is PLAYING (or live and on its way), before the loop runs:
   * not called when one failed to start. */
  std::function<void ()> on_started;
  /* Called once a second while running. */
  std::function<void ()> on_tick;
  /* Hangs up every pipeline (sends EOS). */
  void hang_up ();
  bool failed () const { return failed_; }

private:
  static gboolean on_bus (GstBus *bus, GstMessage *message, gpointer data);
  struct Entry {
    std::string name;
    GstPtr<GstElement> pipeline;
    guint watch = 0;
    bool eos = false;
  };
  std::vector<Entry> pipelines_;
  GstPtr<GMainLoop> loop_;
  bool failed_ = false;
  bool hung_up_ = false;
  guint limit_ = 0;        /* the --seconds timer */
  guint hang_up_guard_ = 0; /* the bound on a hang-up */
};

} // namespace vc::cli
