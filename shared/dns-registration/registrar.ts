// register/deregister: keeps one cluster's DNS-SD records in a zone with signed, atomic RFC 2136
// UPDATEs. Every UPDATE carries prerequisites (§2.4) on the ownership record, so two clusters can
// never overwrite each other; the server applies all of it or nothing.
//
//   register   1. refresh: prerequisite "owner TXT is exactly ours"; replace our RRsets, add our
//                 PTRs (one round trip in the steady state)
//              2. on NXRRSET, create: prerequisite "owner name, both instance names (and an
//                 in-zone target's A/AAAA) unused"; the same changes
//              3. on YXDOMAIN/YXRRSET, read the owner TXT: another cluster's → refused, naming it;
//                 ours with other content (the auth URL moved) → one UPDATE conditioned on what
//                 is there, replacing old with new; none → the names are someone else's
//   deregister prerequisite "owner TXT is ours"; delete our RRsets, our PTRs and the owner TXT.
//
// Shared RRsets (the PTRs at <zone> and _liqo._tcp.<zone>, the browse-domain PTRs) are never
// replaced as a whole: only our own record is added or deleted. The browse-domain PTRs are left
// on deregister: other clusters of the zone still need them.
import { randomInt } from 'node:crypto';
import dnsPacket from 'dns-packet';
import { parseDnsServerAddress, type DnsServerAddress } from '../lookup/dns-records.js';
import {
  checkNames,
  instanceNames,
  instancePointers,
  ownerName,
  parseOwnerStrings,
  planRecords,
} from './records.js';
import { describeRcode, rcodeName } from './rcodes.js';
import { exchange, TransportError } from './transport.js';
import { checkTsigKey, DEFAULT_FUDGE_SECONDS, signMessage, verifyResponse } from './tsig.js';
import type {
  DeregistrationSpec,
  PublishedRecord,
  RcodeName,
  RecordPlan,
  RegistrarOptions,
  RegistrationFailure,
  RegistrationResult,
  RegistrationSpec,
  TsigErrorName,
} from './types.js';
import {
  encodeQuery,
  encodeUpdate,
  isUpdateOpcode,
  prerequisite,
  responseCode,
  update,
  type UpdateRecord,
} from './update-message.js';

export const REGISTRAR_DEFAULTS = { timeoutMs: 2000, tries: 3, deadlineMs: 10_000 } as const;
/** Rounds of create → read owner → move before giving up on a zone that keeps changing under us. */
const MAX_ROUNDS = 3;
const INSTANCE_TYPES = ['SRV', 'TXT', 'A', 'AAAA'] as const;
const HOST_TYPES = ['A', 'AAAA'] as const;
const RCODE = { NOERROR: 0, NXDOMAIN: 3, YXDOMAIN: 6, YXRRSET: 7, NXRRSET: 8 } as const;

/** Checks server, key and bounds before any I/O: the field and one line, or undefined when usable. */
export function checkRegistrarOptions(
  options: RegistrarOptions,
): { field: string; message: string } | undefined {
  if (typeof options.server !== 'string')
    return { field: 'server', message: 'no primary server given (host:port)' };
  const server = parseDnsServerAddress(options.server);
  if (!server.ok) return { field: 'server', message: server.message };
  const key = checkTsigKey(options.key);
  if (key) return key;
  for (const field of ['timeoutMs', 'tries', 'deadlineMs', 'fudgeSeconds'] as const) {
    const value = options[field];
    if (
      value !== undefined &&
      (!Number.isInteger(value) || value < 1 || (field === 'fudgeSeconds' && value > 65535))
    ) {
      return { field, message: `${field} must be a positive whole number, got ${String(value)}` };
    }
  }
  if (options.lease) {
    for (const field of ['seconds', 'keySeconds'] as const) {
      const value = options.lease[field];
      if (value === undefined && field === 'keySeconds') continue;
      if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 0xffffffff) {
        return { field: `lease.${field}`, message: `lease.${field} must be 1-4294967295 seconds` };
      }
    }
  }
  return undefined;
}

/** A failure on the way: becomes the RegistrationFailure of the call. */
class Stop extends Error {
  constructor(
    readonly reason: RegistrationFailure['reason'],
    message: string,
    readonly extra: { rcode?: RcodeName; tsigError?: TsigErrorName; owner?: string } = {},
  ) {
    super(message);
  }
}

/** One call's conversation with the primary: signs, sends, verifies, counts. */
class Session {
  exchanges = 0;
  updates = 0;
  private readonly deadline: number;

