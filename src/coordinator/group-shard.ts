/**
 * One shard of the group coordinator: the groups and committed offsets that hash to one
 * partition of `__consumer_offsets`, and that partition's log as their only durable state.
 *
 * Every change is a list of coordinator records. They are applied to the in-memory state at
 * once (so the next request sees them, as Kafka's coordinator runtime does), appended to the
 * log as one batch, and the request is answered when that append is durable under the log's
 * flush policy. Loading replays the partition from its start; it is the same `replay` that
 * live offset and consumer-group records go through. If an append fails, the in-memory state
 * may be ahead of the log, so the shard reloads itself from the log.
 */
import { ErrorCode } from '../protocol/error-codes.js';
import type { ConsumerGroupDescribeResponse } from '../protocol/generated/message/ConsumerGroupDescribeResponse.js';
import type { ConsumerGroupHeartbeatRequest } from '../protocol/generated/message/ConsumerGroupHeartbeatRequest.js';
import { ConsumerGroupHeartbeatResponse } from '../protocol/generated/message/ConsumerGroupHeartbeatResponse.js';
import type { DescribeGroupsResponse } from '../protocol/generated/message/DescribeGroupsResponse.js';
import type { OffsetCommitRequest } from '../protocol/generated/message/OffsetCommitRequest.js';
import type { TxnOffsetCommitRequest } from '../protocol/generated/message/TxnOffsetCommitRequest.js';
import {
  ControlRecordType,
  decodeRecordBatch,
  encodeRecordBatch,
  newRecordBatch,
  parseControlBatch,
} from '../protocol/records/batch.js';
import { DecodeError } from '../protocol/primitives/errors.js';
import { BatchSplitter } from '../protocol/records/batch-view.js';
import type { Clock } from '../runtime/clock.js';
import type { Random } from '../runtime/random.js';
import { StorageError } from '../storage/errors.js';
import type { ClassicGroup } from './classic-group.js';
import { ClassicGroups, type ClassicGroupsConfig, type ClientInfo } from './classic-groups.js';
import { OffsetStore } from './offset-store.js';
import { decodeCoordinatorRecord, encodeCoordinatorRecord, type CoordinatorRecord } from './records.js';
import type { TopicsView } from './topics.js';

/** The shard's partition of `__consumer_offsets`, as the broker hosts it. */
export interface ShardLog {
  /** Appends one batch (wire bytes); resolves once durable under the log's flush policy. */
  append(batch: Buffer): Promise<void>;
  /** Whole batches from `offset`, at most about `maxBytes` (at least one batch when any is there). */
  read(offset: number, maxBytes: number): Promise<Buffer>;
  readonly logStartOffset: number;
  readonly logEndOffset: number;
}

/** The KIP-848 consumer groups of a shard (src/coordinator/consumer). */
export interface ConsumerGroupsPart {
  heartbeat(
    req: ConsumerGroupHeartbeatRequest,
    apiVersion: number,
    client: ClientInfo,
  ): { records: CoordinatorRecord[]; response: ConsumerGroupHeartbeatResponse };
  replay(record: CoordinatorRecord): void;
  has(groupId: string): boolean;
  describe(
    groupIds: string[],
    includeAuthorizedOperations: boolean,
  ): ConsumerGroupDescribeResponse.DescribedGroup[];
  list(): { groupId: string; state: string }[];
  validateOffsetCommit(groupId: string, memberId: string, memberEpoch: number): number;
  validateOffsetFetch(groupId: string, memberId: string | null, memberEpoch: number): number;
  deleteGroup(groupId: string): number | CoordinatorRecord[];
  onTopicsChanged(): CoordinatorRecord[];
  onLoaded(): void;
  close(): void;
}

export interface ConsumerGroupsFactory {
  (host: {
    clock: Clock;
    topics(): TopicsView;
    emit(records: CoordinatorRecord[]): void;
  }): ConsumerGroupsPart;
}

export interface GroupShardConfig extends ClassicGroupsConfig {
  /** offset.metadata.max.bytes */
  readonly offsetMetadataMaxBytes: number;
  /** offsets.retention.minutes, in ms */
  readonly offsetsRetentionMs: number;
}

