/**
 * critest's streaming cases (cri-tools pkg/validate/streaming.go), one test per `It`, against the real endpoint
 * over gRPC: Exec, Attach and PortForward answer with a URL on the supervisor's streaming server, and a client
 * drives it — the test's own (test/unit/support/streaming-client.ts: SPDY as client-go speaks it, WebSocket with
 * ws), and real kubectl binaries through a stand-in API server (fixtures/stub-apiserver.mjs plays the API server
 * and kubelet): kubectl 1.20 speaks SPDY for exec and port-forward, kubectl 1.31+ WebSocket v5 for exec and SPDY
 * tunnelled in WebSocket for port-forward. Then issue 13's edge cases: exit codes in the v4 status, a tty with
 * resize, used and expired tokens, bad ids at the gRPC call, and ExecSync against Exec's latency.
 *
 * The supervisor runs in the file's own network namespace, so the streaming server's 127.0.0.1 is there: the test
 * dials it through the kernel seam (connectInNetworkNamespace), kubectl and the stub run under nsenter.
 *
 * Requires: root; busybox and nginx test images; for the kubectl cases kubectl 1.20 (Debian 12's kubernetes-client,
 * unpacked with `dpkg-deb -x kubernetes-client_*.deb /opt/kubectl-1.20` when another kubectl owns /usr/bin; or
 * PODNS_TEST_KUBECTL_SPDY; scripts/test.sh installs it) and, where one exists, a kubectl ≥ 1.31 (PODNS_TEST_KUBECTL_WS).
 */
import { execa, type ResultPromise } from 'execa';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { nativeKernel } from '../../src/sys/native.js';
import { spdyConnect, spdyExec, spdyPortForward, type Connect } from '../unit/support/streaming-client.js';
import { kernelSkip, sleep, waitFor } from './harness.js';
import {
  BUSYBOX,
  cleanupPodSandbox,
  containerMetadata,
  createContainer,
  createDefaultContainer,
  createPodSandboxForContainer,
  defaultSandboxConfig,
  execSyncContainer,
  getContainerStatus,
  grpcError,
  NGINX,
  runPodSandbox,
  startContainer,
  startCri,
  status,
  testStartContainer,
  waitForContainerState,
  type CriClient,
  type CriHarness,
} from './cri-support.js';

/** validate's echoHelloCmd / echoHelloOutput / attachEchoHelloOutput. */
const ECHO_HELLO = ['echo', 'hello'];
/** The tokens' lifetime here: long enough for any client of this file, short enough to see one expire. */
const TOKEN_TTL_MS = 3000;

const KUBECTL_SPDY = process.env.PODNS_TEST_KUBECTL_SPDY ?? '/opt/kubectl-1.20/usr/bin/kubectl';
const KUBECTL_WS = process.env.PODNS_TEST_KUBECTL_WS ?? '/usr/lib/google-cloud-sdk/bin/kubectl.1.33';
const STUB = path.join(import.meta.dirname, 'fixtures', 'stub-apiserver.mjs');

