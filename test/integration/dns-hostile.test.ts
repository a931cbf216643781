// resolveSearchDomain against hostile DNS servers: real UDP/TCP servers on 127.0.0.1, written here
// because no real DNS server sends garbage on purpose. Every case must end in a result with
// one-line errors (never a throw, a hang or a crash), and spoofed replies must never be believed.
import assert from 'node:assert/strict';
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import dnsPacket from 'dns-packet';
import fc from 'fast-check';
import { resolveSearchDomain } from '../../shared/lookup/dns.js';

interface HostileServer {
  server: string;
  stop(): Promise<void>;
}

type Reply = (query: Buffer) => Buffer[] | undefined;

/** UDP and TCP on one port; `udp` and `tcp` make the replies (undefined: stay silent). */
async function startHostileServer(udp: Reply, tcp: Reply = udp): Promise<HostileServer> {
  const sockets = new Set<Socket>();
  const tcpServer: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 2 && buffer.length >= buffer.readUInt16BE(0) + 2) {
        const query = buffer.subarray(2, buffer.readUInt16BE(0) + 2);
        buffer = buffer.subarray(query.length + 2);
        for (const reply of tcp(query) ?? []) socket.write(reply);
      }
    });
  });
  await new Promise<void>((resolve) => tcpServer.listen(0, '127.0.0.1', resolve));
  const address = tcpServer.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const udpServer: UdpSocket = createSocket('udp4');
  udpServer.on('message', (query: Buffer, from: RemoteInfo) => {
    for (const reply of udp(query) ?? []) udpServer.send(reply, from.port, from.address);
  });
  await new Promise<void>((resolve) => udpServer.bind(port, '127.0.0.1', resolve));
  return {
    server: `127.0.0.1:${port}`,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => tcpServer.close(() => resolve()));
      await new Promise<void>((resolve) => udpServer.close(() => resolve()));
    },
  };
}

/** A well-formed reply to `query` with these answers. */
function answer(query: Buffer, answers: dnsPacket.Answer[], flags = 0): Buffer {
  const decoded = dnsPacket.decode(query);
  return dnsPacket.encode({
    id: decoded.id,
    type: 'response',
    flags: dnsPacket.AUTHORITATIVE_ANSWER | flags,
    questions: decoded.questions,
    answers,
  });
}

function frame(message: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(message.length);
  return Buffer.concat([length, message]);
}

const FAST = { deadlineMs: 1500, queryTimeoutMs: 300, tries: 1 };

