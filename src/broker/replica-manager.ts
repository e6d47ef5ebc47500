/**
 * The replica manager: the partitions this broker hosts, each a log with its leader epoch and
 * high watermark, and the fetch purgatory where long-polling fetches wait.
 *
 * With one replica (the single-node case) the in-sync replica set is the leader alone, so the
 * high watermark is the end of what has been written: an append moves it when its write
 * completes, and that move wakes the fetches waiting on the partition — no polling. The last
 * small appends stay in memory (tail-cache.ts), so a fetch at the log end, woken or not, is
 * answered without reading back from the file what was just written.
 *
 * Transactions: each partition's last stable offset (LSO) is the first offset of its oldest
 * transaction not yet stable (open, or its marker not yet below the high watermark), capped by
 * the high watermark — what read_committed consumers may read. A read_committed fetch waiting in
 * the purgatory counts only appended bytes below the LSO, and wakes when a marker moves it.
 */
import { ErrorCode } from '../protocol/error-codes.js';
import type { MetadataDelta, MetadataImage, TopicImage } from '../metadata/image.js';
import { StorageError } from '../storage/errors.js';
import type { LogManager } from '../storage/log-manager.js';
import type { AppendInfo, MarkerSpec, PartitionLog } from '../storage/log.js';
import type { AppendOrigin } from '../storage/producer-state.js';
import { recompressForTopic } from './recompress.js';
import { TailArenas, TailCache } from './tail-cache.js';

/** Fetches waiting at once, across all connections (each holds a timer and its partitions). */
export const MAX_DELAYED_FETCHES = 10_000;

export class Partition {
  readonly topic: string;
  readonly partition: number;
  topicId: string;
  readonly log: PartitionLog;
  leaderEpoch: number;
  leaderId: number;
  /** Offsets below it are on every in-sync replica (here: written). */
  private hw: number;
  /** Fetches waiting for data on this partition, told of every append once it is written. */
  readonly waiters = new Set<DelayedFetch>();
  /** The last small appends, to answer fetches at the log end from memory. */
  private readonly tail: TailCache;

  constructor(
    topic: string,
    partition: number,
    topicId: string,
    log: PartitionLog,
    leaderId: number,
    leaderEpoch: number,
    tailArenas: TailArenas,
  ) {
    this.tail = new TailCache(tailArenas);
    this.topic = topic;
    this.partition = partition;
    this.topicId = topicId;
    this.log = log;
    this.leaderId = leaderId;
    this.leaderEpoch = leaderEpoch;
    this.hw = log.logEndOffset;
    log.onHighWatermark(this.hw);
  }

  get highWatermark(): number {
    return this.hw;
  }

  /** Sets the high watermark (replication moves it; here, tests do). */
  set highWatermark(offset: number) {
    this.hw = offset;
    this.log.onHighWatermark(offset);
  }

  /**
   * Appends a producer's batches (`origin` 'coordinator' for a coordinator's own, which carry no
   * sequence), recompressed first when the topic's compression.type asks (see recompress.ts);
   * resolves once written, with the high watermark moved past them.
   */
  async appendAsLeader(records: Buffer, origin: AppendOrigin = 'client'): Promise<AppendInfo> {
    const batches = recompressForTopic(records, this.log.config, this.log.name);
    const info = await this.log.appendAsLeader(batches, this.leaderEpoch, origin);
    // An idempotent producer's retry: the batches are in the log (and the cache) already.
    if (info.duplicate === true) return info;
    this.appended(info, batches);
    return info;
  }

  /**
   * Appends a transaction marker (see PartitionLog.appendMarker); resolves once written, with the
   * high watermark, and the last stable offset, moved past it.
   */
  async appendMarker(marker: MarkerSpec): Promise<AppendInfo> {
    const batch = this.log.markerBatch(marker);
    const info = await this.log.appendAsLeader(batch, this.leaderEpoch, 'coordinator');
    this.appended(info, batch);
    return info;
  }

