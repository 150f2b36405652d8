#include "dtlskeycache.h"

#include <gst/gst.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>
#include <mutex>
#include <vector>
#include <utility>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

GST_DEBUG_CATEGORY_STATIC (vc_dtls_key_debug);
#define GST_CAT_DEFAULT vc_dtls_key_debug

namespace vc {

namespace {

constexpr int kBits = 2048;          /* what GStreamer 1.22 asks for */
constexpr time_t kMaxAge = 24 * 3600;
constexpr size_t kMaxFileSize = 16 * 1024;
/* The making of keys for later processes: in the background, below the call's threads. */
constexpr int kNice = 10;
/* Keys kept ready: enough for a callee and a few callers started together. */
constexpr int kPoolSize = 3;
constexpr const char *kPrefix = "dtls-key";
constexpr const char *kSuffix = ".pem";

bool
past (const std::atomic<gint64> *stop_at)
{
  gint64 at = stop_at ? stop_at->load () : 0;
  return at > 0 && g_get_monotonic_time () >= at;
}

/* The pool's files, sorted. */
std::vector<std::string>
pool_files (const std::string &dir)
{
  std::vector<std::string> names;
  if (GDir *d = g_dir_open (dir.c_str (), 0, nullptr)) {
    while (const gchar *name = g_dir_read_name (d))
      if (g_str_has_prefix (name, kPrefix) && g_str_has_suffix (name, kSuffix))
        names.push_back (dir + "/" + name);
    g_dir_close (d);
  }
  std::sort (names.begin (), names.end ());
  return names;
}

struct PkeyFree { void operator() (EVP_PKEY *k) const { EVP_PKEY_free (k); } };
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

/* The key OpenSSL's next RSA key generation gets instead of making one. RSA_METHOD is
 * deprecated in OpenSSL 3 but is what GStreamer 1.22's RSA_generate_key_ex call goes
 * through. */
std::mutex serve_lock;
RSA *served_key = nullptr;

G_GNUC_BEGIN_IGNORE_DEPRECATIONS

int
serve_keygen (RSA *rsa, int bits, BIGNUM *e, BN_GENCB *cb)
{
  RSA *key;
  {
    std::lock_guard<std::mutex> lk (serve_lock);
    key = std::exchange (served_key, nullptr);
  }
  /* From here the key being made is a plain OpenSSL one, whatever happens below. */
  RSA_set_method (rsa, RSA_PKCS1_OpenSSL ());
  const BIGNUM *n, *ke, *d, *p, *q, *dmp1, *dmq1, *iqmp;
  if (key)
    RSA_get0_key (key, &n, &ke, &d);
  if (!key || RSA_bits (key) != bits || !e || BN_cmp (ke, e) != 0) {
    if (key)
      RSA_free (key);
    return RSA_generate_key_ex (rsa, bits, e, cb);
  }
  RSA_get0_factors (key, &p, &q);
  RSA_get0_crt_params (key, &dmp1, &dmq1, &iqmp);
  int ok = RSA_set0_key (rsa, BN_dup (n), BN_dup (ke), BN_dup (d)) &&
      RSA_set0_factors (rsa, BN_dup (p), BN_dup (q)) &&
      RSA_set0_crt_params (rsa, BN_dup (dmp1), BN_dup (dmq1), BN_dup (iqmp));
  RSA_free (key);
  return ok;
}

/* Creates the first dtlsdec with key served to the RSA generation it starts. */
bool
create_first_dtlsdec_on (EVP_PKEY *key)
{
  static RSA_METHOD *method = [] {
    RSA_METHOD *m = RSA_meth_dup (RSA_PKCS1_OpenSSL ());
    if (m)
      RSA_meth_set_keygen (m, serve_keygen);
    return m;
  } ();
  RSA *rsa = key ? EVP_PKEY_get1_RSA (key) : nullptr;
  if (!method || !rsa) {
    if (rsa)
      RSA_free (rsa);
    rsa = nullptr;
  }
  const RSA_METHOD *before = RSA_get_default_method ();
  if (rsa) {
    std::lock_guard<std::mutex> lk (serve_lock);
    served_key = rsa;
    RSA_set_default_method (method);
  }
  GstElement *dtls = gst_element_factory_make ("dtlsdec", nullptr);
  bool served = false;
  if (rsa) {
    std::lock_guard<std::mutex> lk (serve_lock);
    RSA_set_default_method (before);
    /* Still here: the process's certificate existed already, or not on RSA_new's default. */
    served = !served_key;
    if (served_key)
      RSA_free (std::exchange (served_key, nullptr));
  }
  if (!dtls)
    return false;
  bool same = false;
  if (served) {
    /* Used by the certificate, not by some other RSA generation at the same moment? */
    gchar *pem = nullptr;
    g_object_get (dtls, "pem", &pem, nullptr);
    if (BIO *bio = pem ? BIO_new_mem_buf (pem, -1) : nullptr) {
      if (X509 *cert = PEM_read_bio_X509 (bio, nullptr, nullptr, nullptr)) {
        same = EVP_PKEY_eq (X509_get0_pubkey (cert), key) == 1;
        X509_free (cert);
      }
      BIO_free (bio);
    }
    g_free (pem);
  }
  gst_object_unref (gst_object_ref_sink (dtls));
  return same;
}

G_GNUC_END_IGNORE_DEPRECATIONS

/* Takes one key file: renamed away first, so that no other process uses it too. */
Pkey
take_key_file (const std::string &path, std::string &why)
{
  std::string taken = path + "." + std::to_string (getpid ()) + ".taken";
  if (rename (path.c_str (), taken.c_str ()) != 0) {
    why = errno == ENOENT ? "no cached key" : std::string ("cannot take the key: ") +
        g_strerror (errno);
    return nullptr;
  }
  int fd = open (taken.c_str (), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  unlink (taken.c_str ());
  if (fd < 0) {
    why = std::string ("cannot open the key: ") + g_strerror (errno);
    return nullptr;
  }
  struct stat st;
  std::string pem;
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode)) {
    why = "not a file";
  } else if (st.st_uid != getuid () || (st.st_mode & 077)) {
    why = "not private to us (owner or mode)";
  } else if (st.st_mtime + kMaxAge < time (nullptr) || st.st_mtime > time (nullptr) + 60) {
    why = "older than a day";
  } else if (st.st_size <= 0 || static_cast<size_t> (st.st_size) > kMaxFileSize) {
    why = "not the size of a key";
  } else {
    pem.resize (st.st_size);
    if (read (fd, &pem[0], pem.size ()) != static_cast<ssize_t> (pem.size ())) {
      why = "short read";
      pem.clear ();
    }
  }
  close (fd);
  if (pem.empty ())
    return nullptr;
  Pkey key;
  if (BIO *bio = BIO_new_mem_buf (pem.data (), static_cast<int> (pem.size ()))) {
    key.reset (PEM_read_bio_PrivateKey (bio, nullptr, nullptr, nullptr));
    BIO_free (bio);
  }
  OPENSSL_cleanse (&pem[0], pem.size ());
  if (!key || EVP_PKEY_get_base_id (key.get ()) != EVP_PKEY_RSA ||
      EVP_PKEY_get_bits (key.get ()) != kBits) {
    why = "not an RSA-2048 private key";
    return nullptr;
  }
  return key;
}

/* Takes the first good key of the pool; the bad ones it meets are removed. */
Pkey
take_key (const std::string &dir, std::string &why)
{
  why = "no cached key";
  for (const std::string &path : pool_files (dir)) {
    std::string bad;
    if (Pkey key = take_key_file (path, bad))
      return key;
    if (bad != "no cached key")  /* not taken by another process meanwhile */
      why = bad;
  }
  return nullptr;
}

/* Makes one key for a later process, at the lowest priority, and stores it as name. */
bool
store_key (const std::string &dir, const std::string &name, const std::atomic<gint64> *stop_at,
    std::string &why)
{
  if (g_mkdir_with_parents (dir.c_str (), 0700) != 0) {
    why = std::string ("cannot make ") + dir + ": " + g_strerror (errno);
    return false;
  }
  struct stat st;
  if (lstat (dir.c_str (), &st) != 0 || !S_ISDIR (st.st_mode) || st.st_uid != getuid () ||
      (st.st_mode & 022)) {
    why = dir + " is not a directory of ours that only we can write";
    return false;
  }
  setpriority (PRIO_PROCESS, static_cast<id_t> (syscall (SYS_gettid)), kNice);
  Pkey key;
  if (EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name (nullptr, "RSA", nullptr)) {
    EVP_PKEY *made = nullptr;
    EVP_PKEY_CTX_set_app_data (ctx, const_cast<std::atomic<gint64> *> (stop_at));
    /* Called as primes are searched: 0 stops the generation past the deadline. */
    EVP_PKEY_CTX_set_cb (ctx, [] (EVP_PKEY_CTX *c) -> int {
      return past (static_cast<std::atomic<gint64> *> (EVP_PKEY_CTX_get_app_data (c))) ? 0 : 1;
    });
    if (EVP_PKEY_keygen_init (ctx) > 0 && EVP_PKEY_CTX_set_rsa_keygen_bits (ctx, kBits) > 0 &&
        EVP_PKEY_keygen (ctx, &made) > 0)
      key.reset (made);
    EVP_PKEY_CTX_free (ctx);
  }
  if (!key) {
    why = past (stop_at) ? "abandoned (past the deadline)" : "key generation failed";
    return false;
  }
  std::string path = dir + "/" + name;
  std::string tmp = dir + "/." + name + ".tmp";
  int fd = open (tmp.c_str (), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    why = std::string ("cannot write ") + tmp + ": " + g_strerror (errno);
    return false;
  }
  bool ok = false;
  if (BIO *bio = BIO_new (BIO_s_mem ())) {
    if (PEM_write_bio_PrivateKey (bio, key.get (), nullptr, nullptr, 0, nullptr, nullptr)) {
      char *data;
      long len = BIO_get_mem_data (bio, &data);
      ok = len > 0 && write (fd, data, len) == len;
    }
    BIO_free (bio);
  }
  ok = close (fd) == 0 && ok && rename (tmp.c_str (), path.c_str ()) == 0;
  if (!ok) {
    why = std::string ("cannot store the key: ") + g_strerror (errno);
    unlink (tmp.c_str ());
  }
  return ok;
}

}  // namespace

