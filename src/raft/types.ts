/**
 * The seams of the Raft core (raft-node.ts): its log, its durable quorum state, the messages it
 * sends and receives, its configuration and the state machine it feeds. The core does no I/O
 * and keeps no timers: a driver calls `poll(nowMs)` and `receive(...)`, and the implementations
 * here decide what is real (files, TCP) and what is simulated (memory, a seeded network).
 *
 * Log and quorum-state calls are synchronous, as in KRaft, whose single raft thread appends and
 * flushes itself: a durable write finishes before the core goes on (a vote is never sent before
 * it is on disk, an offset is never acknowledged before it is flushed).
 */
import type { BeginQuorumEpochRequest } from '../protocol/generated/message/BeginQuorumEpochRequest.js';
import type { BeginQuorumEpochResponse } from '../protocol/generated/message/BeginQuorumEpochResponse.js';
import type { EndQuorumEpochRequest } from '../protocol/generated/message/EndQuorumEpochRequest.js';
import type { EndQuorumEpochResponse } from '../protocol/generated/message/EndQuorumEpochResponse.js';
import type { FetchRequest } from '../protocol/generated/message/FetchRequest.js';
import type { FetchResponse } from '../protocol/generated/message/FetchResponse.js';
import type { FetchSnapshotRequest } from '../protocol/generated/message/FetchSnapshotRequest.js';
import type { FetchSnapshotResponse } from '../protocol/generated/message/FetchSnapshotResponse.js';
import type { VoteRequest } from '../protocol/generated/message/VoteRequest.js';
import type { VoteResponse } from '../protocol/generated/message/VoteResponse.js';

/** The topic-partition of the metadata log, as KRaft names it in its RPCs. */
export const METADATA_TOPIC_NAME = '__cluster_metadata';
export const METADATA_PARTITION = 0;
/** KRaft's fixed topic id of `__cluster_metadata` (Uuid.METADATA_TOPIC_ID: 0…01), base64url. */
export const METADATA_TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAQ';

/** One entry of the replicated log: an opaque record (a metadata record, to the broker). */
export interface LogEntry {
  readonly offset: number;
  /** The leader epoch in which the entry was appended. */
  readonly epoch: number;
  readonly data: Buffer;
}

/** A snapshot of the state machine: everything below `endOffset`, whose last entry has `epoch`. */
export interface Snapshot {
  readonly endOffset: number;
  readonly epoch: number;
  readonly data: Buffer;
}

/** Kafka's OffsetAndEpoch. */
export interface OffsetAndEpoch {
  readonly offset: number;
  readonly epoch: number;
}

/**
 * The replicated log of one node. Offsets are contiguous from `startOffset` (0, or the end of
 * the latest snapshot) to `endOffset` (exclusive). Appends may be lost by a crash until
 * `flush()`; `flushedOffset` tells how far the log is durable.
 */
export interface RaftLog {
  readonly startOffset: number;
  readonly endOffset: number;
  /** Offset below which everything is durable (≤ endOffset). */
  readonly flushedOffset: number;
  /** Epoch of the last entry, or of the latest snapshot when the log is empty past it; 0 when nothing. */
  readonly lastEpoch: number;
  /** Epoch of the entry at `offset` (startOffset ≤ offset < endOffset), else undefined. */
  epochAt(offset: number): number | undefined;
  /** Appends entries that continue the log (entries[0].offset === endOffset), epochs never decreasing. */
  append(entries: readonly LogEntry[]): void;
  /** Removes every entry at or after `offset` (offset ≥ the durable snapshot's end). */
  truncateTo(offset: number): void;
  /** Entries from `offset` (≥ startOffset), at most `maxEntries` and about `maxBytes`, at least one when any. */
  read(offset: number, maxEntries: number, maxBytes: number): LogEntry[];
  /**
   * Kafka's endOffsetForEpoch: the largest epoch ≤ `epoch` that the log holds and the offset
   * where it ends (the next epoch's start, or endOffset); {offset: -1, epoch: -1} if none.
   */
  endOffsetForEpoch(epoch: number): OffsetAndEpoch;
  /** Makes everything appended durable. */
  flush(): void;
  /** The latest snapshot, or null. */
  latestSnapshot(): Snapshot | null;
  /**
   * Stores a snapshot (durably) and drops the entries below its end. For a snapshot fetched
   * from the leader past the log end, the log restarts empty at its end.
   */
  installSnapshot(snapshot: Snapshot): void;
}

/** What must survive a crash besides the log: Kafka's quorum-state file. */
export interface QuorumState {
  readonly epoch: number;
  /** The candidate this node voted for in `epoch`, or -1. */
  readonly votedId: number;
  /** The leader of `epoch` when known, or -1. */
  readonly leaderId: number;
}

export interface QuorumStateStore {
  /** The state last written, or null for a new node. */
  read(): QuorumState | null;
  /** Writes durably (the call returns once it would survive a crash). */
  write(state: QuorumState): void;
}

