/**
 * The in-process MQTT broker (aedes) kmc runs when no broker URL is configured, and that tests use. It
 * listens on loopback by default: an embedded broker with no authentication must not be reachable from
 * other hosts unless asked for.
 */
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { Aedes } from 'aedes';

export interface EmbeddedBrokerOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: a free port chosen by the system. */
  readonly port?: number;
}

export interface EmbeddedBroker {
  /** `mqtt://<host>:<port>` */
  readonly url: string;
  readonly port: number;
  /** Disconnects every client and releases the port. Safe to call more than once. */
  close(): Promise<void>;
}

export async function startEmbeddedBroker(options: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
  const host = options.host ?? '127.0.0.1';
  const aedes = await Aedes.createBroker();
  // aedes only tracks clients that completed CONNECT; sockets still in the handshake are tracked here so
  // that close() does not wait for their connect timeout.
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });

  try {
    server.listen(options.port ?? 0, host);
    await once(server, 'listening');
  } catch (error) {
    await closeAedes(aedes);
    throw error;
  }
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  const shutdown = async (): Promise<void> => {
    const serverClosed = new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
    await closeAedes(aedes);
    for (const socket of sockets) socket.destroy();
    await serverClosed;
  };

  return {
    url: `mqtt://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close: () => (closing ??= shutdown()),
  };
}

function closeAedes(aedes: Aedes): Promise<void> {
  return new Promise((resolve) => {
    aedes.close(() => {
      resolve();
    });
  });
}
