/**
 * The last few small appends of a partition, kept in memory so a fetch at the log end — a
 * consumer keeping up, woken by the append or arriving just after it — is answered without
 * reading back from the file what was just written: a read is a thread-pool round trip, the
 * largest part of an end-to-end delay once the write is done.
 *
 * Appends are copied into a fixed arena (copying, rather than keeping the request's bytes, holds
 * one arena per partition instead of the socket chunks the requests were sliced from). A full
 * arena is replaced by a new one, never written over: answers still being sent keep slices of
 * the old; the newest appends, up to TAIL_CARRY_BYTES, are copied over so a consumer a few
 * records behind still finds them. Appends larger than TAIL_APPEND_MAX_BYTES (throughput, not
 * latency) are not kept and empty the cache; so does an append that does not continue it (the
 * log was truncated or rolled back in between). What the cache answers must also be what a read
 * would return: the caller checks it ends at the high watermark and fits the fetch's limits.
 *
 * Memory: one arena per partition receiving small appends, and at most MAX_TAIL_ARENAS across
 * the broker (first come; a partition without one reads from the file, as without the cache).
 */

/** Bytes of recent appends a partition keeps in memory (one arena, allocated on first use). */
export const TAIL_CACHE_BYTES = 64 * 1024;
/** Largest append kept: larger ones are read from the file. */
export const TAIL_APPEND_MAX_BYTES = 16 * 1024;
/** Newest bytes copied into a new arena when the old one is full. */
export const TAIL_CARRY_BYTES = 16 * 1024;
/** Arenas held at once across all partitions: at most 64 MiB of tail caches, however many partitions. */
export const MAX_TAIL_ARENAS = 1024;

/** The arenas left to hand out, shared by the tail caches of one broker. */
export class TailArenas {
  left: number;
  constructor(max = MAX_TAIL_ARENAS) {
    this.left = max;
  }
}

export class TailCache {
  private readonly arenas: TailArenas;
  private arena: Buffer | null = null;
  private used = 0;
  /** First offset and arena position of each append held, in offset order. */
  private readonly firstOffsets: number[] = [];
  private readonly positions: number[] = [];
  /** Offset after the last append held, -1 when empty. */
  private end = -1;

  constructor(arenas: TailArenas) {
    this.arenas = arenas;
  }

  /** Offsets [firstOffset, endOffset) were appended as `records` (whole batches, offsets final). */
  add(firstOffset: number, endOffset: number, records: Buffer): void {
    if (records.length > TAIL_APPEND_MAX_BYTES) {
      this.clear();
      return;
    }
    if (firstOffset !== this.end) this.clear();
    if (this.arena === null) {
      if (this.arenas.left === 0) return;
      this.arenas.left--;
      this.arena = Buffer.allocUnsafeSlow(TAIL_CACHE_BYTES);
    } else if (this.used + records.length > this.arena.length) this.renew();
    records.copy(this.arena, this.used);
    this.firstOffsets.push(firstOffset);
    this.positions.push(this.used);
    this.used += records.length;
    this.end = endOffset;
  }

  /** Moves to a new arena with the newest appends (the old is never written over: answers hold slices). */
  private renew(): void {
    const old = this.arena!;
    // The appends before `drop` are left behind; the rest (the newest, up to TAIL_CARRY_BYTES) move.
    let drop = this.positions.length;
    while (drop > 0 && this.used - this.positions[drop - 1]! <= TAIL_CARRY_BYTES) drop--;
    const from = drop < this.positions.length ? this.positions[drop]! : this.used;
    this.arena = Buffer.allocUnsafeSlow(TAIL_CACHE_BYTES);
    old.copy(this.arena, 0, from, this.used);
    this.firstOffsets.splice(0, drop);
    this.positions.splice(0, drop);
    for (let i = 0; i < this.positions.length; i++) this.positions[i] = this.positions[i]! - from;
    this.used -= from;
  }

  /** Offset after the last append held, -1 when empty. */
  get endOffset(): number {
    return this.end;
  }

  /** The batches held from the one starting at `offset` to the last; null when no append starts there. */
  from(offset: number): Buffer | null {
    if (this.arena === null || offset >= this.end) return null;
    // Consumers read near the end: search from the last append back.
    for (let i = this.firstOffsets.length - 1; i >= 0; i--) {
      const first = this.firstOffsets[i]!;
      if (first === offset) return this.arena.subarray(this.positions[i], this.used);
      if (first < offset) return null;
    }
    return null;
  }

  /** Empties the cache and gives its arena back. */
  clear(): void {
    if (this.arena !== null) this.arenas.left++;
    this.arena = null;
    this.used = 0;
    this.firstOffsets.length = 0;
    this.positions.length = 0;
    this.end = -1;
  }
}
