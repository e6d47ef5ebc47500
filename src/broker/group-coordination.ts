/**
 * Where the broker meets the group coordinator: `__consumer_offsets` created on first use
 * (FindCoordinator, as Kafka does), its partitions this broker leads handed to the coordinator
 * as shards, topic metadata shown to the coordinator, and the request-side lookup of a group's
 * shard with the error a client expects.
 */
import type { ShardLookup } from '../coordinator/group-coordinator.js';
import { OFFSETS_TOPIC, partitionForGroup } from '../coordinator/group-coordinator.js';
import type { ShardLog } from '../coordinator/group-shard.js';
import { TRANSACTION_STATE_TOPIC } from '../coordinator/transaction/txn-coordinator.js';
import type { TopicInfo, TopicsView } from '../coordinator/topics.js';
import type { MetadataImage } from '../metadata/image.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { Partition } from './replica-manager.js';
import type { BrokerServices } from './services.js';

/** The coordinator's view of the image's topics (internal topics excluded: groups never consume them by subscription). */
export function topicsViewOf(image: () => MetadataImage): TopicsView {
  const info = (t: {
    name: string;
    topicId: string;
    partitions: ReadonlyMap<number, unknown>;
  }): TopicInfo => ({
    name: t.name,
    topicId: t.topicId,
    numPartitions: t.partitions.size,
  });
  return {
    byName(name) {
      const t = image().topicsByName.get(name);
      return t === undefined ? undefined : info(t);
    },
    byId(topicId) {
      const t = image().topicsById.get(topicId);
      return t === undefined ? undefined : info(t);
    },
    *all() {
      for (const t of image().topicsByName.values()) yield info(t);
    },
  };
}

/** A hosted partition of `__consumer_offsets` as a coordinator shard's log. */
export function shardLogOf(p: Partition): ShardLog {
  return {
    // Coordinator writes: transactional offset commits carry no sequence numbers (Kafka's COORDINATOR origin).
    append: async (batch) => {
      await p.appendAsLeader(batch, 'coordinator');
    },
    read: async (offset, maxBytes) => (await p.log.read(offset, maxBytes)).records,
    get logStartOffset() {
      return p.log.logStartOffset;
    },
    get logEndOffset() {
      return p.log.logEndOffset;
    },
  };
}

/** Partitions of `__consumer_offsets` in `image` (0 when the topic does not exist yet). */
export function offsetsTopicPartitions(image: MetadataImage): number {
  return image.topicsByName.get(OFFSETS_TOPIC)?.partitions.size ?? 0;
}

/**
 * Hands the coordinator every `__consumer_offsets` partition this broker leads and takes back
 * the ones it no longer does (after a metadata change or at start).
 */
export function syncCoordinatorShards(b: BrokerServices, image: MetadataImage): void {
  syncShards(b, image, OFFSETS_TOPIC, {
    load: (partition, _leaderEpoch, log) => b.groupCoordinator.loadPartition(partition, log),
    loaded: () => b.groupCoordinator.shardPartitions(),
    unload: (partition) => b.groupCoordinator.unloadPartition(partition),
  });
}

/**
 * Hands a coordinator every partition of its internal `topic` this broker leads (hosted here
 * already) and takes back the ones it no longer does: the group and transaction coordinators.
 */
export function syncShards(
  b: BrokerServices,
  image: MetadataImage,
  topic: string,
  coordinator: {
    load(partition: number, leaderEpoch: number, log: ShardLog): void;
    loaded(): Iterable<number>;
    unload(partition: number): void;
  },
): void {
  const led = new Set<number>();
  for (const p of image.topicsByName.get(topic)?.partitions.values() ?? []) {
    if (p.leader !== b.nodeId) continue;
    const hosted = b.replicaManager.getPartition(topic, p.partition);
    if (hosted === undefined) continue;
    led.add(p.partition);
    coordinator.load(p.partition, p.leaderEpoch, shardLogOf(hosted));
  }
  for (const partition of [...coordinator.loaded()]) {
    if (!led.has(partition)) coordinator.unload(partition);
  }
}

interface InternalTopic {
  name: string;
  partitions: number;
  replicationFactor: number;
  configs: { name: string; value: string }[];
}

/**
 * Creates an internal topic if it does not exist, with its replication factor capped at the
 * brokers alive, and returns its partition count or the error FindCoordinator answers.
 */
