// DNS-SD resolution of a SearchDomain (SPEC §2 "DNS"): PTR on D (the guide's form) and on
// _liqo._tcp.D (RFC 6763), each instance's SRV (RFC 2782 order) and TXT, each SRV target's A and
// AAAA. Bounded everywhere: per-query timeout, a total deadline, a cap on queries in flight. One
// broken record becomes its own DnsEntryError and never hides the other clusters.
import { promises as dnsPromises, type SrvRecord } from 'node:dns';
import { isIP } from 'node:net';
import { DNS_SD_SERVICE_PREFIX } from '../api/constants.js';
import {
  buildAuthUrl,
  normalizeSearchDomain,
  orderSrvRecords,
  parseDnsServer,
  parseTxtRecords,
} from './dns-records.js';
import type {
  DnsDiscoveredEndpoint,
  DnsEndpointCandidate,
  DnsEntryError,
  DnsResolveOptions,
  DnsResolveResult,
} from './types.js';
import { SearchRun, type Answer, type RunSettings, DeadlineExceeded } from './dns-run.js';

export const DNS_RESOLVE_DEFAULTS = {
  queryTimeoutMs: 2000,
  tries: 2,
  deadlineMs: 10_000,
  /** Enough to hide network latency (1,000 clusters ≈ 4,000 queries), small for any server. */
  concurrency: 64,
} as const;

/**
 * Node's resolver reports TTLs only for A and AAAA. PTR, SRV and TXT count as this many seconds
 * when taking the smallest TTL of an entry's chain, so the result never outlives a short address
 * TTL and never claims more than this for the rest.
 */
export const DNS_UNREPORTED_TTL_SECONDS = 300;

/** Longest CNAME chain followed when explaining why a target has no address. */
const MAX_CNAME_HOPS = 16;

interface Instance {
  name: string;
  /** The PTR owner name that listed it (D or _liqo._tcp.D). */
  listedBy: string;
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

  const resolver = new dnsPromises.Resolver({ timeout: settings.queryTimeoutMs, tries: settings.tries });
  if (options.servers && options.servers.length > 0) {
    const servers: string[] = [];
    for (const server of options.servers) {
      const parsed = parseDnsServer(server);
      if (!parsed.ok) return failed(name, parsed.message);
      servers.push(parsed.value);
    }
    resolver.setServers(servers);
  }

  const run = new SearchRun(resolver, settings, options.signal);
  try {
    const found = await findInstances(run, name);
    // Shared by all instances: clusters behind one ingress host ask for its addresses once.
    const targets = new Map<string, Promise<TargetOutcome>>();
    const outcomes = await mapWithPool(found.instances, settings.concurrency, (instance) =>
      resolveInstance(run, name, instance, targets, options.random ?? Math.random),
    );
    return assemble(outcomes, found.errors);
  } finally {
    run.finish();
  }
}

function failed(domain: string, message: string): DnsResolveResult {
  return { endpoints: [], errors: [{ domain, message }] };
}

