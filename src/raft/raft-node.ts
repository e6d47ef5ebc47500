/**
 * The Raft core, with KRaft's shapes: epochs as terms, pull-based replication through Fetch,
 * Vote with a pre-vote round first (KIP-996), BeginQuorumEpoch to announce a leader,
 * EndQuorumEpoch to resign gracefully, FetchSnapshot for followers behind the leader's log
 * start, and observers that follow without voting.
 *
 * No I/O and no timers: a driver calls `poll(nowMs)` (due timers) and `receive(...)` (messages),
 * both synchronous. Log and quorum-state writes are synchronous and durable before the core
 * goes on: a vote is on disk before it is granted, a follower's entries are flushed before its
 * next Fetch acknowledges them, and the leader counts only its own flushed offset.
 *
 * Safety rules, as in Raft: one vote per epoch (persisted), votes only for a log at least as
 * up to date (last epoch, then end offset), the leader commits by majority only once an entry
 * of its own epoch is replicated (it appends an empty leader-change entry when it takes over),
 * and a follower truncates only what diverges from the leader (never below what is committed).
 *
 * Liveness: an election timeout with jitter, a pre-vote that needs a majority before anyone's
 * epoch moves (a partitioned node cannot disrupt a healthy quorum when it returns), and
 * check-quorum (a leader fetched from by no majority for fetchTimeoutMs steps down).
 *
 * Entries are delivered to the listener in offset order, each once per process lifetime, as the
 * high watermark passes them; entries with empty data are leader-change markers.
 */
import { ErrorCode } from '../protocol/error-codes.js';
import { BeginQuorumEpochRequest } from '../protocol/generated/message/BeginQuorumEpochRequest.js';
import { BeginQuorumEpochResponse } from '../protocol/generated/message/BeginQuorumEpochResponse.js';
import type { DescribeQuorumResponse } from '../protocol/generated/message/DescribeQuorumResponse.js';
import { EndQuorumEpochRequest } from '../protocol/generated/message/EndQuorumEpochRequest.js';
import { EndQuorumEpochResponse } from '../protocol/generated/message/EndQuorumEpochResponse.js';
import { FetchRequest } from '../protocol/generated/message/FetchRequest.js';
import { FetchResponse } from '../protocol/generated/message/FetchResponse.js';
import { FetchSnapshotRequest } from '../protocol/generated/message/FetchSnapshotRequest.js';
import { FetchSnapshotResponse } from '../protocol/generated/message/FetchSnapshotResponse.js';
import { VoteRequest } from '../protocol/generated/message/VoteRequest.js';
import { VoteResponse } from '../protocol/generated/message/VoteResponse.js';
import { ZERO_UUID } from '../protocol/primitives/uuid.js';
import { decodeEntries, encodeEntries } from './entry-batches.js';
import {
  METADATA_PARTITION,
  METADATA_TOPIC_ID,
  METADATA_TOPIC_NAME,
  type LogEntry,
  type OffsetAndEpoch,
  type QuorumState,
  type RaftDeps,
  type RaftMessage,
  type RaftRole,
  type Snapshot,
} from './types.js';

/**
 * The tag of the pre-vote flag on VoteRequest's partition data. Kafka 4 (KIP-996) made PreVote a
 * field of VoteRequest v2, which the spec folder this code is generated from does not have yet;
 * an unknown tagged field travels on v1 and Kafka ignores it.
 */
export const PRE_VOTE_TAG = 1000;
const PRE_VOTE_FIELD = [{ tag: PRE_VOTE_TAG, data: Buffer.from([1]) }];

/** Check-quorum waits this many fetch timeouts, as KRaft (1.5 ×). */
const CHECK_QUORUM_FACTOR = 1.5;
/** An observer that has not fetched for this long is forgotten by the leader (as KRaft's leader). */
const OBSERVER_SESSION_TIMEOUT_MS = 300_000;
/** A time that never comes. */
const NO_TIME = Number.POSITIVE_INFINITY;

interface ReplicaProgress {
  /** Offset below which the replica has the leader's log, flushed (-1: not known yet). */
  endOffset: number;
  lastFetchMs: number;
  lastCaughtUpMs: number;
  /** The high watermark last sent to it: a fetch at the log end waits only when it knows the current one. */
  lastSentHw: number;
}

interface ParkedFetch {
  from: number;
  correlationId: number;
  fetchOffset: number;
  deadlineMs: number;
}

interface SnapshotDownload {
  endOffset: number;
  epoch: number;
  chunks: Buffer[];
  position: number;
}

function isPreVote(p: VoteRequest.PartitionData): boolean {
  return p.unknownTaggedFields?.some((f) => f.tag === PRE_VOTE_TAG && f.data[0] === 1) ?? false;
}

export class RaftNode {
  readonly nodeId: number;
  private readonly deps: RaftDeps;
  private readonly voters: readonly number[];
  private readonly isVoter: boolean;
  private readonly majority: number;

  private epochValue = 0;
  private votedId = -1;
  private leaderIdValue = -1;
  /**
   * The leader this node last stopped hearing from, in its epoch: another voter's word that it
   * still leads is not followed (both would go back to a dead leader, in step, forever); only
   * the leader itself (BeginQuorumEpoch) or a newer epoch moves this node to follow again.
   */
  private abandonedLeader = { epoch: -1, leaderId: -1 };
  private roleValue: RaftRole = 'unattached';
  private hw = 0;
  /** Entries below this offset were delivered to the listener in this process lifetime. */
  private delivered = 0;
  private nextCorrelationId = 1;

  // Timers (absolute times on the driver's clock; NO_TIME when not armed).
  private electionDeadlineMs = NO_TIME;
  private fetchDeadlineMs = NO_TIME;
  private flushDeadlineMs = NO_TIME;
  private checkQuorumDeadlineMs = NO_TIME;
  /** When the leader next announces itself to voters that have not fetched lately. */
  private announceDeadlineMs = NO_TIME;

  // Elections.
  private granted = new Set<number>();
  private rejected = new Set<number>();
  private voteCorrelations = new Map<number, number>();

  // Following.
  private fetchInFlight: { correlationId: number; to: number; sentMs: number } | null = null;
  private snapshotDownload: SnapshotDownload | null = null;
  /** Observers without a known leader ask the voters in turn. */
  private observerCursor = 0;

  // Leading.
  private readonly progress = new Map<number, ReplicaProgress>();
  private parked: ParkedFetch[] = [];
  /** The offset of this leader's first entry of its epoch: nothing commits before it is. */
  private epochStartOffset = 0;

