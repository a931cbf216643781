// A LAN of N hosts built from Linux network namespaces, for mDNS tests and benchmarks
// (TESTING.md's network rule: multicast never touches the machine's real interfaces).
//
//   const lan = await createLan(3);                 // hosts h0..h2 on 10.x.y.0/24 (+ fd..::/64)
//   const child = lan.spawnJson(lan.hosts[0], ['node', '--import', 'tsx', 'script.ts']);
//   await child.waitFor((m) => m.event === 'ready');
//   await lan.teardown();                           // kills only what it spawned, deletes the namespaces
//
// Layout: a bridge namespace holding `br0` (mcast_snooping 0, so every port sees all multicast),
// one namespace per host with `eth0` (a veth whose peer sits in the bridge namespace), the host's
// address in a private /24 that exists only inside these namespaces, an IPv6 ULA (no DAD) and
// `224.0.0.0/4 dev eth0`. Nothing is created in the root namespace.
import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface NetnsHost {
  /** Short name, e.g. "h0". */
  name: string;
  /** Network namespace name (unique per run). */
  ns: string;
  address: string;
  address6: string;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
}

let lanCounter = 0;
const liveLans = new Set<NetnsLan>();

function run(args: string[]): Promise<ExecResult> {
  return execFileAsync(args[0] as string, args.slice(1), { maxBuffer: 16 * 1024 * 1024 });
}

/** A child process that prints one JSON object per line on stdout. */
export class JsonLinesChild {
  readonly messages: Record<string, unknown>[] = [];
  readonly stderrLines: string[] = [];
  private waiters: {
    match: (m: Record<string, unknown>) => boolean;
    resolve: (m: Record<string, unknown>) => void;
  }[] = [];
  private exitWaiters: (() => void)[] = [];
  exited = false;
  exitCode: number | null = null;

  constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line) as Record<string, unknown>;
      } catch {
        msg = { event: 'text', line };
      }
      this.messages.push(msg);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(msg)) return true;
        w.resolve(msg);
        return false;
      });
    });
    createInterface({ input: child.stderr! }).on('line', (line) => {
      this.stderrLines.push(line);
      if (this.stderrLines.length > 200) this.stderrLines.shift();
    });
    child.on('exit', (code) => {
      this.exited = true;
      this.exitCode = code;
      for (const w of this.exitWaiters) w();
    });
  }

  /** The first message (already received or future) matching, or a rejection after timeoutMs. */
  waitFor(
    match: (m: Record<string, unknown>) => boolean,
    // long enough for a child started under load (tsx compiling, two CPU hogs); a test's own
    // mocha timeout is usually the bound that fires first
    timeoutMs = 60_000,
  ): Promise<Record<string, unknown>> {
    const seen = this.messages.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for a message; stderr: ${this.stderrLines.slice(-5).join(' | ')}`,
          ),
        );
      }, timeoutMs);
      this.waiters.push({
        match,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  send(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  waitExit(timeoutMs = 60_000): Promise<number | null> {
    if (this.exited) return Promise.resolve(this.exitCode);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`process ${this.child.pid} did not exit`)), timeoutMs);
      this.exitWaiters.push(() => {
        clearTimeout(timer);
        resolve(this.exitCode);
      });
    });
  }
}

export class NetnsLan {
  readonly hosts: NetnsHost[] = [];
  readonly bridgeNs: string;
  private readonly children = new Set<ChildProcess>();
  private torn = false;

  constructor(
    readonly prefix: string,
    /** First three octets of the /24, e.g. "10.213.7". */
    readonly subnet: string,
    readonly subnet6: string,
  ) {
    this.bridgeNs = `${prefix}br`;
  }

  /** Adds one host (also after creation: late joiners). */
  async addHost(): Promise<NetnsHost> {
    const index = this.hosts.length;
    const host: NetnsHost = {
      name: `h${index}`,
      ns: `${this.prefix}h${index}`,
      address: `${this.subnet}.${index + 10}`,
      address6: `${this.subnet6}::${(index + 10).toString(16)}`,
    };
    this.hosts.push(host); // before creation, so teardown also removes a half-built host
    const inBr = ['ip', 'netns', 'exec', this.bridgeNs];
    const inHost = ['ip', 'netns', 'exec', host.ns];
    await run(['ip', 'netns', 'add', host.ns]);
    await run([
      ...inHost,
      'sysctl',
      '-qw',
      'net.ipv6.conf.default.accept_dad=0',
      'net.ipv6.conf.all.accept_dad=0',
    ]);
    await run([
      ...inBr,
      'ip',
      'link',
      'add',
      `v${index}`,
      'type',
      'veth',
      'peer',
      'name',
      'eth0',
      'netns',
      host.ns,
    ]);
    await run([...inBr, 'ip', 'link', 'set', `v${index}`, 'master', 'br0', 'up']);
    await run([...inHost, 'ip', 'link', 'set', 'lo', 'up']);
    await run([...inHost, 'ip', 'addr', 'add', `${host.address}/24`, 'dev', 'eth0']);
    await run([...inHost, 'ip', '-6', 'addr', 'add', `${host.address6}/64`, 'dev', 'eth0', 'nodad']);
    await run([...inHost, 'ip', 'link', 'set', 'eth0', 'up']);
    await run([...inHost, 'ip', 'route', 'add', '224.0.0.0/4', 'dev', 'eth0']);
    return host;
  }

  /** Runs a command to completion inside a host's namespace. */
  exec(host: NetnsHost, cmd: string[]): Promise<ExecResult> {
    return run(['ip', 'netns', 'exec', host.ns, ...cmd]);
  }

  /** Starts a long-running command inside a host's namespace; teardown kills it (by PID). */
  spawn(host: NetnsHost, cmd: string[], opts: SpawnOptions = {}): ChildProcess {
    if (this.torn) throw new Error('LAN already torn down');
    const child = spawn('ip', ['netns', 'exec', host.ns, ...cmd], {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true, // own process group: teardown kills exactly this tree
      ...opts,
    });
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    return child;
  }

  spawnJson(host: NetnsHost, cmd: string[], opts: SpawnOptions = {}): JsonLinesChild {
    return new JsonLinesChild(this.spawn(host, cmd, opts));
  }

  /** Kills the processes this LAN started and deletes its namespaces; safe to call twice. */
  async teardown(): Promise<void> {
    if (this.torn) return;
    this.torn = true;
    const exits = [...this.children].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => {
            killGroup(child, 'SIGKILL');
            resolve();
          }, 3000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          killGroup(child, 'SIGTERM');
        }),
    );
    await Promise.all(exits);
    for (const ns of this.namespaces()) await run(['ip', 'netns', 'del', ns]).catch(() => undefined);
    liveLans.delete(this);
  }

  /** Synchronous last-resort cleanup (process exit). */
  teardownSync(): void {
    if (this.torn) return;
    this.torn = true;
    for (const child of this.children) killGroup(child, 'SIGKILL');
    for (const ns of this.namespaces()) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
  }

  private namespaces(): string[] {
    return [...this.hosts.map((h) => h.ns), this.bridgeNs];
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

process.once('exit', () => {
  for (const lan of liveLans) lan.teardownSync();
});

/** Builds a LAN of `hostCount` hosts; on failure, whatever was built is removed again. */
export async function createLan(hostCount: number): Promise<NetnsLan> {
  lanCounter += 1;
  // Namespace and interface names stay short (IFNAMSIZ 15) and unique per process and LAN.
  const prefix = `lq${process.pid.toString(36)}${lanCounter.toString(36)}`;
  const third = (process.pid + lanCounter * 7) % 250;
  const lan = new NetnsLan(prefix, `10.213.${third}`, `fd00:213:${third.toString(16)}:1`);
  liveLans.add(lan);
  try {
    await run(['ip', 'netns', 'add', lan.bridgeNs]);
    const inBr = ['ip', 'netns', 'exec', lan.bridgeNs];
    await run([...inBr, 'ip', 'link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '0']);
    await run([...inBr, 'ip', 'link', 'set', 'br0', 'up']);
    for (let i = 0; i < hostCount; i++) await lan.addHost();
    return lan;
  } catch (err) {
    await lan.teardown();
    throw err;
  }
}

/** The tsx runner for a TypeScript helper script, as a command line. */
export function tsxCommand(script: string, ...args: string[]): string[] {
  return [process.execPath, '--import', 'tsx', script, ...args];
}
