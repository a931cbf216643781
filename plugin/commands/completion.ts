// kubectl liqo completion bash | zsh | kubectl-plugin. kubectl ≥ 1.26 completes plugin
// arguments by running an executable named kubectl_complete-liqo from PATH, in cobra's
// `__complete` protocol: one candidate per line, then `:<directive>` (4 = no file names).
import type { Argv } from 'yargs';
import type { CommandModule } from '../command.js';
import { connect, kubeconfigAvailable, UserError, type GlobalOptions } from '../global.js';
import type { CommandIO } from '../io.js';

export interface CompletionOptions extends GlobalOptions {
  shell: string;
}

const SHELLS = ['bash', 'zsh', 'kubectl-plugin'] as const;
const NO_FILE_COMPLETION = 4;

export const completionCommand: CommandModule<CompletionOptions> = {
  command: 'completion <shell>',
  describe: 'Print a completion script: bash, zsh, or kubectl-plugin (the kubectl_complete-liqo helper)',
  builder: (y) => y.positional('shell', { type: 'string', choices: SHELLS, demandOption: true }),
  run,
};

export async function run(opts: CompletionOptions, io: CommandIO): Promise<void> {
  const script = SCRIPTS[opts.shell as (typeof SHELLS)[number]];
  if (!script) throw new UserError(`completion: unknown shell "${opts.shell}" (use ${SHELLS.join(', ')})`);
  io.stdout.write(script);
}

const SCRIPTS: Record<(typeof SHELLS)[number], string> = {
  bash: `# bash completion for kubectl-liqo: source <(kubectl liqo completion bash)
# (for "kubectl liqo <TAB>" install the kubectl-plugin helper instead)
_kubectl_liqo() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" out
  out=$(kubectl-liqo __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return
  local IFS=$'\\n'
  COMPREPLY=( $(compgen -W "$(printf '%s\\n' "$out" | grep -v '^:')" -- "$cur") )
}
complete -o default -F _kubectl_liqo kubectl-liqo
`,
  zsh: `#compdef kubectl-liqo
# zsh completion for kubectl-liqo: source <(kubectl liqo completion zsh)
_kubectl_liqo() {
  local -a candidates
  candidates=("\${(@f)$(kubectl-liqo __complete "\${(@)words[2,CURRENT]}" 2>/dev/null | grep -v '^:')}")
  compadd -- "\${candidates[@]}"
}
if (( $+functions[compdef] )); then compdef _kubectl_liqo kubectl-liqo; fi
`,
  'kubectl-plugin': `#!/usr/bin/env sh
# kubectl (>= 1.26) runs this for "kubectl liqo <TAB>". Install it on PATH:
#   kubectl liqo completion kubectl-plugin > ~/.local/bin/kubectl_complete-liqo
#   chmod +x ~/.local/bin/kubectl_complete-liqo
exec kubectl-liqo __complete "$@"
`,
};

/** The `__complete` entry: prints candidates for the last word, then the cobra directive. */
export async function printCompletions(
  words: string[],
  io: CommandIO,
  makeParser: (args: string[]) => Argv<GlobalOptions>,
): Promise<void> {
  const args = words.length ? words : [''];
  const current = args[args.length - 1] ?? '';
  const candidates = new Set<string>();
  const positionalTarget =
    ['join', 'unjoin'].includes(args[0] ?? '') && args.length === 2 && !current.startsWith('-');
  if (positionalTarget) {
    for (const name of await foreignClusterNames(args, io)) candidates.add(name);
  }
  const parser = makeParser([]);
  const fromYargs = await new Promise<string[]>((resolve) => {
    parser.getCompletion(args, (err, completions) => resolve(err ? [] : [...(completions ?? [])]));
  });
  for (const c of fromYargs) {
    const word = c.split(':')[0] ?? c; // zsh-style "word:description"
    if (word.startsWith(current) && word !== '--') candidates.add(word);
  }
  for (const c of candidates) io.stdout.write(`${c}\n`);
  io.stdout.write(`:${NO_FILE_COMPLETION}\n`);
}

async function foreignClusterNames(args: string[], io: CommandIO): Promise<string[]> {
  const opts: GlobalOptions = {};
  if (!kubeconfigAvailable(opts, io.env)) return [];
  try {
    const resources = await connect(
      { ...opts, requestTimeout: '2s' },
      { ...io, stderr: { write: () => true } },
    );
    const current = args[args.length - 1] ?? '';
    return (await resources.foreignClusters.list())
      .map((fc) => fc.metadata.name ?? '')
      .filter((n) => n && n.startsWith(current));
  } catch {
    return []; // completion never fails loudly
  }
}
