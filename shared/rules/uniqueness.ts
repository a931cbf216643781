// The rules across objects (SPEC §4): one ForeignCluster per cluster id, one SearchDomain per
// domain. Pure, like every rule here: given the object and the other stored objects of its kind,
// the field error or none. Whoever knows the stored objects supplies them: the webhook from its
// watch cache (webhook/crossobject-cache.ts), the plugin from a list before it writes
// (plugin/peering.ts, plugin/identity-accept.ts).
import { KIND_FOREIGN_CLUSTER, KIND_SEARCH_DOMAIN } from '../api/constants.js';
import { clusterIdOf } from './foreigncluster.js';
import { ownValue } from './object.js';
import { domainKey } from './searchdomain.js';
import type { FieldError, NamedObject, UniquenessRule } from './types.js';

function quoteList(kind: string, names: string[]): string {
  return names.map((n) => `${kind} "${n}"`).join(', ');
}

function uniqueBy(
  field: string,
  keyOf: (obj: unknown) => string | undefined,
  refusal: (key: string, holders: string[]) => Omit<FieldError, 'field'>,
): UniquenessRule {
  return {
    field,
    keyOf,
    conflicts(obj, name, existing) {
      const key = keyOf(obj);
      if (key === undefined) return [];
      const holders: string[] = [];
      for (const other of existing) {
        if (other.name !== name && keyOf(other.object) === key) holders.push(other.name);
      }
      if (holders.length === 0) return [];
      return [{ field, ...refusal(key, holders.sort()) }];
    },
  };
}

/** spec.clusterIdentity.clusterID when it is a non-empty string: one ForeignCluster each. */
export function clusterIdKeyOf(obj: unknown): string | undefined {
  const id = clusterIdOf(obj);
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/** spec.domain as DNS compares names (case-insensitive, trailing dot ignored): one SearchDomain each. */
export function domainKeyOf(obj: unknown): string | undefined {
  const domain = ownValue(ownValue(obj, 'spec'), 'domain');
  return typeof domain === 'string' ? domainKey(domain) : undefined;
}

export const uniqueClusterId = uniqueBy('spec.clusterIdentity.clusterID', clusterIdKeyOf, (id, holders) => ({
  message: `cluster id "${id}" is already used by ${quoteList(KIND_FOREIGN_CLUSTER, holders)}`,
  accepted: `one ForeignCluster per cluster id: edit ${quoteList(KIND_FOREIGN_CLUSTER, holders)} instead`,
}));

export const uniqueDomain = uniqueBy('spec.domain', domainKeyOf, (domain, holders) => ({
  message: `domain "${domain}" is already searched by ${quoteList(KIND_SEARCH_DOMAIN, holders)}`,
  accepted: `one SearchDomain per domain: edit ${quoteList(KIND_SEARCH_DOMAIN, holders)} instead`,
}));

/** Stored objects as the uniqueness rules take them: by metadata.name. */
export function namedObjects(objects: Iterable<{ metadata?: { name?: string } }>): NamedObject[] {
  const named: NamedObject[] = [];
  for (const object of objects) {
    if (object.metadata?.name) named.push({ name: object.metadata.name, object });
  }
  return named;
}
