/**
 * Validating parser for controller → base commands (no envelope, no age). The simulated base reads its
 * commands through it, as arklet reads them with fastjson: anything that is not the expected JSON is
 * dropped. It never throws.
 */
import { z } from 'zod';
import { DEFAULT_MAX_PAYLOAD_BYTES, decodeJsonPayload } from './decode-json-payload.ts';
import type { Command, CommandPayload } from './messages.ts';
import { COMMAND_KINDS, type CommandKind } from './topics.ts';
import { describeIssues, optional } from './zod-helpers.ts';

export type CommandParseRejection = 'empty' | 'oversized' | 'unparsable' | 'invalid-shape';

export type CommandParseResult =
  | { readonly ok: true; readonly command: Command }
  | { readonly ok: false; readonly reason: CommandParseRejection; readonly detail: string };

export interface CommandParseOptions {
  /** Default 1 MiB. */
  readonly maxBytes?: number;
}

/** Every field may be missing: arklet validates install and uninstall inputs itself and answers with an error. */
const bizModelSchema = z.object({
  bizName: optional(z.string()),
  bizVersion: optional(z.string()),
  bizUrl: optional(z.string()),
  args: optional(z.array(z.string())),
  envs: optional(z.record(z.string(), z.string())),
  installStrategy: optional(z.string()),
  requestId: optional(z.string()),
  async: optional(z.boolean()),
});

/** arklet parses the health and queryAllBiz payloads into a map; controllers send `{}`. */
const queryParameters = z.record(z.string(), z.unknown());

const COMMAND_SCHEMAS: { readonly [K in CommandKind]: z.ZodType<CommandPayload[K]> } = {
  baseline: z.array(bizModelSchema),
  healthQuery: queryParameters,
  queryAllBiz: queryParameters,
  installBiz: bizModelSchema,
  uninstallBiz: bizModelSchema,
};

const KNOWN_KINDS: ReadonlySet<string> = new Set(COMMAND_KINDS);

export function parseCommand(
  kind: CommandKind,
  payload: Uint8Array | string,
  options: CommandParseOptions = {},
): CommandParseResult {
  try {
    if (!KNOWN_KINDS.has(kind)) {
      return { ok: false, reason: 'invalid-shape', detail: `unknown command ${JSON.stringify(kind)}` };
    }
    const decoded = decodeJsonPayload(payload, options.maxBytes ?? DEFAULT_MAX_PAYLOAD_BYTES);
    if (!decoded.ok) return decoded;
    const parsed = COMMAND_SCHEMAS[kind].safeParse(decoded.value);
    if (!parsed.success) {
      return { ok: false, reason: 'invalid-shape', detail: `${kind}: ${describeIssues(parsed.error)}` };
    }
    // The schema table is keyed by kind, so the payload matches the kind; TypeScript cannot follow that link.
    return { ok: true, command: { kind, payload: parsed.data } as Command };
  } catch (error) {
    return { ok: false, reason: 'invalid-shape', detail: `parser error: ${String(error)}` };
  }
}
