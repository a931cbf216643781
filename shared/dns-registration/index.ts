// DNS registration (issue 19 part 1): a cluster keeps its own DNS-SD records in a zone with
// RFC 2136 UPDATEs signed by TSIG (RFC 8945), carrying the RFC 9664 Update Lease when asked.
// Every change is ONE atomic UPDATE whose prerequisites make sure it only touches what this
// cluster owns: the ownership record `_liqo-owner.<instance>.<zone> TXT "heritage=liqo-discovery"
// "cluster-id=<id>"` (like external-dns's TXT registry). A steady-state refresh is one round trip;
// a first registration, a move (new auth URL) or a name owned by someone else costs one or two
// more. Nothing here retries forever or hangs: tries, a per-try timeout and a deadline bound it.
//
//   import { register, deregister, planRecords } from '../shared/dns-registration/index.js';
//
//   const spec = {
//     zone: 'example.com',
//     instance: 'cluster-a',                   // default: the cluster name
//     authUrl: 'https://203.0.113.10:443',     // default: where /ids is served
//     clusterId: '0558de48-...',
//     clusterName: 'cluster-a',
//     ttl: 300,
//     browseDomains: false,
//   };
//   const options = {
//     server: '10.0.0.53:53',                  // the zone's primary, an IP address
//     key: { name: 'liqo-cluster-a', algorithm: 'hmac-sha256', secret: '<base64 from the Secret>' },
//     lease: { seconds: 3600 },                // optional RFC 9664 lease
//   } as const;
//   const result = await register(spec, options);
//   if (result.ok) console.log(result.action, result.records.map(formatRecord));  // 'created' | 'refreshed' | 'moved'
//   else console.log(result.reason, result.message);  // e.g. owned-by-other: "... owned by cluster 9f3c..."
//   await deregister({ zone: spec.zone, instance: spec.instance, clusterId: spec.clusterId }, options);
//
// planRecords(spec) gives the exact record set without any I/O (for status and dry runs).
export * from './types.js';
export {
  planRecords,
  formatRecord,
  instanceNames,
  ownerName,
  OWNER_LABEL,
  type PlanResult,
} from './records.js';
export { register, deregister, checkRegistrarOptions, REGISTRAR_DEFAULTS } from './registrar.js';
export { checkTsigKey, DEFAULT_FUDGE_SECONDS } from './tsig.js';
export { describeRcode, rcodeName } from './rcodes.js';
