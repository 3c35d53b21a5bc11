import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { K8S_VERSION } from '../../core/cluster/k8s-release.ts';
import { runCommand } from '../../core/cluster/run-command.ts';
import { renderRbac, type RbacObject } from '../../core/rbac/rbac-manifests.ts';
import { ensureHelm } from '../../scripts/helm.ts';
import { kubectl } from '../support/kube.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHART = join(ROOT, 'charts/kmc');
const MAIN = join(ROOT, 'core/cli/main.ts');

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  [key: string]: unknown;
}

const objectsOf = (text: string): K8sObject[] =>
  parseAllDocuments(text)
    .map((document) => document.toJS() as K8sObject | null)
    .filter((object): object is K8sObject => object !== null);

const keyOf = (o: { kind: string; metadata: { name: string; namespace?: string } }) =>
  `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/**
 * The namespaces a rendering puts objects in, created for real (a server dry run cannot create them): as the
 * rendering defines them when it does (labels included: Pod Security admission reads them), else bare.
 */
async function ensureNamespaces(objects: readonly K8sObject[]): Promise<void> {
  const names = new Set(objects.flatMap((o) => (o.metadata.namespace ? [o.metadata.namespace] : [])));
  for (const name of names) {
    const defined = objects.find((o) => o.kind === 'Namespace' && o.metadata.name === name);
    const manifest = defined
      ? stringify(defined)
      : `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n`;
    await kubectl(['apply', '-f', '-'], { stdin: manifest });
  }
}

/** `kubectl apply --dry-run=server` of a rendering: every object goes through the real API server's validation. */
async function serverDryRun(text: string): Promise<string[]> {
  const objects = objectsOf(text);
  await ensureNamespaces(objects);
  const result = await kubectl(['apply', '--dry-run=server', '-f', '-'], { stdin: text });
  // No warning either: deprecated APIs, unknown fields, Pod Security (kmc-system warns on "restricted").
  expect(result.stderr).not.toMatch(/warning/i);
  const lines = result.stdout.trim().split('\n');
  expect(lines).toHaveLength(objects.length);
  for (const line of lines) expect(line).toMatch(/ \(server dry run\)$/);
  return lines;
}

/** `kmc validate` of the config file a ConfigMap of the rendering carries: it parses, and every plugin option holds. */
async function validateConfigOf(text: string, dir: string): Promise<string> {
  const configMap = objectsOf(text).find((o) => o.kind === 'ConfigMap');
  const config = configMap?.data?.['koupleless.config.yaml'];
  if (!config) throw new Error('no koupleless.config.yaml in a ConfigMap');
  const file = join(dir, `config-${String(Date.now())}.yaml`);
  await writeFile(file, config);
  const child = spawn(process.execPath, [MAIN, 'validate', '--config', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  expect(code, output).toBe(0);
  return config;
}

/** Roles and bindings of a rendering, reduced to what RBAC decides on (labels differ between kustomize and Helm). */
function rbacOf(objects: readonly (K8sObject | RbacObject)[]): Map<string, unknown> {
  return new Map(
    objects
      .filter((o) => /^(Cluster)?Role(Binding)?$/.test(o.kind))
      .map((o) => {
        const { rules, roleRef, subjects } = o as unknown as Record<string, unknown>;
        return [keyOf(o), { rules, roleRef, subjects }] as const;
      }),
  );
}

/**
 * The deploy manifests, rendered as users render them and checked by the real API server: the kustomize base and
 * its namespaced variant (`kubectl kustomize`, built into kubectl) and the Helm chart (`helm template`), each
 * applied with `kubectl apply --dry-run=server`; the config each ships passes `kmc validate`; and the chart's
 * RBAC is the verb table's, exactly as the generator renders it.
 */
describe('deploy manifests', () => {
  let dir: string;
  let helm: string;
  const template = async (args: readonly string[]) =>
    (
      await runCommand(helm, [
        'template',
        'kmc',
        CHART,
        '--namespace',
        'kmc-system',
        '--kube-version',
        K8S_VERSION,
        '--include-crds',
        ...args,
      ])
    ).stdout;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kmc-deploy-'));
    // Built by scripts/bootstrap.sh; a machine without it builds it here once (a few minutes).
    helm = await ensureHelm();
  }, 1_200_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('the kustomize base (every namespace) passes a server dry run, and its config validates', async () => {
    const rendered = (await kubectl(['kustomize', join(ROOT, 'examples/deploy')])).stdout;
    const kinds = objectsOf(rendered).map((o) => o.kind);
    expect(new Set(kinds)).toEqual(
      new Set([
        'Namespace',
        'CustomResourceDefinition',
        'ServiceAccount',
        'ClusterRole',
        'ClusterRoleBinding',
        'Role',
        'RoleBinding',
        'ConfigMap',
        'Service',
        'Deployment',
        'PodDisruptionBudget',
      ]),
    );
    await serverDryRun(rendered);
    const config = parse(await validateConfigOf(rendered, dir)) as { watch: { namespaces: string[] } };
    expect(config.watch.namespaces).toEqual([]);
    // Its RBAC is the generator's for kmc in kmc-system serving every namespace.
    expect(rbacOf(objectsOf(rendered))).toEqual(rbacOf(renderRbac({ namespace: 'kmc-system' })));
  });

  it('the namespaced variant passes a server dry run, binds workloads only where its config watches', async () => {
    const rendered = (await kubectl(['kustomize', join(ROOT, 'examples/deploy/namespaced')])).stdout;
    await serverDryRun(rendered);
    const config = parse(await validateConfigOf(rendered, dir)) as { watch: { namespaces: string[] } };
    expect(config.watch.namespaces).toEqual(['apps']);
    expect(rbacOf(objectsOf(rendered))).toEqual(
      rbacOf(renderRbac({ namespace: 'kmc-system', watchNamespaces: config.watch.namespaces })),
    );
    expect(
      objectsOf(rendered).some((o) => o.kind === 'ClusterRoleBinding' && o.metadata.name === 'kmc-workloads'),
    ).toBe(false);
  });

  it('the Helm chart passes helm lint, and its default rendering a server dry run, with the generator’s RBAC', async () => {
    const lint = await runCommand(helm, ['lint', CHART, '--kube-version', K8S_VERSION]);
    expect(lint.stdout).toContain('0 chart(s) failed');
    const rendered = await template([]);
    await serverDryRun(rendered);
    await validateConfigOf(rendered, dir);
    expect(rbacOf(objectsOf(rendered))).toEqual(rbacOf(renderRbac({ namespace: 'kmc-system' })));
  });

  it('the Helm chart with watched namespaces, a client certificate and extra config renders what it says', async () => {
    const rendered = await template([
      '--set',
      'watch.namespaces={apps,team-b}',
      '--set',
      'mqtt.tls.clientCertificate=true',
      '--set',
      'env=prod',
      '--set-json',
      'plugins=[["batches",{"batchCount":2}],"beta-first",["gray-time",{"seconds":60}]]',
      '--set-json',
      'config={"bases":{"silenceSeconds":45},"log":{"level":"debug"},"mqtt":{"lossGraceSeconds":300}}',
    ]);
    await serverDryRun(rendered);
    const config = parse(await validateConfigOf(rendered, dir)) as Record<string, unknown>;
    expect(config).toMatchObject({
      env: 'prod',
      mqtt: {
        passwordFile: '/etc/kmc/mqtt/password',
        lossGraceSeconds: 300,
        tls: {
          ca: '/etc/kmc/mqtt-tls/ca.crt',
          cert: '/etc/kmc/mqtt-tls/tls.crt',
          key: '/etc/kmc/mqtt-tls/tls.key',
        },
      },
      watch: { namespaces: ['apps', 'team-b'] },
      bases: { silenceSeconds: 45 },
      log: { level: 'debug' },
      plugins: [['batches', { batchCount: 2 }], 'beta-first', ['gray-time', { seconds: 60 }]],
    });
    expect(rbacOf(objectsOf(rendered))).toEqual(
      rbacOf(renderRbac({ namespace: 'kmc-system', watchNamespaces: ['apps', 'team-b'] })),
    );
    const deployment = objectsOf(rendered).find((o) => o.kind === 'Deployment');
    expect(JSON.stringify(deployment)).toContain('"secretName":"kmc-mqtt-tls"');
  });
});
