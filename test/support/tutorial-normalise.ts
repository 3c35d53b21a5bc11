/**
 * The normaliser of the README tutorial's outputs (test/e2e/tutorial.test.ts compares `normalise(actual)` with
 * `normalise(expected)`). It replaces only what differs between two runs of the same commands, and the README
 * tutorial lists the same rules:
 *
 * 1. the test's namespace → `default` (the playground's, which the tutorial uses);
 * 2. timestamps (`2026-11-22T11:29:09.135Z`) → `<time>`;
 * 3. IPv4 addresses → `<ip>`;
 * 4. the random parts of pod and ReplicaSet names: `biz1-7f8c6dfc6-qj9m5` → `biz1-<hash>-<id>`,
 *    `biz1-7f8c6dfc6` → `biz1-<hash>` (Kubernetes' alphabet: no vowels, no 0, 1, 3);
 * 5. ages and durations (`5s`, `2m3s`, `9m58s`, `1h2m`, `4d`) → `<age>`;
 * 6. base ids (`base-2`, in node names too: `virtual-node-base-2`) → `base-<n>`: which base the scheduler picks
 *    for a pod differs between runs;
 * 7. column padding: inside a line, a run of spaces counts as one (table columns are as wide as their widest
 *    value, and the values above vary in length); trailing spaces are dropped.
 *
 * Everything else — words, numbers, order of lines — is compared verbatim. Pure.
 */

export interface NormaliseOptions {
  /** The namespace the commands ran in, shown as `default`. */
  readonly namespace?: string | undefined;
}

/** Characters of Kubernetes' random name parts (k8s.io/apimachinery/pkg/util/rand: SafeEncodeString, String). */
const K8S_RAND = '[bcdfghjklmnpqrstvwxz2456789]';

const RULES: readonly (readonly [RegExp, string])[] = [
  [/\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})/g, '<time>'],
  [/\b\d{1,3}(?:\.\d{1,3}){3}\b/g, '<ip>'],
  [
    new RegExp(`\\b([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)-${K8S_RAND}{6,10}-${K8S_RAND}{5}\\b`, 'g'),
    '$1-<hash>-<id>',
  ],
  [new RegExp(`\\b([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)-${K8S_RAND}{6,10}\\b`, 'g'), '$1-<hash>'],
  [/\b\d+(?:ms|[smhd])(?:\d+(?:ms|[smh]))?\b/g, '<age>'],
  [/\bbase-\d+\b/g, 'base-<n>'],
];

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Rule 1 alone: `namespace` shown as `default` (how the test writes outputs into the README). */
export function namespaceAsDefault(text: string, namespace: string | undefined): string {
  if (!namespace || namespace === 'default') return text;
  return text.replace(new RegExp(`(?<![-\\w])${escape(namespace)}(?![-\\w])`, 'g'), 'default');
}

export function normalise(text: string, options: NormaliseOptions = {}): string {
  let out = namespaceAsDefault(text.replace(/\r\n/g, '\n'), options.namespace);
  for (const [pattern, replacement] of RULES) out = out.replace(pattern, replacement);
  return out
    .split('\n')
    .map((line) => {
      const indent = /^\s*/.exec(line)?.[0] ?? '';
      return indent + line.slice(indent.length).replace(/ {2,}/g, ' ').trimEnd();
    })
    .join('\n')
    .replace(/\n+$/, '');
}
