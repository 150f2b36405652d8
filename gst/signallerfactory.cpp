/* gst-voicecall: signallers from url= and listen= (see signallerfactory.h). */
#include "signallerfactory.h"

#include "httpclientsignaller.h"
#include "httpserversignaller.h"
#include "janussignaller.h"

GstVoiceSignaller *
gst_voice_signaller_new_for_url (const gchar *url)
{
  g_return_val_if_fail (url != nullptr, nullptr);
  if (g_str_has_prefix (url, "janus://") || g_str_has_prefix (url, "januss://")) {
    auto *janus = gst_voice_janus_signaller_new ();
    g_object_set (janus, "url", url, nullptr);
    return GST_VOICE_SIGNALLER (janus);
  }
  auto *client = gst_voice_http_client_signaller_new ();
  g_object_set (client, "url", url, nullptr);
  return GST_VOICE_SIGNALLER (client);
}

GstVoiceSignaller *
gst_voice_signaller_new_for_listen (const gchar *listen)
{
  g_return_val_if_fail (listen != nullptr, nullptr);
  auto *server = gst_voice_http_server_signaller_new ();
  g_object_set (server, "listen", listen, "serve-page", TRUE, nullptr);
  return GST_VOICE_SIGNALLER (server);
}
