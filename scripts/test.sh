#!/usr/bin/env bash
# test.sh — the whole test suite on a fresh machine, as root: set up podns, build the test images, then run
# the unit and kernel tests (vitest), and print one summary line. Kernel tests need root; under CI=true a
# missing requirement or a skipped kernel test fails the run.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
"$repo/scripts/setup.sh" --images
cd "$repo"
node=$(sed -n 's/^exec "\([^"]*\)".*/\1/p' /usr/local/bin/podns)
report=$(mktemp /tmp/podns-vitest.XXXXXX.json)
trap 'rm -f "$report"' EXIT
status=0
"$node" node_modules/vitest/vitest.mjs run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
"$node" scripts/test-summary.mjs "$report" || status=$((status ? status : 1))
exit "$status"
