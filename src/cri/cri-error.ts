/**
 * An error a CRI call answers with: the gRPC status code by name (as containerd's CRI plugin picks them:
 * NotFound for an unknown id, InvalidArgument for a bad request, FailedPrecondition for a call in the wrong
 * state, AlreadyExists for a name taken, Unimplemented for what podns does not do) and a one-line message.
 * The handlers throw it without loading gRPC; grpc-server.ts turns it into the status.
 */
import { PodnsError } from '../errors.js';
export type CriCode =
  | 'NOT_FOUND'
  | 'INVALID_ARGUMENT'
  | 'FAILED_PRECONDITION'
  | 'ALREADY_EXISTS'
  | 'UNIMPLEMENTED'
  | 'DEADLINE_EXCEEDED'
  | 'UNAVAILABLE'
  | 'INTERNAL'
  | 'UNKNOWN'
  | 'CANCELLED'
  | 'UNAUTHENTICATED'
  | 'RESOURCE_EXHAUSTED';

export class CriError extends Error {
  constructor(
    readonly code: CriCode,
    message: string,
  ) {
    super(message);
  }
}

export const notFound = (what: string, id: string) => new CriError('NOT_FOUND', `${what} "${id}" not found`);
export const invalid = (message: string) => new CriError('INVALID_ARGUMENT', message);
export const unimplemented = (message: string) => new CriError('UNIMPLEMENTED', message);

/**
 * Any error as the CRI answers it: the runtime service's "no such sandbox/container" is NotFound, a host port
 * another pod publishes AlreadyExists; the rest as is.
 */
export function asCriError(err: unknown): unknown {
  if (err instanceof PodnsError && (err.step === 'runtime.sandbox' || err.step === 'runtime.container')) return new CriError('NOT_FOUND', err.message);
  if (err instanceof PodnsError && err.step === 'network.hostPort') return new CriError('ALREADY_EXISTS', err.message);
  return err;
}
