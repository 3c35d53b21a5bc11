import { RBAC_SCOPES, VERB_ORDER, VERB_TABLE, type RbacScope, type VerbGrant } from './verb-table.ts';

/** A PolicyRule as RBAC writes it. */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  resourceNames?: string[];
  verbs: string[];
}

interface Metadata {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
}

export interface RoleObject {
  apiVersion: 'rbac.authorization.k8s.io/v1';
  kind: 'ClusterRole' | 'Role';
  metadata: Metadata;
  rules: PolicyRule[];
}

export interface BindingObject {
  apiVersion: 'rbac.authorization.k8s.io/v1';
  kind: 'ClusterRoleBinding' | 'RoleBinding';
  metadata: Metadata;
  roleRef: { apiGroup: 'rbac.authorization.k8s.io'; kind: 'ClusterRole' | 'Role'; name: string };
  subjects: { kind: 'ServiceAccount'; name: string; namespace: string }[];
}

export type RbacObject = RoleObject | BindingObject;

/** The namespace kubelets keep their node heartbeat Leases in. */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
/** The namespace Events about cluster-scoped objects (nodes) go to. */
export const NODE_EVENT_NAMESPACE = 'default';

export interface RbacOptions {
  /** The namespace kmc runs in: its ServiceAccount and its leader Lease. */
  readonly namespace: string;
  /** Default `kmc`. */
  readonly serviceAccount?: string;
  /** Prefix of every role and binding name. Default `kmc`. */
  readonly name?: string;
  /** `watch.namespaces` of the config: empty means every namespace. */
  readonly watchNamespaces?: readonly string[];
  readonly labels?: Readonly<Record<string, string>>;
  /** The grants; default the whole verb table (tests pass it less one line). */
  readonly grants?: readonly VerbGrant[];
}

/** Labels every generated object carries. */
export const RBAC_LABELS: Readonly<Record<string, string>> = {
  'app.kubernetes.io/name': 'kmc',
  'app.kubernetes.io/part-of': 'koupleless',
};

/**
 * The grants of one scope as PolicyRules: one rule per API group, resource and resource names, its verbs in
 * Kubernetes' order. One rule per resource keeps each rule readable against the table it comes from.
 */
export function policyRules(grants: readonly VerbGrant[]): PolicyRule[] {
  const rules = new Map<string, { rule: PolicyRule; verbs: Set<string> }>();
  for (const grant of grants) {
    const names = grant.resourceNames ? [...grant.resourceNames].sort() : undefined;
    const key = JSON.stringify([grant.apiGroup, grant.resource, names ?? null]);
    let entry = rules.get(key);
    if (!entry) {
      entry = {
        rule: {
          apiGroups: [grant.apiGroup],
          resources: [grant.resource],
          ...(names ? { resourceNames: names } : {}),
          verbs: [],
        },
        verbs: new Set(),
      };
      rules.set(key, entry);
    }
    entry.verbs.add(grant.verb);
  }
  return [...rules.values()].map(({ rule, verbs }) => ({
    ...rule,
    verbs: VERB_ORDER.filter((verb) => verbs.has(verb)),
  }));
}

/** The PolicyRules of each scope (what the Helm chart reads from files/rbac-rules.yaml). */
export function rulesByScope(grants: readonly VerbGrant[] = VERB_TABLE): Record<RbacScope, PolicyRule[]> {
  return Object.fromEntries(
    RBAC_SCOPES.map((scope) => [scope, policyRules(grants.filter((grant) => grant.scope === scope))]),
  ) as Record<RbacScope, PolicyRule[]>;
}

/** Whether the workloads binding already grants the node Events (it covers `default`). */
export function workloadsCoverNodeEvents(watchNamespaces: readonly string[]): boolean {
  return watchNamespaces.length === 0 || watchNamespaces.includes(NODE_EVENT_NAMESPACE);
}

