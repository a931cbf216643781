// One-shot LAN browse (SPEC §2: settles in about a second, like `avahi-browse -t`).
import type { BrowseOptions, MdnsPeer } from '../types.js';
import { MdnsBrowser } from './browser.js';

/**
 * One-shot browse: queries now, collects for `settleMs` (default 1000), then stops as soon as
 * 250 ms pass with nothing new and nothing half-resolved (at most 3 × settleMs in all). Peers
 * are streamed to `onPeer` as they resolve; an abort returns what was found so far.
 */
export async function browseOnce(opts: BrowseOptions = {}): Promise<MdnsPeer[]> {
  const settleMs = opts.settleMs ?? 1000;
  const quietMs = Math.min(250, settleMs / 4);
  const browser = new MdnsBrowser(opts, 'once');
  browser.on('warning', () => undefined); // dropped packets are counted, not fatal
  if (opts.onPeer) {
    const onPeer = opts.onPeer;
    browser.on('added', (peer: MdnsPeer) => onPeer(peer));
  }
  if (opts.signal?.aborted) return [];
  const startedAt = Date.now();
  await browser.start();
  await new Promise<void>((resolve) => {
    const check = () => {
      const now = Date.now();
      const settled = now - startedAt >= settleMs && now - browser.lastNewInfoAt >= quietMs;
      if ((settled && browser.pendingCount() === 0) || now - startedAt >= settleMs * 3) finish();
    };
    // the 50 ms ticks re-check; this one lands exactly on the window's end
    const atWindowEnd = setTimeout(check, Math.max(0, startedAt + settleMs - Date.now()));
    const finish = () => {
      clearTimeout(atWindowEnd);
      browser.off('tick', check);
      opts.signal?.removeEventListener('abort', finish);
      resolve();
    };
    browser.on('tick', check);
    opts.signal?.addEventListener('abort', finish, { once: true });
  });
  const peers = browser.peers();
  await browser.stop();
  return peers;
}
