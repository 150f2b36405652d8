#!/bin/bash
# Installs gst-voicecall into a clean place, as a user would get it, and makes a call with the
# installed elements only (no build tree, no GST_PLUGIN_PATH), checked by tone.
#
#   check-package.sh staged SOURCE BUILD   meson install --destdir from BUILD, packed with dpkg-deb
#                                          (seconds: nothing is compiled)
#   check-package.sh deb SOURCE            dpkg-buildpackage -us -uc -b of a copy of SOURCE, then
#                                          lintian (errors fail; warnings and notes are printed).
#                                          ~75 s on 2 cores: it compiles everything again
#
# Then, in both: the .debs are unpacked with dpkg -x into an empty root; the core library must
# have its SONAME and no binary an RPATH into a build tree; gst-inspect-1.0 must load the
# voicecall plugin from the root's plugin dir (GST_PLUGIN_SYSTEM_PATH_1_0, a fresh registry,
# LD_LIBRARY_PATH to the root's libdir); the root's gst-voicecall demo makes a call through the
# installed elements and must hear both tones (it exits non-zero otherwise).
set -euo pipefail
mode=$1
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$2" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root" "$work/debs"
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
t0=$(date +%s)
step () { echo "[$(( $(date +%s) - t0 )) s] $*"; }
fail () { echo "FAIL: $*"; exit 1; }