  constructor(deps: RaftDeps, nowMs: number) {
    this.deps = deps;
    this.nodeId = deps.nodeId;
    this.voters = [...new Set(deps.voters)].sort((a, b) => a - b);
    this.isVoter = this.voters.includes(deps.nodeId);
    this.majority = Math.floor(this.voters.length / 2) + 1;

    const snapshot = deps.log.latestSnapshot();
    if (snapshot !== null) {
      deps.listener.loadSnapshot(snapshot);
      this.hw = snapshot.endOffset;
    }
    this.delivered = Math.max(this.hw, deps.log.startOffset);
    this.hw = this.delivered;

    const state = deps.quorumState.read();
    if (state !== null) {
      this.epochValue = state.epoch;
      this.votedId = state.votedId;
      // A node that led this epoch before a restart does not lead it again: it waits for an
      // election (it voted for itself, so it grants no other vote in this epoch).
      if (state.leaderId >= 0 && state.leaderId !== this.nodeId) {
        this.becomeFollower(state.epoch, state.leaderId, nowMs);
        return;
      }
    }
    this.roleValue = this.votedId >= 0 ? 'voted' : 'unattached';
    this.armElectionTimer(nowMs);
  }

  // ------------------------------------------------------------------ read-only state

  get role(): RaftRole {
    return this.roleValue;
  }
  get epoch(): number {
    return this.epochValue;
  }
  get leaderId(): number {
    return this.leaderIdValue;
  }
  get highWatermark(): number {
    return this.hw;
  }

  nextPollMs(): number {
    let t = Math.min(
      this.electionDeadlineMs,
      this.fetchDeadlineMs,
      this.flushDeadlineMs,
      this.checkQuorumDeadlineMs,
    );
    for (const p of this.parked) t = Math.min(t, p.deadlineMs);
    if (this.fetchInFlight !== null) t = Math.min(t, this.fetchInFlight.sentMs + this.lostFetchMs());
    else if (this.roleValue === 'follower') t = Math.min(t, 0);
    if (this.roleValue === 'leader') t = Math.min(t, this.announceDeadlineMs);
    return t;
  }

  private log(message: string): void {
    this.deps.logLine?.(`raft ${this.nodeId} (epoch ${this.epochValue}, ${this.roleValue}): ${message}`);
  }

  // ------------------------------------------------------------------ state changes

  private persist(): void {
    const state: QuorumState = {
      epoch: this.epochValue,
      votedId: this.votedId,
      leaderId: this.leaderIdValue,
    };
    this.deps.quorumState.write(state);
  }

  private randomTimeoutMs(): number {
    const t = this.deps.config.electionTimeoutMs;
    return t + Math.floor(this.deps.random() * t);
  }

  private armElectionTimer(nowMs: number, delayMs = this.randomTimeoutMs()): void {
    this.electionDeadlineMs = this.isVoter ? nowMs + delayMs : NO_TIME;
    // An observer without a leader keeps looking for one.
    if (!this.isVoter) this.fetchDeadlineMs = nowMs;
  }

  private clearRoleState(): void {
    this.electionDeadlineMs = NO_TIME;
    this.fetchDeadlineMs = NO_TIME;
    this.flushDeadlineMs = NO_TIME;
    this.checkQuorumDeadlineMs = NO_TIME;
    this.announceDeadlineMs = NO_TIME;
    this.granted = new Set();
    this.rejected = new Set();
    this.voteCorrelations.clear();
    this.fetchInFlight = null;
    this.snapshotDownload = null;
    this.progress.clear();
    this.parked = [];
  }

  private setLeader(leaderId: number): void {
    if (leaderId === this.leaderIdValue) return;
    this.leaderIdValue = leaderId;
    this.deps.listener.leaderChanged?.(leaderId, this.epochValue);
  }

  /** A higher epoch is known (from any message): no leader known in it yet, no vote cast. */
  private becomeUnattached(epoch: number, nowMs: number): void {
    const leaving = this.roleValue === 'leader' || this.roleValue === 'resigned';
    this.clearRoleState();
    this.epochValue = epoch;
    this.votedId = -1;
    this.roleValue = 'unattached';
    this.setLeader(-1);
    this.persist();
    this.armElectionTimer(nowMs);
    if (leaving) this.log(`stepped down for epoch ${epoch}`);
  }

  private becomeFollower(epoch: number, leaderId: number, nowMs: number): void {
    this.clearRoleState();
    const changed = epoch !== this.epochValue || leaderId !== this.leaderIdValue;
    if (epoch !== this.epochValue) this.votedId = -1;
    this.epochValue = epoch;
    this.roleValue = 'follower';
    this.setLeader(leaderId);
    if (changed) this.persist();
    this.fetchDeadlineMs = nowMs + this.deps.config.fetchTimeoutMs;
    this.sendFetch(nowMs);
  }

  /** Pre-vote: asks the voters whether they would vote for this node in the next epoch. */
  private becomeProspective(nowMs: number): void {
    this.clearRoleState();
    this.roleValue = 'prospective';
    this.setLeader(-1);
    this.granted.add(this.nodeId);
    this.armElectionTimer(nowMs);
    if (this.granted.size >= this.majority) {
      this.becomeCandidate(nowMs);
      return;
    }
    this.requestVotes(this.epochValue + 1, true);
  }

  private becomeCandidate(nowMs: number): void {
    this.clearRoleState();
    this.epochValue += 1;
    this.votedId = this.nodeId;
    this.roleValue = 'candidate';
    this.setLeader(-1);
    this.persist();
    this.granted.add(this.nodeId);
    this.armElectionTimer(nowMs);
    this.log('running for leader');
    if (this.granted.size >= this.majority) {
      this.becomeLeader(nowMs);
      return;
    }
    this.requestVotes(this.epochValue, false);
  }

  private becomeLeader(nowMs: number): void {
    this.clearRoleState();
    this.roleValue = 'leader';
    this.setLeader(this.nodeId);
    this.persist();
    for (const v of this.voters) {
      if (v !== this.nodeId)
        this.progress.set(v, { endOffset: -1, lastFetchMs: nowMs, lastCaughtUpMs: -1, lastSentHw: -1 });
    }
    // An entry of the new epoch: the high watermark can move only once one is committed.
    this.epochStartOffset = this.deps.log.endOffset;
    this.deps.log.append([{ offset: this.epochStartOffset, epoch: this.epochValue, data: Buffer.alloc(0) }]);
    this.deps.log.flush();
    this.checkQuorumDeadlineMs = nowMs + this.checkQuorumTimeoutMs();
    this.log(`elected leader from offset ${this.epochStartOffset}`);
    this.announce(nowMs, true);
    this.updateHighWatermark(nowMs);
  }

