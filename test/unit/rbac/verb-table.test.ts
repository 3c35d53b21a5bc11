import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  policyRules,
  rbacTableMarkdown,
  renderRbac,
  rulesByScope,
  type BindingObject,
  type RoleObject,
} from '../../../core/rbac/rbac-manifests.ts';
import { VERB_ORDER, VERB_TABLE, type VerbGrant } from '../../../core/rbac/verb-table.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const keyOf = (o: { kind: string; metadata: { name: string; namespace?: string } }) =>
  `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

describe('the verb table', () => {
  it('gives every line a reason and the code that needs it, and that code exists', async () => {
    for (const grant of VERB_TABLE) {
      expect(grant.reason.length, JSON.stringify(grant)).toBeGreaterThan(20);
      for (const file of grant.usedBy.match(/[\w./-]+\.ts/g) ?? []) {
        await expect(
          access(`${ROOT}${file}`),
          `${file} named by ${grant.verb} ${grant.resource}`,
        ).resolves.toBe(undefined);
      }
    }
  });

  it('has no wildcard, no duplicate line, and only the verbs Kubernetes knows', () => {
    const seen = new Set<string>();
    for (const grant of VERB_TABLE) {
      expect(grant.apiGroup).not.toContain('*');
      expect(grant.resource).not.toContain('*');
      expect(VERB_ORDER).toContain(grant.verb);
      const key = `${grant.scope} ${grant.apiGroup}/${grant.resource} ${grant.verb}`;
      expect(seen.has(key), key).toBe(false);
      seen.add(key);
    }
  });

  it('grants no secrets, configmaps or get on what kmc reads from its informer caches', () => {
    const resources = new Set(VERB_TABLE.map((grant) => grant.resource));
    expect(resources.has('secrets')).toBe(false);
    expect(resources.has('configmaps')).toBe(false);
    const gets = VERB_TABLE.filter((grant) => grant.verb === 'get').map((grant) => grant.resource);
    expect(gets.sort()).toEqual(['customresourcedefinitions', 'leases']);
  });

  it('lets the peer replica syncer scale Deployments, which upstream’s sample RBAC cannot', () => {
    expect(
      VERB_TABLE.some(
        (grant) =>
          grant.apiGroup === 'apps' && grant.resource === 'deployments/scale' && grant.verb === 'patch',
      ),
    ).toBe(true);
  });
});

describe('policyRules', () => {
  it('makes one rule per resource, verbs in Kubernetes’ order, resource names kept', () => {
    const grant = (resource: string, verb: VerbGrant['verb'], names?: string[]): VerbGrant => ({
      apiGroup: 'g',
      resource,
      verb,
      scope: 'cluster',
      reason: 'r',
      usedBy: 'u',
      ...(names ? { resourceNames: names } : {}),
    });
    expect(
      policyRules([grant('a', 'delete'), grant('a', 'list'), grant('b', 'get', ['x']), grant('a', 'get')]),
    ).toEqual([
      { apiGroups: ['g'], resources: ['a'], verbs: ['get', 'list', 'delete'] },
      { apiGroups: ['g'], resources: ['b'], resourceNames: ['x'], verbs: ['get'] },
    ]);
  });
});

describe('renderRbac', () => {
  it('serving every namespace: nodes and workloads bound cluster-wide, leases in their two namespaces', () => {
    const objects = renderRbac({ namespace: 'kmc-system' });
    expect(objects.map(keyOf).sort()).toEqual(
      [
        'ClusterRole//kmc-nodes',
        'ClusterRoleBinding//kmc-nodes',
        'ClusterRole//kmc-workloads',
        'ClusterRoleBinding//kmc-workloads',
        'Role/kube-node-lease/kmc-node-leases',
        'RoleBinding/kube-node-lease/kmc-node-leases',
        'Role/kmc-system/kmc-leader-election',
        'RoleBinding/kmc-system/kmc-leader-election',
      ].sort(),
    );
    for (const binding of objects.filter((o): o is BindingObject => o.kind.endsWith('Binding'))) {
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'kmc', namespace: 'kmc-system' }]);
      expect(binding.roleRef.name).toBe(binding.metadata.name);
    }
  });

  it('serving listed namespaces: the workloads ClusterRole bound in each, node Events in a Role in default', () => {
    const objects = renderRbac({
      namespace: 'ops',
      serviceAccount: 'ctl',
      name: 'x',
      watchNamespaces: ['b', 'a'],
    });
    const keys = objects.map(keyOf);
    expect(keys).toContain('RoleBinding/a/x-workloads');
    expect(keys).toContain('RoleBinding/b/x-workloads');
    expect(keys).not.toContain('ClusterRoleBinding//x-workloads');
    expect(keys).toContain('Role/default/x-node-events');
    expect(keys).toContain('Role/ops/x-leader-election');
    const events = objects.find((o): o is RoleObject => keyOf(o) === 'Role/default/x-node-events');
    expect(events?.rules).toEqual([{ apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] }]);
  });

  it('leaves the node-events Role out when the workloads binding covers default', () => {
    const keys = renderRbac({ namespace: 'kmc-system', watchNamespaces: ['default', 'apps'] }).map(keyOf);
    expect(keys).toContain('RoleBinding/default/kmc-workloads');
    expect(keys.some((key) => key.includes('node-events'))).toBe(false);
  });

  it('renders exactly the grants it is given: one line less is one verb less, an empty scope no role', () => {
    const without = VERB_TABLE.filter(
      (grant) => !(grant.resource === 'nodes/status' && grant.verb === 'patch'),
    );
    const nodes = renderRbac({ namespace: 'n', grants: without }).find(
      (o): o is RoleObject => keyOf(o) === 'ClusterRole//kmc-nodes',
    );
    expect(nodes?.rules.some((rule) => rule.resources.includes('nodes/status'))).toBe(false);
    const noLeader = VERB_TABLE.filter((grant) => grant.scope !== 'leader-election');
    expect(renderRbac({ namespace: 'n', grants: noLeader }).map(keyOf).join()).not.toContain(
      'leader-election',
    );
  });

  it('puts every line of the table into some role, in the scope it names', () => {
    const byScope = rulesByScope();
    for (const grant of VERB_TABLE) {
      const rule = byScope[grant.scope].find(
        (r) => r.apiGroups.includes(grant.apiGroup) && r.resources.includes(grant.resource),
      );
      expect(rule?.verbs, `${grant.verb} ${grant.resource}`).toContain(grant.verb);
    }
  });
});

describe('rbacTableMarkdown', () => {
  it('has a row per line of the table with its reason', () => {
    const table = rbacTableMarkdown();
    expect(table.split('\n')).toHaveLength(VERB_TABLE.length + 2);
    for (const grant of VERB_TABLE) expect(table).toContain(grant.reason.replaceAll('|', '\\|'));
  });
});
