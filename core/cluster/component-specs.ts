import { join } from 'node:path';
import type { Pki } from './pki.ts';
import type { TimerProfile } from './timer-profiles.ts';

export interface ControlPlanePorts {
  readonly etcdClient: number;
  readonly etcdPeer: number;
  readonly apiserver: number;
  readonly controllerManager: number;
  readonly scheduler: number;
}

export type ComponentName = 'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler';

/** How the supervisor knows a component is up. */
export type ReadinessProbe =
  | { readonly kind: 'http'; readonly url: string }
  /** An HTTPS GET with the admin client certificate, checked against the cluster CA. */
  | { readonly kind: 'https-admin'; readonly url: string }
  /** An HTTPS GET of a component's self-signed endpoint, which only has to answer 200. */
  | { readonly kind: 'https-insecure'; readonly url: string };

export interface ComponentSpec {
  readonly name: ComponentName;
  readonly binary: string;
  readonly args: readonly string[];
  readonly logFile: string;
  readonly readiness: ReadinessProbe;
  readonly readinessTimeoutMs: number;
}

export interface ControlPlaneLayout {
  readonly dataDir: string;
  readonly binDir: string;
  readonly pki: Pki;
  readonly kubeconfig: string;
  readonly ports: ControlPlanePorts;
  readonly profile: TimerProfile;
}

const LOOPBACK = '127.0.0.1';

/**
 * The command lines of the four components, in start order. Flags follow kwok's secure-port set and envtest's
 * defaults (control-plane.md §5); every port is explicit so several control planes can run side by side, and
 * the data directory appears in every command line, which is how a reaper (or a test) finds them.
 */
export function componentSpecs(layout: ControlPlaneLayout): ComponentSpec[] {
  const { dataDir, binDir, pki, kubeconfig, ports, profile } = layout;
  const logs = join(dataDir, 'logs');
  const etcdUrl = `http://${LOOPBACK}:${ports.etcdClient}`;
  const peerUrl = `http://${LOOPBACK}:${ports.etcdPeer}`;
  return [
    {
      name: 'etcd',
      binary: join(binDir, 'etcd'),
      args: [
        '--name=kmc',
        `--data-dir=${join(dataDir, 'etcd')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=kmc=${peerUrl}`,
        // A throw-away cluster: durability buys nothing and fsync dominates on slow disks.
        '--unsafe-no-fsync=true',
        '--auto-compaction-retention=1',
        '--quota-backend-bytes=2147483648',
        '--logger=zap',
        '--log-level=warn',
      ],
      logFile: join(logs, 'etcd.log'),
      readiness: { kind: 'http', url: `${etcdUrl}/health` },
      readinessTimeoutMs: 30_000,
    },
    {
      name: 'kube-apiserver',
      binary: join(binDir, 'kube-apiserver'),
      args: [
        `--etcd-servers=${etcdUrl}`,
        `--bind-address=${LOOPBACK}`,
        `--advertise-address=${LOOPBACK}`,
        `--secure-port=${ports.apiserver}`,
        // Loopback addresses are not valid Endpoints; with `none` the apiserver does not try to publish them.
        '--endpoint-reconciler-type=none',
        `--tls-cert-file=${pki.adminCert}`,
        `--tls-private-key-file=${pki.adminKey}`,
        `--client-ca-file=${pki.caCert}`,
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${pki.saPub}`,
        `--service-account-signing-key-file=${pki.saKey}`,
        '--service-cluster-ip-range=10.0.0.0/24',
        '--authorization-mode=Node,RBAC',
        '--allow-privileged=true',
        `--default-not-ready-toleration-seconds=${profile.defaultTolerationSeconds}`,
        `--default-unreachable-toleration-seconds=${profile.defaultTolerationSeconds}`,
        `--enable-priority-and-fairness=${profile.priorityAndFairness}`,
        '--profiling=false',
        '--v=1',
      ],
      logFile: join(logs, 'kube-apiserver.log'),
      readiness: { kind: 'https-admin', url: `https://${LOOPBACK}:${ports.apiserver}/readyz` },
      // k/k's own integration tests needed up to 35 s for /readyz on slow CI runners.
      readinessTimeoutMs: 120_000,
    },
    {
      name: 'kube-controller-manager',
      binary: join(binDir, 'kube-controller-manager'),
      args: [
        `--kubeconfig=${kubeconfig}`,
        `--authentication-kubeconfig=${kubeconfig}`,
        `--authorization-kubeconfig=${kubeconfig}`,
        `--bind-address=${LOOPBACK}`,
        `--secure-port=${ports.controllerManager}`,
        `--cert-dir=${join(dataDir, 'kcm-certs')}`,
        '--leader-elect=false',
        '--controllers=*',
        `--root-ca-file=${pki.caCert}`,
        `--service-account-private-key-file=${pki.saKey}`,
        `--node-monitor-period=${profile.nodeMonitorPeriod}`,
        `--node-monitor-grace-period=${profile.nodeMonitorGracePeriod}`,
        `--node-startup-grace-period=${profile.nodeStartupGracePeriod}`,
        `--node-eviction-rate=${profile.nodeEvictionRate}`,
        '--v=1',
      ],
      logFile: join(logs, 'kube-controller-manager.log'),
      readiness: { kind: 'https-insecure', url: `https://${LOOPBACK}:${ports.controllerManager}/healthz` },
      readinessTimeoutMs: 60_000,
    },
    {
      name: 'kube-scheduler',
      binary: join(binDir, 'kube-scheduler'),
      args: [
        `--kubeconfig=${kubeconfig}`,
        `--authentication-kubeconfig=${kubeconfig}`,
        `--authorization-kubeconfig=${kubeconfig}`,
        `--bind-address=${LOOPBACK}`,
        `--secure-port=${ports.scheduler}`,
        `--cert-dir=${join(dataDir, 'scheduler-certs')}`,
        '--leader-elect=false',
        '--v=1',
      ],
      logFile: join(logs, 'kube-scheduler.log'),
      readiness: { kind: 'https-insecure', url: `https://${LOOPBACK}:${ports.scheduler}/healthz` },
      readinessTimeoutMs: 60_000,
    },
  ];
}
