// kubectl liqo completion bash | zsh | fish | kubectl-plugin. Every script asks
// `kubectl-liqo __complete <words>` for the candidates, so all shells offer the same ones.
// kubectl ≥ 1.26 completes plugin arguments by running an executable named
// kubectl_complete-liqo from PATH, in cobra's `__complete` protocol: one candidate per line,
// then `:<directive>` (4 = no file names).
import type { Argv } from 'yargs';
import type { ClientFactory, CommandContext, CommandModule } from '../command.js';
import { UserError, type GlobalOptions } from '../global.js';
import type { CommandIO } from '../io.js';

const SHELLS = ['bash', 'zsh', 'fish', 'kubectl-plugin'] as const;
type Shell = (typeof SHELLS)[number];
const NO_FILE_COMPLETION = 4;

/** What yargs parses. */
export interface CompletionFlags extends GlobalOptions {
  shell: string;
}

/** What run() works from. */
export interface CompletionOptions {
  /** As given; validate() says whether it is one of SHELLS. */
  shell: string;
}

export const completionCommand: CommandModule<CompletionFlags, CompletionOptions> = {
  command: 'completion <shell>',
  describe:
    'Print a completion script: bash, zsh, fish, or kubectl-plugin (the kubectl_complete-liqo helper)',
  builder: (y) => y.positional('shell', { type: 'string', choices: SHELLS, demandOption: true }),
  complete,
  validate,
  run,
};

export function complete(flags: CompletionFlags): CompletionOptions {
  return { shell: String(flags.shell) };
}

export function validate(opts: CompletionOptions): void {
  if (!isShell(opts.shell)) {
    throw new UserError(`completion: unknown shell "${opts.shell}" (use ${SHELLS.join(', ')})`);
  }
}

export async function run(opts: CompletionOptions, { io }: CommandContext): Promise<void> {
  if (!isShell(opts.shell)) return validate(opts);
  io.stdout.write(SCRIPTS[opts.shell]);
}

function isShell(value: string): value is Shell {
  return (SHELLS as readonly string[]).includes(value);
}

const SCRIPTS: Record<Shell, string> = {
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
  // commandline -opc: the words before the cursor (the command itself first); -ct: the word
  // being completed, passed quoted so that an empty one is still an argument
  fish: `# fish completion for kubectl-liqo: kubectl liqo completion fish | source
# (to keep it: kubectl liqo completion fish > ~/.config/fish/completions/kubectl-liqo.fish;
# for "kubectl liqo <TAB>" install the kubectl-plugin helper instead)
function __kubectl_liqo_complete
    set -l words (commandline -opc)
    set -e words[1]
    set -l current (commandline -ct)
    kubectl-liqo __complete $words "$current" 2>/dev/null | string match -v -r '^:'
end
complete -c kubectl-liqo -f -a '(__kubectl_liqo_complete)'
`,
  'kubectl-plugin': `#!/usr/bin/env sh
# kubectl (>= 1.26) runs this for "kubectl liqo <TAB>". Install it on PATH:
#   kubectl liqo completion kubectl-plugin > ~/.local/bin/kubectl_complete-liqo
#   chmod +x ~/.local/bin/kubectl_complete-liqo
exec kubectl-liqo __complete "$@"
`,
};

/**
 * The `__complete` entry: prints candidates for the last word, then the cobra directive.
 * Our own walk over the command table: yargs' programmatic completion never calls back for
 * commands that have a builder.
 */
