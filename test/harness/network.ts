// Loopback helpers: free ports and waiting for an HTTP(S) endpoint to answer.
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';

/** A port nobody listens on right now (the kernel picks it; a tiny race remains, as with envtest). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface HttpAnswer {
  status: number;
  body: string;
}

/** One GET with a short timeout; rejects on network errors. */
export function httpGet(url: string, tls: RequestOptions = {}, timeoutMs = 2000): Promise<HttpAnswer> {
  const request = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { ...tls, method: 'GET', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Polls `url` until it answers 200, the deadline passes, or `gaveUp()` returns a reason
 * (e.g. the process serving it exited). Rejects with the last thing seen.
 */
export async function waitForHttpOk(
  url: string,
  opts: { tls?: RequestOptions; timeoutMs: number; intervalMs?: number; gaveUp?: () => string | undefined },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    const reason = opts.gaveUp?.();
    if (reason) throw new Error(reason);
    try {
      const answer = await httpGet(url, opts.tls);
      if (answer.status === 200) return;
      last = `HTTP ${answer.status}: ${answer.body.trim().split('\n').slice(-3).join(' | ')}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
  throw new Error(`${url} not ready after ${opts.timeoutMs} ms (${last})`);
}
