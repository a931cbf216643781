// DNS registration end to end (issue 19 part 1): two clusters of the namespace LAN harness
// (test/e2e/two-clusters.member.ts: etcd, kube-apiserver, webhook, one agent each, from this
// source) with LAN discovery off, and a real BIND in a third namespace whose zone takes
// TSIG-signed UPDATEs (update-policy). Cluster A registers itself with
// `kubectl liqo dns-registration enable`; cluster B has a SearchDomain on the zone and gets A's
// WAN ForeignCluster with nobody writing a record by hand; `dig` (AXFR) sees exactly the records
// A's status lists; B cannot take A's instance name (refused, naming A); disabling A's
// registration empties the zone and B drops A after the TTL. All traffic stays inside the
// namespaces this test creates.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KUBECTL, runCommand, type CommandResult } from '../harness/kubectl.js';
import type { DnsRegistration, ForeignCluster } from '../../shared/api/types.js';
import { createLan, JsonLinesChild, tsxCommand, type NetnsHost, type NetnsLan } from '../helpers/netns.js';
import type { MemberInfo, MemberSpec } from './two-clusters.member.js';
import { eventually } from './agent-cluster-fixture.js';
import { installPluginOnPath, type PluginOnPath } from './plugin-helpers.js';

const ROOT = join(import.meta.dirname, '../..');
const ZONE = 'clusters.test';
const KEY_NAME = 'liqo-update';
const RECORD_TTL = 5;
const SEARCH_INTERVAL_S = 2;

interface Member {
  info: MemberInfo;
  child: JsonLinesChild;
  host: NetnsHost;
  kubectl(args: string[], input?: string): Promise<CommandResult>;
  plugin(args: string[]): Promise<CommandResult>;
  json<T>(args: string[]): Promise<T>;
}

function inNamespace(host: NetnsHost, command: string[], input?: string): Promise<CommandResult> {
  return runCommand('ip', ['netns', 'exec', host.ns, ...command], input === undefined ? {} : { input });
}

async function startMember(
  lan: NetnsLan,
  host: NetnsHost,
  spec: MemberSpec,
  plugin: PluginOnPath,
): Promise<Member> {
  const child = lan.spawnJson(
    host,
    tsxCommand(join(ROOT, 'test/e2e/two-clusters.member.ts'), JSON.stringify(spec)),
    {
      cwd: ROOT,
    },
  );
  const info = (await child.waitFor(
    (m) => typeof m['kubeconfig'] === 'string',
    240_000,
  )) as unknown as MemberInfo;
  const kubectl = (args: string[], input?: string) =>
    inNamespace(host, [KUBECTL, `--kubeconfig=${info.kubeconfig}`, ...args], input);
  return {
    info,
    child,
    host,
    kubectl,
    plugin: (args) =>
      inNamespace(host, [join(plugin.binDir, 'kubectl-liqo'), `--kubeconfig=${info.kubeconfig}`, ...args]),
    async json<T>(args: string[]): Promise<T> {
      const r = await kubectl([...args, '-o', 'json']);
      assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
      return JSON.parse(r.stdout) as T;
    },
  };
}

/** "name TYPE rdata" (lower-case name, no trailing dots, no TTL) of a zone-file line. */
function recordKey(line: string): string {
  const fields = line.trim().split(/\s+/);
  const [name = '', , , type = '', ...rdata] = fields;
  return `${name.replace(/\.$/, '').toLowerCase()} ${type} ${rdata.join(' ').replace(/\.(\s|$)/g, '$1')}`;
}