export interface GroupShardDeps {
  readonly partition: number;
  readonly log: ShardLog;
  readonly clock: Clock;
  readonly random: Random;
  readonly config: GroupShardConfig;
  topics(): TopicsView;
  readonly consumerGroups: ConsumerGroupsFactory;
  logLine(message: string): void;
}

export type ShardState = 'loading' | 'active' | 'failed' | 'closed';

/** Bytes read per step while replaying the partition. */
const LOAD_READ_BYTES = 1024 * 1024;

const NO_OFFSET = -1n;

export interface DescribedGroup {
  errorCode: number;
  groupId: string;
  groupState: string;
  protocolType: string;
  protocolData: string;
  members: DescribeGroupsResponse.DescribedGroupMember[];
}

type OffsetCommitRecord = Extract<CoordinatorRecord, { type: 'offsetCommit' }>;

/** A group's partition, as one map key. */
function offsetKey(group: string, topic: string, partition: number): string {
  return `${group}\0${topic}\0${partition}`;
}

export class GroupShard {
  readonly partition: number;
  state: ShardState = 'loading';
  private readonly deps: GroupShardDeps;
  private classic: ClassicGroups;
  private consumer: ConsumerGroupsPart;
  private readonly offsets = new OffsetStore();
  /** TxnOffsetCommit records per producer id, waiting for their transaction's marker. */
  /** Per producer, its transaction's offsets by `group\0topic\0partition` (the last commit of each wins, as on replay). */
  private readonly pendingTxnOffsets = new Map<bigint, Map<string, OffsetCommitRecord>>();
  private reloading: Promise<void> | null = null;

  constructor(deps: GroupShardDeps) {
    this.deps = deps;
    this.partition = deps.partition;
    this.classic = this.newClassic();
    this.consumer = this.newConsumer();
  }

  private newClassic(): ClassicGroups {
    return new ClassicGroups({
      clock: this.deps.clock,
      random: this.deps.random,
      config: this.deps.config,
      write: (records) => this.write(records),
      log: (m) => this.deps.logLine(m),
    });
  }

  private newConsumer(): ConsumerGroupsPart {
    return this.deps.consumerGroups({
      clock: this.deps.clock,
      topics: () => this.deps.topics(),
      emit: (records) => {
        if (this.state !== 'active') return;
        for (const r of records) this.replay(r);
        this.write(records).catch(() => undefined);
      },
    });
  }

  private now(): number {
    return this.deps.clock.nowMs();
  }

  // ---------------------------------------------------------------- loading and writing

  /** Replays the partition from its log start; the shard serves requests once this resolves. */
  async load(): Promise<void> {
    const started = this.now();
    const log = this.deps.log;
    let offset = log.logStartOffset;
    let records = 0;
    while (offset < log.logEndOffset) {
      const bytes = await log.read(offset, LOAD_READ_BYTES);
      if (bytes.length === 0) break;
      const splitter = new BatchSplitter(bytes);
      while (splitter.next()) {
        const batch = decodeRecordBatch(splitter.batch(), { maxDecompressedBytes: 64 * LOAD_READ_BYTES });
        if (!('records' in batch)) throw new Error(`__consumer_offsets-${this.partition}: ${batch.message}`);
        offset = Number(batch.baseOffset) + batch.lastOffsetDelta + 1;
        if (batch.isControl) {
          const control = parseControlBatch(batch);
          if (!(control instanceof DecodeError) && control.marker !== null) {
            this.onTxnMarker(batch.producerId, control.key.type === ControlRecordType.Commit);
          }
          continue;
        }
        for (const r of batch.records) {
          if (r.key === null) continue;
          const record = decodeCoordinatorRecord(r.key, r.value);
          if (typeof record === 'string') {
            this.deps.logLine(`__consumer_offsets-${this.partition}: skipped a malformed record (${record})`);
            continue;
          }
          if (record === null) continue;
          if (batch.isTransactional && record.type === 'offsetCommit') {
            // Offsets of a transaction wait for its marker.
            if (!this.consumer.has(record.key.group)) this.classic.getOrCreate(record.key.group);
            this.addPendingTxnOffsets(batch.producerId, [record]);
          } else this.replay(record);
          records++;
        }
      }
      if (splitter.error !== null)
        throw new Error(`__consumer_offsets-${this.partition}: ${splitter.error.message}`);
    }
    if (this.state === 'closed') return;
    this.classic.onLoaded();
    this.consumer.onLoaded();
    this.state = 'active';
    if (records > 0) {
      this.deps.logLine(
        `loaded ${records} record(s) of __consumer_offsets-${this.partition} in ${this.now() - started} ms`,
      );
    }
  }

