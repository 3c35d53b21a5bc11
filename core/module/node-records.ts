import type { V1Node } from '@kubernetes/client-node';

/**
 * What kmc must remember about the module instances on a base, kept in annotations it owns on the base's Node
 * (field manager `kmc-modules`), so a restarted controller or a new leader knows it (ARCHITECTURE §2.2):
 * - the install ledger: which instances kmc installed (only those may be uninstalled as strays);
 * - retentions: workload-level claims that keep an instance installed after its pod is gone;
 * - the activation mode detected on the base.
 */
export const RECORD_ANNOTATIONS = {
  ledger: 'kmc.koupleless.io/installed',
  retentions: 'kmc.koupleless.io/retentions',
  mode: 'kmc.koupleless.io/activation-mode',
} as const;

export const RECORDS_FIELD_MANAGER = 'kmc-modules';

export interface WorkloadRef {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

export type RetentionReason = 'rollout' | 'disruption';

export interface Retention {
  readonly bizName: string;
  readonly bizVersion: string;
  readonly bizUrl: string;
  readonly reason: RetentionReason;
  readonly workload: WorkloadRef;
  /** The pod whose deletion left this retention. */
  readonly podUid: string;
  readonly since: number;
}

/** How a base treats a second version of a module name (detected on the first such install). */
export type ActivationMode = 'unknown' | 'keeps-both' | 'switches' | 'installs-deactivated';

export interface NodeRecords {
  /** Keys `name:version` kmc installed, with when. */
  readonly ledger: Readonly<Record<string, number>>;
  readonly retentions: readonly Retention[];
  readonly mode: ActivationMode;
}

export const EMPTY_RECORDS: NodeRecords = { ledger: {}, retentions: [], mode: 'unknown' };

export function readRecords(node: V1Node | undefined): NodeRecords {
  const annotations = node?.metadata?.annotations ?? {};
  const mode = annotations[RECORD_ANNOTATIONS.mode];
  return {
    ledger: parseJson(annotations[RECORD_ANNOTATIONS.ledger], {}, isLedger),
    retentions: parseJson(annotations[RECORD_ANNOTATIONS.retentions], [], isRetentionList),
    mode: isMode(mode) ? mode : 'unknown',
  };
}

/** Records as a write returned them, with the node's resourceVersion after that write. */
export interface WrittenRecords {
  readonly resourceVersion: number;
  readonly records: NodeRecords;
}

/**
 * The records to plan from: the cached node's, unless the cache is older than the last write (a reconcile can run
 * between a write and the watch event that brings it). `caughtUp` says the write is no longer needed.
 */
export function currentRecords(
  node: V1Node | undefined,
  written: WrittenRecords | undefined,
): { readonly records: NodeRecords; readonly caughtUp: boolean } {
  if (node && written && written.resourceVersion > Number(node.metadata?.resourceVersion ?? 0)) {
    return { records: written.records, caughtUp: false };
  }
  return { records: readRecords(node), caughtUp: true };
}

export function recordAnnotations(records: NodeRecords): Record<string, string> {
  return {
    [RECORD_ANNOTATIONS.ledger]: JSON.stringify(sortKeys(records.ledger)),
    [RECORD_ANNOTATIONS.retentions]: JSON.stringify(records.retentions),
    [RECORD_ANNOTATIONS.mode]: records.mode,
  };
}

export function sameRecords(a: NodeRecords, b: NodeRecords): boolean {
  const x = recordAnnotations(a);
  const y = recordAnnotations(b);
  return Object.keys(x).every((key) => x[key] === y[key]);
}

function sortKeys(value: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)));
}

function parseJson<T>(text: string | undefined, fallback: T, valid: (value: unknown) => value is T): T {
  if (!text) return fallback;
  try {
    const value: unknown = JSON.parse(text);
    return valid(value) ? value : fallback;
  } catch {
    return fallback;
  }
}

function isLedger(value: unknown): value is Record<string, number> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === 'number')
  );
}

function isRetentionList(value: unknown): value is Retention[] {
  return Array.isArray(value) && value.every(isRetention);
}

/** Annotations are user-editable: every field is checked, so a bad one cannot break a reconcile later. */
function isRetention(item: unknown): item is Retention {
  if (typeof item !== 'object' || item === null) return false;
  const r = item as Partial<Record<keyof Retention, unknown>>;
  const workload = r.workload as Partial<Record<keyof WorkloadRef, unknown>> | null | undefined;
  return (
    typeof r.bizName === 'string' &&
    typeof r.bizVersion === 'string' &&
    typeof r.bizUrl === 'string' &&
    (r.reason === 'rollout' || r.reason === 'disruption') &&
    typeof r.podUid === 'string' &&
    typeof r.since === 'number' &&
    typeof workload === 'object' &&
    workload !== null &&
    typeof workload.kind === 'string' &&
    typeof workload.namespace === 'string' &&
    typeof workload.name === 'string' &&
    typeof workload.uid === 'string'
  );
}

function isMode(value: unknown): value is ActivationMode {
  return (
    value === 'keeps-both' || value === 'switches' || value === 'installs-deactivated' || value === 'unknown'
  );
}
