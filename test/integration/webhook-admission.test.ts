// The real webhook on HTTPS, in-process, answering real AdmissionReviews: the guide's examples
// are defaulted exactly (checked by applying the returned JSON Patch), and a corpus of bad
// objects is refused with a message naming the field and saying what is accepted.
import { strict as assert } from 'node:assert';
import { createLogger } from '../../webhook/logger.js';
import { startWebhookServer, type WebhookServer } from '../../webhook/server.js';
import {
  admissionReview,
  applyReturnedPatch,
  makeTestPki,
  postReview,
  type ReviewResponse,
  type TestPki,
} from './webhook-support.js';

type Obj = Record<string, unknown>;

// The guide's ForeignCluster, with a real private address for <ADDRESS>:<PORT>.
const guideForeignCluster: Obj = {
  apiVersion: 'discovery.liqo.io/v1alpha1',
  kind: 'ForeignCluster',
  metadata: { name: 'my-cluster' },
  spec: { join: true, authUrl: 'https://192.168.1.10:30443' },
};

const guideSearchDomain: Obj = {
  apiVersion: 'discovery.liqo.io/v1alpha1',
  kind: 'SearchDomain',
  metadata: { name: 'example.com' },
  spec: { domain: 'example.com', autojoin: true },
};

function foreignCluster(spec: Obj, name = 'bad-cluster'): Obj {
  return { apiVersion: 'discovery.liqo.io/v1alpha1', kind: 'ForeignCluster', metadata: { name }, spec };
}

