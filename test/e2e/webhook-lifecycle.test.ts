// The webhook as the API server sees it over time: its self-bootstrapped CA in the real webhook
// configurations, a serving certificate renewed under load with no failed admission, and what
// still holds when the webhook is down.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect, type PeerCertificate } from 'node:tls';
import { LABEL_DISCOVERY_TYPE, PLURAL_FOREIGN_CLUSTERS } from '../../shared/api/constants.js';
import type { ForeignCluster } from '../../shared/api/types.js';
import type { LiqoEnvironment } from '../harness/liqo-environment.js';
import { WEBHOOK_CONFIGURATION_NAME } from '../harness/webhook-configurations.js';
import { apply, E2E_WEBHOOK, getObject, liqoEnvironment, resetLiqoObjects } from './setup.js';

const WEBHOOK_TLS_SECRET = 'liqo-webhook-tls'; // the webhook's default --tls-secret-name

function foreignCluster(name: string, authUrl: string, join = false): string {
  return JSON.stringify({
    apiVersion: 'discovery.liqo.io/v1alpha1',
    kind: 'ForeignCluster',
    metadata: { name },
    spec: { authUrl, join },
  });
}

/** The certificate the webhook serves; with `ca`, the handshake must verify against it. */
function servedCertificate(url: string, ca?: string): Promise<PeerCertificate> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(
      { host: hostname, port: Number(port), ...(ca ? { ca } : { rejectUnauthorized: false }) },
      () => {
        const cert = socket.getPeerCertificate();
        socket.end();
        resolve(cert);
      },
    );
    socket.on('error', reject);
  });
}

