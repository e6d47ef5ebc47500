/**
 * A consumer's membership in a group, classic protocol (Java's ConsumerCoordinator):
 *
 * - The coordinator comes from FindCoordinator; group requests go over a connection of their
 *   own, so a JoinGroup that waits for the other members, or a heartbeat, never queues behind
 *   a long-polling Fetch to the same broker (Java does the same).
 * - Joining: JoinGroup with the assignors' protocols in preference order and
 *   rebalanceTimeoutMs = maxPollIntervalMs; MEMBER_ID_REQUIRED (KIP-394) is answered by
 *   joining again with the id given. The leader decodes every member's subscription, assigns
 *   with the protocol the coordinator chose, and sends the result in SyncGroup.
 * - Rebalances run when the consumer asks (ensureActive, from poll), so callbacks run in the
 *   application's flow. Eager: every owned partition is revoked before joining. Cooperative
 *   (KIP-429): only partitions that move are revoked, after the SyncGroup that moves them, and
 *   the member then joins again so the next rebalance can hand them over.
 * - Heartbeats run on a timer of their own from SyncGroup until the next JoinGroup, whatever
 *   the application is doing: REBALANCE_IN_PROGRESS asks for a rejoin; UNKNOWN_MEMBER_ID and
 *   ILLEGAL_GENERATION reset the membership (owned partitions are lost, not revoked);
 *   NOT_COORDINATOR finds the coordinator again. If the application does not poll within
 *   maxPollIntervalMs the member leaves the group, as Java's heartbeat thread does.
 * - Static membership (KIP-345) sends groupInstanceId; a static member does not send
 *   LeaveGroup when it closes, so it can come back within the session timeout unnoticed.
 * - Offsets are committed and fetched (group-offsets.ts) through the same coordinator connection.
 */
import { ErrorCode, errorName } from '../protocol/error-codes.js';
import { ApiKey, apis } from '../protocol/generated/api-keys.js';
import type { JoinGroupResponse } from '../protocol/generated/message/JoinGroupResponse.js';
import type { Clock } from '../runtime/clock.js';
import type { PartitionAssignor, RebalanceProtocol } from './assignor-support.js';
import { isAssignorName, rebalanceProtocolOf } from './assignors.js';
import type { Cluster } from './cluster.js';
import { BrokerConnection, type ConnectionOptions } from './connection.js';
import {
  CONSUMER_PROTOCOL_TYPE,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  type MemberSubscription,
} from './consumer-protocol.js';
import { clientError, kafkaError, KafkaClientError } from './errors.js';
import {
  COORDINATOR_ERRORS,
  GroupOffsets,
  nonRetriable,
  type CommittedOffset,
  type OffsetToCommit,
} from './group-offsets.js';
import { formatTopicPartitions, keyOf, sortTopicPartitions, type TopicPartition } from './topic-partition.js';

export type { CommittedOffset, OffsetToCommit } from './group-offsets.js';

/** Java's JOIN_GROUP_TIMEOUT_LAPSE: a JoinGroup may wait the whole rebalance timeout, plus this. */
const JOIN_GROUP_TIMEOUT_LAPSE_MS = 5000;
/** Bound on JoinGroup/SyncGroup round trips in one rebalance, whatever the errors. */
const MAX_REBALANCE_ATTEMPTS = 500;

/** Join/sync errors after which the member joins again (after a backoff), as Java's coordinator. */
const RETRY_JOIN_ERRORS: ReadonlySet<number> = new Set([
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
  ErrorCode.REBALANCE_IN_PROGRESS,
]);

export interface RebalanceListener {
  /** Partitions taken away in a rebalance; with auto-commit their offsets are committed before this runs. */
  onPartitionsRevoked?(partitions: TopicPartition[]): Promise<void> | void;
  /** Partitions added by a rebalance (cooperative: only the new ones; may be empty). */
  onPartitionsAssigned?(partitions: TopicPartition[]): Promise<void> | void;
  /** Partitions lost when the member was fenced (no commit possible); defaults to onPartitionsRevoked. */
  onPartitionsLost?(partitions: TopicPartition[]): Promise<void> | void;
}