  /**
   * BeginQuorumEpoch to the voters (all of them when `all`, else those that have not fetched
   * within an election timeout: they missed the first announcement), and the next announcement.
   */
  private announce(nowMs: number, all: boolean): void {
    this.announceDeadlineMs = nowMs + this.deps.config.electionTimeoutMs;
    for (const v of this.voters) {
      if (v === this.nodeId) continue;
      if (!all && nowMs - (this.progress.get(v)?.lastFetchMs ?? -1) < this.deps.config.electionTimeoutMs)
        continue;
      this.send(v, {
        type: 'BeginQuorumEpochRequest',
        correlationId: this.correlationId(),
        body: {
          ...BeginQuorumEpochRequest.create(),
          clusterId: this.deps.clusterId,
          voterId: v,
          topics: [
            {
              topicName: METADATA_TOPIC_NAME,
              partitions: [
                {
                  partitionIndex: METADATA_PARTITION,
                  voterDirectoryId: ZERO_UUID,
                  leaderId: this.nodeId,
                  leaderEpoch: this.epochValue,
                },
              ],
            },
          ],
        },
      });
    }
  }

  /** Graceful resignation: stop leading and tell the voters so they elect a successor now. */
  resign(nowMs: number): void {
    if (this.roleValue !== 'leader') return;
    this.stepDown(nowMs, true);
  }

  private stepDown(nowMs: number, graceful: boolean): void {
    // Only voters can be elected: observers are no successors.
    const successors = [...this.progress.entries()]
      .filter(([id]) => this.voters.includes(id))
      .sort((a, b) => b[1].endOffset - a[1].endOffset || a[0] - b[0])
      .map(([id]) => id);
    this.clearRoleState();
    this.roleValue = 'resigned';
    // Still this epoch's leader on disk (it voted for itself): it grants no other vote in it.
    this.armElectionTimer(nowMs);
    this.log(graceful ? 'resigned' : 'stepped down: no majority fetched within the check-quorum timeout');
    for (const v of this.voters) {
      if (v === this.nodeId) continue;
      this.send(v, {
        type: 'EndQuorumEpochRequest',
        correlationId: this.correlationId(),
        body: {
          ...EndQuorumEpochRequest.create(),
          clusterId: this.deps.clusterId,
          topics: [
            {
              topicName: METADATA_TOPIC_NAME,
              partitions: [
                {
                  partitionIndex: METADATA_PARTITION,
                  leaderId: this.nodeId,
                  leaderEpoch: this.epochValue,
                  preferredSuccessors: successors,
                  preferredCandidates: [],
                },
              ],
            },
          ],
        },
      });
    }
  }

  /** A fetch unanswered for longer than the leader may hold it, plus a round trip's allowance, is taken as lost. */
  private lostFetchMs(): number {
    return this.deps.config.fetchMaxWaitMs + this.deps.config.requestTimeoutMs;
  }

  private checkQuorumTimeoutMs(): number {
    return Math.floor(this.deps.config.fetchTimeoutMs * CHECK_QUORUM_FACTOR);
  }

  // ------------------------------------------------------------------ messages out

  private correlationId(): number {
    const id = this.nextCorrelationId;
    this.nextCorrelationId = id >= 0x7fffffff ? 1 : id + 1;
    return id;
  }

  private send(to: number, message: RaftMessage): void {
    this.deps.send(to, message);
  }

  private requestVotes(candidateEpoch: number, preVote: boolean): void {
    const log = this.deps.log;
    for (const v of this.voters) {
      if (v === this.nodeId) continue;
      const correlationId = this.correlationId();
      this.voteCorrelations.set(correlationId, v);
      const partition: VoteRequest.PartitionData = {
        partitionIndex: METADATA_PARTITION,
        candidateEpoch,
        candidateId: this.nodeId,
        candidateDirectoryId: ZERO_UUID,
        voterDirectoryId: ZERO_UUID,
        lastOffsetEpoch: log.lastEpoch,
        lastOffset: BigInt(log.endOffset),
        ...(preVote ? { unknownTaggedFields: PRE_VOTE_FIELD } : {}),
      };
      this.send(v, {
        type: 'VoteRequest',
        correlationId,
        body: {
          ...VoteRequest.create(),
          clusterId: this.deps.clusterId,
          voterId: v,
          topics: [{ topicName: METADATA_TOPIC_NAME, partitions: [partition] }],
        },
      });
    }
  }

  private sendFetch(nowMs: number): void {
    const to = this.fetchTarget();
    if (to < 0 || this.fetchInFlight !== null) return;
    const correlationId = this.correlationId();
    this.fetchInFlight = { correlationId, to, sentMs: nowMs };
    if (this.snapshotDownload !== null) {
      const d = this.snapshotDownload;
      this.send(to, {
        type: 'FetchSnapshotRequest',
        correlationId,
        body: {
          ...FetchSnapshotRequest.create(),
          clusterId: this.deps.clusterId,
          replicaId: this.nodeId,
          maxBytes: this.deps.config.snapshotChunkBytes,
          topics: [
            {
              name: METADATA_TOPIC_NAME,
              partitions: [
                {
                  partition: METADATA_PARTITION,
                  currentLeaderEpoch: this.epochValue,
                  snapshotId: { endOffset: BigInt(d.endOffset), epoch: d.epoch },
                  position: BigInt(d.position),
                  replicaDirectoryId: ZERO_UUID,
                },
              ],
            },
          ],
        },
      });
      return;
    }
    const log = this.deps.log;
    this.send(to, {
      type: 'FetchRequest',
      correlationId,
      body: {
        ...FetchRequest.create(),
        clusterId: this.deps.clusterId,
        // From Fetch v15 the replica is named in replicaState only (KIP-903).
        replicaId: -1,
        replicaState: { replicaId: this.nodeId, replicaEpoch: -1n },
        maxWaitMs: this.deps.config.fetchMaxWaitMs,
        minBytes: 1,
        maxBytes: this.deps.config.fetchMaxBytes,
        topics: [
          {
            topic: METADATA_TOPIC_NAME,
            topicId: METADATA_TOPIC_ID,
            partitions: [
              {
                partition: METADATA_PARTITION,
                currentLeaderEpoch: this.epochValue,
                fetchOffset: BigInt(log.endOffset),
                lastFetchedEpoch: log.lastEpoch,
                logStartOffset: BigInt(log.startOffset),
                partitionMaxBytes: this.deps.config.fetchMaxBytes,
                replicaDirectoryId: ZERO_UUID,
              },
            ],
          },
        ],
      },
    });
  }

