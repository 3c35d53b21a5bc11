import type { V1Container, V1Pod } from '@kubernetes/client-node';

/** Labels that make a pod a module pod (canonical first; the alias is what newer upstream writes). */
export const MODULE_POD_LABELS = [
  'module-controller.koupleless.io/component',
  'virtual-kubelet.koupleless.io/component',
] as const;

/** kmc's pod conditions. */
export const INSTALL_HELD = 'koupleless.io/InstallHeld';
export const NOT_A_MODULE_POD = 'koupleless.io/NotAModulePod';

/** The ReplicaSet deletes pods with a low cost first: old versions on bases that already run the current one. */
export const DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';
export const SUPERSEDED_DELETION_COST = '-1000';

export function isModulePod(pod: V1Pod): boolean {
  const labels = pod.metadata?.labels ?? {};
  return MODULE_POD_LABELS.some((label) => labels[label] === 'module');
}

/** One module of a pod: container name = bizName, image = jar URL, env BIZ_VERSION = bizVersion. */
export interface ModuleSpec {
  readonly bizName: string;
  readonly bizVersion: string;
  readonly bizUrl: string;
}

export interface InvalidContainer {
  readonly container: string;
  readonly reason: 'InvalidModuleImage' | 'MissingBizVersion';
  readonly message: string;
}

export type PodModules =
  | { readonly ok: true; readonly modules: readonly ModuleSpec[] }
  | {
      readonly ok: false;
      readonly invalid: readonly InvalidContainer[];
      readonly modules: readonly ModuleSpec[];
    };

/** A biz jar URL: http(s):// or file://, naming a .jar (arklet downloads it as given). */
export function isJarUrl(image: string): boolean {
  return /^(https?|file):\/\/\S+$/i.test(image) && /\.jar(\?|#|$)/i.test(image);
}

export function moduleKey(bizName: string, bizVersion: string): string {
  return `${bizName}:${bizVersion}`;
}

/** Splits at the first colon: a bizName is a container name (a DNS label, never a colon), a version may hold one. */
export function parseModuleKey(key: string): { bizName: string; bizVersion: string } {
  const at = key.indexOf(':');
  return { bizName: key.slice(0, at), bizVersion: key.slice(at + 1) };
}

function bizVersionOf(container: V1Container): string | undefined {
  return container.env?.find((env) => env.name === 'BIZ_VERSION')?.value;
}

/** The modules a pod asks for, or why some of its containers cannot be modules. */
export function podModules(pod: V1Pod): PodModules {
  const modules: ModuleSpec[] = [];
  const invalid: InvalidContainer[] = [];
  for (const container of pod.spec?.containers ?? []) {
    const image = container.image ?? '';
    if (!isJarUrl(image)) {
      invalid.push({
        container: container.name,
        reason: 'InvalidModuleImage',
        message: `image ${JSON.stringify(image)} is not a biz jar URL (https://…/x.jar or file:///…/x.jar)`,
      });
      continue;
    }
    const version = bizVersionOf(container);
    if (!version) {
      invalid.push({
        container: container.name,
        reason: 'MissingBizVersion',
        message: 'set env BIZ_VERSION (a literal value) to the module version',
      });
      continue;
    }
    modules.push({ bizName: container.name, bizVersion: version, bizUrl: image });
  }
  return invalid.length === 0 ? { ok: true, modules } : { ok: false, invalid, modules };
}

export function podKey(pod: V1Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

/** Admitted by the install gate: the gate recorded InstallHeld=False before anything was installed. */
export function isAdmitted(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === INSTALL_HELD && c.status === 'False') ?? false;
}

export function heldCondition(pod: V1Pod): { reason: string; message: string } | undefined {
  const condition = pod.status?.conditions?.find((c) => c.type === INSTALL_HELD && c.status === 'True');
  return condition ? { reason: condition.reason ?? '', message: condition.message ?? '' } : undefined;
}

/** Evicted (taint manager or Eviction API): the DisruptionTarget condition Kubernetes sets before deleting. */
export function isDisrupted(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'DisruptionTarget' && c.status === 'True') ?? false;
}
