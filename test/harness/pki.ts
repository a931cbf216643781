// The control plane's certificates and keys, made fresh for each run: a serving CA and
// certificate for kube-apiserver, a client CA whose certificates are the users (CN = user,
// O = groups), and the service-account signing key pair.
import forge from 'node-forge';
import { generateKeyPairSync } from 'node:crypto';
import {
  createCertificateAuthority,
  createServingCertificate,
  randomSerialNumber,
  type PemKeyPair,
} from '../../shared/tls/certificates.js';

export interface ControlPlanePki {
  servingCa: PemKeyPair;
  serving: PemKeyPair;
  clientCa: PemKeyPair;
  serviceAccount: { publicKeyPem: string; privateKeyPem: string };
}

export function createControlPlanePki(): ControlPlanePki {
  const servingCa = createCertificateAuthority({ commonName: 'liqo-discovery-test-apiserver-ca' });
  const serving = createServingCertificate(
    {
      commonName: 'kube-apiserver',
      hosts: ['127.0.0.1', 'localhost', 'kubernetes', 'kubernetes.default.svc'],
    },
    servingCa,
  );
  const clientCa = createCertificateAuthority({ commonName: 'liqo-discovery-test-client-ca' });
  const sa = forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 });
  return {
    servingCa,
    serving,
    clientCa,
    serviceAccount: {
      publicKeyPem: forge.pki.publicKeyToPem(sa.publicKey),
      privateKeyPem: forge.pki.privateKeyToPem(sa.privateKey),
    },
  };
}

/**
 * A client certificate kube-apiserver maps to user `userName` in `groups`
 * (`system:masters` makes an admin that RBAC never refuses).
 */
export function createClientCertificate(
  clientCa: PemKeyPair,
  userName: string,
  groups: string[],
): PemKeyPair {
  // node:crypto makes the key (fast, native); forge signs the certificate.
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  // not `0` + random hex: 1 in 512 of those was a serial OpenSSL refuses ("illegal padding")
  cert.serialNumber = randomSerialNumber();
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 7 * 24 * 3600 * 1000);
  cert.setSubject([
    { name: 'commonName', value: userName },
    ...groups.map((group) => ({ name: 'organizationName', value: group })),
  ]);
  const caCert = forge.pki.certificateFromPem(clientCa.certPem);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', clientAuth: true },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(clientCa.keyPem), forge.md.sha256.create());
  return {
    certPem: forge.pki.certificateToPem(cert),
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}
