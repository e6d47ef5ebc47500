/**
 * A consumer group's offsets on its coordinator: OffsetCommit (as a member of the current
 * generation, or as a consumer that assigns its own partitions) and OffsetFetch, each retried
 * through coordinator moves until its deadline. The membership owns the group state: it reacts
 * to a commit the group refused (commitRefused) and keeps the coordinator connection.
 */
import { ErrorCode } from '../protocol/error-codes.js';
import { ApiKey, apis } from '../protocol/generated/api-keys.js';
import type { OffsetCommitRequest } from '../protocol/generated/message/OffsetCommitRequest.js';
import type { Clock } from '../runtime/clock.js';
import type { Cluster } from './cluster.js';
import type { BrokerConnection } from './connection.js';
import { clientError, kafkaError, KafkaClientError } from './errors.js';
import { keyOf, tpKey, type TopicPartition } from './topic-partition.js';

/** Bound on OffsetCommit/OffsetFetch attempts (each also bounded by its deadline). */
const MAX_OFFSET_ATTEMPTS = 100;
/** OffsetFetch v8 moved to a list of groups. */
const OFFSET_FETCH_GROUPS_MIN_VERSION = 8;

/** Errors after which the group's coordinator is looked up again (commits, fetches, joins, heartbeats). */
export const COORDINATOR_ERRORS: ReadonlySet<number> = new Set([
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
]);

export interface OffsetToCommit {
  tp: TopicPartition;
  offset: bigint;
  leaderEpoch: number;
  metadata: string | null;
}

export interface CommittedOffset {
  topic: string;
  partition: number;
  /** null when the group has no committed offset for the partition. */
  offset: bigint | null;
  leaderEpoch: number;
  metadata: string | null;
}

/** What offset requests need from the group membership. */
export interface GroupOffsetsHost {
  /** The member's generation and id now (a commit as a member carries them). */
  identity(): { generationId: number; memberId: string };
  /** close() has finished: the coordinator connection is gone for good. */
  isFinished(): boolean;
  /** The group's connection to its coordinator (found again as needed). */
  coordinator(): Promise<BrokerConnection>;
  dropCoordinator(): void;
  /** The group refused a commit with `code` (the commit fails; the membership may rejoin or fail). */
  commitRefused(code: number, context: string): void;
  sleep(ms: number): Promise<void>;
}

export class GroupOffsets {
  constructor(
    private readonly cluster: Cluster,
    private readonly options: { readonly groupId: string; readonly groupInstanceId: string | null },
    private readonly group: GroupOffsetsHost,
    private readonly clock: Clock,
  ) {}

  /**
   * OffsetCommit for the group, as a member of the current generation (or with generation -1
   * and no member id for a consumer that assigns its own partitions). Retries coordinator
   * errors until `deadlineMs`; UNKNOWN_MEMBER_ID/ILLEGAL_GENERATION (the group moved on) and
   * REBALANCE_IN_PROGRESS fail the commit and make the member rejoin.
   */
  async commitOffsets(
    offsets: readonly OffsetToCommit[],
    deadlineMs: number,
    asMember: boolean,
  ): Promise<void> {
    if (offsets.length === 0) return;
    const o = this.options;
    let pending = [...offsets];
    for (let attempt = 1; attempt <= MAX_OFFSET_ATTEMPTS; attempt++) {
      if (this.group.isFinished()) throw clientError('CLIENT_CLOSED', 'the consumer has been closed');
      let retry: KafkaClientError | null = null;
      try {
        const conn = await this.group.coordinator();
        const version = conn.version(ApiKey.OffsetCommit);
        if (version < 0) throw kafkaError(ErrorCode.UNSUPPORTED_VERSION, `OffsetCommit to ${conn.address}`);
        const topics = new Map<string, OffsetCommitRequest.OffsetCommitRequestTopic>();
        for (const c of pending) {
          let t = topics.get(c.tp.topic);
          if (t === undefined) topics.set(c.tp.topic, (t = { name: c.tp.topic, partitions: [] }));
          t.partitions.push({
            partitionIndex: c.tp.partition,
            committedOffset: c.offset,
            committedLeaderEpoch: c.leaderEpoch,
            commitTimestamp: -1n,
            committedMetadata: c.metadata ?? '',
          });
        }
        const identity = this.group.identity();
        const member = asMember && identity.generationId >= 0;
        const response = await conn.send(apis.OffsetCommit, version, {
          groupId: o.groupId,
          generationIdOrMemberEpoch: member ? identity.generationId : -1,
          memberId: member ? identity.memberId : '',
          groupInstanceId: member && version >= 7 ? o.groupInstanceId : null,
          retentionTimeMs: -1n,
          topics: [...topics.values()],
        });
        const failed = new Set<string>();
        for (const t of response.topics) {
          for (const p of t.partitions) {
            if (p.errorCode === ErrorCode.NONE) continue;
            const context = `OffsetCommit ${o.groupId} ${tpKey(t.name, p.partitionIndex)}`;
            const code = p.errorCode;
            if (
              COORDINATOR_ERRORS.has(code) ||
              code === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS ||
              code === ErrorCode.REQUEST_TIMED_OUT
            ) {
              if (COORDINATOR_ERRORS.has(code)) this.group.dropCoordinator();
              retry = kafkaError(code, context);
              failed.add(tpKey(t.name, p.partitionIndex));
              continue;
            }
            this.group.commitRefused(code, context);
            throw nonRetriable(code, `${context} (the commit failed; offsets of this group are unchanged)`);
          }
        }
        if (retry === null) return;
        pending = pending.filter((c) => failed.has(keyOf(c.tp)));
      } catch (e) {
        if (!(e instanceof KafkaClientError) || !e.retriable) throw e;
        if (e.code === -1) this.group.dropCoordinator();
        retry = e;
      }
      const waitMs = this.cluster.backoffMs(attempt);
      if (this.clock.nowMs() + waitMs >= deadlineMs) throw retry;
      await this.group.sleep(waitMs);
    }
    throw clientError(
      'DEADLINE_EXCEEDED',
      `OffsetCommit ${o.groupId}: gave up after ${MAX_OFFSET_ATTEMPTS} attempts`,
    );
  }

