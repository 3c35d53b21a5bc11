import { describe, expect, it } from 'vitest';
import {
  describeWindows,
  formatLocal,
  isOpen,
  isTimeZone,
  nextOpening,
  offsetAt,
  parseTimeOfDay,
  type Schedule,
} from '../../../examples/plugins/release-window/windows.ts';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
const HOUR = 3_600_000;

describe('parseTimeOfDay', () => {
  it('reads HH:MM and HH:MM:SS as seconds since midnight', () => {
    expect(parseTimeOfDay('00:00')).toBe(0);
    expect(parseTimeOfDay('09:30')).toBe(9 * 3600 + 30 * 60);
    expect(parseTimeOfDay('23:59:59')).toBe(86_399);
  });

  it('accepts 24:00 only as an end of day', () => {
    expect(parseTimeOfDay('24:00')).toBeUndefined();
    expect(parseTimeOfDay('24:00', { endOfDay: true })).toBe(86_400);
    expect(parseTimeOfDay('24:00:00', { endOfDay: true })).toBe(86_400);
    expect(parseTimeOfDay('24:01', { endOfDay: true })).toBeUndefined();
  });

  it.each(['9:00', '25:00', '12:60', '12:00:60', '12', '', 'noon', '12:00 ', '12:00:00:00'])(
    'refuses %j',
    (text) => {
      expect(parseTimeOfDay(text)).toBeUndefined();
    },
  );
});

describe('isTimeZone', () => {
  it('knows IANA names and UTC, and refuses the rest', () => {
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    expect(isTimeZone('Asia/Kathmandu')).toBe(true);
    expect(isTimeZone('Mars/Olympus_Mons')).toBe(false);
    expect(isTimeZone('')).toBe(false);
  });
});

describe('offsetAt', () => {
  it('gives the zone offset, daylight-saving time included', () => {
    expect(offsetAt('UTC', at('2025-06-01T12:00:00.250Z'))).toBe(0);
    expect(offsetAt('Europe/Berlin', at('2025-01-15T12:00:00Z'))).toBe(HOUR);
    expect(offsetAt('Europe/Berlin', at('2025-07-15T12:00:00Z'))).toBe(2 * HOUR);
    expect(offsetAt('Asia/Kathmandu', at('2025-07-15T12:00:00Z'))).toBe(5.75 * HOUR);
    expect(offsetAt('America/New_York', at('2025-01-15T12:00:00Z'))).toBe(-5 * HOUR);
  });
});

describe('a daily window inside one day', () => {
  const office: Schedule = { timeZone: 'UTC', windows: [{ from: '09:00', to: '17:00' }] };

  it('is open from `from` (inclusive) to `to` (exclusive)', () => {
    expect(isOpen(office, at('2025-06-02T08:59:59.999Z'))).toBe(false);
    expect(isOpen(office, at('2025-06-02T09:00:00Z'))).toBe(true);
    expect(isOpen(office, at('2025-06-02T16:59:59Z'))).toBe(true);
    expect(isOpen(office, at('2025-06-02T17:00:00Z'))).toBe(false);
  });

  it('opens now when open, else at the next `from`, the same day or the next', () => {
    expect(iso(nextOpening(office, at('2025-06-02T12:34:56.789Z')))).toBe('2025-06-02T12:34:56.789Z');
    expect(iso(nextOpening(office, at('2025-06-02T08:15:00.500Z')))).toBe('2025-06-02T09:00:00.000Z');
    expect(iso(nextOpening(office, at('2025-06-02T17:00:00Z')))).toBe('2025-06-03T09:00:00.000Z');
  });

  it('understands seconds in its edges', () => {
    const precise: Schedule = { timeZone: 'UTC', windows: [{ from: '10:00:15', to: '10:00:45' }] };
    expect(iso(nextOpening(precise, at('2025-06-02T10:00:00Z')))).toBe('2025-06-02T10:00:15.000Z');
    expect(isOpen(precise, at('2025-06-02T10:00:44.999Z'))).toBe(true);
    expect(isOpen(precise, at('2025-06-02T10:00:45Z'))).toBe(false);
  });

  it('ends at midnight with to: 24:00', () => {
    const evening: Schedule = { timeZone: 'UTC', windows: [{ from: '20:00', to: '24:00' }] };
    expect(isOpen(evening, at('2025-06-02T23:59:59Z'))).toBe(true);
    expect(isOpen(evening, at('2025-06-03T00:00:00Z'))).toBe(false);
  });
});

