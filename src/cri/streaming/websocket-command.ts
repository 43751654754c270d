/**
 * remotecommand over WebSocket (kubelet's createWebSocketStreams, and the API server's v5): channels 0 stdin
 * (read, when asked), 1 stdout and 2 stderr (written, when asked), 3 error (written), 4 resize (read); the other
 * requested-or-not channels are ignored. An empty message on the lowest written channel says the session is up.
 */
import type { WebSocket } from 'ws';
import type { CommandStreams } from './command-session.js';
import { Channel, encodeStatus, webSocketTraits, type WebSocketProtocol } from './remotecommand.js';
import type { StreamOptions } from './spdy-command.js';
import { ChannelConnection, type ChannelKind } from './websocket-channels.js';

export function webSocketCommandStreams(ws: WebSocket, protocol: WebSocketProtocol, options: StreamOptions, idleTimeoutMs: number): CommandStreams {
  const traits = webSocketTraits(protocol);
  const kinds: ChannelKind[] = [options.stdin ? 'read' : 'ignore', options.stdout ? 'write' : 'ignore', options.stderr ? 'write' : 'ignore', 'write', 'read'];
  const channels = new ChannelConnection(ws, kinds, { base64: traits.base64, closeSignal: traits.closeSignal, idleTimeoutMs });
  channels.send(options.stdout ? Channel.stdout : options.stderr ? Channel.stderr : Channel.error);
  return {
    stdin: channels.reader(Channel.stdin),
    stdout: channels.writer(Channel.stdout),
    stderr: channels.writer(Channel.stderr),
    resize: channels.reader(Channel.resize),
    gone: channels.closed,
    async finish(status) {
      const bytes = encodeStatus(status, traits);
      if (bytes) await new Promise<void>((resolve) => channels.send(Channel.error, bytes, () => resolve()));
      channels.close();
    },
  };
}
