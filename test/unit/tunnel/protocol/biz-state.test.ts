import { describe, expect, it } from 'vitest';
import { BIZ_STATES, isActivated, lowerCaseState } from '../../../../core/tunnel/protocol/biz-state.ts';
import { normaliseBizState } from '../../../../core/tunnel/protocol/parse-base-message.ts';

describe('normaliseBizState', () => {
  it.each(BIZ_STATES)('reads %s in any case', (state) => {
    expect(normaliseBizState(state)).toBe(state);
    expect(normaliseBizState(state.toLowerCase())).toBe(state);
    expect(normaliseBizState(state.charAt(0) + state.slice(1).toLowerCase())).toBe(state);
  });

  it.each([['3'], ['4'], [''], ['ACTIVE'], [' activated'], [null], [undefined]])(
    'knows nothing of %j',
    (raw) => {
      expect(normaliseBizState(raw)).toBeUndefined();
    },
  );

  it('tells ACTIVATED apart from everything else', () => {
    expect(isActivated('activated')).toBe(true);
    expect(isActivated('ACTIVATED')).toBe(true);
    expect(isActivated('DEACTIVATED')).toBe(false);
    expect(isActivated(undefined)).toBe(false);
  });

  it('writes the lower-case form of heartbeats and simpleBiz', () => {
    expect(lowerCaseState('ACTIVATED')).toBe('activated');
  });
});
