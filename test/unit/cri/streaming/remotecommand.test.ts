import { describe, expect, it } from 'vitest';
import { encodeStatus, exitStatus, negotiate, ResizeDecoder, spdyTraits, SPDY_PROTOCOLS, successStatus, webSocketTraits, type TerminalSize } from '../../../../src/cri/streaming/remotecommand.js';
import { RequestCache } from '../../../../src/cri/streaming/request-cache.js';

describe('remotecommand', () => {
  it("negotiates the client's first protocol the server speaks, in the client's order", () => {
    expect(negotiate(['v5.channel.k8s.io', 'v4.channel.k8s.io'], SPDY_PROTOCOLS)).toBe('v5.channel.k8s.io');
    expect(negotiate(['v9', 'v3.channel.k8s.io', 'v4.channel.k8s.io'], SPDY_PROTOCOLS)).toBe('v3.channel.k8s.io');
    expect(negotiate(['v9'], SPDY_PROTOCOLS)).toBeUndefined();
  });

  it('knows what each version does: resize from v3, status JSON from v4, the CLOSE signal on WebSocket v5 only', () => {
    expect(spdyTraits('v2.channel.k8s.io')).toMatchObject({ resize: false, statusJson: false });
    expect(spdyTraits('v3.channel.k8s.io')).toMatchObject({ resize: true, statusJson: false });
    expect(spdyTraits('v5.channel.k8s.io')).toMatchObject({ resize: true, statusJson: true, closeSignal: false });
    expect(webSocketTraits('v5.channel.k8s.io')).toMatchObject({ closeSignal: true, base64: false });
    expect(webSocketTraits('v4.base64.channel.k8s.io')).toMatchObject({ closeSignal: false, base64: true, statusJson: true });
  });

  it('writes the status as JSON from v4, and before that only a failure message', () => {
    expect(encodeStatus(successStatus(), { statusJson: true })!.toString()).toBe('{"metadata":{},"status":"Success"}');
    expect(encodeStatus(successStatus(), { statusJson: false })).toBeUndefined();
    expect(encodeStatus(exitStatus(['false'], 1), { statusJson: false })!.toString()).toBe('command terminated with non-zero exit code: error executing command [false], exit code 1');
  });

  it('decodes terminal sizes however the JSON is cut, and stops for good at one that is not a size', () => {
    const sizes: TerminalSize[] = [];
    const d = new ResizeDecoder((s) => sizes.push(s));
    const text = '{"Width":80,"Height":24}\n{"Width":1\n';
    for (const ch of text) d.push(ch);
    d.push('20,"Height":"x"}{"Width":100,"Height":50}');
    expect(sizes).toEqual([{ width: 80, height: 24 }]);
    const e = new ResizeDecoder((s) => sizes.push(s));
    e.push('{"Width":132,"Height":43,"x":"}{"}');
    expect(sizes[1]).toEqual({ width: 132, height: 43 });
  });
});

describe('the token cache', () => {
  it('a token is used once; an expired one is gone; a full cache refuses (ETOOMANY) after dropping the expired', () => {
    let now = 0;
    const cache = new RequestCache<string>({ ttlMs: 1000, maxInFlight: 2, now: () => now });
    const a = cache.insert('a');
    expect(a).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(cache.consume(a)).toBe('a');
    expect(cache.consume(a)).toBeUndefined();
    const b = cache.insert('b');
    cache.insert('c');
    expect(() => cache.insert('d')).toThrow(/maximum number of in-flight streaming requests exceeded/);
    now = 1001;
    expect(cache.consume(b)).toBeUndefined();
    cache.insert('e');
    expect(cache.size).toBe(1);
  });
});
