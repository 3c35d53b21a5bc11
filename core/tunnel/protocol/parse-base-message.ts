/**
 * Validating parser for every base → controller message. It never throws: a bad message is a value that
 * says why it was dropped, so one broken base cannot disturb the controller (ARCHITECTURE §2.4).
 */
import { BASE_MESSAGE_SCHEMAS, envelopeSchema } from './base-message-schemas.ts';
import { DEFAULT_MAX_PAYLOAD_BYTES, decodeJsonPayload } from './decode-json-payload.ts';
import type { BaseMessage } from './messages.ts';
import { BASE_MESSAGE_KINDS, type BaseMessageKind } from './topics.ts';
import { describeIssues } from './zod-helpers.ts';

export { normaliseBizState, isActivated, type BizState } from './biz-state.ts';

/** Upstream's clock-skew window: older heartbeats and reports are dropped (§1.3). */
export const DEFAULT_MAX_AGE_MS = 10_000;

export type ParseRejection = 'empty' | 'oversized' | 'unparsable' | 'stale' | 'invalid-shape';

export type ParseResult =
  | { readonly ok: true; readonly message: BaseMessage }
  | { readonly ok: false; readonly reason: ParseRejection; readonly detail: string };

export interface ParseOptions {
  /** Default 1 MiB. */
  readonly maxBytes?: number;
  /** Default 10 000 ms. */
  readonly maxAgeMs?: number;
}

/**
 * Periodic state reports go stale; operation replies do not (a slow install still has to be reported), so
 * bizOperation and batchInstallBizResponse are never aged out, as upstream does.
 */
const AGED_KINDS: ReadonlySet<BaseMessageKind> = new Set([
  'heart',
  'queryBaseline',
  'health',
  'simpleBiz',
  'biz',
]);

const KNOWN_KINDS: ReadonlySet<string> = new Set(BASE_MESSAGE_KINDS);

/**
 * Whole epoch-millisecond comparison. Upstream compares seconds-of-minute fields (§7 item 2), which this
 * deliberately does not copy.
 */
export function isStale(
  publishTimestamp: number,
  nowMs: number,
  maxAgeMs: number = DEFAULT_MAX_AGE_MS,
): boolean {
  return publishTimestamp + maxAgeMs <= nowMs;
}

export function parseBaseMessage(
  kind: BaseMessageKind,
  payload: Uint8Array | string,
  nowMs: number,
  options: ParseOptions = {},
): ParseResult {
  try {
    return parseUnguarded(kind, payload, nowMs, options);
  } catch (error) {
    // Nothing above is expected to throw; this keeps the promise of the signature even if a schema does.
    return { ok: false, reason: 'invalid-shape', detail: `parser error: ${String(error)}` };
  }
}

function parseUnguarded(
  kind: BaseMessageKind,
  payload: Uint8Array | string,
  nowMs: number,
  options: ParseOptions,
): ParseResult {
  if (!KNOWN_KINDS.has(kind)) {
    return { ok: false, reason: 'invalid-shape', detail: `unknown message kind ${JSON.stringify(kind)}` };
  }
  const decoded = decodeJsonPayload(payload, options.maxBytes ?? DEFAULT_MAX_PAYLOAD_BYTES);
  if (!decoded.ok) return decoded;

  const envelope = envelopeSchema.safeParse(decoded.value);
  if (!envelope.success) {
    return { ok: false, reason: 'invalid-shape', detail: `envelope: ${describeIssues(envelope.error)}` };
  }
  const { publishTimestamp, data } = envelope.data;
  const maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  if (AGED_KINDS.has(kind) && isStale(publishTimestamp, nowMs, maxAgeMs)) {
    return {
      ok: false,
      reason: 'stale',
      detail: `published at ${publishTimestamp}, ${nowMs - publishTimestamp} ms before now (limit ${maxAgeMs} ms)`,
    };
  }

  const parsed = BASE_MESSAGE_SCHEMAS[kind].safeParse(data);
  if (!parsed.success) {
    return { ok: false, reason: 'invalid-shape', detail: `${kind} data: ${describeIssues(parsed.error)}` };
  }
  // The schema table is keyed by kind, so the data matches the kind; TypeScript cannot follow that link.
  return { ok: true, message: { kind, publishTimestamp, data: parsed.data } as BaseMessage };
}
