/** What `kubectl apply` would make of a manifest, and whether a template is a revision the cluster has. */
import type { V1Deployment, V1PodTemplateSpec } from '@kubernetes/client-node';
import { isDeepStrictEqual } from 'node:util';
import { sameModules } from '../../module/workload-index.ts';
import { withoutTemplateHash } from '../../rollout/deployment-revisions.ts';

const APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * The Deployment a `kubectl apply` of `manifest` leaves: annotations merged as apply merges them (those kubectl
 * applied before and the manifest dropped go, others stay), and replicas kept when the manifest leaves them out
 * and did not set them last time. Pure.
 */
export function appliedDeployment(current: V1Deployment | undefined, manifest: V1Deployment): V1Deployment {
  if (!current) return manifest;
  const previous = lastApplied(current);
  const currentAnnotations = current.metadata?.annotations ?? {};
  const kept = Object.fromEntries(
    Object.entries(currentAnnotations).filter(
      ([key]) => key !== APPLIED_ANNOTATION && !(key in (previous?.metadata?.annotations ?? {})),
    ),
  );
  const annotations = { ...kept, ...(manifest.metadata?.annotations ?? {}) };
  const replicas =
    manifest.spec?.replicas ??
    (previous?.spec?.replicas === undefined ? current.spec?.replicas : undefined) ??
    undefined;
  return {
    ...manifest,
    metadata: { ...manifest.metadata, annotations },
    ...(manifest.spec ? { spec: { ...manifest.spec, ...(replicas !== undefined ? { replicas } : {}) } } : {}),
  };
}

function lastApplied(deployment: V1Deployment): V1Deployment | undefined {
  const text = deployment.metadata?.annotations?.[APPLIED_ANNOTATION];
  if (!text) return undefined;
  try {
    return JSON.parse(text) as V1Deployment;
  } catch {
    return undefined;
  }
}

/**
 * Two pod templates are the same revision: exactly (as the Deployment controller compares them, the ReplicaSet's
 * pod-template-hash label aside) when both were defaulted by the API server, else by their modules.
 */
export function sameTemplate(a: V1PodTemplateSpec, b: V1PodTemplateSpec, exact: boolean): boolean {
  if (!exact) return sameModules(a.spec ?? { containers: [] }, b.spec ?? { containers: [] });
  return isDeepStrictEqual(normalized(a), normalized(b));
}

function normalized(template: V1PodTemplateSpec): unknown {
  const copy = JSON.parse(JSON.stringify(template)) as {
    metadata?: { labels?: Record<string, string>; creationTimestamp?: unknown };
  };
  if (copy.metadata) {
    delete copy.metadata.creationTimestamp;
    if (copy.metadata.labels) copy.metadata.labels = withoutTemplateHash(copy.metadata.labels);
  }
  return copy;
}
