import { ROLLOUT_CRD, ROLLOUT_GROUP, ROLLOUT_PLURAL } from '../rollout/module-rollout.ts';

/**
 * Where a grant applies, which decides the kind of role and binding it lands in:
 * - `cluster`: cluster-scoped resources (nodes, the CRD): a ClusterRole and a ClusterRoleBinding;
 * - `workloads`: namespaced resources in the namespaces kmc serves (`watch.namespaces`): a ClusterRole, bound
 *   cluster-wide when kmc serves every namespace, or by a RoleBinding in each watched namespace;
 * - `node-leases`: the `kube-node-lease` namespace (node heartbeats): a Role there;
 * - `leader-election`: kmc's own namespace (the leader Lease): a Role there;
 * - `node-events`: the `default` namespace, where Events about nodes go: a Role there, left out when the
 *   workloads binding already covers `default`.
 */
export type RbacScope = 'cluster' | 'workloads' | 'node-leases' | 'leader-election' | 'node-events';

export const RBAC_SCOPES: readonly RbacScope[] = [
  'cluster',
  'workloads',
  'node-leases',
  'leader-election',
  'node-events',
];

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete';

/** Kubernetes' own order of verbs, used wherever verbs are listed. */
export const VERB_ORDER: readonly Verb[] = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];

/** One verb on one resource that kmc needs, where it needs it, and why. */
export interface VerbGrant {
  /** API group; `''` is the core group. */
  readonly apiGroup: string;
  /** Plural resource, with `/subresource` when the call goes to one (`pods/status`). */
  readonly resource: string;
  readonly verb: Verb;
  readonly scope: RbacScope;
  /** Only these objects (the rule gets `resourceNames`). */
  readonly resourceNames?: readonly string[];
  /**
   * kmc exercises this verb through a server-side apply (a PATCH): `create` when the object does not exist yet,
   * which the API server authorizes as a create.
   */
  readonly viaApply?: true;
  /** Why kmc needs it: what breaks without it. Shown in docs/install.md. */
  readonly reason: string;
  /** The code that makes the call. */
  readonly usedBy: string;
}

/**
 * Every Kubernetes API call kmc makes, one verb per line, each with its reason. The ClusterRoles, Roles and
 * bindings of the kustomize base, the Helm chart and the docs are all generated from this table
 * (core/rbac/rbac-manifests.ts, `npm run generate`), and the e2e tests prove it both ways on the real API server:
 * kmc runs a full release under exactly these rights with no 403, and without any one line of it the operation
 * that line is for is refused (test/e2e/rbac-least-privilege.test.ts).
 *
 * Deliberately absent: `get` on pods, nodes and workloads (kmc reads them from its informer caches), `update`
 * anywhere but the leader Lease (everything else is a patch), secrets and configmaps (kmc reads its config and
 * credentials from mounted files), pods/eviction, and any wildcard.
 */
