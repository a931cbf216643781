// Validation ratcheting on UPDATE, after Kubernetes' CRD validation ratcheting (KEP-4008): an
// error counts only when the update changes the value of the field it is about. An object
// stored before a rule tightened (or while the webhook was down) stays updatable: a label, a
// finalizer or another valid field can change, while the bad field can only be fixed, never
// swapped for another bad value. Rules that compare old and new (a clusterID cannot change)
// report the changed field, so they still hold.
import { isPlainObject, ownValue } from './object.js';
import type { FieldError } from './types.js';

/**
 * The path of a FieldError's field: "spec.discoveryConfig.port" -> [spec, discoveryConfig,
 * port], "metadata.labels[discovery.liqo.io/cluster-id]" -> [metadata, labels, the key],
 * "(object)" -> [] (the whole object). Undefined when the text is not such a path.
 */
export function fieldPath(field: string): string[] | undefined {
  if (field === '(object)') return [];
  const path: string[] = [];
  let i = 0;
  while (i < field.length) {
    if (field[i] === '[') {
      const close = field.indexOf(']', i + 1);
      if (close === -1) return undefined;
      path.push(field.slice(i + 1, close));
      i = close + 1;
      if (i < field.length && field[i] !== '.' && field[i] !== '[') return undefined;
      if (field[i] === '.') i++;
      continue;
    }
    let end = i;
    while (end < field.length && field[end] !== '.' && field[end] !== '[') end++;
    if (end === i) return undefined;
    path.push(field.slice(i, end));
    i = end < field.length && field[end] === '.' ? end + 1 : end;
    if (i === field.length && field.endsWith('.')) return undefined;
  }
  return path.length > 0 ? path : undefined;
}

/** The value at `path` (own properties only; list items by index), or undefined. */
export function valueAtPath(obj: unknown, path: readonly string[]): unknown {
  let value = obj;
  for (const key of path) {
    if (value === undefined || value === null) return undefined;
    value = ownValue(value, key);
  }
  return value;
}

/** Absent in the Kubernetes sense: the API server drops nulls. */
function absent(value: unknown): boolean {
  return value === undefined || value === null;
}

/** Equality of JSON values, key order ignored. Iterative: a deep value cannot overflow it. */
export function sameJson(a: unknown, b: unknown): boolean {
  const pending: Array<[unknown, unknown]> = [[a, b]];
  for (let pair = pending.pop(); pair !== undefined; pair = pending.pop()) {
    const [x, y] = pair;
    if (x === y) continue;
    if (absent(x) && absent(y)) continue;
    if (Array.isArray(x)) {
      if (!Array.isArray(y) || x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++) pending.push([x[i], y[i]]);
      continue;
    }
    if (!isPlainObject(x) || !isPlainObject(y)) return false;
    const keys = Object.keys(x);
    if (keys.length !== Object.keys(y).length) return false;
    for (const key of keys) {
      if (!Object.hasOwn(y, key)) return false;
      pending.push([ownValue(x, key), ownValue(y, key)]);
    }
  }
  return true;
}

/**
 * The errors an UPDATE is refused for: those whose field has a value different from its value
 * in every one of `olds` (the stored object, and the stored object as defaulting would write
 * it, since the mutating webhook may normalise an untouched field on the way). An error whose
 * field is not a path we can read is kept.
 */
export function ratchetErrors(
  errors: readonly FieldError[],
  obj: unknown,
  olds: readonly unknown[],
): FieldError[] {
  return errors.filter((error) => {
    const path = fieldPath(error.field);
    if (path === undefined) return true;
    const value = valueAtPath(obj, path);
    return !olds.some((old) => sameJson(value, valueAtPath(old, path)));
  });
}

/** True when `obj` and `old` differ only in metadata (labels, finalizers, annotations...). */
export function onlyMetadataChanged(obj: unknown, old: unknown): boolean {
  if (!isPlainObject(obj) || !isPlainObject(old)) return false;
  const keys = new Set([...Object.keys(obj), ...Object.keys(old)]);
  keys.delete('metadata');
  for (const key of keys) if (!sameJson(ownValue(obj, key), ownValue(old, key))) return false;
  return true;
}
