// Pod states turned into install's one-line reasons, and workload statuses into rollout
// progress. The pod JSON has the shapes kubelet 1.33 with containerd and the scheduler write
// (status fields as `kubectl get pod -o json` shows them).
import assert from 'node:assert/strict';
import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import type { WorkloadObject } from '../../plugin/install/objects.js';
import {
  crashingContainer,
  latestWarning,
  podProblem,
  unreadyContainer,
  worstProblem,
} from '../../plugin/install/pod-state.js';
import { rolloutState } from '../../plugin/install/rollout.js';

const IMAGE = 'ghcr.io/liqo-discovery/liqo-discovery:0.1.0';

function pod(name: string, spec: Record<string, unknown>, status: Record<string, unknown>): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'liqo', labels: { 'app.kubernetes.io/name': 'liqo-webhook' } },
    spec: { containers: [{ name: 'webhook', image: IMAGE }], ...spec },
    status,
  } as unknown as V1Pod;
}

const scheduled = [
  { type: 'PodReadyToStartContainers', status: 'True', lastProbeTime: null },
  { type: 'Initialized', status: 'True', lastProbeTime: null },
  {
    type: 'Ready',
    status: 'False',
    reason: 'ContainersNotReady',
    message: 'containers with unready status: [webhook]',
  },
  { type: 'PodScheduled', status: 'True', lastProbeTime: null },
];

function waiting(reason: string, message: string, extra: Record<string, unknown> = {}) {
  return pod(
    `liqo-webhook-7d9c8b6f5-${reason.length}x2z`,
    { nodeName: 'node-1' },
    {
      phase: 'Pending',
      conditions: scheduled,
      hostIP: '10.0.0.2',
      podIP: '10.244.0.7',
      containerStatuses: [
        {
          name: 'webhook',
          image: IMAGE,
          imageID: '',
          lastState: {},
          ready: false,
          restartCount: 0,
          started: false,
          state: { waiting: { reason, message } },
          ...extra,
        },
      ],
    },
  );
}

