// kubectl liqo search-domain add | list | remove, one step at a time: complete and validate from
// flag objects, run against the in-memory LiqoResources (test/helpers/memory-liqo-resources.ts;
// the same commands run against a real kube-apiserver with the webhook in the e2e layer).
import assert from 'node:assert/strict';
import type { SearchDomain } from '../../shared/api/types.js';
import {
  completeAdd,
  completeRemove,
  listCommand,
  runAdd,
  runList,
  runRemove,
  validateAdd,
  validateRemove,
  type SearchDomainAddOptions,
  type SearchDomainRemoveOptions,
} from '../../plugin/commands/search-domain.js';
import { captureIO } from '../../plugin/io.js';
import { memoryClients, noKubeconfigClients, searchDomainFixture } from '../helpers/memory-liqo-resources.js';

const SD = 'searchdomain.discovery.liqo.io';

const addOptions = (o: Partial<SearchDomainAddOptions> = {}): SearchDomainAddOptions => ({
  domain: 'example.com',
  name: 'example.com',
  nameGiven: false,
  autojoin: false,
  dryRun: 'none',
  output: 'table',
  ...o,
});

const removeOptions = (o: Partial<SearchDomainRemoveOptions> = {}): SearchDomainRemoveOptions => ({
  name: 'example.com',
  ignoreNotFound: false,
  dryRun: 'none',
  ...o,
});

function seeded(...sds: SearchDomain[]) {
  const clients = memoryClients();
  clients.resources.searchDomains.seed(...sds);
  return clients;
}

async function capture(step: (ctx: { io: ReturnType<typeof captureIO>['io'] }) => Promise<void>) {
  const c = captureIO();
  await step({ io: c.io });
  return { stdout: c.stdout(), stderr: c.stderr() };
}

