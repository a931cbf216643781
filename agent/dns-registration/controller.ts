// Keeps this cluster's DNS-SD records in the zone of every DNSRegistration (issue 19 part 1).
// Leader-only, like the other writers. A pass over one registration computes the records and
// sends them in one register() call (shared/dns-registration: one atomic, TSIG-signed UPDATE
// with prerequisites); passes run when the spec changes (metadata.generation), when the TSIG
// Secret or the defaults (cluster name, where /ids is served) change — looked at every
// checkInterval — and every spec.refreshIntervalSeconds, with back-off after a failure.
//
// Removal: `enabled: false` deregisters and keeps the object. While the zone may hold the
// records, the object carries finalizer discovery.liqo.io/dns-records, so deleting it (or
// `kubectl liqo uninstall`) removes the records first. Decision (documented in
// docs/dns-registration.md): when the records cannot be removed for removalDeadline after the
// deletion was asked (server down, key gone), the finalizer is dropped anyway with a Warning
// Event naming what was left — a DNS outage must not make a Kubernetes object undeletable; the
// RFC 9664 lease lets a server that honours it drop the records by itself.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import {
  CONDITION_REGISTERED,
  DISCOVERY_API_VERSION,
  DNS_REGISTRATION_DEFAULTS,
  FINALIZER_DNS_RECORDS,
  KIND_DNS_REGISTRATION,
  PLURAL_DNS_REGISTRATIONS,
  type DnsRegistrationLayout,
} from '../../shared/api/constants.js';
import type { DnsRegistration } from '../../shared/api/types.js';
import {
  deregister,
  register,
  type DnsLayout,
  type RegistrarOptions,
  type RegistrationResult,
  type RegistrationSpec,
  type TsigAlgorithm,
} from '../../shared/dns-registration/index.js';
import { backoffDelayMs } from '../../shared/kube/backoff.js';
import { watchCollection, type WatchHandle } from '../../shared/kube/watch.js';
import { KeyedPasses } from '../keyed-passes.js';
import { effectiveLeaseSeconds, parseDnsServer } from '../../shared/rules/dnsregistration.js';
import type { EventDetails } from '../events.js';
import { isNotFound, kubeErrorMessage, type AgentKube } from '../kube-access.js';
import { errorMessage, type Logger } from '../logger.js';
import {
  failureReason,
  statusAfterRegister,
  statusDisabled,
  statusNotAttempted,
  type ObservedCondition,
  type RegistrationTarget,
  type StatusPatch,
} from './status.js';

export const DEFAULT_CHECK_INTERVAL_MS = 10_000;
export const DEFAULT_REMOVAL_DEADLINE_MS = 120_000;
const DEFAULT_RETRY_MIN_MS = 2_000;

export interface DnsRegistrationControllerOptions {
  clusterId: string;
  /** The cluster name /ids serves now: the default instance and the TXT name=. */
  clusterName: () => string;
  /** Where peers reach this agent's /ids (the default spec.authUrl); undefined when unknown. */
  defaultAuthUrl: () => string | undefined;
  log: Logger;
  /** Asked before every write; throws when this replica may not write (the leader elector). */
  mayWrite?: (what: string) => void;
  /** Records a Kubernetes Event about a registration. */
  events?: (registration: DnsRegistration, event: EventDetails) => Promise<void>;
  /** How often the TSIG Secret and the defaults are looked at for changes; default 10 s. */
  checkIntervalMs?: number;
  /** How long a deleted registration's records are tried to be removed; default 120 s. */
  removalDeadlineMs?: number;
  /** First retry after a failure; doubles per failure up to the refresh interval. Default 2 s. */
  retryMinMs?: number;
  /** Bound on one register/deregister call; the library's default (10 s) when absent. */
  updateDeadlineMs?: number;
}

/** What one pass used: when any of it changes, the records are written again at once. */
interface Inputs {
  secretVersion: string;
  instance: string;
  authUrl: string;
}

/** What the controller remembers of a DnsRegistration it follows (one object per name, updated). */
interface Tracked {
  generation: number | undefined;
  deleting: boolean;
  failures: number;
  /** Set after a pass that registered; compared by the periodic check. */
  inputs?: Inputs;
}

const LAYOUT_NAMES: Record<DnsRegistrationLayout, DnsLayout> = { bare: 'guide', 'dns-sd': 'rfc6763' };

/** A cluster name as one lower-case DNS label (the default instance). */
export function instanceFromClusterName(name: string): string {
  const label = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return label || 'liqo';
}

