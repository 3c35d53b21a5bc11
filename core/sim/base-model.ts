/**
 * One simulated base process as a pure state machine: a command in, the messages to publish, the biz state
 * changes and the work to finish later out. No I/O and no timers: time is a parameter, and an install that
 * takes time is returned as a {@link Scheduled} completion that the MQTT adapter runs after `afterMs`
 * (work with no latency completes within the same step).
 *
 * A restart is a new BaseModel: a fresh process knows only its statically merged modules.
 */
import type { EncodableBaseMessageData } from '../tunnel/protocol/encode-message.ts';
import type { ArkletOutput, BizModel, ClientResponse, Command } from '../tunnel/protocol/messages.ts';
import type { BaseMessageKind } from '../tunnel/protocol/topics.ts';
import {
  batchEntryFailed,
  batchEntryRepeat,
  batchEntrySucceeded,
  batchInstallFailed,
  batchInstallResponse,
  bizOperation,
  commandFailed,
  installSucceeded,
  notFoundBiz,
  repeatBiz,
  uninstallSucceeded,
} from './arklet-replies.ts';
import { baseMetadata, healthReply, heartbeat, simpleBizList } from './base-reports.ts';
import { BizInventory, type BizChange, type SimBiz } from './biz-inventory.ts';
import { failureFor, installLatencyFor, type BaseModelConfig } from './sim-config.ts';

export type OutboundMessage = {
  readonly [K in BaseMessageKind]: { readonly kind: K; readonly data: EncodableBaseMessageData[K] };
}[BaseMessageKind];

interface InstallWork {
  readonly bizName: string;
  readonly bizVersion: string;
  readonly startedAt: number;
}

/** Work the model started and the adapter must hand back through {@link BaseModel.complete}. */
export type CompletionToken =
  | (InstallWork & { readonly kind: 'install'; readonly request: BizModel })
  | {
      readonly kind: 'uninstall';
      readonly bizName: string;
      readonly bizVersion: string;
      readonly request: BizModel;
    }
  | (InstallWork & { readonly kind: 'batch-item'; readonly batchId: number; readonly index: number });

export interface Scheduled {
  readonly afterMs: number;
  readonly token: CompletionToken;
}

export interface Step {
  readonly publish: readonly OutboundMessage[];
  readonly changes: readonly BizChange[];
  readonly schedule: readonly Scheduled[];
}

interface PendingBatch {
  /** By item index: the map is built in item order at the end, so a later item wins a shared bizUrl, as in arklet. */
  readonly entries: { bizUrl: string; response: ClientResponse | undefined }[];
  pending: number;
  succeeded: number;
}

type InstallTarget =
  | { readonly ok: true; readonly bizName: string; readonly bizVersion: string; readonly bizUrl: string }
  | { readonly ok: false; readonly message: string };

/** arklet's InstallBizHandler.validate, in its order. */
function installTarget(request: BizModel): InstallTarget {
  const { bizName = '', bizVersion = '', bizUrl = '' } = request;
  if (bizUrl.trim() === '') return { ok: false, message: 'bizUrl should not be blank' };
  if (bizName === '' && bizVersion === '') {
    // a real base would download the jar to read them
    return {
      ok: false,
      message: 'refresh biz info from jar failed: the simulated base cannot read biz jars',
    };
  }
  if (bizName === '' || bizVersion === '') {
    return { ok: false, message: 'bizName and bizVersion should be both blank or both not blank.' };
  }
  return { ok: true, bizName, bizVersion, bizUrl };
}

class StepBuilder {
  readonly publish: OutboundMessage[] = [];
  readonly changes: BizChange[] = [];
  readonly schedule: Scheduled[] = [];

  change(...changes: readonly (BizChange | undefined)[]): void {
    for (const change of changes) if (change !== undefined) this.changes.push(change);
  }

  merge(step: Step): void {
    this.publish.push(...step.publish);
    this.changes.push(...step.changes);
    this.schedule.push(...step.schedule);
  }
}

export class BaseModel {
  readonly config: BaseModelConfig;
  private readonly inventory: BizInventory;
  private readonly batches = new Map<number, PendingBatch>();
  private nextBatchId = 1;
  private terminated = false;

  constructor(config: BaseModelConfig) {
    this.config = config;
    this.inventory = new BizInventory(config.recordStateChanges);
  }

  /** Process start: the statically merged modules start, in the order given. */
  boot(now: number): BizChange[] {
    const changes: BizChange[] = [];
    for (const module of this.config.staticModules) {
      if (this.inventory.get(module.bizName, module.bizVersion) !== undefined) continue;
      changes.push(this.inventory.register({ ...module, origin: 'static' }, now));
      changes.push(
        ...this.inventory.activate(module.bizName, module.bizVersion, this.config.activationMode, now),
      );
    }
    return changes;
  }

