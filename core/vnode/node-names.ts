/**
 * Names and keys of kmc's VNodes (ARCHITECTURE §2.1). Pure.
 */

export const NODE_NAME_PREFIX = 'virtual-node-';

/** Labels and annotations kmc writes on its nodes. */
export const NODE_LABELS = {
  name: 'base.koupleless.io/name',
  version: 'base.koupleless.io/version',
  stack: 'base.koupleless.io/stack',
  clusterName: 'base.koupleless.io/cluster-name',
  hostName: 'base.koupleless.io/host-name',
  hostname: 'kubernetes.io/hostname',
  type: 'type',
  env: 'virtual-kubelet.koupleless.io/env',
  component: 'virtual-kubelet.koupleless.io/component',
  zone: 'topology.kubernetes.io/zone',
} as const;

export const NODE_ANNOTATIONS = {
  /** The base id as the base sent it; the node name is a sanitised form of it. */
  baseId: 'kmc.koupleless.io/base-id',
  env: 'kmc.koupleless.io/env',
} as const;

/** The only taint by default, so the module-operation docs' manifests schedule (they tolerate exactly it). */
export const VIRTUAL_NODE_TAINT = {
  key: 'schedule.koupleless.io/virtual-node',
  value: 'True',
  effect: 'NoExecute',
} as const;

export type NodeNameResult =
  { readonly ok: true; readonly nodeName: string } | { readonly ok: false; readonly reason: string };

/**
 * `virtual-node-<baseID>`, the id made a DNS-1123 subdomain: lower case, any other character becomes `-`,
 * every dot-separated label starts and ends with a letter or digit. An id that cannot be made valid (an empty
 * label, a label over 63 characters, a name over 253) is refused.
 */
export function nodeNameForBase(baseId: string): NodeNameResult {
  if (baseId.length === 0) return { ok: false, reason: 'empty base id' };
  const sanitised = baseId.toLowerCase().replace(/[^a-z0-9.-]/g, '-');
  if (sanitised.split('.').some((part) => part.replace(/^-+|-+$/g, '').length === 0)) {
    return { ok: false, reason: `base id ${JSON.stringify(baseId)} has an empty dot-separated part` };
  }
  const name = NODE_NAME_PREFIX + sanitised;
  if (name.length > 253)
    return { ok: false, reason: `node name would be ${name.length} characters (max 253)` };
  const labels = name.split('.').map((label) => label.replace(/^-+|-+$/g, ''));
  for (const label of labels) {
    if (label.length === 0)
      return { ok: false, reason: `base id ${JSON.stringify(baseId)} has an empty dot-separated part` };
    if (label.length > 63)
      return { ok: false, reason: `a dot-separated part of ${JSON.stringify(baseId)} is over 63 characters` };
  }
  return { ok: true, nodeName: labels.join('.') };
}

/**
 * The `kubernetes.io/hostname` label of a node: its name when that is a valid label value (the usual case), else a
 * shortened form kept unique by a hash of the full name (label values are at most 63 characters).
 */
export function hostnameLabel(nodeName: string): string {
  if (nodeName.length <= 63 && labelValue(nodeName) === nodeName) return nodeName;
  let hash = 0;
  for (const char of nodeName) hash = (Math.imul(hash, 31) + char.charCodeAt(0)) >>> 0;
  return `${labelValue(nodeName.slice(0, 54))}-${hash.toString(16).padStart(8, '0')}`;
}

/**
 * A label value from free text (base names, hostnames): at most 63 characters of `[A-Za-z0-9_.-]`, starting and
 * ending with a letter or digit. Empty when nothing valid remains.
 */
export function labelValue(text: string): string {
  return text
    .replace(/[^A-Za-z0-9_.-]/g, '_')
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
}
