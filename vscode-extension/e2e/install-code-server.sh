#!/usr/bin/env bash
# Installs code-server 4.99.4 (VS Code 1.99.3 in the browser, the last
# release whose engines accept Node 20) and playwright-core from the npm
# registry alone, for `make test-vscode`. Nothing else is downloaded:
# install scripts are skipped (code-server's postinstall fetches ripgrep from
# GitHub), native modules are compiled here against Debian's Node headers,
# and ripgrep is Debian's. The result lives outside the tree, keyed by this
# folder's package-lock.json, so reruns take no time:
#   R2C_CODE_SERVER_DIR (default /var/cache/r2c/code-server-4.99.4)
#   R2C_NPM_CACHE       (default /var/cache/r2c/npm)
# Prints the install folder on its last line.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dest="${R2C_CODE_SERVER_DIR:-/var/cache/r2c/code-server-4.99.4}"
cache="${R2C_NPM_CACHE:-/var/cache/r2c/npm}"
key="$(cat "$here/package.json" "$here/package-lock.json" "$0" | sha256sum | cut -c1-16)"
if [ -f "$dest/.r2c-installed" ] && [ "$(cat "$dest/.r2c-installed")" = "$key" ]; then
  echo "$dest"
  exit 0
fi
for tool in node npm rg; do
  command -v "$tool" >/dev/null || { echo "install-code-server: $tool is missing (apt-get install nodejs npm ripgrep)" >&2; exit 1; }
done
[ -f /usr/include/node/node.h ] || { echo "install-code-server: Node headers missing in /usr/include/node (apt-get install libnode-dev)" >&2; exit 1; }
gyp="$(dirname "$(command -v npm)")/../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js"
[ -f "$gyp" ] || gyp="/usr/share/nodejs/node-gyp/bin/node-gyp.js"
[ -f "$gyp" ] || { echo "install-code-server: node-gyp not found next to npm" >&2; exit 1; }

start=$(date +%s)
tmp="$dest.tmp.$$"
trap 'rm -rf "$tmp"' EXIT
rm -rf "$tmp"
mkdir -p "$tmp" "$cache"
cp "$here/package.json" "$here/package-lock.json" "$tmp/"
npmq() { npm "$@" --cache "$cache" --no-audit --no-fund --loglevel=error --ignore-scripts; }
(cd "$tmp" && npmq ci)

cs="$tmp/node_modules/code-server"
# code-server's own native module: argon2 (password hashing; compiled even
# though the test runs with auth: none, because the server loads it).
(cd "$tmp/node_modules/argon2" && node ../@mapbox/node-pre-gyp/bin/node-pre-gyp install --build-from-source --nodedir=/usr)

# VS Code's server dependencies, pinned by its npm-shrinkwrap.json (`npm ci`
# refuses it: the shrinkwrap lacks one of tslib's versions; code-server's own
# postinstall uses `npm install` too).
(cd "$cs/lib/vscode" && npmq install --omit=dev)
for m in @vscode/spdlog node-pty native-watchdog @vscode/deviceid; do
  (cd "$cs/lib/vscode/node_modules/$m" && node "$gyp" rebuild --nodedir=/usr -j 2 >/dev/null)
done
mkdir -p "$cs/lib/vscode/node_modules/@vscode/ripgrep/bin"
ln -sf "$(command -v rg)" "$cs/lib/vscode/node_modules/@vscode/ripgrep/bin/rg"
# What code-server's postinstall.sh does besides downloading.
ln -sfn node_modules "$cs/lib/vscode/node_modules.asar"
(cd "$cs/lib/vscode/bin/remote-cli" && ln -sf code-linux.sh code-server)
(cd "$cs/lib/vscode/bin/helpers" && ln -sf browser-linux.sh browser.sh)
(cd "$cs/lib/vscode/extensions" && npmq install && node postinstall.mjs)

echo "$key" > "$tmp/.r2c-installed"
rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
echo "install-code-server: installed in $(( $(date +%s) - start ))s" >&2
echo "$dest"
