/**
 * Samsa's producer, with the semantics of Kafka's Java producer:
 *
 *   const producer = new Producer({ bootstrapServers: 'localhost:9092', lingerMs: 5 });
 *   const { partition, offset } = await producer.send({ topic: 't', key: 'k', value: 'v' });
 *   await producer.close();
 *
 * `send` checks the record, waits (up to maxBlockMs) for the topic's metadata and for buffer
 * memory, picks the partition (partitioner.ts) and appends it to a batch (accumulator.ts). The
 * sender part of this file drains ready batches into one Produce request per leader broker, at
 * most maxInFlightRequestsPerConnection per broker and one batch in flight per partition, and
 * retries retriable failures (refreshing metadata when leaders moved) until deliveryTimeoutMs.
 *
 * Ordering: sends are admitted in call order (a send waiting for metadata or memory holds back
 * the ones after it), and a partition's batches are sent one at a time, a retried batch before
 * any later one, so records of a partition are written in send order even across retries.
 *
 * Not implemented here: idempotence and transactions (issue 7; batches carry producerId -1, so a
 * retry after a lost response can write a batch twice, as with Kafka's enable.idempotence=false),
 * and honouring the broker's throttleTimeMs.
 */
import { CompressionCodec } from '../protocol/compression/index.js';
import { ErrorCode, errorInfo } from '../protocol/error-codes.js';
import { ApiKey, apis } from '../protocol/generated/api-keys.js';
import { ProduceRequest } from '../protocol/generated/message/ProduceRequest.js';
import type { ProduceResponse } from '../protocol/generated/message/ProduceResponse.js';
import { BATCH_HEADER_BYTES } from '../protocol/records/batch-view.js';
import { systemClock, type Clock } from '../runtime/clock.js';
import {
  RECORD_FRAMING_MAX_BYTES,
  RecordAccumulator,
  recordPayloadBytes,
  type ProducerBatch,
  type RecordMetadata,
  type RecordSink,
} from './accumulator.js';
import { Cluster, type ClientOptions, type TopicMetadata } from './cluster.js';
import { clientError, ConfigError, kafkaError, KafkaClientError } from './errors.js';
import { intOption, resolveClientOptions } from './options.js';
import { keyPartition, StickyPartitioner } from './partitioner.js';
import { prepareRecord, type PreparedRecord, type ProducerRecord } from './record-input.js';

export type { RecordMetadata } from './accumulator.js';
export type { ProducerRecord, RecordHeadersInput } from './record-input.js';

export type CompressionName = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

export interface ProducerOptions {
  /** Acknowledgements the leader waits for: 0 none, 1 the leader, -1/'all' every in-sync replica. Default 'all'. */
  acks?: 0 | 1 | -1 | 'all';
  /** How long a batch waits for more records before it is sent. Default 5 (Kafka 4). */
  lingerMs?: number;
  /** Upper bound of a batch's uncompressed size in bytes; 0 sends every record alone. Default 16384. */
  batchSize?: number;
  /** Codec for every batch. Default 'none'. */
  compression?: CompressionName;
  /** Bytes of records not yet acknowledged before send waits. Default 33554432 (32 MiB). */
  bufferMemory?: number;
  /** Largest Produce request, and so the largest record, in bytes. Default 1048576. */
  maxRequestSize?: number;
  /** How long send may wait for metadata and buffer memory. Default 60000. */
  maxBlockMs?: number;
  /** Time from a record's batch being created to its outcome, retries included. Default 120000. */
  deliveryTimeoutMs?: number;
  /** Retries of a failed batch (deliveryTimeoutMs bounds them too). Default 2147483647. */
  retries?: number;
  /** Produce requests in flight per broker. Default 5. */
  maxInFlightRequestsPerConnection?: number;
}

interface ResolvedProducerOptions {
  acks: number;
  lingerMs: number;
  batchSizeBytes: number;
  compression: CompressionCodec;
  bufferMemoryBytes: number;
  maxRequestSizeBytes: number;
  maxBlockMs: number;
  deliveryTimeoutMs: number;
  retries: number;
  maxInFlightRequestsPerConnection: number;
}

const CODECS: Readonly<Record<CompressionName, CompressionCodec>> = {
  none: CompressionCodec.None,
  gzip: CompressionCodec.Gzip,
  snappy: CompressionCodec.Snappy,
  lz4: CompressionCodec.Lz4,
  zstd: CompressionCodec.Zstd,
};

const INT32_MAX = 0x7fffffff;

/** Produce v3 is the first to carry magic-v2 batches, the only format this producer writes. */
const PRODUCE_MIN_VERSION = 3;

