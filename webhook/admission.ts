// The generic admission layer, like controller-runtime's admission package: decode an
// AdmissionReview, call the per-kind Defaulter/Validator from shared/rules, and answer. The
// per-kind rules never see HTTP or JSONPatch; this file never knows a field's meaning.
import jsonPatch from 'fast-json-patch';
import {
  CONFIG_GROUP,
  DISCOVERY_GROUP,
  KIND_CLUSTER_CONFIG,
  KIND_DNS_REGISTRATION,
  KIND_FOREIGN_CLUSTER,
  KIND_SEARCH_DOMAIN,
} from '../shared/api/constants.js';
import { rulesByKind } from '../shared/rules/index.js';
import { onlyMetadataChanged, ratchetErrors } from '../shared/rules/ratchet.js';
import {
  formatFieldError,
  type FieldError,
  type KindRules,
  type NamedObject,
  type UniquenessRule,
} from '../shared/rules/types.js';
import { oneLine } from '../shared/text.js';
import type { AdmissionResult } from './metrics.js';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';
export const MAX_WARNING_LENGTH = 120;

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface AdmissionRequest {
  uid: string;
  kind: GroupVersionKind;
  name?: string;
  operation: Operation | string;
  object?: unknown;
  oldObject?: unknown;
  dryRun?: boolean;
  [key: string]: unknown;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { status: 'Failure'; code: number; reason: string; message: string };
  patchType?: 'JSONPatch';
  /** base64 of a JSON Patch (RFC 6902). */
  patch?: string;
  warnings?: string[];
}

export interface AdmissionReviewResponse {
  apiVersion: typeof ADMISSION_API_VERSION;
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}

/** The request cannot be an AdmissionReview at all: answered with HTTP 400. */
export class MalformedReviewError extends Error {}

export type KindName =
  | typeof KIND_FOREIGN_CLUSTER
  | typeof KIND_SEARCH_DOMAIN
  | typeof KIND_CLUSTER_CONFIG
  | typeof KIND_DNS_REGISTRATION;

/** The API group each kind we admit belongs to. */
export const ADMITTED_KINDS: Record<KindName, string> = {
  [KIND_FOREIGN_CLUSTER]: DISCOVERY_GROUP,
  [KIND_SEARCH_DOMAIN]: DISCOVERY_GROUP,
  [KIND_CLUSTER_CONFIG]: CONFIG_GROUP,
  [KIND_DNS_REGISTRATION]: DISCOVERY_GROUP,
};

/**
 * The stored objects the uniqueness rules (shared/rules/uniqueness.ts) compare against, as
 * admission sees them (see crossobject-cache.ts). The rule decides; this only supplies.
 */
export interface CrossObjectChecks {
  /** off: no API access; syncing: caches not yet listed; ready: answers are from the caches. */
  readonly state: 'off' | 'syncing' | 'ready';
  /** The stored objects of `kind` whose unique value (the rule's key) is `key`. */
  holding(kind: KindName, key: string): NamedObject[];
}

export interface AdmissionContext {
  allowLoopbackAuthUrl: boolean;
  crossObject: CrossObjectChecks;
}

/** What the HTTP layer sends back, plus what it needs for metrics and logs. */
export interface AdmissionOutcome {
  review: AdmissionReviewResponse;
  kind: string;
  operation: string;
  result: AdmissionResult;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Short text for a value in a message; never walks into lists or objects (they may be deep). */
function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object' && value !== null) return 'an object';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Checks the envelope; throws MalformedReviewError with one line saying what is wrong. */
export function parseAdmissionReview(body: unknown): AdmissionRequest {
  if (!isRecord(body)) {
    throw new MalformedReviewError(`expected a JSON object (an AdmissionReview), got ${describe(body)}`);
  }
  if (body.apiVersion !== ADMISSION_API_VERSION || body.kind !== 'AdmissionReview') {
    throw new MalformedReviewError(
      `expected apiVersion "${ADMISSION_API_VERSION}" and kind "AdmissionReview", got apiVersion ${describe(body.apiVersion)} and kind ${describe(body.kind)}`,
    );
  }
  const request = body.request;
  if (!isRecord(request)) {
    throw new MalformedReviewError('the AdmissionReview has no "request" object');
  }
  if (typeof request.uid !== 'string' || request.uid === '') {
    throw new MalformedReviewError('request.uid must be a non-empty string');
  }
  const kind = request.kind;
  if (!isRecord(kind) || typeof kind.kind !== 'string' || typeof kind.group !== 'string') {
    throw new MalformedReviewError('request.kind must be an object with "group", "version" and "kind"');
  }
  if (typeof request.operation !== 'string') {
    throw new MalformedReviewError('request.operation must be CREATE, UPDATE, DELETE or CONNECT');
  }
  if (request.operation === 'CREATE' || request.operation === 'UPDATE') {
    if (!isRecord(request.object)) {
      throw new MalformedReviewError(`request.object must be an object for ${request.operation}`);
    }
  }
  if (request.operation === 'UPDATE' && !isRecord(request.oldObject)) {
    throw new MalformedReviewError('request.oldObject must be an object for UPDATE');
  }
  return request as AdmissionRequest;
}

function envelope(response: AdmissionResponse): AdmissionReviewResponse {
  return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response };
}

