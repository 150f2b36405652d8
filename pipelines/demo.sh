#!/usr/bin/env bash
# Installs what the demo needs, builds the plugin and the CLI, and runs a demo call between two
# parties on this machine: test tones both ways, what each heard saved to WAV, and its frequency
# printed. (tests/install-deps.sh installs what the whole test suite needs: Chromium, coturn,
# aiortc, npm...; the demo needs none of them.)
set -euo pipefail
cd "$(dirname "$0")/.."
PACKAGES=(
  # build
  meson ninja-build pkg-config g++
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  libnice-dev libsoup-3.0-dev libjson-glib-dev
  # run: opus, webrtcdsp, webrtcbin, nice, wavenc
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-nice
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
[ -d build ] || meson setup build
ninja -C build pipelines/gst-voicecall plugins/voicecall/libgstvoicecall.so
exec build/pipelines/gst-voicecall demo --out-dir "${OUT_DIR:-demo-out}" "$@"
