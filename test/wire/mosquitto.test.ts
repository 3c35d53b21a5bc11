import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { access, readFile, rm } from 'node:fs/promises';
import { connect as connectTcp } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MosquittoMissingError, startMosquitto } from '../support/mosquitto.ts';
import { MqttProbe } from '../support/mqtt-probe.ts';
import { waitFor } from '../support/wait-for.ts';

async function refusesConnections(port: number): Promise<boolean> {
  const socket = connectTcp(port, '127.0.0.1');
  try {
    await once(socket, 'connect');
    return false;
  } catch {
    return true;
  } finally {
    socket.destroy();
  }
}

describe('startMosquitto', () => {
  it('runs a broker on a free loopback port, with its config and log in a temp dir it removes', async () => {
    const mosquitto = await startMosquitto({ listenerLines: ['max_connections 50'] });
    try {
      expect(mosquitto.url).toBe(`mqtt://127.0.0.1:${mosquitto.port}`);
      const config = await readFile(join(mosquitto.dir, 'mosquitto.conf'), 'utf8');
      expect(config).toContain(`listener ${mosquitto.port} 127.0.0.1`);
      expect(config).toContain('allow_anonymous true');
      expect(config).toContain('persistence false');
      expect(config).toContain('max_connections 50');
      const probe = await MqttProbe.connect(mosquitto.url);
      await probe.subscribe('t');
      await probe.publish('t', 'x');
      await probe.waitForMessage((message) => message.text === 'x', {
        description: 'a message through mosquitto',
      });
      await probe.close();
      expect(await mosquitto.readLog()).toContain('running');
    } finally {
      await mosquitto.stop();
      await mosquitto.stop();
    }
    await expect(access(mosquitto.dir)).rejects.toThrow();
    expect(await refusesConnections(mosquitto.port)).toBe(true);
  });

  it('says how to install mosquitto when the binary is missing', async () => {
    const start = startMosquitto({ binary: '/nonexistent/mosquitto' });
    await expect(start).rejects.toBeInstanceOf(MosquittoMissingError);
    await expect(start).rejects.toThrow('install with apt-get install mosquitto');
  });

  it('fails fast, with the log, when mosquitto refuses its config', async () => {
    const started = Date.now();
    await expect(startMosquitto({ extraLines: ['no_such_option true'] })).rejects.toThrow(/exited/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('dies with the process that started it', async () => {
    const helper = fileURLToPath(new URL('../support/mosquitto.ts', import.meta.url));
    const script = `const { startMosquitto } = await import(${JSON.stringify(helper)});
      const m = await startMosquitto();
      console.log('READY ' + m.port + ' ' + m.dir);
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let started: { port: number; dir: string } | undefined;
    createInterface({ input: child.stdout }).on('line', (line) => {
      const [word, port, dir] = line.split(' ');
      if (word === 'READY' && port !== undefined && dir !== undefined) started = { port: Number(port), dir };
    });
    const { port, dir } = await waitFor(() => started, {
      description: 'the child to start mosquitto',
      timeoutMs: 20_000,
    });
    try {
      expect(await refusesConnections(port)).toBe(false);
      child.kill('SIGKILL');
      await once(child, 'exit');
      await waitFor(() => refusesConnections(port), {
        description: 'mosquitto to die with its parent',
        timeoutMs: 10_000,
      });
    } finally {
      // the killed child could not clean up after itself
      await rm(dir, { recursive: true, force: true });
    }
  });
});
