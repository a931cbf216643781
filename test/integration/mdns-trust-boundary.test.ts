// The LAN trust boundary of our mDNS browser (SPEC §"Security", RFC 6762 §2 and §11), on a LAN of
// network namespaces (TESTING.md's network rule: no mDNS on the machine's real interfaces).
// h0 browses, h1 runs our real advertiser (the honest peer), h2 is a host that says what it likes
// (test/helpers/mdns-announce-from.ts: complete unsolicited announcements from a chosen source).
// 1. Packets whose source is not on the receiving interface's subnet (h2 sends from a second
//    address in another subnet on the same wire) are ignored and counted; the honest peer is found.
// 2. Advertised addresses off the link's subnet (10.99.0.5) or forbidden by the connect-time
//    address policy (169.254.169.254, 127.0.0.1) are never used, and counted; an on-link address
//    advertised beside an off-link one is still used, alone.
// 3. A CNI-like bridge `cni0` in h0's namespace (a "pod" behind it, advertising, and even a
//    default route through it) is neither queried nor browsed by default; named, it is.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { MdnsPeer } from '../../shared/lookup/types.js';
import {
  createLan,
  tsxCommand,
  type JsonLinesChild,
  type NetnsHost,
  type NetnsLan,
} from '../helpers/netns.js';

const run = promisify(execFile);
const ADVERTISE = 'test/helpers/mdns-advertise.ts';
const ANNOUNCE = 'test/helpers/mdns-announce-from.ts';
const BROWSE = 'test/helpers/mdns-browse.ts';
const RESPONDER = 'test/helpers/mdns-bare-responder.ts';

interface PeersLine {
  peers: MdnsPeer[];
  ignored: { off_subnet_source: number; off_link_address: number; forbidden_address: number };
}

async function stop(child: JsonLinesChild): Promise<void> {
  if (child.exited) return;
  try {
    process.kill(-child.child.pid!, 'SIGTERM'); // spawned detached: its own process group
  } catch {
    return;
  }
  await child.waitExit().catch(() => undefined);
}

/** Waits until the announcer has sent `more` further rounds (they had time to arrive). */
async function rounds(announcer: JsonLinesChild, more: number): Promise<void> {
  const sent = announcer.messages.filter((m) => m.event === 'sent').length;
  await announcer.waitFor((m) => m.event === 'sent' && (m.count as number) >= sent + more, 60_000);
}

/** Each cluster once (a peer is listed under both service types), sorted. */
function clusterIds(peers: MdnsPeer[]): string[] {
  return [...new Set(peers.map((p) => p.clusterId))].sort();
}

async function peersOf(browser: JsonLinesChild): Promise<PeersLine> {
  const before = browser.messages.length;
  browser.send('peers');
  const line = await browser.waitFor((m) => m.event === 'peers' && browser.messages.indexOf(m) >= before);
  return line as unknown as PeersLine;
}

