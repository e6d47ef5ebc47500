/**
 * Samsa's producer, with the semantics of Kafka's Java producer:
 *
 *   const producer = new Producer({ bootstrapServers: 'localhost:9092', lingerMs: 5 });
 *   const { partition, offset } = await producer.send({ topic: 't', key: 'k', value: 'v' });
 *   await producer.close();
 *
 * `send` checks the record, waits (up to maxBlockMs) for the topic's metadata and for buffer
 * memory, picks the partition (partitioner.ts) and appends it to a batch (accumulator.ts); the
 * sender (sender.ts) drains ready batches into Produce requests and retries them.
 *
 * Idempotence is on by default, as in Kafka 3+ (`idempotent`, Kafka's enable.idempotence): a
 * producer id and per-partition sequence numbers let the broker drop a retried batch it already
 * wrote, so a lost answer cannot duplicate records (transaction-manager.ts). It needs acks 'all',
 * retries > 0 and at most 5 requests in flight per connection; setting one of those otherwise
 * without saying `idempotent: true` turns idempotence off, as Kafka 3 does.
 *
 * Transactions (`transactionalId`): initTransactions() once, then beginTransaction(), sends,
 * optionally sendOffsetsToTransaction() (consume-transform-produce), and commitTransaction() or
 * abortTransaction(). read_committed consumers see a transaction's records only once committed.
 *
 *   const p = new Producer({ bootstrapServers, transactionalId: 'copier-1' });
 *   await p.initTransactions();
 *   p.beginTransaction();
 *   await p.send({ topic: 'out', value: 'v' });
 *   await p.sendOffsetsToTransaction([{ topic: 'in', partition: 0, offset: 42n }], consumer.groupMetadata());
 *   await p.commitTransaction();
 *
 * Ordering: sends are admitted in call order (a send waiting for metadata or memory holds back
 * the ones after it), and a partition's batches are written in send order even across retries
 * (one in flight per partition without idempotence; by sequence with it).
 */
import { ErrorCode } from '../protocol/error-codes.js';
import { BATCH_HEADER_BYTES } from '../protocol/records/batch-view.js';
import type { Clock } from '../runtime/clock.js';
import {
  RECORD_FRAMING_MAX_BYTES,
  RecordAccumulator,
  recordPayloadBytes,
  type RecordMetadata,
  type RecordSink,
} from './accumulator.js';
import { Cluster, type ClientOptions, type TopicMetadata } from './cluster.js';
import { clientError, ConfigError, illegalState, kafkaError, KafkaClientError } from './errors.js';
import { intOption, resolveClientOptions } from './options.js';
import { Fifo } from './fifo.js';
import { keyPartition, StickyPartitioner } from './partitioner.js';
import {
  IDEMPOTENT_MAX_IN_FLIGHT,
  INT32_MAX,
  PRODUCER_KEYS,
  resolveProducerOptions,
  type ProducerOptions,
  type ResolvedProducerOptions,
} from './producer-options.js';
import { prepareRecord, type PreparedRecord, type ProducerRecord } from './record-input.js';
import { Sender } from './sender.js';
import {
  TransactionManager,
  type GroupMetadataInput,
  type TransactionOffset,
  type TransactionState,
} from './transaction-manager.js';

export type { RecordMetadata } from './accumulator.js';
export type { ProducerRecord, RecordHeadersInput } from './record-input.js';
export type { GroupMetadataInput, TransactionOffset, TransactionState } from './transaction-manager.js';
export type { CompressionName, ProducerOptions } from './producer-options.js';
export { resolveProducerOptions } from './producer-options.js';

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** The outcome of one `send`. */
class SingleSink implements RecordSink {
  constructor(
    private readonly onResolve: (m: RecordMetadata) => void,
    private readonly onReject: (e: Error) => void,
  ) {}
  resolve(_index: number, metadata: RecordMetadata): void {
    this.onResolve(metadata);
  }
  reject(_index: number, error: Error): void {
    this.onReject(error);
  }
}

