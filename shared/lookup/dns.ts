// DNS-SD resolution of a SearchDomain (SPEC §2 "DNS"): PTR on D (the guide's form) and on
// _liqo._tcp.D (RFC 6763), each instance's SRV (RFC 2782 order) and TXT, each SRV target's A and
// AAAA — taken from the SRV reply's additional section when the server put them there (RFC 6763
// §12.2; BIND does), asked for otherwise. Bounded everywhere: per-query timeout, a total
// deadline, a cap on queries in flight. One broken record becomes its own DnsEntryError and
// never hides the other clusters. The queries go through our own client (dns-client.ts).
import { getServers as systemDnsServers } from 'node:dns';
import { isIP } from 'node:net';
import type { SrvAnswer, TxtAnswer } from 'dns-packet';
import { DNS_SD_SERVICE_PREFIX } from '../api/constants.js';
import {
  buildAuthUrl,
  normalizeSearchDomain,
  orderSrvRecords,
  parseDnsServerAddress,
  type DnsServerAddress,
  parseTxtRecords,
} from './dns-records.js';
import type {
  DnsDiscoveredEndpoint,
  DnsEndpointCandidate,
  DnsEntryError,
  DnsResolveOptions,
  DnsResolveResult,
} from './types.js';
import {
  SearchRun,
  MAX_CNAME_HOPS,
  type Answer,
  type Lookup,
  type RunSettings,
  DeadlineExceeded,
  describeBrokenChain,
} from './dns-run.js';
import { DnsClient, sameName, type DnsRecord } from './dns-client.js';

export const DNS_RESOLVE_DEFAULTS = {
  queryTimeoutMs: 2000,
  tries: 2,
  deadlineMs: 10_000,
  /** Enough to hide network latency (1,000 clusters ≈ 2,000 queries), small for any server. */
  concurrency: 128,
} as const;

interface Instance {
  name: string;
  /** The PTR owner name that listed it (D or _liqo._tcp.D). */
  listedBy: string;
  /** The PTR record's TTL, seconds. */
  ttl: number;
}

interface SrvRecord {
  priority: number;
  weight: number;
  port: number;
  /** The target host, without the trailing dot ("" for the root: "not offered"). */
  name: string;
  ttl: number;
}

interface InstanceOutcome {
  endpoint?: DnsDiscoveredEndpoint;
  /** Identifies the service behind the instance: its SRV set, for de-duplication. */
  serviceKey?: string;
  errors: DnsEntryError[];
}

type TargetOutcome = { ok: true; addresses: string[]; ttl: number } | { ok: false; cause: string };

export async function resolveSearchDomain(
  domain: string,
  options: DnsResolveOptions = {},
): Promise<DnsResolveResult> {
  const servicePrefixLength = DNS_SD_SERVICE_PREFIX.length + 1;
  const checked = normalizeSearchDomain(domain, servicePrefixLength);
  if (!checked.ok) return failed(String(domain), checked.message);
  const name = checked.value;

  const settings: RunSettings = { ...DNS_RESOLVE_DEFAULTS };
  for (const key of ['queryTimeoutMs', 'tries', 'deadlineMs', 'concurrency'] as const) {
    const value = options[key];
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < 1) {
      return failed(name, `option ${key} must be a positive integer, got ${String(value)}`);
    }
    settings[key] = value;
  }

  const servers: DnsServerAddress[] = [];
  const given = options.servers && options.servers.length > 0;
  for (const server of given ? (options.servers as string[]) : systemDnsServers()) {
    const parsed = parseDnsServerAddress(server);
    if (!parsed.ok) {
      // A system entry we cannot use (a scoped link-local one, say) is skipped, not fatal.
      if (!given) continue;
      return failed(name, parsed.message);
    }
    servers.push(parsed.value);
  }
  if (servers.length === 0) {
    return failed(name, 'no DNS server: /etc/resolv.conf names none; give one as host:port');
  }

  const client = new DnsClient(servers, { queryTimeoutMs: settings.queryTimeoutMs, tries: settings.tries });
  const run = new SearchRun(client, settings, options.signal);
  try {
    const found = await findInstances(run, name);
    // Shared by all instances: clusters behind one ingress host ask for its addresses once.
    const targets = new Map<string, Promise<TargetOutcome>>();
    const outcomes = await mapWithPool(found.instances, settings.concurrency, (instance) =>
      resolveInstance(run, name, instance, targets, options.random ?? Math.random),
    );
    return { ...assemble(outcomes, found.errors), searched: found.searched };
  } finally {
    run.finish();
  }
}

