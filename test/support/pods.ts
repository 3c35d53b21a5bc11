import type { V1Pod } from '@kubernetes/client-node';

/** The pod's Ready condition is True (what a ReplicaSet counts as ready). */
export const isReady = (pod: V1Pod): boolean =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** The module version a test pod asks for (the example manifests carry it in BIZ_VERSION). */
export const versionOf = (pod: V1Pod): string | undefined =>
  pod.spec?.containers[0]?.env?.find((e) => e.name === 'BIZ_VERSION')?.value;
