// The AdmissionReview the API server sends for the guide's ForeignCluster, shared by the
// webhook benches so they time the same request.
export const GUIDE_FOREIGN_CLUSTER = {
  apiVersion: 'discovery.liqo.io/v1alpha1',
  kind: 'ForeignCluster',
  metadata: { name: 'my-cluster' },
  spec: { join: true, authUrl: 'https://192.168.1.10:30443' },
};

/** The JSON text of an AdmissionReview of ForeignCluster my-cluster, as kube-apiserver sends it. */
export function admissionReviewJson(
  operation: 'CREATE' | 'UPDATE',
  object: unknown,
  oldObject: unknown = null,
): string {
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
      kind: { group: 'discovery.liqo.io', version: 'v1alpha1', kind: 'ForeignCluster' },
      resource: { group: 'discovery.liqo.io', version: 'v1alpha1', resource: 'foreignclusters' },
      name: 'my-cluster',
      operation,
      userInfo: { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] },
      object,
      oldObject,
      dryRun: false,
      options: {
        apiVersion: 'meta.k8s.io/v1',
        kind: `${operation === 'CREATE' ? 'Create' : 'Update'}Options`,
      },
    },
  });
}