  /** Applies one record to the state: how loading rebuilds it, and how live offset and consumer group changes land. */
  private replay(record: CoordinatorRecord): void {
    switch (record.type) {
      case 'offsetCommit': {
        const k = record.key;
        if (record.value === null) {
          this.offsets.delete(k.group, k.topic, k.partition);
          return;
        }
        const v = record.value;
        this.offsets.set(k.group, k.topic, k.partition, {
          offset: Number(v.offset),
          leaderEpoch: v.leaderEpoch,
          metadata: v.metadata,
          commitTimestampMs: Number(v.commitTimestamp),
          expireTimestampMs: v.expireTimestamp < 0n ? null : Number(v.expireTimestamp),
        });
        // Offsets committed outside any membership make an Empty classic group, as in Kafka.
        if (!this.consumer.has(k.group)) this.classic.getOrCreate(k.group);
        return;
      }
      case 'groupMetadata':
        this.classic.replay(record.key.group, record.value, this.offsets.hasOffsets(record.key.group));
        return;
      case 'consumerGroupMetadata':
      case 'consumerGroupPartitionMetadata':
      case 'consumerGroupMemberMetadata':
      case 'consumerGroupTargetAssignmentMetadata':
      case 'consumerGroupTargetAssignmentMember':
      case 'consumerGroupCurrentMemberAssignment':
        this.consumer.replay(record);
        return;
    }
  }