/**
 * The ClusterRoles, Roles and bindings kmc's ServiceAccount needs, from the verb table:
 * - `<name>-nodes`: ClusterRole + ClusterRoleBinding (nodes, the CRD);
 * - `<name>-workloads`: ClusterRole, bound by a ClusterRoleBinding when kmc watches every namespace, else by a
 *   RoleBinding in each watched namespace;
 * - `<name>-node-leases`: Role + RoleBinding in kube-node-lease;
 * - `<name>-leader-election`: Role + RoleBinding in kmc's namespace;
 * - `<name>-node-events`: Role + RoleBinding in default, unless the workloads binding covers it.
 * A scope left without rules (a test removed its only grant) gets no role and no binding.
 */
export function renderRbac(options: RbacOptions): RbacObject[] {
  const name = options.name ?? 'kmc';
  const serviceAccount = options.serviceAccount ?? 'kmc';
  const watch = options.watchNamespaces ?? [];
  const labels = { ...RBAC_LABELS, ...options.labels };
  const rules = rulesByScope(options.grants ?? VERB_TABLE);
  const subjects = [{ kind: 'ServiceAccount' as const, name: serviceAccount, namespace: options.namespace }];
  const objects: RbacObject[] = [];

  const clusterRole = (roleName: string, roleRules: PolicyRule[]): RoleObject => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: roleName, labels },
    rules: roleRules,
  });
  const binding = (
    kind: 'ClusterRoleBinding' | 'RoleBinding',
    bindingName: string,
    roleKind: 'ClusterRole' | 'Role',
    namespace?: string,
  ): BindingObject => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind,
    metadata: { name: bindingName, ...(namespace ? { namespace } : {}), labels },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: roleKind, name: bindingName },
    subjects,
  });
  const namespacedRole = (roleName: string, namespace: string, roleRules: PolicyRule[]) => {
    if (roleRules.length === 0) return;
    objects.push(
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: roleName, namespace, labels },
        rules: roleRules,
      },
      binding('RoleBinding', roleName, 'Role', namespace),
    );
  };

  if (rules.cluster.length > 0) {
    objects.push(
      clusterRole(`${name}-nodes`, rules.cluster),
      binding('ClusterRoleBinding', `${name}-nodes`, 'ClusterRole'),
    );
  }
  if (rules.workloads.length > 0) {
    objects.push(clusterRole(`${name}-workloads`, rules.workloads));
    if (watch.length === 0) {
      objects.push(binding('ClusterRoleBinding', `${name}-workloads`, 'ClusterRole'));
    } else {
      for (const namespace of [...new Set(watch)].sort()) {
        objects.push(binding('RoleBinding', `${name}-workloads`, 'ClusterRole', namespace));
      }
    }
  }
  namespacedRole(`${name}-node-leases`, NODE_LEASE_NAMESPACE, rules['node-leases']);
  namespacedRole(`${name}-leader-election`, options.namespace, rules['leader-election']);
  if (!workloadsCoverNodeEvents(watch)) {
    namespacedRole(`${name}-node-events`, NODE_EVENT_NAMESPACE, rules['node-events']);
  }
  return objects;
}

/** `kind/namespace/name` of an object, to compare rendered sets. */
export function objectKey(object: { kind: string; metadata: { name: string; namespace?: string } }): string {
  return `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}

const SCOPE_TEXT: Record<RbacScope, string> = {
  cluster: 'cluster',
  workloads: 'watched namespaces',
  'node-leases': '`kube-node-lease`',
  'leader-election': "kmc's namespace",
  'node-events': '`default`',
};

/** The verb table as a Markdown table, for docs/install.md. */
export function rbacTableMarkdown(grants: readonly VerbGrant[] = VERB_TABLE): string {
  const escape = (text: string) => text.replaceAll('|', '\\|');
  const rows = grants.map((grant) => {
    const group = grant.apiGroup === '' ? 'core' : grant.apiGroup;
    const names = grant.resourceNames ? ` (only \`${grant.resourceNames.join('`, `')}\`)` : '';
    return `| \`${grant.resource}\`${names} | ${group} | \`${grant.verb}\` | ${SCOPE_TEXT[grant.scope]} | ${escape(grant.reason)} |`;
  });
  return [
    '| resource | API group | verb | where | why kmc needs it |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
