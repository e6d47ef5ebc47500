/**
 * An idempotent producer's identity and per-partition sequence numbers, as Kafka's
 * TransactionManager and TxnPartitionMap keep them:
 *
 * - Per partition: the identity (producer id and epoch) its sequences belong to, the next
 *   sequence, what the broker acknowledged, and the batches that carry a sequence and have no
 *   outcome yet (in flight, or queued for a retry), in sequence order. A batch gets its sequence
 *   when the sender first takes it; a retried batch keeps it and goes again only as the first
 *   unsettled batch of its partition, so retries cannot reorder records. Positions never wrap
 *   here (JavaScript numbers); the wire carries them modulo 2^31, as Kafka's int32 sequences.
 * - KIP-360 recovery (idempotent, non-transactional producers): a batch the broker refused as a
 *   sequence gap (OUT_OF_ORDER_SEQUENCE_NUMBER for the first unsettled batch) or for a producer it
 *   forgot (UNKNOWN_PRODUCER_ID), or a sequenced batch that failed for good, leaves its partition
 *   waiting until nothing of it is in flight. Then, unless what the broker acknowledged shows the
 *   failed batch was written after all, the epoch is bumped (locally, as Java's idempotent
 *   producer does; a new producer id once the epoch is exhausted) and the partition's unsettled
 *   batches are numbered again from 0. A batch with an unknown outcome (its answer was lost) is
 *   first retried under the old epoch, so a batch the broker may have written is never written
 *   again under a new one. Other partitions finish their batches under the old identity and
 *   start at 0 under the new one once they have none left.
 */
import { ErrorCode } from '../protocol/error-codes.js';
import type { ProducerBatch } from './accumulator.js';
import type { KafkaClientError } from './errors.js';

/** Kafka's producer epochs are int16; at the last one a new producer id is needed. */
export const MAX_PRODUCER_EPOCH = 0x7fff;

interface PartitionSequences {
  /** The identity the partition's sequences belong to. */
  producerId: bigint;
  producerEpoch: number;
  nextOrdinal: number;
  /** The position after the last acknowledged record (0: none). */
  ackedUpTo: number;
  /** Sequenced batches without an outcome, in sequence order. */
  unsettled: ProducerBatch[];
  /** Its sequences need a reset once nothing of it is in flight. */
  resetWanted: boolean;
  /** A failed batch ended here: if the broker acknowledges up to it, it was written and no reset is needed. */
  failedUpTo: number;
}

export class ProducerSequences {
  producerId = -1n;
  producerEpoch = -1;
  private readonly partitions = new Map<string, PartitionSequences>();
  /** Keys of the partitions waiting for a reset, so a drain looks only at them. */
  private readonly resetting = new Set<string>();

  constructor(
    private readonly transactional: boolean,
    private readonly log: (message: string) => void,
  ) {}

  get hasIdentity(): boolean {
    return this.producerId >= 0n;
  }

  /** A new identity from InitProducerId: every partition starts at 0 under it once its batches are settled. */
  setIdentity(producerId: bigint, producerEpoch: number): void {
    this.producerId = producerId;
    this.producerEpoch = producerEpoch;
  }

  /** Kafka's shouldStopDrainBatchesForPartition, inverted: may this head batch be sent now? */
  canSend(batch: ProducerBatch): boolean {
    const p = this.partition(batch.topic, batch.partition);
    if (batch.hasSequence) {
      // A retry goes only as the first unsettled batch: the ones after it wait, in order.
      return !batch.rejectedSequence && p.unsettled[0] === batch;
    }
    if (p.resetWanted) return false;
    if (p.producerId !== this.producerId || p.producerEpoch !== this.producerEpoch) {
      // New sequences start at 0 under the new identity once the old one's batches are settled.
      if (p.unsettled.length > 0) return false;
      this.restart(p);
    }
    return true;
  }

  /** Stamps identity and sequence on a batch taken for the first time. */
  assign(batch: ProducerBatch): void {
    if (batch.hasSequence) return;
    const p = this.partition(batch.topic, batch.partition);
    batch.setProducerState(this.producerId, this.producerEpoch, p.nextOrdinal, this.transactional);
    p.nextOrdinal += batch.recordCount;
    p.unsettled.push(batch);
  }

  succeeded(batch: ProducerBatch): void {
    if (!batch.hasSequence) return;
    const p = this.partition(batch.topic, batch.partition);
    this.removeUnsettled(p, batch);
    if (batch.producerId === p.producerId && batch.producerEpoch === p.producerEpoch) {
      p.ackedUpTo = Math.max(p.ackedUpTo, batch.nextSequenceOrdinal);
    }
  }

