// A real BIND that takes signed DNS UPDATEs, for the DNS registration tests and bench: TSIG keys
// (random secrets, as tsig-keygen makes them), a zone whose `update-policy` grants the keys the
// whole zone, and optionally a zone that refuses every update. Plus `dig` as a second reader.
//
//   const bind = await startUpdatableBind({ zone: 'example.com', keys: ['liqo-a', 'liqo-b'] });
//   await register(spec, { server: bind.server, key: bind.keys['liqo-a'] });
//   digRecords(bind.server, 'example.com', 'PTR');  // ['cluster-a.example.com.']
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { startBind, type RunningBind } from './bind.js';
import type { TsigAlgorithm, TsigKey } from '../../shared/dns-registration/index.js';

const run = promisify(execFile);

export interface UpdatableBindOptions {
  /** The zone the keys may update. */
  zone: string;
  /** Key names; each gets a random 32-byte secret. */
  keys: string[];
  algorithm?: TsigAlgorithm;
  /** Zone text (records); default empty (SOA and NS are added). */
  records?: string;
  /** Another zone, served with no update-policy: every UPDATE to it is REFUSED. */
  refusingZone?: string;
}

export interface UpdatableBind extends RunningBind {
  keys: Record<string, TsigKey>;
}

export function randomKey(name: string, algorithm: TsigAlgorithm = 'hmac-sha256'): TsigKey {
  return { name, algorithm, secret: randomBytes(32).toString('base64') };
}

export async function startUpdatableBind(options: UpdatableBindOptions): Promise<UpdatableBind> {
  const keys = Object.fromEntries(options.keys.map((name) => [name, randomKey(name, options.algorithm)]));
  const keyStatements = Object.values(keys)
    .map((key) => `key "${key.name}" { algorithm ${key.algorithm}; secret "${key.secret}"; };`)
    .join('\n');
  const grants = Object.values(keys)
    .map((key) => `grant ${key.name} zonesub ANY;`)
    .join(' ');
  const zones: Record<string, string> = { [options.zone]: options.records ?? '' };
  if (options.refusingZone) zones[options.refusingZone] = '';
  const bind = await startBind({
    zones,
    extraConfig: keyStatements,
    zoneOptions: { [options.zone]: `update-policy { ${grants} }; allow-transfer { any; };` },
  });
  return Object.assign(bind, { keys });
}

/** `dig +short` of one name and type at the server, sorted (BIND rotates answer order). */
export async function digRecords(server: string, name: string, type: string): Promise<string[]> {
  const [host, port] = server.split(':') as [string, string];
  const { stdout } = await run('dig', [
    `@${host}`,
    '-p',
    port,
    '+short',
    '+norecurse',
    '+time=2',
    '+tries=1',
    name,
    type,
  ]);
  return stdout
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .sort();
}

/** Every record of the zone by AXFR (dig), as "name type rdata" lines without TTL, SOA/NS left out. */
export async function zoneRecords(server: string, zone: string, key: TsigKey): Promise<string[]> {
  const [host, port] = server.split(':') as [string, string];
  const { stdout } = await run('dig', [
    `@${host}`,
    '-p',
    port,
    '+noall',
    '+answer',
    '+time=2',
    '+tries=1',
    '-y',
    `${key.algorithm}:${key.name}:${key.secret}`,
    zone,
    'AXFR',
  ]);
  return [
    ...new Set(
      stdout
        .split('\n')
        .map((line) => line.trim().split(/\s+/))
        .filter(
          (fields) => fields.length >= 5 && fields[3] !== 'SOA' && fields[3] !== 'NS' && fields[3] !== 'TSIG',
        )
        .map(([name = '', , , type = '', ...rdata]) => `${name} ${type} ${rdata.join(' ')}`),
    ),
  ].sort();
}
