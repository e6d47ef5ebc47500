/**
 * The aborted-transaction index of a segment (`<base>.txnindex`, Kafka's format): one entry per
 * transaction aborted by a marker in the segment, so a `read_committed` fetch can tell the
 * consumer which producers' records in the range it reads belong to aborted transactions (the
 * consumer drops them itself, as Kafka's consumers do).
 *
 * An entry is 34 bytes, big-endian: version int16 (0), producer id int64, first offset int64
 * (the transaction's first record), last offset int64 (its ABORT marker) and the partition's last
 * stable offset once the abort completed (the first offset of the oldest transaction of another
 * producer still open then, or the marker's offset + 1). Entries are in marker order, so last
 * offsets grow; the last stable offset is what lets a lookup stop early (see `collect`).
 *
 * The index of a segment found on disk is loaded on first use; entries appended before that (the
 * segment's own, this process) come after the file's. The file is written with the segment's
 * other indexes (at fsync, roll and close) and only when it has entries: most segments never
 * see an abort and get no file. Recovery rebuilds the index of every segment it rescans.
 */

/** Bytes of one entry. */
export const ABORTED_TXN_BYTES = 34;
/** The entry format version Kafka writes. */
const ABORTED_TXN_VERSION = 0;

export interface AbortedTxn {
  producerId: bigint;
  firstOffset: number;
  /** The offset of the ABORT marker. */
  lastOffset: number;
  /** The partition's last stable offset once this transaction was aborted. */
  lastStableOffset: number;
}

/** What a fetch response lists of an aborted transaction. */
export interface AbortedTransaction {
  producerId: bigint;
  firstOffset: number;
}

export function encodeAbortedTxns(entries: readonly AbortedTxn[], from = 0): Buffer {
  const buf = Buffer.alloc(Math.max(0, entries.length - from) * ABORTED_TXN_BYTES);
  for (let i = from, pos = 0; i < entries.length; i++, pos += ABORTED_TXN_BYTES) {
    const e = entries[i]!;
    buf.writeInt16BE(ABORTED_TXN_VERSION, pos);
    buf.writeBigInt64BE(e.producerId, pos + 2);
    buf.writeBigInt64BE(BigInt(e.firstOffset), pos + 10);
    buf.writeBigInt64BE(BigInt(e.lastOffset), pos + 18);
    buf.writeBigInt64BE(BigInt(e.lastStableOffset), pos + 26);
  }
  return buf;
}

/**
 * The entries of a `.txnindex` file. A trailing partial entry (a torn write) is left out, and so
 * is everything from the first entry that is not version 0 or whose offsets do not follow the
 * entry before it; `problem` says why, for the log.
 */
export function decodeAbortedTxns(buf: Buffer): { entries: AbortedTxn[]; problem: string | null } {
  const entries: AbortedTxn[] = [];
  const whole = Math.floor(buf.length / ABORTED_TXN_BYTES);
  let previousLast = -1;
  for (let i = 0, pos = 0; i < whole; i++, pos += ABORTED_TXN_BYTES) {
    const version = buf.readInt16BE(pos);
    if (version !== ABORTED_TXN_VERSION)
      return { entries, problem: `entry ${i} has unknown version ${version}` };
    const e: AbortedTxn = {
      producerId: buf.readBigInt64BE(pos + 2),
      firstOffset: Number(buf.readBigInt64BE(pos + 10)),
      lastOffset: Number(buf.readBigInt64BE(pos + 18)),
      lastStableOffset: Number(buf.readBigInt64BE(pos + 26)),
    };
    if (e.firstOffset < 0 || e.lastOffset < e.firstOffset || e.lastOffset <= previousLast)
      return { entries, problem: `entry ${i} has offsets out of order` };
    previousLast = e.lastOffset;
    entries.push(e);
  }
  const problem =
    buf.length % ABORTED_TXN_BYTES === 0 ? null : `${buf.length % ABORTED_TXN_BYTES} trailing bytes`;
  return { entries, problem };
}

export class TransactionIndex {
  /** Entries in marker order: the file's (once loaded), then those appended since. */
  private list: AbortedTxn[] = [];
  /** The file's entries are in `list` (or there is no file worth reading). */
  loaded: boolean;
  /** How many of the first entries the file holds. */
  persistedCount = 0;
  /** The file may hold bytes past `persistedCount` entries (a truncation or rebuild): cut them. */
  stale = false;

  /** `loaded` false for the index of a segment found on disk, whose file is read on first use. */
  constructor(loaded: boolean) {
    this.loaded = loaded;
  }

  get entries(): readonly AbortedTxn[] {
    return this.list;
  }

  get count(): number {
    return this.list.length;
  }

  /** Takes in the file's entries (before any appended since the segment was opened). */
  load(fileEntries: AbortedTxn[]): void {
    if (this.loaded) return;
    this.list = fileEntries.length === 0 ? this.list : fileEntries.concat(this.list);
    this.persistedCount = fileEntries.length;
    this.loaded = true;
  }

  /** Adds the entry of an abort; markers come in offset order, so last offsets grow. */
  append(e: AbortedTxn): void {
    const last = this.list[this.list.length - 1];
    if (last !== undefined && e.lastOffset <= last.lastOffset) {
      throw new Error(
        `aborted transaction with marker at ${e.lastOffset} appended after one at ${last.lastOffset}`,
      );
    }
    this.list.push(e);
  }

  /** Removes the entries whose marker is at or after `offset` (the segment is cut there). Loaded only. */
  truncateTo(offset: number): void {
    let keep = this.list.length;
    while (keep > 0 && this.list[keep - 1]!.lastOffset >= offset) keep--;
    if (keep === this.list.length) return;
    this.list.length = keep;
    if (this.persistedCount > keep) {
      this.persistedCount = keep;
      this.stale = true;
    }
  }

  /** Forgets every entry, in memory and (at the next write) on disk: the index is being rebuilt. */
  reset(): void {
    this.list = [];
    this.loaded = true;
    this.persistedCount = 0;
    this.stale = true;
  }

  /**
   * Adds to `out` the transactions aborted here that overlap [fetchOffset, upperBoundOffset):
   * marker at or after fetchOffset, first record before upperBoundOffset. Returns true when no
   * later segment can hold one: an entry here was written when the last stable offset had
   * reached upperBoundOffset, so every transaction open then started at or after it (Kafka's
   * TransactionIndex.collectAbortedTxns). Entries with a marker below fetchOffset are skipped by
   * a binary search: none of them can end the search, their last stable offset being at most
   * their marker's offset + 1.
   */
  collect(fetchOffset: number, upperBoundOffset: number, out: AbortedTransaction[]): boolean {
    const list = this.list;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid]!.lastOffset < fetchOffset) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < list.length; i++) {
      const e = list[i]!;
      if (e.firstOffset < upperBoundOffset)
        out.push({ producerId: e.producerId, firstOffset: e.firstOffset });
      if (e.lastStableOffset >= upperBoundOffset) return true;
    }
    return false;
  }
}
