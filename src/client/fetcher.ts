/**
 * The consumer's fetch path: per-partition positions, Fetch requests to partition leaders,
 * record batches turned into ConsumerRecords, and ListOffsets for resets and lookups.
 *
 * - One Fetch in flight per leader, covering that leader's fetchable partitions (assigned, with
 *   a position, not paused, fewer than two responses buffered). A partition whose response is
 *   being drained is fetched again from the end of that response, so the broker works on the
 *   next records while the application handles these; at most two responses per partition are
 *   held (and fetchMaxBytes per leader is in flight).
 * - Sessionless fetches (epoch -1, KIP-227 sessions are not used); topic ids from Fetch v13
 *   when the metadata has them.
 * - Responses are decoded lazily, a batch at a time as records are drained: compressed batches
 *   are decompressed when reached, control batches skipped, records below the fetch offset
 *   inside a batch skipped (a fetch returns whole batches), a partial batch at the end of a
 *   response ignored (the next fetch starts there). Under read_committed, batches of aborted
 *   transactions are dropped using the response's aborted-transaction list, as Java's Fetcher.
 * - Data fetched before a seek, pause, or reassignment is discarded when its fetch offset no
 *   longer matches the partition's position.
 */
import { ErrorCode, errorName } from '../protocol/error-codes.js';
import { ApiKey, apis } from '../protocol/generated/api-keys.js';
import type { FetchRequest } from '../protocol/generated/message/FetchRequest.js';
import type { FetchResponse } from '../protocol/generated/message/FetchResponse.js';
import type { ListOffsetsRequest } from '../protocol/generated/message/ListOffsetsRequest.js';
import { DecodeError } from '../protocol/primitives/errors.js';
import { ZERO_UUID } from '../protocol/primitives/uuid.js';
import {
  ControlRecordType,
  decodeRecordBatch,
  parseControlBatch,
  recordTimestamp,
  type DecodedRecordBatch,
} from '../protocol/records/batch.js';
import { BatchSplitter, BatchView, TimestampType } from '../protocol/records/batch-view.js';
import type { Clock } from '../runtime/clock.js';
import { partitionOf, type Cluster } from './cluster.js';
import type { BrokerConnection } from './connection.js';
import { asClientError, illegalState, kafkaError, KafkaClientError } from './errors.js';
import { keyOf, TopicPartitionMap, tpKey, type TopicPartition } from './topic-partition.js';

export interface ConsumerRecord {
  topic: string;
  partition: number;
  offset: bigint;
  /** Milliseconds since the epoch: the producer's (CreateTime) or the broker's (LogAppendTime). */
  timestamp: number;
  timestampType: 'CreateTime' | 'LogAppendTime';
  key: Buffer | null;
  value: Buffer | null;
  headers: { key: string; value: Buffer | null }[];
  /** Epoch of the leader that appended the record; -1 if unknown. */
  leaderEpoch: number;
}

export type IsolationLevel = 'read_uncommitted' | 'read_committed';
export type OffsetResetStrategy = 'earliest' | 'latest' | 'none';

/** ListOffsets sentinel timestamps. */
export const LATEST_TIMESTAMP = -1n;
export const EARLIEST_TIMESTAMP = -2n;

/**
 * Ceiling on one batch's decompressed records: a guard against compression bombs. Far above
 * what a broker accepts (message.max.bytes is about 1 MiB compressed by default).
 */
export const MAX_DECOMPRESSED_BATCH_BYTES = 256 * 1024 * 1024;

/** Fetch errors after which the leader we asked is probably not the leader any more. */
const STALE_METADATA_ERRORS: ReadonlySet<number> = new Set([
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.REPLICA_NOT_AVAILABLE,
  ErrorCode.FENCED_LEADER_EPOCH,
  ErrorCode.UNKNOWN_LEADER_EPOCH,
  ErrorCode.KAFKA_STORAGE_ERROR,
  ErrorCode.OFFSET_NOT_AVAILABLE,
  ErrorCode.UNKNOWN_TOPIC_ID,
  ErrorCode.INCONSISTENT_TOPIC_ID,
]);

