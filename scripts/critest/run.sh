#!/usr/bin/env bash
# run.sh — the real critest (kubernetes-sigs/cri-tools, the CRI validation suite) against podns's CRI endpoint,
# as root, with everything in a network namespace of its own; everything it makes is removed at exit.
#
#   sudo scripts/critest/run.sh CRI_TOOLS_SRC [critest args...]     e.g. -ginkgo.focus "Streaming"
#
# CRI_TOOLS_SRC: a checkout of cri-tools v1.26.1 (`git clone -b v1.26.1 https://github.com/kubernetes-sigs/cri-tools`),
# the newest release Debian 12's Go (1.19, apt's golang-go) builds; it vendors its dependencies, so the build
# needs no network. Built as it is: its client sends the socket path as the HTTP/2 :authority, as Go clients
# before k8s.io/cri-client do, which podns's endpoint accepts (src/cri/authority-rewrite.ts).
# critest's images come from registry.k8s.io and gcr.io; here they are built from podns's test archives
# (critest-images.py) and served by a docker-registry in the namespace that podns mirrors those registries to.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "critest: run as root" >&2; exit 1; }
src=$(readlink -f "${1:?usage: run.sh CRI_TOOLS_SRC [critest args...]}"); shift
here=$(cd "$(dirname "$0")" && pwd); repo=$(cd "$here/../.." && pwd)
images=/var/cache/podns/test-images
[ -f "$images/busybox.tar" ] || "$repo/scripts/build-test-images.sh"
for p in golang-go docker-registry skopeo musl-tools containernetworking-plugins; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || apt-get install -y -qq --no-install-recommends "$p" >/dev/null
done

# 1. crictl and critest, built once into the checkout's _output.
bin=$src/_output/podns
if [ ! -x "$bin/critest" ]; then
  (cd "$src" && GOFLAGS=-mod=vendor GOPROXY=off CGO_ENABLED=0 go build -o "$bin/crictl" ./cmd/crictl && GOFLAGS=-mod=vendor GOPROXY=off CGO_ENABLED=0 go test -c -o "$bin/critest" ./cmd/critest)
fi

# 2. A namespace, a root, a registry, the supervisor; all undone at exit.
ns=podns-critest-$$; root=$(mktemp -d /tmp/podns-critest.XXXXXX); registry_pid=""
export PODNS_CGROUP_PARENT=podns-critest-$$
cleanup() {
  set +e
  [ -S "$root/run/podns.sock" ] && nsenter --net="/run/netns/$ns" podns --root "$root" serve --stop >/dev/null 2>&1
  [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null && wait "$registry_pid" 2>/dev/null
  ip netns del "$ns" 2>/dev/null
  # The cgroup parent podns made below this script's own cgroup, in each hierarchy (v1: per controller).
  while IFS=: read -r _ controllers path; do
    case "$controllers" in
      "") mount=/sys/fs/cgroup; [ -d /sys/fs/cgroup/unified ] && mount=/sys/fs/cgroup/unified ;;
      name=*) mount=/sys/fs/cgroup/${controllers#name=} ;;
      *) mount=/sys/fs/cgroup/${controllers%%,*} ;;
    esac
    d=${mount}${path%/}/$PODNS_CGROUP_PARENT
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
  done < /proc/self/cgroup
  rm -rf "$root"
}
trap cleanup EXIT INT TERM
ip netns add "$ns"; ip -n "$ns" link set lo up
inns() { nsenter --net="/run/netns/$ns" "$@"; }
mkdir -p "$root/etc" "$root/cni/net.d" "$root/registry"
echo "{\"cniConfDir\": \"$root/cni/net.d\", \"cniBinDirs\": [\"/usr/lib/cni\"]}" > "$root/etc/cri.json"
cat > "$root/cni/net.d/10-critest.conflist" <<J
{"cniVersion":"1.0.0","name":"critest","plugins":[{"type":"bridge","bridge":"crit0","isGateway":true,"ipMasq":false,"ipam":{"type":"host-local","ranges":[[{"subnet":"10.88.0.0/16"}]],"dataDir":"$root/cni/ipam"}},{"type":"portmap","capabilities":{"portMappings":true}}]}
J
echo '{"mirrors": {"registry.k8s.io": ["http://127.0.0.1:5000"], "gcr.io": ["http://127.0.0.1:5000"]}, "noUpstream": ["registry.k8s.io", "gcr.io"]}' > "$root/etc/registries.json"
printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:5000\n' "$root/registry/data" > "$root/registry/config.yml"
# nsenter itself, not the inns function: $! must be the registry (nsenter --net execs it), not a subshell.
nsenter --net="/run/netns/$ns" docker-registry serve "$root/registry/config.yml" > "$root/registry/log" 2>&1 & registry_pid=$!
for _ in $(seq 50); do inns curl -sf http://127.0.0.1:5000/v2/ >/dev/null && break; sleep 0.1; done

# 3. critest's images, from podns's busybox and nginx archives.
work=$root/images; mkdir -p "$work"
musl-gcc -static -O2 -o "$work/nnp" "$here/nnp.c"
push() { inns skopeo copy -q --dest-tls-verify=false "oci:$1:x" "docker://127.0.0.1:5000/$2"; }
variant() { local base=$1 ref=$2; shift 2; rm -rf "$work/img"; python3 "$here/critest-images.py" "$images/$base.tar" "$work/img" x "$@" >/dev/null; push "$work/img" "$ref"; }
libc=(--add /usr/bin/ipcs:/usr/bin/ipcs --add /lib/x86_64-linux-gnu/libc.so.6:/lib/x86_64-linux-gnu/libc.so.6 --add /lib64/ld-linux-x86-64.so.2:/lib64/ld-linux-x86-64.so.2)
variant busybox e2e-test-images/busybox:1.29-2 --hardlinks --pgrep --passwd "${libc[@]}"
variant busybox e2e-test-images/nonewprivs:1.3 --passwd --add "$work/nnp:/usr/local/bin/nnp:4755" --entrypoint /usr/local/bin/nnp
variant nginx e2e-test-images/nginx:1.14-2
variant nginx e2e-test-images/httpd:2.4.39-4
S=k8s-staging-cri-tools
variant nginx $S/hostnet-nginx-amd64 --nginx-port 12003
for n in test-image-1:latest test-image-2:latest test-image-3:latest test-image-latest test-image-tag:test; do variant busybox "$S/$n" --label "critest=$n"; done
for t in 1 2 3; do variant busybox "$S/test-image-tags:$t" --label critest=tags; done
variant busybox $S/test-image-tag:all --label critest=all
variant busybox $S/test-image-user-uid --passwd --user 1002
variant busybox $S/test-image-user-username --passwd --user www-data
variant busybox $S/test-image-user-uid-group --passwd --user 1003:1003
variant busybox $S/test-image-user-username-group --passwd --user www-data:www-data
variant busybox $S/test-image-predefined-group --passwd --user 1000

# 4. The supervisor in the namespace, and critest (its streaming clients dial 127.0.0.1 there too).
inns podns --root "$root" serve --background
endpoint=unix://$root/run/cri.sock
set +e
inns "$bin/critest" -runtime-endpoint "$endpoint" -image-endpoint "$endpoint" -ginkgo.no-color -ginkgo.skip "Windows" "$@"
status=$?
"$bin/crictl" --runtime-endpoint "$endpoint" --image-endpoint "$endpoint" pods -q | while read -r p; do "$bin/crictl" --runtime-endpoint "$endpoint" rmp -f "$p" >/dev/null; done
exit $status
