// A real HTTPS server (node:https) on loopback serving GET /ids, for tests of anything that reads
// a cluster's identity. Give it a certificate (shared/tls/certificates.ts) and either an identity
// (served as JSON at any path ending in /ids) or your own handler for odd behaviour.
//
//   const keyPem = await testKeyPem();
//   const cert = createServingCertificate({ commonName: '127.0.0.1', hosts: ['127.0.0.1'], keyPem });
//   const ids = await startIdsServer({ ...cert, identity: { clusterId: 'c1', clusterName: 'one' } });
//   await fetchClusterIdentity(ids.url);          // ids.url = "https://127.0.0.1:<port>"
//   await ids.close();
//
// close() also destroys open connections (slow or stuck handlers included).
import { generateKeyPair } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { ClusterIdentityResponse } from '../../shared/api/types.js';

/** The guide's example answer of `curl --insecure https://<ADDRESS>:<PORT>/ids`. */
export const GUIDE_IDENTITY: ClusterIdentityResponse = {
  clusterId: '0558de48-097b-4b7d-ba04-6bd2a0f9d24f',
  clusterName: 'LiqoCluster0692',
  guestNamespace: 'liqo',
};

export type IdsHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface IdsServerOptions {
  certPem: string;
  keyPem: string;
  /** Served as JSON on GET <any prefix>/ids; default GUIDE_IDENTITY. Ignored when handler is set. */
  identity?: ClusterIdentityResponse;
  /** Full control of every request (status, headers, slow or huge bodies, redirects...). */
  handler?: IdsHandler;
  /** Address to listen on; default 127.0.0.1 ("::1" for IPv6). The port is always a free one. */
  host?: string;
}

export interface IdsServer {
  /** https://<host>:<port>, IPv6 hosts in brackets; no trailing slash. */
  url: string;
  port: number;
  /** Requests received so far. */
  readonly requests: number;
  /** TLS connections currently open. */
  readonly openConnections: number;
  /** Resolves once no connection is open (e.g. the client gave up and closed its socket). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export function identityHandler(identity: ClusterIdentityResponse): IdsHandler {
  return (req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (req.method !== 'GET' || !path.endsWith('/ids')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(identity));
  };
}

export async function startIdsServer(opts: IdsServerOptions): Promise<IdsServer> {
  const host = opts.host ?? '127.0.0.1';
  const handler = opts.handler ?? identityHandler(opts.identity ?? GUIDE_IDENTITY);
  let requests = 0;
  const open = new Set<Socket>();
  let idleWaiters: Array<() => void> = [];
  const server = createServer({ cert: opts.certPem, key: opts.keyPem }, (req, res) => {
    requests++;
    handler(req, res);
  });
  server.on('secureConnection', (socket: Socket) => {
    open.add(socket);
    socket.on('close', () => {
      open.delete(socket);
      if (open.size === 0) {
        const waiters = idleWaiters;
        idleWaiters = [];
        waiters.forEach((w) => w());
      }
    });
  });
  // handshakes the client aborts surface here; they are expected in tests, not crashes
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `https://${shownHost}:${port}`,
    port,
    get requests() {
      return requests;
    },
    get openConnections() {
      return open.size;
    },
    idle: () => (open.size === 0 ? Promise.resolve() : new Promise<void>((r) => idleWaiters.push(r))),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const socket of open) socket.destroy();
      }),
  };
}

let cachedKey: Promise<string> | undefined;

/**
 * An RSA-2048 private key (PKCS#8 PEM) made natively and cached for the process: pass it as
 * `keyPem` to the certificate helpers, whose own (node-forge) key generation takes seconds.
 */
export function testKeyPem(): Promise<string> {
  cachedKey ??= new Promise((resolve, reject) =>
    generateKeyPair(
      'rsa',
      {
        modulusLength: 2048,
        publicKeyEncoding: { type: 'spki', format: 'pem' },
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      },
      (err, _publicKey, privateKey) => (err ? reject(err) : resolve(privateKey)),
    ),
  );
  return cachedKey;
}
