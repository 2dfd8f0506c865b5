#!/usr/bin/env bash
# Rebuilds web/static/vendor/ from pinned npm packages, so the command-post map and every page
# work with no internet (floodpost never loads a CDN). Run from the repository root:
#   bash scripts/vendor_assets.sh
# Needs only `npm` (for `npm pack`, which downloads a package tarball from the registry without
# installing anything) plus tar and openssl. Each tarball is checked against the integrity hash
# pinned below before anything is copied; nothing under node_modules is created or committed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENDOR="$ROOT/web/static/vendor"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# package@version  integrity (sha512, as `npm view PKG@VER dist.integrity` prints it)
PACKAGES=(
  "leaflet@1.9.4 sha512-nxS1ynzJOmOlHp+iL3FyWqK89GtNL8U8rvlMOsQdTTssxZwCXh8N2NB3GDQOL+YR3XnWyZAxwQixURb+FA74PA=="
  "jquery@3.7.1 sha512-m4avr8yL8kmFN8psrbFFFmB/If14iN5o9nw/NgnnM+kybDJpRsAynV2BsfpTYrTRysYUdADVD7CkUUizgkpLfg=="
  "bootstrap@5.3.8 sha512-HP1SZDqaLDPwsNiqRqi5NcP0SSXciX2s9E+RyqJIIqGo+vJeN5AJVM98CXmW/Wux0nQ5L7jeWUdplCEf0Ee+tg=="
  "@fortawesome/fontawesome-free@6.7.2 sha512-JUOtgFW6k9u4Y+xeIaEiLr3+cjoUPiAuLXoyKOJSia6Duzb7pq+A76P9ZdPDoAoxHdHzq6gE9/jKBGXlZT8FbA=="
  "leaflet.awesome-markers@2.0.5 sha512-Ne/xDjkGyaujwNVVkv2tyXQUV0ZW7gZ0Mo0FuQY4jp2qWrvXi0hwDBvmZyF/8YOvybyMabTMM/mFWCTd1jZIQA=="
  "@neos21/bootstrap3-glyphicons@1.0.7 sha512-JfvPdx8W2+kVhW+8fj2kIJNS0tesU21hrWF7TBHtYDHpVfcFGU/yn3Eh02sJiNfZABkutP3oU0Ftw8LGF43Jng=="
  "leaflet.markercluster@1.5.3 sha512-vPTw/Bndq7eQHjLBVlWpnGeLa3t+3zGiuM7fJwCkiMFq+nmRuG3RI3f7f4N4TDX7T4NpbAXpR2+NTRSEGfCSeA=="
  "chart.js@4.5.1 sha512-GIjfiT9dbmHRiYi6Nl2yFCq7kkwdkp1W/lp2J99rX0yo9tgJGn3lKQATztIjb5tVtevcBtIdICNWqlq5+E8/Pw=="
)

fetch() {  # fetch PKG@VER INTEGRITY -> unpacked into $WORK/<name>/package
  local spec="$1" want="$2" name dir tgz got
  name="${spec%@*}"; name="${name//\//_}"; name="${name//@/}"
  dir="$WORK/$name"; mkdir -p "$dir"
  (cd "$dir" && npm pack --silent "$spec" >/dev/null)
  tgz="$(ls "$dir"/*.tgz)"
  got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  if [[ "$got" != "$want" ]]; then
    echo "integrity mismatch for $spec: $got" >&2; exit 1
  fi
  tar -xzf "$tgz" -C "$dir"
  echo "$dir/package"
}

put() {  # put SRC DEST_RELATIVE_TO_VENDOR
  mkdir -p "$(dirname "$VENDOR/$2")"
  cp "$1" "$VENDOR/$2"
}

