// The certificates of a real node, made fresh for each cluster: one CA signs kube-apiserver's
// serving certificate and every client (each component is the user Kubernetes' bootstrap RBAC
// expects: system:kube-controller-manager, system:kube-scheduler, system:node:<node> in
// system:nodes, system:kube-proxy), plus the service-account signing key pair. The kubelet signs
// its own serving certificate.
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createCertificateAuthority,
  createServingCertificate,
  type PemKeyPair,
} from '../../../shared/tls/certificates.js';
import { createClientCertificate } from '../pki.js';

/** The ClusterIP of the `kubernetes` Service: first address of the Service range. */
export const KUBERNETES_SERVICE_IP = '10.96.0.1';

export type NodeComponent = 'admin' | 'controller-manager' | 'scheduler' | 'kubelet' | 'kube-proxy';

export interface NodePkiFiles {
  caCert: string;
  caKey: string;
  servingCert: string;
  servingKey: string;
  kubeletClientCert: string;
  kubeletClientKey: string;
  saPublic: string;
  saPrivate: string;
}

export interface NodePki {
  ca: PemKeyPair;
  files: NodePkiFiles;
  clients: Record<NodeComponent, PemKeyPair>;
}

function rsaKeyPem(): string {
  return generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
}

export function createNodePki(dir: string, nodeName: string, nodeIp: string): NodePki {
  const ca = createCertificateAuthority({ commonName: `liqo-node-${nodeName}-ca`, keyPem: rsaKeyPem() });
  const serving = createServingCertificate(
    {
      commonName: 'kube-apiserver',
      // 127.0.0.1: the forwarder's end on the machine; the rest: inside the node and its pods
      hosts: [
        '127.0.0.1',
        'localhost',
        nodeIp,
        KUBERNETES_SERVICE_IP,
        'kubernetes',
        'kubernetes.default',
        'kubernetes.default.svc',
        'kubernetes.default.svc.cluster.local',
      ],
      keyPem: rsaKeyPem(),
    },
    ca,
  );
  const kubeletClient = createClientCertificate(ca, 'kube-apiserver-kubelet-client', ['system:masters']);
  const sa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const clients: Record<NodeComponent, PemKeyPair> = {
    admin: createClientCertificate(ca, 'kubernetes-admin', ['system:masters']),
    'controller-manager': createClientCertificate(ca, 'system:kube-controller-manager', []),
    scheduler: createClientCertificate(ca, 'system:kube-scheduler', []),
    kubelet: createClientCertificate(ca, `system:node:${nodeName}`, ['system:nodes']),
    'kube-proxy': createClientCertificate(ca, 'system:kube-proxy', []),
  };
  const files: NodePkiFiles = {
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    servingCert: join(dir, 'apiserver.crt'),
    servingKey: join(dir, 'apiserver.key'),
    kubeletClientCert: join(dir, 'apiserver-kubelet-client.crt'),
    kubeletClientKey: join(dir, 'apiserver-kubelet-client.key'),
    saPublic: join(dir, 'sa.pub'),
    saPrivate: join(dir, 'sa.key'),
  };
  const secret = { mode: 0o600 };
  writeFileSync(files.caCert, ca.certPem);
  writeFileSync(files.caKey, ca.keyPem, secret);
  writeFileSync(files.servingCert, serving.certPem);
  writeFileSync(files.servingKey, serving.keyPem, secret);
  writeFileSync(files.kubeletClientCert, kubeletClient.certPem);
  writeFileSync(files.kubeletClientKey, kubeletClient.keyPem, secret);
  writeFileSync(files.saPublic, sa.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  writeFileSync(files.saPrivate, sa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), secret);
  return { ca, files, clients };
}

/** A kubeconfig (JSON, which is YAML) for one client certificate or bearer token. */
export function nodeKubeconfig(
  clusterName: string,
  server: string,
  caPem: string,
  user: string,
  credentials: PemKeyPair | { token: string },
): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const userEntry =
    'token' in credentials
      ? { token: credentials.token }
      : {
          'client-certificate-data': b64(credentials.certPem),
          'client-key-data': b64(credentials.keyPem),
        };
  const context = `${user}@${clusterName}`;
  return JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: clusterName, cluster: { server, 'certificate-authority-data': b64(caPem) } }],
      users: [{ name: user, user: userEntry }],
      contexts: [{ name: context, context: { cluster: clusterName, user } }],
      'current-context': context,
    },
    null,
    2,
  );
}
