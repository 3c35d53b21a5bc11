import { describe, expect, it } from 'vitest';
import { NODE_NAME_PREFIX, labelValue, nodeNameForBase } from '../../../core/vnode/node-names.ts';

/** A DNS-1123 subdomain: dot-separated labels of [a-z0-9-], each starting and ending alphanumeric. */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A Kubernetes label value (non-empty form). */
const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

function nameOf(baseId: string): string {
  const result = nodeNameForBase(baseId);
  if (!result.ok) throw new Error(`refused: ${result.reason}`);
  return result.nodeName;
}

function refusal(baseId: string): string {
  const result = nodeNameForBase(baseId);
  if (result.ok) throw new Error(`accepted as ${result.nodeName}`);
  return result.reason;
}

describe('nodeNameForBase', () => {
  it.each([
    ['a UUID', 'f3b8c1de-7a42-4e19-9d1a-0c5b2e6f7a81', 'virtual-node-f3b8c1de-7a42-4e19-9d1a-0c5b2e6f7a81'],
    ['an IP (stock bases)', '10.244.0.12', 'virtual-node-10.244.0.12'],
    ['upper case', 'Base-ONE', 'virtual-node-base-one'],
    ['underscores and other characters', 'base_1@zone#a', 'virtual-node-base-1-zone-a'],
    ['a trailing dash', 'base-1-', 'virtual-node-base-1'],
    ['dashes around a dot', 'base-.-1', 'virtual-node-base.1'],
    ['a leading dash (the prefix keeps the name valid)', '-base', 'virtual-node--base'],
  ])('makes %s a valid node name', (_what, baseId, expected) => {
    const name = nameOf(baseId);
    expect(name).toBe(expected);
    expect(name).toMatch(DNS_SUBDOMAIN);
    expect(name.startsWith(NODE_NAME_PREFIX)).toBe(true);
  });

  it('refuses an empty base id', () => {
    expect(refusal('')).toBe('empty base id');
  });

  it.each([
    ['two dots in a row', 'base..1'],
    ['a trailing dot', 'base-1.'],
    ['a part made only of dashes', 'base.--.1'],
    ['a part made only of characters that become dashes', 'base.__.1'],
  ])('refuses a base id with %s (an empty dot-separated part)', (_what, baseId) => {
    expect(refusal(baseId)).toContain('empty dot-separated part');
  });

  it('refuses a base id with a leading dot rather than dropping the dash of the prefix', () => {
    expect(refusal('.base-1')).toContain('empty dot-separated part');
  });

  it('accepts a first part of 50 characters (63 with the prefix) and refuses 51', () => {
    const fits = 'a'.repeat(50);
    expect(nameOf(fits)).toHaveLength(63);
    expect(refusal('a'.repeat(51))).toContain('over 63 characters');
  });

  it('refuses any later dot-separated part over 63 characters', () => {
    expect(nameOf(`base.${'b'.repeat(63)}`)).toBe(`virtual-node-base.${'b'.repeat(63)}`);
    expect(refusal(`base.${'b'.repeat(64)}`)).toContain('over 63 characters');
  });

  it('accepts a node name of 253 characters and refuses 254', () => {
    // 13 (prefix) + 40 + 3 × (1 + 63) = 245; then a part of 7 gives 253, of 8 gives 254
    const stem = ['a'.repeat(40), 'b'.repeat(63), 'c'.repeat(63), 'd'.repeat(63)].join('.');
    const longest = nameOf(`${stem}.${'e'.repeat(7)}`);
    expect(longest).toHaveLength(253);
    expect(longest).toMatch(DNS_SUBDOMAIN);
    expect(refusal(`${stem}.${'e'.repeat(8)}`)).toContain('max 253');
  });

  it('maps two raw ids that differ only in case or punctuation to the same node name', () => {
    expect(nameOf('Base_1')).toBe(nameOf('base-1'));
  });
});

describe('labelValue', () => {
  it('keeps a valid label value as it is', () => {
    expect(labelValue('base-5f9c7d-x2k4p')).toBe('base-5f9c7d-x2k4p');
    expect(labelValue('Base_1.0.0')).toBe('Base_1.0.0');
  });

  it('replaces characters a label value cannot hold with underscores', () => {
    expect(labelValue('my base/1')).toBe('my_base_1');
  });

  it('trims what does not start or end with a letter or digit', () => {
    expect(labelValue('--base--')).toBe('base');
    expect(labelValue('_.base._')).toBe('base');
    expect(labelValue('(base)')).toBe('base');
  });

  it('cuts to 63 characters and still ends with a letter or digit', () => {
    const value = labelValue(`${'a'.repeat(62)}-b`);
    expect(value).toBe('a'.repeat(62));
    expect(value).toMatch(LABEL_VALUE);
    expect(labelValue('x'.repeat(100))).toHaveLength(63);
  });

  it('is empty when nothing valid remains', () => {
    expect(labelValue('')).toBe('');
    expect(labelValue('///')).toBe('');
    expect(labelValue('-._')).toBe('');
  });
});
