/* gst-voicecall CLI: `serve` (answer calls) and `call URL` (call a callee), with a live
 * status line. */
#include "cli.h"
#include "runner.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <unistd.h>

namespace vc::cli {

namespace {

struct CommonOptions {
  gchar *source = nullptr;
  gchar *sink = nullptr;
  gchar *stun = nullptr;
  gchar *turn = nullptr;
  gchar *token = nullptr;
  gchar *ice_address = nullptr;
  double seconds = 0;
  gboolean noise_suppression = FALSE;
  gboolean quiet = FALSE;
  ~CommonOptions ()
  {
    for (gchar *s : {source, sink, stun, turn, token, ice_address})
      g_free (s);
  }
};

/* What the status line shows, from the latest messages. */
struct Status {
  std::map<std::string, GstStructure *> stats; /* session id → last voicecall-stats */
  std::map<std::string, std::string> peers;    /* session id → peer */
  double in_db = -INFINITY, out_db = -INFINITY;
  gint64 started_us = g_get_monotonic_time ();
  ~Status ()
  {
    for (auto &kv : stats)
      gst_structure_free (kv.second);
  }
};

} // namespace

static void
add_common_entries (GOptionContext *ctx, CommonOptions *o)
{
  static GOptionEntry entries[] = {
    {"source", 0, 0, G_OPTION_ARG_STRING, nullptr,
        "What we send: mic (default), tone:FREQ (e.g. tone:440) or wav:FILE", "SRC"},
    {"sink", 0, 0, G_OPTION_ARG_STRING, nullptr,
        "Where the other party goes: speakers (default), wav:FILE or none", "SINK"},
    {"stun", 0, 0, G_OPTION_ARG_STRING, nullptr, "STUN server, e.g. stun:stun.example.org:3478", "URL"},
    {"turn", 0, 0, G_OPTION_ARG_STRING, nullptr, "TURN server, turn://USER:PASS@HOST:PORT", "URL"},
    {"token", 0, 0, G_OPTION_ARG_STRING, nullptr, "Bearer token (WHIP Authorization)", "TOKEN"},
    {"ice-address", 0, 0, G_OPTION_ARG_STRING, nullptr,
        "Local IP address(es) for ICE, comma-separated; 127.0.0.1 to call on this machine", "ADDR"},
    {"seconds", 0, 0, G_OPTION_ARG_DOUBLE, nullptr, "Hang up after this many seconds", "S"},
    {"noise-suppression", 0, 0, G_OPTION_ARG_NONE, nullptr,
        "Suppress background noise (off by default: it also removes test tones)", nullptr},
    {"quiet", 'q', 0, G_OPTION_ARG_NONE, nullptr, "No live status line", nullptr},
    {nullptr},
  };
  void *targets[] = {&o->source, &o->sink, &o->stun, &o->turn, &o->token, &o->ice_address,
      &o->seconds, &o->noise_suppression, &o->quiet};
  for (size_t i = 0; i < G_N_ELEMENTS (targets); i++)
    entries[i].arg_data = targets[i];
  g_option_context_add_main_entries (ctx, entries, nullptr);
}

/* The voicecall properties for the common options. */
static std::string
common_call_properties (const CommonOptions &o, bool server)
{
  std::string props;
  if (o.stun)
    props += " stun-server=" + quote (o.stun);
  if (o.turn)
    props += " turn-server=" + quote (o.turn);
  if (o.ice_address)
    props += " ice-addresses=" + quote (o.ice_address);
  if (o.token)
    props += " signaller::auth-token=" + quote (o.token);
  return props;
}

static bool
build_descriptions (const CommonOptions &o, std::string *source, std::string *sink)
{
  std::string error;
  *source = source_description (o.source ? o.source : "mic", &error);
  if (error.empty ())
    *sink = sink_description (o.sink ? o.sink : "speakers", &error);
  if (!error.empty ()) {
    fprintf (stderr, "%s\n", error.c_str ());
    return false;
  }
  /* Levels for the status line. */
  *source += " ! level name=input-level interval=500000000";
  *sink = "level name=output-level interval=500000000 ! " + *sink;
  return true;
}

/* The loudest channel's RMS of a level message, in dB. */
static double
peak_db (const GstStructure *s)
{
  const GValue *v = gst_structure_get_value (s, "rms");
  double best = -INFINITY;
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS /* level posts a GValueArray */
  if (v && G_VALUE_HOLDS (v, g_value_array_get_type ())) {
    auto *arr = static_cast<GValueArray *> (g_value_get_boxed (v));
    for (guint i = 0; arr && i < arr->n_values; i++)
      best = std::max (best, g_value_get_double (g_value_array_get_nth (arr, i)));
  }
  G_GNUC_END_IGNORE_DEPRECATIONS
  return best;
}

static void
track (Status *st, GstMessage *m, bool quiet)
{
  const GstStructure *s = gst_message_get_structure (m);
  const char *name = gst_structure_get_name (s);
  const char *id = gst_structure_get_string (s, "session-id");
  if (!strcmp (name, "level")) {
    double db = peak_db (s);
    if (!strcmp (GST_OBJECT_NAME (GST_MESSAGE_SRC (m)), "input-level"))
      st->in_db = db;
    else
      st->out_db = db;
  } else if (!strcmp (name, "voicecall-stats") && id) {
    if (st->stats.count (id))
      gst_structure_free (st->stats[id]);
    st->stats[id] = gst_structure_copy (s);
  } else if (!strcmp (name, "voicecall-session-started") && id) {
    st->peers[id] = gst_structure_get_string (s, "peer");
    printf ("%scall %s started with %s\n", quiet ? "" : "\n", id,
        gst_structure_get_string (s, "peer"));
  } else if (!strcmp (name, "voicecall-first-audio") && id) {
    double ms = 0;
    gst_structure_get_double (s, "setup-ms", &ms);
    printf ("%scall %s: hearing %s after %.0f ms\n", quiet ? "" : "\n", id,
        gst_structure_get_string (s, "peer"), ms);
  } else if (!strcmp (name, "voicecall-session-ended") && id) {
    printf ("%scall %s with %s ended: %s\n", quiet ? "" : "\n", id,
        gst_structure_get_string (s, "peer"), gst_structure_get_string (s, "reason"));
    if (st->stats.count (id)) {
      gst_structure_free (st->stats[id]);
      st->stats.erase (id);
    }
    st->peers.erase (id);
  }
  fflush (stdout);
}

static void
print_status (const Status &st, const char *role)
{
  double t = (g_get_monotonic_time () - st.started_us) / 1e6;
  std::string line;
  char buf[512];
  snprintf (buf, sizeof buf, "[%s %02d:%02d] ", role, static_cast<int> (t) / 60,
      static_cast<int> (t) % 60);
  line += buf;
  if (st.peers.empty ()) {
    line += role[0] == 's' ? "waiting for calls" : "calling";
  } else {
    snprintf (buf, sizeof buf, "%zu call%s", st.peers.size (), st.peers.size () == 1 ? "" : "s");
    line += buf;
    /* The first session's figures (the one heard). */
    for (auto &kv : st.stats) {
      double rtt = -1, loss = 0, jitter = 0, send = 0, recv = 0, mos = 0;
      gst_structure_get_double (kv.second, "rtt-ms", &rtt);
      gst_structure_get_double (kv.second, "fraction-lost", &loss);
      gst_structure_get_double (kv.second, "jitter-ms", &jitter);
      gst_structure_get_double (kv.second, "send-kbps", &send);
      gst_structure_get_double (kv.second, "receive-kbps", &recv);
      gst_structure_get_double (kv.second, "mos", &mos);
      snprintf (buf, sizeof buf, " | connected | rtt %s | loss %.1f%% | jitter %.1f ms | send %.0f "
          "kbit/s | recv %.0f kbit/s | MOS %.1f", rtt >= 0 ? (std::to_string (static_cast<int> (
          std::lround (rtt))) + " ms").c_str () : "?", loss * 100, jitter, send, recv, mos);
      line += buf;
      break;
    }
  }
  snprintf (buf, sizeof buf, " | in %.0f dB | out %.0f dB", std::isfinite (st.in_db) ? st.in_db : -99.0,
      std::isfinite (st.out_db) ? st.out_db : -99.0);
  line += buf;
  if (isatty (STDOUT_FILENO))
    printf ("\r\033[K%s", line.c_str ());
  else
    printf ("%s\n", line.c_str ());
  fflush (stdout);
}

static int
run_party (const char *role, const std::string &description, const CommonOptions &o)
{
  Runner runner;
  std::string error;
  if (!runner.add (role, description, &error)) {
    fprintf (stderr, "%s: %s\n", role, error.c_str ());
    return 1;
  }
  Status status;
  bool quiet = o.quiet;
  runner.on_element_message = [&status, quiet] (GstElement *, GstMessage *m) {
    track (&status, m, quiet);
  };
  if (!o.quiet)
    runner.on_tick = [&status, role] { print_status (status, role); };
  int rc = runner.run (o.seconds);
  if (!o.quiet)
    printf ("\n");
  return rc;
}

static bool
parse (GOptionContext *ctx, int *argc, char ***argv, const char *command)
{
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  GUnique<GError> err;
  bool ok = g_option_context_parse (ctx, argc, argv, vc::out (err));
  if (!ok)
    fprintf (stderr, "%s: %s (see --help)\n", command, err->message);
  return ok;
}

int
serve (int argc, char **argv)
{
  CommonOptions o;
  gchar *listen = nullptr, *path = nullptr, *tls_cert = nullptr, *tls_key = nullptr;
  gint max_sessions = -1;
  gboolean no_page = FALSE;
  GOptionEntry entries[] = {
    {"listen", 'l', 0, G_OPTION_ARG_STRING, &listen,
        "Address and port to answer on (default 127.0.0.1:8080; 0.0.0.0:8080 for every interface)",
        "ADDR:PORT"},
    {"path", 0, 0, G_OPTION_ARG_STRING, &path, "Path that takes offers (default /call; /offer "
        "always works too)", "PATH"},
    {"max-sessions", 0, 0, G_OPTION_ARG_INT, &max_sessions, "Callers at once; more get 503", "N"},
    {"no-page", 0, 0, G_OPTION_ARG_NONE, &no_page, "Do not serve the browser page at /", nullptr},
    {"tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &tls_cert, "Serve HTTPS with this certificate (PEM; "
        "with --tls-key, see docs/https.md)", "FILE"},
    {"tls-key", 0, 0, G_OPTION_ARG_FILENAME, &tls_key, "The certificate's private key (PEM)", "FILE"},
    {nullptr},
  };
  GOptionContext *ctx = g_option_context_new ("- answer voice calls over HTTP");
  g_option_context_set_summary (ctx,
      "Answers calls: WHIP (POST application/sdp) and the aiortc JSON protocol (POST "
      "application/json) at http://ADDR:PORT/call and /offer; a browser page at /.\n"
      "Every caller hears us; we hear the first caller (the next one when it hangs up).\n\n"
      "Examples:\n"
      "  gst-voicecall serve --source tone:880 --sink wav:heard.wav --ice-address 127.0.0.1\n"
      "  gst-voicecall serve --listen 0.0.0.0:8080          # microphone and speakers");
  g_option_context_add_main_entries (ctx, entries, nullptr);
  add_common_entries (ctx, &o);
  bool ok = parse (ctx, &argc, &argv, "serve");
  g_option_context_free (ctx);
  GUnique<gchar> listen_owned (listen), path_owned (path), cert_owned (tls_cert), key_owned (tls_key);
  if (!ok || !init (&argc, &argv))
    return 2;
  std::string source, sink;
  if (!build_descriptions (o, &source, &sink))
    return 2;
  std::string props = "listen=" + quote (listen ? listen : "127.0.0.1:8080") +
      common_call_properties (o, true);
  if (path)
    props += " signaller::path=" + quote (path);
  if (max_sessions >= 0)
    props += " signaller::max-sessions=" + std::to_string (max_sessions);
  if (no_page)
    props += " signaller::serve-page=false";
  if (tls_cert || tls_key)
    props += " signaller::tls-certificate=" + quote (tls_cert ? tls_cert : "") +
        " signaller::tls-key=" + quote (tls_key ? tls_key : "");
  printf ("serve: answering calls on %s://%s%s\n", tls_cert ? "https" : "http", listen ? listen : "127.0.0.1:8080",
      path ? path : "/call");
  return run_party ("serve", party_description (source, sink, props, o.noise_suppression), o);
}

int
call (int argc, char **argv)
{
  CommonOptions o;
  gchar *protocol = nullptr, *tls_ca = nullptr;
  GOptionEntry entries[] = {
    {"protocol", 'p', 0, G_OPTION_ARG_STRING, &protocol,
        "whip (default: POST application/sdp, RFC 9725) or json (the aiortc example's /offer)",
        "P"},
    {"tls-ca", 0, 0, G_OPTION_ARG_FILENAME, &tls_ca, "https://: trust this CA (PEM) instead of "
        "the system's, e.g. a self-signed callee's certificate", "FILE"},
    {nullptr},
  };
  GOptionContext *ctx = g_option_context_new ("URL - call a callee over HTTP");
  g_option_context_set_summary (ctx,
      "Calls URL: posts our SDP offer, applies the answer and talks until Ctrl-C (or --seconds).\n\n"
      "Examples:\n"
      "  gst-voicecall call http://127.0.0.1:8080/call --source tone:440 --ice-address 127.0.0.1\n"
      "  gst-voicecall call http://host:8080/offer --protocol json     # an aiortc server");
  g_option_context_add_main_entries (ctx, entries, nullptr);
  add_common_entries (ctx, &o);
  bool ok = parse (ctx, &argc, &argv, "call");
  g_option_context_free (ctx);
  GUnique<gchar> protocol_owned (protocol), ca_owned (tls_ca);
  if (!ok)
    return 2;
  if (argc != 2) {
    fprintf (stderr, "call: give the callee's URL, e.g. gst-voicecall call "
        "http://127.0.0.1:8080/call (see --help)\n");
    return 2;
  }
  std::string url = argv[1];
  if (url.rfind ("http://", 0) != 0 && url.rfind ("https://", 0) != 0) {
    fprintf (stderr, "call: the URL must start with http:// or https:// (got '%s')\n", url.c_str ());
    return 2;
  }
  if (protocol && strcmp (protocol, "whip") && strcmp (protocol, "json")) {
    fprintf (stderr, "call: --protocol must be whip or json (got '%s')\n", protocol);
    return 2;
  }
  if (!init (&argc, &argv))
    return 2;
  std::string source, sink;
  if (!build_descriptions (o, &source, &sink))
    return 2;
  std::string props = "url=" + quote (url) + common_call_properties (o, false);
  if (protocol)
    props += std::string (" signaller::protocol=") + protocol;
  if (tls_ca)
    props += " signaller::tls-ca=" + quote (tls_ca);
  printf ("call: calling %s\n", url.c_str ());
  return run_party ("call", party_description (source, sink, props, o.noise_suppression), o);
}

} // namespace vc::cli
