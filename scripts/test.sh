#!/usr/bin/env bash
# test.sh — the whole test suite on a fresh machine, as root: set up podns, build the test images, then run
# the unit and kernel tests (vitest), and print one summary line; then the cgroup and user-namespace tests in a cgroup v2 VM
# (scripts/vm-test.sh). Kernel tests need root; under CI=true a missing requirement or a skipped test (unit
# or kernel, on the host or in the VM) fails the run: both go through scripts/run-tests.sh and its summary.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
"$repo/scripts/setup.sh" --images
cd "$repo"
# The CRI streaming tests drive a real kubectl through a stand-in API server: Debian 12's kubernetes-client
# (kubectl 1.20, which speaks SPDY), unpacked into /opt/kubectl-1.20 rather than installed, so that it never
# competes with a kubectl the machine already has in /usr/bin.
if [ ! -x /opt/kubectl-1.20/usr/bin/kubectl ]; then
  debs=$(mktemp -d)
  (cd "$debs" && { apt-get download -qq kubernetes-client 2>/dev/null || { apt-get update -qq && apt-get download -qq kubernetes-client; }; })
  dpkg-deb -x "$debs"/kubernetes-client_*.deb /opt/kubectl-1.20
  rm -rf "$debs"
fi
node=$(sed -n 's/^exec "\([^"]*\)".*/\1/p' /usr/local/bin/podns)
status=0
PODNS_NODE="$node" sh scripts/run-tests.sh "$@" || status=$?

# The cgroup and user-namespace tests again under a pure cgroup v2 kernel (Debian 12's 6.1), in one throw-away VM (scripts/vm-test.sh: ~75 s here,
# boot ~3 s; TCG emulation), with CI and PODNS_IMAGE_CACHE passed in. Skipped with PODNS_VM_TESTS=0, and on a
# partial run (vitest arguments given).
if [ "${PODNS_VM_TESTS:-1}" != 0 ] && [ "$#" -eq 0 ]; then
  missing=()
  for p in qemu-system-x86_64:qemu-system-x86 busybox:busybox-static cpio:cpio; do
    command -v "${p%%:*}" >/dev/null || missing+=("${p#*:}")
  done
  if [ "${#missing[@]}" -gt 0 ]; then apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; fi
  if vm_out=$(PODNS_NODE="$node" sh scripts/vm-test.sh 2>&1); then
    printf '%s\n' "$vm_out" | grep -E '^(vm: |tests: |vm-test: )' || true
  else
    printf '%s\n' "$vm_out"
    status=$((status ? status : 1))
  fi
fi
exit "$status"