describe('install: pod states in one line', () => {
  it('ErrImagePull: the image, the node, the kubelet message without its gRPC wrapping, how to load it', () => {
    const p = waiting(
      'ErrImagePull',
      `rpc error: code = NotFound desc = failed to pull and unpack image "${IMAGE}": failed to resolve reference "${IMAGE}": ${IMAGE}: not found`,
    );
    const problem = podProblem(p);
    assert.ok(problem);
    assert.equal(problem.permanent, false);
    assert.match(
      problem.line,
      /^ErrImagePull: image "ghcr\.io\/liqo-discovery\/liqo-discovery:0\.1\.0" not found on node node-1 \(failed to pull and unpack/,
    );
    assert.match(
      problem.line,
      /: load it into the node \(`kind load image-archive <archive>`, or `ctr -n k8s\.io images import <archive>`/,
    );
    assert.doesNotMatch(problem.line, /rpc error|\n/);
  });

  it('ImagePullBackOff from a registry that refuses: "cannot be pulled"', () => {
    const problem = podProblem(
      waiting(
        'ImagePullBackOff',
        `Back-off pulling image "${IMAGE}": ErrImagePull: failed to pull and unpack image "${IMAGE}": failed to resolve reference "${IMAGE}": failed to do request: Head "https://ghcr.io/v2/liqo-discovery/liqo-discovery/manifests/0.1.0": dial tcp: lookup ghcr.io: no such host`,
      ),
    );
    assert.match(
      problem?.line ?? '',
      /^ImagePullBackOff: image "[^"]+" cannot be pulled on node node-1 \(Back-off pulling/,
    );
    assert.ok((problem?.line.length ?? 0) < 600, 'the kubelet message is shortened');
  });

  it('ErrImageNeverPull is permanent and says to load the image', () => {
    const problem = podProblem(
      waiting('ErrImageNeverPull', `Container image "${IMAGE}" is not present with pull policy of Never`),
    );
    assert.equal(problem?.permanent, true);
    assert.match(
      problem?.line ?? '',
      /^ErrImageNeverPull: image "[^"]+" is not on node node-1 and the pull policy is Never: load it into the node/,
    );
  });

  it('CrashLoopBackOff: restarts, exit code and the last log line of the previous run', () => {
    const p = waiting(
      'CrashLoopBackOff',
      'back-off 20s restarting failed container=webhook pod=liqo-webhook-7d9c8b6f5-x2z_liqo(5b1e9d0e-1f0a-4a55-9b59-3c2f0d0b6f11)',
      {
        restartCount: 3,
        lastState: {
          terminated: {
            containerID: 'containerd://4f6c',
            exitCode: 1,
            reason: 'Error',
            startedAt: '2026-12-04T10:00:01Z',
            finishedAt: '2026-12-04T10:00:02Z',
          },
        },
      },
    );
    assert.equal(crashingContainer(p), 'webhook');
    const line = podProblem(
      p,
      '{"level":50,"msg":"cannot bootstrap TLS: secrets is forbidden: User \\"system:serviceaccount:liqo:liqo-webhook\\" cannot create resource"}',
    )?.line;
    assert.match(
      line ?? '',
      /^CrashLoopBackOff: container webhook restarted 3 times, exit code 1 \(Error\); last log line: \{"level":50,"msg":"cannot bootstrap TLS: secrets is forbidden/,
    );
    // no log (e.g. the node is unreachable): still the exit code
    assert.equal(
      podProblem(p)?.line,
      'CrashLoopBackOff: container webhook restarted 3 times, exit code 1 (Error)',
    );
  });

  it('Unschedulable: the scheduler’s message', () => {
    const p = pod(
      'liqo-discovery-agent-8kq2x',
      {},
      {
        phase: 'Pending',
        qosClass: 'Burstable',
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            lastProbeTime: null,
            lastTransitionTime: '2026-12-04T10:00:00Z',
            message:
              "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
          },
        ],
      },
    );
    assert.equal(crashingContainer(p), undefined);
    assert.equal(
      podProblem(p)?.line,
      "Unschedulable: 0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
    );
  });

  it('Running but not Ready, not yet scheduled, and Ready (no problem)', () => {
    const running = pod(
      'liqo-webhook-a',
      { nodeName: 'node-1' },
      {
        phase: 'Running',
        conditions: scheduled,
        containerStatuses: [
          {
            name: 'webhook',
            image: IMAGE,
            ready: false,
            restartCount: 0,
            started: true,
            state: { running: { startedAt: '2026-12-04T10:00:00Z' } },
          },
        ],
      },
    );
    assert.equal(
      podProblem(running)?.line,
      'Running on node node-1 but not Ready: containers with unready status: [webhook]',
    );
    // when install gives up, the last line the unready container logged says why
    assert.equal(unreadyContainer(running), 'webhook');
    assert.equal(
      podProblem(running, '{"level":50,"msg":"watch failed: connect ECONNREFUSED 10.96.0.1:443"}')?.line,
      'Running on node node-1 but not Ready: containers with unready status: [webhook]; last log line: {"level":50,"msg":"watch failed: connect ECONNREFUSED 10.96.0.1:443"}',
    );
    assert.equal(
      podProblem(pod('liqo-webhook-b', {}, { phase: 'Pending' }))?.line,
      'Pending: not scheduled to a node yet',
    );
    const ready = structuredClone(running);
    ready.status!.conditions = scheduled.map((c) =>
      c.type === 'Ready' ? { type: 'Ready', status: 'True' } : c,
    ) as V1Pod['status'] extends { conditions?: infer C } ? C : never;
    assert.equal(podProblem(ready), undefined);
    ready.status!.containerStatuses![0]!.ready = true;
    assert.equal(unreadyContainer(ready), undefined);
    assert.equal(unreadyContainer(pod('liqo-webhook-b', {}, { phase: 'Pending' })), undefined);
  });

  it('a container the kubelet keeps restarting: the count, and the newest Warning event as kubectl describe shows it', () => {
    const restarting = pod(
      'liqo-discovery-agent-cs285',
      { nodeName: 'node-1' },
      {
        phase: 'Running',
        conditions: scheduled,
        containerStatuses: [
          {
            name: 'webhook',
            image: IMAGE,
            ready: false,
            restartCount: 3,
            started: false,
            state: { running: { startedAt: '2026-12-04T10:03:00Z' } },
            lastState: { terminated: { exitCode: 0, reason: 'Completed' } },
          },
        ],
      },
    );
    assert.equal(
      podProblem(restarting)?.line,
      'Running on node node-1 but not Ready: containers with unready status: [webhook]; container webhook restarted 3 times',
    );
    const event = (type: string, reason: string, message: string, at: string) =>
      ({
        metadata: {},
        involvedObject: {},
        type,
        reason,
        message,
        lastTimestamp: new Date(at),
      }) as CoreV1Event;
    assert.equal(
      latestWarning([
        event(
          'Warning',
          'Unhealthy',
          'Readiness probe failed: HTTP probe failed with statuscode: 503',
          '2026-12-04T10:01:00Z',
        ),
        event(
          'Normal',
          'Killing',
          'Container agent failed liveness probe, will be restarted',
          '2026-12-04T10:03:00Z',
        ),
        event(
          'Warning',
          'Unhealthy',
          'Liveness probe failed: Get "http://10.78.1.2:9444/healthz": dial tcp 10.78.1.2:9444: connect: connection refused',
          '2026-12-04T10:02:30Z',
        ),
      ]),
      'Unhealthy: Liveness probe failed: Get "http://10.78.1.2:9444/healthz": dial tcp 10.78.1.2:9444: connect: connection refused',
    );
    assert.equal(
      latestWarning([event('Normal', 'Started', 'Started container agent', '2026-12-04T10:00:00Z')]),
      undefined,
    );
  });

  it('the pod reported is the most telling one', () => {
    const notReady = podProblem(pod('liqo-webhook-a', {}, { phase: 'Pending' }));
    const pull = podProblem(waiting('ErrImagePull', 'not found'));
    assert.equal(worstProblem([undefined, notReady, pull])?.line, pull?.line);
    assert.equal(worstProblem([undefined]), undefined);
  });
});

