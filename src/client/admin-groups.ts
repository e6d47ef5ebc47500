/**
 * Admin's group operations, as functions of the Cluster that Admin's methods delegate to: group
 * APIs go to the group's coordinator (NOT_COORDINATOR and the like: find it again and retry);
 * ListGroups goes to every broker.
 */
import { ErrorCode } from '../protocol/error-codes.js';
import { ApiKey, apis } from '../protocol/generated/api-keys.js';
import type { OffsetFetchResponse } from '../protocol/generated/message/OffsetFetchResponse.js';
import { findResult, groupByTopic, rejectDuplicates, tpName, versionFor } from './admin-support.js';
import type { Cluster } from './cluster.js';
import { decodeAssignment } from './consumer-protocol.js';
import { compareTopicPartitions, sortTopicPartitions } from './topic-partition.js';
import type { BrokerConnection } from './connection.js';
import { checkResult as check, ConfigError, KafkaClientError, NO_RETRY, resultError } from './errors.js';
import type { TopicPartition, TopicPartitionOffset } from './topic-partition.js';

export interface GroupListing {
  groupId: string;
  protocolType: string;
  state: string;
  type: string;
}

export interface MemberDescription {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  host: string;
  assignment: TopicPartition[];
}

export interface GroupDescription {
  groupId: string;
  state: string;
  protocolType: string;
  protocol: string;
  members: MemberDescription[];
  /** Node id of the group's coordinator. */
  coordinator: number;
}

/** Per-result group errors worth another attempt; any other error is final. */
const COORDINATOR_RETRY: ReadonlySet<number> = new Set([
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
]);
const OFFSET_FETCH_RETRY: ReadonlySet<number> = new Set([
  ...COORDINATOR_RETRY,
  ErrorCode.UNSTABLE_OFFSET_COMMIT,
]);
/** Errors after which the cached coordinator is wrong. */
const COORDINATOR_MOVED: ReadonlySet<string> = new Set([
  'NOT_COORDINATOR',
  'COORDINATOR_NOT_AVAILABLE',
  'CONNECTION_CLOSED',
  'CONNECTION_FAILED',
  'CONNECT_TIMEOUT',
  'REQUEST_TIMED_OUT',
]);

/** A consumer-protocol assignment as topic-partitions, sorted; bytes that do not decode give none. */
function assignedPartitions(buf: Buffer): TopicPartition[] {
  const a = decodeAssignment(buf);
  return a instanceof Error ? [] : sortTopicPartitions(a.partitions);
}

/** Runs `fn` on the group's coordinator, finding it again after NOT_COORDINATOR and the like. */
function onCoordinator<T>(
  cluster: Cluster,
  what: string,
  groupId: string,
  fn: (conn: BrokerConnection) => Promise<T>,
): Promise<T> {
  return cluster.withRetry(`${what} ${groupId}`, async () => {
    const conn = await cluster.coordinator('group', groupId);
    try {
      return await fn(conn);
    } catch (e) {
      if (e instanceof KafkaClientError && COORDINATOR_MOVED.has(e.errorName)) {
        cluster.invalidateCoordinator('group', groupId);
      }
      throw e;
    }
  });
}

/** Groups of every broker, sorted by id. */
export async function listGroups(cluster: Cluster): Promise<GroupListing[]> {
  await cluster.withRetry('listGroups', () => cluster.refreshMetadata());
  const perBroker = await Promise.all(
    [...cluster.brokers.keys()].map((nodeId) =>
      cluster.withRetry(`listGroups on broker ${nodeId}`, async () => {
        const conn = await cluster.connectionTo(nodeId);
        const version = versionFor(conn, ApiKey.ListGroups, 'ListGroups');
        const response = await conn.send(apis.ListGroups, version, { statesFilter: [], typesFilter: [] });
        check(response.errorCode, `ListGroups on broker ${nodeId}`, COORDINATOR_RETRY);
        return response.groups;
      }),
    ),
  );
  const byId = new Map<string, GroupListing>();
  for (const g of perBroker.flat()) {
    byId.set(g.groupId, {
      groupId: g.groupId,
      protocolType: g.protocolType,
      state: g.groupState,
      type: g.groupType,
    });
  }
  return [...byId.values()].sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
}

/** Describes groups (an unknown group is described as Dead, as Kafka does before DescribeGroups v6). */
export function describeGroups(cluster: Cluster, groupIds: string[]): Promise<GroupDescription[]> {
  return Promise.all(
    groupIds.map((groupId) =>
      onCoordinator(cluster, 'describeGroups', groupId, async (conn) => {
        const version = versionFor(conn, ApiKey.DescribeGroups, 'DescribeGroups');
        const response = await conn.send(apis.DescribeGroups, version, {
          groups: [groupId],
          includeAuthorizedOperations: false,
        });
        const g = findResult(response.groups, (x) => x.groupId === groupId, `group ${groupId}`);
        check(g.errorCode, `group ${groupId}`, COORDINATOR_RETRY);
        return {
          groupId,
          state: g.groupState,
          protocolType: g.protocolType,
          protocol: g.protocolData,
          members: g.members.map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            clientId: m.clientId,
            host: m.clientHost,
            assignment: g.protocolType === 'consumer' ? assignedPartitions(m.memberAssignment) : [],
          })),
          coordinator: conn.nodeId,
        };
      }),
    ),
  );
}

