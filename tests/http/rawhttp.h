/* gst-voicecall HTTP tests: raw TCP clients, for what an HTTP library will not send
 * (half-sent requests, a body shorter than its Content-Length, huge headers, a client that
 * closes without waiting), and counting the process's open file descriptors.
 *
 *   Raw c (port);                      // connected to 127.0.0.1:port (blocking, with deadlines)
 *   c.send ("POST /call HTTP/1.1\r\n…");
 *   RawResponse r = c.response ();    // status line, headers, Content-Length body
 *   c.wait_closed (2000);              // true once the server closed its side
 *
 * fd_count () is the number of entries in /proc/self/fd.
 */
#pragma once

#include <gio/gio.h>

#include <string>

namespace vctest {

inline guint
fd_count ()
{
  GDir *dir = g_dir_open ("/proc/self/fd", 0, nullptr);
  g_assert_nonnull (dir);
  guint n = 0;
  while (g_dir_read_name (dir))
    n++;
  g_dir_close (dir);
  return n - 1;   /* the directory's own fd */
}

/* Waits (polling every 10 ms) until fd_count () <= most; returns the last count. */
inline guint
wait_fd_count (guint most, guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + timeout_ms * G_GINT64_CONSTANT (1000);
  guint n = fd_count ();
  while (n > most && g_get_monotonic_time () < end) {
    g_usleep (10 * 1000);
    n = fd_count ();
  }
  return n;
}

struct RawResponse {
  guint status = 0;           /* 0: no complete status line before EOF / the deadline */
  std::string head, body;

  std::string header (const char *name) const
  {
    std::string needle = std::string ("\r\n") + name + ":";
    gchar *h = g_ascii_strdown (head.c_str (), -1);
    gchar *n = g_ascii_strdown (needle.c_str (), -1);
    const char *at = strstr (h, n);
    std::string out;
    if (at) {
      size_t from = (at - h) + strlen (n);
      size_t to = head.find ("\r\n", from);
      out = head.substr (from, to == std::string::npos ? std::string::npos : to - from);
      while (!out.empty () && out[0] == ' ')
        out.erase (0, 1);
    }
    g_free (h);
    g_free (n);
    return out;
  }
};

class Raw {
public:
  explicit Raw (guint port)
  {
    socket_ = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
        nullptr);
    g_assert_nonnull (socket_);
    GInetAddress *ip = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
    GSocketAddress *addr = g_inet_socket_address_new (ip, port);
    GError *err = nullptr;
    connected_ = g_socket_connect (socket_, addr, nullptr, &err);
    if (!connected_) {
      error = err->message;
      g_error_free (err);
    }
    g_object_unref (addr);
    g_object_unref (ip);
  }
  ~Raw () { close (); }
  Raw (const Raw &) = delete;
  Raw &operator= (const Raw &) = delete;

  bool connected () const { return connected_; }

  /* Sends all of `data`; false if the server closed or reset the connection. */
  bool send (const std::string &data)
  {
    gsize sent = 0;
    while (sent < data.size ()) {
      gssize n = g_socket_send_with_blocking (socket_, data.data () + sent, data.size () - sent,
          TRUE, nullptr, nullptr);
      if (n <= 0)
        return false;
      sent += n;
    }
    return true;
  }

  void shutdown_write () { g_socket_shutdown (socket_, FALSE, TRUE, nullptr); }

  void close ()
  {
    if (socket_) {
      g_socket_close (socket_, nullptr);
      g_object_unref (socket_);
      socket_ = nullptr;
    }
  }

  /* Reads what arrives within timeout_ms (up to EOF). Returns false on timeout without EOF. */
  bool read_some (std::string *out, guint timeout_ms, bool *eof)
  {
    *eof = false;
    if (!g_socket_condition_timed_wait (socket_, G_IO_IN, timeout_ms * G_GINT64_CONSTANT (1000),
            nullptr, nullptr))
      return false;
    char buf[16384];
    GError *err = nullptr;
    gssize n = g_socket_receive_with_blocking (socket_, buf, sizeof buf, FALSE, nullptr, &err);
    if (n <= 0) {
      /* EOF, or a reset (ECONNRESET): the server closed the connection either way. */
      reset_ = n < 0;
      g_clear_error (&err);
      *eof = true;
      return true;
    }
    out->append (buf, n);
    return true;
  }

  /* One response: status line and headers, then a Content-Length body (or up to EOF). */
  RawResponse response (guint timeout_ms = 5000)
  {
    RawResponse r;
    gint64 end = g_get_monotonic_time () + timeout_ms * G_GINT64_CONSTANT (1000);
    size_t head_end = std::string::npos;
    bool eof = false;
    while (!eof) {
      head_end = pending_.find ("\r\n\r\n");
      if (head_end != std::string::npos) {
        r.head = pending_.substr (0, head_end + 2);
        std::string cl = r.header ("Content-Length");
        size_t want = cl.empty () ? std::string::npos : std::stoul (cl);
        if (want != std::string::npos && pending_.size () >= head_end + 4 + want) {
          r.body = pending_.substr (head_end + 4, want);
          pending_.erase (0, head_end + 4 + want);
          break;
        }
      }
      gint64 left = (end - g_get_monotonic_time ()) / 1000;
      if (left <= 0 || !read_some (&pending_, left, &eof))
        return r;
    }
    if (eof && head_end != std::string::npos && r.head.empty ()) {
      r.head = pending_.substr (0, head_end + 2);
      r.body = pending_.substr (head_end + 4);
    }
    if (r.head.empty ())
      return r;
    guint status = 0;
    if (sscanf (r.head.c_str (), "HTTP/1.%*d %u", &status) == 1)
      r.status = status;
    return r;
  }

  /* Waits until the server closes the connection (EOF or reset), discarding what it sends. */
  bool wait_closed (guint timeout_ms)
  {
    gint64 end = g_get_monotonic_time () + timeout_ms * G_GINT64_CONSTANT (1000);
    bool eof = false;
    while (!eof) {
      gint64 left = (end - g_get_monotonic_time ()) / 1000;
      if (left <= 0 || !read_some (&pending_, left, &eof))
        return false;
    }
    return true;
  }

  /* What came in and was not part of a response read so far. */
  const std::string &pending () const { return pending_; }
  bool was_reset () const { return reset_; }
  std::string error;

private:
  GSocket *socket_ = nullptr;
  bool connected_ = false, reset_ = false;
  std::string pending_;
};

/* A request's bytes: "METHOD path HTTP/1.1", Host, the given headers, the body with its
 * Content-Length (unless a header already gives one). */
inline std::string
raw_request (const std::string &method, const std::string &path,
    const std::string &content_type = "", const std::string &body = "",
    const std::string &extra_headers = "")
{
  std::string r = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra_headers;
  if (!content_type.empty ())
    r += "Content-Type: " + content_type + "\r\n";
  if (extra_headers.find ("Content-Length:") == std::string::npos &&
      (!body.empty () || method == "POST" || method == "PATCH"))
    r += "Content-Length: " + std::to_string (body.size ()) + "\r\n";
  return r + "\r\n" + body;
}

} // namespace vctest
