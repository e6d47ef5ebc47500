/**
 * The producer's record accumulator: records wait here, grouped per partition into batches, until
 * the sender takes them, as in Kafka's RecordAccumulator.
 *
 * - A partition's queue holds its batches in send order. Records go into the last batch while it
 *   has room for them under `batchSizeBytes` (counted as the uncompressed magic-v2 size, so a
 *   compressed batch on the wire is smaller); a record that does not fit closes the batch and
 *   starts a new one. A record larger than `batchSizeBytes` gets a batch of its own.
 * - A queue's head batch is ready when it is closed or followed by another, when it has waited
 *   `lingerMs`, when a retry's backoff has passed, or when the producer forces it (flush, close,
 *   or callers waiting for buffer memory, as Kafka does when its buffer pool is exhausted).
 * - A partition has at most `maxInFlightPerPartition` batches in flight (taken off its queue by the
 *   sender and not yet answered). Without idempotence that is 1, so a retried batch, put back at
 *   the head, cannot be overtaken and per-partition order holds across retries. An idempotent
 *   producer allows up to 5 (what the broker remembers per producer for deduplication): batches
 *   carry sequence numbers, a retried batch goes back in sequence order, before every batch with
 *   a higher or no sequence, and the sender sends it only once the batches before it are settled.
 * - `bufferMemoryBytes` bounds the bytes held by records not yet acknowledged (each record counts
 *   its size as encoded, bounded above). Callers over the limit wait in FIFO order, up to their
 *   deadline, for acknowledged batches to give memory back.
 *
 * Per record, the accumulator keeps the BatchRecord the encoder needs and where to report the
 * outcome (a sink and an index), nothing else.
 */
import type { CompressionCodec } from '../protocol/compression/index.js';
import { encodeRecordBatch, type BatchRecord, type RecordHeader } from '../protocol/records/batch.js';
import { varintSize } from '../protocol/primitives/writer.js';
import {
  BATCH_HEADER_BYTES,
  BatchField,
  TimestampType,
  TRANSACTIONAL_BIT,
  writeCrc,
} from '../protocol/records/batch-view.js';
import type { Clock } from '../runtime/clock.js';
import { clientError, type KafkaClientError } from './errors.js';

export interface RecordMetadata {
  topic: string;
  partition: number;
  /** The record's offset; -1n when acks=0 (the broker does not say). */
  offset: bigint;
  /** LogAppendTime when the topic stamps it (the broker returns it), else the record's CreateTime. */
  timestamp: number;
}

/**
 * A record as a batch holds it: the encoder's BatchRecord itself (append sets its deltas), with
 * its absolute timestamp. The producer's checked record is this object, so queueing a record
 * allocates nothing more.
 */
export interface QueuedRecord extends BatchRecord {
  timestamp: number;
}

/** Where a record's outcome goes: `index` is the record's position in what the caller sent. */
export interface RecordSink {
  resolve(index: number, metadata: RecordMetadata): void;
  reject(index: number, error: Error): void;
}

/**
 * Most bytes a record's framing can take besides its key, value and headers: length varint (5),
 * attributes (1), timestamp delta varlong (10), offset delta varint (5).
 */
export const RECORD_FRAMING_MAX_BYTES = 21;

/** Bytes of a record's key, value and headers as encoded (length prefixes included). */
export function recordPayloadBytes(
  key: Buffer | null,
  value: Buffer | null,
  headers: readonly RecordHeader[],
): number {
  let size = key === null ? 1 : varintSize(key.length) + key.length;
  size += value === null ? 1 : varintSize(value.length) + value.length;
  size += varintSize(headers.length);
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]!;
    const keyBytes = Buffer.byteLength(h.key, 'utf8');
    size += varintSize(keyBytes) + keyBytes;
    size += h.value === null ? 1 : varintSize(h.value.length) + h.value.length;
  }
  return size;
}

/** Size of a zig-zag varlong of a safe integer (timestamp deltas, which may be negative). */
function varlongSize(v: number): number {
  let u = v < 0 ? -2 * v - 1 : 2 * v;
  let n = 1;
  while (u >= 0x80) {
    u = Math.floor(u / 128);
    n++;
  }
  return n;
}

/** Sequence numbers are int32 and wrap to 0 after INT32_MAX, as Kafka's. */
const SEQUENCE_MODULUS = 2 ** 31;

/** A position in a partition's never-wrapping sequence count, as the int32 sent on the wire. */
export function wireSequence(ordinal: number): number {
  return ordinal % SEQUENCE_MODULUS;
}