describe.skipIf(kernelSkip)('critest: Streaming', () => {
  let h: CriHarness;
  let cri: CriClient;
  /** A TCP connection to 127.0.0.1:port of the supervisor's network namespace. */
  let connect: Connect;

  beforeAll(async () => {
    h = await startCri({ settings: { streamTokenTtlMs: TOKEN_TTL_MS } });
    cri = h.cri;
    connect = async (url) => {
      const fd = await nativeKernel.connectInNetworkNamespace(`/run/netns/${h.podns.netns}`, Number(url.port), 5000);
      return new net.Socket({ fd, readable: true, writable: true });
    };
  }, 120_000);
  afterAll(async () => h?.dispose());

  const execUrl = async (request: object): Promise<string> => (await cri.runtime('Exec', request)).url;

  /** A running busybox `top` in a new sandbox (framework.CreateDefaultContainer, started). */
  const runningContainer = async (prefix: string) => {
    const { podId, podConfig } = await createPodSandboxForContainer(cri);
    const id = await createDefaultContainer(cri, podId, podConfig, prefix);
    await testStartContainer(cri, id);
    return { podId, podConfig, id };
  };

  it('runtime should support exec with tty=false and stdin=false [Conformance] (critest: streaming.go)', async () => {
    const { podId, id } = await runningContainer('container-for-exec-test');
    const url = await execUrl({ container_id: id, cmd: ECHO_HELLO, stdout: true, stderr: true });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/exec\/[A-Za-z0-9_-]+$/);
    const r = await spdyExec(url, {}, connect);
    expect(r).toMatchObject({ protocol: 'v4.channel.k8s.io', stdout: 'hello\n', stderr: '', exitCode: 0 });
    await cleanupPodSandbox(cri, podId);
  });

  it('runtime should support exec with tty=true and stdin=true [Conformance] (critest: streaming.go)', async () => {
    const { podId, id } = await runningContainer('container-for-exec-test');
    const url = await execUrl({ container_id: id, cmd: ECHO_HELLO, stdout: true, tty: true, stdin: true });
    // checkExec: stdin stays open until the output is read (or 20 s).
    const r = await spdyExec(url, { tty: true, stdin: async (stdin, stdout) => void stdout.until((t) => t.includes('hello')).then(() => stdin.end()) }, connect);
    expect(r.stdout).toContain('hello');
    expect(r.stdout).toBe('hello\r\n');
    expect(r.exitCode).toBe(0);
    await cleanupPodSandbox(cri, podId);
  });

  it('a failing command: NonZeroExitCode with its code in the v4 status; stderr apart; stdin reaches it', async () => {
    const { podId, id } = await runningContainer('exec-exit-code-');
    const url = await execUrl({ container_id: id, cmd: ['sh', '-c', 'read line; echo "got $line"; echo bad >&2; exit 7'], stdin: true, stdout: true, stderr: true });
    const r = await spdyExec(url, { stdin: 'input\n' }, connect);
    expect(r).toMatchObject({ stdout: 'got input\n', stderr: 'bad\n', exitCode: 7 });
    expect(JSON.parse(r.error)).toMatchObject({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '7' }] } });
    // A command that is not there: the exec's spawn fails in the container (exit 127 as runc's, or an
    // InternalError status) — either way not a Success.
    const missing = await spdyExec(await execUrl({ container_id: id, cmd: ['/no/such/command'], stdout: true, stderr: true }), {}, connect);
    expect(JSON.parse(missing.error).status).toBe('Failure');
    await cleanupPodSandbox(cri, podId);
  });

  it('a tty exec gets the size sent on the resize stream, and a new size while it runs (SIGWINCH)', async () => {
    const { podId, id } = await runningContainer('exec-resize-');
    // Each SIGWINCH prints the size; the second ends it.
    const script = 'n=0; trap \'stty size; n=$((n+1)); [ $n = 2 ] && exit 0\' WINCH; echo ready; while :; do sleep 0.1; done';
    // The streams driven one by one: the second size goes while the command runs.
    const url = await execUrl({ container_id: id, cmd: ['sh', '-c', script], stdout: true, stdin: true, tty: true });
    const { client } = await spdyConnect(url, ['v4.channel.k8s.io'], connect);
    const error = await client!.open({ streamtype: 'error' });
    await client!.open({ streamtype: 'stdin' });
    const stdout = await client!.open({ streamtype: 'stdout' });
    const resize = await client!.open({ streamtype: 'resize' });
    await stdout.until((t) => t.includes('ready'));
    resize.write('{"Width":100,"Height":40}\n');
    await stdout.until((t) => t.includes('40 100'));
    resize.write('{"Width":132,"Height":43}\n');
    await stdout.until((t) => t.includes('43 132'));
    await error.ended();
    expect(JSON.parse(error.text).status).toBe('Success');
    client!.close();
    await cleanupPodSandbox(cri, podId);
  });

  it('exec over WebSocket v5 (as the API server speaks to kubelet since 1.30): stdin, its CLOSE signal, the status', async () => {
    const { podId, id } = await runningContainer('exec-websocket-');
    const url = await execUrl({ container_id: id, cmd: ['sh', '-c', 'cat; echo done; exit 3'], stdin: true, stdout: true, stderr: true });
    const socket = await connect(new URL(url));
    const ws = new WebSocket(url.replace(/^http/, 'ws'), ['v5.channel.k8s.io'], { createConnection: () => socket });
    const channels: Buffer[][] = [[], [], [], []];
    ws.on('message', (m: Buffer) => channels[m[0]!]?.push(m.subarray(1)));
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
    expect(ws.protocol).toBe('v5.channel.k8s.io');
    ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('over websocket\n')]));
    ws.send(Buffer.from([255, 0]));
    expect(await closed).toBe(1000);
    expect(Buffer.concat(channels[1]!).toString()).toBe('over websocket\ndone\n');
    expect(JSON.parse(Buffer.concat(channels[3]!).toString())).toMatchObject({ reason: 'NonZeroExitCode', details: { causes: [{ message: '3' }] } });
    await cleanupPodSandbox(cri, podId);
  });

  it('runtime should support attach [Conformance] (critest: streaming.go)', async () => {
    const { podId, podConfig } = await createPodSandboxForContainer(cri);
    // validate's createShellContainer: busybox `sh` with stdin and stdin_once, no tty.
    const id = await createContainer(cri, { metadata: containerMetadata('container-for-attach-test'), image: { image: BUSYBOX }, command: ['sh'], linux: {}, stdin: true, stdin_once: true, tty: false }, podId, podConfig);
    await startContainer(cri, id);
    await waitForContainerState(cri, id, 'CONTAINER_RUNNING');
    const url = (await cri.runtime('Attach', { container_id: id, stdin: true, stdout: true, stderr: true, tty: false })).url;
    expect(url).toMatch(/\/attach\//);
    const { client } = await spdyConnect(url, ['v4.channel.k8s.io'], connect);
    const error = await client!.open({ streamtype: 'error' });
    const stdin = await client!.open({ streamtype: 'stdin' });
    const stdout = await client!.open({ streamtype: 'stdout' });
    const stderr = await client!.open({ streamtype: 'stderr' });
    // checkAttach: no output without input; `echo hello` typed gives exactly "hello\n", and nothing after it.
    await sleep(500);
    expect(stdout.text).toBe('');
    stdin.write(`${ECHO_HELLO.join(' ')}\n`);
    expect(await stdout.until((t) => t.length >= 6)).toBe('hello\n');
    await sleep(1000);
    expect(stdout.text).toBe('hello\n');
    // The client's end of input is the container's (stdin_once, no tty): sh exits, the session ends Success.
    stdin.end();
    await error.ended();
    expect(JSON.parse(error.text)).toMatchObject({ status: 'Success' });
    expect(stderr.text).toBe('');
    client!.close();
    const s = await waitForContainerState(cri, id, 'CONTAINER_EXITED');
    expect(s.exit_code).toBe(0);
    await cleanupPodSandbox(cri, podId);
  });

  it('attach to a container with a terminal (kubectl attach -it): typed input echoes, the size reaches it', async () => {
    const { podId, podConfig } = await createPodSandboxForContainer(cri);
    const id = await createContainer(cri, { metadata: containerMetadata('attach-tty-'), image: { image: BUSYBOX }, command: ['sh'], linux: {}, stdin: true, tty: true }, podId, podConfig);
    await startContainer(cri, id);
    await waitForContainerState(cri, id, 'CONTAINER_RUNNING');
    const url = (await cri.runtime('Attach', { container_id: id, stdin: true, stdout: true, tty: true })).url;
    const { client } = await spdyConnect(url, ['v4.channel.k8s.io'], connect);
    await client!.open({ streamtype: 'error' });
    const stdin = await client!.open({ streamtype: 'stdin' });
    const stdout = await client!.open({ streamtype: 'stdout' });
    const resize = await client!.open({ streamtype: 'resize' });
    resize.write('{"Width":90,"Height":30}\n');
    await sleep(200);
    stdin.write('stty size\n');
    // The terminal echoes what is typed, then the command's answer.
    await stdout.until((t) => t.includes('30 90'));
    client!.close();
    // The client left; the container runs on.
    await sleep(300);
    expect((await getContainerStatus(cri, id)).state).toBe('CONTAINER_RUNNING');
    await cleanupPodSandbox(cri, podId);
  });

  it('runtime should support portforward [Conformance] (critest: streaming.go)', async () => {
    // createPodSandboxWithPortMapping: container port 80, no host port.
    const podConfig = defaultSandboxConfig('PodSandbox-with-port-mapping-', { port_mappings: [{ protocol: 'TCP', container_port: 80, host_port: 0, host_ip: '' }] });
    const podId = await runPodSandbox(cri, podConfig);
    const id = await createContainer(cri, { metadata: containerMetadata('container-for-portforward-test'), image: { image: NGINX }, linux: {} }, podId, podConfig);
    await startContainer(cri, id);
    await waitForContainerState(cri, id, 'CONTAINER_RUNNING');
    const page = async (requestId: number) => {
      const url = (await cri.runtime('PortForward', { pod_sandbox_id: podId })).url;
      expect(url).toMatch(/\/portforward\//);
      const { client } = await spdyConnect(url, ['portforward.k8s.io'], connect);
      try {
        return await spdyPortForward(client!, 80, requestId, 'GET / HTTP/1.0\r\nHost: localhost\r\n\r\n');
      } finally {
        client!.close();
      }
    };
    // checkMainPage first: nginx takes a moment to listen.
    const r = await waitFor(async () => {
      const p = await page(0);
      return p.data.startsWith('HTTP/1.1 200') ? p : undefined;
    }, 30_000, 'nginx to answer through port-forward');
    expect(r.data).toContain('Welcome to nginx');
    expect(r.error).toBe('');
    // A port nothing listens on: the error stream says so, in kubelet's words.
    const url = (await cri.runtime('PortForward', { pod_sandbox_id: podId })).url;
    const { client } = await spdyConnect(url, ['portforward.k8s.io'], connect);
    const refused = await spdyPortForward(client!, 81, 7, 'x');
    client!.close();
    expect(refused.error).toMatch(new RegExp(`^error forwarding port 81 to pod ${podId}, uid : .*(refused|ECONNREFUSED)`));
    await cleanupPodSandbox(cri, podId);
  });

  it('a URL is single-use and expires: a second use and a late one are 404 and run nothing', async () => {
    const { podId, id } = await runningContainer('exec-token-');
    const url = await execUrl({ container_id: id, cmd: ['sh', '-c', 'echo x >> /tmp/runs'], stdout: true });
    expect((await spdyExec(url, { stderr: false }, connect)).exitCode).toBe(0);
    const again = await spdyConnect(url, ['v4.channel.k8s.io'], connect);
    expect(again.answer.status).toBe(404);
    const late = await execUrl({ container_id: id, cmd: ['sh', '-c', 'echo x >> /tmp/runs'], stdout: true });
    await sleep(TOKEN_TTL_MS + 200);
    expect((await spdyConnect(late, ['v4.channel.k8s.io'], connect)).answer.status).toBe(404);
    expect(await execSyncContainer(cri, id, ['cat', '/tmp/runs'])).toBe('x\n');
    await cleanupPodSandbox(cri, podId);
  });

  it('bad requests fail at the gRPC call: unknown ids NOT_FOUND, a stopped container FAILED_PRECONDITION, tty with stderr INVALID_ARGUMENT', async () => {
    const { podId, podConfig, id } = await runningContainer('exec-bad-');
    expect((await grpcError(cri.runtime('Exec', { container_id: 'f'.repeat(64), cmd: ['true'], stdout: true }))).code).toBe(status.NOT_FOUND);
    expect((await grpcError(cri.runtime('Attach', { container_id: 'nope', stdout: true }))).code).toBe(status.NOT_FOUND);
    expect((await grpcError(cri.runtime('PortForward', { pod_sandbox_id: 'nope' }))).code).toBe(status.NOT_FOUND);
    const both = await grpcError(cri.runtime('Exec', { container_id: id, cmd: ['sh'], tty: true, stdout: true, stderr: true }));
    expect(both).toEqual({ code: status.INVALID_ARGUMENT, details: 'tty and stderr cannot both be true' });
    expect((await grpcError(cri.runtime('Exec', { container_id: id, cmd: [], stdout: true }))).code).toBe(status.INVALID_ARGUMENT);
    expect((await grpcError(cri.runtime('Attach', { container_id: id, stdin: true, stdout: true }))).details).toMatch(/created without stdin/);
    const created = await createContainer(cri, { metadata: containerMetadata('never-started'), image: { image: BUSYBOX }, command: ['top'], linux: {} }, podId, podConfig);
    expect((await grpcError(cri.runtime('Exec', { container_id: created, cmd: ['true'], stdout: true }))).code).toBe(status.FAILED_PRECONDITION);
    await cleanupPodSandbox(cri, podId);
  });

  describe('kubectl through a stand-in API server', () => {
    let stub: ResultPromise | undefined;
    let server = '';
    /** The sessions the stub proxied: how each client upgraded, and what it offered. */
    const sessions: { kind: string; upgrade: string; protocols: string }[] = [];
    const home = () => path.join(h.podns.root, 'kube-home');

    beforeAll(async () => {
      fs.mkdirSync(home(), { recursive: true });
      stub = execa('nsenter', [`--net=/run/netns/${h.podns.netns}`, process.execPath, STUB, '--run-root', path.join(h.podns.root, 'run')], { reject: false, buffer: false });
      let lines = '';
      stub.stderr!.on('data', (d: Buffer) => {
        lines += d.toString();
        for (let i = lines.indexOf('\n'); i >= 0; i = lines.indexOf('\n')) {
          const line = lines.slice(0, i);
          lines = lines.slice(i + 1);
          if (line.startsWith('{')) sessions.push(JSON.parse(line));
        }
      });
      const port = await new Promise<number>((resolve, reject) => {
        stub!.stdout!.once('data', (d: Buffer) => resolve(JSON.parse(d.toString()).port));
        void stub!.then((r) => reject(new Error(`stub-apiserver exited ${r.exitCode}: ${String(r.stderr ?? '')}`)));
      });
      server = `http://127.0.0.1:${port}`;
    });
    afterAll(async () => {
      stub?.kill('SIGTERM');
      await stub;
    });

    const kubectl = (binary: string, args: string[], input?: string) =>
      execa('nsenter', [`--net=/run/netns/${h.podns.netns}`, binary, '--server', server, '--cache-dir', path.join(home(), 'cache'), ...args], {
        reject: false,
        timeout: 60_000,
        env: { HOME: home(), KUBECONFIG: '/dev/null' },
        ...(input !== undefined ? { input } : { stdin: 'ignore' }),
      });

    /** A CRI pod named `name` in namespace default with a busybox `top` and an nginx (as kubelet would make). */
    const kubePod = async (name: string) => {
      const podConfig = { ...defaultSandboxConfig(''), metadata: { name, uid: `uid-${name}`, namespace: 'default', attempt: 0 } };
      const podId = await runPodSandbox(cri, podConfig);
      const box = await createContainer(cri, { metadata: containerMetadata('box'), image: { image: BUSYBOX }, command: ['top'], linux: {} }, podId, podConfig);
      const web = await createContainer(cri, { metadata: containerMetadata('web'), image: { image: NGINX }, linux: {} }, podId, podConfig);
      await startContainer(cri, box);
      await startContainer(cri, web);
      await waitForContainerState(cri, web, 'CONTAINER_RUNNING');
      return podId;
    };

    const forwardAndFetch = async (binary: string) => {
      const pf = execa('nsenter', [`--net=/run/netns/${h.podns.netns}`, binary, '--server', server, '--cache-dir', path.join(home(), 'cache'), 'port-forward', 'pod/kpod', ':80'], {
        reject: false,
        env: { HOME: home(), KUBECONFIG: '/dev/null' },
        stdin: 'ignore',
        buffer: false,
      });
      try {
        const local = await new Promise<number>((resolve, reject) => {
          let out = '';
          pf.stdout!.on('data', (d: Buffer) => {
            out += d.toString();
            const m = /Forwarding from 127\.0\.0\.1:(\d+) -> 80/.exec(out);
            if (m) resolve(Number(m[1]));
          });
          void pf.then(() => reject(new Error(`kubectl port-forward exited: ${out}`)));
        });
        return await waitFor(async () => {
          const r = await h.podns.inNetns(['curl', '-s', '-m', '5', `http://127.0.0.1:${local}/`]);
          return r.stdout.includes('Welcome to nginx') ? r.stdout : undefined;
        }, 30_000, 'the page through kubectl port-forward');
      } finally {
        pf.kill('SIGTERM');
        await pf;
      }
    };

    it('kubectl 1.20 (SPDY): exec gets stdout and exits with the command\'s code; port-forward gets the page', async (ctx) => {
      if (!fs.existsSync(KUBECTL_SPDY)) return ctx.skip(`no kubectl 1.20 at ${KUBECTL_SPDY} (PODNS_TEST_KUBECTL_SPDY)`);
      const podId = await kubePod('kpod');
      sessions.length = 0;
      const hello = await kubectl(KUBECTL_SPDY, ['exec', 'kpod', '-c', 'box', '--', 'echo', 'hello']);
      expect({ stdout: hello.stdout, exitCode: hello.exitCode }).toEqual({ stdout: 'hello', exitCode: 0 });
      const failing = await kubectl(KUBECTL_SPDY, ['exec', 'kpod', '-c', 'box', '--', 'sh', '-c', 'exit 5']);
      expect(failing.exitCode).toBe(5);
      const piped = await kubectl(KUBECTL_SPDY, ['exec', '-i', 'kpod', '-c', 'box', '--', 'tr', 'a-z', 'A-Z'], 'shout\n');
      expect(piped.stdout).toBe('SHOUT');
      expect(await forwardAndFetch(KUBECTL_SPDY)).toContain('Welcome to nginx');
      // Every session was SPDY: remotecommand v4 for exec, portforward.k8s.io for the forward.
      expect(sessions.map((s) => `${s.kind} ${s.upgrade} ${s.protocols.split(',')[0]}`)).toEqual([
        'exec SPDY/3.1 v4.channel.k8s.io',
        'exec SPDY/3.1 v4.channel.k8s.io',
        'exec SPDY/3.1 v4.channel.k8s.io',
        'portforward SPDY/3.1 portforward.k8s.io',
      ]);
      await cleanupPodSandbox(cri, podId);
    });

    it("a pod of `podns run` through the supervisor's stream op: kubectl 1.20 exec, its exit code, an unknown container refused", async (ctx) => {
      if (!fs.existsSync(KUBECTL_SPDY)) return ctx.skip(`no kubectl 1.20 at ${KUBECTL_SPDY} (PODNS_TEST_KUBECTL_SPDY)`);
      const name = `runpod-${Date.now().toString(36)}`;
      const manifest = `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  containers:\n  - name: box\n    image: ${BUSYBOX}\n    command: ["top"]\n`;
      await h.podns.ok(['run', h.podns.writeManifest(name, manifest)]);
      try {
        sessions.length = 0;
        const hello = await kubectl(KUBECTL_SPDY, ['exec', name, '--', 'sh', '-c', 'echo hello; exit 4']);
        expect({ stdout: hello.stdout, exitCode: hello.exitCode }).toEqual({ stdout: 'hello', exitCode: 4 });
        const missing = await kubectl(KUBECTL_SPDY, ['exec', name, '-c', 'nosuch', '--', 'true']);
        expect(missing.exitCode).toBe(1);
        expect(missing.stderr).toContain(`pod "${name}" has no container "nosuch"`);
        expect(sessions.map((s) => s.kind)).toEqual(['exec']);
      } finally {
        await h.podns.ok(['rm', '-f', name]);
      }
    });

    // No apt or npm package carries a kubectl ≥ 1.31 (Debian 12's is 1.20), so CI's fresh machine may have none:
    // this case is part of the suite where one exists (google-cloud-sdk's, or PODNS_TEST_KUBECTL_WS) and left out,
    // saying so, elsewhere; the WebSocket v5 protocol itself is covered above by the test's own client.
    if (!fs.existsSync(KUBECTL_WS)) console.warn(`cri-streaming: no kubectl ≥ 1.31 at ${KUBECTL_WS} (PODNS_TEST_KUBECTL_WS): its case is not part of this run`);
    else it('kubectl ≥ 1.31 (WebSocket v5 exec, SPDY over WebSocket port-forward)', async () => {
      const podId = await kubePod('kpod');
      sessions.length = 0;
      const hello = await kubectl(KUBECTL_WS, ['exec', 'kpod', '-c', 'box', '--', 'echo', 'hello']);
      expect({ stdout: hello.stdout, stderr: hello.stderr, exitCode: hello.exitCode }).toEqual({ stdout: 'hello', stderr: '', exitCode: 0 });
      expect((await kubectl(KUBECTL_WS, ['exec', 'kpod', '-c', 'box', '--', 'sh', '-c', 'exit 6'])).exitCode).toBe(6);
      const piped = await kubectl(KUBECTL_WS, ['exec', '-i', 'kpod', '-c', 'box', '--', 'tr', 'a-z', 'A-Z'], 'shout\n');
      expect(piped.stdout).toBe('SHOUT');
      expect(await forwardAndFetch(KUBECTL_WS)).toContain('Welcome to nginx');
      // No fallback to SPDY: exec over WebSocket v5, the forward as SPDY tunnelled in WebSocket.
      expect(sessions.map((s) => `${s.kind} ${s.upgrade} ${s.protocols.split(',')[0]}`)).toEqual([
        'exec websocket v5.channel.k8s.io',
        'exec websocket v5.channel.k8s.io',
        'exec websocket v5.channel.k8s.io',
        'portforward websocket SPDY/3.1+portforward.k8s.io',
      ]);
      await cleanupPodSandbox(cri, podId);
    });
  });

  it('latency: ExecSync `true` against Exec of `true` through the streaming server (median of 20)', async () => {
    const { podId, id } = await runningContainer('exec-latency-');
    // The supervisor's open files after one session (the server listening), and again after twenty more: a
    // session that left a pipe, a terminal or a socket behind shows here.
    const supervisorPid = Number(fs.readFileSync(path.join(h.podns.root, 'run', 'supervisor.pid'), 'utf8').trim().split(/\s/)[0]);
    const openFds = () => fs.readdirSync(`/proc/${supervisorPid}/fd`).length;
    const rssKb = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${supervisorPid}/status`, 'utf8'))![1]);
    const rssBefore = rssKb();
    await spdyExec(await execUrl({ container_id: id, cmd: ['true'], stdout: true }), { stderr: false }, connect);
    await sleep(100);
    const fdsBefore = openFds();
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    const sync: number[] = [];
    const streamed: number[] = [];
    for (let i = 0; i < 20; i++) {
      let t = performance.now();
      await cri.runtime('ExecSync', { container_id: id, cmd: ['true'], timeout: '10' });
      sync.push(performance.now() - t);
      t = performance.now();
      const r = await spdyExec(await execUrl({ container_id: id, cmd: ['true'], stdout: true, stderr: true }), {}, connect);
      streamed.push(performance.now() - t);
      expect(r.exitCode).toBe(0);
    }
    const fmt = (xs: number[]) => `median ${median(xs).toFixed(1)} ms (min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)})`;
    console.log(`ExecSync true: ${fmt(sync)}; Exec true via SPDY: ${fmt(streamed)}; ratio ${(median(streamed) / median(sync)).toFixed(2)}`);
    console.log(`supervisor RSS: ${rssBefore} kB before this case's 21 streamed execs, ${rssKb()} kB after (the streaming server's own cost shows when this case runs alone)`);
    expect((await getContainerStatus(cri, id)).state).toBe('CONTAINER_RUNNING');
    await waitFor(() => openFds() <= fdsBefore, 2000, `the supervisor's fds back to ${fdsBefore} (now ${openFds()})`);
    await cleanupPodSandbox(cri, podId);
  });
});
