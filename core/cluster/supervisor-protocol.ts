import type { ComponentSpec, ControlPlanePorts } from './component-specs.ts';

/** Everything the supervisor process needs, written to a file by the owner (see control-plane.ts). */
export interface SupervisorSpec {
  readonly dataDir: string;
  readonly kubeconfig: string;
  readonly stateFile: string;
  readonly ports: ControlPlanePorts;
  readonly profile: string;
  readonly version: string;
  readonly components: readonly ComponentSpec[];
  readonly adminTls: { readonly ca: string; readonly cert: string; readonly key: string };
  readonly apiserverUrl: string;
}

/** One JSON line on the supervisor's stdout. */
export type SupervisorEvent =
  | { readonly event: 'progress'; readonly message: string }
  | {
      readonly event: 'ready';
      readonly elapsedMs: number;
      /** Milliseconds from the supervisor's start until each component answered its readiness probe. */
      readonly componentReadyMs: Readonly<Record<string, number>>;
    }
  | { readonly event: 'failed'; readonly message: string }
  | { readonly event: 'stopped' };

export type ControlPlanePhase = 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

/** What `npm run cluster -- status` reads; rewritten by the supervisor on every phase change. */
export interface ControlPlaneState {
  readonly phase: ControlPlanePhase;
  readonly supervisorPid: number;
  readonly dataDir: string;
  readonly kubeconfig: string;
  readonly apiserverUrl: string;
  readonly profile: string;
  readonly version: string;
  readonly ports: ControlPlanePorts;
  readonly components: Readonly<
    Record<string, { readonly pid: number | undefined; readonly logFile: string }>
  >;
  readonly startedAt: string;
  readonly readyAt?: string;
  readonly message?: string;
}

export function parseSupervisorEvent(line: string): SupervisorEvent | undefined {
  try {
    const value = JSON.parse(line) as { event?: unknown };
    return typeof value.event === 'string' ? (value as SupervisorEvent) : undefined;
  } catch {
    return undefined;
  }
}
