/**
 * Samsa's Kafka client: `import { Producer, Consumer, Admin } from 'samsa/client'`.
 *
 * It speaks the Kafka protocol to any Kafka-compatible broker (Samsa's or Kafka's), negotiating
 * API versions per broker, and depends only on the protocol layer. Offsets are `bigint`,
 * timestamps milliseconds, keys and values `Buffer | null` (strings accepted on the way in).
 *
 *   const producer = new Producer({ bootstrapServers: 'localhost:9092' });
 *   await producer.send({ topic: 'events', key: 'k', value: 'hello' });
 *
 *   const consumer = new Consumer({ bootstrapServers: 'localhost:9092', groupId: 'g' });
 *   await consumer.subscribe(['events']);
 *   for await (const record of consumer) console.log(record.value?.toString());
 */
export { Producer, type ProducerOptions, type CompressionName } from './producer.js';
export type { ProducerRecord, RecordHeadersInput } from './record-input.js';
export type { RecordMetadata } from './accumulator.js';
export type { TransactionState } from './transaction-manager.js';
export type { TransactionOffset, GroupMetadataInput } from './txn-requests.js';
export {
  Consumer,
  type ConsumerOptions,
  type ConsumerBatch,
  type RunHandlers,
  type OffsetAndTimestamp,
  type ConsumerGroupMetadata,
} from './consumer.js';
export type { ConsumerRecord, IsolationLevel, OffsetResetStrategy } from './fetcher.js';
export type { CommittedOffset, RebalanceListener } from './group-membership.js';
export type { AssignorName } from './assignors.js';
export type { TopicPartition, TopicPartitionOffset } from './topic-partition.js';
export {
  Admin,
  type NewTopic,
  type TopicDescription,
  type ConfigEntry,
  type ConfigResourceType,
  type ConfigOperation,
  type GroupListing,
  type GroupDescription,
  type MemberDescription,
  type OffsetSpec,
} from './admin.js';
export type { ClientOptions } from './options.js';
export type { BrokerNode } from './cluster.js';
export { KafkaClientError, ConfigError, type ClientErrorName } from './errors.js';
