// DNSRegistration defaulting and validation (issue 19 part 1). Pure, like the other kinds: the
// webhook calls these, the plugin runs them for --dry-run=client and the agent reads the
// server address through parseDnsServer. `instance` and `authUrl` get no default here: only
// the agent knows its cluster name and where it serves /ids, so it fills them at run time.
import {
  DEFAULT_LIQO_NAMESPACE,
  DNS_REGISTRATION_DEFAULTS,
  DNS_REGISTRATION_LAYOUTS,
  DNS_REGISTRATION_LEASE_REFRESHES,
  MAX_DNS_REGISTRATION_REFRESH_SECONDS,
  MAX_DNS_REGISTRATION_TTL,
  MIN_DNS_REGISTRATION_REFRESH_SECONDS,
  MIN_DNS_REGISTRATION_TTL,
  KIND_DNS_REGISTRATION,
  TSIG_ALGORITHMS,
} from '../api/constants.js';
import type { DnsRegistration } from '../api/types.js';
import { DNS_INSTANCE_REGEX } from '../api/schemas.js';
import { isIP } from 'node:net';
import { DNS_DOMAIN_ACCEPTED, dnsNameProblem, looksLikeIPv4, withoutTrailingDot } from './dns-name.js';
import {
  cloneJson,
  describeValue,
  expectBoolean,
  expectOneOf,
  expectString,
  Findings,
  isAbsent,
  isPlainObject,
  ownValue,
  requireObjectSpec,
  setOwn,
  type PlainObject,
} from './object.js';
import { objectNameProblem, OBJECT_NAME_ACCEPTED } from './object-name.js';
import { domainProblem } from './searchdomain.js';
import { checkAuthUrl, normaliseAuthUrl } from './url.js';
import type { KindRules, RuleOptions, ValidationResult } from './types.js';

export const DNS_SERVER_ACCEPTED =
  'host:port with a DNS name, IPv4 or [IPv6] host and a port in 1-65535, e.g. ns1.example.com:53 (port 53 when absent)';
export const DNS_INSTANCE_ACCEPTED =
  "one DNS label: 1-63 letters, digits and '-', no '-' at either end, e.g. cluster-a";
const SECRET_KEY_ACCEPTED = "a Secret data key: letters, digits, '-', '_' and '.'";
const KNOWN_SPEC_FIELDS = new Set([
  'zone',
  'server',
  'tsig',
  'instance',
  'authUrl',
  'ttl',
  'layouts',
  'browseDomains',
  'refreshIntervalSeconds',
  'leaseSeconds',
  'enabled',
]);

export interface DnsServerAddress {
  /** Host name or IP address, IPv6 without brackets. */
  host: string;
  port: number;
}

/** "host", "host:port", "[v6]" or "[v6]:port" → host and port, or a problem saying what is wrong. */
export function parseDnsServer(
  raw: string,
): { ok: true; server: DnsServerAddress } | { ok: false; problem: string } {
  const text = raw.trim();
  if (text === '') return { ok: false, problem: 'is empty' };
  let host: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1] ?? '';
    portText = bracketed[2];
    if (isIP(host) !== 6)
      return { ok: false, problem: `has ${JSON.stringify(host)} in brackets, not an IPv6 address` };
  } else if (isIP(text) === 6) {
    host = text; // a bare IPv6 address: no port can follow without brackets
  } else {
    const colon = text.lastIndexOf(':');
    host = colon >= 0 ? text.slice(0, colon) : text;
    portText = colon >= 0 ? text.slice(colon + 1) : undefined;
    if (isIP(host) === 0) {
      const problem = looksLikeIPv4(host)
        ? 'has a host that is neither an IPv4 address nor a DNS name'
        : dnsNameProblem(host, { allowUnderscore: false });
      if (problem) return { ok: false, problem: `host ${JSON.stringify(host)} ${problem}` };
    }
  }
  let port: number = DNS_REGISTRATION_DEFAULTS.port;
  if (portText !== undefined) {
    port = Number(portText);
    if (!/^[0-9]{1,5}$/.test(portText) || port < 1 || port > 65535) {
      return { ok: false, problem: `has port ${JSON.stringify(portText)}; a port is 1-65535` };
    }
  }
  return { ok: true, server: { host: withoutTrailingDot(host), port } };
}

