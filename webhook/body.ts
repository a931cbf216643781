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
 * it is not JSON or the client went away. Callback style on purpose: this runs for every
 * admission and a promise per request shows in the profile.
 */
export function readJsonBody(
  req: IncomingMessage,
  limit: number,
  done: (err: HttpError | undefined, body?: unknown) => void,
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
  const finish = (err: HttpError | undefined, body?: unknown) => {
    if (settled) return;
    settled = true;
    done(err, body);
  };
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  });
  req.on('end', () => {
    if (size > limit) return finish(tooLarge());
    const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      return finish(new HttpError(400, `request body is not valid JSON: ${(err as Error).message}`));
    }
    finish(undefined, body);
  });
  // a client that goes away mid-body ends here too (ECONNRESET "aborted")
  req.on('error', (err) => finish(new HttpError(400, `request body could not be read: ${err.message}`)));
}