/** Producer options a Cluster must not see (it validates only ClientOptions). */
const PRODUCER_KEYS: readonly (keyof ProducerOptions)[] = [
  'acks',
  'lingerMs',
  'batchSize',
  'compression',
  'bufferMemory',
  'maxRequestSize',
  'maxBlockMs',
  'deliveryTimeoutMs',
  'retries',
  'maxInFlightRequestsPerConnection',
];

/** Errors after which the producer's idea of the partition's leader is probably wrong. */
const METADATA_ERRORS: ReadonlySet<number> = new Set([
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.FENCED_LEADER_EPOCH,
  ErrorCode.UNKNOWN_LEADER_EPOCH,
  ErrorCode.KAFKA_STORAGE_ERROR,
  ErrorCode.UNKNOWN_TOPIC_ID,
]);

export function resolveProducerOptions(
  o: ProducerOptions,
  requestTimeoutMs: number,
): ResolvedProducerOptions {
  let acks: number;
  if (o.acks === undefined || o.acks === 'all' || o.acks === -1) acks = -1;
  else if (o.acks === 0 || o.acks === 1) acks = o.acks;
  else throw new ConfigError(`acks must be 0, 1, -1 or 'all', got ${String(o.acks)}`);
  const compressionName = o.compression ?? 'none';
  if (!Object.hasOwn(CODECS, compressionName)) {
    throw new ConfigError(
      `compression must be one of ${Object.keys(CODECS).join(', ')}, got ${String(compressionName)}`,
    );
  }
  const lingerMs = intOption('lingerMs', o.lingerMs, 5, 0, INT32_MAX);
  const bufferMemoryBytes = intOption('bufferMemory', o.bufferMemory, 32 * 1024 * 1024, 1);
  const maxRequestSizeBytes = intOption('maxRequestSize', o.maxRequestSize, 1024 * 1024, 1, INT32_MAX);
  // As Kafka: a delivery timeout the user set must leave room for one linger and one request;
  // the default is raised to that when requestTimeoutMs is large.
  const minDeliveryMs = lingerMs + requestTimeoutMs;
  let deliveryTimeoutMs = intOption('deliveryTimeoutMs', o.deliveryTimeoutMs, 120_000, 0, INT32_MAX);
  if (o.deliveryTimeoutMs === undefined) deliveryTimeoutMs = Math.max(deliveryTimeoutMs, minDeliveryMs);
  else if (deliveryTimeoutMs < minDeliveryMs) {
    throw new ConfigError(
      `deliveryTimeoutMs must be at least lingerMs + requestTimeoutMs (${minDeliveryMs}), got ${deliveryTimeoutMs}`,
    );
  }
  return {
    acks,
    lingerMs,
    batchSizeBytes: intOption('batchSize', o.batchSize, 16384, 0, INT32_MAX),
    compression: CODECS[compressionName],
    bufferMemoryBytes,
    maxRequestSizeBytes,
    maxBlockMs: intOption('maxBlockMs', o.maxBlockMs, 60_000, 0, INT32_MAX),
    deliveryTimeoutMs,
    retries: intOption('retries', o.retries, INT32_MAX, 0, INT32_MAX),
    maxInFlightRequestsPerConnection: intOption(
      'maxInFlightRequestsPerConnection',
      o.maxInFlightRequestsPerConnection,
      5,
      1,
      INT32_MAX,
    ),
  };
}

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

/** Per TopicMetadata object (replaced on every refresh): leaders by partition and the partitions that have one. */
interface TopicRouting {
  leaders: Int32Array;
  available: number[];
}

export class Producer {
  private readonly cluster: Cluster;
  private readonly config: ResolvedProducerOptions;
  private readonly clock: Clock;
  private readonly log: (message: string) => void;
  private readonly accumulator: RecordAccumulator;
  private readonly partitioner = new StickyPartitioner();
  private readonly routing = new WeakMap<TopicMetadata, TopicRouting>();

  private state: 'open' | 'closing' | 'closed' = 'open';
  private closing: Promise<void> | null = null;
  private flushes = 0;

  private readonly admissions: Admission[] = [];
  private admitting = false;
  private admissionsQueued = 0;
  private admissionsDone = 0;
  private admissionWaiters: { target: number; resolve: () => void }[] = [];

