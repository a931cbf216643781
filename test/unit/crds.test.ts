// The CRDs (SPEC §1): generated YAML up to date, Liqo v0.2's fields all present, our
// additions (status subresource, printer columns, short names, CEL rules) in place, and the
// regular expressions given to CEL agreeing with the rules the webhook applies.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import {
  DEFAULT_DISCOVERY_TYPE,
  DEFAULT_TRUST_MODE,
  DISCOVERY_CONFIG_DEFAULTS,
} from '../../shared/api/constants.js';
import {
  CLUSTER_ID_REGEX,
  CRDS,
  DNS_NAME_REGEX,
  SERVICE_TYPE_REGEX,
  clusterConfigSchema,
  foreignClusterSchema,
  searchDomainSchema,
  type JSONSchemaProps,
} from '../../shared/api/schemas.js';
import {
  checkAuthUrl,
  domainProblem,
  isValidClusterId,
  rulesByKind,
  SERVICE_TYPE_PATTERN,
} from '../../shared/rules/index.js';
import { withSchemaDefaults } from '../../shared/rules/schema-check.js';
import { CRD_DIRECTORY, staleCrdFiles } from '../../scripts/gen-crds.js';

/** The schema node at a dotted path ("spec.clusterIdentity.clusterID"). */
function at(schema: JSONSchemaProps, dotted: string): JSONSchemaProps {
  let node = schema;
  for (const key of dotted.split('.')) {
    const next = node.properties?.[key];
    assert.ok(next, `${dotted}: no ${key}`);
    node = next;
  }
  return node;
}

/** Every schema node with its path, for whole-schema checks. */
function* walk(schema: JSONSchemaProps, where = ''): Generator<[string, JSONSchemaProps]> {
  yield [where, schema];
  for (const [key, child] of Object.entries(schema.properties ?? {}))
    yield* walk(child, where ? `${where}.${key}` : key);
  if (schema.items) yield* walk(schema.items, `${where}[]`);
}

