/**
 * Samsa: a Kafka-compatible event streaming platform for Node.js.
 *
 * The package's entry point. The broker (`startBroker`) lands with the broker module; today it
 * exports the protocol layer, on which everything else is built.
 */
export * as protocol from './protocol/index.js';
