/**
 * The simulated network: it decides, from a seeded stream, whether each message is lost,
 * how late it arrives and whether it arrives twice. Reordering falls out of independent
 * random delays. Partitions block links: symmetric (two groups that cannot talk) or one-way
 * (A's messages to B lost while B's reach A). A blocked link loses messages sent on it and
 * those in flight when they would arrive.
 */
import type { Rng } from './rng.js';

export interface NetworkFaults {
  /** Probability that a message is lost. */
  dropProbability: number;
  /** Probability that a delivered message is delivered a second time (with its own delay). */
  duplicateProbability: number;
  delayMinMs: number;
  delayMaxMs: number;
}

export const NO_NETWORK_FAULTS: NetworkFaults = {
  dropProbability: 0,
  duplicateProbability: 0,
  delayMinMs: 1,
  delayMaxMs: 5,
};

export class Network {
  /** blocked[from * n + to]: messages from → to are lost. */
  private readonly blocked: Uint8Array;
  private blockedLinks = 0;
  faults: NetworkFaults;

  constructor(
    readonly nodeCount: number,
    private readonly rng: Rng,
    faults: NetworkFaults = NO_NETWORK_FAULTS,
  ) {
    this.blocked = new Uint8Array(nodeCount * nodeCount);
    this.faults = { ...faults };
  }

  /** The global times at which a message sent now arrives: none (lost), one, or two (duplicated). */
  route(from: number, to: number, nowMs: number): number[] {
    if (this.isBlocked(from, to)) return [];
    const f = this.faults;
    if (this.rng.chance(f.dropProbability)) return [];
    const first = nowMs + this.rng.range(f.delayMinMs, f.delayMaxMs);
    if (!this.rng.chance(f.duplicateProbability)) return [first];
    return [first, nowMs + this.rng.range(f.delayMinMs, f.delayMaxMs)];
  }

  isBlocked(from: number, to: number): boolean {
    return this.blockedLinks > 0 && this.blocked[from * this.nodeCount + to] === 1;
  }

  /** Nodes in `side` and the others can no longer reach each other (both directions). */
  partition(side: readonly number[]): void {
    const inSide = new Set(side);
    for (let a = 0; a < this.nodeCount; a++) {
      for (let b = 0; b < this.nodeCount; b++) {
        if (inSide.has(a) !== inSide.has(b)) this.block(a, b);
      }
    }
  }

  /** Messages from `from` to `to` are lost; the other direction is untouched. */
  blockOneWay(from: number, to: number): void {
    this.block(from, to);
  }

  /** Every link works again. */
  heal(): void {
    this.blocked.fill(0);
    this.blockedLinks = 0;
  }

  /** A readable list of blocked links, for the trace. */
  describe(): string {
    const links: string[] = [];
    for (let a = 0; a < this.nodeCount; a++) {
      for (let b = 0; b < this.nodeCount; b++) if (this.isBlocked(a, b)) links.push(`${a}->${b}`);
    }
    return links.length === 0 ? 'healed' : `blocked ${links.join(' ')}`;
  }

  private block(from: number, to: number): void {
    const i = from * this.nodeCount + to;
    if (from === to || this.blocked[i] === 1) return;
    this.blocked[i] = 1;
    this.blockedLinks++;
  }
}