function failed(domain: string, message: string): DnsResolveResult {
  return { endpoints: [], errors: [{ domain, message }], searched: false };
}

async function findInstances(
  run: SearchRun,
  domain: string,
): Promise<{ instances: Instance[]; errors: DnsEntryError[]; searched: boolean }> {
  const owners = [domain, `${DNS_SD_SERVICE_PREFIX}.${domain}`];
  let answers: Answer<Lookup>[];
  try {
    answers = await Promise.all(owners.map((owner) => run.query('PTR', owner)));
  } catch (error) {
    if (!(error instanceof DeadlineExceeded)) throw error;
    return {
      instances: [],
      errors: [{ domain, message: `PTR ${owners.join(' and ')}: ${error.message}` }],
      searched: false,
    };
  }
  // one cause for both names (the server refused, or never answered) is one error, not two
  const [first, second] = answers;
  if (first && second && !first.ok && !second.ok && !first.absent && first.cause === second.cause) {
    return {
      instances: [],
      errors: [{ domain, message: `PTR ${owners.join(' and ')}: ${first.cause}` }],
      searched: false,
    };
  }
  const instances = new Map<string, Instance>();
  const errors: DnsEntryError[] = [];
  answers.forEach((answer, index) => {
    const owner = owners[index] as string;
    if (answer.ok) {
      for (const record of answer.value.records) {
        const target = String(record.data).replace(/\.$/, '');
        const key = target.toLowerCase();
        if (!instances.has(key)) instances.set(key, { name: target, listedBy: owner, ttl: record.ttl ?? 0 });
      }
    } else if (!answer.absent) {
      errors.push({ domain, message: `PTR ${owner}: ${answer.cause}` });
    }
  });
  if (instances.size === 0 && errors.length === 0) {
    errors.push({ domain, message: `no PTR records at ${owners[0]} or ${owners[1]}` });
  }
  // a server answered for at least one of the names (records, or that there are none)
  const searched = answers.some((answer) => answer.ok || answer.absent);
  return { instances: [...instances.values()], errors, searched };
}

