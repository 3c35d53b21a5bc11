import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ROLLOUT_GROUP, ROLLOUT_VERSION } from '../../core/rollout/module-rollout.ts';
import type { VerbGrant } from '../../core/rbac/verb-table.ts';
import { kubectl } from './kube.ts';

/** Where the run's API server is and how to trust it (from the admin kubeconfig). */
export interface ApiServer {
  readonly server: string;
  readonly ca: Buffer;
}

export function apiServerOf(kc: KubeConfig): ApiServer {
  const cluster = kc.getCurrentCluster();
  if (!cluster?.caData) throw new Error('the admin kubeconfig has no certificate-authority-data');
  return { server: cluster.server, ca: Buffer.from(cluster.caData, 'base64') };
}

/** Applies objects (as YAML documents) with the admin kubeconfig. */
export async function applyObjects(objects: readonly unknown[]): Promise<void> {
  if (objects.length === 0) return;
  await kubectl(['apply', '-f', '-'], { stdin: objects.map((o) => stringify(o)).join('---\n') });
}

/** A bound token of a ServiceAccount (the TokenRequest API, as `kubectl create token` does). */
export async function serviceAccountToken(kc: KubeConfig, namespace: string, name: string): Promise<string> {
  const answer = await kc.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
    name,
    namespace,
    body: { spec: { expirationSeconds: 3600 } },
  });
  const token = answer.status?.token;
  if (!token) throw new Error(`no token for ServiceAccount ${namespace}/${name}`);
  return token;
}

/** A kubeconfig file that authenticates with `token` only (no client certificate) against `server`. */
export async function tokenKubeconfig(options: {
  server: string;
  token: string;
  ca?: Buffer;
  name: string;
}): Promise<string> {
  const file = join(tmpdir(), `${options.name}.kubeconfig`);
  await writeFile(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'cluster',
          cluster: {
            server: options.server,
            ...(options.ca ? { 'certificate-authority-data': options.ca.toString('base64') } : {}),
          },
        },
      ],
      users: [{ name: options.name, user: { token: options.token } }],
      contexts: [{ name: options.name, context: { cluster: 'cluster', user: options.name } }],
      'current-context': options.name,
    }),
  );
  return file;
}

const API_VERSIONS: Readonly<Record<string, string>> = {
  '': 'v1',
  apps: 'v1',
  'coordination.k8s.io': 'v1',
  'apiextensions.k8s.io': 'v1',
  [ROLLOUT_GROUP]: ROLLOUT_VERSION,
};

/** An object name no test creates: probes never touch a real object. */
export const PROBE_NAME = 'kmc-rbac-probe-absent';

export interface Probe {
  readonly method: string;
  readonly path: string;
  readonly body?: string;
  readonly contentType?: string;
}

/**
 * The request that exercises exactly one grant: the grant's verb on its resource, in `namespace` (undefined: a
 * cluster-scoped resource, or list / watch across all namespaces), against an object that does not exist and
 * with `dryRun=All`, so nothing changes whatever the answer. The API server authorizes before it looks for the
 * object or reads the body: without the grant the answer is 403, with it anything else (404, 201, 200).
 */
export function probeFor(grant: VerbGrant, namespace: string | undefined): Probe {
  const version = API_VERSIONS[grant.apiGroup];
  if (version === undefined) throw new Error(`no API version known for group "${grant.apiGroup}"`);
  const root = grant.apiGroup === '' ? `/api/${version}` : `/apis/${grant.apiGroup}/${version}`;
  const [resource, subresource] = grant.resource.split('/');
  const collection = `${root}${namespace ? `/namespaces/${namespace}` : ''}/${resource ?? ''}`;
  const name = grant.resourceNames?.[0] ?? PROBE_NAME;
  const object = `${collection}/${name}${subresource ? `/${subresource}` : ''}`;
  switch (grant.verb) {
    case 'get':
      return { method: 'GET', path: object };
    case 'list':
      return { method: 'GET', path: `${collection}?limit=1` };
    case 'watch':
      return { method: 'GET', path: `${collection}?watch=1&timeoutSeconds=1` };
    case 'create':
      if (grant.viaApply) {
        // As kmc creates it: a server-side apply of an object that does not exist yet.
        const kind = (resource ?? '').replace(/s$/, '').replace(/^./, (c) => c.toUpperCase());
        return {
          method: 'PATCH',
          path: `${object}?dryRun=All&fieldManager=kmc-rbac-probe`,
          body: JSON.stringify({
            apiVersion: grant.apiGroup === '' ? version : `${grant.apiGroup}/${version}`,
            kind,
            metadata: { name },
          }),
          contentType: 'application/apply-patch+yaml',
        };
      }
      return {
        method: 'POST',
        path: `${subresource ? object : collection}?dryRun=All`,
        body: '{}',
        contentType: 'application/json',
      };
    case 'update':
      return { method: 'PUT', path: `${object}?dryRun=All`, body: '{}', contentType: 'application/json' };
    case 'patch':
      return {
        method: 'PATCH',
        path: `${object}?dryRun=All`,
        body: '{}',
        contentType: 'application/merge-patch+json',
      };
    case 'delete':
      return { method: 'DELETE', path: `${object}?dryRun=All` };
  }
}

/** Sends a probe with a bearer token; resolves with the HTTP status as soon as the headers arrive. */
export function sendProbe(api: ApiServer, token: string, probe: Probe): Promise<number> {
  const url = new URL(probe.path, api.server);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        hostname: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method: probe.method,
        ca: api.ca,
        headers: {
          authorization: `Bearer ${token}`,
          ...(probe.contentType ? { 'content-type': probe.contentType } : {}),
        },
        timeout: 15_000,
      },
      (answer) => {
        resolve(answer.statusCode ?? 0);
        // A watch streams until its timeout: the status is all a probe needs.
        answer.destroy();
      },
    );
    outgoing.on('timeout', () =>
      outgoing.destroy(new Error(`probe ${probe.method} ${probe.path} timed out`)),
    );
    outgoing.on('error', reject);
    outgoing.end(probe.body);
  });
}
