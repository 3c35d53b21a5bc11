/**
 * Release windows: pure wall-clock arithmetic in an IANA time zone, through `Intl` (no dependency, no state, no
 * timers). The plugin asks two questions of the clock — is a window open at this instant, and when does the next
 * one open — and nothing is remembered between calls.
 *
 * Semantics:
 * - A window is a wall-clock interval [from, to) in the schedule's time zone, on the days listed (every day when
 *   `days` is left out). `to` earlier than `from` crosses midnight: the window opens on a listed day and closes
 *   the next day (`{ days: [fri], from: '22:00', to: '02:00' }` runs Friday 22:00 to Saturday 02:00).
 *   `to: '24:00'` is midnight at the end of the day.
 * - Openness is decided from the local time of the instant, so daylight-saving time behaves as a wall clock
 *   does: a window edge inside the spring-forward gap takes effect at the first instant after the gap (02:30 on
 *   a day whose clocks jump from 02:00 to 03:00 opens at 03:00), and a window inside the repeated autumn hour
 *   is open in both passes.
 */

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface ReleaseWindow {
  /** Days on which the window opens; every day when absent. A window crossing midnight belongs to its first day. */
  readonly days?: readonly Weekday[] | undefined;
  /** Opening wall-clock time, `HH:MM` or `HH:MM:SS`, inclusive. */
  readonly from: string;
  /** Closing wall-clock time, exclusive; earlier than `from` means the next day; `24:00` is the end of the day. */
  readonly to: string;
}

export interface Schedule {
  readonly windows: readonly ReleaseWindow[];
  /** IANA time zone of the wall-clock times (`UTC`, `Europe/Berlin`, ...). */
  readonly timeZone: string;
}

const SECOND = 1_000;
const HOUR = 3_600 * SECOND;
const DAY = 24 * HOUR;
/**
 * How far ahead `nextOpening` looks. Three weeks: a weekly window can be skipped once when it lies entirely in a
 * daylight-saving gap, so the next one may be two weeks away.
 */
export const HORIZON_MS = 21 * DAY;
/** Offset changes are found by sampling at this step (time zones change offset at most a few times a year). */
const SAMPLE_MS = 6 * HOUR;

const TIME_OF_DAY = /^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$/;

/**
 * Seconds since midnight of `HH:MM` or `HH:MM:SS` (00:00 to 23:59:59), or undefined when malformed. With
 * `endOfDay`, `24:00` (and `24:00:00`) is accepted too, as 86 400.
 */
export function parseTimeOfDay(text: string, { endOfDay = false } = {}): number | undefined {
  if (endOfDay && (text === '24:00' || text === '24:00:00')) return DAY / SECOND;
  const match = TIME_OF_DAY.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * 3_600 + Number(match[2]) * 60 + Number(match[3] ?? 0);
}

/** Whether `Intl` knows the time zone (IANA names such as `Europe/Berlin`, and `UTC`). */
export function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** A formatter per time zone (a cache of Intl objects, not of any decision). */
function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, format);
  }
  return format;
}

/** The zone's offset from UTC at `at`, in ms (local wall clock = at + offset). */
export function offsetAt(timeZone: string, at: number): number {
  const fields: Partial<Record<Intl.DateTimeFormatPartTypes, number>> = {};
  for (const part of formatter(timeZone).formatToParts(at)) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value);
  }
  const local = Date.UTC(
    fields.year ?? 1970,
    (fields.month ?? 1) - 1,
    fields.day ?? 1,
    fields.hour ?? 0,
    fields.minute ?? 0,
    fields.second ?? 0,
  );
  return local - Math.floor(at / SECOND) * SECOND;
}

interface ParsedWindow {
  readonly days: ReadonlySet<Weekday> | undefined;
  readonly from: number;
  readonly to: number;
}