/** What the membership needs from the consumer. */
export interface MembershipHost {
  /** The topics this member subscribes to now (sorted). */
  subscribedTopics(): string[];
  owned(): TopicPartition[];
  /** Gives partitions up: commit (auto-commit), the listener, then the assignment shrinks. */
  revoke(partitions: TopicPartition[]): Promise<void>;
  /** Partitions lost with a fenced generation: the listener only. */
  lose(partitions: TopicPartition[]): Promise<void>;
  /** The new assignment (`all`), of which `added` is new; the listener runs with `added`. */
  assigned(added: TopicPartition[], all: TopicPartition[]): Promise<void>;
  /** Partition counts of `topics` for the leader's assignment; unknown topics are left out. */
  partitionCounts(topics: string[]): Promise<Map<string, number>>;
  /** Something needs the application's poll: a rejoin, a fatal error. */
  wake(): void;
}

export interface MembershipOptions {
  groupId: string;
  groupInstanceId: string | null;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  heartbeatIntervalMs: number;
  assignors: readonly PartitionAssignor[];
}

type MemberState = 'unjoined' | 'rebalancing' | 'stable';

export class GroupMembership {
  readonly protocol: RebalanceProtocol;
  memberId = '';
  generationId = -1;
  protocolName: string | null = null;
  private state: MemberState = 'unjoined';
  private rejoinReason: string | null = 'initial join';
  /** The generation was reset under us: owned partitions are lost, not revoked, at the next rebalance. */
  private partitionsLost = false;
  private fatal: KafkaClientError | null = null;
  private conn: BrokerConnection | null = null;
  private connOpening: Promise<BrokerConnection> | null = null;
  private rebalancing: Promise<void> | null = null;
  private cancelHeartbeat: (() => void) | null = null;
  private heartbeatInFlight = false;
  private lastPollMs: number;
  /** beginClose() ran: no more joins or heartbeats; commits and LeaveGroup still go out. */
  private closed = false;
  /** close() finished: the coordinator connection is gone for good. */
  private finished = false;
  /** Generation of the last completed assignment (sent in cooperative-sticky's userData). */
  private lastAssignedGeneration = -1;
  /** As leader: partition counts the assignment was made from, to notice topics changing. */
  private leaderSnapshot: Map<string, number> | null = null;
  /** As leader: every member's topics. */
  private groupTopics: string[] = [];
  private readonly offsets: GroupOffsets;

  constructor(
    private readonly cluster: Cluster,
    private readonly options: MembershipOptions,
    private readonly host: MembershipHost,
    private readonly clock: Clock,
    private readonly log: (message: string) => void,
  ) {
    this.protocol = rebalanceProtocolOf(options.assignors);
    this.lastPollMs = clock.nowMs();
    this.offsets = new GroupOffsets(
      cluster,
      options,
      {
        identity: () => ({ generationId: this.generationId, memberId: this.memberId }),
        isFinished: () => this.finished,
        coordinator: () => this.coordinator(),
        dropCoordinator: () => this.dropCoordinator(),
        commitRefused: (code, context) => this.commitRefused(code, context),
        sleep: (ms) => this.sleep(ms),
      },
      clock,
    );
  }

  get isStable(): boolean {
    return this.state === 'stable' && this.rejoinReason === null;
  }

  get isLeader(): boolean {
    return this.leaderSnapshot !== null;
  }

  /** As leader, the topics of the whole group (for metadata watching). */
  leaderTopics(): string[] {
    return this.groupTopics;
  }

  /** As leader: some subscribed topic had no partitions to assign (not created yet, no leader yet). */
  get waitingForTopics(): boolean {
    const snapshot = this.leaderSnapshot;
    return snapshot !== null && this.groupTopics.some((t) => !snapshot.has(t));
  }

  /** As leader: whether partition counts differ from those the assignment was made with. */
  assignmentOutdated(counts: ReadonlyMap<string, number>): boolean {
    const snapshot = this.leaderSnapshot;
    if (snapshot === null) return false;
    for (const topic of this.groupTopics) {
      if (snapshot.get(topic) !== counts.get(topic)) return true;
    }
    return false;
  }