/** The outcome of a `sendBatch`: every record's metadata in call order, or the first error. */
class ManySink implements RecordSink {
  private readonly results: RecordMetadata[];
  private remaining: number;
  private failed = false;
  constructor(
    count: number,
    private readonly onResolve: (m: RecordMetadata[]) => void,
    private readonly onReject: (e: Error) => void,
  ) {
    this.results = new Array<RecordMetadata>(count);
    this.remaining = count;
  }
  resolve(index: number, metadata: RecordMetadata): void {
    this.results[index] = metadata;
    if (--this.remaining === 0 && !this.failed) this.onResolve(this.results);
  }
  reject(_index: number, error: Error): void {
    if (this.failed) return;
    this.failed = true;
    this.onReject(error);
  }
}

/** A send waiting for metadata or buffer memory, in call order. */
interface Admission {
  record: PreparedRecord;
  payloadBytes: number;
  reservedBytes: number;
  sink: RecordSink;
  index: number;
  deadlineMs: number;
}

export class Producer {
  private readonly cluster: Cluster;
  private readonly config: ResolvedProducerOptions;
  private readonly clock: Clock;
  private readonly log: (message: string) => void;
  private readonly accumulator: RecordAccumulator;
  private readonly sender: Sender;
  /** Idempotence and transactions; null when idempotence is off. */
  private readonly txn: TransactionManager | null;
  private readonly partitioner = new StickyPartitioner();

  private state: 'open' | 'closing' | 'closed' = 'open';
  private closing: Promise<void> | null = null;
  private flushes = 0;

  private readonly admissions = new Fifo<Admission>();
  private admitting = false;
  private admissionsQueued = 0;
  private admissionsDone = 0;
  private admissionWaiters: { target: number; resolve: () => void }[] = [];

  constructor(options: ClientOptions & ProducerOptions) {
    const given: unknown = options;
    if (typeof given !== 'object' || given === null) {
      throw new ConfigError(`producer options must be an object, got ${String(given)}`);
    }
    const clientOptions: Record<string, unknown> = { ...options };
    for (const k of PRODUCER_KEYS) delete clientOptions[k];
    // Kafka's producer asks brokers to auto-create the topics it writes to (they may refuse),
    // and its in-flight limit is the connection's.
    clientOptions['allowAutoTopicCreation'] ??= true;
    clientOptions['maxInFlightRequests'] ??= options.maxInFlightRequestsPerConnection;
    // Client options are checked first (Cluster checks them again), so a bad producer option is
    // reported under its own name even when it feeds a client option.
    const { requestTimeoutMs } = resolveClientOptions(options);
    this.config = resolveProducerOptions(options, requestTimeoutMs);
    this.cluster = new Cluster(clientOptions as unknown as ClientOptions);
    this.clock = this.cluster.options.clock;
    this.log = this.cluster.options.log;
    const schedule = (ms: number, fn: () => void): (() => void) => this.schedule(ms, fn);
    const { idempotent, maxInFlightRequestsPerConnection } = this.config;
    this.accumulator = new RecordAccumulator({
      batchSizeBytes: this.config.batchSizeBytes,
      lingerMs: this.config.lingerMs,
      bufferMemoryBytes: this.config.bufferMemoryBytes,
      compression: this.config.compression,
      clock: this.clock,
      // Without idempotence, as Java's producer: maxInFlightRequestsPerConnection batches of a
      // partition may be in flight, so order survives retries only when it is 1.
      maxInFlightPerPartition: idempotent
        ? Math.min(IDEMPOTENT_MAX_IN_FLIGHT, maxInFlightRequestsPerConnection)
        : maxInFlightRequestsPerConnection,
      schedule,
    });
    this.txn = idempotent
      ? new TransactionManager({
          cluster: this.cluster,
          transactionalId: this.config.transactionalId,
          transactionTimeoutMs: this.config.transactionTimeoutMs,
          maxBlockMs: this.config.maxBlockMs,
          deliveryTimeoutMs: this.config.deliveryTimeoutMs,
          clock: this.clock,
          log: this.log,
          schedule,
          hooks: {
            wake: () => this.sender.scheduleDrain(),
            abortUndrained: (e) => this.accumulator.abortUndrained(e),
            abortQueued: (e) => this.accumulator.abortQueued(e),
          },
        })
      : null;
    this.sender = new Sender({
      cluster: this.cluster,
      accumulator: this.accumulator,
      config: this.config,
      txn: this.txn,
      host: {
        forceReady: () => this.flushes > 0 || this.state !== 'open' || this.accumulator.memoryExhausted,
        isClosed: () => this.state === 'closed',
      },
      clock: this.clock,
      log: this.log,
      schedule,
    });
  }

