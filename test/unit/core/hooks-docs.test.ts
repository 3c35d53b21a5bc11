import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createHooks } from '../../../core/hooks.ts';

/** The hook names of docs/plugins.md's table (second column, one or more `name`s per row). */
async function documentedHooks(): Promise<string[]> {
  const text = await readFile(new URL('../../../docs/plugins.md', import.meta.url), 'utf8');
  const section = text.slice(text.indexOf('## The hooks'), text.indexOf('## Custom plugins'));
  return section
    .split('\n')
    .filter((line) => /^\| (controller|vnode|module|rollout|scheduling) \|/.test(line))
    .flatMap((line) => [...(line.split('|')[2] ?? '').matchAll(/`(\w+)`/g)].map((m) => m[1] ?? ''));
}

describe('docs/plugins.md', () => {
  it('documents exactly the hooks core/hooks.ts declares', async () => {
    const declared = Object.keys(createHooks()).sort();
    expect((await documentedHooks()).sort()).toEqual(declared);
  });
});
