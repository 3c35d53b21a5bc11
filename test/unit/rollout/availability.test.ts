import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { deploymentMaxUnavailable, effectiveBudget } from '../../../core/rollout/availability.ts';

const deployment = (rollingUpdate?: { maxUnavailable?: number | string; maxSurge?: number | string }) =>
  ({
    spec: {
      selector: {},
      template: {},
      strategy: { type: 'RollingUpdate', ...(rollingUpdate ? { rollingUpdate } : {}) },
    },
  }) as V1Deployment;

describe("the Deployment's own maxUnavailable", () => {
  it.each([
    [{}, 10, 2],
    [{ maxUnavailable: '30%', maxSurge: '30%' }, 10, 3],
    [{ maxUnavailable: '30%', maxSurge: '30%' }, 3, 0],
    [{ maxUnavailable: 0, maxSurge: 0 }, 10, 1],
    [{ maxUnavailable: '10%', maxSurge: 0 }, 5, 1],
    [{ maxUnavailable: 2 }, 10, 2],
  ] as const)('%o of %i replicas → %i', (rolling, replicas, expected) => {
    expect(deploymentMaxUnavailable(deployment(rolling), replicas)).toBe(expected);
  });

  it('allows everything with Recreate', () => {
    expect(
      deploymentMaxUnavailable({ spec: { selector: {}, template: {}, strategy: { type: 'Recreate' } } }, 4),
    ).toBe(4);
  });
});

describe('effectiveBudget', () => {
  it('is undefined without a strategy budget', () => {
    expect(effectiveBudget(undefined, deployment(), 10)).toBeUndefined();
  });

  it("takes the smaller of the strategy's and the Deployment's", () => {
    const own = deployment({ maxUnavailable: '30%', maxSurge: '30%' });
    expect(effectiveBudget(1, own, 10)).toBe(1);
    expect(effectiveBudget(5, own, 10)).toBe(3);
    expect(effectiveBudget('100%', own, 10)).toBe(3);
    expect(effectiveBudget(0, own, 10)).toBe(0);
    expect(effectiveBudget('15%', own, 10)).toBe(1);
  });
});
