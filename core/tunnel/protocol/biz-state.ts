/**
 * SOFAArk biz states and state-change reasons (koupleless-protocol.md §1.4). Bases write states in two
 * spellings (enum names such as `ACTIVATED` in records and bizInfos, lower case such as `activated` in the
 * heartbeat and simpleBiz), so states are only ever compared through {@link normaliseBizState}.
 */

export const BIZ_STATES = [
  'UNRESOLVED',
  'RESOLVED',
  'ACTIVATED',
  'DEACTIVATED',
  'BROKEN',
  'STOPPED',
] as const;
export type BizState = (typeof BIZ_STATES)[number];

export const STATE_CHANGE_REASONS = [
  'CREATED',
  'STARTED',
  'INSTALL_FAILED',
  'UN_INSTALL_FAILED',
  'SWITCHED',
  'KILLING',
  'STOPPED',
  'UNDEFINE',
] as const;
export type StateChangeReason = (typeof STATE_CHANGE_REASONS)[number];

const BY_UPPER_CASE: ReadonlyMap<string, BizState> = new Map(BIZ_STATES.map((state) => [state, state]));

/** The SOFAArk state a string names, in any case; undefined for anything else (e.g. the Go mock's `"3"`). */
export function normaliseBizState(raw: string | null | undefined): BizState | undefined {
  if (typeof raw !== 'string') return undefined;
  return BY_UPPER_CASE.get(raw.toUpperCase());
}

/** True when `raw` names ACTIVATED in any case: the liveness test for heartbeats and health replies. */
export function isActivated(raw: string | null | undefined): boolean {
  return normaliseBizState(raw) === 'ACTIVATED';
}

/** SOFAArk's lower-case spelling, as the heartbeat and simpleBiz write it. */
export function lowerCaseState(state: BizState): Lowercase<BizState> {
  return state.toLowerCase() as Lowercase<BizState>;
}
