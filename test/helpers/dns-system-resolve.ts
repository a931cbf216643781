// Resolves a SearchDomain with the system's resolvers, as the plugin and the agent do when no
// server is given: run inside a test's network namespace, whose /etc/resolv.conf `ip netns exec`
// replaces with /etc/netns/<ns>/resolv.conf. Serves the zone from a BIND on that namespace's own
// 127.0.0.1:53 first, so the look-up never leaves the namespace.
//   argv[2]: JSON { domain, zone }
// stdout: one line {"systemServers": [...], "result": DnsResolveResult}
import { getServers } from 'node:dns';
import { resolveSearchDomain } from '../../shared/lookup/dns.js';
import { startBind } from './bind.js';

const { domain, zone } = JSON.parse(process.argv[2] ?? '{}') as { domain: string; zone: string };
const bind = await startBind({ zones: { [domain]: zone }, port: 53 });
try {
  const result = await resolveSearchDomain(domain);
  process.stdout.write(`${JSON.stringify({ systemServers: getServers(), result })}\n`);
} finally {
  await bind.stop();
}
