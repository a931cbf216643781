// A real Kubernetes control plane for tests and the sandbox: etcd and kube-apiserver on free
// loopback ports, everything in one temporary directory, an admin kubeconfig, and a stop()
// that kills both by PID and removes the directory (also when the process exits early).
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ensureBinaries, type ControlPlaneBinaries } from './binaries.js';
import { kubectlWith, shellWith, type CommandResult, type RunOptions } from './kubectl.js';
import { freePort, waitForHttpOk } from './network.js';
import { createClientCertificate, createControlPlanePki, type ControlPlanePki } from './pki.js';
import { removeOnExit, startProcess, type ManagedProcess } from './processes.js';

export interface ControlPlane {
  /** https://127.0.0.1:<port> */
  readonly server: string;
  readonly dir: string;
  readonly adminKubeconfig: string;
  readonly binaries: ControlPlaneBinaries;
  /** etcd and kube-apiserver, e.g. to notice one exiting. */
  readonly processes: readonly ManagedProcess[];
  /** Milliseconds from the call to a ready /readyz. */
  readonly startupMs: number;
  /** The real kubectl with the admin kubeconfig. */
  kubectl(args: string[], opts?: RunOptions): Promise<CommandResult>;
  /** `sh -c script` with KUBECONFIG set to the admin kubeconfig. */
  shell(script: string, opts?: RunOptions): Promise<CommandResult>;
  /** A kubeconfig for user `userName` (client certificate, no RBAC bindings unless added). */
  createUserKubeconfig(userName: string, groups?: string[]): string;
  stop(opts?: StopOptions): Promise<void>;
}

export interface StopOptions {
  /** Leave the temporary directory (logs, kubeconfig) in place: a failed run's evidence. */
  keepDir?: boolean;
}

export interface ControlPlaneOptions {
  /** Build kube-apiserver with Go when it is not found (default true). */
  build?: boolean;
  /** Prefix of the temporary directory's name (default `liqo-controlplane-`). */
  tempDirPrefix?: string;
  /** Bound on waiting for /readyz (default 90 s: two shared cores can be slow). */
  readyTimeoutMs?: number;
  log?: (line: string) => void;
}

interface Endpoint {
  server: string;
  caPem: string;
}

function kubeconfigYaml(endpoint: Endpoint, user: string, cert: { certPem: string; keyPem: string }): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  // JSON is valid YAML, and needs no YAML library here.
  return JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'liqo-test',
          cluster: { server: endpoint.server, 'certificate-authority-data': b64(endpoint.caPem) },
        },
      ],
      users: [
        {
          name: user,
          user: { 'client-certificate-data': b64(cert.certPem), 'client-key-data': b64(cert.keyPem) },
        },
      ],
      contexts: [{ name: `${user}@liqo-test`, context: { cluster: 'liqo-test', user } }],
      'current-context': `${user}@liqo-test`,
    },
    null,
    2,
  );
}

