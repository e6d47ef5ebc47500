/**
 * The partition side of transactions, where the transaction coordinator meets the partition
 * leaders: writing COMMIT/ABORT markers (WriteTxnMarkers, in-process on a single node, where the
 * coordinator leads the partitions too, or from another broker through the API). A marker
 * written to a `__consumer_offsets` partition is handed to the group coordinator, which
 * materializes (COMMIT) or drops (ABORT) the producer's pending transactional offsets there, as
 * Kafka's onTransactionCompleted.
 */
import { ErrorCode } from '../protocol/error-codes.js';
import { OFFSETS_TOPIC } from '../coordinator/group-coordinator.js';
import type { TxnMarkerRequest, TxnMarkerResult } from '../coordinator/transaction/txn-coordinator.js';
import { errorCodeOf } from './replica-manager.js';
import type { BrokerServices } from './services.js';

export type { TxnMarkerRequest, TxnMarkerResult };

/**
 * Writes each marker to each of its partitions (led here), as Kafka's WriteTxnMarkers does, and
 * answers per marker, per partition, in the order asked: UNKNOWN_TOPIC_OR_PARTITION for a
 * partition not hosted here, NOT_LEADER_OR_FOLLOWER for one not led here, the append's error
 * (INVALID_PRODUCER_EPOCH for a marker older than the producer's epoch,
 * TRANSACTION_COORDINATOR_FENCED for an older coordinator epoch, a storage error) or NONE. Every
 * append starts before any is awaited, so markers for one partition are written in the order
 * given. A marker written to `__consumer_offsets` is then handed to the group coordinator.
 */
export async function writeTxnMarkers(
  broker: BrokerServices,
  markers: readonly TxnMarkerRequest[],
): Promise<TxnMarkerResult[][]> {
  const waits: Promise<void>[] = [];
  const results = markers.map((m) =>
    m.partitions.map(({ topic, partition }) => {
      const out: TxnMarkerResult = { topic, partition, errorCode: ErrorCode.NONE };
      const p = broker.replicaManager.getPartition(topic, partition);
      if (p === undefined) out.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      else if (p.leaderId !== broker.nodeId) out.errorCode = ErrorCode.NOT_LEADER_OR_FOLLOWER;
      else {
        const spec = {
          producerId: m.producerId,
          producerEpoch: m.producerEpoch,
          coordinatorEpoch: m.coordinatorEpoch,
          commit: m.commit,
        };
        waits.push(
          p.appendMarker(spec).then(
            () => {
              // The group coordinator completes (or drops) the transaction's offsets there.
              if (topic === OFFSETS_TOPIC)
                broker.groupCoordinator.onTxnMarker(partition, m.producerId, m.commit);
            },
            (e: unknown) => {
              const { errorCode, errorMessage } = errorCodeOf(e);
              if (errorCode === ErrorCode.UNKNOWN_SERVER_ERROR)
                broker.log(`writing a transaction marker to ${topic}-${partition} failed: ${errorMessage}`);
              out.errorCode = errorCode;
            },
          ),
        );
      }
      return out;
    }),
  );
  await Promise.all(waits);
  return results;
}