  /** Whether this producer is idempotent (explicitly, by default, or as a transactional one). */
  get idempotent(): boolean {
    return this.txn !== null;
  }

  /** The producer id and epoch (-1n/-1 until the first InitProducerId; always so without idempotence). */
  get producerIdentity(): { producerId: bigint; producerEpoch: number } {
    return this.txn?.identity ?? { producerId: -1n, producerEpoch: -1 };
  }

  /** The transaction state: 'uninitialized' … 'fatalError'; null for a producer without transactionalId. */
  get transactionState(): TransactionState | null {
    return this.txn?.isTransactional === true ? this.txn.state : null;
  }

  // ---------------------------------------------------------------------------- transactions

  /**
   * Registers the transactionalId with its coordinator (InitProducerId): fences any older
   * producer with the same id and finishes (aborts) a transaction it left open. Call once,
   * before the first beginTransaction(); after a timeout it may be called again.
   */
  initTransactions(): Promise<void> {
    return this.txnCall((txn) => txn.initTransactions());
  }

  /** Opens a transaction: sends until commit or abort belong to it. Throws when one is open already. */
  beginTransaction(): void {
    this.checkOpen();
    this.transactional('beginTransaction').beginTransaction();
  }

  /**
   * Adds consumed offsets to the transaction, committed to `group` only if the transaction
   * commits (AddOffsetsToTxn, then TxnOffsetCommit to the group's coordinator). Pass the
   * consumer's groupMetadata() so a rebalanced-away member cannot commit (generation checks).
   */
  sendOffsetsToTransaction(offsets: readonly TransactionOffset[], group: GroupMetadataInput): Promise<void> {
    return this.txnCall((txn) => txn.sendOffsetsToTransaction(offsets, group));
  }

  /** Sends everything of the transaction, then commits it. A failed record fails this; abort then. */
  commitTransaction(): Promise<void> {
    return this.txnCall((txn) => txn.commitTransaction(() => this.flush()));
  }

  /** Drops records not sent yet, waits for those in flight, and aborts the transaction. */
  abortTransaction(): Promise<void> {
    return this.txnCall((txn) =>
      txn.abortTransaction(
        () => this.dropUnsent(),
        () => this.accumulator.whenAllDone(),
      ),
    );
  }

  private transactional(what: string): TransactionManager {
    if (this.txn === null || !this.txn.isTransactional) {
      throw illegalState(`${what} needs a transactional producer (set the transactionalId option)`);
    }
    return this.txn;
  }

  private txnCall(fn: (txn: TransactionManager) => Promise<void>): Promise<void> {
    try {
      this.checkOpen();
      return fn(this.txn ?? this.transactional('this call'));
    } catch (e) {
      return Promise.reject(asError(e));
    }
  }

  /** Aborting: sends still waiting for metadata or memory, and batches never sent, fail. */
  private dropUnsent(): void {
    const aborted = new KafkaClientError(
      'the transaction was aborted before the record was sent',
      -1,
      'TRANSACTION_ABORTED',
      false,
    );
    for (const a of this.admissions.takeAll()) a.sink.reject(a.index, aborted);
    this.admissionsDone = this.admissionsQueued;
    this.notifyAdmissionWaiters();
    this.accumulator.abortUndrained(aborted);
  }

  /** Sends one record; resolves once the broker has it (as `acks` says), with its partition and offset. */
  send(record: ProducerRecord): Promise<RecordMetadata> {
    return new Promise<RecordMetadata>((resolve, reject) => {
      const sink = new SingleSink(resolve, reject);
      let prepared: PreparedRecord;
      try {
        this.checkOpen();
        this.txn?.checkSend();
        prepared = prepareRecord(record, this.clock.nowMs());
      } catch (e) {
        reject(asError(e));
        return;
      }
      this.submit(prepared, sink, 0);
    });
  }

