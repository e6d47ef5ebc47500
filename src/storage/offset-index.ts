/**
 * Sparse offset index of a segment: entries (offset → byte position of the batch holding it),
 * one every `index.interval.bytes` of log. Kept in memory as typed arrays and persisted in
 * Kafka's `.index` format: 8-byte entries of relative offset (int32) and position (int32).
 *
 * Node has no mmap, so unlike Kafka the file is not the live structure: entries are appended to
 * the file when the segment is flushed, rolled or closed. After a crash the file may lag the
 * log; recovery rebuilds the index of every segment it scans, and validates the others.
 */

export const OFFSET_INDEX_ENTRY_BYTES = 8;

export interface IndexEntry {
  offset: number;
  position: number;
}

export class OffsetIndex {
  readonly baseOffset: number;
  readonly maxEntries: number;
  private relOffsets: Int32Array;
  private positions: Int32Array;
  private count = 0;
  /** Entries [0, persistedCount) are on disk as they are in memory. */
  persistedCount = 0;

  constructor(baseOffset: number, maxEntries: number) {
    this.baseOffset = baseOffset;
    this.maxEntries = Math.max(1, maxEntries);
    const initial = Math.min(this.maxEntries, 64);
    this.relOffsets = new Int32Array(initial);
    this.positions = new Int32Array(initial);
  }

  get entries(): number {
    return this.count;
  }

  isFull(): boolean {
    return this.count >= this.maxEntries;
  }

  lastEntry(): IndexEntry | null {
    if (this.count === 0) return null;
    const i = this.count - 1;
    return { offset: this.baseOffset + this.relOffsets[i]!, position: this.positions[i]! };
  }

  /** Adds an entry; offsets and positions must grow. Returns false when full or out of order. */
  append(offset: number, position: number): boolean {
    if (this.count >= this.maxEntries) return false;
    const rel = offset - this.baseOffset;
    if (
      this.count > 0 &&
      (rel <= this.relOffsets[this.count - 1]! || position <= this.positions[this.count - 1]!)
    ) {
      return false;
    }
    if (this.count === this.relOffsets.length) this.grow();
    this.relOffsets[this.count] = rel;
    this.positions[this.count] = position;
    this.count++;
    return true;
  }

  private grow(): void {
    const size = Math.min(this.maxEntries, this.relOffsets.length * 2);
    const r = new Int32Array(size);
    r.set(this.relOffsets);
    const p = new Int32Array(size);
    p.set(this.positions);
    this.relOffsets = r;
    this.positions = p;
  }

  /** The last entry whose offset is ≤ `offset`, or the segment start when none is. */
  lookup(offset: number): IndexEntry {
    const rel = offset - this.baseOffset;
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.relOffsets[mid]! <= rel) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found < 0) return { offset: this.baseOffset, position: 0 };
    return { offset: this.baseOffset + this.relOffsets[found]!, position: this.positions[found]! };
  }

  /** Removes entries for offsets ≥ `offset`. */
  truncateToOffset(offset: number): void {
    const rel = offset - this.baseOffset;
    while (this.count > 0 && this.relOffsets[this.count - 1]! >= rel) this.count--;
    this.persistedCount = Math.min(this.persistedCount, this.count);
  }

  /** Removes entries for positions ≥ `position`. */
  truncateToPosition(position: number): void {
    while (this.count > 0 && this.positions[this.count - 1]! >= position) this.count--;
    this.persistedCount = Math.min(this.persistedCount, this.count);
  }

  clear(): void {
    this.count = 0;
    this.persistedCount = 0;
  }

  /** Bytes of entries [from, count) in the file format. */
  encode(from = 0): Buffer {
    const out = Buffer.allocUnsafe((this.count - from) * OFFSET_INDEX_ENTRY_BYTES);
    for (let i = from; i < this.count; i++) {
      const at = (i - from) * OFFSET_INDEX_ENTRY_BYTES;
      out.writeInt32BE(this.relOffsets[i]!, at);
      out.writeInt32BE(this.positions[i]!, at + 4);
    }
    return out;
  }

  /**
   * Loads an index file, checking it against its segment: whole entries, offsets and positions
   * increasing, positions inside the log. Returns why it cannot be trusted, or the index.
   */
  static decode(
    baseOffset: number,
    bytes: Buffer,
    maxEntries: number,
    logSizeBytes: number,
  ): OffsetIndex | string {
    if (bytes.length % OFFSET_INDEX_ENTRY_BYTES !== 0) return `size ${bytes.length} is not a multiple of 8`;
    const n = bytes.length / OFFSET_INDEX_ENTRY_BYTES;
    const index = new OffsetIndex(baseOffset, Math.max(maxEntries, n));
    for (let i = 0; i < n; i++) {
      const rel = bytes.readInt32BE(i * 8);
      const position = bytes.readInt32BE(i * 8 + 4);
      if (rel < 0 || position < 0 || position >= logSizeBytes) return `entry ${i} points outside the segment`;
      if (!index.append(baseOffset + rel, position)) return `entry ${i} is out of order`;
    }
    index.persistedCount = n;
    return index;
  }
}
