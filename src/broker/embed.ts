/**
 * Embedding: a real broker in-process, for test suites and tools.
 *
 *   const broker = await startBroker({ port: 0, dataDir });
 *   // … clients connect to broker.bootstrap …
 *   await broker.stop();
 */
import { Broker } from './broker.js';
import { isBrokerConfigError, loadBrokerConfig } from './config.js';

export interface StartBrokerOptions {
  /** Port on 127.0.0.1; 0 picks a free one. Default 9092. */
  port?: number;
  host?: string;
  /** Folder for the logs and metadata (log.dirs). */
  dataDir: string;
  /** Any other broker keys, as in server.properties (e.g. { 'num.partitions': '3' }). */
  config?: Record<string, string>;
  /** Log lines; silent by default. */
  log?: (message: string) => void;
}

export interface RunningBroker {
  /** host:port for clients' bootstrap servers. */
  bootstrap: string;
  port: number;
  stop(): Promise<void>;
  /** The broker itself, for tests that look inside. */
  broker: Broker;
}

export async function startBroker(o: StartBrokerOptions): Promise<RunningBroker> {
  const host = o.host ?? '127.0.0.1';
  const overrides = [
    `listeners=PLAINTEXT://${host}:${o.port ?? 9092}`,
    `log.dirs=${o.dataDir}`,
    ...Object.entries(o.config ?? {}).map(([k, v]) => `${k}=${v}`),
  ];
  const loaded = loadBrokerConfig({ overrides });
  if (isBrokerConfigError(loaded)) throw new Error(loaded.message);
  const broker = await Broker.start({ config: loaded.config, log: o.log ?? (() => undefined) });
  return {
    bootstrap: `${broker.advertised.host}:${broker.port}`,
    port: broker.port,
    stop: () => broker.stop(),
    broker,
  };
}
