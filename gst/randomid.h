/* gst-voicecall: unguessable identifiers (session ids, resource URLs, ETags).
 *
 * Session ids end up in WHIP resource URLs ("/call/<id>"): whoever knows one can PATCH or
 * DELETE that call, so they must come from a cryptographically secure generator.
 *
 * GLib's g_random_*() and g_uuid_string_random() are not one: both draw from the global
 * GRand, a Mersenne Twister whose whole state can be recovered from 624 consecutive outputs,
 * after which every later id is predictable. These helpers read the kernel's CSPRNG with
 * getrandom(2) (ChaCha20-based; it blocks only until the pool is first seeded at boot) and
 * fall back to /dev/urandom where the syscall is missing.
 */
#pragma once

#include <cstddef>
#include <string>

namespace vc {

/* Fills buf with `len` bytes from the kernel CSPRNG. Aborts if the kernel gives none: an id
 * that is not random must never be handed out. */
void random_bytes (void *buf, size_t len);

/* `nbytes` random bytes as lowercase hex (2 * nbytes characters). 16 bytes = 128 bits. */
std::string random_hex (size_t nbytes = 16);

} // namespace vc
