import type { BizState } from './protocol/biz-state.ts';
import type { BaseMetadata, BizModel } from './protocol/messages.ts';

/**
 * The one backend kmc must have: a way to hear bases and to command them. MQTT is the implementation today
 * (upstream also has an HTTP tunnel); controllers depend only on this interface.
 */
export interface Tunnel {
  /** Connects and subscribes; resolves on the first connection (reconnects happen by themselves afterwards). */
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly connected: boolean;
  installBiz(baseId: string, biz: BizModel): Promise<void>;
  uninstallBiz(baseId: string, biz: BizModel): Promise<void>;
  queryAllBiz(baseId: string): Promise<void>;
  queryHealth(baseId: string): Promise<void>;
  /** The answer to a base's queryBaseline: what it should batch-install. */
  sendBaseline(baseId: string, bizs: readonly BizModel[]): Promise<void>;
}

/** What a base said, normalised; every event carries the base id and when it was published. */
export type TunnelEvent =
  HeartbeatEvent | BaselineQueryEvent | HealthEvent | InventoryEvent | OperationEvent | BatchInstallEvent;

export interface HeartbeatEvent {
  readonly type: 'heartbeat';
  readonly baseId: string;
  readonly at: number;
  readonly metadata: BaseMetadata;
  readonly localIP: string;
  readonly hostname: string;
  readonly port: number;
  /** Real arklet always says activated; anything else means the base is going away. */
  readonly activated: boolean;
}

export interface BaselineQueryEvent {
  readonly type: 'baselineQuery';
  readonly baseId: string;
  readonly at: number;
  readonly metadata: BaseMetadata;
}

export interface HealthEvent {
  readonly type: 'health';
  readonly baseId: string;
  readonly at: number;
  /** The base's own state (masterBizInfo); not ACTIVATED means the base is going away. */
  readonly activated: boolean;
  /** Metaspace limit and headroom in bytes, when the JVM has a limit. */
  readonly memory?: { readonly capacityBytes: number; readonly allocatableBytes: number };
}

/** One module instance as a base reports it. */
export interface BizStatus {
  readonly bizName: string;
  readonly bizVersion: string;
  readonly state: BizState | undefined;
  /** The state as the base wrote it, for messages. */
  readonly rawState: string;
  readonly reason: string | undefined;
  readonly message: string | undefined;
  readonly changeTime: number;
}

/** A complete inventory (simpleBiz, or the legacy biz reply): anything missing is not on the base. */
export interface InventoryEvent {
  readonly type: 'inventory';
  readonly baseId: string;
  readonly at: number;
  readonly items: readonly BizStatus[];
}

/** The reply to one installBiz / uninstallBiz. */
export interface OperationEvent {
  readonly type: 'operation';
  readonly baseId: string;
  readonly at: number;
  readonly command: 'installBiz' | 'uninstallBiz';
  readonly bizName: string;
  readonly bizVersion: string;
  /** arklet's overall result. */
  readonly success: boolean;
  /** SOFAArk's code: SUCCESS, FAILED, REPEAT_BIZ, NOT_FOUND_BIZ, ILLEGAL_STATE_BIZ. */
  readonly code: string;
  readonly message: string;
  /** The instance's state after the operation when the base said (bizInfos). */
  readonly state: BizState | undefined;
}

/** The reply to a baseline: one result per jar URL. */
export interface BatchInstallEvent {
  readonly type: 'batchInstall';
  readonly baseId: string;
  readonly at: number;
  readonly results: readonly {
    readonly bizUrl: string;
    readonly bizName: string | undefined;
    readonly bizVersion: string | undefined;
    readonly success: boolean;
    readonly code: string;
    readonly state: BizState | undefined;
    readonly message: string;
  }[];
}

export type TunnelListener = (event: TunnelEvent) => void;
