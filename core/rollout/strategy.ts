/**
 * A rollout's strategy after precedence (ARCHITECTURE §3.6): ModuleRollout spec > Deployment annotation >
 * config file > default. Pure. An annotation can tune a plugin the config enables and can switch on the batching
 * plugins; a bad annotation is reported (an Event) and ignored, never fatal.
 */
import type { RolloutKind, StrategyOverrides } from './module-rollout.ts';

export const ANNOTATIONS = {
  batchCount: 'rollout.koupleless.io/batch-count',
  batchSizes: 'rollout.koupleless.io/batch-sizes',
  beta: 'rollout.koupleless.io/beta',
  needConfirm: 'rollout.koupleless.io/need-confirm',
  graySeconds: 'rollout.koupleless.io/gray-seconds',
  maxUnavailable: 'rollout.koupleless.io/max-unavailable',
  undo: 'rollout.koupleless.io/undo',
} as const;

export interface Strategy {
  /** Cumulative targets come from a count … */
  readonly batchCount: number;
  /** … or from explicit sizes (counts or percentages), which win when given. */
  readonly batchSizes: readonly (number | string)[] | undefined;
  readonly beta: boolean;
  /** When a human must confirm: before every batch after the first, after the beta only, or never. */
  readonly needConfirm: 'each-batch' | 'beta' | false;
  readonly graySeconds: number;
  /** The plugin's unavailability budget (count or percentage), or none. */
  readonly maxUnavailable: number | string | undefined;
  readonly undo: 'fast' | 'batched';
  readonly batchFirstInstall: boolean;
  /** Only with biz-deactivate-batching: a batch also waits until its bases run no other version active. */
  readonly bizDeactivateBatching: boolean;
}

/** What the config file says (built from the plugin entries and `rollout`). */
export interface ConfigStrategy {
  readonly batchCount?: number;
  readonly batchSizes?: readonly (number | string)[];
  readonly beta?: boolean;
  readonly needConfirm?: 'each-batch' | 'beta';
  readonly graySeconds?: number;
  readonly maxUnavailable?: number | string;
  readonly undo: 'fast' | 'batched';
  readonly batchFirstInstall: boolean;
  readonly bizDeactivateBatching: boolean;
}

export interface ResolvedStrategy {
  readonly strategy: Strategy;
  /** Annotations that could not be read, for an Event. */
  readonly problems: readonly string[];
}

export function resolveStrategy(
  config: ConfigStrategy,
  annotations: Readonly<Record<string, string>> | undefined,
  overrides: StrategyOverrides | undefined,
): ResolvedStrategy {
  const problems: string[] = [];
  const a = readAnnotations(annotations ?? {}, problems);
  const o = overrides ?? {};
  const needConfirm = o.needConfirm ?? a.needConfirm ?? config.needConfirm ?? 'false';
  return {
    strategy: {
      batchCount: o.batchCount ?? a.batchCount ?? config.batchCount ?? 1,
      batchSizes: o.batchSizes ?? a.batchSizes ?? config.batchSizes,
      beta: o.beta ?? a.beta ?? config.beta ?? false,
      needConfirm: needConfirm === 'false' ? false : needConfirm,
      graySeconds: o.graySeconds ?? a.graySeconds ?? config.graySeconds ?? 0,
      maxUnavailable: o.maxUnavailable ?? a.maxUnavailable ?? config.maxUnavailable,
      undo: a.undo ?? config.undo,
      batchFirstInstall: config.batchFirstInstall,
      bizDeactivateBatching: config.bizDeactivateBatching,
    },
    problems,
  };
}

interface FromAnnotations {
  batchCount?: number;
  batchSizes?: (number | string)[];
  beta?: boolean;
  needConfirm?: 'each-batch' | 'beta' | 'false';
  graySeconds?: number;
  maxUnavailable?: number | string;
  undo?: 'fast' | 'batched';
}

function readAnnotations(annotations: Readonly<Record<string, string>>, problems: string[]): FromAnnotations {
  const read: FromAnnotations = {};
  const bad = (key: string, value: string, expected: string) => {
    problems.push(`annotation ${key}: "${value}" is not ${expected}; ignored`);
  };
  const count = annotations[ANNOTATIONS.batchCount];
  if (count !== undefined) {
    const n = Number(count);
    if (Number.isInteger(n) && n >= 1) read.batchCount = n;
    else bad(ANNOTATIONS.batchCount, count, 'a whole number ≥ 1');
  }
  const sizes = annotations[ANNOTATIONS.batchSizes];
  if (sizes !== undefined) {
    const parts = sizes
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (parts.length > 0 && parts.every((p) => /^\d+%?$/.test(p))) {
      read.batchSizes = parts.map((p) => (p.endsWith('%') ? p : Number(p)));
    } else {
      bad(ANNOTATIONS.batchSizes, sizes, 'a list of counts or percentages such as "1,50%,100%"');
    }
  }
  const beta = annotations[ANNOTATIONS.beta];
  if (beta !== undefined) {
    if (beta === 'true' || beta === 'false') read.beta = beta === 'true';
    else bad(ANNOTATIONS.beta, beta, '"true" or "false"');
  }
  const confirm = annotations[ANNOTATIONS.needConfirm];
  if (confirm !== undefined) {
    if (confirm === 'each-batch' || confirm === 'beta' || confirm === 'false') read.needConfirm = confirm;
    else bad(ANNOTATIONS.needConfirm, confirm, '"each-batch", "beta" or "false"');
  }
  const gray = annotations[ANNOTATIONS.graySeconds];
  if (gray !== undefined) {
    const n = Number(gray);
    if (Number.isFinite(n) && n >= 0) read.graySeconds = n;
    else bad(ANNOTATIONS.graySeconds, gray, 'a number of seconds ≥ 0');
  }
  const unavailable = annotations[ANNOTATIONS.maxUnavailable];
  if (unavailable !== undefined) {
    if (/^\d+$/.test(unavailable)) read.maxUnavailable = Number(unavailable);
    else if (/^\d+(\.\d+)?%$/.test(unavailable)) read.maxUnavailable = unavailable;
    else bad(ANNOTATIONS.maxUnavailable, unavailable, 'a count or a percentage');
  }
  const undo = annotations[ANNOTATIONS.undo];
  if (undo !== undefined) {
    if (undo === 'fast' || undo === 'batched') read.undo = undo;
    else bad(ANNOTATIONS.undo, undo, '"fast" or "batched"');
  }
  return read;
}

/** Why a rollout goes through at once, unbatched; undefined when it is batched. */
export type UnbatchedReason = 'first-install' | 'fast-undo' | 'recreate';

/**
 * The one rule for rollouts that are not batched, shared by the engine and `kubectl koupleless plan`: a first
 * install (unless `rollout.batchFirstInstall`), an undo in `fast` mode, and a `Recreate` Deployment. Pure.
 */
export function unbatchedReason(
  kind: RolloutKind,
  strategy: Pick<Strategy, 'batchFirstInstall' | 'undo'>,
  deploymentStrategyType: string | undefined,
): UnbatchedReason | undefined {
  if (kind === 'first-install' && !strategy.batchFirstInstall) return 'first-install';
  if (kind === 'undo' && strategy.undo === 'fast') return 'fast-undo';
  if (deploymentStrategyType === 'Recreate') return 'recreate';
  return undefined;
}