// ---------------------------------------------------------------------------------------------
// Partition state

export interface PartitionState {
  /** The next offset to hand out; null until set from a committed offset, a reset or a seek. */
  position: bigint | null;
  /** Leader epoch of the record before `position` (-1 when unknown), sent with commits. */
  positionEpoch: number;
  /**
   * The offset after the last record the application consumed: what a commit stores. It lags
   * `position` only while records handed to the async iterator have not been yielded yet.
   */
  consumed: bigint | null;
  consumedEpoch: number;
  paused: boolean;
  /** Position to be looked up with ListOffsets (seekToBeginning/End, an out-of-range fetch). */
  pendingReset: 'earliest' | 'latest' | null;
  highWatermark: bigint;
  logStartOffset: bigint;
}

function newPartitionState(): PartitionState {
  return {
    position: null,
    positionEpoch: -1,
    consumed: null,
    consumedEpoch: -1,
    paused: false,
    pendingReset: null,
    highWatermark: -1n,
    logStartOffset: -1n,
  };
}

/** The assigned partitions and where the consumer stands in each. */
export class PartitionStates {
  private readonly states = new TopicPartitionMap<PartitionState>();

  get size(): number {
    return this.states.size;
  }

  partitions(): TopicPartition[] {
    return this.states.keys();
  }

  get(tp: TopicPartition): PartitionState | undefined {
    return this.states.get(tp);
  }

  has(tp: TopicPartition): boolean {
    return this.states.has(tp);
  }

  /** The assigned state, or a KafkaClientError naming the partition (Java's IllegalStateException). */
  require(tp: TopicPartition, what: string): PartitionState {
    const s = this.states.get(tp);
    if (s === undefined) {
      throw illegalState(`${what}: ${keyOf(tp)} is not assigned to this consumer`);
    }
    return s;
  }

  /** Replaces the assignment, keeping the state of partitions that stay assigned. */
  assign(tps: readonly TopicPartition[]): void {
    const keep = new TopicPartitionMap<PartitionState>();
    for (const tp of tps) keep.set(tp, this.states.get(tp) ?? newPartitionState());
    this.states.clear();
    for (const [tp, s] of keep) this.states.set(tp, s);
  }

  add(tps: readonly TopicPartition[]): void {
    for (const tp of tps) if (!this.states.has(tp)) this.states.set(tp, newPartitionState());
  }

  remove(tps: readonly TopicPartition[]): void {
    for (const tp of tps) this.states.delete(tp);
  }

  seek(tp: TopicPartition, offset: bigint, leaderEpoch = -1): void {
    const s = this.require(tp, 'seek');
    s.position = offset;
    s.positionEpoch = leaderEpoch;
    s.consumed = offset;
    s.consumedEpoch = leaderEpoch;
    s.pendingReset = null;
  }

  /** Partitions that may be fetched now: a known position, not paused, no reset pending. */
  fetchable(): [TopicPartition, PartitionState][] {
    const out: [TopicPartition, PartitionState][] = [];
    for (const [tp, s] of this.states) {
      if (s.position !== null && !s.paused && s.pendingReset === null) out.push([tp, s]);
    }
    return out;
  }

  /** Partitions whose position must be found before they can be fetched. */
  needingPosition(): TopicPartition[] {
    return this.entries()
      .filter(([, s]) => s.position === null && s.pendingReset === null)
      .map(([tp]) => tp);
  }

  needingReset(): [TopicPartition, 'earliest' | 'latest'][] {
    const out: [TopicPartition, 'earliest' | 'latest'][] = [];
    for (const [tp, s] of this.states) if (s.pendingReset !== null) out.push([tp, s.pendingReset]);
    return out;
  }

