// The resolver's default: with no server given it asks the ones /etc/resolv.conf names, in
// order, moving past one that refuses. Shown inside a network namespace the test creates, whose
// resolv.conf (`/etc/netns/<ns>/resolv.conf`, mounted by `ip netns exec`) names the namespace's
// own loopback, where a BIND serves the guide's zone on port 53. Needs root (ip netns).
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import type { DnsResolveResult } from '../../shared/lookup/types.js';
import { GUIDE_ZONE } from '../helpers/bind.js';
import { createLan, tsxCommand, type NetnsHost, type NetnsLan } from '../helpers/netns.js';

describe('DNS-SD resolver with the system resolvers (resolv.conf)', function () {
  this.timeout(60_000);
  let lan: NetnsLan;
  let host: NetnsHost;

  before(async () => {
    lan = await createLan(1);
    host = lan.hosts[0] as NetnsHost;
    await mkdir(`/etc/netns/${host.ns}`, { recursive: true });
  });
  after(async () => {
    await lan?.teardown();
    if (host) await rm(`/etc/netns/${host.ns}`, { recursive: true, force: true });
  });

  async function resolveWith(
    resolvConf: string,
  ): Promise<{ systemServers: string[]; result: DnsResolveResult }> {
    await writeFile(`/etc/netns/${host.ns}/resolv.conf`, resolvConf);
    const child = lan.spawnJson(
      host,
      tsxCommand(
        'test/helpers/dns-system-resolve.ts',
        JSON.stringify({ domain: 'example.com', zone: GUIDE_ZONE }),
      ),
    );
    const line = await child.waitFor((message) => 'result' in message, 30_000);
    return line as unknown as { systemServers: string[]; result: DnsResolveResult };
  }

  it("finds the guide's two clusters through the resolver resolv.conf names", async () => {
    const { systemServers, result } = await resolveWith('nameserver 127.0.0.1\n');
    assert.deepEqual(systemServers, ['127.0.0.1']);
    assert.deepEqual(result.errors, []);
    assert.deepEqual(
      result.endpoints.map((endpoint) => endpoint.authUrl),
      ['https://auth.server-2.example.com:8443', 'https://auth.server.example.com:443'],
    );
  });

  it('moves on to the next nameserver when the first refuses', async () => {
    // Nothing listens on 127.0.0.2:53 in the namespace: the kernel refuses at once.
    const { systemServers, result } = await resolveWith('nameserver 127.0.0.2\nnameserver 127.0.0.1\n');
    assert.deepEqual(systemServers, ['127.0.0.2', '127.0.0.1']);
    assert.deepEqual(result.errors, []);
    assert.equal(result.endpoints.length, 2);
  });
});