/** Deletes empty groups with their offsets; NON_EMPTY_GROUP or GROUP_ID_NOT_FOUND name the group. */
export async function deleteGroups(cluster: Cluster, groupIds: string[]): Promise<void> {
  await Promise.all(
    groupIds.map((groupId) =>
      onCoordinator(cluster, 'deleteGroups', groupId, async (conn) => {
        const version = versionFor(conn, ApiKey.DeleteGroups, 'DeleteGroups');
        const response = await conn.send(apis.DeleteGroups, version, { groupsNames: [groupId] });
        const r = findResult(response.results, (x) => x.groupId === groupId, `group ${groupId}`);
        check(r.errorCode, `group ${groupId}`, COORDINATOR_RETRY);
      }),
    ),
  );
}

/** Committed offsets of a group (all its partitions when none are named); offset -1n where none is committed. */
export function listGroupOffsets(
  cluster: Cluster,
  groupId: string,
  partitions?: TopicPartition[],
): Promise<(TopicPartitionOffset & { metadata: string | null })[]> {
  return onCoordinator(cluster, 'listGroupOffsets', groupId, async (conn) => {
    // v2+ can ask for every partition (null topics).
    const version = versionFor(conn, ApiKey.OffsetFetch, 'OffsetFetch');
    if (partitions === undefined && version < 2) {
      throw resultError(
        ErrorCode.UNSUPPORTED_VERSION,
        `OffsetFetch to ${conn.address}`,
        'needs v2+',
        NO_RETRY,
      );
    }
    const topics =
      partitions === undefined
        ? null
        : [...groupByTopic(partitions)].map(([name, tps]) => ({
            name,
            partitionIndexes: tps.map((tp) => tp.partition),
          }));
    const response = await conn.send(apis.OffsetFetch, version, {
      groupId: version < 8 ? groupId : '',
      topics: version < 8 ? topics : [],
      groups: version >= 8 ? [{ groupId, memberId: null, memberEpoch: -1, topics }] : [],
      requireStable: false,
    });
    let groupError: number;
    let resultTopics: (
      OffsetFetchResponse.OffsetFetchResponseTopic | OffsetFetchResponse.OffsetFetchResponseTopics
    )[];
    if (version >= 8) {
      const g = findResult(response.groups, (x) => x.groupId === groupId, `group ${groupId}`);
      groupError = g.errorCode;
      resultTopics = g.topics;
    } else {
      groupError = version >= 2 ? response.errorCode : ErrorCode.NONE;
      resultTopics = response.topics;
    }
    check(groupError, `group ${groupId}`, OFFSET_FETCH_RETRY);
    const out: (TopicPartitionOffset & { metadata: string | null })[] = [];
    for (const t of resultTopics) {
      for (const p of t.partitions) {
        check(p.errorCode, `group ${groupId} ${tpName(t.name, p.partitionIndex)}`, OFFSET_FETCH_RETRY);
        out.push({
          topic: t.name,
          partition: p.partitionIndex,
          offset: p.committedOffset,
          metadata: p.metadata,
        });
      }
    }
    return out.sort(compareTopicPartitions);
  });
}

/**
 * Commits offsets for a group as an admin (generation -1, empty member id), as Kafka's
 * AdminClient does: a group with members refuses it (UNKNOWN_MEMBER_ID / REBALANCE_IN_PROGRESS).
 */
export async function alterGroupOffsets(
  cluster: Cluster,
  groupId: string,
  offsets: (TopicPartitionOffset & { metadata?: string | null })[],
): Promise<void> {
  rejectDuplicates('alterGroupOffsets', offsets);
  for (const o of offsets) {
    if (typeof o.offset !== 'bigint' || o.offset < 0n) {
      throw new ConfigError(
        `alterGroupOffsets: offset of ${tpName(o.topic, o.partition)} must be a bigint >= 0, got ${String(o.offset)}`,
      );
    }
  }
  await onCoordinator(cluster, 'alterGroupOffsets', groupId, async (conn) => {
    const version = versionFor(conn, ApiKey.OffsetCommit, 'OffsetCommit');
    const response = await conn.send(apis.OffsetCommit, version, {
      groupId,
      generationIdOrMemberEpoch: -1,
      memberId: '',
      groupInstanceId: null,
      retentionTimeMs: -1n,
      topics: [...groupByTopic(offsets)].map(([name, tps]) => ({
        name,
        partitions: tps.map((tp) => ({
          partitionIndex: tp.partition,
          committedOffset: tp.offset,
          committedLeaderEpoch: -1,
          commitTimestamp: -1n,
          committedMetadata: tp.metadata ?? '',
        })),
      })),
    });
    for (const t of response.topics) {
      for (const p of t.partitions) {
        check(p.errorCode, `group ${groupId} ${tpName(t.name, p.partitionIndex)}`, COORDINATOR_RETRY);
      }
    }
  });
}

/** Removes committed offsets (OffsetDelete); GROUP_SUBSCRIBED_TO_TOPIC when the group still consumes the topic. */
export async function deleteGroupOffsets(
  cluster: Cluster,
  groupId: string,
  partitions: TopicPartition[],
): Promise<void> {
  rejectDuplicates('deleteGroupOffsets', partitions);
  await onCoordinator(cluster, 'deleteGroupOffsets', groupId, async (conn) => {
    const version = versionFor(conn, ApiKey.OffsetDelete, 'OffsetDelete');
    const response = await conn.send(apis.OffsetDelete, version, {
      groupId,
      topics: [...groupByTopic(partitions)].map(([name, tps]) => ({
        name,
        partitions: tps.map((tp) => ({ partitionIndex: tp.partition })),
      })),
    });
    check(response.errorCode, `group ${groupId}`, COORDINATOR_RETRY);
    for (const t of response.topics) {
      for (const p of t.partitions) {
        check(p.errorCode, `group ${groupId} ${tpName(t.name, p.partitionIndex)}`, COORDINATOR_RETRY);
      }
    }
  });
}
