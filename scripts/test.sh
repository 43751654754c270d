#!/usr/bin/env bash
# test.sh — the whole test suite on a fresh machine, as root: set up podns, build the test images, then run
# the unit and kernel tests. Kernel tests need root; under CI=true a missing requirement fails the run.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
"$repo/scripts/setup.sh" --images
cd "$repo"
node=$(sed -n 's/^exec "\([^"]*\)".*/\1/p' /usr/local/bin/podns)
exec "$node" node_modules/vitest/vitest.mjs run "$@"
