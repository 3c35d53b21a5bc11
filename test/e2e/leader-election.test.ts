import { CoordinationV1Api, CoreV1Api, V1MicroTime } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaderElector } from '../../core/kube/leader-election.ts';
import { silentLogger } from '../../core/logger.ts';
import { testKubeConfig, uniqueName } from '../support/kube.ts';
import { waitFor } from '../support/wait-for.ts';

const timings = { leaseSeconds: 2, renewDeadlineSeconds: 1.5, retrySeconds: 0.25 };

describe('leader election on a Lease of the real API server', () => {
  const kc = testKubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const coordination = kc.makeApiClient(CoordinationV1Api);
  const namespace = uniqueName('le');
  const electors: LeaderElector[] = [];

  const elector = (name: string, identity: string, log: string[]) => {
    const e = new LeaderElector({
      kc,
      namespace,
      name,
      identity,
      ...timings,
      logger: silentLogger(),
      onStartedLeading: () => {
        log.push(`${identity} started ${Date.now()}`);
      },
      onStoppedLeading: (reason) => {
        log.push(`${identity} stopped ${reason}`);
      },
    });
    electors.push(e);
    return e;
  };

  beforeAll(async () => {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  });
  afterAll(async () => {
    for (const e of electors) await e.stop();
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  });

  it('elects exactly one of two candidates, and hands over at once when the leader releases on stop', async () => {
    const log: string[] = [];
    const a = elector('two', 'a', log);
    const b = elector('two', 'b', log);
    a.start();
    await waitFor(() => a.isLeader, { description: 'a leads' });
    b.start();
    // b keeps trying while a renews: over several lease durations it never leads.
    const renewals = new Set<string>();
    await waitFor(
      async () => {
        const lease = await coordination.readNamespacedLease({ name: 'two', namespace });
        expect(lease.spec?.holderIdentity).toBe('a');
        expect(b.isLeader).toBe(false);
        renewals.add(String(lease.spec?.renewTime));
        return renewals.size >= 12; // 12 renewals at 250 ms ≈ 1.5 lease durations
      },
      { description: 'a renewing while b campaigns', timeoutMs: 20_000, intervalMs: 200 },
    );
    await a.stop();
    expect(log).toContain('a stopped stopped');
    await waitFor(() => b.isLeader, { description: 'b leads after a released', timeoutMs: 5_000 });
    const lease = await coordination.readNamespacedLease({ name: 'two', namespace });
    expect(lease.spec?.holderIdentity).toBe('b');
    expect(lease.spec?.leaseTransitions).toBe(1);
  });

  it('takes over a Lease whose holder died only after a whole lease duration without renewals', async () => {
    const ghostRenewedAt = Date.now();
    await coordination.createNamespacedLease({
      namespace,
      body: {
        metadata: { name: 'ghost', namespace },
        spec: {
          holderIdentity: 'ghost',
          leaseDurationSeconds: timings.leaseSeconds,
          renewTime: new V1MicroTime(),
        },
      },
    });
    const log: string[] = [];
    const c = elector('ghost', 'c', log);
    c.start();
    await waitFor(() => c.isLeader, { description: 'c takes over the dead holder', timeoutMs: 10_000 });
    const tookOverAt = Number(log[0]?.split(' ')[2]);
    expect(tookOverAt - ghostRenewedAt).toBeGreaterThanOrEqual(timings.leaseSeconds * 1000);
    const lease = await coordination.readNamespacedLease({ name: 'ghost', namespace });
    expect(lease.spec?.holderIdentity).toBe('c');
  });
});
