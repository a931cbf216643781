// SearchDomain defaulting and validation (SPEC §1, §4). Pure; one SearchDomain per domain is
// the uniqueness rule in uniqueness.ts.
import { DEFAULT_SEARCH_DOMAIN_AUTOJOIN } from '../api/constants.js';
import { DNS_DOMAIN_ACCEPTED, dnsNameProblem, looksLikeIPv4, withoutTrailingDot } from './dns-name.js';
import {
  cloneJson,
  describeValue,
  expectBoolean,
  expectString,
  Findings,
  isAbsent,
  isPlainObject,
  ownValue,
  setOwn,
  requireObjectSpec,
} from './object.js';
import type { RuleOptions, ValidationResult } from './types.js';

/** Fills `autojoin: false` (Liqo required it; SPEC's Decision makes it optional). */
export function defaultSearchDomain<T>(obj: T, _old?: T): T {
  const copy = cloneJson(obj);
  if (!isPlainObject(copy)) return copy;
  const spec = ownValue(copy, 'spec');
  if (!isPlainObject(spec)) return copy;
  if (isAbsent(ownValue(spec, 'autojoin'))) setOwn(spec, 'autojoin', DEFAULT_SEARCH_DOMAIN_AUTOJOIN);
  return copy;
}

/** What is wrong with `domain` as a domain to search, or undefined. Shared with ClusterConfig. */
export function domainProblem(domain: string): string | undefined {
  const problem = dnsNameProblem(domain, { allowUnderscore: true });
  if (problem) return problem;
  if (looksLikeIPv4(withoutTrailingDot(domain))) return 'is an IP address, not a DNS domain';
  return undefined;
}

/** A domain as DNS compares names: case-insensitive, trailing dots ignored; undefined when empty. */
export function domainKey(domain: string): string | undefined {
  const key = domain.trim().toLowerCase().replace(/\.+$/, '');
  return key === '' ? undefined : key;
}

/** The same DNS name written two ways ("Example.com." and "example.com")? */
export function sameDomain(a: string, b: string): boolean {
  return domainKey(a) === domainKey(b);
}

/** Field errors and warnings for a SearchDomain. */
export function validateSearchDomain(
  obj: unknown,
  _old?: unknown,
  _options: RuleOptions = {},
): ValidationResult {
  const findings = new Findings();
  const spec = requireObjectSpec(
    findings,
    obj,
    'SearchDomain',
    'an object with domain (and optionally autojoin)',
  );
  if (!spec) return findings.result();
  const domain = ownValue(spec, 'domain');
  if (isAbsent(domain)) {
    findings.error('spec.domain', 'is required', DNS_DOMAIN_ACCEPTED);
  } else if (expectString(findings, 'spec.domain', domain, DNS_DOMAIN_ACCEPTED)) {
    const problem = domainProblem(domain);
    if (problem) findings.error('spec.domain', `${describeValue(domain)} ${problem}`, DNS_DOMAIN_ACCEPTED);
    else {
      const name = ownValue(ownValue(obj, 'metadata'), 'name');
      if (typeof name === 'string' && name !== '' && !sameDomain(name, domain)) {
        findings.warn(
          `metadata.name ${describeValue(name)} differs from spec.domain ${describeValue(domain)}`,
        );
      }
      const bare = withoutTrailingDot(domain).toLowerCase();
      if (bare === 'local' || bare.endsWith('.local')) {
        findings.warn(
          `spec.domain ${describeValue(domain)} is mDNS-only (.local); SearchDomains use unicast DNS`,
        );
      }
    }
  }
  const autojoin = ownValue(spec, 'autojoin');
  if (!isAbsent(autojoin)) expectBoolean(findings, 'spec.autojoin', autojoin);
  return findings.result();
}