describe('mDNS LAN trust boundary (RFC 6762 §11)', function () {
  this.timeout(120_000);
  let lan: NetnsLan;
  let h0: NetnsHost;
  let h1: NetnsHost;
  let h2: NetnsHost;
  let running: JsonLinesChild[] = [];
  let podNs: string | undefined;

  const spawn = (host: NetnsHost, script: string, args: unknown): JsonLinesChild => {
    const child = lan.spawnJson(host, tsxCommand(script, JSON.stringify(args)));
    running.push(child);
    return child;
  };
  const browse = async (args: Record<string, unknown> = {}): Promise<JsonLinesChild> => {
    const browser = spawn(h0, BROWSE, { mode: 'continuous', ...args });
    await browser.waitFor((m) => m.event === 'ready');
    return browser;
  };
  const added = (browser: JsonLinesChild, clusterId: string) =>
    browser.waitFor((m) => m.event === 'added' && (m.peer as MdnsPeer).clusterId === clusterId);

  before(async () => {
    lan = await createLan(3);
    [h0, h1, h2] = lan.hosts as [NetnsHost, NetnsHost, NetnsHost];
    const honest = spawn(h1, ADVERTISE, { clusterId: 'honest-peer', port: 7443 });
    await honest.waitFor((m) => m.event === 'started');
    running = running.filter((c) => c !== honest); // stays for every test
  });

  afterEach(async () => {
    await Promise.all(running.map(stop));
    running = [];
  });

  after(async () => {
    await lan?.teardown();
    if (podNs) await run('ip', ['netns', 'del', podNs]).catch(() => undefined);
  });

  it('ignores packets from a source off the interface subnet and still finds the honest peer', async () => {
    const offSubnet = `10.77.${lan.subnet.split('.')[2]}.5`;
    await lan.exec(h2, ['ip', 'addr', 'add', `${offSubnet}/24`, 'dev', 'eth0']);
    // the records themselves are impeccable (h2's on-link address): only the source is wrong
    const announcer = spawn(h2, ANNOUNCE, {
      source: offSubnet,
      services: [
        {
          instance: 'off-subnet',
          clusterId: 'off-subnet',
          host: 'offsubnet',
          port: 7443,
          addresses: [h2.address],
        },
      ],
    });
    await announcer.waitFor((m) => m.event === 'ready');
    const browser = await browse();
    const honest = await added(browser, 'honest-peer');
    assert.equal((honest.peer as MdnsPeer).authUrl, `https://${h1.address}:7443`);
    await rounds(announcer, 5);
    const { peers, ignored } = await peersOf(browser);
    assert.deepEqual(clusterIds(peers), ['honest-peer'], 'only the honest peer is reported');
    assert.ok(ignored.off_subnet_source >= 5, `off-subnet packets counted: ${JSON.stringify(ignored)}`);

    // the one-shot browse (kubectl liqo discover --lan) holds the same line
    const once = spawn(h0, BROWSE, { mode: 'once' });
    const done = await once.waitFor((m) => m.event === 'done');
    const ids = (done.peers as MdnsPeer[]).map((p) => p.clusterId);
    assert.ok(ids.includes('honest-peer'), `one-shot browse found: ${ids.join(', ')}`);
    assert.ok(!ids.includes('off-subnet'), `one-shot browse found: ${ids.join(', ')}`);
  });

  it('never uses advertised addresses off the link or forbidden by the address policy', async () => {
    const service = (id: string, addresses: string[]) => ({
      instance: id,
      clusterId: id,
      host: `${id}-host`,
      port: 7443,
      addresses,
    });
    const announcer = spawn(h2, ANNOUNCE, {
      source: h2.address, // an honest source: only the addresses are wrong
      services: [
        service('off-link', ['10.99.0.5']),
        service('metadata', ['169.254.169.254']),
        service('loopback', ['127.0.0.1']),
        service('mixed', ['10.99.0.5', h2.address]),
      ],
    });
    await announcer.waitFor((m) => m.event === 'ready');
    const browser = await browse();
    await added(browser, 'honest-peer');
    const mixed = (await added(browser, 'mixed')).peer as MdnsPeer;
    assert.deepEqual(mixed.authUrls, [`https://${h2.address}:7443`], 'only the on-link address is used');
    await rounds(announcer, 5);
    const { peers, ignored } = await peersOf(browser);
    assert.deepEqual(clusterIds(peers), ['honest-peer', 'mixed']);
    const urls = peers.flatMap((p) => p.authUrls);
    for (const bad of ['10.99.0.5', '169.254.169.254', '127.0.0.1']) {
      assert.ok(!urls.some((u) => u.includes(bad)), `${bad} used: ${urls.join(', ')}`);
    }
    assert.ok(ignored.off_link_address >= 5, `off-link addresses counted: ${JSON.stringify(ignored)}`);
    assert.ok(ignored.forbidden_address >= 10, `forbidden addresses counted: ${JSON.stringify(ignored)}`);
  });

  it('does not browse a CNI bridge by default, even with a default route through it; named, it does', async () => {
    const third = lan.subnet.split('.')[2];
    const bridgeAddress = `10.88.${third}.1`;
    const podAddress = `10.88.${third}.2`;
    podNs = `${lan.prefix}pod`;
    const inH0 = (...cmd: string[]) => lan.exec(h0, cmd);
    await run('ip', ['netns', 'add', podNs]);
    const inPod = (...cmd: string[]) => run('ip', ['netns', 'exec', podNs!, ...cmd]);
    await inH0('ip', 'link', 'add', 'cni0', 'type', 'bridge', 'mcast_snooping', '0');
    await inH0('ip', 'addr', 'add', `${bridgeAddress}/24`, 'dev', 'cni0');
    await inH0('ip', 'link', 'set', 'cni0', 'up');
    await inH0('ip', 'link', 'add', 'vethpod0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', podNs);
    await inH0('ip', 'link', 'set', 'vethpod0', 'master', 'cni0', 'up');
    await inPod('ip', 'link', 'set', 'lo', 'up');
    await inPod('ip', 'addr', 'add', `${podAddress}/24`, 'dev', 'eth0');
    await inPod('ip', 'link', 'set', 'eth0', 'up');
    await inPod('ip', 'route', 'add', '224.0.0.0/4', 'dev', 'eth0');
    // the node's default route is eth0; a second one goes through the bridge (as on a node
    // whose CNI set one up): container interfaces are still never chosen by default
    await inH0('ip', 'route', 'add', 'default', 'dev', 'eth0');
    await inH0('ip', 'route', 'add', 'default', 'dev', 'cni0', 'metric', '200');

    const pod: NetnsHost = { name: 'pod', ns: podNs, address: podAddress, address6: '' };
    // answers every question it hears and logs it: a query on cni0 shows up here
    const podResponder = lan.spawnJson(
      pod,
      tsxCommand(
        RESPONDER,
        JSON.stringify({
          interface: podAddress,
          instance: 'pod-peer',
          clusterId: 'pod-peer',
          port: 7443,
          hostname: 'pod-peer-host',
          address: podAddress,
        }),
      ),
    );
    running.push(podResponder);
    await podResponder.waitFor((m) => m.event === 'ready');

    const byDefault = await browse();
    await added(byDefault, 'honest-peer');
    // the first queries go out at once, 1 s and 2 s later: wait for the third on the LAN
    await new Promise((r) => setTimeout(r, 3500));
    const { peers } = await peersOf(byDefault);
    assert.deepEqual(clusterIds(peers), ['honest-peer']);
    const heard = podResponder.messages.filter((m) => m.event === 'question');
    assert.deepEqual(heard, [], 'no query reached the bridge');
    byDefault.send('stop');
    await byDefault.waitExit();

    const named = await browse({ interfaces: ['cni0'] });
    const podPeer = (await added(named, 'pod-peer')).peer as MdnsPeer;
    assert.equal(podPeer.authUrl, `https://${podAddress}:7443`);
    assert.ok(
      podResponder.messages.some((m) => m.event === 'question' && m.from === bridgeAddress),
      'the named bridge was queried',
    );
  });
});