class NotAttempted extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export class DnsRegistrationController {
  private readonly passes = new KeyedPasses<Tracked>((name, t) => this.passLogged(name, t));
  private watch: WatchHandle | undefined;
  private checkTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly kube: AgentKube,
    private readonly opts: DnsRegistrationControllerOptions,
  ) {}

  start(): void {
    this.watch = watchCollection<DnsRegistration>(
      this.kube.kubeConfig,
      `/apis/${DISCOVERY_API_VERSION}/${PLURAL_DNS_REGISTRATIONS}`,
      (type, reg) => {
        const name = reg.metadata?.name;
        if (!name) return;
        if (type === 'DELETED') return void this.passes.delete(name);
        const generation = reg.metadata['generation'] as number | undefined;
        const deleting = Boolean(reg.metadata.deletionTimestamp);
        const known = this.passes.get(name);
        // our own status and finalizer writes come back as MODIFIED with the same generation
        if (known && known.generation === generation && known.deleting === deleting) return;
        if (known) {
          known.generation = generation;
          known.deleting = deleting;
          known.failures = 0;
          this.passes.schedule(name, 0);
        } else this.passes.set(name, { generation, deleting, failures: 0 });
      },
      { log: this.opts.log },
    );
    this.checkTimer = setInterval(
      () => void this.checkInputs(),
      this.opts.checkIntervalMs ?? DEFAULT_CHECK_INTERVAL_MS,
    );
  }

  /** The defaults may have changed (ClusterConfig edit): look at every registration now. */
  nudge(): void {
    void this.checkInputs();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watch?.stop();
    if (this.checkTimer) clearInterval(this.checkTimer);
    await this.passes.stop();
  }

  /** A pass whose failure is logged and retried with back-off. */
  private async passLogged(name: string, t: Tracked): Promise<number | undefined> {
    try {
      return await this.pass(name, t);
    } catch (err) {
      this.opts.log.warn({ registration: name, err: errorMessage(err) }, 'DNS registration pass failed');
      return this.retryDelay(t, DNS_REGISTRATION_DEFAULTS.refreshIntervalSeconds * 1000);
    }
  }

  private retryDelay(t: Tracked, refreshMs: number): number {
    t.failures++;
    return backoffDelayMs(t.failures, this.opts.retryMinMs ?? DEFAULT_RETRY_MIN_MS, refreshMs);
  }

  private write(what: string): void {
    this.opts.mayWrite?.(what);
  }

  /** One pass; resolves the delay before the next one (undefined: none until something changes). */
  private async pass(name: string, t: Tracked): Promise<number | undefined> {
    const passStarted = Date.now();
    this.opts.log.debug({ registration: name }, 'DNS registration pass');
    const reg = await this.kube.liqo.dnsRegistrations.get(name);
    if (!reg) return undefined;
    const before = registeredOf(reg);
    if (reg.metadata.deletionTimestamp) return this.finalize(reg, t, before);
    const spec = reg.spec;
    const refreshMs =
      (spec.refreshIntervalSeconds ?? DNS_REGISTRATION_DEFAULTS.refreshIntervalSeconds) * 1000;
    if (spec.enabled === false) return this.disable(reg, t, refreshMs, before);
    await this.ensureFinalizer(reg);

    let target: RegistrationTarget;
    let options: RegistrarOptions;
    let inputs: Inputs;
    try {
      ({ target, options, inputs } = await this.prepare(reg));
    } catch (err) {
      if (!(err instanceof NotAttempted)) throw err;
      await this.setStatus(
        reg,
        statusNotAttempted(reg.status, generationOf(reg), err.reason, err.message, new Date()),
      );
      await this.eventOnTransition(reg, before, err.reason, err.message);
      return this.retryDelay(t, refreshMs);
    }

    const moved = this.previousTarget(reg);
    if (
      moved &&
      (moved.zone !== target.zone || moved.instance !== target.instance || moved.server !== target.server)
    ) {
      // another zone, instance or server: the old records go first (best effort, logged)
      const old = await this.deregisterTarget(reg, moved, options);
      if (!old.ok) {
        this.opts.log.warn(
          { registration: name, zone: moved.zone, err: old.message },
          'old records not removed',
        );
      }
    }

    const registerStarted = Date.now();
    const result = await register(this.registrationSpec(reg, target), options);
    const registerMs = Date.now() - registerStarted;
    await this.setStatus(reg, statusAfterRegister(result, target, reg.status, generationOf(reg), new Date()));
    this.opts.log[result.ok ? 'debug' : 'warn'](
      {
        registration: name,
        zone: target.zone,
        ...(result.ok ? { action: result.action } : { reason: result.reason, err: result.message }),
        updates: result.updates,
        registerMs,
        passMs: Date.now() - passStarted,
      },
      'DNS registration',
    );
    if (result.ok) {
      t.failures = 0;
      t.inputs = inputs;
      if (result.action !== 'refreshed') {
        await this.event(reg, {
          type: 'Normal',
          reason: 'Registered',
          message: `zone ${target.zone} now holds ${result.records.length} records of instance ${target.instance} (${target.authUrl})`,
        });
      }
      return refreshMs;
    }
    await this.eventOnTransition(reg, before, failureReason(result), result.message);
    return this.retryDelay(t, refreshMs);
  }

  /** Secret, server address and defaults → what register() needs; NotAttempted when one is missing. */
  private async prepare(
    reg: DnsRegistration,
  ): Promise<{ target: RegistrationTarget; options: RegistrarOptions; inputs: Inputs }> {
    const spec = reg.spec;
    const { secret, version } = await this.readKey(reg);
    const parsed = parseDnsServer(spec.server);
    if (!parsed.ok)
      throw new NotAttempted('Invalid', `spec.server ${JSON.stringify(spec.server)} ${parsed.problem}`);
    let address = parsed.server.host;
    if (isIP(address) === 0) {
      try {
        address = (await lookup(address)).address;
      } catch (err) {
        throw new NotAttempted(
          'ServerNotResolved',
          `cannot resolve the server's name ${parsed.server.host}: ${errorMessage(err)}; give its IP address in spec.server`,
        );
      }
    }
    const instance = spec.instance ?? instanceFromClusterName(this.opts.clusterName());
    const authUrl = spec.authUrl ?? this.opts.defaultAuthUrl();
    if (!authUrl) {
      throw new NotAttempted(
        'NoAuthUrl',
        'this agent does not know an address peers reach its /ids at (no --advertise-address): set spec.authUrl',
      );
    }
    const server = `${isIP(address) === 6 ? `[${address}]` : address}:${parsed.server.port}`;
    const options: RegistrarOptions = {
      server,
      key: {
        name: spec.tsig.keyName,
        algorithm: (spec.tsig.algorithm ?? DNS_REGISTRATION_DEFAULTS.tsigAlgorithm) as TsigAlgorithm,
        secret,
      },
      lease: { seconds: effectiveLeaseSeconds(spec) },
      ...(this.opts.updateDeadlineMs ? { deadlineMs: this.opts.updateDeadlineMs } : {}),
    };
    return {
      target: { zone: withoutDot(spec.zone).toLowerCase(), server: spec.server, instance, authUrl },
      options,
      inputs: { secretVersion: version, instance, authUrl },
    };
  }

  private async readKey(reg: DnsRegistration): Promise<{ secret: string; version: string }> {
    const ref = reg.spec.tsig.secretRef;
    const namespace = ref.namespace ?? this.kube.namespace;
    const key = ref.key ?? DNS_REGISTRATION_DEFAULTS.secretKey;
    const where = `Secret ${namespace}/${ref.name}`;
    let found;
    try {
      found = await this.kube.core.readNamespacedSecret(
        { name: ref.name, namespace },
        this.kube.requestOptions(),
      );
    } catch (err) {
      if (isNotFound(err)) {
        throw new NotAttempted(
          'SecretNotFound',
          `${where} (the TSIG key) does not exist: create it with key "${key}"`,
        );
      }
      throw new NotAttempted('SecretNotReadable', `cannot read ${where}: ${kubeErrorMessage(err)}`);
    }
    const data = found.data?.[key];
    const secret = data ? Buffer.from(data, 'base64').toString('utf8').trim() : '';
    if (!secret) {
      throw new NotAttempted(
        'SecretKeyMissing',
        `${where} has no key "${key}" holding the TSIG secret (base64)`,
      );
    }
    return { secret, version: found.metadata?.resourceVersion ?? '' };
  }

  private registrationSpec(reg: DnsRegistration, target: RegistrationTarget): RegistrationSpec {
    const layouts = (reg.spec.layouts ?? DNS_REGISTRATION_DEFAULTS.layouts).map((l) => LAYOUT_NAMES[l]);
    return {
      zone: target.zone,
      instance: target.instance,
      authUrl: target.authUrl,
      clusterId: this.opts.clusterId,
      clusterName: this.opts.clusterName(),
      ttl: reg.spec.ttl ?? DNS_REGISTRATION_DEFAULTS.ttl,
      layouts,
      browseDomains: reg.spec.browseDomains ?? DNS_REGISTRATION_DEFAULTS.browseDomains,
    };
  }

  /** Where the status says the records were last written, if anywhere. */
  private previousTarget(reg: DnsRegistration): RegistrationTarget | undefined {
    const s = reg.status;
    if (!s?.zone || !s.instance || !s.server || !(s.records?.length ?? 0)) return undefined;
    return { zone: s.zone, instance: s.instance, server: s.server, authUrl: s.authUrl ?? '' };
  }

  private async deregisterTarget(
    reg: DnsRegistration,
    target: RegistrationTarget,
    options: RegistrarOptions,
  ): Promise<RegistrationResult> {
    let server = options.server;
    if (target.server !== reg.spec.server) {
      const parsed = parseDnsServer(target.server);
      if (parsed.ok) {
        const host = isIP(parsed.server.host)
          ? parsed.server.host
          : (await lookup(parsed.server.host)).address;
        server = `${isIP(host) === 6 ? `[${host}]` : host}:${parsed.server.port}`;
      }
    }
    return deregister(
      { zone: target.zone, instance: target.instance, clusterId: this.opts.clusterId },
      { ...options, server },
    );
  }

  /** enabled: false — remove the records, say so, drop the finalizer. */
  private async disable(
    reg: DnsRegistration,
    t: Tracked,
    refreshMs: number,
    before: ObservedCondition | undefined,
  ): Promise<number | undefined> {
    const removed = await this.removeRecords(reg);
    if (!removed.ok) {
      await this.setStatus(
        reg,
        statusNotAttempted(reg.status, generationOf(reg), removed.reason, removed.message, new Date()),
      );
      await this.eventOnTransition(reg, before, removed.reason, removed.message);
      return this.retryDelay(t, refreshMs);
    }
    t.failures = 0;
    t.inputs = undefined;
    const wasRegistered = (reg.status?.records?.length ?? 0) > 0;
    await this.setStatus(reg, statusDisabled(reg.status, generationOf(reg), reg.spec.zone, new Date()));
    if (wasRegistered) {
      await this.event(reg, {
        type: 'Normal',
        reason: 'Deregistered',
        message: `spec.enabled is false: removed this cluster's records from zone ${reg.spec.zone}`,
      });
    }
    await this.removeFinalizer(reg);
    return undefined;
  }

  /** Being deleted: remove the records, then the finalizer (or give up after the deadline). */
  private async finalize(
    reg: DnsRegistration,
    t: Tracked,
    before: ObservedCondition | undefined,
  ): Promise<number | undefined> {
    if (!(reg.metadata.finalizers ?? []).includes(FINALIZER_DNS_RECORDS)) return undefined;
    const removed = await this.removeRecords(reg);
    if (removed.ok) {
      if ((reg.status?.records?.length ?? 0) > 0) {
        await this.event(reg, {
          type: 'Normal',
          reason: 'Deregistered',
          message: `deleted: removed this cluster's records from zone ${reg.spec.zone}`,
        });
      }
      await this.removeFinalizer(reg);
      return undefined;
    }
    const deadline = this.opts.removalDeadlineMs ?? DEFAULT_REMOVAL_DEADLINE_MS;
    const askedAt = Date.parse(reg.metadata.deletionTimestamp ?? '');
    if (Number.isFinite(askedAt) && Date.now() - askedAt >= deadline) {
      await this.event(reg, {
        type: 'Warning',
        reason: 'RecordsLeft',
        message:
          `deleted, but the records in zone ${reg.spec.zone} could not be removed within ${Math.round(deadline / 1000)} s ` +
          `(${removed.message}); a server honouring the RFC 9664 lease drops them after ${effectiveLeaseSeconds(reg.spec)} s, ` +
          `otherwise remove them by hand`,
      });
      await this.removeFinalizer(reg);
      return undefined;
    }
    await this.setStatus(
      reg,
      statusNotAttempted(reg.status, generationOf(reg), removed.reason, removed.message, new Date()),
    );
    await this.eventOnTransition(reg, before, removed.reason, removed.message);
    return Math.min(this.retryDelay(t, deadline), Math.max(1000, askedAt + deadline - Date.now()));
  }

  /** Deregisters wherever the records may be; ok when the zone holds none of ours. */
  private async removeRecords(
    reg: DnsRegistration,
  ): Promise<{ ok: true } | { ok: false; reason: string; message: string }> {
    let prepared;
    try {
      prepared = await this.prepare(reg);
    } catch (err) {
      if (!(err instanceof NotAttempted)) throw err;
      return { ok: false, reason: err.reason, message: err.message };
    }
    const targets = [prepared.target];
    const previous = this.previousTarget(reg);
    if (previous && !sameTarget(previous, prepared.target)) targets.unshift(previous);
    for (const target of targets) {
      const result = await this.deregisterTarget(reg, target, prepared.options);
      // a name another cluster owns holds nothing of ours: nothing to remove there
      if (!result.ok && result.reason !== 'owned-by-other') {
        return { ok: false, reason: failureReason(result), message: result.message };
      }
    }
    return { ok: true };
  }

  private async ensureFinalizer(reg: DnsRegistration): Promise<void> {
    const finalizers = reg.metadata.finalizers ?? [];
    if (finalizers.includes(FINALIZER_DNS_RECORDS)) return;
    const name = reg.metadata.name ?? '';
    this.write(`add finalizer to DNSRegistration ${name}`);
    const patched = await this.kube.liqo.dnsRegistrations.patch(name, {
      metadata: {
        finalizers: [...finalizers, FINALIZER_DNS_RECORDS],
        resourceVersion: reg.metadata.resourceVersion,
      },
    });
    reg.metadata = patched.metadata;
  }

  private async removeFinalizer(reg: DnsRegistration): Promise<void> {
    const finalizers = reg.metadata.finalizers ?? [];
    if (!finalizers.includes(FINALIZER_DNS_RECORDS)) return;
    const name = reg.metadata.name ?? '';
    this.write(`remove finalizer from DNSRegistration ${name}`);
    try {
      await this.kube.liqo.dnsRegistrations.patch(name, {
        metadata: {
          finalizers: finalizers.filter((f) => f !== FINALIZER_DNS_RECORDS),
          resourceVersion: reg.metadata.resourceVersion,
        },
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private async setStatus(reg: DnsRegistration, status: StatusPatch): Promise<void> {
    const name = reg.metadata.name ?? '';
    this.write(`patch status of DNSRegistration ${name}`);
    try {
      const patched = await this.kube.liqo.dnsRegistrations.patchStatus(name, { status });
      reg.metadata = patched.metadata;
      reg.status = patched.status ?? {};
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** A Warning Event, only when the Registered condition did not already say this reason. */
  private async eventOnTransition(
    reg: DnsRegistration,
    before: ObservedCondition | undefined,
    reason: string,
    message: string,
  ): Promise<void> {
    if (before?.status === 'False' && before.reason === reason) return;
    await this.event(reg, { type: 'Warning', reason, message });
  }

  private async event(reg: DnsRegistration, event: EventDetails): Promise<void> {
    if (!this.opts.events) return;
    const object = {
      ...reg,
      apiVersion: DISCOVERY_API_VERSION,
      kind: KIND_DNS_REGISTRATION,
    } as DnsRegistration;
    await this.opts
      .events(object, event)
      .catch((err: unknown) =>
        this.opts.log.warn(
          { registration: reg.metadata.name, err: errorMessage(err) },
          'cannot record Event',
        ),
      );
  }

  /** The periodic look: a changed key, cluster name or /ids address writes the records again now. */
  private async checkInputs(): Promise<void> {
    for (const [name, t] of this.passes.states()) {
      if (this.stopped || !t.inputs || this.passes.isRunning(name) || t.deleting) continue;
      try {
        const reg = await this.kube.liqo.dnsRegistrations.get(name);
        if (!reg || reg.spec.enabled === false) continue;
        const { inputs } = await this.prepare(reg);
        if (
          inputs.secretVersion !== t.inputs.secretVersion ||
          inputs.instance !== t.inputs.instance ||
          inputs.authUrl !== t.inputs.authUrl
        ) {
          this.opts.log.info({ registration: name }, 'key, instance or auth URL changed: registering again');
          this.passes.schedule(name, 0);
        }
      } catch (err) {
        // the pass itself will say what is wrong
        if (err instanceof NotAttempted) this.passes.schedule(name, 0);
        else this.opts.log.debug({ registration: name, err: errorMessage(err) }, 'check failed');
      }
    }
  }
}

function registeredOf(reg: DnsRegistration): ObservedCondition | undefined {
  return reg.status?.conditions?.find((c) => c.type === CONDITION_REGISTERED);
}

function generationOf(reg: DnsRegistration): number | undefined {
  return reg.metadata['generation'] as number | undefined;
}

function withoutDot(name: string): string {
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

function sameTarget(a: RegistrationTarget, b: RegistrationTarget): boolean {
  return a.zone === b.zone && a.instance === b.instance && a.server === b.server;
}
