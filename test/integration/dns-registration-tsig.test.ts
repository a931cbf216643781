// Our TSIG (shared/dns-registration/tsig.ts) against BIND's own tools, byte for byte: nsupdate
// and dig sign a request with `-y alg:name:secret` and send it to a UDP listener of this test,
// which captures it; our code re-signs the same unsigned message with the same time and fudge
// and must produce the identical TSIG record (and so the identical MAC). Then the other way:
// real BIND (named) answers our signed requests and our verifier accepts its signatures, and
// refuses the same answer altered by one byte, verified with another key, or outside the fudge.
// Two answers BIND cannot be made to send (unsigned, and signed with the wrong secret, to a
// signed UPDATE) come from a small hostile UDP server this file starts: nothing real sends them.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { register } from '../../shared/dns-registration/index.js';
import {
  findTsig,
  minimumMacBytes,
  signMessage,
  verifyResponse,
  DEFAULT_FUDGE_SECONDS,
} from '../../shared/dns-registration/tsig.js';
import { encodeQuery, encodeUpdate, update } from '../../shared/dns-registration/update-message.js';
import { exchange } from '../../shared/dns-registration/transport.js';
import { TSIG_ALGORITHMS, type TsigKey } from '../../shared/dns-registration/types.js';
import { randomKey, startUpdatableBind, type UpdatableBind } from '../helpers/bind-update.js';

/** A UDP listener that keeps the first DNS message it receives (and never answers). */
async function captureOne(): Promise<{ port: number; message: Promise<Buffer>; close(): void }> {
  const socket = createSocket('udp4');
  const message = new Promise<Buffer>((resolve) => socket.once('message', (data) => resolve(data)));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: (socket.address() as AddressInfo).port, message, close: () => socket.close() };
}