/** The server as "host:port" (IPv6 in brackets), the form the webhook stores. */
export function formatDnsServer(server: DnsServerAddress): string {
  return `${isIP(server.host) === 6 ? `[${server.host}]` : server.host}:${server.port}`;
}

/** The RFC 9664 lease for a spec: leaseSeconds, or LEASE_REFRESHES refresh intervals. */
export function effectiveLeaseSeconds(spec: {
  leaseSeconds?: number;
  refreshIntervalSeconds?: number;
}): number {
  const refresh = spec.refreshIntervalSeconds ?? DNS_REGISTRATION_DEFAULTS.refreshIntervalSeconds;
  return spec.leaseSeconds ?? DNS_REGISTRATION_LEASE_REFRESHES * refresh;
}

function fillAbsent(obj: PlainObject, key: string, value: unknown): void {
  if (isAbsent(ownValue(obj, key))) setOwn(obj, key, cloneJson(value));
}

/**
 * Fills the spec defaults (tsig.algorithm, secretRef namespace and key, ttl, layouts,
 * browseDomains, refreshIntervalSeconds, enabled), writes server as host:port and normalises
 * authUrl. Never mutates its input; odd shapes are left for validate() to name.
 */
export function defaultDnsRegistration<T>(obj: T, _old?: T): T {
  const copy = cloneJson(obj);
  if (!isPlainObject(copy)) return copy;
  const spec = ownValue(copy, 'spec');
  if (!isPlainObject(spec)) return copy;
  const server = ownValue(spec, 'server');
  if (typeof server === 'string') {
    const parsed = parseDnsServer(server);
    if (parsed.ok) setOwn(spec, 'server', formatDnsServer(parsed.server));
  }
  const tsig = ownValue(spec, 'tsig');
  if (isPlainObject(tsig)) {
    fillAbsent(tsig, 'algorithm', DNS_REGISTRATION_DEFAULTS.tsigAlgorithm);
    const ref = ownValue(tsig, 'secretRef');
    if (isPlainObject(ref)) {
      fillAbsent(ref, 'namespace', DEFAULT_LIQO_NAMESPACE);
      fillAbsent(ref, 'key', DNS_REGISTRATION_DEFAULTS.secretKey);
    }
  }
  const authUrl = ownValue(spec, 'authUrl');
  if (typeof authUrl === 'string') setOwn(spec, 'authUrl', normaliseAuthUrl(authUrl));
  fillAbsent(spec, 'ttl', DNS_REGISTRATION_DEFAULTS.ttl);
  fillAbsent(spec, 'layouts', DNS_REGISTRATION_DEFAULTS.layouts);
  fillAbsent(spec, 'browseDomains', DNS_REGISTRATION_DEFAULTS.browseDomains);
  fillAbsent(spec, 'refreshIntervalSeconds', DNS_REGISTRATION_DEFAULTS.refreshIntervalSeconds);
  fillAbsent(spec, 'enabled', DNS_REGISTRATION_DEFAULTS.enabled);
  return copy;
}

function checkInteger(findings: Findings, field: string, value: unknown, min: number, max: number): boolean {
  const accepted = `a whole number from ${min} to ${max}`;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    findings.error(field, `must be a whole number, got ${describeValue(value)}`, accepted);
    return false;
  }
  if (value < min || value > max) {
    findings.error(field, `${value} is out of range`, accepted);
    return false;
  }
  return true;
}

