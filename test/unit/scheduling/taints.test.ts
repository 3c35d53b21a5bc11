import { describe, expect, it } from 'vitest';
import { describeTaint, tolerates, untoleratedTaint } from '../../../core/scheduling/taints.ts';

const vnode = { key: 'schedule.koupleless.io/virtual-node', value: 'True', effect: 'NoExecute' };

describe('untoleratedTaint', () => {
  it("finds kmc's taint on a pod that does not tolerate it", () => {
    expect(untoleratedTaint([vnode], [])).toEqual(vnode);
    expect(describeTaint(vnode)).toBe('{schedule.koupleless.io/virtual-node: True}:NoExecute');
  });

  it('accepts a matching Equal toleration, an Exists toleration of the key, and an empty Exists (all taints)', () => {
    expect(untoleratedTaint([vnode], [{ ...vnode, operator: 'Equal' }])).toBeUndefined();
    expect(untoleratedTaint([vnode], [{ key: vnode.key, operator: 'Exists' }])).toBeUndefined();
    expect(untoleratedTaint([vnode], [{ operator: 'Exists' }])).toBeUndefined();
  });

  it('refuses a toleration of another value or effect', () => {
    expect(untoleratedTaint([vnode], [{ key: vnode.key, operator: 'Equal', value: 'False' }])).toEqual(vnode);
    expect(untoleratedTaint([vnode], [{ key: vnode.key, operator: 'Exists', effect: 'NoSchedule' }])).toEqual(
      vnode,
    );
  });

  it('ignores PreferNoSchedule taints', () => {
    expect(untoleratedTaint([{ key: 'soft', effect: 'PreferNoSchedule' }], [])).toBeUndefined();
  });

  it('an Equal toleration without a key tolerates nothing', () => {
    expect(tolerates({ operator: 'Equal', value: 'True' }, vnode)).toBe(false);
  });
});
