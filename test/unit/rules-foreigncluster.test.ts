// ForeignCluster defaulting and validation (SPEC §1, §4).
import assert from 'node:assert/strict';
import { LABEL_CLUSTER_ID, LABEL_DISCOVERY_TYPE, LABEL_SEARCH_DOMAIN } from '../../shared/api/constants.js';
import { defaultForeignCluster, formatFieldError, validateForeignCluster } from '../../shared/rules/index.js';

const ID = '0558de48-097b-4b7d-ba04-6bd2a0f9d24f';

function fc(
  spec: unknown,
  metadata: Record<string, unknown> = { name: 'my-cluster' },
): Record<string, unknown> {
  return { apiVersion: 'discovery.liqo.io/v1alpha1', kind: 'ForeignCluster', metadata, spec };
}

function errorLines(obj: unknown, old?: unknown, allowLoopback = false): string[] {
  return validateForeignCluster(obj, old, { allowLoopback }).errors.map(formatFieldError);
}

describe('rules: ForeignCluster defaulting', () => {
  it("defaults the guide's example and keeps the labels equal to the spec", () => {
    const input = fc({ join: true, authUrl: 'https://192.168.1.10:30740/' });
    const frozen = structuredClone(input);
    assert.deepEqual(defaultForeignCluster(input), {
      ...input,
      metadata: { name: 'my-cluster', labels: { [LABEL_DISCOVERY_TYPE]: 'Manual' } },
      spec: {
        join: true,
        authUrl: 'https://192.168.1.10:30740',
        discoveryType: 'Manual',
        trustMode: 'Unknown',
      },
    });
    assert.deepEqual(input, frozen, 'the input is not mutated');
  });

  it('fills join, discoveryType and trustMode only when absent or null', () => {
    const out = defaultForeignCluster(
      fc({ authUrl: 'https://a.example:443', join: null, discoveryType: 'LAN', trustMode: 'Trusted' }),
    );
    assert.deepEqual(out.spec, {
      authUrl: 'https://a.example:443',
      join: false,
      discoveryType: 'LAN',
      trustMode: 'Trusted',
    });
  });

  it('sets the cluster-id label from clusterIdentity and overwrites a stale one', () => {
    const out = defaultForeignCluster(
      fc(
        { authUrl: 'https://a.example', discoveryType: 'WAN', clusterIdentity: { clusterID: ID } },
        {
          name: ID,
          labels: {
            [LABEL_CLUSTER_ID]: 'stale',
            [LABEL_DISCOVERY_TYPE]: 'LAN',
            [LABEL_SEARCH_DOMAIN]: 'example.com',
            app: 'x',
          },
        },
      ),
    );
    assert.deepEqual(out.metadata, {
      name: ID,
      labels: {
        [LABEL_CLUSTER_ID]: ID,
        [LABEL_DISCOVERY_TYPE]: 'WAN',
        [LABEL_SEARCH_DOMAIN]: 'example.com',
        app: 'x',
      },
    });
  });

  it('removes a cluster-id label when the spec has no cluster id', () => {
    const out = defaultForeignCluster(
      fc({ authUrl: 'https://a.example' }, { name: 'x', labels: { [LABEL_CLUSTER_ID]: 'old' } }),
    );
    assert.deepEqual(out.metadata, { name: 'x', labels: { [LABEL_DISCOVERY_TYPE]: 'Manual' } });
  });

  it('leaves the label alone when the cluster id cannot be a label value (validation reports it)', () => {
    const out = defaultForeignCluster(
      fc({ authUrl: 'https://a.example', clusterIdentity: { clusterID: 'has space' } }),
    );
    assert.deepEqual(out.metadata, { name: 'my-cluster', labels: { [LABEL_DISCOVERY_TYPE]: 'Manual' } });
  });

  it('never touches status, annotations or unknown fields', () => {
    const input = fc(
      {
        authUrl: 'https://a.example:443',
        join: false,
        discoveryType: 'Manual',
        trustMode: 'Unknown',
        extra: { a: [1] },
      },
      { name: 'x', annotations: { LastUpdate: '1' }, labels: { [LABEL_DISCOVERY_TYPE]: 'Manual' } },
    );
    input.status = { outgoing: { joined: true, 'remote-peering-request-name': 'n' }, ttl: 90 };
    assert.deepEqual(defaultForeignCluster(input), input);
  });

  it('returns odd shapes unchanged for validation to report', () => {
    for (const odd of [
      null,
      42,
      'x',
      [],
      fc('not an object'),
      fc([1, 2]),
      { metadata: { name: 'no-spec' } },
    ]) {
      assert.deepEqual(defaultForeignCluster(odd), odd);
    }
    // a bad metadata or authUrl does not stop the other defaults, and is itself left alone
    assert.deepEqual(defaultForeignCluster({ spec: { authUrl: 5 }, metadata: 'bad' }), {
      spec: { authUrl: 5, join: false, discoveryType: 'Manual', trustMode: 'Unknown' },
      metadata: 'bad',
    });
  });
});

