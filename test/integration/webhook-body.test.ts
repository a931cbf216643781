// Hostile request bodies against the real webhook server over real TLS: JSON nested 100,000
// levels deep, truncated JSON, the wrong content type, a body past the limit (declared or
// streamed). Each gets a 4xx with one line saying what is wrong, never a 500, and the server
// keeps answering. A well-formed AdmissionReview that nests too deep inside request.object is
// answered as a review (denied, with the message), because the API server shows that message
// to the user and refuses whatever the failurePolicy; an HTTP 400 would let the object in
// unchecked under failurePolicy Ignore.
import { strict as assert } from 'node:assert';
import https from 'node:https';
import { createLogger } from '../../webhook/logger.js';
import { startWebhookServer, type WebhookServer } from '../../webhook/server.js';
import { admissionReview, makeTestPki, postReview, request, type TestPki } from './webhook-support.js';

const DEEP = 100_000;

const foreignCluster = {
  apiVersion: 'discovery.liqo.io/v1alpha1',
  kind: 'ForeignCluster',
  metadata: { name: 'peer' },
  spec: { authUrl: 'https://10.1.2.3:443' },
};

/** JSON text of `levels` nested arrays around `leaf`. */
const nestedArrays = (levels: number, leaf = '1') => `${'['.repeat(levels)}${leaf}${']'.repeat(levels)}`;
/** JSON text of `levels` nested objects {"a": ...} around `leaf`. */
const nestedObjects = (levels: number, leaf = '1') => `${'{"a":'.repeat(levels)}${leaf}${'}'.repeat(levels)}`;

/**
 * A review of a ClusterConfig (whose spec passes through unchecked beyond discoveryConfig)
 * with `extraLevels` nested lists at spec.extra: the body then nests 4 + extraLevels deep
 * (review, request, object, spec).
 */
function deepReviewText(
  operation: 'CREATE' | 'UPDATE' | 'DELETE',
  extraLevels: number,
): { uid: string; text: string } {
  const config = {
    apiVersion: 'config.liqo.io/v1alpha1',
    kind: 'ClusterConfig',
    metadata: { name: 'liqo-configuration' },
    spec: { extra: '__DEEP__' },
  };
  const review = admissionReview(
    operation,
    operation === 'DELETE' ? undefined : config,
    operation === 'CREATE' ? undefined : config,
  );
  const text = JSON.stringify(review.body).replaceAll('"__DEEP__"', nestedArrays(extraLevels));
  return { uid: review.uid, text };
}

