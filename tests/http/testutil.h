/* gst-voicecall HTTP tests: tiny assertion helpers.
 *
 * g_assert_cmpstr keeps its arguments as const char * past the end of the statement that
 * computed them, so `g_assert_cmpstr (f ().c_str (), ==, …)` compares freed memory.
 * vc_assert_cmpstr copies both sides into std::strings first.
 */
#pragma once

#include <glib.h>

#include <string>

inline std::string
vc_str (const char *s)
{
  return s ? s : "(null)";
}
inline std::string
vc_str (const std::string &s)
{
  return s;
}

#define vc_assert_cmpstr(a, cmp, b)                                                     \
  do {                                                                                  \
    const std::string vc_a_ = vc_str (a);                                               \
    const std::string vc_b_ = vc_str (b);                                               \
    g_assert_cmpstr (vc_a_.c_str (), cmp, vc_b_.c_str ());                              \
  } while (0)

inline int
count (const std::string &hay, const std::string &needle)
{
  int n = 0;
  for (size_t p = hay.find (needle); p != std::string::npos; p = hay.find (needle, p + 1))
    n++;
  return n;
}

inline std::string
lower (const std::string &s)
{
  gchar *l = g_ascii_strdown (s.c_str (), -1);
  std::string out (l);
  g_free (l);
  return out;
}
