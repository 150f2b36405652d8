/* gst-voicecall CLI: the subcommands and what they share. */
#pragma once

#include "gstptr.h"

#include <string>

namespace vc::cli {

int demo (int argc, char **argv);
int analyze (int argc, char **argv);
int score (int argc, char **argv);
int serve (int argc, char **argv);
int call (int argc, char **argv);
int join (int argc, char **argv);

/* Initialises GStreamer and makes sure this build's plugin is found. */
bool init (int *argc, char ***argv);

/* A gst-launch description of the audio source / sink for a --source / --sink value
 * ("mic", "tone:440", "wav:FILE" or a path ending in .wav; "speakers", "wav:FILE", "none").
 * Returns "" and sets *error for a value it does not understand. */
std::string source_description (const std::string &spec, std::string *error);
std::string sink_description (const std::string &spec, std::string *error);

/* A party: voicecapturebin ! voicecall ! voiceplaybackbin. */
std::string party_description (const std::string &source, const std::string &sink,
    const std::string &call_properties, bool noise_suppression);

/* Quotes a value for a gst-launch description. */
std::string quote (const std::string &value);

/* Prints the dominant frequency of a WAV; returns it (0 on failure). */
double report_frequency (const std::string &label, const std::string &path);

} // namespace vc::cli
