/**
 * Kubernetes label selectors, matched in memory. Pure. One set-based requirement test serves every selector kind:
 * the string form (`app=biz1,tier!=web,env in (dev,test),!legacy`), metav1.LabelSelector objects (pod affinity)
 * and node-selector terms (node affinity, which adds Gt / Lt). An empty selector matches everything.
 */
import type { V1LabelSelector } from '@kubernetes/client-node';

type Operator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
interface Requirement {
  readonly operator: Operator;
  readonly key: string;
  readonly values: readonly string[];
}

export interface LabelSelector {
  readonly text: string;
  matches(labels: Readonly<Record<string, string>> | undefined): boolean;
}

/**
 * Whether a label value (undefined: the label is absent) meets a set-based requirement. An operator this does not
 * know (Gt / Lt belong to node selectors; a typo) matches nothing, as Kubernetes refuses it.
 */
export function requirementHolds(
  operator: string,
  value: string | undefined,
  values: readonly string[],
): boolean {
  switch (operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    default:
      return false;
  }
}

/** A metav1.LabelSelector: every matchLabels pair and every expression hold; an empty selector matches all. */
export function selectorMatches(
  selector: V1LabelSelector,
  labels: Readonly<Record<string, string>>,
): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  return (selector.matchExpressions ?? []).every((r) =>
    requirementHolds(r.operator, labels[r.key], r.values ?? []),
  );
}

export function parseLabelSelector(text: string): LabelSelector {
  const requirements = splitTopLevel(text.trim()).map(parseRequirement);
  return {
    text,
    matches: (labels = {}) =>
      requirements.every((r) => requirementHolds(r.operator, labels[r.key], r.values)),
  };
}

/** Splits on commas that are not inside a `( … )` value list. */
function splitTopLevel(text: string): string[] {
  if (text === '') return [];
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of text) {
    if (char === '(') depth += 1;
    if (char === ')') depth -= 1;
    if (char === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current.trim());
  return parts;
}

function parseRequirement(part: string): Requirement {
  const set = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(part);
  if (set?.[1] && set[2] && set[3] !== undefined) {
    const values = set[3]
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean);
    return { operator: set[2] === 'in' ? 'In' : 'NotIn', key: set[1], values };
  }
  const inequality = /^([^=!\s]+)\s*!=\s*(\S*)$/.exec(part);
  if (inequality?.[1] && inequality[2] !== undefined)
    return { operator: 'NotIn', key: inequality[1], values: [inequality[2]] };
  const equality = /^([^=!\s]+)\s*==?\s*(\S*)$/.exec(part);
  if (equality?.[1] && equality[2] !== undefined)
    return { operator: 'In', key: equality[1], values: [equality[2]] };
  const absent = /^!\s*(\S+)$/.exec(part);
  if (absent?.[1]) return { operator: 'DoesNotExist', key: absent[1], values: [] };
  if (/^[^\s=!(),]+$/.test(part)) return { operator: 'Exists', key: part, values: [] };
  throw new Error(`invalid label selector requirement ${JSON.stringify(part)}`);
}
