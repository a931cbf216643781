// `kubectl liqo uninstall` removes this cluster's DNS records before the agent goes: it deletes
// every DNSRegistration and waits while the agent (still running) removes the records and its
// finalizer. The agent itself gives up on an unreachable server after 120 s (a Warning Event
// says what was left), so the wait is longer than that; if no agent answers at all, the
// finalizers are taken off here and the zones that may still hold records are named.
import { FINALIZER_DNS_RECORDS } from '../../shared/api/constants.js';
import type { LiqoResources } from '../../shared/kube/liqo-resources.js';
import type { CommandIO } from '../io.js';

export const UNINSTALL_DNS_WAIT_MS = 150_000;
const POLL_MS = 500;

export async function removeDnsRegistrations(
  resources: LiqoResources,
  io: CommandIO,
  opts: { serverDryRun: boolean; timeoutMs?: number },
): Promise<void> {
  let items;
  try {
    items = await resources.dnsRegistrations.list();
  } catch (err) {
    // no DNSRegistration CRD (an older install): nothing to remove
    if ((err as { status?: number }).status === 404) return;
    throw err;
  }
  if (items.length === 0) return;
  for (const reg of items) {
    await resources.dnsRegistrations.delete(reg.metadata.name ?? '', { dryRun: opts.serverDryRun });
    io.stdout.write(
      `dnsregistration.discovery.liqo.io/${reg.metadata.name ?? ''} deleted${opts.serverDryRun ? ' (server dry run)' : ''}\n`,
    );
  }
  if (opts.serverDryRun) return;
  io.stderr.write(
    `Waiting for the discovery agent to remove this cluster's DNS records (${items.length} zone(s))...\n`,
  );
  const deadline = Date.now() + (opts.timeoutMs ?? UNINSTALL_DNS_WAIT_MS);
  for (;;) {
    const left = await resources.dnsRegistrations.list();
    if (left.length === 0) return;
    if (Date.now() >= deadline) {
      for (const reg of left) {
        const finalizers = (reg.metadata.finalizers ?? []).filter((f) => f !== FINALIZER_DNS_RECORDS);
        await resources.dnsRegistrations.patch(reg.metadata.name ?? '', {
          metadata: { finalizers, resourceVersion: reg.metadata.resourceVersion },
        });
        io.stderr.write(
          `warning: no discovery agent removed the records of DNSRegistration ${reg.metadata.name ?? ''}: zone ${reg.spec.zone} may still hold them (remove them by hand, e.g. with nsupdate)\n`,
        );
      }
      return;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
