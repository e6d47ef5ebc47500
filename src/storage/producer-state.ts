/**
 * Per-partition producer state, for idempotent and transactional producers: for each producer
 * id, its epoch and the metadata of its last batches, so that a retried batch is answered with
 * the offsets it already has (a duplicate) and a gap in its sequence numbers is refused
 * (OUT_OF_ORDER_SEQUENCE_NUMBER), as Kafka's ProducerStateManager does.
 *
 * Transactions: a producer's first transactional batch (with none open) opens a transaction at
 * its base offset; a transaction marker (a control batch, ABORT or COMMIT, written by the
 * coordinator) completes it. A transaction stays "unstable" until its marker is below the high
 * watermark (before that, a failed write could still take the marker back). The partition's
 * last stable offset is the first offset of the oldest unstable transaction, capped by the high
 * watermark: read_committed consumers read no further. Unstable transactions are kept in the
 * order they started, which is offset order (appends come in log order), so the oldest is the
 * first: the last stable offset costs O(1).
 *
 * The state is rebuilt from the log: a snapshot file (`<offset>.snapshot`, Kafka's format)
 * holds it as of an offset, and the batches after that offset are replayed. Snapshots are taken
 * at segment roll and at clean shutdown, so opening a cleanly closed log replays nothing and an
 * unclean one replays at most the active segment.
 *
 * Producer ids are int64 on the wire and stay `bigint` here: a client may send any id.
 */
import { ErrorCode } from '../protocol/error-codes.js';
import { DecodeError } from '../protocol/primitives/errors.js';
import { ControlRecordType, decodeRecordBatch, parseControlBatch } from '../protocol/records/batch.js';
import {
  BatchField,
  CONTROL_BIT,
  readInt64Number,
  TRANSACTIONAL_BIT,
} from '../protocol/records/batch-view.js';
import { crc32c } from '../protocol/records/crc32c.js';
import { StorageError } from './errors.js';

export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
/** Batches remembered per producer for duplicate detection: the client's max in-flight requests. */
export const BATCHES_KEPT_PER_PRODUCER = 5;
export const SNAPSHOT_SUFFIX = '.snapshot';
/** Kafka's producer snapshot format version. */
const SNAPSHOT_VERSION = 1;
const INT32_MAX = 0x7fffffff;
/** Bytes of one producer in a snapshot: id, epoch, last sequence, last offset, offset delta, timestamp, coordinator epoch, transaction start. */
const SNAPSHOT_ENTRY_BYTES = 8 + 2 + 4 + 8 + 4 + 8 + 4 + 8;

/** One batch of a producer, as remembered for duplicate detection. */
interface BatchMetadata {
  firstSeq: number;
  lastSeq: number;
  firstOffset: number;
  lastOffset: number;
  timestampMs: number;
}

export class ProducerEntry {
  readonly producerId: bigint;
  epoch = NO_PRODUCER_EPOCH;
  /** The last batches, oldest first, at most BATCHES_KEPT_PER_PRODUCER. */
  readonly batches: BatchMetadata[] = [];
  lastTimestampMs = -1;
  coordinatorEpoch = -1;
  /** First offset of the producer's open transaction, or -1. */
  currentTxnFirstOffset = -1;

  constructor(producerId: bigint) {
    this.producerId = producerId;
  }

  get lastSeq(): number {
    return this.batches.length === 0 ? NO_SEQUENCE : this.batches[this.batches.length - 1]!.lastSeq;
  }

  get lastOffset(): number {
    return this.batches.length === 0 ? -1 : this.batches[this.batches.length - 1]!.lastOffset;
  }

  private addBatch(b: BatchMetadata): void {
    if (this.batches.length === BATCHES_KEPT_PER_PRODUCER) this.batches.shift();
    this.batches.push(b);
  }

  /** Moves to `epoch` (forgetting the batches of an older one) and records a batch. */
  record(epoch: number, b: BatchMetadata): void {
    if (epoch !== this.epoch) {
      this.epoch = epoch;
      this.batches.length = 0;
    }
    this.addBatch(b);
    this.lastTimestampMs = b.timestampMs;
  }
}

/**
 * Who appends, which decides the checks (Kafka's AppendOrigin):
 * - 'client': a produce request: sequences and duplicates checked, control batches refused
 *   (markers are the coordinator's to write);
 * - 'coordinator': transaction markers and a coordinator's own batches (TxnOffsetCommit's
 *   transactional offsets carry no meaningful sequence): producer epochs checked only;
 * - 'direct': a caller of the log itself (tools, tests): a client's checks, but markers accepted
 *   with a coordinator's.
 */