/** Runs a BIND tool until `until` settles, then stops it (by its pid). */
async function runUntil(
  command: string,
  args: string[],
  stdin: string,
  until: Promise<Buffer>,
): Promise<Buffer> {
  const child = spawn(command, args, { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.end(stdin);
  const exited = new Promise<never>((_resolve, reject) =>
    child.once('exit', (code) => reject(new Error(`${command} exited ${code} before sending: ${stderr}`))),
  );
  try {
    return await Promise.race([until, exited]);
  } finally {
    child.kill('SIGKILL');
  }
}

function keyArgument(key: TsigKey, algorithmSpelling = key.algorithm): string {
  return `${algorithmSpelling}:${key.name}:${key.secret}`;
}

/** Our signature of BIND's message with BIND's time, fudge and MAC length. */
function resign(
  captured: Buffer,
  key: TsigKey,
): { ours: Buffer; theirs: NonNullable<ReturnType<typeof findTsig>> } {
  const theirs = findTsig(captured);
  assert.ok(theirs, 'the captured message carries a TSIG record');
  const ours = signMessage(theirs.unsigned, key, {
    timeSigned: theirs.timeSigned,
    fudge: theirs.fudge,
    macBytes: theirs.mac.length,
  });
  return { ours: ours.message, theirs };
}

describe('TSIG against BIND (nsupdate, dig -y, named)', function () {
  this.timeout(30_000);

  describe('requests signed by nsupdate and dig are reproduced byte for byte', () => {
    for (const algorithm of TSIG_ALGORITHMS) {
      it(`nsupdate -y ${algorithm}: same TSIG record, same MAC`, async () => {
        const key = randomKey('liqo-test-key', algorithm);
        const listener = await captureOne();
        try {
          const captured = await runUntil(
            'nsupdate',
            ['-y', keyArgument(key), '-t', '5'],
            [
              `server 127.0.0.1 ${listener.port}`,
              'zone example.com',
              'prereq yxrrset _liqo-owner.a.example.com TXT "cluster-id=x"',
              'update delete a.example.com SRV',
              'update add a.example.com 60 SRV 0 0 443 a.example.com.',
              'send',
              '',
            ].join('\n'),
            listener.message,
          );
          const { ours, theirs } = resign(captured, key);
          assert.deepEqual(ours.toString('hex'), captured.toString('hex'));
          assert.equal(theirs.fudge, DEFAULT_FUDGE_SECONDS, 'nsupdate and we both default to a 300 s fudge');
        } finally {
          listener.close();
        }
      });
    }

    for (const algorithm of ['hmac-sha256', 'hmac-sha512', 'hmac-sha1'] as const) {
      it(`dig -y ${algorithm} (a query, with EDNS): same bytes`, async () => {
        const key = randomKey('dig.key.example', algorithm);
        const listener = await captureOne();
        try {
          const captured = await runUntil(
            'dig',
            [
              '@127.0.0.1',
              '-p',
              String(listener.port),
              '+tries=1',
              '+time=5',
              '-y',
              keyArgument(key),
              'example.com',
              'TXT',
            ],
            '',
            listener.message,
          );
          const { ours } = resign(captured, key);
          assert.deepEqual(ours.toString('hex'), captured.toString('hex'));
        } finally {
          listener.close();
        }
      });
    }

    it('a truncated MAC (nsupdate -y hmac-sha256-128): the same 16 bytes', async () => {
      const key = randomKey('trunc-key', 'hmac-sha256');
      const listener = await captureOne();
      try {
        const captured = await runUntil(
          'nsupdate',
          ['-y', keyArgument(key, 'hmac-sha256-128' as never), '-t', '5'],
          `server 127.0.0.1 ${listener.port}\nzone example.com\nupdate add t.example.com 60 A 192.0.2.1\nsend\n`,
          listener.message,
        );
        const { ours, theirs } = resign(captured, key);
        assert.equal(theirs.mac.length, 16);
        assert.deepEqual(ours.toString('hex'), captured.toString('hex'));
      } finally {
        listener.close();
      }
    });

    it('refuses to sign with a MAC shorter than RFC 8945 §5.2.2.1 allows', () => {
      const key = randomKey('k', 'hmac-sha256');
      const unsigned = encodeQuery(1, 'example.com', 'TXT');
      assert.throws(() => signMessage(unsigned, key, { timeSigned: 1, macBytes: 15 }), /16-32 bytes/);
      assert.throws(() => signMessage(unsigned, key, { timeSigned: 1, macBytes: 33 }), /16-32 bytes/);
      assert.equal(minimumMacBytes('hmac-sha1'), 10);
    });
  });

  describe("named's signed answers", () => {
    let bind: UpdatableBind;
    let key: TsigKey;
    before(async () => {
      bind = await startUpdatableBind({ zone: 'example.com', keys: ['liqo-a'] });
      key = bind.keys['liqo-a'] as TsigKey;
    });
    after(async () => {
      await bind?.stop();
    });

    async function askSigned(unsigned: Buffer, signingKey = key, now = Math.floor(Date.now() / 1000)) {
      const signed = signMessage(unsigned, signingKey, { timeSigned: now });
      const answer = await exchange({ host: '127.0.0.1', port: bind.port }, signed.message, {
        timeoutMs: 2000,
        tries: 2,
        deadline: Date.now() + 5000,
      });
      return { signed, answer };
    }

    it('verifies the answer to a signed query and to a signed UPDATE', async () => {
      const query = await askSigned(encodeQuery(4321, 'example.com', 'TXT'));
      const now = Math.floor(Date.now() / 1000);
      const checked = verifyResponse(query.answer, key, query.signed.mac, now);
      assert.ok(checked.ok, checked.ok ? '' : checked.message);

      const updateMessage = encodeUpdate({
        id: 999,
        zone: 'example.com',
        prerequisites: [],
        updates: [update.add({ name: 'v.example.com', ttl: 60, type: 'A', data: '192.0.2.7' })],
        lease: { seconds: 3600, keySeconds: 7200 },
      });
      const answered = await askSigned(updateMessage);
      const verified = verifyResponse(answered.answer, key, answered.signed.mac, now);
      assert.ok(verified.ok, verified.ok ? '' : verified.message);
      assert.equal(
        answered.answer.readUInt16BE(2) & 0x0f,
        0,
        'NOERROR: BIND takes the UPDATE with the lease option',
      );
    });

    it('refuses the same answer with one byte changed, under another key, or outside the fudge', async () => {
      const { signed, answer } = await askSigned(encodeQuery(77, 'example.com', 'SOA' as 'TXT'));
      const now = Math.floor(Date.now() / 1000);
      const tampered = Buffer.from(answer);
      const at = tampered.length - 20; // inside the MAC (32 bytes, then 6 bytes of id/error/other len)
      tampered.writeUInt8((tampered.readUInt8(at) ^ 0x01) & 0xff, at);
      const bad = verifyResponse(tampered, key, signed.mac, now);
      assert.ok(!bad.ok && bad.kind === 'forged', JSON.stringify(bad));
      const inBody = Buffer.from(answer);
      inBody.writeUInt16BE(inBody.readUInt16BE(2) ^ 0x0400, 2); // the AA flag, in the signed header
      const badBody = verifyResponse(inBody, key, signed.mac, now);
      assert.ok(!badBody.ok && badBody.kind === 'forged', JSON.stringify(badBody));

      const other = verifyResponse(answer, { ...key, secret: randomKey('x').secret }, signed.mac, now);
      assert.ok(!other.ok && other.kind === 'forged', JSON.stringify(other));
      assert.match(other.ok ? '' : other.message, /does not verify with key 'liqo-a'/);

      const late = verifyResponse(answer, key, signed.mac, now + DEFAULT_FUDGE_SECONDS + 5);
      assert.ok(!late.ok && late.kind === 'time', JSON.stringify(late));
      assert.match(late.ok ? '' : late.message, /fudge 300 s/);

      // the answer's MAC covers our request MAC: verified against another request's, it fails
      const wrongRequest = verifyResponse(answer, key, Buffer.alloc(signed.mac.length, 1), now);
      assert.ok(!wrongRequest.ok && wrongRequest.kind === 'forged');
    });

    it('BADSIG, BADKEY and BADTIME come back from named as messages a user understands', async () => {
      const spec = {
        zone: 'example.com',
        instance: 'tsig-errors',
        authUrl: 'https://127.0.0.1:8443',
        clusterId: 'id-t',
        ttl: 60,
      };
      const badSig = await register(spec, {
        server: bind.server,
        key: { ...key, secret: randomKey('x').secret },
      });
      assert.ok(!badSig.ok);
      assert.equal(badSig.reason, 'tsig');
      assert.equal(badSig.tsigError, 'BADSIG');
      assert.equal(badSig.rcode, 'NOTAUTH');
      assert.match(
        badSig.message,
        /rejected the TSIG signature \(BADSIG\): key 'liqo-a' has a different secret/,
      );

      const badKey = await register(spec, { server: bind.server, key: { ...key, name: 'not-a-key' } });
      assert.ok(!badKey.ok);
      assert.equal(badKey.tsigError, 'BADKEY');
      assert.match(badKey.message, /does not know TSIG key 'not-a-key' with algorithm hmac-sha256/);

      const wrongAlgorithm = await register(spec, {
        server: bind.server,
        key: { ...key, algorithm: 'hmac-sha512' },
      });
      assert.ok(!wrongAlgorithm.ok);
      assert.equal(wrongAlgorithm.tsigError, 'BADKEY');

      const hourAgo = Date.now() - 3_600_000;
      const badTime = await register(spec, { server: bind.server, key, now: () => hourAgo });
      assert.ok(!badTime.ok);
      assert.equal(badTime.tsigError, 'BADTIME');
      assert.match(
        badTime.message,
        /BADTIME\): the clocks differ by more than the fudge; the server's clock says \d{4}-/,
      );
      for (const result of [badSig, badKey, wrongAlgorithm, badTime]) {
        assert.ok(!result.message.includes('\n'), 'one line');
      }
    });
  });

  describe('a server whose answers to a signed UPDATE are unsigned or badly signed', () => {
    let hostile: Socket;
    let mode: 'unsigned' | 'wrong-secret' = 'unsigned';
    let port = 0;
    before(async () => {
      hostile = createSocket('udp4');
      hostile.on('message', (request, peer) => {
        const tsig = findTsig(request);
        if (!tsig) return;
        // NOERROR, the request's header and zone section echoed back, no prerequisites or updates
        const header = Buffer.from(tsig.unsigned.subarray(0, 12));
        header.writeUInt16BE(header.readUInt16BE(2) | 0x8000, 2);
        header.writeUInt16BE(0, 6);
        header.writeUInt16BE(0, 8);
        header.writeUInt16BE(0, 10);
        const zoneEnd = tsig.unsigned.indexOf(0, 12) + 5;
        const answer = Buffer.concat([header, tsig.unsigned.subarray(12, zoneEnd)]);
        if (mode === 'unsigned') hostile.send(answer, peer.port, peer.address);
        else {
          const forged = signMessage(answer, randomKey(tsig.keyName), {
            timeSigned: Math.floor(Date.now() / 1000),
            requestMac: tsig.mac,
          });
          hostile.send(forged.message, peer.port, peer.address);
        }
      });
      await new Promise<void>((resolve) => hostile.bind(0, '127.0.0.1', resolve));
      port = (hostile.address() as AddressInfo).port;
    });
    after(() => hostile?.close());

    const spec = {
      zone: 'example.com',
      instance: 'a',
      authUrl: 'https://127.0.0.1',
      clusterId: 'id-a',
      ttl: 60,
    };

    it('an unsigned NOERROR is not taken for success', async () => {
      mode = 'unsigned';
      const result = await register(spec, { server: `127.0.0.1:${port}`, key: randomKey('k') });
      assert.ok(!result.ok);
      assert.equal(result.reason, 'tsig');
      assert.match(result.message, /sent an unsigned answer to our signed request; not trusting it/);
    });

    it('a NOERROR signed with another secret is not taken for success', async () => {
      mode = 'wrong-secret';
      const result = await register(spec, { server: `127.0.0.1:${port}`, key: randomKey('k') });
      assert.ok(!result.ok);
      assert.equal(result.reason, 'tsig');
      assert.match(result.message, /TSIG MAC does not verify with key 'k'; not trusting it/);
    });
  });
});