  requestRejoin(reason: string): void {
    if (this.rejoinReason === null) {
      this.log(`group ${this.options.groupId}: rejoin requested: ${reason}`);
      this.rejoinReason = reason;
    }
    this.host.wake();
  }

  /** The application polled: the max.poll.interval.ms clock restarts. */
  notePoll(): void {
    this.lastPollMs = this.clock.nowMs();
  }

  /** Joins (or rejoins) the group if needed; resolves when the member has its assignment. */
  async ensureActive(): Promise<void> {
    if (this.fatal !== null) throw this.fatal;
    if (this.closed) throw clientError('CLIENT_CLOSED', 'the consumer has been closed');
    if (this.isStable) return;
    this.rebalancing ??= this.rebalance().finally(() => {
      this.rebalancing = null;
    });
    await this.rebalancing;
    this.throwIfFailed();
  }

  /** A fatal group error (fenced static member, inconsistent protocol, …) ends the membership. */
  throwIfFailed(): void {
    if (this.fatal !== null) throw this.fatal;
  }

  private async rebalance(): Promise<void> {
    const groupId = this.options.groupId;
    // onJoinPrepare: partitions of a fenced generation are lost; eager revokes everything.
    const owned = this.host.owned();
    if (this.partitionsLost) {
      this.partitionsLost = false;
      if (owned.length > 0) await this.host.lose(owned);
    } else if (this.protocol === 'eager') {
      if (owned.length > 0) await this.host.revoke(owned);
    } else {
      const topics = new Set(this.host.subscribedTopics());
      const unsubscribed = owned.filter((tp) => !topics.has(tp.topic));
      if (unsubscribed.length > 0) await this.host.revoke(unsubscribed);
    }
    for (let attempt = 1; attempt <= MAX_REBALANCE_ATTEMPTS; attempt++) {
      if (this.closed) throw clientError('CLIENT_CLOSED', 'the consumer has been closed');
      if (this.fatal !== null) return;
      try {
        const done = await this.joinAndSync();
        if (done) return;
      } catch (e) {
        if (!(e instanceof KafkaClientError) || !e.retriable) {
          this.fail(e);
          return;
        }
        this.log(`group ${groupId}: ${e.message}; retrying the join`);
        this.dropCoordinator();
        await this.sleep(this.cluster.backoffMs(Math.min(attempt, 10)));
      }
    }
    this.fail(
      clientError(
        'DEADLINE_EXCEEDED',
        `group ${groupId}: no assignment after ${MAX_REBALANCE_ATTEMPTS} attempts`,
      ),
    );
  }

  private fail(e: unknown): void {
    this.fatal =
      e instanceof KafkaClientError
        ? e
        : clientError('PROTOCOL_ERROR', `group ${this.options.groupId}: ${String(e)}`, e);
    this.stopHeartbeat();
    this.host.wake();
  }

