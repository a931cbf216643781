// register/deregister: keeps one cluster's DNS-SD records in a zone with signed, atomic RFC 2136
// UPDATEs (see index.ts for the rules and an example). Interface first; bodies follow.
import type { DeregistrationSpec, RegistrarOptions, RegistrationResult, RegistrationSpec } from './types.js';

export async function register(
  spec: RegistrationSpec,
  options: RegistrarOptions,
): Promise<RegistrationResult> {
  void options;
  return notYet(spec.zone);
}

export async function deregister(
  spec: DeregistrationSpec,
  options: RegistrarOptions,
): Promise<RegistrationResult> {
  void options;
  return notYet(spec.zone);
}

/** Checks server, key and bounds before any I/O: the field and one line, or undefined when usable. */
export function checkRegistrarOptions(
  options: RegistrarOptions,
): { field: string; message: string } | undefined {
  void options;
  return undefined;
}

function notYet(zone: string): RegistrationResult {
  return { ok: false, reason: 'invalid', message: 'not implemented yet', zone, updates: 0, exchanges: 0 };
}
