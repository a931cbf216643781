// The SIG-Multicluster APIs we speak: the About API's ClusterProperty (KEP-2149, about.k8s.io,
// cluster-scoped, from kubernetes-sigs/about-api) and ClusterProfile (KEP-4322,
// multicluster.x-k8s.io, namespaced, from sigs.k8s.io/cluster-inventory-api). Both CRDs are
// optional: a cluster without them answers 404 for the resource type, which callers treat as
// "not installed", never as an error.
import type { CustomObjectsApi } from '@kubernetes/client-node';

export const ABOUT_GROUP = 'about.k8s.io';
export const ABOUT_VERSION = 'v1beta1';
export const ABOUT_API_VERSION = `${ABOUT_GROUP}/${ABOUT_VERSION}`;
export const KIND_CLUSTER_PROPERTY = 'ClusterProperty';
export const PLURAL_CLUSTER_PROPERTIES = 'clusterproperties';
/** KEP-2149's well-known property: this cluster's id, unique within its ClusterSet. */
export const CLUSTER_ID_PROPERTY = 'cluster.clusterset.k8s.io';
/** Where to get the ClusterProperty CRD (one line for messages). */
export const CLUSTER_PROPERTY_CRD_HINT =
  'install the ClusterProperty CRD of https://github.com/kubernetes-sigs/about-api (config/crd/about.k8s.io_clusterproperties.yaml, with its api-approved.kubernetes.io annotation)';

export const CLUSTER_INVENTORY_GROUP = 'multicluster.x-k8s.io';
export const CLUSTER_INVENTORY_VERSION = 'v1alpha1';
export const CLUSTER_INVENTORY_API_VERSION = `${CLUSTER_INVENTORY_GROUP}/${CLUSTER_INVENTORY_VERSION}`;
export const KIND_CLUSTER_PROFILE = 'ClusterProfile';
export const PLURAL_CLUSTER_PROFILES = 'clusterprofiles';
/** KEP-4322: the label naming the cluster manager, equal to spec.clusterManager.name. */
export const LABEL_CLUSTER_MANAGER = 'x-k8s.io/cluster-manager';
/** Our spec.clusterManager.name (and label value). */
export const CLUSTER_MANAGER_NAME = 'liqo-discovery';

export interface ClusterProperty {
  apiVersion: string;
  kind: string;
  metadata: { name: string; uid?: string; resourceVersion?: string; [key: string]: unknown };
  spec: { value: string };
}

/** What a read of a ClusterProperty found. */
export type ClusterPropertyRead =
  { crdInstalled: false } | { crdInstalled: true; property: ClusterProperty | undefined };

/**
 * The HTTP status of a failed client-node call, and whether a 404 was for the object (a
 * Status body, reason NotFound) rather than for the resource type (the API server's plain
 * "404 page not found" when no CRD serves that path).
 */
export function classifyNotFound(err: unknown): 'object' | 'resource-type' | undefined {
  const e = err as { code?: unknown; body?: unknown } | undefined;
  if (e?.code !== 404) return undefined;
  let body: unknown = e.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      return 'resource-type';
    }
  }
  const status = body as { kind?: string; reason?: string } | undefined;
  return status?.kind === 'Status' && status.reason === 'NotFound' ? 'object' : 'resource-type';
}

type CallOptions = Parameters<CustomObjectsApi['getClusterCustomObject']>[1];

/** Reads ClusterProperty `name`; `{ crdInstalled: false }` when the CRD is not there. */
export async function readClusterProperty(
  custom: CustomObjectsApi,
  name: string,
  options?: CallOptions,
): Promise<ClusterPropertyRead> {
  try {
    const property = (await custom.getClusterCustomObject(
      { group: ABOUT_GROUP, version: ABOUT_VERSION, plural: PLURAL_CLUSTER_PROPERTIES, name },
      options,
    )) as ClusterProperty;
    return { crdInstalled: true, property };
  } catch (err) {
    const notFound = classifyNotFound(err);
    if (notFound === 'object') return { crdInstalled: true, property: undefined };
    if (notFound === 'resource-type') return { crdInstalled: false };
    throw err;
  }
}

/** The id a ClusterProperty value gives, or undefined when it holds nothing usable. */
export function clusterIdOfProperty(property: ClusterProperty | undefined): string | undefined {
  const value = property?.spec?.value;
  if (typeof value !== 'string') return undefined;
  const id = value.trim();
  return id === '' ? undefined : id;
}

/** ClusterProperty `cluster.clusterset.k8s.io` holding `clusterId`. */
export function clusterIdProperty(clusterId: string): ClusterProperty {
  return {
    apiVersion: ABOUT_API_VERSION,
    kind: KIND_CLUSTER_PROPERTY,
    metadata: { name: CLUSTER_ID_PROPERTY },
    spec: { value: clusterId },
  };
}

/** How the ConfigMap's id and the ClusterProperty's relate (both optional). */
export type ClusterIdAgreement =
  | { state: 'no-property' }
  | { state: 'agree'; clusterId: string }
  | { state: 'property-only'; clusterId: string }
  | { state: 'differ'; configMapId: string; propertyId: string };

export function clusterIdAgreement(
  configMapId: string | undefined,
  propertyId: string | undefined,
): ClusterIdAgreement {
  if (propertyId === undefined) return { state: 'no-property' };
  if (configMapId === undefined) return { state: 'property-only', clusterId: propertyId };
  if (configMapId === propertyId) return { state: 'agree', clusterId: propertyId };
  return { state: 'differ', configMapId, propertyId };
}

/** One line about a disagreement, the same in the agent's condition and `discovery status`. */
export function clusterIdMismatchMessage(namespace: string, configMapId: string, propertyId: string): string {
  return (
    `ConfigMap ${namespace}/cluster-id says ${configMapId} but ClusterProperty ${CLUSTER_ID_PROPERTY} says ` +
    `${propertyId}; /ids serves the ConfigMap's (make them equal, or delete the one that is wrong)`
  );
}
