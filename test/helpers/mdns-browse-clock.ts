// Runs our mDNS browser inside a network namespace like mdns-browse.ts, but stamps every line
// with the epoch time (`at`, ms), so a test can line its events up with what a sniffer on another
// host of the LAN heard (all namespaces share the machine's clock).
//   argv[2]: JSON BrowseOptions plus `mode`: "once" (browseOnce; default) or "continuous"
// stdout: {"event":"starting",at} just before the browser starts, then
//   once:       {"event":"peer",peer,at}... {"event":"done",peers,at}
//   continuous: {"event":"started",at}, {"event":"added"|"updated"|"removed",peer,at}...;
//               stdin "peers" prints {"event":"peers",peers}; "stop" (or SIGTERM) ends it.
import { createInterface } from 'node:readline';
import { MdnsBrowser, browseOnce } from '../../shared/lookup/mdns.js';
import type { BrowseOptions, MdnsPeer } from '../../shared/lookup/types.js';

type Args = BrowseOptions & { mode?: 'once' | 'continuous' };

function print(msg: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ ...msg, at: Date.now() })}\n`);
}

async function main(): Promise<void> {
  const { mode = 'once', ...options } = JSON.parse(process.argv[2] ?? '{}') as Args;
  if (mode === 'once') {
    print({ event: 'starting' });
    const peers = await browseOnce({ ...options, onPeer: (peer) => print({ event: 'peer', peer }) });
    print({ event: 'done', peers });
    process.exit(0);
  }
  const browser = new MdnsBrowser(options);
  for (const event of ['added', 'updated', 'removed'] as const) {
    browser.on(event, (peer: MdnsPeer) => print({ event, peer }));
  }
  browser.on('warning', () => undefined);
  const stop = async () => {
    await browser.stop();
    print({ event: 'stopped' });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() === 'stop') void stop();
    if (line.trim() === 'peers') print({ event: 'peers', peers: browser.peers() });
  });
  print({ event: 'starting' });
  await browser.start();
  print({ event: 'started' });
}

main().catch((err: Error) => {
  print({ event: 'error', message: err.message });
  process.exit(1);
});