  /** OffsetFetch (requireStable from v7: waits out pending transactional commits). */
  async fetchCommitted(tps: readonly TopicPartition[], deadlineMs: number): Promise<CommittedOffset[]> {
    if (tps.length === 0) return [];
    const o = this.options;
    const byTopic = new Map<string, number[]>();
    for (const tp of tps) {
      let list = byTopic.get(tp.topic);
      if (list === undefined) byTopic.set(tp.topic, (list = []));
      if (!list.includes(tp.partition)) list.push(tp.partition);
    }
    const topics = [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes }));
    for (let attempt = 1; attempt <= MAX_OFFSET_ATTEMPTS; attempt++) {
      let retry: KafkaClientError;
      try {
        const conn = await this.group.coordinator();
        const version = conn.version(ApiKey.OffsetFetch);
        if (version < 1) throw kafkaError(ErrorCode.UNSUPPORTED_VERSION, `OffsetFetch to ${conn.address}`);
        const groups = version >= OFFSET_FETCH_GROUPS_MIN_VERSION;
        const response = await conn.send(apis.OffsetFetch, version, {
          ...apis.OffsetFetch.request.create(),
          groupId: groups ? '' : o.groupId,
          topics: groups ? [] : topics,
          groups: groups ? [{ groupId: o.groupId, memberId: null, memberEpoch: -1, topics }] : [],
          requireStable: version >= 7,
        });
        const group = groups ? response.groups.find((g) => g.groupId === o.groupId) : undefined;
        const errorCode = groups ? (group?.errorCode ?? ErrorCode.NONE) : response.errorCode;
        const context = `OffsetFetch ${o.groupId}`;
        if (errorCode !== ErrorCode.NONE) {
          if (COORDINATOR_ERRORS.has(errorCode)) this.group.dropCoordinator();
          throw kafkaError(errorCode, context);
        }
        const out: CommittedOffset[] = [];
        const answered = groups ? (group?.topics ?? []) : response.topics;
        for (const t of answered) {
          for (const p of t.partitions) {
            if (p.errorCode !== ErrorCode.NONE)
              throw kafkaError(p.errorCode, `${context} ${tpKey(t.name, p.partitionIndex)}`);
            out.push({
              topic: t.name,
              partition: p.partitionIndex,
              offset: p.committedOffset < 0n ? null : p.committedOffset,
              leaderEpoch: p.committedLeaderEpoch,
              // Kafka answers '' for "nothing committed"; null says so plainly.
              metadata: p.committedOffset < 0n ? null : p.metadata,
            });
          }
        }
        return out;
      } catch (e) {
        if (!(e instanceof KafkaClientError) || !e.retriable) throw e;
        if (e.code === -1) this.group.dropCoordinator();
        retry = e;
      }
      const waitMs = this.cluster.backoffMs(attempt);
      if (this.clock.nowMs() + waitMs >= deadlineMs) throw retry;
      await this.group.sleep(waitMs);
    }
    throw clientError(
      'DEADLINE_EXCEEDED',
      `OffsetFetch ${o.groupId}: gave up after ${MAX_OFFSET_ATTEMPTS} attempts`,
    );
  }
}

/** A KafkaClientError that is not retried, whatever Kafka says of its code. */
export function nonRetriable(code: number, context: string): KafkaClientError {
  const e = kafkaError(code, context);
  return e.retriable ? new KafkaClientError(e.message, e.code, e.errorName, false) : e;
}