export const VERB_TABLE: readonly VerbGrant[] = [
  // Nodes: kmc is the kubelet of its virtual nodes.
  {
    apiGroup: '',
    resource: 'nodes',
    verb: 'list',
    scope: 'cluster',
    reason: 'the node informer lists the virtual nodes of its env at start and after a watch expires',
    usedBy: 'core/vnode/vnode-controller.ts',
  },
  {
    apiGroup: '',
    resource: 'nodes',
    verb: 'watch',
    scope: 'cluster',
    reason: 'the node informer follows its virtual nodes (cordon, labels set by others, deletion)',
    usedBy: 'core/vnode/vnode-controller.ts',
  },
  {
    apiGroup: '',
    resource: 'nodes',
    verb: 'create',
    scope: 'cluster',
    viaApply: true,
    reason:
      "a base's first heartbeat creates its node (server-side apply of an object that does not exist yet)",
    usedBy: 'core/vnode/vnode-controller.ts',
  },
  {
    apiGroup: '',
    resource: 'nodes',
    verb: 'patch',
    scope: 'cluster',
    reason:
      'server-side apply of the labels, taint and annotations kmc owns on its nodes; the install ledger and ' +
      'retentions are node annotations',
    usedBy: 'core/vnode/vnode-controller.ts, core/module/module-controller.ts',
  },
  {
    apiGroup: '',
    resource: 'nodes',
    verb: 'delete',
    scope: 'cluster',
    reason: 'a node whose base stayed silent for bases.deleteAfterSeconds is deleted',
    usedBy: 'core/vnode/vnode-controller.ts',
  },
  {
    apiGroup: '',
    resource: 'nodes/status',
    verb: 'patch',
    scope: 'cluster',
    reason:
      'Ready condition with fresh heartbeats, addresses, capacity: what the node-lifecycle controller reads',
    usedBy: 'core/vnode/vnode-controller.ts',
  },
  {
    apiGroup: 'apiextensions.k8s.io',
    resource: 'customresourcedefinitions',
    verb: 'get',
    scope: 'cluster',
    resourceNames: [ROLLOUT_CRD],
    reason:
      'at start kmc checks that the ModuleRollout CRD is installed (else it runs unbatched and says how)',
    usedBy: 'core/orchestrator.ts',
  },

  // Node heartbeats: a Lease per node in kube-node-lease, as kubelets keep.
  {
    apiGroup: 'coordination.k8s.io',
    resource: 'leases',
    verb: 'create',
    scope: 'node-leases',
    reason: 'the heartbeat Lease of a new virtual node',
    usedBy: 'core/vnode/node-lease-renewer.ts',
  },
  {
    apiGroup: 'coordination.k8s.io',
    resource: 'leases',
    verb: 'patch',
    scope: 'node-leases',
    reason:
      'renews each node Lease every bases.leaseRenewSeconds, so the node-lifecycle controller sees a live kubelet',
    usedBy: 'core/vnode/node-lease-renewer.ts',
  },
  {
    apiGroup: 'coordination.k8s.io',
    resource: 'leases',
    verb: 'delete',
    scope: 'node-leases',
    reason: 'removes the Lease of a node it deletes',
    usedBy: 'core/vnode/node-lease-renewer.ts',
  },

  // Leader election: one Lease in kmc's own namespace.
  {
    apiGroup: 'coordination.k8s.io',
    resource: 'leases',
    verb: 'get',
    scope: 'leader-election',
    reason: 'reads the leader Lease to follow the leader, or take over when it expired',
    usedBy: 'core/kube/leader-election.ts',
  },
  {
    apiGroup: 'coordination.k8s.io',
    resource: 'leases',
    verb: 'create',
    scope: 'leader-election',
    reason: 'the first replica creates the leader Lease',
    usedBy: 'core/kube/leader-election.ts',
  },
  {
    apiGroup: 'coordination.k8s.io',
    resource: 'leases',
    verb: 'update',
    scope: 'leader-election',
    reason:
      'renews, takes over and releases the leader Lease; an update with resourceVersion, so two replicas never both win',
    usedBy: 'core/kube/leader-election.ts',
  },

  // Module pods: kmc is their kubelet.
  {
    apiGroup: '',
    resource: 'pods',
    verb: 'list',
    scope: 'workloads',
    reason:
      'the pod informer lists the pods bound to nodes, in the watched namespaces (and the scheduler plugin the ' +
      'pods waiting for it)',
    usedBy: 'core/kube/cluster-caches.ts, core/scheduling/module-scheduler.ts',
  },
  {
    apiGroup: '',
    resource: 'pods',
    verb: 'watch',
    scope: 'workloads',
    reason: 'the pod informer follows bound pods: new module pods become installs, deletions uninstalls',
    usedBy: 'core/kube/cluster-caches.ts',
  },
  {
    apiGroup: '',
    resource: 'pods',
    verb: 'patch',
    scope: 'workloads',
    reason:
      'controller.kubernetes.io/pod-deletion-cost on superseded pods and on pods of lost bases (peer-replica-syncer), ' +
      'so the ReplicaSet deletes exactly those',
    usedBy: 'core/module/module-controller.ts, plugins/peer-replica-syncer-plugin.ts',
  },
  {
    apiGroup: '',
    resource: 'pods',
    verb: 'delete',
    scope: 'workloads',
    reason:
      'finishes the termination of a deleted pod (grace 0, UID precondition) once its module is uninstalled or ' +
      'retained, as a kubelet does; removes pods biz-deactivate failed',
    usedBy: 'core/module/module-controller.ts',
  },
  {
    apiGroup: '',
    resource: 'pods/status',
    verb: 'patch',
    scope: 'workloads',
    reason:
      'pod phase, conditions (Ready, koupleless.io/InstallHeld) and container states from the base reports; ' +
      'PodScheduled=False with the reason when the scheduler plugin finds no base',
    usedBy: 'core/module/module-controller.ts, core/scheduling/module-scheduler.ts',
  },
  {
    apiGroup: '',
    resource: 'pods/binding',
    verb: 'create',
    scope: 'workloads',
    reason:
      'the scheduler plugin binds module pods whose spec.schedulerName is its own to a base (the Binding API, as ' +
      'kube-scheduler does)',
    usedBy: 'plugins/scheduler-plugin.ts (core/scheduling/module-scheduler.ts)',
  },

  // Workloads: which version is current, and the rollout engine.
  {
    apiGroup: 'apps',
    resource: 'deployments',
    verb: 'list',
    scope: 'workloads',
    reason: 'the Deployment informer: rollout targets, their revision, strategy annotations and replicas',
    usedBy: 'core/kube/cluster-caches.ts',
  },
  {
    apiGroup: 'apps',
    resource: 'deployments',
    verb: 'watch',
    scope: 'workloads',
    reason: 'the Deployment informer: a new template starts a rollout, pause / scale / delete change it',
    usedBy: 'core/kube/cluster-caches.ts',
  },
  {
    apiGroup: 'apps',
    resource: 'deployments',
    verb: 'patch',
    scope: 'workloads',
    reason:
      'ModuleRollout spec.abort restores the stable template in one patch (as kubectl rollout undo does)',
    usedBy: 'core/rollout/rollout-engine.ts',
  },
  {
    apiGroup: 'apps',
    resource: 'deployments/scale',
    verb: 'patch',
    scope: 'workloads',
    reason:
      'peer-replica-syncer sets the replicas of peer Deployments to the number of matching bases ' +
      '(upstream’s sample RBAC lacks it)',
    usedBy: 'plugins/peer-replica-syncer-plugin.ts',
  },
  {
    apiGroup: 'apps',
    resource: 'replicasets',
    verb: 'list',
    scope: 'workloads',
    reason:
      "the ReplicaSet informer: a Deployment's current version is the template of its newest ReplicaSet",
    usedBy: 'core/kube/cluster-caches.ts',
  },
  {
    apiGroup: 'apps',
    resource: 'replicasets',
    verb: 'watch',
    scope: 'workloads',
    reason: 'the ReplicaSet informer follows new revisions and rollbacks',
    usedBy: 'core/kube/cluster-caches.ts',
  },
  {
    apiGroup: 'apps',
    resource: 'daemonsets',
    verb: 'list',
    scope: 'workloads',
    reason: "the DaemonSet informer: a DaemonSet's current version is its update revision",
    usedBy: 'core/kube/cluster-caches.ts',
  },
  {
    apiGroup: 'apps',
    resource: 'daemonsets',
    verb: 'watch',
    scope: 'workloads',
    reason: 'the DaemonSet informer follows updates',
    usedBy: 'core/kube/cluster-caches.ts',
  },
  {
    apiGroup: 'apps',
    resource: 'statefulsets',
    verb: 'list',
    scope: 'workloads',
    reason: "the StatefulSet informer: a StatefulSet's current version is its update revision",
    usedBy: 'core/kube/cluster-caches.ts',
  },
  {
    apiGroup: 'apps',
    resource: 'statefulsets',
    verb: 'watch',
    scope: 'workloads',
    reason: 'the StatefulSet informer follows updates',
    usedBy: 'core/kube/cluster-caches.ts',
  },
  {
    apiGroup: ROLLOUT_GROUP,
    resource: ROLLOUT_PLURAL,
    verb: 'list',
    scope: 'workloads',
    reason: 'the ModuleRollout informer: the rollout state kmc resumes from after a restart or failover',
    usedBy: 'core/kube/cluster-caches.ts',
  },
  {
    apiGroup: ROLLOUT_GROUP,
    resource: ROLLOUT_PLURAL,
    verb: 'watch',
    scope: 'workloads',
    reason: 'the ModuleRollout informer: confirmations (spec.confirmedBatch) and aborts written by people',
    usedBy: 'core/kube/cluster-caches.ts',
  },
  {
    apiGroup: ROLLOUT_GROUP,
    resource: ROLLOUT_PLURAL,
    verb: 'create',
    scope: 'workloads',
    reason: 'one ModuleRollout per revision of every rollout target',
    usedBy: 'core/rollout/rollout-engine.ts',
  },
  {
    apiGroup: ROLLOUT_GROUP,
    resource: ROLLOUT_PLURAL,
    verb: 'delete',
    scope: 'workloads',
    reason: "prunes ModuleRollouts beyond the Deployment's revisionHistoryLimit",
    usedBy: 'core/rollout/rollout-engine.ts',
  },
  {
    apiGroup: ROLLOUT_GROUP,
    resource: `${ROLLOUT_PLURAL}/status`,
    verb: 'patch',
    scope: 'workloads',
    reason: 'plan, batches, holds, phase and conditions of each rollout',
    usedBy: 'core/rollout/rollout-engine.ts',
  },

  // Events: what kubectl describe shows.
  {
    apiGroup: '',
    resource: 'events',
    verb: 'create',
    scope: 'workloads',
    reason: 'Events on module pods, Deployments and ModuleRollouts (installs, failures, holds, batches)',
    usedBy: 'core/kube/event-recorder.ts',
  },
  {
    apiGroup: '',
    resource: 'events',
    verb: 'patch',
    scope: 'workloads',
    reason: 'a repeated Event bumps the count of the existing one (kubelet-like aggregation)',
    usedBy: 'core/kube/event-recorder.ts',
  },
  {
    apiGroup: '',
    resource: 'events',
    verb: 'create',
    scope: 'node-events',
    reason:
      'Events about nodes (base online, silent, returned, removed) live in the default namespace, as kubelets’ do',
    usedBy: 'core/kube/event-recorder.ts',
  },
  {
    apiGroup: '',
    resource: 'events',
    verb: 'patch',
    scope: 'node-events',
    reason: 'a repeated node Event bumps its count',
    usedBy: 'core/kube/event-recorder.ts',
  },
];
