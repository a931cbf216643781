// SearchDomains and ClusterConfig through the real kube-apiserver and webhook, with the guide's
// commands pasted into a shell as a user would.
import assert from 'node:assert/strict';
import {
  CLUSTER_CONFIG_NAME,
  DISCOVERY_CONFIG_DEFAULTS,
  PLURAL_CLUSTER_CONFIGS,
  PLURAL_SEARCH_DOMAINS,
} from '../../shared/api/constants.js';
import type { ClusterConfig, SearchDomain } from '../../shared/api/types.js';
import type { LiqoEnvironment } from '../harness/liqo-environment.js';
import { apply, getObject, liqoEnvironment, resetLiqoObjects } from './setup.js';

// The guide's heredoc. Its web copy lost the YAML indentation, restored here; and its
// `kubectl apply -f` lacks the `-` that reads stdin (kubectl then refuses: see the first test).
const guideSearchDomainBody = `apiVersion: discovery.liqo.io/v1alpha1
kind: SearchDomain
metadata:
  name: example.com
spec:
  domain: example.com
  autojoin: true
EOF`;
const guideSearchDomainAsPrinted = `cat << "EOF" | kubectl apply -f\n${guideSearchDomainBody}`;
const guideSearchDomainWithStdin = `cat << "EOF" | kubectl apply -f -\n${guideSearchDomainBody}`;

// The guide's two commands, verbatim (line continuations included).
const guideEnableDiscovery = `kubectl patch clusterconfigs liqo-configuration \\
--patch '{"spec":{"discoveryConfig":{"enableDiscovery": true, "enableAdvertisement": true}}}' \\
--type 'merge'`;
const guideDisableDiscovery = `kubectl patch clusterconfigs liqo-configuration \\
--patch '{"spec":{"discoveryConfig":{"enableDiscovery": false, "enableAdvertisement": false}}}' \\
--type 'merge'`;

function searchDomain(name: string, domain: string): string {
  return JSON.stringify({
    apiVersion: 'discovery.liqo.io/v1alpha1',
    kind: 'SearchDomain',
    metadata: { name },
    spec: { domain },
  });
}

describe('e2e: SearchDomain and ClusterConfig admission', function () {
  let env: LiqoEnvironment;
  const getSd = (name: string) => getObject<SearchDomain>(env, PLURAL_SEARCH_DOMAINS, name);
  const getConfig = () => getObject<ClusterConfig>(env, PLURAL_CLUSTER_CONFIGS, CLUSTER_CONFIG_NAME);

  before(async function () {
    this.timeout(180_000);
    env = await liqoEnvironment();
  });
  beforeEach(async () => resetLiqoObjects(env));

  describe('SearchDomain', () => {
    it("accepts the guide's heredoc (with `-f -`) and keeps autojoin: true", async () => {
      const asPrinted = await env.controlPlane.shell(guideSearchDomainAsPrinted);
      assert.notEqual(asPrinted.code, 0);
      assert.match(asPrinted.stderr, /flag needs an argument: 'f' in -f/);
      assert.equal(await getSd('example.com'), undefined);

      const r = await env.controlPlane.shell(guideSearchDomainWithStdin);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /searchdomain.discovery.liqo.io\/example.com created/);
      const sd = await getSd('example.com');
      assert.equal(sd?.spec.domain, 'example.com');
      assert.equal(sd?.spec.autojoin, true);
    });

    it('defaults autojoin to false when left out', async () => {
      const r = await apply(env, searchDomain('example.org', 'example.org'));
      assert.equal(r.code, 0, r.stderr);
      assert.equal((await getSd('example.org'))?.spec.autojoin, false);
    });

    for (const bad of ['exa mple.com', 'example..com', '-bad-.example.com', '192.168.1.10']) {
      it(`refuses domain ${JSON.stringify(bad)}, naming spec.domain and what is accepted`, async () => {
        const r = await apply(env, searchDomain('bad-domain', bad));
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /spec\.domain/);
        assert.match(r.stderr, /DNS name/);
        assert.equal(await getSd('bad-domain'), undefined);
      });
    }

    it('refuses a second SearchDomain for the same domain (any spelling), naming the first', async () => {
      assert.equal((await env.controlPlane.shell(guideSearchDomainWithStdin)).code, 0);
      for (const [name, domain] of [
        ['example-again', 'example.com'],
        ['example-upper', 'EXAMPLE.com.'],
      ] as const) {
        const r = await apply(env, searchDomain(name, domain));
        assert.notEqual(r.code, 0, `${domain} was accepted twice`);
        assert.match(r.stderr, /spec\.domain/);
        assert.match(r.stderr, /SearchDomain "example.com"/);
        assert.equal(await getSd(name), undefined);
      }
    });
  });

  describe('ClusterConfig', () => {
    it("the guide's two kubectl patch commands work verbatim and touch nothing else", async () => {
      const off = await env.controlPlane.shell(guideDisableDiscovery);
      assert.equal(off.code, 0, off.stderr);
      assert.match(off.stdout, /clusterconfig.config.liqo.io\/liqo-configuration patched/);
      let config = await getConfig();
      assert.deepEqual(config?.spec.discoveryConfig, {
        ...DISCOVERY_CONFIG_DEFAULTS,
        enableDiscovery: false,
        enableAdvertisement: false,
      });

      const on = await env.controlPlane.shell(guideEnableDiscovery);
      assert.equal(on.code, 0, on.stderr);
      config = await getConfig();
      assert.deepEqual(config?.spec.discoveryConfig, { ...DISCOVERY_CONFIG_DEFAULTS });
    });

    const outOfRange: Array<[string, Record<string, number>]> = [
      ['port 0', { port: 0 }],
      ['port 65536', { port: 65536 }],
      ['ttl below 30', { ttl: 29 }],
      ['ttl of years', { ttl: 100_000_000 }],
    ];
    for (const [what, values] of outOfRange) {
      it(`refuses a patch with ${what}, naming the field, and keeps the old value`, async () => {
        const field = Object.keys(values)[0] ?? '';
        const patch = JSON.stringify({ spec: { discoveryConfig: values } });
        const r = await env.controlPlane.kubectl([
          'patch',
          'clusterconfigs',
          CLUSTER_CONFIG_NAME,
          '--type',
          'merge',
          '--patch',
          patch,
        ]);
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, new RegExp(`spec\\.discoveryConfig\\.${field}`));
        assert.match(r.stderr, /less than or equal|greater than or equal|accepted/);
        const config = await getConfig();
        assert.equal(
          config?.spec.discoveryConfig?.[field as 'port' | 'ttl'],
          DISCOVERY_CONFIG_DEFAULTS[field as 'port' | 'ttl'],
        );
      });
    }
  });
});
