// Reads a cluster's GET /ids through the shared look-up, loaded only when needed, and turns
// its failures into one line naming the URL.
import { readFile } from 'node:fs/promises';
import type { FetchIdentityOptions, IdentityResult } from '../shared/lookup/types.js';
import { UserError } from './global.js';

export interface IdentityFlags {
  /** Bound on the whole fetch, ms. */
  timeoutMs?: number;
  strict?: boolean;
  caFile?: string;
  signal?: AbortSignal;
}

export async function identityOptions(flags: IdentityFlags): Promise<FetchIdentityOptions> {
  const opts: FetchIdentityOptions = {};
  if (flags.timeoutMs !== undefined) opts.timeoutMs = flags.timeoutMs;
  if (flags.strict) opts.strict = true;
  if (flags.signal) opts.signal = flags.signal;
  if (flags.caFile) {
    try {
      opts.caBundle = await readFile(flags.caFile);
    } catch (err) {
      throw new UserError(
        `--ca-file: cannot read ${flags.caFile}: ${(err as NodeJS.ErrnoException).code ?? err}`,
      );
    }
  }
  return opts;
}

/** Fetches the identity or throws a UserError: "cannot read the identity at <url>: <why>". */
export async function fetchIdentityOrFail(authUrl: string, flags: IdentityFlags): Promise<IdentityResult> {
  const { fetchClusterIdentity } = await import('../shared/lookup/ids.js');
  try {
    return await fetchClusterIdentity(authUrl, await identityOptions(flags));
  } catch (err) {
    throw new UserError(identityFailure(authUrl, err));
  }
}

export function identityFailure(authUrl: string, err: unknown): string {
  const message = (err as Error)?.message ?? String(err);
  const line = message.split('\n')[0] ?? message;
  return line.includes(authUrl) ? line : `cannot read the identity at ${authUrl}: ${line}`;
}

/** "unreachable: <why>" for the discover table: the reason only, without the URL. */
export function shortIdentityFailure(authUrl: string, err: unknown): string {
  const message = ((err as Error)?.message ?? String(err)).split('\n')[0] ?? '';
  return message
    .replace(`${authUrl}/ids`, '')
    .replace(authUrl, '')
    .replace(/^[\s:]+/, '')
    .replace(/^(GET\s+)?(cannot (read|fetch) (the )?identity( at)?\s*:?\s*)/i, '')
    .trim();
}
