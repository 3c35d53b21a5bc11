import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configSchema } from '../../../config/config-schema.ts';
import { resolvePlugins } from '../../../config/resolve-plugins.ts';
import {
  configOptions,
  exampleFromReference,
  renderConfigReference,
  staleExamplePaths,
} from '../../../scripts/config-reference.ts';
import { generatedFiles, staleFiles } from '../../../scripts/generate.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** Leaf option paths of a zod object schema, found by walking the schema itself (not its JSON Schema). */
function leafPaths(schema: z.ZodType, prefix = ''): string[] {
  let inner: z.ZodType = schema;
  // Unwrap defaults, prefaults, optionals and refinements down to the object or the leaf.
  for (;;) {
    const def = (inner as unknown as { def: { type: string; innerType?: z.ZodType; in?: z.ZodType } }).def;
    if (def.innerType) inner = def.innerType;
    else if (def.type === 'pipe' && def.in) inner = def.in;
    else break;
  }
  if (inner instanceof z.ZodObject) {
    return Object.entries(inner.shape as Record<string, z.ZodType>).flatMap(([key, child]) =>
      leafPaths(child, prefix ? `${prefix}.${key}` : key),
    );
  }
  return [prefix];
}

describe('generated files', () => {
  it('are up to date with their sources (run npm run generate when this fails)', async () => {
    expect(await staleFiles()).toEqual([]);
  });

  it('include the RBAC of both kustomizations, the chart’s rules and CRD, the config reference and the RBAC table', async () => {
    expect([...(await generatedFiles()).keys()].sort()).toEqual(
      [
        'charts/kmc/crds/modulerollouts.rollout.koupleless.io.yaml',
        'charts/kmc/files/rbac-rules.yaml',
        'docs/config-reference.md',
        'docs/install.md',
        'examples/deploy/base/rbac.yaml',
        'examples/deploy/namespaced/koupleless.config.yaml',
        'examples/deploy/namespaced/rbac-watched-namespaces.yaml',
        'examples/deploy/rbac-all-namespaces.yaml',
      ].sort(),
    );
  });
});

describe('docs/config-reference.md', () => {
  const markdown = renderConfigReference();

  it('lists every option of the schema with its type, default and an example', () => {
    const paths = leafPaths(configSchema);
    expect(paths.length).toBeGreaterThan(40);
    expect(configOptions().map((option) => option.path)).toEqual(paths);
    for (const path of paths) {
      const row = markdown.split('\n').find((line) => line.startsWith(`| \`${path}\` |`));
      expect(row, path).toBeDefined();
      // option | type | default | description | example (escaped pipes inside cells do not split them)
      const cells = (row ?? '')
        .split(/(?<!\\)\|/)
        .slice(1, -1)
        .map((cell) => cell.trim());
      expect(cells, path).toHaveLength(5);
      const [, type, fallback, , example] = cells;
      expect(type, `${path} type`).not.toBe('');
      expect(fallback, `${path} default`).not.toBe('');
      expect(example, `${path} example`).toMatch(/^`.+`$/);
    }
  });

  it('shows each default as the schema applies it', () => {
    const defaults = configSchema.parse({}) as unknown as Record<string, Record<string, unknown>>;
    const row = (path: string) =>
      markdown.split('\n').find((line) => line.startsWith(`| \`${path}\` |`)) ?? '';
    expect(row('mqtt.lossGraceSeconds')).toContain(
      `| \`${String(defaults['mqtt']?.['lossGraceSeconds'])}\` |`,
    );
    expect(row('bases.silenceSeconds')).toContain('| `30` |');
    expect(row('env')).toContain('| `"dev"` |');
    expect(row('mqtt.url')).toContain('| — |');
  });

  it('ends with a complete example that is a valid config, plugin options included', async () => {
    const example = exampleFromReference(markdown);
    const parsed = configSchema.parse(example);
    const plugins = await resolvePlugins(parsed.plugins, undefined);
    expect(plugins.map((plugin) => plugin.name)).toEqual(['batches', 'beta-first', 'pause-and-confirm']);
  });

  it('has a curated example for no option the schema has lost', () => {
    expect(staleExamplePaths()).toEqual([]);
  });

  it('is the committed file', async () => {
    expect(await readFile(`${ROOT}docs/config-reference.md`, 'utf8')).toBe(markdown);
  });
});
