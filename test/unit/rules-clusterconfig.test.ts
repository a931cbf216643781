// ClusterConfig defaulting and validation: only spec.discoveryConfig is ours (SPEC §1, §4).
import assert from 'node:assert/strict';
import { DISCOVERY_CONFIG_DEFAULTS } from '../../shared/api/constants.js';
import { defaultClusterConfig, formatFieldError, validateClusterConfig } from '../../shared/rules/index.js';

function cc(spec: unknown, name = 'liqo-configuration'): Record<string, unknown> {
  const obj: Record<string, unknown> = {
    apiVersion: 'config.liqo.io/v1alpha1',
    kind: 'ClusterConfig',
    metadata: { name },
  };
  if (spec !== undefined) obj.spec = spec;
  return obj;
}
const errorLines = (obj: unknown): string[] => validateClusterConfig(obj).errors.map(formatFieldError);

describe('rules: ClusterConfig defaulting', () => {
  it('makes a working discoveryConfig from nothing', () => {
    assert.deepEqual(
      defaultClusterConfig(cc(undefined)),
      cc({ discoveryConfig: { ...DISCOVERY_CONFIG_DEFAULTS } }),
    );
    assert.deepEqual(defaultClusterConfig(cc({})), cc({ discoveryConfig: { ...DISCOVERY_CONFIG_DEFAULTS } }));
  });

  it('keeps what is set and every other part of the spec untouched', () => {
    const liqoParts = {
      authConfig: { allowEmptyToken: true },
      liqonetConfig: { podCIDR: '10.244.0.0/16', reservedSubnets: ['10.1.0.0/16'] },
      advertisementConfig: {
        ingoingConfig: { acceptPolicy: 'AutoAcceptMax', maxAcceptableAdvertisement: 5 },
      },
    };
    const input = cc({
      ...liqoParts,
      discoveryConfig: { enableDiscovery: false, ttl: 120, clusterName: 'home' },
    });
    const frozen = structuredClone(input);
    const out = defaultClusterConfig(input);
    assert.deepEqual(
      out,
      cc({
        ...liqoParts,
        discoveryConfig: {
          ...DISCOVERY_CONFIG_DEFAULTS,
          enableDiscovery: false,
          ttl: 120,
          clusterName: 'home',
        },
      }),
    );
    assert.deepEqual(input, frozen);
  });

  it('leaves a spec or discoveryConfig of the wrong type for validation', () => {
    assert.deepEqual(defaultClusterConfig(cc('x')), cc('x'));
    assert.deepEqual(defaultClusterConfig(cc({ discoveryConfig: [1] })), cc({ discoveryConfig: [1] }));
  });
});

