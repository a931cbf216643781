// Helpers for the webhook's integration tests: certificates made in the test (a CA and a
// serving certificate for 127.0.0.1), AdmissionReview builders, and an HTTPS client that
// trusts only the test CA. No fakes: the tests talk to the real server over real TLS.
import https from 'node:https';
import { randomUUID } from 'node:crypto';
import jsonPatch from 'fast-json-patch';
import type { PemKeyPair } from '../../shared/tls/certificates.js';
import { issueCertificateAuthority, issueServingCertificate } from '../../webhook/certificates/authority.js';

export interface TestPki {
  ca: PemKeyPair;
  serving: PemKeyPair;
}

const DAY_MS = 24 * 3600 * 1000;

export async function makeTestPki(hosts = ['127.0.0.1', 'localhost']): Promise<TestPki> {
  // a distinct subject per CA: OpenSSL picks an issuer by subject name
  const ca = await issueCertificateAuthority(`webhook-test-ca-${randomUUID()}`, DAY_MS);
  const serving = await issueServingCertificate(ca, hosts, DAY_MS);
  return { ca, serving };
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export interface RequestOptions {
  method?: string;
  path: string;
  body?: string | Buffer;
  contentType?: string | null;
  /** A fresh connection (no keep-alive), so the certificate served now is the one seen. */
  fresh?: boolean;
}

export function request(baseUrl: string, caPem: string, opts: RequestOptions): Promise<HttpAnswer> {
  const url = new URL(opts.path, baseUrl);
  const headers: Record<string, string | number> = {};
  if (opts.body !== undefined) headers['content-length'] = Buffer.byteLength(opts.body);
  if (opts.contentType !== null) headers['content-type'] = opts.contentType ?? 'application/json';
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      { method: opts.method ?? (opts.body === undefined ? 'GET' : 'POST'), ca: caPem, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString(),
          }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer from ${url.href} within 10 s`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

export interface ReviewResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; reason: string; message: string; status: string };
  patchType?: string;
  patch?: string;
  warnings?: string[];
}

/** An AdmissionReview as the API server sends it (admission.k8s.io/v1). */
export function admissionReview(
  operation: 'CREATE' | 'UPDATE' | 'DELETE',
  object: Record<string, unknown> | undefined,
  oldObject?: Record<string, unknown>,
): { uid: string; body: Record<string, unknown> } {
  const source = (object ?? oldObject) as { apiVersion: string; kind: string; metadata?: { name?: string } };
  const [group, version] = source.apiVersion.split('/') as [string, string];
  const plural = `${source.kind.toLowerCase()}s`;
  const uid = randomUUID();
  return {
    uid,
    body: {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid,
        kind: { group, version, kind: source.kind },
        resource: { group, version, resource: plural },
        requestKind: { group, version, kind: source.kind },
        requestResource: { group, version, resource: plural },
        name: source.metadata?.name,
        operation,
        userInfo: { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] },
        object: operation === 'DELETE' ? null : object,
        oldObject: oldObject ?? null,
        dryRun: false,
        options: {
          apiVersion: 'meta.k8s.io/v1',
          kind: `${operation[0]}${operation.slice(1).toLowerCase()}Options`,
        },
      },
    },
  };
}

export async function postReview(
  baseUrl: string,
  caPem: string,
  endpoint: '/mutate' | '/validate',
  review: { body: Record<string, unknown> },
): Promise<ReviewResponse> {
  const answer = await request(baseUrl, caPem, { path: endpoint, body: JSON.stringify(review.body) });
  if (answer.status !== 200) throw new Error(`${endpoint} answered ${answer.status}: ${answer.text}`);
  const parsed = JSON.parse(answer.text) as { apiVersion: string; kind: string; response: ReviewResponse };
  if (parsed.apiVersion !== 'admission.k8s.io/v1' || parsed.kind !== 'AdmissionReview') {
    throw new Error(`${endpoint} answered something other than an AdmissionReview: ${answer.text}`);
  }
  return parsed.response;
}

/** The object the API server would store: the returned JSON Patch applied to the original. */
export function applyReturnedPatch<T>(original: T, response: ReviewResponse): T {
  if (!response.patch) return structuredClone(original);
  if (response.patchType !== 'JSONPatch') throw new Error(`unexpected patchType ${response.patchType}`);
  const ops = JSON.parse(Buffer.from(response.patch, 'base64').toString()) as jsonPatch.Operation[];
  return jsonPatch.applyPatch(structuredClone(original), ops, true, false).newDocument;
}
