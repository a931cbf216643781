// The CLI as a program: main() on the real streams. The plugin's entry (plugin/kubectl-liqo.ts,
// what the launcher runs) imports it for everything but a stored help text. Kept apart from
// main.ts so that tests import main() without running anything.
import { main } from './main.js';
import { processIO } from './io.js';

if (process.env.LIQO_NODE_EXTRA_CA_CERTS) {
  const { applyDeferredExtraCaCerts } = await import('../shared/tls/extra-ca.js');
  applyDeferredExtraCaCerts();
}

// `kubectl liqo list | head -1`: a closed pipe ends us quietly, as it does kubectl
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
});
const code = await main(process.argv.slice(2), processIO());
// Exit now rather than wait for idle keep-alive sockets; stdout to a pipe or file is
// synchronous on Linux, so nothing written is lost.
process.exit(code);
