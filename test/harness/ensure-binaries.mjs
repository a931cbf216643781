// Called by .ci/run before `npm test`: makes sure kube-apiserver and etcd exist for the e2e
// layer, building kube-apiserver with Go into the cache when needed, and prints one line
// saying what it used. Exits 1 with one line saying how to get them when it cannot.
import { tsImport } from 'tsx/esm/api';

const { ensureBinaries } = await tsImport('./binaries.ts', import.meta.url);
const started = Date.now();
try {
  const binaries = await ensureBinaries({
    build: true,
    log: (line) => console.log(`ensure-binaries: ${line}`),
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`ensure-binaries: using ${binaries.description} (${seconds} s)`);
} catch (err) {
  console.error(`ensure-binaries: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
