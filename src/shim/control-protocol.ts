/** The shim's control socket speaks JSON lines: one request, one response, per connection. */
export type ShimRequest =
  | { op: 'status' }
  | { op: 'stop'; container?: string; timeout?: number }
  | { op: 'remove'; force: boolean };

export type ShimResponse = { ok: true; state?: unknown } | { ok: false; error: string; code?: string };
