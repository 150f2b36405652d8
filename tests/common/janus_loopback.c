/* gst-voicecall tests: lets a test's Janus gather ICE candidates on the loopback interface.
 *
 * Janus 1.1.2 skips every interface flagged IFF_LOOPBACK when it picks the addresses to
 * gather on (src/ice.c, janus_ice_setup_local), whatever ice_enforce_list says; with none left
 * libnice then gathers on the machine's other interfaces. The tests keep all traffic on
 * 127.0.0.1, so tests/common/janus.py starts Janus with this library in LD_PRELOAD: its
 * getifaddrs () is the C library's with IFF_LOOPBACK cleared, and `ice_enforce_list = "lo"`
 * then gives Janus one host candidate, 127.0.0.1. Test use only; never installed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stddef.h>

int
getifaddrs (struct ifaddrs **ifap)
{
  static int (*real) (struct ifaddrs **) = NULL;
  if (!real)
    real = (int (*) (struct ifaddrs **)) dlsym (RTLD_NEXT, "getifaddrs");
  if (!real)
    return -1;
  int r = real (ifap);
  if (r == 0) {
    for (struct ifaddrs *i = *ifap; i; i = i->ifa_next)
      i->ifa_flags &= ~IFF_LOOPBACK;
  }
  return r;
}
