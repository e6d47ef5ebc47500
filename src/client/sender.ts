/**
 * The producer's sender, as Kafka's Sender: drains ready batches from the accumulator into one
 * Produce request per leader broker, at most maxInFlightRequestsPerConnection per broker, and
 * retries retriable failures (refreshing metadata when leaders moved) until deliveryTimeoutMs.
 *
 * Without idempotence a partition has up to maxInFlightRequestsPerConnection batches in flight,
 * as in Java's producer: a retried batch can then be overtaken (order is kept across retries only
 * with 1). With it (a TransactionManager), a partition may have up to 5 in flight: each batch
 * gets its sequence when first taken, and the transaction manager decides which head batches may
 * go (a retry only as the first unsettled batch of its partition, nothing before InitProducerId,
 * a transactional batch only once its partition joined the transaction) and what a sequence or
 * fencing error means. A DUPLICATE_SEQUENCE_NUMBER answer is a success: the batch was written.
 *
 * Not done: honouring the broker's throttleTimeMs.
 */
import { CompressionCodec } from '../protocol/compression/index.js';
import { ErrorCode, errorInfo } from '../protocol/error-codes.js';
import { ApiKey, apis } from '../protocol/generated/api-keys.js';
import { ProduceRequest } from '../protocol/generated/message/ProduceRequest.js';
import type { ProduceResponse } from '../protocol/generated/message/ProduceResponse.js';
import type { Clock } from '../runtime/clock.js';
import type { ProducerBatch, RecordAccumulator } from './accumulator.js';
import type { Cluster, TopicMetadata } from './cluster.js';
import { asClientError, clientError, kafkaError, KafkaClientError } from './errors.js';
import type { TransactionManager } from './transaction-manager.js';

/** Produce v3 is the first to carry magic-v2 batches, the only format this producer writes. */
const PRODUCE_MIN_VERSION = 3;

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

export interface SenderConfig {
  acks: number;
  compression: CompressionCodec;
  maxRequestSizeBytes: number;
  deliveryTimeoutMs: number;
  retries: number;
  maxInFlightRequestsPerConnection: number;
}

export interface SenderHost {
  /** Flush, close or callers waiting for memory: every batch is ready whatever its linger. */
  forceReady(): boolean;
  /** The producer is closed: nothing more is sent or retried. */
  isClosed(): boolean;
}

export interface SenderDeps {
  cluster: Cluster;
  accumulator: RecordAccumulator;
  config: SenderConfig;
  /** Idempotence and transactions; null for a plain producer. */
  txn: TransactionManager | null;
  host: SenderHost;
  clock: Clock;
  log: (message: string) => void;
  schedule: (delayMs: number, fn: () => void) => () => void;
}

/** Per TopicMetadata object (replaced on every refresh): leaders by partition and the partitions that have one. */
interface TopicRouting {
  leaders: Int32Array;
  available: number[];
}

export class Sender {
  private readonly cluster: Cluster;
  private readonly accumulator: RecordAccumulator;
  private readonly config: SenderConfig;
  private readonly txn: TransactionManager | null;
  private readonly host: SenderHost;
  private readonly clock: Clock;
  private readonly log: (message: string) => void;
  private readonly schedule: (delayMs: number, fn: () => void) => () => void;
  private readonly routing = new WeakMap<TopicMetadata, TopicRouting>();

  private drainScheduled = false;
  private cancelWake: (() => void) | null = null;
  private readonly inFlightByNode = new Map<number, number>();
  private refreshing = false;
  /** A failure suggested stale leaders: the next drain refreshes metadata. */
  private metadataWanted = false;
  private lastRefreshMs = -Infinity;

  constructor(deps: SenderDeps) {
    this.cluster = deps.cluster;
    this.accumulator = deps.accumulator;
    this.config = deps.config;
    this.txn = deps.txn;
    this.host = deps.host;
    this.clock = deps.clock;
    this.log = deps.log;
    this.schedule = deps.schedule;
  }

  /** Partitions of the topic that have a leader (where keyless records may go). */
  availablePartitions(meta: TopicMetadata): number[] {
    return this.routingOf(meta).available;
  }

  /** Refresh metadata at the next drain (it is older than metadataMaxAgeMs, say). */
  requestMetadata(): void {
    this.metadataWanted = true;
    this.scheduleDrain();
  }

  /** Stops the wake-up timer (the producer is closed). */
  stop(): void {
    this.cancelWake?.();
    this.cancelWake = null;
  }

