#!/usr/bin/env bash
# make-oci-archive.sh — turn a rootfs directory and an image config into a one-layer OCI image-layout
# archive (image-spec image-layout.md): oci-layout, index.json, blobs/sha256/{layer,config,manifest}.
#
#   scripts/make-oci-archive.sh ROOTFS CONFIG_JSON NAME OUT.tar
#
# CONFIG_JSON is a file holding the image's `config` object (Cmd, Env, ...); NAME is the full normalised
# reference (docker.io/library/nginx:latest). The index entry carries both annotations podns and
# containerd read: io.containerd.image.name = NAME, org.opencontainers.image.ref.name = its tag.
#
# The layer is reproducible: sorted names, mtime 0, every file owned by 0:0 (fine for these images: nothing
# in them needs another owner; nginx chowns its temp dirs itself), gzip without name or timestamp. The
# archive is written next to OUT and renamed into place, so OUT is either absent or complete.
# Env: ARCH (default: dpkg --print-architecture), SOURCE_DATE_EPOCH (default 0) for the `created` time.
set -euo pipefail
shopt -s inherit_errexit

die() { echo "make-oci-archive: $*" >&2; exit 1; }

[ $# -eq 4 ] || die "usage: $0 ROOTFS CONFIG_JSON NAME OUT.tar"
rootfs=$1 config_json=$2 name=$3 out=$4
[ -d "$rootfs" ] || die "rootfs \"$rootfs\" is not a directory"
[ -f "$config_json" ] || die "config \"$config_json\" is not a file"
case "$name" in */*) ;; *) die "NAME must be a full reference like docker.io/library/nginx:latest, got \"$name\"" ;; esac

# The tag is what follows the last ':' when no '/' comes after it (otherwise that ':' is a registry port).
last=${name##*/}
case "$last" in *:*) tag=${last##*:} ;; *) tag=latest ;; esac

arch=${ARCH:-$(dpkg --print-architecture 2>/dev/null || echo amd64)}
created=$(date -u -d "@${SOURCE_DATE_EPOCH:-0}" +%Y-%m-%dT%H:%M:%SZ)

work=$(mktemp -d "${TMPDIR:-/tmp}/podns-oci.XXXXXX")
tmp_out=
trap 'rm -rf "$work" ${tmp_out:+"$tmp_out"}' EXIT
layout=$work/layout
mkdir -p "$layout/blobs/sha256"

sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }
# put FILE: moves FILE into blobs/sha256 and prints "<hex> <size>".
put() {
  local hex n
  hex=$(sha "$1") n=$(size "$1")
  mv "$1" "$layout/blobs/sha256/$hex"
  echo "$hex $n"
}

tar -C "$rootfs" -cf "$work/layer.tar" --numeric-owner --owner=0 --group=0 --sort=name --mtime=@0 .
diff_id=$(sha "$work/layer.tar")
gzip -n -6 "$work/layer.tar"
read -r layer_hex layer_size < <(put "$work/layer.tar.gz")

printf '{"architecture":"%s","os":"linux","created":"%s","config":%s,"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created":"%s","created_by":"podns scripts/make-oci-archive.sh"}]}' \
  "$arch" "$created" "$(tr -d '\n' <"$config_json")" "$diff_id" "$created" >"$work/config.json"
read -r config_hex config_size < <(put "$work/config.json")

printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
  "$config_hex" "$config_size" "$layer_hex" "$layer_size" >"$work/manifest.json"
read -r manifest_hex manifest_size < <(put "$work/manifest.json")

printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"%s","os":"linux"},"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
  "$manifest_hex" "$manifest_size" "$arch" "$name" "$tag" >"$layout/index.json"
printf '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"

mkdir -p "$(dirname "$out")"
tmp_out=$(mktemp "$(dirname "$out")/.$(basename "$out").XXXXXX")
tar -C "$layout" -cf "$tmp_out" --numeric-owner --owner=0 --group=0 --sort=name --mtime=@0 oci-layout index.json blobs
chmod 0644 "$tmp_out"
mv -f "$tmp_out" "$out"
tmp_out=
echo "sha256:$config_hex"
