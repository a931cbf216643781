// The pure half of the webhook's self-bootstrapped TLS: when a CA is unusable, what the CA
// bundle keeps, when the serving certificate is renewed, the caBundle patch, and issuing. The
// Secret and webhook-configuration writes need a real API server (the e2e harness).
import { strict as assert } from 'node:assert';
import { X509Certificate } from 'node:crypto';
import jsonPatch from 'fast-json-patch';
import {
  caBundlePatch,
  caProblem,
  issueCertificateAuthority,
  issueServingCertificate,
  MAX_TIMER_MS,
  mergeCaBundle,
  renewalDelayMs,
  renewalTime,
  servingHosts,
  splitPemBundle,
} from '../../webhook/certificates/authority.js';
import { formatDuration, parseDuration } from '../../webhook/duration.js';
import type { PemKeyPair } from '../../shared/tls/certificates.js';

const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;

describe('webhook bootstrap (pure parts)', function () {
  this.timeout(30_000);
  let ca: PemKeyPair;
  let otherCa: PemKeyPair;
  const now = new Date();

  before(async () => {
    [ca, otherCa] = await Promise.all([
      issueCertificateAuthority('test-ca-1', 365 * DAY, now),
      issueCertificateAuthority('test-ca-2', 365 * DAY, now),
    ]);
  });

  describe('durations', () => {
    it('parses Go-style durations and refuses the rest', () => {
      assert.equal(parseDuration('720h'), 720 * HOUR);
      assert.equal(parseDuration('1h30m'), 90 * 60_000);
      assert.equal(parseDuration('10s'), 10_000);
      assert.equal(parseDuration('250ms'), 250);
      for (const bad of ['', 'soon', '10', '-1h', '0s', 'h'])
        assert.equal(parseDuration(bad), undefined, bad);
      assert.equal(formatDuration(parseDuration('240h') ?? 0), '240h');
    });
  });

  describe('issuing', () => {
    it('signs a serving certificate for every Service name and the extra SANs', async () => {
      const hosts = servingHosts('liqo-webhook', 'liqo', ['127.0.0.1', 'localhost', 'liqo-webhook']);
      assert.deepEqual(hosts, [
        'liqo-webhook',
        'liqo-webhook.liqo',
        'liqo-webhook.liqo.svc',
        'liqo-webhook.liqo.svc.cluster.local',
        '127.0.0.1',
        'localhost',
      ]);
      const serving = await issueServingCertificate(ca, hosts, 720 * HOUR, now);
      const cert = new X509Certificate(serving.certPem);
      assert.ok(cert.verify(new X509Certificate(ca.certPem).publicKey));
      assert.ok(!cert.verify(new X509Certificate(otherCa.certPem).publicKey));
      assert.equal(cert.ca, false);
      assert.ok(cert.checkHost('liqo-webhook.liqo.svc'));
      assert.ok(cert.checkIP('127.0.0.1'));
      const lifetime = new Date(cert.validTo).getTime() - new Date(cert.validFrom).getTime();
      assert.ok(Math.abs(lifetime - (720 * HOUR + 60_000)) < 2000, `lifetime ${lifetime}`);
    });
  });

  describe('deciding on the CA', () => {
    it('reuses a valid CA that outlives a serving certificate', () => {
      assert.equal(caProblem(ca, now, 720 * HOUR), undefined);
    });
    it('wants a new CA when there is none, it is broken, not a CA, mismatched or expiring', async () => {
      assert.equal(caProblem(undefined, now, HOUR), 'no CA yet');
      assert.match(caProblem({ certPem: 'junk', keyPem: ca.keyPem }, now, HOUR) ?? '', /does not parse/);
      assert.match(
        caProblem({ certPem: ca.certPem, keyPem: otherCa.keyPem }, now, HOUR) ?? '',
        /key does not match/,
      );
      const serving = await issueServingCertificate(ca, ['x'], DAY, now);
      assert.match(caProblem(serving, now, HOUR) ?? '', /not a CA/);
      assert.match(caProblem(ca, now, 400 * DAY) ?? '', /expires too soon/);
      assert.match(caProblem(ca, new Date(now.getTime() + 400 * DAY), HOUR) ?? '', /has expired/);
    });
  });

  describe('the CA bundle', () => {
    it('puts the new CA first and keeps previous CAs that are still valid', async () => {
      const expired = await issueCertificateAuthority('old', HOUR, new Date(now.getTime() - 2 * DAY));
      const bundle = mergeCaBundle(otherCa.certPem, `${ca.certPem}${expired.certPem}`, now);
      assert.deepEqual(splitPemBundle(bundle), [otherCa.certPem.trim(), ca.certPem.trim()]);
      // idempotent: merging the same CA again does not duplicate it
      assert.deepEqual(splitPemBundle(mergeCaBundle(otherCa.certPem, bundle, now)).length, 2);
    });

    it('patches caBundle into every webhook that lacks it, guarded by the webhook names', () => {
      const bundle = `${ca.certPem}`;
      const encoded = Buffer.from(bundle).toString('base64');
      const config = {
        metadata: { name: 'liqo-webhook' },
        webhooks: [
          { name: 'a.liqo.io', clientConfig: { service: { name: 'liqo-webhook' } } },
          { name: 'b.liqo.io', clientConfig: { caBundle: encoded } },
          { name: 'c.liqo.io', clientConfig: { caBundle: 'b2xk' } },
        ],
      };
      const ops = caBundlePatch(config.webhooks, bundle);
      const patched = jsonPatch.applyPatch(structuredClone(config), ops, true, false).newDocument;
      assert.deepEqual(
        patched.webhooks.map((w) => w.clientConfig.caBundle),
        [encoded, encoded, encoded],
      );
      assert.deepEqual(patched.webhooks[0]?.clientConfig, {
        service: { name: 'liqo-webhook' },
        caBundle: encoded,
      });
      assert.deepEqual(caBundlePatch(patched.webhooks, bundle), [], 'nothing to do once written');
      // the list was reordered by someone else: the guarded patch fails instead of misplacing
      const reordered = { ...config, webhooks: [config.webhooks[2], config.webhooks[1], config.webhooks[0]] };
      assert.throws(() => jsonPatch.applyPatch(structuredClone(reordered), ops, true, false));
    });
  });

  describe('renewal', () => {
    it('renews renewBefore ahead of expiry', async () => {
      const serving = await issueServingCertificate(ca, ['x'], 720 * HOUR, now);
      const notAfter = new Date(new X509Certificate(serving.certPem).validTo).getTime();
      assert.equal(renewalTime(serving.certPem, 240 * HOUR).getTime(), notAfter - 240 * HOUR);
      // 480 h away: longer than a timer may wait, so the timer re-checks
      assert.equal(renewalDelayMs(serving.certPem, 240 * HOUR, now), MAX_TIMER_MS);
      const late = new Date(notAfter - 240 * HOUR - 1000);
      assert.ok(Math.abs(renewalDelayMs(serving.certPem, 240 * HOUR, late) - 1000) < 5);
      assert.equal(renewalDelayMs(serving.certPem, 240 * HOUR, new Date(notAfter - HOUR)), 0, 'overdue: now');
    });

    it('renews at two thirds of the life when renewBefore is not shorter than it', async () => {
      const serving = await issueServingCertificate(ca, ['x'], 3 * HOUR, now);
      const cert = new X509Certificate(serving.certPem);
      const from = new Date(cert.validFrom).getTime();
      const to = new Date(cert.validTo).getTime();
      assert.equal(renewalTime(serving.certPem, 10 * HOUR).getTime(), to - Math.floor((to - from) / 3));
    });
  });
});
