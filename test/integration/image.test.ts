// The release image (`npm run image`, scripts/image/) as the tools that load it see it. Built
// twice from this tree with one SOURCE_DATE_EPOCH, it is the same file; skopeo reads it and
// copies every blob; its docker manifest.json agrees with its OCI config; it holds no shell and
// no program but node, its files are root's but the nonroot home; a private containerd (its own
// root, state and socket, CRI off) imports it under the release reference and runs both
// programs from it as the non-root user with a read-only root, and the webhook answers HTTPS.
// Needs root, containerd, runc and skopeo (.ci/run installs them). Node and the Debian packages
// are cached in ~/.cache/liqo-discovery/image-inputs/: only a first run downloads (~90 MB).
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, lstat, readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import tarStream from 'tar-stream';
import { buildReleaseImage, releaseImageReference, type BuiltArchive } from '../../scripts/image/build.mjs';
import { hostPlatform } from '../../scripts/image/oci-archive.mjs';
import { imageConfig, NODE_PATH, PROGRAMS } from '../../scripts/image/rootfs.mjs';
import { startProcess, type ManagedProcess } from '../harness/processes.js';
import { removeScratchDirs, scratchDir } from '../helpers/scratch-dir.js';
import { admissionReview, makeTestPki } from './webhook-support.js';

const run = promisify(execFile);
const EPOCH = 1_700_000_000; // 2023-11-14T22:13:20Z
const REPO_ROOT = join(import.meta.dirname, '../..');
const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string })
  .version;

interface TarEntry {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  linkname?: string | null;
  content: Buffer;
}

async function readTar(buffer: Buffer): Promise<TarEntry[]> {
  const extract = tarStream.extract();
  const entries: TarEntry[] = [];
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
      stream.on('end', () => {
        entries.push({
          name: header.name,
          type: header.type ?? 'file',
          mode: header.mode ?? 0,
          uid: header.uid ?? 0,
          gid: header.gid ?? 0,
          mtime: header.mtime ?? new Date(0),
          linkname: header.linkname,
          content: Buffer.concat(chunks),
        });
        next();
      });
      stream.resume();
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  extract.end(buffer);
  await done;
  return entries;
}

const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

interface OciDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}
interface ImageConfigJson {
  created: string;
  architecture: string;
  os: string;
  config: { User: string; Entrypoint: string[]; Env: string[]; WorkingDir: string };
  rootfs: { diff_ids: string[] };
}