  constructor(
    private readonly server: DnsServerAddress,
    private readonly options: RegistrarOptions,
    readonly zone: string,
  ) {
    this.deadline = Date.now() + (options.deadlineMs ?? REGISTRAR_DEFAULTS.deadlineMs);
  }

  /** Sends one UPDATE; returns its RCODE (after TSIG checks). */
  async update(prerequisites: UpdateRecord[], updates: UpdateRecord[]): Promise<number> {
    const unsigned = encodeUpdate({
      id: randomInt(0, 0x10000),
      zone: this.zone,
      prerequisites,
      updates,
      ...(this.options.lease ? { lease: this.options.lease } : {}),
    });
    const answer = await this.send(unsigned);
    if (!isUpdateOpcode(answer))
      throw new Stop('bad-response', `${this.where()} answered the UPDATE with another opcode`);
    this.updates++;
    return responseCode(answer);
  }

  /** The ownership TXT at `name`: its strings per record (none when absent). */
  async ownerRecords(name: string): Promise<string[][]> {
    const answer = await this.send(encodeQuery(randomInt(0, 0x10000), name, 'TXT'));
    const rcode = responseCode(answer);
    if (rcode === RCODE.NXDOMAIN) return [];
    if (rcode !== RCODE.NOERROR) throw this.rcodeStop(rcode, `reading ${name} TXT`);
    let decoded: dnsPacket.DecodedPacket;
    try {
      decoded = dnsPacket.decode(answer);
    } catch (error) {
      throw new Stop('bad-response', `${this.where()} sent a malformed answer (${(error as Error).message})`);
    }
    const question = decoded.questions?.[0];
    if (!question || question.name.toLowerCase() !== name || question.type !== 'TXT') {
      throw new Stop('bad-response', `${this.where()} answered another question than ${name} TXT`);
    }
    return (decoded.answers ?? []).flatMap((record) =>
      record.type === 'TXT' && record.name.toLowerCase() === name
        ? [(Array.isArray(record.data) ? record.data : [record.data]).map((chunk) => chunk.toString())]
        : [],
    );
  }

  rcodeStop(rcode: number, what: string): Stop {
    return new Stop(
      'rcode',
      `${this.where()} ${describeRcode(rcode, this.zone, this.options.key.name)} (${what})`,
      {
        rcode: rcodeName(rcode),
      },
    );
  }

  private where(): string {
    return `server ${this.options.server.trim()}`;
  }

  private async send(unsigned: Buffer): Promise<Buffer> {
    const now = (): number => Math.floor((this.options.now ?? Date.now)() / 1000);
    const signed = signMessage(unsigned, this.options.key, {
      timeSigned: now(),
      fudge: this.options.fudgeSeconds ?? DEFAULT_FUDGE_SECONDS,
    });
    let answer: Buffer;
    try {
      this.exchanges++;
      answer = await exchange(this.server, signed.message, {
        timeoutMs: this.options.timeoutMs ?? REGISTRAR_DEFAULTS.timeoutMs,
        tries: this.options.tries ?? REGISTRAR_DEFAULTS.tries,
        deadline: this.deadline,
        ...(this.options.signal ? { signal: this.options.signal } : {}),
      });
    } catch (error) {
      if (error instanceof TransportError) throw new Stop('unreachable', error.message);
      throw error;
    }
    const verified = verifyResponse(answer, this.options.key, signed.mac, now());
    if (verified.ok) return answer;
    const rcode = answer.length >= 4 ? responseCode(answer) : -1;
    if (verified.kind === 'server-error') {
      throw new Stop('tsig', `${this.where()}: ${verified.message}`, {
        rcode: rcodeName(rcode),
        ...(verified.tsigError ? { tsigError: verified.tsigError } : {}),
      });
    }
    if (verified.kind === 'unsigned') {
      const hint =
        rcode === 1 || rcode === 4
          ? ` and says ${rcodeName(rcode)}: the server may not support TSIG`
          : rcode > 0
            ? ` and says ${rcodeName(rcode)}`
            : '';
      throw new Stop(
        'tsig',
        `${this.where()} sent an unsigned answer to our signed request${hint}; not trusting it`,
        rcode > 0 ? { rcode: rcodeName(rcode) } : {},
      );
    }
    throw new Stop('tsig', `${this.where()}: ${verified.message}; not trusting it`);
  }
}

function start(
  zone: string,
  options: RegistrarOptions,
): { ok: true; session: Session } | { ok: false; failure: RegistrationFailure } {
  const problem = checkRegistrarOptions(options);
  if (problem) {
    return {
      ok: false,
      failure: { ok: false, reason: 'invalid', message: problem.message, zone, updates: 0, exchanges: 0 },
    };
  }
  const server = parseDnsServerAddress(options.server);
  if (!server.ok) throw new Error('unreachable: checked above');
  return { ok: true, session: new Session(server.value, options, zone) };
}