rm -rf "$VENDOR"
mkdir -p "$VENDOR"
for entry in "${PACKAGES[@]}"; do
  spec="${entry%% *}"; integrity="${entry##* }"
  pkg="$(fetch "$spec" "$integrity")"
  case "$spec" in
    leaflet@*)
      d=leaflet-1.9.4
      put "$pkg/dist/leaflet.js" "$d/leaflet.js"
      put "$pkg/dist/leaflet.css" "$d/leaflet.css"
      for f in "$pkg"/dist/images/*.png; do put "$f" "$d/images/$(basename "$f")"; done
      put "$pkg/LICENSE" "$d/LICENSE" ;;
    jquery@*)
      d=jquery-3.7.1
      put "$pkg/dist/jquery.min.js" "$d/jquery.min.js"
      put "$pkg/LICENSE.txt" "$d/LICENSE.txt" ;;
    bootstrap@*)
      d=bootstrap-5.3.8
      put "$pkg/dist/css/bootstrap.min.css" "$d/css/bootstrap.min.css"
      put "$pkg/dist/js/bootstrap.bundle.min.js" "$d/js/bootstrap.bundle.min.js"
      put "$pkg/LICENSE" "$d/LICENSE" ;;
    @fortawesome/*)
      d=fontawesome-free-6.7.2
      put "$pkg/css/all.min.css" "$d/css/all.min.css"
      for f in "$pkg"/webfonts/*; do put "$f" "$d/webfonts/$(basename "$f")"; done
      put "$pkg/LICENSE.txt" "$d/LICENSE.txt" ;;
    leaflet.awesome-markers@*)
      d=leaflet.awesome-markers-2.0.5
      put "$pkg/dist/leaflet.awesome-markers.js" "$d/leaflet.awesome-markers.js"
      put "$pkg/dist/leaflet.awesome-markers.css" "$d/leaflet.awesome-markers.css"
      for f in "$pkg"/dist/images/*.png; do put "$f" "$d/images/$(basename "$f")"; done
      put "$pkg/LICENSE" "$d/LICENSE" ;;
    @neos21/*)
      # Bootstrap 3's glyphicons split out of bootstrap.css, which is what folium's
      # "bootstrap-glyphicons.css" (a Bootstrap 3.0.0 build) provides.
      d=bootstrap3-glyphicons-1.0.7
      put "$pkg/dist/css/bootstrap3-glyphicons.min.css" "$d/css/bootstrap3-glyphicons.min.css"
      for f in "$pkg"/dist/fonts/*; do put "$f" "$d/fonts/$(basename "$f")"; done
      put "$pkg/LICENSE" "$d/LICENSE" ;;
    leaflet.markercluster@*)
      d=leaflet.markercluster-1.5.3
      put "$pkg/dist/leaflet.markercluster.js" "$d/leaflet.markercluster.js"
      put "$pkg/dist/MarkerCluster.css" "$d/MarkerCluster.css"
      put "$pkg/dist/MarkerCluster.Default.css" "$d/MarkerCluster.Default.css"
      put "$pkg/MIT-LICENCE.txt" "$d/MIT-LICENCE.txt" ;;
    chart.js@*)
      d=chart.js-4.5.1
      put "$pkg/dist/chart.umd.min.js" "$d/chart.umd.min.js"
      put "$pkg/LICENSE.md" "$d/LICENSE.md" ;;
  esac
done

# folium's leaflet.awesome.rotate.css (the `angle` of folium.Icon) is published on no registry:
# it is one rule per whole degree, so we generate the equivalent ourselves.
d="$VENDOR/leaflet.awesome.rotate-1.0"
mkdir -p "$d"
{
  echo "/* .fa-rotate-N rotates an awesome-marker icon by N degrees (folium.Icon(angle=N)). */"
  for i in $(seq 0 359); do
    echo ".fa-rotate-$i{-webkit-transform:rotate(${i}deg);transform:rotate(${i}deg)}"
  done
} >"$d/leaflet.awesome.rotate.css"
cat >"$d/README.md" <<'EOF'
# leaflet.awesome.rotate 1.0 (written for floodpost)

folium loads `leaflet.awesome.rotate.min.css` from the folium GitHub repository; it is not
published as an npm package. This file is floodpost's own equivalent, generated by
`scripts/vendor_assets.sh`: one `.fa-rotate-N` class per whole degree 0–359, which is what
`folium.Icon(angle=N)` puts on the icon. Licence: MIT, as part of floodpost.
EOF

# Drop source-map comments: the maps are not vendored, and a DevTools user would otherwise
# see a request that can never succeed offline.
find "$VENDOR" \( -name '*.js' -o -name '*.css' \) -print0 |
  xargs -0 sed -i -E 's@^/[/*]# sourceMappingURL=[^ ]*( \*/)?$@@'

echo "vendored into $VENDOR:"
(cd "$VENDOR" && ls -1d */)
