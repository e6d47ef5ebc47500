/**
 * The safety invariants, checked against everything the simulator observes. The checker
 * knows nothing of the simulator: it is fed observations (a node's visible state after an
 * event, a durable quorum-state write, entries delivered to a state machine, entries removed
 * from a log) and throws InvariantViolation at the first one that breaks a rule, so it can
 * be tested on hand-made histories.
 *
 * Invariants:
 * - one-leader-per-epoch: every claim about who leads epoch e (a node in role leader, a
 *   node's leaderId, a durable quorum state's leaderId) names the same node, over the whole
 *   history.
 * - epoch-monotonic: a node's epoch never decreases, across restarts too; it is never ahead
 *   of its durable quorum state (an epoch is written before it is used, so a restart cannot
 *   take it back); durable writes never lower the epoch.
 * - one-vote-per-epoch: within an epoch a node's durable vote, once cast, never names
 *   another candidate, and a known leader never changes; a vote is granted (the answer sent)
 *   only once it is on disk.
 * - hw-monotonic: a node's high watermark never decreases within a process lifetime.
 * - committed-stable: an entry committed at an offset (below some node's high watermark, or
 *   delivered to a state machine) is the same (epoch and data) wherever and whenever it is
 *   seen again; no log ever removes an entry that matches a committed one.
 * - leader-complete: a leader of epoch e holds every entry committed by a leader of an
 *   earlier epoch.
 * - apply-order: each lifetime's state machine starts at 0 or a loaded snapshot and applies
 *   contiguous offsets, each exactly once, never going back; a loaded snapshot holds exactly
 *   the state of the committed prefix it ends at.
 */
import type { LogEntry, QuorumState, RaftRole, Snapshot } from '../../../src/raft/types.js';
import { applyEntry, decodeSnapshot, STATE_HASH_INIT, type SnapshotState } from './state-machine.js';

export type InvariantName =
  | 'one-leader-per-epoch'
  | 'epoch-monotonic'
  | 'one-vote-per-epoch'
  | 'hw-monotonic'
  | 'committed-stable'
  | 'leader-complete'
  | 'apply-order'
  | 'liveness';

export class InvariantViolation extends Error {
  constructor(
    readonly invariant: InvariantName,
    message: string,
  ) {
    super(`[${invariant}] ${message}`);
    this.name = 'InvariantViolation';
  }
}

/** What the checker reads of a node after an event. */
export interface NodeView {
  readonly role: RaftRole;
  readonly epoch: number;
  readonly leaderId: number;
  readonly highWatermark: number;
}

/** What the checker reads of a node's log. */
export interface LogView {
  readonly startOffset: number;
  readonly endOffset: number;
  entryAt(offset: number): LogEntry | undefined;
}

interface NodeTrack {
  lifetime: number;
  /** Highest epoch ever seen of this node, across lifetimes. */
  maxEpoch: number;
  /** The last durable quorum state written, or null. */
  durable: QuorumState | null;
  /** The first vote cast durably in `voteEpoch`, or -1. */
  voteEpoch: number;
  votedId: number;
  // Per lifetime:
  highWatermark: number;
  /** The next offset the state machine must apply, or -1 before it applied or loaded anything. */
  nextApply: number;
  stateHash: number;
  /** Offsets of the log below this were checked against the committed history. */
  hwCheckedTo: number;
  /** Offsets below this were marked committed in an epoch of this node's leadership. */
  leaderMarkedTo: number;
  /** The epoch in which this lifetime was last checked as a new leader, or -1. */
  leaderCheckedEpoch: number;
}

/** Where a leader claim came from, for the message when two disagree. */
type ClaimSource = 'role' | 'leaderId' | 'durable';

