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
}

/** One line: `spec.authUrl: <message> (accepted: <what>)`. */
export function formatFieldError(e: FieldError): string {
  return `${e.field}: ${e.message}${e.accepted ? ` (accepted: ${e.accepted})` : ''}`;
}
