/**
 * Drives a RaftNode with real time: a timer armed at `node.nextPollMs()`, and a poll after
 * every burst of messages. The core has no timers and does no I/O of its own; this is the
 * loop KRaft's raft thread runs (`poll()` until the next deadline or a message).
 *
 * Scheduling. Messages are handed to the node as they arrive (`deliver`); proposals made in
 * the same turn of the event loop are appended together (one `node.propose`, so one flush); then
 * one poll runs in a setImmediate (after the I/O callbacks of that turn, so a burst of messages
 * costs one poll), and the timer is re-armed for the node's next deadline. A node that asks to
 * be polled again at once is polled in the next turn, so sockets are never starved.
 *
 * Proposals resolve when committed: when the high watermark passes the proposal's last entry
 * and the entry committed at that offset has the proposal's epoch (the Log Matching property
 * then says the whole batch committed). An entry of another epoch at that offset means the
 * proposal was lost in a leader change: it is rejected with ProposalLostError. A proposal that
 * sees neither within `proposeTimeoutMs` (a leader cut off from the quorum) is rejected with
 * ProposalTimeoutError; its fate is unknown.
 *
 * Time is monotonic (performance.now() from the process's time origin), so a wall-clock step
 * cannot fire or starve an election timer.
 */
import { performance } from 'node:perf_hooks';
import type { DescribeQuorumResponse } from '../protocol/generated/message/DescribeQuorumResponse.js';
import { RaftNode } from './raft-node.js';
import type {
  LogEntry,
  OffsetAndEpoch,
  QuorumStateStore,
  RaftConfig,
  RaftListener,
  RaftLog,
  RaftMessage,
  Snapshot,
} from './types.js';

/** Default time a proposal waits for its commit before it is rejected as timed out. */
export const DEFAULT_PROPOSE_TIMEOUT_MS = 30_000;
/** Entries proposed in one turn of the event loop, at most (more wait for the next turn). */
export const PROPOSE_BATCH_ENTRIES_MAX = 50_000;
/** Entries proposed and not yet appended, at most: beyond, propose() is refused at once. */
export const PENDING_PROPOSAL_ENTRIES_MAX = 10 * PROPOSE_BATCH_ENTRIES_MAX;
/** Polls in a row that ask for another at once before the runtime waits a millisecond. */
const IMMEDIATE_POLLS_MAX = 100;

export class NotLeaderError extends Error {
  override readonly name = 'NotLeaderError';
  constructor(
    readonly leaderId: number,
    readonly epoch: number,
  ) {
    super(
      leaderId >= 0 ? `not the leader: node ${leaderId} leads epoch ${epoch}` : 'not the leader: none known',
    );
  }
}

export class ProposalLostError extends Error {
  override readonly name = 'ProposalLostError';
}

export class ProposalTimeoutError extends Error {
  override readonly name = 'ProposalTimeoutError';
}

export interface RaftRuntimeOptions {
  readonly nodeId: number;
  readonly voters: readonly number[];
  readonly clusterId: string;
  readonly config: RaftConfig;
  readonly log: RaftLog;
  readonly quorumState: QuorumStateStore;
  /** Sends a message (the transport's send). */
  readonly send: (to: number, message: RaftMessage) => void;
  /** The state machine; told of commits, snapshots and leader changes. */
  readonly listener: RaftListener;
  readonly proposeTimeoutMs?: number;
  /** Milliseconds on a monotonic clock; performance's by default. */
  readonly nowMs?: () => number;
  readonly random?: () => number;
  readonly logLine?: (message: string) => void;
}

export interface Committed extends OffsetAndEpoch {
  /** From the propose call to the commit, in milliseconds. */
  readonly commitMs: number;
}

interface Proposal {
  readonly data: readonly Buffer[];
  readonly proposedMs: number;
  readonly resolve: (c: Committed) => void;
  readonly reject: (e: Error) => void;
}

interface Waiter {
  readonly offset: number;
  readonly epoch: number;
  readonly proposedMs: number;
  readonly deadlineMs: number;
  readonly resolve: (c: Committed) => void;
  readonly reject: (e: Error) => void;
}

const monotonicNowMs = (): number => performance.timeOrigin + performance.now();

export class RaftRuntime {
  readonly node: RaftNode;
  private readonly opts: RaftRuntimeOptions;
  private readonly nowMs: () => number;
  private readonly proposeTimeoutMs: number;
  private timer: NodeJS.Timeout | null = null;
  private timerDueMs = Number.POSITIVE_INFINITY;
  private immediate: NodeJS.Immediate | null = null;
  private immediatePolls = 0;
  private stopped = false;
  private proposals: Proposal[] = [];
  /** Entries in `proposals`. */
  private pendingEntries = 0;
  /** Proposals appended and not yet committed, by offset of their last entry (ascending). */
  private waiters: Waiter[] = [];
  /** The high watermark delivered so far (entries below it were committed). */
  private committedEnd = 0;

