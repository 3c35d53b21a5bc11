/**
 * An example custom kmc plugin: place module pods on the bases of the newest base version first — useful while a
 * base is being upgraded, so modules move to the new base version as they are released, scaled or replaced.
 *
 * It needs the built-in `scheduler` plugin (which calls `scoreNodes` for the pods it binds) and is selected by
 * path, relative to the config file:
 *
 *   plugins:
 *     - [scheduler, { policy: scatter }]
 *     - [./plugins/prefer-newer-bases.ts, { weight: 100 }]
 *
 * `scoreNodes` hands it the bases a pod fits (the cap, affinity and taints already checked) with the policy's
 * scores: 0 to 100 for scatter or stacking, +100 where the pod replaces another version in place. It adds
 * `weight` to every candidate whose base version (the `base.koupleless.io/version` label) is the highest among
 * the candidates, and leaves the others as they are: with the default weight the newest bases come first until
 * they are full, the policy decides among them, and an in-place update still wins (equal weight, plus the policy
 * score). Bases without the label count as the oldest. Nothing is remembered between calls.
 *
 * It imports kmc's types from the package's public entry point (`kmc`), as a plugin in its own package would.
 */
import { z } from 'zod';
import type { KmcPlugin, Orchestrator, ScoredNode } from 'kmc';

const optionsSchema = z
  .object({
    weight: z
      .number()
      .min(0)
      .default(100)
      .describe('Added to the score of the newest bases; 100 outweighs any scatter or stacking difference.'),
    label: z
      .string()
      .min(1)
      .default('base.koupleless.io/version')
      .describe('The node label that holds the base version.'),
  })
  .strict()
  .prefault({});

export type PreferNewerBasesOptions = z.input<typeof optionsSchema>;

export default class PreferNewerBasesPlugin implements KmcPlugin {
  static readonly pluginName = 'prefer-newer-bases';
  static readonly optionsSchema = optionsSchema;
  static readonly description = 'the scheduler plugin places module pods on the newest base version first';
  readonly name = PreferNewerBasesPlugin.pluginName;
  readonly #weight: number;
  readonly #label: string;

  constructor(options: z.output<typeof optionsSchema>) {
    this.#weight = options.weight;
    this.#label = options.label;
  }

  apply(orchestrator: Orchestrator): void {
    orchestrator.hooks.scoreNodes.tap(this.name, (scored) => this.rescore(scored));
  }

  /** The candidates with `weight` added where the base version is the newest among them. Pure. */
  rescore(scored: ScoredNode[]): ScoredNode[] {
    const versionOf = (candidate: ScoredNode) => candidate.node.metadata?.labels?.[this.#label];
    let newest: string | undefined;
    for (const candidate of scored) {
      const version = versionOf(candidate);
      if (version !== undefined && (newest === undefined || compareVersions(version, newest) > 0))
        newest = version;
    }
    if (newest === undefined) return scored;
    return scored.map((candidate) => {
      const version = versionOf(candidate);
      return version !== undefined && compareVersions(version, newest) === 0
        ? { ...candidate, score: candidate.score + this.#weight }
        : candidate;
    });
  }
}

/**
 * Compares dotted versions part by part: numbers numerically, other parts as text, a missing part as 0
 * (`1.10.0` > `1.9.2`, `2.0` = `2.0.0`). Pure.
 */
export function compareVersions(a: string, b: string): number {
  const parts = (version: string) => version.split(/[.\-_+]/);
  const left = parts(a);
  const right = parts(b);
  for (let i = 0; i < Math.max(left.length, right.length); i += 1) {
    const x = left[i] ?? '0';
    const y = right[i] ?? '0';
    const nx = /^\d+$/.test(x) ? Number(x) : undefined;
    const ny = /^\d+$/.test(y) ? Number(y) : undefined;
    const order =
      nx !== undefined && ny !== undefined
        ? nx - ny
        : nx !== undefined
          ? 1
          : ny !== undefined
            ? -1
            : x.localeCompare(y);
    if (order !== 0) return Math.sign(order);
  }
  return 0;
}