  /** Whom a follower (or an observer looking for the leader) fetches from; -1 for nobody. */
  private fetchTarget(): number {
    if (this.roleValue === 'follower') return this.leaderIdValue;
    if (!this.isVoter && this.leaderIdValue < 0 && this.voters.length > 0) {
      const v = this.voters[this.observerCursor % this.voters.length]!;
      return v;
    }
    return -1;
  }

  // ------------------------------------------------------------------ timers

  poll(nowMs: number): void {
    if (this.roleValue === 'leader') {
      if (nowMs >= this.flushDeadlineMs) this.flushAppends(nowMs);
      this.expireParked(nowMs);
      if (nowMs >= this.checkQuorumDeadlineMs) {
        if (!this.hasQuorum(nowMs)) {
          this.stepDown(nowMs, false);
          return;
        }
        this.forgetIdleObservers(nowMs);
        this.checkQuorumDeadlineMs = nowMs + this.checkQuorumTimeoutMs();
      }
      if (nowMs >= this.announceDeadlineMs) this.announce(nowMs, false);
      return;
    }
    if (this.roleValue === 'follower' || (!this.isVoter && this.leaderIdValue < 0)) {
      const inFlight = this.fetchInFlight;
      // A fetch unanswered for longer than the leader may hold it is lost: ask again.
      // The same expression as nextPollMs (floating point: a difference could disagree with the sum).
      if (inFlight !== null && nowMs >= inFlight.sentMs + this.lostFetchMs()) {
        this.fetchInFlight = null;
      }
      if (this.roleValue === 'follower' && nowMs >= this.fetchDeadlineMs) {
        this.log(`no answer from leader ${this.leaderIdValue} for ${this.deps.config.fetchTimeoutMs} ms`);
        if (this.isVoter) {
          this.abandonedLeader = { epoch: this.epochValue, leaderId: this.leaderIdValue };
          // Followers of one leader time out together (they got the same answers): a random
          // pause before the pre-vote keeps them from splitting the next election's votes.
          this.becomeProspectiveAfterBackoff(
            nowMs,
            Math.floor(this.deps.random() * (this.deps.config.electionTimeoutMs / 2)),
          );
          return;
        }
        this.setLeader(-1);
        this.roleValue = 'unattached';
        this.fetchInFlight = null;
        this.snapshotDownload = null;
        this.observerCursor++;
      }
      if (!this.isVoter && this.leaderIdValue < 0 && nowMs >= this.fetchDeadlineMs) {
        // An observer looking for the leader asks the next voter, whether or not the last answered.
        this.fetchInFlight = null;
        this.fetchDeadlineMs = nowMs + this.deps.config.fetchMaxWaitMs;
        this.observerCursor++;
      }
      this.sendFetch(nowMs);
      return;
    }
    if (nowMs >= this.electionDeadlineMs) {
      switch (this.roleValue) {
        case 'unattached':
        case 'voted':
        case 'resigned':
        case 'prospective':
          this.becomeProspective(nowMs);
          return;
        case 'candidate':
          // A lost or split election: back to pre-vote after a random backoff.
          this.becomeProspectiveAfterBackoff(nowMs);
          return;
      }
    }
  }

  private becomeProspectiveAfterBackoff(
    nowMs: number,
    delayMs = Math.floor(this.deps.random() * this.deps.config.electionBackoffMaxMs),
  ): void {
    this.clearRoleState();
    this.roleValue = 'prospective';
    this.setLeader(-1);
    this.granted.add(this.nodeId);
    this.electionDeadlineMs = nowMs + delayMs;
    // The pre-vote round starts when that backoff ends (poll sees prospective at its deadline).
  }

  /** Drops the observers that have not fetched for OBSERVER_SESSION_TIMEOUT_MS (any id may fetch: the map stays bounded). */
  private forgetIdleObservers(nowMs: number): void {
    for (const [id, p] of this.progress) {
      if (!this.voters.includes(id) && nowMs - p.lastFetchMs > OBSERVER_SESSION_TIMEOUT_MS)
        this.progress.delete(id);
    }
  }

  /** Whether a majority of the voters (this leader among them) fetched within the check-quorum timeout; observers do not count. */
  private hasQuorum(nowMs: number): boolean {
    let live = 1;
    for (const id of this.voters) {
      const p = id === this.nodeId ? undefined : this.progress.get(id);
      if (p !== undefined && nowMs - p.lastFetchMs <= this.checkQuorumTimeoutMs()) live++;
    }
    return live >= this.majority;
  }

  // ------------------------------------------------------------------ proposals

  propose(data: readonly Buffer[], nowMs: number): OffsetAndEpoch | null {
    if (this.roleValue !== 'leader' || data.length === 0) return null;
    const log = this.deps.log;
    const start = log.endOffset;
    const entries: LogEntry[] = data.map((d, i) => ({ offset: start + i, epoch: this.epochValue, data: d }));
    log.append(entries);
    if (this.deps.config.appendLingerMs <= 0) this.flushAppends(nowMs);
    else if (this.flushDeadlineMs === NO_TIME) this.flushDeadlineMs = nowMs + this.deps.config.appendLingerMs;
    return { offset: start + data.length - 1, epoch: this.epochValue };
  }

  private flushAppends(nowMs: number): void {
    this.flushDeadlineMs = NO_TIME;
    this.deps.log.flush();
    this.answerParked(nowMs, false);
    this.updateHighWatermark(nowMs);
  }

  // ------------------------------------------------------------------ messages in

  receive(from: number, message: RaftMessage, nowMs: number): void {
    switch (message.type) {
      case 'VoteRequest':
        this.onVoteRequest(from, message.correlationId, message.body, nowMs);
        return;
      case 'VoteResponse':
        this.onVoteResponse(from, message.correlationId, message.body, nowMs);
        return;
      case 'BeginQuorumEpochRequest':
        this.onBeginQuorumEpoch(from, message.correlationId, message.body, nowMs);
        return;
      case 'BeginQuorumEpochResponse':
      case 'EndQuorumEpochResponse':
        this.onEpochHint(this.epochOfResponse(message), -1, nowMs);
        return;
      case 'EndQuorumEpochRequest':
        this.onEndQuorumEpoch(from, message.correlationId, message.body, nowMs);
        return;
      case 'FetchRequest':
        this.onFetchRequest(from, message.correlationId, message.body, nowMs);
        return;
      case 'FetchResponse':
        this.onFetchResponse(from, message.correlationId, message.body, nowMs);
        return;
      case 'FetchSnapshotRequest':
        this.onFetchSnapshotRequest(from, message.correlationId, message.body, nowMs);
        return;
      case 'FetchSnapshotResponse':
        this.onFetchSnapshotResponse(from, message.correlationId, message.body, nowMs);
        return;
    }
  }

