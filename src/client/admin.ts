/**
 * Admin: topics, configs, groups, offsets and records, routed as Kafka's AdminClient routes
 * them — topic creation, deletion and growth to the controller named by Metadata; ListOffsets
 * and DeleteRecords to each partition's leader, one request per leader; group APIs to the
 * group's coordinator (NOT_COORDINATOR: find it again and retry); ListGroups to every broker.
 * A per-topic, per-partition or per-group error becomes a KafkaClientError naming what failed.
 *
 * Deliberate difference from Kafka's AdminClient: a topic that Metadata reports unknown fails
 * listOffsets/deleteRecords/describeTopics at once instead of being retried until the API
 * timeout, so tools fail fast on a typo.
 */
import { ErrorCode } from '../protocol/error-codes.js';
import { ApiKey, apis } from '../protocol/generated/api-keys.js';
import { ZERO_UUID } from '../protocol/primitives/uuid.js';
import * as groups from './admin-groups.js';
import type { GroupDescription, GroupListing } from './admin-groups.js';
import { findResult, groupByTopic, rejectDuplicates, tpName, versionFor } from './admin-support.js';
import { Cluster, type BrokerNode, type ClientOptions, type PartitionMetadata } from './cluster.js';
import type { BrokerConnection } from './connection.js';
import { checkResult as check, ConfigError, KafkaClientError, NO_RETRY, resultError } from './errors.js';
import type { TopicPartition, TopicPartitionOffset } from './topic-partition.js';

export type { TopicPartition, TopicPartitionOffset } from './topic-partition.js';
export type { BrokerNode, ClientOptions } from './cluster.js';
export type { GroupDescription, GroupListing, MemberDescription } from './admin-groups.js';

export interface NewTopic {
  name: string;
  /** Default: the broker's num.partitions. */
  numPartitions?: number;
  /** Default: the broker's default.replication.factor. */
  replicationFactor?: number;
  configs?: Record<string, string>;
  /** Partition → broker ids; excludes numPartitions and replicationFactor. */
  replicaAssignment?: Record<number, number[]>;
}

export interface TopicDescription {
  name: string;
  topicId: string;
  isInternal: boolean;
  partitions: {
    partition: number;
    leader: number;
    leaderEpoch: number;
    replicas: number[];
    isr: number[];
    offlineReplicas: number[];
  }[];
}

export interface ConfigEntry {
  name: string;
  value: string | null;
  readOnly: boolean;
  isDefault: boolean;
  isSensitive: boolean;
  /** 'DYNAMIC_TOPIC_CONFIG' | 'DEFAULT_CONFIG' | ... (Kafka's ConfigSource names). */
  source: string;
}

export type ConfigResourceType = 'topic' | 'broker';

export type OffsetSpec = 'earliest' | 'latest' | 'max-timestamp' | { timestamp: number };

export type ConfigOperation = 'set' | 'delete' | 'append' | 'subtract';

/** Kafka's ConfigSource ids, by name. */
const CONFIG_SOURCES = [
  'UNKNOWN',
  'DYNAMIC_TOPIC_CONFIG',
  'DYNAMIC_BROKER_CONFIG',
  'DYNAMIC_DEFAULT_BROKER_CONFIG',
  'STATIC_BROKER_CONFIG',
  'DEFAULT_CONFIG',
  'DYNAMIC_BROKER_LOGGER_CONFIG',
  'CLIENT_METRICS_CONFIG',
  'GROUP_CONFIG',
] as const;
const DEFAULT_CONFIG_SOURCE = 5;

const RESOURCE_TYPE: Readonly<Record<ConfigResourceType, number>> = { topic: 2, broker: 4 };
const CONFIG_OPERATION: Readonly<Record<ConfigOperation, number>> = {
  set: 0,
  delete: 1,
  append: 2,
  subtract: 3,
};

/** ListOffsets special timestamps. */
const LATEST_TIMESTAMP = -1n;
const EARLIEST_TIMESTAMP = -2n;
const MAX_TIMESTAMP = -3n;
/** ListOffsets version that introduced MAX_TIMESTAMP (KIP-734). */
const MAX_TIMESTAMP_MIN_VERSION = 7;

