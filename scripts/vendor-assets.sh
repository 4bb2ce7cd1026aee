#!/usr/bin/env bash
# Vendors the browser libraries into taizhang/web/static/vendor/ so nothing loads from a CDN and a fresh
# install needs no Node. Run it (with npm) only to upgrade; the result is committed.
# htmx is pinned to 2.0.x: 4.x changed its attributes and events.
set -euo pipefail
HTMX=2.0.11
ECHARTS=6.1.0
LEAFLET=1.9.4
cd "$(dirname "$0")/.."
out=taizhang/web/static/vendor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "htmx.org@$HTMX" "echarts@$ECHARTS" "leaflet@$LEAFLET" >/dev/null)
for tgz in "$work"/*.tgz; do mkdir -p "$work/x" && tar -xzf "$tgz" -C "$work/x" && mv "$work/x/package" "$work/$(basename "$tgz" .tgz)" && rm -rf "$work/x"; done
rm -rf "$out" && mkdir -p "$out/leaflet/images"
cp "$work/htmx.org-$HTMX/dist/htmx.min.js" "$out/htmx.min.js"
cp "$work/htmx.org-$HTMX/LICENSE" "$out/htmx.LICENSE.txt"
cp "$work/echarts-$ECHARTS/dist/echarts.min.js" "$out/echarts.min.js"
cp "$work/echarts-$ECHARTS/LICENSE" "$out/echarts.LICENSE.txt"
cp "$work/leaflet-$LEAFLET/dist/leaflet.js" "$work/leaflet-$LEAFLET/dist/leaflet.css" "$out/leaflet/"
# The source map is not shipped: drop its reference, which collectstatic's hashed names (production) refuse.
sed -i '/sourceMappingURL=/d' "$out/leaflet/leaflet.js"
cp "$work/leaflet-$LEAFLET/dist/images/"*.png "$out/leaflet/images/"
cp "$work/leaflet-$LEAFLET/LICENSE" "$out/leaflet/LICENSE.txt"
printf 'htmx.org %s\necharts %s\nleaflet %s\n' "$HTMX" "$ECHARTS" "$LEAFLET" > "$out/VERSIONS"
echo "vendored into $out:"; cat "$out/VERSIONS"