/** Exact encoded size of a record (length prefix included) at this offset and timestamp delta. */
function recordBytes(offsetDelta: number, timestampDelta: number, payloadBytes: number): number {
  const body = 1 + varlongSize(timestampDelta) + varintSize(offsetDelta) + payloadBytes;
  return varintSize(body) + body;
}

export class ProducerBatch {
  readonly topic: string;
  readonly partition: number;
  readonly createdMs: number;
  readonly records: QueuedRecord[] = [];
  private readonly sinks: RecordSink[] = [];
  private readonly sinkIndexes: number[] = [];
  baseTimestamp = 0;
  maxTimestamp = 0;
  /** Uncompressed magic-v2 size so far: batch header plus records. */
  sizeBytes = BATCH_HEADER_BYTES;
  /** Buffer memory the records hold until the batch completes. */
  memoryBytes = 0;
  /** Takes no more records: full, or taken by the sender. */
  closed = false;
  /** Produce requests that carried this batch. */
  attempts = 0;
  /** Not sent again before this time (retry backoff). */
  retryAtMs = 0;
  /** Taken by the sender and not answered yet. */
  inFlight = false;
  /** Idempotence: the producer identity stamped in the header (-1: none). */
  producerId = -1n;
  producerEpoch = -1;
  /**
   * Idempotence: the position of the first record in the partition's sequence count (-1: no
   * sequence yet). It never wraps, so batches order by it; the header carries it modulo 2^31.
   */
  sequenceOrdinal = -1;
  isTransactional = false;
  /** The broker said it did not write this batch (a sequence gap or an unknown producer): it waits for new sequences. */
  rejectedSequence = false;
  private encoded: Buffer | null = null;
  private completed = false;
  private doneWaiters: (() => void)[] | null = null;

  constructor(topic: string, partition: number, createdMs: number) {
    this.topic = topic;
    this.partition = partition;
    this.createdMs = createdMs;
  }

  get recordCount(): number {
    return this.records.length;
  }

  get isCompleted(): boolean {
    return this.completed;
  }

  get hasSequence(): boolean {
    return this.sequenceOrdinal >= 0;
  }

  /** The ordinal after this batch's last record. */
  get nextSequenceOrdinal(): number {
    return this.sequenceOrdinal + this.records.length;
  }

  /**
   * Stamps the producer identity and first sequence. A batch encoded before (sized by the
   * sender, never sent) has its header patched and its CRC rewritten rather than being encoded
   * again; a batch sent before is encoded anew, so no request still being written sees a change.
   */
  setProducerState(producerId: bigint, producerEpoch: number, ordinal: number, transactional: boolean): void {
    this.producerId = producerId;
    this.producerEpoch = producerEpoch;
    this.sequenceOrdinal = ordinal;
    this.isTransactional = transactional;
    this.rejectedSequence = false;
    const buf = this.encoded;
    if (buf === null) return;
    if (this.attempts > 0) {
      this.encoded = null;
      return;
    }
    buf.writeBigInt64BE(producerId, BatchField.producerId);
    buf.writeInt16BE(producerEpoch, BatchField.producerEpoch);
    buf.writeInt32BE(wireSequence(ordinal), BatchField.baseSequence);
    const attributes = buf.readUInt16BE(BatchField.attributes);
    buf.writeUInt16BE(
      transactional ? attributes | TRANSACTIONAL_BIT : attributes & ~TRANSACTIONAL_BIT,
      BatchField.attributes,
    );
    writeCrc(buf);
  }

  /** Bytes the record would add to this batch. */
  bytesFor(payloadBytes: number, timestamp: number): number {
    const n = this.records.length;
    return recordBytes(n, n === 0 ? 0 : timestamp - this.baseTimestamp, payloadBytes);
  }

  append(
    record: QueuedRecord,
    addedBytes: number,
    reservedBytes: number,
    sink: RecordSink,
    sinkIndex: number,
  ): void {
    const offsetDelta = this.records.length;
    const timestamp = record.timestamp;
    if (offsetDelta === 0) {
      this.baseTimestamp = timestamp;
      this.maxTimestamp = timestamp;
    } else if (timestamp > this.maxTimestamp) {
      this.maxTimestamp = timestamp;
    }
    record.offsetDelta = offsetDelta;
    record.timestampDelta = timestamp - this.baseTimestamp;
    this.records.push(record);
    this.sinks.push(sink);
    this.sinkIndexes.push(sinkIndex);
    this.sizeBytes += addedBytes;
    this.memoryBytes += reservedBytes;
  }

