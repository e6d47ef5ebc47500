/**
 * The controller: validates changes to the cluster (topics, partitions, configs), turns them into
 * metadata records, appends them to the metadata log, and applies them to the MetadataImage once
 * committed. One operation at a time, in arrival order, so each validates against the state the
 * previous ones left. A single node is its own controller (process.roles=broker,controller).
 */
import { ErrorCode } from '../protocol/error-codes.js';
import type { Random } from '../runtime/random.js';
import { isConfigError, parseLogConfig, type LogConfig } from '../storage/log-config.js';
import { ConfigResourceType, MetadataImage, type MetadataDelta, type TopicImage } from './image.js';
import type { MetadataLog } from './metadata-log.js';
import type { MetadataRecord } from './records.js';

/** Kafka's limit on topic names (room for a partition suffix in a 255-byte file name). */
const MAX_TOPIC_NAME_LENGTH = 249;
const LEGAL_TOPIC_NAME = /^[a-zA-Z0-9._-]+$/;
/** Producer ids handed to a broker at a time (Kafka's ProducerIdsBlock size). */
export const PRODUCER_ID_BLOCK_SIZE = 1000;
/** The metadata.version this node writes at bootstrap (Kafka 3.9's IBP_3_9_IV0). */
export const METADATA_VERSION_LEVEL = 21;

export interface ControllerDeps {
  log: MetadataLog;
  random: Random;
  nodeId: number;
  /** Broker endpoints registered at bootstrap (RegisterBrokerRecord). */
  endpoints: { listener: string; host: string; port: number }[];
  defaultNumPartitions: number;
  defaultReplicationFactor: number;
  /** Topic config defaults from the broker's settings; topic overrides are validated on top. */
  topicDefaults: LogConfig;
  /** Called with each committed change, before the operation that made it resolves. */
  onCommit: (image: MetadataImage, delta: MetadataDelta) => Promise<void>;
}

export interface ApiError {
  errorCode: number;
  errorMessage: string | null;
}

const OK: ApiError = { errorCode: ErrorCode.NONE, errorMessage: null };

export interface NewTopic {
  name: string;
  /** -1: the broker default (num.partitions). */
  numPartitions: number;
  /** -1: the broker default (default.replication.factor). */
  replicationFactor: number;
  /** Manual replica assignment; then numPartitions and replicationFactor must be -1. */
  assignments: { partitionIndex: number; brokerIds: number[] }[];
  configs: { name: string; value: string | null }[];
}

export interface TopicCreation extends ApiError {
  name: string;
  topicId: string;
  numPartitions: number;
  replicationFactor: number;
  /** The topic's effective config (for the CreateTopics v5+ response), when created or validated. */
  config: LogConfig | null;
}

/** Kafka's rules for topic names; the error message says which one is broken, or null when legal. */
export function topicNameProblem(name: string): string | null {
  if (name.length === 0) return "Topic name is illegal, it can't be empty";
  if (name === '.' || name === '..') return 'Topic name cannot be "." or ".."';
  if (name.length > MAX_TOPIC_NAME_LENGTH) {
    return `Topic name is illegal, it can't be longer than ${MAX_TOPIC_NAME_LENGTH} characters, topic name: ${name}`;
  }
  if (!LEGAL_TOPIC_NAME.test(name)) {
    return `Topic name "${name}" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`;
  }
  return null;
}

/** Kafka treats '.' and '_' as the same in topic names when checking for collisions (metric names). */
function collisionKey(name: string): string {
  return name.replace(/\./g, '_');
}

export class Controller {
  private readonly d: ControllerDeps;
  private current: MetadataImage;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(d: ControllerDeps, image: MetadataImage) {
    this.d = d;
    this.current = image;
  }

