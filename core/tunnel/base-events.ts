/**
 * Pure translation of parsed base messages into tunnel events (koupleless-protocol.md §1.5 and §4.4): which
 * time a report carries, which state an operation leaves, what a batch install did.
 */
import { JVM_KEYS, type BaseMessage, type StateRecord } from './protocol/messages.ts';
import { isActivated, normaliseBizState } from './protocol/biz-state.ts';
import type { BizStatus, TunnelEvent } from './tunnel.ts';

export function toTunnelEvent(baseId: string, message: BaseMessage): TunnelEvent | undefined {
  const at = message.publishTimestamp;
  switch (message.kind) {
    case 'heart': {
      const data = message.data;
      return {
        type: 'heartbeat',
        baseId,
        at,
        metadata: data.baseMetadata,
        // An empty IP becomes 127.0.0.1, as upstream does, so the node still gets an InternalIP.
        localIP: data.localIP || '127.0.0.1',
        hostname: data.localHostName,
        port: data.port,
        activated: isActivated(data.state),
      };
    }
    case 'queryBaseline':
      return { type: 'baselineQuery', baseId, at, metadata: message.data };
    case 'health': {
      const response = message.data;
      if (response.code.toUpperCase() !== 'SUCCESS') return undefined;
      const health = response.data?.healthData;
      const jvm = health?.jvm;
      const max = Number(jvm?.[JVM_KEYS.maxMetaspace]);
      const committed = Number(jvm?.[JVM_KEYS.committedMetaspace]);
      // -1 (HotSpot's default) means no limit: no memory figure rather than upstream's 0.
      const memory =
        Number.isFinite(max) && max > 0
          ? {
              capacityBytes: max,
              // An unknown (negative) committed figure leaves the whole limit allocatable.
              allocatableBytes:
                Number.isFinite(committed) && committed >= 0 ? Math.max(0, max - committed) : max,
            }
          : undefined;
      return {
        type: 'health',
        baseId,
        at,
        activated: health?.masterBizInfo ? isActivated(health.masterBizInfo.bizState) : true,
        ...(memory ? { memory } : {}),
      };
    }
    case 'simpleBiz':
      return {
        type: 'inventory',
        baseId,
        at,
        items: message.data.map((item) =>
          bizStatus(item.name, item.version, item.state, item.latestStateRecord ?? undefined, at),
        ),
      };
    case 'biz': {
      // A failed reply lists nothing: it is not a report that every module is gone.
      if (message.data.code.toUpperCase() !== 'SUCCESS') return undefined;
      const items = message.data.data ?? [];
      return {
        type: 'inventory',
        baseId,
        at,
        items: items.map((item) => {
          const latest = [...(item.bizStateRecords ?? [])].sort((a, b) => b.changeTime - a.changeTime)[0];
          return bizStatus(item.bizName, item.bizVersion, item.bizState, latest, at);
        }),
      };
    }
    case 'bizOperation': {
      const data = message.data;
      if (data.command !== 'installBiz' && data.command !== 'uninstallBiz') return undefined;
      const response = data.response;
      const client = response.data;
      const info = client?.bizInfos?.[0];
      const success = response.code.toUpperCase() === 'SUCCESS';
      return {
        type: 'operation',
        baseId,
        at,
        command: data.command,
        bizName: data.bizName ?? info?.bizName ?? '',
        bizVersion: data.bizVersion ?? info?.bizVersion ?? '',
        success,
        code: (client?.code ?? response.code).toUpperCase(),
        message: client?.message ?? response.message ?? '',
        state: normaliseBizState(info?.bizState),
      };
    }
    case 'batchInstallBizResponse': {
      const data = message.data;
      if (data.command !== 'batchInstallBiz') return undefined;
      const entries = Object.entries(data.response.data?.bizUrlToResponse ?? {});
      return {
        type: 'batchInstall',
        baseId,
        at,
        results: entries.map(([bizUrl, client]) => {
          // arklet's exception path returns no bizInfos; upstream indexes [0] anyway and panics.
          const info = client.bizInfos?.[0];
          return {
            bizUrl,
            bizName: info?.bizName,
            bizVersion: info?.bizVersion,
            success: client.code.toUpperCase() === 'SUCCESS',
            code: client.code.toUpperCase(),
            state: normaliseBizState(info?.bizState),
            message: client.message ?? '',
          };
        }),
      };
    }
  }
}

function bizStatus(
  bizName: string,
  bizVersion: string,
  rawState: string,
  record: StateRecord | undefined,
  publishedAt: number,
): BizStatus {
  const recorded = record !== undefined && record.changeTime > 0;
  return {
    bizName,
    bizVersion,
    state: normaliseBizState(rawState),
    rawState,
    reason: recorded ? (record.reason ?? undefined) : undefined,
    message: recorded ? (record.message ?? undefined) : undefined,
    changeTime: recorded ? record.changeTime : publishedAt,
  };
}
