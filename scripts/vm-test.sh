#!/bin/sh
# vm-test.sh — runs kernel tests inside a throw-away VM with a pure cgroup v2 hierarchy, for what this host
# cannot show (its cgroups are hybrid: v1 controllers, and a cgroup2 mount with only hugetlb).
#
#   sh scripts/vm-test.sh [vitest args...]        default: test/kernel/cgroup.test.ts test/kernel/userns.test.ts
#   (the cgroup v2 limits, and user namespaces on Debian 12's own kernel, 6.1)
#
# How: qemu with software emulation (-accel tcg; this host's /dev/kvm is PVM-based and cannot boot Debian's
# stock kernel), Debian's linux-image-amd64 fetched with `apt-get download` and unpacked into a cache (never
# installed on the host), a small initramfs (busybox-static + the virtio/9p/overlay modules) that mounts the
# host's / read-only over 9p with a tmpfs overlay on top, no network device, cgroup v1 disabled
# (cgroup_no_v1=all) and cgroup2 mounted at /sys/fs/cgroup. The tests run as root in the root cgroup (the
# v2 "no internal processes" rule exempts it), with PODNS_VM=1 so their timeouts allow for emulation, through
# scripts/run-tests.sh as on the host: vitest, then the summary (test-summary.mjs), with the host's CI and its
# test images ($PODNS_IMAGE_CACHE, default /var/cache/podns/test-images), so that under CI=true a skipped or
# missing test fails here too and the figures say how many ran.
# Prints the VM's test output; exits with the tests' exit code (or 2 when the VM itself failed).
#
# Needs (apt): qemu-system-x86 busybox-static cpio. Cache: $PODNS_VM_CACHE (default /var/cache/podns/vm).
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${PODNS_VM_CACHE:-/var/cache/podns/vm}
mem=${PODNS_VM_MEMORY:-2048}
cpus=${PODNS_VM_CPUS:-2}
timeout_s=${PODNS_VM_TIMEOUT:-900}
node=${PODNS_NODE:-$(command -v node || echo /opt/podns/node/bin/node)}
images=${PODNS_IMAGE_CACHE:-/var/cache/podns/test-images}
[ "$#" -gt 0 ] || set -- test/kernel/cgroup.test.ts test/kernel/userns.test.ts

for tool in qemu-system-x86_64 busybox cpio apt-get dpkg-deb; do
  command -v "$tool" >/dev/null || { echo "vm-test: $tool is missing (apt-get install qemu-system-x86 busybox-static cpio)" >&2; exit 2; }
done
busybox=$(command -v busybox)
file -L "$busybox" 2>/dev/null | grep -q 'statically linked' || [ ! -x /usr/bin/file ] || { echo "vm-test: $busybox is not static (busybox-static)" >&2; exit 2; }