  /**
   * Sends records in order; resolves with each one's metadata, in the same order. Every record is
   * checked first: one bad record refuses the whole call. A failure while sending rejects with
   * the first error, but records in other batches may have been written.
   */
  sendBatch(records: readonly ProducerRecord[]): Promise<RecordMetadata[]> {
    return new Promise<RecordMetadata[]>((resolve, reject) => {
      let prepared: PreparedRecord[];
      let payloadBytes: number[];
      try {
        this.checkOpen();
        this.txn?.checkSend();
        const given: unknown = records;
        if (!Array.isArray(given)) throw new TypeError('sendBatch takes an array of records');
        const now = this.clock.nowMs();
        prepared = records.map((r, i) => {
          try {
            return prepareRecord(r, now);
          } catch (e) {
            throw new TypeError(`record ${i}: ${asError(e).message}`);
          }
        });
        payloadBytes = prepared.map((p) => {
          const n = recordPayloadBytes(p.key, p.value, p.headers);
          this.sizeError(p, n);
          return n;
        });
      } catch (e) {
        reject(asError(e));
        return;
      }
      if (prepared.length === 0) {
        resolve([]);
        return;
      }
      const sink = new ManySink(prepared.length, resolve, reject);
      for (let i = 0; i < prepared.length; i++) this.submit(prepared[i]!, sink, i, payloadBytes[i]);
    });
  }

  /** Sends everything buffered now without waiting for linger; resolves when all of it has an outcome. */
  async flush(): Promise<void> {
    this.flushes++;
    try {
      await this.admissionsSettled();
      this.sender.scheduleDrain();
      await this.accumulator.whenAllDone();
    } finally {
      this.flushes--;
    }
  }

  /**
   * Refuses new sends, sends what is buffered (as flush), then closes the connections. With
   * `timeoutMs`, records still waiting when it passes fail with CLIENT_CLOSED instead.
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.closing === null) {
      let timeoutMs: number;
      try {
        timeoutMs = intOption('close timeoutMs', options.timeoutMs, INT32_MAX, 0, INT32_MAX);
      } catch (e) {
        return Promise.reject(asError(e));
      }
      this.closing = this.doClose(timeoutMs);
    }
    return this.closing;
  }

  private async doClose(timeoutMs: number): Promise<void> {
    this.state = 'closing';
    let cancelTimer = (): void => undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      cancelTimer = this.schedule(timeoutMs, () => resolve(true));
    });
    try {
      const flushed = await Promise.race([this.flush().then(() => false), timedOut]);
      if (flushed) this.log(`producer close: records still unsent after ${timeoutMs} ms are failed`);
    } finally {
      cancelTimer();
      this.state = 'closed';
      const closed = clientError('CLIENT_CLOSED', 'the producer was closed before the record was sent');
      // None of these holds memory: admit() takes it only right before appending.
      for (const a of this.admissions.takeAll()) a.sink.reject(a.index, closed);
      this.admissionsDone = this.admissionsQueued;
      this.notifyAdmissionWaiters();
      this.accumulator.rejectWaiters(closed);
      this.accumulator.abortQueued(closed);
      this.sender.stop();
      this.txn?.close();
      await this.cluster.close();
    }
  }

  // ---------------------------------------------------------------------------- admission

  private checkOpen(): void {
    if (this.state !== 'open') throw clientError('CLIENT_CLOSED', 'the producer is closed');
  }

  /** MESSAGE_TOO_LARGE for a record that could never be sent; the message names its size. */
  private sizeError(r: PreparedRecord, payloadBytes: number): void {
    const size = BATCH_HEADER_BYTES + payloadBytes + RECORD_FRAMING_MAX_BYTES;
    const { maxRequestSizeBytes, bufferMemoryBytes } = this.config;
    if (size > maxRequestSizeBytes) {
      throw kafkaError(
        ErrorCode.MESSAGE_TOO_LARGE,
        `record for ${r.topic} is ${size} bytes when encoded, more than maxRequestSize (${maxRequestSizeBytes})`,
      );
    }
    if (size > bufferMemoryBytes) {
      throw kafkaError(
        ErrorCode.MESSAGE_TOO_LARGE,
        `record for ${r.topic} is ${size} bytes when encoded, more than bufferMemory (${bufferMemoryBytes})`,
      );
    }
  }

