import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import {
  ROLLOUT_GROUP,
  ROLLOUT_PLURAL,
  ROLLOUT_VERSION,
  type ModuleRollout,
} from '../../core/rollout/module-rollout.ts';
import { mergePatch } from '../../core/kube/patch-options.ts';

/** Reads and patches ModuleRollouts in tests. */
export function rolloutsApi(kc: KubeConfig, namespace: string) {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const base = { group: ROLLOUT_GROUP, version: ROLLOUT_VERSION, plural: ROLLOUT_PLURAL, namespace };
  return {
    get: async (name: string): Promise<ModuleRollout | undefined> =>
      (await custom.getNamespacedCustomObject({ ...base, name }).catch(() => undefined)) as
        ModuleRollout | undefined,
    list: async (): Promise<ModuleRollout[]> =>
      ((await custom.listNamespacedCustomObject(base)) as { items: ModuleRollout[] }).items,
    patchSpec: (name: string, spec: Record<string, unknown>) =>
      custom.patchNamespacedCustomObject({ ...base, name, body: { spec } }, mergePatch()),
  };
}
