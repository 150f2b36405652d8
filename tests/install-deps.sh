#!/usr/bin/env bash
# Installs what gst-voicecall needs to build and test on Debian 12 (run as root or with sudo).
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
PACKAGES=(
  # build
  meson ninja-build pkg-config g++
  # the fuzz targets (clang + libFuzzer) and the sanitizer build (gcc's libasan/libubsan
  # come with g++)
  clang libclang-rt-14-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  libnice-dev libsoup-3.0-dev libjson-glib-dev libopus-dev libssl-dev
  # run: webrtcbin, webrtcdsp, opus, nice
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-nice
  # interop peers, the network lab, TURN, speech for the experiment
  python3-aiortc python3-aiohttp python3-numpy python3-matplotlib
  iproute2 iptables libnetfilter-queue-dev coturn espeak-ng
  # the Janus tests (suite janus): each starts its own Janus on a free port (the package's
  # systemd service is not used)
  janus
  python3-gi gir1.2-gstreamer-1.0
  # the browser test
  chromium
  # the Debian package (debian/, tests/packaging) and the HTTPS tests' certificates
  dpkg-dev debhelper lintian fakeroot openssl
)
# Node.js may come from elsewhere than Debian (NodeSource ships npm inside nodejs): only ask
# Debian for it when the command is missing.
command -v node >/dev/null || PACKAGES+=(nodejs)
command -v npm >/dev/null || PACKAGES+=(npm)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# playwright-core for the browser test (it drives Debian's chromium; no browser download)
if [ ! -d "$(dirname "$0")/browser/node_modules/playwright-core" ]; then
  (cd "$(dirname "$0")/browser" && npm ci --no-audit --no-fund)
fi