function parseWindows(windows: readonly ReleaseWindow[]): ParsedWindow[] {
  return windows.map((window, i) => {
    const from = parseTimeOfDay(window.from);
    const to = parseTimeOfDay(window.to, { endOfDay: true });
    if (from === undefined) throw new RangeError(`windows[${i}].from: not HH:MM or HH:MM:SS: ${window.from}`);
    if (to === undefined) throw new RangeError(`windows[${i}].to: not HH:MM or HH:MM:SS: ${window.to}`);
    if (from === to) throw new RangeError(`windows[${i}]: from and to are equal (an empty window)`);
    return { days: window.days ? new Set(window.days) : undefined, from: from * SECOND, to: to * SECOND };
  });
}

const weekdayOf = (day: number): Weekday => WEEKDAYS[new Date(day * DAY).getUTCDay()] ?? 'sun';
const onDay = (window: ParsedWindow, day: number): boolean =>
  window.days === undefined || window.days.has(weekdayOf(day));

/** Open at a local wall-clock time (ms since the epoch, as if the wall clock were UTC)? */
function openAtLocal(windows: readonly ParsedWindow[], local: number): boolean {
  const day = Math.floor(local / DAY);
  const time = local - day * DAY;
  return windows.some((w) =>
    w.from < w.to
      ? onDay(w, day) && time >= w.from && time < w.to
      : (onDay(w, day) && time >= w.from) || (onDay(w, day - 1) && time < w.to),
  );
}

/** Whether a window of the schedule is open at the instant `at` (ms since the epoch). */
export function isOpen(schedule: Schedule, at: number): boolean {
  return openAtLocal(parseWindows(schedule.windows), at + offsetAt(schedule.timeZone, at));
}

/**
 * The first instant at or after `at` at which a window is open: `at` itself when one is open now, undefined
 * when none opens within `HORIZON_MS` (windows that exist only inside daylight-saving gaps).
 *
 * The time from `at` on is cut into segments of constant UTC offset; inside one, wall clock = instant + offset,
 * so the openings are plain arithmetic. A segment that starts inside a window (the clock jumped into it) opens
 * at its start.
 */
export function nextOpening(schedule: Schedule, at: number, horizonMs = HORIZON_MS): number | undefined {
  const windows = parseWindows(schedule.windows);
  const offset = (t: number) => offsetAt(schedule.timeZone, t);
  const end = at + horizonMs;
  let start = at;
  let startOffset = offset(at);
  while (start < end) {
    if (openAtLocal(windows, start + startOffset)) return start;
    const [segmentEnd, nextOffset] = nextTransition(offset, start, startOffset, end);
    const localStart = start + startOffset;
    const localEnd = segmentEnd + startOffset;
    let first: number | undefined;
    for (let day = Math.floor(localStart / DAY); day * DAY < localEnd; day += 1) {
      for (const w of windows) {
        const opening = day * DAY + w.from;
        if (opening >= localStart && opening < localEnd && onDay(w, day) && (first ?? Infinity) > opening)
          first = opening;
      }
    }
    if (first !== undefined) return first - startOffset;
    start = segmentEnd;
    startOffset = nextOffset;
  }
  return undefined;
}

/**
 * Where the offset first differs from `current` after `from` (at most `end`), with the offset there. Sampled
 * every SAMPLE_MS, then bisected to the millisecond.
 */
function nextTransition(
  offset: (t: number) => number,
  from: number,
  current: number,
  end: number,
): [number, number] {
  for (let low = from; low < end; low += SAMPLE_MS) {
    let high = Math.min(low + SAMPLE_MS, end);
    const highOffset = offset(high);
    if (highOffset === current) continue;
    let lo = low;
    while (high - lo > 1) {
      const mid = Math.floor((lo + high) / 2);
      if (offset(mid) === current) lo = mid;
      else high = mid;
    }
    return [high, offset(high)];
  }
  return [end, current];
}

/** `2025-03-30 03:00:00` in the schedule's zone, for messages. */
export function formatLocal(timeZone: string, at: number): string {
  return new Date(at + offsetAt(timeZone, at)).toISOString().slice(0, 19).replace('T', ' ');
}

/** `mon,tue 09:00-17:00; 22:00-02:00` for messages. */
export function describeWindows(windows: readonly ReleaseWindow[]): string {
  return windows
    .map((w) => `${w.days && w.days.length > 0 ? `${w.days.join(',')} ` : ''}${w.from}-${w.to}`)
    .join('; ');
}
