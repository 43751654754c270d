/**
 * The CRI endpoint of a supervisor: `<run>/cri.sock` (`/run/podns/cri.sock` for the default root; mode 0600, no
 * TCP listener), where kubelet and crictl speak runtime.v1 over gRPC.
 *
 * The socket is a plain net.Server from the supervisor's start; gRPC (grpc-js, the .proto, the services: ~90 ms
 * and ~35 MB) loads on the first connection, which is then handed to it with grpc-js's connection injector, as
 * is every later one. A supervisor that only runs `podns run`'s pods never pays for the CRI.
 */
import type { Duplex } from 'node:stream';
import type { Logger } from '../log.js';
import { authorityRewritten } from './authority-rewrite.js';
import type { CriServices } from './services.js';

export interface CriEndpoint {
  readonly socketPath: string;
  close(): void;
}

/** Listens on `socketPath` (replacing a dead supervisor's socket file); `services` makes the gRPC side once needed. */
export async function listenCri(socketPath: string, log: Logger, services: () => Promise<CriServices>): Promise<CriEndpoint> {
  const fs = process.getBuiltinModule('node:fs');
  let grpc: Promise<{ inject: (connection: Duplex) => void; close: () => void }> | undefined;
  const load = async () => {
    const t0 = Date.now();
    const { createGrpcInjector } = await import('./grpc-server.js');
    const injector = await createGrpcInjector(await services(), log);
    log.info('CRI: gRPC loaded', { ms: Date.now() - t0 });
    return injector;
  };
  const server = process.getBuiltinModule('node:net').createServer({ pauseOnConnect: true }, (socket) => {
    grpc ??= load();
    grpc.then(
      (g) => {
        // gRPC reads the client through the :authority rewrite (authority-rewrite.ts); the socket was paused
        // since it was accepted (pauseOnConnect), so no byte went past it.
        g.inject(authorityRewritten(socket));
      },
      (err: unknown) => {
        log.error('CRI: gRPC could not be loaded', { error: err instanceof Error ? err.message : String(err) });
        socket.destroy();
      },
    );
  });
  fs.rmSync(socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  fs.chmodSync(socketPath, 0o600);
  server.on('error', (err) => log.error('CRI socket error', { error: err.message }));
  return {
    socketPath,
    close: () => {
      server.close();
      fs.rmSync(socketPath, { force: true });
      void grpc?.then((g) => g.close(), () => undefined);
    },
  };
}

