// POST /mutate and POST /validate, answered on Node's own request and response objects.
// These two routes are dispatched before express on purpose: express swaps the prototypes of
// every req/res it handles, which alone costs this runtime 2.5-3x the CPU of a bare https
// answer (measured: bench/webhook.ts and its README section), and an admission is on the
// path of every kubectl apply. Health, readiness, metrics and every other path stay in the
// express app (app.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  MalformedReviewError,
  mutate,
  parseAdmissionReview,
  refuseTooDeep,
  validate,
  type AdmissionContext,
  type AdmissionOutcome,
  type AdmissionRequest,
} from './admission.js';
import { HttpError, MAX_JSON_DEPTH, checkJsonContentType, readJsonBody } from './body.js';
import { errorText, type Logger } from './logger.js';
import type { WebhookMetrics } from './metrics.js';

export type Endpoint = 'mutate' | 'validate';

const HANDLERS: Record<Endpoint, (r: AdmissionRequest, c: AdmissionContext) => AdmissionOutcome> = {
  mutate,
  validate,
};

/** The admission endpoint a request is for: POST to /mutate or /validate (any query). */
export function admissionEndpointOf(req: IncomingMessage): Endpoint | undefined {
  if (req.method !== 'POST') return undefined;
  const url = req.url ?? '';
  const q = url.indexOf('?'); // the API server adds ?timeout=5s
  const path = q === -1 ? url : url.slice(0, q);
  return path === '/mutate' ? 'mutate' : path === '/validate' ? 'validate' : undefined;
}

export interface AdmissionRouteParts {
  ctx: AdmissionContext;
  metrics: WebhookMetrics;
  log: Logger;
  state: { closing: boolean };
  bodyLimitBytes: number;
}

export function createAdmissionRoute(parts: AdmissionRouteParts) {
  const { ctx, metrics, log, state, bodyLimitBytes } = parts;

  const sendText = (res: ServerResponse, code: number, text: string) => {
    res.writeHead(code, {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
  };

  function refuse(
    endpoint: Endpoint,
    res: ServerResponse,
    err: HttpError | MalformedReviewError,
    start: number,
  ) {
    const code = err instanceof HttpError ? err.status : 400;
    const message = err instanceof HttpError ? err.message : `malformed AdmissionReview: ${err.message}`;
    if (!res.headersSent && !res.destroyed) sendText(res, code, `${message}\n`);
    metrics.observe(endpoint, 'unknown', 'unknown', 'error', (performance.now() - start) / 1000);
    log.info({ path: `/${endpoint}`, code, message }, 'malformed request refused');
  }

  function answer(
    endpoint: Endpoint,
    req: IncomingMessage,
    res: ServerResponse,
    body: unknown,
    tooDeep: boolean,
    start: number,
  ) {
    let request: AdmissionRequest;
    try {
      request = parseAdmissionReview(body);
    } catch (err) {
      if (!(err instanceof MalformedReviewError)) throw err;
      if (!tooDeep) return refuse(endpoint, res, err, start);
      const deep = `request body nests lists and objects more than ${MAX_JSON_DEPTH} levels deep (at most ${MAX_JSON_DEPTH}), and is not an AdmissionReview: ${err.message}`;
      return refuse(endpoint, res, new HttpError(400, deep), start);
    }
    // a deep review is answered by its uid, without the rules ever walking into it
    const outcome = tooDeep ? refuseTooDeep(request, ctx, MAX_JSON_DEPTH) : HANDLERS[endpoint](request, ctx);
    const text = JSON.stringify(outcome.review);
    res.writeHead(200, [
      'content-type',
      'application/json',
      'content-length',
      String(Buffer.byteLength(text)),
    ]);
    res.end(text);
    const seconds = (performance.now() - start) / 1000;
    metrics.observe(endpoint, outcome.kind, outcome.operation, outcome.result, seconds);
    logAdmission(log, endpoint, request, outcome, seconds);
  }

  function failed(endpoint: Endpoint, res: ServerResponse, err: unknown) {
    log.error({ err: errorText(err), path: `/${endpoint}` }, 'internal error while answering an admission');
    metrics.observe(endpoint, 'unknown', 'unknown', 'error', 0);
    if (!res.headersSent && !res.destroyed) sendText(res, 500, 'internal error\n');
    else res.destroy();
  }

  /** Never throws: a malformed request is answered 4xx, an unexpected failure logged and 500. */
  return (endpoint: Endpoint, req: IncomingMessage, res: ServerResponse): void => {
    const start = performance.now();
    if (state.closing) res.setHeader('connection', 'close');
    try {
      checkJsonContentType(req);
    } catch (err) {
      return refuse(endpoint, res, err as HttpError, start);
    }
    readJsonBody(req, bodyLimitBytes, (err, body, tooDeep) => {
      if (err) return refuse(endpoint, res, err, start);
      try {
        answer(endpoint, req, res, body, tooDeep === true, start);
      } catch (e) {
        failed(endpoint, res, e);
      }
    });
  };
}

function logAdmission(
  log: Logger,
  endpoint: Endpoint,
  request: AdmissionRequest,
  outcome: AdmissionOutcome,
  seconds: number,
): void {
  const response = outcome.review.response;
  if (response.allowed && !log.isLevelEnabled('debug')) return;
  const meta = (request.object as { metadata?: { name?: string } } | undefined)?.metadata;
  const fields = {
    endpoint,
    uid: request.uid,
    kind: outcome.kind,
    name: meta?.name ?? request.name,
    operation: outcome.operation,
    dryRun: request.dryRun === true,
    user: (request.userInfo as { username?: string } | undefined)?.username,
    allowed: response.allowed,
    patched: response.patch !== undefined,
    ms: Math.round(seconds * 10000) / 10,
    ...(response.status ? { message: response.status.message } : {}),
    ...(response.warnings ? { warnings: response.warnings } : {}),
  };
  if (response.allowed) log.debug(fields, 'admitted');
  else log.info(fields, 'admission refused');
}
