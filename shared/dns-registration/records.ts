// The records one registration publishes: a pure function of the RegistrationSpec, giving exactly
// what `kubectl liqo discover --domain <zone>` and a SearchDomain resolve (shared/lookup/dns.ts):
//
//   guide layout    <zone>                    PTR <instance>.<zone>
//                   <instance>.<zone>         SRV 0 0 <port> <target>
//                   <instance>.<zone>         TXT "txtvers=1" "id=<cluster id>" ["name=<name>"]
//   RFC 6763        _liqo._tcp.<zone>         PTR <instance>._liqo._tcp.<zone>
//                   <instance>._liqo._tcp.<zone> SRV 0 0 <port> <target>
//                   <instance>._liqo._tcp.<zone> TXT (the same)
//   target          <target>                  A/AAAA, when the auth URL host is an IP (target is
//                                             then <instance>.<zone>) or an in-zone name with
//                                             targetAddresses given
//   browse domains  b._dns-sd._udp.<zone>, lb._dns-sd._udp.<zone>  PTR <zone>  (when asked)
//   ownership       _liqo-owner.<instance>.<zone> TXT "heritage=liqo-discovery" "cluster-id=<id>"
//                                             ["hosts=<in-zone target>"]
//
// No lookup of ours reads `_liqo-owner.*`. The TXT keys are the ones the mDNS advertiser writes
// (txtvers, id, name: SPEC §2), which the DNS resolver hands on as `txt`.
import { isIP } from 'node:net';
import { DNS_SD_SERVICE_PREFIX } from '../api/constants.js';
import { normalizeSearchDomain } from '../lookup/dns-records.js';
import { DNS_1123_LABEL, MAX_DNS_LABEL_LENGTH } from '../rules/dns-name.js';
import { AUTH_URL_ACCEPTED, parseAuthUrl } from '../rules/url.js';
import {
  DNS_LAYOUTS,
  type DnsLayout,
  type PublishedRecord,
  type RecordPlan,
  type RegistrationSpec,
} from './types.js';

/** The label under which the ownership TXT lives: `_liqo-owner.<instance>.<zone>`. */
export const OWNER_LABEL = '_liqo-owner';
export const OWNER_HERITAGE = 'heritage=liqo-discovery';
const BROWSE_LABELS = ['b._dns-sd._udp', 'lb._dns-sd._udp'];
const MAX_TTL = 2 ** 31 - 1;
/** A TXT character-string is at most 255 bytes. */
const MAX_TXT_STRING = 255;

export type PlanResult = { ok: true; plan: RecordPlan } | { ok: false; field: string; message: string };

/** The instance names of both layouts (we own both, whichever layouts are on). */
export function instanceNames(zone: string, instance: string): { guide: string; rfc6763: string } {
  return { guide: `${instance}.${zone}`, rfc6763: `${instance}.${DNS_SD_SERVICE_PREFIX}.${zone}` };
}

export function ownerName(zone: string, instance: string): string {
  return `${OWNER_LABEL}.${instance}.${zone}`;
}

/** The PTR records that list an instance, in both layouts (what deregister takes out of shared RRsets). */
export function instancePointers(zone: string, instance: string): PublishedRecord[] {
  const names = instanceNames(zone, instance);
  return [
    { name: zone, ttl: 0, type: 'PTR', data: names.guide },
    { name: `${DNS_SD_SERVICE_PREFIX}.${zone}`, ttl: 0, type: 'PTR', data: names.rfc6763 },
  ];
}

/** The ownership TXT strings: what the refresh prerequisite compares byte for byte. */
export function ownerStrings(clusterId: string, hosts: readonly string[]): string[] {
  return [OWNER_HERITAGE, `cluster-id=${clusterId}`, ...(hosts.length ? [`hosts=${hosts.join(',')}`] : [])];
}

