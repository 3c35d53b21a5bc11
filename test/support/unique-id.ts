/**
 * Ids unique across test files running in parallel against shared brokers: base identities, client ids.
 * They are valid topic levels and DNS-label friendly (lower case, digits, dashes).
 */
import { randomBytes } from 'node:crypto';

let counter = 0;

export function uniqueId(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid.toString(36)}-${counter.toString(36)}-${randomBytes(3).toString('hex')}`;
}