async function caBundles(env: LiqoEnvironment): Promise<string[]> {
  const bundles: string[] = [];
  for (const kind of ['mutatingwebhookconfiguration', 'validatingwebhookconfiguration']) {
    const r = await env.controlPlane.kubectl(['get', kind, WEBHOOK_CONFIGURATION_NAME, '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const config = JSON.parse(r.stdout) as { webhooks: Array<{ clientConfig: { caBundle?: string } }> };
    assert.ok(config.webhooks.length > 0);
    for (const w of config.webhooks)
      bundles.push(Buffer.from(w.clientConfig.caBundle ?? '', 'base64').toString('utf8'));
  }
  return bundles;
}

describe('e2e: the webhook over its lifetime', function () {
  let env: LiqoEnvironment;
  const getFc = (name: string) => getObject<ForeignCluster>(env, PLURAL_FOREIGN_CLUSTERS, name);

  before(async function () {
    this.timeout(180_000);
    env = await liqoEnvironment();
  });
  beforeEach(async () => resetLiqoObjects(env));

  it('writes its CA bundle into both real webhook configurations, and serves a certificate it verifies', async () => {
    const r = await env.controlPlane.kubectl([
      'get',
      'secret',
      '-n',
      'liqo',
      WEBHOOK_TLS_SECRET,
      '-o',
      'json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const caPem = Buffer.from(
      (JSON.parse(r.stdout) as { data: Record<string, string> }).data['tls.crt'] ?? '',
      'base64',
    ).toString();
    assert.match(caPem, /BEGIN CERTIFICATE/);
    const bundles = await caBundles(env);
    for (const bundle of bundles) assert.ok(bundle.includes(caPem.trim()), 'caBundle lacks the CA');
    // the handshake verifies against the bundle, by IP SAN 127.0.0.1
    const served = await servedCertificate(env.webhookUrl, bundles[0]);
    assert.match(served.subjectaltname ?? '', /IP Address:127\.0\.0\.1/);
  });

  let shortLivedWebhook = false;
  after(async function () {
    this.timeout(60_000);
    if (shortLivedWebhook) await env.startWebhook(E2E_WEBHOOK); // back to the usual flags
  });

  it('renews a short-lived serving certificate under load with zero failed admissions', async function () {
    this.timeout(120_000);
    shortLivedWebhook = true;
    await env.startWebhook({
      ...E2E_WEBHOOK,
      extraArgs: ['--serving-cert-validity=20s', '--renew-before=10s'],
    });
    const bundle = (await caBundles(env))[0] ?? '';
    const first = await servedCertificate(env.webhookUrl, bundle);
    const firstExpiry = new Date(first.valid_to).getTime();
    // the certificate's own lifetime, not the clock: 20 s, plus the minute the issuer backdates
    // notBefore by for clock skew
    const lifetimeMs = firstExpiry - new Date(first.valid_from).getTime();
    assert.ok(
      lifetimeMs <= 20_000 + 60_000 + 1_000,
      `expected a short-lived certificate, got one valid from ${first.valid_from} to ${first.valid_to}`,
    );

    const failures: string[] = [];
    let admissions = 0;
    // keep admitting (creates and updates, two at a time) until past the first certificate's expiry
    const worker = async (id: number) => {
      for (let i = 0; Date.now() < firstExpiry + 3_000; i++) {
        const r = await apply(
          env,
          foreignCluster(`load-${id}-${i % 5}`, `https://192.168.1.${10 + id}:30740`, i % 2 === 0),
        );
        admissions++;
        if (r.code !== 0) failures.push(r.stderr.trim());
      }
    };
    await Promise.all([worker(1), worker(2)]);
    const last = await servedCertificate(env.webhookUrl, (await caBundles(env))[0]);
    assert.notEqual(last.fingerprint256, first.fingerprint256, 'the serving certificate was not renewed');
    assert.ok(new Date(last.valid_to).getTime() > firstExpiry);
    assert.deepEqual(failures, [], `${failures.length} of ${admissions} admissions failed`);
    assert.ok(admissions > 10, `only ${admissions} admissions ran`);
    // and the webhook still did its job on the last ones
    assert.equal((await getFc('load-1-0'))?.metadata.labels?.[LABEL_DISCOVERY_TYPE], 'Manual');
  });
});

describe('e2e: with the webhook stopped', function () {
  let env: LiqoEnvironment;
  const getFc = (name: string) => getObject<ForeignCluster>(env, PLURAL_FOREIGN_CLUSTERS, name);

  before(async function () {
    this.timeout(180_000);
    env = await liqoEnvironment();
    await resetLiqoObjects(env); // while the webhook still runs: the reset writes a ClusterConfig
    await env.stopWebhook();
  });
  after(async function () {
    this.timeout(60_000);
    await env.setFailurePolicy('Fail');
    await env.startWebhook(E2E_WEBHOOK);
  });

  it('failurePolicy Fail (as shipped): writes of our kinds are refused (fail closed), nothing is stored', async () => {
    const r = await apply(env, foreignCluster('while-down', 'https://192.168.1.10:30740'));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /failed calling webhook/);
    assert.equal(await getFc('while-down'), undefined);
  });

  it('failurePolicy Ignore: the CRD\'s own rules still refuse authUrl "" (and the webhook is really out)', async () => {
    await env.setFailurePolicy('Ignore');
    const empty = await apply(env, foreignCluster('empty-url', ''));
    assert.notEqual(empty.code, 0);
    assert.match(empty.stderr, /spec\.authUrl/);
    assert.match(empty.stderr, /must not be empty/);
    assert.doesNotMatch(empty.stderr, /webhook/);
    assert.equal(await getFc('empty-url'), undefined);

    // a valid object goes in, without what only the webhook adds (the label): so the refusal
    // above came from the CRD, not from a webhook call
    const name = `valid-${randomUUID().slice(0, 8)}`;
    const ok = await apply(env, foreignCluster(name, 'https://192.168.1.10:30740'));
    assert.equal(ok.code, 0, ok.stderr);
    const fc = await getFc(name);
    assert.equal(fc?.spec.join, false);
    assert.equal(fc?.metadata.labels?.[LABEL_DISCOVERY_TYPE], undefined);
  });
});
