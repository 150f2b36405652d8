/* gst-voicecall tests: one party of a call in a pipeline of its own, sending a tone and
 * recording what it hears. */
#pragma once

#include "gstptr.h"
#include "tone.h"

#include <gst/gst.h>

#include <mutex>
#include <string>
#include <vector>

namespace vc::test {

struct Party {
  std::string name;
  GstPtr<GstElement> pipeline;
  GstElement *call = nullptr;    /* the voicecall element */
  GstElement *capture = nullptr; /* the voicecapturebin */
  std::mutex lock;
  std::vector<float> received;   /* mono, 48 kHz */
  gint64 first_audio_us = 0;     /* monotonic time of the first decoded buffer */
  gint64 playing_us = 0;         /* monotonic time PLAYING was requested */

  /* `call_props`: extra voicecall properties in gst-launch syntax. */
  Party (const std::string &name, int freq, const std::string &call_props = "");
  ~Party ();
  void play ();
  /* Waits (iterating the default main context) until `seconds` of audio were received or
   * `timeout_s` passed; returns whether the audio came. Fails fast on an ERROR message. */
  bool wait_audio (double seconds, double timeout_s, std::string *error);
  double dominant_frequency ();
  /* The first ERROR message on the bus, or "" (does not wait). */
  std::string bus_error ();
};

/* Keeps a copy of every element message posted on a party's bus (Party's own polling drops
 * what it does not look for); `read` is for readers that take them in order. Declare it
 * before the parties: their buses post into it until they are gone. */
struct MessageLog {
  std::mutex lock;
  std::vector<GstPtr<GstMessage>> messages;
  size_t read = 0;
};
void watch_messages (Party &p, MessageLog *log);

/* Connects two parties with an in-process signaller pair: `a` calls, `b` answers. */
void pair (Party &a, Party &b);

} // namespace vc::test