  /** Queues a record; `checkedPayloadBytes` is its payload size when the caller checked it already (sendBatch). */
  private submit(record: PreparedRecord, sink: RecordSink, index: number, checkedPayloadBytes = -1): void {
    let payloadBytes = checkedPayloadBytes;
    if (payloadBytes < 0) {
      payloadBytes = recordPayloadBytes(record.key, record.value, record.headers);
      try {
        this.sizeError(record, payloadBytes);
      } catch (e) {
        sink.reject(index, asError(e));
        return;
      }
    }
    const reservedBytes = payloadBytes + RECORD_FRAMING_MAX_BYTES;
    // The fast path: nobody waits ahead, metadata is known and memory is free.
    if (this.admissions.length === 0) {
      const meta = this.usableMetadata(record);
      if (meta !== undefined && this.accumulator.tryReserve(reservedBytes)) {
        this.append(record, payloadBytes, reservedBytes, sink, index, meta);
        this.refreshIfStale();
        return;
      }
    }
    this.admissions.push({
      record,
      payloadBytes,
      reservedBytes,
      sink,
      index,
      deadlineMs: this.clock.nowMs() + this.config.maxBlockMs,
    });
    this.admissionsQueued++;
    void this.admit();
  }

  /** Works through waiting sends in order: metadata, then memory, then append. */
  private async admit(): Promise<void> {
    if (this.admitting) return;
    this.admitting = true;
    try {
      for (let a = this.admissions.peek(); a !== undefined; a = this.admissions.peek()) {
        let reserved = false;
        try {
          // Known metadata needs no wait (nor a turn of the microtask queue per record: a topic's
          // first send queues every later one behind it, thousands at a time).
          const meta = this.usableMetadata(a.record) ?? (await this.waitForMetadata(a.record, a.deadlineMs));
          if (!this.accumulator.tryReserve(a.reservedBytes)) {
            // Waiters make every batch ready, so the sender frees memory as fast as it can.
            this.sender.scheduleDrain();
            await this.accumulator.reserve(a.reservedBytes, a.deadlineMs);
          }
          reserved = true;
          // Closing while waiting: doClose already failed this admission.
          if (this.admissions.peek() !== a) {
            this.accumulator.release(a.reservedBytes);
            continue;
          }
          // Metadata may have been replaced while waiting for memory; the newest is as good.
          this.append(
            a.record,
            a.payloadBytes,
            a.reservedBytes,
            a.sink,
            a.index,
            this.usableMetadata(a.record) ?? meta,
          );
        } catch (e) {
          if (reserved) this.accumulator.release(a.reservedBytes);
          a.sink.reject(a.index, asError(e));
        }
        if (this.admissions.peek() === a) this.admissions.shift();
        this.admissionsDone++;
        this.notifyAdmissionWaiters();
      }
    } finally {
      this.admitting = false;
    }
  }

  private admissionsSettled(): Promise<void> {
    const target = this.admissionsQueued;
    if (this.admissionsDone >= target) return Promise.resolve();
    return new Promise((resolve) => this.admissionWaiters.push({ target, resolve }));
  }

  private notifyAdmissionWaiters(): void {
    if (this.admissionWaiters.length === 0) return;
    const done = this.admissionsDone;
    this.admissionWaiters = this.admissionWaiters.filter((w) => {
      if (w.target > done) return true;
      w.resolve();
      return false;
    });
  }

  /** Cached metadata that can route the record now, or undefined. */
  private usableMetadata(r: PreparedRecord): TopicMetadata | undefined {
    const meta = this.cluster.cachedTopic(r.topic);
    if (meta === undefined || meta.errorCode !== ErrorCode.NONE) return undefined;
    const n = meta.partitions.length;
    if (n === 0 || r.partition >= n) return undefined;
    return meta;
  }