export async function printCompletions(
  words: string[],
  io: CommandIO,
  commands: CompletionTree,
  clients: ClientFactory,
): Promise<void> {
  const args = words.length ? words : [''];
  const current = args[args.length - 1] ?? '';
  const before = args.slice(0, -1);
  const candidates: string[] = [];
  const top = commands.find((c) => c.name === before[0]);
  const sub = top?.subcommands?.find((c) => c.name === before[1]);
  const chosen = sub ?? (top && !top.subcommands ? top : undefined);
  const previous = before[before.length - 1] ?? '';
  const flagValues = chosen?.flagValues?.[previous.replace(/^-+/, '')];
  if (flagValues) candidates.push(...flagValues);
  else if (current.startsWith('-')) candidates.push(...((chosen ?? top)?.flags ?? GLOBAL_FLAGS));
  else if (!top) candidates.push(...commands.map((c) => c.name));
  else if (top.subcommands && !sub) candidates.push(...top.subcommands.map((c) => c.name));
  else if (chosen?.positional === 'foreignCluster' && before.length === 1) {
    candidates.push(...(await foreignClusterNames(args, clients)));
  } else if (chosen?.positionalValues && before.length === 1) candidates.push(...chosen.positionalValues);
  for (const c of new Set(candidates)) if (c.startsWith(current)) io.stdout.write(`${c}\n`);
  io.stdout.write(`:${NO_FILE_COMPLETION}\n`);
}

export interface CompletionNode {
  name: string;
  flags?: string[];
  /** Values offered after a flag, by flag name without dashes (e.g. output). */
  flagValues?: Record<string, readonly string[]>;
  positional?: 'foreignCluster';
  positionalValues?: readonly string[];
  subcommands?: CompletionNode[];
}
export type CompletionTree = CompletionNode[];

const GLOBAL_FLAGS = [
  '--kubeconfig',
  '--context',
  '--cluster',
  '--user',
  '--request-timeout',
  '--verbose',
  '--no-color',
  '--help',
];

/** The completion table, read from each command's yargs builder (its options and choices). */
export function completionTree(
  commands: {
    command: string;
    builder?: (y: Argv<GlobalOptions>) => Argv<unknown>;
    subcommands?: { command: string; builder: (y: Argv<GlobalOptions>) => Argv<unknown> }[];
  }[],
  freshParser: () => Argv<GlobalOptions>,
): CompletionTree {
  const node = (command: string, builder?: (y: Argv<GlobalOptions>) => Argv<unknown>): CompletionNode => {
    const name = command.split(' ')[0] ?? command;
    const n: CompletionNode = { name };
    if (!builder) return n;
    const options = (builder(freshParser()) as unknown as { getOptions(): YargsOptions }).getOptions();
    n.flags = Object.keys(options.key)
      .filter(
        (k) =>
          !/[A-Z]/.test(k) && k !== 'version' && !(options.alias[k] ?? []).some((a) => a.length > k.length),
      )
      .map((k) => (k === 'color' ? '--no-color' : k.length === 1 ? `-${k}` : `--${k}`));
    n.flagValues = {};
    for (const [k, values] of Object.entries(options.choices)) {
      n.flagValues[k] = values;
      for (const a of options.alias[k] ?? []) n.flagValues[a] = values;
    }
    if (name === 'join' || name === 'unjoin') n.positional = 'foreignCluster';
    if (name === 'completion') n.positionalValues = SHELLS;
    n.flagValues.output ??= ['table', 'wide', 'json', 'yaml', 'name'];
    n.flagValues.o ??= n.flagValues.output;
    return n;
  };
  return commands.map((c) =>
    c.subcommands
      ? {
          name: c.command.split(' ')[0] ?? c.command,
          subcommands: c.subcommands.map((s) => node(s.command, s.builder)),
        }
      : node(c.command, c.builder),
  );
}

interface YargsOptions {
  key: Record<string, unknown>;
  alias: Record<string, string[]>;
  choices: Record<string, string[]>;
}

/** `clients` is the quiet, 2 s-bounded one plugin/main.ts builds for completion. */
async function foreignClusterNames(args: string[], clients: ClientFactory): Promise<string[]> {
  if (!clients.hasKubeconfig()) return [];
  try {
    const resources = await clients.liqo();
    const current = args[args.length - 1] ?? '';
    return (await resources.foreignClusters.list())
      .map((fc) => fc.metadata.name ?? '')
      .filter((n) => n && n.startsWith(current));
  } catch {
    return []; // completion never fails loudly
  }
}
