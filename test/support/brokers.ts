/**
 * The two real brokers wire tests run against, behind one shape so a suite can `describe.each` over them:
 * aedes in-process (the product's embedded broker) and Debian's mosquitto.
 */
import { startEmbeddedBroker } from '../../core/broker/embedded-broker.ts';
import { startMosquitto } from './mosquitto.ts';

export interface TestBroker {
  readonly url: string;
  close(): Promise<void>;
  /** The broker's log, where it keeps one (mosquitto). */
  readLog?: () => Promise<string>;
}

export interface BrokerKind {
  readonly name: string;
  start(): Promise<TestBroker>;
}

export const AEDES: BrokerKind = {
  name: 'aedes',
  start: () => startEmbeddedBroker(),
};

export const MOSQUITTO: BrokerKind = {
  name: 'mosquitto',
  start: async () => {
    const mosquitto = await startMosquitto();
    return { url: mosquitto.url, close: () => mosquitto.stop(), readLog: () => mosquitto.readLog() };
  },
};

export const BROKERS: readonly BrokerKind[] = [AEDES, MOSQUITTO];
