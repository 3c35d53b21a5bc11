/**
 * Payload shapes of the arklet MQTT protocol (koupleless-protocol.md §1.3, §1.5). Field names are the wire
 * names. States and codes stay the raw strings a base wrote: bases spell states in two cases, so compare
 * them through `normaliseBizState` (biz-state.ts), never with `===`.
 *
 * Optional fields are `?: T | undefined` so that parsed values (zod output) and values built for sending
 * share one set of types; the serializer omits undefined fields.
 */
import type { BaseMessageKind, CommandKind } from './topics.ts';

/** Every base → controller message: `{"data": …, "publishTimestamp": <epoch ms>}`. Commands have no envelope. */
export interface Envelope<T> {
  readonly data: T;
  readonly publishTimestamp: number;
}

/** T2 payload, and `baseMetadata` of T1. */
export interface BaseMetadata {
  readonly identity: string;
  readonly name: string;
  readonly version: string;
  readonly clusterName: string;
}

/** T1 heartbeat. `state` is `"activated"` from a real arklet; anything else means the base is going away. */
export interface BaseStatus {
  readonly baseMetadata: BaseMetadata;
  readonly localIP: string;
  readonly localHostName: string;
  /** arklet HTTP port; MQTT bases send 0. */
  readonly port: number;
  readonly state: string;
}

/** T9 / T10 command payload and T3 array item. Empty fields are omitted on the wire. */
export interface BizModel {
  readonly bizName?: string | undefined;
  readonly bizVersion?: string | undefined;
  readonly bizUrl?: string | undefined;
  readonly args?: readonly string[] | undefined;
  readonly envs?: Readonly<Record<string, string>> | undefined;
  readonly installStrategy?: string | undefined;
  readonly requestId?: string | undefined;
  readonly async?: boolean | undefined;
}

/** SOFAArk BizStateRecord. `state` and `reason` are enum names (`"ACTIVATED"`, `"STARTED"`). */
export interface StateRecord {
  readonly changeTime: number;
  readonly state: string;
  readonly reason?: string | null | undefined;
  readonly message?: string | null | undefined;
}

/** T8 item. `state` is lower case; `latestStateRecord` is null for a biz with no record. */
export interface SimpleBizInfo {
  readonly name: string;
  readonly version: string;
  readonly state: string;
  readonly latestStateRecord: StateRecord | null;
}

/** The fields of a SOFAArk BizModel (in `bizInfos`) that anyone reads; real ones carry many more. */
export interface BizInfo {
  readonly bizName: string;
  readonly bizVersion: string;
  readonly bizState: string;
  readonly mainClass?: string | undefined;
  readonly webContextPath?: string | undefined;
}

/** SOFAArk ClientResponse, plus arklet's `elapsedSpace` (metaspace bytes) on installs. */
export interface ClientResponse {
  /** SUCCESS, FAILED, REPEAT_BIZ, NOT_FOUND_BIZ, ILLEGAL_STATE_BIZ. */
  readonly code: string;
  readonly message?: string | null | undefined;
  readonly bizInfos?: readonly BizInfo[] | undefined;
  readonly elapsedSpace?: number | undefined;
}

/** arklet command Output. `code` is SUCCESS, FAILED, CMD_NOT_FOUND or CMD_PROCESS_INTERNAL_ERROR. */
export interface ArkletOutput<T> {
  readonly code: string;
  readonly data?: T | undefined;
  readonly message?: string | null | undefined;
}

/** T11. bizName / bizVersion echo the command; they are absent on arklet's exception path for other commands. */
export interface BizOperationResponse {
  readonly command: string;
  readonly bizName?: string | undefined;
  readonly bizVersion?: string | undefined;
  readonly response: ArkletOutput<ClientResponse>;
}

export interface BatchInstallResult {
  /** Keyed by bizUrl. An entry from arklet's exception path has no `bizInfos`. */
  readonly bizUrlToResponse?: Readonly<Record<string, ClientResponse>> | undefined;
  readonly code?: string | undefined;
  readonly elapsedSpace?: number | undefined;
  readonly message?: string | null | undefined;
}

/** T4. `command` is `"batchInstallBiz"`. */
export interface BatchInstallBizResponse {
  readonly command: string;
  readonly response: ArkletOutput<BatchInstallResult>;
}