export type AppendOrigin = 'client' | 'coordinator' | 'direct';

/** A transaction ended by a marker: its first record and its marker's offset. */
export interface CompletedTxn {
  producerId: bigint;
  firstOffset: number;
  /** The marker's offset. */
  lastOffset: number;
  isAborted: boolean;
  /**
   * The last stable offset once it completed: the first offset of the oldest transaction of
   * another producer still open, or the marker's offset + 1 (the aborted-transaction index keeps it).
   */
  lastStableOffset: number;
}

/** A transaction not yet stable: open (lastOffset -1), or ended by a marker not yet below the high watermark. */
interface UnstableTxn {
  producerId: bigint;
  firstOffset: number;
  lastOffset: number;
}

/** What a transaction marker says: COMMIT or ABORT, and the coordinator epoch that wrote it. */
export interface TxnMarker {
  commit: boolean;
  coordinatorEpoch: number;
}

/**
 * The ABORT/COMMIT marker in the control batch at `pos` (validated framing); null for another
 * control record type, an empty batch (a cleaned transaction) or a malformed one. Decodes the
 * batch: markers are one small record, once per transaction and partition.
 */
export function readTxnMarker(records: Buffer, pos: number, sizeBytes: number): TxnMarker | null {
  const batch = decodeRecordBatch(records.subarray(pos, pos + sizeBytes), {
    maxDecompressedBytes: 64 * 1024,
    verifyCrc: false,
  });
  if (batch instanceof DecodeError || batch.records.length === 0) return null;
  const info = parseControlBatch(batch);
  if (info instanceof DecodeError || info.marker === null) return null;
  return {
    commit: info.key.type === ControlRecordType.Commit,
    coordinatorEpoch: info.marker.coordinatorEpoch,
  };
}

/** What the producer state says of an append, before it is written. */
export type ProducerCheck =
  | { kind: 'append' }
  /** The append repeats a batch already in the log: answer with its offsets, write nothing. */
  | { kind: 'duplicate'; firstOffset: number; lastOffset: number };

/** The last sequence number of a batch: Kafka's sequences wrap from INT32_MAX to 0. */
export function lastSequenceOf(baseSequence: number, lastOffsetDelta: number): number {
  return baseSequence > INT32_MAX - lastOffsetDelta
    ? lastOffsetDelta - (INT32_MAX - baseSequence) - 1
    : baseSequence + lastOffsetDelta;
}

function inSequence(lastSeq: number, nextSeq: number): boolean {
  return nextSeq === lastSeq + 1 || (nextSeq === 0 && lastSeq === INT32_MAX);
}

export class ProducerStateManager {
  private readonly name: string;
  readonly producers = new Map<bigint, ProducerEntry>();
  /** Offset up to which (exclusive) the state reflects the log. */
  mapEndOffset = 0;
  /** Transactions not yet stable by first offset; insertion order is offset order. */
  private readonly unstable = new Map<number, UnstableTxn>();
  /** The completed ones among them, in marker order (leaving as the high watermark passes). */
  private readonly completing: UnstableTxn[] = [];
  /** First offset of the first of `unstable`, -1 when empty. */
  private firstUnstable = -1;

  constructor(name: string) {
    this.name = name;
  }