export class InvariantChecker {
  private readonly nodes = new Map<number, NodeTrack>();
  private readonly leaderOfEpoch = new Map<number, { nodeId: number; from: number; source: ClaimSource }>();
  // The committed history, by offset (sparse until filled in): epoch and data of each entry.
  private readonly committedEpoch: number[] = [];
  private readonly committedData: Buffer[] = [];
  /** The lowest leader epoch seen with its high watermark past the offset. */
  private readonly commitEpoch: number[] = [];
  private committedEnd = 0;
  /** prefixHash[k]: the state after applying committed offsets 0..k-1 (extended lazily). */
  private readonly prefixHash: number[] = [STATE_HASH_INIT];

  /** Offsets known committed are below this. */
  get committedEndOffset(): number {
    return this.committedEnd;
  }

  /** The committed entry at `offset`, if known. */
  committedAt(offset: number): { epoch: number; data: Buffer } | undefined {
    const epoch = this.committedEpoch[offset];
    return epoch === undefined ? undefined : { epoch, data: this.committedData[offset]! };
  }

  /** A node process starts (the first time, or after a crash). */
  startLifetime(nodeId: number): void {
    const t = this.nodes.get(nodeId);
    if (t === undefined) {
      this.nodes.set(nodeId, {
        lifetime: 0,
        maxEpoch: 0,
        durable: null,
        voteEpoch: -1,
        votedId: -1,
        highWatermark: -Infinity,
        nextApply: -1,
        stateHash: STATE_HASH_INIT,
        hwCheckedTo: 0,
        leaderMarkedTo: 0,
        leaderCheckedEpoch: -1,
      });
      return;
    }
    t.lifetime++;
    t.highWatermark = -Infinity;
    t.nextApply = -1;
    t.stateHash = STATE_HASH_INIT;
    t.hwCheckedTo = 0;
    t.leaderMarkedTo = 0;
    t.leaderCheckedEpoch = -1;
  }

  /** The state machine's state now (for the snapshot it would write), or null before it applied anything. */
  appliedState(nodeId: number): SnapshotState | null {
    const t = this.track(nodeId);
    return t.nextApply < 0 ? null : { endOffset: t.nextApply, hash: t.stateHash };
  }

  /** A node's visible state after an event, with its log. */
  observeNode(nodeId: number, view: NodeView, log: LogView): void {
    const t = this.track(nodeId);
    const epoch = view.epoch;
    if (epoch < t.maxEpoch) {
      this.fail('epoch-monotonic', `node ${nodeId} is at epoch ${epoch} after having been at ${t.maxEpoch}`);
    }
    t.maxEpoch = epoch;
    if (t.durable === null ? epoch > 0 : epoch > t.durable.epoch) {
      this.fail(
        'epoch-monotonic',
        `node ${nodeId} is at epoch ${epoch} but its durable quorum state says ${t.durable?.epoch ?? 'nothing'}`,
      );
    }
    if (view.role === 'leader') this.claimLeader(epoch, nodeId, nodeId, 'role');
    if (view.leaderId >= 0) this.claimLeader(epoch, view.leaderId, nodeId, 'leaderId');

    const hw = view.highWatermark;
    if (hw < t.highWatermark) {
      this.fail('hw-monotonic', `node ${nodeId} high watermark went from ${t.highWatermark} to ${hw}`);
    }
    t.highWatermark = hw;

    // Entries of the log below the high watermark are committed.
    const checkTo = Math.min(hw, log.endOffset);
    if (t.hwCheckedTo < log.startOffset) t.hwCheckedTo = log.startOffset;
    for (let o = t.hwCheckedTo; o < checkTo; o++) {
      const e = log.entryAt(o)!;
      this.recordCommitted(e, `node ${nodeId}'s log below its high watermark ${hw}`);
    }
    if (checkTo > t.hwCheckedTo) t.hwCheckedTo = checkTo;

    if (view.role === 'leader') {
      if (t.leaderCheckedEpoch !== epoch) {
        t.leaderCheckedEpoch = epoch;
        this.checkLeaderComplete(nodeId, epoch, log);
      }
      for (let o = t.leaderMarkedTo; o < checkTo; o++) {
        const c = this.commitEpoch[o];
        if (c === undefined || epoch < c) this.commitEpoch[o] = epoch;
      }
      if (checkTo > t.leaderMarkedTo) t.leaderMarkedTo = checkTo;
    }
  }

