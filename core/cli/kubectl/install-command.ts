import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError } from './cluster.ts';

/** The plugin's entry point, beside this file. */
const ENTRY = fileURLToPath(new URL('./kubectl-koupleless.ts', import.meta.url));

/** A POSIX shell single-quoted word. */
const quote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

/**
 * The shim kubectl finds on PATH: it execs this project's Node (24, whatever `node` is on PATH — the machines'
 * system Node is older) by absolute path, with the entry point by absolute path. Pure.
 */
export function shimText(node: string, entry: string = ENTRY): string {
  return [
    '#!/bin/sh',
    '# kubectl-koupleless, installed by `npm run kubectl-koupleless -- install`: runs on the project’s Node.',
    `exec ${quote(node)} ${quote(entry)} "$@"`,
    '',
  ].join('\n');
}

/** `install [--dir <dir>]`: writes the shim; says how to put the directory on PATH when it is not. */
export async function installCommand(dir: string | undefined, write: (text: string) => void): Promise<void> {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 22)
    throw new CliError(
      `run the install through npm (npm run kubectl-koupleless -- install) so it records the project's Node 24, not Node ${process.versions.node}`,
      2,
    );
  const target = resolve(dir ?? join(homedir(), '.local', 'bin'));
  await mkdir(target, { recursive: true });
  const path = join(target, 'kubectl-koupleless');
  await writeFile(path, shimText(process.execPath));
  await chmod(path, 0o755);
  write(`installed ${path} (Node ${process.versions.node} at ${process.execPath})`);
  const onPath = (process.env['PATH'] ?? '').split(delimiter).some((p) => resolve(p) === target);
  write(
    onPath
      ? 'try: kubectl koupleless --help'
      : `${target} is not on PATH: export PATH="${target}:$PATH", then: kubectl koupleless --help`,
  );
}