  bizs(): readonly SimBiz[] {
    return this.inventory.list();
  }

  heartbeat(): OutboundMessage {
    return { kind: 'heart', data: heartbeat(this.config) };
  }

  queryBaseline(): OutboundMessage {
    return { kind: 'queryBaseline', data: baseMetadata(this.config) };
  }

  handle(command: Command, now: number): Step {
    if (this.terminated) return new StepBuilder();
    switch (command.kind) {
      case 'installBiz':
        return this.install(command.payload, now);
      case 'uninstallBiz':
        return this.uninstall(command.payload, now);
      case 'baseline':
        return this.batchInstall(command.payload, now);
      case 'healthQuery':
        return this.publishOnly({ kind: 'health', data: healthReply(this.config, this.bizs()) });
      case 'queryAllBiz':
        return this.publishOnly({ kind: 'simpleBiz', data: simpleBizList(this.bizs()) });
    }
  }

  /** Finishes work returned in an earlier step. Work of a terminated process is dropped. */
  complete(token: CompletionToken, now: number): Step {
    if (this.terminated) return new StepBuilder();
    switch (token.kind) {
      case 'install':
        return this.finishInstall(token, now);
      case 'uninstall':
        return this.finishUninstall(token, now);
      case 'batch-item':
        return this.finishBatchItem(token, now);
    }
  }

  /** The process is gone: every biz with it, and pending work is void. */
  terminate(now: number): BizChange[] {
    this.terminated = true;
    this.batches.clear();
    return this.inventory.clear(now);
  }

  private publishOnly(message: OutboundMessage): Step {
    const step = new StepBuilder();
    step.publish.push(message);
    return step;
  }

  /** Runs work now when it takes no time, so zero-latency commands answer within their own step. */
  private later(step: StepBuilder, afterMs: number, token: CompletionToken, now: number): void {
    if (afterMs <= 0) step.merge(this.complete(token, now));
    else step.schedule.push({ afterMs, token });
  }

  private install(request: BizModel, now: number): Step {
    const step = new StepBuilder();
    const target = installTarget(request);
    if (!target.ok) {
      step.publish.push({
        kind: 'bizOperation',
        data: bizOperation('installBiz', request, commandFailed(target.message)),
      });
      return step;
    }
    const { bizName, bizVersion } = target;
    if (this.inventory.get(bizName, bizVersion) !== undefined) {
      step.publish.push({
        kind: 'bizOperation',
        data: bizOperation('installBiz', request, repeatBiz(bizName, bizVersion)),
      });
      return step;
    }
    step.change(
      this.inventory.register({ bizName, bizVersion, bizUrl: target.bizUrl, origin: 'installed' }, now),
    );
    const token: CompletionToken = { kind: 'install', bizName, bizVersion, startedAt: now, request };
    this.later(step, installLatencyFor(this.config, bizName, bizVersion), token, now);
    return step;
  }

  /** A biz start finished: it fails if configured to, else it is activated as the mode says. */
  private startBiz(step: StepBuilder, work: InstallWork, now: number): { failure?: string; biz?: SimBiz } {
    const failing = failureFor(this.config, work.bizName, work.bizVersion);
    if (failing !== undefined) {
      const message = failing.message ?? `simulated start failure of ${work.bizName}:${work.bizVersion}`;
      step.change(
        this.inventory.transition(work.bizName, work.bizVersion, 'BROKEN', 'INSTALL_FAILED', message, now),
      );
      if (this.config.autoUninstallWhenFailed)
        step.change(this.inventory.remove(work.bizName, work.bizVersion, now));
      return { failure: message };
    }
    step.change(...this.inventory.activate(work.bizName, work.bizVersion, this.config.activationMode, now));
    const biz = this.inventory.get(work.bizName, work.bizVersion);
    return biz === undefined ? {} : { biz };
  }

  private finishInstall(token: Extract<CompletionToken, { kind: 'install' }>, now: number): Step {
    const step = new StepBuilder();
    const outcome = this.startBiz(step, token, now);
    const response =
      outcome.biz !== undefined
        ? installSucceeded(outcome.biz, token.startedAt, now, this.config.elapsedSpacePerInstall)
        : commandFailed(outcome.failure ?? `${token.bizName}:${token.bizVersion} vanished while starting`);
    step.publish.push({ kind: 'bizOperation', data: bizOperation('installBiz', token.request, response) });
    return step;
  }