/** A message between nodes: one of KRaft's RPCs, with the generated protocol's bodies. */
export type RaftMessage =
  | { readonly type: 'VoteRequest'; readonly correlationId: number; readonly body: VoteRequest }
  | { readonly type: 'VoteResponse'; readonly correlationId: number; readonly body: VoteResponse }
  | {
      readonly type: 'BeginQuorumEpochRequest';
      readonly correlationId: number;
      readonly body: BeginQuorumEpochRequest;
    }
  | {
      readonly type: 'BeginQuorumEpochResponse';
      readonly correlationId: number;
      readonly body: BeginQuorumEpochResponse;
    }
  | {
      readonly type: 'EndQuorumEpochRequest';
      readonly correlationId: number;
      readonly body: EndQuorumEpochRequest;
    }
  | {
      readonly type: 'EndQuorumEpochResponse';
      readonly correlationId: number;
      readonly body: EndQuorumEpochResponse;
    }
  | { readonly type: 'FetchRequest'; readonly correlationId: number; readonly body: FetchRequest }
  | { readonly type: 'FetchResponse'; readonly correlationId: number; readonly body: FetchResponse }
  | {
      readonly type: 'FetchSnapshotRequest';
      readonly correlationId: number;
      readonly body: FetchSnapshotRequest;
    }
  | {
      readonly type: 'FetchSnapshotResponse';
      readonly correlationId: number;
      readonly body: FetchSnapshotResponse;
    };

export type RaftMessageType = RaftMessage['type'];

/** The API version each message travels at (the highest the spec folder defines). */
export const RAFT_API_VERSIONS = {
  Vote: 1,
  BeginQuorumEpoch: 1,
  EndQuorumEpoch: 1,
  Fetch: 17,
  FetchSnapshot: 1,
} as const;

/** The state machine fed by the log. */
export interface RaftListener {
  /** Committed entries, in offset order, each exactly once per process lifetime. */
  commit(entries: readonly LogEntry[]): void;
  /** The state machine must be replaced by a snapshot's (a follower far behind, or a restart). */
  loadSnapshot(snapshot: Snapshot): void;
  /** Told of every leadership change this node sees (leaderId -1: none known). */
  leaderChanged?(leaderId: number, epoch: number): void;
}

export interface RaftConfig {
  /** quorum.election.timeout.ms: a follower without a leader for this long (plus jitter) runs for election. */
  readonly electionTimeoutMs: number;
  /** quorum.fetch.timeout.ms: a follower whose fetches go unanswered this long looks for a new leader. */
  readonly fetchTimeoutMs: number;
  /** quorum.election.backoff.max.ms: the longest random wait before a new election after a lost one. */
  readonly electionBackoffMaxMs: number;
  /** How long the leader holds a fetch that finds nothing new (long poll). */
  readonly fetchMaxWaitMs: number;
  /**
   * quorum.request.timeout.ms: a fetch unanswered for fetchMaxWaitMs plus this is taken as lost
   * and sent again (it must cover a round trip on top of the leader's long poll).
   */
  readonly requestTimeoutMs: number;
  /** quorum.append.linger.ms: proposals wait this long to be appended (and flushed) together. */
  readonly appendLingerMs: number;
  /** Entries per Fetch response at most. */
  readonly fetchMaxEntries: number;
  /** Bytes per Fetch response about at most. */
  readonly fetchMaxBytes: number;
  /** Bytes per FetchSnapshot response at most. */
  readonly snapshotChunkBytes: number;
  /**
   * TEST ONLY: deliberately unsafe behaviours, so the simulator can show it catches them.
   * Never set outside tests.
   */
  readonly unsafe?: {
    /** Grant votes without checking that the candidate's log is at least as up to date. */
    readonly grantVoteWithoutLogCheck?: boolean;
  };
}

export const DEFAULT_RAFT_CONFIG: RaftConfig = {
  electionTimeoutMs: 1000,
  fetchTimeoutMs: 2000,
  electionBackoffMaxMs: 1000,
  fetchMaxWaitMs: 500,
  requestTimeoutMs: 2000,
  appendLingerMs: 0,
  fetchMaxEntries: 10_000,
  fetchMaxBytes: 8 * 1024 * 1024,
  snapshotChunkBytes: 1024 * 1024,
};

/** What a RaftNode needs: its identity, the quorum, its storage, the network and a source of randomness. */
export interface RaftDeps {
  readonly nodeId: number;
  /** The voters (static, as Kafka's controller.quorum.voters). A node not among them is an observer. */
  readonly voters: readonly number[];
  readonly clusterId: string;
  readonly log: RaftLog;
  readonly quorumState: QuorumStateStore;
  /** Sends a message; delivery is the transport's business (it may be lost, late, duplicated). */
  send(to: number, message: RaftMessage): void;
  /** A uniform random number in [0, 1): election jitter and backoff. */
  random(): number;
  readonly listener: RaftListener;
  readonly config: RaftConfig;
  logLine?(message: string): void;
}

/** The role a node plays in its current epoch. */
export type RaftRole =
  'unattached' | 'voted' | 'prospective' | 'candidate' | 'leader' | 'follower' | 'resigned';
