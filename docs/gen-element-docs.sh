#!/usr/bin/env bash
# Regenerates the pad and property tables of docs/elements/*.md from the GStreamer registry
# (gst-inspect-1.0 with the built plugin), between the markers
#
#   <!-- gen-element-docs: pads ELEMENT -->        ...        <!-- /gen-element-docs -->
#   <!-- gen-element-docs: properties ELEMENT -->  ...        <!-- /gen-element-docs -->
#
# Usage: docs/gen-element-docs.sh [--check] PLUGIN_DIR
#   PLUGIN_DIR  the build's plugin folder, e.g. build/plugins/voicecall
#   --check     change nothing; fail (and show the diff) if a page differs from the registry
#
# Only the element's own properties are listed (not those it inherits from GstBin).
set -euo pipefail

check=false
if [ "${1:-}" = "--check" ]; then
  check=true
  shift
fi
if [ $# -ne 1 ] || [ ! -d "$1" ]; then
  echo "usage: $0 [--check] PLUGIN_DIR (e.g. build/plugins/voicecall)" >&2
  exit 2
fi
plugin_dir=$(cd "$1" && pwd)
pages_dir=$(cd "$(dirname "$0")/elements" && pwd)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

export LC_ALL=C
export GST_PLUGIN_PATH="$plugin_dir"
export GST_PLUGIN_PATH_1_0="$plugin_dir"
# A registry of our own: never read or write the user's.
export GST_REGISTRY_1_0="$tmp/registry.bin"
export GST_REGISTRY="$tmp/registry.bin"

inspect () {
  if ! gst-inspect-1.0 "$1" > "$tmp/$1.txt" 2> "$tmp/$1.err"; then
    echo "gst-inspect-1.0 $1 failed (is $plugin_dir the built plugin folder?):" >&2
    cat "$tmp/$1.err" >&2
    exit 1
  fi
}

# Names of the properties every bin has.
inspect bin
awk '/^Element Properties:/ { p = 1; next } p && /^[^ ]/ { p = 0 }
     p && /^  [a-z]/ { n = $1; sub(/:.*/, "", n); print n }' "$tmp/bin.txt" > "$tmp/inherited"

# The pad templates of an inspected element as a Markdown table.
pads_table () {
  awk '
    function flush () {
      if (name != "")
        printf "| `%s` | %s | %s | `%s` |\n", name, dir, avail, caps
      name = ""
    }
    /^Pad Templates:/ { p = 1; print "| Pad | Direction | Availability | Caps |"
                        print "|---|---|---|---|"; next }
    p && /^[^ ]/ { flush (); p = 0 }
    !p { next }
    /^  [A-Z]+ template:/ {
      flush ()
      dir = tolower ($1); name = $3; gsub (/'"'"'/, "", name); caps = ""; avail = ""; padtype = 0
      next
    }
    /^    Availability:/ { s = $0; sub (/^ +Availability: /, "", s); avail = tolower (s); next }
    /^    Capabilities:/ { next }
    /^    Type:/ { padtype = 1; next }  # a pad subclass and its properties: not caps
    padtype { next }
    /^      [^ ]/ { s = $0; sub (/^ +/, "", s); caps = (caps == "" ? s : caps "; " s); next }
    /^       +[a-z-]+: / {
      s = $0; sub (/^ +/, "", s); f = s; sub (/:.*/, "", f); v = s; sub (/^[^:]*: /, "", v)
      caps = caps ", " f "=" v; next
    }
    END { flush () }
  ' "$1"
}

# The element's own properties as a Markdown table.
props_table () {
  awk -v inherited="$tmp/inherited" '
    BEGIN {
      while ((getline line < inherited) > 0) skip[line] = 1
      print "| Property | Type | Default | Range / values | Changeable | Description |"
      print "|---|---|---|---|---|---|"
    }
    function md (s) { gsub (/\|/, "\\|", s); return s }
    function flush () {
      if (name != "" && !(name in skip))
        printf "| `%s` | %s | %s | %s | %s | %s |\n", name, type, def, range, when, md(blurb)
      name = ""
    }
    /^Element Properties:/ { p = 1; next }
    p && /^[^ ]/ { flush (); p = 0 }
    !p { next }
    /^  [a-z]/ {
      flush ()
      s = $0; sub (/^  /, "", s)
      name = s; sub (/ *:.*$/, "", name)
      blurb = s; sub (/^[a-z0-9-]+ *: ?/, "", blurb)
      type = ""; def = ""; range = ""; when = "never (read-only)"
      next
    }
    /^ +flags:/ {
      if ($0 ~ /changeable only in NULL or READY/) when = "NULL, READY"
      else if ($0 ~ /changeable in NULL, READY, PAUSED or PLAYING/) when = "any state"
      else if ($0 ~ /writable/) when = "any state"
      next
    }
    /^ +\([0-9-]+\): / {
      # an enum value: "(10): 10   - 10 ms"
      v = $0; sub (/^ +\([0-9-]+\): /, "", v); sub (/ .*$/, "", v)
      range = (range == "" ? "`" v "`" : range ", `" v "`")
      next
    }
    /^                        [A-Z]/ {
      s = $0; sub (/^ +/, "", s); sub (/ +$/, "", s)
      if (s ~ /^Enum /) {
        t = s; sub (/^Enum "/, "", t); sub (/".*$/, "", t)
        type = "enum " t
        d = s; sub (/^.*Default: [0-9-]+, "/, "", d); sub (/"$/, "", d)
        def = "`" d "`"
      } else if (s ~ /^Object of type /) {
        t = s; sub (/^Object of type "/, "", t); sub (/"$/, "", t)
        type = "object " t; def = "—"
      } else {
        t = s; sub (/\..*$/, "", t)
        types["Boolean"] = "boolean"; types["Integer"] = "int"; types["Unsigned Integer"] = "uint"
        types["Integer64"] = "int64"; types["Unsigned Integer64"] = "uint64"
        types["String"] = "string"; types["Double"] = "double"; types["Float"] = "float"
        type = (t in types) ? types[t] : t
        d = s; sub (/^.*Default: /, "", d)
        if (d == "null" || d == "\"\"") d = "(empty)"
        else d = "`" d "`"
        def = d
        if (s ~ /Range: /) {
          r = s; sub (/^.*Range: /, "", r); sub (/ Default:.*$/, "", r); range = r
        }
      }
      next
    }
    END { flush () }
  ' "$1"
}

shopt -s nullglob
pages=("$pages_dir"/*.md)
if [ ${#pages[@]} -eq 0 ]; then
  echo "no pages in $pages_dir" >&2
  exit 1
fi

status=0
for page in "${pages[@]}"; do
  out="$tmp/$(basename "$page")"
  : > "$out"
  generating=false
  while IFS= read -r line || [ -n "$line" ]; do
    if [[ "$line" =~ ^\<\!--\ gen-element-docs:\ (pads|properties)\ ([a-z0-9]+)\ --\>$ ]]; then
      what=${BASH_REMATCH[1]}
      element=${BASH_REMATCH[2]}
      [ -f "$tmp/$element.txt" ] || inspect "$element"
      printf '%s\n' "$line" >> "$out"
      if [ "$what" = pads ]; then
        pads_table "$tmp/$element.txt" >> "$out"
      else
        props_table "$tmp/$element.txt" >> "$out"
      fi
      generating=true
    elif [ "$line" = "<!-- /gen-element-docs -->" ]; then
      printf '%s\n' "$line" >> "$out"
      generating=false
    elif ! $generating; then
      printf '%s\n' "$line" >> "$out"
    fi
  done < "$page"
  if $generating; then
    echo "$page: a gen-element-docs block is not closed" >&2
    exit 1
  fi

  if cmp -s "$page" "$out"; then
    continue
  fi
  if $check; then
    echo "$page differs from the registry (run docs/gen-element-docs.sh $1):" >&2
    diff -u "$page" "$out" >&2 || true
    status=1
  else
    cp "$out" "$page"
    echo "updated $page"
  fi
done
exit $status
