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
import {
  checkNames,
  instanceNames,
  instancePointers,
  ownerName,
  parseOwnerStrings,
  planRecords,
} from './records.js';
import { rcodeName } from './rcodes.js';
import { failure, invalid, RCODE, start, Stop } from './session.js';
import type {
  DeregistrationSpec,
  PublishedRecord,
  RecordPlan,
  RegistrarOptions,
  RegistrationResult,
  RegistrationSpec,
} from './types.js';
import { prerequisite, update, type UpdateRecord } from './update-message.js';

export { checkRegistrarOptions, REGISTRAR_DEFAULTS } from './session.js';

/** Rounds of create → read owner → move before giving up on a zone that keeps changing under us. */
const MAX_ROUNDS = 3;
const INSTANCE_TYPES = ['SRV', 'TXT', 'A', 'AAAA'] as const;
const HOST_TYPES = ['A', 'AAAA'] as const;

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