  /** An append is written: the high watermark moves, the tail cache keeps it, waiting fetches hear of it. */
  private appended(info: AppendInfo, batches: Buffer): void {
    const stableBefore = this.lastStableOffset;
    if (info.lastOffset + 1 > this.hw) {
      this.hw = info.lastOffset + 1;
      this.log.onHighWatermark(this.hw);
    }
    this.tail.add(info.firstOffset, info.lastOffset + 1, batches);
    const bytes = batches.length;
    const stable = this.lastStableOffset;
    // read_committed fetches count what became readable to them: the whole append when it is all
    // below the LSO; when the LSO moved over more than the append (a transaction ended), that is
    // unknown here, and they wake to read it.
    const committedBytes =
      stable === this.hw && stableBefore >= info.firstOffset ? bytes : stable > stableBefore ? Infinity : 0;
    for (const fetch of this.waiters) fetch.appended(bytes, committedBytes);
  }

  /**
   * The batches from `offset` up to the high watermark when the tail cache holds all of them and
   * they fit in `maxBytes` — exactly what a log read would return; null to read the log. With
   * `readCommitted`, only while the last stable offset is the high watermark (what the cache
   * holds is then all readable).
   */
  cachedFrom(offset: number, maxBytes: number, readCommitted = false): Buffer | null {
    if (offset < this.log.logStartOffset || this.tail.endOffset !== this.hw) return null;
    if (readCommitted && this.lastStableOffset !== this.hw) return null;
    const records = this.tail.from(offset);
    return records !== null && records.length <= maxBytes ? records : null;
  }

  /** The partition is no longer hosted here: its tail cache gives its memory back. */
  removed(): void {
    this.tail.clear();
    for (const fetch of this.waiters) fetch.removed();
  }

  /** Offsets a read_committed fetch may see: below the first transaction not yet stable, at most the high watermark. */
  get lastStableOffset(): number {
    return this.log.lastStableOffset(this.hw);
  }
}

export class ReplicaManager {
  private readonly partitions = new Map<string, Partition>();
  private readonly logManager: LogManager;
  private readonly nodeId: number;
  private readonly logLine: (m: string) => void;
  /** Memory the partitions' tail caches may take, together. */
  private readonly tailArenas = new TailArenas();
  delayedFetches = 0;

  constructor(logManager: LogManager, nodeId: number, log: (m: string) => void) {
    this.logManager = logManager;
    this.nodeId = nodeId;
    this.logLine = log;
  }

  getPartition(topic: string, partition: number): Partition | undefined {
    return this.partitions.get(`${topic}-${partition}`);
  }

  allPartitions(): Partition[] {
    return [...this.partitions.values()];
  }

  /** Hosts every partition of the image this broker is a replica of (at start). */
  async loadFromImage(image: MetadataImage): Promise<void> {
    for (const topic of image.topicsByName.values()) await this.hostTopic(topic);
  }

  /** Acts on committed metadata: new partitions get logs, deleted topics lose theirs, configs apply. */
  async applyDelta(image: MetadataImage, delta: MetadataDelta): Promise<void> {
    for (const t of delta.deletedTopics) {
      for (const p of t.partitions.keys()) {
        const key = `${t.name}-${p}`;
        const existing = this.partitions.get(key);
        if (existing === undefined) continue;
        this.partitions.delete(key);
        existing.removed();
        await this.logManager.deleteLog({ topic: t.name, partition: p });
      }
      this.logLine(`deleted topic ${t.name} (${t.partitions.size} partition(s))`);
    }
    for (const t of [...delta.createdTopics, ...delta.changedTopics]) await this.hostTopic(t);
    for (const topic of delta.changedTopicConfigs) {
      if (image.topicsByName.has(topic)) this.logManager.updateConfig(topic);
    }
  }