function failure(session: Session, stop: Stop): RegistrationFailure {
  return {
    ok: false,
    reason: stop.reason,
    message: stop.message,
    zone: session.zone,
    ...stop.extra,
    updates: session.updates,
    exchanges: session.exchanges,
  };
}

function invalid(zone: string, message: string): RegistrationFailure {
  return { ok: false, reason: 'invalid', message, zone, updates: 0, exchanges: 0 };
}

/** Deletes of every RRset we own (instance names: SRV/TXT/A/AAAA; extra hosts: A/AAAA). */
function deleteOwned(zone: string, instance: string, hosts: readonly string[]): UpdateRecord[] {
  const names = instanceNames(zone, instance);
  return [
    ...[names.guide, names.rfc6763].flatMap((name) =>
      INSTANCE_TYPES.map((type) => update.deleteRRset(name, type)),
    ),
    ...hosts.flatMap((host) => HOST_TYPES.map((type) => update.deleteRRset(host, type))),
  ];
}

/** The update section that makes the zone hold `plan` (and none of `previousHosts`' addresses). */
function replaceWith(plan: RecordPlan, instance: string, previousHosts: readonly string[]): UpdateRecord[] {
  const extraHosts = plan.ownedNames.slice(2);
  const hosts = [...new Set([...previousHosts, ...extraHosts])];
  const published = new Set(plan.shared.map((record) => `${record.name} ${record.data as string}`));
  // a layout turned off: take our PTR out of its shared RRset
  const stalePointers = instancePointers(plan.zone, instance).filter(
    (record) => !published.has(`${record.name} ${record.data as string}`),
  );
  return [
    ...deleteOwned(plan.zone, instance, hosts),
    ...stalePointers.map(update.deleteRecord),
    update.deleteRRset(plan.owner.name, 'TXT'),
    ...plan.records.map(update.add),
  ];
}

function ownerRecordsOf(name: string, observed: string[][]): PublishedRecord[] {
  return observed.map((data) => ({ name, ttl: 0, type: 'TXT', data }));
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((text, index) => text === b[index]);
}

/** Which cluster owns the name, for messages: from the owner TXT's strings. */
function ownerOf(observed: string[][]): { clusterId?: string; hosts: string[] } {
  return parseOwnerStrings(observed.flat());
}

/** Publishes (or refreshes, or moves) this cluster's records; see the header for the steps. */
export async function register(
  spec: RegistrationSpec,
  options: RegistrarOptions,
): Promise<RegistrationResult> {
  const planned = planRecords(spec);
  if (!planned.ok) return invalid(String(spec?.zone ?? ''), planned.message);
  const { plan } = planned;
  const begun = start(plan.zone, options);
  if (!begun.ok) return begun.failure;
  const { session } = begun;
  const instance = String(spec.instance).trim().toLowerCase();
  const names = instanceNames(plan.zone, instance);
  const success = (action: 'created' | 'refreshed' | 'moved'): RegistrationResult => ({
    ok: true,
    action,
    zone: plan.zone,
    records: plan.records,
    updates: session.updates,
    exchanges: session.exchanges,
  });
  const ownerText = plan.owner.data;

  try {
    const refresh = await session.update(
      [prerequisite.rrsetEquals(plan.owner)],
      replaceWith(plan, instance, []),
    );
    if (refresh === RCODE.NOERROR) return success('refreshed');
    if (refresh !== RCODE.NXRRSET) throw session.rcodeStop(refresh, 'refreshing our records');

    for (let round = 0; round < MAX_ROUNDS; round++) {
      const extraHosts = plan.ownedNames.slice(2);
      const create = await session.update(
        [
          prerequisite.nameUnused(plan.owner.name),
          prerequisite.nameUnused(names.guide),
          prerequisite.nameUnused(names.rfc6763),
          ...extraHosts.flatMap((host) => HOST_TYPES.map((type) => prerequisite.rrsetAbsent(host, type))),
        ],
        replaceWith(plan, instance, []),
      );
      if (create === RCODE.NOERROR) return success('created');
      if (create !== RCODE.YXDOMAIN && create !== RCODE.YXRRSET) {
        throw session.rcodeStop(create, 'creating our records');
      }

      const observed = await session.ownerRecords(plan.owner.name);
      if (observed.length === 0) {
        if (round + 1 < MAX_ROUNDS) continue; // an owner left between our two messages: try again
        const hosts = extraHosts.length ? ` (or A/AAAA of ${extraHosts.join(', ')})` : '';
        throw new Stop(
          'name-in-use',
          `${names.guide} or ${names.rfc6763}${hosts} already exists in zone ${plan.zone} without an ownership record ${plan.owner.name}: someone else manages it; remove those records or choose another instance name`,
          { rcode: rcodeName(create) },
        );
      }
      const owner = ownerOf(observed);
      if (owner.clusterId !== spec.clusterId.trim()) {
        throw new Stop(
          'owned-by-other',
          `${names.guide} in zone ${plan.zone} is owned by cluster ${owner.clusterId ?? '(unnamed)'} (${plan.owner.name}); choose another instance name, or deregister that cluster first`,
          { owner: owner.clusterId ?? '', rcode: rcodeName(create) },
        );
      }
      // Ours, with other content (the auth URL moved, a layout changed): replace it all at once,
      // conditioned on exactly what is there now.
      const move = await session.update(
        ownerRecordsOf(plan.owner.name, observed).map(prerequisite.rrsetEquals),
        replaceWith(plan, instance, owner.hosts),
      );
      if (move === RCODE.NOERROR) {
        const unchanged = observed.length === 1 && sameStrings(observed[0] as string[], ownerText);
        return success(unchanged ? 'refreshed' : 'moved');
      }
      if (move !== RCODE.NXRRSET) throw session.rcodeStop(move, 'moving our records');
    }
    throw new Stop('rcode', `zone ${plan.zone} kept changing under us in ${MAX_ROUNDS} rounds; try again`);
  } catch (error) {
    if (error instanceof Stop) return failure(session, error);
    throw error;
  }
}