/** Per-result errors worth another attempt, by API family; any other error is final. */
const CONTROLLER_RETRY: ReadonlySet<number> = new Set([
  ErrorCode.NOT_CONTROLLER,
  ErrorCode.THROTTLING_QUOTA_EXCEEDED,
]);
const LEADER_RETRY: ReadonlySet<number> = new Set([
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.FENCED_LEADER_EPOCH,
  ErrorCode.UNKNOWN_LEADER_EPOCH,
  ErrorCode.OFFSET_NOT_AVAILABLE,
  ErrorCode.REQUEST_TIMED_OUT,
  ErrorCode.KAFKA_STORAGE_ERROR,
  ErrorCode.NOT_ENOUGH_REPLICAS,
]);

export class Admin {
  /** The cluster view this admin uses (metadata cache, connections). */
  readonly cluster: Cluster;

  constructor(options: ClientOptions) {
    this.cluster = new Cluster(options);
  }

  close(): Promise<void> {
    return this.cluster.close();
  }

  // ------------------------------------------------------------------ topics

  /** Creates topics on the controller; throws KafkaClientError (e.g. TOPIC_ALREADY_EXISTS) naming the topic. */
  async createTopics(
    topics: NewTopic[],
    options: { validateOnly?: boolean; timeoutMs?: number } = {},
  ): Promise<void> {
    const requested = topics.map((t) => this.creatableTopic(t));
    rejectDuplicateNames(
      'createTopics',
      requested.map((t) => t.name),
    );
    let pending = requested;
    const timeoutMs = options.timeoutMs ?? this.cluster.options.requestTimeoutMs;
    await this.cluster.withRetry('createTopics', async () => {
      const conn = await this.cluster.controllerConnection();
      const version = versionFor(conn, ApiKey.CreateTopics, 'CreateTopics');
      const response = await conn.send(apis.CreateTopics, version, {
        topics: pending,
        timeoutMs,
        validateOnly: options.validateOnly ?? false,
      });
      const retry = this.settle(
        pending.map((t) => t.name),
        response.topics.map((r) => ({ name: r.name, errorCode: r.errorCode, errorMessage: r.errorMessage })),
        CONTROLLER_RETRY,
      );
      pending = pending.filter((t) => retry.names.has(t.name));
      if (retry.error !== null) throw retry.error;
    });
    for (const t of requested) this.cluster.invalidateTopic(t.name);
  }