  private epochOfResponse(
    m: Extract<RaftMessage, { type: 'BeginQuorumEpochResponse' | 'EndQuorumEpochResponse' }>,
  ): number {
    return m.body.topics[0]?.partitions[0]?.leaderEpoch ?? -1;
  }

  /**
   * Another node's epoch (and leader, when it names one): a higher epoch moves this node to it.
   * Returns false when the message is from an older epoch.
   */
  private onEpochHint(epoch: number, leaderId: number, nowMs: number): boolean {
    if (epoch < this.epochValue) return false;
    if (epoch > this.epochValue) {
      if (leaderId >= 0 && leaderId !== this.nodeId) this.becomeFollower(epoch, leaderId, nowMs);
      else this.becomeUnattached(epoch, nowMs);
      return true;
    }
    // The same epoch: learn its leader when this node does not know it yet.
    if (leaderId >= 0 && leaderId !== this.nodeId && this.leaderIdValue < 0 && this.roleValue !== 'leader') {
      this.becomeFollower(epoch, leaderId, nowMs);
    }
    return true;
  }

  // ---- Vote

  private logUpToDate(lastEpoch: number, endOffset: number): boolean {
    const log = this.deps.log;
    return lastEpoch > log.lastEpoch || (lastEpoch === log.lastEpoch && endOffset >= log.endOffset);
  }

  private onVoteRequest(from: number, correlationId: number, req: VoteRequest, nowMs: number): void {
    const p = req.topics[0]?.partitions[0];
    if (p === undefined) return;
    const preVote = isPreVote(p);
    const answer = (granted: boolean): void => {
      this.send(from, {
        type: 'VoteResponse',
        correlationId,
        body: {
          ...VoteResponse.create(),
          topics: [
            {
              topicName: METADATA_TOPIC_NAME,
              partitions: [
                {
                  partitionIndex: METADATA_PARTITION,
                  errorCode: ErrorCode.NONE,
                  leaderId: this.leaderIdValue,
                  leaderEpoch: this.epochValue,
                  voteGranted: granted,
                },
              ],
            },
          ],
        },
      });
    };
    if (!this.isVoter || !this.voters.includes(p.candidateId)) {
      answer(false);
      return;
    }
    const logOk =
      this.deps.config.unsafe?.grantVoteWithoutLogCheck === true ||
      this.logUpToDate(p.lastOffsetEpoch, Number(p.lastOffset));
    if (preVote) {
      // Granting a pre-vote changes nothing here; it is refused while this node still hears
      // from a leader, so a returning partitioned node cannot unseat a working one (KIP-996).
      const hearsLeader =
        (this.roleValue === 'follower' && nowMs < this.fetchDeadlineMs) || this.roleValue === 'leader';
      answer(p.candidateEpoch > this.epochValue && logOk && !hearsLeader);
      return;
    }
    if (p.candidateEpoch < this.epochValue) {
      answer(false);
      return;
    }
    if (p.candidateEpoch > this.epochValue) this.becomeUnattached(p.candidateEpoch, nowMs);
    const canVote =
      (this.votedId < 0 || this.votedId === p.candidateId) &&
      this.leaderIdValue < 0 &&
      this.roleValue !== 'leader' &&
      this.roleValue !== 'resigned';
    if (!canVote || !logOk) {
      answer(false);
      return;
    }
    if (this.votedId !== p.candidateId) {
      this.votedId = p.candidateId;
      this.roleValue = 'voted';
      this.persist();
    }
    this.armElectionTimer(nowMs);
    answer(true);
  }

  private onVoteResponse(from: number, correlationId: number, res: VoteResponse, nowMs: number): void {
    const p = res.topics[0]?.partitions[0];
    if (p === undefined || this.voteCorrelations.get(correlationId) !== from) return;
    this.voteCorrelations.delete(correlationId);
    // A voter that knows a newer epoch, or this epoch's leader: follow it rather than keep asking.
    if (
      p.leaderEpoch > this.epochValue ||
      (p.leaderEpoch === this.epochValue &&
        p.leaderId >= 0 &&
        p.leaderId !== this.nodeId &&
        this.leaderIdValue < 0 &&
        !(this.abandonedLeader.epoch === p.leaderEpoch && this.abandonedLeader.leaderId === p.leaderId))
    ) {
      this.onEpochHint(p.leaderEpoch, p.leaderId, nowMs);
      return;
    }
    if (this.roleValue !== 'prospective' && this.roleValue !== 'candidate') return;
    if (p.voteGranted) this.granted.add(from);
    else this.rejected.add(from);
    if (this.granted.size >= this.majority) {
      if (this.roleValue === 'prospective') this.becomeCandidate(nowMs);
      else this.becomeLeader(nowMs);
    } else if (this.rejected.size > this.voters.length - this.majority && this.roleValue === 'prospective') {
      // This round cannot succeed: wait a backoff before asking again.
      this.becomeProspectiveAfterBackoff(nowMs);
    }
  }

  // ---- BeginQuorumEpoch / EndQuorumEpoch

  private onBeginQuorumEpoch(
    from: number,
    correlationId: number,
    req: BeginQuorumEpochRequest,
    nowMs: number,
  ): void {
    const p = req.topics[0]?.partitions[0];
    if (p === undefined) return;
    let errorCode: number = ErrorCode.NONE;
    if (p.leaderEpoch < this.epochValue) errorCode = ErrorCode.FENCED_LEADER_EPOCH;
    else if (p.leaderId !== this.nodeId && (p.leaderEpoch > this.epochValue || this.leaderIdValue < 0)) {
      this.becomeFollower(p.leaderEpoch, p.leaderId, nowMs);
    }
    this.send(from, {
      type: 'BeginQuorumEpochResponse',
      correlationId,
      body: {
        ...BeginQuorumEpochResponse.create(),
        topics: this.epochAnswer(errorCode),
      },
    });
  }

