/**
 * Kubernetes label selectors in their string form (`app=biz1,tier!=web,env in (dev,test),!legacy`), parsed once
 * and matched in memory. Pure. An empty selector matches everything.
 */
type Requirement =
  | { readonly op: 'in'; readonly key: string; readonly values: readonly string[] }
  | { readonly op: 'notin'; readonly key: string; readonly values: readonly string[] }
  | { readonly op: 'exists'; readonly key: string }
  | { readonly op: 'absent'; readonly key: string };

export interface LabelSelector {
  readonly text: string;
  matches(labels: Readonly<Record<string, string>> | undefined): boolean;
}

export function parseLabelSelector(text: string): LabelSelector {
  const requirements = splitTopLevel(text.trim()).map(parseRequirement);
  return {
    text,
    matches: (labels = {}) =>
      requirements.every((r) => {
        const value = labels[r.key];
        switch (r.op) {
          case 'in':
            return value !== undefined && r.values.includes(value);
          case 'notin':
            return value === undefined || !r.values.includes(value);
          case 'exists':
            return value !== undefined;
          case 'absent':
            return value === undefined;
        }
      }),
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
    return { op: set[2] === 'in' ? 'in' : 'notin', key: set[1], values };
  }
  const inequality = /^([^=!\s]+)\s*!=\s*(\S*)$/.exec(part);
  if (inequality?.[1] && inequality[2] !== undefined)
    return { op: 'notin', key: inequality[1], values: [inequality[2]] };
  const equality = /^([^=!\s]+)\s*==?\s*(\S*)$/.exec(part);
  if (equality?.[1] && equality[2] !== undefined)
    return { op: 'in', key: equality[1], values: [equality[2]] };
  const absent = /^!\s*(\S+)$/.exec(part);
  if (absent?.[1]) return { op: 'absent', key: absent[1] };
  if (/^[^\s=!(),]+$/.test(part)) return { op: 'exists', key: part };
  throw new Error(`invalid label selector requirement ${JSON.stringify(part)}`);
}
