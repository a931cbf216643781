// Called by .ci/run before `npm test`: makes sure the Kubernetes binaries exist — kube-apiserver
// and etcd for the e2e layer, and kube-controller-manager, kube-scheduler, kubelet, kube-proxy
// and the pause program for the real node of the cluster layer — building whatever is missing
// with ONE `go build` into the cache, and checks the node's container runtime (containerd, runc,
// CNI plugins). Prints one line saying what it used; exits 1 with one line saying how to get
// them when it cannot.
import { tsImport } from 'tsx/esm/api';

const { ensureNodeBinaries } = await tsImport('./binaries.ts', import.meta.url);
const started = Date.now();
try {
  const binaries = await ensureNodeBinaries({
    build: true,
    log: (line) => console.log(`ensure-binaries: ${line}`),
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`ensure-binaries: using ${binaries.description} (${seconds} s)`);
  // the SIG-Multicluster CRDs of test/e2e/sig-multicluster.test.ts, pinned by sha256
  const { ensureSigMulticlusterCrds } = await import('./sig-multicluster-crds.mjs');
  const crds = ensureSigMulticlusterCrds();
  console.log(`ensure-binaries: SIG-Multicluster CRDs in ${crds.dir}`);
} catch (err) {
  console.error(`ensure-binaries: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
