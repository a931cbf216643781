// The completion scripts `kubectl liqo completion <shell>` prints: each one hands the words to
// `kubectl-liqo __complete` and drops cobra's `:<directive>` line. (The fish script is run in a
// real fish by test/e2e/plugin-completion.test.ts.)
import assert from 'node:assert/strict';
import { run } from '../../plugin/commands/completion.js';
import { captureIO } from '../../plugin/io.js';

async function script(shell: string): Promise<string> {
  const c = captureIO();
  await run({ shell }, c.io);
  return c.stdout();
}

describe('plugin: completion scripts (unit)', () => {
  it('fish: a function asking __complete for the words before the cursor and the current one', async () => {
    const fish = await script('fish');
    assert.match(fish, /^# fish completion for kubectl-liqo: kubectl liqo completion fish \| source\n/);
    assert.match(fish, /^function __kubectl_liqo_complete\n/m);
    assert.match(fish, /^ {4}set -l words \(commandline -opc\)\n {4}set -e words\[1\]\n/m);
    assert.match(
      fish,
      /^ {4}kubectl-liqo __complete \$words "\$current" 2>\/dev\/null \| string match -v -r '\^:'$/m,
    );
    assert.match(fish, /^end\ncomplete -c kubectl-liqo -f -a '\(__kubectl_liqo_complete\)'\n$/m);
  });

  it('bash and zsh call the same __complete entry', async () => {
    assert.match(await script('bash'), /kubectl-liqo __complete /);
    assert.match(await script('zsh'), /kubectl-liqo __complete /);
  });
});