void
openssl_without_exit_cleanup ()
{
  OPENSSL_init_crypto (OPENSSL_INIT_NO_ATEXIT, nullptr);
}

std::string
dtls_key_cache_dir ()
{
  const char *off = g_getenv ("VOICECALL_DTLS_KEY_CACHE");
  if (off && g_strcmp0 (off, "0") == 0)
    return std::string ();
  gchar *dir = g_build_filename (g_get_user_cache_dir (), "gst-voicecall", nullptr);
  std::string d (dir);
  g_free (dir);
  return d;
}

DtlsKeyCacheResult
dtls_key_cache_warm_up (const std::string &dir_arg, const std::atomic<gint64> *stop_at)
{
  static std::once_flag debug_once;
  std::call_once (debug_once, [] {
    GST_DEBUG_CATEGORY_INIT (vc_dtls_key_debug, "voicecalldtlskey", 0,
        "voicecall: the DTLS key made ahead of time");
  });
  DtlsKeyCacheResult r;
  std::string dir = dir_arg.empty () ? dtls_key_cache_dir () : dir_arg;
  if (dir.empty ()) {
    r.detail = "the cache is off (VOICECALL_DTLS_KEY_CACHE=0)";
    if (GstElement *dtls = gst_element_factory_make ("dtlsdec", nullptr))
      gst_object_unref (gst_object_ref_sink (dtls));
    return r;
  }
  gint64 t0 = g_get_monotonic_time ();
  Pkey key = take_key (dir, r.detail);
  r.used_cached_key = create_first_dtlsdec_on (key.get ());
  if (key && !r.used_cached_key)
    r.detail = "the process's certificate existed already";
  GST_DEBUG ("first DTLS certificate after %.1f ms, %s", (g_get_monotonic_time () - t0) / 1e3,
      r.used_cached_key ? "on the cached key" : r.detail.c_str ());
  /* Fills the pool up again: one key a process in the steady state, more after a burst. */
  std::string why;
  for (int i = 0; i < kPoolSize && static_cast<int> (pool_files (dir).size ()) < kPoolSize; i++) {
    std::string name = std::string (kPrefix) + "-" + std::to_string (getpid ()) + "-" +
        std::to_string (i) + kSuffix;
    if (past (stop_at) || !store_key (dir, name, stop_at, why)) {
      GST_INFO ("no key stored for a later process: %s", why.c_str ());
      break;
    }
    r.stored_next_key = true;
  }
  return r;
}

}  // namespace vc