  /** One JoinGroup + SyncGroup; true when the member has its assignment, false to go again. */
  private async joinAndSync(): Promise<boolean> {
    const o = this.options;
    const conn = await this.coordinator();
    const joinVersion = conn.version(ApiKey.JoinGroup);
    if (joinVersion < 0) throw kafkaError(ErrorCode.UNSUPPORTED_VERSION, `JoinGroup to ${conn.address}`);
    if (o.groupInstanceId !== null && joinVersion < 5) {
      throw kafkaError(
        ErrorCode.UNSUPPORTED_VERSION,
        `groupInstanceId needs JoinGroup v5+ (${conn.address})`,
      );
    }
    this.stopHeartbeat();
    this.state = 'rebalancing';
    const reason = this.rejoinReason;
    this.rejoinReason = null;
    const topics = this.host.subscribedTopics();
    // Eager members revoked everything before joining: they own nothing now.
    const owned = this.protocol === 'cooperative' ? this.host.owned() : [];
    const protocols = o.assignors.map((a) => ({
      name: a.name,
      metadata: encodeSubscription({
        topics,
        userData: a.subscriptionUserData(this.lastAssignedGeneration),
        ownedPartitions: owned,
        generationId: this.generationId,
        rackId: null,
      }),
    }));
    let join: JoinGroupResponse;
    try {
      join = await conn.send(
        apis.JoinGroup,
        joinVersion,
        {
          groupId: o.groupId,
          sessionTimeoutMs: o.sessionTimeoutMs,
          rebalanceTimeoutMs: o.rebalanceTimeoutMs,
          memberId: this.memberId,
          groupInstanceId: o.groupInstanceId,
          protocolType: CONSUMER_PROTOCOL_TYPE,
          protocols,
          reason: reason ?? null,
        },
        {
          timeoutMs: Math.max(
            this.cluster.options.requestTimeoutMs,
            o.rebalanceTimeoutMs + JOIN_GROUP_TIMEOUT_LAPSE_MS,
          ),
        },
      );
    } catch (e) {
      this.rejoinReason = reason ?? 'join failed';
      throw e;
    }
    const context = `JoinGroup ${o.groupId}`;
    switch (join.errorCode) {
      case ErrorCode.NONE:
        break;
      case ErrorCode.MEMBER_ID_REQUIRED:
        // KIP-394: the coordinator hands out the id and waits for a join that carries it.
        this.memberId = join.memberId;
        this.rejoinReason = 'the coordinator assigned a member id';
        return false;
      case ErrorCode.UNKNOWN_MEMBER_ID:
        this.resetGeneration(true);
        this.rejoinReason = 'unknown member id';
        return false;
      case ErrorCode.ILLEGAL_GENERATION:
        this.resetGeneration(false);
        this.rejoinReason = 'illegal generation';
        return false;
      default:
        this.rejoinReason = reason ?? 'join failed';
        if (COORDINATOR_ERRORS.has(join.errorCode)) {
          this.dropCoordinator();
          throw kafkaError(join.errorCode, context);
        }
        if (RETRY_JOIN_ERRORS.has(join.errorCode)) throw kafkaError(join.errorCode, context);
        // FENCED_INSTANCE_ID, INCONSISTENT_GROUP_PROTOCOL, INVALID_SESSION_TIMEOUT, GROUP_MAX_SIZE_REACHED, …
        throw nonRetriable(join.errorCode, context);
    }
    this.memberId = join.memberId;
    this.generationId = join.generationId;
    this.protocolName = join.protocolName;
    const isLeader = join.leader === join.memberId;
    this.log(
      `group ${o.groupId}: joined generation ${join.generationId} as ${join.memberId}${isLeader ? ' (leader)' : ''}, protocol ${join.protocolName}`,
    );

    let assignments: { memberId: string; assignment: Buffer }[] = [];
    this.leaderSnapshot = null;
    if (isLeader && !join.skipAssignment) assignments = await this.leaderAssign(join);

    const syncVersion = conn.version(ApiKey.SyncGroup);
    if (syncVersion < 0) throw kafkaError(ErrorCode.UNSUPPORTED_VERSION, `SyncGroup to ${conn.address}`);
    let sync;
    try {
      sync = await conn.send(apis.SyncGroup, syncVersion, {
        groupId: o.groupId,
        generationId: this.generationId,
        memberId: this.memberId,
        groupInstanceId: o.groupInstanceId,
        protocolType: CONSUMER_PROTOCOL_TYPE,
        protocolName: this.protocolName,
        assignments,
      });
    } catch (e) {
      this.rejoinReason = 'sync failed';
      throw e;
    }
    const syncContext = `SyncGroup ${o.groupId}`;
    switch (sync.errorCode) {
      case ErrorCode.NONE:
        break;
      case ErrorCode.REBALANCE_IN_PROGRESS:
        this.rejoinReason = 'rebalance in progress at sync';
        return false;
      case ErrorCode.UNKNOWN_MEMBER_ID:
        this.resetGeneration(true);
        this.rejoinReason = 'unknown member id at sync';
        return false;
      case ErrorCode.ILLEGAL_GENERATION:
        this.resetGeneration(false);
        this.rejoinReason = 'illegal generation at sync';
        return false;
      default:
        this.rejoinReason = 'sync failed';
        if (COORDINATOR_ERRORS.has(sync.errorCode)) {
          this.dropCoordinator();
          throw kafkaError(sync.errorCode, syncContext);
        }
        if (RETRY_JOIN_ERRORS.has(sync.errorCode)) throw kafkaError(sync.errorCode, syncContext);
        throw nonRetriable(sync.errorCode, syncContext);
    }
    const decoded = decodeAssignment(sync.assignment);
    if (decoded instanceof Error)
      throw nonRetriable(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, `${syncContext}: ${decoded.message}`);
    const assigned = sortTopicPartitions(decoded.partitions);
    this.state = 'stable';
    this.startHeartbeat();
    await this.onAssigned(assigned);
    this.lastAssignedGeneration = this.generationId;
    return true;
  }