  private async hostTopic(t: TopicImage): Promise<void> {
    for (const p of t.partitions.values()) {
      if (!p.replicas.includes(this.nodeId)) continue;
      const key = `${t.name}-${p.partition}`;
      const existing = this.partitions.get(key);
      if (existing !== undefined) {
        existing.topicId = t.topicId;
        existing.leaderEpoch = p.leaderEpoch;
        existing.leaderId = p.leader;
        continue;
      }
      const log = await this.logManager.getOrCreateLog({ topic: t.name, partition: p.partition });
      this.partitions.set(
        key,
        new Partition(t.name, p.partition, t.topicId, log, p.leader, p.leaderEpoch, this.tailArenas),
      );
    }
  }

  /**
   * Parks a fetch until `minBytes` more bytes are appended to any of `partitions`, or `maxWaitMs`
   * passes; null when it may not wait (nothing to wait on, no wait asked, or
   * MAX_DELAYED_FETCHES already waiting: it answers at once). The caller closes it once answered.
   */
  waitForData(
    partitions: readonly Partition[],
    minBytes: number,
    maxWaitMs: number,
    readCommitted = false,
  ): DelayedFetch | null {
    if (partitions.length === 0 || maxWaitMs <= 0 || this.delayedFetches >= MAX_DELAYED_FETCHES) return null;
    this.delayedFetches++;
    return new DelayedFetch(this, partitions, minBytes, maxWaitMs, readCommitted);
  }

  /** A delayed fetch was closed. */
  released(): void {
    this.delayedFetches--;
  }

  /** Closes logs as part of the broker's shutdown (the log manager flushes them). */
  clear(): void {
    for (const p of this.partitions.values()) p.removed();
    this.partitions.clear();
  }
}

/**
 * A fetch parked in the purgatory: `woken` resolves true once `minBytes` were appended to its
 * partitions or one of them was removed, false at `maxWaitMs`. One object and one timer per
 * waiting fetch; it stays registered until the caller closes it, once answered.
 */
export class DelayedFetch {
  readonly woken: Promise<boolean>;
  private wake!: (byData: boolean) => void;
  private readonly manager: ReplicaManager;
  private readonly partitions: readonly Partition[];
  private readonly timer: NodeJS.Timeout;
  private bytesLeft: number;
  private readonly readCommitted: boolean;
  private waiting = true;
  private closed = false;

  constructor(
    manager: ReplicaManager,
    partitions: readonly Partition[],
    minBytes: number,
    maxWaitMs: number,
    readCommitted: boolean,
  ) {
    this.manager = manager;
    this.partitions = partitions;
    this.bytesLeft = minBytes;
    this.readCommitted = readCommitted;
    this.woken = new Promise<boolean>((resolve) => (this.wake = resolve));
    this.timer = setTimeout(this.expire, maxWaitMs);
    for (const p of partitions) p.waiters.add(this);
  }

  private readonly expire = (): void => this.finish(false);

  private finish(byData: boolean): void {
    if (!this.waiting) return;
    this.waiting = false;
    clearTimeout(this.timer);
    this.wake(byData);
  }

  /**
   * `bytes` were appended to one of the partitions (written, the high watermark past them), of
   * which `committedBytes` a read_committed fetch may read (Infinity: a transaction ended).
   */
  appended(bytes: number, committedBytes = bytes): void {
    this.bytesLeft -= this.readCommitted ? committedBytes : bytes;
    if (this.bytesLeft <= 0) this.finish(true);
  }

  /** A partition of the fetch was removed (topic deleted, broker stopping): answer now. */
  removed(): void {
    this.finish(true);
  }

  /** Leaves the purgatory (once answered); idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.finish(false);
    for (const p of this.partitions) p.waiters.delete(this);
    this.manager.released();
  }
}

/** The Kafka error code of a failure from the storage layer. */
export function errorCodeOf(e: unknown): { errorCode: number; errorMessage: string } {
  if (e instanceof StorageError) return { errorCode: e.errorCode, errorMessage: e.message };
  return {
    errorCode: ErrorCode.UNKNOWN_SERVER_ERROR,
    errorMessage: e instanceof Error ? e.message : String(e),
  };
}
