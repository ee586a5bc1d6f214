#!/usr/bin/env bash
# Installs the test host: code-server 4.100.3 (VS Code 1.100.3 workbench + Node extension host),
# Debian's Chromium, and what code-server's native modules need. Idempotent; cached under .cache/host.
# It is test tooling, kept out of the extension's own dependencies.
set -euo pipefail
cd "$(dirname "$0")/../.."
HOST_DIR="$PWD/.cache/host"
CODE_SERVER_VERSION=4.100.3
RG_CACHE_VERSION=1.15.11
RG_ASSET=ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz

need_pkgs=()
for pair in chromium:/usr/bin/chromium rg:/usr/bin/rg krb5-config:/usr/bin/krb5-config; do
  [ -x "${pair#*:}" ] || need_pkgs+=("${pair%%:*}")
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "test/host/install.sh: needs Debian packages chromium ripgrep libkrb5-dev; run as root or install them" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium ripgrep libkrb5-dev >/dev/null
fi

if [ -x "$HOST_DIR/node_modules/.bin/code-server" ] && \
   grep -q "\"version\": \"$CODE_SERVER_VERSION\"" "$HOST_DIR/node_modules/code-server/package.json" 2>/dev/null; then
  echo "code-server $CODE_SERVER_VERSION already installed in $HOST_DIR"
  exit 0
fi

mkdir -p "$HOST_DIR"
# @vscode/ripgrep downloads rg from GitHub, which is unreachable here: seed its cache with Debian's rg.
tmp="${TMPDIR:-/tmp}"
rg_cache="$tmp/vscode-ripgrep-cache-$RG_CACHE_VERSION"
if [ ! -f "$rg_cache/$RG_ASSET" ]; then
  mkdir -p "$rg_cache"
  stage=$(mktemp -d)
  cp /usr/bin/rg "$stage/rg"
  tar -czf "$rg_cache/$RG_ASSET" -C "$stage" rg
  rm -rf "$stage"
fi
cd "$HOST_DIR"
[ -f package.json ] || echo '{"name":"mailgw-ha-test-host","private":true}' > package.json
# npm_config_yes: code-server's postinstall (and node-pty's npx node-gyp) refuse to run as root otherwise.
npm_config_yes=true npm install --no-save --unsafe-perm --dangerously-allow-all-scripts \
  "code-server@$CODE_SERVER_VERSION" 2>&1 | tail -5 || true
if [ ! -x node_modules/.bin/code-server ]; then
  echo "test/host/install.sh: code-server did not install; see the npm output above" >&2
  exit 1
fi
echo "code-server $CODE_SERVER_VERSION installed in $HOST_DIR"
