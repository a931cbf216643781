// Command-line mistakes through main() (what `kubectl liqo` prints): an unknown command or flag is
// named first, kubectl's way, with the closest known one; then a missing argument or a value
// outside the choices, each in one line. No cluster, no network: only parsing.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../plugin/main.js';
import { captureIO } from '../../plugin/io.js';
import { closest, editDistance, scanArguments, type OptionTable } from '../../plugin/usage-errors.js';

async function cli(args: string[]) {
  const home = mkdtempSync(join(tmpdir(), 'plugin-usage-'));
  const c = captureIO({ env: { HOME: home, KUBECONFIG: join(home, 'none') } });
  const code = await main(args, c.io);
  return { code, stdout: c.stdout(), stderr: c.stderr() };
}

/** One `error:` line on stderr, nothing on stdout, exit 1; returns the line. */
async function oneLineError(args: string[]): Promise<string> {
  const r = await cli(args);
  assert.equal(r.code, 1, `${args.join(' ')}: exit ${r.code}, stderr ${r.stderr}`);
  assert.equal(r.stdout, '', args.join(' '));
  const lines = r.stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, `${args.join(' ')}: ${r.stderr}`);
  return lines[0] as string;
}

describe('plugin: usage mistakes (integration, main())', () => {
  it('an unknown flag is named before the missing argument it swallowed, with the closest flag', async () => {
    assert.equal(
      await oneLineError(['join', '--wiat', 'https://10.0.0.5:443']),
      'error: unknown flag: --wiat (did you mean --wait?) (see "kubectl liqo join --help")',
    );
    assert.equal(
      await oneLineError(['join', 'https://10.0.0.5:443', '--wiat']),
      'error: unknown flag: --wiat (did you mean --wait?) (see "kubectl liqo join --help")',
    );
  });

  it('every command and sub-command names its own unknown flags', async () => {
    for (const [args, expected] of [
      [['discover', '--domian', 'example.com'], 'unknown flag: --domian (did you mean --domain?)'],
      [['list', '--bogus'], 'unknown flag: --bogus (see "kubectl liqo list --help")'],
      [
        ['discovery', 'status', '--bogus'],
        'unknown flag: --bogus (see "kubectl liqo discovery status --help")',
      ],
      [['search-domain', 'add', '--dns-sever', 'x', 'example.com'], 'unknown flag: --dns-sever'],
      [['version', '--cleint'], 'unknown flag: --cleint (did you mean --client?)'],
      [['list', '--nocolor'], 'unknown flag: --nocolor (did you mean --no-color?)'],
      [['unjoin', 'x', '--dryrun'], 'unknown flag: --dryrun (did you mean --dry-run?)'],
      // a global flag before the command: still the flag, not "a command is required"
      [['--bogus', 'list'], 'unknown flag: --bogus (see "kubectl liqo --help")'],
      // shorthand flags are read letter by letter, as yargs reads them
      [['list', '-x'], "unknown shorthand flag: 'x' in -x"],
    ] as const) {
      const line = await oneLineError([...args]);
      assert.ok(line.startsWith('error: '), line);
      assert.ok(line.includes(expected), `${args.join(' ')}: ${line}`);
    }
  });

  it('an unknown command is named for its level, with the closest one', async () => {
    assert.equal(
      await oneLineError(['frobnicate']),
      'error: unknown command "frobnicate" for "kubectl liqo" (see "kubectl liqo --help")',
    );
    assert.match(
      await oneLineError(['lsit']),
      /^error: unknown command "lsit" for "kubectl liqo" \(did you mean list\?\)/,
    );
    assert.match(
      await oneLineError(['discovery', 'statsu', '--bogus']),
      /^error: unknown command "statsu" for "kubectl liqo discovery" \(did you mean status\?\)/,
    );
    // a global flag's value is not taken for the command
    assert.match(
      await oneLineError(['--context', 'list', 'lsit']),
      /^error: unknown command "lsit" for "kubectl liqo" \(did you mean list\?\)/,
    );
  });

  it('known flags with a missing argument or a value outside the choices: one plain line', async () => {
    assert.equal(
      await oneLineError(['join', '--wait']),
      'error: missing <target> (usage: kubectl liqo join <target>) (see "kubectl liqo join --help")',
    );
    assert.match(
      await oneLineError(['join', 'https://10.0.0.5:443', '--dry-run=bogus']),
      /^error: --dry-run: invalid value "bogus" \(choices: none, client, server\)/,
    );
    assert.match(await oneLineError(['discovery']), /^error: discovery needs a sub-command/);
  });

  it('flags yargs knows in other spellings are not unknown', async () => {
    const table: OptionTable = {
      key: { 'ids-timeout': true, wait: true, verbose: true, color: true, output: true },
      alias: { verbose: ['v'], output: ['o'] },
      boolean: ['wait', 'color'],
      count: ['verbose'],
    };
    const known = (args: string[]) => scanArguments(args, table).unknownFlag;
    assert.equal(known(['--idsTimeout', '1s', '--no-color', '-vvv', '-o', 'json', '--wait=true']), undefined);
    assert.deepEqual(scanArguments(['join', '--bogus', 'url', '--', '--not-a-flag'], table), {
      positionals: ['join'],
      unknownFlag: { flag: '--bogus', token: '--bogus', shorthand: false },
    });
    assert.deepEqual(scanArguments(['-o', 'json', 'list', '--wait', 'x'], table).positionals, ['list', 'x']);
  });

  it('suggestions: swapped letters count as one edit; far-off words get none', () => {
    assert.equal(editDistance('wiat', 'wait'), 1);
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(closest('--wiat', ['--wait', '--name']), '--wait');
    assert.equal(closest('--frobnicate', ['--wait', '--name']), undefined);
    assert.equal(closest('--nme', ['--name', '--ca-file']), '--name');
  });
});