  /**
   * Checks the producer batches of a leader's append (`records` validated, offsets not yet
   * assigned) against the state; throws the StorageError to answer with. Batches without a
   * producer id pass. Nothing changes until `update`.
   */
  check(records: Buffer, origin: AppendOrigin = 'direct'): ProducerCheck {
    // Batches of one producer later in the same append see the earlier ones (rare: clients send
    // one batch per partition per request), through this overlay of their state.
    let seen: Map<bigint, { epoch: number; lastSeq: number; inTxn: boolean }> | null = null;
    for (let pos = 0; pos < records.length;) {
      const sizeBytes = records.readInt32BE(pos + BatchField.batchLength) + 12;
      const attributes = records.readInt16BE(pos + BatchField.attributes);
      // The common batch, from a producer without an id (-1: a negative high word), costs no bigint.
      if ((attributes & CONTROL_BIT) === 0 && records.readInt32BE(pos + BatchField.producerId) < 0) {
        pos += sizeBytes;
        continue;
      }
      const producerId = records.readBigInt64BE(pos + BatchField.producerId);
      if ((attributes & CONTROL_BIT) !== 0) {
        // Markers are the coordinator's to write (Kafka's LogValidator refuses them from clients).
        if (origin === 'client') {
          throw new StorageError(
            ErrorCode.INVALID_RECORD,
            `${this.name}: clients are not allowed to write control records`,
          );
        }
        if (producerId >= 0n) {
          this.checkMarker(records, pos, sizeBytes, producerId, seen?.get(producerId)?.epoch);
          seen ??= new Map();
          seen.set(producerId, {
            epoch: records.readInt16BE(pos + BatchField.producerEpoch),
            lastSeq: NO_SEQUENCE,
            inTxn: false,
          });
        }
      } else if (producerId >= 0n) {
        const epoch = records.readInt16BE(pos + BatchField.producerEpoch);
        const firstSeq = records.readInt32BE(pos + BatchField.baseSequence);
        const lastSeq = lastSequenceOf(firstSeq, records.readInt32BE(pos + BatchField.lastOffsetDelta));
        const transactional = (attributes & TRANSACTIONAL_BIT) !== 0;
        const entry = this.producers.get(producerId);
        const earlier = seen?.get(producerId);
        const currentEpoch = earlier?.epoch ?? entry?.epoch ?? NO_PRODUCER_EPOCH;
        if (origin !== 'coordinator') {
          if (earlier === undefined && entry !== undefined && epoch === entry.epoch) {
            const dup = entry.batches.find((b) => b.firstSeq === firstSeq && b.lastSeq === lastSeq);
            if (dup !== undefined) {
              // A duplicate is answered with its offsets, writing nothing: with other batches
              // beside it that answer would be a lie for them. Kafka refuses several batches per
              // partition from Produce v3 on (INVALID_RECORD); so does this case.
              if (pos !== 0 || sizeBytes !== records.length) {
                throw new StorageError(
                  ErrorCode.INVALID_RECORD,
                  `${this.name}: producer ${producerId} resent batch ${firstSeq}-${lastSeq} together with other batches`,
                );
              }
              return { kind: 'duplicate', firstOffset: dup.firstOffset, lastOffset: dup.lastOffset };
            }
          }
          const currentLastSeq = earlier?.lastSeq ?? entry?.lastSeq ?? NO_SEQUENCE;
          this.checkOne(producerId, epoch, firstSeq, currentEpoch, currentLastSeq);
        } else if (currentEpoch !== NO_PRODUCER_EPOCH && epoch < currentEpoch) {
          throw new StorageError(
            ErrorCode.INVALID_PRODUCER_EPOCH,
            `${this.name}: producer ${producerId} has epoch ${epoch}, below the last seen epoch ${currentEpoch}`,
          );
        }
        const inTxn = earlier?.inTxn ?? (entry !== undefined && entry.currentTxnFirstOffset >= 0);
        if (inTxn && !transactional) {
          throw new StorageError(
            ErrorCode.INVALID_TXN_STATE,
            `${this.name}: producer ${producerId} has a transaction open and sent a non-transactional batch`,
          );
        }
        seen ??= new Map();
        seen.set(producerId, { epoch, lastSeq, inTxn: inTxn || transactional });
      }
      pos += sizeBytes;
    }
    return { kind: 'append' };
  }

  /**
   * A transaction marker from a coordinator: its producer epoch may not be older than the
   * producer's (INVALID_PRODUCER_EPOCH: a zombie's transaction), nor its coordinator epoch older
   * than the last marker's (TRANSACTION_COORDINATOR_FENCED: a deposed coordinator).
   */
  private checkMarker(
    records: Buffer,
    pos: number,
    sizeBytes: number,
    producerId: bigint,
    earlierEpoch: number | undefined,
  ): void {
    const epoch = records.readInt16BE(pos + BatchField.producerEpoch);
    const entry = this.producers.get(producerId);
    const currentEpoch = earlierEpoch ?? entry?.epoch;
    if (currentEpoch !== undefined && epoch < currentEpoch) {
      throw new StorageError(
        ErrorCode.INVALID_PRODUCER_EPOCH,
        `${this.name}: transaction marker of producer ${producerId} has epoch ${epoch}, below the last seen epoch ${currentEpoch}`,
      );
    }
    const marker = readTxnMarker(records, pos, sizeBytes);
    if (marker === null) {
      throw new StorageError(
        ErrorCode.INVALID_RECORD,
        `${this.name}: control batch of producer ${producerId} is not a transaction marker`,
      );
    }
    if (entry !== undefined && marker.coordinatorEpoch < entry.coordinatorEpoch) {
      throw new StorageError(
        ErrorCode.TRANSACTION_COORDINATOR_FENCED,
        `${this.name}: transaction marker of producer ${producerId} has coordinator epoch ${marker.coordinatorEpoch}, below ${entry.coordinatorEpoch}`,
      );
    }
  }