describe('CRDs', () => {
  it('manifests/crds matches shared/api/schemas.ts (run npx tsx scripts/gen-crds.ts after editing)', async () => {
    assert.deepEqual(await staleCrdFiles(), []);
    for (const { fileName, crd } of CRDS) {
      assert.deepEqual(parse(await readFile(path.join(CRD_DIRECTORY, fileName), 'utf8')), crd);
    }
    const kustomization = parse(await readFile(path.join(CRD_DIRECTORY, 'kustomization.yaml'), 'utf8'));
    assert.deepEqual(
      kustomization.resources,
      CRDS.map((c) => c.fileName),
    );
  });

  it('are cluster-scoped, v1alpha1 only (served and storage), with a status subresource', () => {
    assert.deepEqual(
      CRDS.map(({ crd }) => crd.metadata.name),
      [
        'foreignclusters.discovery.liqo.io',
        'searchdomains.discovery.liqo.io',
        'clusterconfigs.config.liqo.io',
        'dnsregistrations.discovery.liqo.io',
      ],
    );
    for (const { crd } of CRDS) {
      assert.equal(crd.apiVersion, 'apiextensions.k8s.io/v1');
      assert.equal(crd.spec.scope, 'Cluster');
      assert.equal(crd.spec.versions.length, 1);
      const [version] = crd.spec.versions;
      assert.deepEqual([version?.name, version?.served, version?.storage], ['v1alpha1', true, true]);
      assert.deepEqual(version?.subresources, { status: {} });
    }
  });

  it('have the printer columns and short names of SPEC §1', () => {
    const columns = (i: number) =>
      CRDS[i]?.crd.spec.versions[0]?.additionalPrinterColumns
        .filter((c) => !c.priority)
        .map((c) => c.name.toUpperCase());
    assert.deepEqual(columns(0), [
      'CLUSTER-ID',
      'CLUSTER-NAME',
      'READY',
      'REASON',
      'JOIN',
      'DISCOVERY',
      'TRUST',
      'AUTH-URL',
      'AGE',
    ]);
    assert.deepEqual(columns(1), ['DOMAIN', 'AUTOJOIN', 'RESOLVED', 'AGE']);
    assert.deepEqual(columns(2), ['DISCOVERY', 'ADVERTISEMENT', 'CLUSTER-NAME', 'AGE']);
    assert.deepEqual(columns(3), ['ZONE', 'SERVER', 'ENABLED', 'REGISTERED', 'REASON', 'AGE']);
    assert.deepEqual(
      CRDS.map(({ crd }) => crd.spec.names.shortNames),
      [['fc'], ['sd'], undefined, ['dnsreg']],
    );
  });

  it("ForeignCluster carries every field of Liqo v0.2's schema, with its enums and defaults", () => {
    for (const field of [
      'authUrl',
      'join',
      'clusterIdentity.clusterID',
      'clusterIdentity.clusterName',
      'namespace',
      'discoveryType',
      'trustMode',
    ]) {
      at(foreignClusterSchema, `spec.${field}`);
    }
    const status = [
      'ttl',
      'authStatus',
      'outgoing.joined',
      'outgoing.remote-peering-request-name',
      'outgoing.advertisement.name',
      'outgoing.availableIdentity',
      'outgoing.identityRef.uid',
      'outgoing.advertisementStatus',
      'incoming.joined',
      'incoming.peeringRequest.name',
      'incoming.availableIdentity',
      'incoming.identityRef.kind',
      'incoming.advertisementStatus',
      'network.localNetworkConfig.available',
      'network.remoteNetworkConfig.reference.name',
      'network.tunnelEndpoint.available',
      'conditions',
    ];
    for (const field of status) at(foreignClusterSchema, `status.${field}`);
    assert.deepEqual(foreignClusterSchema.properties?.spec?.required, ['authUrl']);
    assert.deepEqual(at(foreignClusterSchema, 'spec.discoveryType').enum, [
      'LAN',
      'WAN',
      'Manual',
      'IncomingPeering',
    ]);
    assert.deepEqual(at(foreignClusterSchema, 'spec.trustMode').enum, ['Unknown', 'Trusted', 'Untrusted']);
    assert.deepEqual(at(foreignClusterSchema, 'status.authStatus').enum, [
      'Pending',
      'Accepted',
      'Refused',
      'EmptyRefused',
    ]);
    assert.equal(at(foreignClusterSchema, 'spec.join').default, false);
    assert.equal(at(foreignClusterSchema, 'spec.discoveryType').default, DEFAULT_DISCOVERY_TYPE);
    assert.equal(at(foreignClusterSchema, 'spec.trustMode').default, DEFAULT_TRUST_MODE);
    assert.equal(at(foreignClusterSchema, 'status.ttl').format, 'int32');
  });

  it('SearchDomain has domain (required), an optional autojoin defaulting to false, and our status', () => {
    assert.deepEqual(searchDomainSchema.properties?.spec?.required, ['domain']);
    assert.equal(at(searchDomainSchema, 'spec.autojoin').default, false);
    for (const field of ['lastResolved', 'error', 'clusters']) at(searchDomainSchema, `status.${field}`);
    assert.deepEqual(Object.keys(at(searchDomainSchema, 'status.clusters').items?.properties ?? {}), [
      'clusterId',
      'clusterName',
      'authUrl',
      'foreignCluster',
      'error',
    ]);
  });

  it('ClusterConfig checks only discoveryConfig, requires nothing, preserves the rest', () => {
    const spec = at(clusterConfigSchema, 'spec');
    assert.equal(spec.required, undefined, "Liqo's required sub-configs are not required here");
    assert.equal(spec['x-kubernetes-preserve-unknown-fields'], true);
    for (const part of [
      'advertisementConfig',
      'agentConfig',
      'authConfig',
      'liqonetConfig',
      'dispatcherConfig',
    ]) {
      assert.equal(at(spec, part)['x-kubernetes-preserve-unknown-fields'], true, part);
    }
    const config = at(spec, 'discoveryConfig');
    assert.equal(config.required, undefined);
    assert.deepEqual([at(config, 'port').minimum, at(config, 'port').maximum], [1, 65535]);
    assert.equal(at(config, 'ttl').minimum, 30);
    for (const [key, value] of Object.entries(DISCOVERY_CONFIG_DEFAULTS))
      assert.equal(at(config, key).default, value, key);
  });

  it('fill the same spec defaults as the webhook, so a cluster without it still gets them', () => {
    const minimal: [keyof typeof rulesByKind, Record<string, unknown>][] = [
      ['ForeignCluster', { spec: { authUrl: 'https://10.0.0.1:30740' } }],
      ['SearchDomain', { spec: { domain: 'example.com' } }],
      ['ClusterConfig', {}],
      ['ClusterConfig', { spec: {} }],
      ['ClusterConfig', { spec: { discoveryConfig: { ttl: 120 }, authConfig: { allowEmptyToken: true } } }],
    ];
    for (const [kind, obj] of minimal) {
      const input: Record<string, unknown> = { apiVersion: 'v', kind, metadata: { name: 'x' }, ...obj };
      const bySchema = withSchemaDefaults(kind, input);
      const byRules = rulesByKind[kind].applyDefaults(input) as Record<string, unknown>;
      assert.deepEqual(bySchema.spec, byRules.spec, kind);
      assert.notDeepEqual(bySchema.spec, input.spec, 'defaults were filled');
    }
  });

  it('has CEL rules for the simple invariants, each message naming its field', () => {
    const rules = (schema: JSONSchemaProps, field: string) =>
      at(schema, field)['x-kubernetes-validations'] ?? [];
    const authUrl = rules(foreignClusterSchema, 'spec.authUrl');
    assert.deepEqual(
      authUrl.map((r) => r.rule),
      ['size(self) > 0', "size(self) == 0 || self.matches('^(?i)https://[^/?#@]+(/)?$')"],
    );
    const transition = rules(foreignClusterSchema, 'spec');
    assert.equal(transition.length, 1);
    assert.match(transition[0]?.rule ?? '', /oldSelf\.clusterIdentity\.clusterID/);
    assert.equal(transition[0]?.fieldPath, '.clusterIdentity.clusterID');
    assert.match(rules(searchDomainSchema, 'spec.domain')[0]?.rule ?? '', /self\.matches/);
    assert.match(rules(clusterConfigSchema, 'spec.discoveryConfig.domain')[0]?.rule ?? '', /self\.matches/);
    for (const schema of [foreignClusterSchema, searchDomainSchema, clusterConfigSchema]) {
      for (const [where, node] of walk(schema)) {
        for (const rule of node['x-kubernetes-validations'] ?? []) {
          assert.match(rule.message, /^spec\.[A-Za-z.]+ (must|cannot)/, `${where}: ${rule.message}`);
          assert.doesNotMatch(rule.rule, /\\/, 'no backslashes: CEL and YAML escaping would differ');
          // the API server estimates CEL cost from maxLength; unbounded strings blow the budget
          if (node.type === 'string') assert.ok(node.maxLength, `${where} has CEL but no maxLength`);
        }
      }
    }
    assert.ok(
      at(foreignClusterSchema, 'spec.clusterIdentity.clusterID').maxLength,
      'the transition rule compares it',
    );
  });
});

