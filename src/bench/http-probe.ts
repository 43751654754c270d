/**
 * `nsenter --net=/run/netns/<bench netns> node dist/bench/http-probe.js`: a helper that lives in the bench's
 * network namespace (where the pods' bridge is) for the whole bench, so "nginx answers" is polled every
 * millisecond without a process start per poll. One request per line on stdin, one answer per line on stdout:
 *   {"id":1,"url":"http://10.89.0.2/","timeoutMs":15000}
 *   {"id":1,"ok":true,"atNs":"4019991679545","attempts":7,"status":200}     (atNs: process.hrtime, which is
 *   {"id":1,"ok":false,"error":"..."}                                         CLOCK_MONOTONIC, the bench's clock)
 * Each attempt is a fresh connection (no keep-alive): the first HTTP answer of any status is the one timed.
 */
import http from 'node:http';
import readline from 'node:readline';

export interface ProbeRequest {
  id: number;
  url: string;
  timeoutMs: number;
}
export type ProbeAnswer = { id: number; ok: true; atNs: string; attempts: number; status: number } | { id: number; ok: false; error: string };

function attempt(url: string): Promise<{ status: number; at: bigint } | { error: string }> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: 1000 }, (res) => {
      const at = process.hrtime.bigint();
      res.resume();
      resolve({ status: res.statusCode ?? 0, at });
    });
    req.on('timeout', () => req.destroy(new Error('timed out after 1 s')));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
  });
}

async function probe(r: ProbeRequest): Promise<ProbeAnswer> {
  const deadline = process.hrtime.bigint() + BigInt(r.timeoutMs) * 1_000_000n;
  let attempts = 0;
  let last = '';
  while (process.hrtime.bigint() < deadline) {
    attempts++;
    const a = await attempt(r.url);
    if ('status' in a) return { id: r.id, ok: true, atNs: String(a.at), attempts, status: a.status };
    last = a.error;
    await new Promise((res) => setTimeout(res, 1));
  }
  return { id: r.id, ok: false, error: `${r.url}: no HTTP answer within ${r.timeoutMs} ms (${attempts} attempts; last: ${last})` };
}

if (process.argv[1]?.endsWith('http-probe.js')) {
  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const r = JSON.parse(line) as ProbeRequest;
    void probe(r).then((a) => process.stdout.write(JSON.stringify(a) + '\n'));
  });
  process.stdout.write('ready\n');
}
