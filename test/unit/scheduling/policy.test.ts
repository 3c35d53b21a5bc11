import { describe, expect, it } from 'vitest';
import {
  policySource,
  resolvePolicy,
  SCHEDULING_POLICY_ANNOTATION,
} from '../../../core/scheduling/policy.ts';

const a = (value: string) => ({ [SCHEDULING_POLICY_ANNOTATION]: value });

describe('resolvePolicy', () => {
  it('uses the plugin option when nothing overrides it', () => {
    expect(resolvePolicy('scatter', undefined, undefined)).toEqual({
      policy: 'scatter',
      from: 'config',
      problems: [],
    });
  });

  it('lets the Deployment annotation override the option, and the pod annotation override both', () => {
    expect(resolvePolicy('scatter', a('stacking'), undefined)).toMatchObject({
      policy: 'stacking',
      from: 'deployment',
    });
    expect(resolvePolicy('stacking', a('stacking'), a('scatter'))).toMatchObject({
      policy: 'scatter',
      from: 'pod',
    });
  });

  it("lets the pod's ModuleRollout spec override every annotation", () => {
    const rollout = { name: 'biz1-r2', schedulingPolicy: 'stacking' };
    const resolved = resolvePolicy('scatter', a('scatter'), a('scatter'), rollout);
    expect(resolved).toEqual({ policy: 'stacking', from: 'rollout', rollout: 'biz1-r2', problems: [] });
    expect(policySource(resolved)).toBe(' (from ModuleRollout biz1-r2)');
  });

  it('falls back to the annotations when the ModuleRollout sets no policy, or a bad one (reported)', () => {
    expect(
      resolvePolicy('scatter', a('stacking'), undefined, { name: 'biz1-r2', schedulingPolicy: undefined }),
    ).toMatchObject({ policy: 'stacking', from: 'deployment', problems: [] });
    const resolved = resolvePolicy('scatter', undefined, undefined, {
      name: 'biz1-r2',
      schedulingPolicy: 'spread',
    });
    expect(resolved).toMatchObject({ policy: 'scatter', from: 'config' });
    expect(resolved.problems).toEqual([
      'ModuleRollout biz1-r2 spec.strategy.schedulingPolicy: "spread" is not "scatter" or "stacking"; ignored',
    ]);
  });

  it('says where the policy came from, and nothing for the config', () => {
    expect(policySource(resolvePolicy('scatter', undefined, undefined))).toBe('');
    expect(policySource(resolvePolicy('scatter', a('stacking'), undefined))).toBe(
      ' (from the deployment annotation)',
    );
    expect(policySource(resolvePolicy('scatter', undefined, a('stacking')))).toBe(
      ' (from the pod annotation)',
    );
  });

  it('reports and ignores a bad value', () => {
    const resolved = resolvePolicy('scatter', a('spread'), undefined);
    expect(resolved.policy).toBe('scatter');
    expect(resolved.problems).toEqual([
      `annotation ${SCHEDULING_POLICY_ANNOTATION} on the Deployment: "spread" is not "scatter" or "stacking"; ignored`,
    ]);
  });
});
