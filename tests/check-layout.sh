#!/usr/bin/env bash
# The element knows the signaller interface only: no file in plugins/ may include a protocol's
# header, test for a protocol's type or test a URL's scheme (signallers come from
# gst/signallerfactory.h).
set -u
cd "$(dirname "$0")/.."
found=$(grep -rnE '#include "(http[a-z]*|janus)signaller\.h"|GST_IS_VOICE_(HTTP|JANUS)|GST_TYPE_VOICE_(HTTP|JANUS)|"(https?|januss?)://"' plugins/)
if [ -n "$found" ]; then
  echo "plugins/ reaches into a signaller implementation:"
  echo "$found"
  exit 1
fi
echo "plugins/ uses the signaller interface only"
