// A LAN for real nodes: a network namespace holding one bridge (`br0`, multicast snooping off so
// every port sees all mDNS). startRealCluster({ lanBridge }) plugs a node's interface into it,
// so the nodes of several clusters share one private subnet that exists only in namespaces.
import { existsSync } from 'node:fs';
import { netnsPath, run, type LanAttachment } from './namespaces.js';

export interface LanBridge extends LanAttachment {
  bridge: string;
  remove(): Promise<void>;
}

export async function createLanBridge(name: string): Promise<LanBridge> {
  const namespace = `liqo-lan-${name}`;
  if (existsSync(netnsPath(namespace)))
    throw new Error(
      `network namespace ${namespace} already exists (left by a killed run? remove it with \`ip netns del ${namespace}\`)`,
    );
  await run(['ip', 'netns', 'add', namespace]);
  const inNs = ['ip', '-n', namespace];
  await run([...inNs, 'link', 'set', 'lo', 'up']);
  await run([...inNs, 'link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '0']);
  await run([...inNs, 'link', 'set', 'br0', 'up']);
  return {
    namespace,
    bridge: 'br0',
    // the nodes' ends of the LAN go with their own namespaces; this removes the bridge
    remove: async () => {
      if (existsSync(netnsPath(namespace))) await run(['ip', 'netns', 'del', namespace]);
    },
  };
}