  scheduleDrain(): void {
    if (this.drainScheduled || this.host.isClosed()) return;
    this.drainScheduled = true;
    // After the current turn: records sent in one synchronous loop join the same batches.
    setImmediate(() => {
      this.drainScheduled = false;
      this.drain();
    });
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

  private drain(): void {
    if (this.host.isClosed()) return;
    const { deliveryTimeoutMs, maxRequestSizeBytes, maxInFlightRequestsPerConnection, compression } =
      this.config;
    const txn = this.txn;
    const now = this.clock.nowMs();
    const nextExpiryMs = this.accumulator.expire(
      now,
      deliveryTimeoutMs,
      txn === null
        ? undefined
        : (b) =>
            txn.onBatchFailed(
              b,
              clientError(
                'DEADLINE_EXCEEDED',
                `records for ${b.topic}-${b.partition} expired (deliveryTimeoutMs)`,
              ),
            ),
    );
    const force = this.host.forceReady();
    // Without a producer id (or after a fatal error) nothing goes; the transaction manager wakes us.
    const sendable = txn === null || txn.prepareDrain();
    let leaderUnknown = false;
    let nextReadyMs = Infinity;
    // As Java's Sender loop: one request per leader carries at most one batch per partition, so a
    // partition with several ready batches (a sendBatch or a burst of sends bigger than batchSize)
    // needs several requests; they are all made now, up to maxInFlightRequestsPerConnection per
    // broker, instead of one per answer. Each round marks at least one batch in flight, so this ends.
    for (;;) {
      const round = this.accumulator.ready(now, force);
      nextReadyMs = round.nextReadyMs;
      const requests = new Map<number, { batches: ProducerBatch[]; bytes: number }>();
      for (const batch of round.ready) {
        const meta = this.cluster.cachedTopic(batch.topic);
        const leader = meta === undefined ? -1 : (this.routingOf(meta).leaders[batch.partition] ?? -1);
        if (leader < 0) {
          leaderUnknown = true;
          continue;
        }
        if (!sendable || (txn !== null && !txn.canSend(batch))) continue;
        if ((this.inFlightByNode.get(leader) ?? 0) >= maxInFlightRequestsPerConnection) continue;
        let request = requests.get(leader);
        if (request === undefined) requests.set(leader, (request = { batches: [], bytes: 0 }));
        // Uncompressed, the accounted size is the encoded size: encoding waits until the sequence is set.
        const bytes =
          compression === CompressionCodec.None ? batch.sizeBytes : batch.encode(compression).length;
        // The first batch always goes (a record was checked against maxRequestSize); others wait their turn.
        if (request.batches.length > 0 && request.bytes + bytes > maxRequestSizeBytes) continue;
        request.bytes += bytes;
        request.batches.push(batch);
        // The sequence is given only now that the batch surely goes (a compressed one has its header patched).
        txn?.assignSequence(batch);
        this.accumulator.markInFlight(batch);
      }
      if (requests.size === 0) break;
      // sendProduce counts the request in flight before its first await, so the next round sees it.
      for (const [nodeId, { batches }] of requests) void this.sendProduce(nodeId, batches);
    }
    let wakeMs = Math.min(nextReadyMs, nextExpiryMs);
    if (leaderUnknown || this.metadataWanted) wakeMs = Math.min(wakeMs, this.refreshMetadata());
    this.setWake(wakeMs);
  }

  /** One timer for the sender's next look (linger, backoff or expiry); none when nothing waits. */
  private setWake(atMs: number): void {
    this.cancelWake?.();
    this.cancelWake = null;
    if (atMs === Infinity || this.host.isClosed()) return;
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
      const error = asClientError(e, `produce to broker ${nodeId} failed`);
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
      transactionalId: this.txn?.transactionalId ?? null,
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
      } else if (
        answer.errorCode === ErrorCode.NONE ||
        // Written before, too long ago for the broker to still know its offset (Kafka: a success).
        (answer.errorCode === ErrorCode.DUPLICATE_SEQUENCE_NUMBER && b.hasSequence)
      ) {
        b.succeed(answer.baseOffset, Number(answer.logAppendTimeMs));
        this.txn?.onBatchSucceeded(b);
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
    const closed = this.host.isClosed();
    if (error.code === ErrorCode.MESSAGE_TOO_LARGE && batch.recordCount > 1 && !closed) {
      // The broker's max.message.bytes is below our batch: send the halves separately, as Kafka's split.
      this.log(
        `${batch.topic}-${batch.partition}: batch of ${batch.recordCount} records too large, splitting it`,
      );
      const halves = this.accumulator.splitHead(batch);
      this.txn?.onBatchSplit(batch, halves);
      return;
    }
    const retriable = this.txn === null ? error.retriable : this.txn.shouldRetry(batch, error);
    const withinDeadline = now < batch.createdMs + this.config.deliveryTimeoutMs;
    if (retriable && batch.attempts <= this.config.retries && withinDeadline && !closed) {
      const waitMs = this.cluster.backoffMs(batch.attempts);
      this.log(
        `${batch.topic}-${batch.partition}: ${error.message}; retrying in ${waitMs} ms (attempt ${batch.attempts + 1})`,
      );
      this.accumulator.retry(batch, now + waitMs);
      if (error.code === -1 || METADATA_ERRORS.has(error.code)) this.metadataWanted = true;
      return;
    }
    const why = !retriable
      ? ''
      : closed
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
    this.txn?.onBatchFailed(batch, error);
    this.accumulator.complete(batch);
  }

  /**
   * Refreshes the metadata of the topics with queued records; at most one at a time, once per
   * retryBackoffMs. Returns when to ask again if it is too soon now (Infinity otherwise).
   */
  private refreshMetadata(): number {
    if (this.refreshing || this.host.isClosed()) return Infinity;
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
}