describe('plugin search-domain (unit)', () => {
  describe('add: complete', () => {
    it('names the object after the domain: trimmed, lower case, no trailing dot; defaults filled', () => {
      assert.deepEqual(
        completeAdd({ domain: '  Corp.Example.COM. ' }),
        addOptions({ domain: 'Corp.Example.COM.', name: 'corp.example.com' }),
      );
    });

    it('keeps --name, --autojoin, --dry-run and -o as given', () => {
      assert.deepEqual(
        completeAdd({
          domain: 'example.com',
          name: 'corp',
          autojoin: true,
          dryRun: 'server',
          output: 'json',
        }),
        addOptions({ name: 'corp', nameGiven: true, autojoin: true, dryRun: 'server', output: 'json' }),
      );
    });
  });

  describe('add: validate', () => {
    it('accepts a domain whose name is a valid object name', () => {
      assert.doesNotThrow(() => validateAdd(addOptions()));
      assert.doesNotThrow(() => validateAdd(completeAdd({ domain: 'Example.COM.' })));
    });

    it('an empty domain: one line with an example', () => {
      assert.throws(() => validateAdd(completeAdd({ domain: '   ' })), {
        name: 'UserError',
        message: 'search-domain add: the domain is empty (e.g. example.com)',
      });
    });

    it('a domain the webhook would refuse: names spec.domain and what is accepted', () => {
      assert.throws(() => validateAdd(completeAdd({ domain: 'a..b' })), {
        name: 'UserError',
        message:
          /^search-domain add: spec\.domain: "a\.\.b" has an empty label .*\(accepted: a DNS name such as example\.com/,
      });
    });

    it('a name made from the domain that the API server would refuse: suggests one for --name', () => {
      assert.throws(() => validateAdd(completeAdd({ domain: '_liqo.example.com' })), {
        message:
          /^search-domain add: metadata\.name: "_liqo\.example\.com" \(made from the domain\) is not a valid object name .*; choose one with --name, e\.g\. --name liqo\.example\.com$/,
      });
    });

    it('a bad --name is named as the flag, with no suggestion', () => {
      assert.throws(() => validateAdd(completeAdd({ domain: 'example.com', name: 'Bad_Name' })), {
        message: /^search-domain add: --name: "Bad_Name" is not a valid object name \(accepted: [^)]*\)$/,
      });
    });
  });

  describe('add: run', () => {
    it('creates the SearchDomain', async () => {
      const clients = memoryClients();
      const r = await capture(({ io }) => runAdd(addOptions({ autojoin: true }), { io, clients }));
      assert.equal(r.stdout, `${SD}/example.com created\n`);
      assert.deepEqual(clients.resources.searchDomains.stored('example.com')?.spec, {
        domain: 'example.com',
        autojoin: true,
      });
    });

    it('unchanged when it says the same; configured (patched) when it differs', async () => {
      const clients = seeded(searchDomainFixture('example.com', 'example.com'));
      const same = await capture(({ io }) => runAdd(addOptions(), { io, clients }));
      assert.equal(same.stdout, `${SD}/example.com unchanged\n`);
      assert.deepEqual(clients.resources.writes(), []);
      const changed = await capture(({ io }) => runAdd(addOptions({ autojoin: true }), { io, clients }));
      assert.equal(changed.stdout, `${SD}/example.com configured\n`);
      assert.deepEqual(
        clients.resources.writes().map((w) => [w.verb, w.name, w.body]),
        [['patch', 'example.com', { spec: { domain: 'example.com', autojoin: true } }]],
      );
    });

    it('--dry-run=client sends no write and prints the object as the webhook would default it', async () => {
      const clients = memoryClients();
      const r = await capture(({ io }) =>
        runAdd(addOptions({ dryRun: 'client', output: 'json' }), { io, clients }),
      );
      const printed = JSON.parse(r.stdout) as SearchDomain;
      assert.equal(printed.metadata.name, 'example.com');
      assert.equal(printed.spec.domain, 'example.com');
      assert.deepEqual(
        clients.resources.requests.filter((q) => q.verb !== 'get'),
        [],
      );
      const table = await capture(({ io }) => runAdd(addOptions({ dryRun: 'client' }), { io, clients }));
      assert.equal(table.stdout, `${SD}/example.com created (dry run)\n`);
    });

    it('--dry-run=server sends the create as a dry run; -o name prints only the name', async () => {
      const clients = memoryClients();
      const r = await capture(({ io }) =>
        runAdd(addOptions({ dryRun: 'server', output: 'name' }), { io, clients }),
      );
      assert.equal(r.stdout, `${SD}/example.com\n`);
      assert.deepEqual(
        clients.resources.requests.filter((q) => q.verb === 'create').map((q) => q.dryRun),
        [true],
      );
      assert.equal(clients.resources.searchDomains.stored('example.com'), undefined);
    });

    it('without a kubeconfig: the factory says so', async () => {
      await assert.rejects(
        capture(({ io }) => runAdd(addOptions(), { io, clients: noKubeconfigClients() })),
        { message: /^no kubeconfig/ },
      );
    });
  });

  describe('list', () => {
    it('complete fills -o; validate accepts what yargs let through', () => {
      const c = captureIO();
      assert.deepEqual(listCommand.complete({}, { io: c.io, clients: noKubeconfigClients() }), {
        output: 'table',
      });
      assert.doesNotThrow(() => listCommand.validate({ output: 'wide' }));
    });

    it('a table sorted by name, never-resolved ones said so; -o name', async () => {
      const clients = seeded(
        searchDomainFixture('zeta', 'zeta.example'),
        searchDomainFixture('alpha', 'alpha.example'),
      );
      const table = await capture(({ io }) => runList({ output: 'table' }, { io, clients }));
      const lines = table.stdout.trimEnd().split('\n');
      assert.match(lines[0] ?? '', /^NAME\s+DOMAIN\s+AUTOJOIN\s+CLUSTERS\s+LAST-RESOLVED\s+ERROR$/);
      assert.match(lines[1] ?? '', /^alpha\s+alpha\.example\s+false\s+.*<never>/);
      assert.match(lines[2] ?? '', /^zeta\s+zeta\.example\s/);
      const names = await capture(({ io }) => runList({ output: 'name' }, { io, clients }));
      assert.equal(names.stdout, `${SD}/alpha\n${SD}/zeta\n`);
      const wide = await capture(({ io }) => runList({ output: 'wide' }, { io, clients }));
      assert.match(wide.stdout.split('\n')[0] ?? '', /\sAGE\s+ERROR$/);
    });

    it('none: nothing on stdout, a note on stderr; -o json is an empty List', async () => {
      const r = await capture(({ io }) => runList({ output: 'table' }, { io, clients: memoryClients() }));
      assert.equal(r.stdout, '');
      assert.equal(r.stderr, 'No SearchDomains found.\n');
      const json = await capture(({ io }) => runList({ output: 'json' }, { io, clients: memoryClients() }));
      assert.deepEqual((JSON.parse(json.stdout) as { items: unknown[] }).items, []);
    });
  });

  describe('remove: complete and validate', () => {
    it('trims the name and fills the defaults', () => {
      assert.deepEqual(completeRemove({ name: ' corp ' }), removeOptions({ name: 'corp' }));
      assert.deepEqual(
        completeRemove({ name: 'corp', ignoreNotFound: true, dryRun: 'client' }),
        removeOptions({ name: 'corp', ignoreNotFound: true, dryRun: 'client' }),
      );
    });

    it('refuses an empty name (it would address no object)', () => {
      assert.doesNotThrow(() => validateRemove(removeOptions()));
      assert.throws(() => validateRemove(completeRemove({ name: '  ' })), {
        name: 'UserError',
        message: 'search-domain remove: the name is empty (see "kubectl liqo search-domain list")',
      });
    });
  });

  describe('remove: run', () => {
    it('deletes by object name', async () => {
      const clients = seeded(searchDomainFixture('corp', 'corp.example'));
      const r = await capture(({ io }) => runRemove(removeOptions({ name: 'corp' }), { io, clients }));
      assert.equal(r.stdout, `${SD}/corp deleted\n`);
      assert.equal(clients.resources.searchDomains.stored('corp'), undefined);
    });

    it('finds the SearchDomain by its domain when no object has that name', async () => {
      const clients = seeded(searchDomainFixture('corp', 'Corp.Example.'));
      const r = await capture(({ io }) =>
        runRemove(removeOptions({ name: 'corp.example' }), { io, clients }),
      );
      assert.equal(r.stdout, `${SD}/corp deleted\n`);
      assert.equal(clients.resources.searchDomains.stored('corp'), undefined);
    });

    it('not found: one line pointing at list, unless --ignore-not-found', async () => {
      await assert.rejects(
        capture(({ io }) => runRemove(removeOptions({ name: 'nope' }), { io, clients: memoryClients() })),
        {
          name: 'UserError',
          message: 'SearchDomain "nope" not found (see "kubectl liqo search-domain list")',
        },
      );
      const quiet = await capture(({ io }) =>
        runRemove(removeOptions({ name: 'nope', ignoreNotFound: true }), { io, clients: memoryClients() }),
      );
      assert.deepEqual(quiet, { stdout: '', stderr: '' });
    });

    it('--dry-run=client deletes nothing; --dry-run=server sends a dry-run delete', async () => {
      const clients = seeded(searchDomainFixture('corp', 'corp.example'));
      const client = await capture(({ io }) =>
        runRemove(removeOptions({ name: 'corp', dryRun: 'client' }), { io, clients }),
      );
      assert.equal(client.stdout, `${SD}/corp deleted (dry run)\n`);
      const server = await capture(({ io }) =>
        runRemove(removeOptions({ name: 'corp', dryRun: 'server' }), { io, clients }),
      );
      assert.equal(server.stdout, `${SD}/corp deleted (server dry run)\n`);
      assert.deepEqual(clients.resources.writes(), []);
      assert.ok(clients.resources.searchDomains.stored('corp'));
    });
  });
});