  entries(): [TopicPartition, PartitionState][] {
    return [...this.states];
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding a partition's fetched records

interface AbortedTransaction {
  producerId: bigint;
  firstOffset: bigint;
}

/**
 * The records a Fetch returned for one partition, decoded a batch at a time as they are
 * drained. Offsets come from the batches; `nextFetchOffset` moves past every batch consumed,
 * including batches that gave no records (control batches, aborted transactions, compacted).
 */
export class CompletedFetch {
  readonly tp: TopicPartition;
  readonly fetchOffset: bigint;
  nextFetchOffset: bigint;
  /** Leader epoch of the last batch consumed (for commits); -1 before the first. */
  lastEpoch = -1;
  private readonly splitter: BatchSplitter;
  private readonly readCommitted: boolean;
  private readonly aborted: AbortedTransaction[];
  private readonly abortedProducers = new Set<bigint>();
  private batch: DecodedRecordBatch | null = null;
  private recordIndex = 0;
  private batchesSeen = 0;
  private failure: KafkaClientError | null = null;
  private done = false;

  constructor(
    tp: TopicPartition,
    fetchOffset: bigint,
    records: Buffer,
    readCommitted: boolean,
    abortedTransactions: readonly AbortedTransaction[] | null,
  ) {
    this.tp = tp;
    this.fetchOffset = fetchOffset;
    this.nextFetchOffset = fetchOffset;
    this.splitter = new BatchSplitter(records);
    this.readCommitted = readCommitted;
    this.aborted = [...(abortedTransactions ?? [])].sort((a, b) =>
      a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0,
    );
  }

  private endOffset: bigint | null = null;

  /**
   * Where the fetch after this one starts: past the last whole batch, as `nextFetchOffset` will be
   * once every batch is drained (batches wholly below the fetch offset do not move it, a torn
   * batch at the end is left for the next fetch). Found from the batch headers alone, so the next
   * fetch can go out while these records are still being drained. A bad batch found while
   * draining ends the drain short of it: a fetch made from here is then stale, and dropped as
   * such, since it does not start at the partition's position.
   */
  get prefetchOffset(): bigint {
    if (this.endOffset === null) {
      let end = this.fetchOffset;
      const scan = new BatchSplitter(this.splitter.buf);
      while (scan.next()) {
        const view = new BatchView(scan.batch());
        const batchEnd = view.baseOffset + BigInt(view.lastOffsetDelta) + 1n;
        if (batchEnd > end) end = batchEnd;
      }
      this.endOffset = end;
    }
    return this.endOffset;
  }

  /** No more records will come out (they may all have been skipped). */
  get exhausted(): boolean {
    return this.done && this.failure === null;
  }

  /**
   * Appends up to `max` records to `out`. An invalid batch ends the fetch: the error is thrown
   * once the records before it have been handed out (so no good record is lost).
   */
  drain(max: number, out: ConsumerRecord[]): void {
    let taken = 0;
    while (taken < max) {
      if (this.batch !== null && this.recordIndex < this.batch.records.length) {
        const batch = this.batch;
        const r = batch.records[this.recordIndex++]!;
        const offset = batch.baseOffset + BigInt(r.offsetDelta);
        if (offset < this.fetchOffset) continue;
        out.push({
          topic: this.tp.topic,
          partition: this.tp.partition,
          offset,
          timestamp: recordTimestamp(batch, r),
          timestampType: batch.timestampType === TimestampType.LogAppendTime ? 'LogAppendTime' : 'CreateTime',
          key: r.key,
          value: r.value,
          headers: r.headers.length === 0 ? [] : (r.headers as { key: string; value: Buffer | null }[]),
          leaderEpoch: batch.partitionLeaderEpoch,
        });
        this.nextFetchOffset = offset + 1n;
        this.lastEpoch = batch.partitionLeaderEpoch;
        taken++;
        continue;
      }
      if (this.batch !== null) {
        // The batch is used up: its end is where the next fetch starts, whatever it held.
        const end = this.batch.baseOffset + BigInt(this.batch.lastOffsetDelta) + 1n;
        if (end > this.nextFetchOffset) this.nextFetchOffset = end;
        this.batch = null;
      }
      if (this.failure !== null || this.done) break;
      this.nextBatch();
    }
    if (taken === 0 && this.failure !== null) {
      const e = this.failure;
      this.failure = null;
      this.done = true;
      throw e;
    }
  }

  private fail(message: string, code: number = ErrorCode.CORRUPT_MESSAGE): void {
    this.failure = kafkaError(code, `${keyOf(this.tp)} at offset ${this.nextFetchOffset}: ${message}`);
  }

  /** Moves to the next batch that has records for the application; sets `done` at the end. */
  private nextBatch(): void {
    if (!this.splitter.next()) {
      this.done = true;
      const e = this.splitter.error;
      if (e === null) return;
      // A response cut at its size limit ends in part of a batch: normal, unless it is all we got.
      const truncated = 'reason' in e && e.reason === 'truncated';
      if (!truncated) this.fail(`invalid record batch: ${e.message}`);
      else if (this.batchesSeen === 0) {
        this.fail(
          'the first record batch is larger than the response could hold; raise maxPartitionFetchBytes/fetchMaxBytes',
          ErrorCode.MESSAGE_TOO_LARGE,
        );
      }
      return;
    }
    this.batchesSeen++;
    const bytes = this.splitter.batch();
    const view = new BatchView(bytes);
    const lastOffset = view.baseOffset + BigInt(view.lastOffsetDelta);
    const nextOffset = lastOffset + 1n;
    if (lastOffset < this.fetchOffset) return; // wholly before the fetch offset
    if (this.readCommitted && view.isTransactional) {
      while (this.aborted.length > 0 && this.aborted[0]!.firstOffset <= lastOffset) {
        this.abortedProducers.add(this.aborted.shift()!.producerId);
      }
      if (!view.isControl && this.abortedProducers.has(view.producerId)) {
        this.advanceTo(nextOffset);
        return;
      }
    }
    if (view.isControl) {
      if (this.readCommitted && view.isTransactional) {
        const decoded = decodeRecordBatch(bytes, { maxDecompressedBytes: MAX_DECOMPRESSED_BATCH_BYTES });
        if (!(decoded instanceof DecodeError)) {
          const info = parseControlBatch(decoded);
          // An ABORT marker closes the producer's aborted transaction.
          if (!(info instanceof DecodeError) && info.key.type === ControlRecordType.Abort) {
            this.abortedProducers.delete(view.producerId);
          }
        }
      }
      this.advanceTo(nextOffset);
      return;
    }
    const decoded = decodeRecordBatch(bytes, { maxDecompressedBytes: MAX_DECOMPRESSED_BATCH_BYTES });
    if (decoded instanceof DecodeError) {
      this.done = true;
      this.fail(`invalid record batch at base offset ${view.baseOffset}: ${decoded.message}`);
      return;
    }
    this.batch = decoded;
    this.recordIndex = 0;
  }

  private advanceTo(offset: bigint): void {
    if (offset > this.nextFetchOffset) this.nextFetchOffset = offset;
  }
}

// ---------------------------------------------------------------------------------------------
// Waiting

/** Wakes whoever waits (a poll) when something happens: data arrived, a rebalance, close. */
export class Signal {
  private waiters: (() => void)[] = [];
  /** A notify() nobody was waiting for: the next wait() returns at once (no lost wakeups). */
  private pending = false;

  notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    if (waiters.length === 0) this.pending = true;
    for (const w of waiters) w();
  }

  /** Resolves at the next notify() or after `timeoutMs`. The timer keeps the process alive, as a blocking poll should. */
  wait(timeoutMs: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const waiter = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(
        () => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          resolve();
        },
        Math.max(0, timeoutMs),
      );
      this.waiters.push(waiter);
    });
  }
}

