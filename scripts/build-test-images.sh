#!/usr/bin/env bash
# build-test-images.sh — the images the example pod uses, built locally from Debian packages, no registry:
#
#   busybox.tar  docker.io/yauritux/busybox-curl:latest   static busybox + applet links, Cmd ["sh"]
#   nginx.tar    docker.io/library/nginx:latest           Debian's nginx + its libraries + busybox, official-like config
#
# Both are OCI image-layout archives for `podns image load`. Packages are fetched with `apt-get download`
# and unpacked with `dpkg-deb -x` into a temp dir; nothing is installed on the host.
#
#   scripts/build-test-images.sh [--force] [--out DIR]
#
# DIR defaults to ${PODNS_IMAGE_CACHE:-/var/cache/podns/test-images}. An image whose archive exists and was
# made by this version of the script is not rebuilt (a cache hit costs no apt call); --force rebuilds.
# Prints one line per image.
set -euo pipefail
shopt -s inherit_errexit

# Bump when the image contents change, so cached archives from an older script are rebuilt.
BUILD_VERSION=1
PATH_ENV='PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
BUSYBOX_NAME=docker.io/yauritux/busybox-curl:latest
NGINX_NAME=docker.io/library/nginx:latest

die() { echo "build-test-images: $*" >&2; exit 1; }

