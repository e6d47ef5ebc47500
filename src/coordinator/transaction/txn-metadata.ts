/**
 * A transactional id's state, as the transaction coordinator keeps it and writes it to
 * `__transaction_state`: Kafka's TransactionLogKey (version 0: the transactional id) and
 * TransactionLogValue (version 0) records, so Kafka's tools read them. A null value is a
 * tombstone: the id expired.
 */
import { TransactionLogKey } from '../../protocol/generated/coordinator-records/TransactionLogKey.js';
import { TransactionLogValue } from '../../protocol/generated/coordinator-records/TransactionLogValue.js';
import { decodeMessage } from '../../protocol/message.js';
import type { MessageCodec } from '../../protocol/primitives/codec.js';
import { Writer } from '../../protocol/primitives/writer.js';

/** Kafka's TransactionState, with the byte each is stored as. */
export const TxnState = {
  Empty: 0,
  Ongoing: 1,
  PrepareCommit: 2,
  PrepareAbort: 3,
  CompleteCommit: 4,
  CompleteAbort: 5,
  Dead: 6,
  PrepareEpochFence: 7,
} as const;
export type TxnState = (typeof TxnState)[keyof typeof TxnState];

const STATE_NAMES: readonly string[] = [
  'Empty',
  'Ongoing',
  'PrepareCommit',
  'PrepareAbort',
  'CompleteCommit',
  'CompleteAbort',
  'Dead',
  'PrepareEpochFence',
];

/** The name DescribeTransactions and ListTransactions use. */
export function txnStateName(state: TxnState): string {
  return STATE_NAMES[state] ?? 'Unknown';
}

/** The state of a name, for ListTransactions' filter; undefined for an unknown name. */
export function txnStateOf(name: string): TxnState | undefined {
  const i = STATE_NAMES.indexOf(name);
  return i < 0 ? undefined : (i as TxnState);
}

export const NO_PRODUCER_ID = -1n;
export const NO_PRODUCER_EPOCH = -1;
/** Kafka fences at Short.MAX_VALUE - 1: the last epoch is kept for the fencing bump. */
export const MAX_PRODUCER_EPOCH = 32766;

/** A partition written to in a transaction. */
export interface TxnPartition {
  topic: string;
  partition: number;
}

export interface TxnMetadata {
  readonly transactionalId: string;
  producerId: bigint;
  /** The producer id before the last rotation (epoch exhausted), for KIP-360 retries. */
  previousProducerId: bigint;
  producerEpoch: number;
  /** The epoch before the last bump, for KIP-360 retries of InitProducerId. */
  lastProducerEpoch: number;
  transactionTimeoutMs: number;
  state: TxnState;
  /** Partitions of the ongoing (or completing) transaction, as "topic\0partition" keys. */
  partitions: Map<string, TxnPartition>;
  txnStartTimestampMs: number;
  txnLastUpdateTimestampMs: number;
}

export function partitionKey(topic: string, partition: number): string {
  return `${topic}\0${partition}`;
}

export function copyMetadata(m: TxnMetadata): TxnMetadata {
  return { ...m, partitions: new Map(m.partitions) };
}

function versioned<T>(codec: MessageCodec<T>, version: number, body: T): Buffer {
  const w = new Writer(2 + codec.size(body, version));
  w.int16(version);
  codec.write(w, body, version);
  return w.finishBuffer();
}

/** The log record of `m` (a tombstone when `m` is null). */
export function encodeTxnRecord(
  transactionalId: string,
  m: TxnMetadata | null,
): { key: Buffer; value: Buffer | null } {
  const key = versioned(TransactionLogKey, 0, { transactionalId });
  if (m === null) return { key, value: null };
  // The partitions of one topic go together, as Kafka writes them.
  const byTopic = new Map<string, number[]>();
  for (const p of m.partitions.values()) {
    let list = byTopic.get(p.topic);
    if (list === undefined) byTopic.set(p.topic, (list = []));
    list.push(p.partition);
  }
  // Version 1 (flexible) only when a field of it is needed, as older Kafka tools read version 0.
  const valueVersion = m.previousProducerId === NO_PRODUCER_ID ? 0 : 1;
  const value = versioned(TransactionLogValue, valueVersion, {
    producerId: m.producerId,
    previousProducerId: m.previousProducerId,
    nextProducerId: NO_PRODUCER_ID,
    producerEpoch: m.producerEpoch,
    transactionTimeoutMs: m.transactionTimeoutMs,
    transactionStatus: m.state,
    transactionPartitions:
      m.state === TxnState.Empty
        ? null
        : [...byTopic].map(([topic, partitionIds]) => ({
            topic,
            partitionIds: partitionIds.sort((a, b) => a - b),
          })),
    transactionLastUpdateTimestampMs: BigInt(m.txnLastUpdateTimestampMs),
    transactionStartTimestampMs: BigInt(m.txnStartTimestampMs),
    clientTransactionVersion: 0,
  });
  return { key, value };
}

/**
 * Decodes a record of `__transaction_state`: the id and its metadata (null for a tombstone), or
 * a string saying why the bytes are unusable.
 */
export function decodeTxnRecord(
  key: Buffer,
  value: Buffer | null,
): { transactionalId: string; metadata: TxnMetadata | null } | string {
  if (key.length < 2) return 'transaction log key shorter than its version';
  const keyVersion = key.readInt16BE(0);
  if (keyVersion !== 0) return `unknown transaction log key version ${keyVersion}`;
  const k = decodeMessage(TransactionLogKey, key, 0, 2);
  if (!k.ok) return `transaction log key: ${k.error.message}`;
  const transactionalId = k.value.transactionalId;
  if (value === null) return { transactionalId, metadata: null };
  if (value.length < 2) return 'transaction log value shorter than its version';
  const valueVersion = value.readInt16BE(0);
  if (valueVersion < 0 || valueVersion > 1) return `unknown transaction log value version ${valueVersion}`;
  const v = decodeMessage(TransactionLogValue, value, valueVersion, 2);
  if (!v.ok) return `transaction log value: ${v.error.message}`;
  const x = v.value;
  if (x.transactionStatus < 0 || x.transactionStatus > 7)
    return `unknown transaction state ${x.transactionStatus}`;
  const partitions = new Map<string, TxnPartition>();
  for (const t of x.transactionPartitions ?? []) {
    for (const partition of t.partitionIds)
      partitions.set(partitionKey(t.topic, partition), { topic: t.topic, partition });
  }
  return {
    transactionalId,
    metadata: {
      transactionalId,
      producerId: x.producerId,
      previousProducerId: x.previousProducerId,
      producerEpoch: x.producerEpoch,
      lastProducerEpoch: NO_PRODUCER_EPOCH,
      transactionTimeoutMs: x.transactionTimeoutMs,
      state: x.transactionStatus as TxnState,
      partitions,
      txnStartTimestampMs: Number(x.transactionStartTimestampMs),
      txnLastUpdateTimestampMs: Number(x.transactionLastUpdateTimestampMs),
    },
  };
}
