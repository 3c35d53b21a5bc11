import { describe, expect, it } from 'vitest';
import { parseLabelSelector } from '../../../core/kube/label-selector.ts';

describe('label selectors', () => {
  const labels = { app: 'biz1', tier: 'api', env: 'dev' };

  it('match everything when empty', () => {
    expect(parseLabelSelector('').matches(labels)).toBe(true);
    expect(parseLabelSelector('').matches(undefined)).toBe(true);
  });

  it.each([
    ['app=biz1', true],
    ['app==biz1', true],
    ['app=biz2', false],
    ['app!=biz2', true],
    ['app!=biz1', false],
    ['missing!=x', true],
    ['env in (dev, test)', true],
    ['env in (prod)', false],
    ['env notin (prod,stage)', true],
    ['env notin (dev)', false],
    ['tier', true],
    ['owner', false],
    ['!owner', true],
    ['!tier', false],
    ['app=biz1,env in (dev,test),!owner', true],
    ['app=biz1,env in (prod,test)', false],
  ])('%s → %s', (selector, expected) => {
    expect(parseLabelSelector(selector).matches(labels)).toBe(expected);
  });

  it('refuses what is not a selector, naming the bad part', () => {
    expect(() => parseLabelSelector('app=biz1,=x')).toThrow('"=x"');
  });
});
