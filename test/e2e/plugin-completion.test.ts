// `kubectl liqo completion fish` through the real kubectl, and the script it prints loaded into a
// real fish (`complete -C` asks fish what <TAB> would offer), with the bundled plugin on PATH.
// No cluster: completion of commands, flags and flag values needs none. Skipped where fish is
// not installed (the unit test below still checks the script's shape).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '../harness/kubectl.js';
import { expectOneLineError, installPluginOnPath, type PluginOnPath } from './plugin-helpers.js';

function fishPath(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v fish'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

describe('kubectl liqo completion (e2e, real kubectl and fish)', function () {
  this.timeout(120_000);
  let plugin: PluginOnPath;
  const env = () => ({ ...process.env, PATH: `${plugin.binDir}:${process.env.PATH ?? ''}`, NO_COLOR: '1' });

  before(async () => {
    plugin = await installPluginOnPath();
  });
  after(() => plugin?.remove());

  it('an unsupported shell is one line naming the supported ones', async () => {
    expectOneLineError(
      await plugin.run(['completion', 'powershell'], { env: env() }),
      /^error: invalid shell "powershell" \(choices: bash, zsh, fish, kubectl-plugin\)/,
    );
  });

  it('fish: the script, sourced, completes commands, sub-commands, flags and flag values', async function () {
    const fish = fishPath();
    if (!fish) {
      console.log('      (fish is not installed: skipped; apt-get install fish to run it)');
      return this.skip();
    }
    const script = await plugin.run(['completion', 'fish'], { env: env() });
    assert.equal(script.code, 0, script.stderr);
    const file = join(plugin.binDir, 'kubectl-liqo.fish');
    writeFileSync(file, script.stdout);
    const offered = async (line: string): Promise<string[]> => {
      const r = await runCommand(
        fish,
        ['--no-config', '-c', `source ${file}; complete -C ${JSON.stringify(line)}`],
        {
          env: env(),
        },
      );
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.split('\n').filter(Boolean);
    };
    assert.deepEqual(await offered('kubectl-liqo disc'), ['discover', 'discovery']);
    assert.deepEqual(await offered('kubectl-liqo discovery '), ['disable', 'enable', 'status']);
    assert.deepEqual(await offered('kubectl-liqo discover --dns-'), ['--dns-server']);
    assert.deepEqual(await offered('kubectl-liqo completion f'), ['fish']);
    assert.deepEqual((await offered('kubectl-liqo list -o ')).sort(), [
      'json',
      'name',
      'table',
      'wide',
      'yaml',
    ]);
    // every top-level command, and no file names (the script turns them off)
    const top = await offered('kubectl-liqo ');
    for (const c of ['join', 'list', 'search-domain', 'version']) assert.ok(top.includes(c), top.join(','));
    assert.ok(!top.some((w) => w.includes('.fish')), top.join(','));
  });
});