function writePki(dir: string, pki: ControlPlanePki): Record<string, string> {
  const files: Record<string, string> = {
    servingCert: join(dir, 'apiserver.crt'),
    servingKey: join(dir, 'apiserver.key'),
    clientCa: join(dir, 'client-ca.crt'),
    saPublic: join(dir, 'sa.pub'),
    saPrivate: join(dir, 'sa.key'),
  };
  writeFileSync(files.servingCert!, pki.serving.certPem + pki.servingCa.certPem);
  writeFileSync(files.servingKey!, pki.serving.keyPem, { mode: 0o600 });
  writeFileSync(files.clientCa!, pki.clientCa.certPem);
  writeFileSync(files.saPublic!, pki.serviceAccount.publicKeyPem);
  writeFileSync(files.saPrivate!, pki.serviceAccount.privateKeyPem, { mode: 0o600 });
  return files;
}

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const started = Date.now();
  const log = opts.log ?? (() => {});
  const binaries = await ensureBinaries({ build: opts.build ?? true, log });
  const dir = mkdtempSync(join(tmpdir(), opts.tempDirPrefix ?? 'liqo-controlplane-'));
  const removeDir = removeOnExit(dir);
  // etcd's fsyncs dominate API latency on a disk; tmpfs makes them free (3.4 has no --unsafe-no-fsync).
  // Named after the temporary directory, so one name finds every file and process of this run.
  const etcdData = existsSync('/dev/shm')
    ? join('/dev/shm', `${basename(dir)}-etcd`)
    : join(dir, 'etcd-data');
  mkdirSync(etcdData, { recursive: true, mode: 0o700 });
  const removeEtcdData = removeOnExit(etcdData);
  const processes: ManagedProcess[] = [];
  const stop = async (stopOpts: StopOptions = {}) => {
    // kube-apiserver first: with etcd gone it waits out its whole grace period (5 s instead of 1 s)
    for (const p of [...processes].reverse()) await p.stop();
    removeEtcdData();
    removeDir({ keep: stopOpts.keepDir === true });
  };
  try {
    const [etcdClientPort, etcdPeerPort, apiPort] = await distinctFreePorts(3);
    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
    const peerUrl = `http://127.0.0.1:${etcdPeerPort}`;
    const etcd = startProcess(
      'etcd',
      binaries.etcd,
      [
        '--name=default',
        `--data-dir=${etcdData}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=default=${peerUrl}`,
        '--logger=zap',
        '--log-level=warn',
      ],
      { logFile: join(dir, 'etcd.log') },
    );
    processes.push(etcd);

    const pki = createControlPlanePki();
    const files = writePki(dir, pki);
    const admin = createClientCertificate(pki.clientCa, 'liqo-test-admin', ['system:masters']);
    const endpoint: Endpoint = { server: `https://127.0.0.1:${apiPort}`, caPem: pki.servingCa.certPem };
    const adminKubeconfig = join(dir, 'kubeconfig');
    writeFileSync(adminKubeconfig, kubeconfigYaml(endpoint, 'liqo-test-admin', admin), { mode: 0o600 });

    await waitForHttpOk(`${etcdUrl}/health`, {
      timeoutMs: 20_000,
      intervalMs: 50,
      gaveUp: () => (etcd.isRunning() ? undefined : `etcd exited: ${etcd.tail()}`),
    });

    const apiserver = startProcess(
      'kube-apiserver',
      binaries.kubeApiserver,
      [
        `--etcd-servers=${etcdUrl}`,
        `--secure-port=${apiPort}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--cert-dir=${join(dir, 'certs')}`,
        `--tls-cert-file=${files.servingCert}`,
        `--tls-private-key-file=${files.servingKey}`,
        `--client-ca-file=${files.clientCa}`,
        '--authorization-mode=RBAC',
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${files.saPublic}`,
        `--service-account-signing-key-file=${files.saPrivate}`,
        '--service-cluster-ip-range=10.0.0.0/24',
        // No controller-manager runs, so nothing would create service-account tokens; the
        // admission webhooks (Mutating/ValidatingAdmissionWebhook) stay on by default.
        '--disable-admission-plugins=ServiceAccount',
        '--allow-privileged=true',
        '--profiling=false',
        '--v=0',
      ],
      { logFile: join(dir, 'kube-apiserver.log') },
    );
    processes.push(apiserver);

    await waitForHttpOk(`${endpoint.server}/readyz`, {
      tls: { ca: pki.servingCa.certPem, cert: admin.certPem, key: admin.keyPem },
      timeoutMs: opts.readyTimeoutMs ?? 90_000,
      gaveUp: () =>
        !apiserver.isRunning()
          ? `kube-apiserver exited: ${apiserver.tail()}`
          : !etcd.isRunning()
            ? `etcd exited: ${etcd.tail()}`
            : undefined,
    });

    const startupMs = Date.now() - started;
    log(`control plane ready at ${endpoint.server} in ${startupMs} ms (${binaries.description})`);
    return {
      server: endpoint.server,
      dir,
      adminKubeconfig,
      binaries,
      processes: [...processes],
      startupMs,
      kubectl: (args, runOpts) => kubectlWith(adminKubeconfig, args, runOpts),
      shell: (script, runOpts) => shellWith(adminKubeconfig, script, runOpts),
      createUserKubeconfig(userName, groups = []) {
        const path = join(dir, `${userName.replace(/[^A-Za-z0-9_.-]/g, '_')}.kubeconfig`);
        writeFileSync(
          path,
          kubeconfigYaml(endpoint, userName, createClientCertificate(pki.clientCa, userName, groups)),
          {
            mode: 0o600,
          },
        );
        return path;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}
