import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { displayPath, loadConfig, parseConfig, SEARCH_PLACES } from '../../../config/load-config.ts';
import { ConfigError } from '../../../core/errors.ts';

let dir = '';

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kmc-load-config-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

async function failure(promise: Promise<unknown>): Promise<ConfigError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

function parseFailure(raw: unknown, file: string | undefined): ConfigError {
  try {
    parseConfig(raw, file);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('fills in defaults', () => {
    const config = parseConfig({}, undefined);
    expect(config.env).toBe('dev');
    expect(config.bases.silenceSeconds).toBe(30);
    expect(config.retention.maxSeconds).toBe(3600);
    expect(config.plugins).toEqual([]);
  });

  it('names the file and the field path of every problem', () => {
    const file = join(dir, 'koupleless.config.yaml');
    const error = parseFailure({ bases: { silenceSeconds: 0 }, mqtt: { embedded: { port: 'x' } } }, file);
    expect(error.code).toBe('CONFIG');
    const [title, ...lines] = error.message.split('\n');
    expect(title).toBe('invalid configuration:');
    expect(lines.sort()).toEqual([
      expect.stringContaining(`  ${file}: bases.silenceSeconds: Too small`),
      expect.stringContaining(`  ${file}: mqtt.embedded.port: `),
    ]);
  });

  it('says "config" when there is no file, and "(top level)" for unknown top-level keys', () => {
    expect(parseFailure({ bogus: true }, undefined).message).toBe(
      'invalid configuration:\n  config: (top level): Unrecognized key: "bogus"',
    );
  });

  it('rejects unknown keys inside a section, naming the section', () => {
    expect(parseFailure({ bases: { silence: 30 } }, undefined).message).toContain(
      'config: bases: Unrecognized key: "silence"',
    );
  });
});

describe('displayPath', () => {
  it('shows a file inside the working directory relative to it', () => {
    expect(displayPath(join(process.cwd(), 'conf', 'koupleless.config.yaml'))).toBe(
      join('conf', 'koupleless.config.yaml'),
    );
  });

  it('shows a file outside the working directory as an absolute path', () => {
    const file = join(dir, 'koupleless.config.yaml');
    expect(displayPath(file)).toBe(file);
  });
});

describe('loadConfig', () => {
  it('looks in cosmiconfig places and koupleless.config.{json,yaml,yml}', () => {
    expect(SEARCH_PLACES).toContain('package.json');
    expect(SEARCH_PLACES).toContain('koupleless.config.json');
    expect(SEARCH_PLACES).toContain('koupleless.config.yaml');
    expect(SEARCH_PLACES).toContain('koupleless.config.yml');
    expect(SEARCH_PLACES).toContain('koupleless.config.ts');
  });

  it('loads a YAML file given by path and fills in defaults', async () => {
    const file = await write('koupleless.config.yaml', 'env: default\nbases:\n  silenceSeconds: 12\n');
    const loaded = await loadConfig({ file });
    expect(loaded.file).toBe(file);
    expect(loaded.config.env).toBe('default');
    expect(loaded.config.bases.silenceSeconds).toBe(12);
    expect(loaded.config.bases.deleteAfterSeconds).toBe(3600);
  });

  it('finds a JSON file in the directory it searches', async () => {
    await write('package.json', JSON.stringify({ name: 'app' }));
    const file = await write('koupleless.config.json', JSON.stringify({ retention: { maxSeconds: 60 } }));
    const loaded = await loadConfig({ cwd: dir });
    expect(loaded.file).toBe(file);
    expect(loaded.config.retention.maxSeconds).toBe(60);
  });

  it('finds the koupleless key of package.json', async () => {
    const file = await write(
      'package.json',
      JSON.stringify({ name: 'app', koupleless: { env: 'prod', plugins: ['biz-deactivate'] } }),
    );
    const loaded = await loadConfig({ cwd: dir });
    expect(loaded.file).toBe(file);
    expect(loaded.config.env).toBe('prod');
    expect(loaded.config.plugins).toEqual(['biz-deactivate']);
  });

  it('runs on defaults when no config file is found', async () => {
    await write('package.json', JSON.stringify({ name: 'app' }));
    const loaded = await loadConfig({ cwd: dir });
    expect(loaded.file).toBeUndefined();
    expect(loaded.config).toEqual(parseConfig({}, undefined));
  });

  it('takes an empty file as an empty config', async () => {
    const file = await write('koupleless.config.yaml', '');
    expect((await loadConfig({ file })).config).toEqual(parseConfig({}, undefined));
  });

  it('names the file and the field of an invalid value', async () => {
    const file = await write('koupleless.config.yaml', 'bases:\n  silenceSeconds: -5\n');
    const error = await failure(loadConfig({ file }));
    expect(error.message).toContain(`${file}: bases.silenceSeconds: Too small`);
  });

  it('names the file and the key of an unknown key', async () => {
    const file = await write('koupleless.config.json', JSON.stringify({ mqtt: { host: 'broker' } }));
    const error = await failure(loadConfig({ file }));
    expect(error.message).toContain(`${file}: mqtt: Unrecognized key: "host"`);
  });

  it('says the file cannot be read when it is not valid YAML', async () => {
    const file = await write('koupleless.config.yaml', 'bases: [unclosed\n');
    const error = await failure(loadConfig({ file }));
    expect(error.message.startsWith(`${file}: cannot read: `)).toBe(true);
    expect(error.cause).toBeDefined();
  });

  it('says the file cannot be read when it does not exist', async () => {
    const file = join(dir, 'missing.yaml');
    const error = await failure(loadConfig({ file }));
    expect(error.message.startsWith(`${file}: cannot read: `)).toBe(true);
  });
});