/** POST with chunked transfer encoding (no Content-Length), `chunks` of `chunk` each. */
function postChunked(server: WebhookServer, caPem: string, chunk: Buffer, chunks: number) {
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = https.request(
      new URL('/validate', server.url),
      { method: 'POST', ca: caPem, agent: false, headers: { 'content-type': 'application/json' } },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString() }));
      },
    );
    req.on('error', reject);
    let sent = 0;
    const pump = () => {
      while (sent < chunks) {
        sent++;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

interface ReviewAnswer {
  apiVersion: string;
  kind: string;
  response: { uid: string; allowed: boolean; status?: { code: number; reason: string; message: string } };
}

describe('webhook server: hostile request bodies', function () {
  this.timeout(60_000);
  let pki: TestPki;
  let server: WebhookServer;

  before(async () => {
    pki = await makeTestPki();
    server = await startWebhookServer({
      port: 0,
      bindAddress: '127.0.0.1',
      certificate: pki.serving,
      inCluster: false,
      logger: createLogger('silent'),
    });
  });
  after(() => server?.close());

  const post = (body: string | Buffer, path = '/validate', contentType?: string | null) =>
    request(server.url, pki.ca.certPem, {
      path,
      body,
      contentType: contentType === undefined ? 'application/json' : contentType,
    });

  async function assertStillServing(): Promise<void> {
    const review = admissionReview('CREATE', foreignCluster);
    const response = await postReview(server.url, pki.ca.certPem, '/validate', review);
    assert.equal(response.uid, review.uid);
    assert.equal(response.allowed, true);
  }

  function assertOneLine(text: string): void {
    assert.doesNotMatch(text.trimEnd(), /[\r\n]/, 'one line');
    assert.ok(text.length < 600, `${text.length} characters`);
  }

  const refusedBodies: Array<[string, () => string | Buffer, number, RegExp]> = [
    [
      `arrays nested ${DEEP} levels deep`,
      () => nestedArrays(DEEP),
      400,
      /more than 64 levels deep \(at most 64\), and is not an AdmissionReview: expected a JSON object/,
    ],
    [
      `objects nested ${DEEP} levels deep`,
      () => nestedObjects(DEEP),
      400,
      /more than 64 levels deep \(at most 64\), and is not an AdmissionReview: expected apiVersion/,
    ],
    [
      `an AdmissionReview envelope whose apiVersion is a list nested ${DEEP} deep`,
      () => `{"apiVersion":${nestedArrays(DEEP)},"kind":"AdmissionReview"}`,
      400,
      /more than 64 levels deep.*got apiVersion a list/,
    ],
    [`${DEEP} unclosed arrays`, () => '['.repeat(DEEP), 400, /^request body is not valid JSON: /],
    [
      'a review cut in half',
      () => {
        const text = JSON.stringify(admissionReview('CREATE', foreignCluster).body);
        return text.slice(0, text.length / 2);
      },
      400,
      /^request body is not valid JSON: /,
    ],
    [
      'broken JSON spread over many lines (the parser quotes it)',
      () => `{\n"a":\n[\n1,\n}\n${'\n'.repeat(50)}`,
      400,
      /^request body is not valid JSON: /,
    ],
    ['an empty body', () => '', 400, /^request body is not valid JSON: /],
    ['invalid UTF-8', () => Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 400, /^request body is not valid JSON: /],
    ['a body over 3 MiB', () => Buffer.alloc(4 * 1024 * 1024, 0x5b), 413, /larger than 3145728 bytes/],
  ];
  for (const [what, body, status, message] of refusedBodies) {
    it(`answers ${what} with ${status} and one line, and keeps serving`, async () => {
      for (const path of ['/validate', '/mutate']) {
        const answer = await post(body(), path);
        assert.equal(answer.status, status, `${path}: ${answer.text.slice(0, 300)}`);
        assert.match(answer.headers['content-type'] as string, /^text\/plain/);
        assert.match(answer.text, message);
        assertOneLine(answer.text);
      }
      await assertStillServing();
    });
  }

  it('answers a valid review with the wrong content type 400', async () => {
    const answer = await post(
      JSON.stringify(admissionReview('CREATE', foreignCluster).body),
      '/validate',
      'application/yaml',
    );
    assert.equal(answer.status, 400);
    assert.match(answer.text, /Content-Type must be application\/json.*"application\/yaml"/);
    await assertStillServing();
  });

  it('answers a body streamed past the limit without Content-Length 413', async () => {
    const answer = await postChunked(server, pki.ca.certPem, Buffer.alloc(64 * 1024, 0x5b), 64); // 4 MiB
    assert.equal(answer.status, 413, answer.text);
    assert.match(answer.text, /larger than/);
    await assertStillServing();
  });

  for (const endpoint of ['/validate', '/mutate'] as const) {
    for (const operation of ['CREATE', 'UPDATE'] as const) {
      it(`${endpoint}: denies a ${operation} review whose object nests ${DEEP} deep, answering its uid with a message`, async () => {
        const { uid, text } = deepReviewText(operation, DEEP);
        const answer = await post(text, endpoint);
        assert.equal(answer.status, 200, answer.text.slice(0, 300));
        const review = JSON.parse(answer.text) as ReviewAnswer;
        assert.equal(review.kind, 'AdmissionReview');
        assert.equal(review.response.uid, uid);
        assert.equal(review.response.allowed, false);
        assert.equal(review.response.status?.code, 400);
        assert.equal(review.response.status?.reason, 'BadRequest');
        assert.equal(
          review.response.status?.message,
          'ClusterConfig "liqo-configuration" is refused: its AdmissionReview nests lists and objects more than 64 levels deep; at most 64 are accepted',
        );
        await assertStillServing();
      });
    }
  }

  it('lets a DELETE through whatever the old object nests (a stored object stays deletable)', async () => {
    const { uid, text } = deepReviewText('DELETE', DEEP);
    const answer = await post(text);
    assert.equal(answer.status, 200);
    const review = JSON.parse(answer.text) as ReviewAnswer;
    assert.equal(review.response.uid, uid);
    assert.equal(review.response.allowed, true);
  });

  it('admits a review nesting exactly 64 levels, and denies one nesting 65', async () => {
    const at = await post(deepReviewText('CREATE', 60).text); // 4 + 60 = 64
    assert.equal(at.status, 200);
    assert.equal((JSON.parse(at.text) as ReviewAnswer).response.allowed, true, at.text);
    const over = await post(deepReviewText('CREATE', 61).text);
    assert.equal(over.status, 200);
    assert.equal((JSON.parse(over.text) as ReviewAnswer).response.allowed, false, over.text);
  });

  it('does not count brackets inside strings, escaped quotes included', async () => {
    const tricky = {
      ...foreignCluster,
      metadata: {
        name: 'peer',
        annotations: {
          brackets: '['.repeat(1000) + '{'.repeat(1000),
          quotes: `\\"${'['.repeat(100)}\\\\"${'{'.repeat(100)}"`,
          unicode: `é😀${'['.repeat(100)}`,
        },
      },
    };
    const review = admissionReview('CREATE', tricky);
    const response = await postReview(server.url, pki.ca.certPem, '/validate', review);
    assert.equal(response.allowed, true, response.status?.message);
  });
});
