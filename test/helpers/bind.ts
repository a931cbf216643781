// A real BIND 9 (Debian `bind9`) for tests and benchmarks: `named -g` in the foreground on a free
// 127.0.0.1 port, serving the given zones from a temporary directory. Stopped (by PID) and cleaned
// up by stop(); any named still running when the test process exits is killed too.
//
//   const bind = await startBind({ zones: { 'example.com': 'example.com. PTR a.example.com.\n...' } });
//   resolveSearchDomain('example.com', { servers: [bind.server] });
//   await bind.stop();
//
// A zone text without an SOA record gets `$ORIGIN`, `$TTL`, SOA and NS lines prepended, so the
// guide's records can be pasted as they are. BIND rotates answer order: sort before comparing.
// startDnsRelay() puts a relay in front of it that adds latency or swallows chosen query types
// (a distant or unresponsive server, without netem).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { promises as dns } from 'node:dns';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The discovery guide's records as written (its second PTR line is shorthand for a second PTR
 * of example.com): two clusters, on 443 and 8443. */
export const GUIDE_ZONE = `
example.com. PTR liqo-cluster.example.com.
example.com. PTR liqo-cluster-2.example.com.
liqo-cluster.example.com. SRV 0 0 443 auth.server.example.com.
liqo-cluster-2.example.com. SRV 0 0 8443 auth.server-2.example.com.
auth.server.example.com. A 1.2.3.4
auth.server-2.example.com. A 2.3.4.1
`;

export interface StartBindOptions {
  /** Zone name (e.g. "example.com") → zone file text. */
  zones: Record<string, string>;
  /** Default TTL for generated zone headers; default 300. */
  ttl?: number;
  /** Worker threads (`named -n`); default 1, enough for tests. */
  threads?: number;
  /** Extra statements inside `options { }`. */
  extraOptions?: string;
  /** How long to wait for named to answer; default 10 s. */
  startTimeoutMs?: number;
  /** The port on 127.0.0.1; default a free one. 53 only inside a test's own network namespace. */
  port?: number;
  /** Top-level statements after `options { }`, e.g. TSIG `key` statements. */
  extraConfig?: string;
  /** Zone name → extra statements inside its `zone { }`, e.g. `update-policy { ... };`. */
  zoneOptions?: Record<string, string>;
}

export interface RunningBind {
  /** "127.0.0.1:<port>", ready for `setServers` / DnsResolveOptions.servers. */
  server: string;
  port: number;
  pid: number;
  dir: string;
  /** named's output so far (it logs to stderr with -g). */
  log(): string;
  /** Replace a zone's text and reload it (SIGHUP); resolves once the new serial is served. */
  setZone(zone: string, text: string): Promise<void>;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

let serial = Math.floor(Date.now() / 1000);

/** Adds $ORIGIN/$TTL/SOA/NS when the text has no SOA; returns the text and the serial it carries. */
function zoneFileText(zone: string, text: string, ttl: number): { text: string; serial?: number } {
  if (/\bSOA\b/i.test(text)) return { text: text.endsWith('\n') ? text : `${text}\n` };
  const zoneSerial = ++serial;
  const header = [
    `$ORIGIN ${zone}.`,
    `$TTL ${ttl}`,
    `@ IN SOA ns.invalid. hostmaster.invalid. ${zoneSerial} 3600 600 86400 ${ttl}`,
    // An out-of-zone NS needs no glue; with recursion off nothing ever looks it up.
    `@ IN NS ns.invalid.`,
  ];
  return { text: `${header.join('\n')}\n${text}\n`, serial: zoneSerial };
}

/** A port free for both UDP and TCP on 127.0.0.1 right now. */
async function findFreePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const socket = createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
    });
    if (port > 0 && udpFree) return port;
  }
  throw new Error('startBind: no free port on 127.0.0.1 after 20 attempts');
}

let bindVersion: [number, number, number] | undefined;
/** `max-records-per-type` exists from BIND 9.18.28 (CVE-2024-1737); older ones refuse it. */
function supportsRecordLimits(): boolean {
  if (!bindVersion) {
    const out = execFileSync('named', ['-v'], { encoding: 'utf8' });
    const match = /BIND (\d+)\.(\d+)\.(\d+)/.exec(out);
    bindVersion = match ? [Number(match[1]), Number(match[2]), Number(match[3])] : [0, 0, 0];
  }
  const [major, minor, patch] = bindVersion;
  return major > 9 || (major === 9 && (minor > 18 || (minor === 18 && patch >= 28)));
}