async function ensureInternalTopic(
  b: BrokerServices,
  t: InternalTopic,
): Promise<{ partitions: number } | { errorCode: number }> {
  const count = (): number => b.image().topicsByName.get(t.name)?.partitions.size ?? 0;
  if (count() > 0) return { partitions: count() };
  const [created] = await b.controller.createTopics(
    [
      {
        name: t.name,
        numPartitions: t.partitions,
        replicationFactor: Math.min(t.replicationFactor, Math.max(1, b.image().brokers.size)),
        assignments: [],
        configs: t.configs,
      },
    ],
    false,
  );
  const partitions = count();
  if (partitions > 0) {
    if (created?.errorCode === ErrorCode.NONE) b.log(`created ${t.name} with ${partitions} partition(s)`);
    return { partitions };
  }
  b.log(`could not create ${t.name}: ${created?.errorMessage ?? 'unknown error'}`);
  return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE };
}

/**
 * `__consumer_offsets` as Kafka creates it on first use: compacted,
 * offsets.topic.num.partitions partitions, offsets.topic.replication.factor replicas.
 */
export function ensureOffsetsTopic(
  b: BrokerServices,
): Promise<{ partitions: number } | { errorCode: number }> {
  const c = b.config;
  return ensureInternalTopic(b, {
    name: OFFSETS_TOPIC,
    partitions: c.offsetsTopicNumPartitions,
    replicationFactor: c.offsetsTopicReplicationFactor,
    configs: [
      { name: 'cleanup.policy', value: 'compact' },
      { name: 'compression.type', value: 'producer' },
      { name: 'segment.bytes', value: String(c.offsetsTopicSegmentBytes) },
    ],
  });
}

/**
 * `__transaction_state` as Kafka creates it on the first FindCoordinator for a transactional
 * id: compacted, transaction.state.log.num.partitions partitions and its replication settings.
 */
export function ensureTransactionStateTopic(
  b: BrokerServices,
): Promise<{ partitions: number } | { errorCode: number }> {
  const c = b.config;
  return ensureInternalTopic(b, {
    name: TRANSACTION_STATE_TOPIC,
    partitions: c.transactionStateLogNumPartitions,
    replicationFactor: c.transactionStateLogReplicationFactor,
    configs: [
      { name: 'cleanup.policy', value: 'compact' },
      { name: 'compression.type', value: 'uncompressed' },
      { name: 'min.insync.replicas', value: String(c.transactionStateLogMinIsr) },
      { name: 'unclean.leader.election.enable', value: 'false' },
    ],
  });
}

/** The shard of `groupId` on this broker, or the error to answer (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS …). */
export function groupShard(b: BrokerServices, groupId: string): ShardLookup {
  const image = b.image();
  const partitions = offsetsTopicPartitions(image);
  const lookup = b.groupCoordinator.shardFor(groupId, partitions);
  if ('errorCode' in lookup && lookup.errorCode === ErrorCode.NOT_COORDINATOR) {
    // The image already names this broker leader, but the shard is still being set up (the
    // partition's log is being created): the client should wait, not look elsewhere.
    const p = image.topicsByName.get(OFFSETS_TOPIC)?.partitions.get(partitionForGroup(groupId, partitions));
    if (p?.leader === b.nodeId) return { errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS };
  }
  return lookup;
}

/**
 * OffsetCommit's and TxnOffsetCommit's answer (the same shape): each partition asked gets the
 * group's error when it has no shard here, else its own code from the commit.
 */
export function commitAnswer(
  topics: readonly { name: string; partitions: readonly { partitionIndex: number }[] }[],
  lookup: ShardLookup,
  codes: Map<string, Map<number, number>> | null,
): {
  name: string;
  partitions: { partitionIndex: number; errorCode: number; unknownTaggedFields: undefined }[];
  unknownTaggedFields: undefined;
}[] {
  return topics.map((t) => ({
    name: t.name,
    partitions: t.partitions.map((p) => ({
      partitionIndex: p.partitionIndex,
      errorCode: 'errorCode' in lookup ? lookup.errorCode : (codes?.get(t.name)?.get(p.partitionIndex) ?? 0),
      unknownTaggedFields: undefined,
    })),
    unknownTaggedFields: undefined,
  }));
}

/** Who a group request comes from, as Kafka records it: the client id and "/<address>". */
export function clientOf(ctx: {
  header: { clientId: string | null };
  connection: { remoteAddress: string };
}): {
  clientId: string;
  clientHost: string;
} {
  const address = ctx.connection.remoteAddress;
  const colon = address.lastIndexOf(':');
  return {
    clientId: ctx.header.clientId ?? '',
    clientHost: `/${colon < 0 ? address : address.slice(0, colon)}`,
  };
}