  /** The topics of a BeginQuorumEpoch or EndQuorumEpoch answer: this node's epoch and leader. */
  private epochAnswer(errorCode: number): BeginQuorumEpochResponse['topics'] {
    return [
      {
        topicName: METADATA_TOPIC_NAME,
        partitions: [
          {
            partitionIndex: METADATA_PARTITION,
            errorCode,
            leaderId: this.leaderIdValue,
            leaderEpoch: this.epochValue,
          },
        ],
      },
    ];
  }

  private onEndQuorumEpoch(
    from: number,
    correlationId: number,
    req: EndQuorumEpochRequest,
    nowMs: number,
  ): void {
    const p = req.topics[0]?.partitions[0];
    if (p === undefined) return;
    if (p.leaderEpoch > this.epochValue) this.becomeUnattached(p.leaderEpoch, nowMs);
    if (
      p.leaderEpoch === this.epochValue &&
      p.leaderId === this.leaderIdValue &&
      this.roleValue === 'follower'
    ) {
      // The leader resigned: its preferred successors run first, the others after a backoff.
      this.abandonedLeader = { epoch: this.epochValue, leaderId: this.leaderIdValue };
      const rank = p.preferredSuccessors.indexOf(this.nodeId);
      const delayMs =
        rank === 0
          ? 0
          : Math.floor(
              this.deps.random() *
                this.deps.config.electionBackoffMaxMs *
                (rank < 0 ? this.voters.length : rank),
            );
      this.clearRoleState();
      this.roleValue = 'unattached';
      this.setLeader(-1);
      this.electionDeadlineMs = nowMs + delayMs;
    }
    this.send(from, {
      type: 'EndQuorumEpochResponse',
      correlationId,
      body: {
        ...EndQuorumEpochResponse.create(),
        topics: this.epochAnswer(ErrorCode.NONE),
      },
    });
  }

  // ---- Fetch (leader side)

  private fetchAnswer(partial: Partial<FetchResponse.PartitionData>): FetchResponse {
    const partition: FetchResponse.PartitionData = {
      partitionIndex: METADATA_PARTITION,
      errorCode: ErrorCode.NONE,
      highWatermark: BigInt(this.hw),
      lastStableOffset: BigInt(this.hw),
      logStartOffset: BigInt(this.deps.log.startOffset),
      divergingEpoch: { epoch: -1, endOffset: -1n },
      currentLeader: { leaderId: this.leaderIdValue, leaderEpoch: this.epochValue },
      snapshotId: { endOffset: -1n, epoch: -1 },
      abortedTransactions: null,
      preferredReadReplica: -1,
      records: null,
      ...partial,
    };
    return {
      ...FetchResponse.create(),
      responses: [{ topic: METADATA_TOPIC_NAME, topicId: METADATA_TOPIC_ID, partitions: [partition] }],
    };
  }

  private onFetchRequest(from: number, correlationId: number, req: FetchRequest, nowMs: number): void {
    const p = req.topics[0]?.partitions[0];
    if (p === undefined) return;
    const reply = (partial: Partial<FetchResponse.PartitionData>): void =>
      this.send(from, { type: 'FetchResponse', correlationId, body: this.fetchAnswer(partial) });
    if (p.currentLeaderEpoch > this.epochValue) this.onEpochHint(p.currentLeaderEpoch, -1, nowMs);
    if (this.roleValue !== 'leader') {
      reply({ errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER });
      return;
    }
    if (p.currentLeaderEpoch < this.epochValue) {
      reply({ errorCode: ErrorCode.FENCED_LEADER_EPOCH });
      return;
    }
    const log = this.deps.log;
    const fetchOffset = Number(p.fetchOffset);
    // Any fetch of this epoch shows the replica is alive (check-quorum), whatever it gets back.
    let progress = this.progress.get(from);
    if (progress === undefined && !this.voters.includes(from)) {
      progress = { endOffset: -1, lastFetchMs: nowMs, lastCaughtUpMs: -1, lastSentHw: -1 };
      this.progress.set(from, progress);
    }
    if (progress !== undefined) progress.lastFetchMs = nowMs;
    const snapshot = log.latestSnapshot();
    // Below the log start, or at it (or anywhere) with an epoch older than the snapshot's: the
    // follower's log cannot be checked against entries this one no longer has, so it gets the
    // snapshot (as Kafka answers) rather than a divergence it could never resolve.
    if (
      snapshot !== null &&
      (fetchOffset < log.startOffset ||
        (fetchOffset === log.startOffset && p.lastFetchedEpoch !== snapshot.epoch) ||
        p.lastFetchedEpoch < snapshot.epoch)
    ) {
      reply({ snapshotId: { endOffset: BigInt(snapshot.endOffset), epoch: snapshot.epoch } });
      return;
    }
    // The follower's log must agree with this one at its last epoch up to its fetch offset.
    if (fetchOffset > 0 && p.lastFetchedEpoch >= 0) {
      const end = log.endOffsetForEpoch(p.lastFetchedEpoch);
      if (end.epoch !== p.lastFetchedEpoch || end.offset < fetchOffset) {
        // An epoch older than anything here: the follower keeps nothing past the log start (the
        // epoch is the snapshot's there, or 0: Kafka followers ignore a negative one).
        const diverging =
          end.epoch < 0
            ? { epoch: snapshot?.epoch ?? 0, endOffset: BigInt(log.startOffset) }
            : { epoch: end.epoch, endOffset: BigInt(end.offset) };
        reply({ divergingEpoch: diverging });
        return;
      }
    }
    if (fetchOffset > log.endOffset) {
      reply({ divergingEpoch: { epoch: log.lastEpoch, endOffset: BigInt(log.endOffset) } });
      return;
    }
    // The follower holds (flushed) everything below its fetch offset, matching this log.
    if (progress !== undefined) {
      progress.endOffset = Math.max(progress.endOffset, fetchOffset);
      if (fetchOffset >= log.endOffset) progress.lastCaughtUpMs = nowMs;
    }
    this.updateHighWatermark(nowMs);
    // Something to read, or a newer high watermark than the replica knows (often moved by this
    // very fetch): answer now, so followers apply commits without waiting out a long poll.
    if (fetchOffset < log.endOffset || (progress !== undefined && progress.lastSentHw < this.hw)) {
      this.answerFetch(from, correlationId, fetchOffset);
      return;
    }
    const waitMs = Math.min(req.maxWaitMs, this.deps.config.fetchMaxWaitMs);
    if (waitMs <= 0) {
      reply({});
      return;
    }
    this.parked.push({ from, correlationId, fetchOffset, deadlineMs: nowMs + waitMs });
  }