  /** A durable quorum-state write by a node. */
  observeQuorumWrite(nodeId: number, state: QuorumState): void {
    const t = this.track(nodeId);
    const prev = t.durable;
    if (prev !== null && state.epoch < prev.epoch) {
      this.fail(
        'epoch-monotonic',
        `node ${nodeId} wrote quorum state epoch ${state.epoch} after ${prev.epoch}`,
      );
    }
    if (state.votedId >= 0) {
      if (t.voteEpoch === state.epoch && t.votedId !== state.votedId) {
        this.fail(
          'one-vote-per-epoch',
          `node ${nodeId} voted for ${state.votedId} in epoch ${state.epoch} after voting for ${t.votedId}`,
        );
      }
      if (t.voteEpoch !== state.epoch) {
        t.voteEpoch = state.epoch;
        t.votedId = state.votedId;
      }
    }
    if (
      prev !== null &&
      prev.epoch === state.epoch &&
      prev.leaderId >= 0 &&
      state.leaderId !== prev.leaderId
    ) {
      this.fail(
        'one-vote-per-epoch',
        `node ${nodeId} durably knew leader ${prev.leaderId} of epoch ${state.epoch}, then wrote leader ${state.leaderId}`,
      );
    }
    if (state.leaderId >= 0) this.claimLeader(state.epoch, state.leaderId, nodeId, 'durable');
    t.durable = { epoch: state.epoch, votedId: state.votedId, leaderId: state.leaderId };
  }

  /** A node sends a granted vote (not a pre-vote) to `candidateId` for `epoch`. */
  observeVoteGranted(nodeId: number, candidateId: number, epoch: number): void {
    const d = this.track(nodeId).durable;
    if (d === null || d.epoch !== epoch || d.votedId !== candidateId) {
      this.fail(
        'one-vote-per-epoch',
        `node ${nodeId} granted its vote in epoch ${epoch} to ${candidateId} with ${d === null ? 'no durable vote' : `durable state epoch ${d.epoch} voted ${d.votedId}`}`,
      );
    }
  }

  /** Entries delivered to a node's state machine as committed. */
  observeCommit(nodeId: number, entries: readonly LogEntry[]): void {
    const t = this.track(nodeId);
    for (const e of entries) {
      const expected = t.nextApply < 0 ? 0 : t.nextApply;
      if (e.offset !== expected) {
        this.fail(
          'apply-order',
          `node ${nodeId} (lifetime ${t.lifetime}) applied offset ${e.offset} where ${expected} was next`,
        );
      }
      this.recordCommitted(e, `node ${nodeId}'s state machine`);
      t.stateHash = applyEntry(t.stateHash, e);
      t.nextApply = e.offset + 1;
    }
  }

  /** A snapshot loaded into a node's state machine. */
  observeLoadSnapshot(nodeId: number, snapshot: Snapshot): void {
    const t = this.track(nodeId);
    const end = snapshot.endOffset;
    if (t.nextApply > end) {
      this.fail(
        'apply-order',
        `node ${nodeId} loaded a snapshot ending at ${end} after applying up to ${t.nextApply}: its state went back`,
      );
    }
    const state = decodeSnapshot(snapshot.data);
    if (typeof state === 'string') this.fail('apply-order', `node ${nodeId} loaded a bad snapshot: ${state}`);
    if (state.endOffset !== end) {
      this.fail(
        'apply-order',
        `node ${nodeId} loaded snapshot ${end}@${snapshot.epoch} holding the state at ${state.endOffset}`,
      );
    }
    const expected = this.prefixHashAt(end);
    if (expected === undefined) {
      this.fail(
        'apply-order',
        `node ${nodeId} loaded a snapshot ending at ${end}, past the known committed history`,
      );
    }
    if (expected !== state.hash) {
      this.fail(
        'apply-order',
        `node ${nodeId} loaded a snapshot ending at ${end} whose state is not the committed prefix's`,
      );
    }
    const last = end > 0 ? this.committedEpoch[end - 1] : undefined;
    if (last !== undefined && last !== snapshot.epoch) {
      this.fail(
        'committed-stable',
        `snapshot ${end}@${snapshot.epoch}: committed entry ${end - 1} has epoch ${last}`,
      );
    }
    t.nextApply = end;
    t.stateHash = state.hash;
  }

