// The webhook's nesting check (webhook/body.ts nestsDeeperThan) against JSON.parse of the same
// bytes, in one process and interleaved rounds: what the check adds to every admission. Bodies:
// the small CREATE review bench/webhook.ts sends, and an UPDATE review as kubectl apply makes it
// (old and new object, managedFields, the last-applied annotation), about 6 KB.
//   npx tsx bench/json-depth.ts            # 7 rounds of 20,000 iterations per body
//   JSON_DEPTH_BENCH_ROUNDS=11 npx tsx bench/json-depth.ts
import { cpus, loadavg } from 'node:os';
import { GUIDE_FOREIGN_CLUSTER, admissionReviewJson } from './admission-review.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../webhook/body.js';

const ROUNDS = Number(process.env.JSON_DEPTH_BENCH_ROUNDS ?? 7);
const ITERATIONS = 20_000;

function foreignCluster(join: boolean): Record<string, unknown> {
  const spec = {
    authUrl: 'https://192.168.1.10:30443',
    join,
    discoveryType: 'Manual',
    trustMode: 'Untrusted',
    namespace: 'liqo',
    clusterIdentity: { clusterID: '0558de48-097b-4b7d-ba04-6bd2a0f9d24f', clusterName: 'LiqoCluster0692' },
  };
  const fields = (keys: string[]) => Object.fromEntries(keys.map((k) => [`f:${k}`, {}]));
  return {
    apiVersion: 'discovery.liqo.io/v1alpha1',
    kind: 'ForeignCluster',
    metadata: {
      name: 'my-cluster',
      uid: '4c1f3a7e-7d7e-4a4b-9d1e-3f1c2b0a9e11',
      resourceVersion: '12345',
      generation: 3,
      creationTimestamp: '2026-12-01T10:00:00Z',
      labels: {
        'discovery.liqo.io/cluster-id': spec.clusterIdentity.clusterID,
        'discovery.liqo.io/discovery-type': 'Manual',
      },
      annotations: {
        'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({
          metadata: { name: 'my-cluster' },
          spec,
        }),
      },
      managedFields: [
        {
          manager: 'kubectl-client-side-apply',
          operation: 'Update',
          apiVersion: 'discovery.liqo.io/v1alpha1',
          time: '2026-12-01T10:00:00Z',
          fieldsType: 'FieldsV1',
          fieldsV1: {
            'f:metadata': {
              'f:annotations': fields(['kubectl.kubernetes.io/last-applied-configuration']),
              'f:labels': fields(['discovery.liqo.io/cluster-id', 'discovery.liqo.io/discovery-type']),
            },
            'f:spec': {
              ...fields(['authUrl', 'join', 'discoveryType', 'trustMode', 'namespace']),
              'f:clusterIdentity': fields(['clusterID', 'clusterName']),
            },
          },
        },
        {
          manager: 'liqo-discovery-agent',
          operation: 'Update',
          apiVersion: 'discovery.liqo.io/v1alpha1',
          time: '2026-12-01T10:01:00Z',
          fieldsType: 'FieldsV1',
          subresource: 'status',
          fieldsV1: { 'f:status': { 'f:conditions': {}, 'f:ttl': {} } },
        },
      ],
    },
    spec,
    status: {
      ttl: 90,
      conditions: [
        {
          type: 'IdentityResolved',
          status: 'True',
          reason: 'Resolved',
          message: 'identity of cluster 0558de48 read from https://192.168.1.10:30443/ids',
          lastTransitionTime: '2026-12-01T10:01:00Z',
        },
      ],
    },
  };
}

const review = (operation: 'CREATE' | 'UPDATE', object: unknown, oldObject: unknown = null): Buffer =>
  Buffer.from(admissionReviewJson(operation, object, oldObject));

const bodies: Array<[string, Buffer]> = [
  ['CREATE (bench/webhook.ts body)', review('CREATE', GUIDE_FOREIGN_CLUSTER)],
  ['UPDATE (kubectl apply, managedFields)', review('UPDATE', foreignCluster(true), foreignCluster(false))],
];

/** Nanoseconds per call of `fn`, over ITERATIONS calls. */
function time(fn: () => unknown): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < ITERATIONS; i++) fn();
  return Number(process.hrtime.bigint() - start) / ITERATIONS;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

console.log(
  `nesting check vs JSON.parse: ${ROUNDS} interleaved rounds of ${ITERATIONS} calls (Node ${process.version}, ${cpus().length} CPUs, load ${loadavg()[0]?.toFixed(1)})`,
);
console.log('body                                   bytes   check ns   parse ns   check/parse');
for (const [name, bytes] of bodies) {
  if (nestsDeeperThan(bytes, MAX_JSON_DEPTH)) throw new Error(`${name} counted as too deep`);
  const check: number[] = [];
  const parse: number[] = [];
  const ratios: number[] = [];
  time(() => nestsDeeperThan(bytes, MAX_JSON_DEPTH)); // warm-up
  time(() => JSON.parse(bytes.toString('utf8')));
  for (let round = 0; round < ROUNDS; round++) {
    const c = time(() => nestsDeeperThan(bytes, MAX_JSON_DEPTH));
    const p = time(() => JSON.parse(bytes.toString('utf8')));
    check.push(c);
    parse.push(p);
    ratios.push(c / p);
  }
  console.log(
    `${name.padEnd(38)} ${String(bytes.length).padStart(5)} ${median(check).toFixed(0).padStart(10)} ${median(parse).toFixed(0).padStart(10)} ${median(ratios).toFixed(2).padStart(12)}x`,
  );
}
