// Runs the real kubectl binary (and shell one-liners that call it) against a kubeconfig,
// collecting exit code, stdout and stderr like a user's terminal would show them.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

export const KUBECTL = existsSync('/usr/bin/kubectl') ? '/usr/bin/kubectl' : 'kubectl';

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

export function runCommand(file: string, args: string[], opts: RunOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      stderr += `\n(killed by the test harness after ${opts.timeoutMs ?? 60_000} ms)`;
    }, opts.timeoutMs ?? 60_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => {}); // the command may exit before reading its input
    child.stdin.end(opts.input ?? '');
  });
}

/** `kubectl --kubeconfig <kubeconfig> <args...>`; a non-zero exit is a result, not an exception. */
export function kubectlWith(
  kubeconfig: string,
  args: string[],
  opts: RunOptions = {},
): Promise<CommandResult> {
  return runCommand(KUBECTL, ['--kubeconfig', kubeconfig, ...args], opts);
}

/**
 * Runs `script` with `sh -c`, KUBECONFIG set, so a test can paste a command from the guide
 * exactly as a user would type it (heredocs, quoting, line continuations).
 */
export function shellWith(kubeconfig: string, script: string, opts: RunOptions = {}): Promise<CommandResult> {
  return runCommand('/bin/sh', ['-c', script], {
    ...opts,
    env: { ...process.env, ...opts.env, KUBECONFIG: kubeconfig },
  });
}

/** Throws with kubectl's own stderr when the command failed (for set-up steps that must work). */
export function mustSucceed(what: string, result: CommandResult): CommandResult {
  if (result.code !== 0) throw new Error(`${what} failed (exit ${result.code}): ${result.stderr.trim()}`);
  return result;
}
