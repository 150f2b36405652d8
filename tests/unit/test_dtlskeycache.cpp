/* gst-voicecall: the DTLS key made ahead of time (plugins/voicecall/dtlskeycache.h).
 *
 * Only a process's first dtlsdec makes the certificate, so every warm-up runs in a child
 * process of its own (fork); the child sends back what the warm-up said and the public key of
 * the certificate GStreamer made, which the test compares with the key file it wrote or
 * found. */
#include "dtlskeycache.h"

#include <gst/check/gstcheck.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <set>
#include <string>

namespace {

struct Child {
  bool used = false, stored = false;
  std::string cert_key; /* the certificate's public key, PEM */
  std::string detail;
};

std::string
public_pem (EVP_PKEY *key)
{
  std::string out;
  BIO *bio = BIO_new (BIO_s_mem ());
  if (key && PEM_write_bio_PUBKEY (bio, key)) {
    char *data;
    long len = BIO_get_mem_data (bio, &data);
    out.assign (data, len);
  }
  BIO_free (bio);
  return out;
}

/* The public key of a PEM file's private key, or "" if it has none. */
std::string
file_public_key (const std::string &path)
{
  gchar *text = nullptr;
  if (!g_file_get_contents (path.c_str (), &text, nullptr, nullptr))
    return std::string ();
  BIO *bio = BIO_new_mem_buf (text, -1);
  EVP_PKEY *key = PEM_read_bio_PrivateKey (bio, nullptr, nullptr, nullptr);
  BIO_free (bio);
  g_free (text);
  std::string out = public_pem (key);
  EVP_PKEY_free (key);
  return out;
}

/* In a fresh child process: the warm-up, then the public key of the process's certificate. */
Child
warm_up_in_child (const std::string &dir, bool abandon = false)
{
  int fds[2];
  fail_unless (pipe (fds) == 0);
  pid_t pid = fork ();
  fail_unless (pid >= 0);
  if (pid == 0) {
    close (fds[0]);
    std::atomic<gint64> stop_at {abandon ? 1 : 0};
    vc::DtlsKeyCacheResult r = vc::dtls_key_cache_warm_up (dir, &stop_at);
    std::string cert_key;
    GstElement *dtls = gst_element_factory_make ("dtlsdec", nullptr);
    gchar *pem = nullptr;
    if (dtls)
      g_object_get (dtls, "pem", &pem, nullptr);
    if (pem) {
      BIO *bio = BIO_new_mem_buf (pem, -1);
      if (X509 *cert = PEM_read_bio_X509 (bio, nullptr, nullptr, nullptr)) {
        cert_key = public_pem (X509_get0_pubkey (cert));
        X509_free (cert);
      }
      BIO_free (bio);
    }
    std::string msg = std::string (r.used_cached_key ? "1" : "0") +
        (r.stored_next_key ? "1" : "0") + r.detail + "\n" + cert_key;
    ssize_t n = write (fds[1], msg.data (), msg.size ());
    _exit (n == static_cast<ssize_t> (msg.size ()) && !cert_key.empty () ? 0 : 1);
  }
  close (fds[1]);
  std::string msg;
  char buf[4096];
  ssize_t n;
  while ((n = read (fds[0], buf, sizeof buf)) > 0)
    msg.append (buf, n);
  close (fds[0]);
  int status = 0;
  fail_unless (waitpid (pid, &status, 0) == pid);
  fail_unless (WIFEXITED (status) && WEXITSTATUS (status) == 0,
      "the child found no certificate (status %d): %s", status, msg.c_str ());
  Child c;
  size_t nl = msg.find ('\n');
  fail_unless (msg.size () >= 2 && nl != std::string::npos);
  c.used = msg[0] == '1';
  c.stored = msg[1] == '1';
  c.detail = msg.substr (2, nl - 2);
  c.cert_key = msg.substr (nl + 1);
  return c;
}

mode_t
mode_of (const std::string &path)
{
  struct stat st;
  fail_unless (lstat (path.c_str (), &st) == 0, "%s missing", path.c_str ());
  return st.st_mode & 0777;
}

struct TempDir {
  std::string path;
  TempDir ()
  {
    gchar *p = g_dir_make_tmp ("vc-dtlskey-XXXXXX", nullptr);
    path = p;
    g_free (p);
  }
  ~TempDir ()
  {
    std::string cmd = "rm -rf '" + path + "'";
    fail_unless (system (cmd.c_str ()) == 0);
  }
  std::string cache () const { return path + "/cache"; }
  std::string key () const { return cache () + "/dtls-key.pem"; }
  /* The pool: every file, with the public key of each (empty: not a private key). */
  std::map<std::string, std::string> pool () const
  {
    std::map<std::string, std::string> keys;
    if (GDir *d = g_dir_open (cache ().c_str (), 0, nullptr)) {
      while (const gchar *name = g_dir_read_name (d)) {
        std::string file = cache () + "/" + name;
        keys[file] = file_public_key (file);
      }
      g_dir_close (d);
    }
    return keys;
  }
};

/* Every file of the pool is a private key file (0600) and none is the given public key. */
void
check_pool (const TempDir &t, const std::string &not_this, const char *when)
{
  auto keys = t.pool ();
  fail_unless (keys.size () == 3, "%s: %zu keys in the pool, wanted 3", when, keys.size ());
  for (const auto &kv : keys) {
    fail_unless (!kv.second.empty (), "%s: %s is not a private key", when, kv.first.c_str ());
    fail_unless (mode_of (kv.first) == 0600, "%s: %s mode %o", when, kv.first.c_str (),
        mode_of (kv.first));
    fail_unless (kv.second != not_this, "%s: %s is the key in use", when, kv.first.c_str ());
  }
}

} // namespace