function namedConf(
  dir: string,
  port: number,
  zones: string[],
  extraOptions: string,
  extraConfig = '',
  zoneOptions: Record<string, string> = {},
): string {
  const zoneStatements = zones.map(
    (zone) => `zone "${zone}" { type primary; file "${zone}.zone"; ${zoneOptions[zone] ?? ''} };`,
  );
  return `options {
  directory "${dir}";
  listen-on port ${port} { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  notify no;
  dnssec-validation no;
  pid-file none;
  session-keyfile none;
  ${supportsRecordLimits() ? 'max-records-per-type 0; max-types-per-name 0;' : ''}
  ${extraOptions}
};
controls { };
${extraConfig}
${zoneStatements.join('\n')}
`;
}

async function querySoaSerial(resolver: dns.Resolver, zone: string): Promise<number | undefined> {
  try {
    return (await resolver.resolveSoa(zone)).serial;
  } catch {
    return undefined;
  }
}

export async function startBind(options: StartBindOptions): Promise<RunningBind> {
  const zoneNames = Object.keys(options.zones).map((zone) => zone.replace(/\.$/, ''));
  if (zoneNames.length === 0) throw new Error('startBind: give at least one zone');
  const ttl = options.ttl ?? 300;
  const dir = await mkdtemp(join(tmpdir(), 'bind-'));
  const zoneSerials = new Map<string, number | undefined>();
  for (const [zone, text] of Object.entries(options.zones)) {
    const name = zone.replace(/\.$/, '');
    const file = zoneFileText(name, text, ttl);
    zoneSerials.set(name, file.serial);
    await writeFile(join(dir, `${name}.zone`), file.text);
  }
  const port = options.port ?? (await findFreePort());
  const confPath = join(dir, 'named.conf');
  const zoneOptions = Object.fromEntries(
    Object.entries(options.zoneOptions ?? {}).map(([zone, text]) => [zone.replace(/\.$/, ''), text]),
  );
  await writeFile(
    confPath,
    namedConf(dir, port, zoneNames, options.extraOptions ?? '', options.extraConfig, zoneOptions),
  );

  const threads = String(options.threads ?? 1);
  const child = spawn('named', ['-g', '-4', '-n', threads, '-c', confPath], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  running.add(child);
  let output = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      running.delete(child);
      resolve();
    });
    child.once('error', (err) => {
      output += `\nspawn named: ${err.message}`;
      exited = true;
      running.delete(child);
      resolve();
    });
  });

  const server = `127.0.0.1:${port}`;
  const resolver = new dns.Resolver({ timeout: 200, tries: 1 });
  resolver.setServers([server]);

  const stop = async (): Promise<void> => {
    if (!exited && child.pid !== undefined) {
      child.kill('SIGTERM');
      const killTimer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exitPromise;
      clearTimeout(killTimer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  // Ready when every zone answers its SOA; a zone that failed to load answers SERVFAIL.
  const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
  const pending = new Set(zoneNames);
  while (pending.size > 0) {
    if (exited || Date.now() > deadline) {
      await stop();
      const why = exited ? 'named exited' : `named did not serve ${[...pending].join(', ')} in time`;
      const errors = output
        .split('\n')
        .filter(
          (line) =>
            !line.includes('built with') && /error|fail|not loaded|could not|unknown|too many/i.test(line),
        )
        .slice(-8);
      throw new Error(`startBind: ${why}. named said:\n${errors.join('\n') || output.slice(-2000)}`);
    }
    for (const zone of [...pending]) {
      if ((await querySoaSerial(resolver, zone)) !== undefined) pending.delete(zone);
    }
    if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 25));
  }

  const setZone = async (zone: string, text: string): Promise<void> => {
    const name = zone.replace(/\.$/, '');
    if (!zoneNames.includes(name)) throw new Error(`setZone: ${name} is not one of ${zoneNames.join(', ')}`);
    const before = await querySoaSerial(resolver, name);
    const file = zoneFileText(name, text, ttl);
    await writeFile(join(dir, `${name}.zone`), file.text);
    child.kill('SIGHUP');
    const until = Date.now() + 5000;
    while (Date.now() < until) {
      const now = await querySoaSerial(resolver, name);
      if (now !== undefined && (file.serial !== undefined ? now === file.serial : now !== before)) return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`setZone: ${name} was not reloaded within 5 s (serial still ${before}); see log()`);
  };

  return { server, port, pid: child.pid ?? -1, dir, log: () => output, setZone, stop };
}

