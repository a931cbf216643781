// The help texts the build stores (plugin/help/) against the CLI itself. Both ways run the
// plugin bundled from the current source as `npm run build` does: the launcher (its entry
// answers a stored help request without loading the CLI) and `node plugin/cli.mjs` (yargs
// lays the text out, as it did before the texts were stored). Terminals of a given width
// come from util-linux `script`, which runs a command on a pseudo-terminal.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runCommand, type CommandResult } from '../harness/kubectl.js';
import { removeOnExit } from '../harness/processes.js';
import { installPluginOnPath, type PluginOnPath } from '../e2e/plugin-helpers.js';
import { HELP_PAGES_FILE, type HelpPages } from '../../plugin/help/stored.js';

// NODE_EXTRA_CA_CERTS costs every bare node start ~40 ms and changes no help text
const baseEnv = (): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  delete env.YARGS_DISABLE_WRAP;
  return env;
};

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * `file args…` with stdout on a terminal `columns` wide (stderr to a file, so it stays apart).
 * The terminal turns every "\n" into "\r\n"; this undoes it.
 */
async function runOnTerminal(
  columns: number,
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<CommandResult> {
  const dir = mkdtempSync(join(tmpdir(), 'plugin-help-tty-'));
  const remove = removeOnExit(dir);
  try {
    const stderrFile = join(dir, 'stderr');
    const command = `stty cols ${columns} rows 50; exec ${[file, ...args].map(shellQuote).join(' ')} 2>${shellQuote(stderrFile)}`;
    const r = await runCommand('script', ['-qec', command, '/dev/null'], { env });
    return {
      code: r.code,
      stdout: r.stdout.replace(/\r\n/g, '\n'),
      stderr: r.stderr + readFileSync(stderrFile, 'utf8'),
    };
  } finally {
    remove();
  }
}

/** Runs the same argv both ways (off a terminal, or on one `columns` wide). */
function bothWays(plugin: PluginOnPath, columns?: number, env = baseEnv()) {
  const launcher = join(plugin.binDir, 'kubectl-liqo');
  const cli = join(dirname(plugin.bundle), 'cli.mjs');
  const run = (file: string, args: string[]) =>
    columns === undefined ? runCommand(file, args, { env }) : runOnTerminal(columns, file, args, env);
  return async (argv: string[]) => {
    const [entry, yargs] = await Promise.all([run(launcher, argv), run(process.execPath, [cli, ...argv])]);
    return { entry, yargs };
  };
}

describe('plugin: the help texts stored at build time (integration)', function () {
  this.timeout(180_000);
  let plugin: PluginOnPath;
  let pages: HelpPages;
  /** A copy of the built plugin whose CLI module only says that it was loaded. */
  let withoutCli: string;
  let removeCopy: (() => void) | undefined;

  before(async () => {
    plugin = await installPluginOnPath();
    const pluginDir = dirname(plugin.bundle);
    pages = JSON.parse(readFileSync(join(pluginDir, HELP_PAGES_FILE), 'utf8')) as HelpPages;
    const copy = mkdtempSync(join(dirname(dirname(pluginDir)), 'kubectl-liqo-nocli-'));
    removeCopy = removeOnExit(copy);
    cpSync(pluginDir, copy, { recursive: true });
    writeFileSync(join(copy, 'cli.mjs'), "process.stderr.write('CLI loaded\\n');\nprocess.exit(3);\n");
    withoutCli = join(copy, 'kubectl-liqo.cjs');
  });
  after(() => {
    plugin?.remove();
    removeCopy?.();
  });

  const stored = (width: number) => Object.entries(pages.byWidth[String(width)] ?? {});
  const argvOf = (key: string) => JSON.parse(key) as string[];

  it('stores --help and -h of the top level, every command and every sub-command, at widths 80 and 110', () => {
    assert.deepEqual(Object.keys(pages.byWidth).sort(), ['110', '80']);
    const keys = new Set(stored(80).map(([key]) => key));
    assert.deepEqual(new Set(stored(110).map(([key]) => key)), keys);
    for (const argv of [
      ['--help'],
      ['-h'],
      ['discover', '--help'],
      ['join', '-h'],
      ['version', '--help'],
      ['discovery', '--help'],
      ['discovery', 'status', '--help'],
      ['search-domain', 'add', '-h'],
      ['completion', '--help'],
    ]) {
      assert.ok(keys.has(JSON.stringify(argv)), argv.join(' '));
    }
    assert.match(
      pages.byWidth['80']?.[JSON.stringify(['--help'])] ?? '',
      /^kubectl liqo <command> \[flags\]\n/,
    );
  });

  // one page at a time (each is two node processes): the machine is shared
  async function compareAll(width: 80 | 110) {
    const run = bothWays(plugin, width === 80 ? undefined : width);
    for (const [key, text] of stored(width)) {
      const argv = argvOf(key);
      const { entry, yargs } = await run(argv);
      const label = `width ${width}: kubectl liqo ${argv.join(' ')}`;
      assert.deepEqual(entry, yargs, `${label}: the entry does not print what the CLI prints`);
      assert.deepEqual(yargs, { code: 0, stdout: text, stderr: '' }, `${label}: the stored text`);
    }
  }

  it('off a terminal (width 80): every stored page is byte for byte what the CLI prints, exit 0', async () => {
    await compareAll(80);
  });

  it('on a 110-column terminal: every stored page is byte for byte what the CLI prints', async () => {
    await compareAll(110);
  });

  it('the entry prints a stored page without loading the CLI, and hands everything else to it', async () => {
    const env = baseEnv();
    const served = await runCommand(process.execPath, [withoutCli, 'discovery', 'status', '--help'], { env });
    assert.deepEqual(served, {
      code: 0,
      stdout: pages.byWidth['80']?.[JSON.stringify(['discovery', 'status', '--help'])],
      stderr: '',
    });
    const handedOver = { code: 3, stdout: '', stderr: 'CLI loaded\n' };
    for (const argv of [
      ['version'],
      [],
      ['--help', '--kubeconfig', 'x'],
      ['--kubeconfig', 'x', '--help'],
      ['frobnicate', '--help'],
      ['__complete', '--help'],
    ]) {
      const r = await runCommand(process.execPath, [withoutCli, ...argv], { env });
      assert.deepEqual(r, handedOver, argv.join(' '));
    }
    const unwrapped = await runCommand(process.execPath, [withoutCli, '--help'], {
      env: { ...env, YARGS_DISABLE_WRAP: '1' },
    });
    assert.deepEqual(unwrapped, handedOver, 'YARGS_DISABLE_WRAP');
    // a width the build did not render
    assert.deepEqual(await runOnTerminal(100, process.execPath, [withoutCli, '--help'], env), handedOver);
  });

  it('at a width the build did not render (100 columns), and with YARGS_DISABLE_WRAP, the CLI answers', async () => {
    const at100 = bothWays(plugin, 100);
    for (const argv of [['--help'], ['discover', '-h'], ['search-domain', 'add', '--help']]) {
      const { entry, yargs } = await at100(argv);
      assert.deepEqual(entry, yargs, argv.join(' '));
      assert.equal(entry.code, 0);
      const key = JSON.stringify(argv);
      assert.notEqual(
        entry.stdout,
        pages.byWidth['80']?.[key],
        `${argv.join(' ')}: laid out for 100 columns`,
      );
      assert.notEqual(
        entry.stdout,
        pages.byWidth['110']?.[key],
        `${argv.join(' ')}: laid out for 100 columns`,
      );
    }
    const { entry, yargs } = await bothWays(plugin, undefined, { ...baseEnv(), YARGS_DISABLE_WRAP: '1' })([
      'discover',
      '--help',
    ]);
    assert.deepEqual(entry, yargs);
    assert.notEqual(entry.stdout, pages.byWidth['80']?.[JSON.stringify(['discover', '--help'])]);
  });
});