  private answerFetch(to: number, correlationId: number, fetchOffset: number): void {
    const log = this.deps.log;
    const snapshot = log.latestSnapshot();
    if (fetchOffset < log.startOffset && snapshot !== null) {
      // A snapshot was taken while the fetch waited: the follower must download it.
      this.send(to, {
        type: 'FetchResponse',
        correlationId,
        body: this.fetchAnswer({
          snapshotId: { endOffset: BigInt(snapshot.endOffset), epoch: snapshot.epoch },
        }),
      });
      return;
    }
    const progress = this.progress.get(to);
    if (progress !== undefined) progress.lastSentHw = this.hw;
    const entries =
      fetchOffset < log.endOffset
        ? log.read(fetchOffset, this.deps.config.fetchMaxEntries, this.deps.config.fetchMaxBytes)
        : [];
    this.send(to, {
      type: 'FetchResponse',
      correlationId,
      body: this.fetchAnswer({ records: entries.length > 0 ? encodeEntries(entries) : null }),
    });
  }

  /** Answers the parked fetches: all of them (`all`), or those with something new to read or learn. */
  private answerParked(nowMs: number, all: boolean): void {
    if (this.parked.length === 0) return;
    const keep: ParkedFetch[] = [];
    const endOffset = this.deps.log.endOffset;
    for (const f of this.parked) {
      if (all || f.fetchOffset < endOffset || f.fetchOffset < this.hw || nowMs >= f.deadlineMs) {
        this.answerFetch(f.from, f.correlationId, f.fetchOffset);
      } else keep.push(f);
    }
    this.parked = keep;
  }

  private expireParked(nowMs: number): void {
    if (this.parked.some((f) => nowMs >= f.deadlineMs)) this.answerParked(nowMs, false);
  }

  /** Moves the high watermark to what a majority of voters has flushed, once this epoch's first entry is among it. */
  private updateHighWatermark(nowMs: number): void {
    if (this.roleValue !== 'leader') return;
    const offsets: number[] = [];
    if (this.isVoter) offsets.push(this.deps.log.flushedOffset);
    for (const v of this.voters) {
      if (v === this.nodeId) continue;
      offsets.push(this.progress.get(v)?.endOffset ?? -1);
    }
    offsets.sort((a, b) => b - a);
    const majorityOffset = offsets[this.majority - 1] ?? -1;
    if (majorityOffset > this.epochStartOffset && majorityOffset > this.hw) {
      this.hw = majorityOffset;
      this.deliver();
      // Followers waiting at the log end learn the new high watermark at once.
      this.answerParked(nowMs, true);
    }
  }

  // ---- Fetch (follower side)

  private onFetchResponse(from: number, correlationId: number, res: FetchResponse, nowMs: number): void {
    const inFlight = this.fetchInFlight;
    if (inFlight === null || inFlight.correlationId !== correlationId || inFlight.to !== from) return;
    this.fetchInFlight = null;
    const p = res.responses[0]?.partitions[0];
    if (p === undefined) return;
    const leader = p.currentLeader;
    if (p.errorCode !== ErrorCode.NONE) {
      if (
        leader.leaderEpoch > this.epochValue ||
        (leader.leaderEpoch === this.epochValue && leader.leaderId >= 0)
      ) {
        this.onEpochHint(leader.leaderEpoch, leader.leaderId, nowMs);
      }
      if (!this.isVoter && this.leaderIdValue < 0) this.observerCursor++;
      return;
    }
    if (!this.isVoter && this.roleValue !== 'follower') {
      // An observer found the leader.
      if (leader.leaderId >= 0)
        this.becomeFollower(Math.max(leader.leaderEpoch, this.epochValue), leader.leaderId, nowMs);
      return;
    }
    if (this.roleValue !== 'follower' || from !== this.leaderIdValue) return;
    if (leader.leaderEpoch > this.epochValue) {
      this.onEpochHint(leader.leaderEpoch, leader.leaderId, nowMs);
      return;
    }
    this.fetchDeadlineMs = nowMs + this.deps.config.fetchTimeoutMs;
    const log = this.deps.log;
    if (p.divergingEpoch.endOffset >= 0n) {
      const theirs = Number(p.divergingEpoch.endOffset);
      const ours = log.endOffsetForEpoch(p.divergingEpoch.epoch);
      const cut = Math.max(
        Math.min(theirs, ours.offset < 0 ? log.startOffset : ours.offset),
        log.startOffset,
      );
      if (cut < this.hw) {
        // Committed entries never diverge; a leader saying so is broken. Refuse to lose them.
        this.log(`leader ${from} asked to truncate to ${cut}, below the high watermark ${this.hw}; ignored`);
      } else if (cut < log.endOffset) {
        this.log(`truncating a divergent tail from ${cut} to ${log.endOffset}`);
        log.truncateTo(cut);
        log.flush();
      }
      this.sendFetch(nowMs);
      return;
    }
    if (p.snapshotId.endOffset >= 0n) {
      this.snapshotDownload = {
        endOffset: Number(p.snapshotId.endOffset),
        epoch: p.snapshotId.epoch,
        chunks: [],
        position: 0,
      };
      this.sendFetch(nowMs);
      return;
    }
    if (p.records !== null && p.records.length > 0) {
      const entries = decodeEntries(p.records);
      if (entries instanceof Error) {
        this.log(`unreadable records from leader ${from}: ${entries.message}`);
      } else {
        const first = entries.findIndex((e) => e.offset === log.endOffset);
        if (first >= 0) {
          log.append(first === 0 ? entries : entries.slice(first));
          log.flush();
        }
      }
    }
    const leaderHw = Number(p.highWatermark);
    const hw = Math.min(leaderHw, log.endOffset);
    if (hw > this.hw) {
      this.hw = hw;
      this.deliver();
    }
    this.sendFetch(nowMs);
  }

  // ---- FetchSnapshot