case $mode in
  staged)
    build=$(cd "$3" && pwd)
    prefix=$(meson introspect "$build" --buildoptions |
      /usr/bin/python3 -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))')
    step "meson install --destdir (prefix $prefix)"
    meson install -C "$build" --destdir "$work/stage" --quiet --no-rebuild > "$work/install.log" 2>&1 ||
      { cat "$work/install.log"; fail "meson install failed"; }
    # One package of what was installed, moved to /usr as a distribution would have it.
    mkdir -p "$work/pkg/DEBIAN" "$work/pkg/usr"
    mv "$work/stage$prefix"/* "$work/pkg/usr/"
    cat > "$work/pkg/DEBIAN/control" <<EOF
Package: gst-voicecall-staged
Version: $(meson introspect "$build" --projectinfo | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])')
Architecture: $(dpkg --print-architecture)
Maintainer: gst-voicecall tests <tests@example.invalid>
Description: gst-voicecall as meson installs it (tests/packaging)
EOF
    dpkg-deb --root-owner-group -Zgzip -z1 --build "$work/pkg" "$work/debs/staged.deb" > /dev/null
    ;;
  deb)
    step "copying the source"
    mkdir "$work/src"
    tar -C "$src" -c --exclude=./.git --exclude='./build*' --exclude='./obj-*' --exclude=node_modules \
      --exclude=./debian/tmp . | tar -C "$work/src" -x
    step "dpkg-buildpackage -us -uc -b"
    (cd "$work/src" && DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-} parallel=2" \
      dpkg-buildpackage -us -uc -b > "$work/build.log" 2>&1) || { tail -40 "$work/build.log"; fail "dpkg-buildpackage failed"; }
    step "lintian"
    lintian -I --tag-display-limit 0 "$work"/*.changes > "$work/lintian.log" 2>&1 || true
    sed 's/^/  lintian: /' "$work/lintian.log"
    if grep -qE 'Skipping|No packages selected' "$work/lintian.log"; then fail "lintian did not check the packages"; fi
    if grep -q '^E: ' "$work/lintian.log"; then fail "lintian reports errors"; fi
    mv "$work"/*.deb "$work/debs/"
    (cd "$work/debs" && ls)
    ;;
  *) fail "mode: staged or deb" ;;
esac

step "dpkg -x into an empty root"
for deb in "$work"/debs/*.deb; do
  case $deb in *-dbgsym_*) continue ;; esac
  dpkg -x "$deb" "$root"
done
lib=$root/usr/lib/$multiarch
plugin_dir=$lib/gstreamer-1.0
[ -f "$plugin_dir/libgstvoicecall.so" ] || fail "no plugin in /usr/lib/$multiarch/gstreamer-1.0: $(cd "$root" && find . -type f)"
soname=$(readelf -d "$lib"/libgstvoicecall-1.0.so.0.* | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libgstvoicecall-1.0.so.0 ] || fail "the core library's SONAME is '$soname'"
for elf in "$root/usr/bin/gst-voicecall" "$plugin_dir/libgstvoicecall.so" "$lib"/libgstvoicecall-1.0.so.0.*; do
  if readelf -d "$elf" | grep -E 'R(UN)?PATH' | grep -Fq "$src"; then
    fail "$(basename "$elf") has an RPATH into the source/build tree: $(readelf -d "$elf" | grep -E 'R(UN)?PATH')"
  fi
done
for h in signaller.h httpclientsignaller.h httpserversignaller.h janussignaller.h; do
  [ -f "$root/usr/include/gstreamer-1.0/gst/voicecall/$h" ] || fail "header gst/voicecall/$h not installed"
done
[ -f "$lib/pkgconfig/gstreamer-voicecall-1.0.pc" ] || fail "no gstreamer-voicecall-1.0.pc"
echo "OK: SONAME $soname, no build-tree RPATH, headers and .pc installed"

# Only the system's plugins and the root's; nothing from the build tree.
unset GST_PLUGIN_PATH GST_PLUGIN_PATH_1_0
export GST_PLUGIN_SYSTEM_PATH_1_0="$plugin_dir:/usr/lib/$multiarch/gstreamer-1.0"
export GST_REGISTRY_1_0=$work/registry.bin
export LD_LIBRARY_PATH=$lib
step "gst-inspect-1.0 voicecall"
gst-inspect-1.0 voicecall > "$work/inspect.log" 2>&1 || { cat "$work/inspect.log"; fail "gst-inspect-1.0 does not load the installed plugin"; }
grep -F "Filename" "$work/inspect.log" | grep -Fq "$plugin_dir/libgstvoicecall.so" ||
  fail "the plugin was not loaded from the root: $(grep -F Filename "$work/inspect.log")"
for element in voicecapturebin voiceplaybackbin; do
  gst-inspect-1.0 "$element" > /dev/null 2>&1 || fail "gst-inspect-1.0 $element fails"
done
echo "  $(grep -F Filename "$work/inspect.log" | tr -s ' ')"
step "gst-voicecall demo (installed CLI and elements)"
"$root/usr/bin/gst-voicecall" demo --seconds 6 --out-dir "$work/demo" > "$work/demo.log" 2>&1 ||
  { cat "$work/demo.log"; fail "the installed demo did not hear both tones"; }
grep -E 'heard|demo: OK' "$work/demo.log" | sed 's/^/  /'
if grep -E 'CRITICAL|WARNING' "$work/demo.log" "$work/inspect.log" | grep -v gupnp-context; then
  fail "GLib criticals or warnings"
fi
step "an application's own signaller, built against the installed headers and .pc"
mkdir "$work/pc"   # the .pc with its prefix moved into the root (GStreamer's own stay the system's)
sed "s|^prefix=.*|prefix=$root/usr|" "$lib/pkgconfig/gstreamer-voicecall-1.0.pc" > "$work/pc/gstreamer-voicecall-1.0.pc"
PKG_CONFIG_PATH=$work/pc pkg-config --cflags --libs gstreamer-voicecall-1.0 > "$work/pc.txt" ||
  fail "pkg-config gstreamer-voicecall-1.0 fails"
# shellcheck disable=SC2046
gcc -o "$work/custom-signaller" "$here/custom-signaller.c" $(cat "$work/pc.txt") > "$work/cc.log" 2>&1 ||
  { cat "$work/cc.log"; fail "the installed headers do not build an application"; }
"$work/custom-signaller" 2>&1 | tee "$work/custom.log" | sed 's/^/  /'
grep -q '^OK' "$work/custom.log" || fail "the element does not use an application's signaller"
grep -E 'CRITICAL|WARNING' "$work/custom.log" && fail "GLib criticals or warnings"
if command -v systemd-analyze > /dev/null; then
  step "the example systemd unit (systemd-analyze verify, ExecStart in the root)"
  mkdir "$work/unit"
  sed "s|/usr/bin/gst-voicecall|$root/usr/bin/gst-voicecall|" "$src/examples/systemd/gst-voicecall.service" \
    > "$work/unit/gst-voicecall.service"
  SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no "$work/unit/gst-voicecall.service" \
    > "$work/unit.log" 2>&1 || { cat "$work/unit.log"; fail "systemd-analyze verify rejects the unit"; }
  if [ -s "$work/unit.log" ]; then cat "$work/unit.log"; fail "systemd-analyze verify complains about the unit"; fi
  echo "  OK: examples/systemd/gst-voicecall.service verifies"
fi
step "OK: installed package ($mode) loads and calls"
