/** Time as the controllers see it; tests of pure logic pass a fixed or fake clock. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