  private drainScheduled = false;
  private cancelWake: (() => void) | null = null;
  private readonly inFlightByNode = new Map<number, number>();
  private refreshing = false;
  /** A failure suggested stale leaders: the next drain refreshes metadata. */
  private metadataWanted = false;
  private lastRefreshMs = -Infinity;

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
    this.accumulator = new RecordAccumulator({
      batchSizeBytes: this.config.batchSizeBytes,
      lingerMs: this.config.lingerMs,
      bufferMemoryBytes: this.config.bufferMemoryBytes,
      compression: this.config.compression,
      clock: this.clock,
      schedule: (ms, fn) => this.schedule(ms, fn),
    });
  }

  /** Sends one record; resolves once the broker has it (as `acks` says), with its partition and offset. */
  send(record: ProducerRecord): Promise<RecordMetadata> {
    return new Promise<RecordMetadata>((resolve, reject) => {
      const sink = new SingleSink(resolve, reject);
      let prepared: PreparedRecord;
      try {
        this.checkOpen();
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
      try {
        this.checkOpen();
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
        for (const p of prepared) this.sizeError(p, recordPayloadBytes(p.key, p.value, p.headers));
      } catch (e) {
        reject(asError(e));
        return;
      }
      if (prepared.length === 0) {
        resolve([]);
        return;
      }
      const sink = new ManySink(prepared.length, resolve, reject);
      for (let i = 0; i < prepared.length; i++) this.submit(prepared[i]!, sink, i);
    });
  }

  /** Sends everything buffered now without waiting for linger; resolves when all of it has an outcome. */
  async flush(): Promise<void> {
    this.flushes++;
    try {
      await this.admissionsSettled();
      this.scheduleDrain();
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
      for (const a of this.admissions.splice(0)) a.sink.reject(a.index, closed);
      this.admissionsDone = this.admissionsQueued;
      this.notifyAdmissionWaiters();
      this.accumulator.rejectWaiters(closed);
      this.accumulator.abortQueued(closed);
      this.cancelWake?.();
      this.cancelWake = null;
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

  private submit(record: PreparedRecord, sink: RecordSink, index: number): void {
    const payloadBytes = recordPayloadBytes(record.key, record.value, record.headers);
    try {
      this.sizeError(record, payloadBytes);
    } catch (e) {
      sink.reject(index, asError(e));
      return;
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
      for (let a = this.admissions[0]; a !== undefined; a = this.admissions[0]) {
        let reserved = false;
        try {
          const meta = await this.waitForMetadata(a.record, a.deadlineMs);
          if (!this.accumulator.tryReserve(a.reservedBytes)) {
            // Waiters make every batch ready, so the sender frees memory as fast as it can.
            this.scheduleDrain();
            await this.accumulator.reserve(a.reservedBytes, a.deadlineMs);
          }
          reserved = true;
          // Closing while waiting: doClose already failed this admission.
          if (this.admissions[0] !== a) {
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
        if (this.admissions[0] === a) this.admissions.shift();
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
        lastError = e;
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
    let partition = r.partition;
    if (partition < 0) {
      const n = meta.partitions.length;
      if (r.key !== null) partition = keyPartition(r.key, n);
      else {
        const available = this.routingOf(meta).available;
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
    const changed = this.accumulator.append(r.topic, partition, r, payloadBytes, reservedBytes, sink, index);
    if (changed) this.scheduleDrain();
  }

  private routingOf(meta: TopicMetadata): TopicRouting {
    let routing = this.routing.get(meta);
    if (routing === undefined) {
      const n = meta.partitions.length;
      const leaders = new Int32Array(n).fill(-1);
      const available: number[] = [];
      for (const p of meta.partitions) {
        if (p.partition < 0 || p.partition >= n) continue;
        leaders[p.partition] = p.leader;
        if (p.leader >= 0) available.push(p.partition);
      }
      routing = { leaders, available };
      this.routing.set(meta, routing);
    }
    return routing;
  }

  /** Metadata older than metadataMaxAgeMs is refreshed in the background; sends keep using it meanwhile. */
  private refreshIfStale(): void {
    const last = this.cluster.lastMetadataRefreshMs;
    if (last >= 0 && this.clock.nowMs() - last > this.cluster.options.metadataMaxAgeMs) {
      this.metadataWanted = true;
      this.scheduleDrain();
    }
  }

  // ---------------------------------------------------------------------------- sender

  private scheduleDrain(): void {
    if (this.drainScheduled || this.state === 'closed') return;
    this.drainScheduled = true;
    // After the current turn: records sent in one synchronous loop join the same batches.
    setImmediate(() => {
      this.drainScheduled = false;
      this.drain();
    });
  }

  private drain(): void {
    if (this.state === 'closed') return;
    const { deliveryTimeoutMs, maxRequestSizeBytes, maxInFlightRequestsPerConnection, compression } =
      this.config;
    const now = this.clock.nowMs();
    const nextExpiryMs = this.accumulator.expire(now, deliveryTimeoutMs);
    const force = this.flushes > 0 || this.state !== 'open' || this.accumulator.memoryExhausted;
    const { ready, nextReadyMs } = this.accumulator.ready(now, force);
    const requests = new Map<number, { batches: ProducerBatch[]; bytes: number }>();
    let leaderUnknown = false;
    for (const batch of ready) {
      const meta = this.cluster.cachedTopic(batch.topic);
      const leader = meta === undefined ? -1 : (this.routingOf(meta).leaders[batch.partition] ?? -1);
      if (leader < 0) {
        leaderUnknown = true;
        continue;
      }
      if ((this.inFlightByNode.get(leader) ?? 0) >= maxInFlightRequestsPerConnection) continue;
      let request = requests.get(leader);
      if (request === undefined) requests.set(leader, (request = { batches: [], bytes: 0 }));
      const bytes = batch.encode(compression).length;
      // The first batch always goes (a record was checked against maxRequestSize); others wait their turn.
      if (request.batches.length > 0 && request.bytes + bytes > maxRequestSizeBytes) continue;
      request.bytes += bytes;
      request.batches.push(batch);
      this.accumulator.markInFlight(batch);
    }
    for (const [nodeId, { batches }] of requests) void this.sendProduce(nodeId, batches);
    let wakeMs = Math.min(nextReadyMs, nextExpiryMs);
    if (leaderUnknown || this.metadataWanted) wakeMs = Math.min(wakeMs, this.refreshMetadata());
    this.setWake(wakeMs);
  }

  /** One timer for the sender's next look (linger, backoff or expiry); none when nothing waits. */
  private setWake(atMs: number): void {
    this.cancelWake?.();
    this.cancelWake = null;
    if (atMs === Infinity || this.state === 'closed') return;
    this.cancelWake = this.schedule(atMs - this.clock.nowMs(), () => {
      this.cancelWake = null;
      this.drain();
    });
  }

  private async sendProduce(nodeId: number, batches: ProducerBatch[]): Promise<void> {
    this.inFlightByNode.set(nodeId, (this.inFlightByNode.get(nodeId) ?? 0) + 1);
    try {
      const conn = await this.cluster.connectionTo(nodeId);
      const version = conn.version(ApiKey.Produce);
      if (version < PRODUCE_MIN_VERSION) {
        const e = kafkaError(
          ErrorCode.UNSUPPORTED_VERSION,
          `produce to broker ${nodeId} (it serves no Produce version >= ${PRODUCE_MIN_VERSION})`,
        );
        for (const b of batches) this.finish(b, e);
        return;
      }
      const request = this.produceRequest(batches);
      if (this.config.acks === 0) {
        conn.sendOneWay(ProduceRequest, version, request);
        for (const b of batches) {
          b.succeed(-1n, -1);
          this.accumulator.complete(b);
        }
        return;
      }
      const response = await conn.send(apis.Produce, version, request);
      this.onProduceResponse(nodeId, batches, response);
    } catch (e) {
      const error =
        e instanceof KafkaClientError
          ? e
          : clientError('PROTOCOL_ERROR', `produce to broker ${nodeId} failed: ${String(e)}`, e);
      for (const b of batches) this.onBatchError(b, error);
    } finally {
      this.inFlightByNode.set(nodeId, (this.inFlightByNode.get(nodeId) ?? 1) - 1);
      this.scheduleDrain();
    }
  }

  private produceRequest(batches: ProducerBatch[]): ProduceRequest {
    const byTopic = new Map<string, ProduceRequest.PartitionProduceData[]>();
    for (const b of batches) {
      let partitions = byTopic.get(b.topic);
      if (partitions === undefined) byTopic.set(b.topic, (partitions = []));
      partitions.push({ index: b.partition, records: b.encode(this.config.compression) });
    }
    const topicData: ProduceRequest.TopicProduceData[] = [];
    for (const [name, partitionData] of byTopic) topicData.push({ name, partitionData });
    return {
      transactionalId: null,
      acks: this.config.acks,
      timeoutMs: this.cluster.options.requestTimeoutMs,
      topicData,
    };
  }

  private onProduceResponse(nodeId: number, batches: ProducerBatch[], response: ProduceResponse): void {
    const answers = new Map<string, Map<number, ProduceResponse.PartitionProduceResponse>>();
    for (const t of response.responses) {
      const byPartition = new Map<number, ProduceResponse.PartitionProduceResponse>();
      for (const p of t.partitionResponses) byPartition.set(p.index, p);
      answers.set(t.name, byPartition);
    }
    for (const b of batches) {
      const answer = answers.get(b.topic)?.get(b.partition);
      if (answer === undefined) {
        this.finish(
          b,
          clientError('PROTOCOL_ERROR', `broker ${nodeId} did not answer for ${b.topic}-${b.partition}`),
        );
      } else if (answer.errorCode === ErrorCode.NONE) {
        b.succeed(answer.baseOffset, Number(answer.logAppendTimeMs));
        this.accumulator.complete(b);
      } else {
        const context =
          `produce to ${b.topic}-${b.partition}` +
          (answer.errorMessage === null || answer.errorMessage === ''
            ? ''
            : ` (broker: ${answer.errorMessage})`);
        this.onBatchError(b, kafkaError(answer.errorCode, context));
      }
    }
  }

  /** Retries a batch when the error allows and time remains; otherwise fails its records. */
  private onBatchError(batch: ProducerBatch, error: KafkaClientError): void {
    const now = this.clock.nowMs();
    if (error.code === ErrorCode.MESSAGE_TOO_LARGE && batch.recordCount > 1 && this.state !== 'closed') {
      // The broker's max.message.bytes is below our batch: send the halves separately, as Kafka's split.
      this.log(
        `${batch.topic}-${batch.partition}: batch of ${batch.recordCount} records too large, splitting it`,
      );
      this.accumulator.splitHead(batch);
      return;
    }
    const withinDeadline = now < batch.createdMs + this.config.deliveryTimeoutMs;
    if (
      error.retriable &&
      batch.attempts <= this.config.retries &&
      withinDeadline &&
      this.state !== 'closed'
    ) {
      const waitMs = this.cluster.backoffMs(batch.attempts);
      this.log(
        `${batch.topic}-${batch.partition}: ${error.message}; retrying in ${waitMs} ms (attempt ${batch.attempts + 1})`,
      );
      this.accumulator.retry(batch, now + waitMs);
      if (error.code === -1 || METADATA_ERRORS.has(error.code)) this.metadataWanted = true;
      return;
    }
    const why = !error.retriable
      ? ''
      : this.state === 'closed'
        ? ' (the producer was closed)'
        : !withinDeadline
          ? ` (deliveryTimeoutMs ${this.config.deliveryTimeoutMs} passed after ${batch.attempts} attempt(s))`
          : ` (after ${batch.attempts} attempt(s); retries ${this.config.retries})`;
    const info = error.code >= 0 ? errorInfo(error.code) : null;
    const message = error.message.includes(`${batch.topic}-${batch.partition}`)
      ? `${error.message}${why}`
      : `produce to ${batch.topic}-${batch.partition}: ${error.message}${why}`;
    this.finish(
      batch,
      new KafkaClientError(message, error.code, info?.name ?? error.errorName, error.retriable, {
        cause: error,
      }),
    );
  }

  private finish(batch: ProducerBatch, error: KafkaClientError): void {
    batch.fail(error);
    this.accumulator.complete(batch);
  }

  /**
   * Refreshes the metadata of the topics with queued records; at most one at a time, once per
   * retryBackoffMs. Returns when to ask again if it is too soon now (Infinity otherwise).
   */
  private refreshMetadata(): number {
    if (this.refreshing || this.state === 'closed') return Infinity;
    const now = this.clock.nowMs();
    const earliestMs = this.lastRefreshMs + this.cluster.options.retryBackoffMs;
    if (now < earliestMs) return earliestMs;
    this.refreshing = true;
    this.metadataWanted = false;
    this.lastRefreshMs = now;
    const topics = this.accumulator.topics();
    this.cluster.refreshMetadata(topics.length > 0 ? topics : undefined).then(
      () => {
        this.refreshing = false;
        this.scheduleDrain();
      },
      (e: unknown) => {
        this.refreshing = false;
        this.log(`metadata refresh failed: ${String(e)}`);
        this.scheduleDrain();
      },
    );
    return Infinity;
  }

  /**
   * Timers: a plain (ref'd) timer on the system clock, so a process with records still to send
   * does not exit while, say, the broker is unreachable and no socket is open.
   */
  private schedule(delayMs: number, fn: () => void): () => void {
    const ms = Math.min(Math.max(0, delayMs), INT32_MAX);
    if (this.clock === systemClock) {
      const t = setTimeout(fn, ms);
      return () => clearTimeout(t);
    }
    return this.clock.schedule(ms, fn);
  }
}