  private checkOne(
    producerId: bigint,
    epoch: number,
    firstSeq: number,
    currentEpoch: number,
    currentLastSeq: number,
  ): void {
    if (firstSeq < 0) {
      throw new StorageError(
        ErrorCode.INVALID_RECORD,
        `${this.name}: producer ${producerId} sent base sequence ${firstSeq}`,
      );
    }
    if (currentEpoch !== NO_PRODUCER_EPOCH && epoch < currentEpoch) {
      throw new StorageError(
        ErrorCode.INVALID_PRODUCER_EPOCH,
        `${this.name}: producer ${producerId} has epoch ${epoch}, below the last seen epoch ${currentEpoch}`,
      );
    }
    if (epoch !== currentEpoch) {
      if (firstSeq === 0) return;
      if (currentEpoch !== NO_PRODUCER_EPOCH) {
        throw new StorageError(
          ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
          `${this.name}: producer ${producerId} starts epoch ${epoch} at sequence ${firstSeq}, not 0`,
        );
      }
      throw new StorageError(
        ErrorCode.UNKNOWN_PRODUCER_ID,
        `${this.name}: no state for producer ${producerId} (expired or removed), and its batch starts at sequence ${firstSeq}, not 0`,
      );
    }
    // The same epoch with no batch left (all removed by retention or DeleteRecords): any sequence.
    if (currentLastSeq !== NO_SEQUENCE && !inSequence(currentLastSeq, firstSeq)) {
      throw new StorageError(
        ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
        `${this.name}: producer ${producerId} sent sequence ${firstSeq} after ${currentLastSeq} (epoch ${epoch})`,
      );
    }
  }

  /**
   * Records the batches of an append (offsets assigned), from a leader or a follower or a replay.
   * Returns the transactions its markers completed (null when none: the usual case, no allocation).
   */
  update(records: Buffer): CompletedTxn[] | null {
    let endOffset = this.mapEndOffset;
    let completed: CompletedTxn[] | null = null;
    for (let pos = 0; pos < records.length;) {
      const sizeBytes = records.readInt32BE(pos + BatchField.batchLength) + 12;
      const baseOffset = readInt64Number(records, pos + BatchField.baseOffset);
      const lastOffsetDelta = records.readInt32BE(pos + BatchField.lastOffsetDelta);
      const lastOffset = baseOffset + lastOffsetDelta;
      const producerId =
        records.readInt32BE(pos + BatchField.producerId) < 0
          ? -1n
          : records.readBigInt64BE(pos + BatchField.producerId);
      if (producerId >= 0n) {
        const attributes = records.readInt16BE(pos + BatchField.attributes);
        const epoch = records.readInt16BE(pos + BatchField.producerEpoch);
        let entry = this.producers.get(producerId);
        if (entry === undefined) {
          entry = new ProducerEntry(producerId);
          this.producers.set(producerId, entry);
        }
        const timestampMs = readInt64Number(records, pos + BatchField.maxTimestamp);
        if ((attributes & CONTROL_BIT) !== 0) {
          // A transaction marker ends the producer's transaction; its sequence means nothing.
          const marker = readTxnMarker(records, pos, sizeBytes);
          if (marker !== null) {
            if (epoch > entry.epoch) {
              entry.epoch = epoch;
              entry.batches.length = 0;
            }
            entry.coordinatorEpoch = marker.coordinatorEpoch;
            entry.lastTimestampMs = timestampMs;
            const txn = this.completeTxn(entry, baseOffset, !marker.commit);
            if (txn !== null) (completed ??= []).push(txn);
          }
        } else {
          const firstSeq = records.readInt32BE(pos + BatchField.baseSequence);
          entry.record(epoch, {
            firstSeq,
            lastSeq: lastSequenceOf(firstSeq, lastOffsetDelta),
            firstOffset: baseOffset,
            lastOffset,
            timestampMs,
          });
          if ((attributes & TRANSACTIONAL_BIT) !== 0 && entry.currentTxnFirstOffset < 0) {
            entry.currentTxnFirstOffset = baseOffset;
            this.addUnstable({ producerId, firstOffset: baseOffset, lastOffset: -1 });
          }
        }
      }
      endOffset = lastOffset + 1;
      pos += sizeBytes;
    }
    if (endOffset > this.mapEndOffset) this.mapEndOffset = endOffset;
    return completed;
  }

