import { spawn, type SpawnOptions } from 'node:child_process';

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export class CommandError extends Error {
  override readonly name = 'CommandError';
  readonly result: CommandResult;
  constructor(command: string, result: CommandResult) {
    const tail = (result.stderr || result.stdout).trim().split('\n').slice(-20).join('\n');
    super(`${command} exited with code ${result.code}${tail ? `:\n${tail}` : ''}`);
    this.result = result;
  }
}

export interface RunOptions extends Pick<SpawnOptions, 'cwd' | 'env'> {
  /** Called with each complete stderr line as it arrives (for progress). */
  readonly onStderrLine?: (line: string) => void;
  /** Resolve with the result instead of rejecting on a non-zero exit. */
  readonly allowFailure?: boolean;
  /** Written to the command's stdin, which is then closed. */
  readonly stdin?: string;
}

/** Runs a command to completion, capturing its output; rejects with the output's tail on failure. */
export function runCommand(
  file: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (options.stdin !== undefined) child.stdin?.end(options.stdin);
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (!options.onStderrLine) return;
      partial += chunk;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) options.onStderrLine(line);
    });
    child.on('error', (error) => {
      reject(new Error(`cannot run ${file}: ${error.message}`, { cause: error }));
    });
    child.on('close', (code, signal) => {
      const result = { code: code ?? (signal ? 128 : 1), stdout, stderr };
      if (result.code === 0 || options.allowFailure) resolve(result);
      else reject(new CommandError(`${file} ${args.join(' ')}`, result));
    });
  });
}
