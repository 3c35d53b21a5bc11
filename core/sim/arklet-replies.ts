/**
 * The replies arklet builds for install, uninstall and batch install, with SOFAArk's and arklet's texts
 * (koupleless-protocol.md §1.5 T4 / T11). Pure shape builders.
 */
import type {
  ArkletOutput,
  BatchInstallBizResponse,
  BizModel,
  BizOperationResponse,
  ClientResponse,
} from '../tunnel/protocol/messages.ts';
import type { SimBiz } from './biz-inventory.ts';

const INSTALL_NOT_SUCCESS = 'install biz not success!';
const UNINSTALL_NOT_SUCCESS = 'uninstall biz not success!';

function identityOf(bizName: string, bizVersion: string): string {
  return `${bizName}:${bizVersion}`;
}

/** SOFAArk's `HH:mm:ss,SSS` start time in the base's local time zone. */
export function formatStartedAt(epochMs: number): string {
  const date = new Date(epochMs);
  const two = (value: number): string => String(value).padStart(2, '0');
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())},${String(date.getMilliseconds()).padStart(3, '0')}`;
}

export function installSuccessMessage(biz: SimBiz, startedAt: number, finishedAt: number): string {
  return `Install Biz: ${identityOf(biz.bizName, biz.bizVersion)} success, cost: ${finishedAt - startedAt} ms, started at: ${formatStartedAt(startedAt)}`;
}

export function installSucceeded(
  biz: SimBiz,
  startedAt: number,
  finishedAt: number,
  elapsedSpace: number,
): ArkletOutput<ClientResponse> {
  return {
    code: 'SUCCESS',
    data: {
      bizInfos: [{ bizName: biz.bizName, bizState: biz.state, bizVersion: biz.bizVersion }],
      code: 'SUCCESS',
      elapsedSpace,
      message: installSuccessMessage(biz, startedAt, finishedAt),
    },
  };
}

/** The biz name and version are already registered, in any state. */
export function repeatBiz(bizName: string, bizVersion: string): ArkletOutput<ClientResponse> {
  return {
    code: 'FAILED',
    data: {
      code: 'REPEAT_BIZ',
      elapsedSpace: 0,
      message: `Biz: ${identityOf(bizName, bizVersion)} has been installed or registered.`,
    },
    message: INSTALL_NOT_SUCCESS,
  };
}

export function uninstallSucceeded(bizName: string, bizVersion: string): ArkletOutput<ClientResponse> {
  return {
    code: 'SUCCESS',
    data: { code: 'SUCCESS', message: `Uninstall biz: ${identityOf(bizName, bizVersion)} success.` },
  };
}

export function notFoundBiz(bizName: string, bizVersion: string): ArkletOutput<ClientResponse> {
  return {
    code: 'FAILED',
    data: { code: 'NOT_FOUND_BIZ', message: `Uninstall biz: ${identityOf(bizName, bizVersion)} not found.` },
    message: UNINSTALL_NOT_SUCCESS,
  };
}

/**
 * arklet's exception path (a validation error, or a biz whose start throws). A real base puts the Java
 * stack trace in `data.message`; the simulator puts the failure text there, which is what a controller
 * shows to users anyway.
 */
export function commandFailed(message: string): ArkletOutput<ClientResponse> {
  return { code: 'FAILED', data: { code: 'FAILED', message }, message };
}

/** T11: the command and the biz identity echoed from the request, whatever it held. */
export function bizOperation(
  command: 'installBiz' | 'uninstallBiz',
  request: BizModel,
  response: ArkletOutput<ClientResponse>,
): BizOperationResponse {
  return { bizName: request.bizName, bizVersion: request.bizVersion, command, response };
}

/** A batch entry for an installed biz: full bizInfos, as the golden batch reply shows. */
export function batchEntrySucceeded(biz: SimBiz, startedAt: number, finishedAt: number): ClientResponse {
  return {
    bizInfos: [
      {
        bizName: biz.bizName,
        bizState: biz.state,
        bizVersion: biz.bizVersion,
        mainClass: biz.mainClass,
        webContextPath: biz.webContextPath,
      },
    ],
    code: 'SUCCESS',
    message: installSuccessMessage(biz, startedAt, finishedAt),
  };
}

export function batchEntryRepeat(bizName: string, bizVersion: string): ClientResponse {
  return {
    code: 'REPEAT_BIZ',
    message: `Biz: ${identityOf(bizName, bizVersion)} has been installed or registered.`,
  };
}

/** arklet's safeBatchInstall catches a throwing install: code and message only, no bizInfos. */
export function batchEntryFailed(message: string): ClientResponse {
  return { code: 'FAILED', message: `internal exception: ${message}` };
}

export function batchInstallResponse(
  bizUrlToResponse: Readonly<Record<string, ClientResponse>>,
  elapsedSpace: number,
): BatchInstallBizResponse {
  const failed = Object.values(bizUrlToResponse).some((entry) => entry.code !== 'SUCCESS');
  return {
    command: 'batchInstallBiz',
    response: {
      code: failed ? 'FAILED' : 'SUCCESS',
      data: {
        bizUrlToResponse,
        code: failed ? 'FAILED' : 'SUCCESS',
        elapsedSpace,
        message: failed ? 'batch install failed' : 'batch install success',
      },
      message: failed ? INSTALL_NOT_SUCCESS : undefined,
    },
  };
}

/** A batch rejected as a whole (one invalid item fails arklet's validation of the batch). */
export function batchInstallFailed(message: string): BatchInstallBizResponse {
  return { command: 'batchInstallBiz', response: commandFailed(message) };
}
