// Everything that reads a failed Kubernetes API call, for all three programs: its HTTP status
// and Status body (apiStatus, apiStatusBody, isNotFound, isConflict, isAlreadyExists,
// kubeErrorMessage), and the one line a user can act on (describeApiFailure: whatever
// @kubernetes/client-node threw, an ApiException carrying a Status body or a network error
// from its fetch, like kubectl's "Error from server (Forbidden): ..." but without the noise).
import { oneLine } from '../text.js';

export class KubeApiError extends Error {
  constructor(
    message: string,
    /** HTTP status when the server answered. */
    readonly status?: number,
    /** Status.reason, e.g. "AlreadyExists", "Forbidden", "Invalid", "Conflict". */
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

export interface ApiTarget {
  kind: string;
  name?: string | undefined;
  namespace?: string;
}

export interface ApiFailure {
  /** 404 for this very object (not for the resource type itself). */
  notFound: boolean;
  error: KubeApiError;
}

interface StatusBody {
  kind?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; kind?: string; causes?: { field?: string; message?: string }[] };
}

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'connection timed out',
  CERT_HAS_EXPIRED: 'its certificate has expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'its certificate is self-signed and not in the kubeconfig',
  SELF_SIGNED_CERT_IN_CHAIN: 'its certificate chain is not trusted by the kubeconfig',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its certificate is not trusted by the kubeconfig',
  ERR_TLS_CERT_ALTNAME_INVALID: 'its certificate does not match its address',
};

export function describeApiFailure(
  err: unknown,
  verb: string,
  target: ApiTarget,
  ctx: { server: string; timeoutMs?: number | undefined },
): ApiFailure {
  const what = `${verb} ${target.kind}${target.name ? ` "${target.name}"` : 's'}`;
  const e = err as { code?: unknown; body?: unknown; name?: string; type?: string; message?: string };

  const status = apiStatus(err);
  if (status !== undefined) {
    const body = apiStatusBody(err);
    const reason = body?.reason;
    if (status === 404) {
      // A 404 naming our object means "no such object"; without details the type itself is
      // not served (the CRD is missing).
      const objectMissing = Boolean(body?.details?.name) || reason === 'NotFound';
      const crdMissing =
        !body?.details?.name && /could not find the requested resource/i.test(body?.message ?? '');
      if (crdMissing || !objectMissing) {
        return {
          notFound: false,
          error: new KubeApiError(
            `cannot ${what}: the API server does not serve ${target.kind} (is it installed? try "kubectl liqo install")`,
            404,
            'NotFound',
          ),
        };
      }
      return {
        notFound: true,
        error: new KubeApiError(`cannot ${what}: not found`, 404, 'NotFound'),
      };
    }
    if (status === 401) {
      return {
        notFound: false,
        error: new KubeApiError(
          `cannot ${what}: the API server ${ctx.server} did not accept the kubeconfig's credentials (401 Unauthorized)`,
          401,
          'Unauthorized',
        ),
      };
    }
    // a webhook's refusal may hold several lines: kept apart by "; "
    const message = oneLine(
      body?.message ?? (typeof e.body === 'string' && e.body ? e.body : `HTTP ${status}`),
      { joinWith: '; ' },
    );
    return { notFound: false, error: new KubeApiError(`cannot ${what}: ${message}`, status, reason) };
  }

  if (e?.name === 'AbortError' || e?.type === 'aborted' || e?.name === 'TimeoutError') {
    const bound = ctx.timeoutMs ? ` within ${formatSeconds(ctx.timeoutMs)} (--request-timeout)` : ' in time';
    return {
      notFound: false,
      error: new KubeApiError(`cannot ${what}: the API server ${ctx.server} did not answer${bound}`),
    };
  }

  const code = typeof e?.code === 'string' ? e.code : findCauseCode(err);
  if (code) {
    const why = NETWORK_CODES[code] ?? code;
    return {
      notFound: false,
      error: new KubeApiError(`cannot ${what}: cannot reach the API server ${ctx.server}: ${why}`),
    };
  }
  const msg = oneLine(e?.message ?? String(err), { joinWith: '; ' });
  return { notFound: false, error: new KubeApiError(`cannot ${what}: ${msg}`) };
}

/** The Status the API server answered with (client-node keeps it in `body`, as text or parsed). */
export function apiStatusBody(err: unknown): StatusBody | undefined {
  const body = (err as { body?: unknown } | null | undefined)?.body;
  if (body && typeof body === 'object') return body as StatusBody;
  if (typeof body !== 'string' || !body.trim().startsWith('{')) return undefined;
  try {
    return JSON.parse(body) as StatusBody;
  } catch {
    return undefined;
  }
}

/**
 * The HTTP status of a failed API call, if it was one: client-node's ApiException `code`, a
 * `statusCode` or `status`, or the same on the error it wraps (KubeApiError's cause).
 */
export function apiStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; statusCode?: unknown; status?: unknown };
  for (const v of [e.code, e.statusCode, e.status]) if (typeof v === 'number') return v;
  const cause = (err as { cause?: unknown }).cause;
  return cause && cause !== err ? apiStatus(cause) : undefined;
}

export const isNotFound = (err: unknown): boolean => apiStatus(err) === 404;
export const isConflict = (err: unknown): boolean => apiStatus(err) === 409;
/** A create of an object that is already there: 409 with reason AlreadyExists in its Status. */
export const isAlreadyExists = (err: unknown): boolean =>
  apiStatus(err) === 409 && apiStatusBody(err)?.reason === 'AlreadyExists';

/** One line for a failed API call, for logs and conditions: the Status message when the server sent one. */
export function kubeErrorMessage(err: unknown): string {
  const status = apiStatus(err);
  const message = apiStatusBody(err)?.message;
  if (status !== undefined && message) return `HTTP ${status}: ${oneLine(message, { joinWith: '; ' })}`;
  if (err instanceof Error) return oneLine(err.message, { joinWith: '; ' }) || err.name;
  return oneLine(String(err));
}

function findCauseCode(err: unknown): string | undefined {
  let cur = (err as { cause?: unknown })?.cause;
  for (let depth = 0; cur && depth < 4; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}