describe('rules: ForeignCluster validation', () => {
  it('accepts the defaulted guide example without warnings', () => {
    const obj = defaultForeignCluster(fc({ join: true, authUrl: 'https://192.168.1.10:30740' }));
    assert.deepEqual(validateForeignCluster(obj), { errors: [], warnings: [] });
  });

  it('requires spec and spec.authUrl', () => {
    assert.deepEqual(errorLines({ metadata: { name: 'x' } }), [
      'spec: is required (accepted: an object with at least authUrl)',
    ]);
    assert.match(
      errorLines(fc({ join: true }))[0] ?? '',
      /^spec\.authUrl: is required \(accepted: https:\/\//,
    );
    assert.match(errorLines(fc({ authUrl: '' }))[0] ?? '', /^spec\.authUrl: is empty/);
    assert.match(errorLines(fc({ authUrl: 42 }))[0] ?? '', /^spec\.authUrl: must be a string, got 42/);
  });

  it('names the field and what is accepted for each wrong type or value', () => {
    const lines = errorLines(
      fc({
        authUrl: 'https://a.example',
        join: 'yes',
        discoveryType: 'Lan',
        trustMode: 3,
        namespace: 'Liqo_NS',
      }),
    );
    assert.deepEqual(lines, [
      'spec.join: must be true or false, got "yes" (accepted: true or false)',
      'spec.discoveryType: "Lan" is not one of the allowed values (accepted: one of LAN, WAN, Manual, IncomingPeering)',
      'spec.trustMode: 3 is not one of the allowed values (accepted: one of Unknown, Trusted, Untrusted)',
      'spec.namespace: "Liqo_NS" is not a namespace name (accepted: a namespace name: at most 63 lower-case letters, digits and \'-\', such as liqo)',
    ]);
  });

  it('refuses a link-local authUrl, naming the field and the address', () => {
    assert.deepEqual(errorLines(fc({ authUrl: 'https://169.254.169.254' })), [
      'spec.authUrl: host "169.254.169.254" is a link-local address (169.254.0.0/16, fe80::/10; cloud metadata lives there) ' +
        '(accepted: a host other clusters can reach: a LAN or public IP or DNS name (not loopback, link-local, unspecified, multicast))',
    ]);
  });

  it('allows loopback only with allowLoopback, with a warning', () => {
    const obj = fc({ authUrl: 'https://127.0.0.1:8443' });
    assert.equal(errorLines(obj).length, 1);
    const allowed = validateForeignCluster(obj, undefined, { allowLoopback: true });
    assert.deepEqual(allowed.errors, []);
    assert.deepEqual(allowed.warnings, [
      'spec.authUrl: host "127.0.0.1" is loopback: allowed only because loopback is enabled (sandbox)',
    ]);
  });

  it('checks clusterIdentity', () => {
    assert.deepEqual(errorLines(fc({ authUrl: 'https://a.example', clusterIdentity: 'x' })), [
      'spec.clusterIdentity: must be an object, got "x" (accepted: {clusterID, clusterName})',
    ]);
    assert.match(
      errorLines(fc({ authUrl: 'https://a.example', clusterIdentity: {} }))[0] ?? '',
      /^spec\.clusterIdentity\.clusterID: is required/,
    );
    assert.match(
      errorLines(fc({ authUrl: 'https://a.example', clusterIdentity: { clusterID: '' } }))[0] ?? '',
      /clusterID: is empty/,
    );
    assert.match(
      errorLines(fc({ authUrl: 'https://a.example', clusterIdentity: { clusterID: 'x'.repeat(64) } }))[0] ??
        '',
      /is 64 characters long; at most 63 \(accepted: a lower-case UUID \(as Liqo makes them\) or a DNS-1123 label/,
    );
    // a label value the CRD schema takes, but not an object name: refused since the security rules
    for (const [id, why] of [
      ['Cluster_A', /"Cluster_A" has characters other than lower-case letters, digits and '-'/],
      ['0558DE48-097B-4B7D-BA04-6BD2A0F9D24F', /is a UUID with upper-case letters/],
      ['Cluster-A', /"Cluster-A" has upper-case letters/],
      ['a.b', /"a\.b" has characters other than/],
    ] as const) {
      assert.match(
        errorLines(fc({ authUrl: 'https://a.example', clusterIdentity: { clusterID: id } }))[0] ?? '',
        why,
        id,
      );
    }
    assert.match(
      errorLines(
        fc({ authUrl: 'https://a.example', clusterIdentity: { clusterID: ID, clusterName: 7 } }),
      )[0] ?? '',
      /^spec\.clusterIdentity\.clusterName: must be a string/,
    );
    assert.deepEqual(
      errorLines(
        fc({
          authUrl: 'https://a.example',
          clusterIdentity: { clusterID: ID, clusterName: 'LiqoCluster0692' },
        }),
      ),
      [],
    );
  });

  it('refuses changing or removing clusterID once set, but lets it be set the first time', () => {
    const old = fc({ authUrl: 'https://a.example', clusterIdentity: { clusterID: ID } });
    const changed = fc({ authUrl: 'https://a.example', clusterIdentity: { clusterID: 'other-id' } });
    assert.deepEqual(errorLines(changed, old), [
      `spec.clusterIdentity.clusterID: cannot change once set (was "${ID}", now "other-id") ` +
        '(accepted: the same cluster id; create a new ForeignCluster for another cluster)',
    ]);
    assert.match(
      errorLines(fc({ authUrl: 'https://a.example' }), old)[0] ?? '',
      /clusterID: cannot be removed once set/,
    );
    assert.deepEqual(errorLines(old, fc({ authUrl: 'https://a.example' })), [], 'first set');
    assert.deepEqual(errorLines(old, old), [], 'unchanged');
    assert.deepEqual(
      errorLines(changed, fc({ authUrl: 'https://a.example', clusterIdentity: { clusterID: '' } })),
      [],
    );
  });

  it('refuses labels that disagree with the spec (the defaulter fixes them)', () => {
    const obj = fc(
      { authUrl: 'https://a.example', discoveryType: 'LAN', clusterIdentity: { clusterID: ID } },
      { name: 'x', labels: { [LABEL_CLUSTER_ID]: 'other', [LABEL_DISCOVERY_TYPE]: 'WAN' } },
    );
    assert.deepEqual(
      errorLines(obj).map((line) => line.split(':')[0]),
      [`metadata.labels[${LABEL_CLUSTER_ID}]`, `metadata.labels[${LABEL_DISCOVERY_TYPE}]`],
    );
    assert.deepEqual(errorLines(defaultForeignCluster(obj)), []);
  });

  it('reports a non-object object, metadata or labels instead of throwing', () => {
    assert.deepEqual(errorLines('x'), [
      '(object): must be a ForeignCluster object, got "x" (accepted: a JSON object)',
    ]);
    assert.deepEqual(
      errorLines(fc({ authUrl: 'https://a.example' }, 'meta' as unknown as Record<string, unknown>)),
      ['metadata: must be an object, got "meta" (accepted: an object)'],
    );
    assert.deepEqual(errorLines(fc({ authUrl: 'https://a.example' }, { labels: [1] })), [
      'metadata.labels: must be an object, got a list (accepted: a map of strings)',
    ]);
  });
});