  /**
   * Metadata for the record's topic (and its explicit partition), asking the cluster until the
   * deadline; like Kafka's producer, an unknown topic is asked for again (it may be being
   * created) until maxBlockMs has passed.
   */
  private async waitForMetadata(r: PreparedRecord, deadlineMs: number): Promise<TopicMetadata> {
    let lastError: KafkaClientError | null = null;
    for (let attempt = 1; ; attempt++) {
      const meta = this.usableMetadata(r);
      if (meta !== undefined) return meta;
      const now = this.clock.nowMs();
      if (now >= deadlineMs || this.state === 'closed') {
        const what = r.partition >= 0 ? `partition ${r.partition} of topic ${r.topic}` : `topic ${r.topic}`;
        const message = `${what} not present in metadata after ${this.config.maxBlockMs} ms (maxBlockMs)`;
        if (lastError === null) throw clientError('DEADLINE_EXCEEDED', message);
        throw new KafkaClientError(
          `${message}: ${lastError.message}`,
          lastError.code,
          lastError.errorName,
          false,
          {
            cause: lastError,
          },
        );
      }
      try {
        const cached = this.cluster.cachedTopic(r.topic);
        const lookup =
          cached === undefined
            ? this.cluster.topicMetadata(r.topic).then(() => undefined)
            : this.cluster.refreshMetadata([r.topic]);
        await this.withDeadline(lookup, deadlineMs);
        const fresh = this.cluster.cachedTopic(r.topic);
        if (fresh !== undefined && fresh.errorCode !== ErrorCode.NONE) {
          throw kafkaError(fresh.errorCode, `topic ${r.topic}`);
        }
        if (fresh !== undefined && r.partition >= fresh.partitions.length) {
          lastError = kafkaError(
            ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            `${r.topic}-${r.partition} (the topic has ${fresh.partitions.length} partitions)`,
          );
        }
      } catch (e) {
        if (!(e instanceof KafkaClientError)) throw e;
        if (!e.retriable && e.errorName !== 'DEADLINE_EXCEEDED') throw e;
        // A lookup cut short by the deadline says less than what an earlier answer said (e.g.
        // that the topic has too few partitions): keep that one.
        if (e.errorName !== 'DEADLINE_EXCEEDED' || lastError === null) lastError = e;
      }
      if (this.usableMetadata(r) !== undefined) continue;
      const waitMs = Math.min(this.cluster.backoffMs(attempt), Math.max(0, deadlineMs - this.clock.nowMs()));
      await new Promise<void>((resolve) => this.schedule(waitMs, resolve));
    }
  }

  /** `p`, or DEADLINE_EXCEEDED at `deadlineMs` (p keeps running; its outcome is then ignored). */
  private withDeadline<T>(p: Promise<T>, deadlineMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const cancel = this.schedule(deadlineMs - this.clock.nowMs(), () =>
        reject(clientError('DEADLINE_EXCEEDED', `no metadata answer within maxBlockMs`)),
      );
      p.then(
        (v) => {
          cancel();
          resolve(v);
        },
        (e: unknown) => {
          cancel();
          reject(asError(e));
        },
      );
    });
  }

  private append(
    r: PreparedRecord,
    payloadBytes: number,
    reservedBytes: number,
    sink: RecordSink,
    index: number,
    meta: TopicMetadata,
  ): void {
    if (this.txn !== null) {
      try {
        this.txn.checkAppend();
      } catch (e) {
        this.accumulator.release(reservedBytes);
        sink.reject(index, asError(e));
        return;
      }
    }
    let partition = r.partition;
    if (partition < 0) {
      const n = meta.partitions.length;
      if (r.key !== null) partition = keyPartition(r.key, n);
      else {
        const available = this.sender.availablePartitions(meta);
        partition = this.partitioner.partition(
          r.topic,
          available,
          n,
          this.accumulator,
          payloadBytes,
          r.timestamp,
        );
      }
    }
    // A transactional record's partition joins the transaction before its batch may be sent.
    this.txn?.maybeAddPartition(r.topic, partition);
    const changed = this.accumulator.append(r.topic, partition, r, payloadBytes, reservedBytes, sink, index);
    if (changed) this.sender.scheduleDrain();
  }

  /** Metadata older than metadataMaxAgeMs is refreshed in the background; sends keep using it meanwhile. */
  private refreshIfStale(): void {
    const last = this.cluster.lastMetadataRefreshMs;
    if (last >= 0 && this.clock.nowMs() - last > this.cluster.options.metadataMaxAgeMs) {
      this.sender.requestMetadata();
    }
  }

  /** Timers on the client's clock (Cluster.schedule: ref'd on the system clock). */
  private schedule(delayMs: number, fn: () => void): () => void {
    return this.cluster.schedule(delayMs, fn);
  }
}