export interface DnsRelayOptions {
  /** Where queries go, "127.0.0.1:<port>" (e.g. a RunningBind's server). */
  upstream: string;
  /** Added in each direction, so a query's round trip grows by twice this; default 0. */
  delayMs?: number;
  /** Queries of these types (numeric: 1 A, 12 PTR, 16 TXT, 28 AAAA, 33 SRV, 5 CNAME) are
   * swallowed over UDP, as by a server that never answers; default none. */
  dropTypes?: number[];
}

export interface RunningDnsRelay {
  server: string;
  port: number;
  /** UDP queries relayed, and the most that were waiting for their reply at one time. */
  udpStats(): { queries: number; maxInFlight: number };
  stop(): Promise<void>;
}

/** The query type of a DNS message (its first question), or -1. */
function queryType(message: Buffer): number {
  let offset = 12;
  while (offset < message.length) {
    const length = message[offset] ?? 0;
    if (length === 0) return offset + 3 <= message.length ? message.readUInt16BE(offset + 1) : -1;
    if ((length & 0xc0) !== 0) return offset + 4 <= message.length ? message.readUInt16BE(offset + 2) : -1;
    offset += length + 1;
  }
  return -1;
}

/**
 * A UDP and TCP relay on 127.0.0.1 in front of a DNS server that adds latency or swallows some
 * query types: the loopback network has no delay and BIND answers everything, so this is how a
 * test or benchmark sees a distant or unresponsive server. Loopback only, no netem needed.
 */
export async function startDnsRelay(options: DnsRelayOptions): Promise<RunningDnsRelay> {
  const separator = options.upstream.lastIndexOf(':');
  const upstreamHost = options.upstream.slice(0, separator);
  const upstreamPort = Number(options.upstream.slice(separator + 1));
  const delay = options.delayMs ?? 0;
  const dropped = new Set(options.dropTypes ?? []);
  const later = (action: () => void): void => {
    if (delay > 0) setTimeout(action, delay);
    else action();
  };
  const port = await findFreePort();

  const front = createSocket('udp4');
  // One upstream socket per client address, so replies find their way back. A client that
  // opens a socket per query (Go's miekg/dns does) would leave thousands behind: idle ones close.
  const backs = new Map<string, { socket: ReturnType<typeof createSocket>; used: number }>();
  const idleMs = 5000 + 2 * delay;
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [key, back] of backs) {
      if (now - back.used < idleMs) continue;
      back.socket.close();
      backs.delete(key);
    }
  }, 1000).unref();
  let queries = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  front.on('message', (message, client) => {
    if (dropped.has(queryType(message))) return;
    queries++;
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    const key = `${client.address}:${client.port}`;
    let back = backs.get(key);
    if (!back) {
      const socket = createSocket('udp4');
      socket.on('message', (reply) =>
        later(() => {
          inFlight--;
          front.send(reply, client.port, client.address);
        }),
      );
      socket.on('error', () => undefined);
      back = { socket, used: 0 };
      backs.set(key, back);
    }
    back.used = Date.now();
    const socket = back.socket;
    later(() => socket.send(message, upstreamPort, upstreamHost));
  });
  await new Promise<void>((resolve) => front.bind(port, '127.0.0.1', resolve));

  const connections = new Set<Socket>();
  const tcp = createServer((client) => {
    const upstream = new Socket();
    connections.add(client).add(upstream);
    upstream.connect(upstreamPort, upstreamHost);
    client.on('data', (chunk) => later(() => upstream.write(chunk)));
    upstream.on('data', (chunk) => later(() => client.write(chunk)));
    const close = (): void => {
      client.destroy();
      upstream.destroy();
      connections.delete(client);
      connections.delete(upstream);
    };
    client.on('close', close).on('error', close);
    upstream.on('close', () => later(close)).on('error', close);
  });
  await new Promise<void>((resolve) => tcp.listen(port, '127.0.0.1', resolve));

  return {
    server: `127.0.0.1:${port}`,
    port,
    udpStats: () => ({ queries, maxInFlight }),
    stop: async () => {
      for (const socket of connections) socket.destroy();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
      clearInterval(sweep);
      for (const back of backs.values()) back.socket.close();
      await new Promise<void>((resolve) => front.close(() => resolve()));
    },
  };
}