# 1. The kernel: linux-image-amd64's current image package, unpacked (and depmod'ed by busybox) once.
mkdir -p "$cache"
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -1)
[ -n "$pkg" ] || { echo "vm-test: apt-cache knows no linux-image-amd64 (apt-get update?)" >&2; exit 2; }
kdir="$cache/$pkg"
if [ ! -f "$kdir/.done" ]; then
  rm -rf "$kdir" && mkdir -p "$kdir"
  (cd "$kdir" && apt-get download "$pkg" >/dev/null 2>&1) || { echo "vm-test: apt-get download $pkg failed" >&2; exit 2; }
  dpkg-deb -x "$kdir"/*.deb "$kdir/root"
  rm -f "$kdir"/*.deb
  kver=$(ls "$kdir/root/lib/modules")
  busybox depmod -b "$kdir/root" "$kver"
  touch "$kdir/.done"
fi
kver=$(ls "$kdir/root/lib/modules")
vmlinuz="$kdir/root/boot/vmlinuz-$kver"

# 2. The initramfs: busybox, the modules for virtio-pci, 9p and overlay (with their dependencies), and init.
work=$(mktemp -d /tmp/podns-vm.XXXXXX)
out="$work/out"
mkdir -p "$out" "$work/initramfs"
cleanup() { rm -rf "$work"; }
trap cleanup EXIT INT TERM
ir="$work/initramfs"
mkdir -p "$ir/bin" "$ir/proc" "$ir/sys" "$ir/dev" "$ir/host" "$ir/rw" "$ir/newroot" "$ir/lib/modules/$kver"
cp "$busybox" "$ir/bin/busybox"
mods="virtio_pci 9pnet_virtio 9p overlay"
dep="$kdir/root/lib/modules/$kver/modules.dep"
for m in $mods; do
  line=$(grep -E "/$m\.ko(\.[a-z]+)?:" "$dep")
  for f in ${line%%:*} ${line#*:}; do
    mkdir -p "$ir/lib/modules/$kver/$(dirname "$f")"
    cp "$kdir/root/lib/modules/$kver/$f" "$ir/lib/modules/$kver/$f"
  done
done
cp "$dep" "$ir/lib/modules/$kver/"

cat >"$ir/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $mods; do modprobe \$m || echo "init: modprobe \$m failed"; done
# The host's / read-only (9p), a tmpfs on top: the tests write where they like and the host sees none of it.
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 hostroot /host || exec sh
mount -t tmpfs -o size=1g tmpfs /rw
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work /newroot || exec sh
mkdir -p /newroot/podns-vm-out
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 out /newroot/podns-vm-out
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /bin/sh /podns-vm-out/stage2.sh
EOF
chmod +x "$ir/init"
(cd "$ir" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$work/initramfs.gz"

# 3. What runs in the VM, on the host's own tree: mounts, a pure cgroup2 hierarchy, then vitest.
q() { printf "'%s'" "$(printf %s "$1" | sed "s/'/'\\\\''/g")"; }
quoted=""
for a in "$@"; do quoted="$quoted $(q "$a")"; done
cat >"$out/stage2.sh" <<EOF
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mkdir -p /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
# The checkout and the image cache may live below /tmp (a CI clone): keep them reachable before /tmp becomes
# the VM's own tmpfs. A missing cache stays missing: the tests say so (and fail under CI).
mkdir -p /podns-src /podns-images
mount --bind "$repo" /podns-src
[ ! -d $(q "$images") ] || mount --bind $(q "$images") /podns-images
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t cgroup2 cgroup2 /sys/fs/cgroup
echo "vm: \$(uname -r), cgroup2 controllers: \$(cat /sys/fs/cgroup/cgroup.controllers), up \$(cut -d' ' -f1 /proc/uptime) s" >/podns-vm-out/log
cd /podns-src
PATH=$(dirname "$node"):/usr/sbin:/usr/bin:/sbin:/bin PODNS_VM=1 HOME=/root CI=$(q "${CI:-}") \\
  PODNS_IMAGE_CACHE=/podns-images PODNS_NODE=$(q "$node") sh scripts/run-tests.sh$quoted >>/podns-vm-out/log 2>&1
echo \$? >/podns-vm-out/rc
sync
busybox poweroff -f
EOF

# 4. Boot. Console on the serial port, to a file (shown when the VM fails).
start=$(date +%s)
status=0
timeout "$timeout_s" qemu-system-x86_64 \
  -accel tcg,thread=multi -cpu max -smp "$cpus" -m "$mem" \
  -kernel "$vmlinuz" -initrd "$work/initramfs.gz" \
  -append "console=ttyS0 panic=-1 quiet cgroup_no_v1=all" \
  -nodefaults -no-user-config -display none -serial "file:$work/console.log" -no-reboot \
  -nic none \
  -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
  -virtfs "local,path=$out,mount_tag=out,security_model=none,multidevs=remap" || status=$?
elapsed=$(( $(date +%s) - start ))
[ -f "$out/log" ] && cat "$out/log"
if [ ! -f "$out/rc" ]; then
  echo "vm-test: the VM ended without a test result (qemu exit $status, ${elapsed}s); console:" >&2
  tail -40 "$work/console.log" >&2
  exit 2
fi
echo "vm-test: ${elapsed}s in the VM (boot included), exit $(cat "$out/rc")"
exit "$(cat "$out/rc")"