describe('webhook admission over HTTPS', function () {
  this.timeout(30_000);
  let pki: TestPki;
  let server: WebhookServer;
  let loopbackServer: WebhookServer;

  const mutate = (review: { body: Obj }, s = server) => postReview(s.url, pki.ca.certPem, '/mutate', review);
  const validate = (review: { body: Obj }, s = server) =>
    postReview(s.url, pki.ca.certPem, '/validate', review);

  before(async () => {
    pki = await makeTestPki();
    const common = {
      port: 0,
      bindAddress: '127.0.0.1',
      certificate: pki.serving,
      inCluster: false,
      logger: createLogger('silent'),
    };
    server = await startWebhookServer(common);
    loopbackServer = await startWebhookServer({ ...common, allowLoopbackAuthUrl: true });
  });

  after(async () => {
    await server?.close();
    await loopbackServer?.close();
  });

  describe('the guide examples', () => {
    it('defaults the ForeignCluster example exactly and echoes the uid', async () => {
      const review = admissionReview('CREATE', guideForeignCluster);
      const response = await mutate(review);
      assert.equal(response.uid, review.uid);
      assert.equal(response.allowed, true);
      assert.deepEqual(applyReturnedPatch(guideForeignCluster, response), {
        apiVersion: 'discovery.liqo.io/v1alpha1',
        kind: 'ForeignCluster',
        metadata: { name: 'my-cluster', labels: { 'discovery.liqo.io/discovery-type': 'Manual' } },
        spec: {
          join: true,
          authUrl: 'https://192.168.1.10:30443',
          discoveryType: 'Manual',
          trustMode: 'Unknown',
        },
      });
    });

    it('accepts the defaulted ForeignCluster example without warnings', async () => {
      const defaulted = applyReturnedPatch(
        guideForeignCluster,
        await mutate(admissionReview('CREATE', guideForeignCluster)),
      );
      const review = admissionReview('CREATE', defaulted);
      const response = await validate(review);
      assert.deepEqual(response, { uid: review.uid, allowed: true });
    });

    it('leaves the SearchDomain example as written (nothing to default) and accepts it', async () => {
      const mutated = await mutate(admissionReview('CREATE', guideSearchDomain));
      assert.equal(mutated.allowed, true);
      assert.equal(mutated.patch, undefined, 'no patch when nothing changes');
      assert.deepEqual(applyReturnedPatch(guideSearchDomain, mutated), guideSearchDomain);
      const validated = await validate(admissionReview('CREATE', guideSearchDomain));
      assert.equal(validated.allowed, true);
    });
  });

  describe('defaulting', () => {
    it('defaults SearchDomain autojoin to false', async () => {
      const sd = { ...guideSearchDomain, spec: { domain: 'example.com' } };
      const response = await mutate(admissionReview('CREATE', sd));
      assert.deepEqual(applyReturnedPatch(sd, response), {
        ...sd,
        spec: { domain: 'example.com', autojoin: false },
      });
    });

    it('normalises authUrl, fills join and keeps the labels equal to the spec', async () => {
      const fc = foreignCluster(
        { authUrl: 'HTTPS://Auth.Example.COM.:443/', clusterIdentity: { clusterID: 'c0ffee' } },
        'c0ffee',
      );
      const response = await mutate(admissionReview('CREATE', fc));
      assert.deepEqual(applyReturnedPatch(fc, response), {
        apiVersion: 'discovery.liqo.io/v1alpha1',
        kind: 'ForeignCluster',
        metadata: {
          name: 'c0ffee',
          labels: { 'discovery.liqo.io/cluster-id': 'c0ffee', 'discovery.liqo.io/discovery-type': 'Manual' },
        },
        spec: {
          authUrl: 'https://auth.example.com:443',
          clusterIdentity: { clusterID: 'c0ffee' },
          join: false,
          discoveryType: 'Manual',
          trustMode: 'Unknown',
        },
      });
    });

    it('fills the discoveryConfig defaults and leaves the rest of a ClusterConfig untouched', async () => {
      const cc = {
        apiVersion: 'config.liqo.io/v1alpha1',
        kind: 'ClusterConfig',
        metadata: { name: 'liqo-configuration', resourceVersion: '7' },
        spec: { advertisementConfig: { keepaliveThreshold: 3 }, discoveryConfig: { ttl: 60 } },
      };
      const response = await mutate(admissionReview('UPDATE', cc, cc));
      assert.deepEqual(applyReturnedPatch(cc, response), {
        ...cc,
        spec: {
          advertisementConfig: { keepaliveThreshold: 3 },
          discoveryConfig: {
            ttl: 60,
            enableDiscovery: true,
            enableAdvertisement: true,
            authService: '_liqo_auth._tcp',
            domain: 'local.',
            autojoin: true,
            autojoinUntrusted: true,
            name: 'MyLiqo',
            service: '_liqo_api._tcp',
            port: 6443,
          },
        },
      });
    });

    it('allows DELETE unchanged', async () => {
      const review = admissionReview('DELETE', undefined, guideForeignCluster);
      for (const response of [await mutate(review), await validate(review)]) {
        assert.deepEqual(response, { uid: review.uid, allowed: true });
      }
    });
  });

  describe('refusals', () => {
    const accepted = /\(accepted: [^)]+\)/;
    function assertRefused(response: ReviewResponse, prefix: string, field: string, detail: RegExp): void {
      assert.equal(response.allowed, false, `expected a refusal, got ${JSON.stringify(response)}`);
      assert.equal(response.status?.code, 422);
      assert.equal(response.status?.reason, 'Invalid');
      const message = response.status?.message ?? '';
      assert.ok(message.startsWith(`${prefix} is invalid: ${field}: `), message);
      assert.match(message, detail);
      assert.match(message, accepted);
      assert.doesNotMatch(message, /\n/);
    }

    const badAuthUrls: Array<[string, RegExp]> = [
      ['', /empty/],
      ['http://192.168.1.10:30443', /scheme "http"/],
      ['https://169.254.169.254', /169\.254\.169\.254.*link-local/],
      ['https://[::1]:443', /loopback/],
      ['https://auth.example.com:99999', /99999/],
      ['https://admin:secret@auth.example.com', /user info/],
      ['https://auth.example.com/?token=1', /query/],
    ];
    for (const [authUrl, detail] of badAuthUrls) {
      it(`refuses authUrl ${JSON.stringify(authUrl)}`, async () => {
        const review = admissionReview('CREATE', foreignCluster({ authUrl }));
        const response = await validate(review);
        assert.equal(response.uid, review.uid);
        assertRefused(response, 'ForeignCluster "bad-cluster"', 'spec.authUrl', detail);
      });
    }

    it('refuses a clusterID change on UPDATE', async () => {
      const old = foreignCluster({ authUrl: 'https://10.0.0.5:443', clusterIdentity: { clusterID: 'aaa' } });
      const changed = foreignCluster({
        authUrl: 'https://10.0.0.5:443',
        clusterIdentity: { clusterID: 'bbb' },
      });
      const response = await validate(admissionReview('UPDATE', changed, old));
      assertRefused(
        response,
        'ForeignCluster "bad-cluster"',
        'spec.clusterIdentity.clusterID',
        /cannot change/,
      );
    });

    it('refuses a domain that is not a DNS name', async () => {
      const sd = { ...guideSearchDomain, metadata: { name: 'bad' }, spec: { domain: 'bad_domain..com' } };
      const response = await validate(admissionReview('CREATE', sd));
      assertRefused(response, 'SearchDomain "bad"', 'spec.domain', /empty label/);
    });

    it('refuses out-of-range ttl and port, naming both in one line', async () => {
      const cc = {
        apiVersion: 'config.liqo.io/v1alpha1',
        kind: 'ClusterConfig',
        metadata: { name: 'liqo-configuration' },
        spec: { discoveryConfig: { ttl: 5, port: 70000 } },
      };
      const response = await validate(admissionReview('CREATE', cc));
      assertRefused(
        response,
        'ClusterConfig "liqo-configuration"',
        'spec.discoveryConfig.ttl',
        /5 is out of range/,
      );
      assert.match(response.status?.message ?? '', /; spec\.discoveryConfig\.port: 70000 is out of range/);
    });

    it('answers a request for a kind it does not admit with a refusal naming the kind', async () => {
      const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: {} };
      const review = admissionReview('CREATE', pod);
      (review.body.request as { kind: { group: string } }).kind.group = '';
      const response = await validate(review);
      assert.equal(response.allowed, false);
      assert.equal(response.status?.code, 400);
      assert.match(response.status?.message ?? '', /not Pod/);
    });
  });

  describe('--allow-loopback-auth-url', () => {
    it('accepts a loopback authUrl only when enabled, and says so in a bounded warning', async () => {
      const fc = foreignCluster({ authUrl: 'https://127.0.0.1:8443' }, 'sandbox');
      const refused = await validate(admissionReview('CREATE', fc));
      assert.equal(refused.allowed, false);
      const allowed = await validate(admissionReview('CREATE', fc), loopbackServer);
      assert.equal(allowed.allowed, true);
      assert.ok(allowed.warnings && allowed.warnings.length > 0, 'a warning says loopback was allowed');
      for (const w of allowed.warnings) {
        assert.ok(w.length <= 120, `warning longer than 120 characters: ${w}`);
        assert.match(w, /loopback/);
      }
    });
  });
});