  /** The batch as sent: magic v2 with the producer state stamped so far, encoded once; closes it. */
  encode(compression: CompressionCodec): Buffer {
    this.closed = true;
    this.encoded ??= encodeRecordBatch(
      {
        baseOffset: 0n,
        partitionLeaderEpoch: -1,
        timestampType: TimestampType.CreateTime,
        isTransactional: this.isTransactional,
        isControl: false,
        hasDeleteHorizon: false,
        lastOffsetDelta: this.records.length - 1,
        baseTimestamp: this.baseTimestamp,
        maxTimestamp: this.maxTimestamp,
        producerId: this.producerId,
        producerEpoch: this.producerEpoch,
        baseSequence: this.hasSequence ? wireSequence(this.sequenceOrdinal) : -1,
        records: this.records,
      },
      { compression },
    );
    return this.encoded;
  }

  /** Reports every record written: offsets from `baseOffset` (-1n: unknown, acks=0). */
  succeed(baseOffset: bigint, logAppendTimeMs: number): void {
    if (this.completed) return;
    this.completed = true;
    const records = this.records;
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      this.sinks[i]!.resolve(this.sinkIndexes[i]!, {
        topic: this.topic,
        partition: this.partition,
        offset: baseOffset < 0n ? -1n : baseOffset + BigInt(i),
        timestamp: logAppendTimeMs >= 0 ? logAppendTimeMs : r.timestamp,
      });
    }
    this.finish();
  }

  fail(error: Error): void {
    if (this.completed) return;
    this.completed = true;
    for (let i = 0; i < this.records.length; i++) this.sinks[i]!.reject(this.sinkIndexes[i]!, error);
    this.finish();
  }

  /** Resolves once the batch has succeeded or failed. */
  whenDone(): Promise<void> {
    if (this.completed) return Promise.resolve();
    return new Promise((resolve) => (this.doneWaiters ??= []).push(resolve));
  }

  /**
   * Two closed batches with the first and second half of the records, for a broker that refused
   * the batch as too large (MESSAGE_TOO_LARGE); they keep the creation time (delivery deadline).
   */
  split(): [ProducerBatch, ProducerBatch] {
    const half = Math.ceil(this.records.length / 2);
    const first = new ProducerBatch(this.topic, this.partition, this.createdMs);
    const second = new ProducerBatch(this.topic, this.partition, this.createdMs);
    for (let i = 0; i < this.records.length; i++) {
      const r = this.records[i]!;
      const into = i < half ? first : second;
      const payload = recordPayloadBytes(r.key, r.value, r.headers);
      into.append(r, into.bytesFor(payload, r.timestamp), 0, this.sinks[i]!, this.sinkIndexes[i]!);
    }
    first.memoryBytes = this.memoryBytes;
    first.closed = true;
    second.closed = true;
    // The halves take the batch's sequence range, so batches after it keep theirs.
    if (this.hasSequence) {
      first.setProducerState(this.producerId, this.producerEpoch, this.sequenceOrdinal, this.isTransactional);
      second.setProducerState(
        this.producerId,
        this.producerEpoch,
        this.sequenceOrdinal + first.recordCount,
        this.isTransactional,
      );
    } else {
      first.isTransactional = second.isTransactional = this.isTransactional;
    }
    // This batch's records now belong to the halves; it must never report them, and whoever
    // waits for it (flush) waits for both halves.
    this.completed = true;
    void Promise.all([first.whenDone(), second.whenDone()]).then(() => this.finish());
    return [first, second];
  }

  private finish(): void {
    const waiters = this.doneWaiters;
    this.doneWaiters = null;
    if (waiters !== null) for (const w of waiters) w();
  }
}

interface PartitionQueue {
  topic: string;
  partition: number;
  /** Batches waiting to be sent, in send order (retries by sequence, ahead of new batches). */
  batches: ProducerBatch[];
  /** Batches taken by the sender and not answered yet. */
  inFlight: number;
}

export interface AccumulatorOptions {
  batchSizeBytes: number;
  lingerMs: number;
  bufferMemoryBytes: number;
  compression: CompressionCodec;
  clock: Clock;
  /** Batches of one partition in flight at once. Default 1 (order kept across retries). */
  maxInFlightPerPartition?: number;
  /** Timers for memory waits; `clock.schedule` when omitted. */
  schedule?: (delayMs: number, fn: () => void) => () => void;
}

