/**
 * A reason to wait, shown to users as is: on the pod (condition koupleless.io/InstallHeld), on the
 * ModuleRollout status, and in an Event. Returned by `holdInstall` and `holdBatch` taps.
 */
export interface Hold {
  /** CamelCase, stable: AwaitingConfirmation, GrayTime, MaxUnavailable, BatchFull, ReleaseWindow, ... */
  readonly reason: string;
  /** One sentence for people: what is awaited and what they can do about it. */
  readonly message: string;
  /** Look again after this long even if nothing changes (timed holds: gray time, windows). */
  readonly recheckAfterMs?: number;
}
