/**
 * The replica manager: the partitions this broker hosts, each a log with its leader epoch and
 * high watermark, and the fetch purgatory where long-polling fetches wait.
 *
 * With one replica (the single-node case) the in-sync replica set is the leader alone, so the
 * high watermark is the end of what has been written: an append moves it when its write
 * completes, and that move wakes the fetches waiting on the partition — no polling.
 */
import { ErrorCode } from '../protocol/error-codes.js';
import type { MetadataDelta, MetadataImage, TopicImage } from '../metadata/image.js';
import { StorageError } from '../storage/errors.js';
import type { LogManager } from '../storage/log-manager.js';
import type { AppendInfo, PartitionLog } from '../storage/log.js';
import { recompressForTopic } from './recompress.js';

/** Fetches waiting at once, across all connections (each holds a timer and its partitions). */
export const MAX_DELAYED_FETCHES = 10_000;

export class Partition {
  readonly topic: string;
  readonly partition: number;
  topicId: string;
  readonly log: PartitionLog;
  leaderEpoch: number;
  leaderId: number;
  highWatermark: number;
  /** Fetches waiting for data on this partition; told how many bytes arrived. */
  readonly waiters = new Set<(appendedBytes: number) => void>();

  constructor(
    topic: string,
    partition: number,
    topicId: string,
    log: PartitionLog,
    leaderId: number,
    leaderEpoch: number,
  ) {
    this.topic = topic;
    this.partition = partition;
    this.topicId = topicId;
    this.log = log;
    this.leaderId = leaderId;
    this.leaderEpoch = leaderEpoch;
    this.highWatermark = log.logEndOffset;
  }

  /**
   * Appends a producer's batches, recompressed first when the topic's compression.type asks
   * (see recompress.ts); resolves once written, with the high watermark moved past them.
   */
  async appendAsLeader(records: Buffer): Promise<AppendInfo> {
    const batches = recompressForTopic(records, this.log.config, this.log.name);
    const info = await this.log.appendAsLeader(batches, this.leaderEpoch);
    if (info.lastOffset + 1 > this.highWatermark) this.highWatermark = info.lastOffset + 1;
    for (const wake of this.waiters) wake(batches.length);
    return info;
  }

  /** Offsets a fetch may see: up to the high watermark (read_uncommitted) — the last stable offset comes with transactions. */
  get lastStableOffset(): number {
    return this.highWatermark;
  }
}

export class ReplicaManager {
  private readonly partitions = new Map<string, Partition>();
  private readonly logManager: LogManager;
  private readonly nodeId: number;
  private readonly logLine: (m: string) => void;
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
        for (const wake of existing.waiters) wake(0);
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
      this.partitions.set(key, new Partition(t.name, p.partition, t.topicId, log, p.leader, p.leaderEpoch));
    }
  }

  /**
   * Waits until `minBytes` more bytes were appended to any of `partitions`, or `maxWaitMs`
   * passed. Resolves true when woken by data. Bounded by MAX_DELAYED_FETCHES (past it the
   * fetch answers at once).
   */
  waitForData(partitions: readonly Partition[], minBytes: number, maxWaitMs: number): Promise<boolean> {
    if (partitions.length === 0 || maxWaitMs <= 0 || this.delayedFetches >= MAX_DELAYED_FETCHES) {
      return Promise.resolve(false);
    }
    this.delayedFetches++;
    return new Promise<boolean>((resolve) => {
      let seen = 0;
      let done = false;
      const finish = (byData: boolean): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        for (const p of partitions) p.waiters.delete(wake);
        this.delayedFetches--;
        resolve(byData);
      };
      const wake = (appendedBytes: number): void => {
        seen += appendedBytes;
        if (seen >= minBytes || appendedBytes === 0) finish(true);
      };
      const timer = setTimeout(() => finish(false), maxWaitMs);
      for (const p of partitions) p.waiters.add(wake);
    });
  }

  /** Closes logs as part of the broker's shutdown (the log manager flushes them). */
  clear(): void {
    for (const p of this.partitions.values()) for (const wake of p.waiters) wake(0);
    this.partitions.clear();
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
