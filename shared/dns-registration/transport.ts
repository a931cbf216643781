// One request/answer exchange with the zone's primary: UDP with bounded retries, TCP when the
// answer is truncated (TC) or the request is too big for UDP, everything under one deadline.
// A connected UDP socket per exchange hears only the server; the answer must carry the request's
// id and the QR bit. The server is admin configuration (an IP literal, like the DNS server of a
// SearchDomain in shared/lookup/dns-client.ts), so no connect-time address policy applies.
import { createSocket } from 'node:dgram';
import { Socket } from 'node:net';
import type { DnsServerAddress } from '../lookup/dns-records.js';
import { formatDnsServer } from '../lookup/dns-records.js';
import { EDNS_UDP_PAYLOAD } from './update-message.js';

export type TransportErrorCode = 'timeout' | 'refused' | 'unreachable' | 'aborted' | 'reset';

export class TransportError extends Error {
  constructor(
    readonly code: TransportErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface ExchangeSettings {
  timeoutMs: number;
  tries: number;
  /** Date.now() after which nothing more is tried. */
  deadline: number;
  signal?: AbortSignal;
}

/** The answer to `request` (whose id is its first two bytes), or a TransportError. */
export async function exchange(
  server: DnsServerAddress,
  request: Buffer,
  settings: ExchangeSettings,
): Promise<Buffer> {
  if (settings.signal?.aborted) throw new TransportError('aborted', 'cancelled');
  // Bigger than what we ourselves accept over UDP: straight to TCP (RFC 7766 §5).
  if (request.length > EDNS_UDP_PAYLOAD) return exchangeTcp(server, request, settings);
  const answer = await exchangeUdp(server, request, settings);
  if ((answer.readUInt16BE(2) & 0x0200) === 0) return answer;
  return exchangeTcp(server, request, settings);
}

function remaining(settings: ExchangeSettings): number {
  return settings.deadline - Date.now();
}

function matches(request: Buffer, answer: Buffer): boolean {
  return answer.length >= 12 && answer.readUInt16BE(0) === request.readUInt16BE(0) && (answer[2] ?? 0) & 0x80
    ? true
    : false;
}

type Finish = (error: Error | undefined, answer?: Buffer) => void;

/**
 * The one way an exchange ends: `close` the socket and timers, then settle, once — a send
 * callback, socket error or close can still arrive after the answer. An abort of
 * `settings.signal` ends it too.
 */
function finishOnce(
  settings: ExchangeSettings,
  resolve: (answer: Buffer) => void,
  reject: (error: Error) => void,
  close: () => void,
): Finish {
  let done = false;
  const finish: Finish = (error, answer) => {
    if (done) return;
    done = true;
    settings.signal?.removeEventListener('abort', onAbort);
    close();
    if (error) reject(error);
    else resolve(answer as Buffer);
  };
  const onAbort = (): void => finish(new TransportError('aborted', 'cancelled'));
  settings.signal?.addEventListener('abort', onAbort, { once: true });
  return finish;
}

function exchangeUdp(server: DnsServerAddress, request: Buffer, settings: ExchangeSettings): Promise<Buffer> {
  const where = formatDnsServer(server);
  return new Promise<Buffer>((resolve, reject) => {
    const socket = createSocket(server.host.includes(':') ? 'udp6' : 'udp4');
    let timer: NodeJS.Timeout | undefined;
    let tries = 0;
    const finish = finishOnce(settings, resolve, reject, () => {
      clearTimeout(timer);
      socket.close();
    });
    const giveUp = (): void =>
      finish(new TransportError('timeout', `no answer from ${where} after ${tries} UDP tries`));
    const sendOnce = (): void => {
      const left = remaining(settings);
      if (tries >= settings.tries || left <= 0) return giveUp();
      tries++;
      socket.send(request, (error) => {
        if (error) fail(error as NodeJS.ErrnoException);
      });
      // A wait cut short by the deadline ends the exchange when it fires. Asking the clock
      // again would not do: the timer runs on the monotonic clock from the event loop's
      // cached time, the deadline on Date.now(), so on a loaded process (or after a clock
      // step) it can find time left and send one more try that has none to be answered.
      timer = setTimeout(left <= settings.timeoutMs ? giveUp : sendOnce, Math.min(settings.timeoutMs, left));
    };
    const fail = (error: NodeJS.ErrnoException): void => {
      if (error.code === 'ECONNREFUSED') {
        finish(
          new TransportError('refused', `${where} refused the connection (nothing listens on that port?)`),
        );
      } else {
        finish(new TransportError('unreachable', `${where}: ${error.code ?? error.message}`));
      }
    };
    socket.on('error', fail);
    socket.on('message', (answer) => {
      if (matches(request, answer)) finish(undefined, answer);
    });
    socket.connect(server.port, server.host, (error?: NodeJS.ErrnoException) => {
      if (error) fail(error);
      else sendOnce();
    });
  });
}

function exchangeTcp(server: DnsServerAddress, request: Buffer, settings: ExchangeSettings): Promise<Buffer> {
  const where = formatDnsServer(server);
  return new Promise<Buffer>((resolve, reject) => {
    const left = remaining(settings);
    if (left <= 0) {
      reject(new TransportError('timeout', `no answer from ${where} before the deadline`));
      return;
    }
    const socket = new Socket();
    let buffered = Buffer.alloc(0);
    const finish = finishOnce(settings, resolve, reject, () => {
      clearTimeout(timer);
      socket.destroy();
    });
    const timer = setTimeout(
      () => finish(new TransportError('timeout', `no answer from ${where} over TCP`)),
      Math.min(settings.timeoutMs * settings.tries, left),
    );
    socket.on('error', (error: NodeJS.ErrnoException) => {
      const refused = error.code === 'ECONNREFUSED';
      finish(
        new TransportError(
          refused ? 'refused' : 'reset',
          refused ? `${where} refused the TCP connection` : `${where}: ${error.code ?? error.message}`,
        ),
      );
    });
    socket.on('close', () => finish(new TransportError('reset', `${where} closed the TCP connection`)));
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const length = buffered.readUInt16BE(0);
        if (buffered.length < 2 + length) return;
        const answer = buffered.subarray(2, 2 + length);
        buffered = buffered.subarray(2 + length);
        if (matches(request, answer)) {
          finish(undefined, Buffer.from(answer));
          return;
        }
      }
    });
    socket.connect(server.port, server.host, () => {
      const frame = Buffer.alloc(2 + request.length);
      frame.writeUInt16BE(request.length, 0);
      request.copy(frame, 2);
      socket.write(frame);
    });
  });
}
