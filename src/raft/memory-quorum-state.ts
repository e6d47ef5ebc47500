/**
 * A QuorumStateStore in memory, durable on write: what a crash keeps is the last state
 * written. The simulator's quorum-state file, and the one a test node uses.
 */
import type { QuorumState, QuorumStateStore } from './types.js';

export class MemoryQuorumStateStore implements QuorumStateStore {
  private state: QuorumState | null;
  /** Writes so far, for tests that count them. */
  writes = 0;

  constructor(initial: QuorumState | null = null) {
    this.state = initial === null ? null : { ...initial };
  }

  read(): QuorumState | null {
    return this.state === null ? null : { ...this.state };
  }

  write(state: QuorumState): void {
    // Copied: the caller may reuse or change its object, a file would not see that.
    this.state = { epoch: state.epoch, votedId: state.votedId, leaderId: state.leaderId };
    this.writes++;
  }
}