GST_START_TEST (test_first_process_fills_the_pool)
{
  TempDir t;
  Child c = warm_up_in_child (t.cache ());
  fail_unless (!c.used, "nothing to use yet, but it says it used a key");
  fail_unless (c.stored, "no key stored for later processes");
  fail_unless (mode_of (t.cache ()) == 0700, "directory mode %o", mode_of (t.cache ()));
  check_pool (t, c.cert_key, "after the first process");
}
GST_END_TEST;

GST_START_TEST (test_next_processes_use_a_stored_key_once)
{
  TempDir t;
  warm_up_in_child (t.cache ());
  std::set<std::string> used;
  for (int i = 0; i < 4; i++) {
    std::set<std::string> before;
    for (const auto &kv : t.pool ())
      before.insert (kv.second);
    Child c = warm_up_in_child (t.cache ());
    fail_unless (c.used, "process %d: no stored key used: %s", i, c.detail.c_str ());
    fail_unless (before.count (c.cert_key), "process %d: the certificate is on no stored key", i);
    /* Taken, and never handed out again: the pool is full again without it. */
    fail_unless (used.insert (c.cert_key).second, "process %d: a key served twice", i);
    check_pool (t, c.cert_key, "after a process");
  }
}
GST_END_TEST;

/* Files the cache must not trust: each is ignored (the certificate is on a key GStreamer
 * makes) and replaced by a private key of ours. */
