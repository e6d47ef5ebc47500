/**
 * A node's clock: it runs at a slightly wrong rate and from its own origin, as real clocks
 * do. The simulator keeps one global time; each node sees `global × rate + offset`.
 */

/** Nudge when converting back to global time, so rounding never lands just before a deadline. */
const ROUNDING_NUDGE_MS = 1e-3;

export class SkewedClock {
  /** @param skew the rate error (0.01: runs 1% fast); @param offsetMs the node's origin. */
  constructor(
    readonly skew: number,
    readonly offsetMs: number,
  ) {
    if (!(skew > -1)) throw new Error(`SkewedClock skew ${skew} would stop or reverse time`);
  }

  /** The node's time at global time `globalMs`. */
  local(globalMs: number): number {
    return globalMs * (1 + this.skew) + this.offsetMs;
  }

  /** The earliest global time at which the node's clock reads at least `localMs`. */
  globalAt(localMs: number): number {
    let g = (localMs - this.offsetMs) / (1 + this.skew);
    for (let i = 0; i < 8 && this.local(g) < localMs; i++) g += ROUNDING_NUDGE_MS;
    return g;
  }
}