  /**
   * Appends records as one batch (a transactional one for `txn`'s producer); resolves once
   * durable. A failed append reloads the shard from its log.
   */
  private write(
    records: CoordinatorRecord[],
    txn: { producerId: bigint; producerEpoch: number } | null = null,
  ): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    const nowMs = this.now();
    const batch = encodeRecordBatch(
      newRecordBatch(
        records.map((r) => {
          const { key, value } = encodeCoordinatorRecord(r);
          return { key, value, timestamp: nowMs };
        }),
        txn === null ? {} : { ...txn, baseSequence: -1, isTransactional: true },
      ),
      { compression: 0 },
    );
    const appended = this.deps.log.append(batch);
    appended.catch((e: unknown) => this.onWriteFailure(e));
    return appended;
  }

  private onWriteFailure(e: unknown): void {
    if (this.state !== 'active') return;
    this.deps.logLine(
      `__consumer_offsets-${this.partition}: append failed (${e instanceof Error ? e.message : String(e)}); reloading the shard from its log`,
    );
    this.reloading ??= (async () => {
      this.state = 'loading';
      this.classic.close();
      this.consumer.close();
      this.offsets.clear();
      this.pendingTxnOffsets.clear();
      this.classic = this.newClassic();
      this.consumer = this.newConsumer();
      try {
        await this.load();
      } catch (err) {
        this.state = 'failed';
        this.deps.logLine(
          `__consumer_offsets-${this.partition}: reload failed (${err instanceof Error ? err.message : String(err)}); its groups are unavailable`,
        );
      }
      this.reloading = null;
    })();
  }

  /** Stops timers and answers waiting requests with NOT_COORDINATOR. */
  close(): void {
    this.state = 'closed';
    this.classic.close();
    this.consumer.close();
  }

  // ---------------------------------------------------------------- classic protocol

  get classicGroups(): ClassicGroups {
    return this.classic;
  }

  get consumerGroups(): ConsumerGroupsPart {
    return this.consumer;
  }

  /** True when `groupId` names a KIP-848 consumer group (classic requests to it are refused). */
  isConsumerGroup(groupId: string): boolean {
    return this.consumer.has(groupId);
  }

  async consumerGroupHeartbeat(
    req: ConsumerGroupHeartbeatRequest,
    apiVersion: number,
    client: ClientInfo,
  ): Promise<ConsumerGroupHeartbeatResponse> {
    const classic = this.classic.get(req.groupId);
    const converted: CoordinatorRecord[] = [];
    if (classic !== undefined) {
      // A classic group with members keeps its protocol; an empty one (offsets only) becomes a consumer group.
      if (classic.state !== 'Empty') {
        return {
          ...ConsumerGroupHeartbeatResponse.create(),
          errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
          errorMessage: `Group ${req.groupId} is not a consumer group.`,
          memberId: null,
          memberEpoch: -1,
          assignment: null,
        };
      }
      converted.push({
        type: 'groupMetadata',
        key: { group: req.groupId, unknownTaggedFields: undefined },
        value: null,
      });
    }
    const result = this.consumer.heartbeat(req, apiVersion, client);
    const response = result.response;
    const records =
      result.response.errorCode === ErrorCode.NONE ? [...converted, ...result.records] : result.records;
    if (records.length > result.records.length && classic !== undefined) this.classic.delete(classic);
    for (const r of records) if (r.type !== 'groupMetadata') this.replay(r);
    if (records.length > 0) {
      try {
        await this.write(records);
      } catch (e) {
        return { ...response, errorCode: writeErrorCode(e), errorMessage: null, assignment: null };
      }
    }
    return response;
  }

  // ---------------------------------------------------------------- offsets

  /** OffsetCommit: per-partition error codes, answered once the offsets are durable. */
  async commitOffsets(
    req: OffsetCommitRequest,
    apiVersion: number,
    topicExists: (topic: string, partition: number) => boolean,
  ): Promise<Map<string, Map<number, number>>> {
    const groupError = this.validateCommit(req, apiVersion);
    if (groupError !== ErrorCode.NONE) return allCodes(req.topics, groupError);
    const { results, records } = this.offsetRecords(req.groupId, req.topics, topicExists, (p) =>
      // v1 carried a client commit time; Kafka uses it when set, else its own clock.
      apiVersion === 1 && p.commitTimestamp >= 0n ? p.commitTimestamp : null,
    );
    if (records.length === 0) return results;
    if (!this.consumer.has(req.groupId)) this.classic.getOrCreate(req.groupId);
    for (const r of records) this.replay(r);
    try {
      await this.write(records);
    } catch (e) {
      failAll(results, writeErrorCode(e));
    }
    return results;
  }

  /**
   * TxnOffsetCommit: the offsets are written as part of the producer's transaction and kept
   * pending, invisible to OffsetFetch, until its marker lands on this partition (onTxnMarker):
   * COMMIT makes them the group's committed offsets, ABORT drops them.
   */
  async commitTxnOffsets(
    req: TxnOffsetCommitRequest,
    apiVersion: number,
    topicExists: (topic: string, partition: number) => boolean,
  ): Promise<Map<string, Map<number, number>>> {
    // v3+ members commit with their generation; earlier versions carry none (a standalone commit).
    const groupError = this.validateCommit(
      {
        groupId: req.groupId,
        generationIdOrMemberEpoch: apiVersion >= 3 ? req.generationId : -1,
        memberId: apiVersion >= 3 ? req.memberId : '',
        groupInstanceId: apiVersion >= 3 ? req.groupInstanceId : null,
      },
      9,
      true,
    );
    if (groupError !== ErrorCode.NONE) return allCodes(req.topics, groupError);
    const { results, records } = this.offsetRecords(req.groupId, req.topics, topicExists, () => null);
    if (records.length === 0) return results;
    try {
      await this.write(records, { producerId: req.producerId, producerEpoch: req.producerEpoch });
      if (!this.consumer.has(req.groupId)) this.classic.getOrCreate(req.groupId);
      this.addPendingTxnOffsets(req.producerId, records);
    } catch (e) {
      failAll(results, writeErrorCode(e));
    }
    return results;
  }

  /** The offset records of a commit, and each partition's code (unknown topics and oversized metadata refused). */
  private offsetRecords(
    groupId: string,
    topics: readonly {
      name: string;
      partitions: readonly {
        partitionIndex: number;
        committedOffset: bigint;
        committedLeaderEpoch: number;
        committedMetadata: string | null;
      }[];
    }[],
    topicExists: (topic: string, partition: number) => boolean,
    clientCommitTime: (p: { commitTimestamp: bigint }) => bigint | null,
  ): { results: Map<string, Map<number, number>>; records: OffsetCommitRecord[] } {
    const nowMs = BigInt(this.now());
    const results = new Map<string, Map<number, number>>();
    const records: OffsetCommitRecord[] = [];
    for (const t of topics) {
      const m = new Map<number, number>();
      results.set(t.name, m);
      for (const p of t.partitions) {
        const metadata = p.committedMetadata ?? '';
        if (!topicExists(t.name, p.partitionIndex)) {
          m.set(p.partitionIndex, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        } else if (Buffer.byteLength(metadata) > this.deps.config.offsetMetadataMaxBytes) {
          m.set(p.partitionIndex, ErrorCode.OFFSET_METADATA_TOO_LARGE);
        } else {
          m.set(p.partitionIndex, ErrorCode.NONE);
          const commitTimestamp =
            'commitTimestamp' in p ? (clientCommitTime(p as { commitTimestamp: bigint }) ?? nowMs) : nowMs;
          records.push({
            type: 'offsetCommit',
            key: {
              group: groupId,
              topic: t.name,
              partition: p.partitionIndex,
              unknownTaggedFields: undefined,
            },
            value: {
              offset: p.committedOffset,
              leaderEpoch: p.committedLeaderEpoch,
              metadata,
              commitTimestamp,
              expireTimestamp: -1n,
              unknownTaggedFields: undefined,
            },
          });
        }
      }
    }
    return { results, records };
  }

  // ---------------------------------------------------------------- transactional offsets

  private addPendingTxnOffsets(producerId: bigint, records: readonly OffsetCommitRecord[]): void {
    let pending = this.pendingTxnOffsets.get(producerId);
    if (pending === undefined)
      this.pendingTxnOffsets.set(producerId, (pending = new Map<string, OffsetCommitRecord>()));
    for (const r of records) pending.set(offsetKey(r.key.group, r.key.topic, r.key.partition), r);
  }

  /** A transaction marker of `producerId` landed on this partition: its pending offsets commit or go. */
  onTxnMarker(producerId: bigint, commit: boolean): void {
    const pending = this.pendingTxnOffsets.get(producerId);
    if (pending === undefined) return;
    this.pendingTxnOffsets.delete(producerId);
    if (!commit) return;
    for (const r of pending.values()) this.replay(r);
  }

  /** Whether a transaction has offsets pending for the group's partition (OffsetFetch requireStable). */
  hasPendingTxnOffset(groupId: string, topic: string, partition: number): boolean {
    const key = offsetKey(groupId, topic, partition);
    for (const offsets of this.pendingTxnOffsets.values()) if (offsets.has(key)) return true;
    return false;
  }

  private validateCommit(
    req: Pick<OffsetCommitRequest, 'groupId' | 'generationIdOrMemberEpoch' | 'memberId' | 'groupInstanceId'>,
    apiVersion: number,
    isTransactional = false,
  ): number {
    if (req.groupId === '') return ErrorCode.INVALID_GROUP_ID;
    if (this.consumer.has(req.groupId)) {
      // KIP-848 members commit with their member epoch (v9+); older versions only as standalone commits.
      if (apiVersion < 9 && req.generationIdOrMemberEpoch >= 0) return ErrorCode.UNSUPPORTED_VERSION;
      if (req.generationIdOrMemberEpoch < 0 && req.memberId === '') return ErrorCode.NONE;
      return this.consumer.validateOffsetCommit(req.groupId, req.memberId, req.generationIdOrMemberEpoch);
    }
    const group = this.classic.get(req.groupId);
    if (group === undefined) {
      // A commit from a member of a group this coordinator does not know: the member is gone.
      return req.generationIdOrMemberEpoch >= 0 ? ErrorCode.ILLEGAL_GENERATION : ErrorCode.NONE;
    }
    return this.classic.validateOffsetCommit(
      group,
      req.memberId,
      req.groupInstanceId,
      req.generationIdOrMemberEpoch,
      isTransactional,
    );
  }

  /**
   * OffsetFetch for one group: the committed offsets of `topics` (every partition asked,
   * -1 where none is committed) or of every partition with one when `topics` is null.
   */
  fetchOffsets(
    groupId: string,
    topics: readonly { name: string; partitionIndexes: readonly number[] }[] | null,
    member: { memberId: string | null; memberEpoch: number } | null,
  ): {
    errorCode: number;
    topics: {
      name: string;
      partitions: { partitionIndex: number; offset: bigint; leaderEpoch: number; metadata: string }[];
    }[];
  } {
    if (member !== null && this.consumer.has(groupId)) {
      const invalid = this.consumer.validateOffsetFetch(groupId, member.memberId, member.memberEpoch);
      if (invalid !== ErrorCode.NONE) return { errorCode: invalid, topics: [] };
    }
    const entry = (
      partitionIndex: number,
      topic: string,
    ): {
      partitionIndex: number;
      offset: bigint;
      leaderEpoch: number;
      metadata: string;
    } => {
      const c = this.offsets.get(groupId, topic, partitionIndex);
      return c === undefined
        ? { partitionIndex, offset: NO_OFFSET, leaderEpoch: -1, metadata: '' }
        : { partitionIndex, offset: BigInt(c.offset), leaderEpoch: c.leaderEpoch, metadata: c.metadata };
    };
    if (topics !== null) {
      return {
        errorCode: ErrorCode.NONE,
        topics: topics.map((t) => ({
          name: t.name,
          partitions: t.partitionIndexes.map((p) => entry(p, t.name)),
        })),
      };
    }
    const byTopic = new Map<string, ReturnType<typeof entry>[]>();
    for (const { topic, partition } of this.offsets.list(groupId)) {
      let list = byTopic.get(topic);
      if (list === undefined) byTopic.set(topic, (list = []));
      list.push(entry(partition, topic));
    }
    return {
      errorCode: ErrorCode.NONE,
      topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
    };
  }

  /** OffsetDelete: a group error, or per-partition codes once the tombstones are durable. */
  async deleteOffsets(
    groupId: string,
    topics: readonly { name: string; partitions: readonly number[] }[],
  ): Promise<{ errorCode: number; results: Map<string, Map<number, number>> }> {
    const results = new Map<string, Map<number, number>>();
    const classic = this.classic.get(groupId);
    const isConsumer = this.consumer.has(groupId);
    if (classic === undefined && !isConsumer) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, results };
    if (classic !== undefined && classic.state === 'Dead')
      return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, results };
    // A non-empty classic group must not lose offsets of topics it consumes (Kafka: GROUP_SUBSCRIBED_TO_TOPIC).
    let subscribed: Set<string> | null = new Set();
    if (classic !== undefined && classic.state !== 'Empty') {
      subscribed = classic.subscribedTopics();
      if (subscribed === null) return { errorCode: ErrorCode.NON_EMPTY_GROUP, results };
    }
    const records: CoordinatorRecord[] = [];
    for (const t of topics) {
      const m = new Map<number, number>();
      results.set(t.name, m);
      for (const p of t.partitions) {
        if (subscribed.has(t.name)) {
          m.set(p, ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC);
          continue;
        }
        m.set(p, ErrorCode.NONE);
        if (this.offsets.get(groupId, t.name, p) !== undefined)
          records.push(offsetTombstone(groupId, t.name, p));
      }
    }
    for (const r of records) this.replay(r);
    try {
      await this.write(records);
    } catch (e) {
      return { errorCode: writeErrorCode(e), results: new Map() };
    }
    return { errorCode: ErrorCode.NONE, results };
  }

  // ---------------------------------------------------------------- admin

  describeGroup(groupId: string): DescribedGroup {
    const classic = this.classic.get(groupId);
    if (classic !== undefined) return describeClassic(classic);
    if (this.consumer.has(groupId)) {
      const d = this.consumer.describe([groupId], false)[0]!;
      return {
        errorCode: ErrorCode.NONE,
        groupId,
        groupState: d.groupState,
        protocolType: 'consumer',
        protocolData: '',
        members: d.members.map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.instanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          memberMetadata: Buffer.alloc(0),
          memberAssignment: Buffer.alloc(0),
          unknownTaggedFields: undefined,
        })),
      };
    }
    // Kafka answers an unknown group as Dead with no error (DescribeGroups v0-5).
    return {
      errorCode: ErrorCode.NONE,
      groupId,
      groupState: 'Dead',
      protocolType: '',
      protocolData: '',
      members: [],
    };
  }

  listGroups(): { groupId: string; protocolType: string; groupState: string; groupType: string }[] {
    const out: { groupId: string; protocolType: string; groupState: string; groupType: string }[] = [];
    for (const g of this.classic.groups.values()) {
      if (g.state === 'Dead') continue;
      out.push({
        groupId: g.groupId,
        protocolType: g.protocolType ?? '',
        groupState: g.state,
        groupType: 'classic',
      });
    }
    for (const g of this.consumer.list()) {
      out.push({ groupId: g.groupId, protocolType: 'consumer', groupState: g.state, groupType: 'consumer' });
    }
    return out;
  }

  /** DeleteGroups for one group: NONE once the tombstones of the group and its offsets are durable. */
  async deleteGroup(groupId: string): Promise<number> {
    const records: CoordinatorRecord[] = [];
    const classic = this.classic.get(groupId);
    if (this.consumer.has(groupId)) {
      const r = this.consumer.deleteGroup(groupId);
      if (typeof r === 'number') return r;
      records.push(...r);
    } else if (classic === undefined || classic.state === 'Dead') {
      return ErrorCode.GROUP_ID_NOT_FOUND;
    } else if (classic.state !== 'Empty') {
      return ErrorCode.NON_EMPTY_GROUP;
    }
    for (const { topic, partition } of this.offsets.list(groupId))
      records.push(offsetTombstone(groupId, topic, partition));
    if (classic !== undefined) {
      records.push({
        type: 'groupMetadata',
        key: { group: groupId, unknownTaggedFields: undefined },
        value: null,
      });
      this.classic.delete(classic);
    }
    for (const r of records) if (r.type !== 'groupMetadata') this.replay(r);
    try {
      await this.write(records);
    } catch (e) {
      return writeErrorCode(e);
    }
    this.deps.logLine(`group ${groupId} deleted`);
    return ErrorCode.NONE;
  }

  /** The committed offsets of a group (for admin views: lag is the log end offset minus these). */
  committedOffsets(
    groupId: string,
  ): { topic: string; partition: number; offset: number; metadata: string }[] {
    return this.offsets.list(groupId).map((e) => ({
      topic: e.topic,
      partition: e.partition,
      offset: e.offset.offset,
      metadata: e.offset.metadata,
    }));
  }

  // ---------------------------------------------------------------- background

  /**
   * offsets.retention.minutes: offsets of a group that has been empty for the retention time
   * expire (for groups without a group protocol — standalone consumers — each offset from its
   * own commit time; for a group that is consuming, offsets of topics it no longer subscribes
   * to). An empty classic group left with no offsets is deleted. Tombstones make it durable.
   */
  expireOffsets(): void {
    if (this.state !== 'active') return;
    const nowMs = this.now();
    const retentionMs = this.deps.config.offsetsRetentionMs;
    const records: CoordinatorRecord[] = [];
    const expiredGroups: ClassicGroup[] = [];
    const consumerStates = new Map(this.consumer.list().map((g) => [g.groupId, g.state]));
    for (const groupId of [...this.offsets.groups()]) {
      const classic = this.classic.get(groupId);
      const consumerGroupState = consumerStates.get(groupId);
      let expired: (o: {
        topic: string;
        commitTimestampMs: number;
        expireTimestampMs: number | null;
      }) => boolean;
      const byOwnTime = (o: { commitTimestampMs: number; expireTimestampMs: number | null }): boolean =>
        (o.expireTimestampMs ?? o.commitTimestampMs + retentionMs) <= nowMs;
      if (consumerGroupState !== undefined) {
        if (consumerGroupState !== 'Empty') continue;
        expired = byOwnTime;
      } else if (classic === undefined || (classic.state === 'Empty' && !classic.protocolType)) {
        expired = byOwnTime;
      } else if (classic.state === 'Empty') {
        const emptySince = classic.stateSinceMs;
        expired = (o) =>
          o.expireTimestampMs !== null ? o.expireTimestampMs <= nowMs : emptySince + retentionMs <= nowMs;
      } else {
        const subscribed = classic.subscribedTopics();
        if (subscribed === null) continue;
        expired = (o) => !subscribed.has(o.topic) && byOwnTime(o);
      }
      for (const e of this.offsets.list(groupId)) {
        if (expired({ topic: e.topic, ...e.offset }))
          records.push(offsetTombstone(groupId, e.topic, e.partition));
      }
    }
    for (const r of records) this.replay(r);
    for (const group of this.classic.groups.values()) {
      if (
        group.state === 'Empty' &&
        !this.offsets.hasOffsets(group.groupId) &&
        group.pendingMembers.size === 0
      ) {
        expiredGroups.push(group);
      }
    }
    for (const group of expiredGroups) {
      records.push({
        type: 'groupMetadata',
        key: { group: group.groupId, unknownTaggedFields: undefined },
        value: null,
      });
      this.classic.delete(group);
    }
    if (records.length === 0) return;
    this.deps.logLine(
      `__consumer_offsets-${this.partition}: expired ${records.length - expiredGroups.length} offset(s) and ${expiredGroups.length} empty group(s)`,
    );
    this.write(records).catch(() => undefined);
  }

  /** Topics were created, deleted or grew: consumer groups re-assign; offsets of deleted topics go. */
  onTopicsChanged(deletedTopics: readonly string[]): void {
    if (this.state !== 'active') return;
    const records = this.consumer.onTopicsChanged();
    if (deletedTopics.length > 0) {
      const deleted = new Set(deletedTopics);
      for (const groupId of [...this.offsets.groups()]) {
        for (const e of this.offsets.list(groupId)) {
          if (deleted.has(e.topic)) records.push(offsetTombstone(groupId, e.topic, e.partition));
        }
      }
    }
    if (records.length === 0) return;
    for (const r of records) this.replay(r);
    this.write(records).catch(() => undefined);
  }
}