out=${PODNS_IMAGE_CACHE:-/var/cache/podns/test-images}
force=0
while [ $# -gt 0 ]; do
  case "$1" in
    --force) force=1 ;;
    --out) [ $# -ge 2 ] || die "--out needs a directory"; out=$2; shift ;;
    -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument \"$1\" (try --help)" ;;
  esac
  shift
done

here=$(cd "$(dirname "$0")" && pwd)

cached() { [ "$force" = 0 ] && [ -s "$out/$1.tar" ] && [ "$(cat "$out/.$1.version" 2>/dev/null)" = "$BUILD_VERSION" ]; }

todo=()
for image in busybox nginx; do
  if cached "$image"; then echo "cached $out/$image.tar"; else todo+=("$image"); fi
done
[ ${#todo[@]} -gt 0 ] || exit 0

for tool in apt-get apt-cache dpkg-deb tar gzip sha256sum; do
  command -v "$tool" >/dev/null || die "needs $tool (a Debian host)"
done
mkdir -p "$out"

work=$(mktemp -d "${TMPDIR:-/tmp}/podns-test-images.XXXXXX")
trap 'rm -rf "$work"' EXIT

# --- packages -------------------------------------------------------------------------------------------

# A fresh container often has empty apt lists; without them apt-get download finds nothing.
# (Not `apt-cache ... | grep -q`: grep quitting early makes apt-cache die of SIGPIPE, and pipefail reports it.)
has_candidate() { [[ "$(apt-cache policy busybox-static 2>/dev/null)" == *'Candidate: '[0-9]* ]]; }
if ! has_candidate; then
  [ "$(id -u)" = 0 ] || die "apt has no package lists; run 'apt-get update' as root first"
  apt-get update -qq >/dev/null || die "apt-get update failed"
  has_candidate || die "no candidate for busybox-static after apt-get update"
fi

# The library packages a package depends on (first of each alternative, lib*/zlib* only).
lib_deps() {
  apt-cache depends --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances "$1" |
    sed -n 's/^ *|\{0,1\}Depends: //p' | grep -E '^(lib|zlib)' | sed 's/:.*$//' | sort -u
}

debs=$work/debs
mkdir -p "$debs"
packages=(busybox-static)
if [[ " ${todo[*]} " == *" nginx "* ]]; then
  # libc6 ships the dynamic loader; the rest are nginx's direct library dependencies.
  mapfile -t nginx_libs < <(lib_deps nginx)
  packages+=(nginx nginx-common libc6 "${nginx_libs[@]}")
fi
# As root, apt drops to the _apt user for downloads, which cannot write to a root-owned temp dir.
sandbox=()
[ "$(id -u)" = 0 ] && sandbox=(-o APT::Sandbox::User=root)
(cd "$debs" && apt-get download -qq "${sandbox[@]}" "${packages[@]}" >/dev/null) || die "apt-get download ${packages[*]} failed"

stage=$work/stage
for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$stage"; done
busybox_bin=$stage/bin/busybox
[ -x "$busybox_bin" ] || die "busybox-static did not provide /bin/busybox"

# --- rootfs pieces --------------------------------------------------------------------------------------

# add_busybox ROOTFS: /bin/busybox and a symlink for every applet, never replacing a file already there.
add_busybox() {
  local rootfs=$1 applet
  install -D -m 0755 "$busybox_bin" "$rootfs/bin/busybox"
  while read -r applet; do
    [ "$applet" = bin/busybox ] && continue
    [ -e "$rootfs/$applet" ] || [ -L "$rootfs/$applet" ] && continue
    mkdir -p "$rootfs/$(dirname "$applet")"
    ln -s /bin/busybox "$rootfs/$applet"
  done < <("$busybox_bin" --list-full)
  for applet in sh ps wget tail sleep; do
    # -L, not -e: the links are absolute and would resolve against the host.
    [ -L "$rootfs/bin/$applet" ] || [ -L "$rootfs/usr/bin/$applet" ] || die "busybox has no $applet applet"
  done
}

# add_base ROOTFS: the directories and files every image here has.
add_base() {
  local rootfs=$1
  mkdir -p "$rootfs"/{etc,root,var/tmp,dev,proc,sys,run/lock,tmp,usr/local/bin}
  chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"
  chmod 0700 "$rootfs/root"
  ln -sfn /run "$rootfs/var/run"
  ln -sfn /run/lock "$rootfs/var/lock"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' >"$rootfs/etc/group"
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$rootfs/etc/nsswitch.conf"
}

# copy_from_stage ROOTFS PATH: copies /PATH from the unpacked debs, following symlinks inside the stage
# (the loader link /lib64/ld-linux-x86-64.so.2 is absolute and must not resolve on the host).
copy_from_stage() {
  local rootfs=$1 rel=${2#/} target
  [ -e "$rootfs/$rel" ] || [ -L "$rootfs/$rel" ] && return 0
  [ -e "$stage/$rel" ] || [ -L "$stage/$rel" ] || die "\"/$rel\" is in no downloaded package"
  mkdir -p "$rootfs/$(dirname "$rel")"
  cp -a "$stage/$rel" "$rootfs/$rel"
  if [ -L "$stage/$rel" ]; then
    target=$(readlink "$stage/$rel")
    case "$target" in /*) ;; *) target=$(dirname "$rel")/$target ;; esac
    copy_from_stage "$rootfs" "$target"
  fi
}

# add_libraries ROOTFS BINARY: the ELF interpreter and every shared library BINARY needs, from the stage.
add_libraries() {
  local rootfs=$1 binary=$2 loader listing line left right
  loader=$(find "$stage" -name 'ld-linux*.so*' -type f | head -n1)
  [ -n "$loader" ] || die "libc6 provided no dynamic loader"
  local libpath=$stage/lib/x86_64-linux-gnu:$stage/usr/lib/x86_64-linux-gnu
  libpath=$(find "$stage"/lib "$stage"/usr/lib -maxdepth 1 -mindepth 1 -type d -name '*-linux-gnu*' 2>/dev/null | tr '\n' ':')$libpath
  # Run the package's own loader in list mode, so the host's libraries never answer.
  listing=$("$loader" --library-path "$libpath" --list "$binary") || die "cannot resolve the libraries of $binary"
  if grep -q 'not found' <<<"$listing"; then die "libraries of $binary not found: $(grep 'not found' <<<"$listing" | tr -s ' \t\n' ' ')"; fi
  while read -r line; do
    case "$line" in *' => '*) ;; *) continue ;; esac
    left=${line%% => *} right=${line#* => } right=${right%% (*}
    case "$left" in
      /*) copy_from_stage "$rootfs" "$left" ;; # the interpreter, by the path the binary names
      *) copy_from_stage "$rootfs" "${right#"$stage"}" ;;
    esac
  done <<<"$listing"
}

# --- images ---------------------------------------------------------------------------------------------

build_busybox() {
  local rootfs=$work/busybox
  add_base "$rootfs"
  add_busybox "$rootfs"
  printf '{"Env":["%s"],"Cmd":["sh"]}' "$PATH_ENV" >"$work/busybox.config.json"
  "$here/make-oci-archive.sh" "$rootfs" "$work/busybox.config.json" "$BUSYBOX_NAME" "$out/busybox.tar"
}

build_nginx() {
  local rootfs=$work/nginx
  add_base "$rootfs"
  copy_from_stage "$rootfs" usr/sbin/nginx
  add_libraries "$rootfs" "$stage/usr/sbin/nginx"
  add_busybox "$rootfs"

  printf 'nginx:x:101:101:nginx user:/nonexistent:/bin/false\n' >>"$rootfs/etc/passwd"
  printf 'nginx:x:101:\n' >>"$rootfs/etc/group"
  mkdir -p "$rootfs"/etc/nginx/conf.d "$rootfs"/usr/share/nginx/html "$rootfs"/var/cache/nginx \
    "$rootfs"/var/lib/nginx/{body,fastcgi,proxy,scgi,uwsgi} "$rootfs"/var/log/nginx
  for f in mime.types fastcgi.conf fastcgi_params proxy_params scgi_params uwsgi_params koi-utf koi-win win-utf; do
    copy_from_stage "$rootfs" "etc/nginx/$f"
  done
  # As in the official image: logs go to the container's stdout/stderr.
  ln -s /dev/stdout "$rootfs/var/log/nginx/access.log"
  ln -s /dev/stderr "$rootfs/var/log/nginx/error.log"

  cat >"$rootfs/etc/nginx/nginx.conf" <<'EOF'
user  nginx;
worker_processes  2;

error_log  /var/log/nginx/error.log notice;
pid        /var/run/nginx.pid;

events {
    worker_connections  1024;
}

http {
    include       /etc/nginx/mime.types;
    default_type  application/octet-stream;

    log_format  main  '$remote_addr - $remote_user [$time_local] "$request" '
                      '$status $body_bytes_sent "$http_referer" '
                      '"$http_user_agent" "$http_x_forwarded_for"';

    access_log  /var/log/nginx/access.log  main;

    sendfile        on;
    keepalive_timeout  65;

    include /etc/nginx/conf.d/*.conf;
}
EOF
  cat >"$rootfs/etc/nginx/conf.d/default.conf" <<'EOF'
server {
    listen       80;
    server_name  localhost;

    location / {
        root   /usr/share/nginx/html;
        index  index.html index.htm;
    }

    error_page   500 502 503 504  /50x.html;
    location = /50x.html {
        root   /usr/share/nginx/html;
    }
}
EOF
  cat >"$rootfs/usr/share/nginx/html/index.html" <<'EOF'
<!DOCTYPE html>
<html>
<head><title>Welcome to nginx!</title></head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and working.</p>
<p><em>podns test image, built from Debian packages.</em></p>
</body>
</html>
EOF
  cat >"$rootfs/usr/share/nginx/html/50x.html" <<'EOF'
<!DOCTYPE html>
<html>
<head><title>Error</title></head>
<body><h1>An error occurred.</h1></body>
</html>
EOF
  printf '{"Env":["%s"],"Cmd":["nginx","-g","daemon off;"],"ExposedPorts":{"80/tcp":{}},"StopSignal":"SIGQUIT"}' \
    "$PATH_ENV" >"$work/nginx.config.json"
  "$here/make-oci-archive.sh" "$rootfs" "$work/nginx.config.json" "$NGINX_NAME" "$out/nginx.tar"
}

for image in "${todo[@]}"; do
  rm -f "$out/.$image.version"
  case "$image" in
    busybox) id=$(build_busybox); name=$BUSYBOX_NAME ;;
    nginx) id=$(build_nginx); name=$NGINX_NAME ;;
  esac
  echo "$BUILD_VERSION" >"$out/.$image.version"
  echo "built $out/$image.tar $name $id"
done
