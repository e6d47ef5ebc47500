/**
 * Where the broker meets the transaction coordinator: the `__transaction_state` partitions this
 * broker leads handed to it as shards (with their leader epoch, the coordinator epoch of the
 * markers), and the request-side lookup of a transactional id's shard.
 */
import { TRANSACTION_STATE_TOPIC, type TxnShardLookup } from '../coordinator/transaction/txn-coordinator.js';
import { partitionForGroup } from '../coordinator/group-coordinator.js';
import type { MetadataImage } from '../metadata/image.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { syncShards } from './group-coordination.js';
import type { BrokerServices } from './services.js';

/** Hands the coordinator the `__transaction_state` partitions this broker leads; takes back the others. */
export function syncTxnShards(b: BrokerServices, image: MetadataImage): void {
  syncShards(b, image, TRANSACTION_STATE_TOPIC, {
    load: (partition, leaderEpoch, log) => b.txnCoordinator.loadPartition(partition, leaderEpoch, log),
    loaded: () => b.txnCoordinator.shardPartitions(),
    unload: (partition) => b.txnCoordinator.unloadPartition(partition),
  });
}

/** The shard of `transactionalId` on this broker, or the error to answer. */
export function txnShard(b: BrokerServices, transactionalId: string): TxnShardLookup {
  const image = b.image();
  const topic = image.topicsByName.get(TRANSACTION_STATE_TOPIC);
  // No __transaction_state yet: FindCoordinator creates it, so the client must ask it first.
  if (topic === undefined) return { errorCode: ErrorCode.NOT_COORDINATOR };
  const partitions = topic.partitions.size;
  const lookup = b.txnCoordinator.shardFor(transactionalId, partitions);
  if ('errorCode' in lookup && lookup.errorCode === ErrorCode.NOT_COORDINATOR) {
    const p = topic.partitions.get(partitionForGroup(transactionalId, partitions));
    if (p?.leader === b.nodeId) return { errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS };
  }
  return lookup;
}

/**
 * KIP-890's server-side defence, asked before a transactional batch is appended: is its
 * partition in the producer's ongoing transaction? A late batch of a transaction that already
 * ended (a "hanging transaction") is refused with INVALID_TXN_STATE instead of opening a
 * transaction nobody will end. A transactional id coordinated by another broker cannot be
 * asked in-process: such batches are appended unverified (there is no other broker yet).
 */
export function verifyTxnPartition(
  b: BrokerServices,
  c: { transactionalId: string; producerId: bigint; producerEpoch: number; topic: string; partition: number },
): number {
  const lookup = txnShard(b, c.transactionalId);
  if ('errorCode' in lookup) {
    return lookup.errorCode === ErrorCode.NOT_COORDINATOR ? ErrorCode.NONE : lookup.errorCode;
  }
  const verified = b.txnCoordinator.verifyPartitions(
    lookup.shard,
    c.transactionalId,
    c.producerId,
    c.producerEpoch,
    [{ topic: c.topic, partition: c.partition }],
  );
  const code = verified.values().next().value ?? ErrorCode.NONE;
  // Produce v11 and below know INVALID_TXN_STATE, not KIP-890's TRANSACTION_ABORTABLE; producers
  // expect INVALID_PRODUCER_EPOCH, not PRODUCER_FENCED, from Produce (Kafka maps both so).
  if (code === ErrorCode.PRODUCER_FENCED) return ErrorCode.INVALID_PRODUCER_EPOCH;
  return code === ErrorCode.TRANSACTION_ABORTABLE ? ErrorCode.INVALID_TXN_STATE : code;
}

/**
 * PRODUCER_FENCED came with KIP-588; older request versions get INVALID_PRODUCER_EPOCH, which
 * their clients know, as Kafka answers them.
 */
export function fencedForVersion(
  errorCode: number,
  apiVersion: number,
  firstVersionWithFenced: number,
): number {
  return errorCode === ErrorCode.PRODUCER_FENCED && apiVersion < firstVersionWithFenced
    ? ErrorCode.INVALID_PRODUCER_EPOCH
    : errorCode;
}
