/**
 * critest's image cases (cri-tools pkg/validate/image.go, image_consistency.go, image_id_consistency.go), one test
 * per `It`, against real registries on this host's loopback (Debian's docker-registry; registry-support.ts): the
 * supervisor runs in the test's own network namespace-less mode (createPodns's default, network none), since image
 * calls need no sandbox network. Then issue 13's: PullImage with credentials (a token server in front), a missing
 * image and a wrong password as errors with codes, a pull the client gave up on leaving no image.
 *
 * Adaptations: critest's public images (gcr.io/k8s-staging-cri-tools/test-image-*, registry.k8s.io/pause) are our
 * busybox and nginx pushed under those repository names to the local registry (127.0.0.1:PORT/...), the "same image
 * from two registries" is one registry under two names (127.0.0.1:PORT and localhost:PORT), the user images
 * (test-image-user-*) are one-layer images built here with critest's User fields. The sandboxes of the identifier
 * cases use the node's network (no CNI may run in this process's namespace).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageCache, kernelSkip, sleep } from './harness.js';
import { buildImage, getManifest, makeLayer, missingRegistryTools, pushArchive, pushBlob, pushManifest, serveImage, startFakeRegistry, startRegistry, startTokenServer, type Registry, type TokenServer } from './registry-support.js';
import { containerMetadata, defaultSandboxConfig, grpcError, runPodSandbox, startCri, status, type CriClient, type CriHarness } from './cri-support.js';
import { skipWithout } from '../requirements.js';

const toolsSkip = skipWithout('CRI image tests', kernelSkip ? [] : (await missingRegistryTools()).map((t) => `${t} (scripts/setup.sh installs it)`));

describe.skipIf(kernelSkip || toolsSkip)('critest: Image Manager', () => {
  let registry: Registry;
  let tokenServer: TokenServer;
  let secured: Registry;
  let h: CriHarness;
  let cri: CriClient;
  /** critest's `registry` prefix, gcr.io/k8s-staging-cri-tools/, as ours. */
  let prefix: string;
  let testImageWithTag: string;
  let testImageWithoutTag: string;
  let testImageWithDigest: string;
  let testImageWithAllReferences: string;
  let differentTagDifferentImage: string[];
  let differentTagSameImage: string[];
  let sameImageDifferentRegistries: string[];
  const userImages: { description: string; image: string; uid: string | null; username: string }[] = [];

  beforeAll(async () => {
    registry = await startRegistry();
    prefix = `${registry.host}/`;
    const busybox = path.join(imageCache, 'busybox.tar');
    const nginx = path.join(imageCache, 'nginx.tar');
    await pushArchive(registry, busybox, 'test-image-tag:test');
    await pushArchive(registry, busybox, 'test-image-latest:latest');
    await pushArchive(registry, busybox, 'test-image-tag:all');
    await pushArchive(registry, busybox, 'test-image-digest:x');
    testImageWithTag = `${prefix}test-image-tag:test`;
    testImageWithoutTag = `${prefix}test-image-latest`;
    testImageWithDigest = `${prefix}test-image-digest@${(await getManifest(registry, 'test-image-digest', 'x')).digest}`;
    testImageWithAllReferences = `${prefix}test-image-tag:all`;
    // Three different images: busybox, nginx, and one of a single file.
    await pushArchive(registry, busybox, 'test-image-1:latest');
    await pushArchive(registry, nginx, 'test-image-2:latest');
    const third = buildImage([await makeLayer({ 'hello.txt': 'three\n' })]);
    for (const [, b] of third.blobs) await pushBlob(registry, 'test-image-3', b);
    await pushManifest(registry, 'test-image-3', 'latest', third.manifest);
    differentTagDifferentImage = [1, 2, 3].map((n) => `${prefix}test-image-${n}:latest`);
    for (const t of ['1', '2', '3']) await pushArchive(registry, busybox, `test-image-tags:${t}`);
    differentTagSameImage = ['1', '2', '3'].map((t) => `${prefix}test-image-tags:${t}`);
    await pushArchive(registry, busybox, 'pause:3.9');
    sameImageDifferentRegistries = [`${registry.host}/pause:3.9`, `localhost:${registry.host.split(':')[1]}/pause:3.9`];
    // critest's images/image-user-*: the same layer, User as each names it.
    const layer = await makeLayer({ 'etc/passwd': 'root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33:www-data:/var/www:/bin/sh\n', 'etc/group': 'root:x:0:\nwww-data:x:33:\n' });
    for (const [description, repo, user, uid, username] of [
      ['UID only', 'test-image-user-uid', '1002', '1002', ''],
      ['Username only', 'test-image-user-username', 'www-data', null, 'www-data'],
      ['UID:group', 'test-image-user-uid-group', '1003:users', '1003', ''],
      ['Username:group', 'test-image-user-username-group', 'www-data:users', null, 'www-data'],
    ] as const) {
      const img = buildImage([layer], ['/bin/sh'], 'amd64', { User: user });
      for (const [, b] of img.blobs) await pushBlob(registry, repo, b);
      await pushManifest(registry, repo, 'latest', img.manifest);
      userImages.push({ description, image: `${prefix}${repo}`, uid, username });
    }
    tokenServer = await startTokenServer('podns', 's3cret');
    secured = await startRegistry({ storage: registry.storage, auth: tokenServer.auth });
    // Network none: this process's namespace, where the registries listen; an empty store.
    h = await startCri({ network: 'none', images: false });
    cri = h.cri;
  }, 180_000);
  afterAll(async () => {
    await h?.dispose();
    await secured?.stop();
    await tokenServer?.stop();
    await registry?.stop();
  });

  // framework's helpers, as critest calls them.
  const pullPublicImage = async (image: string) => (await cri.image('PullImage', { image: { image }, sandbox_config: { labels: {} } })).image_ref as string;
  const imageStatus = async (image: string) => (await cri.image('ImageStatus', { image: { image } })).image;
  const listImages = async () => (await cri.image('ListImages', { filter: {} })).images as any[];
  /** validate's removeImage: by the id ImageStatus gives, if there is one. */
  const removeImage = async (image: string) => {
    const s = await imageStatus(image);
    if (s) await cri.image('RemoveImage', { image: { image: s.id } });
  };
  /** validate's testRemoveImage: removed by id, then no status. */
  const testRemoveImage = async (image: string) => {
    await removeImage(image);
    expect(await imageStatus(image)).toBeNull();
  };
  /** validate's testPullPublicImage. */
  const testPullPublicImage = async (image: string, check: (s: any) => void) => {
    await removeImage(image);
    await pullPublicImage(image);
    const s = await imageStatus(image);
    expect(s).not.toBeNull();
    expect(s.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(Number(s.size)).toBeGreaterThan(0);
    check(s);
    await testRemoveImage(image);
  };

  // --- image.go ----------------------------------------------------------------------------------------------

  it('public image with tag should be pulled and removed [Conformance] (critest: image.go)', async () => {
    await testPullPublicImage(testImageWithTag, (s) => expect(s.repo_tags).toEqual([testImageWithTag]));
  });

  it('public image should timeout if requested [Conformance] (critest: image.go)', async () => {
    const err = await grpcError(cri.imageWithDeadline('PullImage', { image: { image: testImageWithTag } }, 1));
    expect(err.code).toBe(status.DEADLINE_EXCEEDED);
    // issue 13: the pull the client gave up on leaves no image behind (here or once it would have finished).
    await sleep(1000);
    expect(await imageStatus(testImageWithTag)).toBeNull();
  });

  it('public image without tag should be pulled and removed [Conformance] (critest: image.go)', async () => {
    await testPullPublicImage(testImageWithoutTag, (s) => expect(s.repo_tags).toEqual([`${testImageWithoutTag}:latest`]));
  });

  it('public image with digest should be pulled and removed [Conformance] (critest: image.go)', async () => {
    await testPullPublicImage(testImageWithDigest, (s) => {
      expect(s.repo_tags).toEqual([]);
      expect(s.repo_digests).toEqual([testImageWithDigest]);
    });
  });

  it('image status should support all kinds of references [Conformance] (critest: image.go)', async () => {
    await removeImage(testImageWithAllReferences);
    await pullPublicImage(testImageWithAllReferences);
    const s = await imageStatus(testImageWithAllReferences);
    expect(s).not.toBeNull();
    expect(await imageStatus(s.id)).toEqual(s);
    for (const tag of s.repo_tags) expect(await imageStatus(tag)).toEqual(s);
    expect(s.repo_digests.length).toBeGreaterThan(0);
    for (const digest of s.repo_digests) expect(await imageStatus(digest)).toEqual(s);
    await testRemoveImage(testImageWithAllReferences);
  });

  it('image status get image fields should not have Uid|Username empty [Conformance] (critest: image.go)', async () => {
    for (const item of userImages) {
      await pullPublicImage(item.image);
      const s = await imageStatus(item.image);
      expect(s.uid?.value ?? null, `${item.description}: uid`).toBe(item.uid);
      expect(s.username, `${item.description}: username`).toBe(item.username);
      await removeImage(item.image);
    }
  });

  it('listImage should get exactly 3 image in the result list [Conformance] (critest: image.go)', async () => {
    for (const i of differentTagDifferentImage) await removeImage(i);
    const ids = [];
    for (const i of differentTagDifferentImage) ids.push(await pullPublicImage(i));
    expect(new Set(ids).size).toBe(3);
    const images = await listImages();
    ids.forEach((id, i) => {
      const img = images.find((x) => x.id === id);
      expect(img.repo_tags).toEqual([differentTagDifferentImage[i]]);
    });
    for (const i of differentTagDifferentImage) await removeImage(i);
  });

  it('listImage should get exactly 3 repoTags in the result image [Conformance] (critest: image.go)', async () => {
    for (const i of differentTagSameImage) await removeImage(i);
    const ids = [];
    for (const i of differentTagSameImage) ids.push(await pullPublicImage(i));
    expect(new Set(ids).size).toBe(1);
    const img = (await listImages()).find((x) => x.id === ids[0]);
    expect([...img.repo_tags].sort()).toEqual([...differentTagSameImage].sort());
    for (const i of differentTagSameImage) await removeImage(i);
  });

  it('removing image by one tag should remove all tags [Conformance] (critest: image.go)', async () => {
    const [one, two, three] = differentTagSameImage as [string, string, string];
    for (const i of differentTagSameImage) await removeImage(i);
    for (const i of differentTagSameImage) await pullPublicImage(i);
    const found = (await listImages()).find((x) => x.repo_tags.includes(one));
    expect(found.repo_tags).toHaveLength(3);
    expect(found.repo_tags).toEqual(expect.arrayContaining([one, two, three]));
    // critest's removeImage: by the id of the tag's status.
    await removeImage(one);
    for (const i of [one, two, three, found.id]) expect(await imageStatus(i)).toBeNull();
  });

  it('removing image from one registry should remove all tags from other registries [Conformance] (critest: image.go; one registry, two names)', async () => {
    const [one, two] = sameImageDifferentRegistries as [string, string];
    for (const i of sameImageDifferentRegistries) await removeImage(i);
    for (const i of sameImageDifferentRegistries) await pullPublicImage(i);
    const found = (await listImages()).find((x) => x.repo_tags.includes(one));
    expect(found.repo_tags).toHaveLength(2);
    expect(found.repo_tags).toEqual(expect.arrayContaining([one, two]));
    await removeImage(one);
    for (const i of [one, two, found.id]) expect(await imageStatus(i)).toBeNull();
  });

  // --- image_consistency.go -----------------------------------------------------------------------------------

  it('should not list or get image status immediately after removal [Conformance] (critest: image_consistency.go)', async () => {
    await removeImage(testImageWithTag);
    await pullPublicImage(testImageWithTag);
    await removeImage(testImageWithTag);
    expect((await listImages()).some((x) => x.repo_tags.includes(testImageWithTag))).toBe(false);
    expect(await imageStatus(testImageWithTag)).toBeNull();
  });

  it('should list and get image status immediately after pulling [Conformance] (critest: image_consistency.go)', async () => {
    await removeImage(testImageWithTag);
    await pullPublicImage(testImageWithTag);
    expect((await listImages()).some((x) => x.repo_tags.includes(testImageWithTag))).toBe(true);
    expect(await imageStatus(testImageWithTag)).not.toBeNull();
    await removeImage(testImageWithTag);
  });

  it('should not fail on simultaneous RemoveImage calls [Conformance] (critest: image_consistency.go)', async () => {
    await removeImage(testImageWithTag);
    await pullPublicImage(testImageWithTag);
    const id = (await imageStatus(testImageWithTag)).id;
    const results = await Promise.all(
      Array.from({ length: 5 }, async () => {
        const err = await cri.image('RemoveImage', { image: { image: id } }).then(
          () => undefined,
          (e: Error) => e,
        );
        return { err, found: (await imageStatus(id)) !== null };
      }),
    );
    expect(results).toEqual(Array.from({ length: 5 }, () => ({ err: undefined, found: false })));
    expect(await imageStatus(id)).toBeNull();
  });

  // --- image_id_consistency.go (sandboxes on the node's network) -----------------------------------------------

  /** CreatePodSandboxForContainer, on the node's network (this process's: no CNI here). */
  const nodeNetworkSandbox = async () => {
    const podConfig = defaultSandboxConfig('create-PodSandbox-for-container-', { linux: { cgroup_parent: '', security_context: { namespace_options: { network: 'NODE', pid: 'POD', ipc: 'POD' } } } });
    return { podId: await runPodSandbox(cri, podConfig), podConfig };
  };

  it('should return the same image identifier across all APIs [Conformance] (critest: image_id_consistency.go)', async () => {
    const imageRef = await pullPublicImage(testImageWithTag);
    expect(imageRef).not.toBe('');
    const s = await imageStatus(testImageWithTag);
    const { podId, podConfig } = await nodeNetworkSandbox();
    const config = { metadata: containerMetadata(`id-consistency-${Date.now()}`), image: { image: imageRef, user_specified_image: testImageWithTag } };
    const c = (await cri.runtime('CreateContainer', { pod_sandbox_id: podId, config, sandbox_config: podConfig })).container_id;
    await cri.runtime('StartContainer', { container_id: c });
    const cs = (await cri.runtime('ContainerStatus', { container_id: c })).status;
    const listed = (await cri.runtime('ListContainers', { filter: { id: c } })).containers;
    expect(listed).toHaveLength(1);
    expect(s.id).toBe(imageRef);
    expect(cs.image_id).toBe(imageRef);
    expect(listed[0].image_id).toBe(imageRef);
    // critest's defers, last first: the container (running or not), the sandbox, the image.
    await cri.runtime('RemoveContainer', { container_id: c });
    await cri.runtime('StopPodSandbox', { pod_sandbox_id: podId });
    await cri.runtime('RemovePodSandbox', { pod_sandbox_id: podId });
    await removeImage(testImageWithTag);
  });

  it('should return the same image identifier when pulled from different registries [Conformance] (critest: image_id_consistency.go; one registry, two names)', async () => {
    const [one, two] = sameImageDifferentRegistries as [string, string];
    const ref1 = await pullPublicImage(one);
    const ref2 = await pullPublicImage(two);
    expect(ref1).toBe(ref2);
    expect((await imageStatus(one)).id).toBe(ref1);
    expect((await imageStatus(two)).id).toBe(ref1);
    const { podId, podConfig } = await nodeNetworkSandbox();
    const config = { metadata: containerMetadata(`id-consistency-multi-registry-${Date.now()}`), image: { image: ref2, user_specified_image: two } };
    const c = (await cri.runtime('CreateContainer', { pod_sandbox_id: podId, config, sandbox_config: podConfig })).container_id;
    await cri.runtime('StartContainer', { container_id: c });
    expect((await cri.runtime('ContainerStatus', { container_id: c })).status.image_id).toBe(ref1);
    await cri.runtime('RemoveContainer', { container_id: c });
    await cri.runtime('StopPodSandbox', { pod_sandbox_id: podId });
    await cri.runtime('RemovePodSandbox', { pod_sandbox_id: podId });
    await removeImage(one);
    await removeImage(two);
  });

  // --- issue 13: credentials, a missing image, a given-up pull ---------------------------------------------------

  it('PullImage with auth from a token-authenticated registry; without it, or with a wrong password, an error naming the registry', async () => {
    const image = `${secured.host}/test-image-tag:test`;
    const anonymous = await grpcError(cri.image('PullImage', { image: { image } }));
    expect(anonymous).toMatchObject({ code: status.UNAUTHENTICATED, details: expect.stringContaining(`registry ${secured.host}`) });
    const wrong = await grpcError(cri.image('PullImage', { image: { image }, auth: { username: 'podns', password: 'nope' } }));
    expect(wrong.code).toBe(status.UNAUTHENTICATED);
    expect(await imageStatus(image)).toBeNull();
    const ref = await cri.image('PullImage', { image: { image }, auth: { username: 'podns', password: 's3cret', server_address: secured.host } });
    expect(ref.image_ref).toMatch(/^sha256:/);
    expect((await imageStatus(image)).repo_tags).toEqual([image]);
    // docker's base64 `auth` form, as kubelet may pass a pull secret.
    await removeImage(image);
    await cri.image('PullImage', { image: { image }, auth: { auth: Buffer.from('podns:s3cret').toString('base64') } });
    await removeImage(image);
  });

  it('PullImage of an image or a tag that does not exist: NOT_FOUND naming it, nothing stored', async () => {
    for (const image of [`${prefix}no-such-image:1`, `${prefix}test-image-tag:no-such-tag`]) {
      const err = await grpcError(cri.image('PullImage', { image: { image } }));
      expect(err).toMatchObject({ code: status.NOT_FOUND, details: expect.stringContaining('manifest unknown') });
      expect(await imageStatus(image)).toBeNull();
    }
    expect(await grpcError(cri.image('PullImage', { image: { image: '' } }))).toEqual({ code: status.INVALID_ARGUMENT, details: 'image.image is required' });
    expect(await listImages()).toEqual([]);
  });

  it('a PullImage the client gave up on (its deadline) while blobs were still coming: no image, once the pull ended', async () => {
    // A registry that serves the image's blobs slowly: the client's deadline passes mid-pull.
    const img = buildImage([await makeLayer({ 'slow.txt': 'slow\n' })]);
    const slow = await startFakeRegistry(serveImage(img, (_d, bytes, res) => (setTimeout(() => res.writeHead(200, { 'Content-Length': bytes.length }).end(bytes), 1500), true)));
    try {
      const image = `${slow.host}/slow:1`;
      const err = await grpcError(cri.imageWithDeadline('PullImage', { image: { image } }, 500));
      expect(err.code).toBe(status.DEADLINE_EXCEEDED);
      await sleep(2500);
      expect(await imageStatus(image)).toBeNull();
      expect(await listImages()).toEqual([]);
    } finally {
      await slow.stop();
    }
  });

  it('nothing of the pulls is left but what images use: ImageFsInfo and the store agree', async () => {
    const info = await cri.image('ImageFsInfo', {});
    expect(info.image_filesystems).toHaveLength(1);
    expect(info.image_filesystems[0].fs_id.mountpoint).toBe(path.join(h.podns.root, 'lib', 'images'));
    expect(fs.readdirSync(path.join(h.podns.root, 'lib', 'images', 'images'))).toEqual([]);
  });
});