describe('DNS-SD resolver against hostile servers', function () {
  this.timeout(60_000);

  it('ignores replies with another id or another question, and says the server never answered', async () => {
    const hostile = await startHostileServer((query) => {
      const wrongId = Buffer.from(answer(query, [{ type: 'PTR', name: 'evil.test', data: 'x.evil.test' }]));
      wrongId.writeUInt16BE((wrongId.readUInt16BE(0) + 1) & 0xffff, 0);
      const decoded = dnsPacket.decode(query);
      const otherQuestion = dnsPacket.encode({
        id: decoded.id,
        type: 'response',
        questions: [{ type: 'PTR', name: 'other.test' }],
        answers: [{ type: 'PTR', name: 'other.test', data: 'spoofed.other.test' }],
      });
      return [wrongId, otherQuestion];
    });
    try {
      const result = await resolveSearchDomain('evil.test', { servers: [hostile.server], ...FAST });
      assert.deepEqual(result.endpoints, []);
      // the same cause for both PTR names is one error
      assert.equal(result.errors.length, 1, result.errors.map((e) => e.message).join('\n'));
      assert.match(
        result.errors[0]?.message ?? '',
        /^PTR evil\.test and _liqo\._tcp\.evil\.test: no answer from 127\.0\.0\.1:\d+ within 300 ms/,
      );
    } finally {
      await hostile.stop();
    }
  });

  it('reports a malformed reply as such, and a truncated one whose TCP answer is garbage', async () => {
    const hostile = await startHostileServer(
      (query) => {
        const garbage = Buffer.from(query);
        garbage[2] = 0x84; // response, authoritative
        garbage.writeUInt16BE(40, 6); // 40 answers that are not there
        if (query.includes(Buffer.from('_liqo'))) return [garbage];
        return [answer(query, [], dnsPacket.TRUNCATED_RESPONSE)];
      },
      // Over TCP: a frame that claims 65,535 bytes and sends 10.
      () => [Buffer.concat([Buffer.from([0xff, 0xff]), Buffer.alloc(10)])],
    );
    try {
      const result = await resolveSearchDomain('evil.test', { servers: [hostile.server], ...FAST });
      assert.deepEqual(result.endpoints, []);
      const byOwner = Object.fromEntries(result.errors.map((e) => [e.message.split(':')[0], e.message]));
      assert.match(byOwner['PTR _liqo._tcp.evil.test'] ?? '', /malformed answer from 127\.0\.0\.1:\d+$/);
      assert.match(byOwner['PTR evil.test'] ?? '', /no answer from 127\.0\.0\.1:\d+ within 300 ms/);
    } finally {
      await hostile.stop();
    }
  });

  it('turns CNAME chains that loop or never end into per-entry errors, keeping the good entry', async () => {
    const hostile = await startHostileServer((query) => {
      const question = dnsPacket.decode(query).questions?.[0];
      if (!question) return undefined;
      const { name, type } = question;
      if (type === 'PTR' && name === 'evil.test') {
        return [
          answer(query, [
            { type: 'PTR', name, data: 'loop.evil.test' },
            { type: 'PTR', name, data: 'long.evil.test' },
            { type: 'PTR', name, data: 'good.evil.test' },
          ]),
        ];
      }
      if (type === 'SRV' && name === 'loop.evil.test') {
        return [
          answer(query, [
            { type: 'CNAME', name, data: 'a.evil.test' },
            { type: 'CNAME', name: 'a.evil.test', data: 'loop.evil.test' },
          ]),
        ];
      }
      if (type === 'SRV' && name === 'long.evil.test') {
        const chain: dnsPacket.Answer[] = [];
        for (let i = 0; i < 40; i++)
          chain.push({
            type: 'CNAME',
            name: i === 0 ? name : `c${i}.evil.test`,
            data: `c${i + 1}.evil.test`,
          });
        return [answer(query, chain)];
      }
      if (type === 'SRV' && name === 'good.evil.test') {
        return [answer(query, [{ type: 'SRV', name, data: { port: 443, target: '127.0.0.9' } }])];
      }
      return [answer(query, [])];
    });
    try {
      const result = await resolveSearchDomain('evil.test', { servers: [hostile.server], ...FAST });
      assert.deepEqual(
        result.endpoints.map((e) => e.authUrl),
        ['https://127.0.0.9:443'],
      );
      assert.deepEqual(
        result.errors.map((e) => e.message),
        [
          'SRV long.evil.test: CNAME chain longer than 16: long.evil.test → c1.evil.test → c2.evil.test → c3.evil.test → c4.evil.test → c5.evil.test → c6.evil.test → c7.evil.test → c8.evil.test → c9.evil.test → c10.evil.test → c11.evil.test → c12.evil.test → c13.evil.test → c14.evil.test → c15.evil.test → c16.evil.test → c17.evil.test',
          'SRV loop.evil.test: CNAME loop loop.evil.test → a.evil.test → loop.evil.test',
        ],
      );
    } finally {
      await hostile.stop();
    }
  });

  it('survives random bytes in reply to every question (property)', async () => {
    let bytes: Buffer[] = [];
    const hostile = await startHostileServer(
      (query) =>
        bytes.map((reply) => {
          // Keep the query's id (and often its header) so the garbage reaches the decoder.
          const message = Buffer.from(reply);
          if (message.length >= 2) query.copy(message, 0, 0, 2);
          if (message.length >= 3) message[2] = (message[2] ?? 0) | 0x80;
          return message;
        }),
      (query) => bytes.map((reply) => frame(Buffer.concat([query.subarray(0, 2), reply]))),
    );
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.uint8Array({ minLength: 0, maxLength: 600 }), { minLength: 1, maxLength: 3 }),
          async (replies) => {
            bytes = replies.map((reply) => Buffer.from(reply));
            const result = await resolveSearchDomain('evil.test', {
              servers: [hostile.server],
              deadlineMs: 400,
              queryTimeoutMs: 150,
              tries: 1,
            });
            for (const error of result.errors) {
              assert.equal(typeof error.message, 'string');
              assert.ok(!error.message.includes('\n'), error.message);
            }
          },
        ),
        { numRuns: 60 },
      );
    } finally {
      await hostile.stop();
    }
  });
});