interface MemoryWaiter {
  bytes: number;
  resolve: () => void;
  reject: (e: KafkaClientError) => void;
  cancelTimer: () => void;
}

export interface ReadyBatches {
  /** Head batches that may be sent now, one per partition (under its in-flight limit). */
  ready: ProducerBatch[];
  /** When a batch not ready now becomes ready (linger or backoff), Infinity if none. */
  nextReadyMs: number;
}

export class RecordAccumulator {
  private readonly options: AccumulatorOptions;
  private readonly queues = new Map<string, Map<number, PartitionQueue>>();
  private usedMemoryBytes = 0;
  private readonly memoryWaiters: MemoryWaiter[] = [];
  /** Batches created and not yet completed (for flush). */
  private readonly incomplete = new Set<ProducerBatch>();
  private readonly maxInFlightPerPartition: number;

  constructor(options: AccumulatorOptions) {
    this.options = options;
    this.maxInFlightPerPartition = options.maxInFlightPerPartition ?? 1;
  }

  get bufferedBytes(): number {
    return this.usedMemoryBytes;
  }

  /** Callers are waiting for memory: the producer then sends everything it can, as Kafka does. */
  get memoryExhausted(): boolean {
    return this.memoryWaiters.length > 0;
  }

  /** Topics with queued or in-flight batches. */
  topics(): string[] {
    return [...this.queues.keys()];
  }

  get incompleteBatches(): number {
    return this.incomplete.size;
  }

  /** Takes `bytes` of buffer memory if available now and nobody waits before us. */
  tryReserve(bytes: number): boolean {
    if (this.memoryWaiters.length > 0 || this.usedMemoryBytes + bytes > this.options.bufferMemoryBytes)
      return false;
    this.usedMemoryBytes += bytes;
    return true;
  }

  /** Waits (FIFO) for `bytes` of buffer memory; rejects DEADLINE_EXCEEDED at `deadlineMs`. */
  reserve(bytes: number, deadlineMs: number): Promise<void> {
    if (this.tryReserve(bytes)) return Promise.resolve();
    const { clock, bufferMemoryBytes } = this.options;
    const schedule = this.options.schedule ?? ((ms: number, fn: () => void) => clock.schedule(ms, fn));
    return new Promise<void>((resolve, reject) => {
      const waiter: MemoryWaiter = { bytes, resolve, reject, cancelTimer: () => undefined };
      waiter.cancelTimer = schedule(deadlineMs - clock.nowMs(), () => {
        const i = this.memoryWaiters.indexOf(waiter);
        if (i < 0) return;
        this.memoryWaiters.splice(i, 1);
        reject(
          clientError(
            'DEADLINE_EXCEEDED',
            `could not get ${bytes} bytes of producer buffer memory in time (maxBlockMs): ` +
              `${this.usedMemoryBytes} of ${bufferMemoryBytes} bytes (bufferMemory) hold records not yet acknowledged`,
          ),
        );
        // The waiter leaving may unblock smaller requests queued behind it.
        this.grantWaiters();
      });
      this.memoryWaiters.push(waiter);
    });
  }

  /** Gives back memory a record reserved but never appended (its send failed before). */
  release(bytes: number): void {
    this.usedMemoryBytes -= bytes;
    this.grantWaiters();
  }

  /** Rejects every memory waiter (the producer is closing for good). */
  rejectWaiters(error: KafkaClientError): void {
    for (const w of this.memoryWaiters.splice(0)) {
      w.cancelTimer();
      w.reject(error);
    }
  }

  private grantWaiters(): void {
    const limit = this.options.bufferMemoryBytes;
    while (this.memoryWaiters.length > 0) {
      const w = this.memoryWaiters[0]!;
      if (this.usedMemoryBytes + w.bytes > limit) return;
      this.memoryWaiters.shift();
      this.usedMemoryBytes += w.bytes;
      w.cancelTimer();
      w.resolve();
    }
  }

  private queue(topic: string, partition: number): PartitionQueue | undefined {
    return this.queues.get(topic)?.get(partition);
  }

  /** Whether the partition's open batch can take a record of `payloadBytes` at `timestamp`. */
  hasRoom(topic: string, partition: number, payloadBytes: number, timestamp: number): boolean {
    const q = this.queue(topic, partition);
    const last = q?.batches[q.batches.length - 1];
    if (last === undefined || last.closed) return false;
    return last.sizeBytes + last.bytesFor(payloadBytes, timestamp) <= this.options.batchSizeBytes;
  }