/** The cluster id and extra owned hosts an ownership TXT names (undefined fields when absent). */
export function parseOwnerStrings(strings: readonly string[]): { clusterId?: string; hosts: string[] } {
  let clusterId: string | undefined;
  let hosts: string[] = [];
  for (const text of strings) {
    if (text.startsWith('cluster-id=') && clusterId === undefined) clusterId = text.slice(11);
    else if (text.startsWith('hosts=')) hosts = text.slice(6).split(',').filter(Boolean);
  }
  return { ...(clusterId !== undefined ? { clusterId } : {}), hosts };
}

export function isInZone(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}

/** The zone (normalized) and instance label (lower-case), or the field that is wrong. */
export function checkNames(
  zoneInput: unknown,
  instanceInput: unknown,
): { ok: true; zone: string; instance: string } | { ok: false; field: string; message: string } {
  const zoneChecked = normalizeSearchDomain(
    zoneInput,
    `${OWNER_LABEL}.${DNS_SD_SERVICE_PREFIX}.`.length + 64,
  );
  if (!zoneChecked.ok) return { ok: false, field: 'zone', message: zoneChecked.message };
  const instance = typeof instanceInput === 'string' ? instanceInput.trim().toLowerCase() : '';
  if (!DNS_1123_LABEL.test(instance) || instance.length > MAX_DNS_LABEL_LENGTH) {
    return {
      ok: false,
      field: 'instance',
      message: `instance "${String(instanceInput)}" must be one DNS label: 1-63 letters, digits and "-", not starting or ending with "-"`,
    };
  }
  return { ok: true, zone: zoneChecked.value, instance };
}

/** Checks the spec and computes every record; one field and one line when something is wrong. */
export function planRecords(spec: RegistrationSpec): PlanResult {
  const fail = (field: string, message: string): PlanResult => ({ ok: false, field, message });
  const names = checkNames(spec.zone, spec.instance);
  if (!names.ok) return names;
  const { zone, instance } = names;
  if (typeof spec.clusterId !== 'string' || spec.clusterId.trim() === '') {
    return fail('clusterId', 'clusterId is empty: give the cluster id /ids serves');
  }
  const clusterId = spec.clusterId.trim();
  if (/[\s,]/.test(clusterId) || Buffer.byteLength(`cluster-id=${clusterId}`) > MAX_TXT_STRING) {
    return fail('clusterId', `clusterId "${clusterId}" must be at most 244 bytes without spaces or commas`);
  }
  if (spec.clusterName !== undefined && Buffer.byteLength(`name=${spec.clusterName}`) > MAX_TXT_STRING) {
    return fail('clusterName', 'clusterName must be at most 250 bytes (a TXT string is 255)');
  }
  if (!Number.isInteger(spec.ttl) || spec.ttl < 0 || spec.ttl > MAX_TTL) {
    return fail('ttl', `ttl must be a whole number of seconds 0-${MAX_TTL}, got ${String(spec.ttl)}`);
  }
  const layouts = spec.layouts ?? DNS_LAYOUTS;
  if (layouts.length === 0 || layouts.some((layout) => !DNS_LAYOUTS.includes(layout))) {
    return fail('layouts', `layouts must name one or both of ${DNS_LAYOUTS.join(', ')}`);
  }

  const target = publishedTarget(spec.authUrl);
  if (!target.ok) return fail('authUrl', target.message);
  const { host, port } = target;
  const instanceNamesOf = instanceNames(zone, instance);
  const ttl = spec.ttl;

  // The SRV target, and the addresses (if any) we publish for it.
  let srvTarget: string;
  let addresses: string[] = [];
  const hosts: string[] = [];
  if (isIP(host) !== 0) {
    // An SRV target is a name (RFC 2782), so an IP auth URL gets one: the guide instance name.
    srvTarget = instanceNamesOf.guide;
    addresses = [host];
  } else {
    srvTarget = host;
    if (isInZone(host, zone) && spec.targetAddresses && spec.targetAddresses.length > 0) {
      for (const address of spec.targetAddresses) {
        if (isIP(address) === 0) return fail('targetAddresses', `"${address}" is not an IP address`);
      }
      addresses = [...new Set(spec.targetAddresses.map((address) => address.toLowerCase()))];
      if (host !== instanceNamesOf.guide && host !== instanceNamesOf.rfc6763) hosts.push(host);
      if (host === ownerName(zone, instance))
        return fail('authUrl', `host ${host} is the ownership record's name`);
    }
  }

  const txt = ['txtvers=1', `id=${clusterId}`, ...(spec.clusterName ? [`name=${spec.clusterName}`] : [])];
  const srv = { priority: 0, weight: 0, port, target: srvTarget };
  const records: PublishedRecord[] = [];
  const shared: PublishedRecord[] = [];
  const layoutRecords: Record<DnsLayout, { ptrOwner: string; instanceName: string }> = {
    guide: { ptrOwner: zone, instanceName: instanceNamesOf.guide },
    rfc6763: { ptrOwner: `${DNS_SD_SERVICE_PREFIX}.${zone}`, instanceName: instanceNamesOf.rfc6763 },
  };
  for (const layout of DNS_LAYOUTS) {
    if (!layouts.includes(layout)) continue;
    const { ptrOwner, instanceName } = layoutRecords[layout];
    const ptr: PublishedRecord = { name: ptrOwner, ttl, type: 'PTR', data: instanceName };
    shared.push(ptr);
    records.push(ptr);
    records.push({ name: instanceName, ttl, type: 'SRV', data: srv });
    records.push({ name: instanceName, ttl, type: 'TXT', data: txt });
  }
  for (const address of addresses) {
    records.push({ name: srvTarget, ttl, type: isIP(address) === 6 ? 'AAAA' : 'A', data: address });
  }
  if (spec.browseDomains) {
    for (const label of BROWSE_LABELS) {
      const ptr: PublishedRecord = { name: `${label}.${zone}`, ttl, type: 'PTR', data: zone };
      shared.push(ptr);
      records.push(ptr);
    }
  }
  const owner: PublishedRecord & { type: 'TXT' } = {
    name: ownerName(zone, instance),
    ttl,
    type: 'TXT',
    data: ownerStrings(clusterId, hosts),
  };
  records.push(owner);
  return {
    ok: true,
    plan: {
      zone,
      records,
      owner,
      ownedNames: [instanceNamesOf.guide, instanceNamesOf.rfc6763, ...hosts],
      shared,
    },
  };
}

