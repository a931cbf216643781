// Runs our mDNS browser inside a network namespace for tests and benchmarks, talking JSON lines.
//   argv[2]: JSON BrowseOptions plus `mode`: "once" (browseOnce; default) or "continuous"
//   (MdnsBrowser), and `fetchIds: true` to GET each peer's /ids as it arrives (bench).
//   continuous only: `ingestFirst`, a dns-packet response the browser takes in just before it
//   starts (as if it had arrived while its sockets were still opening).
// stdout: {"event":"starting"} just before the browser starts, then
//   once:       {"event":"peer",peer,t}... {"event":"identity",clusterId,t}... {"event":"done",peers,t}
//   continuous: {"event":"ready"}, {"event":"added"|"updated"|"removed",peer,t}; stdin "stop" ends it;
//   stdin "peers": {"event":"peers",peers,ignored} (ignored: what the LAN trust boundary refused, by reason).
// `t`: ms since the script began browsing; `at`, on every line: the epoch time, so a test can line
// events up with what a sniffer on another host heard (all namespaces share the machine's clock).
import { createInterface } from 'node:readline';
import type { Packet } from 'dns-packet';
import { MdnsBrowser, browseOnce } from '../../shared/lookup/mdns.js';
import type { BrowseOptions, MdnsPeer } from '../../shared/lookup/types.js';

type Args = BrowseOptions & { mode?: 'once' | 'continuous'; fetchIds?: boolean; ingestFirst?: Packet };

function print(msg: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ ...msg, at: Date.now() })}\n`);
}

async function fetchIds(peer: MdnsPeer, startedAt: number): Promise<void> {
  try {
    const { fetchClusterIdentity } = await import('../../shared/lookup/ids.js');
    const result = await fetchClusterIdentity(peer.authUrl);
    print({ event: 'identity', clusterId: result.identity.clusterId, t: Date.now() - startedAt });
  } catch (err) {
    print({
      event: 'identity-error',
      authUrl: peer.authUrl,
      message: (err as Error).message,
      t: Date.now() - startedAt,
    });
  }
}

async function main(): Promise<void> {
  const {
    mode = 'once',
    fetchIds: wantIds,
    ingestFirst,
    ...options
  } = JSON.parse(process.argv[2] ?? '{}') as Args;
  print({ event: 'starting' });
  const startedAt = Date.now();
  if (mode === 'once') {
    const fetches: Promise<void>[] = [];
    const peers = await browseOnce({
      ...options,
      onPeer: (peer) => {
        print({ event: 'peer', peer, t: Date.now() - startedAt });
        if (wantIds) fetches.push(fetchIds(peer, startedAt));
      },
    });
    await Promise.all(fetches);
    print({ event: 'done', peers, t: Date.now() - startedAt });
    process.exit(0);
  }
  const browser = new MdnsBrowser(options);
  for (const event of ['added', 'updated', 'removed'] as const) {
    browser.on(event, (peer: MdnsPeer) => print({ event, peer, t: Date.now() - startedAt }));
  }
  browser.on('warning', () => undefined);
  const stop = async () => {
    await browser.stop();
    print({ event: 'stopped', dropped: browser.droppedPackets });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() === 'stop') void stop();
    if (line.trim() === 'peers') print({ event: 'peers', peers: browser.peers(), ignored: browser.ignored });
  });
  if (ingestFirst) browser.ingest(ingestFirst);
  await browser.start();
  print({ event: 'ready' });
}

main().catch((err: Error) => {
  print({ event: 'error', message: err.message });
  process.exit(1);
});