  constructor(opts: RaftRuntimeOptions) {
    this.opts = opts;
    this.nowMs = opts.nowMs ?? monotonicNowMs;
    this.proposeTimeoutMs = opts.proposeTimeoutMs ?? DEFAULT_PROPOSE_TIMEOUT_MS;
    const user = opts.listener;
    const listener: RaftListener = {
      commit: (entries) => {
        user.commit(entries);
        this.onCommit(entries);
      },
      loadSnapshot: (snapshot) => {
        user.loadSnapshot(snapshot);
        this.onSnapshot(snapshot);
      },
      leaderChanged: (leaderId, epoch) => user.leaderChanged?.(leaderId, epoch),
    };
    this.node = new RaftNode(
      {
        nodeId: opts.nodeId,
        voters: opts.voters,
        clusterId: opts.clusterId,
        log: opts.log,
        quorumState: opts.quorumState,
        send: opts.send,
        random: opts.random ?? Math.random,
        listener,
        config: opts.config,
        ...(opts.logLine === undefined ? {} : { logLine: opts.logLine }),
      },
      this.nowMs(),
    );
    this.schedule();
  }

  /** Hands a message from the transport to the node; a poll follows in this turn of the loop. */
  deliver(from: number, message: RaftMessage): void {
    if (this.stopped) return;
    this.node.receive(from, message, this.nowMs());
    this.kick();
  }

  /**
   * Proposes entries (leader only); resolves with the offset and epoch of the last one once
   * committed. Rejects with NotLeaderError when this node does not lead when the batch is
   * appended (later in this turn of the loop).
   */
  propose(data: readonly Buffer[]): Promise<Committed> {
    if (this.stopped) return Promise.reject(new Error('raft runtime stopped'));
    if (data.length === 0) return Promise.reject(new RangeError('propose needs at least one entry'));
    if (this.pendingEntries + data.length > PENDING_PROPOSAL_ENTRIES_MAX) {
      return Promise.reject(
        new RangeError(
          `raft: ${this.pendingEntries} entries already wait to be appended (at most ${PENDING_PROPOSAL_ENTRIES_MAX})`,
        ),
      );
    }
    this.pendingEntries += data.length;
    return new Promise((resolve, reject) => {
      this.proposals.push({ data, proposedMs: this.nowMs(), resolve, reject });
      this.kick();
    });
  }

  resign(): void {
    this.node.resign(this.nowMs());
    this.kick();
  }

  takeSnapshot(endOffset: number, data: Buffer): void {
    this.node.takeSnapshot(endOffset, data);
  }

  describeQuorum(): DescribeQuorumResponse.PartitionData {
    return this.node.describeQuorum(this.nowMs());
  }

  /** Stops driving the node: timers cleared, pending proposals rejected. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.immediate !== null) clearImmediate(this.immediate);
    const e = new Error('raft runtime stopped');
    for (const p of this.proposals) p.reject(e);
    for (const w of this.waiters) w.reject(e);
    this.proposals = [];
    this.pendingEntries = 0;
    this.waiters = [];
  }

  // ------------------------------------------------------------------ internals

  /** Runs a turn (proposals, poll, re-arm) after this turn's I/O callbacks, once. */
  private kick(): void {
    if (this.immediate !== null || this.stopped) return;
    this.immediate = setImmediate(() => {
      this.immediate = null;
      this.turn();
    });
  }

