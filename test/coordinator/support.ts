/** Test doubles for coordinator unit tests: an in-memory `__consumer_offsets` partition and a fixed topic view. */
import {
  GroupShard,
  type ConsumerGroupsFactory,
  type GroupShardConfig,
  type ShardLog,
} from '../../src/coordinator/group-shard.js';
import {
  ConsumerGroups,
  DEFAULT_CONSUMER_GROUPS_CONFIG,
} from '../../src/coordinator/consumer/consumer-groups.js';
import type { TopicInfo, TopicsView } from '../../src/coordinator/topics.js';
import { setBaseOffset } from '../../src/protocol/records/batch-view.js';
import { ManualClock } from '../../src/runtime/clock.js';
import { seededRng } from '../../src/runtime/faulty-fs.js';
import type { Random } from '../../src/runtime/random.js';
import { StorageError } from '../../src/storage/errors.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';

/** A partition log in memory: batches get offsets on append; `failNext` makes appends fail like a full disk. */
export class MemoryShardLog implements ShardLog {
  readonly batches: { baseOffset: number; bytes: Buffer }[] = [];
  logStartOffset = 0;
  logEndOffset = 0;
  failNext = 0;

  append(batch: Buffer): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      return Promise.reject(new StorageError(ErrorCode.KAFKA_STORAGE_ERROR, 'no space left on device'));
    }
    const copy = Buffer.from(batch);
    setBaseOffset(copy, this.logEndOffset);
    const lastOffsetDelta = copy.readInt32BE(23);
    this.batches.push({ baseOffset: this.logEndOffset, bytes: copy });
    this.logEndOffset += lastOffsetDelta + 1;
    return Promise.resolve();
  }

  read(offset: number, _maxBytes: number): Promise<Buffer> {
    return Promise.resolve(
      Buffer.concat(this.batches.filter((b) => b.baseOffset >= offset).map((b) => b.bytes)),
    );
  }
}

export function topicsView(topics: { name: string; topicId: string; numPartitions: number }[]): TopicsView {
  const list = (): TopicInfo[] => topics;
  return {
    byName: (name) => list().find((t) => t.name === name),
    byId: (id) => list().find((t) => t.topicId === id),
    all: () => list(),
  };
}

export function seededRandom(seed: number): Random {
  const rng = seededRng(seed);
  return { bytes: (n) => Buffer.from(Array.from({ length: n }, () => Math.floor(rng.next() * 256))) };
}

export const SHARD_CONFIG: GroupShardConfig = {
  minSessionTimeoutMs: 1000,
  maxSessionTimeoutMs: 60_000,
  initialRebalanceDelayMs: 0,
  maxSize: 1000,
  offsetMetadataMaxBytes: 4096,
  offsetsRetentionMs: 7 * 24 * 3_600_000,
};

export interface ShardHarness {
  shard: GroupShard;
  clock: ManualClock;
  log: MemoryShardLog;
  lines: string[];
}

export async function newShard(o: {
  clock?: ManualClock;
  log?: MemoryShardLog;
  config?: Partial<GroupShardConfig>;
  topics?: TopicsView;
  consumerGroups?: ConsumerGroupsFactory;
}): Promise<ShardHarness> {
  const clock = o.clock ?? new ManualClock();
  const log = o.log ?? new MemoryShardLog();
  const lines: string[] = [];
  const shard = new GroupShard({
    partition: 0,
    log,
    clock,
    random: seededRandom(7),
    config: { ...SHARD_CONFIG, ...o.config },
    topics: () =>
      o.topics ?? topicsView([{ name: 't', topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', numPartitions: 6 }]),
    consumerGroups:
      o.consumerGroups ??
      ((host) =>
        new ConsumerGroups({ ...host, random: seededRandom(11) }, { ...DEFAULT_CONSUMER_GROUPS_CONFIG })),
    logLine: (m) => lines.push(m),
  });
  await shard.load();
  return { shard, clock, log, lines };
}

/** Lets promise callbacks (durable-write continuations) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}