function validateTsig(findings: Findings, tsig: unknown): void {
  const accepted = 'an object with keyName, secretRef.name and optionally algorithm';
  if (isAbsent(tsig)) return findings.error('spec.tsig', 'is required', accepted);
  if (!isPlainObject(tsig)) {
    return findings.error('spec.tsig', `must be an object, got ${describeValue(tsig)}`, accepted);
  }
  const keyName = ownValue(tsig, 'keyName');
  const keyAccepted =
    'the key name as the server knows it, a DNS name such as liqo-update or liqo-update.example.com';
  if (isAbsent(keyName)) findings.error('spec.tsig.keyName', 'is required', keyAccepted);
  else if (expectString(findings, 'spec.tsig.keyName', keyName, keyAccepted)) {
    const problem = dnsNameProblem(keyName, { allowUnderscore: true });
    if (problem) findings.error('spec.tsig.keyName', `${describeValue(keyName)} ${problem}`, keyAccepted);
  }
  const algorithm = ownValue(tsig, 'algorithm');
  if (!isAbsent(algorithm)) expectOneOf(findings, 'spec.tsig.algorithm', algorithm, TSIG_ALGORITHMS);
  const ref = ownValue(tsig, 'secretRef');
  const refAccepted = 'an object with name (a Secret in the Liqo namespace) and optionally namespace and key';
  if (isAbsent(ref)) return findings.error('spec.tsig.secretRef', 'is required', refAccepted);
  if (!isPlainObject(ref)) {
    return findings.error('spec.tsig.secretRef', `must be an object, got ${describeValue(ref)}`, refAccepted);
  }
  const name = ownValue(ref, 'name');
  if (isAbsent(name)) findings.error('spec.tsig.secretRef.name', 'is required', OBJECT_NAME_ACCEPTED);
  else if (expectString(findings, 'spec.tsig.secretRef.name', name, OBJECT_NAME_ACCEPTED)) {
    const problem = objectNameProblem(name);
    if (problem)
      findings.error('spec.tsig.secretRef.name', `${describeValue(name)} ${problem}`, OBJECT_NAME_ACCEPTED);
  }
  const namespace = ownValue(ref, 'namespace');
  if (
    !isAbsent(namespace) &&
    expectString(findings, 'spec.tsig.secretRef.namespace', namespace, 'a namespace')
  ) {
    if (namespace !== DEFAULT_LIQO_NAMESPACE) {
      findings.warn(
        `spec.tsig.secretRef.namespace ${describeValue(namespace)}: the agent reads Secrets only in its own namespace (${DEFAULT_LIQO_NAMESPACE})`,
      );
    }
  }
  const key = ownValue(ref, 'key');
  if (!isAbsent(key) && expectString(findings, 'spec.tsig.secretRef.key', key, SECRET_KEY_ACCEPTED)) {
    if (!/^[-._a-zA-Z0-9]{1,253}$/.test(key)) {
      findings.error(
        'spec.tsig.secretRef.key',
        `${describeValue(key)} is not a Secret data key`,
        SECRET_KEY_ACCEPTED,
      );
    }
  }
}

function validateLayouts(findings: Findings, layouts: unknown): void {
  const accepted = `a non-empty list of ${DNS_REGISTRATION_LAYOUTS.join(', ')}, each at most once`;
  if (!Array.isArray(layouts)) {
    return findings.error('spec.layouts', `must be a list, got ${describeValue(layouts)}`, accepted);
  }
  if (layouts.length === 0) return findings.error('spec.layouts', 'is empty', accepted);
  const seen = new Set<unknown>();
  layouts.forEach((layout: unknown, i) => {
    if (!expectOneOf(findings, `spec.layouts[${i}]`, layout, DNS_REGISTRATION_LAYOUTS)) return;
    if (seen.has(layout))
      findings.error(`spec.layouts[${i}]`, `${describeValue(layout)} is listed twice`, accepted);
    seen.add(layout);
  });
}