  /**
   * Appends a record (its `reservedBytes` of memory already taken). Returns true when this
   * opened a new batch or closed a full one, so the sender should look at the queues again.
   */
  append(
    topic: string,
    partition: number,
    record: QueuedRecord,
    payloadBytes: number,
    reservedBytes: number,
    sink: RecordSink,
    sinkIndex: number,
  ): boolean {
    let byTopic = this.queues.get(topic);
    if (byTopic === undefined) this.queues.set(topic, (byTopic = new Map<number, PartitionQueue>()));
    let q = byTopic.get(partition);
    if (q === undefined) byTopic.set(partition, (q = { topic, partition, batches: [], inFlight: 0 }));
    const limit = this.options.batchSizeBytes;
    let changed = false;
    let batch = q.batches[q.batches.length - 1];
    let added = 0;
    if (batch !== undefined && !batch.closed) {
      added = batch.bytesFor(payloadBytes, record.timestamp);
      if (batch.sizeBytes + added > limit && batch.recordCount > 0) {
        batch.closed = true;
        batch = undefined;
        changed = true;
      }
    } else {
      batch = undefined;
    }
    if (batch === undefined) {
      batch = new ProducerBatch(topic, partition, this.options.clock.nowMs());
      q.batches.push(batch);
      this.incomplete.add(batch);
      added = batch.bytesFor(payloadBytes, record.timestamp);
      changed = true;
    }
    batch.append(record, added, reservedBytes, sink, sinkIndex);
    // A batch that cannot take even the smallest next record is full now: send it without lingering.
    if (batch.sizeBytes + RECORD_FRAMING_MAX_BYTES >= limit) {
      batch.closed = true;
      changed = true;
    }
    return changed;
  }

  /** Head batches ready to send now; partitions at their in-flight limit are skipped. */
  ready(nowMs: number, force: boolean): ReadyBatches {
    const ready: ProducerBatch[] = [];
    let nextReadyMs = Infinity;
    const lingerMs = this.options.lingerMs;
    for (const byTopic of this.queues.values()) {
      for (const q of byTopic.values()) {
        if (q.inFlight >= this.maxInFlightPerPartition) continue;
        const head = q.batches[0];
        if (head === undefined) continue;
        let readyAtMs: number;
        if (head.attempts > 0) readyAtMs = head.retryAtMs;
        else if (force || head.closed || q.batches.length > 1) readyAtMs = nowMs;
        else readyAtMs = head.createdMs + lingerMs;
        if (readyAtMs <= nowMs) ready.push(head);
        else if (readyAtMs < nextReadyMs) nextReadyMs = readyAtMs;
      }
    }
    return { ready, nextReadyMs };
  }

  /** The sender took the partition's head batch: it takes no more records and leaves the queue until answered. */
  markInFlight(batch: ProducerBatch): void {
    const q = this.queue(batch.topic, batch.partition);
    if (q === undefined || q.batches[0] !== batch) throw new Error('only a queue head can be sent');
    q.batches.shift();
    batch.closed = true;
    batch.attempts++;
    batch.inFlight = true;
    q.inFlight++;
  }

  /** An in-flight batch goes back to its queue, to be sent again after `retryAtMs`. */
  retry(batch: ProducerBatch, retryAtMs: number): void {
    const q = this.landed(batch);
    if (q === undefined) throw new Error('only a batch in flight can be retried');
    batch.retryAtMs = retryAtMs;
    this.requeue(q, batch);
  }

  /** An in-flight batch goes back as its two halves (sent next, in order, as fresh batches); returns them. */
  splitHead(batch: ProducerBatch): [ProducerBatch, ProducerBatch] {
    const q = this.landed(batch);
    if (q === undefined) throw new Error('only a batch in flight can be split');
    const halves = batch.split();
    this.incomplete.delete(batch);
    for (const h of halves) this.incomplete.add(h);
    this.requeue(q, halves[1]);
    this.requeue(q, halves[0]);
    return halves;
  }

  /** The queue of a batch whose answer just came (it is no longer in flight). */
  private landed(batch: ProducerBatch): PartitionQueue | undefined {
    const q = this.queue(batch.topic, batch.partition);
    if (q === undefined || !batch.inFlight) return undefined;
    batch.inFlight = false;
    q.inFlight--;
    return q;
  }

