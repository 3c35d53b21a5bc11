/**
 * MQTT topics of the arklet protocol (koupleless-protocol.md §1.2): `koupleless_<env>/<baseID>/<suffix>`.
 * Pure string handling, no I/O.
 */

export const TOPIC_PREFIX = 'koupleless_';

/**
 * Every topic of the protocol's topic table, by kind. The arklet names a command after the last topic
 * segment, so the controller → base health poll (T5) and the base → controller health reply (T6) share the
 * word "health"; here the poll is `healthQuery` to keep the kinds unique.
 */
export const TOPIC_SUFFIXES = {
  heart: 'base/heart', // T1 base → controller
  queryBaseline: 'base/queryBaseline', // T2 base → controller
  baseline: 'base/baseline', // T3 controller → base
  batchInstallBizResponse: 'base/batchInstallBizResponse', // T4 base → controller
  healthQuery: 'health', // T5 controller → base
  health: 'base/health', // T6 base → controller
  queryAllBiz: 'queryAllBiz', // T7 controller → base
  simpleBiz: 'base/simpleBiz', // T8 base → controller
  biz: 'base/biz', // T8' base → controller (runtime ≤ 1.3.1)
  installBiz: 'installBiz', // T9 controller → base
  uninstallBiz: 'uninstallBiz', // T10 controller → base
  bizOperation: 'base/bizOperation', // T11 base → controller
} as const;

export type TopicKind = keyof typeof TOPIC_SUFFIXES;

/** Topics a base publishes on. */
export const BASE_MESSAGE_KINDS = [
  'heart',
  'queryBaseline',
  'health',
  'simpleBiz',
  'biz',
  'bizOperation',
  'batchInstallBizResponse',
] as const satisfies readonly TopicKind[];
export type BaseMessageKind = (typeof BASE_MESSAGE_KINDS)[number];

/** Topics a controller publishes on (commands). */
export const COMMAND_KINDS = [
  'baseline',
  'healthQuery',
  'queryAllBiz',
  'installBiz',
  'uninstallBiz',
] as const satisfies readonly TopicKind[];
export type CommandKind = (typeof COMMAND_KINDS)[number];

/**
 * The longest base id accepted. Bases become Nodes named `virtual-node-<baseID>` (ARCHITECTURE §2.1), and a
 * node name is at most 253 characters, so a longer id could never become a node.
 */
export const MAX_BASE_ID_LENGTH = 253 - 'virtual-node-'.length;

export type BaseIdProblem = 'empty' | 'contains-slash' | 'contains-wildcard' | 'too-long';

/** Why a base id cannot be one topic level, or undefined when it can. */
export function baseIdProblem(baseId: string): BaseIdProblem | undefined {
  if (baseId.length === 0) return 'empty';
  if (baseId.includes('/')) return 'contains-slash';
  if (baseId.includes('+') || baseId.includes('#')) return 'contains-wildcard';
  if (baseId.length > MAX_BASE_ID_LENGTH) return 'too-long';
  return undefined;
}

function envProblem(env: string): string | undefined {
  if (env.length === 0) return 'empty env';
  if (/[/+#]/.test(env)) return `env ${JSON.stringify(env)} contains '/', '+' or '#'`;
  return undefined;
}

/** `koupleless_<env>/<baseId>/<suffix>`. Throws a RangeError for an env or base id that is not one topic level. */
export function buildTopic(env: string, baseId: string, kind: TopicKind): string {
  const badEnv = envProblem(env);
  if (badEnv !== undefined) throw new RangeError(`cannot build a topic: ${badEnv}`);
  const badId = baseIdProblem(baseId);
  if (badId !== undefined)
    throw new RangeError(`cannot build a topic for base id ${JSON.stringify(baseId)}: ${badId}`);
  return `${TOPIC_PREFIX}${env}/${baseId}/${TOPIC_SUFFIXES[kind]}`;
}

export type TopicRejection = 'wrong-prefix' | 'invalid-base-id' | 'unknown-kind';

export type ParsedTopic =
  | { readonly ok: true; readonly env: string; readonly baseId: string; readonly kind: TopicKind }
  | { readonly ok: false; readonly reason: TopicRejection; readonly detail: string };

const KIND_BY_SUFFIX: ReadonlyMap<string, TopicKind> = new Map([
  ...Object.entries(TOPIC_SUFFIXES).map(([kind, suffix]) => [suffix, kind as TopicKind] as const),
  // arklet's command subscription `<id>/+` also accepts the 3-level form (§1.2); controllers never send it.
  ['baseline', 'baseline'],
]);

export function parseTopic(topic: string): ParsedTopic {
  const levels = topic.split('/');
  const [first = '', baseId = '', ...rest] = levels;
  if (!first.startsWith(TOPIC_PREFIX)) {
    return {
      ok: false,
      reason: 'wrong-prefix',
      detail: `first level ${JSON.stringify(first)} is not koupleless_<env>`,
    };
  }
  const env = first.slice(TOPIC_PREFIX.length);
  const badEnv = envProblem(env);
  if (badEnv !== undefined) return { ok: false, reason: 'wrong-prefix', detail: badEnv };
  if (levels.length < 3) {
    return { ok: false, reason: 'unknown-kind', detail: `topic ${JSON.stringify(topic)} has no kind level` };
  }
  const badId = baseIdProblem(baseId);
  if (badId !== undefined) {
    return { ok: false, reason: 'invalid-base-id', detail: `base id ${JSON.stringify(baseId)}: ${badId}` };
  }
  const suffix = rest.join('/');
  const kind = KIND_BY_SUFFIX.get(suffix);
  if (kind === undefined) {
    return { ok: false, reason: 'unknown-kind', detail: `unknown topic suffix ${JSON.stringify(suffix)}` };
  }
  return { ok: true, env, baseId, kind };
}

/**
 * What a controller subscribes to for one env: every base → controller kind, for all bases. One instance
 * serves all bases of its env, so it takes them all with wildcards instead of per-base subscriptions, which
 * also means nothing is lost when a reconnect drops subscriptions (upstream bug, §7 item 4).
 */
export function controllerSubscriptions(env: string): string[] {
  const badEnv = envProblem(env);
  if (badEnv !== undefined) throw new RangeError(`cannot build subscriptions: ${badEnv}`);
  return BASE_MESSAGE_KINDS.map((kind) => `${TOPIC_PREFIX}${env}/+/${TOPIC_SUFFIXES[kind]}`);
}

/**
 * Heartbeats of every env. `koupleless_+` is not a valid filter (a wildcard must fill a whole level), so
 * this is the way to notice bases talking under another env (stock bases use `default`).
 */
export const ALL_ENVS_HEARTBEAT_SUBSCRIPTION = '+/+/base/heart';

/** What a base subscribes to (§1.1): every command level under its id, and the 4-level baseline topic. */
export function baseSubscriptions(env: string, baseId: string): string[] {
  const baseline = buildTopic(env, baseId, 'baseline');
  return [`${TOPIC_PREFIX}${env}/${baseId}/+`, baseline];
}
