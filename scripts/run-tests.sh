#!/bin/sh
# run-tests.sh — vitest, then the one summary CI reads (scripts/test-summary.mjs): the same on the host
# (scripts/test.sh) and inside the cgroup v2 VM (scripts/vm-test.sh), so that under CI=true a skipped test, a
# file that could not run, or a run in which no test ran fails both, and both print how many ran.
#
#   sh scripts/run-tests.sh [vitest args...]      Node: $PODNS_NODE, else the node on PATH
#
# Exits 1 when vitest or the summary says the run failed, 0 otherwise.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
node=${PODNS_NODE:-$(command -v node || true)}
[ -n "$node" ] || { echo "run-tests: no node (set PODNS_NODE)" >&2; exit 1; }
report=$(mktemp /tmp/podns-vitest.XXXXXX.json)
trap 'rm -f "$report"' EXIT INT TERM
cd "$repo"
status=0
"$node" node_modules/vitest/vitest.mjs run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=1
"$node" scripts/test-summary.mjs "$report" || status=1
exit "$status"
