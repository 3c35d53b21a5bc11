/**
 * The exact bytes of each message: base → controller messages in the envelope a real base writes, and
 * controller → base commands (no envelope).
 */
import { toFastjson, type JavaDouble } from './fastjson.ts';
import type { BaseMessageData, CommandPayload, Envelope, HealthResponse } from './messages.ts';
import type { BaseMessageKind, CommandKind } from './topics.ts';

/** What may be sent for each kind; health figures may be {@link JavaDouble}s (integral Java doubles). */
export type EncodableBaseMessageData = Omit<BaseMessageData, 'health'> & {
  readonly health: HealthResponse<number | string | JavaDouble>;
};

/**
 * Kinds that arklet serializes with WriteMapNullValue (simpleBiz: `"latestStateRecord":null`,
 * `"message":null`). Everything else omits null fields.
 */
const WRITES_NULLS: ReadonlySet<BaseMessageKind> = new Set(['simpleBiz']);

export function encodeBaseMessage<K extends BaseMessageKind>(
  kind: K,
  data: EncodableBaseMessageData[K],
  publishTimestamp: number,
): string {
  const envelope: Envelope<EncodableBaseMessageData[K]> = { data, publishTimestamp };
  return toFastjson(envelope, { writeNulls: WRITES_NULLS.has(kind) });
}

/**
 * A command payload. Keys come out sorted like the golden files; upstream's Go controller writes struct
 * order instead, and arklet parses either.
 */
export function encodeCommand<K extends CommandKind>(_kind: K, payload: CommandPayload[K]): string {
  return toFastjson(payload);
}