describe('the release image (npm run image)', function () {
  this.timeout(600_000);
  const platform = hostPlatform().architecture as 'amd64' | 'arm64';
  let reference: string;
  let first: BuiltArchive;
  let secondPath: string;
  let files: Map<string, Buffer>;
  let config: ImageConfigJson;
  let layers: TarEntry[][];
  let rootfsDir: string;

  before(async () => {
    reference = await releaseImageReference();
    first = (
      await buildReleaseImage({
        platforms: [platform],
        reference,
        outDir: scratchDir('image-'),
        sourceDateEpoch: EPOCH,
      })
    ).archives[0]!;
    // the second from the command line, started in another folder: same bytes all the same
    const builder = join(REPO_ROOT, 'scripts/image/build.mjs');
    const secondDir = scratchDir('image-');
    await run(
      process.execPath,
      [builder, '--platform', `linux/${platform}`, '--reference', reference, '--out-dir', secondDir],
      {
        cwd: secondDir,
        env: { ...process.env, SOURCE_DATE_EPOCH: String(EPOCH) },
        maxBuffer: 1 << 24,
      },
    );
    secondPath = join(secondDir, basename(first.path));
    // right after: the three builds see the same source tree
    rootfsDir = scratchDir('image-rootfs-');
    await run(process.execPath, [builder, '--platform', `linux/${platform}`, '--rootfs', rootfsDir], {
      maxBuffer: 1 << 24,
    });
    files = new Map((await readTar(await readFile(first.path))).map((e) => [e.name, e.content]));
    const index = JSON.parse(files.get('index.json')!.toString()) as { manifests: OciDescriptor[] };
    const manifest = JSON.parse(files.get(blobName(index.manifests[0]!.digest))!.toString()) as {
      config: OciDescriptor;
      layers: OciDescriptor[];
    };
    config = JSON.parse(files.get(blobName(manifest.config.digest))!.toString()) as ImageConfigJson;
    layers = [];
    for (const layer of manifest.layers)
      layers.push(await readTar(gunzipSync(files.get(blobName(layer.digest))!)));
  });
  after(() => removeScratchDirs());

  const blobName = (digest: string) => `blobs/${digest.replace(':', '/')}`;
  const allEntries = () => layers.flat();

  it('is the same file when built twice from one tree with one SOURCE_DATE_EPOCH', async () => {
    assert.equal(sha256(await readFile(secondPath)), sha256(await readFile(first.path)));
    assert.equal(config.created, new Date(EPOCH * 1000).toISOString().replace('.000Z', 'Z'));
  });

  it('names the release reference for containerd and skopeo, and each blob is what its digest says', () => {
    assert.equal(reference, `ghcr.io/liqo-discovery/liqo-discovery:${version}`);
    const index = JSON.parse(files.get('index.json')!.toString()) as { manifests: OciDescriptor[] };
    assert.equal(index.manifests.length, 1);
    assert.deepEqual(index.manifests[0]!.annotations, {
      'io.containerd.image.name': reference,
      'org.opencontainers.image.ref.name': reference,
    });
    assert.equal(index.manifests[0]!.digest, first.digest);
    assert.deepEqual(JSON.parse(files.get('oci-layout')!.toString()), { imageLayoutVersion: '1.0.0' });
    const blobs = [...files].filter(([name]) => /^blobs\/sha256\/[0-9a-f]{64}$/.test(name));
    assert.equal(blobs.length, 5); // manifest, config, three layers
    for (const [name, content] of blobs)
      assert.equal(sha256(content), name.replace('blobs/sha256/', 'sha256:'));
  });

  it("has a docker manifest.json (docker load) that agrees with the OCI config's layers", () => {
    const [docker] = JSON.parse(files.get('manifest.json')!.toString()) as Array<{
      Config: string;
      RepoTags: string[];
      Layers: string[];
    }>;
    assert.deepEqual(docker!.RepoTags, [reference]);
    assert.ok(files.has(docker!.Config));
    // docker load checks each decompressed layer against the config's diff_ids
    assert.deepEqual(
      docker!.Layers.map((path) => sha256(gunzipSync(files.get(path)!))),
      config.rootfs.diff_ids,
    );
  });

  it('weighs at most 60 MB compressed', () => {
    assert.ok(first.compressedBytes! <= 60e6, `${first.compressedBytes} bytes`);
  });

  it('starts the webhook as the non-root user, with node on PATH for the agent', () => {
    assert.equal(config.architecture, platform);
    assert.equal(config.os, 'linux');
    assert.equal(config.config.User, '65532:65532');
    assert.deepEqual(config.config.Entrypoint, [NODE_PATH, '--max-semi-space-size=8', PROGRAMS.webhook]);
    const path = config.config.Env.find((e) => e.startsWith('PATH='));
    assert.ok(path?.split(/[=:]/).includes('/nodejs/bin'), String(path));
  });

  it('holds no shell, no package manager, and no program but node', () => {
    const forbidden = /^(bin|sbin|usr\/bin|usr\/sbin|usr\/local\/bin|usr\/local\/sbin)\//;
    const programs = /(^|\/)(sh|bash|dash|ash|busybox|apt|apt-get|dpkg|env)$/;
    for (const entry of allEntries()) {
      assert.doesNotMatch(entry.name, forbidden);
      if (entry.type !== 'directory') assert.doesNotMatch(entry.name, programs);
      if (entry.type !== 'file' || entry.content.subarray(0, 4).toString('latin1') !== '\x7fELF') continue;
      // machine code: node itself, its shared libraries, or a package's native addon
      const allowed =
        entry.name === 'nodejs/bin/node' ||
        /^(usr\/)?lib\/[^/]+\/(ld-linux|lib)[^/]*\.so[.\d]*$/.test(entry.name) ||
        /^app\/node_modules\/.*\.(node|bare)$/.test(entry.name);
      assert.ok(allowed, `${entry.name} is machine code`);
    }
    assert.ok(allEntries().some((e) => e.name === 'nodejs/bin/node'));
  });

  it("is root's but for the nonroot home, with every mtime at SOURCE_DATE_EPOCH and entries sorted", () => {
    for (const entry of allEntries()) {
      const owner = entry.name === 'home/nonroot/' ? 65532 : 0;
      assert.equal(entry.uid, owner, entry.name);
      assert.equal(entry.gid, owner, entry.name);
      assert.equal(entry.mtime.getTime(), EPOCH * 1000, entry.name);
    }
    for (const layer of layers) {
      const names = layer.map((e) => e.name.replace(/\/$/, ''));
      assert.deepEqual(names, [...names].sort());
    }
    const passwd = allEntries()
      .find((e) => e.name === 'etc/passwd')!
      .content.toString();
    assert.match(passwd, /^nonroot:x:65532:65532:/m);
  });

  it("has the Dockerfile's final stage set the same entrypoint, user, working directory and environment", async () => {
    const dockerfile = await readFile(join(REPO_ROOT, 'Dockerfile'), 'utf8');
    const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    const expected = imageConfig(version);
    assert.match(finalStage, /^FROM scratch$/m);
    assert.equal(
      /^ENTRYPOINT (.*)$/m.exec(finalStage)?.[1],
      JSON.stringify(expected.entrypoint).replaceAll(',', ', '),
    );
    assert.equal(/^USER (.*)$/m.exec(finalStage)?.[1], expected.user);
    assert.equal(/^WORKDIR (.*)$/m.exec(finalStage)?.[1], expected.workingDir);
    const env = [...finalStage.matchAll(/^ENV (\S+)=(\S+)$/gm)].map((m) => `${m[1]}=${m[2]}`);
    assert.deepEqual(env, expected.env);
  });

  it('writes the same files with --rootfs (what the Dockerfile copies into its empty final stage)', async () => {
    const dir = rootfsDir;
    const describeEntry = (
      name: string,
      type: string,
      mode: number,
      uid: number,
      gid: number,
      detail: string,
    ) => `${name} ${type} ${(mode & 0o7777).toString(8)} ${uid}:${gid} ${detail}`;
    const fromArchive = allEntries().map((e) => {
      const name = e.name.replace(/\/$/, '');
      const detail = e.type === 'file' ? sha256(e.content) : e.type === 'symlink' ? String(e.linkname) : '';
      return describeEntry(name, e.type, e.type === 'symlink' ? 0o777 : e.mode, e.uid, e.gid, detail);
    });
    const fromDisk: string[] = [];
    const walk = async (relative: string): Promise<void> => {
      for (const name of await readdir(join(dir, relative))) {
        const entryName = relative ? `${relative}/${name}` : name;
        const path = join(dir, entryName);
        const stat = await lstat(path);
        const type = stat.isDirectory() ? 'directory' : stat.isSymbolicLink() ? 'symlink' : 'file';
        const detail =
          type === 'file' ? sha256(await readFile(path)) : type === 'symlink' ? await readlink(path) : '';
        fromDisk.push(
          describeEntry(entryName, type, type === 'symlink' ? 0o777 : stat.mode, stat.uid, stat.gid, detail),
        );
        if (type === 'directory') await walk(entryName);
      }
    };
    await walk('');
    assert.deepEqual(fromDisk.sort(), fromArchive.sort());
  });

  describe('read and loaded by the tools', () => {
    let root: string;
    let containerd: ManagedProcess;
    let socket: string;
    let containerCount = 0;
    const ctr = (args: string[]) =>
      run('ctr', ['--address', socket, '-n', 'k8s.io', ...args], { maxBuffer: 1 << 24, timeout: 120_000 });
    const runInImage = (args: string[], options: string[] = []) =>
      ctr(['run', '--rm', '--read-only', ...options, reference, `image-test-${++containerCount}`, ...args]);

    before(async () => {
      root = scratchDir('image-containerd-');
      socket = join(root, 'containerd.sock');
      await writeFile(
        join(root, 'config.toml'),
        [
          'version = 2',
          `root = "${root}/root"`,
          `state = "${root}/state"`,
          // the Kubernetes plugin is not needed to import and run an image
          'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
          '[grpc]',
          `  address = "${socket}"`,
          '[plugins."io.containerd.internal.v1.opt"]',
          `  path = "${root}/opt"`,
          '',
        ].join('\n'),
      );
      containerd = startProcess('containerd', 'containerd', ['--config', join(root, 'config.toml')], {
        logFile: join(root, 'containerd.log'),
      });
      for (let attempt = 0; ; attempt++) {
        try {
          await run('ctr', ['--address', socket, 'version'], { timeout: 10_000 });
          break;
        } catch (error) {
          if (!containerd.isRunning() || attempt > 100)
            throw new Error(`containerd did not start: ${containerd.tail()}`, { cause: error });
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
      await ctr(['images', 'import', first.path]);
    });
    after(async () => {
      await containerd?.stop();
    });

    it('skopeo reads it and copies every blob, checking each digest', async () => {
      const { stdout } = await run('skopeo', ['inspect', `oci-archive:${first.path}`]);
      const inspected = JSON.parse(stdout) as { Digest: string; Architecture: string };
      assert.equal(inspected.Digest, first.digest);
      assert.equal(inspected.Architecture, platform);
      await run('skopeo', [
        'copy',
        '--quiet',
        `oci-archive:${first.path}`,
        `oci:${scratchDir('image-copy-')}:copy`,
      ]);
    });

    it('ctr images import names it with the release reference and its digest', async () => {
      const { stdout } = await ctr(['images', 'ls']);
      const line = stdout.split('\n').find((l) => l.startsWith(`${reference} `));
      assert.ok(line, stdout);
      assert.ok(line.includes(first.digest), line);
    });

    it('runs node from PATH as 65532 with a read-only root, and client-node loads', async () => {
      const script =
        "const fs=require('fs'); require('@kubernetes/client-node');" +
        "let write='written'; try { fs.writeFileSync('/app/probe', '') } catch (e) { write=e.code }" +
        "console.log(JSON.stringify({uid:process.getuid(),gid:process.getgid(),user:require('os').userInfo().username,write}))";
      const { stdout } = await runInImage(['node', '-e', script]);
      assert.deepEqual(JSON.parse(stdout), { uid: 65532, gid: 65532, user: 'nonroot', write: 'EROFS' });
    });

    it('runs the webhook and the agent (--help exits 0)', async () => {
      const webhook = await runInImage([NODE_PATH, PROGRAMS.webhook, '--help']);
      assert.match(webhook.stdout, /^liqo-webhook /);
      const agent = await runInImage(['node', PROGRAMS.agent, '--help']);
      assert.match(agent.stdout, /^liqo-agent /);
    });

    it('has no shell to run', async () => {
      await assert.rejects(runInImage(['/bin/sh', '-c', 'true']), /\/bin\/sh: no such file or directory/);
    });

    it('serves admission reviews over HTTPS from it', async () => {
      const certs = scratchDir('image-certs-');
      const pki = await makeTestPki(['127.0.0.1']);
      await writeFile(join(certs, 'tls.crt'), pki.serving.certPem, { mode: 0o644 });
      await writeFile(join(certs, 'tls.key'), pki.serving.keyPem, { mode: 0o644 });
      await writeFile(join(certs, 'ca.crt'), pki.ca.certPem);
      await chmod(certs, 0o755); // the webhook runs as 65532
      const log = join(certs, 'webhook.log');
      const id = 'image-test-webhook';
      await ctr([
        'run', '-d', '--read-only', '--log-uri', `file://${log}`,
        '--mount', `type=bind,src=${certs},dst=/certs,options=rbind:ro`,
        reference, id,
        ...[NODE_PATH, '--max-semi-space-size=8', PROGRAMS.webhook],
        '--tls-cert-file=/certs/tls.crt', '--tls-key-file=/certs/tls.key', '--port=8443', '--bind-address=127.0.0.1',
      ]); // prettier-ignore
      try {
        const { stdout: tasks } = await ctr(['task', 'ls']);
        const pid = tasks
          .split('\n')
          .find((l) => l.startsWith(`${id} `))
          ?.split(/\s+/)[1];
        assert.ok(pid, tasks);
        // the container has a network namespace of its own: ask from inside it
        const curl = (args: string[]) =>
          run(
            'nsenter',
            [`--net=/proc/${pid}/ns/net`, 'curl', '-sS', '--cacert', join(certs, 'ca.crt'), ...args],
            {
              timeout: 15_000,
            },
          );
        for (let attempt = 0; ; attempt++) {
          try {
            await curl(['-f', 'https://127.0.0.1:8443/healthz']);
            break;
          } catch (error) {
            if (attempt > 100)
              throw new Error(`no /healthz: ${await readFile(log, 'utf8')}`, { cause: error });
            await new Promise((resolve) => setTimeout(resolve, 200));
          }
        }
        const review = admissionReview('CREATE', {
          apiVersion: 'discovery.liqo.io/v1alpha1',
          kind: 'ForeignCluster',
          metadata: { name: 'peer' },
          spec: { authUrl: 'https://10.1.2.3:443' },
        });
        const { stdout } = await curl([
          '-f', '-H', 'Content-Type: application/json', '--data-binary', JSON.stringify(review.body),
          'https://127.0.0.1:8443/validate',
        ]); // prettier-ignore
        const answer = JSON.parse(stdout) as { response: { uid: string; allowed: boolean } };
        assert.deepEqual(answer.response.uid, review.uid);
        assert.equal(answer.response.allowed, true);
      } finally {
        await ctr(['task', 'kill', '--signal', 'SIGKILL', id]).catch(() => undefined);
        for (let attempt = 0; attempt < 50; attempt++) {
          if (await ctr(['task', 'rm', id]).then(() => true, () => false)) break; // prettier-ignore
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        await ctr(['container', 'rm', id]).catch(() => undefined);
      }
    });
  });
});