  /** Replays the metadata log into an image; a new cluster is bootstrapped with its feature level and this broker. */
  static async start(d: ControllerDeps): Promise<Controller> {
    let image = MetadataImage.empty();
    await d.log.replay((records, lastOffset) => {
      image = image.apply(records, lastOffset).image;
    });
    const c = new Controller(d, image);
    const bootstrap: MetadataRecord[] = [];
    if (!image.features.has('metadata.version')) {
      bootstrap.push({
        type: 'featureLevel',
        value: { name: 'metadata.version', featureLevel: METADATA_VERSION_LEVEL },
      });
    }
    const self = image.brokers.get(d.nodeId);
    const sameEndpoints =
      self !== undefined &&
      self.endpoints.length === d.endpoints.length &&
      self.endpoints.every((e, i) => e.host === d.endpoints[i]!.host && e.port === d.endpoints[i]!.port);
    if (!sameEndpoints) {
      bootstrap.push({
        type: 'registerBroker',
        value: {
          brokerId: d.nodeId,
          isMigratingZkBroker: false,
          incarnationId: d.random.bytes(16).toString('base64url'),
          brokerEpoch: BigInt(Math.max(0, image.offset + 1)),
          endPoints: d.endpoints.map((e) => ({
            name: e.listener,
            host: e.host,
            port: e.port,
            securityProtocol: 0,
            unknownTaggedFields: undefined,
          })),
          features: [],
          rack: null,
          fenced: false,
          inControlledShutdown: false,
          logDirs: [],
          unknownTaggedFields: undefined,
        },
      });
    }
    if (bootstrap.length > 0) await c.commit(bootstrap);
    return c;
  }

  get image(): MetadataImage {
    return this.current;
  }

  /** Runs operations one at a time, in call order. */
  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async commit(records: MetadataRecord[]): Promise<void> {
    if (records.length === 0) return;
    const lastOffset = await this.d.log.append(records);
    const { image, delta } = this.current.apply(records, lastOffset);
    this.current = image;
    await this.d.onCommit(image, delta);
  }

  private newTopicId(): string {
    // A zero id means "no id" in Kafka; draw again in the (astronomically unlikely) event.
    for (;;) {
      const id = this.d.random.bytes(16).toString('base64url');
      if (id !== 'AAAAAAAAAAAAAAAAAAAAAA' && !this.current.topicsById.has(id)) return id;
    }
  }

  private liveBrokerIds(): number[] {
    return [...this.current.brokers.values()].filter((b) => !b.fenced).map((b) => b.brokerId);
  }

  // ------------------------------------------------------------------ producer ids

  /** The epoch of a registered broker's registration (-1 if unknown). */
  brokerEpoch(brokerId: number): bigint {
    return this.current.brokers.get(brokerId)?.epoch ?? -1n;
  }

  /**
   * Hands `brokerId` the next block of producer ids, durably (a ProducerIdsRecord), as Kafka's
   * controller answers AllocateProducerIds: ids survive restarts and are never handed out twice.
   */
  allocateProducerIds(brokerId: number, brokerEpoch: bigint): Promise<{ firstId: bigint; count: number }> {
    return this.serial(async () => {
      const firstId = this.current.nextProducerId;
      const nextProducerId = firstId + BigInt(PRODUCER_ID_BLOCK_SIZE);
      await this.commit([{ type: 'producerIds', value: { brokerId, brokerEpoch, nextProducerId } }]);
      return { firstId, count: PRODUCER_ID_BLOCK_SIZE };
    });
  }

  // ------------------------------------------------------------------ topics

  createTopics(topics: NewTopic[], validateOnly: boolean): Promise<TopicCreation[]> {
    return this.serial(async () => {
      const records: MetadataRecord[] = [];
      const results: TopicCreation[] = [];
      const taken = new Map<string, string>();
      for (const t of this.current.topicsByName.keys()) taken.set(collisionKey(t), t);
      for (const t of topics) {
        const r = this.planTopic(t, taken);
        results.push(r.result);
        if (r.result.errorCode !== ErrorCode.NONE) continue;
        taken.set(collisionKey(t.name), t.name);
        if (!validateOnly) records.push(...r.records);
      }
      await this.commit(records);
      return results;
    });
  }

