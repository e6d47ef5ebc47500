/**
 * The partition side of transactions, where the transaction coordinator meets the partition
 * leaders: writing COMMIT/ABORT markers (WriteTxnMarkers, in-process on a single node, where the
 * coordinator leads the partitions too, or from another broker through the API), and the hooks a
 * coordinator registers on a broker:
 *
 * - `onOffsetsTopicMarker`: told after a marker is written to a `__consumer_offsets` partition,
 *   so the group coordinator materializes (COMMIT) or drops (ABORT) the producer's pending
 *   transactional offsets, as Kafka's onTransactionCompleted.
 * - `setProduceTxnVerifier`: KIP-890 server-side defence — asked before a transactional batch is
 *   appended whether its partition is part of the producer's ongoing transaction.
 *
 * Hooks are per broker (several brokers may run in one process, in tests), held in WeakMaps.
 */
import { ErrorCode } from '../protocol/error-codes.js';
import { OFFSETS_TOPIC } from '../coordinator/group-coordinator.js';
import { errorCodeOf } from './replica-manager.js';
import type { BrokerServices } from './services.js';

export interface TxnMarkerRequest {
  producerId: bigint;
  producerEpoch: number;
  coordinatorEpoch: number;
  /** COMMIT (true) or ABORT (false). */
  commit: boolean;
  partitions: { topic: string; partition: number }[];
}

export interface TxnMarkerResult {
  topic: string;
  partition: number;
  errorCode: number;
}

/** A marker written to a `__consumer_offsets` partition. */
export interface OffsetsTopicMarker {
  partition: number;
  producerId: bigint;
  producerEpoch: number;
  commit: boolean;
  /** Where the marker was written. */
  offset: number;
}

/**
 * Called once the marker is written; a rejection (or throw) answers the marker's partition with
 * its error code (StorageError codes kept, others UNKNOWN_SERVER_ERROR) so the coordinator retries.
 */
export type OffsetsTopicMarkerListener = (marker: OffsetsTopicMarker) => void | Promise<void>;

/** What a KIP-890 verifier is asked about a transactional batch before it is appended. */
export interface TxnProduceCheck {
  transactionalId: string;
  producerId: bigint;
  producerEpoch: number;
  topic: string;
  partition: number;
}

/** Resolves to the error code to answer (ErrorCode.NONE: append), e.g. INVALID_TXN_STATE. */
export type ProduceTxnVerifier = (check: TxnProduceCheck) => number | Promise<number>;

const markerListeners = new WeakMap<BrokerServices, Set<OffsetsTopicMarkerListener>>();
const verifiers = new WeakMap<BrokerServices, ProduceTxnVerifier>();

/** Registers `listener` for markers written to `broker`'s `__consumer_offsets` partitions; returns its removal. */
export function onOffsetsTopicMarker(
  broker: BrokerServices,
  listener: OffsetsTopicMarkerListener,
): () => void {
  let set = markerListeners.get(broker);
  if (set === undefined) {
    set = new Set();
    markerListeners.set(broker, set);
  }
  set.add(listener);
  return () => {
    set.delete(listener);
  };
}

/** Installs (or with null removes) the KIP-890 verifier the produce path asks for transactional batches. */
export function setProduceTxnVerifier(broker: BrokerServices, verifier: ProduceTxnVerifier | null): void {
  if (verifier === null) verifiers.delete(broker);
  else verifiers.set(broker, verifier);
}

/** The verifier installed on `broker`, if any. */
export function produceTxnVerifier(broker: BrokerServices): ProduceTxnVerifier | undefined {
  return verifiers.get(broker);
}

/**
 * Writes each marker to each of its partitions (led here), as Kafka's WriteTxnMarkers does, and
 * answers per marker, per partition, in the order asked: UNKNOWN_TOPIC_OR_PARTITION for a
 * partition not hosted here, NOT_LEADER_OR_FOLLOWER for one not led here, the append's error
 * (INVALID_PRODUCER_EPOCH for a marker older than the producer's epoch,
 * TRANSACTION_COORDINATOR_FENCED for an older coordinator epoch, a storage error) or NONE. Every
 * append starts before any is awaited, so markers for one partition are written in the order
 * given. A marker written to `__consumer_offsets` is then handed to the registered listeners.
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
            async (info) => {
              if (topic === OFFSETS_TOPIC) {
                const e = await tellListeners(broker, {
                  partition,
                  producerId: m.producerId,
                  producerEpoch: m.producerEpoch,
                  commit: m.commit,
                  offset: info.firstOffset,
                });
                if (e !== null) out.errorCode = e;
              }
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

/** Hands a `__consumer_offsets` marker to the listeners; the error code of the first that failed, or null. */
async function tellListeners(broker: BrokerServices, marker: OffsetsTopicMarker): Promise<number | null> {
  const set = markerListeners.get(broker);
  if (set === undefined) return null;
  let failed: number | null = null;
  for (const listener of [...set]) {
    try {
      await listener(marker);
    } catch (e) {
      const { errorCode, errorMessage } = errorCodeOf(e);
      broker.log(
        `a listener of transaction markers on ${OFFSETS_TOPIC}-${marker.partition} failed: ${errorMessage}`,
      );
      failed ??= errorCode;
    }
  }
  return failed;
}
