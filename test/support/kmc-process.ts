import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { stringify } from 'yaml';
import type { UserConfig } from '../../config/config-schema.ts';
import { uniqueId } from './unique-id.ts';

const MAIN = fileURLToPath(new URL('../../core/cli/main.ts', import.meta.url));

/** A `kmc run` in its own process, so a test can kill it for real (SIGKILL) and start another. */
export interface KmcProcess {
  readonly identity: string;
  readonly child: ChildProcess;
  /** Everything it logged (JSON lines), as text. */
  output(): string;
  /** Log lines parsed, newest last. */
  logs(): Record<string, unknown>[];
  /** Settles with the exit code when the process exits on its own (or is killed). */
  readonly exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface KmcProcessOptions {
  /** The kubeconfig kmc runs with (a ServiceAccount's, say); default the run's admin kubeconfig. */
  readonly kubeconfig?: string;
  /** Extra environment (POD_NAMESPACE, ...). */
  readonly env?: Readonly<Record<string, string>>;
}

export async function startKmcProcess(
  config: UserConfig,
  identity = uniqueId('kmc'),
  options: KmcProcessOptions = {},
): Promise<KmcProcess> {
  const file = join(tmpdir(), `${identity}.yaml`);
  await writeFile(file, stringify(config));
  const child = spawn(process.execPath, [MAIN, 'run', '--config', file, '--identity', identity], {
    env: { ...process.env, ...options.env, KUBECONFIG: options.kubeconfig ?? inject('kubeconfig') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      resolve(code);
    }),
  );
  return {
    identity,
    child,
    exited,
    output: () => output,
    logs: () =>
      output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .flatMap((line) => {
          try {
            return [JSON.parse(line) as Record<string, unknown>];
          } catch {
            return [];
          }
        }),
    kill: async (signal: NodeJS.Signals = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
