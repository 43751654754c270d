#!/usr/bin/env bash
# up-example.sh — from a fresh machine to the article's pod: set up podns, build the two images locally from
# Debian packages (no registry is reachable here), load them, and run examples/nginx-busybox.yaml.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
"$repo/scripts/setup.sh" --images
cache=${PODNS_IMAGE_CACHE:-/var/cache/podns/test-images}
podns image load "$cache/busybox.tar"
podns image load "$cache/nginx.tar"
podns run --replace "$repo/examples/nginx-busybox.yaml"
podns ps
cat <<'NEXT'

The pod runs. Try:
  podns exec nginx-busybox-pod -c nginx -- sh -c 'echo "hello pod" > /usr/share/nginx/html/index.html'
  podns exec -it nginx-busybox-pod -c busybox -- ps
  podns exec nginx-busybox-pod -c busybox -- wget -qO- localhost
  podns inspect nginx-busybox-pod
  podns rm -f nginx-busybox-pod
NEXT
