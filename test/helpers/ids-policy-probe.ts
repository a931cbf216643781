// Runs /ids fetches inside a test's network namespace, where the system resolver reads the
// namespace's own hosts file and resolv.conf (`ip netns exec` mounts /etc/netns/<ns>/*), and a
// BIND on the namespace's 127.0.0.1:53 serves the test's zone. A "victim" HTTPS server listens on
// every address of the namespace ([::]:victimPort, dual-stack) and counts TCP connections, so a
// case can show that a refused fetch opened none. A redirector on [::]:redirectPort answers 302
// with the Location given.
//   argv[2]: JSON Args (below)
// stdout: one line per case {"case", ok, code?, message?, clusterId?, connections}, where
// `connections` is the number of TCP connections the victim accepted during that case; then
// {"event":"done"}.
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { IdentityFetcher } from '../../agent/identity-fetcher.js';
import { fetchClusterIdentity } from '../../shared/lookup/ids.js';
import { createServingCertificate } from '../../shared/tls/certificates.js';
import { startBind } from './bind.js';
import { testKeyPem } from './https-ids-server.js';

export interface ProbeCase {
  name: string;
  url: string;
  /** 'agent': the agent's IdentityFetcher; 'plugin': fetchClusterIdentity's default; 'off': no policy. */
  via: 'agent' | 'agent-loopback' | 'plugin' | 'off';
  /** Connect to these instead of resolving (a SearchDomain target resolved by its own server). */
  addresses?: string[];
  /** Replace the zone's text (and wait for BIND to serve it) before this case. */
  zone?: string;
}

export interface ProbeArgs {
  zoneName: string;
  zone: string;
  victimPort: number;
  redirectPort: number;
  redirectLocation: string;
  cases: ProbeCase[];
}

export interface ProbeResult {
  case: string;
  ok: boolean;
  code?: string;
  message?: string;
  clusterId?: string;
  connections: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as ProbeArgs;
const keyPem = await testKeyPem();
const cert = createServingCertificate({ commonName: 'victim', hosts: ['victim.invalid'], keyPem });

let connections = 0;
const sockets = new Set<Socket>();
const victim = createHttpsServer({ cert: cert.certPem, key: cert.keyPem }, (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' }).end('{"clusterId":"victim"}');
});
// 'connection' is the TCP accept, before any TLS: a connect that went no further still counts
victim.on('connection', (socket: Socket) => {
  connections++;
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
});
const redirector = createHttpsServer({ cert: cert.certPem, key: cert.keyPem }, (_req, res) => {
  res.writeHead(302, { location: args.redirectLocation }).end();
});
await new Promise<void>((resolve) =>
  victim.listen({ port: args.victimPort, host: '::', ipv6Only: false }, resolve),
);
await new Promise<void>((resolve) =>
  redirector.listen({ port: args.redirectPort, host: '::', ipv6Only: false }, resolve),
);
const bind = await startBind({ zones: { [args.zoneName]: args.zone }, port: 53, ttl: 0 });

const agentFetcher = new IdentityFetcher({ concurrency: 1, timeoutMs: 3000 });
const loopbackAgentFetcher = new IdentityFetcher({ concurrency: 1, timeoutMs: 3000, allowLoopback: true });

async function fetchFor(c: ProbeCase): Promise<string> {
  const addresses = c.addresses?.length ? c.addresses : undefined;
  switch (c.via) {
    case 'agent':
      return (await agentFetcher.fetch(c.url, addresses)).identity.clusterId;
    case 'agent-loopback':
      return (await loopbackAgentFetcher.fetch(c.url, addresses)).identity.clusterId;
    case 'plugin':
      return (await fetchClusterIdentity(c.url, { timeoutMs: 3000, ...(addresses ? { addresses } : {}) }))
        .identity.clusterId;
    case 'off':
      return (
        await fetchClusterIdentity(c.url, {
          timeoutMs: 3000,
          addressPolicy: 'off',
          ...(addresses ? { addresses } : {}),
        })
      ).identity.clusterId;
  }
}

try {
  for (const c of args.cases) {
    if (c.zone !== undefined) await bind.setZone(args.zoneName, c.zone);
    const before = connections;
    let result: ProbeResult;
    try {
      const clusterId = await fetchFor(c);
      result = { case: c.name, ok: true, clusterId, connections: 0 };
    } catch (err) {
      const { code, message } = err as { code?: string; message: string };
      result = { case: c.name, ok: false, ...(code ? { code } : {}), message, connections: 0 };
    }
    // a connection the client opened is accepted by now or never: let the accept queue drain
    await new Promise((resolve) => setTimeout(resolve, 50));
    result.connections = connections - before;
    process.stdout.write(`${JSON.stringify(result)}\n`);
  }
} finally {
  agentFetcher.close();
  loopbackAgentFetcher.close();
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => victim.close(resolve));
  await new Promise((resolve) => redirector.close(resolve));
  await bind.stop();
}
process.stdout.write(`${JSON.stringify({ event: 'done' })}\n`);
