/**
 * Sparse time index of a segment: entries (max timestamp so far → offset), added with the
 * offset index entries when the segment's max timestamp has grown. Kafka's `.timeindex` format:
 * 12-byte entries of timestamp (int64) and relative offset (int32). Persisted like the offset
 * index (see offset-index.ts).
 */
import { readInt64Number, writeInt64Number } from '../protocol/records/batch-view.js';

export const TIME_INDEX_ENTRY_BYTES = 12;

export interface TimeEntry {
  timestampMs: number;
  offset: number;
}

export class TimeIndex {
  readonly baseOffset: number;
  readonly maxEntries: number;
  private timestamps: Float64Array;
  private relOffsets: Int32Array;
  private count = 0;
  persistedCount = 0;

  constructor(baseOffset: number, maxEntries: number) {
    this.baseOffset = baseOffset;
    this.maxEntries = Math.max(1, maxEntries);
    const initial = Math.min(this.maxEntries, 64);
    this.timestamps = new Float64Array(initial);
    this.relOffsets = new Int32Array(initial);
  }

  get entries(): number {
    return this.count;
  }

  isFull(): boolean {
    return this.count >= this.maxEntries;
  }

  lastEntry(): TimeEntry | null {
    if (this.count === 0) return null;
    const i = this.count - 1;
    return { timestampMs: this.timestamps[i]!, offset: this.baseOffset + this.relOffsets[i]! };
  }

  /** Adds an entry when `timestampMs` is above the last one; returns whether it did. */
  maybeAppend(timestampMs: number, offset: number): boolean {
    if (this.count >= this.maxEntries) return false;
    const rel = offset - this.baseOffset;
    if (this.count > 0) {
      if (timestampMs <= this.timestamps[this.count - 1]!) return false;
      if (rel < this.relOffsets[this.count - 1]!) return false;
    }
    if (this.count === this.timestamps.length) this.grow();
    this.timestamps[this.count] = timestampMs;
    this.relOffsets[this.count] = rel;
    this.count++;
    return true;
  }

  private grow(): void {
    const size = Math.min(this.maxEntries, this.timestamps.length * 2);
    const t = new Float64Array(size);
    t.set(this.timestamps);
    const r = new Int32Array(size);
    r.set(this.relOffsets);
    this.timestamps = t;
    this.relOffsets = r;
  }

  /** The offset to start scanning from for the first record with timestamp ≥ `timestampMs`. */
  lookup(timestampMs: number): number {
    // The last entry with a timestamp below the target: records before its offset are all older.
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.timestamps[mid]! < timestampMs) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found < 0 ? this.baseOffset : this.baseOffset + this.relOffsets[found]!;
  }

  truncateToOffset(offset: number): void {
    const rel = offset - this.baseOffset;
    while (this.count > 0 && this.relOffsets[this.count - 1]! >= rel) this.count--;
    this.persistedCount = Math.min(this.persistedCount, this.count);
  }

  clear(): void {
    this.count = 0;
    this.persistedCount = 0;
  }

  encode(from = 0): Buffer {
    const out = Buffer.allocUnsafe((this.count - from) * TIME_INDEX_ENTRY_BYTES);
    for (let i = from; i < this.count; i++) {
      const at = (i - from) * TIME_INDEX_ENTRY_BYTES;
      writeInt64Number(out, at, this.timestamps[i]!);
      out.writeInt32BE(this.relOffsets[i]!, at + 8);
    }
    return out;
  }

  static decode(
    baseOffset: number,
    bytes: Buffer,
    maxEntries: number,
    nextOffset: number,
  ): TimeIndex | string {
    if (bytes.length % TIME_INDEX_ENTRY_BYTES !== 0) return `size ${bytes.length} is not a multiple of 12`;
    const n = bytes.length / TIME_INDEX_ENTRY_BYTES;
    const index = new TimeIndex(baseOffset, Math.max(maxEntries, n));
    for (let i = 0; i < n; i++) {
      const ts = readInt64Number(bytes, i * 12);
      const rel = bytes.readInt32BE(i * 12 + 8);
      if (rel < 0 || baseOffset + rel >= nextOffset) return `entry ${i} points outside the segment`;
      if (!index.maybeAppend(ts, baseOffset + rel)) return `entry ${i} is out of order`;
    }
    index.persistedCount = n;
    return index;
  }
}
