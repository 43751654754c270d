/**
 * runtime.v1 over gRPC (grpc-js, the .proto read by proto-loader): every RPC of RuntimeService and ImageService
 * is registered, the ones podns implements with their handler (services.ts), the rest answering UNIMPLEMENTED
 * with the method's name, never a silent success. Errors become statuses: a CriError's code, anything else
 * UNKNOWN with its message. Connections come from endpoint.ts through the connection injector.
 */
import type { Duplex } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { Logger } from '../log.js';
import { projectPath } from '../sys/project-path.js';
import { asCriError, CriError } from './cri-error.js';
import type { CriServices, StreamHandler, UnaryHandler } from './services.js';

/** How requests and responses look in JS: the .proto's own field names, enums by name, int64 as strings. */
const LOADER_OPTIONS: protoLoader.Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

export const PROTO_FILE = projectPath('src/cri/api.proto');

export function loadCriPackage(): { RuntimeService: grpc.ServiceClientConstructor; ImageService: grpc.ServiceClientConstructor } {
  const definition = protoLoader.loadSync(PROTO_FILE, LOADER_OPTIONS);
  const pkg = grpc.loadPackageDefinition(definition) as unknown as { runtime: { v1: Record<string, grpc.ServiceClientConstructor> } };
  return { RuntimeService: pkg.runtime.v1.RuntimeService!, ImageService: pkg.runtime.v1.ImageService! };
}

function statusOf(error: unknown): { code: grpc.status; details: string } {
  const err = asCriError(error);
  if (err instanceof CriError) return { code: grpc.status[err.code], details: err.message };
  return { code: grpc.status.UNKNOWN, details: err instanceof Error ? err.message : String(err) };
}

function implementation(service: grpc.ServiceDefinition, handlers: Record<string, UnaryHandler | { stream: StreamHandler }>, log: Logger): grpc.UntypedServiceImplementation {
  const impl: grpc.UntypedServiceImplementation = {};
  for (const [method, def] of Object.entries(service)) {
    const handler = handlers[method];
    if (def.responseStream) {
      impl[method] = ((call: grpc.ServerWritableStream<unknown, unknown>) => {
        if (!handler || !('stream' in handler)) {
          call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: `podns does not implement ${method}` });
          return;
        }
        const abort = new AbortController();
        call.on('cancelled', () => abort.abort());
        call.on('close', () => abort.abort());
        handler.stream(call.request, (r) => call.write(r), abort.signal).then(
          () => call.end(),
          (err: unknown) => {
            log.debug('CRI stream failed', { method, error: String(err) });
            call.emit('error', statusOf(err));
          },
        );
      }) as grpc.UntypedHandleCall;
      continue;
    }
    impl[method] = ((call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      if (!handler || 'stream' in handler) {
        callback({ code: grpc.status.UNIMPLEMENTED, details: `podns does not implement ${method}` });
        return;
      }
      // A client that cancels (or whose deadline passes) is gone: what the handler does for it may stop.
      const abort = new AbortController();
      call.on('cancelled', () => abort.abort());
      Promise.resolve()
        .then(() => handler(call.request, abort.signal))
        .then(
          (response) => callback(null, response),
          (err: unknown) => {
            const status = statusOf(err);
            if (abort.signal.aborted) log.info('CRI call cancelled by its client', { method, error: status.details });
            else if (status.code === grpc.status.UNKNOWN) log.error('CRI call failed', { method, error: status.details });
            callback(status);
          },
        );
    }) as grpc.UntypedHandleCall;
  }
  return impl;
}

/** A gRPC server with both services, fed connections by the caller. */
export async function createGrpcInjector(services: CriServices, log: Logger): Promise<{ inject: (connection: Duplex) => void; close: () => void }> {
  const { RuntimeService, ImageService } = loadCriPackage();
  // kubelet's default message limit (16 MiB each way), as containerd sets it: ListContainers of a big node is large.
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024, 'grpc.max_send_message_length': 16 * 1024 * 1024 });
  server.addService(RuntimeService.service, implementation(RuntimeService.service, services.runtime, log));
  server.addService(ImageService.service, implementation(ImageService.service, services.image, log));
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  return {
    inject: (socket) => injector.injectConnection(socket),
    close: () => {
      injector.destroy();
      server.forceShutdown();
    },
  };
}