  private creatableTopic(t: NewTopic): {
    name: string;
    numPartitions: number;
    replicationFactor: number;
    assignments: { partitionIndex: number; brokerIds: number[] }[];
    configs: { name: string; value: string | null }[];
  } {
    if (typeof t.name !== 'string' || t.name === '') {
      throw new ConfigError(`createTopics: topic name must be a non-empty string, got ${String(t.name)}`);
    }
    const assignment = t.replicaAssignment;
    if (assignment !== undefined && (t.numPartitions !== undefined || t.replicationFactor !== undefined)) {
      throw new ConfigError(
        `createTopics: topic ${t.name} gives replicaAssignment together with numPartitions/replicationFactor; give one or the other`,
      );
    }
    for (const [field, value] of [
      ['numPartitions', t.numPartitions],
      ['replicationFactor', t.replicationFactor],
    ] as const) {
      if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
        throw new ConfigError(
          `createTopics: topic ${t.name} ${field} must be a positive integer, got ${value}`,
        );
      }
    }
    return {
      name: t.name,
      // -1 asks the broker for its default (CreateTopics v4+).
      numPartitions: t.numPartitions ?? -1,
      replicationFactor: t.replicationFactor ?? -1,
      assignments:
        assignment === undefined
          ? []
          : Object.entries(assignment).map(([p, brokerIds]) => ({ partitionIndex: Number(p), brokerIds })),
      configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
    };
  }

  /**
   * Sorts per-name results: a final error is thrown at once; names with a retriable error (or
   * missing from the answer) are returned for the next attempt, with the error to throw.
   */
  private settle(
    asked: readonly string[],
    results: readonly { name: string | null; errorCode: number; errorMessage: string | null }[],
    retry: ReadonlySet<number>,
  ): { names: Set<string>; error: KafkaClientError | null } {
    const byName = new Map(results.map((r) => [r.name, r]));
    const names = new Set<string>();
    let error: KafkaClientError | null = null;
    for (const name of asked) {
      const r = byName.get(name);
      if (r === undefined) {
        names.add(name);
        error ??= resultError(
          ErrorCode.UNKNOWN_SERVER_ERROR,
          `topic ${name}`,
          'no result in the response',
          retry,
        );
        continue;
      }
      if (r.errorCode === ErrorCode.NONE) continue;
      const e = resultError(r.errorCode, `topic ${name}`, r.errorMessage, retry);
      if (!e.retriable) throw e;
      names.add(name);
      error ??= e;
    }
    return { names, error };
  }

  async deleteTopics(names: string[]): Promise<void> {
    rejectDuplicateNames('deleteTopics', names);
    let pending = [...names];
    await this.cluster.withRetry('deleteTopics', async () => {
      const conn = await this.cluster.controllerConnection();
      const version = versionFor(conn, ApiKey.DeleteTopics, 'DeleteTopics');
      const response = await conn.send(apis.DeleteTopics, version, {
        topics: version >= 6 ? pending.map((name) => ({ name, topicId: ZERO_UUID })) : [],
        topicNames: version < 6 ? pending : [],
        timeoutMs: this.cluster.options.requestTimeoutMs,
      });
      const retry = this.settle(
        pending,
        response.responses.map((r) => ({
          name: r.name,
          errorCode: r.errorCode,
          errorMessage: version >= 5 ? r.errorMessage : null,
        })),
        CONTROLLER_RETRY,
      );
      pending = pending.filter((n) => retry.names.has(n));
      if (retry.error !== null) throw retry.error;
    });
    for (const name of names) this.cluster.invalidateTopic(name);
  }

  /** Topic names, sorted; internal topics only when asked. */
  async listTopics(options: { includeInternal?: boolean } = {}): Promise<string[]> {
    const response = await this.cluster.withRetry('listTopics', () => this.cluster.fetchMetadata(null));
    return response.topics
      .filter((t) => t.name !== null && t.errorCode === ErrorCode.NONE)
      .filter((t) => options.includeInternal === true || !t.isInternal)
      .map((t) => t.name!)
      .sort();
  }

  /** Describes the named topics (every topic, internal ones included, when omitted), sorted by name. */
  async describeTopics(names?: string[]): Promise<TopicDescription[]> {
    const response = await this.cluster.withRetry('describeTopics', async () => {
      const r = await this.cluster.fetchMetadata(names ?? null);
      for (const t of r.topics) {
        // Partitions without a leader yet (a topic being created): ask again.
        check(t.errorCode, `topic ${t.name ?? t.topicId}`, new Set([ErrorCode.LEADER_NOT_AVAILABLE]));
      }
      return r;
    });
    const described = new Map<string, TopicDescription>();
    for (const t of response.topics) {
      if (t.name === null) continue;
      described.set(t.name, {
        name: t.name,
        topicId: t.topicId,
        isInternal: t.isInternal,
        partitions: t.partitions
          .map((p) => ({
            partition: p.partitionIndex,
            leader: p.leaderId,
            leaderEpoch: p.leaderEpoch,
            replicas: p.replicaNodes,
            isr: p.isrNodes,
            offlineReplicas: p.offlineReplicas,
          }))
          .sort((a, b) => a.partition - b.partition),
      });
    }
    if (names !== undefined) {
      for (const name of names) {
        if (!described.has(name)) {
          throw resultError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `topic ${name}`, null, NO_RETRY);
        }
      }
    }
    return [...described.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Grows `topic` to `totalCount` partitions (on the controller). */
  async createPartitions(topic: string, totalCount: number): Promise<void> {
    if (!Number.isInteger(totalCount) || totalCount < 1) {
      throw new ConfigError(`createPartitions: totalCount must be a positive integer, got ${totalCount}`);
    }
    await this.cluster.withRetry('createPartitions', async () => {
      const conn = await this.cluster.controllerConnection();
      const version = versionFor(conn, ApiKey.CreatePartitions, 'CreatePartitions');
      const response = await conn.send(apis.CreatePartitions, version, {
        topics: [{ name: topic, count: totalCount, assignments: null }],
        timeoutMs: this.cluster.options.requestTimeoutMs,
        validateOnly: false,
      });
      const r = findResult(response.results, (x) => x.name === topic, `topic ${topic}`);
      check(r.errorCode, `topic ${topic}`, CONTROLLER_RETRY, r.errorMessage);
    });
    this.cluster.invalidateTopic(topic);
  }

  // ------------------------------------------------------------------ configs

  /** Broker resources go to that broker (any broker for the cluster-wide default ''), topics to any broker. */
  private async configConnection(type: ConfigResourceType, name: string): Promise<BrokerConnection> {
    if (type === 'broker' && name !== '') {
      const nodeId = Number(name);
      if (!Number.isInteger(nodeId) || nodeId < 0) {
        throw new ConfigError(`broker config resource name must be a broker id, got ${JSON.stringify(name)}`);
      }
      return this.cluster.connectionTo(nodeId);
    }
    return this.cluster.anyConnection();
  }

  private resourceType(type: ConfigResourceType): number {
    const code = RESOURCE_TYPE[type];
    if (code === undefined)
      throw new ConfigError(`config resource type must be topic or broker, got ${String(type)}`);
    return code;
  }

  async describeConfigs(type: ConfigResourceType, name: string, keys?: string[]): Promise<ConfigEntry[]> {
    const resourceType = this.resourceType(type);
    return this.cluster.withRetry('describeConfigs', async () => {
      const conn = await this.configConnection(type, name);
      const version = versionFor(conn, ApiKey.DescribeConfigs, 'DescribeConfigs');
      const response = await conn.send(apis.DescribeConfigs, version, {
        resources: [{ resourceType, resourceName: name, configurationKeys: keys ?? null }],
        includeSynonyms: false,
        includeDocumentation: false,
      });
      const context = `${type} ${name}`;
      const r = findResult(
        response.results,
        (x) => x.resourceType === resourceType && x.resourceName === name,
        context,
      );
      check(r.errorCode, context, NO_RETRY, r.errorMessage);
      return r.configs.map((c) => {
        const isDefault = version === 0 ? c.isDefault : c.configSource === DEFAULT_CONFIG_SOURCE;
        const source =
          version === 0
            ? c.isDefault
              ? 'DEFAULT_CONFIG'
              : 'UNKNOWN'
            : (CONFIG_SOURCES[c.configSource] ?? 'UNKNOWN');
        return {
          name: c.name,
          value: c.value,
          readOnly: c.readOnly,
          isDefault,
          isSensitive: c.isSensitive,
          source,
        };
      });
    });
  }

  async incrementalAlterConfigs(
    type: ConfigResourceType,
    name: string,
    ops: { name: string; op: ConfigOperation; value?: string }[],
  ): Promise<void> {
    const resourceType = this.resourceType(type);
    const configs = ops.map((o) => {
      const configOperation = CONFIG_OPERATION[o.op];
      if (configOperation === undefined) {
        throw new ConfigError(
          `incrementalAlterConfigs: op for ${o.name} must be set, delete, append or subtract, got ${String(o.op)}`,
        );
      }
      if (o.op !== 'delete' && o.value === undefined) {
        throw new ConfigError(`incrementalAlterConfigs: ${o.op} of ${o.name} needs a value`);
      }
      return { name: o.name, configOperation, value: o.op === 'delete' ? null : (o.value ?? null) };
    });
    await this.cluster.withRetry('incrementalAlterConfigs', async () => {
      const conn = await this.configConnection(type, name);
      const version = versionFor(conn, ApiKey.IncrementalAlterConfigs, 'IncrementalAlterConfigs');
      const response = await conn.send(apis.IncrementalAlterConfigs, version, {
        resources: [{ resourceType, resourceName: name, configs }],
        validateOnly: false,
      });
      const context = `${type} ${name}`;
      const r = findResult(
        response.responses,
        (x) => x.resourceType === resourceType && x.resourceName === name,
        context,
      );
      check(r.errorCode, context, NO_RETRY, r.errorMessage);
    });
  }

  /** Legacy AlterConfigs: `configs` becomes the resource's whole set of dynamic configs. */
  async alterConfigs(type: ConfigResourceType, name: string, configs: Record<string, string>): Promise<void> {
    const resourceType = this.resourceType(type);
    await this.cluster.withRetry('alterConfigs', async () => {
      const conn = await this.configConnection(type, name);
      const version = versionFor(conn, ApiKey.AlterConfigs, 'AlterConfigs');
      const response = await conn.send(apis.AlterConfigs, version, {
        resources: [
          {
            resourceType,
            resourceName: name,
            configs: Object.entries(configs).map(([n, value]) => ({ name: n, value })),
          },
        ],
        validateOnly: false,
      });
      const context = `${type} ${name}`;
      const r = findResult(
        response.responses,
        (x) => x.resourceType === resourceType && x.resourceName === name,
        context,
      );
      check(r.errorCode, context, NO_RETRY, r.errorMessage);
    });
  }

  // ------------------------------------------------------------------ groups (admin-groups.ts)

  /** Groups of every broker, sorted by id. */
  listGroups(): Promise<GroupListing[]> {
    return groups.listGroups(this.cluster);
  }

  /** Describes groups (an unknown group is described as Dead, as Kafka does before DescribeGroups v6). */
  describeGroups(groupIds: string[]): Promise<GroupDescription[]> {
    return groups.describeGroups(this.cluster, groupIds);
  }

  /** Deletes empty groups with their offsets; NON_EMPTY_GROUP or GROUP_ID_NOT_FOUND name the group. */
  deleteGroups(groupIds: string[]): Promise<void> {
    return groups.deleteGroups(this.cluster, groupIds);
  }

  /** Committed offsets of a group (all its partitions when none are named); offset -1n where none is committed. */
  listGroupOffsets(
    groupId: string,
    partitions?: TopicPartition[],
  ): Promise<(TopicPartitionOffset & { metadata: string | null })[]> {
    return groups.listGroupOffsets(this.cluster, groupId, partitions);
  }

  /**
   * Commits offsets for a group as an admin (generation -1, empty member id), as Kafka's
   * AdminClient does: a group with members refuses it (UNKNOWN_MEMBER_ID / REBALANCE_IN_PROGRESS).
   */
  alterGroupOffsets(
    groupId: string,
    offsets: (TopicPartitionOffset & { metadata?: string | null })[],
  ): Promise<void> {
    return groups.alterGroupOffsets(this.cluster, groupId, offsets);
  }

  /** Removes committed offsets (OffsetDelete); GROUP_SUBSCRIBED_TO_TOPIC when the group still consumes the topic. */
  deleteGroupOffsets(groupId: string, partitions: TopicPartition[]): Promise<void> {
    return groups.deleteGroupOffsets(this.cluster, groupId, partitions);
  }

  // ------------------------------------------------------------------ offsets and records

  /** The partition's metadata; an unknown topic or partition is final (see the file comment). */
  private async partitionOf(topic: string, partition: number): Promise<PartitionMetadata> {
    try {
      return await this.cluster.partitionMetadata(topic, partition);
    } catch (e) {
      if (e instanceof KafkaClientError && e.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) {
        throw resultError(e.code, tpName(topic, partition), null, NO_RETRY);
      }
      throw e;
    }
  }

  /**
   * Sends one request per leader for the pending items, keeping what succeeded; items with a
   * retriable error stay pending and make the attempt fail, so withRetry tries them again.
   */
  private async perLeader<T extends TopicPartition, R>(
    what: string,
    items: readonly T[],
    send: (conn: BrokerConnection, items: T[]) => Promise<Map<string, R | KafkaClientError>>,
  ): Promise<Map<string, R>> {
    const done = new Map<string, R>();
    const key = (tp: TopicPartition): string => `${tp.partition}:${tp.topic}`;
    await this.cluster.withRetry(what, async () => {
      const pending = items.filter((i) => !done.has(key(i)));
      const byLeader = new Map<number, T[]>();
      for (const item of pending) {
        const p = await this.partitionOf(item.topic, item.partition);
        if (p.leader < 0) {
          this.cluster.invalidateTopic(item.topic);
          throw resultError(
            ErrorCode.LEADER_NOT_AVAILABLE,
            tpName(item.topic, item.partition),
            null,
            LEADER_RETRY,
          );
        }
        let list = byLeader.get(p.leader);
        if (list === undefined) byLeader.set(p.leader, (list = []));
        list.push(item);
      }
      const retriable: KafkaClientError[] = [];
      await Promise.all(
        [...byLeader].map(async ([leader, leaderItems]) => {
          let results: Map<string, R | KafkaClientError>;
          try {
            results = await send(await this.cluster.connectionTo(leader), leaderItems);
          } catch (e) {
            if (e instanceof KafkaClientError && e.retriable) {
              retriable.push(e);
              return;
            }
            throw e;
          }
          for (const item of leaderItems) {
            const r = results.get(key(item));
            if (r === undefined) {
              throw resultError(
                ErrorCode.UNKNOWN_SERVER_ERROR,
                tpName(item.topic, item.partition),
                'no result',
                NO_RETRY,
              );
            }
            if (r instanceof KafkaClientError) {
              if (!r.retriable) throw r;
              // The leader moved or is unknown: fetch metadata again before the next attempt.
              this.cluster.invalidateTopic(item.topic);
              retriable.push(r);
            } else {
              done.set(key(item), r);
            }
          }
        }),
      );
      if (retriable.length > 0) throw retriable[0]!;
    });
    return done;
  }

  /** Offsets by spec: earliest (-2), latest (-1), max-timestamp (-3, ListOffsets v7+) or the first at/after a timestamp. */
  async listOffsets(
    requests: { topic: string; partition: number; spec: OffsetSpec }[],
    isolationLevel: 'read_uncommitted' | 'read_committed' = 'read_uncommitted',
  ): Promise<(TopicPartitionOffset & { timestamp: number })[]> {
    rejectDuplicates('listOffsets', requests);
    const isolation = isolationLevel === 'read_committed' ? 1 : 0;
    const timestampOf = (spec: OffsetSpec): bigint => {
      if (spec === 'earliest') return EARLIEST_TIMESTAMP;
      if (spec === 'latest') return LATEST_TIMESTAMP;
      if (spec === 'max-timestamp') return MAX_TIMESTAMP;
      if (typeof spec === 'object' && Number.isInteger(spec.timestamp) && spec.timestamp >= 0) {
        return BigInt(spec.timestamp);
      }
      throw new ConfigError(
        `listOffsets: spec must be earliest, latest, max-timestamp or { timestamp >= 0 }, got ${JSON.stringify(spec)}`,
      );
    };
    const withTimestamps = requests.map((r) => ({ ...r, timestamp: timestampOf(r.spec) }));
    const results = await this.perLeader('listOffsets', withTimestamps, async (conn, items) => {
      const needsMaxTimestamp = items.some((i) => i.timestamp === MAX_TIMESTAMP);
      const version = versionFor(conn, ApiKey.ListOffsets, 'ListOffsets');
      if (needsMaxTimestamp && version < MAX_TIMESTAMP_MIN_VERSION) {
        throw resultError(
          ErrorCode.UNSUPPORTED_VERSION,
          `ListOffsets to ${conn.address}`,
          'max-timestamp needs ListOffsets v7+',
          NO_RETRY,
        );
      }
      if (isolation === 1 && version < 2) {
        throw resultError(
          ErrorCode.UNSUPPORTED_VERSION,
          `ListOffsets to ${conn.address}`,
          'read_committed needs v2+',
          NO_RETRY,
        );
      }
      const response = await conn.send(apis.ListOffsets, version, {
        replicaId: -1,
        isolationLevel: isolation,
        topics: [...groupByTopic(items)].map(([name, tps]) => ({
          name,
          partitions: tps.map((tp) => ({
            partitionIndex: tp.partition,
            currentLeaderEpoch: -1,
            timestamp: tp.timestamp,
            maxNumOffsets: 1,
          })),
        })),
        timeoutMs: this.cluster.options.requestTimeoutMs,
      });
      const out = new Map<string, { offset: bigint; timestamp: number } | KafkaClientError>();
      for (const t of response.topics) {
        for (const p of t.partitions) {
          const k = `${p.partitionIndex}:${t.name}`;
          if (p.errorCode !== ErrorCode.NONE) {
            out.set(k, resultError(p.errorCode, tpName(t.name, p.partitionIndex), null, LEADER_RETRY));
            continue;
          }
          const offset = version === 0 ? (p.oldStyleOffsets[0] ?? -1n) : p.offset;
          out.set(k, { offset, timestamp: Number(p.timestamp) });
        }
      }
      return out;
    });
    return requests.map((r) => {
      const v = results.get(`${r.partition}:${r.topic}`)!;
      return { topic: r.topic, partition: r.partition, offset: v.offset, timestamp: v.timestamp };
    });
  }

  /** Deletes records before each offset (-1n: the high watermark); returns the new low watermarks. */
  async deleteRecords(
    offsets: TopicPartitionOffset[],
  ): Promise<(TopicPartition & { lowWatermark: bigint })[]> {
    rejectDuplicates('deleteRecords', offsets);
    for (const o of offsets) {
      if (typeof o.offset !== 'bigint' || o.offset < -1n) {
        throw new ConfigError(
          `deleteRecords: offset of ${tpName(o.topic, o.partition)} must be a bigint >= -1, got ${String(o.offset)}`,
        );
      }
    }
    const results = await this.perLeader('deleteRecords', offsets, async (conn, items) => {
      const version = versionFor(conn, ApiKey.DeleteRecords, 'DeleteRecords');
      const response = await conn.send(apis.DeleteRecords, version, {
        topics: [...groupByTopic(items)].map(([name, tps]) => ({
          name,
          partitions: tps.map((tp) => ({ partitionIndex: tp.partition, offset: tp.offset })),
        })),
        timeoutMs: this.cluster.options.requestTimeoutMs,
      });
      const out = new Map<string, bigint | KafkaClientError>();
      for (const t of response.topics) {
        for (const p of t.partitions) {
          out.set(
            `${p.partitionIndex}:${t.name}`,
            p.errorCode === ErrorCode.NONE
              ? p.lowWatermark
              : resultError(p.errorCode, tpName(t.name, p.partitionIndex), null, LEADER_RETRY),
          );
        }
      }
      return out;
    });
    return offsets.map((o) => ({
      topic: o.topic,
      partition: o.partition,
      lowWatermark: results.get(`${o.partition}:${o.topic}`)!,
    }));
  }

  /** Cluster id, controller and brokers (sorted by id), from DescribeCluster when served, else Metadata. */
  async describeCluster(): Promise<{
    clusterId: string | null;
    controllerId: number;
    brokers: BrokerNode[];
  }> {
    return this.cluster.withRetry('describeCluster', async () => {
      const conn = await this.cluster.anyConnection();
      const version = conn.version(ApiKey.DescribeCluster);
      if (version < 0) {
        await this.cluster.refreshMetadata();
        return {
          clusterId: this.cluster.clusterId,
          controllerId: this.cluster.controllerId,
          brokers: [...this.cluster.brokers.values()].sort((a, b) => a.nodeId - b.nodeId),
        };
      }
      const response = await conn.send(apis.DescribeCluster, version, {
        includeClusterAuthorizedOperations: false,
        endpointType: 1,
      });
      check(response.errorCode, 'DescribeCluster', NO_RETRY, response.errorMessage);
      return {
        clusterId: response.clusterId,
        controllerId: response.controllerId,
        brokers: response.brokers
          .map((b) => ({ nodeId: b.brokerId, host: b.host, port: b.port, rack: b.rack }))
          .sort((a, b) => a.nodeId - b.nodeId),
      };
    });
  }
}

function rejectDuplicateNames(what: string, names: readonly string[]): void {
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new ConfigError(`${what}: topic ${n} is given twice`);
    seen.add(n);
  }
}