/** `masterBizInfo` and `bizListInfo` items of a health reply. */
export interface BizHealthInfo {
  readonly bizName: string;
  readonly bizState: string;
  readonly bizVersion: string;
  readonly webContextPath?: string | undefined;
}

/** The `jvm` keys of a health reply. They contain spaces and parentheses. */
export const JVM_KEYS = {
  javaVersion: 'java version',
  javaHome: 'java home',
  totalMemory: 'total memory(M)',
  maxMemory: 'max memory(M)',
  freeMemory: 'free memory(M)',
  initHeapMemory: 'init heap memory(M)',
  usedHeapMemory: 'used heap memory(M)',
  committedHeapMemory: 'committed heap memory(M)',
  maxHeapMemory: 'max heap memory(M)',
  initNonHeapMemory: 'init non heap memory(M)',
  usedNonHeapMemory: 'used non heap memory(M)',
  committedNonHeapMemory: 'committed non heap memory(M)',
  maxNonHeapMemory: 'max non heap memory(M)',
  loadedClassCount: 'loaded class count',
  unloadClassCount: 'unload class count',
  totalClassCount: 'total class count',
  runTime: 'run time(s)',
  /** Bytes; -1 when unknown or unlimited (the HotSpot default). */
  usedMetaspace: 'java used metaspace',
  committedMetaspace: 'java committed metaspace',
  maxMetaspace: 'java max metaspace',
} as const;

export const CPU_KEYS = {
  count: 'count',
  type: 'type',
  totalUsed: 'total used (%)',
  userUsed: 'user used (%)',
  systemUsed: 'system used (%)',
  free: 'free (%)',
} as const;

/**
 * `healthData` of a health reply. Each section is present only when the base reports it. `Figure` is what a
 * jvm / cpu value may be: numbers and strings when parsed; the simulated base also uses `JavaDouble`.
 */
export interface HealthData<Figure = number | string> {
  readonly jvm?: Readonly<Record<string, Figure>> | undefined;
  readonly cpu?: Readonly<Record<string, Figure>> | undefined;
  readonly masterBizInfo?: BizHealthInfo | undefined;
  readonly bizListInfo?: readonly BizHealthInfo[] | undefined;
  readonly pluginListInfo?: readonly Readonly<Record<string, unknown>>[] | undefined;
}

/** T6. Controllers act only on `code == "SUCCESS"`. */
export type HealthResponse<Figure = number | string> = ArkletOutput<{
  readonly healthData?: HealthData<Figure> | undefined;
}>;

/** Item of the legacy T8' reply. */
export interface ArkBizInfo {
  readonly bizName: string;
  readonly bizState: string;
  readonly bizVersion: string;
  readonly mainClass?: string | undefined;
  readonly webContextPath?: string | undefined;
  readonly bizStateRecords?: readonly StateRecord[] | undefined;
}

/** T8' (runtime ≤ 1.3.1): the full arklet queryAllBiz Output. */
export type QueryAllBizResponse = ArkletOutput<readonly ArkBizInfo[]>;

/** What each base → controller kind carries in `data`. */
export interface BaseMessageData {
  readonly heart: BaseStatus;
  readonly queryBaseline: BaseMetadata;
  readonly health: HealthResponse;
  readonly simpleBiz: readonly SimpleBizInfo[];
  readonly biz: QueryAllBizResponse;
  readonly bizOperation: BizOperationResponse;
  readonly batchInstallBizResponse: BatchInstallBizResponse;
}

/** A validated base → controller message. */
export type BaseMessage = {
  readonly [K in BaseMessageKind]: {
    readonly kind: K;
    readonly publishTimestamp: number;
    readonly data: BaseMessageData[K];
  };
}[BaseMessageKind];

/** What each controller → base command carries (no envelope). Health and queryAllBiz carry `{}`. */
export interface CommandPayload {
  readonly baseline: readonly BizModel[];
  readonly healthQuery: Readonly<Record<string, unknown>>;
  readonly queryAllBiz: Readonly<Record<string, unknown>>;
  readonly installBiz: BizModel;
  readonly uninstallBiz: BizModel;
}

/** A validated controller → base command. */
export type Command = {
  readonly [K in CommandKind]: { readonly kind: K; readonly payload: CommandPayload[K] };
}[CommandKind];
