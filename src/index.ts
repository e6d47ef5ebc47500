/**
 * Samsa: a Kafka-compatible event streaming platform for Node.js.
 *
 *   import { startBroker } from 'samsa';
 *   const broker = await startBroker({ port: 0, dataDir: './data' });
 */
export { startBroker, type StartBrokerOptions, type RunningBroker } from './broker/embed.js';
export * as protocol from './protocol/index.js';
