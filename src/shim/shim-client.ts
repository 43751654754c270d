/** The CLI's side of the control socket. */
import net from 'node:net';
import { PodnsError } from '../errors.js';
import type { ShimRequest, ShimResponse } from './control-protocol.js';

export class ShimUnreachable extends PodnsError {}

export function callShim(socketPath: string, request: ShimRequest, timeoutMs = 120_000): Promise<ShimResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    let data = '';
    let connected = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new PodnsError('shim.call', `shim at ${socketPath} did not answer within ${timeoutMs / 1000}s`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => {
      connected = true;
      socket.write(JSON.stringify(request) + '\n');
    });
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (!connected) reject(new ShimUnreachable('shim.connect', `shim not reachable at ${socketPath}: ${err.code ?? err.message}`));
      else reject(new PodnsError('shim.call', `shim connection failed: ${err.message}`));
    });
    socket.on('end', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(data) as ShimResponse);
      } catch {
        reject(new PodnsError('shim.call', `shim closed the connection without an answer (did it die? see its shim.log)`));
      }
    });
  });
}

/**
 * Waits until the shim process has exited after it answered a request that ends it, so that `podns rm`
 * returns only when nothing of the pod is left (the shim is not our child: poll its /proc entry).
 */
export async function waitForShimExit(isGone: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!isGone()) {
    if (Date.now() > deadline) throw new PodnsError('shim.exit', `shim did not exit within ${timeoutMs / 1000}s after it stopped the pod`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