  private onFetchSnapshotRequest(
    from: number,
    correlationId: number,
    req: FetchSnapshotRequest,
    nowMs: number,
  ): void {
    const p = req.topics[0]?.partitions[0];
    if (p === undefined) return;
    const progress = this.progress.get(from);
    if (progress !== undefined && p.currentLeaderEpoch === this.epochValue) progress.lastFetchMs = nowMs;
    const snapshot = this.deps.log.latestSnapshot();
    const base: FetchSnapshotResponse.PartitionSnapshot = {
      index: METADATA_PARTITION,
      errorCode: ErrorCode.NONE,
      snapshotId: { endOffset: p.snapshotId.endOffset, epoch: p.snapshotId.epoch },
      currentLeader: { leaderId: this.leaderIdValue, leaderEpoch: this.epochValue },
      size: 0n,
      position: p.position,
      unalignedRecords: Buffer.alloc(0),
    };
    let partition = base;
    if (this.roleValue !== 'leader' || p.currentLeaderEpoch !== this.epochValue) {
      partition = {
        ...base,
        errorCode:
          p.currentLeaderEpoch < this.epochValue
            ? ErrorCode.FENCED_LEADER_EPOCH
            : ErrorCode.NOT_LEADER_OR_FOLLOWER,
      };
    } else if (
      snapshot === null ||
      BigInt(snapshot.endOffset) !== p.snapshotId.endOffset ||
      snapshot.epoch !== p.snapshotId.epoch
    ) {
      partition = { ...base, errorCode: ErrorCode.SNAPSHOT_NOT_FOUND };
    } else {
      const position = Number(p.position);
      if (position < 0 || position > snapshot.data.length) {
        partition = { ...base, errorCode: ErrorCode.POSITION_OUT_OF_RANGE };
      } else {
        const maxBytes = Math.min(Math.max(1, req.maxBytes), this.deps.config.snapshotChunkBytes);
        partition = {
          ...base,
          size: BigInt(snapshot.data.length),
          unalignedRecords: snapshot.data.subarray(position, position + maxBytes),
        };
      }
    }
    this.send(from, {
      type: 'FetchSnapshotResponse',
      correlationId,
      body: {
        ...FetchSnapshotResponse.create(),
        topics: [{ name: METADATA_TOPIC_NAME, partitions: [partition] }],
      },
    });
  }

  private onFetchSnapshotResponse(
    from: number,
    correlationId: number,
    res: FetchSnapshotResponse,
    nowMs: number,
  ): void {
    const inFlight = this.fetchInFlight;
    if (inFlight === null || inFlight.correlationId !== correlationId || inFlight.to !== from) return;
    this.fetchInFlight = null;
    const d = this.snapshotDownload;
    const p = res.topics[0]?.partitions[0];
    if (d === null || p === undefined || this.roleValue !== 'follower') return;
    if (p.errorCode !== ErrorCode.NONE) {
      if (p.currentLeader.leaderEpoch > this.epochValue) {
        this.onEpochHint(p.currentLeader.leaderEpoch, p.currentLeader.leaderId, nowMs);
        return;
      }
      // The leader has moved on (a newer snapshot): fetch again to learn what to download.
      this.snapshotDownload = null;
      this.sendFetch(nowMs);
      return;
    }
    this.fetchDeadlineMs = nowMs + this.deps.config.fetchTimeoutMs;
    if (Number(p.position) !== d.position) {
      this.sendFetch(nowMs);
      return;
    }
    d.chunks.push(Buffer.from(p.unalignedRecords));
    d.position += p.unalignedRecords.length;
    const size = Number(p.size);
    if (d.position < size && p.unalignedRecords.length > 0) {
      this.sendFetch(nowMs);
      return;
    }
    const snapshot: Snapshot = { endOffset: d.endOffset, epoch: d.epoch, data: Buffer.concat(d.chunks) };
    this.snapshotDownload = null;
    this.installSnapshot(snapshot);
    this.sendFetch(nowMs);
  }

  private installSnapshot(snapshot: Snapshot): void {
    const log = this.deps.log;
    log.installSnapshot(snapshot);
    // Whatever this log held past the snapshot came before the leader's newer epoch: it is
    // fetched again from the leader rather than trusted.
    if (log.endOffset > snapshot.endOffset) {
      log.truncateTo(snapshot.endOffset);
      log.flush();
    }
    if (snapshot.endOffset > this.delivered) {
      this.deps.listener.loadSnapshot(snapshot);
      this.delivered = snapshot.endOffset;
    }
    if (snapshot.endOffset > this.hw) this.hw = snapshot.endOffset;
    this.log(`installed the snapshot ending at ${snapshot.endOffset}`);
  }

  /** Snapshots the state machine at `endOffset` (committed, delivered) and drops the log below it. */
  takeSnapshot(endOffset: number, data: Buffer): void {
    const log = this.deps.log;
    if (endOffset > this.delivered || endOffset <= log.startOffset) return;
    const epoch = log.epochAt(endOffset - 1);
    if (epoch === undefined) return;
    log.installSnapshot({ endOffset, epoch, data });
  }

  // ------------------------------------------------------------------ delivery

  private deliver(): void {
    const log = this.deps.log;
    while (this.delivered < this.hw) {
      if (this.delivered < log.startOffset) {
        // Below the log start there is only the snapshot, loaded already.
        this.delivered = log.startOffset;
        continue;
      }
      // Offsets are consecutive: at most hw - delivered entries are committed.
      const upTo = log.read(
        this.delivered,
        Math.min(this.deps.config.fetchMaxEntries, this.hw - this.delivered),
        this.deps.config.fetchMaxBytes,
      );
      if (upTo.length === 0) return;
      this.delivered = upTo[upTo.length - 1]!.offset + 1;
      this.deps.listener.commit(upTo);
    }
  }

  // ------------------------------------------------------------------ DescribeQuorum

  describeQuorum(nowMs: number): DescribeQuorumResponse.PartitionData {
    const state = (id: number, p: ReplicaProgress | undefined): DescribeQuorumResponse.ReplicaState => ({
      replicaId: id,
      replicaDirectoryId: ZERO_UUID,
      logEndOffset: BigInt(id === this.nodeId ? this.deps.log.endOffset : (p?.endOffset ?? -1)),
      // Drivers' clocks may have fractions of a millisecond; the wire has whole ones.
      lastFetchTimestamp: BigInt(Math.floor(id === this.nodeId ? nowMs : (p?.lastFetchMs ?? -1))),
      lastCaughtUpTimestamp: BigInt(Math.floor(id === this.nodeId ? nowMs : (p?.lastCaughtUpMs ?? -1))),
    });
    const leading = this.roleValue === 'leader';
    return {
      partitionIndex: METADATA_PARTITION,
      errorCode: leading ? ErrorCode.NONE : ErrorCode.NOT_LEADER_OR_FOLLOWER,
      errorMessage: null,
      leaderId: this.leaderIdValue,
      leaderEpoch: this.epochValue,
      highWatermark: BigInt(this.hw),
      currentVoters: leading ? this.voters.map((v) => state(v, this.progress.get(v))) : [],
      observers: leading
        ? [...this.progress.entries()]
            .filter(([id]) => !this.voters.includes(id))
            .map(([id, p]) => state(id, p))
        : [],
    };
  }
}
