/**
 * The first checks every MQTT payload goes through, before any shape is looked at: present, not too large,
 * UTF-8, JSON.
 */

/** A payload larger than this is dropped unread; real base messages are a few kilobytes. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

export type PayloadRejection = 'empty' | 'oversized' | 'unparsable';

export type DecodedPayload =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly reason: PayloadRejection; readonly detail: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeJsonPayload(payload: Uint8Array | string, maxBytes: number): DecodedPayload {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.byteLength;
  if (size === 0) return { ok: false, reason: 'empty', detail: 'empty payload' };
  if (size > maxBytes) {
    return {
      ok: false,
      reason: 'oversized',
      detail: `payload of ${size} bytes exceeds the limit of ${maxBytes}`,
    };
  }
  let text: string;
  try {
    text = typeof payload === 'string' ? payload : utf8.decode(payload);
  } catch {
    return { ok: false, reason: 'unparsable', detail: 'payload is not valid UTF-8' };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, reason: 'unparsable', detail: `payload is not JSON: ${reason}` };
  }
}
