// ClusterConfig defaulting and validation (SPEC §1, §4). Only spec.discoveryConfig is ours;
// every other part of the spec (Liqo's authConfig, liqonetConfig, ...) passes untouched.
import {
  CLUSTER_CONFIG_NAME,
  DISCOVERY_CONFIG_DEFAULTS,
  MAX_DISCOVERY_TTL,
  MDNS_SERVICE_LIQO_V02,
  MDNS_SERVICE_RFC,
  MIN_DISCOVERY_TTL,
} from '../api/constants.js';
import { DNS_DOMAIN_ACCEPTED, withoutTrailingDot } from './dns-name.js';
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
  type PlainObject,
} from './object.js';
import { domainProblem } from './searchdomain.js';
import type { RuleOptions, ValidationResult } from './types.js';

/** A DNS-SD service type: "_<name>._tcp" (Liqo v0.2's "_liqo_auth" has an underscore inside). */
export const SERVICE_TYPE_PATTERN = /^_[A-Za-z0-9]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\._(tcp|udp)$/;
const SERVICE_TYPE_ACCEPTED = `a DNS-SD service type such as ${MDNS_SERVICE_RFC} or ${MDNS_SERVICE_LIQO_V02}`;

const BOOLEAN_FIELDS = ['enableDiscovery', 'enableAdvertisement', 'autojoin', 'autojoinUntrusted'] as const;
const STRING_FIELDS = ['clusterName', 'name', 'service', 'authServiceAddress'] as const;
/** Every field Liqo v0.2 and v0.2.1 define in discoveryConfig; others are warned about. */
const KNOWN_FIELDS = new Set<string>([
  ...BOOLEAN_FIELDS,
  ...STRING_FIELDS,
  'authService',
  'domain',
  'ttl',
  'port',
  'authServicePort',
]);

/** Fills every absent discoveryConfig field from DISCOVERY_CONFIG_DEFAULTS. */
export function defaultClusterConfig<T>(obj: T, _old?: T): T {
  const copy = cloneJson(obj);
  if (!isPlainObject(copy)) return copy;
  let spec = ownValue(copy, 'spec');
  if (isAbsent(spec)) {
    spec = {};
    setOwn(copy, 'spec', spec);
  }
  if (!isPlainObject(spec)) return copy;
  let config = ownValue(spec, 'discoveryConfig');
  if (isAbsent(config)) {
    config = {};
    setOwn(spec, 'discoveryConfig', config);
  }
  if (!isPlainObject(config)) return copy;
  for (const [key, value] of Object.entries(DISCOVERY_CONFIG_DEFAULTS)) {
    if (isAbsent(ownValue(config, key))) setOwn(config, key, value);
  }
  return copy;
}

function checkInteger(findings: Findings, field: string, value: unknown, min: number, max: number): void {
  const accepted = `a whole number from ${min} to ${max}`;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    findings.error(field, `must be a whole number, got ${describeValue(value)}`, accepted);
  } else if (value < min || value > max) {
    findings.error(field, `${value} is out of range`, accepted);
  }
}

function validateDiscoveryConfig(findings: Findings, config: PlainObject): void {
  const at = (key: string): string => `spec.discoveryConfig.${key}`;
  for (const key of BOOLEAN_FIELDS) {
    const value = ownValue(config, key);
    if (!isAbsent(value)) expectBoolean(findings, at(key), value);
  }
  for (const key of STRING_FIELDS) {
    const value = ownValue(config, key);
    if (!isAbsent(value)) expectString(findings, at(key), value, 'a string');
  }
  const authService = ownValue(config, 'authService');
  if (
    !isAbsent(authService) &&
    expectString(findings, at('authService'), authService, SERVICE_TYPE_ACCEPTED)
  ) {
    if (!SERVICE_TYPE_PATTERN.test(authService)) {
      findings.error(
        at('authService'),
        `${describeValue(authService)} is not a service type`,
        SERVICE_TYPE_ACCEPTED,
      );
    } else if (authService !== MDNS_SERVICE_LIQO_V02 && authService !== MDNS_SERVICE_RFC) {
      findings.warn(
        `${at('authService')} ${describeValue(authService)}: peers browse only ${MDNS_SERVICE_LIQO_V02}, ${MDNS_SERVICE_RFC}`,
      );
    }
  }
  const domain = ownValue(config, 'domain');
  if (!isAbsent(domain) && expectString(findings, at('domain'), domain, DNS_DOMAIN_ACCEPTED)) {
    const problem = domainProblem(domain);
    if (problem)
      findings.error(
        at('domain'),
        `${describeValue(domain)} ${problem}`,
        `${DNS_DOMAIN_ACCEPTED}; normally local.`,
      );
    else if (withoutTrailingDot(domain).toLowerCase() !== 'local') {
      findings.warn(`${at('domain')} ${describeValue(domain)}: mDNS works only in the "local." domain`);
    }
  }
  const ttl = ownValue(config, 'ttl');
  if (!isAbsent(ttl)) checkInteger(findings, at('ttl'), ttl, MIN_DISCOVERY_TTL, MAX_DISCOVERY_TTL);
  const port = ownValue(config, 'port');
  if (!isAbsent(port)) checkInteger(findings, at('port'), port, 1, 65535);
  const authServicePort = ownValue(config, 'authServicePort');
  if (
    !isAbsent(authServicePort) &&
    expectString(findings, at('authServicePort'), authServicePort, 'a port "1".."65535"')
  ) {
    const value = Number(authServicePort);
    const isPort = /^[0-9]+$/.test(authServicePort) && value >= 1 && value <= 65535;
    if (authServicePort !== '' && !isPort) {
      findings.error(
        at('authServicePort'),
        `${describeValue(authServicePort)} is not a port`,
        'a port "1".."65535" (a string)',
      );
    }
  }
  for (const key of Object.keys(config)) {
    if (!KNOWN_FIELDS.has(key)) findings.warn(`${at(key)} is not a discoveryConfig field; it is ignored`);
  }
}

/** Field errors and warnings for a ClusterConfig (its discoveryConfig only). */
export function validateClusterConfig(
  obj: unknown,
  _old?: unknown,
  _options: RuleOptions = {},
): ValidationResult {
  const findings = new Findings();
  if (!isPlainObject(obj)) {
    findings.error('(object)', `must be a ClusterConfig object, got ${describeValue(obj)}`, 'a JSON object');
    return findings.result();
  }
  const name = ownValue(ownValue(obj, 'metadata'), 'name');
  if (typeof name === 'string' && name !== CLUSTER_CONFIG_NAME) {
    findings.warn(
      `metadata.name ${describeValue(name)}: our tools read only the ClusterConfig "${CLUSTER_CONFIG_NAME}"`,
    );
  }
  const spec = ownValue(obj, 'spec');
  if (isAbsent(spec)) return findings.result();
  if (!isPlainObject(spec)) {
    findings.error('spec', `must be an object, got ${describeValue(spec)}`, 'an object');
    return findings.result();
  }
  const config = ownValue(spec, 'discoveryConfig');
  if (isAbsent(config)) return findings.result();
  if (!isPlainObject(config)) {
    findings.error('spec.discoveryConfig', `must be an object, got ${describeValue(config)}`, 'an object');
    return findings.result();
  }
  validateDiscoveryConfig(findings, config);
  return findings.result();
}
