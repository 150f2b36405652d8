/* The DTLS key of a process's first call, made ahead of time.
 *
 * GStreamer 1.22's dtls elements give every process one generated certificate, on an RSA-2048
 * key made the moment the first dtlsdec is created (1.28 moved to ECDSA P-256 for this reason).
 * Making that key took 170-700 ms here, and a caller's offer waits for it: it was most of a
 * caller's setup time. The cache keeps a few keys (three: a callee and callers started
 * together), made in the background by earlier processes, in
 * $XDG_CACHE_HOME/gst-voicecall/dtls-key*.pem (mode 0600, in a 0700 directory), and hands one
 * to OpenSSL's RSA key generation once, while this process's first dtlsdec is created.
 * GStreamer still makes the certificate itself (a new serial, name and fingerprint each time).
 *
 * A key is used by one process only (taken by renaming its file away) and is at most a day
 * old; the process that took it fills the pool up again in the background. VOICECALL_DTLS_KEY_CACHE=0
 * turns the cache off; any file that is not ours, not private, stale or unreadable is ignored
 * (and removed), never an error. */
#pragma once

#include <glib.h>

#include <atomic>
#include <string>

namespace vc {

struct DtlsKeyCacheResult {
  bool used_cached_key = false; /* the first certificate is on a key from the cache */
  bool stored_next_key = false; /* a key for a later process was written */
  std::string detail;           /* why no cached key was used, for the debug log */
};

/* Creates the process's first dtlsdec (so its certificate exists), on a cached key if one is
 * there, then stores a fresh key for the next process. Blocking (a key is made while it runs,
 * at a low priority (nice 10)): call from a background thread. dir is the cache
 * directory, empty for the default; stop_at, when set to a g_get_monotonic_time () (it may be
 * set while this runs), is when the making of keys for later processes stops (a key not ready
 * then is not stored). */
DtlsKeyCacheResult dtls_key_cache_warm_up (const std::string &dir = std::string (),
    const std::atomic<gint64> *stop_at = nullptr);

/* Asks OpenSSL not to free its global state in an atexit handler: at exit that ran while
 * other threads (GStreamer's, done with a call's DTLS) were still freeing their OpenSSL
 * thread state, and the process crashed in OPENSSL_cleanup (SIGSEGV or "double free"; about
 * 1 test process in 10 that exits right after a call's teardown). The memory goes with the
 * process anyway. Only the first OpenSSL initialisation of a process decides this, so it is
 * called before the element makes any DTLS element; a no-op if an application initialised
 * OpenSSL before. */
void openssl_without_exit_cleanup ();

/* The default cache directory ($XDG_CACHE_HOME/gst-voicecall), or empty when the cache is off. */
std::string dtls_key_cache_dir ();

}  // namespace vc
