#!/usr/bin/env bash
# Refreshes the vendored front-end assets from the npm registry at the pinned versions.
# The app must work offline, so nothing is loaded from a CDN at run time.
set -euo pipefail
NHSUK=10.6.1      # must match nhsuk-frontend-jinja 0.10.2 (see its compatibility table)
HTMX=2.0.8
AXE=4.11.0        # used by the browser tests only
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm init -y >/dev/null && npm install --no-audit --no-fund --silent \
  "nhsuk-frontend@$NHSUK" "htmx.org@$HTMX" "axe-core@$AXE")
rm -rf "$here/nhsuk-frontend" "$here/htmx" "$here/axe-core"
mkdir -p "$here/nhsuk-frontend" "$here/htmx" "$here/axe-core"
src="$tmp/node_modules/nhsuk-frontend/dist/nhsuk"
cp -r "$src/assets" "$here/nhsuk-frontend/assets"
cp "$src/nhsuk-frontend.min.js" "$here/nhsuk-frontend/"
# The stylesheet points at /assets/ and at Frutiger on assets.nhs.uk; make asset paths relative
# and drop the remote font faces so the browser never reaches for the network (Arial fallback).
sed -e 's#url(/assets/#url(assets/#g' "$src/nhsuk-frontend.min.css" \
  | perl -0pe 's/\@font-face\{[^}]*assets\.nhs\.uk[^}]*\}//g' > "$here/nhsuk-frontend/nhsuk-frontend.min.css"
cp "$tmp/node_modules/htmx.org/dist/htmx.min.js" "$here/htmx/"
cp "$tmp/node_modules/axe-core/axe.min.js" "$here/axe-core/"
cat > "$here/VERSIONS" <<EOV
nhsuk-frontend $NHSUK
htmx.org $HTMX
axe-core $AXE
EOV
echo "vendored: nhsuk-frontend $NHSUK, htmx.org $HTMX, axe-core $AXE"
