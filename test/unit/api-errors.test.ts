// The one reader of failed API calls: a create of an existing object against a stale update.
import assert from 'node:assert/strict';
import { ApiException } from '@kubernetes/client-node';
import { isAlreadyExists, isConflict } from '../../shared/kube/api-errors.js';

// client-node's own exception, as a create of an existing object and a stale update throw it
const status409 = (reason: string) =>
  new ApiException(409, 'HTTP-Code: 409', JSON.stringify({ kind: 'Status', code: 409, reason }), {});

describe('shared/kube/api-errors', () => {
  it('tells an AlreadyExists create from a resourceVersion conflict (both 409)', () => {
    assert.equal(isAlreadyExists(status409('AlreadyExists')), true);
    assert.equal(isConflict(status409('AlreadyExists')), true);
    assert.equal(isAlreadyExists(status409('Conflict')), false);
    assert.equal(isAlreadyExists(new Error('events "x" already exists')), false);
  });
});
