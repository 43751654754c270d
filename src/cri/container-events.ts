/**
 * GetContainerEvents (kubelet's evented PLEG): every container created, started, stopped or deleted, and every
 * sandbox that stops (its pause's event, as containerd sends one), to each client streaming them from when it
 * connected. A client that does not read is cut off at a bound rather than let the supervisor's memory grow:
 * kubelet falls back to relisting, which it does every second anyway.
 */
import type { ContainerEventTypeName } from './messages.js';

export interface ContainerEvent {
  container_id: string;
  container_event_type: ContainerEventTypeName;
  created_at: string;
  pod_sandbox_status: object | null;
  containers_statuses: object[];
}

/** Events queued for one client at most; past it the client's stream ends. */
const MAX_QUEUED = 10_000;

export class ContainerEvents {
  private readonly subscribers = new Set<{ push: (e: ContainerEvent) => boolean }>();

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  emit(event: ContainerEvent): void {
    for (const s of this.subscribers) if (!s.push(event)) this.subscribers.delete(s);
  }

  /** Writes every event from now on until `signal` aborts (or the client falls too far behind). */
  async stream(write: (e: ContainerEvent) => boolean, signal: AbortSignal): Promise<void> {
    const queue: ContainerEvent[] = [];
    let wake: (() => void) | undefined;
    let overflowed = false;
    const subscriber = {
      push: (e: ContainerEvent) => {
        if (queue.length >= MAX_QUEUED) {
          overflowed = true;
          wake?.();
          return false;
        }
        queue.push(e);
        wake?.();
        return true;
      },
    };
    this.subscribers.add(subscriber);
    const aborted = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    try {
      while (!signal.aborted && !overflowed) {
        while (queue.length) write(queue.shift()!);
        await Promise.race([new Promise<void>((resolve) => (wake = resolve)), aborted]);
        wake = undefined;
      }
    } finally {
      this.subscribers.delete(subscriber);
    }
    if (overflowed) throw new Error(`the client fell ${MAX_QUEUED} events behind; the stream was ended`);
  }
}
