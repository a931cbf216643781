// GET /ids over HTTPS: this cluster's identity in Liqo v0.2's wire format (SPEC §2), plus a
// protocol version that Liqo's clients ignore. Runs on every replica, leader or not.
import { createServer, type Server } from 'node:https';
import { closeServer, listenOn } from './http-listen.js';
import { IDS_PATH } from '../shared/api/constants.js';
import type { ClusterIdentityResponse } from '../shared/api/types.js';
import type { PemKeyPair } from '../shared/tls/certificates.js';
import type { Logger } from './logger.js';
import type { AgentMetrics } from './metrics.js';

export const IDS_PROTOCOL_VERSION = 1;

export interface IdsBody extends ClusterIdentityResponse {
  protocolVersion: number;
}

export interface IdentityServerOptions {
  port: number;
  host?: string;
  tls: PemKeyPair;
  /** Read on each request, so a ClusterConfig rename shows at once. */
  identity: () => ClusterIdentityResponse;
  log: Logger;
  metrics?: AgentMetrics;
}

export interface IdentityServer {
  readonly port: number;
  /** New connections get this key pair; open ones keep theirs. Throws if the pair is unusable. */
  setCertificate(tls: PemKeyPair): void;
  close(): Promise<void>;
}

export async function startIdentityServer(opts: IdentityServerOptions): Promise<IdentityServer> {
  const server: Server = createServer({ cert: opts.tls.certPem, key: opts.tls.keyPem }, (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    let status = 200;
    if (path !== IDS_PATH) {
      status = 404;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: `not found: only GET ${IDS_PATH} is served here` }));
    } else if (req.method !== 'GET' && req.method !== 'HEAD') {
      status = 405;
      res.writeHead(status, { 'content-type': 'application/json', allow: 'GET, HEAD' });
      res.end(JSON.stringify({ error: `method ${req.method} not allowed on ${IDS_PATH}` }));
    } else {
      const id = opts.identity();
      const body: IdsBody = { clusterId: id.clusterId, protocolVersion: IDS_PROTOCOL_VERSION };
      if (id.clusterName) body.clusterName = id.clusterName;
      if (id.guestNamespace) body.guestNamespace = id.guestNamespace;
      // key order as in Liqo's answer, protocolVersion last
      const ordered = {
        clusterId: body.clusterId,
        ...(body.clusterName ? { clusterName: body.clusterName } : {}),
        ...(body.guestNamespace ? { guestNamespace: body.guestNamespace } : {}),
        protocolVersion: body.protocolVersion,
      };
      const text = JSON.stringify(ordered);
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
        'cache-control': 'no-store',
      });
      res.end(req.method === 'HEAD' ? undefined : text);
    }
    opts.metrics?.idsRequests.inc({ status: String(status) });
  });
  // a slow or silent client must not pin a socket forever
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  server.on('tlsClientError', (err) => opts.log.debug({ err: err.message }, '/ids TLS handshake failed'));
  const port = await listenOn(server, opts.port, opts.host);
  opts.log.info({ port, path: IDS_PATH }, 'serving this cluster identity over HTTPS');
  return {
    port,
    setCertificate: (tls) => server.setSecureContext({ cert: tls.certPem, key: tls.keyPem }),
    close: () => closeServer(server),
  };
}