  private planTopic(
    t: NewTopic,
    taken: Map<string, string>,
  ): { result: TopicCreation; records: MetadataRecord[] } {
    const fail = (
      errorCode: number,
      errorMessage: string,
    ): { result: TopicCreation; records: MetadataRecord[] } => ({
      result: {
        name: t.name,
        topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
        numPartitions: -1,
        replicationFactor: -1,
        config: null,
        errorCode,
        errorMessage,
      },
      records: [],
    });
    const nameProblem = topicNameProblem(t.name);
    if (nameProblem !== null) return fail(ErrorCode.INVALID_TOPIC_EXCEPTION, nameProblem);
    if (this.current.topicsByName.has(t.name))
      return fail(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${t.name}' already exists.`);
    const collides = taken.get(collisionKey(t.name));
    if (collides !== undefined) {
      return fail(
        ErrorCode.INVALID_TOPIC_EXCEPTION,
        `Topic '${t.name}' collides with existing topic: ${collides}`,
      );
    }
    const live = this.liveBrokerIds();
    let assignments: number[][];
    if (t.assignments.length > 0) {
      if (t.numPartitions !== -1 || t.replicationFactor !== -1) {
        return fail(
          ErrorCode.INVALID_REQUEST,
          'Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.',
        );
      }
      const sorted = [...t.assignments].sort((a, b) => a.partitionIndex - b.partitionIndex);
      for (let i = 0; i < sorted.length; i++) {
        const a = sorted[i]!;
        if (a.partitionIndex !== i)
          return fail(
            ErrorCode.INVALID_REPLICA_ASSIGNMENT,
            'Partitions should be a consecutive 0-based integer sequence',
          );
        if (a.brokerIds.length === 0)
          return fail(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Empty replica list for partition ${i}`);
        if (new Set(a.brokerIds).size !== a.brokerIds.length) {
          return fail(
            ErrorCode.INVALID_REPLICA_ASSIGNMENT,
            `Duplicate replica assignment for partition ${i}`,
          );
        }
        const unknown = a.brokerIds.find((b) => !live.includes(b));
        if (unknown !== undefined) {
          return fail(
            ErrorCode.INVALID_REPLICA_ASSIGNMENT,
            `The manual partition assignment includes broker ${unknown}, but no such broker is registered.`,
          );
        }
      }
      assignments = sorted.map((a) => a.brokerIds);
    } else {
      const numPartitions = t.numPartitions === -1 ? this.d.defaultNumPartitions : t.numPartitions;
      const replicationFactor =
        t.replicationFactor === -1 ? this.d.defaultReplicationFactor : t.replicationFactor;
      if (numPartitions <= 0)
        return fail(
          ErrorCode.INVALID_PARTITIONS,
          'Number of partitions was set to an invalid non-positive value.',
        );
      if (replicationFactor <= 0) {
        return fail(
          ErrorCode.INVALID_REPLICATION_FACTOR,
          'Replication factor must be larger than 0, or -1 to use the default value.',
        );
      }
      if (replicationFactor > live.length) {
        return fail(
          ErrorCode.INVALID_REPLICATION_FACTOR,
          `Unable to replicate the partition ${replicationFactor} time(s): The target replication factor of ${replicationFactor} cannot be reached because only ${live.length} broker(s) are registered.`,
        );
      }
      assignments = this.assignReplicas(numPartitions, replicationFactor, live, 0);
    }
    const overrides: Record<string, string> = {};
    for (const c of t.configs) if (c.value !== null) overrides[c.name] = c.value;
    const config = parseLogConfig(overrides, this.d.topicDefaults);
    if (isConfigError(config)) return fail(ErrorCode.INVALID_CONFIG, config.message);
    const topicId = this.newTopicId();
    const records: MetadataRecord[] = [
      { type: 'topic', value: { name: t.name, topicId, unknownTaggedFields: undefined } },
    ];
    assignments.forEach((replicas, partitionId) =>
      records.push(partitionRecord(topicId, partitionId, replicas)),
    );
    for (const [name, value] of Object.entries(overrides)) {
      records.push({
        type: 'config',
        value: {
          resourceType: ConfigResourceType.TOPIC,
          resourceName: t.name,
          name,
          value,
          unknownTaggedFields: undefined,
        },
      });
    }
    return {
      result: {
        ...OK,
        name: t.name,
        topicId,
        numPartitions: assignments.length,
        replicationFactor: assignments[0]?.length ?? 0,
        config,
      },
      records,
    };
  }

  /** Round-robin placement starting at `firstPartition`, leaders spread across brokers. */
  private assignReplicas(
    count: number,
    replicationFactor: number,
    brokers: number[],
    firstPartition: number,
  ): number[][] {
    const sorted = [...brokers].sort((a, b) => a - b);
    const out: number[][] = [];
    for (let p = firstPartition; p < firstPartition + count; p++) {
      const replicas: number[] = [];
      for (let r = 0; r < replicationFactor; r++) replicas.push(sorted[(p + r) % sorted.length]!);
      out.push(replicas);
    }
    return out;
  }

  /** Deletes topics; each entry names a topic by name or by id. */
  deleteTopics(
    targets: { name: string | null; topicId: string | null }[],
  ): Promise<(ApiError & { name: string | null; topicId: string })[]> {
    return this.serial(async () => {
      const records: MetadataRecord[] = [];
      const doomed = new Set<string>();
      const results = targets.map((t) => {
        const topic: TopicImage | undefined =
          t.topicId !== null && t.topicId !== 'AAAAAAAAAAAAAAAAAAAAAA'
            ? this.current.topicsById.get(t.topicId)
            : t.name !== null
              ? this.current.topicsByName.get(t.name)
              : undefined;
        if (topic === undefined) {
          const byId = t.topicId !== null && t.topicId !== 'AAAAAAAAAAAAAAAAAAAAAA';
          return {
            name: t.name,
            topicId: t.topicId ?? 'AAAAAAAAAAAAAAAAAAAAAA',
            errorCode: byId ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            errorMessage: byId
              ? 'This server does not host this topic ID.'
              : 'This server does not host this topic-partition.',
          };
        }
        if (!doomed.has(topic.topicId)) {
          doomed.add(topic.topicId);
          records.push({
            type: 'removeTopic',
            value: { topicId: topic.topicId, unknownTaggedFields: undefined },
          });
        }
        return { name: topic.name, topicId: topic.topicId, ...OK };
      });
      await this.commit(records);
      return results;
    });
  }

  /** Grows topics to `count` partitions. */
  createPartitions(
    requests: { name: string; count: number; assignments: number[][] | null }[],
    validateOnly: boolean,
  ): Promise<(ApiError & { name: string })[]> {
    return this.serial(async () => {
      const records: MetadataRecord[] = [];
      const results = requests.map((req) => {
        const fail = (errorCode: number, errorMessage: string): ApiError & { name: string } => ({
          name: req.name,
          errorCode,
          errorMessage,
        });
        const topic = this.current.topicsByName.get(req.name);
        if (topic === undefined)
          return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The topic '${req.name}' does not exist.`);
        const current = topic.partitions.size;
        if (req.count < current) {
          return fail(
            ErrorCode.INVALID_PARTITIONS,
            `The topic ${req.name} currently has ${current} partition(s); ${req.count} would not be an increase.`,
          );
        }
        if (req.count === current)
          return fail(ErrorCode.INVALID_PARTITIONS, `Topic already has ${current} partitions.`);
        const live = this.liveBrokerIds();
        const rf = topic.partitions.get(0)?.replicas.length ?? 1;
        let assignments: number[][];
        if (req.assignments !== null) {
          if (req.assignments.length !== req.count - current) {
            return fail(
              ErrorCode.INVALID_REPLICA_ASSIGNMENT,
              `Attempted to add ${req.count - current} additional partition(s), but only ${req.assignments.length} assignment(s) were specified.`,
            );
          }
          const unknown = req.assignments.flat().find((b) => !live.includes(b));
          if (unknown !== undefined)
            return fail(
              ErrorCode.INVALID_REPLICA_ASSIGNMENT,
              `The manual partition assignment includes broker ${unknown}, but no such broker is registered.`,
            );
          // Kafka's validateManualPartitionAssignment: a leader for each, one replica per broker, the topic's RF.
          for (const replicas of req.assignments) {
            if (replicas.length === 0)
              return fail(
                ErrorCode.INVALID_REPLICA_ASSIGNMENT,
                'The manual partition assignment includes an empty replica list.',
              );
            const twice = replicas.find((b, i) => replicas.indexOf(b) !== i);
            if (twice !== undefined)
              return fail(
                ErrorCode.INVALID_REPLICA_ASSIGNMENT,
                `The manual partition assignment includes the broker ${twice} more than once.`,
              );
            if (replicas.length !== rf)
              return fail(
                ErrorCode.INVALID_REPLICA_ASSIGNMENT,
                `The manual partition assignment includes a partition with ${replicas.length} replica(s), but this is not consistent with previous partitions, which have ${rf} replica(s).`,
              );
          }
          assignments = req.assignments;
        } else {
          if (rf > live.length)
            return fail(
              ErrorCode.INVALID_REPLICATION_FACTOR,
              `Unable to replicate the partition ${rf} time(s): only ${live.length} broker(s) are registered.`,
            );
          assignments = this.assignReplicas(req.count - current, rf, live, current);
        }
        if (!validateOnly)
          assignments.forEach((replicas, i) =>
            records.push(partitionRecord(topic.topicId, current + i, replicas)),
          );
        return { name: req.name, ...OK };
      });
      await this.commit(records);
      return results;
    });
  }

  // ------------------------------------------------------------------ configs

  /**
   * Replaces a topic's config overrides with `overrides` (validated on the broker defaults).
   * Only changed keys become records.
   */
  setTopicConfig(
    topic: string,
    overrides: ReadonlyMap<string, string>,
    validateOnly: boolean,
  ): Promise<ApiError> {
    return this.serial(async () => {
      if (!this.current.topicsByName.has(topic)) {
        return {
          errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
          errorMessage: `Topic ${topic} does not exist.`,
        };
      }
      const parsed = parseLogConfig(Object.fromEntries(overrides), this.d.topicDefaults);
      if (isConfigError(parsed)) return { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: parsed.message };
      const before = this.current.topicConfig(topic);
      const records: MetadataRecord[] = [];
      const config = (name: string, value: string | null): MetadataRecord => ({
        type: 'config',
        value: {
          resourceType: ConfigResourceType.TOPIC,
          resourceName: topic,
          name,
          value,
          unknownTaggedFields: undefined,
        },
      });
      for (const [name, value] of overrides)
        if (before.get(name) !== value) records.push(config(name, value));
      for (const name of before.keys()) if (!overrides.has(name)) records.push(config(name, null));
      if (!validateOnly) await this.commit(records);
      return OK;
    });
  }

  /** The effective config of a topic (broker defaults with its overrides). */
  topicConfig(topic: string): LogConfig {
    const parsed = parseLogConfig(Object.fromEntries(this.current.topicConfig(topic)), this.d.topicDefaults);
    return isConfigError(parsed) ? this.d.topicDefaults : parsed;
  }
}

function partitionRecord(topicId: string, partitionId: number, replicas: number[]): MetadataRecord {
  return {
    type: 'partition',
    value: {
      partitionId,
      topicId,
      replicas,
      isr: replicas,
      removingReplicas: [],
      addingReplicas: [],
      leader: replicas[0]!,
      leaderRecoveryState: 0,
      leaderEpoch: 0,
      partitionEpoch: 0,
      directories: [],
      eligibleLeaderReplicas: null,
      lastKnownElr: null,
      unknownTaggedFields: undefined,
    },
  };
}