async function resolveInstance(
  run: SearchRun,
  domain: string,
  instance: Instance,
  targets: Map<string, Promise<TargetOutcome>>,
  random: () => number,
): Promise<InstanceOutcome> {
  const fail = (message: string): DnsEntryError => ({ domain, instance: instance.name, message });
  try {
    // TXT runs beside the SRV → A/AAAA chain; awaited last, and handled if the chain ends first.
    const srvAnswer = run.query('SRV', instance.name);
    const txtAnswer = run.query('TXT', instance.name);
    txtAnswer.catch(() => undefined);
    const srv = await srvAnswer;
    if (!srv.ok) {
      const why = srv.absent ? `; the PTR at ${instance.listedBy} names it` : '';
      return { errors: [fail(`SRV ${instance.name}: ${srv.cause}${why}`)] };
    }
    const errors: DnsEntryError[] = [];

    const usable: SrvRecord[] = [];
    const seen = new Set<string>();
    for (const record of srvRecords(srv.value.records)) {
      const key = `${record.name.toLowerCase()}:${record.port}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (record.name === '' || record.name === '.') {
        errors.push(fail(`SRV ${instance.name}: target "." means the service is not offered (RFC 2782)`));
      } else if (record.port === 0) {
        errors.push(fail(`SRV ${instance.name}: port 0 for target ${record.name} (a port must be 1-65535)`));
      } else {
        usable.push(record);
      }
    }

    for (const record of usable) {
      const key = record.name.toLowerCase();
      if (targets.has(key)) continue;
      const given = addressesIn(srv.value.additionals, record.name);
      const outcome = given ? Promise.resolve(given) : resolveTarget(run, record.name);
      // Awaited one by one (and maybe by other instances): a deadline rejection stays handled.
      outcome.catch(() => undefined);
      targets.set(key, outcome);
    }
    const candidates: (DnsEndpointCandidate & { ttl: number })[] = [];
    for (const record of orderSrvRecords(usable, random)) {
      const target = await (targets.get(record.name.toLowerCase()) as Promise<TargetOutcome>);
      if (!target.ok) {
        errors.push(fail(`A/AAAA ${record.name} (SRV target of ${instance.name}): ${target.cause}`));
        continue;
      }
      candidates.push({
        target: record.name.replace(/\.$/, ''),
        port: record.port,
        priority: record.priority,
        weight: record.weight,
        addresses: target.addresses,
        authUrl: buildAuthUrl(record.name, record.port),
        ttl: Math.min(instance.ttl, record.ttl, target.ttl),
      });
    }
    const txt = await txtAnswer;
    // TXT is informational: its absence is normal; another failure is reported but not fatal.
    if (!txt.ok && !txt.absent) errors.push(fail(`TXT ${instance.name}: ${txt.cause}`));
    const [first, ...rest] = candidates;
    if (!first) return { errors };
    const { ttl, ...endpoint } = first;
    return {
      endpoint: {
        ...endpoint,
        domain,
        instance: instance.name,
        txt: txt.ok ? parseTxtRecords(txtStrings(txt.value.records)) : {},
        fallbacks: rest.map(({ ttl: _ttl, ...candidate }) => candidate),
        ttl,
      },
      serviceKey: [...seen].sort().join(' '),
      errors,
    };
  } catch (error) {
    if (!(error instanceof DeadlineExceeded)) throw error;
    return { errors: [fail(`${error.record ?? `SRV ${instance.name}`}: ${error.message}`)] };
  }
}

function srvRecords(records: DnsRecord[]): SrvRecord[] {
  return records.flatMap((record) => {
    if (record.type !== 'SRV') return [];
    const { priority = 0, weight = 0, port, target } = (record as SrvAnswer).data;
    return [
      { priority, weight, port, name: target === '.' ? '' : target.replace(/\.$/, ''), ttl: record.ttl ?? 0 },
    ];
  });
}

/** Each TXT record's character-strings as text (RFC 6763 §6: UTF-8). */
function txtStrings(records: DnsRecord[]): string[][] {
  return records.flatMap((record) => {
    if (record.type !== 'TXT') return [];
    const data = (record as TxtAnswer).data;
    return [(Array.isArray(data) ? data : [data]).map((chunk) => chunk.toString())];
  });
}

/** The target's A/AAAA records in a reply's additional section, if the server sent any. */
function addressesIn(additionals: DnsRecord[], target: string): TargetOutcome | undefined {
  const records = additionals.filter(
    (record) => (record.type === 'A' || record.type === 'AAAA') && sameName(record.name, target),
  );
  if (records.length === 0) return undefined;
  // A before AAAA, as when asked for: IPv4 is what most clusters' auth services listen on.
  records.sort((a, b) => (a.type === b.type ? 0 : a.type === 'A' ? -1 : 1));
  return {
    ok: true,
    addresses: records.map((record) => String(record.data)),
    ttl: Math.min(...records.map((record) => record.ttl ?? 0)),
  };
}

/** A and AAAA in parallel (CNAMEs followed); when neither gives an address, the clearest cause. */
async function resolveTarget(run: SearchRun, target: string): Promise<TargetOutcome> {
  const host = target.replace(/\.$/, '');
  if (isIP(host) !== 0) return { ok: true, addresses: [host], ttl: Infinity };
  const [v4, v6] = await Promise.all([run.query('A', host), run.query('AAAA', host)]);
  const records = [...(v4.ok ? v4.value.records : []), ...(v6.ok ? v6.value.records : [])];
  if (records.length > 0) {
    return {
      ok: true,
      addresses: records.map((record) => String(record.data)),
      ttl: Math.min(...records.map((record) => record.ttl ?? 0)),
    };
  }
  const failures = [v4, v6].flatMap((answer) => (answer.ok ? [] : [answer]));
  // In order: a timeout or refusal, a broken CNAME chain, a missing name, a server failure; and
  // when both families just have no record, say so once.
  const pick =
    failures.find((f) => !f.absent && f.code !== 'ESERVFAIL' && !f.code.startsWith('ECNAME')) ??
    failures.find((f) => f.code.startsWith('ECNAME')) ??
    failures.find((f) => f.code === 'ENOTFOUND') ??
    failures.find((f) => f.code === 'ESERVFAIL');
  if (pick?.code === 'ESERVFAIL')
    return { ok: false, cause: (await explainServfail(run, host)) ?? pick.cause };
  if (pick) return { ok: false, cause: pick.cause };
  const nodata = failures[0];
  const via = nodata?.cause.startsWith('via CNAME')
    ? nodata.cause.slice(0, nodata.cause.indexOf(': ') + 2)
    : '';
  return { ok: false, cause: `${via}no A or AAAA record` };
}

/**
 * A server answers SERVFAIL for a CNAME chain it cannot finish (BIND does for a loop); walking
 * the chain one CNAME question at a time finds the loop or the over-long chain to name.
 */
async function explainServfail(run: SearchRun, host: string): Promise<string | undefined> {
  const chain = [host];
  for (let hop = 0; hop < MAX_CNAME_HOPS; hop++) {
    const current = chain[chain.length - 1] as string;
    const cname = await run.query('CNAME', current);
    if (!cname.ok) return undefined;
    const record = cname.value.records[0];
    if (!record) return undefined;
    const next = String(record.data).replace(/\.$/, '');
    const loops = chain.some((name) => sameName(name, next));
    chain.push(next);
    if (loops) return describeBrokenChain('ECNAMELOOP', chain);
  }
  return describeBrokenChain('ECNAMELONG', chain);
}

/** Runs `work` over `items` with at most `limit` in progress; `work` must not throw. */
async function mapWithPool<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Sorted, de-duplicated result: an instance listed under both PTR forms with the same SRV set
 * (the same service published the guide's way and the RFC way) is kept once, the other name
 * recorded in `aliases`. */
function assemble(
  outcomes: InstanceOutcome[],
  domainErrors: DnsEntryError[],
): Omit<DnsResolveResult, 'searched'> {
  const byInstance = (a: { instance?: string }, b: { instance?: string }): number =>
    compareText(a.instance ?? '', b.instance ?? '');
  const found = outcomes
    .flatMap(({ endpoint, serviceKey }) => (endpoint ? [{ endpoint, serviceKey }] : []))
    .sort((a, b) => byInstance(a.endpoint, b.endpoint));
  const byService = new Map<string, DnsDiscoveredEndpoint>();
  const endpoints: DnsDiscoveredEndpoint[] = [];
  for (const outcome of found) {
    const endpoint = outcome.endpoint;
    const kept = byService.get(outcome.serviceKey ?? endpoint.instance);
    if (kept) {
      kept.aliases = [...(kept.aliases ?? []), endpoint.instance];
      continue;
    }
    byService.set(outcome.serviceKey ?? endpoint.instance, endpoint);
    endpoints.push(endpoint);
  }
  const errors = [...domainErrors, ...outcomes.flatMap((outcome) => outcome.errors)].sort(
    (a, b) => byInstance(a, b) || compareText(a.message, b.message),
  );
  return { endpoints, errors };
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
