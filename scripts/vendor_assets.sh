#!/usr/bin/env bash
# Refresh the third-party JavaScript the site serves itself (book/_assets), from the npm registry.
# Run by hand (`make vendor`) when bumping a version; the build never needs the network.
set -euo pipefail
cd "$(dirname "$0")/../book/_assets"
MATHJAX=mathjax@3.2.2
REQUIREJS=requirejs@2.3.7
WIDGETS=@jupyter-widgets/html-manager@1.0.6   # the version myst-nb 1.4 embeds by default
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "$MATHJAX" "$REQUIREJS" "$WIDGETS" >/dev/null)
for tgz in "$tmp"/*.tgz; do mkdir -p "${tgz%.tgz}" && tar xzf "$tgz" -C "${tgz%.tgz}"; done
mj=$(echo "$tmp"/mathjax-*/package)
rm -rf mathjax && mkdir -p mathjax/output/chtml/fonts mathjax/input/tex
cp "$mj/es5/tex-chtml.js" "$mj/LICENSE" mathjax/
cp -r "$mj/es5/output/chtml/fonts/woff-v2" mathjax/output/chtml/fonts/
cp -r "$mj/es5/input/tex/extensions" mathjax/input/tex/   # loaded on demand by \require/autoload
cp -r "$mj/es5/ui" mathjax/                               # the right-click menu
cp "$tmp"/requirejs-*/package/require.js require.js
cp "$tmp"/jupyter-widgets-html-manager-*/package/dist/embed-amd.js embed-amd.js
rm -rf widgets && mkdir widgets   # its icon fonts (woff2, woff), found via widgets-config.js
cp "$tmp"/jupyter-widgets-html-manager-*/package/dist/*.woff* widgets/
sha256sum require.js embed-amd.js mathjax/tex-chtml.js
