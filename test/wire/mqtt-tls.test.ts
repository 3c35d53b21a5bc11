import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../core/clock.ts';
import { ConfigError, describeError, TunnelError } from '../../core/errors.ts';
import { silentLogger } from '../../core/logger.ts';
import { createMetrics } from '../../core/metrics.ts';
import { SimulatedBase } from '../../core/sim/simulated-base.ts';
import { MqttTunnel, type MqttTunnelOptions } from '../../core/tunnel/mqtt-tunnel.ts';
import type { TunnelEvent } from '../../core/tunnel/tunnel.ts';
import { startKmcProcess, type KmcProcess } from '../support/kmc-process.ts';
import { startMosquitto, type RunningMosquitto } from '../support/mosquitto.ts';
import {
  createTestCa,
  issueCert,
  mosquittoPasswordFile,
  mosquittoTlsLines,
  type IssuedCert,
  type TestCa,
} from '../support/test-pki.ts';
import { uniqueId } from '../support/unique-id.ts';
import { waitFor } from '../support/wait-for.ts';

const USER = 'kmc';
const PASSWORD = 'kmc-test-password';

/**
 * MQTT over TLS against Debian's mosquitto with a test CA: the broker certificate is verified, a broker that
 * requires a client certificate gets one, the password comes from a file, and every refusal stops kmc at once
 * with an error naming the broker and the reason — never a retry loop that hides it.
 */