  /** onJoinComplete: hand the new assignment to the consumer, revoking what moved (cooperative). */
  private async onAssigned(assigned: TopicPartition[]): Promise<void> {
    this.log(`group ${this.options.groupId}: assigned ${formatTopicPartitions(assigned)}`);
    if (this.protocol === 'eager') {
      await this.host.assigned(assigned, assigned);
      return;
    }
    const owned = this.host.owned();
    const assignedKeys = new Set(assigned.map(keyOf));
    const ownedKeys = new Set(owned.map(keyOf));
    const revoked = owned.filter((tp) => !assignedKeys.has(keyOf(tp)));
    const added = assigned.filter((tp) => !ownedKeys.has(keyOf(tp)));
    if (revoked.length > 0) await this.host.revoke(revoked);
    await this.host.assigned(added, assigned);
    // KIP-429: the revoked partitions are unowned now; the next rebalance can hand them over.
    if (revoked.length > 0) this.requestRejoin(`revoked ${formatTopicPartitions(revoked)}`);
  }

  /** The leader's part: every member's subscription, the chosen assignor, one assignment each. */
  private async leaderAssign(join: JoinGroupResponse): Promise<{ memberId: string; assignment: Buffer }[]> {
    const name = join.protocolName;
    const assignor = isAssignorName(name) ? this.options.assignors.find((a) => a.name === name) : undefined;
    if (assignor === undefined) {
      throw nonRetriable(
        ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
        `group ${this.options.groupId}: the coordinator chose protocol ${String(name)}, which this consumer did not offer`,
      );
    }
    const members: MemberSubscription[] = [];
    for (const m of join.members) {
      const s = decodeSubscription(m.metadata);
      if (s instanceof Error) {
        this.log(
          `group ${this.options.groupId}: member ${m.memberId} sent a bad subscription (${s.message}); it gets nothing`,
        );
        members.push({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          topics: [],
          userData: null,
          ownedPartitions: [],
          generationId: -1,
          rackId: null,
        });
        continue;
      }
      members.push({ ...s, memberId: m.memberId, groupInstanceId: m.groupInstanceId });
    }
    const topics = [...new Set(members.flatMap((m) => m.topics))].sort();
    const counts = await this.host.partitionCounts(topics);
    const result = assignor.assign(counts, members);
    this.leaderSnapshot = new Map(topics.map((t) => [t, counts.get(t) ?? -1]));
    this.groupTopics = topics;
    for (const [t, n] of this.leaderSnapshot) if (n < 0) this.leaderSnapshot.delete(t);
    this.log(
      `group ${this.options.groupId}: ${assignor.name} assignment for generation ${join.generationId}: ` +
        [...result].map(([id, tps]) => `${id} → ${formatTopicPartitions(tps)}`).join('; '),
    );
    return members.map((m) => ({
      memberId: m.memberId,
      assignment: encodeAssignment({ partitions: result.get(m.memberId) ?? [], userData: null }),
    }));
  }

  private resetGeneration(resetMemberId: boolean): void {
    this.generationId = -1;
    if (resetMemberId) this.memberId = '';
    this.state = 'unjoined';
    this.partitionsLost = true;
    this.leaderSnapshot = null;
    this.stopHeartbeat();
  }

  // ------------------------------------------------------------------ coordinator connection

  private connectionOptions(): ConnectionOptions {
    const o = this.cluster.options;
    return {
      clientId: o.clientId,
      connectTimeoutMs: o.connectTimeoutMs,
      requestTimeoutMs: o.requestTimeoutMs,
      maxInFlightRequests: o.maxInFlightRequests,
      clock: this.clock,
      log: o.log,
    };
  }

