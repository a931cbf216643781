// Why a pod is not serving, in one line, from its status as the kubelet and the scheduler
// wrote it: what install prints while it waits and when it gives up.
import type { CoreV1Event, V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { oneLine } from '../../shared/text.js';

const LOAD_HINT =
  'load it into the node (`kind load image-archive <archive>`, or `ctr -n k8s.io images import <archive>` on the node)';

/** Problems that waiting cannot fix: install stops at once instead of running out its timeout. */
const PERMANENT = new Set(['ErrImageNeverPull', 'InvalidImageName']);

export interface PodProblem {
  pod: string;
  /** One line: `<Reason>: <what happened>: <what to do>`. */
  line: string;
  /** Severity for picking the pod to report: lower is more telling. */
  rank: number;
  permanent: boolean;
}

/** How much of a kubelet or scheduler message a line shows. */
const SHOWN = { max: 200 };

/**
 * The kubelet's pull error without its gRPC wrapping ("rpc error: code = NotFound desc = …"),
 * shortened in the middle: its end says what went wrong ("…: not found").
 */
function pullMessage(message: string | undefined): string {
  const flat = oneLine((message ?? '').replace(/^rpc error: code = \w+ desc = /, ''));
  return flat.length > 180 ? `${flat.slice(0, 60)}…${flat.slice(-119)}` : flat;
}

function statusesOf(pod: V1Pod): V1ContainerStatus[] {
  return [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
}

/**
 * The container whose previous run's last log line would explain the pod's trouble (it is
 * restarting after exiting), if any: the caller fetches that line (tailLines=1, previous=true).
 */
export function crashingContainer(pod: V1Pod): string | undefined {
  for (const c of statusesOf(pod)) {
    const waiting = c.state?.waiting?.reason;
    if (waiting === 'CrashLoopBackOff' || (c.state?.terminated && c.state.terminated.exitCode !== 0)) {
      return c.name;
    }
  }
  return undefined;
}

/**
 * The container of a Running pod that is not ready (its readiness probe fails), if any: when
 * install gives up, the last line it logged says why (the probe's 503 alone does not).
 */
export function unreadyContainer(pod: V1Pod): string | undefined {
  if (pod.status?.phase !== 'Running') return undefined;
  return statusesOf(pod).find((c) => c.state?.running && !c.ready)?.name;
}

/** What is wrong with one pod, or undefined when it is Running and Ready. */
export function podProblem(pod: V1Pod, lastLogLine?: string): PodProblem | undefined {
  const name = pod.metadata?.name ?? '(unnamed pod)';
  const node = pod.spec?.nodeName;
  const onNode = node ? ` on node ${node}` : '';
  const problem = (rank: number, line: string, reason?: string): PodProblem => ({
    pod: name,
    line,
    rank,
    permanent: reason !== undefined && PERMANENT.has(reason),
  });

  for (const c of statusesOf(pod)) {
    const waiting = c.state?.waiting;
    const image = c.image || pod.spec?.containers.find((s) => s.name === c.name)?.image || '?';
    switch (waiting?.reason) {
      case 'ErrImageNeverPull':
        return problem(
          0,
          `ErrImageNeverPull: image "${image}" is not ${node ? `on node ${node}` : 'on the node'} and the pull policy is Never: ${LOAD_HINT}`,
          waiting.reason,
        );
      case 'ErrImagePull':
      case 'ImagePullBackOff': {
        const detail = pullMessage(waiting.message);
        const notFound = /not found|manifest unknown|does not exist/i.test(detail);
        return problem(
          0,
          `${waiting.reason}: image "${image}" ${notFound ? 'not found' : 'cannot be pulled'}${onNode}${
            detail ? ` (${detail})` : ''
          }: ${LOAD_HINT} and install with --image-pull-policy Never, or push it to a registry the node can reach`,
          waiting.reason,
        );
      }
      case 'InvalidImageName':
        return problem(
          0,
          `InvalidImageName: ${oneLine(waiting.message ?? '', SHOWN) || `"${image}"`}`,
          waiting.reason,
        );
      case 'CrashLoopBackOff': {
        const last = c.lastState?.terminated;
        const exit = last ? `exit code ${last.exitCode}${last.reason ? ` (${last.reason})` : ''}` : 'exited';
        const log = oneLine(lastLogLine ?? '', SHOWN);
        return problem(
          1,
          `CrashLoopBackOff: container ${c.name} restarted ${c.restartCount} times, ${exit}${
            log ? `; last log line: ${log}` : ''
          }`,
          waiting.reason,
        );
      }
      case 'CreateContainerConfigError':
      case 'CreateContainerError':
      case 'RunContainerError':
        return problem(1, `${waiting.reason}: ${oneLine(waiting.message ?? '', SHOWN)}`, waiting.reason);
    }
    const terminated = c.state?.terminated;
    if (terminated && terminated.exitCode !== 0) {
      const log = oneLine(lastLogLine ?? '', SHOWN);
      return problem(
        1,
        `${terminated.reason ?? 'Error'}: container ${c.name} exited with code ${terminated.exitCode}${
          log ? `; last log line: ${log}` : ''
        }`,
      );
    }
  }

  const conditions = pod.status?.conditions ?? [];
  const scheduled = conditions.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False') {
    return problem(
      2,
      `${scheduled.reason ?? 'Unschedulable'}: ${oneLine(scheduled.message ?? '', { max: 300 })}`,
    );
  }
  if (!node) return problem(3, 'Pending: not scheduled to a node yet');
  if (pod.status?.phase === 'Pending') {
    const waiting = statusesOf(pod).find((c) => c.state?.waiting)?.state?.waiting?.reason;
    return problem(3, `Pending${onNode}${waiting ? `: ${waiting}` : ''}`);
  }
  const ready = conditions.find((c) => c.type === 'Ready');
  if (ready?.status !== 'True') {
    const log = oneLine(lastLogLine ?? '', SHOWN);
    // a container the kubelet keeps restarting (a failed liveness probe) is never Ready
    const restarts = statusesOf(pod).find((c) => !c.ready && c.restartCount > 0);
    return problem(
      4,
      `${pod.status?.phase ?? 'Unknown'}${onNode} but not Ready${
        ready?.message ? `: ${oneLine(ready.message, SHOWN)}` : ''
      }${restarts ? `; container ${restarts.name} restarted ${restarts.restartCount} times` : ''}${
        log ? `; last log line: ${log}` : ''
      }`,
    );
  }
  return undefined;
}

/** The most telling problem among the pods (an image or crash error before a slow start). */
export function worstProblem(problems: (PodProblem | undefined)[]): PodProblem | undefined {
  return problems
    .filter((p): p is PodProblem => p !== undefined)
    .sort((a, b) => a.rank - b.rank || a.pod.localeCompare(b.pod))[0];
}

/**
 * The newest Warning event of a pod, in one line (what `kubectl describe pod` ends with: a
 * failed probe, a failed mount), or undefined when it has none.
 */
export function latestWarning(events: CoreV1Event[]): string | undefined {
  const at = (e: CoreV1Event) =>
    new Date(
      e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata.creationTimestamp ?? 0,
    ).getTime();
  const newest = events.filter((e) => e.type === 'Warning' && e.message).sort((a, b) => at(b) - at(a))[0];
  return newest ? oneLine(`${newest.reason ? `${newest.reason}: ` : ''}${newest.message}`, SHOWN) : undefined;
}
