/**
 * What a base reports about itself: heartbeat, baseline query, biz list and health (koupleless-protocol.md
 * §1.5 T1, T2, T6, T8). Pure shape builders over the current bizs.
 */
import { lowerCaseState } from '../tunnel/protocol/biz-state.ts';
import type { BaseMetadata, BaseStatus, HealthResponse, SimpleBizInfo } from '../tunnel/protocol/messages.ts';
import type { SimBiz } from './biz-inventory.ts';
import type { BaseModelConfig, HealthFigure } from './sim-config.ts';

export function baseMetadata(config: BaseModelConfig): BaseMetadata {
  return {
    clusterName: config.clusterName,
    identity: config.identity,
    name: config.name,
    version: config.version,
  };
}

/** arklet hard-codes `"activated"` (koupleless#347) and port 0 over MQTT. */
export function heartbeat(config: BaseModelConfig): BaseStatus {
  return {
    baseMetadata: baseMetadata(config),
    localHostName: config.hostname,
    localIP: config.localIP,
    port: 0,
    state: lowerCaseState('ACTIVATED'),
  };
}

/** Lower-case states; the latest record in enum names, or null (written as `null`: WriteMapNullValue). */
export function simpleBizList(bizs: readonly SimBiz[]): SimpleBizInfo[] {
  return bizs.map((biz) => {
    const latest = biz.records.at(-1);
    return {
      latestStateRecord:
        latest === undefined
          ? null
          : {
              changeTime: latest.changeTime,
              message: latest.message,
              reason: latest.reason,
              state: latest.state,
            },
      name: biz.bizName,
      state: lowerCaseState(biz.state),
      version: biz.bizVersion,
    };
  });
}

/** The reply to a health query with no type: jvm, cpu, the master biz, the bizs and the (no) plugins. */
export function healthReply(config: BaseModelConfig, bizs: readonly SimBiz[]): HealthResponse<HealthFigure> {
  return {
    code: 'SUCCESS',
    data: {
      healthData: {
        bizListInfo: bizs.map((biz) => ({
          bizName: biz.bizName,
          bizState: biz.state,
          bizVersion: biz.bizVersion,
          webContextPath: biz.webContextPath,
        })),
        cpu: config.health.cpu,
        jvm: config.health.jvm,
        masterBizInfo: {
          bizName: config.name,
          bizState: 'ACTIVATED',
          bizVersion: config.version,
          webContextPath: '/',
        },
        pluginListInfo: [],
      },
    },
  };
}
