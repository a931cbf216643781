// One register/deregister call's conversation with the zone's primary: each message gets a
// random id and a TSIG signature, goes out through the bounded transport, and its answer is
// verified (signed with our key, within the fudge, an answer to it) before anyone reads its
// RCODE. Failures become a Stop, which the registrar turns into the call's RegistrationFailure.
import { randomInt } from 'node:crypto';
import dnsPacket from 'dns-packet';
import { parseDnsServerAddress, type DnsServerAddress } from '../lookup/dns-records.js';
import { describeRcode, rcodeName } from './rcodes.js';
import { exchange, TransportError } from './transport.js';
import { checkTsigKey, DEFAULT_FUDGE_SECONDS, signMessage, verifyResponse } from './tsig.js';
import type { RcodeName, RegistrarOptions, RegistrationFailure, TsigErrorName } from './types.js';
import {
  encodeQuery,
  encodeUpdate,
  isUpdateOpcode,
  responseCode,
  type UpdateRecord,
} from './update-message.js';

export const REGISTRAR_DEFAULTS = { timeoutMs: 2000, tries: 3, deadlineMs: 10_000 } as const;
export const RCODE = { NOERROR: 0, NXDOMAIN: 3, YXDOMAIN: 6, YXRRSET: 7, NXRRSET: 8 } as const;

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
export class Stop extends Error {
  constructor(
    readonly reason: RegistrationFailure['reason'],
    message: string,
    readonly extra: { rcode?: RcodeName; tsigError?: TsigErrorName; owner?: string } = {},
  ) {
    super(message);
  }
}

/** One call's conversation with the primary: signs, sends, verifies, counts. */
export class Session {
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

export function start(
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

export function failure(session: Session, stop: Stop): RegistrationFailure {
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

export function invalid(zone: string, message: string): RegistrationFailure {
  return { ok: false, reason: 'invalid', message, zone, updates: 0, exchanges: 0 };
}
