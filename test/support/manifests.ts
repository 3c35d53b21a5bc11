import { readFile } from 'node:fs/promises';
import { parse, stringify } from 'yaml';

/** An example manifest from examples/manifests, parsed, for a test to adapt (names, base selectors). */
export async function exampleManifest<T = Record<string, unknown>>(file: string): Promise<T> {
  const text = await readFile(new URL(`../../examples/manifests/${file}`, import.meta.url), 'utf8');
  return parse(text) as T;
}

export function toYaml(value: unknown): string {
  return stringify(value);
}

/**
 * Points a module workload at this test's bases: their name label (unique per test, since nodes are
 * cluster-scoped) replaces the example's `base`.
 */
export function selectBases(
  manifest: ModuleWorkload,
  baseName: string,
  baseVersion = '1.0.0',
): ModuleWorkload {
  // A bare Pod carries its spec directly; workloads carry it in their template.
  const podSpec =
    manifest.kind === 'Pod'
      ? (manifest.spec as unknown as ModuleWorkload['spec']['template']['spec'])
      : manifest.spec.template.spec;
  const terms =
    podSpec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  for (const term of terms) {
    for (const expression of term.matchExpressions ?? []) {
      if (expression.key === 'base.koupleless.io/name') expression.values = [baseName];
      if (expression.key === 'base.koupleless.io/version') expression.values = [baseVersion];
    }
  }
  return manifest;
}

export interface ModuleWorkload {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: {
    replicas?: number;
    template: {
      metadata: { labels: Record<string, string> };
      spec: {
        containers: { name: string; image: string; env?: { name: string; value: string }[] }[];
        affinity?: {
          nodeAffinity?: {
            requiredDuringSchedulingIgnoredDuringExecution?: {
              nodeSelectorTerms?: {
                matchExpressions?: { key: string; operator: string; values?: string[] }[];
              }[];
            };
          };
        };
      };
    };
    [key: string]: unknown;
  };
}

/**
 * A copy of a module workload for another module: workload name, app label, selector, module labels, container
 * name and the anti-affinity selector all follow.
 */
export function renameModule(manifest: ModuleWorkload, name: string, version = '0.0.1'): ModuleWorkload {
  const copy = JSON.parse(
    JSON.stringify(manifest).replaceAll('"biz1"', JSON.stringify(name)),
  ) as ModuleWorkload;
  copy.metadata.name = name;
  return setModuleVersion(copy, name, version);
}

/** Sets module `name` of a workload to `version` (image and BIZ_VERSION), as a release does. */
export function setModuleVersion(manifest: ModuleWorkload, name: string, version: string): ModuleWorkload {
  for (const container of manifest.spec.template.spec.containers) {
    if (container.name !== name) continue;
    container.image = `https://example.invalid/modules/${name}-${version}-ark-biz.jar`;
    container.env = [{ name: 'BIZ_VERSION', value: version }];
  }
  manifest.spec.template.metadata.labels['module.koupleless.io/version'] = version;
  return manifest;
}

/**
 * A cluster DaemonSet that tolerates every taint (a log agent, say), scoped to one node as a real one would land
 * on every node: on a base it is not a module pod and never runs.
 */
export function clusterDaemonSet(nodeName: string, name = 'log-agent'): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name },
    spec: {
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          nodeSelector: { 'kubernetes.io/hostname': nodeName },
          tolerations: [{ operator: 'Exists' }],
          containers: [{ name: 'agent', image: `registry.example/${name}:1` }],
        },
      },
    },
  };
}
