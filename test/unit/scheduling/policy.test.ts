import { describe, expect, it } from 'vitest';
import { resolvePolicy, SCHEDULING_POLICY_ANNOTATION } from '../../../core/scheduling/policy.ts';

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

  it('reports and ignores a bad value', () => {
    const resolved = resolvePolicy('scatter', a('spread'), undefined);
    expect(resolved.policy).toBe('scatter');
    expect(resolved.problems).toEqual([
      `annotation ${SCHEDULING_POLICY_ANNOTATION} on the Deployment: "spread" is not "scatter" or "stacking"; ignored`,
    ]);
  });
});
