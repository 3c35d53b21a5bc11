/**
 * An example custom kmc plugin: batches start only inside release windows.
 *
 * Select it in a config file by path (relative to the config file) with its options:
 *
 *   plugins:
 *     - [batches, { batchCount: 3 }]
 *     - [./plugins/release-window.ts, { timeZone: Europe/Berlin, windows: [{ days: [mon, tue, wed, thu], from: '09:00', to: '16:00' }] }]
 *
 * Before each batch the rollout engine asks `holdBatch`; outside every window this plugin answers with a Hold
 * (reason `ReleaseWindow`) that names the next opening and asks to be looked at again then. Nothing is
 * remembered: every answer is computed from the clock and the options (ARCHITECTURE §3.5), so a restarted kmc
 * or a new leader decides exactly as the last one did. A batch that started inside a window runs to its end even
 * when the window closes; only starts are gated. First installs and fast `kubectl rollout undo`s are not
 * batched, so no window holds them.
 *
 * It imports kmc's types from the package's public entry point (`kmc`), as a plugin in its own package would;
 * the imports are type-only, so at run time it needs nothing of kmc but the hooks it is handed.
 */
import { z } from 'zod';
import type { Batch, Hold, KmcPlugin, Orchestrator } from 'kmc';
import {
  describeWindows,
  formatLocal,
  HORIZON_MS,
  isOpen,
  isTimeZone,
  nextOpening,
  parseTimeOfDay,
  WEEKDAYS,
  type Schedule,
} from './release-window/windows.ts';

const windowSchema = z
  .object({
    days: z
      .array(z.enum(WEEKDAYS))
      .min(1)
      .optional()
      .describe('Days on which the window opens (sun ... sat); every day when left out.'),
    from: z
      .string()
      .refine((text) => parseTimeOfDay(text) !== undefined, {
        message: 'expected a wall-clock time HH:MM or HH:MM:SS, 00:00 to 23:59:59',
      })
      .describe('Opening time, inclusive.'),
    to: z
      .string()
      .refine((text) => parseTimeOfDay(text, { endOfDay: true }) !== undefined, {
        message: 'expected a wall-clock time HH:MM or HH:MM:SS, 00:00 to 24:00',
      })
      .describe('Closing time, exclusive; earlier than from = the next day.'),
  })
  .strict()
  .refine((w) => parseTimeOfDay(w.from) !== parseTimeOfDay(w.to, { endOfDay: true }), {
    message: 'from and to must differ (an empty window never opens)',
    path: ['to'],
  });

const optionsSchema = z
  .object({
    windows: z.array(windowSchema).min(1).describe('When batches may start; any one open window is enough.'),
    timeZone: z
      .string()
      .default('UTC')
      .refine(isTimeZone, {
        message: 'not a time zone Intl knows (an IANA name such as Europe/Berlin, or UTC)',
      })
      .describe('IANA time zone of the wall-clock times.'),
    firstBatchToo: z
      .boolean()
      .default(true)
      .describe('Hold the first batch too; false lets a canary batch start any time and gates the rest.'),
  })
  .strict();

export type ReleaseWindowOptions = z.output<typeof optionsSchema>;

/** Look again at least hourly: a long hold stays correct even if the wall clock is stepped meanwhile. */
export const MAX_RECHECK_MS = 3_600_000;

export default class ReleaseWindowPlugin implements KmcPlugin {
  static readonly pluginName = 'release-window';
  static readonly optionsSchema = optionsSchema;
  static readonly description = 'start batches only inside release windows (days and wall-clock times)';
  readonly name = ReleaseWindowPlugin.pluginName;
  readonly #schedule: Schedule;
  readonly #firstBatchToo: boolean;

  constructor(options: ReleaseWindowOptions) {
    this.#schedule = { windows: options.windows, timeZone: options.timeZone };
    this.#firstBatchToo = options.firstBatchToo;
  }

  apply(orchestrator: Orchestrator): void {
    // The engine's instant for this decision, the one it records batch times with.
    orchestrator.hooks.holdBatch.tapPromise(this.name, (batch, rollout) =>
      Promise.resolve(this.hold(batch, rollout.now)),
    );
  }

  /** The hold for `batch` at the instant `now`, or undefined when it may start. Pure. */
  hold(batch: Pick<Batch, 'index'>, now: number): Hold | undefined {
    if (batch.index === 1 && !this.#firstBatchToo) return undefined;
    if (isOpen(this.#schedule, now)) return undefined;
    const { timeZone, windows } = this.#schedule;
    const opening = nextOpening(this.#schedule, now);
    if (opening === undefined) {
      return {
        reason: 'ReleaseWindow',
        message:
          `batch ${batch.index} waits for a release window, and none opens in the next ` +
          `${HORIZON_MS / 86_400_000} days (windows: ${describeWindows(windows)} ${timeZone})`,
        recheckAfterMs: MAX_RECHECK_MS,
      };
    }
    return {
      reason: 'ReleaseWindow',
      message:
        `batch ${batch.index} starts in the next release window, ${new Date(opening).toISOString()} ` +
        `(${formatLocal(timeZone, opening)} ${timeZone}; windows: ${describeWindows(windows)})`,
      recheckAfterMs: Math.min(opening - now, MAX_RECHECK_MS),
    };
  }
}
