/* gst-voicecall lab: what the lab's command-line tools (impair, udpprobe) share. */
#pragma once

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <type_traits>

namespace lab {

/* Set by SIGINT/SIGTERM once install_stop_signals () ran: the tool finishes cleanly. */
inline volatile sig_atomic_t stop_requested = 0;

inline void
install_stop_signals ()
{
  struct sigaction sa = {};
  sa.sa_handler = [] (int) { stop_requested = 1; };
  sigaction (SIGINT, &sa, nullptr);
  sigaction (SIGTERM, &sa, nullptr);
}

/* CLOCK_MONOTONIC in ns: network namespaces share it, so one-way delays can be measured. */
inline int64_t
now_ns ()
{
  timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t> (ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

/* Parses option `name`'s value `text` as a number in [min, max] (their type follows `out`);
 * prints why not. */
template <typename T>
bool
parse_number (const char *tool, const char *name, const char *text,
    typename std::common_type<T>::type min, typename std::common_type<T>::type max, T &out)
{
  char *end = nullptr;
  errno = 0;
  T v;
  if constexpr (std::is_integral_v<T>)
    v = static_cast<T> (std::strtol (text, &end, 10));
  else
    v = static_cast<T> (std::strtod (text, &end));
  if (errno || end == text || *end || v < min || v > max) {
    if constexpr (std::is_integral_v<T>)
      std::fprintf (stderr, "%s: %s must be a number in [%ld, %ld], got '%s'\n", tool, name,
          static_cast<long> (min), static_cast<long> (max), text);
    else
      std::fprintf (stderr, "%s: %s must be a number in [%g, %g], got '%s'\n", tool, name,
          static_cast<double> (min), static_cast<double> (max), text);
    return false;
  }
  out = v;
  return true;
}

} // namespace lab
