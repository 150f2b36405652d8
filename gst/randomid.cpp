/* gst-voicecall: unguessable identifiers (see randomid.h). */
#include "randomid.h"

#include <glib.h>

#include <cerrno>
#include <cstdio>
#include <sys/random.h>

namespace vc {

static bool
read_urandom (guint8 *p, size_t len)
{
  FILE *f = fopen ("/dev/urandom", "rbe");
  if (!f)
    return false;
  size_t got = fread (p, 1, len, f);
  fclose (f);
  return got == len;
}

void
random_bytes (void *buf, size_t len)
{
  auto *p = static_cast<guint8 *> (buf);
  size_t done = 0;
  while (done < len) {
    ssize_t n = getrandom (p + done, len - done, 0);
    if (n > 0) {
      done += static_cast<size_t> (n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      if (read_urandom (p + done, len - done))
        return;
      g_error ("no random bytes from getrandom() or /dev/urandom: cannot make an unguessable id");
    }
  }
}

std::string
random_hex (size_t nbytes)
{
  static const char digits[] = "0123456789abcdef";
  std::string bytes (nbytes, '\0');
  random_bytes (bytes.data (), nbytes);
  std::string out;
  out.reserve (nbytes * 2);
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 0xf];
  }
  return out;
}

} // namespace vc
