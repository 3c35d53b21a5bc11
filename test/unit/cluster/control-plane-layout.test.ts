import { describe, expect, it } from 'vitest';
import { componentSpecs, type ControlPlaneLayout } from '../../../core/cluster/component-specs.ts';
import { FAST_PROFILE, REALISTIC_PROFILE, TIMER_PROFILES } from '../../../core/cluster/timer-profiles.ts';

const layout = (profile = FAST_PROFILE): ControlPlaneLayout => ({
  dataDir: '/tmp/kmc-cp-test',
  binDir: '/cache/bin',
  kubeconfig: '/tmp/kmc-cp-test/kubeconfig',
  pki: {
    dir: '/tmp/kmc-cp-test/pki',
    caCert: '/tmp/kmc-cp-test/pki/ca.crt',
    caKey: '/tmp/kmc-cp-test/pki/ca.key',
    adminCert: '/tmp/kmc-cp-test/pki/admin.crt',
    adminKey: '/tmp/kmc-cp-test/pki/admin.key',
    saKey: '/tmp/kmc-cp-test/pki/sa.key',
    saPub: '/tmp/kmc-cp-test/pki/sa.pub',
  },
  ports: { etcdClient: 1, etcdPeer: 2, apiserver: 3, controllerManager: 4, scheduler: 5 },
  profile,
});

const flagValue = (args: readonly string[], flag: string) =>
  args.find((arg) => arg.startsWith(`${flag}=`))?.slice(flag.length + 1);

describe('local control plane layout', () => {
  it('starts etcd, kube-apiserver, kube-controller-manager and kube-scheduler in that order', () => {
    expect(componentSpecs(layout()).map((c) => c.name)).toEqual([
      'etcd',
      'kube-apiserver',
      'kube-controller-manager',
      'kube-scheduler',
    ]);
  });

  it("names the run's data directory in every command line, which is how its processes are found", () => {
    for (const component of componentSpecs(layout())) {
      expect(component.args.join(' ')).toContain('/tmp/kmc-cp-test');
    }
  });

  it('binds every component to loopback on its own explicit port', () => {
    const specs = componentSpecs(layout());
    const apiserver = specs.find((c) => c.name === 'kube-apiserver');
    expect(flagValue(apiserver?.args ?? [], '--secure-port')).toBe('3');
    expect(flagValue(apiserver?.args ?? [], '--bind-address')).toBe('127.0.0.1');
    expect(flagValue(specs[2]?.args ?? [], '--secure-port')).toBe('4');
    expect(flagValue(specs[3]?.args ?? [], '--secure-port')).toBe('5');
  });

  it.each(Object.values(TIMER_PROFILES))('passes the $name profile timers to the components', (profile) => {
    const [, apiserver, kcm] = componentSpecs(layout(profile));
    expect(flagValue(kcm?.args ?? [], '--node-monitor-grace-period')).toBe(profile.nodeMonitorGracePeriod);
    expect(flagValue(kcm?.args ?? [], '--node-eviction-rate')).toBe(profile.nodeEvictionRate);
    expect(flagValue(apiserver?.args ?? [], '--default-unreachable-toleration-seconds')).toBe(
      String(profile.defaultTolerationSeconds),
    );
  });

  it.each(Object.values(TIMER_PROFILES))(
    '$name profile: a controller failover (leader lease) fits well inside the node-monitor grace',
    (profile) => {
      const grace = Number.parseInt(profile.nodeMonitorGracePeriod, 10);
      // A new leader acts at most one lease duration after the old one's last renewal; leave 4x headroom.
      expect(profile.leaderElection.leaseSeconds * 4).toBeLessThanOrEqual(grace);
      expect(profile.leaderElection.renewDeadlineSeconds).toBeLessThan(profile.leaderElection.leaseSeconds);
    },
  );

  it('keeps the fast profile fast and the realistic one at Kubernetes defaults', () => {
    expect(FAST_PROFILE.nodeMonitorGracePeriod).toBe('30s');
    expect(FAST_PROFILE.defaultTolerationSeconds).toBe(5);
    expect(REALISTIC_PROFILE.nodeMonitorGracePeriod).toBe('50s');
    expect(REALISTIC_PROFILE.defaultTolerationSeconds).toBe(300);
  });
});
