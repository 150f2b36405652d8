/* gst-voicecall CLI: `serve` (answer calls) and `call URL` (call a callee), with a live
 * status line. */
#include "cli.h"
#include "runner.h"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <vector>
#include <termios.h>
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
  gint peer_timeout = -1, connect_timeout = -1; /* ms; -1: the element's default */
  gboolean noise_suppression = FALSE;
  gboolean quiet = FALSE;
  ~CommonOptions ()
  {
    for (gchar *s : {source, sink, stun, turn, token, ice_address})
      g_free (s);
  }
};

/* One call (session) as the CLI sees it. */
struct Call {
  std::string peer;
  std::string state;               /* "connecting", "connected" */
  gint64 started_us = 0, connected_us = 0;
  std::string local_type, remote_type; /* selected ICE candidate types, once known */
  GstStructure *stats = nullptr;   /* the last voicecall-stats */
  bool muted = false, held = false; /* from voicecall-control */
};

/* What the status line shows, from the latest messages. */
struct Status {
  std::map<std::string, Call> calls; /* session id → call, in id order (the heard one first) */
  std::vector<std::string> order;    /* session ids in the order they started */
  bool have_state_messages = false;  /* the element posts voicecall-session-state */
  double in_db = -INFINITY, out_db = -INFINITY;
  /* The last call that ended and why (for `call`'s exit status). */
  std::string last_reason;
  bool any_ended = false;
  bool all_muted = false, all_held = false; /* the M / P keys: voicecall's mute / hold */
  ~Status ()
  {
    for (auto &kv : calls)
      if (kv.second.stats)
        gst_structure_free (kv.second.stats);
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
    {"peer-timeout", 0, 0, G_OPTION_ARG_INT, nullptr,
        "End a call when nothing came from the peer for this long (default 5000)", "MS"},
    {"connect-timeout", 0, 0, G_OPTION_ARG_INT, nullptr,
        "End a call that has not connected this long after it started (default 10000)", "MS"},
    {"noise-suppression", 0, 0, G_OPTION_ARG_NONE, nullptr,
        "Suppress background noise (off by default: it also removes test tones)", nullptr},
    {"quiet", 'q', 0, G_OPTION_ARG_NONE, nullptr, "No live status line", nullptr},
    {nullptr},
  };
  void *targets[] = {&o->source, &o->sink, &o->stun, &o->turn, &o->token, &o->ice_address,
      &o->seconds, &o->peer_timeout, &o->connect_timeout, &o->noise_suppression, &o->quiet};
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
  if (o.peer_timeout >= 0)
    props += " peer-timeout=" + std::to_string (o.peer_timeout);
  if (o.connect_timeout >= 0)
    props += " connect-timeout=" + std::to_string (o.connect_timeout);
  return props;
}

/* Whether the machine has a microphone GStreamer can open (an audio source device). */
static bool
have_microphone ()
{
  GstPtr<GstDeviceMonitor> monitor = adopt (gst_device_monitor_new ());
  gst_device_monitor_add_filter (monitor.get (), "Audio/Source", nullptr);
  GList *devices = gst_device_monitor_get_devices (monitor.get ());
  bool any = devices != nullptr;
  g_list_free_full (devices, gst_object_unref);
  return any;
}

