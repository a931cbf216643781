// Adapts shared/lookup/mdns.ts to the agent's MdnsDriver. The browser reports a peer when it
// first resolves and whenever a response confirms it; on top of that the driver re-reports
// every peer still in the browser's cache on a steady beat, so a peer stays fresh exactly as
// long as its records are alive (until their TTL runs out or a goodbye removes them).
import { MdnsAdvertiser, MdnsBrowser } from '../shared/lookup/mdns.js';
import type { MdnsDriver } from './lan-discovery.js';
import type { Logger } from './logger.js';

const REPORT_CACHED_PEERS_MS = 5000;

export function sharedMdnsDriver(log: Logger): MdnsDriver {
  return {
    async advertise({ onIgnored, ...opts }) {
      const advertiser = new MdnsAdvertiser(opts);
      if (onIgnored) advertiser.on('ignored', onIgnored);
      // Another host holding our names is the admin's business (two clusters with one id, or a
      // node name taken); odd packets are not.
      advertiser.on('renamed', (names: { instance: string; host: string }) =>
        log.warn(names, 'mDNS: another host on the LAN holds our name; advertising under a new one'),
      );
      advertiser.on('warning', (err: Error) => log.debug({ err: err.message }, 'mDNS advertiser'));
      await advertiser.start();
      return { stop: () => advertiser.stop() };
    },
    async browse({ onIgnored, ...opts }, onPeer) {
      const browser = new MdnsBrowser(opts);
      // packets and addresses refused at the LAN trust boundary: counted, not logged
      if (onIgnored) browser.on('ignored', onIgnored);
      browser.on('peer', onPeer);
      browser.on('added', onPeer);
      browser.on('updated', onPeer);
      browser.on('warning', (err: Error) => log.debug({ err: err.message }, 'mDNS packet dropped'));
      await browser.start();
      const timer = setInterval(() => {
        for (const peer of browser.peers()) onPeer(peer);
      }, REPORT_CACHED_PEERS_MS);
      timer.unref();
      return {
        stop: async () => {
          clearInterval(timer);
          await browser.stop();
        },
      };
    },
  };
}