  /**
   * Puts a batch back: before every batch with a higher or no sequence when it has one (Kafka's
   * insertInSequenceOrder), else at the head (batches sent after it may already be written: without
   * idempotence and with several in flight, order is not kept across retries, as in Java).
   */
  private requeue(q: PartitionQueue, batch: ProducerBatch): void {
    if (!batch.hasSequence) {
      q.batches.unshift(batch);
      return;
    }
    let i = 0;
    while (i < q.batches.length) {
      const b = q.batches[i]!;
      if (!b.hasSequence || b.sequenceOrdinal > batch.sequenceOrdinal) break;
      i++;
    }
    q.batches.splice(i, 0, batch);
  }

  /** Completes a batch (it already reported success or failure to its records). */
  complete(batch: ProducerBatch): void {
    const q = this.queue(batch.topic, batch.partition);
    if (q !== undefined) {
      if (batch.inFlight) {
        batch.inFlight = false;
        q.inFlight--;
      } else {
        const i = q.batches.indexOf(batch);
        if (i >= 0) q.batches.splice(i, 1);
      }
      if (q.batches.length === 0 && q.inFlight === 0) this.dropQueue(q);
    }
    this.releaseBatch(batch);
  }

  /**
   * Fails batches not in flight whose records have waited `deliveryTimeoutMs` since their batch
   * was created (Kafka's delivery.timeout.ms), telling `onExpired` of each after it failed.
   * Returns when the next one would expire.
   */
  expire(nowMs: number, deliveryTimeoutMs: number, onExpired?: (batch: ProducerBatch) => void): number {
    let nextExpiryMs = Infinity;
    // Deleting from a Map while iterating it is safe: deleted entries are just not visited.
    for (const byTopic of this.queues.values()) {
      for (const q of byTopic.values()) {
        // Built only once a batch expires: most drains find none.
        let kept: ProducerBatch[] | null = null;
        for (let i = 0; i < q.batches.length; i++) {
          const b = q.batches[i]!;
          const expiresAtMs = b.createdMs + deliveryTimeoutMs;
          if (expiresAtMs > nowMs) {
            kept?.push(b);
            if (expiresAtMs < nextExpiryMs) nextExpiryMs = expiresAtMs;
            continue;
          }
          kept ??= q.batches.slice(0, i);
          b.fail(
            clientError(
              'DEADLINE_EXCEEDED',
              `expiring ${b.recordCount} record(s) for ${b.topic}-${b.partition}: ` +
                `${nowMs - b.createdMs} ms have passed since the batch was created (deliveryTimeoutMs ${deliveryTimeoutMs})` +
                (b.attempts > 0 ? ` after ${b.attempts} attempt(s)` : ''),
            ),
          );
          this.releaseBatch(b);
          onExpired?.(b);
        }
        if (kept !== null) {
          q.batches = kept;
          if (kept.length === 0 && q.inFlight === 0) this.dropQueue(q);
        }
      }
    }
    return nextExpiryMs;
  }

  /** Resolves when every batch that exists now has completed (flush). */
  async whenAllDone(): Promise<void> {
    await Promise.all([...this.incomplete].map((b) => b.whenDone()));
  }

  /** Fails every queued batch not in flight (closing without waiting). */
  abortQueued(error: KafkaClientError): void {
    this.abortWhere(error, () => true);
  }

  /**
   * Fails the queued batches that were never sent with a sequence (Kafka's abortUndrainedBatches:
   * an aborted transaction drops what it has not sent); sequenced retries go on to their outcome.
   * Returns how many batches failed.
   */
  abortUndrained(error: KafkaClientError): number {
    return this.abortWhere(error, (b) => !b.hasSequence);
  }

  private abortWhere(error: KafkaClientError, drop: (b: ProducerBatch) => boolean): number {
    let n = 0;
    for (const byTopic of this.queues.values()) {
      for (const q of byTopic.values()) {
        const keep: ProducerBatch[] = [];
        for (const b of q.batches) {
          if (!drop(b)) {
            keep.push(b);
            continue;
          }
          b.fail(error);
          this.releaseBatch(b);
          n++;
        }
        q.batches = keep;
        if (keep.length === 0 && q.inFlight === 0) this.dropQueue(q);
      }
    }
    return n;
  }

  private releaseBatch(batch: ProducerBatch): void {
    if (!this.incomplete.delete(batch)) return;
    this.usedMemoryBytes -= batch.memoryBytes;
    this.grantWaiters();
  }

  private dropQueue(q: PartitionQueue): void {
    const byTopic = this.queues.get(q.topic);
    if (byTopic === undefined) return;
    byTopic.delete(q.partition);
    if (byTopic.size === 0) this.queues.delete(q.topic);
  }
}