  // ------------------------------------------------------------------ transactions

  private addUnstable(txn: UnstableTxn): void {
    if (this.unstable.size === 0) this.firstUnstable = txn.firstOffset;
    this.unstable.set(txn.firstOffset, txn);
  }

  private removeUnstable(firstOffset: number): void {
    this.unstable.delete(firstOffset);
    if (firstOffset !== this.firstUnstable) return;
    const next = this.unstable.values().next();
    this.firstUnstable = next.done === true ? -1 : next.value.firstOffset;
  }

  /**
   * The marker at `markerOffset` ends the producer's open transaction (none: an empty
   * transaction, nothing to record, as in Kafka). It stays unstable until the high watermark
   * passes its marker.
   */
  private completeTxn(entry: ProducerEntry, markerOffset: number, isAborted: boolean): CompletedTxn | null {
    const firstOffset = entry.currentTxnFirstOffset;
    entry.currentTxnFirstOffset = -1;
    if (firstOffset < 0) return null;
    const txn = this.unstable.get(firstOffset);
    // Every open transaction is in `unstable` (update and rebuildUnstable put it there).
    if (txn !== undefined) {
      txn.lastOffset = markerOffset;
      this.completing.push(txn);
    }
    // The oldest transaction still open (of another producer: this one just ended).
    let lastStableOffset = markerOffset + 1;
    for (const other of this.unstable.values()) {
      if (other.lastOffset < 0) {
        lastStableOffset = other.firstOffset;
        break;
      }
    }
    return {
      producerId: entry.producerId,
      firstOffset,
      lastOffset: markerOffset,
      isAborted,
      lastStableOffset,
    };
  }

  /**
   * The high watermark reached `highWatermark`: transactions whose marker is below it are
   * stable. Markers complete in offset order, so they leave from the front of `completing`.
   */
  onHighWatermark(highWatermark: number): void {
    let n = 0;
    while (n < this.completing.length && this.completing[n]!.lastOffset < highWatermark) {
      this.removeUnstable(this.completing[n]!.firstOffset);
      n++;
    }
    if (n > 0) this.completing.splice(0, n);
  }

  /** First offset of the oldest transaction not yet stable, or -1 when there is none. */
  get firstUnstableOffset(): number {
    return this.firstUnstable;
  }

  /** Transactions open now (first offset by producer), oldest first. */
  ongoingTransactions(): { producerId: bigint; firstOffset: number }[] {
    const out: { producerId: bigint; firstOffset: number }[] = [];
    for (const t of this.unstable.values()) {
      if (t.lastOffset < 0) out.push({ producerId: t.producerId, firstOffset: t.firstOffset });
    }
    return out;
  }

  /** Rebuilds the unstable set from the producers' open transactions (after a snapshot load or a reset). */
  private rebuildUnstable(): void {
    this.unstable.clear();
    this.completing.length = 0;
    this.firstUnstable = -1;
    const open: UnstableTxn[] = [];
    for (const e of this.producers.values()) {
      if (e.currentTxnFirstOffset >= 0)
        open.push({ producerId: e.producerId, firstOffset: e.currentTxnFirstOffset, lastOffset: -1 });
    }
    open.sort((a, b) => a.firstOffset - b.firstOffset);
    for (const t of open) this.addUnstable(t);
  }

  /** Forgets producers whose last write is older than `expirationMs` and who have no open transaction. */
  removeExpired(nowMs: number, expirationMs: number): number {
    let removed = 0;
    for (const [id, e] of this.producers) {
      if (e.currentTxnFirstOffset < 0 && nowMs - e.lastTimestampMs >= expirationMs) {
        this.producers.delete(id);
        removed++;
      }
    }
    return removed;
  }

  /** Forgets every producer (the log was emptied) and starts at `offset`. */
  reset(offset: number): void {
    this.producers.clear();
    this.rebuildUnstable();
    this.mapEndOffset = offset;
  }

