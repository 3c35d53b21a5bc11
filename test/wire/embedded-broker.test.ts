import { once } from 'node:events';
import { connect as connectTcp } from 'node:net';
import { connectAsync } from 'mqtt';
import { waitFor } from '../support/wait-for.ts';
import { describe, expect, it } from 'vitest';
import { startEmbeddedBroker } from '../../core/broker/embedded-broker.ts';
import { MqttProbe } from '../support/mqtt-probe.ts';
import { uniqueId } from '../support/unique-id.ts';

/** How many live handles of the kinds a broker could leak (listening sockets, sockets, timers). */
function handleCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) {
    if (kind === 'TCPServerWrap' || kind === 'TCPSocketWrap' || kind === 'Timeout')
      counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

describe('startEmbeddedBroker', () => {
  it('listens on a random loopback port and relays messages', async () => {
    const broker = await startEmbeddedBroker();
    const subscriber = await MqttProbe.connect(broker.url);
    const publisher = await MqttProbe.connect(broker.url);
    try {
      expect(broker.port).toBeGreaterThan(0);
      expect(broker.url).toBe(`mqtt://127.0.0.1:${broker.port}`);
      const topic = `t/${uniqueId('relay')}`;
      await subscriber.subscribe(topic);
      await publisher.publish(topic, 'hello', { qos: 1 });
      const message = await subscriber.waitForMessage((received) => received.topic === topic, {
        description: 'the relayed message',
      });
      expect(message.text).toBe('hello');
      expect(message.qos).toBe(1);
    } finally {
      await Promise.all([subscriber.close(), publisher.close()]);
      await broker.close();
    }
  });

  it('close() ends connected clients and half-open sockets, frees the port and can be called twice', async () => {
    const broker = await startEmbeddedBroker();
    const client = await connectAsync(broker.url, { clientId: uniqueId('victim'), reconnectPeriod: 0 });
    const clientClosed = new Promise<void>((resolve) => {
      client.once('close', () => {
        resolve();
      });
    });
    // a TCP connection that never sends CONNECT: aedes alone would wait for its connect timeout
    const raw = connectTcp(broker.port, '127.0.0.1');
    await once(raw, 'connect');
    const rawClosed = once(raw, 'close');

    await Promise.all([broker.close(), broker.close()]);
    await Promise.all([clientClosed, rawClosed]);

    const again = await startEmbeddedBroker({ port: broker.port });
    expect(again.port).toBe(broker.port);
    await again.close();
    await client.endAsync(true);
  });

  it('honours a given host', async () => {
    const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 });
    try {
      const client = await connectAsync(broker.url, { clientId: uniqueId('host'), reconnectPeriod: 0 });
      await client.endAsync();
    } finally {
      await broker.close();
    }
  });

  it('leaves no handle behind once closed', async () => {
    const before = handleCounts();
    const broker = await startEmbeddedBroker();
    const client = await connectAsync(broker.url, { clientId: uniqueId('leak'), reconnectPeriod: 0 });
    await client.endAsync();
    await broker.close();
    // Timers of earlier tests may expire meanwhile, so counts can only be compared as "no more than before"; a
    // client's own short timers may outlive its end by a moment on a loaded machine, so wait (a leak stays).
    const excess = () =>
      Object.entries(handleCounts())
        .filter(([kind, count]) => count > (before[kind] ?? 0))
        .map(([kind, count]) => `${kind}: ${String(count)} > ${String(before[kind] ?? 0)}`);
    await waitFor(() => excess().length === 0, {
      description: 'no more handles than before the broker started',
      timeoutMs: 5_000,
    }).catch(() => undefined);
    expect(excess()).toEqual([]);
  });
});