describe('windows crossing midnight', () => {
  // 2025-06-06 is a Friday.
  const fridayNight: Schedule = { timeZone: 'UTC', windows: [{ days: ['fri'], from: '22:00', to: '02:00' }] };

  it('belong to the day they open on and close the next day', () => {
    expect(isOpen(fridayNight, at('2025-06-06T21:59:59Z'))).toBe(false);
    expect(isOpen(fridayNight, at('2025-06-06T22:00:00Z'))).toBe(true);
    expect(isOpen(fridayNight, at('2025-06-07T01:59:59Z'))).toBe(true); // Saturday, still Friday's window
    expect(isOpen(fridayNight, at('2025-06-07T02:00:00Z'))).toBe(false);
    expect(isOpen(fridayNight, at('2025-06-07T23:00:00Z'))).toBe(false); // Saturday night is not listed
    expect(isOpen(fridayNight, at('2025-06-06T01:00:00Z'))).toBe(false); // Thursday's night is not listed
  });

  it('next open a week later when just closed', () => {
    expect(iso(nextOpening(fridayNight, at('2025-06-07T02:00:00Z')))).toBe('2025-06-13T22:00:00.000Z');
  });
});

describe('day filters', () => {
  // 2025-06-02 is a Monday.
  const weekdays: Schedule = {
    timeZone: 'UTC',
    windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '17:00' }],
  };

  it('skip the days not listed', () => {
    expect(isOpen(weekdays, at('2025-06-07T10:00:00Z'))).toBe(false); // Saturday
    expect(iso(nextOpening(weekdays, at('2025-06-06T17:00:00Z')))).toBe('2025-06-09T09:00:00.000Z');
    expect(iso(nextOpening(weekdays, at('2025-06-08T23:59:59Z')))).toBe('2025-06-09T09:00:00.000Z');
  });

  it('take the earliest of several windows', () => {
    const two: Schedule = {
      timeZone: 'UTC',
      windows: [
        { days: ['tue'], from: '14:00', to: '15:00' },
        { days: ['mon'], from: '18:00', to: '19:00' },
      ],
    };
    expect(iso(nextOpening(two, at('2025-06-02T12:00:00Z')))).toBe('2025-06-02T18:00:00.000Z');
    expect(iso(nextOpening(two, at('2025-06-02T19:00:00Z')))).toBe('2025-06-03T14:00:00.000Z');
  });

  it('use the weekday of the zone, not of UTC', () => {
    // Monday 00:30 in Tokyo is Sunday 15:30 UTC.
    const tokyoMonday: Schedule = {
      timeZone: 'Asia/Tokyo',
      windows: [{ days: ['mon'], from: '00:00', to: '01:00' }],
    };
    expect(isOpen(tokyoMonday, at('2025-06-01T15:30:00Z'))).toBe(true);
    expect(isOpen(tokyoMonday, at('2025-06-02T00:30:00Z'))).toBe(false);
  });
});