type ParsedAuthUrl = { ok: true; host: string; port: number } | { ok: false; message: string };

/**
 * The host and port DNS-SD publishes, from the one auth-URL parse the webhook, the /ids client
 * and the plugin use (shared/rules/url.ts): what peers connect to is what we publish.
 */
function publishedTarget(input: unknown): ParsedAuthUrl {
  if (typeof input !== 'string' || input.trim() === '') {
    return { ok: false, message: 'authUrl is empty: give https://<host>:<port> where /ids is served' };
  }
  const parsed = parseAuthUrl(input.trim());
  if (!parsed.ok)
    return { ok: false, message: `authUrl "${input}" ${parsed.problem}; expected ${AUTH_URL_ACCEPTED}` };
  return { ok: true, host: parsed.url.idsTarget.host, port: parsed.url.idsTarget.port };
}

/** A record in zone-file form, e.g. `a.example.com. 300 IN SRV 0 0 443 h.example.com.` */
export function formatRecord(record: PublishedRecord): string {
  const head = `${record.name}. ${record.ttl} IN ${record.type}`;
  switch (record.type) {
    case 'PTR':
      return `${head} ${record.data}.`;
    case 'SRV': {
      const { priority, weight, port, target } = record.data;
      return `${head} ${priority} ${weight} ${port} ${target}.`;
    }
    case 'TXT':
      return `${head} ${record.data.map((text) => JSON.stringify(text)).join(' ')}`;
    default:
      return `${head} ${record.data}`;
  }
}
