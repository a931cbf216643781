// kubectl liqo dns-registration status | enable | disable, one step at a time: complete and
// validate from flag objects, run against the in-memory LiqoResources
// (test/helpers/memory-liqo-resources.ts). The agent's side — the records really written, the
// status it sets — runs against real BIND and kube-apiserver in test/e2e/dns-registration.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DnsRegistration } from '../../shared/api/types.js';
import type { ResourceClient } from '../../shared/kube/liqo-resources.js';
import {
  completeEnable,
  disableCommand,
  parseTsigKeyFile,
  registrationLines,
  runDisable,
  runEnable,
  runStatus,
  validateEnable,
  type DnsRegistrationEnableOptions,
} from '../../plugin/commands/dns-registration.js';
import { captureIO } from '../../plugin/io.js';
import { memoryClients, MemoryLiqoResources } from '../helpers/memory-liqo-resources.js';

type SeedableClient = ResourceClient<DnsRegistration> & { seed(...o: DnsRegistration[]): void };

/** The in-memory resources with a DNSRegistration client of the same kind as the others. */
function withRegistrations(...seed: DnsRegistration[]) {
  const resources = new MemoryLiqoResources();
  const Client = resources.searchDomains.constructor as new (
    kind: string,
    requests: unknown[],
  ) => SeedableClient;
  const dnsRegistrations = new Client('DNSRegistration', resources.requests);
  dnsRegistrations.seed(...seed);
  Object.assign(resources, { dnsRegistrations });
  return { clients: memoryClients(resources), resources, dnsRegistrations };
}

const KEY_FILE_TEXT =
  'key "liqo-update" {\n\talgorithm hmac-sha512;\n\tsecret "c2VjcmV0LXNlY3JldC1zZWNyZXQ=";\n};\n';

function registration(
  spec: Partial<DnsRegistration['spec']> = {},
  status?: DnsRegistration['status'],
): DnsRegistration {
  return {
    apiVersion: 'discovery.liqo.io/v1alpha1',
    kind: 'DNSRegistration',
    metadata: { name: 'liqo.example.com' },
    spec: {
      zone: 'liqo.example.com',
      server: '10.0.0.53:53',
      tsig: { keyName: 'liqo-update', secretRef: { name: 'liqo-dns-tsig' } },
      enabled: true,
      ...spec,
    },
    ...(status ? { status } : {}),
  };
}

const baseFlags = { zone: 'liqo.example.com', server: '10.0.0.53', tsigKeyName: 'liqo-update', wait: '0' };

