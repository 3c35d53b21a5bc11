import { AppsV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { UserConfig } from '../../config/config-schema.ts';
import { NODE_EVENT_NAMESPACE, NODE_LEASE_NAMESPACE } from '../../core/rbac/rbac-manifests.ts';
import { VERB_TABLE, type VerbGrant } from '../../core/rbac/verb-table.ts';
import type { SimulatedBase } from '../../core/sim/simulated-base.ts';
import { BUILT_IN_PLUGINS } from '../../plugins/index.ts';
import {
  rbacRequestOf,
  startApiRecorder,
  type ApiRecorder,
  type RbacRequest,
} from '../support/api-recorder.ts';
import { keepLogsOnFailure } from '../support/failure-logs.ts';
import { KmcHarness } from '../support/kmc-harness.ts';
import { startKmcProcess, type KmcProcess } from '../support/kmc-process.ts';
import { kubectl } from '../support/kube.ts';
import {
  exampleManifest,
  selectBases,
  setModuleVersion,
  toYaml,
  type ModuleWorkload,
} from '../support/manifests.ts';
import { startMosquitto, type RunningMosquitto } from '../support/mosquitto.ts';
import { apiServerOf, applyObjects, serviceAccountToken, tokenKubeconfig } from '../support/rbac.ts';
import { rolloutsApi } from '../support/rollouts.ts';
import {
  createTestCa,
  issueCert,
  mosquittoPasswordFile,
  mosquittoTlsLines,
  type IssuedCert,
  type TestCa,
} from '../support/test-pki.ts';
import { waitFor } from '../support/wait-for.ts';
import { isReady, versionOf } from '../support/pods.ts';

const DEPLOY = fileURLToPath(new URL('../../examples/deploy', import.meta.url));
const DEPLOY_NAMESPACE = 'kmc-system';
/** What of the kustomize base a controller run as a local process needs in the cluster. */
const CLUSTER_KINDS = new Set([
  'Namespace',
  'CustomResourceDefinition',
  'ServiceAccount',
  'ClusterRole',
  'ClusterRoleBinding',
  'Role',
  'RoleBinding',
]);
const PEER_LABEL = 'module-controller.koupleless.io/strategy';
const BASES = 4;

/** Options for the built-in plugins whose defaults would not show them working; the others run with defaults. */
const PLUGIN_OPTIONS: Readonly<Record<string, unknown>> = {
  batches: { batchCount: 2 },
  'pause-and-confirm': { after: 'beta' },
  'gray-time': { seconds: 1 },
  'max-unavailable': { maxUnavailable: '50%' },
  'peer-replica-syncer': { resyncSeconds: 30 },
};

/** Whether a request falls under a grant: same group, resource and verb, in a namespace the grant's scope covers. */
function covers(grant: VerbGrant, request: RbacRequest, watched: readonly string[]): boolean {
  if (
    grant.apiGroup !== request.apiGroup ||
    grant.resource !== request.resource ||
    grant.verb !== request.verb
  )
    return false;
  if (grant.resourceNames && !grant.resourceNames.includes(request.name ?? '')) return false;
  switch (grant.scope) {
    case 'cluster':
      return request.namespace === undefined;
    case 'workloads':
      return request.namespace !== undefined && watched.includes(request.namespace);
    case 'node-leases':
      return request.namespace === NODE_LEASE_NAMESPACE;
    case 'leader-election':
      return request.namespace === DEPLOY_NAMESPACE;
    case 'node-events':
      return request.namespace === NODE_EVENT_NAMESPACE;
  }
}

/**
 * kmc as it runs in a cluster, on the real control plane: the kustomize base's CRD, ServiceAccount and RBAC
 * applied, kmc run as a process with that ServiceAccount's token (not admin), leader election on, every built-in
 * plugin enabled, mutual TLS and a password file to mosquitto. A transparent recorder between kmc and the API
 * server sees every request and every answer: through a release with a beta batch, a confirmation and gray time,
 * an abort, a delete and a base that goes away, the API server refuses nothing, and kmc asks for nothing the verb
 * table does not list.
 */
describe('kmc under the kustomize base’s ServiceAccount, over mutual TLS, with every built-in plugin', () => {
  let dir: string;
  let ca: TestCa;
  let clientCert: IssuedCert;
  let mosquitto: RunningMosquitto;
  let harness: KmcHarness;
  let recorder: ApiRecorder | undefined;
  let kmc: KmcProcess | undefined;
  let manifest: ModuleWorkload;
  const bases: SimulatedBase[] = [];

  const pods = async (): Promise<V1Pod[]> =>
    (
      await harness.kc
        .makeApiClient(CoreV1Api)
        .listNamespacedPod({ namespace: harness.namespace, labelSelector: 'app=biz1' })
    ).items.filter((pod) => !pod.metadata?.deletionTimestamp);
  const settled = (version: string, timeoutMs = 90_000) =>
    waitFor(
      async () => {
        const list = await pods();
        if (list.length === BASES && list.every((p) => isReady(p) && versionOf(p) === version)) return list;
        throw new Error(
          list.map((p) => `${versionOf(p) ?? '?'}${isReady(p) ? '' : ' (not Ready)'}`).join(', '),
        );
      },
      { description: `${String(BASES)} Ready pods of biz1 at ${version}`, timeoutMs },
    );
  const rollouts = () => rolloutsApi(harness.kc, harness.namespace);
  const waitRollout = (
    name: string,
    accept: (phase: string | undefined, batch: number | undefined, reason: string | undefined) => boolean,
  ) =>
    waitFor(
      async () => {
        const rollout = await rollouts().get(name);
        const hold = rollout?.status?.hold;
        if (rollout && accept(rollout.status?.phase, hold?.batch, hold?.reason)) return rollout;
        throw new Error(`status: ${JSON.stringify(rollout?.status ?? null)}`);
      },
      { description: `${name} as expected`, timeoutMs: 90_000 },
    );
  const apply = (workload: ModuleWorkload) =>
    kubectl(['apply', '-n', harness.namespace, '-f', '-'], { stdin: toYaml(workload) });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kmc-rbac-release-'));
    ca = await createTestCa(dir, 'kmc-test-ca');
    const server = await issueCert(ca, { name: 'broker', usage: 'server', altNames: ['IP:127.0.0.1'] });
    clientCert = await issueCert(ca, { name: 'client', usage: 'client' });
    const passwords = await mosquittoPasswordFile(join(dir, 'mosquitto.passwd'), {
      kmc: 'kmc-secret',
      base: 'b',
    });
    await writeFile(join(dir, 'password'), 'kmc-secret\n');
    const tls = {
      ca: await readFile(ca.cert),
      cert: await readFile(clientCert.cert),
      key: await readFile(clientCert.key),
    };
    mosquitto = await startMosquitto({
      protocol: 'mqtts',
      listenerLines: mosquittoTlsLines(server, ca),
      extraLines: ['allow_anonymous false', `password_file ${passwords}`],
      probeOptions: { ...tls, username: 'base', password: 'b' },
    });
    harness = await KmcHarness.start({
      startKmc: false,
      broker: { url: mosquitto.url, close: () => mosquitto.stop(), readLog: () => mosquitto.readLog() },
    });
    for (let i = 0; i < BASES; i += 1) {
      bases.push(
        await harness.base({
          name: `base-${harness.env}`,
          installLatencyMs: 200,
          mqttOptions: { ...tls, username: 'base', password: 'b' },
        }),
      );
    }
    manifest = selectBases(
      await exampleManifest<ModuleWorkload>('module-deployment.yaml'),
      `base-${harness.env}`,
    );
    manifest.metadata.labels = { ...manifest.metadata.labels, [PEER_LABEL]: 'peer' };
    manifest.spec.replicas = 1;
    manifest.spec['revisionHistoryLimit'] = 1;
  });

  beforeEach(() => {
    keepLogsOnFailure('rbac-release', () => [
      ...(kmc ? kmc.logs() : []),
      ...(recorder
        ? recorder.requests.map((r) => ({ request: `${r.method} ${r.path}`, status: r.status }))
        : []),
    ]);
  });

  afterAll(async () => {
    await kmc?.kill();
    await recorder?.close();
    await harness.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('applies the rendered kustomize base’s CRD, namespace, ServiceAccount and RBAC', async () => {
    const rendered = await kubectl(['kustomize', DEPLOY]);
    const objects = parseAllDocuments(rendered.stdout)
      .map((document) => document.toJS() as { kind: string; metadata: { name: string } })
      .filter((object) => CLUSTER_KINDS.has(object.kind));
    expect(new Set(objects.map((o) => o.kind))).toEqual(CLUSTER_KINDS);
    await applyObjects(objects);
    const account = await harness.kc
      .makeApiClient(CoreV1Api)
      .readNamespacedServiceAccount({ name: 'kmc', namespace: DEPLOY_NAMESPACE });
    expect(account.metadata?.name).toBe('kmc');
  });

  it('runs as the ServiceAccount (not admin) with leader election, and installs a peer Deployment on every base', async () => {
    const serving = await issueCert(ca, { name: 'recorder', usage: 'server', altNames: ['IP:127.0.0.1'] });
    recorder = await startApiRecorder(apiServerOf(harness.kc), {
      cert: await readFile(serving.cert),
      key: await readFile(serving.key),
    });
    const token = await serviceAccountToken(harness.kc, DEPLOY_NAMESPACE, 'kmc');
    const kubeconfig = await tokenKubeconfig({
      server: recorder.url,
      token,
      ca: await readFile(ca.cert),
      name: `kmc-sa-${harness.env}`,
    });
    const config: UserConfig = harness.kmcConfig({
      mqtt: {
        username: 'kmc',
        passwordFile: join(dir, 'password'),
        tls: { ca: ca.cert, cert: clientCert.cert, key: clientCert.key },
      },
      // The Lease goes to the pod namespace (POD_NAMESPACE), as in the cluster.
      leaderElection: { enabled: true, leaseSeconds: 6, renewDeadlineSeconds: 4, retrySeconds: 1 },
      bases: { deleteAfterSeconds: 6 },
      log: { level: 'debug' },
      plugins: [...BUILT_IN_PLUGINS.keys()].map((name) =>
        PLUGIN_OPTIONS[name] === undefined ? name : ([name, PLUGIN_OPTIONS[name]] as [string, unknown]),
      ),
    });
    kmc = await startKmcProcess(config, `kmc-${harness.env}`, {
      kubeconfig,
      env: { POD_NAMESPACE: DEPLOY_NAMESPACE },
    });
    const leases = await waitFor(
      async () =>
        (
          await kubectl([
            'get',
            'lease',
            '-n',
            DEPLOY_NAMESPACE,
            `kmc-${harness.env}`,
            '-o',
            'jsonpath={.spec.holderIdentity}',
          ])
        ).stdout,
      { description: 'kmc holding its leader Lease in kmc-system', timeoutMs: 60_000 },
    );
    expect(leases).toBe(`kmc-${harness.env}`);

    await apply(setModuleVersion(structuredClone(manifest), 'biz1', '0.0.1'));
    // The peer syncer scales replicas 1 → one per base (deployments/scale), then a first install.
    await settled('0.0.1');
    await waitRollout('biz1-r1', (phase) => phase === 'Completed');
    const replicas = (
      await harness.kc
        .makeApiClient(AppsV1Api)
        .readNamespacedDeployment({ name: 'biz1', namespace: harness.namespace })
    ).spec?.replicas;
    expect(replicas).toBe(BASES);
  });

  it('rolls a release out in batches: the beta pod, a confirmation, gray time, then the rest', async () => {
    await apply(setModuleVersion(structuredClone(manifest), 'biz1', '0.0.2'));
    // Gray time (1 s) first, then the confirmation the beta batch waits for.
    const held = await waitRollout(
      'biz1-r2',
      (phase, batch, reason) => phase === 'Holding' && batch === 2 && reason === 'AwaitingConfirmation',
    );
    expect(held.status?.plan?.[0]).toBe(1);
    await rollouts().patchSpec('biz1-r2', { confirmedBatch: 2 });
    const done = await waitRollout('biz1-r2', (phase) => phase === 'Completed');
    await settled('0.0.2');
    // The gray time (1 s) lay between the beta batch's completion and the next batch's start.
    const [beta, rest] = done.status?.batches ?? [];
    expect(Date.parse(rest?.startedAt ?? '') - Date.parse(beta?.completedAt ?? '')).toBeGreaterThanOrEqual(
      1_000,
    );
  });

  it('aborts a release back to its stable revision, and prunes ModuleRollouts past revisionHistoryLimit', async () => {
    await apply(setModuleVersion(structuredClone(manifest), 'biz1', '0.0.3'));
    await waitRollout(
      'biz1-r3',
      (phase, batch, reason) => phase === 'Holding' && batch === 2 && reason === 'AwaitingConfirmation',
    );
    await rollouts().patchSpec('biz1-r3', { abort: true });
    await waitRollout('biz1-r3', (phase) => phase === 'Aborted');
    await settled('0.0.2');
    // revisionHistoryLimit 1: the ModuleRollout of revision 1 has no ReplicaSet left and goes.
    await waitFor(async () => (await rollouts().get('biz1-r1')) === undefined, {
      description: 'biz1-r1 pruned',
      timeoutMs: 60_000,
    });
  });

  it('uninstalls everything when the Deployment goes, and deletes the node of a base that went away', async () => {
    await kubectl(['delete', 'deployment', 'biz1', '-n', harness.namespace, '--wait=false']);
    await waitFor(async () => (await pods()).length === 0, {
      description: 'every biz1 pod gone',
      timeoutMs: 60_000,
    });
    await waitFor(
      () => bases.every((base) => base.timeline.activatedVersionsAt('biz1', Date.now()).length === 0),
      { description: 'biz1 uninstalled from every base', timeoutMs: 30_000 },
    );
    const gone = bases[0];
    if (!gone) throw new Error('no base');
    await gone.stop();
    const core = harness.kc.makeApiClient(CoreV1Api);
    await waitFor(
      async () =>
        await core.readNode({ name: harness.nodeName(gone) }).then(
          () => false,
          () => true,
        ),
      { description: `${harness.nodeName(gone)} deleted after deleteAfterSeconds`, timeoutMs: 60_000 },
    );
  });

  it('got no 403 from the API server, and asked for nothing the verb table does not list', async () => {
    // A graceful stop releases the leader Lease: its last write.
    await kmc?.kill('SIGTERM');
    const requests = recorder?.requests ?? [];
    expect(requests.length).toBeGreaterThan(100);
    expect(requests.filter((r) => r.status === 403).map((r) => `${r.method} ${r.path}`)).toEqual([]);
    const watched = [harness.namespace];
    const unlisted = requests
      .map((r) => ({ r, rbac: rbacRequestOf(r) }))
      .filter(({ rbac }) => rbac && !VERB_TABLE.some((grant) => covers(grant, rbac, watched)))
      .map(({ r }) => `${r.method} ${r.path}`);
    expect([...new Set(unlisted)]).toEqual([]);
    // What the release exercised, by line of the table (the others are proven by rbac-least-privilege).
    const used = new Set(
      requests.flatMap((r) => {
        const rbac = rbacRequestOf(r);
        if (!rbac) return [];
        // A server-side apply that answers 201 created the object: the API server authorized a create too.
        const asked = r.method === 'PATCH' && r.status === 201 ? [rbac, { ...rbac, verb: 'create' }] : [rbac];
        return asked.flatMap((one) =>
          VERB_TABLE.filter((grant) => covers(grant, one, watched)).map(
            (grant) => `${grant.verb} ${grant.resource} (${grant.scope})`,
          ),
        );
      }),
    );
    expect([...used].sort()).toEqual(
      expect.arrayContaining([
        'create nodes (cluster)',
        'patch nodes (cluster)',
        'patch nodes/status (cluster)',
        'delete nodes (cluster)',
        'get customresourcedefinitions (cluster)',
        'create leases (node-leases)',
        'patch leases (node-leases)',
        'delete leases (node-leases)',
        'get leases (leader-election)',
        'create leases (leader-election)',
        'update leases (leader-election)',
        'patch pods/status (workloads)',
        'delete pods (workloads)',
        'patch deployments (workloads)',
        'patch deployments/scale (workloads)',
        'create modulerollouts (workloads)',
        'delete modulerollouts (workloads)',
        'patch modulerollouts/status (workloads)',
        'create events (workloads)',
      ]),
    );
  });
});