function refusal(uid: string, code: number, reason: string, message: string): AdmissionResponse {
  return { uid, allowed: false, status: { status: 'Failure', code, reason, message: oneLine(message) } };
}

/**
 * A warning the API server passes on as-is: one line, printable, at most 120 characters,
 * cut on a code-point boundary (never in the middle of a surrogate pair) with "..." appended.
 */
export function boundWarning(text: string, max = MAX_WARNING_LENGTH): string {
  // eslint-disable-next-line no-control-regex -- replacing control characters is the point
  const printable = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  const codePoints = Array.from(printable);
  if (codePoints.length <= max) return printable;
  return `${codePoints
    .slice(0, max - 3)
    .join('')
    .trimEnd()}...`;
}

function objectName(request: AdmissionRequest): string | undefined {
  const meta = isRecord(request.object) && isRecord(request.object.metadata) ? request.object.metadata : {};
  if (typeof meta.name === 'string' && meta.name) return meta.name;
  if (typeof request.name === 'string' && request.name) return request.name;
  return undefined;
}

function displayName(request: AdmissionRequest): string {
  const name = objectName(request);
  if (name) return name;
  const meta = isRecord(request.object) && isRecord(request.object.metadata) ? request.object.metadata : {};
  return typeof meta.generateName === 'string' && meta.generateName ? `${meta.generateName}*` : '';
}

/** undefined when the request is for a kind this webhook does not admit. */
function admittedKind(request: AdmissionRequest): KindName | undefined {
  const kind = request.kind.kind as KindName;
  return Object.hasOwn(ADMITTED_KINDS, kind) && ADMITTED_KINDS[kind] === request.kind.group
    ? kind
    : undefined;
}

// Typed for untrusted input: here objects are only "what the API server sent".
function rulesFor(kind: KindName): KindRules<unknown> {
  return rulesByKind[kind];
}

type Handler = (request: AdmissionRequest, kind: KindName, ctx: AdmissionContext) => AdmissionOutcome;

const OPERATIONS = new Set(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);

function admit(request: AdmissionRequest, ctx: AdmissionContext, handler: Handler): AdmissionOutcome {
  // a metrics label: only the four real operations, so a client cannot mint new series
  const operation = OPERATIONS.has(request.operation) ? request.operation : 'unknown';
  const kind = admittedKind(request);
  if (!kind) {
    const { group, kind: k } = request.kind;
    const message = `this webhook admits ForeignCluster, SearchDomain and DNSRegistration (${DISCOVERY_GROUP}) and ClusterConfig (${CONFIG_GROUP}), not ${group ? `${group}/` : ''}${k}: check the rules of the webhook configuration`;
    return {
      review: envelope(refusal(request.uid, 400, 'BadRequest', message)),
      kind: 'unknown',
      operation,
      result: 'error',
    };
  }
  if (operation !== 'CREATE' && operation !== 'UPDATE') {
    // DELETE and CONNECT have nothing to default or check.
    return { review: envelope({ uid: request.uid, allowed: true }), kind, operation, result: 'allowed' };
  }
  try {
    return handler(request, kind, ctx);
  } catch (err) {
    // The rules promise never to throw; if they do, refuse with a message rather than crash.
    const message = `internal error while admitting ${kind} "${displayName(request)}": ${(err as Error)?.message ?? String(err)}`;
    return {
      review: envelope(refusal(request.uid, 500, 'InternalError', message)),
      kind,
      operation,
      result: 'error',
    };
  }
}