describe('install: rollout progress', () => {
  const deployment = (status: Record<string, unknown>, generation = 2) =>
    ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'liqo-webhook', namespace: 'liqo', generation },
      spec: { replicas: 2 },
      status,
    }) as unknown as WorkloadObject;

  it('a Deployment is done when every replica is updated and available, as kubectl rollout status says', () => {
    assert.equal(
      rolloutState(deployment({})).message,
      'deployment.apps/liqo-webhook: waiting for the controller to see the new spec',
    );
    const partway = rolloutState(
      deployment({ observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 1 }),
    );
    assert.deepEqual(
      [partway.done, partway.message, partway.available],
      [false, 'deployment.apps/liqo-webhook: 1 of 2 updated replicas are available', 1],
    );
    assert.equal(
      rolloutState(
        deployment({ observedGeneration: 2, replicas: 3, updatedReplicas: 2, availableReplicas: 2 }),
      ).message,
      'deployment.apps/liqo-webhook: 1 old replicas are pending termination',
    );
    assert.equal(
      rolloutState(
        deployment({ observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 }),
      ).done,
      true,
    );
  });

  it('a DaemonSet on no matching node is done with nothing desired', () => {
    const ds = (status: Record<string, unknown>) =>
      ({
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        metadata: { name: 'liqo-discovery-agent', namespace: 'liqo', generation: 1 },
        spec: {},
        status,
      }) as unknown as WorkloadObject;
    const none = rolloutState(
      ds({
        observedGeneration: 1,
        desiredNumberScheduled: 0,
        currentNumberScheduled: 0,
        numberMisscheduled: 0,
        numberReady: 0,
      }),
    );
    assert.deepEqual([none.done, none.desired], [true, 0]);
    assert.equal(
      rolloutState(
        ds({
          observedGeneration: 1,
          desiredNumberScheduled: 2,
          updatedNumberScheduled: 2,
          numberAvailable: 1,
        }),
      ).message,
      'daemonset.apps/liqo-discovery-agent: 1 of 2 updated pods are available',
    );
  });
});