  // ------------------------------------------------------------------ snapshots

  /**
   * The state in Kafka's snapshot format: int16 version, uint32 CRC32C of what follows, then an
   * int32 count of entries, each producer id (int64), epoch (int16), last sequence (int32), last
   * offset (int64), offset delta of its last batch (int32), timestamp (int64), coordinator epoch
   * (int32) and the first offset of its open transaction (int64). Only the last batch of each
   * producer survives a snapshot, as in Kafka.
   */
  encodeSnapshot(): Buffer {
    const buf = Buffer.alloc(2 + 4 + 4 + this.producers.size * SNAPSHOT_ENTRY_BYTES);
    buf.writeInt16BE(SNAPSHOT_VERSION, 0);
    buf.writeInt32BE(this.producers.size, 6);
    let pos = 10;
    for (const e of this.producers.values()) {
      const last = e.batches[e.batches.length - 1];
      buf.writeBigInt64BE(e.producerId, pos);
      buf.writeInt16BE(e.epoch, pos + 8);
      buf.writeInt32BE(last?.lastSeq ?? NO_SEQUENCE, pos + 10);
      buf.writeBigInt64BE(BigInt(last?.lastOffset ?? -1), pos + 14);
      buf.writeInt32BE(last === undefined ? 0 : last.lastOffset - last.firstOffset, pos + 22);
      buf.writeBigInt64BE(BigInt(e.lastTimestampMs), pos + 26);
      buf.writeInt32BE(e.coordinatorEpoch, pos + 34);
      buf.writeBigInt64BE(BigInt(e.currentTxnFirstOffset), pos + 38);
      pos += SNAPSHOT_ENTRY_BYTES;
    }
    buf.writeUInt32BE(crc32c(buf.subarray(6)), 2);
    return buf;
  }

  /** Replaces the state with a snapshot's, as of `offset`; a string says why the file is unusable. */
  loadSnapshot(buf: Buffer, offset: number): string | null {
    if (buf.length < 10) return 'shorter than its header';
    const version = buf.readInt16BE(0);
    if (version !== SNAPSHOT_VERSION) return `unknown version ${version}`;
    if (buf.readUInt32BE(2) !== crc32c(buf.subarray(6))) return 'CRC mismatch';
    const count = buf.readInt32BE(6);
    if (count < 0 || buf.length !== 10 + count * SNAPSHOT_ENTRY_BYTES)
      return `${count} entries do not fit its size`;
    const producers = new Map<bigint, ProducerEntry>();
    for (let i = 0, pos = 10; i < count; i++, pos += SNAPSHOT_ENTRY_BYTES) {
      const e = new ProducerEntry(buf.readBigInt64BE(pos));
      e.epoch = buf.readInt16BE(pos + 8);
      const lastSeq = buf.readInt32BE(pos + 10);
      const lastOffset = Number(buf.readBigInt64BE(pos + 14));
      const offsetDelta = buf.readInt32BE(pos + 22);
      e.lastTimestampMs = Number(buf.readBigInt64BE(pos + 26));
      e.coordinatorEpoch = buf.readInt32BE(pos + 34);
      e.currentTxnFirstOffset = Number(buf.readBigInt64BE(pos + 38));
      if (lastSeq !== NO_SEQUENCE && lastOffset >= 0) {
        e.batches.push({
          firstSeq:
            lastSeq - offsetDelta < 0 ? INT32_MAX - (offsetDelta - lastSeq) + 1 : lastSeq - offsetDelta,
          lastSeq,
          firstOffset: lastOffset - offsetDelta,
          lastOffset,
          timestampMs: e.lastTimestampMs,
        });
      }
      producers.set(e.producerId, e);
    }
    this.producers.clear();
    for (const [id, e] of producers) this.producers.set(id, e);
    this.rebuildUnstable();
    this.mapEndOffset = offset;
    return null;
  }
}

/** `00000000000000000042.snapshot` → 42; null for other names. */
export function parseSnapshotFile(name: string): number | null {
  if (!name.endsWith(SNAPSHOT_SUFFIX)) return null;
  const digits = name.slice(0, -SNAPSHOT_SUFFIX.length);
  if (!/^\d{20}$/.test(digits)) return null;
  const n = Number(digits);
  return Number.isSafeInteger(n) ? n : null;
}
