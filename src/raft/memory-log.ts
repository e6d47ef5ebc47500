/**
 * An in-memory RaftLog that knows what a crash would keep: the simulator's disk, and a
 * reference for the file-backed log's behaviour.
 *
 * Two images are kept. The working log is what the running process sees. The durable log is
 * what survives `crash()`: appends and truncations reach it only on `flush()` (as a write and
 * an ftruncate reach the platter only with an fsync), while `installSnapshot` is durable at
 * once (a snapshot file is written, synced and renamed before it is used). The working log
 * equals the durable one below `flushedOffset`; past it either may hold entries the other
 * lacks (an unflushed append, or a truncation not yet flushed that a crash would undo).
 */
import type { LogEntry, OffsetAndEpoch, RaftLog, Snapshot } from './types.js';

/** What a crash keeps: the latest snapshot and the entries flushed after it. */
interface LogImage {
  snapshot: Snapshot | null;
  /** Offset of entries[0] (the snapshot's end, or 0). */
  startOffset: number;
  entries: LogEntry[];
}

/** Bytes counted per entry by `read` besides its data, so that empty entries still add up. */
const ENTRY_OVERHEAD_BYTES = 16;

export class MemoryLog implements RaftLog {
  private working: LogImage = { snapshot: null, startOffset: 0, entries: [] };
  private durable: LogImage = { snapshot: null, startOffset: 0, entries: [] };
  private flushed = 0;

  get startOffset(): number {
    return this.working.startOffset;
  }

  get endOffset(): number {
    return this.working.startOffset + this.working.entries.length;
  }

  get flushedOffset(): number {
    return this.flushed;
  }

  get lastEpoch(): number {
    const last = this.working.entries[this.working.entries.length - 1];
    if (last !== undefined) return last.epoch;
    return this.working.snapshot?.epoch ?? 0;
  }

  /** Where the durable image ends: what the log would hold after a crash now. */
  get durableEndOffset(): number {
    return this.durable.startOffset + this.durable.entries.length;
  }

  /** The entry at `offset`, if the working log holds it. */
  entryAt(offset: number): LogEntry | undefined {
    return this.working.entries[offset - this.working.startOffset];
  }

  epochAt(offset: number): number | undefined {
    return this.entryAt(offset)?.epoch;
  }

  append(entries: readonly LogEntry[]): void {
    let expected = this.endOffset;
    let epoch = this.lastEpoch;
    for (const e of entries) {
      if (e.offset !== expected) {
        throw new Error(`MemoryLog.append: entry offset ${e.offset}, expected ${expected}`);
      }
      if (e.epoch < epoch) {
        throw new Error(`MemoryLog.append: entry epoch ${e.epoch} at ${e.offset} after epoch ${epoch}`);
      }
      this.working.entries.push(e);
      expected++;
      epoch = e.epoch;
    }
  }

  truncateTo(offset: number): void {
    if (offset < this.working.startOffset) {
      throw new Error(`MemoryLog.truncateTo(${offset}) below the log start ${this.working.startOffset}`);
    }
    if (offset >= this.endOffset) return;
    this.working.entries.length = offset - this.working.startOffset;
    // The durable image still holds the tail until the next flush: a crash before it undoes this.
    if (offset < this.flushed) this.flushed = offset;
  }

  read(offset: number, maxEntries: number, maxBytes: number): LogEntry[] {
    if (offset < this.working.startOffset) {
      throw new Error(`MemoryLog.read(${offset}) below the log start ${this.working.startOffset}`);
    }
    const out: LogEntry[] = [];
    let bytes = 0;
    for (let i = offset - this.working.startOffset; i < this.working.entries.length; i++) {
      const e = this.working.entries[i]!;
      const size = e.data.length + ENTRY_OVERHEAD_BYTES;
      if (out.length >= maxEntries || (out.length > 0 && bytes + size > maxBytes)) break;
      out.push(e);
      bytes += size;
    }
    return out;
  }

  endOffsetForEpoch(epoch: number): OffsetAndEpoch {
    const entries = this.working.entries;
    const start = this.working.startOffset;
    // Entries' epochs never decrease: find the last entry whose epoch ≤ `epoch` by binary search.
    let lo = 0;
    let hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (entries[mid]!.epoch <= epoch) lo = mid + 1;
      else hi = mid;
    }
    // entries[lo - 1] is that entry, and entries[lo] (if any) starts the next epoch.
    const found = entries[lo - 1];
    if (found !== undefined) return { offset: start + lo, epoch: found.epoch };
    // No entry qualifies: the snapshot still knows the epoch of the offset just below the start.
    const snapshot = this.working.snapshot;
    if (snapshot !== null && snapshot.epoch <= epoch) return { offset: start, epoch: snapshot.epoch };
    return { offset: -1, epoch: -1 };
  }

  flush(): void {
    const w = this.working;
    const d = this.durable;
    // Below `flushed` the images agree; replace the durable tail with the working one.
    d.entries.length = this.flushed - d.startOffset;
    for (let i = this.flushed - w.startOffset; i < w.entries.length; i++) d.entries.push(w.entries[i]!);
    this.flushed = this.endOffset;
  }

  latestSnapshot(): Snapshot | null {
    return this.working.snapshot;
  }

  installSnapshot(snapshot: Snapshot): void {
    const end = snapshot.endOffset;
    const current = this.working.snapshot;
    if (current !== null && end < current.endOffset) {
      throw new Error(
        `MemoryLog.installSnapshot at ${end} below the latest snapshot's end ${current.endOffset}`,
      );
    }
    if (end < this.working.startOffset) {
      throw new Error(`MemoryLog.installSnapshot at ${end} below the log start ${this.working.startOffset}`);
    }
    // Entries past the snapshot are kept only if the log agrees with it about the entry before its end.
    let keep: boolean;
    if (end > this.endOffset) keep = false;
    else if (end > this.working.startOffset) keep = this.epochAt(end - 1) === snapshot.epoch;
    else keep = current === null ? end === 0 : current.epoch === snapshot.epoch;
    if (keep && this.flushed >= end) {
      dropBelow(this.working, end);
      dropBelow(this.durable, end);
    } else {
      if (keep) dropBelow(this.working, end);
      else this.working.entries = [];
      this.working.startOffset = end;
      // The durable tail beyond `flushed` (if any) is a stale or missing prefix: drop it, as a
      // flushed truncation would have, so the durable image restarts at the snapshot.
      this.durable.entries = [];
      this.durable.startOffset = end;
      this.flushed = end;
    }
    this.working.snapshot = snapshot;
    this.durable.snapshot = snapshot;
  }

  /** Simulates a process crash: the working log becomes what was durable. */
  crash(): void {
    const d = this.durable;
    this.working = { snapshot: d.snapshot, startOffset: d.startOffset, entries: d.entries.slice() };
    this.flushed = this.endOffset;
  }
}

/** Drops the entries of `image` below `offset` (≥ its start) and moves its start there. */
function dropBelow(image: LogImage, offset: number): void {
  const n = offset - image.startOffset;
  if (n <= 0) return;
  image.entries = n >= image.entries.length ? [] : image.entries.slice(n);
  image.startOffset = offset;
}