  private turn(): void {
    if (this.stopped) return;
    const nowMs = this.nowMs();
    this.appendProposals(nowMs);
    this.node.poll(nowMs);
    this.expireWaiters(nowMs);
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    const nowMs = this.nowMs();
    let dueMs = this.node.nextPollMs();
    if (this.waiters.length > 0) dueMs = Math.min(dueMs, this.waiters[0]!.deadlineMs);
    if (this.proposals.length > 0) dueMs = Math.min(dueMs, nowMs);
    if (dueMs <= nowMs) {
      // Due now: the next turn, after pending I/O. Many in a row means the node keeps asking;
      // a millisecond's pause then keeps a bug from spinning a core.
      if (++this.immediatePolls <= IMMEDIATE_POLLS_MAX) {
        this.kick();
        return;
      }
      dueMs = nowMs + 1;
    }
    this.immediatePolls = 0;
    if (dueMs === this.timerDueMs && this.timer !== null) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.timerDueMs = dueMs;
    if (!Number.isFinite(dueMs)) return;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.timerDueMs = Number.POSITIVE_INFINITY;
        this.turn();
      },
      Math.max(0, Math.ceil(dueMs - nowMs)),
    );
  }

  private appendProposals(nowMs: number): void {
    if (this.proposals.length === 0) return;
    let batch: Proposal[];
    let count = 0;
    let taken = 0;
    for (const p of this.proposals) {
      if (taken > 0 && count + p.data.length > PROPOSE_BATCH_ENTRIES_MAX) break;
      count += p.data.length;
      taken++;
    }
    if (taken === this.proposals.length) {
      batch = this.proposals;
      this.proposals = [];
    } else {
      batch = this.proposals.slice(0, taken);
      this.proposals = this.proposals.slice(taken);
    }
    const data: Buffer[] = [];
    for (const p of batch) for (const d of p.data) data.push(d);
    this.pendingEntries -= data.length;
    const last = this.node.propose(data, nowMs);
    if (last === null) {
      const e = new NotLeaderError(this.node.leaderId, this.node.epoch);
      for (const p of batch) p.reject(e);
      return;
    }
    // Each proposal's last entry, counting back from the batch's last.
    let offset = last.offset - data.length;
    for (const p of batch) {
      offset += p.data.length;
      const w: Waiter = {
        offset,
        epoch: last.epoch,
        proposedMs: p.proposedMs,
        deadlineMs: nowMs + this.proposeTimeoutMs,
        resolve: p.resolve,
        reject: p.reject,
      };
      // With one voter the batch may commit inside propose(): settle it now.
      if (offset < this.committedEnd) this.settleFromLog(w);
      else this.addWaiter(w);
    }
  }

  private addWaiter(w: Waiter): void {
    const ws = this.waiters;
    // Nearly always the largest offset; a new leader may reuse offsets of lost proposals.
    let i = ws.length;
    while (i > 0 && ws[i - 1]!.offset > w.offset) i--;
    ws.splice(i, 0, w);
  }

  private settleFromLog(w: Waiter): void {
    const epoch = this.opts.log.epochAt(w.offset);
    if (epoch === w.epoch)
      w.resolve({ offset: w.offset, epoch: w.epoch, commitMs: this.nowMs() - w.proposedMs });
    else if (epoch === undefined)
      w.reject(new ProposalTimeoutError(`offset ${w.offset} is no longer in the log`));
    else w.reject(new ProposalLostError(`offset ${w.offset} committed in epoch ${epoch}, not ${w.epoch}`));
  }

  private onCommit(entries: readonly LogEntry[]): void {
    const last = entries[entries.length - 1];
    if (last === undefined) return;
    this.committedEnd = Math.max(this.committedEnd, last.offset + 1);
    const first = entries[0]!.offset;
    const nowMs = this.nowMs();
    let settled = 0;
    for (const w of this.waiters) {
      if (w.offset > last.offset) break;
      settled++;
      const e = w.offset >= first ? entries[w.offset - first] : undefined;
      if (e === undefined) {
        // Committed in an earlier delivery, before this proposal was registered: ask the log.
        this.settleFromLog(w);
      } else if (e.epoch === w.epoch) {
        w.resolve({ offset: w.offset, epoch: w.epoch, commitMs: nowMs - w.proposedMs });
      } else {
        w.reject(new ProposalLostError(`offset ${w.offset} committed in epoch ${e.epoch}, not ${w.epoch}`));
      }
    }
    if (settled > 0) this.waiters.splice(0, settled);
  }

  private onSnapshot(snapshot: Snapshot): void {
    this.committedEnd = Math.max(this.committedEnd, snapshot.endOffset);
    let settled = 0;
    for (const w of this.waiters) {
      if (w.offset >= snapshot.endOffset) break;
      settled++;
      // Inside a snapshot the epochs of single entries are not known: the outcome is not either.
      w.reject(new ProposalTimeoutError(`offset ${w.offset} was replaced by a snapshot; outcome unknown`));
    }
    if (settled > 0) this.waiters.splice(0, settled);
  }

  private expireWaiters(nowMs: number): void {
    if (this.waiters.length === 0) return;
    const kept: Waiter[] = [];
    for (const w of this.waiters) {
      if (nowMs >= w.deadlineMs) {
        w.reject(
          new ProposalTimeoutError(`offset ${w.offset} not committed within ${this.proposeTimeoutMs} ms`),
        );
      } else kept.push(w);
    }
    this.waiters = kept;
  }
}