  /** The group's own connection to its coordinator (found or found again as needed). */
  private async coordinator(): Promise<BrokerConnection> {
    if (this.conn !== null && !this.conn.closed) return this.conn;
    this.connOpening ??= (async () => {
      try {
        const pooled = await this.cluster.coordinator('group', this.options.groupId);
        const conn = await BrokerConnection.open(
          pooled.host,
          pooled.port,
          this.connectionOptions(),
          pooled.nodeId,
        );
        if (this.finished) {
          conn.close();
          throw clientError('CLIENT_CLOSED', 'the consumer has been closed');
        }
        this.conn = conn;
        return conn;
      } finally {
        this.connOpening = null;
      }
    })();
    return this.connOpening;
  }

  private dropCoordinator(): void {
    this.cluster.invalidateCoordinator('group', this.options.groupId);
    this.conn?.close();
    this.conn = null;
  }

  // ------------------------------------------------------------------ heartbeats

  private startHeartbeat(): void {
    this.stopHeartbeat();
    this.cancelHeartbeat = this.clock.schedule(this.options.heartbeatIntervalMs, () => {
      this.cancelHeartbeat = null;
      void this.heartbeat().finally(() => {
        if (this.state === 'stable' && !this.closed && this.cancelHeartbeat === null) this.startHeartbeat();
      });
    });
  }

  private stopHeartbeat(): void {
    this.cancelHeartbeat?.();
    this.cancelHeartbeat = null;
  }

  private async heartbeat(): Promise<void> {
    if (this.state !== 'stable' || this.closed || this.heartbeatInFlight) return;
    const o = this.options;
    const sincePollMs = this.clock.nowMs() - this.lastPollMs;
    if (sincePollMs > o.rebalanceTimeoutMs) {
      // Java's heartbeat thread: an application stuck for max.poll.interval.ms leaves the group,
      // so the others get its partitions; it rejoins at its next poll.
      this.log(
        `group ${o.groupId}: no poll for ${sincePollMs} ms (maxPollIntervalMs ${o.rebalanceTimeoutMs}); leaving the group`,
      );
      if (o.groupInstanceId === null) await this.leaveGroup('consumer poll timeout has expired');
      this.resetGeneration(o.groupInstanceId === null);
      this.rejoinReason = 'poll timeout expired';
      this.host.wake();
      return;
    }
    this.heartbeatInFlight = true;
    try {
      const conn = await this.coordinator();
      const version = conn.version(ApiKey.Heartbeat);
      const response = await conn.send(apis.Heartbeat, version, {
        groupId: o.groupId,
        generationId: this.generationId,
        memberId: this.memberId,
        groupInstanceId: o.groupInstanceId,
      });
      if (this.state !== 'stable') return; // a rebalance started meanwhile: it decides
      switch (response.errorCode) {
        case ErrorCode.NONE:
          return;
        case ErrorCode.REBALANCE_IN_PROGRESS:
          // Heartbeats go on until the application rejoins (within the rebalance timeout).
          this.requestRejoin('the group is rebalancing');
          return;
        case ErrorCode.UNKNOWN_MEMBER_ID:
          this.resetGeneration(true);
          this.requestRejoin('heartbeat: unknown member id');
          return;
        case ErrorCode.ILLEGAL_GENERATION:
          this.resetGeneration(false);
          this.requestRejoin('heartbeat: illegal generation');
          return;
        case ErrorCode.FENCED_INSTANCE_ID:
          this.fail(
            nonRetriable(response.errorCode, `Heartbeat ${o.groupId} (groupInstanceId ${o.groupInstanceId})`),
          );
          return;
        default:
          if (COORDINATOR_ERRORS.has(response.errorCode)) this.dropCoordinator();
          this.log(`group ${o.groupId}: heartbeat: ${errorName(response.errorCode)}`);
      }
    } catch (e) {
      this.log(`group ${o.groupId}: heartbeat failed: ${String(e)}`);
      if (e instanceof KafkaClientError && e.code === -1) this.dropCoordinator();
    } finally {
      this.heartbeatInFlight = false;
    }
  }

  // ------------------------------------------------------------------ offsets

  /** OffsetCommit for the group (see GroupOffsets.commitOffsets). */
  commitOffsets(offsets: readonly OffsetToCommit[], deadlineMs: number, asMember: boolean): Promise<void> {
    return this.offsets.commitOffsets(offsets, deadlineMs, asMember);
  }

