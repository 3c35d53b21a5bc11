import { describe, expect, it } from 'vitest';
import { deadlineRisk } from '../../../core/rollout/deadline-risk.ts';

const none = { needConfirm: false, graySeconds: 0, beta: false } as const;

describe('deadlineRisk', () => {
  it('sees none for one batch, whatever the holds', () => {
    expect(deadlineRisk({ ...none, needConfirm: 'each-batch', graySeconds: 9999 }, 1, 600, 'biz1-r2')).toBe(
      undefined,
    );
  });

  it('sees none for batches without confirmations and gray time under the deadline', () => {
    expect(deadlineRisk({ ...none, graySeconds: 299 }, 3, 600, 'biz1-r2')).toBeUndefined();
  });

  it('warns of confirmations before each batch, counting them, and names the rollout to wait on', () => {
    const message = deadlineRisk({ ...none, needConfirm: 'each-batch' }, 3, undefined, 'biz1-r2');
    expect(message).toContain('2 confirmations');
    expect(message).toContain('(600 s)');
    expect(message).toContain('kubectl wait modulerollout/biz1-r2 --for=condition=Completed');
  });

  it('warns of a confirmation after the beta only when there is a beta batch', () => {
    expect(deadlineRisk({ ...none, needConfirm: 'beta', beta: true }, 3, 600, 'x')).toContain(
      'a confirmation after the beta batch',
    );
    expect(deadlineRisk({ ...none, needConfirm: 'beta' }, 3, 600, 'x')).toBeUndefined();
  });

  it("warns when the gray time between batches reaches the Deployment's own deadline", () => {
    expect(deadlineRisk({ ...none, graySeconds: 300 }, 3, 600, 'x')).toContain('600 s of gray time');
    expect(deadlineRisk({ ...none, graySeconds: 300 }, 3, 3600, 'x')).toBeUndefined();
  });
});
