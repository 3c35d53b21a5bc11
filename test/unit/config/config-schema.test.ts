import { describe, expect, it } from 'vitest';
import { configSchema, type UserConfig } from '../../../config/config-schema.ts';
import { defineConfig } from '../../../config/define-config.ts';

function issuesOf(raw: unknown): { path: string; message: string }[] {
  const parsed = configSchema.safeParse(raw);
  if (parsed.success) throw new Error('accepted');
  return parsed.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
}

describe('configSchema', () => {
  it('fills in every default from an empty config', () => {
    expect(configSchema.parse({})).toEqual({
      env: 'dev',
      mqtt: {
        clientIdPrefix: 'kmc',
        keepaliveSeconds: 60,
        lossGraceSeconds: 120,
        maxPayloadBytes: 1024 * 1024,
        maxMessageAgeSeconds: 10,
        embedded: { host: '127.0.0.1', port: 1883 },
      },
      watch: { namespaces: [], deploymentSelector: '' },
      bases: {
        silenceSeconds: 30,
        deleteAfterSeconds: 3600,
        leaseRenewSeconds: 10,
        statusRefreshSeconds: 60,
        healthPollSeconds: 10,
        bizPollSeconds: 15,
        stack: 'java',
        capacity: { pods: 110, cpu: '1000', memory: '1Ti' },
      },
      leaderElection: { enabled: true, leaseSeconds: 8, renewDeadlineSeconds: 5, retrySeconds: 1 },
      retention: { maxSeconds: 3600 },
      rollout: { batchFirstInstall: false, undo: 'fast' },
      server: { host: '0.0.0.0', port: 8080 },
      log: { level: 'info' },
      plugins: [],
    });
  });

  it('fills in the defaults of a section that is given in part', () => {
    const config = configSchema.parse({ bases: { silenceSeconds: 9, capacity: { pods: 3 } } });
    expect(config.bases.silenceSeconds).toBe(9);
    expect(config.bases.deleteAfterSeconds).toBe(3600);
    expect(config.bases.capacity).toEqual({ pods: 3, cpu: '1000', memory: '1Ti' });
  });

  it('rejects unknown keys at the top level and in every section', () => {
    expect(issuesOf({ bogus: 1 })).toEqual([{ path: '', message: 'Unrecognized key: "bogus"' }]);
    for (const section of [
      'mqtt',
      'watch',
      'bases',
      'leaderElection',
      'retention',
      'rollout',
      'server',
      'log',
    ]) {
      expect(issuesOf({ [section]: { bogus: 1 } }), section).toEqual([
        { path: section, message: 'Unrecognized key: "bogus"' },
      ]);
    }
    expect(issuesOf({ mqtt: { tls: { pem: 'x' } } })[0]?.path).toBe('mqtt.tls');
    expect(issuesOf({ bases: { capacity: { gpus: 1 } } })[0]?.path).toBe('bases.capacity');
  });

  it('accepts stock env names and refuses one that is not a single MQTT topic level', () => {
    expect(configSchema.parse({ env: 'default' }).env).toBe('default');
    for (const env of ['a/b', 'a+', '#', 'has space', '']) {
      expect(issuesOf({ env })[0]?.path, env).toBe('env');
    }
  });

  it('accepts broker URLs and refuses other URLs', () => {
    for (const url of [
      'mqtt://broker:1883',
      'mqtts://broker:8883',
      'ws://b/mqtt',
      'wss://b',
      'tcp://b',
      'ssl://b',
    ]) {
      expect(configSchema.parse({ mqtt: { url } }).mqtt.url, url).toBe(url);
    }
    expect(issuesOf({ mqtt: { url: 'http://broker' } })).toEqual([
      { path: 'mqtt.url', message: 'must be a broker URL such as mqtt://host:1883 or mqtts://host:8883' },
    ]);
  });

  it('refuses durations that are not positive', () => {
    expect(issuesOf({ bases: { silenceSeconds: 0 } })[0]?.path).toBe('bases.silenceSeconds');
    expect(issuesOf({ retention: { maxSeconds: -1 } })[0]?.path).toBe('retention.maxSeconds');
    expect(issuesOf({ mqtt: { lossGraceSeconds: '120' } })[0]?.path).toBe('mqtt.lossGraceSeconds');
  });

  it('refuses a renew deadline that is not below the lease duration', () => {
    expect(issuesOf({ leaderElection: { leaseSeconds: 5, renewDeadlineSeconds: 5 } })).toEqual([
      {
        path: 'leaderElection.renewDeadlineSeconds',
        message: 'renewDeadlineSeconds must be less than leaseSeconds',
      },
    ]);
  });

  it('refuses ports out of range', () => {
    expect(issuesOf({ server: { port: 70000 } })[0]?.path).toBe('server.port');
    expect(issuesOf({ mqtt: { embedded: { port: -1 } } })[0]?.path).toBe('mqtt.embedded.port');
  });

  it('accepts plugin names, [name, options] tuples and plugin objects, and refuses anything else', () => {
    const object = { name: 'inline', apply: () => undefined };
    const config = configSchema.parse({ plugins: ['biz-deactivate', ['./x.ts', { a: 1 }], object] });
    expect(config.plugins).toEqual(['biz-deactivate', ['./x.ts', { a: 1 }], object]);
    expect(issuesOf({ plugins: [42] })[0]?.path).toBe('plugins.0');
    expect(issuesOf({ plugins: [''] })[0]?.path).toBe('plugins.0');
    expect(issuesOf({ plugins: [{ name: 'no-apply' }] })[0]?.path).toBe('plugins.0');
  });
});

describe('defineConfig', () => {
  it('returns the config it is given, unchanged', () => {
    const config: UserConfig = { env: 'prod', bases: { silenceSeconds: 15 } };
    expect(defineConfig(config)).toBe(config);
  });
});
