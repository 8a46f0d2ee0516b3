#!/usr/bin/env bash
# make test-vscode: installs code-server (cached, see install-code-server.sh),
# then runs lsp/e2e TestVSCode with the .vsix `make vsix` built. Screenshots
# and code-server's log go to .ci/artifacts/vscode/ (git-ignored).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
for tool in chromium rg node; do
  command -v "$tool" >/dev/null || { echo "test-vscode: $tool is missing (Debian: apt-get install chromium ripgrep nodejs npm)" >&2; exit 1; }
done
t0=$(date +%s)
cs="$("$root/vscode-extension/e2e/install-code-server.sh" | tail -1)"
t1=$(date +%s)
echo "test-vscode: code-server ready in $((t1 - t0))s ($cs)"
art="$root/.ci/artifacts/vscode"
rm -rf "$art"
mkdir -p "$art"
cd "$root"
R2C_VSIX="$root/vscode-extension/r2c.vsix" R2C_CODE_SERVER="$cs" R2C_ARTIFACTS="$art" CHROMIUM="$(command -v chromium)" \
  go test -count=1 -timeout 15m -run '^TestVSCode$' -v ./lsp/e2e
echo "test-vscode: scenario passed in $(( $(date +%s) - t1 ))s; screenshots in $art"
