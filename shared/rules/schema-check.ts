// Checks an object against its CRD's openAPIV3Schema with ajv, the way `kubectl apply`
// with server-side strict field validation would see it: types, enums, ranges, patterns,
// required fields, and unknown fields refused where the schema does not preserve them.
// CEL rules (x-kubernetes-validations) are not run here; shared/rules has their equivalents.
import { Ajv, type ValidateFunction } from 'ajv';
import { openAPISchemasByKind, type JSONSchemaProps } from '../api/schemas.js';
import { isPlainObject } from './object.js';

type JsonSchema = Record<string, unknown>;

/** Kubernetes extensions become plain JSON Schema: unknown fields refused unless preserved. */
function toJsonSchema(schema: JSONSchemaProps): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith('x-kubernetes-')) continue;
    if (key === 'properties' && isPlainObject(value)) {
      const properties: JsonSchema = {};
      for (const [name, child] of Object.entries(value as Record<string, JSONSchemaProps>)) {
        properties[name] = toJsonSchema(child);
      }
      out.properties = properties;
    } else if (key === 'items' && isPlainObject(value)) {
      out.items = toJsonSchema(value as JSONSchemaProps);
    } else {
      out[key] = value;
    }
  }
  if (schema.properties && !schema['x-kubernetes-preserve-unknown-fields']) out.additionalProperties = false;
  return out;
}

const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };
const compiled = new Map<boolean, Map<string, ValidateFunction>>();

function validators(useDefaults = false): Map<string, ValidateFunction> {
  const cached = compiled.get(useDefaults);
  if (cached) return cached;
  const ajv = new Ajv({ allErrors: true, strict: true, useDefaults });
  ajv.addFormat('int32', {
    type: 'number',
    validate: (n: number) => Number.isInteger(n) && n >= INT32.min && n <= INT32.max,
  });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  // RFC 3339, as Kubernetes writes metav1.Time.
  ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i);
  const byKind = new Map<string, ValidateFunction>();
  for (const [kind, schema] of Object.entries(openAPISchemasByKind))
    byKind.set(kind, ajv.compile(toJsonSchema(schema)));
  compiled.set(useDefaults, byKind);
  return byKind;
}

/**
 * A copy of `obj` with the schema's defaults filled in, as the API server's structural
 * defaulting would (nested defaults included). For comparing with the webhook's defaults.
 */
export function withSchemaDefaults<T>(kind: string, obj: T): T {
  const copy = structuredClone(obj);
  validators(true).get(kind)?.(copy);
  return copy;
}

/**
 * One line per schema violation, each naming the field (e.g. "spec.join: must be boolean"),
 * or an empty list. Kinds without a schema give one line saying so.
 */
export function schemaViolations(kind: string, obj: unknown): string[] {
  const validate = validators().get(kind);
  if (!validate) return [`kind ${JSON.stringify(kind)} has no schema here`];
  if (validate(obj)) return [];
  return (validate.errors ?? []).map((error) => {
    const field = error.instancePath.replace(/^\//, '').replaceAll('/', '.') || '(object)';
    const extra =
      error.keyword === 'additionalProperties' ? ` (${String(error.params.additionalProperty)})` : '';
    const allowed =
      error.keyword === 'enum' ? `: ${(error.params.allowedValues as unknown[]).join(', ')}` : '';
    return `${field}: ${error.message ?? 'is invalid'}${extra}${allowed}`;
  });
}
