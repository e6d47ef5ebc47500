/**
 * The Clock seam: wall-clock milliseconds and timers, injectable so tests and the simulator
 * control time. Coordinators and delayed operations schedule through `schedule` rather than
 * `setTimeout`, so a ManualClock drives their timeouts deterministically.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  nowMs(): number;
  /** Calls `fn` once `delayMs` has passed on this clock; the returned function cancels it. */
  schedule(delayMs: number, fn: () => void): () => void;
}

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  schedule(delayMs, fn) {
    // Node clamps delays above 2^31-1 ms to 1 ms; clamp ourselves to "about 24 days" instead.
    const t = setTimeout(fn, Math.min(Math.max(0, delayMs), 2 ** 31 - 1));
    // Timers never keep a process alive on their own: the server socket does that.
    t.unref();
    return () => clearTimeout(t);
  },
};

interface ManualTimer {
  dueMs: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** A clock that moves only when told to; `advance` fires the timers that fall due, in order. */
export class ManualClock implements Clock {
  private ms: number;
  private timers: ManualTimer[] = [];
  private seq = 0;

  constructor(startMs = 1_700_000_000_000) {
    this.ms = startMs;
  }

  nowMs(): number {
    return this.ms;
  }

  schedule(delayMs: number, fn: () => void): () => void {
    const timer: ManualTimer = {
      dueMs: this.ms + Math.max(0, delayMs),
      seq: this.seq++,
      fn,
      cancelled: false,
    };
    this.timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  }

  /** Timers scheduled and neither fired nor cancelled. */
  get pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /**
   * Moves time forward by `ms`, stopping at each timer's due time to fire it (earliest first,
   * then in scheduling order), so a timer scheduled by a firing timer fires too if it is due.
   */
  advance(ms: number): void {
    const target = this.ms + ms;
    for (;;) {
      this.timers = this.timers.filter((t) => !t.cancelled);
      let next: ManualTimer | undefined;
      for (const t of this.timers) {
        if (t.dueMs > target) continue;
        if (next === undefined || t.dueMs < next.dueMs || (t.dueMs === next.dueMs && t.seq < next.seq))
          next = t;
      }
      if (next === undefined) break;
      this.ms = Math.max(this.ms, next.dueMs);
      next.cancelled = true;
      next.fn();
    }
    this.ms = target;
  }
}
