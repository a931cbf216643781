// LAN discovery by mDNS (SPEC §2): a browser (one-shot and continuous) and an advertiser for
// the Liqo service types, on multicast-dns. The parts live in ./mdns/.
export { MdnsAdvertiser } from './mdns/advertiser.js';
export { MdnsBrowser } from './mdns/browser.js';
export { browseOnce } from './mdns/once.js';
export { authUrlsFor, parseTxt } from './mdns/names.js';
export { selectEndpoints, type MdnsEndpoint } from './mdns/sockets.js';
export { TRUST_DROP_REASONS, type TrustDropReason } from './mdns/trust.js';
export type { AdvertiseOptions, BrowseOptions, MdnsPeer } from './types.js';