  /** The sender split a batch the broker found too large: its halves took its sequence range. */
  split(batch: ProducerBatch, halves: readonly ProducerBatch[]): void {
    if (!batch.hasSequence) return;
    const p = this.partition(batch.topic, batch.partition);
    const i = p.unsettled.indexOf(batch);
    if (i >= 0) p.unsettled.splice(i, 1, ...halves);
  }

  /**
   * OUT_OF_ORDER_SEQUENCE_NUMBER or UNKNOWN_PRODUCER_ID for a batch of a non-transactional
   * producer: always retried (Kafka's canRetry). Behind an unsettled batch, the gap is that
   * batch, being retried; as the first, the broker lost track and the partition is reset.
   */
  sequenceError(batch: ProducerBatch, error: KafkaClientError): void {
    const p = this.partition(batch.topic, batch.partition);
    if (error.code === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER && p.unsettled[0] !== batch) return;
    this.log(
      `${batch.topic}-${batch.partition}: ${error.errorName} for sequence ${batch.sequenceOrdinal}; ` +
        'its sequences restart under a new epoch once its batches in flight are settled',
    );
    batch.rejectedSequence = true;
    this.wantReset(batch, p);
  }

  private wantReset(batch: ProducerBatch, p: PartitionSequences): void {
    p.resetWanted = true;
    this.resetting.add(`${batch.topic}\u0000${batch.partition}`);
  }

  /** A sequenced batch failed for good; returns whether it had a sequence. */
  failed(batch: ProducerBatch): boolean {
    if (!batch.hasSequence) return false;
    const p = this.partition(batch.topic, batch.partition);
    this.removeUnsettled(p, batch);
    if (!this.transactional) {
      // Unknown whether the broker wrote it; either way the sequences after it are suspect.
      this.wantReset(batch, p);
      p.failedUpTo = Math.max(p.failedUpTo, batch.nextSequenceOrdinal);
    }
    return true;
  }

  /**
   * KIP-360 for an idempotent producer (see the file comment): resets the partitions that are
   * settled. Returns false when that needs a new producer id (the epoch is exhausted): the
   * identity is then cleared and the resets wait for the new one.
   */
  resetSettledPartitions(): boolean {
    if (this.resetting.size === 0) return true;
    const settled: [string, PartitionSequences][] = [];
    for (const key of this.resetting) {
      const p = this.partitions.get(key);
      if (p === undefined || !p.resetWanted) {
        this.resetting.delete(key);
        continue;
      }
      if (p.unsettled.some((b) => b.inFlight)) continue;
      const first = p.unsettled[0];
      if (first !== undefined && !first.rejectedSequence) continue; // retried under the old epoch first
      if (first === undefined && p.ackedUpTo >= p.failedUpTo) {
        // The broker acknowledged past the failed batch: it was written, the sequences hold.
        p.resetWanted = false;
        p.failedUpTo = 0;
        this.resetting.delete(key);
        continue;
      }
      settled.push([key, p]);
    }
    if (settled.length === 0) return true;
    if (settled.some(([, p]) => p.producerId === this.producerId && p.producerEpoch === this.producerEpoch)) {
      if (this.producerEpoch >= MAX_PRODUCER_EPOCH) {
        this.setIdentity(-1n, -1);
        return false;
      }
      this.producerEpoch++;
      this.log(`producer ${this.producerId}: epoch bumped to ${this.producerEpoch}`);
    }
    for (const [key, p] of settled) {
      this.restart(p);
      for (const b of p.unsettled) {
        b.setProducerState(this.producerId, this.producerEpoch, p.nextOrdinal, false);
        p.nextOrdinal += b.recordCount;
      }
      p.resetWanted = false;
      this.resetting.delete(key);
      this.log(
        `${key.replace('\u0000', '-')}: sequences restart at 0 under producer ${this.producerId} ` +
          `epoch ${this.producerEpoch} (${p.unsettled.length} batch(es) renumbered)`,
      );
    }
    return true;
  }

  private removeUnsettled(p: PartitionSequences, batch: ProducerBatch): void {
    const i = p.unsettled.indexOf(batch);
    if (i >= 0) p.unsettled.splice(i, 1);
  }

  private partition(topic: string, partition: number): PartitionSequences {
    const key = `${topic}\u0000${partition}`;
    let p = this.partitions.get(key);
    if (p === undefined) {
      p = {
        producerId: this.producerId,
        producerEpoch: this.producerEpoch,
        nextOrdinal: 0,
        ackedUpTo: 0,
        unsettled: [],
        resetWanted: false,
        failedUpTo: 0,
      };
      this.partitions.set(key, p);
    }
    return p;
  }

  private restart(p: PartitionSequences): void {
    p.producerId = this.producerId;
    p.producerEpoch = this.producerEpoch;
    p.nextOrdinal = 0;
    p.ackedUpTo = 0;
    p.failedUpTo = 0;
  }
}