describe('rules: ClusterConfig validation', () => {
  it('accepts the defaults, a minimal object and one without spec', () => {
    assert.deepEqual(validateClusterConfig(defaultClusterConfig(cc({}))), { errors: [], warnings: [] });
    assert.deepEqual(validateClusterConfig(cc(undefined)), { errors: [], warnings: [] });
    assert.deepEqual(validateClusterConfig(cc({ discoveryConfig: { enableDiscovery: false } })), {
      errors: [],
      warnings: [],
    });
  });

  it('checks ranges: port 1-65535 (not 65355), ttl 30-86400', () => {
    const at = (discoveryConfig: Record<string, unknown>) => errorLines(cc({ discoveryConfig }));
    assert.deepEqual(at({ port: 65535 }), []);
    assert.deepEqual(at({ port: 65356 }), [], "Liqo's typo 65355 is not our maximum");
    assert.deepEqual(at({ port: 65536 }), [
      'spec.discoveryConfig.port: 65536 is out of range (accepted: a whole number from 1 to 65535)',
    ]);
    assert.deepEqual(at({ port: 0 }), [
      'spec.discoveryConfig.port: 0 is out of range (accepted: a whole number from 1 to 65535)',
    ]);
    assert.deepEqual(at({ port: '6443' }), [
      'spec.discoveryConfig.port: must be a whole number, got "6443" (accepted: a whole number from 1 to 65535)',
    ]);
    assert.deepEqual(at({ ttl: 30 }), []);
    assert.deepEqual(at({ ttl: 29 }), [
      'spec.discoveryConfig.ttl: 29 is out of range (accepted: a whole number from 30 to 86400)',
    ]);
    assert.deepEqual(at({ ttl: 86401 }), [
      'spec.discoveryConfig.ttl: 86401 is out of range (accepted: a whole number from 30 to 86400)',
    ]);
    assert.deepEqual(at({ ttl: 90.5 }), [
      'spec.discoveryConfig.ttl: must be a whole number, got 90.5 (accepted: a whole number from 30 to 86400)',
    ]);
  });

  it('checks the types of the flags and strings', () => {
    const lines = errorLines(
      cc({
        discoveryConfig: {
          enableDiscovery: 'true',
          enableAdvertisement: 1,
          autojoin: null,
          autojoinUntrusted: [],
          clusterName: 5,
          name: {},
          service: false,
        },
      }),
    );
    assert.deepEqual(lines, [
      'spec.discoveryConfig.enableDiscovery: must be true or false, got "true" (accepted: true or false)',
      'spec.discoveryConfig.enableAdvertisement: must be true or false, got 1 (accepted: true or false)',
      'spec.discoveryConfig.autojoinUntrusted: must be true or false, got a list (accepted: true or false)',
      'spec.discoveryConfig.clusterName: must be a string, got 5 (accepted: a string)',
      'spec.discoveryConfig.name: must be a string, got an object (accepted: a string)',
      'spec.discoveryConfig.service: must be a string, got false (accepted: a string)',
    ]);
  });

  it('checks authService is a DNS-SD service type and warns about one no peer browses', () => {
    for (const good of ['_liqo_auth._tcp', '_liqo._tcp']) {
      assert.deepEqual(validateClusterConfig(cc({ discoveryConfig: { authService: good } })), {
        errors: [],
        warnings: [],
      });
    }
    for (const bad of ['liqo._tcp', '_liqo', '_liqo._sctp', '_._tcp', '_liqo._tcp.local.']) {
      assert.match(
        errorLines(cc({ discoveryConfig: { authService: bad } }))[0] ?? '',
        /authService: ".*" is not a service type \(accepted: a DNS-SD service type such as _liqo\._tcp/,
        bad,
      );
    }
    assert.deepEqual(
      validateClusterConfig(cc({ discoveryConfig: { authService: '_other._tcp' } })).warnings,
      ['spec.discoveryConfig.authService "_other._tcp": peers browse only _liqo_auth._tcp, _liqo._tcp'],
    );
  });

  it('checks the mDNS domain and warns when it is not local.', () => {
    assert.deepEqual(validateClusterConfig(cc({ discoveryConfig: { domain: 'local' } })), {
      errors: [],
      warnings: [],
    });
    assert.match(
      errorLines(cc({ discoveryConfig: { domain: 'lo cal' } }))[0] ?? '',
      /^spec\.discoveryConfig\.domain: "lo cal" has label/,
    );
    assert.deepEqual(validateClusterConfig(cc({ discoveryConfig: { domain: 'example.com' } })).warnings, [
      'spec.discoveryConfig.domain "example.com": mDNS works only in the "local." domain',
    ]);
  });

  it("checks Liqo v0.2.1's authServicePort and warns about unknown fields", () => {
    assert.deepEqual(
      errorLines(cc({ discoveryConfig: { authServicePort: '443', authServiceAddress: 'auth.example.com' } })),
      [],
    );
    assert.match(
      errorLines(cc({ discoveryConfig: { authServicePort: '99999' } }))[0] ?? '',
      /authServicePort: "99999" is not a port/,
    );
    assert.deepEqual(validateClusterConfig(cc({ discoveryConfig: { enableDiscvery: true } })).warnings, [
      'spec.discoveryConfig.enableDiscvery is not a discoveryConfig field; it is ignored',
    ]);
  });

  it('warns when the object is not liqo-configuration', () => {
    assert.deepEqual(validateClusterConfig(cc({}, 'other')).warnings, [
      'metadata.name "other": our tools read only the ClusterConfig "liqo-configuration"',
    ]);
  });

  it('reports a wrong spec or discoveryConfig shape', () => {
    assert.deepEqual(errorLines(cc(3)), ['spec: must be an object, got 3 (accepted: an object)']);
    assert.deepEqual(errorLines(cc({ discoveryConfig: 'on' })), [
      'spec.discoveryConfig: must be an object, got "on" (accepted: an object)',
    ]);
    assert.match(errorLines(null)[0] ?? '', /^\(object\): must be a ClusterConfig object, got null/);
  });
});