GST_START_TEST (test_unsafe_or_bad_files_are_ignored)
{
  struct Case {
    const char *name;
    void (*spoil) (const TempDir &t);
  };
  const Case cases[] = {
    {"readable by others", [] (const TempDir &t) { chmod (t.key ().c_str (), 0644); }},
    {"not a key", [] (const TempDir &t) {
      fail_unless (g_file_set_contents (t.key ().c_str (), "-----BEGIN PRIVATE KEY-----\nAAAA\n",
          -1, nullptr));
      chmod (t.key ().c_str (), 0600);
    }},
    {"two days old", [] (const TempDir &t) {
      struct timeval tv[2];
      gettimeofday (&tv[0], nullptr);
      tv[0].tv_sec -= 2 * 24 * 3600;
      tv[1] = tv[0];
      fail_unless (utimes (t.key ().c_str (), tv) == 0);
    }},
    {"a symbolic link", [] (const TempDir &t) {
      std::string real = t.path + "/elsewhere.pem";
      fail_unless (rename (t.key ().c_str (), real.c_str ()) == 0);
      fail_unless (symlink (real.c_str (), t.key ().c_str ()) == 0);
    }},
    {"an EC key", [] (const TempDir &t) {
      EVP_PKEY *ec = EVP_PKEY_Q_keygen (nullptr, nullptr, "EC", "P-256");
      FILE *f = fopen (t.key ().c_str (), "w");
      fail_unless (ec && f && PEM_write_PrivateKey (f, ec, nullptr, nullptr, 0, nullptr,
          nullptr));
      fclose (f);
      chmod (t.key ().c_str (), 0600);
      EVP_PKEY_free (ec);
    }},
  };
  for (const Case &k : cases) {
    TempDir t;
    /* One good key file, as the cache writes it, then spoiled. */
    fail_unless (g_mkdir_with_parents (t.cache ().c_str (), 0700) == 0);
    EVP_PKEY *rsa = EVP_PKEY_Q_keygen (nullptr, nullptr, "RSA", static_cast<size_t> (2048));
    FILE *f = fopen (t.key ().c_str (), "w");
    fail_unless (rsa && f && PEM_write_PrivateKey (f, rsa, nullptr, nullptr, 0, nullptr,
        nullptr));
    fclose (f);
    EVP_PKEY_free (rsa);
    chmod (t.key ().c_str (), 0600);
    k.spoil (t);
    std::string planted = file_public_key (t.key ());
    Child c = warm_up_in_child (t.cache ());
    fail_unless (!c.used, "%s: used", k.name);
    fail_unless (planted.empty () || c.cert_key != planted, "%s: the certificate is on it",
        k.name);
    struct stat st;
    fail_unless (lstat (t.key ().c_str (), &st) != 0, "%s: still there", k.name);
    check_pool (t, planted.empty () ? c.cert_key : planted, k.name);
    GST_INFO ("%s: ignored (%s)", k.name, c.detail.c_str ());
  }
}
GST_END_TEST;

GST_START_TEST (test_cache_off)
{
  TempDir t;
  g_setenv ("VOICECALL_DTLS_KEY_CACHE", "0", TRUE);
  fail_unless (vc::dtls_key_cache_dir ().empty ());
  Child c = warm_up_in_child (std::string ());
  g_unsetenv ("VOICECALL_DTLS_KEY_CACHE");
  fail_unless (!c.used && !c.stored, "the cache is off but it was used");
  fail_unless (!vc::dtls_key_cache_dir ().empty ());
}
GST_END_TEST;

GST_START_TEST (test_abandoned_key_is_not_stored)
{
  TempDir t;
  Child c = warm_up_in_child (t.cache (), true);
  fail_unless (!c.stored, "stored although abandoned");
  fail_unless (!g_file_test (t.key ().c_str (), G_FILE_TEST_EXISTS));
  /* No half-written file left behind either. */
  if (GDir *d = g_dir_open (t.cache ().c_str (), 0, nullptr)) {
    const gchar *name = g_dir_read_name (d);
    fail_unless (name == nullptr, "left behind: %s", name);
    g_dir_close (d);
  }
}
GST_END_TEST;

static Suite *
dtlskeycache_suite (void)
{
  Suite *s = suite_create ("dtlskeycache");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 120);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_first_process_fills_the_pool);
  tcase_add_test (tc, test_next_processes_use_a_stored_key_once);
  tcase_add_test (tc, test_unsafe_or_bad_files_are_ignored);
  tcase_add_test (tc, test_cache_off);
  tcase_add_test (tc, test_abandoned_key_is_not_stored);
  return s;
}

GST_CHECK_MAIN (dtlskeycache);