describe('MQTT over TLS (mosquitto with a test CA and require_certificate)', () => {
  let dir: string;
  let ca: TestCa;
  let client: IssuedCert;
  let passwordFile: string;
  /** Server certificate from the test CA, client certificate required, password file, no anonymous access. */
  let mutual: RunningMosquitto;
  /** Server certificate from another CA. */
  let foreign: RunningMosquitto;
  /** Server certificate from the test CA, but for another host name. */
  let misnamed: RunningMosquitto;
  const processes: KmcProcess[] = [];
  const tunnels: MqttTunnel[] = [];
  const bases: SimulatedBase[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kmc-tls-'));
    ca = await createTestCa(join(dir, 'ca'), 'kmc-test-ca');
    const other = await createTestCa(join(dir, 'other'), 'other-ca');
    const server = await issueCert(ca, {
      name: 'broker',
      usage: 'server',
      altNames: ['IP:127.0.0.1', 'DNS:localhost'],
    });
    const foreignServer = await issueCert(other, {
      name: 'foreign-broker',
      usage: 'server',
      altNames: ['IP:127.0.0.1', 'DNS:localhost'],
    });
    const misnamedServer = await issueCert(ca, {
      name: 'misnamed-broker',
      usage: 'server',
      altNames: ['DNS:broker.example.invalid'],
    });
    client = await issueCert(ca, { name: 'kmc-client', usage: 'client' });
    const brokerPasswords = await mosquittoPasswordFile(join(dir, 'mosquitto.passwd'), { [USER]: PASSWORD });
    passwordFile = join(dir, 'password');
    // As a mounted Secret holds it: with a trailing newline.
    await writeFile(passwordFile, `${PASSWORD}\n`);

    const caPem = await readFile(ca.cert);
    mutual = await startMosquitto({
      protocol: 'mqtts',
      listenerLines: mosquittoTlsLines(server, ca),
      extraLines: ['allow_anonymous false', `password_file ${brokerPasswords}`],
      probeOptions: {
        ca: caPem,
        cert: await readFile(client.cert),
        key: await readFile(client.key),
        username: USER,
        password: PASSWORD,
      },
    });
    foreign = await startMosquitto({
      protocol: 'mqtts',
      listenerLines: mosquittoTlsLines(foreignServer),
      probeOptions: { ca: await readFile(other.cert) },
    });
    misnamed = await startMosquitto({
      protocol: 'mqtts',
      listenerLines: mosquittoTlsLines(misnamedServer),
      // The readiness probe only needs the broker up; what kmc makes of the name is the test.
      probeOptions: { rejectUnauthorized: false },
    });
  });

  afterAll(async () => {
    for (const p of processes) await p.kill();
    for (const base of bases) await base.stop().catch(() => undefined);
    for (const tunnel of tunnels) await tunnel.stop().catch(() => undefined);
    await Promise.all([mutual.stop(), foreign.stop(), misnamed.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  function tunnel(
    url: string,
    overrides: Partial<MqttTunnelOptions> = {},
    events: TunnelEvent[] = [],
  ): MqttTunnel {
    const created = new MqttTunnel({
      url,
      env: 'tls',
      clientIdPrefix: 'kmc',
      identity: uniqueId('kmc'),
      maxPayloadBytes: 1024 * 1024,
      maxMessageAgeMs: 30_000,
      keepaliveSeconds: 30,
      envProbeMs: 0,
      logger: silentLogger(),
      metrics: createMetrics(),
      clock: systemClock,
      listener: (event) => events.push(event),
      ...overrides,
    });
    tunnels.push(created);
    return created;
  }

  it('connects with the test CA, a client certificate and a password, and hears a base over TLS', async () => {
    const events: TunnelEvent[] = [];
    const kmc = tunnel(
      mutual.url,
      {
        username: USER,
        password: PASSWORD,
        tls: { ca: ca.cert, cert: client.cert, key: client.key },
      },
      events,
    );
    await kmc.start();
    expect(kmc.connected).toBe(true);
    const baseCert = await issueCert(ca, { name: 'base-client', usage: 'client' });
    const base = new SimulatedBase({
      brokerUrl: mutual.url,
      identity: uniqueId('b'),
      env: 'tls',
      heartbeatIntervalMs: 500,
      mqttOptions: {
        ca: await readFile(ca.cert),
        cert: await readFile(baseCert.cert),
        key: await readFile(baseCert.key),
        username: USER,
        password: PASSWORD,
      },
    });
    bases.push(base);
    await base.start();
    const heartbeat = await waitFor(
      () => events.find((e) => e.type === 'heartbeat' && e.baseId === base.identity),
      { description: "the base's heartbeat through the TLS broker", timeoutMs: 15_000 },
    );
    expect(heartbeat.baseId).toBe(base.identity);
    // mosquitto saw a verified client certificate.
    expect(await mutual.readLog()).toMatch(/New client connected .* as kmc@@@/);
  });

  it('refuses a broker certificate from another CA, naming the broker and the verification failure', async () => {
    const started = Date.now();
    const error = await tunnel(foreign.url, { tls: { ca: ca.cert } })
      .start()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(TunnelError);
    const message = (error as Error).message;
    expect(message).toContain(`cannot connect to MQTT broker ${foreign.url}`);
    expect(message).toContain('TLS verification failed: unable to verify the first certificate');
    expect(message).toContain('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(message).toContain(`not signed by the CA of mqtt.tls.ca (${ca.cert})`);
    // At once: no reconnect loop before the answer.
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('refuses the same broker with no CA configured: Node’s bundled CAs do not know a private CA', async () => {
    const error = await tunnel(foreign.url)
      .start()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TunnelError);
    expect((error as Error).message).toContain(
      "not signed by Node's bundled CAs (set mqtt.tls.ca for a private CA)",
    );
  });

  it('refuses a broker whose certificate is not for the address kmc connects to', async () => {
    const error = await tunnel(misnamed.url, { tls: { ca: ca.cert } })
      .start()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TunnelError);
    expect((error as Error).message).toMatch(
      new RegExp(
        `cannot connect to MQTT broker ${misnamed.url.replaceAll('.', '\\.')}.*TLS verification failed: .*` +
          "IP: 127\\.0\\.0\\.1 is not in the cert's list.*ERR_TLS_CERT_ALTNAME_INVALID",
      ),
    );
  });

  it('fails at once when the broker requires a client certificate and kmc has none, naming the settings', async () => {
    const error = await tunnel(mutual.url, { username: USER, password: PASSWORD, tls: { ca: ca.cert } })
      .start()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TunnelError);
    expect((error as Error).message).toContain(
      `cannot connect to MQTT broker ${mutual.url}: the broker refused the TLS handshake: it requires a client ` +
        'certificate (set mqtt.tls.cert and mqtt.tls.key)',
    );
  });

  it('fails at once when the broker refuses the password, naming the user', async () => {
    const error = await tunnel(mutual.url, {
      username: USER,
      password: 'wrong',
      tls: { ca: ca.cert, cert: client.cert, key: client.key },
    })
      .start()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TunnelError);
    expect((error as Error).message).toContain(
      `cannot connect to MQTT broker ${mutual.url}: the broker refused the credentials of user "kmc"`,
    );
  });

  it('names the setting and the file when a TLS file cannot be read', async () => {
    const missing = join(dir, 'no-such-ca.crt');
    const error = await tunnel(mutual.url, { tls: { ca: missing } })
      .start()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(describeError(error)).toBe(
      `mqtt.tls.ca: cannot read ${missing}: ENOENT: no such file or directory, open '${missing}'`,
    );
  });

  describe('kmc run', () => {
    /** A kubeconfig whose API server is never reached: these runs stop at, or just after, the broker. */
    async function unreachableKubeconfig(): Promise<string> {
      const file = join(dir, 'unreachable.kubeconfig');
      await writeFile(
        file,
        [
          'apiVersion: v1',
          'kind: Config',
          'clusters: [{ name: c, cluster: { server: "https://127.0.0.1:1" } }]',
          'users: [{ name: u, user: { token: t } }]',
          'contexts: [{ name: x, context: { cluster: c, user: u } }]',
          'current-context: x',
          '',
        ].join('\n'),
      );
      return file;
    }

    it('reads the password from a file and connects over mutual TLS', async () => {
      const kmc = await startKmcProcess(
        {
          env: 'tls',
          mqtt: {
            url: mutual.url,
            username: USER,
            passwordFile,
            tls: { ca: ca.cert, cert: client.cert, key: client.key },
          },
          leaderElection: { enabled: false },
          server: { port: 0 },
        },
        uniqueId('kmc'),
        { kubeconfig: await unreachableKubeconfig() },
      );
      processes.push(kmc);
      const connected = await waitFor(
        () => kmc.logs().find((line) => line['msg'] === 'connected to the MQTT broker'),
        { description: 'kmc connected to the TLS broker', timeoutMs: 30_000 },
      );
      expect(connected['broker']).toBe(mutual.url);
    });

    it('stops with exit code 1 and the reason when the broker certificate is from another CA', async () => {
      const kmc = await startKmcProcess(
        {
          env: 'tls',
          mqtt: { url: foreign.url, tls: { ca: ca.cert } },
          leaderElection: { enabled: false },
          server: { port: 0 },
        },
        uniqueId('kmc'),
        { kubeconfig: await unreachableKubeconfig() },
      );
      processes.push(kmc);
      expect(await kmc.exited).toBe(1);
      const fatal = kmc.logs().find((line) => line['msg'] === 'kmc could not start');
      expect(fatal?.['err']).toEqual(
        expect.stringContaining(
          `cannot connect to MQTT broker ${foreign.url}: TLS verification failed: unable to verify the first certificate`,
        ),
      );
    });

    it('stops with exit code 2 naming mqtt.passwordFile when the Secret file is missing', async () => {
      const missing = join(dir, 'mqtt', 'password');
      const kmc = await startKmcProcess(
        {
          env: 'tls',
          mqtt: { url: mutual.url, username: USER, passwordFile: missing, tls: { ca: ca.cert } },
          leaderElection: { enabled: false },
          server: { port: 0 },
        },
        uniqueId('kmc'),
        { kubeconfig: await unreachableKubeconfig() },
      );
      processes.push(kmc);
      expect(await kmc.exited).toBe(2);
      expect(kmc.output()).toContain(
        `kmc: mqtt.passwordFile: cannot read ${missing}: ENOENT: no such file or directory`,
      );
    });
  });
});