/** Removes exactly this cluster's records (nothing when the owner TXT is not ours). */
export async function deregister(
  spec: DeregistrationSpec,
  options: RegistrarOptions,
): Promise<RegistrationResult> {
  const checked = checkNames(spec?.zone, spec?.instance);
  if (!checked.ok) return invalid(String(spec?.zone ?? ''), checked.message);
  const { zone, instance } = checked;
  if (typeof spec.clusterId !== 'string' || spec.clusterId.trim() === '') {
    return invalid(zone, 'clusterId is empty: give the cluster id whose records to remove');
  }
  const clusterId = spec.clusterId.trim();
  const begun = start(zone, options);
  if (!begun.ok) return begun.failure;
  const { session } = begun;
  const owner = ownerName(zone, instance);
  const done = (action: 'removed' | 'absent'): RegistrationResult => ({
    ok: true,
    action,
    zone,
    records: [],
    updates: session.updates,
    exchanges: session.exchanges,
  });
  const removal = (hosts: readonly string[]): UpdateRecord[] => [
    ...deleteOwned(zone, instance, hosts),
    ...instancePointers(zone, instance).map(update.deleteRecord),
    update.deleteRRset(owner, 'TXT'),
  ];

  try {
    // With the whole spec we know the owner record's exact content: one round trip.
    const planned =
      spec.authUrl !== undefined && spec.ttl !== undefined
        ? planRecords(spec as RegistrationSpec)
        : undefined;
    if (planned?.ok) {
      const rcode = await session.update(
        [prerequisite.rrsetEquals(planned.plan.owner)],
        removal(planned.plan.ownedNames.slice(2)),
      );
      if (rcode === RCODE.NOERROR) return done('removed');
      if (rcode !== RCODE.NXRRSET) throw session.rcodeStop(rcode, 'removing our records');
    }
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const observed = await session.ownerRecords(owner);
      if (observed.length === 0) return done('absent');
      const found = ownerOf(observed);
      if (found.clusterId !== clusterId) {
        throw new Stop(
          'owned-by-other',
          `${instanceNames(zone, instance).guide} in zone ${zone} is owned by cluster ${found.clusterId ?? '(unnamed)'}, not by us (${clusterId}): nothing removed`,
          { owner: found.clusterId ?? '' },
        );
      }
      const rcode = await session.update(
        ownerRecordsOf(owner, observed).map(prerequisite.rrsetEquals),
        removal(found.hosts),
      );
      if (rcode === RCODE.NOERROR) return done('removed');
      if (rcode !== RCODE.NXRRSET) throw session.rcodeStop(rcode, 'removing our records');
    }
    throw new Stop('rcode', `zone ${zone} kept changing under us in ${MAX_ROUNDS} rounds; try again`);
  } catch (error) {
    if (error instanceof Stop) return failure(session, error);
    throw error;
  }
}