  /** OffsetFetch for the group (see GroupOffsets.fetchCommitted). */
  fetchCommitted(tps: readonly TopicPartition[], deadlineMs: number): Promise<CommittedOffset[]> {
    return this.offsets.fetchCommitted(tps, deadlineMs);
  }

  /**
   * The group refused a commit: UNKNOWN_MEMBER_ID/ILLEGAL_GENERATION (the group moved on) and
   * REBALANCE_IN_PROGRESS make the member rejoin; FENCED_INSTANCE_ID ends the membership.
   */
  private commitRefused(code: number, context: string): void {
    if (code === ErrorCode.UNKNOWN_MEMBER_ID || code === ErrorCode.ILLEGAL_GENERATION) {
      this.resetGeneration(code === ErrorCode.UNKNOWN_MEMBER_ID);
      this.requestRejoin(`commit: ${errorName(code)}`);
    } else if (code === ErrorCode.REBALANCE_IN_PROGRESS) {
      this.requestRejoin('commit: rebalance in progress');
    } else if (code === ErrorCode.FENCED_INSTANCE_ID) {
      this.fail(nonRetriable(code, context));
    }
  }

  // ------------------------------------------------------------------ leaving

  private async leaveGroup(reason: string): Promise<void> {
    const o = this.options;
    if (this.memberId === '') return;
    try {
      const conn = await this.coordinator();
      const version = conn.version(ApiKey.LeaveGroup);
      if (version < 0) return;
      const response = await conn.send(apis.LeaveGroup, version, {
        groupId: o.groupId,
        memberId: version <= 2 ? this.memberId : '',
        members:
          version >= 3
            ? [
                {
                  memberId: this.memberId,
                  groupInstanceId: o.groupInstanceId,
                  reason: version >= 5 ? reason : null,
                },
              ]
            : [],
      });
      const code =
        response.errorCode !== ErrorCode.NONE
          ? response.errorCode
          : (response.members[0]?.errorCode ?? ErrorCode.NONE);
      if (code !== ErrorCode.NONE) this.log(`group ${o.groupId}: LeaveGroup: ${errorName(code)}`);
      else this.log(`group ${o.groupId}: left the group (${reason})`);
    } catch (e) {
      this.log(`group ${o.groupId}: LeaveGroup failed: ${String(e)}`);
    }
  }

  /**
   * Leaves the group after an unsubscribe (the consumer has revoked its partitions): a dynamic
   * member sends LeaveGroup; either way the next subscribe joins afresh.
   */
  async leave(reason: string): Promise<void> {
    const rebalance = this.rebalancing;
    if (rebalance !== null) await rebalance.catch(() => undefined);
    if (this.options.groupInstanceId === null && this.state !== 'unjoined') await this.leaveGroup(reason);
    this.resetGeneration(this.options.groupInstanceId === null);
    this.partitionsLost = false;
    this.rejoinReason = 'initial join';
  }

  /**
   * The consumer is closing: stops heartbeats and joins. A JoinGroup waiting for other members
   * (up to the rebalance timeout) is cut off by closing its connection, so close() does not wait
   * for it; commits and the LeaveGroup of close() reconnect.
   */
  beginClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopHeartbeat();
    if (this.rebalancing !== null) {
      this.conn?.close();
      this.conn = null;
    }
  }

  /**
   * Leaves the group (a dynamic member sends LeaveGroup so the others rebalance at once; a
   * static one stays until its session times out) and closes the coordinator connection.
   * The consumer revokes and commits before calling this.
   */
  async close(): Promise<void> {
    if (this.finished) return;
    this.beginClose();
    const rebalance = this.rebalancing;
    if (rebalance !== null) await rebalance.catch(() => undefined);
    if (this.options.groupInstanceId === null) await this.leaveGroup('the consumer is closing');
    this.state = 'unjoined';
    this.finished = true;
    this.conn?.close();
    this.conn = null;
  }

  /** Waits on the client's clock (Cluster.sleep). */
  private sleep(ms: number): Promise<void> {
    return this.cluster.sleep(ms);
  }
}
