// "Nothing could be searched": when every source discover was given failed as a whole (each one
// said why in its warning), an empty result is a failure, not "no clusters found". URLs always
// count as searched: an endpoint that does not answer is a row with its reason.
import { UserError } from '../global.js';

export interface SearchedSources {
  lan: boolean;
  domains: number;
  urls: number;
}

/** The error to end with when `failed` covers every source; undefined when something was searched. */
export function nothingSearchedError(
  failed: readonly string[],
  sources: SearchedSources,
): UserError | undefined {
  const searchable = (sources.lan ? 1 : 0) + sources.domains;
  if (sources.urls > 0 || searchable === 0 || failed.length < searchable) return undefined;
  return new UserError(
    `nothing could be searched: ${describeSources(failed)} failed (see the warnings above)`,
  );
}

/**
 * "the LAN, dns:a.example and searchdomain:corp", at most three named: the LAN first, then the
 * others sorted, so the line does not depend on which source failed first.
 */
export function describeSources(sources: readonly string[]): string {
  const unique = [...new Set(sources)];
  const ordered = [...(unique.includes('lan') ? ['lan'] : []), ...unique.filter((s) => s !== 'lan').sort()];
  const names = ordered.map((s) => (s === 'lan' ? 'the LAN' : s));
  const shown = names.length > 3 ? [...names.slice(0, 3), `${names.length - 3} more`] : names;
  return shown.length > 1 ? `${shown.slice(0, -1).join(', ')} and ${shown.at(-1)}` : (shown[0] ?? '');
}
