import { describe, expect, it } from 'vitest';
import PreferNewerBasesPlugin, { compareVersions } from '../../../examples/plugins/prefer-newer-bases.ts';
import type { ScoredNode } from '../../../core/hooks.ts';

const scored = (name: string, version: string | undefined, score: number): ScoredNode => ({
  node: { metadata: { name, labels: version ? { 'base.koupleless.io/version': version } : {} } },
  modules: 0,
  cap: 3,
  score,
});

describe('compareVersions', () => {
  it('orders dotted versions numerically, a missing part as 0', () => {
    expect(compareVersions('1.10.0', '1.9.2')).toBe(1);
    expect(compareVersions('2.0', '2.0.0')).toBe(0);
    expect(compareVersions('1.0.0', '1.0.1')).toBe(-1);
    expect(compareVersions('1.0.0-rc1', '1.0.0-rc2')).toBe(-1);
  });
});

describe('the prefer-newer-bases example plugin', () => {
  const plugin = new PreferNewerBasesPlugin(PreferNewerBasesPlugin.optionsSchema.parse({}));

  it('adds its weight to the bases of the newest version only', () => {
    const result = plugin.rescore([
      scored('a', '1.0.0', 100),
      scored('b', '2.0.0', 33),
      scored('c', undefined, 80),
    ]);
    expect(result.map((s) => [s.node.metadata?.name, s.score])).toEqual([
      ['a', 100],
      ['b', 133],
      ['c', 80],
    ]);
  });

  it('changes nothing when no base carries a version', () => {
    const input = [scored('a', undefined, 10)];
    expect(plugin.rescore(input)).toBe(input);
  });

  it('takes its weight and label from the options', () => {
    const custom = new PreferNewerBasesPlugin(
      PreferNewerBasesPlugin.optionsSchema.parse({ weight: 5, label: 'tier' }),
    );
    const node = (name: string, tier: string, score: number): ScoredNode => ({
      node: { metadata: { name, labels: { tier } } },
      modules: 0,
      cap: 3,
      score,
    });
    expect(custom.rescore([node('a', '1', 0), node('b', '2', 0)]).map((s) => s.score)).toEqual([0, 5]);
  });
});
