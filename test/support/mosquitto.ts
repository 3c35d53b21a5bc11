/**
 * Runs Debian's mosquitto as a second, independent broker for interop tests: a generated config in a temp
 * dir, a free loopback port, and a readiness check that really connects over MQTT.
 *
 * TLS suites pass their own listener lines (cafile, certfile, keyfile, require_certificate) and the client
 * options the readiness probe needs to get through them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { constants } from 'node:fs';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type IClientOptions } from 'mqtt';

export const MOSQUITTO_BINARY = '/usr/sbin/mosquitto';
const SETPRIV_BINARY = '/usr/bin/setpriv';

export interface MosquittoOptions {
  /** Lines added to the loopback listener's section, e.g. `cafile …`, `certfile …`, `require_certificate true`. */
  readonly listenerLines?: readonly string[];
  /** Lines added at the end of the config (global options). */
  readonly extraLines?: readonly string[];
  /** URL scheme clients use: `mqtts` when the listener lines set up TLS. Default `mqtt`. */
  readonly protocol?: 'mqtt' | 'mqtts';
  /** Extra options for the readiness probe's connection (ca, cert, key, servername …). */
  readonly probeOptions?: IClientOptions;
  /** How long mosquitto may take to accept a first MQTT connection. Default 10 s. */
  readonly startTimeoutMs?: number;
  readonly binary?: string;
}

export interface RunningMosquitto {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** The temp dir with the config and the log; removed by stop(). */
  readonly dir: string;
  readonly logFile: string;
  readLog(): Promise<string>;
  /** SIGTERM, then SIGKILL after a deadline; removes the temp dir. Safe to call more than once. */
  stop(): Promise<void>;
}

interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export class MosquittoMissingError extends Error {
  override readonly name = 'MosquittoMissingError';
}

export async function startMosquitto(options: MosquittoOptions = {}): Promise<RunningMosquitto> {
  const binary = options.binary ?? MOSQUITTO_BINARY;
  await assertExecutable(binary, `mosquitto not found at ${binary}: install with apt-get install mosquitto`);
  await assertExecutable(SETPRIV_BINARY, `setpriv not found at ${SETPRIV_BINARY}: install util-linux`);

  // A port found free can be taken before mosquitto binds it; a few attempts make that race harmless.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(binary, options);
    } catch (error) {
      lastError = error;
      if (!(error instanceof Error && /address already in use/i.test(error.message))) throw error;
    }
  }
  throw lastError;
}

async function startOnce(binary: string, options: MosquittoOptions): Promise<RunningMosquitto> {
  const dir = await mkdtemp(join(tmpdir(), 'kmc-mosquitto-'));
  const logFile = join(dir, 'mosquitto.log');
  const configFile = join(dir, 'mosquitto.conf');
  const port = await findFreePort();
  await writeFile(configFile, renderConfig(port, logFile, options));

  // setpriv makes the kernel kill mosquitto when the process that started it dies, so a crashed test run
  // leaves no broker behind.
  const child = spawn(SETPRIV_BINARY, ['--pdeathsig', 'SIGKILL', '--', binary, '-c', configFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = collectOutput(child);
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once('exit', (code, signal) => {
      resolve({ code, signal });
    });
    // a spawn failure emits 'error' and no 'exit'
    child.once('error', () => {
      resolve({ code: null, signal: null });
    });
  });

  const url = `${options.protocol ?? 'mqtt'}://127.0.0.1:${port}`;
  const readLog = async (): Promise<string> => readFile(logFile, 'utf8').catch(() => '');
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= stopProcess(child, exited).finally(() => rm(dir, { recursive: true, force: true })));

  try {
    await waitUntilAccepting(url, options, exited, output, readLog);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, port, pid: child.pid ?? -1, dir, logFile, readLog, stop };
}

function renderConfig(port: number, logFile: string, options: MosquittoOptions): string {
  return [
    // mosquitto started as root drops to user "mosquitto", which could not write the log in our temp dir
    `user ${userInfo().username}`,
    'persistence false',
    `log_dest file ${logFile}`,
    'log_type all',
    'connection_messages true',
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    ...(options.listenerLines ?? []),
    ...(options.extraLines ?? []),
    '',
  ].join('\n');
}

async function waitUntilAccepting(
  url: string,
  options: MosquittoOptions,
  exited: Promise<ProcessExit>,
  output: () => string,
  readLog: () => Promise<string>,
): Promise<void> {
  const timeoutMs = options.startTimeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  let processExit: ProcessExit | undefined;
  void exited.then((exit) => (processExit = exit));
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (processExit !== undefined) {
      const log = await readLog();
      throw new Error(
        `mosquitto exited (code ${String(processExit.code)}, signal ${String(processExit.signal)}) before accepting connections:\n${output()}${log}`,
      );
    }
    try {
      const probe = await connectAsync(url, {
        ...options.probeOptions,
        clientId: `kmc-mosquitto-probe-${process.pid}-${Date.now()}`,
        reconnectPeriod: 0,
        connectTimeout: 1_000,
      });
      await probe.endAsync();
      return;
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const reason = lastError instanceof Error ? lastError.message : String(lastError);
  throw new Error(
    `mosquitto did not accept MQTT connections on ${url} within ${timeoutMs} ms (${reason}):\n${output()}${await readLog()}`,
  );
}

async function stopProcess(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => {
      resolve('timeout');
    }, 5_000);
  });
  const outcome = await Promise.race([exited, deadline]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    child.kill('SIGKILL');
    await exited;
  }
}

function collectOutput(child: ChildProcess): () => string {
  let text = '';
  const append = (chunk: Buffer): void => {
    text = (text + chunk.toString('utf8')).slice(-16_384);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  return () => text;
}

async function findFreePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
  return port;
}

async function assertExecutable(path: string, message: string): Promise<void> {
  try {
    await access(path, constants.X_OK);
  } catch {
    throw new MosquittoMissingError(message);
  }
}
