// Avahi (Debian avahi-daemon / avahi-utils) inside one host of a namespace LAN, for interop
// tests and the LAN benchmark. Never in the root namespace (TESTING.md's network rule).
//
// avahi-daemon and its clients talk over the D-Bus *system* bus, so each instance gets a private
// dbus-daemon (socket in a temp dir, reached through DBUS_SYSTEM_BUS_ADDRESS). avahi-daemon keeps
// its pid file and socket in the compiled-in /run/avahi-daemon, so it runs in its own mount
// namespace (`unshare -m`) with a tmpfs on /run; nothing on the real /run is touched.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JsonLinesChild, NetnsHost, NetnsLan } from './netns.js';

export interface AvahiInstance {
  busAddress: string;
  /** Runs an avahi client (avahi-browse, avahi-publish...) in the host with the private bus. */
  clientCommand(cmd: string[]): string[];
  daemon: JsonLinesChild;
  dir: string;
  /** Stops avahi-daemon and its bus (by PID) and removes the temp dir. */
  stop(): Promise<void>;
  cleanup(): void;
}

const DBUS_CONFIG = (
  socket: string,
) => `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
`;

const AVAHI_CONFIG = (hostName: string) => `[server]
host-name=${hostName}
use-ipv4=yes
use-ipv6=yes
allow-interfaces=eth0
enable-dbus=yes
ratelimit-interval-usec=1000000
ratelimit-burst=1000
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
publish-addresses=yes
[reflector]
enable-reflector=no
[rlimits]
`;

async function waitForFile(path: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > until) throw new Error(`${path} did not appear within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Starts dbus-daemon + avahi-daemon in `host`; resolves once Avahi reports start-up complete. */
export async function startAvahi(lan: NetnsLan, host: NetnsHost): Promise<AvahiInstance> {
  const dir = mkdtempSync(join(tmpdir(), 'liqo-avahi-'));
  const socket = join(dir, 'system_bus_socket');
  const busAddress = `unix:path=${socket}`;
  writeFileSync(join(dir, 'dbus.conf'), DBUS_CONFIG(socket));
  writeFileSync(join(dir, 'avahi-daemon.conf'), AVAHI_CONFIG(`avahi-${host.ns}`));
  const bus = lan.spawnJson(host, [
    'dbus-daemon',
    `--config-file=${join(dir, 'dbus.conf')}`,
    '--nofork',
    '--nopidfile',
  ]);
  await waitForFile(socket, 10000);
  const script =
    'mount -t tmpfs tmpfs /run && mkdir -p /run/avahi-daemon && exec avahi-daemon --no-drop-root --no-chroot ' +
    `--no-rlimits --no-proc-title -f ${join(dir, 'avahi-daemon.conf')}`;
  const daemon = lan.spawnJson(host, [
    'env',
    `DBUS_SYSTEM_BUS_ADDRESS=${busAddress}`,
    'unshare',
    '-m',
    'sh',
    '-c',
    script,
  ]);
  const until = Date.now() + 15000;
  while (!daemon.stderrLines.some((l) => l.includes('Server startup complete'))) {
    if (daemon.exited || Date.now() > until) {
      throw new Error(`avahi-daemon did not start: ${daemon.stderrLines.slice(-5).join(' | ')}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    busAddress,
    daemon,
    dir,
    clientCommand: (cmd) => ['env', `DBUS_SYSTEM_BUS_ADDRESS=${busAddress}`, ...cmd],
    stop: async () => {
      for (const child of [daemon, bus]) {
        if (!child.exited) child.child.kill('SIGTERM');
        await child.waitExit().catch(() => child.child.kill('SIGKILL'));
      }
      rmSync(dir, { recursive: true, force: true });
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface AvahiService {
  interface: string;
  protocol: string;
  name: string;
  type: string;
  domain: string;
  host: string;
  address: string;
  port: number;
  txt: string[];
}

/** Parses the resolved ("=") lines of `avahi-browse -p -r`. */
export function parseAvahiBrowse(stdout: string): AvahiService[] {
  const out: AvahiService[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('=')) continue;
    const f = line.split(';');
    const unescape = (s: string) =>
      s.replace(/\\(\d{3})/g, (_m, d: string) => String.fromCharCode(Number(d)));
    out.push({
      interface: f[1] ?? '',
      protocol: f[2] ?? '',
      name: unescape(f[3] ?? ''),
      type: f[4] ?? '',
      domain: f[5] ?? '',
      host: f[6] ?? '',
      address: f[7] ?? '',
      port: Number(f[8]),
      txt: [
        ...f
          .slice(9)
          .join(';')
          .matchAll(/"([^"]*)"/g),
      ].map((m) => m[1] ?? ''),
    });
  }
  return out;
}
