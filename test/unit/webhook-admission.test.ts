// The generic admission layer without HTTP: warnings bounded for the API server, the envelope
// checks behind the 400s, and the metrics labels a client cannot multiply.
import { strict as assert } from 'node:assert';
import {
  boundWarning,
  MalformedReviewError,
  parseAdmissionReview,
  validate,
  type AdmissionRequest,
} from '../../webhook/admission.js';
import { CROSS_OBJECT_CHECKS_OFF } from '../../webhook/crossobject-cache.js';

describe('webhook admission layer', () => {
  describe('boundWarning', () => {
    it('keeps short warnings as they are', () => {
      assert.equal(boundWarning('spec.authUrl: host is loopback'), 'spec.authUrl: host is loopback');
    });

    it('cuts at 120 characters with "..." and never splits a surrogate pair', () => {
      const emoji = '\u{1F600}'; // two UTF-16 code units
      for (const text of ['x'.repeat(300), emoji.repeat(200), `${'a'.repeat(116)}${emoji.repeat(10)}`]) {
        const bounded = boundWarning(text);
        assert.ok(Array.from(bounded).length <= 120, `${Array.from(bounded).length} code points`);
        assert.ok(bounded.length <= 240);
        assert.ok(bounded.endsWith('...'));
        assert.equal(Buffer.from(bounded, 'utf8').toString('utf8'), bounded, 'no lone surrogate');
        assert.doesNotMatch(bounded, /[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
      }
    });

    it('turns control characters (newlines, escapes) into spaces', () => {
      assert.equal(boundWarning('one\ntwo\r\n\u001b[31mred'), 'one two [31mred');
    });
  });

  describe('parseAdmissionReview', () => {
    const base = () => ({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: 'u',
        kind: { group: 'discovery.liqo.io', version: 'v1alpha1', kind: 'SearchDomain' },
        operation: 'UPDATE',
        object: { spec: {} },
        oldObject: { spec: {} },
      },
    });

    it('accepts a well-formed review', () => {
      assert.equal(parseAdmissionReview(base()).uid, 'u');
    });

    const broken: Array<[string, (r: ReturnType<typeof base>) => unknown, RegExp]> = [
      ['a string', () => 'review', /expected a JSON object/],
      ['null', () => null, /expected a JSON object/],
      ['v1beta1', (r) => ({ ...r, apiVersion: 'admission.k8s.io/v1beta1' }), /admission\.k8s\.io\/v1beta1/],
      ['no request', (r) => ({ ...r, request: undefined }), /no "request"/],
      ['an empty uid', (r) => ({ ...r, request: { ...r.request, uid: '' } }), /request\.uid/],
      ['no kind', (r) => ({ ...r, request: { ...r.request, kind: 'SearchDomain' } }), /request\.kind/],
      ['no operation', (r) => ({ ...r, request: { ...r.request, operation: 7 } }), /request\.operation/],
      [
        'UPDATE without oldObject',
        (r) => ({ ...r, request: { ...r.request, oldObject: null } }),
        /oldObject/,
      ],
    ];
    for (const [what, mangle, message] of broken) {
      it(`refuses ${what} with a message`, () => {
        assert.throws(
          () => parseAdmissionReview(mangle(base())),
          (err: unknown) => err instanceof MalformedReviewError && message.test(err.message),
        );
      });
    }
  });

  it('labels an operation it does not know as "unknown" (bounded metrics series)', () => {
    const request: AdmissionRequest = {
      uid: 'u',
      kind: { group: 'discovery.liqo.io', version: 'v1alpha1', kind: 'SearchDomain' },
      operation: 'FROBNICATE-12345',
    };
    const outcome = validate(request, { allowLoopbackAuthUrl: false, crossObject: CROSS_OBJECT_CHECKS_OFF });
    assert.equal(outcome.operation, 'unknown');
    assert.equal(outcome.review.response.allowed, true);
  });
});
