// The name every object of our kinds must have (Kubernetes' DNS-1123 subdomain, which the API
// server checks for custom resources). Checked client-side so a bad name gets one line naming
// the field instead of the API server's long generic message.

import { DNS_1123_LABEL, MAX_DNS_NAME_LENGTH } from './dns-name.js';

export const MAX_OBJECT_NAME_LENGTH = MAX_DNS_NAME_LENGTH;

export const OBJECT_NAME_ACCEPTED =
  "at most 253 lower-case letters, digits, '-' and '.', starting and ending with a letter or digit, " +
  'such as example.com';

/** What is wrong with `name` as an object name, or undefined when the API server accepts it. */
export function objectNameProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (name.length > MAX_OBJECT_NAME_LENGTH) {
    return `is ${name.length} characters long; at most ${MAX_OBJECT_NAME_LENGTH}`;
  }
  // a DNS-1123 subdomain: dot-separated DNS-1123 labels
  if (!name.split('.').every((label) => DNS_1123_LABEL.test(label))) return 'is not a valid object name';
  return undefined;
}

/**
 * A valid object name close to `text` ("_liqo._tcp.Example.com" -> "liqo.tcp.example.com"), to
 * suggest when `text` itself is not one; undefined when nothing sensible is left.
 */
export function suggestObjectName(text: string): string | undefined {
  const labels = text
    .toLowerCase()
    .split('.')
    .map((label) => label.replace(/[^-a-z0-9]+/g, '-').replace(/^-+|-+$/g, ''))
    .filter((label) => label !== '');
  const name = labels
    .join('.')
    .slice(0, MAX_OBJECT_NAME_LENGTH)
    .replace(/[-.]+$/, '');
  return name && objectNameProblem(name) === undefined ? name : undefined;
}
