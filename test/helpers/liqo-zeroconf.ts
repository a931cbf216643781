// Builds and starts test/interop/liqo-zeroconf: a Go test driver of the REAL mDNS library Liqo
// v0.2 used (grandcat/zeroconf replaced by the liqotech/zeroconf fork, as in Liqo's go.mod), so
// interop tests run against that library and not only against our emulator
// (liqo-v02-advertiser.ts). Like test/harness/binaries.ts, the binary is built once with Go into
// the cache outside the clone, under a name keyed by a hash of the driver's sources, via a
// temporary name and a rename, so an interrupted build never leaves a broken binary behind.
//
//   const binary = await buildLiqoZeroconf();        // throws GoUnavailableError (one line)
//   const reg = startZeroconfRegistrant(lan, host, binary, { clusterId, port });
//   await reg.waitFor((m) => m.event === 'ready');
//   const browser = startZeroconfBrowser(lan, host, binary);   // {"event":"entry",...} lines
//
// Everything it starts runs inside the LAN's namespaces (TESTING.md's network rule).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDirectory, goBinary } from '../harness/binaries.js';
import type { JsonLinesChild, NetnsHost, NetnsLan } from './netns.js';

export const DRIVER_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'interop', 'liqo-zeroconf');
const DRIVER_SOURCES = ['main.go', 'go.mod', 'go.sum'];

/** Go is missing or the build failed; the message is one line saying which and what to do. */
export class GoUnavailableError extends Error {
  override name = 'GoUnavailableError';
}

/** Where the binary of the current sources lives (next to the harness's cache directory). */
export function driverBinaryPath(): string {
  const hash = createHash('sha256');
  for (const file of DRIVER_SOURCES) hash.update(`${file}\0`).update(readFileSync(join(DRIVER_DIR, file)));
  return join(dirname(cacheDirectory()), 'interop', `liqo-zeroconf-${hash.digest('hex').slice(0, 12)}`);
}

/**
 * The driver's binary: reused when the cache already has one for these sources, else built with
 * `go build` (CGO_ENABLED=0, GOFLAGS=-mod=mod), which fetches the modules through the Go module
 * proxy the first time.
 */
export async function buildLiqoZeroconf(log: (line: string) => void = () => {}): Promise<string> {
  const target = driverBinaryPath();
  if (existsSync(target)) return target; // renamed into place only after a good build
  const go = goBinary();
  if (!go) {
    throw new GoUnavailableError(
      `Go is not installed (no \`go\` on PATH or in /usr/local/go/bin), so the Liqo zeroconf driver in ${DRIVER_DIR} cannot be built: install Go from https://go.dev/dl`,
    );
  }
  mkdirSync(dirname(target), { recursive: true });
  const partial = `${target}.partial-${process.pid}`;
  log(`building the Liqo zeroconf driver with ${go} into ${target}`);
  const stderr: string[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(go, ['build', '-trimpath', '-o', partial, '.'], {
      cwd: DRIVER_DIR,
      env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
    child.on('error', reject);
    child.on('exit', resolve);
  });
  if (code !== 0) {
    rmSync(partial, { force: true });
    const last = stderr.join('').trim().split('\n').filter(Boolean).pop() ?? 'no output';
    throw new GoUnavailableError(
      `building the Liqo zeroconf driver (go build in ${DRIVER_DIR}) failed with exit ${code}: ${last}`,
    );
  }
  renameSync(partial, target);
  return target;
}

export interface RegistrantOptions {
  clusterId: string;
  port: number;
  /** The interface Register is given (default eth0, the LAN's). */
  iface?: string;
  /** PTR/SRV/TXT TTL; Liqo v0.2's default is 90 (A/AAAA are 120 inside the library). */
  ttl?: number;
}

/** zeroconf.Register as Liqo v0.2 calls it, plus SendMulticast every 12 s; stdin "stop" or SIGTERM says goodbye. */
export function startZeroconfRegistrant(
  lan: NetnsLan,
  host: NetnsHost,
  binary: string,
  opts: RegistrantOptions,
): JsonLinesChild {
  const { clusterId, port, iface = 'eth0', ttl = 90 } = opts;
  return lan.spawnJson(host, [binary, 'register', clusterId, String(port), iface, String(ttl)]);
}

/** The library's resolver (IPv4 only, one interface) browsing `service` in local. */
export function startZeroconfBrowser(
  lan: NetnsLan,
  host: NetnsHost,
  binary: string,
  service = '_liqo_auth._tcp',
  iface = 'eth0',
): JsonLinesChild {
  return lan.spawnJson(host, [binary, 'browse', service, iface]);
}

/** An entry as the driver prints it (zeroconf.ServiceEntry). */
export interface ZeroconfEntry {
  event: 'entry';
  instance: string;
  service: string;
  domain: string;
  hostname: string;
  port: number;
  ipv4: string[];
  ipv6: string[];
  text: string[];
  ttl: number;
}