static bool
build_descriptions (const CommonOptions &o, std::string *source, std::string *sink)
{
  if (o.seconds < 0 || o.peer_timeout < -1 || o.connect_timeout < -1) {
    fprintf (stderr, "--seconds, --peer-timeout and --connect-timeout take a number >= 0\n");
    return false;
  }
  if (!o.source && !have_microphone ()) {
    fprintf (stderr, "no microphone found: give a source, e.g. --source tone:440 or "
        "--source wav:voice.wav (see --help)\n");
    return false;
  }
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

/* Is a status line being drawn on the terminal (so a message must clear it first)? */
static bool status_line_open = false;

static void G_GNUC_PRINTF (1, 2)
say (const char *format, ...)
{
  if (status_line_open)
    printf ("\r\033[K");
  status_line_open = false;
  va_list args;
  va_start (args, format);
  vprintf (format, args);
  va_end (args);
  printf ("\n");
  fflush (stdout);
}

static std::string
short_id (const std::string &id)
{
  return id.substr (0, 8);
}

static std::string
str (const GstStructure *s, const char *field)
{
  const char *v = gst_structure_get_string (s, field);
  return v ? v : "";
}

/* "host/srflx": our and the peer's candidate type of the selected pair; "" if unknown. */
static std::string
candidate_pair (const Call &c)
{
  if (c.local_type.empty () && c.remote_type.empty ())
    return "";
  return (c.local_type.empty () ? "?" : c.local_type) + "/" +
      (c.remote_type.empty () ? "?" : c.remote_type);
}

static Call &
find_call (Status *st, const std::string &id, const std::string &peer)
{
  auto it = st->calls.find (id);
  if (it == st->calls.end ()) {
    it = st->calls.emplace (id, Call ()).first;
    it->second.started_us = g_get_monotonic_time ();
    st->order.push_back (id);
  }
  if (!peer.empty ())
    it->second.peer = peer;
  return it->second;
}

static void
on_connecting (Status *st, const std::string &id, const std::string &peer)
{
  Call &c = find_call (st, id, peer);
  if (!c.state.empty ())
    return;
  c.state = "connecting";
  say ("call %s with %s: connecting", short_id (id).c_str (), c.peer.c_str ());
}

static void
on_connected (Status *st, const std::string &id, const std::string &peer,
    const std::string &local_type, const std::string &remote_type)
{
  Call &c = find_call (st, id, peer);
  if (!local_type.empty ())
    c.local_type = local_type;
  if (!remote_type.empty ())
    c.remote_type = remote_type;
  if (c.state == "connected")
    return;
  c.state = "connected";
  c.connected_us = g_get_monotonic_time ();
  std::string pair = candidate_pair (c);
  say ("call %s with %s: connected%s", short_id (id).c_str (), c.peer.c_str (),
      pair.empty () ? "" : (" (" + pair + ")").c_str ());
}

/* duration_ms < 0: not given, measured here. */
static void
on_ended (Status *st, const std::string &id, const std::string &peer, const std::string &reason,
    const std::string &detail, double duration_ms)
{
  auto it = st->calls.find (id);
  if (it == st->calls.end ())
    return; /* already reported (voicecall-session-state and -ended both say it) */
  Call &c = it->second;
  if (!peer.empty ())
    c.peer = peer;
  if (duration_ms < 0)
    duration_ms = c.connected_us ? (g_get_monotonic_time () - c.connected_us) / 1000.0 : 0;
  std::string why = reason.empty () ? "unknown reason" : reason;
  /* A hang-up needs no explanation; a failure gets the element's detail. */
  bool hang_up = reason == "local hang-up" || reason == "remote hang-up";
  if (!hang_up && !detail.empty () && detail != reason)
    why += " (" + detail + ")";
  if (c.connected_us || duration_ms > 0)
    say ("call %s with %s: ended: %s after %.1f s", short_id (id).c_str (), c.peer.c_str (),
        why.c_str (), duration_ms / 1000.0);
  else
    say ("call %s with %s: ended before it connected: %s", short_id (id).c_str (),
        c.peer.c_str (), why.c_str ());
  if (c.stats)
    gst_structure_free (c.stats);
  st->calls.erase (it);
  st->order.erase (std::find (st->order.begin (), st->order.end (), id));
  /* What we heard from this call is over: no stale level on the status line. */
  st->out_db = -INFINITY;
  st->last_reason = reason;
  st->any_ended = true;
}

/* Returns true if the message ended a call. */
static bool
track (Status *st, GstMessage *m)
{
  const GstStructure *s = gst_message_get_structure (m);
  const char *name = gst_structure_get_name (s);
  std::string id = str (s, "session-id"), peer = str (s, "peer");
  bool ended = false;
  if (!strcmp (name, "level")) {
    double db = peak_db (s);
    if (!strcmp (GST_OBJECT_NAME (GST_MESSAGE_SRC (m)), "input-level"))
      st->in_db = db;
    else if (!st->calls.empty ())
      st->out_db = db;
  } else if (id.empty ()) {
    return false;
  } else if (!strcmp (name, "voicecall-session-state")) {
    /* The element says each transition (connecting, connected, ended) itself. */
    st->have_state_messages = true;
    std::string state = str (s, "state");
    if (state == "connecting") {
      on_connecting (st, id, peer);
    } else if (state == "connected") {
      on_connecting (st, id, peer);
      on_connected (st, id, peer, str (s, "local-candidate-type"), str (s, "remote-candidate-type"));
    } else if (state == "ended") {
      guint64 ms = 0;
      bool have_ms = gst_structure_get_uint64 (s, "duration-ms", &ms);
      ended = st->calls.count (id);
      on_ended (st, id, peer, str (s, "reason"), str (s, "detail"), have_ms ? ms : -1.0);
    }
  } else if (!strcmp (name, "voicecall-stats")) {
    if (!st->calls.count (id))
      return false;
    Call &c = find_call (st, id, peer);
    if (c.stats)
      gst_structure_free (c.stats);
    c.stats = gst_structure_copy (s);
    if (!str (s, "local-candidate-type").empty ())
      c.local_type = str (s, "local-candidate-type");
    if (!str (s, "remote-candidate-type").empty ())
      c.remote_type = str (s, "remote-candidate-type");
  } else if (!strcmp (name, "voicecall-session-started")) {
    on_connecting (st, id, peer);
  } else if (!strcmp (name, "voicecall-first-audio")) {
    double ms = 0;
    gst_structure_get_double (s, "setup-ms", &ms);
    /* Without voicecall-session-state, the first audio is the sign of a connected call. */
    if (!st->have_state_messages)
      on_connected (st, id, peer, "", "");
    say ("call %s with %s: hearing them after %.0f ms", short_id (id).c_str (), peer.c_str (), ms);
  } else if (!strcmp (name, "voicecall-session-ended")) {
    ended = st->calls.count (id);
    on_ended (st, id, peer, str (s, "reason"), "", -1);
  } else if (!strcmp (name, "voicecall-control")) {
    if (!st->calls.count (id))
      return false;
    Call &c = find_call (st, id, peer);
    gboolean muted = FALSE, held = FALSE;
    gst_structure_get_boolean (s, "muted", &muted);
    gst_structure_get_boolean (s, "held", &held);
    if (held != c.held)
      say ("call %s with %s: %s", short_id (id).c_str (), c.peer.c_str (),
          held ? "on hold (silence both ways)" : "resumed");
    else if (muted != c.muted)
      say ("call %s with %s: %s", short_id (id).c_str (), c.peer.c_str (),
          muted ? "muted (they hear silence)" : "unmuted");
    c.muted = muted;
    c.held = held;
  } else if (!strcmp (name, "janus-room")) {
    /* A conference room's events (join janus://…): who is in the room. */
    std::string event = str (s, "event"), who = str (s, "display");
    guint64 room = 0, pid = 0;
    gst_structure_get_uint64 (s, "room", &room);
    gst_structure_get_uint64 (s, "id", &pid);
    if (who.empty ())
      who = "participant " + std::to_string (pid);
    if (event == "joined") {
      gint n = 0;
      gst_structure_get_int (s, "participants", &n);
      say ("room %" G_GUINT64_FORMAT ": joined as %s (id %" G_GUINT64_FORMAT "), %d other(s) "
          "in the room", room, who.c_str (), pid, n);
    } else if (event == "participant-joined" || event == "participant-left") {
      say ("room %" G_GUINT64_FORMAT ": %s %s", room, who.c_str (),
          event == "participant-joined" ? "joined" : "left");
    } else if (event == "muted" || event == "unmuted") {
      say ("room %" G_GUINT64_FORMAT ": %s %s", room, who.c_str (), event.c_str ());
    }
  } else if (!strcmp (name, "voicecall-dtmf")) {
    guint ms = 0;
    gst_structure_get_uint (s, "duration-ms", &ms);
    say ("call %s with %s: DTMF %s (%u ms)", short_id (id).c_str (), peer.c_str (),
        str (s, "digit").c_str (), ms);
  }
  return ended;
}

static std::string
clock_text (double seconds)
{
  char buf[32];
  int t = static_cast<int> (seconds);
  if (t >= 3600)
    snprintf (buf, sizeof buf, "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60);
  else
    snprintf (buf, sizeof buf, "%02d:%02d", t / 60, t % 60);
  return buf;
}

static void
print_status (const Status &st, const char *role)
{
  std::string line;
  char buf[512];
  /* The heard call: the oldest one. */
  const Call *first = st.order.empty () ? nullptr : &st.calls.at (st.order.front ());
  if (!first) {
    line = std::string ("[") + role + "] " + (role[0] == 's' ? "waiting for calls" : "calling");
  } else if (first->state != "connected") {
    line = std::string ("[") + role + "] connecting to " + first->peer;
  } else {
    /* How long the call has lasted, not how long we have run. */
    line = std::string ("[") + role + " " +
        clock_text ((g_get_monotonic_time () - first->connected_us) / 1e6) + "] ";
    if (st.calls.size () > 1) {
      snprintf (buf, sizeof buf, "%zu calls | ", st.calls.size ());
      line += buf;
    }
    std::string pair = candidate_pair (*first);
    line += "connected" + (pair.empty () ? "" : " " + pair);
    if (first->held)
      line += " | on hold";
    else if (first->muted)
      line += " | muted";
    if (first->stats) {
      double rtt = -1, loss = 0, jitter = 0, send = 0, recv = 0, mos = 0;
      gst_structure_get_double (first->stats, "rtt-ms", &rtt);
      gst_structure_get_double (first->stats, "fraction-lost", &loss);
      gst_structure_get_double (first->stats, "jitter-ms", &jitter);
      gst_structure_get_double (first->stats, "send-kbps", &send);
      gst_structure_get_double (first->stats, "receive-kbps", &recv);
      gst_structure_get_double (first->stats, "mos", &mos);
      snprintf (buf, sizeof buf, " | rtt %s | loss %.1f%% | jitter %.1f ms | send %.0f "
          "kbit/s | recv %.0f kbit/s | MOS %.1f", rtt >= 0 ? (std::to_string (static_cast<int> (
          std::lround (rtt))) + " ms").c_str () : "?", loss * 100, jitter, send, recv, mos);
      line += buf;
      /* The playout's delay, as voiceplaybackbin reports it to voicecall. */
      double playout = -1;
      if (gst_structure_get_double (first->stats, "playout-delay-ms", &playout) && playout >= 0) {
        snprintf (buf, sizeof buf, " | playout %.0f ms", playout);
        line += buf;
      }
    }
  }
  snprintf (buf, sizeof buf, " | in %.0f dB", std::isfinite (st.in_db) ? st.in_db : -99.0);
  line += buf;
  if (first && first->state == "connected") {
    snprintf (buf, sizeof buf, " | out %.0f dB", std::isfinite (st.out_db) ? st.out_db : -99.0);
    line += buf;
  }
  if (isatty (STDOUT_FILENO)) {
    printf ("\r\033[K%s", line.c_str ());
    status_line_open = true;
  } else {
    printf ("%s\n", line.c_str ());
  }
  fflush (stdout);
}

/* GStreamer 1.22's level divides by the sample rate on EOS even when no audio ever reached it
 * (no caps yet): a CRITICAL (uint64_scale: denom != 0, segment->format) when a callee that
 * never had a call stops. Such an EOS is sent on past the idle level element. */
static GstPadProbeReturn
eos_past_idle_level (GstPad *pad, GstPadProbeInfo *info, gpointer)
{
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  if (GST_EVENT_TYPE (event) != GST_EVENT_EOS || gst_pad_has_current_caps (pad))
    return GST_PAD_PROBE_OK;
  GstPtr<GstElement> level = adopt (gst_pad_get_parent_element (pad));
  GstPtr<GstPad> src = level ? adopt (gst_element_get_static_pad (level.get (), "src")) : nullptr;
  if (!src)
    return GST_PAD_PROBE_OK;
  gst_pad_push_event (src.get (), gst_event_ref (event));
  return GST_PAD_PROBE_DROP;
}

static void
guard_levels (GstElement *pipeline)
{
  for (const char *name : {"input-level", "output-level"}) {
    GstPtr<GstElement> level = adopt (gst_bin_get_by_name (GST_BIN (pipeline), name));
    if (!level)
      continue;
    GstPtr<GstPad> sink = adopt (gst_element_get_static_pad (level.get (), "sink"));
    gst_pad_add_probe (sink.get (), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, eos_past_idle_level,
        nullptr, nullptr);
  }
}

/* ---- keys typed during a call --------------------------------------------------------- */

constexpr const char *KEY_HELP =
    "keys: h hang up the current call, H every call; m mute the current call, M every call; "
    "p hold the current call, P every call; 0-9 * # A-D send DTMF; ? this help";

/* Reads keys from stdin: one at a time on a terminal (no Enter needed, not echoed), or the
 * characters of each line from a pipe. The current call is the one we hear (the oldest). */
class Keys {
public:
  Keys (GstElement *call, Status *status) : call_ (call), status_ (status)
  {
    /* Key by key only for a person at a terminal (a test's child with a terminal as stdin
     * but its output in a pipe could be killed and leave the terminal so). */
    if (isatty (STDIN_FILENO) && isatty (STDOUT_FILENO) &&
        tcgetattr (STDIN_FILENO, &saved_) == 0) {
      struct termios raw = saved_;
      raw.c_lflag &= ~(ICANON | ECHO); /* ISIG stays: Ctrl-C still hangs up */
      raw.c_cc[VMIN] = 1;
      raw.c_cc[VTIME] = 0;
      tty_ = tcsetattr (STDIN_FILENO, TCSANOW, &raw) == 0;
    }
    GIOChannel *ch = g_io_channel_unix_new (STDIN_FILENO);
    watch_ = g_io_add_watch (ch, static_cast<GIOCondition> (G_IO_IN | G_IO_HUP | G_IO_ERR),
        on_input, this);
    g_io_channel_unref (ch);
  }
  ~Keys ()
  {
    if (watch_)
      g_source_remove (watch_);
    if (tty_)
      tcsetattr (STDIN_FILENO, TCSANOW, &saved_);
  }
  Keys (const Keys &) = delete;
  Keys &operator= (const Keys &) = delete;

private:
  static gboolean
  on_input (GIOChannel *, GIOCondition, gpointer data)
  {
    auto *self = static_cast<Keys *> (data);
    char buf[64];
    ssize_t n = read (STDIN_FILENO, buf, sizeof buf);
    if (n <= 0) { /* stdin closed (or /dev/null): no keys, the call goes on */
      self->watch_ = 0;
      return G_SOURCE_REMOVE;
    }
    for (ssize_t i = 0; i < n; i++)
      self->key (buf[i]);
    return G_SOURCE_CONTINUE;
  }

  void
  key (char k)
  {
    if (k == '\n' || k == '\r' || k == ' ')
      return;
    if (k == '?') {
      say ("%s", KEY_HELP);
      return;
    }
    const std::string id = status_->order.empty () ? "" : status_->order.front ();
    Call *c = id.empty () ? nullptr : &status_->calls.at (id);
    gboolean ok = FALSE;
    switch (k) {
      case 'H':
        g_signal_emit_by_name (call_, "hang-up", nullptr, &ok);
        return;
      case 'M':
        status_->all_muted = !status_->all_muted;
        g_object_set (call_, "mute", status_->all_muted, nullptr);
        say ("every call %s", status_->all_muted ? "muted" : "unmuted");
        return;
      case 'P':
        status_->all_held = !status_->all_held;
        g_object_set (call_, "hold", status_->all_held, nullptr);
        say ("every call %s", status_->all_held ? "on hold" : "resumed");
        return;
      default:
        break;
    }
    if (!c) {
      say ("no call (%s)", KEY_HELP);
      return;
    }
    switch (k) {
      case 'h':
        say ("call %s with %s: hanging up", short_id (id).c_str (), c->peer.c_str ());
        g_signal_emit_by_name (call_, "hang-up", id.c_str (), &ok);
        return;
      case 'm':
        g_signal_emit_by_name (call_, "set-mute", id.c_str (), !c->muted, &ok);
        return;
      case 'p':
        g_signal_emit_by_name (call_, "set-hold", id.c_str (), !c->held, &ok);
        return;
      default:
        break;
    }
    if (strchr ("0123456789*#ABCDabcd", k)) {
      char digit[2] = {static_cast<char> (g_ascii_toupper (k)), '\0'};
      g_signal_emit_by_name (call_, "send-dtmf", id.c_str (), digit, 100u, &ok);
      if (ok)
        say ("call %s with %s: sending DTMF %s", short_id (id).c_str (), c->peer.c_str (), digit);
      return;
    }
    say ("key '%c' does nothing (%s)", k, KEY_HELP);
  }

  GstElement *call_;
  Status *status_;
  guint watch_ = 0;
  bool tty_ = false;
  struct termios saved_ {};
};

/* `call`'s exit status for the reason its call ended: 0 for a hang-up (ours or theirs). */
static int
exit_status (const std::string &reason)
{
  if (reason == "local hang-up" || reason == "remote hang-up")
    return 0;
  if (reason == "refused")
    return 3;
  if (reason == "ice failed")
    return 4;
  if (reason == "timeout")
    return 5;
  return 1; /* "error", or anything else */
}

static int
run_party (const char *role, const std::string &description, const CommonOptions &o,
    std::function<void (GstElement *)> started = nullptr)
{
  Runner runner;
  std::string error;
  GstElement *pipeline = runner.add (role, description, &error);
  if (!pipeline) {
    fprintf (stderr, "%s: %s\n", role, error.c_str ());
    return 1;
  }
  if (started)
    runner.on_started = [started, pipeline] { started (pipeline); };
  guard_levels (pipeline);
  Status status;
  bool caller = role[0] != 's'; /* call, join: one call, and the exit status says how it ended */
  runner.on_element_message = [&status, &runner, caller] (GstElement *, GstMessage *m) {
    /* A caller has one call: when it ends, so do we (EOS finalises the recording). */
    if (track (&status, m) && caller)
      runner.hang_up ();
  };
  /* After our hang-up, the end of every call still on (posted once its webrtcbin has stopped;
   * the "ended" lines and a caller's exit status come from it). */
  runner.awaiting_messages = [&status] { return !status.calls.empty (); };
  if (!o.quiet)
    runner.on_tick = [&status, role] { print_status (status, role); };
  GstPtr<GstElement> call = adopt (gst_bin_get_by_name (GST_BIN (pipeline), "call"));
  std::unique_ptr<Keys> keys;
  if (call)
    keys = std::make_unique<Keys> (call.get (), &status);
  int rc = runner.run (o.seconds);
  keys.reset ();
  if (status_line_open)
    printf ("\n");
  status_line_open = false;
  if (caller && status.any_ended) {
    int status_rc = exit_status (status.last_reason);
    printf ("call: %s: %s\n", status_rc ? "call failed" : "call over", status.last_reason.c_str ());
    rc = std::max (rc, status_rc);
  }
  fflush (stdout);
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
      "Every caller hears us; we hear the first caller (the next one when it hangs up).\n"
      "Callers: --max-sessions N takes at most N at once (the next get 503), --token TOKEN only "
      "those that send it (the others get 401).\n\n"
      "During a call, keys (typed, or piped into stdin): h hangs up the current call (the one "
      "we hear), H every call; m mutes / unmutes it, M every call; p holds / resumes it "
      "(silence both ways), P every call; 0-9 * # A-D send DTMF (RFC 4733); ? lists them.\n\n"
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
  /* Said once the server listens, with the port it really got (--listen ADDR without a port,
   * or :0, takes any free one); a port that is taken is an error instead. */
  std::string scheme = tls_cert ? "https" : "http";
  std::string host = listen ? listen : "127.0.0.1:8080";
  if (host.find (':') != std::string::npos && host.back () != ']')
    host = host.substr (0, host.rfind (':'));
  std::string where = path ? path : "/call";
  auto announce = [scheme, host, where] (GstElement *pipeline) {
    GstPtr<GstElement> call = adopt (gst_bin_get_by_name (GST_BIN (pipeline), "call"));
    guint port = 0;
    if (call)
      gst_child_proxy_get (GST_CHILD_PROXY (call.get ()), "signaller::port", &port, nullptr);
    printf ("serve: answering calls on %s://%s:%u%s\n", scheme.c_str (), host.c_str (), port,
        where.c_str ());
    fflush (stdout);
  };
  return run_party ("serve", party_description (source, sink, props, o.noise_suppression), o,
      announce);
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
      "During the call, keys (typed, or piped into stdin): h hangs up; m mutes / unmutes (they "
      "hear silence); p holds / resumes (silence both ways); 0-9 * # A-D send DTMF (RFC 4733); "
      "? lists them.\n\n"
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
  fflush (stdout);
  return run_party ("call", party_description (source, sink, props, o.noise_suppression), o);
}

/* join: a Janus AudioBridge room, as a participant (the same party and status line as call). */
int
join (int argc, char **argv)
{
  CommonOptions o;
  gchar *display = nullptr, *pin = nullptr;
  gboolean create = FALSE;
  GOptionEntry entries[] = {
    {"display", 'd', 0, G_OPTION_ARG_STRING, &display, "our name in the room (or the URL's "
        "display=)", "NAME"},
    {"pin", 0, 0, G_OPTION_ARG_STRING, &pin, "the room's PIN (or the URL's pin=)", "PIN"},
    {"create", 0, 0, G_OPTION_ARG_NONE, &create, "create the room (48 kHz) if it does not "
        "exist (or the URL's create=true)", nullptr},
    {nullptr},
  };
  GOptionContext *ctx = g_option_context_new ("janus://HOST:8088/janus?room=N - join a Janus "
      "AudioBridge room");
  g_option_context_set_summary (ctx,
      "Joins the Janus AudioBridge room of the URL: sends our audio to the room and plays its "
      "mix (everyone but us) until Ctrl-C (or --seconds). Prints who joins and leaves.\n\n"
      "URL query: room=N (required), display=NAME, pin=PIN, secret=S (with create=true), "
      "token=T (Janus API token; or --token), apisecret=S, create=true, muted=true, "
      "bitrate=BPS, expected_loss=0-20. januss:// for https.\n\n"
      "Examples:\n"
      "  gst-voicecall join 'janus://127.0.0.1:8088/janus?room=1234&display=alice'\n"
      "  gst-voicecall join 'janus://127.0.0.1:8088/janus?room=1234' --display bob "
      "--source tone:660 --ice-address 127.0.0.1");
  g_option_context_add_main_entries (ctx, entries, nullptr);
  add_common_entries (ctx, &o);
  bool ok = parse (ctx, &argc, &argv, "join");
  g_option_context_free (ctx);
  GUnique<gchar> display_owned (display), pin_owned (pin);
  if (!ok)
    return 2;
  if (argc != 2) {
    fprintf (stderr, "join: give the room's URL, e.g. gst-voicecall join "
        "'janus://127.0.0.1:8088/janus?room=1234' (see --help)\n");
    return 2;
  }
  std::string url = argv[1];
  if (url.rfind ("janus://", 0) != 0 && url.rfind ("januss://", 0) != 0) {
    fprintf (stderr, "join: the URL must start with janus:// or januss:// (got '%s')\n",
        url.c_str ());
    return 2;
  }
  if (!init (&argc, &argv))
    return 2;
  std::string source, sink;
  if (!build_descriptions (o, &source, &sink))
    return 2;
  /* --token is the Janus API token here, not a WHIP Bearer token. */
  gchar *token = o.token;
  o.token = nullptr;
  std::string props = "url=" + quote (url) + common_call_properties (o, false);
  o.token = token;
  if (token)
    props += " signaller::token=" + quote (token);
  if (display)
    props += " signaller::display=" + quote (display);
  if (pin)
    props += " signaller::pin=" + quote (pin);
  if (create)
    props += " signaller::create-room=true";
  printf ("join: joining %s\n", url.c_str ());
  fflush (stdout);
  return run_party ("join", party_description (source, sink, props, o.noise_suppression), o);
}

} // namespace vc::cli