// ---------------------------------------------------------------------------------------------
// The fetcher

export interface FetcherConfig {
  fetchMinBytes: number;
  fetchMaxWaitMs: number;
  fetchMaxBytes: number;
  maxPartitionFetchBytes: number;
  isolationLevel: IsolationLevel;
  autoOffsetReset: OffsetResetStrategy;
}

/** Fetch v13 switched from topic names to topic ids. */
const FETCH_TOPIC_IDS_MIN_VERSION = 13;
/** The Samsa broker and Kafka 3+ serve Fetch from v4 (message format v2, isolation level). */
const FETCH_MIN_VERSION = 4;
/**
 * Responses held per partition: the one being drained and one fetched ahead. Buffered data is
 * so bounded by twice maxPartitionFetchBytes per partition (and fetchMaxBytes per response).
 */
export const MAX_BUFFERED_FETCHES_PER_PARTITION = 2;

interface FetchTarget {
  tp: TopicPartition;
  topicId: string;
  leaderEpoch: number;
  fetchOffset: bigint;
}

export interface ListedOffset {
  offset: bigint;
  timestamp: bigint;
  leaderEpoch: number;
}

export class Fetcher {
  private readonly buffered: CompletedFetch[] = [];
  private readonly inFlight = new Set<number>();
  private readonly backoffUntilMs = new Map<number, number>();
  /** Errors for the application, surfaced by the next collect() (offset out of range with 'none', …). */
  private readonly errors: KafkaClientError[] = [];
  private metadataRefresh: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly cluster: Cluster,
    private readonly states: PartitionStates,
    private readonly config: FetcherConfig,
    private readonly clock: Clock,
    /** Called when a response arrives, so a waiting poll looks again. */
    private readonly onData: () => void,
    private readonly log: (message: string) => void,
  ) {}

  close(): void {
    this.closed = true;
    this.buffered.length = 0;
  }

  /** Drops buffered records (of `tps`, or all): after a seek, pause or reassignment. */
  clearBuffered(tps?: readonly TopicPartition[]): void {
    if (tps === undefined) {
      this.buffered.length = 0;
      return;
    }
    const keys = new Set(tps.map(keyOf));
    for (let i = this.buffered.length - 1; i >= 0; i--) {
      if (keys.has(keyOf(this.buffered[i]!.tp))) this.buffered.splice(i, 1);
    }
  }

  /**
   * Up to `max` records from the buffered responses, in arrival order, advancing positions.
   * Throws the first pending error (after returning what came before it, Java-style).
   */
  collect(max: number): ConsumerRecord[] {
    const out: ConsumerRecord[] = [];
    if (this.errors.length > 0) throw this.errors.shift()!;
    while (out.length < max && this.buffered.length > 0) {
      const fetch = this.buffered[0]!;
      const state = this.states.get(fetch.tp);
      // A seek, reset or pause since the fetch was sent makes its data stale.
      if (state === undefined || state.paused || state.position !== fetch.nextFetchOffset) {
        this.buffered.shift();
        continue;
      }
      const before = out.length;
      try {
        fetch.drain(max - out.length, out);
      } catch (e) {
        this.buffered.shift();
        if (out.length > 0) {
          this.errors.push(e as KafkaClientError);
          break;
        }
        throw e;
      }
      if (out.length > before || fetch.nextFetchOffset !== state.position) {
        state.position = fetch.nextFetchOffset;
        if (fetch.lastEpoch >= 0) state.positionEpoch = fetch.lastEpoch;
      }
      if (fetch.exhausted) this.buffered.shift();
      else if (out.length === before) break;
    }
    return out;
  }

  /**
   * The offset the next fetch of `tp` starts at: past its last buffered response (prefetching),
   * else its position; null when it must not be fetched now (MAX_BUFFERED_FETCHES_PER_PARTITION
   * responses buffered, or a buffered response that cannot move the partition forward).
   */
  private nextFetchOffset(
    state: PartitionState,
    buffered: { last: CompletedFetch; count: number } | undefined,
  ): bigint | null {
    if (buffered === undefined) return state.position;
    if (buffered.count >= MAX_BUFFERED_FETCHES_PER_PARTITION) return null;
    const offset = buffered.last.prefetchOffset;
    return offset > buffered.last.fetchOffset ? offset : null;
  }

  /** Per partition key: the last buffered response and how many there are. */
  private bufferedByPartition(): Map<string, { last: CompletedFetch; count: number }> {
    const out = new Map<string, { last: CompletedFetch; count: number }>();
    for (const f of this.buffered) {
      const key = keyOf(f.tp);
      const b = out.get(key);
      if (b === undefined) out.set(key, { last: f, count: 1 });
      else {
        b.last = f;
        b.count++;
      }
    }
    return out;
  }

  /**
   * Sends a Fetch to every leader with fetchable partitions and none in flight. A partition whose
   * response is still being drained is fetched again from the end of that response (Java's
   * consumer prefetches too): the broker prepares the next records while the application handles
   * these. At most MAX_BUFFERED_FETCHES_PER_PARTITION responses per partition are held.
   */
  sendFetches(): void {
    if (this.closed) return;
    const byLeader = new Map<number, FetchTarget[]>();
    let leaderUnknown = false;
    const now = this.clock.nowMs();
    const buffered = this.bufferedByPartition();
    for (const [tp, state] of this.states.fetchable()) {
      const fetchOffset = this.nextFetchOffset(state, buffered.get(keyOf(tp)));
      if (fetchOffset === null) continue;
      const meta = this.cluster.cachedTopic(tp.topic);
      const p = meta === undefined ? undefined : partitionOf(meta, tp.partition);
      if (meta === undefined || p === undefined || p.leader < 0) {
        leaderUnknown = true;
        continue;
      }
      if (this.inFlight.has(p.leader) || (this.backoffUntilMs.get(p.leader) ?? 0) > now) continue;
      let list = byLeader.get(p.leader);
      if (list === undefined) byLeader.set(p.leader, (list = []));
      list.push({ tp, topicId: meta.topicId, leaderEpoch: p.leaderEpoch, fetchOffset });
    }
    if (leaderUnknown) this.requestMetadataRefresh();
    for (const [nodeId, partitions] of byLeader) {
      this.inFlight.add(nodeId);
      void this.fetchFrom(nodeId, partitions)
        .catch((e: unknown) => {
          this.log(`fetch from broker ${nodeId} failed: ${String(e)}`);
          this.backoffUntilMs.set(nodeId, this.clock.nowMs() + this.cluster.options.retryBackoffMs);
          this.requestMetadataRefresh();
        })
        .finally(() => {
          this.inFlight.delete(nodeId);
          this.onData();
        });
    }
  }

  /** Refreshes the metadata of the assigned topics, once at a time, in the background. */
  requestMetadataRefresh(): void {
    if (this.metadataRefresh !== null || this.closed) return;
    const topics = [...new Set(this.states.partitions().map((tp) => tp.topic))];
    this.metadataRefresh = this.cluster
      .refreshMetadata(topics)
      .catch((e: unknown) => this.log(`metadata refresh failed: ${String(e)}`))
      .finally(() => {
        this.metadataRefresh = null;
        this.onData();
      });
  }

  private async fetchFrom(nodeId: number, partitions: FetchTarget[]): Promise<void> {
    const conn = await this.cluster.connectionTo(nodeId);
    const useIds = partitions.every((p) => p.topicId !== ZERO_UUID && p.topicId !== '');
    const version = conn.version(ApiKey.Fetch, useIds ? undefined : FETCH_TOPIC_IDS_MIN_VERSION - 1);
    if (version < FETCH_MIN_VERSION) {
      throw kafkaError(
        ErrorCode.UNSUPPORTED_VERSION,
        `Fetch to ${conn.address} (needs v${FETCH_MIN_VERSION}+)`,
      );
    }
    const idsInRequest = version >= FETCH_TOPIC_IDS_MIN_VERSION;
    const topics = new Map<string, FetchRequest.FetchTopic>();
    const offsets = new Map<string, bigint>();
    const nameById = new Map<string, string>();
    for (const { tp, topicId, leaderEpoch, fetchOffset } of partitions) {
      offsets.set(keyOf(tp), fetchOffset);
      nameById.set(topicId, tp.topic);
      let t = topics.get(tp.topic);
      if (t === undefined) {
        topics.set(
          tp.topic,
          (t = { topic: tp.topic, topicId: idsInRequest ? topicId : ZERO_UUID, partitions: [] }),
        );
      }
      t.partitions.push({
        ...apis.Fetch.request.structs.FetchPartition(),
        partition: tp.partition,
        currentLeaderEpoch: leaderEpoch,
        fetchOffset,
        partitionMaxBytes: this.config.maxPartitionFetchBytes,
      });
    }
    if (topics.size === 0) return;
    const request: FetchRequest = {
      ...apis.Fetch.request.create(),
      maxWaitMs: this.config.fetchMaxWaitMs,
      minBytes: this.config.fetchMinBytes,
      maxBytes: this.config.fetchMaxBytes,
      isolationLevel: this.config.isolationLevel === 'read_committed' ? 1 : 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [...topics.values()],
    };
    const response = await conn.send(apis.Fetch, version, request, {
      timeoutMs: this.cluster.options.requestTimeoutMs + this.config.fetchMaxWaitMs,
    });
    if (this.closed) return;
    this.handleResponse(conn, response, offsets, idsInRequest ? nameById : null);
  }

  private handleResponse(
    conn: BrokerConnection,
    response: FetchResponse,
    offsets: ReadonlyMap<string, bigint>,
    nameById: ReadonlyMap<string, string> | null,
  ): void {
    if (response.errorCode !== ErrorCode.NONE) {
      throw kafkaError(response.errorCode, `Fetch from ${conn.address}`);
    }
    let stale = false;
    const buffered = this.bufferedByPartition();
    for (const t of response.responses) {
      const topic = nameById === null ? t.topic : nameById.get(t.topicId);
      if (topic === undefined) continue;
      for (const p of t.partitions) {
        const tp = { topic, partition: p.partitionIndex };
        const fetchOffset = offsets.get(tpKey(topic, p.partitionIndex));
        const state = this.states.get(tp);
        // Reassigned, sought or paused while the fetch was out: the answer no longer applies. A
        // prefetch applies only where the buffered records end (collect() checks again).
        const last = buffered.get(tpKey(topic, p.partitionIndex))?.last;
        const expected = last === undefined ? state?.position : last.prefetchOffset;
        if (fetchOffset === undefined || state === undefined || expected !== fetchOffset) continue;
        if (p.highWatermark >= 0n) state.highWatermark = p.highWatermark;
        if (p.logStartOffset >= 0n) state.logStartOffset = p.logStartOffset;
        switch (p.errorCode) {
          case ErrorCode.NONE:
            if (p.records !== null && p.records.length > 0) {
              this.buffered.push(
                new CompletedFetch(
                  tp,
                  fetchOffset,
                  p.records,
                  this.config.isolationLevel === 'read_committed',
                  p.abortedTransactions,
                ),
              );
            }
            break;
          case ErrorCode.OFFSET_OUT_OF_RANGE:
            this.outOfRange(tp, state, fetchOffset);
            break;
          default:
            if (STALE_METADATA_ERRORS.has(p.errorCode)) {
              this.log(`fetch ${keyOf(tp)}: ${errorName(p.errorCode)}; refreshing metadata`);
              stale = true;
            } else {
              this.errors.push(kafkaError(p.errorCode, `fetch ${keyOf(tp)} at offset ${fetchOffset}`));
            }
        }
      }
    }
    if (stale) this.requestMetadataRefresh();
  }

  private outOfRange(tp: TopicPartition, state: PartitionState, fetchOffset: bigint): void {
    const strategy = this.config.autoOffsetReset;
    if (strategy === 'none') {
      this.errors.push(
        kafkaError(
          ErrorCode.OFFSET_OUT_OF_RANGE,
          `fetch ${keyOf(tp)} at offset ${fetchOffset} (autoOffsetReset is 'none'; seek to a valid offset)`,
        ),
      );
      return;
    }
    this.log(`fetch ${keyOf(tp)}: offset ${fetchOffset} out of range, resetting to ${strategy}`);
    state.pendingReset = strategy;
  }

  /** Resolves pending resets with ListOffsets (earliest/latest). */
  async resetPositions(deadlineMs: number): Promise<void> {
    const pending = this.states.needingReset();
    if (pending.length === 0) return;
    const found = await this.listOffsets(
      pending.map(([tp, strategy]) => ({
        tp,
        timestamp: strategy === 'earliest' ? EARLIEST_TIMESTAMP : LATEST_TIMESTAMP,
      })),
      deadlineMs,
    );
    for (const [tp, strategy] of pending) {
      const state = this.states.get(tp);
      const hit = found.get(keyOf(tp));
      // Sought or reassigned while the lookup was out: the lookup no longer applies.
      if (state === undefined || state.pendingReset !== strategy || hit === undefined) continue;
      state.position = hit.offset;
      state.positionEpoch = hit.leaderEpoch;
      state.consumed = hit.offset;
      state.consumedEpoch = hit.leaderEpoch;
      state.pendingReset = null;
    }
  }

  /**
   * ListOffsets for each partition at `timestamp` (-1 latest, -2 earliest, or ms), grouped by
   * leader and retried on stale metadata until `deadlineMs`. A partition with no offset at or
   * after the timestamp maps to offset -1.
   */
  async listOffsets(
    requests: readonly { tp: TopicPartition; timestamp: bigint }[],
    deadlineMs: number,
  ): Promise<Map<string, ListedOffset>> {
    const result = new Map<string, ListedOffset>();
    let remaining = [...requests];
    await this.cluster.withRetry(
      'ListOffsets',
      async () => {
        const byLeader = new Map<number, { tp: TopicPartition; timestamp: bigint; leaderEpoch: number }[]>();
        for (const r of remaining) {
          const p = await this.cluster.partitionMetadata(r.tp.topic, r.tp.partition);
          if (p.leader < 0) throw kafkaError(ErrorCode.LEADER_NOT_AVAILABLE, `ListOffsets ${keyOf(r.tp)}`);
          let list = byLeader.get(p.leader);
          if (list === undefined) byLeader.set(p.leader, (list = []));
          list.push({ ...r, leaderEpoch: p.leaderEpoch });
        }
        const failures: KafkaClientError[] = [];
        await Promise.all(
          [...byLeader].map(async ([nodeId, list]) => {
            try {
              await this.listOffsetsFrom(nodeId, list, result);
            } catch (e) {
              failures.push(asClientError(e));
            }
          }),
        );
        remaining = remaining.filter((r) => !result.has(keyOf(r.tp)));
        const first = failures[0];
        if (first !== undefined) throw first;
      },
      deadlineMs,
    );
    return result;
  }

  private async listOffsetsFrom(
    nodeId: number,
    list: { tp: TopicPartition; timestamp: bigint; leaderEpoch: number }[],
    result: Map<string, ListedOffset>,
  ): Promise<void> {
    const conn = await this.cluster.connectionTo(nodeId);
    const version = conn.version(ApiKey.ListOffsets);
    if (version < 1) throw kafkaError(ErrorCode.UNSUPPORTED_VERSION, `ListOffsets to ${conn.address}`);
    const topics = new Map<string, ListOffsetsRequest.ListOffsetsTopic>();
    for (const r of list) {
      let t = topics.get(r.tp.topic);
      if (t === undefined) topics.set(r.tp.topic, (t = { name: r.tp.topic, partitions: [] }));
      t.partitions.push({
        partitionIndex: r.tp.partition,
        currentLeaderEpoch: version >= 4 ? r.leaderEpoch : -1,
        timestamp: r.timestamp,
        maxNumOffsets: 1,
      });
    }
    const response = await conn.send(apis.ListOffsets, version, {
      ...apis.ListOffsets.request.create(),
      replicaId: -1,
      isolationLevel: version >= 2 && this.config.isolationLevel === 'read_committed' ? 1 : 0,
      topics: [...topics.values()],
    });
    let retriable: KafkaClientError | null = null;
    for (const t of response.topics) {
      for (const p of t.partitions) {
        const context = `ListOffsets ${tpKey(t.name, p.partitionIndex)}`;
        if (p.errorCode !== ErrorCode.NONE) {
          const e = kafkaError(p.errorCode, context);
          if (!e.retriable) throw e;
          retriable = e;
          continue;
        }
        result.set(tpKey(t.name, p.partitionIndex), {
          offset: p.offset,
          timestamp: p.timestamp,
          leaderEpoch: p.leaderEpoch,
        });
      }
    }
    if (retriable !== null) throw retriable;
  }
}
