// Child processes the harness starts (etcd, kube-apiserver, the webhook): output to a log file,
// stopped by PID, and never outliving the process that started them — on a normal exit, on
// Ctrl-C, and (through the kernel's parent-death signal) even when that process is killed.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:net';

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves with the exit code (or signal name) once the process is gone. */
  readonly exited: Promise<string>;
  isRunning(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it is gone. */
  stop(graceMs?: number): Promise<void>;
  /** The last lines of its log, for error messages. */
  tail(lines?: number): string;
  /**
   * Sends a message, and optionally a listening server's socket, over the IPC channel (only for
   * a Node program started with `ipc: true`); resolves once it is handed over.
   */
  send(message: unknown, server?: Server): Promise<void>;
}

const SETPRIV = '/usr/bin/setpriv';
const running = new Set<ChildProcess>();
const pathsToRemove = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous: kill by PID and remove directories right here.
  process.on('exit', () => {
    for (const child of running) if (child.pid) safeKill(child.pid, 'SIGKILL');
    for (const path of pathsToRemove) rmSync(path, { recursive: true, force: true });
  });
}

function safeKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Removes `path` when this process exits, unless it was removed before. The function returned
 * removes it now, or with `{ keep: true }` leaves it in place for good (a failed run's logs).
 */
export function removeOnExit(path: string): (opts?: { keep?: boolean }) => void {
  installExitHook();
  pathsToRemove.add(path);
  return (opts = {}) => {
    if (!opts.keep) rmSync(path, { recursive: true, force: true });
    pathsToRemove.delete(path);
  };
}

export function startProcess(
  name: string,
  command: string,
  args: string[],
  opts: {
    logFile: string;
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    /** Open Node's IPC channel (fd 3) to a Node program, for send(). */
    ipc?: boolean;
  },
): ManagedProcess {
  installExitHook();
  const logFd = openSync(opts.logFile, 'a');
  // setpriv --pdeathsig: the kernel kills the child if this Node process dies without cleaning up.
  const [file, argv] = existsSync(SETPRIV)
    ? [SETPRIV, ['--pdeathsig', 'SIGKILL', '--', command, ...args]]
    : [command, args];
  const child = spawn(file, argv, {
    stdio: opts.ipc ? ['ignore', logFd, logFd, 'ipc'] : ['ignore', logFd, logFd],
    env: opts.env ?? process.env,
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  });
  closeSync(logFd);
  if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  const pid = child.pid;
  running.add(child);
  let alive = true;
  const exited = new Promise<string>((resolve) => {
    child.on('exit', (code, signal) => {
      alive = false;
      running.delete(child);
      resolve(signal ?? String(code));
    });
    child.on('error', (err) => {
      alive = false;
      running.delete(child);
      resolve(`spawn error: ${err.message}`);
    });
  });
  const tail = (lines = 15): string => {
    try {
      return readFileSync(opts.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  };
  return {
    name,
    pid,
    logFile: opts.logFile,
    exited,
    isRunning: () => alive,
    tail,
    send(message, server) {
      return new Promise((resolve, reject) => {
        if (!child.send) return reject(new Error(`${name}: started without an IPC channel`));
        child.send(message as object, server, (err) => (err ? reject(err) : resolve()));
      });
    },
    async stop(graceMs = 5000) {
      if (!alive) return;
      safeKill(pid, 'SIGTERM');
      const timer = setTimeout(() => safeKill(pid, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
