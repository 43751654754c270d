/**
 * What the gRPC server serves: for each of runtime.v1's two services, a handler per RPC podns implements. A
 * unary handler takes the decoded request and returns the response object (proto-loader's plain objects:
 * field names as in api.proto, enums by name, int64 as decimal strings, bytes as Buffers; `signal` aborts when
 * the client cancels or its deadline passes); a server-streaming
 * handler writes responses until the call ends (`signal` aborts when the client goes). An RPC without a handler
 * answers UNIMPLEMENTED, naming it.
 */
export type UnaryHandler = (request: any, signal: AbortSignal) => Promise<object> | object;
export type StreamHandler = (request: any, write: (response: object) => void, signal: AbortSignal) => Promise<void>;

export interface CriServices {
  runtime: Record<string, UnaryHandler | { stream: StreamHandler }>;
  image: Record<string, UnaryHandler>;
}