  /** Entries a log is about to remove (a truncation, or a snapshot that replaces the whole log). */
  observeRemoved(nodeId: number, removed: readonly LogEntry[], why: string): void {
    for (const e of removed) {
      if (e.offset >= this.committedEnd) break;
      const c = this.committedAt(e.offset);
      if (c !== undefined && c.epoch === e.epoch && c.data.equals(e.data)) {
        this.fail(
          'committed-stable',
          `node ${nodeId} removed committed entry ${e.offset}@${e.epoch} (${why})`,
        );
      }
    }
  }

  /** Fails with `message` under `invariant` (for checks the simulator makes itself, as liveness). */
  fail(invariant: InvariantName, message: string): never {
    throw new InvariantViolation(invariant, message);
  }

  private track(nodeId: number): NodeTrack {
    const t = this.nodes.get(nodeId);
    if (t === undefined) throw new Error(`InvariantChecker: node ${nodeId} observed before startLifetime`);
    return t;
  }

  private claimLeader(epoch: number, leaderId: number, from: number, source: ClaimSource): void {
    const prev = this.leaderOfEpoch.get(epoch);
    if (prev === undefined) {
      this.leaderOfEpoch.set(epoch, { nodeId: leaderId, from, source });
    } else if (prev.nodeId !== leaderId) {
      this.fail(
        'one-leader-per-epoch',
        `epoch ${epoch} has leader ${prev.nodeId} (${describeClaim(prev.from, prev.source)}) and ${leaderId} (${describeClaim(from, source)})`,
      );
    }
  }

  private recordCommitted(e: LogEntry, where: string): void {
    const known = this.committedEpoch[e.offset];
    if (known === undefined) {
      this.committedEpoch[e.offset] = e.epoch;
      this.committedData[e.offset] = e.data;
      if (e.offset >= this.committedEnd) this.committedEnd = e.offset + 1;
      return;
    }
    if (known !== e.epoch || !this.committedData[e.offset]!.equals(e.data)) {
      this.fail(
        'committed-stable',
        `committed offset ${e.offset} was ${known}:${show(this.committedData[e.offset]!)}, ${where} has ${e.epoch}:${show(e.data)}`,
      );
    }
  }

  private checkLeaderComplete(nodeId: number, epoch: number, log: LogView): void {
    for (let o = log.startOffset; o < this.committedEnd; o++) {
      const c = this.commitEpoch[o];
      if (c === undefined || c >= epoch) continue;
      const e = log.entryAt(o);
      const known = this.committedAt(o)!;
      if (e === undefined || e.epoch !== known.epoch || !e.data.equals(known.data)) {
        this.fail(
          'leader-complete',
          `node ${nodeId}, leader of epoch ${epoch}, lacks entry ${o}@${known.epoch} committed in epoch ${c}` +
            (e === undefined ? ` (its log ends at ${log.endOffset})` : ` (it holds ${o}@${e.epoch})`),
        );
      }
    }
  }

  private prefixHashAt(end: number): number | undefined {
    const h = this.prefixHash;
    while (h.length <= end) {
      const o = h.length - 1;
      const epoch = this.committedEpoch[o];
      if (epoch === undefined) return undefined;
      h.push(applyEntry(h[o]!, { offset: o, epoch, data: this.committedData[o]! }));
    }
    return h[end];
  }
}

function describeClaim(from: number, source: ClaimSource): string {
  switch (source) {
    case 'role':
      return `node ${from} is leader`;
    case 'leaderId':
      return `node ${from}'s leaderId`;
    case 'durable':
      return `node ${from}'s quorum state`;
  }
}

function show(data: Buffer): string {
  return JSON.stringify(data.toString('latin1').slice(0, 24));
}
