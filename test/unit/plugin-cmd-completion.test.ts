// kubectl liqo completion <shell>, one step at a time, and the scripts it prints: each one
// hands the words to `kubectl-liqo __complete` and drops cobra's `:<directive>` line. (The fish
// script is run in a real fish by test/e2e/plugin-completion.test.ts; the __complete walk by
// test/integration/plugin.test.ts.)
import assert from 'node:assert/strict';
import { complete, run, validate } from '../../plugin/commands/completion.js';
import { captureIO } from '../../plugin/io.js';
import { memoryClients } from '../helpers/memory-liqo-resources.js';

async function script(shell: string): Promise<string> {
  const c = captureIO();
  const clients = memoryClients();
  await run({ shell }, { io: c.io, clients });
  assert.equal(clients.connections, 0, 'printing a script needs no cluster');
  return c.stdout();
}

describe('plugin completion (unit)', () => {
  describe('complete', () => {
    it('takes the shell as given', () => {
      assert.deepEqual(complete({ shell: 'zsh', kubeconfig: '/x' }), { shell: 'zsh' });
    });
  });

  describe('validate', () => {
    it('accepts the four shells', () => {
      for (const shell of ['bash', 'zsh', 'fish', 'kubectl-plugin']) validate({ shell });
    });

    it('names an unknown shell and the ones that work', () => {
      assert.throws(() => validate({ shell: 'powershell' }), {
        name: 'UserError',
        message: 'completion: unknown shell "powershell" (use bash, zsh, fish, kubectl-plugin)',
      });
    });
  });

  describe('run', () => {
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

    it('kubectl-plugin: an executable that hands every word to __complete', async () => {
      assert.match(
        await script('kubectl-plugin'),
        /^#!\/usr\/bin\/env sh\n[\s\S]*^exec kubectl-liqo __complete "\$@"\n$/m,
      );
    });
  });
});