function offsetTombstone(group: string, topic: string, partition: number): CoordinatorRecord {
  return {
    type: 'offsetCommit',
    key: { group, topic, partition, unknownTaggedFields: undefined },
    value: null,
  };
}

function describeClassic(g: ClassicGroup): DescribedGroup {
  // Kafka gives member metadata and assignments only for a Stable group.
  const full = g.state === 'Stable';
  return {
    errorCode: ErrorCode.NONE,
    groupId: g.groupId,
    groupState: g.state,
    protocolType: g.protocolType ?? '',
    protocolData: full ? (g.protocolName ?? '') : '',
    members: [...g.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      memberMetadata: full && g.protocolName !== null ? m.metadataFor(g.protocolName) : Buffer.alloc(0),
      memberAssignment: full ? m.assignment : Buffer.alloc(0),
      unknownTaggedFields: undefined,
    })),
  };
}

/** The error a client sees when the coordinator could not make its change durable, as Kafka maps it. */
export function writeErrorCode(e: unknown): number {
  const code = e instanceof StorageError ? e.errorCode : ErrorCode.UNKNOWN_SERVER_ERROR;
  switch (code) {
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case ErrorCode.REQUEST_TIMED_OUT:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
      return ErrorCode.NOT_COORDINATOR;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
    case ErrorCode.INVALID_FETCH_SIZE:
      return ErrorCode.INVALID_COMMIT_OFFSET_SIZE;
    default:
      return code;
  }
}

/** The same code for every partition of a commit. */
function allCodes(
  topics: readonly { name: string; partitions: readonly { partitionIndex: number }[] }[],
  errorCode: number,
): Map<string, Map<number, number>> {
  const results = new Map<string, Map<number, number>>();
  for (const t of topics)
    results.set(t.name, new Map(t.partitions.map((p) => [p.partitionIndex, errorCode])));
  return results;
}

/** A failed append: every partition that was going to succeed gets `errorCode`. */
function failAll(results: Map<string, Map<number, number>>, errorCode: number): void {
  for (const m of results.values()) for (const [p, c] of m) if (c === ErrorCode.NONE) m.set(p, errorCode);
}
