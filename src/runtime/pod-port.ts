/**
 * CRI PortForward's connection: a TCP connection to localhost:port as the pod sees it — made inside the pod's
 * network namespace (its pin), so a port the pod listens on only on 127.0.0.1 is reached too, and a pod without
 * an address (network mode none) as well. The kernel seam makes it without the supervisor ever changing its own
 * namespaces (connectInNetworkNamespace: a thread of its own enters the namespace). A pod on the host's network
 * (no pin) shares our localhost, as containerd dials it for hostNetwork sandboxes.
 */
import net from 'node:net';
import type { Kernel } from '../kernel/kernel.js';
import type { SandboxRecord } from './records.js';

/** How long a connect may take (a SYN to a full backlog is retried for minutes otherwise). */
const CONNECT_TIMEOUT_MS = 10_000;

export async function connectToPodPort(kernel: Kernel, sandbox: SandboxRecord, port: number): Promise<net.Socket> {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`invalid port ${port}`);
  if (sandbox.netnsPin) {
    const fd = await kernel.connectInNetworkNamespace(sandbox.netnsPin, port, CONNECT_TIMEOUT_MS);
    // Half-open allowed: the pod's end of its output must not end what the client still sends (and back).
    return new net.Socket({ fd, readable: true, writable: true, allowHalfOpen: true });
  }
  return connectHere(port);
}

/** localhost:port from here: 127.0.0.1, then ::1 (containerd's tcp4-then-tcp6). */
async function connectHere(port: number): Promise<net.Socket> {
  try {
    return await dial('127.0.0.1', port);
  } catch (err) {
    try {
      return await dial('::1', port);
    } catch {
      throw err;
    }
  }
}

function dial(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, timeout: CONNECT_TIMEOUT_MS, allowHalfOpen: true });
    socket.once('connect', () => {
      socket.setTimeout(0);
      resolve(socket);
    });
    socket.once('timeout', () => socket.destroy(Object.assign(new Error(`connect to ${host}:${port} timed out`), { code: 'ETIMEDOUT' })));
    socket.once('error', reject);
  });
}
