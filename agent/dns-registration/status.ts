// What a DNSRegistration's status and Events say about one register/deregister answer: pure
// functions, so the words a user reads are unit-tested without a server.
import { CONDITION_REGISTERED } from '../../shared/api/constants.js';
import type { Condition, DnsRegistrationStatus } from '../../shared/api/types.js';
import {
  formatRecord,
  type RegistrationFailure,
  type RegistrationResult,
} from '../../shared/dns-registration/index.js';

/** A condition as the CRD stores it (its schema has observedGeneration). */
export type ObservedCondition = Condition & { observedGeneration?: number };

/** A merge patch of the status: null removes a field (a stale owner after a success). */
export type StatusPatch = { [K in keyof DnsRegistrationStatus]?: DnsRegistrationStatus[K] | null };

/** Where one registration goes: what the status remembers so a later pass can undo it. */
export interface RegistrationTarget {
  zone: string;
  server: string;
  instance: string;
  authUrl: string;
}

/** CamelCase condition reason for a failure: the RCODE or TSIG error itself when there is one. */
export function failureReason(failure: Pick<RegistrationFailure, 'reason' | 'rcode' | 'tsigError'>): string {
  if (failure.tsigError) return failure.tsigError;
  if (failure.reason === 'rcode' && failure.rcode) return failure.rcode;
  const byReason: Record<RegistrationFailure['reason'], string> = {
    invalid: 'Invalid',
    'owned-by-other': 'OwnedByOtherCluster',
    'name-in-use': 'NameInUse',
    rcode: 'UpdateRefused',
    tsig: 'TsigFailed',
    unreachable: 'ServerUnreachable',
    'bad-response': 'BadResponse',
  };
  return byReason[failure.reason];
}

/** The Registered condition, keeping lastTransitionTime while the status stays the same. */
export function registeredCondition(
  previous: readonly ObservedCondition[] | undefined,
  status: 'True' | 'False',
  reason: string,
  message: string,
  generation: number | undefined,
  now: Date,
): ObservedCondition {
  const before = previous?.find((c) => c.type === CONDITION_REGISTERED);
  return {
    type: CONDITION_REGISTERED,
    status,
    reason,
    message: message.length > 4096 ? `${message.slice(0, 4093)}...` : message,
    lastTransitionTime:
      before && before.status === status && before.lastTransitionTime
        ? before.lastTransitionTime
        : now.toISOString(),
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
}

/** The status for the answer to register(). */
export function statusAfterRegister(
  result: RegistrationResult,
  target: RegistrationTarget,
  previous: DnsRegistrationStatus | undefined,
  generation: number | undefined,
  now: Date,
): StatusPatch {
  if (result.ok) {
    const records = result.records.map(formatRecord);
    return {
      conditions: [
        registeredCondition(
          previous?.conditions,
          'True',
          result.action === 'moved' ? 'Moved' : result.action === 'created' ? 'Created' : 'Refreshed',
          `zone ${target.zone} holds ${records.length} records of instance ${target.instance} (${target.authUrl}), through ${target.server}`,
          generation,
          now,
        ),
      ],
      observedGeneration: generation ?? 0,
      records,
      ...target,
      lastRegistered: now.toISOString(),
      owner: null,
    };
  }
  return {
    conditions: [
      registeredCondition(
        previous?.conditions,
        'False',
        failureReason(result),
        result.message,
        generation,
        now,
      ),
    ],
    observedGeneration: generation ?? 0,
    // What the zone held before is unknown after a failure: keep the last known list.
    ...(result.owner ? { owner: result.owner } : { owner: null }),
  };
}

/** The status when the registration is switched off and its records are gone. */
export function statusDisabled(
  previous: DnsRegistrationStatus | undefined,
  generation: number | undefined,
  zone: string,
  now: Date,
): StatusPatch {
  return {
    conditions: [
      registeredCondition(
        previous?.conditions,
        'False',
        'Disabled',
        `spec.enabled is false: zone ${zone} holds no records of this cluster`,
        generation,
        now,
      ),
    ],
    observedGeneration: generation ?? 0,
    records: [],
    owner: null,
  };
}

/** A failure before any DNS message was sent (Secret missing, server name not resolved...). */
export function statusNotAttempted(
  previous: DnsRegistrationStatus | undefined,
  generation: number | undefined,
  reason: string,
  message: string,
  now: Date,
): StatusPatch {
  return {
    conditions: [registeredCondition(previous?.conditions, 'False', reason, message, generation, now)],
    observedGeneration: generation ?? 0,
  };
}
