// Reading an AdmissionReview body: JSON in UTF-8, bounded in size. A small reader of our own
// rather than express.json(): on the admission path it is most of the per-request cost that
// a framework adds (content-type parsing twice, charset decoding streams, inflation), and the
// API server sends exactly one shape: an uncompressed application/json body.
import type { IncomingMessage } from 'node:http';

/** A request we refuse with this HTTP status and one line of text. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * How deep a request body may nest arrays and objects. An AdmissionReview of our kinds, with
 * its managedFields, stays well under 20; JSON.parse copes with a million levels, but every
 * recursive step after it (JSON.stringify, deep equality, JSON Patch) would overflow the stack.
 */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/**
 * True when the JSON text in `bytes` nests arrays and objects more than `limit` levels deep.
 * One pass over the bytes, strings skipped with indexOf (UTF-8 never has these ASCII bytes
 * inside a multi-byte character); it does not validate: JSON.parse does that next.
 */
export function nestsDeeperThan(bytes: Buffer, limit: number): boolean {
  let depth = 0;
  const end = bytes.length;
  for (let i = 0; i < end; i++) {
    const byte = bytes[i];
    if (byte === QUOTE) {
      // to the closing quote: one preceded by an even number of backslashes
      let close = bytes.indexOf(QUOTE, i + 1);
      while (close !== -1) {
        let backslashes = 0;
        while (bytes[close - 1 - backslashes] === BACKSLASH) backslashes++;
        if (backslashes % 2 === 0) break;
        close = bytes.indexOf(QUOTE, close + 1);
      }
      if (close === -1) return false; // an unterminated string: not JSON, JSON.parse says so
      i = close;
    } else if (byte === OPEN_ARRAY || byte === OPEN_OBJECT) {
      if (++depth > limit) return true;
    } else if (byte === CLOSE_ARRAY || byte === CLOSE_OBJECT) {
      depth--;
    }
  }
  return false;
}

/** A JSON.parse message on one short line (V8 quotes the input, newlines included). */
function parseFailure(err: unknown): string {
  // eslint-disable-next-line no-control-regex -- replacing control characters is the point
  const line = String((err as Error)?.message ?? err).replace(/[\u0000-\u001f\u007f]+/g, ' ');
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}

const JSON_TYPE = /^application\/json\s*(;|$)/i;
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]+)"?/i;

/** Throws HttpError(400) unless Content-Type is application/json (UTF-8, if a charset is given). */
export function checkJsonContentType(req: IncomingMessage): void {
  const type = req.headers['content-type'];
  if (!type || !JSON_TYPE.test(type)) {
    throw new HttpError(
      400,
      `Content-Type must be application/json (an AdmissionReview), got ${type ? `"${type}"` : 'none'}`,
    );
  }
  const charset = CHARSET.exec(type)?.[1]?.toLowerCase();
  if (charset && charset !== 'utf-8' && charset !== 'utf8') {
    throw new HttpError(400, `charset "${charset}" is not supported: send UTF-8 JSON`);
  }
  const encoding = req.headers['content-encoding'];
  if (encoding && encoding.toLowerCase() !== 'identity') {
    throw new HttpError(400, `Content-Encoding "${encoding}" is not supported: send the body uncompressed`);
  }
}

/**
 * Calls back with the body parsed as JSON, or an HttpError: 413 past `limit` bytes, 400 when
 * it is not JSON or the client went away. `tooDeep` says the body nests more than
 * MAX_JSON_DEPTH levels: it is parsed all the same (JSON.parse is not recursive), so that the
 * caller can still answer an AdmissionReview by its uid, but must not walk it. Callback style
 * on purpose: this runs for every admission and a promise per request shows in the profile.
 */
export function readJsonBody(
  req: IncomingMessage,
  limit: number,
  done: (err: HttpError | undefined, body?: unknown, tooDeep?: boolean) => void,
): void {
  const tooLarge = () =>
    new HttpError(413, `request body is larger than ${limit} bytes; an AdmissionReview never is`);
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) {
    req.resume(); // discard it; the answer goes out without waiting
    return done(tooLarge());
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let settled = false;
  const finish = (err: HttpError | undefined, body?: unknown, tooDeep?: boolean) => {
    if (settled) return;
    settled = true;
    done(err, body, tooDeep);
  };
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  });
  req.on('end', () => {
    if (size > limit) return finish(tooLarge());
    const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    const tooDeep = nestsDeeperThan(bytes, MAX_JSON_DEPTH);
    let body: unknown;
    try {
      body = JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      return finish(new HttpError(400, `request body is not valid JSON: ${parseFailure(err)}`));
    }
    finish(undefined, body, tooDeep);
  });
  // a client that goes away mid-body ends here too (ECONNRESET "aborted")
  req.on('error', (err) => finish(new HttpError(400, `request body could not be read: ${err.message}`)));
}