describe('CRDs: the CEL and schema patterns agree with the rules', () => {
  /** What the API server would say of a domain: the CEL rule, run here with JavaScript's RegExp. */
  function celAcceptsDomain(domain: string): boolean {
    return (
      domain.length <= 254 &&
      new RegExp(DNS_NAME_REGEX).test(domain) &&
      (domain.length <= 253 || domain.endsWith('.')) &&
      !/^[0-9.]+$/.test(domain)
    );
  }

  it('domains: CEL accepts exactly what the rules accept', () => {
    const label = fc.stringMatching(/^[a-z0-9_-]{0,64}$/);
    const domain = fc.oneof(
      fc.domain(),
      fc
        .array(label, { minLength: 1, maxLength: 6 })
        .chain((labels) => fc.constantFrom(labels.join('.'), `${labels.join('.')}.`)),
      fc.string(),
      fc.constantFrom(
        '.',
        '',
        '1.2.3.4',
        `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`,
        '_liqo._tcp.example.com',
      ),
    );
    fc.assert(
      fc.property(domain, (d) =>
        assert.equal(celAcceptsDomain(d), domainProblem(d) === undefined, JSON.stringify(d)),
      ),
      { numRuns: 2000 },
    );
  });

  it('authService pattern and cluster-id pattern match the rules', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.constantFrom('_liqo_auth._tcp', '_liqo._tcp', '_-a._tcp', '_a-._udp')),
        (s) => {
          assert.equal(new RegExp(SERVICE_TYPE_REGEX).test(s), SERVICE_TYPE_PATTERN.test(s), s);
        },
      ),
    );
    fc.assert(
      fc.property(
        fc.oneof(fc.uuid(), fc.string({ maxLength: 70 }), fc.stringMatching(/^[a-zA-Z0-9._-]{0,64}$/)),
        (s) => {
          const schemaAccepts = s.length >= 1 && s.length <= 63 && new RegExp(CLUSTER_ID_REGEX).test(s);
          assert.equal(schemaAccepts, isValidClusterId(s), s);
        },
      ),
    );
  });

  it('authUrl: every URL the rules accept passes the CEL rules (the webhook is the stricter)', () => {
    const celAccepts = (url: string) =>
      url.length > 0 && url.length <= 2048 && /^https:\/\/[^/?#@]+(\/)?$/i.test(url);
    fc.assert(
      fc.property(
        fc.oneof(fc.webUrl(), fc.string(), fc.constantFrom('HTTPS://A.example:443/', 'https://[::1]:1')),
        (url) => {
          if (checkAuthUrl(url, { allowLoopback: true }).problems.length === 0)
            assert.ok(celAccepts(url), url);
        },
      ),
      { numRuns: 2000 },
    );
    for (const refused of [
      '',
      'http://a.example',
      'https://',
      'https://u@a.example',
      'https://a.example/ids',
      'https://a.example?x',
      'ftp://x',
    ]) {
      assert.equal(celAccepts(refused), false, refused);
    }
  });
});