async function findInstances(
  run: SearchRun,
  domain: string,
): Promise<{ instances: Instance[]; errors: DnsEntryError[] }> {
  const owners = [domain, `${DNS_SD_SERVICE_PREFIX}.${domain}`];
  let answers: Answer<string[]>[];
  try {
    answers = await Promise.all(owners.map((owner) => run.query('PTR', owner, (r) => r.resolvePtr(owner))));
  } catch (error) {
    if (!(error instanceof DeadlineExceeded)) throw error;
    return { instances: [], errors: [{ domain, message: `PTR ${owners.join(' and ')}: ${error.message}` }] };
  }
  const instances = new Map<string, Instance>();
  const errors: DnsEntryError[] = [];
  answers.forEach((answer, index) => {
    const owner = owners[index] as string;
    if (answer.ok) {
      for (const target of answer.value) {
        const key = target.toLowerCase().replace(/\.$/, '');
        if (!instances.has(key)) instances.set(key, { name: target.replace(/\.$/, ''), listedBy: owner });
      }
    } else if (!answer.absent) {
      errors.push({ domain, message: `PTR ${owner}: ${answer.cause}` });
    }
  });
  if (instances.size === 0 && errors.length === 0) {
    errors.push({ domain, message: `no PTR records at ${owners[0]} or ${owners[1]}` });
  }
  return { instances: [...instances.values()], errors };
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
    const srvAnswer = run.query('SRV', instance.name, (r) => r.resolveSrv(instance.name));
    const txtAnswer = run.query('TXT', instance.name, (r) => r.resolveTxt(instance.name));
    txtAnswer.catch(() => undefined);
    const srv = await srvAnswer;
    if (!srv.ok || srv.value.length === 0) {
      const cause = srv.ok ? 'no SRV record' : srv.cause;
      const why = srv.ok || srv.absent ? `; the PTR at ${instance.listedBy} names it` : '';
      return { errors: [fail(`SRV ${instance.name}: ${cause}${why}`)] };
    }
    const errors: DnsEntryError[] = [];

    const usable: SrvRecord[] = [];
    const seen = new Set<string>();
    for (const record of srv.value) {
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
      const outcome = resolveTarget(run, record.name);
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
        ttl: target.ttl,
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
        txt: txt.ok ? parseTxtRecords(txt.value) : {},
        fallbacks: rest.map(({ ttl: _ttl, ...candidate }) => candidate),
        ttl: Math.min(ttl, DNS_UNREPORTED_TTL_SECONDS),
      },
      serviceKey: [...seen].sort().join(' '),
      errors,
    };
  } catch (error) {
    if (!(error instanceof DeadlineExceeded)) throw error;
    return { errors: [fail(`${error.record ?? `SRV ${instance.name}`}: ${error.message}`)] };
  }
}

/** A and AAAA in parallel; when neither gives an address, follow the CNAMEs to say why. */
async function resolveTarget(run: SearchRun, target: string): Promise<TargetOutcome> {
  const host = target.replace(/\.$/, '');
  if (isIP(host) !== 0) return { ok: true, addresses: [host], ttl: Infinity };
  const [v4, v6] = await Promise.all([
    run.query('A', host, (r) => r.resolve4(host, { ttl: true })),
    run.query('AAAA', host, (r) => r.resolve6(host, { ttl: true })),
  ]);
  const records = [...(v4.ok ? v4.value : []), ...(v6.ok ? v6.value : [])];
  if (records.length > 0) {
    return {
      ok: true,
      addresses: records.map((record) => record.address),
      ttl: Math.min(...records.map((record) => record.ttl)),
    };
  }
  // A timeout or refusal says more than anything the CNAME walk could add.
  const hard = [v4, v6].find((answer) => !answer.ok && !answer.absent && answer.code !== 'ESERVFAIL');
  if (hard && !hard.ok) return { ok: false, cause: hard.cause };

  const chain = [host];
  for (let hop = 0; hop < MAX_CNAME_HOPS; hop++) {
    const current = chain[chain.length - 1] as string;
    const cname = await run.query('CNAME', current, (r) => r.resolveCname(current));
    const via = chain.length > 1 ? `via CNAME ${chain.join(' → ')}: ` : '';
    if (!cname.ok || cname.value.length === 0) {
      if (!cname.ok && cname.code === 'ENOTFOUND')
        return { ok: false, cause: `${via}name does not exist (NXDOMAIN)` };
      if (!cname.ok && !cname.absent) return { ok: false, cause: `${via}${cname.cause}` };
      const servfail = [v4, v6].find((answer) => !answer.ok && answer.code === 'ESERVFAIL');
      if (servfail && !servfail.ok) return { ok: false, cause: `${via}${servfail.cause}` };
      return { ok: false, cause: `${via}no A or AAAA record` };
    }
    const next = (cname.value[0] as string).replace(/\.$/, '');
    const loops = chain.some((name) => name.toLowerCase() === next.toLowerCase());
    chain.push(next);
    if (loops) return { ok: false, cause: `CNAME loop ${chain.join(' → ')}` };
  }
  return { ok: false, cause: `CNAME chain longer than ${MAX_CNAME_HOPS}: ${chain.join(' → ')}` };
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
function assemble(outcomes: InstanceOutcome[], domainErrors: DnsEntryError[]): DnsResolveResult {
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
