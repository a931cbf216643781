// liqo-agent: entry point (bundled to dist/liqo-agent.cjs). Parses flags, starts the agent,
// and shuts it down cleanly on SIGTERM/SIGINT (goodbye packets, Lease released).
import { loadKubeConfig } from '../shared/kube/config.js';
import { startAgent } from './agent.js';
import { CliError, parseCli } from './cli-options.js';
import { createLogger, errorMessage } from './logger.js';
import { sharedMdnsDriver } from './mdns-driver.js';

async function main(): Promise<void> {
  let cli;
  try {
    cli = parseCli(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`liqo-agent: ${errorMessage(err)}\n`);
    process.exit(err instanceof CliError ? 2 : 1);
  }
  const log = createLogger(cli.logLevel);
  const kubeConfig = await loadKubeConfig({
    ...(cli.kubeconfig ? { kubeconfig: cli.kubeconfig } : {}),
    ...(cli.context ? { context: cli.context } : {}),
  });
  const agent = await startAgent({
    ...cli,
    kubeConfig,
    mdns: cli.mdns ? sharedMdnsDriver(log) : undefined,
    log,
  });
  let signals = 0;
  const shutdown = (signal: string) => {
    if (++signals > 1) {
      log.warn({ signal }, 'second signal: exiting at once');
      process.exit(1);
    }
    log.info({ signal }, 'signal received');
    const force = setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, 10_000);
    force.unref();
    agent.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err: errorMessage(err) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`liqo-agent: ${errorMessage(err)}\n`);
  process.exit(1);
});
