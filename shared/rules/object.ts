// Small helpers the per-kind rules share: shape checks that never throw on odd input, a
// deep copy that keeps odd keys (such as "__proto__") as plain data, and capped warnings.
import type { FieldError } from './types.js';

/** Kubernetes shows admission warnings of at most 120 characters. */
export const MAX_WARNING_LENGTH = 120;

export type PlainObject = Record<string, unknown>;

/** True for a JSON object (not null, not an array). */
export function isPlainObject(value: unknown): value is PlainObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Absent in the Kubernetes sense: the API server drops nulls before defaulting. */
export function isAbsent(value: unknown): boolean {
  return value === undefined || value === null;
}

/** Reads an own property without touching prototypes or getters that could throw. */
export function ownValue(obj: unknown, key: string): unknown {
  if (typeof obj !== 'object' || obj === null) return undefined;
  const descriptor = Object.getOwnPropertyDescriptor(obj, key);
  return descriptor && 'value' in descriptor ? descriptor.value : undefined;
}

/** Sets an own enumerable property, even for keys like "__proto__". */
export function setOwn(obj: PlainObject, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** An empty container of the same kind (array, plain or null-prototype object), or undefined for non-JSON. */
function emptyLike(value: object): unknown[] | PlainObject | undefined {
  if (Array.isArray(value)) return [];
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === Object.prototype) return {};
  if (proto === null) return Object.create(null) as PlainObject;
  return undefined; // Date, Map...: not JSON, kept by reference
}

/**
 * A deep copy of JSON-like data. Arrays and objects are copied; anything else (numbers,
 * strings, but also exotic values a fuzzer may produce) is kept by reference. Iterative, so
 * a deeply nested body cannot overflow the stack: never throws.
 */
export function cloneJson<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  const rootCopy = emptyLike(value);
  if (rootCopy === undefined) return value;
  const copies = new Map<object, unknown>([[value, rootCopy]]);
  const pending: [object, unknown[] | PlainObject][] = [[value, rootCopy]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [source, target] = next;
    for (const key of Object.keys(source)) {
      let child = ownValue(source, key);
      if (typeof child === 'object' && child !== null) {
        const known = copies.get(child);
        if (known !== undefined) child = known;
        else {
          const copy = emptyLike(child);
          if (copy !== undefined) {
            copies.set(child, copy);
            pending.push([child, copy]);
            child = copy;
          }
        }
      }
      if (Array.isArray(target)) target[Number(key)] = child;
      else setOwn(target, key, child);
    }
  }
  return rootCopy as T;
}

/** A warning capped at Kubernetes' 120 characters. */
export function capWarning(text: string): string {
  return text.length <= MAX_WARNING_LENGTH ? text : `${text.slice(0, MAX_WARNING_LENGTH - 1)}…`;
}

/** Short, printable rendering of a user value for messages. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return JSON.stringify(shown);
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return `a ${typeof value}`;
}

/** Collects errors and warnings for one object. */
export class Findings {
  readonly errors: FieldError[] = [];
  readonly warnings: string[] = [];

  error(field: string, message: string, accepted?: string): void {
    this.errors.push(accepted === undefined ? { field, message } : { field, message, accepted });
  }

  warn(text: string): void {
    this.warnings.push(capWarning(text));
  }

  result(): { errors: FieldError[]; warnings: string[] } {
    return { errors: [...this.errors], warnings: [...this.warnings] };
  }
}

/** Type checks that record an error and tell the caller whether to go on. */
/**
 * The object's `spec` when `obj` is an object holding an object `spec`; otherwise records the
 * field error (naming `kind` and what `spec` should hold) and returns undefined.
 */
export function requireObjectSpec(
  findings: Findings,
  obj: unknown,
  kind: string,
  specAccepted: string,
): PlainObject | undefined {
  if (!isPlainObject(obj)) {
    findings.error('(object)', `must be a ${kind} object, got ${describeValue(obj)}`, 'a JSON object');
    return undefined;
  }
  const spec = ownValue(obj, 'spec');
  if (!isPlainObject(spec)) {
    const message = isAbsent(spec) ? 'is required' : `must be an object, got ${describeValue(spec)}`;
    findings.error('spec', message, specAccepted);
    return undefined;
  }
  return spec;
}

export function expectBoolean(findings: Findings, field: string, value: unknown): value is boolean {
  if (typeof value === 'boolean') return true;
  findings.error(field, `must be true or false, got ${describeValue(value)}`, 'true or false');
  return false;
}

export function expectString(
  findings: Findings,
  field: string,
  value: unknown,
  accepted: string,
): value is string {
  if (typeof value === 'string') return true;
  findings.error(field, `must be a string, got ${describeValue(value)}`, accepted);
  return false;
}

export function expectOneOf(
  findings: Findings,
  field: string,
  value: unknown,
  allowed: readonly string[],
): boolean {
  if (typeof value === 'string' && allowed.includes(value)) return true;
  findings.error(
    field,
    `${describeValue(value)} is not one of the allowed values`,
    `one of ${allowed.join(', ')}`,
  );
  return false;
}