describe('time zones and daylight-saving time', () => {
  it('reads wall-clock times in the zone, with odd offsets too', () => {
    const kathmandu: Schedule = { timeZone: 'Asia/Kathmandu', windows: [{ from: '09:00', to: '10:00' }] };
    expect(iso(nextOpening(kathmandu, at('2025-01-01T00:00:00Z')))).toBe('2025-01-01T03:15:00.000Z');
  });

  it('keeps wall-clock times across a DST change (Berlin, spring forward on 2025-03-30)', () => {
    const morning: Schedule = { timeZone: 'Europe/Berlin', windows: [{ from: '08:00', to: '09:00' }] };
    // Saturday 08:00 CET is 07:00 UTC; Sunday 08:00 CEST is 06:00 UTC.
    expect(iso(nextOpening(morning, at('2025-03-29T08:00:00Z')))).toBe('2025-03-30T06:00:00.000Z');
  });

  it('opens a window whose edge lies in the spring-forward gap when the clock jumps past it', () => {
    // Clocks jump from 02:00 CET (01:00 UTC) to 03:00 CEST: 02:30 never happens; 03:00 is inside the window.
    const night: Schedule = { timeZone: 'Europe/Berlin', windows: [{ from: '02:30', to: '04:00' }] };
    expect(isOpen(night, at('2025-03-30T00:59:59Z'))).toBe(false);
    expect(isOpen(night, at('2025-03-30T01:00:00Z'))).toBe(true);
    expect(iso(nextOpening(night, at('2025-03-30T00:00:00Z')))).toBe('2025-03-30T01:00:00.000Z');
    // The day before, the same window opens at 02:30 CET.
    expect(iso(nextOpening(night, at('2025-03-29T00:00:00Z')))).toBe('2025-03-29T01:30:00.000Z');
  });

  it('skips a window that lies entirely in the gap, to the next week', () => {
    const sundayGap: Schedule = {
      timeZone: 'Europe/Berlin',
      windows: [{ days: ['sun'], from: '02:10', to: '02:20' }],
    };
    expect(iso(nextOpening(sundayGap, at('2025-03-29T12:00:00Z')))).toBe('2025-04-06T00:10:00.000Z');
  });

  it('opens a window inside the repeated autumn hour in both passes (New York, fall back on 2025-11-02)', () => {
    // 01:00-02:00 happens twice: EDT (05:00-06:00 UTC), then EST (06:00-07:00 UTC).
    const repeated: Schedule = { timeZone: 'America/New_York', windows: [{ from: '01:30', to: '01:45' }] };
    expect(iso(nextOpening(repeated, at('2025-11-02T05:00:00Z')))).toBe('2025-11-02T05:30:00.000Z');
    expect(isOpen(repeated, at('2025-11-02T05:50:00Z'))).toBe(false);
    expect(iso(nextOpening(repeated, at('2025-11-02T05:45:00Z')))).toBe('2025-11-02T06:30:00.000Z');
    expect(iso(nextOpening(repeated, at('2025-11-02T06:45:00Z')))).toBe('2025-11-03T06:30:00.000Z');
  });

  it('gives up (undefined) past the horizon rather than scanning forever', () => {
    const sundayGap: Schedule = {
      timeZone: 'Europe/Berlin',
      windows: [{ days: ['sun'], from: '02:10', to: '02:20' }],
    };
    expect(nextOpening(sundayGap, at('2025-03-29T12:00:00Z'), 2 * 24 * HOUR)).toBeUndefined();
  });
});

describe('bad input', () => {
  it('throws naming the window when a schedule bypasses validation', () => {
    expect(() => isOpen({ timeZone: 'UTC', windows: [{ from: '9am', to: '17:00' }] }, 0)).toThrow(
      /windows\[0\]\.from/,
    );
    expect(() => isOpen({ timeZone: 'UTC', windows: [{ from: '09:00', to: '09:00:00' }] }, 0)).toThrow(
      /windows\[0\]: from and to are equal/,
    );
    expect(() =>
      isOpen({ timeZone: 'Mars/Olympus_Mons', windows: [{ from: '09:00', to: '10:00' }] }, 0),
    ).toThrow(RangeError);
  });
});

describe('messages', () => {
  it('render local times and windows', () => {
    expect(formatLocal('Europe/Berlin', at('2025-03-30T01:00:00Z'))).toBe('2025-03-30 03:00:00');
    expect(
      describeWindows([
        { days: ['mon', 'tue'], from: '09:00', to: '17:00' },
        { from: '22:00', to: '02:00' },
      ]),
    ).toBe('mon,tue 09:00-17:00; 22:00-02:00');
  });
});
