// -o json | yaml | name | table | wide for Kubernetes objects and plain data.
import type { Argv } from 'yargs';
import type { CommandIO } from '../io.js';
import { UserError } from '../global.js';

export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml', 'name'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export function outputOption<T>(y: Argv<T>, choices: readonly OutputFormat[] = OUTPUT_FORMATS) {
  return y.option('output', {
    alias: 'o',
    type: 'string',
    describe: `Output format: ${choices.join('|')}`,
    default: 'table',
    coerce: (v: unknown) => {
      const value = String(v);
      if (!(choices as readonly string[]).includes(value)) {
        throw new UserError(`--output: unsupported format "${value}" (use one of ${choices.join(', ')})`);
      }
      return value as OutputFormat;
    },
  });
}

export async function printData(io: CommandIO, format: 'json' | 'yaml', data: unknown): Promise<void> {
  if (format === 'json') {
    io.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    return;
  }
  const { stringify } = await import('./yaml.js');
  io.stdout.write(stringify(data));
}

/** kubectl's List wrapper for -o json|yaml of several objects. */
export function asList(items: unknown[]): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items };
}

/** `foreigncluster.discovery.liqo.io/<name>`, as kubectl -o name prints. */
export function resourceName(kind: string, group: string, name: string | undefined): string {
  return `${kind.toLowerCase()}.${group}/${name ?? ''}`;
}
