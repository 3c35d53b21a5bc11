/**
 * The golden protocol files (test/fixtures/protocol-examples, copied from the design folder): exact bytes a
 * real base sends, for parser inputs and for byte comparisons with the simulated base.
 */
import { readFile } from 'node:fs/promises';

export const PROTOCOL_EXAMPLES_DIR = new URL('../fixtures/protocol-examples/', import.meta.url);

/** The golden message, without the trailing newline the file ends with (a base sends none). */
export async function readProtocolExample(name: string): Promise<string> {
  const text = await readFile(new URL(name, PROTOCOL_EXAMPLES_DIR), 'utf8');
  return text.replace(/\n$/, '');
}

/**
 * Replaces what differs between two correct messages (times and measured figures) by placeholders, leaving
 * key order, nulls and every other byte to compare.
 */
export function maskMeasured(message: string): string {
  return message
    .replace(/"publishTimestamp":\d+/g, '"publishTimestamp":"<time>"')
    .replace(/"changeTime":\d+/g, '"changeTime":"<time>"')
    .replace(/"elapsedSpace":-?\d+/g, '"elapsedSpace":"<bytes>"')
    .replace(/cost: \d+ ms, started at: \d\d:\d\d:\d\d,\d\d\d/g, 'cost: <ms> ms, started at: <clock>');
}
