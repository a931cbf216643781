// Whether a Deployment or DaemonSet has rolled out, with kubectl rollout status's messages
// (its DeploymentStatusViewer and DaemonSetStatusViewer, kubectl/pkg/polymorphichelpers).
import { describeObject, isDaemonSet, type WorkloadObject } from './objects.js';

export interface RolloutState {
  done: boolean;
  /** e.g. `deployment.apps/liqo-webhook: 1 of 2 updated replicas are available`. */
  message: string;
  /** Pods the controller wants (a DaemonSet on no matching node wants none). */
  desired: number;
  /** Replicas that are available now, of any revision. */
  available: number;
}

export function rolloutState(w: WorkloadObject): RolloutState {
  const name = describeObject(w);
  const say = (done: boolean, text: string, desired: number, available: number): RolloutState => ({
    done,
    message: `${name}: ${text}`,
    desired,
    available,
  });
  const generation = w.metadata.generation as number | undefined;
  const observed = w.status?.observedGeneration;
  if (isDaemonSet(w)) {
    const s = w.status;
    const desired = s?.desiredNumberScheduled ?? 0;
    const available = s?.numberAvailable ?? 0;
    if (observed === undefined || (generation !== undefined && observed < generation)) {
      return say(false, 'waiting for the controller to see the new spec', desired, available);
    }
    const updated = s?.updatedNumberScheduled ?? 0;
    if (updated < desired) return say(false, `${updated} of ${desired} pods updated`, desired, available);
    if (available < desired) {
      return say(false, `${available} of ${desired} updated pods are available`, desired, available);
    }
    return say(true, `rolled out (${available} of ${desired} pods available)`, desired, available);
  }
  const s = w.status;
  const desired = w.spec?.replicas ?? 1;
  const available = s?.availableReplicas ?? 0;
  if (observed === undefined || (generation !== undefined && observed < generation)) {
    return say(false, 'waiting for the controller to see the new spec', desired, available);
  }
  const updated = s?.updatedReplicas ?? 0;
  if (updated < desired) return say(false, `${updated} of ${desired} replicas updated`, desired, available);
  const total = s?.replicas ?? 0;
  if (total > updated) {
    return say(false, `${total - updated} old replicas are pending termination`, desired, available);
  }
  if (available < updated) {
    return say(false, `${available} of ${updated} updated replicas are available`, desired, available);
  }
  return say(true, `rolled out (${available} of ${desired} replicas available)`, desired, available);
}
