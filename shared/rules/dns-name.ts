// DNS name syntax, the one place for all three programs: the length limits, the label
// patterns and the name check used by SearchDomain.spec.domain, discoveryConfig.domain, the host
// part of an authUrl, the DNS-SD look-up's domains (shared/lookup/dns-records.ts), mDNS host
// labels, and the Kubernetes names built on DNS-1123 (object names, cluster ids, namespaces).
// Host names follow RFC 1123 (letters, digits, hyphens); domains searched for DNS-SD records may
// also hold underscores (RFC 2181 allows any octet; DNS-SD uses "_tcp"-style labels), so
// "_liqo._tcp.example.com" is a valid SearchDomain.

export const MAX_DNS_NAME_LENGTH = 253;
export const MAX_DNS_LABEL_LENGTH = 63;

/** A host-name label's characters (RFC 1123). */
export const HOST_LABEL_CHARACTERS = /^[A-Za-z0-9-]+$/;
/** A DNS-SD domain label's characters: a host name's and "_". */
export const DNS_SD_LABEL_CHARACTERS = /^[A-Za-z0-9_-]+$/;
/**
 * Kubernetes' DNS-1123 label (namespaces, cluster ids; each label of an object name): lower-case
 * letters, digits and '-', a letter or digit at both ends. The length is checked apart.
 */
export const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export interface DnsNameOptions {
  /** Allow "_" in labels (DNS-SD style domains); host names never allow it. */
  allowUnderscore: boolean;
}

export const DNS_DOMAIN_ACCEPTED =
  "a DNS name such as example.com: dot-separated labels of letters, digits, '-' and '_' " +
  "(1-63 characters, no '-' at either end), at most 253 characters, optional trailing dot";

/** Drops one trailing dot (the root), as DNS does: "example.com." is "example.com". */
export function withoutTrailingDot(name: string): string {
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

/** Only digits and dots: an IPv4 address (or a typo of one), never a useful domain. */
export function looksLikeIPv4(name: string): boolean {
  return /^[0-9.]+$/.test(name);
}

/** Returns what is wrong with `name` as a DNS name, or undefined when it is fine. */
export function dnsNameProblem(name: string, options: DnsNameOptions): string | undefined {
  if (name === '') return 'is empty';
  const bare = withoutTrailingDot(name);
  if (bare === '') return 'is only the root "."';
  if (bare.length > MAX_DNS_NAME_LENGTH) {
    return `is ${bare.length} characters long; a DNS name has at most ${MAX_DNS_NAME_LENGTH}`;
  }
  const allowed = options.allowUnderscore ? DNS_SD_LABEL_CHARACTERS : HOST_LABEL_CHARACTERS;
  for (const label of bare.split('.')) {
    if (label === '') return 'has an empty label (a leading dot or two dots in a row)';
    if (label.length > MAX_DNS_LABEL_LENGTH) {
      return `has a label of ${label.length} characters; at most ${MAX_DNS_LABEL_LENGTH}`;
    }
    if (!allowed.test(label)) {
      const shown = JSON.stringify(label.length > 30 ? `${label.slice(0, 27)}...` : label);
      const what = options.allowUnderscore ? "letters, digits, '-' and '_'" : "letters, digits and '-'";
      return `has label ${shown} with characters other than ${what}`;
    }
    if (label.startsWith('-') || label.endsWith('-')) {
      return `has label ${JSON.stringify(label)} that starts or ends with '-'`;
    }
  }
  return undefined;
}
