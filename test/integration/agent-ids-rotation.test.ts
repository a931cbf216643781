// The /ids certificate is rotated while the server runs: real files in a temporary folder, a
// real HTTPS /ids server on loopback, real TLS handshakes. Replacing the files (as a mounted
// Secret or cert-manager does) makes new connections get the new certificate; a pair that does
// not load is refused and the current one kept.
import assert from 'node:assert/strict';
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { createServingCertificate, type PemKeyPair } from '../../shared/tls/certificates.js';
import { rotateIdsCertificate, type CertificateRotation } from '../../agent/ids-certificate.js';
import { startIdentityServer, type IdentityServer } from '../../agent/identity-server.js';
import { createLogger } from '../../agent/logger.js';
import { eventually } from '../e2e/agent-cluster-fixture.js';

const log = createLogger('silent');

const newPair = (name: string): PemKeyPair => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return createServingCertificate({ commonName: name, hosts: ['127.0.0.1'], keyPem });
};

/** The serial of the certificate a new TLS connection is shown. */
function servedSerial(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const serial = socket.getPeerX509Certificate()?.serialNumber ?? '';
      socket.end();
      resolve(serial);
    });
    socket.on('error', reject);
  });
}
const serialOf = (pair: PemKeyPair) => new X509Certificate(pair.certPem).serialNumber;

describe('/ids certificate rotation (files)', function () {
  this.timeout(60_000);
  let dir: string;
  let server: IdentityServer;
  let rotation: CertificateRotation;
  const first = newPair('first');
  const certFile = () => join(dir, 'tls.crt');
  const keyFile = () => join(dir, 'tls.key');
  /** Writes both files by rename, as kubelet's atomic writer swaps a Secret volume. */
  const install = (pair: PemKeyPair) => {
    writeFileSync(join(dir, '.tls.crt.new'), pair.certPem);
    writeFileSync(join(dir, '.tls.key.new'), pair.keyPem);
    renameSync(join(dir, '.tls.key.new'), keyFile());
    renameSync(join(dir, '.tls.crt.new'), certFile());
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ids-rotation-'));
    install(first);
    server = await startIdentityServer({
      port: 0,
      host: '127.0.0.1',
      tls: first,
      identity: () => ({ clusterId: 'rotating' }),
      log,
    });
    rotation = rotateIdsCertificate({
      source: { certFile: certFile(), keyFile: keyFile() },
      current: first,
      onChange: (pair) => server.setCertificate(pair),
      checkIntervalMs: 60_000, // longer than the test: only the file events can bring a change
      log,
    });
  });

  after(async () => {
    rotation?.stop();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the new certificate to new connections once the files are replaced', async () => {
    assert.equal(await servedSerial(server.port), serialOf(first));
    const second = newPair('second');
    install(second);
    await eventually('the new certificate served', async () =>
      (await servedSerial(server.port)) === serialOf(second) ? true : undefined,
    );
  });

  it('keeps the current certificate when the new files do not make a pair', async () => {
    const current = await servedSerial(server.port);
    const a = newPair('a');
    const b = newPair('b');
    install({ certPem: a.certPem, keyPem: b.keyPem }); // a key that does not match
    await rotation.check();
    assert.equal(await servedSerial(server.port), current);
    install(b);
    await eventually('a good pair is taken again', async () =>
      (await servedSerial(server.port)) === serialOf(b) ? true : undefined,
    );
  });
});