  private uninstall(request: BizModel, now: number): Step {
    const step = new StepBuilder();
    const { bizName = '', bizVersion = '' } = request;
    const invalid =
      bizName.trim() === ''
        ? 'bizName should not be blank'
        : bizVersion.trim() === ''
          ? 'bizVersion should not be blank'
          : undefined;
    const biz = invalid === undefined ? this.inventory.get(bizName, bizVersion) : undefined;
    let response: ArkletOutput<ClientResponse> | undefined;
    if (invalid !== undefined) response = commandFailed(invalid);
    else if (biz === undefined) response = notFoundBiz(bizName, bizVersion);
    else if (biz.state === 'RESOLVED' || biz.state === 'UNRESOLVED') {
      // SOFAArk refuses to stop a biz that has not finished starting
      response = commandFailed('BizState must be ACTIVATED, DEACTIVATED or BROKEN.');
    }
    if (response !== undefined) {
      step.publish.push({ kind: 'bizOperation', data: bizOperation('uninstallBiz', request, response) });
      return step;
    }
    const latency = this.config.uninstallLatencyMs;
    if (latency > 0 && biz?.state !== 'DEACTIVATED') {
      step.change(this.inventory.transition(bizName, bizVersion, 'DEACTIVATED', 'KILLING', null, now));
    }
    this.later(step, latency, { kind: 'uninstall', bizName, bizVersion, request }, now);
    return step;
  }

  private finishUninstall(token: Extract<CompletionToken, { kind: 'uninstall' }>, now: number): Step {
    const step = new StepBuilder();
    step.change(this.inventory.remove(token.bizName, token.bizVersion, now));
    step.publish.push({
      kind: 'bizOperation',
      data: bizOperation('uninstallBiz', token.request, uninstallSucceeded(token.bizName, token.bizVersion)),
    });
    return step;
  }

  /** T3 → arklet's batchInstallBiz: all items start in parallel, one reply when the last one is done. */
  private batchInstall(items: readonly BizModel[], now: number): Step {
    const step = new StepBuilder();
    const targets = items.map(installTarget);
    const invalid = targets.find((target) => !target.ok);
    if (invalid !== undefined) {
      step.publish.push({ kind: 'batchInstallBizResponse', data: batchInstallFailed(invalid.message) });
      return step;
    }
    const batchId = this.nextBatchId++;
    const batch: PendingBatch = { entries: [], pending: 0, succeeded: 0 };
    this.batches.set(batchId, batch);
    const work: Scheduled[] = [];
    targets.forEach((target, index) => {
      if (!target.ok) return;
      const { bizName, bizVersion, bizUrl } = target;
      if (this.inventory.get(bizName, bizVersion) !== undefined) {
        batch.entries.push({ bizUrl, response: batchEntryRepeat(bizName, bizVersion) });
        return;
      }
      batch.entries.push({ bizUrl, response: undefined });
      batch.pending++;
      step.change(this.inventory.register({ bizName, bizVersion, bizUrl, origin: 'installed' }, now));
      const afterMs = installLatencyFor(this.config, bizName, bizVersion);
      work.push({
        afterMs,
        token: { kind: 'batch-item', batchId, index, bizName, bizVersion, startedAt: now },
      });
    });
    if (batch.pending === 0) step.merge(this.finishBatch(batchId));
    // scheduled after every item is registered, so zero-latency items see the whole batch in place
    for (const { afterMs, token } of work) this.later(step, afterMs, token, now);
    return step;
  }

  private finishBatchItem(token: Extract<CompletionToken, { kind: 'batch-item' }>, now: number): Step {
    const step = new StepBuilder();
    const batch = this.batches.get(token.batchId);
    const entry = batch?.entries[token.index];
    if (batch === undefined || entry === undefined) return step;
    const outcome = this.startBiz(step, token, now);
    if (outcome.biz !== undefined) {
      entry.response = batchEntrySucceeded(outcome.biz, token.startedAt, now);
      batch.succeeded++;
    } else {
      entry.response = batchEntryFailed(outcome.failure ?? 'biz vanished while starting');
    }
    batch.pending--;
    if (batch.pending === 0) step.merge(this.finishBatch(token.batchId));
    return step;
  }

  private finishBatch(batchId: number): Step {
    const batch = this.batches.get(batchId);
    this.batches.delete(batchId);
    if (batch === undefined) return new StepBuilder();
    const byUrl: Record<string, ClientResponse> = {};
    for (const { bizUrl, response } of batch.entries) if (response !== undefined) byUrl[bizUrl] = response;
    const elapsedSpace = batch.succeeded * this.config.elapsedSpacePerInstall;
    return this.publishOnly({
      kind: 'batchInstallBizResponse',
      data: batchInstallResponse(byUrl, elapsedSpace),
    });
  }
}
