import { CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderRbac, workloadsCoverNodeEvents } from '../../core/rbac/rbac-manifests.ts';
import { VERB_TABLE, type VerbGrant } from '../../core/rbac/verb-table.ts';
import { kubectl } from '../support/kube.ts';
import { testKubeConfig } from '../support/kube.ts';
import { apiServerOf, probeFor, sendProbe, serviceAccountToken, type ApiServer } from '../support/rbac.ts';
import { uniqueId } from '../support/unique-id.ts';
import { waitFor } from '../support/wait-for.ts';
import { stringify } from 'yaml';

const LABEL = 'kmc-test/rbac-least-privilege';

interface Variant {
  readonly title: string;
  readonly namespaced: boolean;
}

const VARIANTS: readonly Variant[] = [
  { title: 'serving every namespace', namespaced: false },
  { title: 'serving listed namespaces (the namespaced variant)', namespaced: true },
];

const describeGrant = (grant: VerbGrant) =>
  `${grant.verb} ${grant.apiGroup || 'core'}/${grant.resource} (${grant.scope})`;

/**
 * The verb table is least privilege, proven on the real API server with real ServiceAccount tokens: for every
 * line of it, a ServiceAccount given the generated RBAC less that one line is refused (403) the operation the
 * line is for, while one given all of it is not. Each probe is a dry run against an object that does not exist,
 * so nothing changes; the API server authorizes before it looks further.
 */
describe.each(VARIANTS)('least-privilege RBAC $title', (variant) => {
  const id = uniqueId('lp').replace(/-/g, '').slice(0, 12);
  const home = `rbac-${id}`;
  const watched = `rbac-${id}-w`;
  const kc = testKubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const rbacApi = kc.makeApiClient(RbacAuthorizationV1Api);
  const api: ApiServer = apiServerOf(kc);
  const watchNamespaces = variant.namespaced ? [watched] : [];
  // In the all-namespaces variant the workloads binding covers `default`: no node-events role is rendered.
  const grants = VERB_TABLE.filter(
    (grant) => grant.scope !== 'node-events' || !workloadsCoverNodeEvents(watchNamespaces),
  );
  const tokens = new Map<string, string>();
  const variantTag = variant.namespaced ? 'ns' : 'all';
  const fullAccount = `full-${variantTag}`;
  const minusAccount = (index: number) => `minus${String(index)}-${variantTag}`;

  /** Where a grant's probe goes in this variant. */
  const probeNamespace = (grant: VerbGrant): string | undefined => {
    switch (grant.scope) {
      case 'cluster':
        return undefined;
      case 'workloads':
        if (variant.namespaced) return watched;
        // Serving every namespace: kmc lists and watches across all of them, and writes anywhere.
        return grant.verb === 'list' || grant.verb === 'watch' ? undefined : home;
      case 'node-leases':
        return 'kube-node-lease';
      case 'leader-election':
        return home;
      case 'node-events':
        return 'default';
    }
  };
  const probe = (account: string, grant: VerbGrant) =>
    sendProbe(api, tokens.get(account) ?? '', probeFor(grant, probeNamespace(grant)));

  beforeAll(async () => {
    for (const name of [home, watched]) {
      await core.createNamespace({ body: { metadata: { name, labels: { [LABEL]: id } } } });
    }
    const accounts = [fullAccount, ...grants.map((_, index) => minusAccount(index))];
    const objects: unknown[] = accounts.map((name) => ({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name, namespace: home },
    }));
    const labels = { [LABEL]: id };
    objects.push(
      ...renderRbac({
        namespace: home,
        serviceAccount: fullAccount,
        name: `${home}-${fullAccount}`,
        watchNamespaces,
        labels,
      }),
    );
    grants.forEach((grant, index) => {
      objects.push(
        ...renderRbac({
          namespace: home,
          serviceAccount: minusAccount(index),
          name: `${home}-${minusAccount(index)}`,
          watchNamespaces,
          labels,
          grants: VERB_TABLE.filter((other) => other !== grant),
        }),
      );
    });
    // One kubectl create for every object: a few hundred POSTs.
    await kubectl(['create', '-f', '-'], { stdin: objects.map((o) => stringify(o)).join('---\n') });
    for (const account of accounts) tokens.set(account, await serviceAccountToken(kc, home, account));
  }, 180_000);

  afterAll(async () => {
    for (const name of [home, watched]) await core.deleteNamespace({ name }).catch(() => undefined);
    const selector = `${LABEL}=${id}`;
    await rbacApi.deleteCollectionClusterRole({ labelSelector: selector }).catch(() => undefined);
    await rbacApi.deleteCollectionClusterRoleBinding({ labelSelector: selector }).catch(() => undefined);
    for (const namespace of ['kube-node-lease', 'default']) {
      await rbacApi
        .deleteCollectionNamespacedRole({ namespace, labelSelector: selector })
        .catch(() => undefined);
      await rbacApi
        .deleteCollectionNamespacedRoleBinding({ namespace, labelSelector: selector })
        .catch(() => undefined);
    }
  });

  it('with the whole table, every operation kmc needs is allowed', async () => {
    const refused = await waitFor(
      async () => {
        const statuses = await Promise.all(grants.map((grant) => probe(fullAccount, grant)));
        const denied = grants.filter((_, index) => statuses[index] === 403).map(describeGrant);
        if (denied.length > 0) throw new Error(`403 for: ${denied.join('; ')}`);
        return statuses;
      },
      { description: 'no 403 for the full ServiceAccount (RBAC takes a moment to apply)', timeoutMs: 30_000 },
    );
    expect(refused.every((status) => status !== 403)).toBe(true);
  });

  it('without any one line of the table, the operation that line is for is refused with 403', async () => {
    const outcomes: { grant: string; status: number }[] = [];
    for (const [index, grant] of grants.entries()) {
      const account = minusAccount(index);
      // First make sure this account's RBAC is in force: another line of the same scope is allowed.
      const sibling = grants.find((other) => other !== grant && other.scope === grant.scope);
      if (sibling) {
        await waitFor(async () => (await probe(account, sibling)) !== 403, {
          description: `${account}'s RBAC in force (${describeGrant(sibling)} allowed)`,
          timeoutMs: 30_000,
        });
      }
      outcomes.push({ grant: describeGrant(grant), status: await probe(account, grant) });
    }
    expect(outcomes.filter((outcome) => outcome.status !== 403)).toEqual([]);
    expect(outcomes).toHaveLength(grants.length);
  });

  if (variant.namespaced) {
    it('reaches workloads only in the watched namespaces', async () => {
      const list = VERB_TABLE.find((g) => g.resource === 'pods' && g.verb === 'list');
      if (!list) throw new Error('the table has no pods list');
      const status = (namespace: string | undefined) =>
        sendProbe(api, tokens.get(fullAccount) ?? '', probeFor(list, namespace));
      expect(await status(watched)).toBe(200);
      expect(await status(home)).toBe(403);
      expect(await status(undefined)).toBe(403);
    });
  }
});
