/**
 * Batch planning, pure (ARCHITECTURE §3.2, the v1 operation strategy): a plan is a list of cumulative targets —
 * how many pods of the target revision must run the new version once each batch is done — e.g. [1, 6, 10].
 */

/**
 * `replicas` split into `count` batches, larger first (10 / 3 → 4, 3, 3). With `beta`, the first batch is one
 * pod and the rest split into `count − 1` batches (10 / 3 → 1, 5, 4). Never an empty batch: with more batches
 * than pods, every batch is one pod.
 */
export function batchSizes(replicas: number, count: number, beta: boolean): number[] {
  if (replicas <= 0) return [];
  if (beta) {
    if (replicas === 1) return [1];
    return [1, ...batchSizes(replicas - 1, Math.max(1, count - 1), false)];
  }
  const batches = Math.max(1, Math.min(count, replicas));
  const base = Math.floor(replicas / batches);
  const larger = replicas % batches;
  return Array.from({ length: batches }, (_, i) => base + (i < larger ? 1 : 0));
}

export function cumulative(sizes: readonly number[]): number[] {
  let total = 0;
  return sizes.map((size) => (total += size));
}

/** The default plan and the `batches` plugin's batchCount form, as cumulative targets. */
export function planByCount(replicas: number, count: number, beta: boolean): number[] {
  return cumulative(batchSizes(replicas, count, beta));
}

/**
 * Explicit cumulative targets, as counts or percentages of `replicas` (`[1, '50%', '100%']`). Percentages round
 * up, as Kubernetes rounds a surge, so every batch makes progress; targets are made strictly increasing and
 * capped at `replicas`, and the plan always ends at `replicas`.
 */
export function planBySizes(replicas: number, sizes: readonly (number | string)[]): number[] {
  if (replicas <= 0) return [];
  const targets: number[] = [];
  for (const size of sizes) {
    const target = Math.min(replicas, resolve(size, replicas));
    if (target <= (targets.at(-1) ?? 0)) continue;
    targets.push(target);
  }
  if (targets.at(-1) !== replicas) targets.push(replicas);
  return targets;
}

function resolve(size: number | string, replicas: number): number {
  if (typeof size === 'number') return Math.max(0, Math.floor(size));
  const match = /^(\d+(?:\.\d+)?)%$/.exec(size.trim());
  if (!match?.[1]) throw new Error(`batch size "${size}" is neither a count nor a percentage`);
  return Math.ceil((Number(match[1]) / 100) * replicas);
}

/**
 * A plan after a scale mid-rollout: batches already started keep their targets (capped at the new replica
 * count, so no batch is ever asked for more than exists); the pods left over are split over the batches left,
 * larger first, so the number of batches (and of confirmations) stays the same while batches are left. Pods
 * added once every batch has started form one more batch: what a human confirmed never grows behind their back.
 * Started targets the scale-down made equal merge, so a smaller plan may have fewer batches.
 */
export function rescalePlan(previous: readonly number[], started: number, replicas: number): number[] {
  const kept: number[] = [];
  for (const target of previous.slice(0, started)) {
    const capped = Math.min(target, replicas);
    if (capped > (kept.at(-1) ?? 0)) kept.push(capped);
  }
  const floor = kept.at(-1) ?? 0;
  if (replicas <= floor) return kept;
  const left = Math.max(1, previous.length - started);
  return [...kept, ...cumulative(batchSizes(replicas - floor, left, false)).map((target) => target + floor)];
}

/**
 * Kubernetes' rounding for an unavailability budget: a percentage rounds down (a count is taken as is).
 * `maxUnavailable: 30%` of 10 is 3, of 3 is 0.
 */
export function unavailableBudget(value: number | string | undefined, replicas: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number') return Math.max(0, Math.floor(value));
  const match = /^(\d+(?:\.\d+)?)%$/.exec(value.trim());
  if (!match?.[1]) {
    const count = Number(value);
    if (Number.isFinite(count)) return Math.max(0, Math.floor(count));
    throw new Error(`"${value}" is neither a count nor a percentage`);
  }
  return Math.floor((Number(match[1]) / 100) * replicas);
}
