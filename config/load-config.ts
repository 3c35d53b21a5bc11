import { cosmiconfig, getDefaultSearchPlaces } from 'cosmiconfig';
import { relative } from 'node:path';
import type { z } from 'zod';
import { ConfigError } from '../core/errors.ts';
import { configSchema, type KmcConfig } from './config-schema.ts';

export const CONFIG_MODULE = 'koupleless';

/** Where a config file is looked for (cosmiconfig's defaults plus koupleless.config.{json,yaml,yml}). */
export const SEARCH_PLACES = [
  ...getDefaultSearchPlaces(CONFIG_MODULE),
  `${CONFIG_MODULE}.config.json`,
  `${CONFIG_MODULE}.config.yaml`,
  `${CONFIG_MODULE}.config.yml`,
];

export interface LoadedConfig {
  readonly config: KmcConfig;
  /** The file it came from; undefined when none was found (defaults only). */
  readonly file: string | undefined;
}

/**
 * Finds (or, with `file`, loads) the config, validates it and fills in defaults. Errors name the file and the
 * field: `koupleless.config.yaml: bases.silenceSeconds: Too small: expected number to be >0`.
 */
export async function loadConfig(
  options: { file?: string | undefined; cwd?: string } = {},
): Promise<LoadedConfig> {
  const explorer = cosmiconfig(CONFIG_MODULE, { searchPlaces: SEARCH_PLACES, searchStrategy: 'project' });
  let result;
  try {
    result = options.file ? await explorer.load(options.file) : await explorer.search(options.cwd);
  } catch (error) {
    const where = options.file ?? 'the config file';
    throw new ConfigError(`${where}: cannot read: ${(error as Error).message}`, { cause: error });
  }
  const file = result?.filepath;
  const raw: unknown = result?.config ?? {};
  return { config: parseConfig(raw, file), file };
}

export function parseConfig(raw: unknown, file: string | undefined): KmcConfig {
  const parsed = configSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new ConfigError(formatIssues(parsed.error, file ? displayPath(file) : 'config'));
}

/** A config path as people would type it: relative when inside the working directory, else absolute. */
export function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
}

export function formatIssues(error: z.ZodError, where: string): string {
  const lines = error.issues.map((issue) => {
    const path = issue.path.length > 0 ? issue.path.map(String).join('.') : '(top level)';
    return `${where}: ${path}: ${issue.message}`;
  });
  return `invalid configuration:\n  ${lines.join('\n  ')}`;
}