describe('plugin dns-registration (unit)', () => {
  describe('enable: complete', () => {
    it('names the object after the zone, fills the default Secret and the wait', () => {
      const opts = completeEnable({ ...baseFlags, zone: 'Liqo.Example.com.', wait: undefined });
      assert.equal(opts.name, 'liqo.example.com');
      assert.deepEqual(opts.spec.tsig, { keyName: 'liqo-update', secretRef: { name: 'liqo-dns-tsig' } });
      assert.equal(opts.spec.enabled, true);
      assert.equal(opts.waitMs, 30_000);
      assert.equal(opts.dryRun, 'none');
      assert.equal(opts.secretValue, undefined);
    });

    it('turns --refresh-interval, --layouts, --ttl into spec fields', () => {
      const opts = completeEnable({
        ...baseFlags,
        refreshInterval: '2m',
        layouts: ['dns-sd'],
        ttl: 30,
        browseDomains: true,
      });
      assert.equal(opts.spec.refreshIntervalSeconds, 120);
      assert.deepEqual(opts.spec.layouts, ['dns-sd']);
      assert.equal(opts.spec.ttl, 30);
      assert.equal(opts.spec.browseDomains, true);
    });

    it('--tsig-secret-file: takes name, algorithm and secret from the tsig-keygen file; flags win', () => {
      const dir = mkdtempSync(join(tmpdir(), 'dnsreg-unit-'));
      try {
        const file = join(dir, 'k.key');
        writeFileSync(file, KEY_FILE_TEXT);
        const fromFile = completeEnable({
          zone: 'liqo.example.com',
          server: '10.0.0.53',
          tsigSecretFile: file,
        });
        assert.equal(fromFile.spec.tsig.keyName, 'liqo-update');
        assert.equal(fromFile.spec.tsig.algorithm, 'hmac-sha512');
        assert.equal(fromFile.secretValue, 'c2VjcmV0LXNlY3JldC1zZWNyZXQ=');
        const overridden = completeEnable({ ...baseFlags, tsigKeyName: 'other', tsigSecretFile: file });
        assert.equal(overridden.spec.tsig.keyName, 'other');
        assert.throws(
          () => completeEnable({ ...baseFlags, tsigSecretFile: join(dir, 'missing') }),
          /^UserError: --tsig-secret-file: cannot read .*missing/,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('reads a bare base64 secret file as the secret alone', () => {
      assert.deepEqual(parseTsigKeyFile('c2VjcmV0\n'), { secret: 'c2VjcmV0' });
    });
  });

  describe('enable: validate', () => {
    const refusal = (flags: Record<string, unknown>) => {
      try {
        validateEnable(completeEnable({ ...baseFlags, ...flags }));
        return '';
      } catch (err) {
        return (err as Error).message;
      }
    };
    it('accepts a complete set of flags', () => {
      assert.equal(refusal({}), '');
    });
    it('names the missing or bad flag in one line', () => {
      assert.match(refusal({ zone: undefined }), /^dns-registration enable: --zone is required$/);
      assert.match(refusal({ server: undefined }), /--server is required/);
      assert.match(refusal({ tsigKeyName: undefined }), /--tsig-key-name is required \(or a BIND key file/);
      assert.match(
        refusal({ server: 'ns1:99999' }),
        /^dns-registration enable: --server \(spec\.server\): "ns1:99999" has port/,
      );
      assert.match(
        refusal({ instance: 'a.b' }),
        /--instance \(spec\.instance\): "a\.b" is not one DNS label/,
      );
      assert.match(refusal({ authUrl: 'http://x.example' }), /--auth-url \(spec\.authUrl\)/);
      assert.match(refusal({ ttl: 0 }), /--ttl \(spec\.ttl\): 0 is out of range/);
      assert.match(refusal({ layouts: ['srv'] }), /--layouts \(spec\.layouts\[0\]\)/);
      assert.match(refusal({ name: 'Bad_Name' }), /--name "Bad_Name" is not a valid object name/);
      assert.equal(refusal({}).includes('\n'), false);
    });
    it('refuses a key file with no base64 secret', () => {
      const opts: DnsRegistrationEnableOptions = {
        ...completeEnable(baseFlags),
        secretValue: 'not base64!',
        secretFile: 'k.key',
      };
      assert.throws(() => validateEnable(opts), /--tsig-secret-file k\.key holds no base64 secret/);
    });
  });

  describe('enable: run', () => {
    it('creates the DNSRegistration with the spec asked for, once; again is unchanged', async () => {
      const { clients, dnsRegistrations, resources } = withRegistrations();
      const opts = completeEnable(baseFlags);
      const c = captureIO();
      await runEnable(opts, { io: c.io, clients });
      assert.equal(c.stdout(), 'dnsregistration.discovery.liqo.io/liqo.example.com created\n');
      const stored = await dnsRegistrations.get('liqo.example.com');
      assert.deepEqual(stored?.spec, opts.spec);
      const again = captureIO();
      await runEnable(opts, { io: again.io, clients });
      assert.equal(again.stdout(), 'dnsregistration.discovery.liqo.io/liqo.example.com unchanged\n');
      assert.equal(resources.writes().length, 1);
    });

    it('a changed flag patches the whole spec: what was not given again goes back to its default', async () => {
      const { clients, dnsRegistrations } = withRegistrations(
        registration({ instance: 'old', ttl: 5, enabled: false }),
      );
      const c = captureIO();
      await runEnable(completeEnable(baseFlags), { io: c.io, clients });
      assert.equal(c.stdout(), 'dnsregistration.discovery.liqo.io/liqo.example.com configured\n');
      const stored = await dnsRegistrations.get('liqo.example.com');
      assert.equal(stored?.spec.instance, undefined);
      assert.equal(stored?.spec.ttl, undefined);
      assert.equal(stored?.spec.enabled, true);
    });

    it('--dry-run=client writes nothing', async () => {
      const { clients, resources } = withRegistrations();
      const c = captureIO();
      await runEnable({ ...completeEnable(baseFlags), dryRun: 'client' }, { io: c.io, clients });
      assert.equal(c.stdout(), 'dnsregistration.discovery.liqo.io/liqo.example.com created (dry run)\n');
      assert.deepEqual(resources.writes(), []);
    });

    it("waits for the agent's answer: the records when registered, the refusal as the error", async () => {
      const registered = registration(
        {},
        {
          observedGeneration: 1,
          records: ['liqo.example.com. 60 IN PTR cluster-a.liqo.example.com.'],
          conditions: [
            {
              type: 'Registered',
              status: 'True',
              reason: 'Created',
              message: 'zone liqo.example.com holds 1 records',
            },
          ],
        },
      );
      const ok = withRegistrations(registered);
      const c = captureIO();
      await runEnable({ ...completeEnable(baseFlags), waitMs: 5000 }, { io: c.io, clients: ok.clients });
      assert.match(
        c.stdout(),
        /unchanged\nzone liqo\.example\.com holds 1 records\n {2}liqo\.example\.com\. 60 IN PTR/,
      );

      const refused = withRegistrations(
        registration(
          {},
          {
            observedGeneration: 1,
            owner: 'cluster-b-id',
            conditions: [
              {
                type: 'Registered',
                status: 'False',
                reason: 'OwnedByOtherCluster',
                message:
                  'cluster-a.liqo.example.com in zone liqo.example.com is owned by cluster cluster-b-id',
              },
            ],
          },
        ),
      );
      await assert.rejects(
        runEnable(
          { ...completeEnable(baseFlags), waitMs: 5000 },
          { io: captureIO().io, clients: refused.clients },
        ),
        /not registered \(OwnedByOtherCluster\): .*owned by cluster cluster-b-id/,
      );
    });

    it('no agent answer within --wait: one line saying what to check', async () => {
      const { clients } = withRegistrations();
      await assert.rejects(
        runEnable({ ...completeEnable(baseFlags), waitMs: 300 }, { io: captureIO().io, clients }),
        /no answer from the discovery agent within 0\.3s \(is it running\?/,
      );
    });
  });

  describe('disable', () => {
    it('complete: the name as the zone may be written, every registration when none', () => {
      const ctx = { io: captureIO().io, clients: memoryClients() };
      assert.deepEqual(disableCommand.complete({ name: 'Liqo.Example.com.' }, ctx), {
        name: 'liqo.example.com',
        waitMs: 30_000,
        dryRun: 'none',
      });
      assert.deepEqual(disableCommand.complete({ wait: '0' }, ctx), { waitMs: 0, dryRun: 'none' });
    });

    it('sets enabled: false and keeps the object; an unknown name is one line', async () => {
      const { clients, dnsRegistrations } = withRegistrations(registration());
      const c = captureIO();
      await runDisable({ waitMs: 0, dryRun: 'none' }, { io: c.io, clients });
      assert.equal(c.stdout(), 'dnsregistration.discovery.liqo.io/liqo.example.com disabled\n');
      assert.equal((await dnsRegistrations.get('liqo.example.com'))?.spec.enabled, false);
      const again = captureIO();
      await runDisable({ waitMs: 0, dryRun: 'none' }, { io: again.io, clients });
      assert.equal(again.stdout(), 'dnsregistration.discovery.liqo.io/liqo.example.com unchanged\n');
      await assert.rejects(
        runDisable({ name: 'nope', waitMs: 0, dryRun: 'none' }, { io: captureIO().io, clients }),
        /DNSRegistration "nope" not found/,
      );
    });
  });

  describe('status', () => {
    it('says when there is none, and shows each one with its records', async () => {
      const none = captureIO();
      await runStatus({ output: 'table' }, { io: none.io, clients: withRegistrations().clients });
      assert.match(none.stderr(), /No DNSRegistrations/);
      const reg = registration(
        {},
        {
          observedGeneration: 1,
          instance: 'cluster-a',
          records: ['liqo.example.com. 60 IN PTR cluster-a.liqo.example.com.'],
          conditions: [
            {
              type: 'Registered',
              status: 'True',
              reason: 'Refreshed',
              message: 'zone liqo.example.com holds 1 records',
            },
          ],
        },
      );
      const c = captureIO();
      await runStatus({ output: 'table' }, { io: c.io, clients: withRegistrations(reg).clients });
      const lines = c.stdout().split('\n');
      assert.match(lines[0]!, /^NAME\s+ZONE\s+SERVER\s+ENABLED\s+REGISTERED\s+REASON\s+INSTANCE\s+AUTH-URL$/);
      assert.match(
        lines[1]!,
        /^liqo\.example\.com\s+liqo\.example\.com\s+10\.0\.0\.53:53\s+true\s+True\s+Refreshed\s+cluster-a/,
      );
      assert.ok(c.stdout().includes('liqo.example.com: registered: zone liqo.example.com holds 1 records\n'));
      assert.ok(c.stdout().includes('  liqo.example.com. 60 IN PTR cluster-a.liqo.example.com.\n'));
    });

    it('the discovery status lines: none, disabled, not yet seen by the agent', () => {
      assert.match(registrationLines([])[0]!, /^DNS registration: none/);
      assert.deepEqual(registrationLines([registration({ enabled: false })]), [
        'DNS registration:',
        '  liqo.example.com: disabled (zone liqo.example.com)',
      ]);
      assert.match(
        registrationLines([registration()])[1]!,
        /not registered yet .*is the discovery agent running/,
      );
    });
  });
});