/** Field errors and warnings for a DNSRegistration. */
export function validateDnsRegistration(
  obj: unknown,
  _old?: unknown,
  options: RuleOptions = {},
): ValidationResult {
  const findings = new Findings();
  const spec = requireObjectSpec(findings, obj, 'DNSRegistration', 'an object with zone, server and tsig');
  if (!spec) return findings.result();

  const zone = ownValue(spec, 'zone');
  if (isAbsent(zone)) findings.error('spec.zone', 'is required', DNS_DOMAIN_ACCEPTED);
  else if (expectString(findings, 'spec.zone', zone, DNS_DOMAIN_ACCEPTED)) {
    const problem = domainProblem(zone);
    if (problem) findings.error('spec.zone', `${describeValue(zone)} ${problem}`, DNS_DOMAIN_ACCEPTED);
    else {
      const bare = withoutTrailingDot(zone).toLowerCase();
      if (bare === 'local' || bare.endsWith('.local')) {
        findings.error(
          'spec.zone',
          `${describeValue(zone)} is mDNS-only (.local)`,
          `${DNS_DOMAIN_ACCEPTED}, not under local.`,
        );
      }
    }
  }

  const server = ownValue(spec, 'server');
  if (isAbsent(server)) findings.error('spec.server', 'is required', DNS_SERVER_ACCEPTED);
  else if (expectString(findings, 'spec.server', server, DNS_SERVER_ACCEPTED)) {
    const parsed = parseDnsServer(server);
    if (!parsed.ok)
      findings.error('spec.server', `${describeValue(server)} ${parsed.problem}`, DNS_SERVER_ACCEPTED);
  }

  validateTsig(findings, ownValue(spec, 'tsig'));

  const instance = ownValue(spec, 'instance');
  if (!isAbsent(instance) && expectString(findings, 'spec.instance', instance, DNS_INSTANCE_ACCEPTED)) {
    if (!new RegExp(DNS_INSTANCE_REGEX).test(instance)) {
      findings.error(
        'spec.instance',
        `${describeValue(instance)} is not one DNS label`,
        DNS_INSTANCE_ACCEPTED,
      );
    }
  }

  const authUrl = ownValue(spec, 'authUrl');
  if (!isAbsent(authUrl) && expectString(findings, 'spec.authUrl', authUrl, 'an https URL')) {
    const check = checkAuthUrl(authUrl, { allowLoopback: options.allowLoopback === true });
    for (const p of check.problems) findings.error('spec.authUrl', p.message, p.accepted);
    for (const w of check.warnings) findings.warn(`spec.authUrl: ${w}`);
  }

  const ttl = ownValue(spec, 'ttl');
  if (!isAbsent(ttl))
    checkInteger(findings, 'spec.ttl', ttl, MIN_DNS_REGISTRATION_TTL, MAX_DNS_REGISTRATION_TTL);
  const layouts = ownValue(spec, 'layouts');
  if (!isAbsent(layouts)) validateLayouts(findings, layouts);
  for (const key of ['browseDomains', 'enabled'] as const) {
    const value = ownValue(spec, key);
    if (!isAbsent(value)) expectBoolean(findings, `spec.${key}`, value);
  }
  const refresh = ownValue(spec, 'refreshIntervalSeconds');
  const refreshOk =
    isAbsent(refresh) ||
    checkInteger(
      findings,
      'spec.refreshIntervalSeconds',
      refresh,
      MIN_DNS_REGISTRATION_REFRESH_SECONDS,
      MAX_DNS_REGISTRATION_REFRESH_SECONDS,
    );
  const lease = ownValue(spec, 'leaseSeconds');
  if (!isAbsent(lease)) {
    const leaseOk = checkInteger(
      findings,
      'spec.leaseSeconds',
      lease,
      MIN_DNS_REGISTRATION_REFRESH_SECONDS,
      4 * MAX_DNS_REGISTRATION_REFRESH_SECONDS,
    );
    const refreshSeconds =
      typeof refresh === 'number' ? refresh : DNS_REGISTRATION_DEFAULTS.refreshIntervalSeconds;
    if (leaseOk && refreshOk && (lease as number) <= refreshSeconds) {
      findings.error(
        'spec.leaseSeconds',
        `${String(lease)} is not longer than refreshIntervalSeconds (${refreshSeconds}): the records would lapse between refreshes`,
        `more than refreshIntervalSeconds, e.g. ${DNS_REGISTRATION_LEASE_REFRESHES * refreshSeconds}`,
      );
    }
  }
  if (
    typeof ttl === 'number' &&
    typeof refresh === 'number' &&
    ttl >
      effectiveLeaseSeconds({
        refreshIntervalSeconds: refresh,
        ...(typeof lease === 'number' ? { leaseSeconds: lease } : {}),
      })
  ) {
    findings.warn(
      `spec.ttl ${ttl} is longer than the lease: resolvers may keep records the server has dropped`,
    );
  }
  for (const key of Object.keys(spec)) {
    if (!KNOWN_SPEC_FIELDS.has(key))
      findings.warn(`spec.${key} is not a DNSRegistration field; it is ignored`);
  }
  return findings.result();
}

export const dnsRegistrationRules: KindRules<DnsRegistration> = {
  kind: KIND_DNS_REGISTRATION,
  applyDefaults: defaultDnsRegistration,
  validate: validateDnsRegistration,
};