/** Mutation: the defaulted object, expressed as a JSON Patch against the object as sent. */
export function mutate(request: AdmissionRequest, ctx: AdmissionContext): AdmissionOutcome {
  return admit(request, ctx, (req, kind) => {
    const original = req.object as object;
    const defaulted = rulesFor(kind).applyDefaults(original, req.oldObject) as object;
    const patch = jsonPatch.compare(original, defaulted);
    const response: AdmissionResponse = { uid: req.uid, allowed: true };
    if (patch.length > 0) {
      response.patchType = 'JSONPatch';
      response.patch = Buffer.from(JSON.stringify(patch)).toString('base64');
    }
    return { review: envelope(response), kind, operation: req.operation, result: 'allowed' };
  });
}

/**
 * On UPDATE, only the errors on fields the update changes (see shared/rules/ratchet.ts); the
 * stored object counts both as stored and as defaulting would write it, since the mutating
 * webhook normalises on the way. CREATE keeps every error.
 */
function ratcheted(kind: KindName, req: AdmissionRequest, errors: FieldError[]): FieldError[] {
  if (req.operation !== 'UPDATE' || errors.length === 0) return errors;
  const old = req.oldObject;
  return ratchetErrors(errors, req.object, [old, rulesFor(kind).applyDefaults(old, undefined)]);
}

/** The uniqueness rule's verdict on the request's object, against the stored objects sharing its key. */
function uniquenessErrors(
  kind: KindName,
  unique: UniquenessRule,
  req: AdmissionRequest,
  stored: CrossObjectChecks,
): FieldError[] {
  const key = unique.keyOf(req.object);
  if (key === undefined) return [];
  return unique.conflicts(req.object, objectName(req), stored.holding(kind, key));
}

/** Validation: single-object rules, then the cross-object ones (from the watch caches). */
export function validate(request: AdmissionRequest, ctx: AdmissionContext): AdmissionOutcome {
  return admit(request, ctx, (req, kind, c) => {
    const operation = req.operation;
    const old = operation === 'UPDATE' ? req.oldObject : undefined;
    const checked = rulesFor(kind).validate(req.object, old, { allowLoopback: c.allowLoopbackAuthUrl });
    const errors = ratcheted(kind, req, checked.errors);
    const bounded = checked.warnings.map((w) => boundWarning(w)).filter((w) => w !== '');
    const name = displayName(req);
    // the uniqueness rules read only the spec: a metadata-only update cannot break one
    const unique = rulesFor(kind).unique;
    const crossObjectNeeded =
      unique !== undefined && !(operation === 'UPDATE' && onlyMetadataChanged(req.object, old));
    let response: AdmissionResponse | undefined;
    if (errors.length === 0 && crossObjectNeeded && c.crossObject.state === 'syncing') {
      response = refusal(
        req.uid,
        503,
        'ServiceUnavailable',
        `${kind} "${name}" cannot be checked yet: the webhook has not finished reading the existing ForeignClusters and SearchDomains from the API server; retry in a few seconds`,
      );
    } else {
      const all =
        unique && errors.length === 0 && crossObjectNeeded && c.crossObject.state === 'ready'
          ? ratcheted(kind, req, uniquenessErrors(kind, unique, req, c.crossObject))
          : errors;
      if (all.length > 0) {
        const details = all.map((e) => formatFieldError(e)).join('; ');
        response = refusal(req.uid, 422, 'Invalid', `${kind} "${name}" is invalid: ${details}`);
      }
    }
    response ??= { uid: req.uid, allowed: true };
    if (bounded.length > 0) response.warnings = bounded;
    return {
      review: envelope(response),
      kind,
      operation,
      result: response.allowed ? 'allowed' : (response.status?.code ?? 0) >= 500 ? 'error' : 'denied',
    };
  });
}

/**
 * A review whose body nests deeper than `maxDepth`: refused as a review (HTTP 200, allowed
 * false, with a message) rather than an HTTP 400, because the API server shows a review's
 * message to the user and refuses whatever the failurePolicy, while an HTTP error under
 * failurePolicy Ignore would let the object in unchecked. DELETE and CONNECT still pass (a
 * stored object must stay deletable); nothing here walks into the object.
 */
export function refuseTooDeep(
  request: AdmissionRequest,
  ctx: AdmissionContext,
  maxDepth: number,
): AdmissionOutcome {
  return admit(request, ctx, (req, kind) => {
    const message = `${kind} "${displayName(req)}" is refused: its AdmissionReview nests lists and objects more than ${maxDepth} levels deep; at most ${maxDepth} are accepted`;
    return {
      review: envelope(refusal(req.uid, 400, 'BadRequest', message)),
      kind,
      operation: req.operation,
      result: 'denied',
    };
  });
}
