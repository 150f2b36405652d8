#!/usr/bin/env bash
# Installs the dependencies, builds, and runs a demo call between two parties on this machine:
# test tones both ways, what each heard saved to WAV, and its frequency printed.
set -euo pipefail
cd "$(dirname "$0")/.."
tests/install-deps.sh
[ -d build ] || meson setup build
ninja -C build
exec build/pipelines/gst-voicecall demo --out-dir "${OUT_DIR:-demo-out}" "$@"
