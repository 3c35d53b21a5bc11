import { CoordinationV1Api, CoreV1Api, type V1Node, type V1Pod } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import type { SimulatedBase } from '../../core/sim/simulated-base.ts';
import { KmcHarness } from '../support/kmc-harness.ts';
import { keepLogsOnFailure } from '../support/failure-logs.ts';
import { startKmcProcess, type KmcProcess } from '../support/kmc-process.ts';
import { kubectl } from '../support/kube.ts';
import { exampleManifest, selectBases, toYaml, type ModuleWorkload } from '../support/manifests.ts';
import { recordWatch } from '../support/watch-recorder.ts';
import { waitFor } from '../support/wait-for.ts';

const isReady = (pod: V1Pod) =>
  pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const nodeReady = (node: V1Node) => node.status?.conditions?.find((c) => c.type === 'Ready')?.status;

/** kmc as real processes: killed with SIGKILL, restarted, and run as two replicas with leader election. */
describe('kmc restarts and fails over without disturbing bases, nodes or pods', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function world(baseCount: number) {
    const harness = await KmcHarness.start({ startKmc: false });
    const core = harness.kc.makeApiClient(CoreV1Api);
    const namespace = harness.namespace;
    const processes: KmcProcess[] = [];
    keepLogsOnFailure('kmc-restart-ha', () => processes.flatMap((p) => p.logs()));
    cleanup.push(async () => {
      for (const p of processes) await p.kill();
      await core.deleteNamespace({ name: namespace }).catch(() => undefined);
      await harness.close();
    });
    const baseName = `base-${harness.env}`;
    const bases: SimulatedBase[] = [];
    for (let i = 0; i < baseCount; i += 1) bases.push(await harness.base({ name: baseName }));
    const config = harness.kmcConfig({
      // Kept in memory, written out only when a test fails (keepLogsOnFailure).
      log: { level: 'debug' },
      leaderElection: {
        enabled: true,
        namespace,
        name: 'kmc',
        leaseSeconds: 6,
        renewDeadlineSeconds: 4,
        retrySeconds: 1,
      },
    });
    const start = async () => {
      const p = await startKmcProcess(config);
      processes.push(p);
      return p;
    };
    const holder = async () =>
      (
        await harness.kc
          .makeApiClient(CoordinationV1Api)
          .readNamespacedLease({ name: 'kmc', namespace })
          .catch(() => undefined)
      )?.spec?.holderIdentity;
    const manifest = selectBases(await exampleManifest<ModuleWorkload>('module-deployment.yaml'), baseName);
    manifest.spec.replicas = baseCount;
    const pods = async () => (await core.listNamespacedPod({ namespace, labelSelector: 'app=biz1' })).items;
    const selector = `virtual-kubelet.koupleless.io/env=${harness.env}`;
    const nodes = await recordWatch(
      harness.kc,
      '/api/v1/nodes',
      () => core.listNode({ labelSelector: selector }),
      undefined,
    );
    cleanup.push(() => nodes.stop());
    const ourNodes = () =>
      nodes.versions.filter((v) => v.metadata?.labels?.['virtual-kubelet.koupleless.io/env'] === harness.env);
    const commands = (kind: string) =>
      bases.flatMap((b) => b.timeline.received()).filter((m) => m.kind === kind).length;
    return { harness, core, namespace, bases, start, holder, manifest, pods, ourNodes, commands };
  }

  it('after kill -9 and a restart: no second install of ACTIVATED modules, nodes stay Ready', async () => {
    const { namespace, start, holder, manifest, pods, ourNodes, commands } = await world(2);
    const first = await start();
    await waitFor(async () => (await holder()) === first.identity, {
      description: 'first replica leads',
      timeoutMs: 30_000,
    });
    await kubectl(['apply', '-n', namespace, '-f', '-'], { stdin: toYaml(manifest) });
    const before = await waitFor(
      async () => {
        const list = await pods();
        return list.length === 2 && list.every(isReady) ? list : undefined;
      },
      { description: '2 Ready pods', timeoutMs: 60_000 },
    );
    const installs = commands('installBiz');
    expect(installs).toBe(2);
    await first.kill('SIGKILL');
    const second = await start();
    // The dead replica's Lease must expire before the new one leads (6 s).
    await waitFor(async () => (await holder()) === second.identity, {
      description: 'restarted replica leads',
      timeoutMs: 30_000,
    });
    const polls = commands('queryAllBiz');
    await waitFor(() => commands('queryAllBiz') >= polls + 4, {
      description: 'inventory polls by the new leader',
      timeoutMs: 30_000,
    });
    expect(commands('installBiz')).toBe(installs);
    expect(commands('uninstallBiz')).toBe(0);
    expect(
      ourNodes()
        .map(nodeReady)
        .filter((s) => s !== undefined && s !== 'True'),
    ).toEqual([]);
    const after = await pods();
    expect(after.map((p) => p.metadata?.uid).sort()).toEqual(before.map((p) => p.metadata?.uid).sort());
    expect(after.filter((p) => !isReady(p)).map((p) => p.status?.conditions)).toEqual([]);
  });

  it('two replicas: only the leader installs; when it dies the other takes over with no NotReady node, eviction or uninstall', async () => {
    const { namespace, bases, start, holder, manifest, pods, ourNodes, commands } = await world(3);
    const a = await start();
    const b = await start();
    const leaderId = await waitFor(holder, { description: 'a leader', timeoutMs: 30_000 });
    const [leader, follower] = leaderId === a.identity ? [a, b] : [b, a];
    manifest.spec.replicas = 2;
    await kubectl(['apply', '-n', namespace, '-f', '-'], { stdin: toYaml(manifest) });
    const before = await waitFor(
      async () => {
        const list = await pods();
        return list.length === 2 && list.every(isReady) ? list : undefined;
      },
      { description: '2 Ready pods', timeoutMs: 60_000 },
    );
    const sent = (p: KmcProcess) => p.logs().filter((line) => line['msg'] === 'install sent').length;
    expect(sent(leader)).toBe(2);
    expect(sent(follower)).toBe(0);

    await leader.kill('SIGKILL');
    await waitFor(async () => (await holder()) === follower.identity, {
      description: 'the follower takes over',
      timeoutMs: 30_000,
    });
    // The new leader serves: a scale-up installs on the third base.
    await kubectl(['scale', '-n', namespace, 'deployment/biz1', '--replicas=3']);
    await waitFor(
      async () => {
        const list = await pods();
        return list.length === 3 && list.every(isReady);
      },
      { description: '3 Ready pods after the failover', timeoutMs: 60_000 },
    );
    expect(sent(follower)).toBe(1);
    expect(commands('uninstallBiz')).toBe(0);
    expect(
      ourNodes()
        .map(nodeReady)
        .filter((s) => s !== undefined && s !== 'True'),
    ).toEqual([]);
    const survivors = (await pods()).map((p) => p.metadata?.uid);
    for (const pod of before) expect(survivors).toContain(pod.metadata?.uid);
    expect(
      bases.every((base) => base.timeline.activatedVersionsAt('biz1', Date.now()).join() === '0.0.1'),
    ).toBe(true);
  });
});
