#!/usr/bin/env python3
"""Variants of podns's test busybox/nginx OCI archives under critest's image names, as OCI layouts for skopeo.
critest's real images come from registry.k8s.io and gcr.io (unreachable here); these carry what each case reads:
a hard-linked busybox (MaskedPaths masks /bin/ls, which must not be busybox itself), image users and groups,
distinct image ids for the list cases, ipcs, pgrep, a setuid nnp, an nginx on critest's host-network port.
Usage: critest-images.py SRC.tar OUTDIR NAME [--user U] [--label k=v] [--passwd] [--hardlinks] [--pgrep]
[--add HOST:IMAGE[:MODE]] [--entrypoint PATH] [--nginx-port N]; run.sh calls it for each image."""
import argparse, hashlib, io, json, os, tarfile

ap = argparse.ArgumentParser()
ap.add_argument('src'); ap.add_argument('out'); ap.add_argument('name')
ap.add_argument('--user'); ap.add_argument('--label', action='append', default=[])
ap.add_argument('--passwd', action='store_true'); ap.add_argument('--hardlinks', action='store_true')
ap.add_argument('--pgrep', action='store_true'); ap.add_argument('--add', action='append', default=[]); ap.add_argument('--entrypoint'); ap.add_argument('--nginx-port', type=int)
a = ap.parse_args()

src = tarfile.open(a.src)
def blob(d): return src.extractfile('blobs/sha256/' + d.split(':')[1]).read()
index = json.loads(src.extractfile('index.json').read())
manifest = json.loads(blob(index['manifests'][0]['digest']))
config = json.loads(blob(manifest['config']['digest']))
os.makedirs(a.out + '/blobs/sha256', exist_ok=True)
def put(data):
    d = hashlib.sha256(data).hexdigest()
    open(f'{a.out}/blobs/sha256/{d}', 'wb').write(data)
    return 'sha256:' + d
for l in manifest['layers']: put(blob(l['digest']))

files = []  # (TarInfo, bytes|None)
def add_file(path, data, mode=0o644):
    ti = tarfile.TarInfo(path); ti.size = len(data); ti.mode = mode; files.append((ti, data))
if a.passwd:
    add_file('etc/passwd', b'root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33:www-data:/var/www:/bin/sh\ndefault-user:x:1000:1000::/home/default-user:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n')
    add_file('etc/group', b'root:x:0:\nwww-data:x:33:\ndefault-user:x:1000:\nnogroup:x:65534:\ngroup-defined-in-image:x:50000:default-user\n')
if a.pgrep:
    add_file('usr/bin/pgrep', b'#!/bin/sh\n# pgrep NAME: pids whose comm is NAME (procps pgrep, enough for critest)\nfound=1\nfor d in /proc/[0-9]*; do [ "$(cat $d/comm 2>/dev/null)" = "$1" ] && { echo ${d#/proc/}; found=0; }; done\nexit $found\n', 0o755)
for spec in a.add:  # HOST:IMAGE[:octal mode], e.g. the host's ipcs and the libc it needs
    host, image, *mode = spec.split(':')
    add_file(image.lstrip('/'), open(host, 'rb').read(), int(mode[0], 8) if mode else 0o755)
if a.nginx_port:  # critest's hostnet-nginx listens on 12003, not 80
    add_file('etc/nginx/conf.d/default.conf', f'server {{\n    listen {a.nginx_port};\n    location / {{ root /usr/share/nginx/html; index index.html; }}\n}}\n'.encode())
if a.hardlinks:
    # The busybox binary and every applet as hard links to it (busybox's own image), replacing the symlinks.
    bb = None; applets = []
    for l in manifest['layers']:
        t = tarfile.open(fileobj=io.BytesIO(blob(l['digest'])))
        for m in t.getmembers():
            if m.name.lstrip('./') == 'bin/busybox': bb = (m, t.extractfile(m).read())
            elif m.issym() and m.linkname == '/bin/busybox': applets.append(m.name.lstrip('./'))
    ti = tarfile.TarInfo('bin/busybox'); ti.size = len(bb[1]); ti.mode = 0o755; files.append((ti, bb[1]))
    for name in applets:
        h = tarfile.TarInfo(name); h.type = tarfile.LNKTYPE; h.linkname = 'bin/busybox'; files.append((h, None))
if files:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=tarfile.PAX_FORMAT) as t:
        for ti, data in files: t.addfile(ti, io.BytesIO(data) if data is not None else None)
    layer = buf.getvalue(); ld = put(layer)
    manifest['layers'].append({'mediaType': 'application/vnd.oci.image.layer.v1.tar', 'digest': ld, 'size': len(layer)})
    config['rootfs']['diff_ids'].append(ld)
c = config.setdefault('config', {})
if a.user: c['User'] = a.user
if a.entrypoint: c['Entrypoint'] = [a.entrypoint]; c['Cmd'] = None
for kv in a.label:
    k, v = kv.split('=', 1); c.setdefault('Labels', {})[k] = v
cb = json.dumps(config).encode(); cd = put(cb)
manifest['config'] = {'mediaType': 'application/vnd.oci.image.config.v1+json', 'digest': cd, 'size': len(cb)}
mb = json.dumps(manifest).encode(); md = put(mb)
json.dump({'schemaVersion': 2, 'manifests': [{'mediaType': 'application/vnd.oci.image.manifest.v1+json', 'digest': md, 'size': len(mb), 'annotations': {'org.opencontainers.image.ref.name': a.name}}]}, open(a.out + '/index.json', 'w'))
open(a.out + '/oci-layout', 'w').write('{"imageLayoutVersion":"1.0.0"}')
print(a.out, a.name, md)
