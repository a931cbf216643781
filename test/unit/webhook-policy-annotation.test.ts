// The JSON Patch with which the webhook publishes --allow-loopback-auth-url on its
// ValidatingWebhookConfiguration (webhook/certificates/authority.ts annotationPatch), applied
// with fast-json-patch as the API server would apply it.
import { strict as assert } from 'node:assert';
import jsonPatch from 'fast-json-patch';
import { ANNOTATION_ALLOW_LOOPBACK_AUTH_URL } from '../../shared/api/constants.js';
import { annotationPatch } from '../../webhook/certificates/authority.js';

const KEY = ANNOTATION_ALLOW_LOOPBACK_AUTH_URL;

function applied(metadata: Record<string, unknown>, value: string): Record<string, unknown> {
  const config = { metadata };
  const annotations = metadata.annotations as Record<string, string> | undefined;
  const ops = annotationPatch(annotations, KEY, value);
  return jsonPatch.applyPatch(structuredClone(config), ops, true).newDocument.metadata;
}

describe('webhook: the loopback policy annotation (unit)', () => {
  it('adds the map when there is none, the key when others are there, and replaces a stale value', () => {
    assert.deepEqual(applied({ name: 'liqo-webhook' }, 'true'), {
      name: 'liqo-webhook',
      annotations: { [KEY]: 'true' },
    });
    assert.deepEqual(applied({ annotations: { other: 'x' } }, 'false'), {
      annotations: { other: 'x', [KEY]: 'false' },
    });
    assert.deepEqual(applied({ annotations: { [KEY]: 'true' } }, 'false'), {
      annotations: { [KEY]: 'false' },
    });
  });

  it('is empty when the value is already there (nothing is sent)', () => {
    assert.deepEqual(annotationPatch({ [KEY]: 'true' }, KEY, 'true'), []);
  });

  it('escapes "/" and "~" in the key (RFC 6901)', () => {
    assert.deepEqual(annotationPatch({}, 'a~b/c', 'v'), [
      { op: 'add', path: '/metadata/annotations/a~0b~1c', value: 'v' },
    ]);
  });
});
