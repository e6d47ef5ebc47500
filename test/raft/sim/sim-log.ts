/**
 * A node's disk in the simulator: MemoryLog (whose crash() keeps only what was durable) with
 * hooks, so the process can die at a durable write and every entry a log removes is checked
 * against the committed history.
 */
import { MemoryLog } from '../../../src/raft/memory-log.js';
import type { LogEntry, Snapshot } from '../../../src/raft/types.js';

/** The process died at a durable write: thrown out of the core, caught by the simulator. */
export class SimulatedCrash extends Error {
  constructor(where: string) {
    super(`simulated crash at ${where}`);
  }
}

/** What SimLog asks of the simulator. */
export interface SimLogHooks {
  /** Runs a durable write of node `nodeId` (or throws SimulatedCrash before or after it). */
  durableWrite(nodeId: number, what: string, write: () => void): void;
  /** Throws SimulatedCrash if the node's process is already dead. */
  zombieCheck(nodeId: number): void;
  /** Entries the log is about to remove. */
  removed(nodeId: number, entries: readonly LogEntry[], why: string): void;
}

/** The node's MemoryLog, with the simulator's hooks: deaths at durable writes, removed-entry checks. */
export class SimLog extends MemoryLog {
  constructor(
    private readonly sim: SimLogHooks,
    private readonly nodeId: number,
  ) {
    super();
  }

  override flush(): void {
    this.sim.durableWrite(this.nodeId, 'flush', () => super.flush());
  }

  override truncateTo(offset: number): void {
    this.sim.zombieCheck(this.nodeId);
    if (offset >= this.startOffset && offset < this.endOffset) {
      const removed = this.read(offset, Infinity, Infinity);
      this.sim.removed(this.nodeId, removed, `truncateTo(${offset})`);
    }
    super.truncateTo(offset);
  }

  override append(entries: readonly LogEntry[]): void {
    this.sim.zombieCheck(this.nodeId);
    super.append(entries);
  }

  override installSnapshot(snapshot: Snapshot): void {
    const end = snapshot.endOffset;
    const before = end >= this.startOffset && end < this.endOffset ? this.read(end, Infinity, Infinity) : [];
    this.sim.durableWrite(this.nodeId, `installSnapshot(${end}@${snapshot.epoch})`, () => {
      super.installSnapshot(snapshot);
      if (this.endOffset < end + before.length) {
        this.sim.removed(this.nodeId, before.slice(this.endOffset - end), `installSnapshot(${end})`);
      }
    });
  }
}
