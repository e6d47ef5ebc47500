/**
 * The group coordinator: one GroupShard per partition of `__consumer_offsets` this broker
 * leads, groups mapped to partitions by the hash of their id exactly as Kafka maps them (so a
 * Kafka user's tools find a group's records where they expect), and the periodic expiry of
 * offsets. Requests for a group whose shard is still loading answer
 * COORDINATOR_LOAD_IN_PROGRESS; for one this broker does not lead, NOT_COORDINATOR.
 */
import { ErrorCode } from '../protocol/error-codes.js';
import type { Clock } from '../runtime/clock.js';
import type { Random } from '../runtime/random.js';
import {
  GroupShard,
  type ConsumerGroupsFactory,
  type GroupShardConfig,
  type ShardLog,
} from './group-shard.js';
import type { TopicsView } from './topics.js';

export const OFFSETS_TOPIC = '__consumer_offsets';

export interface GroupCoordinatorConfig extends GroupShardConfig {
  /** offsets.retention.check.interval.ms */
  readonly offsetsRetentionCheckIntervalMs: number;
}

export interface GroupCoordinatorDeps {
  readonly clock: Clock;
  readonly random: Random;
  readonly config: GroupCoordinatorConfig;
  topics(): TopicsView;
  readonly consumerGroups: ConsumerGroupsFactory;
  logLine(message: string): void;
}

/** Java's String.hashCode (UTF-16 code units, int32 arithmetic). */
export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/**
 * The `__consumer_offsets` partition of a group, and the `__transaction_state` partition of a
 * transactional id: Kafka's `Utils.abs(key.hashCode()) % partitions` for both.
 */
export function partitionForGroup(groupId: string, partitions: number): number {
  const h = javaStringHash(groupId);
  return (h === -2147483648 ? 0 : Math.abs(h)) % partitions;
}

export type ShardLookup = { shard: GroupShard } | { errorCode: number };

export class GroupCoordinator {
  private readonly deps: GroupCoordinatorDeps;
  private readonly shards = new Map<number, GroupShard>();
  private readonly loads = new Set<Promise<void>>();
  private cancelRetention: (() => void) | null = null;
  private closed = false;

  constructor(deps: GroupCoordinatorDeps) {
    this.deps = deps;
  }

  /** The shard serving `groupId`, given the partition count of `__consumer_offsets` (0: it does not exist yet). */
  shardFor(groupId: string, offsetsPartitions: number): ShardLookup {
    if (offsetsPartitions <= 0) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE };
    const shard = this.shards.get(partitionForGroup(groupId, offsetsPartitions));
    if (shard === undefined) return { errorCode: ErrorCode.NOT_COORDINATOR };
    switch (shard.state) {
      case 'active':
        return { shard };
      case 'loading':
        return { errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS };
      case 'failed':
      case 'closed':
        return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE };
    }
  }

  /**
   * A transaction marker of `producerId` landed on partition `partition` of `__consumer_offsets`:
   * the transaction's pending offsets there commit or go.
   */
  onTxnMarker(partition: number, producerId: bigint, commit: boolean): void {
    const shard = this.shards.get(partition);
    if (shard?.state === 'active') shard.onTxnMarker(producerId, commit);
  }

  /** Partitions of the shards this coordinator holds, in any state. */
  shardPartitions(): number[] {
    return [...this.shards.keys()];
  }

  /** Every active shard (ListGroups asks them all). */
  activeShards(): GroupShard[] {
    return [...this.shards.values()].filter((s) => s.state === 'active');
  }

  /** True while some shard is loading (ListGroups answers COORDINATOR_LOAD_IN_PROGRESS then). */
  get loading(): boolean {
    return [...this.shards.values()].some((s) => s.state === 'loading');
  }

  /** This broker became leader of `partition`: replay it in the background; requests wait as LOAD_IN_PROGRESS. */
  loadPartition(partition: number, log: ShardLog): void {
    if (this.closed || this.shards.has(partition)) return;
    const shard = new GroupShard({
      partition,
      log,
      clock: this.deps.clock,
      random: this.deps.random,
      config: this.deps.config,
      topics: () => this.deps.topics(),
      consumerGroups: this.deps.consumerGroups,
      logLine: (m) => this.deps.logLine(m),
    });
    this.shards.set(partition, shard);
    const load = shard.load().catch((e: unknown) => {
      shard.state = 'failed';
      this.deps.logLine(
        `loading ${OFFSETS_TOPIC}-${partition} failed: ${e instanceof Error ? e.message : String(e)}`,
      );
    });
    this.loads.add(load);
    void load.finally(() => this.loads.delete(load));
  }

  /** This broker no longer leads `partition` (or the topic is gone): its groups move elsewhere. */
  unloadPartition(partition: number): void {
    const shard = this.shards.get(partition);
    if (shard === undefined) return;
    shard.close();
    this.shards.delete(partition);
  }

  /** Topics changed in the metadata: consumer groups re-assign and offsets of deleted topics are removed. */
  onTopicsChanged(deletedTopics: readonly string[]): void {
    for (const shard of this.shards.values()) shard.onTopicsChanged(deletedTopics);
  }

  /** Starts the periodic offset expiry (offsets.retention.check.interval.ms). */
  start(): void {
    const interval = this.deps.config.offsetsRetentionCheckIntervalMs;
    const tick = (): void => {
      for (const shard of this.shards.values()) shard.expireOffsets();
      this.cancelRetention = this.deps.clock.schedule(interval, tick);
    };
    this.cancelRetention = this.deps.clock.schedule(interval, tick);
  }

  /** Waits for loads in progress, stops timers and answers waiting requests with NOT_COORDINATOR. */
  async close(): Promise<void> {
    this.closed = true;
    this.cancelRetention?.();
    this.cancelRetention = null;
    await Promise.all([...this.loads]);
    for (const shard of this.shards.values()) shard.close();
    this.shards.clear();
  }
}
