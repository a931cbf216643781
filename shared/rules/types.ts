// The contract between the per-kind rules and their callers (webhook, plugin, agent).
// Like controller-runtime's Defaulter/Validator: pure functions, no HTTP, no JSONPatch.

export interface FieldError {
  /** JSON-ish path, e.g. "spec.authUrl" or "spec.discoveryConfig.port". */
  field: string;
  /** What is wrong, e.g. 'host "169.254.169.254" is link-local'. */
  message: string;
  /** What would be accepted, e.g. "an https URL with a routable host and a port in 1-65535". */
  accepted?: string;
}

export interface ValidationResult {
  errors: FieldError[];
  /** Things that work but are doubtful; each ≤ 120 characters. */
  warnings: string[];
}

export interface RuleOptions {
  /** Local sandboxes may allow loopback auth URLs (a webhook flag, off by default). */
  allowLoopback?: boolean;
}

export interface KindRules<T> {
  kind: 'ForeignCluster' | 'SearchDomain' | 'ClusterConfig' | 'DNSRegistration';
  /** Returns a defaulted deep copy; never mutates its input; never throws. */
  applyDefaults(obj: T, old?: T): T;
  /** Never throws, whatever the input shape. `old` is set on UPDATE. */
  validate(obj: T, old: T | undefined, opts?: RuleOptions): ValidationResult;
  /** What no two objects of the kind may share (uniqueness.ts); absent when nothing is unique. */
  unique?: UniquenessRule;
}

/** A stored object and its metadata.name, as the uniqueness rules compare them. */
export interface NamedObject {
  name: string;
  object: unknown;
}

/** A value no two objects of a kind may share, e.g. a ForeignCluster's cluster id. */
export interface UniquenessRule {
  /** The field the value is in, e.g. "spec.clusterIdentity.clusterID". */
  field: string;
  /** The value as compared, or undefined when `obj` has none (then nothing conflicts). */
  keyOf(obj: unknown): string | undefined;
  /**
   * The field error when `obj`, named `name` (undefined before it has one), shares its value with
   * one of `existing` (other than itself); none otherwise. Never throws.
   */
  conflicts(obj: unknown, name: string | undefined, existing: Iterable<NamedObject>): FieldError[];
}

/** One line: `spec.authUrl: <message> (accepted: <what>)`. */
export function formatFieldError(e: FieldError): string {
  return `${e.field}: ${e.message}${e.accepted ? ` (accepted: ${e.accepted})` : ''}`;
}