describe('DNS registration: a cluster keeps its own records in a zone, a peer finds it', function () {
  this.timeout(180_000);
  let lan: NetnsLan | undefined;
  let plugin: PluginOnPath | undefined;
  let a: Member | undefined;
  let b: Member | undefined;
  let zoneServer: JsonLinesChild | undefined;
  let server = '';
  let secret = '';
  let idA = '';
  const scratch = mkdtempSync(join(tmpdir(), 'dns-registration-e2e-'));
  const keyFile = join(scratch, 'liqo-update.key');

  /** Every record of the zone but SOA and NS, by AXFR with the key, from the server's namespace. */
  const zoneContents = async (): Promise<string[]> => {
    const host = lan!.hosts[2]!;
    const r = await inNamespace(host, [
      'dig',
      '@127.0.0.1',
      '+noall',
      '+answer',
      '+time=2',
      '+tries=1',
      '-y',
      `hmac-sha256:${KEY_NAME}:${secret}`,
      ZONE,
      'AXFR',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout
      .split('\n')
      .filter((l) => l.trim() && !/\s(SOA|NS|TSIG)\s/.test(l))
      .map(recordKey);
    return [...new Set(lines)].sort();
  };

  before(async function () {
    if (process.getuid?.() !== 0) this.skip(); // network namespaces need root
    this.timeout(300_000);
    // a private plugin bundle: the test does not depend on (or race with) dist/
    plugin = await installPluginOnPath();
    lan = await createLan(3);
    const [hostA, hostB, hostDns] = lan.hosts as [NetnsHost, NetnsHost, NetnsHost];
    zoneServer = lan.spawnJson(
      hostDns,
      tsxCommand(
        join(ROOT, 'test/e2e/dns-registration.bind.ts'),
        JSON.stringify({ zone: ZONE, address: hostDns.address, keyName: KEY_NAME }),
      ),
      { cwd: ROOT },
    );
    const started = await zoneServer.waitFor((m) => typeof m['server'] === 'string', 120_000);
    server = started['server'] as string;
    secret = (started['key'] as { secret: string }).secret;
    // what tsig-keygen prints, so `enable --tsig-secret-file` takes name and algorithm from it
    writeFileSync(keyFile, `key "${KEY_NAME}" {\n\talgorithm hmac-sha256;\n\tsecret "${secret}";\n};\n`);
    const base = {
      interfaceName: 'eth0',
      agents: 1,
      idsPortBase: 8443,
      healthPortBase: 8081,
      discoveryConfig: { enableDiscovery: false, enableAdvertisement: false, ttl: 30 },
    };
    [a, b] = await Promise.all([
      startMember(
        lan,
        hostA,
        {
          ...base,
          name: 'cluster-a',
          address: hostA.address,
          discoveryConfig: { ...base.discoveryConfig, clusterName: 'cluster-a' },
          agentArgs: ['--no-mdns', '--gc-interval=2', '--searchdomain-interval=2'],
        },
        plugin,
      ),
      startMember(
        lan,
        hostB,
        {
          ...base,
          name: 'cluster-b',
          address: hostB.address,
          discoveryConfig: { ...base.discoveryConfig, clusterName: 'cluster-b' },
          agentArgs: [
            '--no-mdns',
            '--gc-interval=2',
            `--searchdomain-interval=${SEARCH_INTERVAL_S}`,
            `--dns-server=${server}`,
          ],
        },
        plugin,
      ),
    ]);
    idA = await eventually('cluster A id', async () => {
      const cm = await a!.json<{ data?: Record<string, string> }>([
        '-n',
        'liqo',
        'get',
        'configmap',
        'cluster-id',
      ]);
      return cm.data?.['cluster-id'];
    });
    const sd = await b!.kubectl(
      ['apply', '-f', '-'],
      `apiVersion: discovery.liqo.io/v1alpha1\nkind: SearchDomain\nmetadata:\n  name: ${ZONE}\nspec:\n  domain: ${ZONE}\n  autojoin: false\n`,
    );
    assert.equal(sd.code, 0, sd.stderr);
  });

  after(async function () {
    this.timeout(60_000);
    for (const m of [a, b]) m?.child.child.kill('SIGTERM');
    await Promise.allSettled([a?.child.waitExit(30_000), b?.child.waitExit(30_000)]);
    zoneServer?.child.kill('SIGTERM');
    await zoneServer?.waitExit(10_000).catch(() => undefined);
    await lan?.teardown();
    plugin?.remove();
    rmSync(scratch, { recursive: true, force: true });
  });

  const fcExists = async (m: Member, name: string) =>
    (await m.kubectl(['get', 'foreignclusters', name])).code === 0;

  it('the zone starts empty and B has no ForeignCluster for A', async () => {
    assert.deepEqual(await zoneContents(), []);
    assert.equal(await fcExists(b!, idA), false);
  });

  it('`dns-registration enable` on A: registered, the Secret made from the key file, and dig sees exactly the records of the status', async () => {
    const r = await a!.plugin([
      'dns-registration',
      'enable',
      `--zone=${ZONE}`,
      `--server=${server}`,
      `--tsig-secret-file=${keyFile}`,
      `--ttl=${RECORD_TTL}`,
      '--refresh-interval=30s',
    ]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /secret\/liqo-dns-tsig created/);
    assert.match(
      r.stdout,
      new RegExp(`dnsregistration\\.discovery\\.liqo\\.io/${ZONE.replace('.', '\\.')} created`),
    );
    assert.match(
      r.stdout,
      new RegExp(`zone ${ZONE.replace('.', '\\.')} holds \\d+ records of instance cluster-a`),
    );

    const reg = await a!.json<DnsRegistration>(['get', 'dnsregistrations', ZONE]);
    assert.deepEqual(reg.metadata.finalizers, ['discovery.liqo.io/dns-records']);
    assert.equal(reg.spec.tsig.keyName, KEY_NAME, 'taken from the key file');
    const cond = reg.status?.conditions?.find((c) => c.type === 'Registered');
    assert.equal(cond?.status, 'True');
    assert.equal(reg.status?.observedGeneration, reg.metadata['generation']);
    assert.equal(reg.status?.authUrl, `https://${a!.host.address}:8443`);
    assert.equal(reg.status?.instance, 'cluster-a');
    const records = (reg.status?.records ?? []).map(recordKey).sort();
    assert.deepEqual(await zoneContents(), records, 'the zone holds exactly what the status lists');
    // both layouts, the address, the ownership record
    const has = (fragment: string) =>
      assert.ok(
        records.some((x) => x.startsWith(fragment)),
        `${fragment} in ${records.join(' | ')}`,
      );
    has(`${ZONE} PTR cluster-a.${ZONE}`);
    has(`_liqo._tcp.${ZONE} PTR cluster-a._liqo._tcp.${ZONE}`);
    has(`cluster-a.${ZONE} SRV 0 0 8443 cluster-a.${ZONE}`);
    has(`cluster-a.${ZONE} A ${a!.host.address}`);
    has(`_liqo-owner.cluster-a.${ZONE} TXT`);
    assert.ok(
      records.some((x) => x.includes(`"id=${idA}"`)),
      'TXT carries the cluster id',
    );

    const events = await a!.kubectl([
      'get',
      'events',
      '-n',
      'default',
      '--field-selector',
      `involvedObject.kind=DNSRegistration,involvedObject.name=${ZONE}`,
      '-o',
      'jsonpath={.items[*].reason}',
    ]);
    assert.match(events.stdout, /Registered/);

    const fc = await eventually(
      "B's WAN ForeignCluster for A",
      async () =>
        (await fcExists(b!, idA)) ? b!.json<ForeignCluster>(['get', 'foreignclusters', idA]) : undefined,
      60_000,
      200,
    );
    assert.equal(fc.spec.discoveryType, 'WAN');
    assert.deepEqual(fc.spec.clusterIdentity, { clusterID: idA, clusterName: 'cluster-a' });
    assert.equal(fc.metadata.labels?.['discovery.liqo.io/searchdomain'], ZONE);
  });

  it('`dns-registration status` on A shows the zone, Registered and the records', async () => {
    const r = await a!.plugin(['dns-registration', 'status']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /NAME\s+ZONE\s+SERVER\s+ENABLED\s+REGISTERED/);
    assert.match(r.stdout, new RegExp(`${ZONE.replace('.', '\\.')}: registered: zone`));
    assert.match(r.stdout, /_liqo-owner\.cluster-a\./);
  });

  it("B cannot take A's instance name: refused, naming A's cluster id, and A's records untouched", async () => {
    const before = await zoneContents();
    const r = await b!.plugin([
      'dns-registration',
      'enable',
      `--zone=${ZONE}`,
      `--server=${server}`,
      `--tsig-secret-file=${keyFile}`,
      '--instance=cluster-a',
      '--wait=30s',
    ]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /not registered \(OwnedByOtherCluster\)/);
    assert.ok(r.stderr.includes(idA), r.stderr);
    const reg = await b!.json<DnsRegistration>(['get', 'dnsregistrations', ZONE]);
    assert.equal(reg.status?.owner, idA);
    assert.deepEqual(await zoneContents(), before);
    // B gives up: deleting its refused registration removes nothing of A's
    const del = await b!.kubectl(['delete', 'dnsregistration', ZONE, '--timeout=60s']);
    assert.equal(del.code, 0, del.stderr);
    assert.deepEqual(await zoneContents(), before);
  });

  it("`dns-registration disable` on A: the zone is empty at once, and B drops A's ForeignCluster after the TTL", async () => {
    const r = await a!.plugin(['dns-registration', 'disable']);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /disabled/);
    assert.match(r.stdout, new RegExp(`records removed from zone ${ZONE.replace('.', '\\.')}`));
    assert.deepEqual(await zoneContents(), []);
    const reg = await a!.json<DnsRegistration>(['get', 'dnsregistrations', ZONE]);
    assert.equal(reg.status?.conditions?.find((c) => c.type === 'Registered')?.reason, 'Disabled');
    assert.deepEqual(reg.metadata.finalizers ?? [], [], 'nothing left to remove: no finalizer');
    await eventually('B drops A', async () => ((await fcExists(b!, idA)) ? undefined : true), 90_000, 1000);
  });

  it('enable again, then deleting the DNSRegistration removes the records before the object goes', async () => {
    const r = await a!.plugin([
      'dns-registration',
      'enable',
      `--zone=${ZONE}`,
      `--server=${server}`,
      `--tsig-key-name=${KEY_NAME}`,
    ]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.notDeepEqual(await zoneContents(), []);
    const del = await a!.kubectl(['delete', 'dnsregistration', ZONE, '--timeout=60s']);
    assert.equal(del.code, 0, del.stderr);
    assert.deepEqual(await zoneContents(), []);
  });
});
