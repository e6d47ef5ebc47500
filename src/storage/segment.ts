/**
 * One log segment: a `.log` file of record batches exactly as on the wire, starting at
 * `baseOffset`, with its sparse offset and time indexes, and the index of the transactions
 * aborted by markers in it (txn-index.ts).
 *
 * The segment tracks three sizes: `sizeBytes` (bytes assigned to appends, some perhaps still
 * being written), `writtenBytes` (bytes the OS has: readable), and `syncedBytes` (bytes fsynced:
 * durable). The owning log assigns positions synchronously and writes in order; reads never go
 * past `writtenBytes`.
 */
import {
  BatchField,
  BatchSplitter,
  LOG_OVERHEAD_BYTES,
  readInt64Number,
  type BatchError,
} from '../protocol/records/batch-view.js';
import type { FileHandle, FileSystem } from '../runtime/fs.js';
import { DELETED_SUFFIX, segmentPaths } from './files.js';
import { OffsetIndex, OFFSET_INDEX_ENTRY_BYTES } from './offset-index.js';
import { TimeIndex, TIME_INDEX_ENTRY_BYTES } from './time-index.js';
import { ABORTED_TXN_BYTES, decodeAbortedTxns, encodeAbortedTxns, TransactionIndex } from './txn-index.js';

/** Bytes read at a time when a segment is scanned (recovery, truncation, index rebuild). */
export const SCAN_CHUNK_BYTES = 1024 * 1024;

export interface SegmentSettings {
  indexIntervalBytes: number;
  /** segment.index.bytes: the size an index may reach, which bounds both indexes' entries. */
  segmentIndexBytes: number;
}

/** Header fields of one batch, read while scanning. */
export interface ScannedBatch {
  position: number;
  sizeBytes: number;
  baseOffset: number;
  lastOffset: number;
  maxTimestampMs: number;
  partitionLeaderEpoch: number;
}

export interface ScanResult {
  /** End of the last valid batch: where valid data stops. */
  validBytes: number;
  /** Why the scan stopped before the end, or null when every byte was valid. */
  error: BatchError | string | null;
}

export class LogSegment {
  readonly fs: FileSystem;
  readonly dir: string;
  readonly baseOffset: number;
  readonly paths: { log: string; index: string; timeIndex: string; txnIndex: string };
  private readonly settings: SegmentSettings;

  sizeBytes: number;
  writtenBytes: number;
  syncedBytes: number;
  /** Offset after the segment's last batch (baseOffset when empty). */
  nextOffset: number;
  maxTimestampMs = -1;
  offsetOfMaxTimestamp = -1;
  /** The folder entry of the `.log` file is durable (false for a segment created since the last folder sync). */
  dirEntrySynced = false;
  /** Set when the segment is being deleted: nothing may recreate its files. */
  private deleted = false;
  /** The index files' write in progress (resolved when none). */
  private indexWrite: Promise<void> = Promise.resolve();
  /** Timestamp of the first batch appended while this process had the segment (segment.ms roll). */
  firstAppendMs: number | null = null;

  private offsetIndex: OffsetIndex | null = null;
  private timeIndex: TimeIndex | null = null;
  /** Aborted transactions whose marker is here; its file is read on first use (`txnIndex()`). */
  readonly txns = new TransactionIndex(false);
  private txnLoad: Promise<TransactionIndex> | null = null;
  private bytesSinceLastIndexEntry = 0;
  private handle: Promise<FileHandle> | null = null;
  /** The handle once open, so writes on the hot path skip awaiting `handle`. */
  private openHandle: FileHandle | null = null;
  /** Set when the index files on disk must be rewritten rather than appended to. */
  private indexesRewrite = false;

  constructor(fs: FileSystem, dir: string, baseOffset: number, settings: SegmentSettings, sizeBytes = 0) {
    this.fs = fs;
    this.dir = dir;
    this.baseOffset = baseOffset;
    this.paths = segmentPaths(dir, baseOffset);
    this.settings = settings;
    this.sizeBytes = sizeBytes;
    this.writtenBytes = sizeBytes;
    this.syncedBytes = sizeBytes;
    this.nextOffset = baseOffset;
  }

  /** Sets the size of a segment found on disk (before any append). */
  setSize(sizeBytes: number): void {
    this.sizeBytes = sizeBytes;
    this.writtenBytes = sizeBytes;
    this.syncedBytes = sizeBytes;
    this.dirEntrySynced = true;
  }

  private get maxOffsetEntries(): number {
    return Math.floor(this.settings.segmentIndexBytes / OFFSET_INDEX_ENTRY_BYTES);
  }

  private get maxTimeEntries(): number {
    return Math.floor(this.settings.segmentIndexBytes / TIME_INDEX_ENTRY_BYTES);
  }

  /** The `.log` file when it is open already (the append path writes to it without a promise step). */
  get openFile(): FileHandle | null {
    return this.openHandle;
  }

  /** The open `.log` file (created when missing). */
  file(): Promise<FileHandle> {
    this.handle ??= this.fs.open(this.paths.log, 'create').then((h) => (this.openHandle = h));
    return this.handle;
  }

  // ------------------------------------------------------------------ indexes

  /** Starts empty indexes (a new segment, or one whose indexes are rebuilt by a scan). */
  resetIndexes(): void {
    this.offsetIndex = new OffsetIndex(this.baseOffset, this.maxOffsetEntries);
    this.timeIndex = new TimeIndex(this.baseOffset, this.maxTimeEntries);
    this.bytesSinceLastIndexEntry = 0;
    this.indexesRewrite = true;
  }

  /**
   * Loads the index files of a segment believed intact, checking them against the log. Returns
   * null when they can be used, or why not (the caller then rebuilds them by scanning).
   */
  async loadIndexes(): Promise<string | null> {
    const [idx, tidx] = await Promise.all([
      this.fs.readFile(this.paths.index),
      this.fs.readFile(this.paths.timeIndex),
    ]);
    if (idx === null) return 'offset index missing';
    if (tidx === null) return 'time index missing';
    const offsetIndex = OffsetIndex.decode(
      this.baseOffset,
      idx,
      this.maxOffsetEntries,
      Math.max(this.sizeBytes, 1),
    );
    if (typeof offsetIndex === 'string') return `offset index: ${offsetIndex}`;
    this.offsetIndex = offsetIndex;
    const last = offsetIndex.lastEntry();
    // The segment's end is found by scanning from the last indexed batch (at most one interval of log).
    const tail = await this.scan(last?.position ?? 0, this.sizeBytes, (b) => {
      this.nextOffset = b.lastOffset + 1;
      this.noteTimestamp(b.maxTimestampMs, b.lastOffset);
    });
    if (tail.error !== null || tail.validBytes !== this.sizeBytes)
      return 'log tail after the last index entry is invalid';
    this.bytesSinceLastIndexEntry = this.sizeBytes - (last?.position ?? 0);
    const timeIndex = TimeIndex.decode(
      this.baseOffset,
      tidx,
      this.maxTimeEntries,
      Math.max(this.nextOffset, this.baseOffset + 1),
    );
    if (typeof timeIndex === 'string') return `time index: ${timeIndex}`;
    this.timeIndex = timeIndex;
    const lastTime = timeIndex.lastEntry();
    if (lastTime !== null && lastTime.timestampMs > this.maxTimestampMs) {
      this.maxTimestampMs = lastTime.timestampMs;
      this.offsetOfMaxTimestamp = lastTime.offset;
    }
    this.indexesRewrite = false;
    return null;
  }

  /** Indexes, loaded from disk (or rebuilt by a scan when the files cannot be trusted) on first use. */
  async indexes(): Promise<{ offsetIndex: OffsetIndex; timeIndex: TimeIndex }> {
    if (this.offsetIndex === null || this.timeIndex === null) {
      const problem = await this.loadIndexes();
      if (problem !== null) {
        await this.rebuildIndexes();
        // Written back, so the next open can trust them.
        await this.persistIndexes();
      }
    }
    return { offsetIndex: this.offsetIndex!, timeIndex: this.timeIndex! };
  }

  /** The aborted-transaction index, its file read first when it has not been. */
  txnIndex(): TransactionIndex | Promise<TransactionIndex> {
    if (this.txns.loaded) return this.txns;
    this.txnLoad ??= this.fs.readFile(this.paths.txnIndex).then((bytes) => {
      if (bytes !== null && !this.txns.loaded) {
        const { entries, problem } = decodeAbortedTxns(bytes);
        // Entries past a bad one cannot be trusted; they are cut at the next write.
        if (problem !== null) this.txns.stale = true;
        this.txns.load(entries);
      } else this.txns.load([]);
      return this.txns;
    });
    return this.txnLoad;
  }

  isIndexFull(): boolean {
    return (this.offsetIndex?.isFull() ?? false) || (this.timeIndex?.isFull() ?? false);
  }

  private noteTimestamp(maxTimestampMs: number, lastOffset: number): void {
    if (maxTimestampMs > this.maxTimestampMs) {
      this.maxTimestampMs = maxTimestampMs;
      this.offsetOfMaxTimestamp = lastOffset;
    }
  }

  /**
   * Records a batch placed at `position` (in memory only; the log writes the bytes). Adds index
   * entries every index.interval.bytes, as Kafka does. The indexes must be loaded.
   */
  noteBatch(b: ScannedBatch): void {
    this.noteAppended(b.position, b.sizeBytes, b.baseOffset, b.lastOffset, b.maxTimestampMs);
  }

  /** noteBatch, field by field (the append path, which builds no object per batch). */
  noteAppended(
    position: number,
    sizeBytes: number,
    baseOffset: number,
    lastOffset: number,
    maxTimestampMs: number,
  ): void {
    this.noteTimestamp(maxTimestampMs, lastOffset);
    if (this.bytesSinceLastIndexEntry > this.settings.indexIntervalBytes) {
      this.offsetIndex!.append(baseOffset, position);
      this.timeIndex!.maybeAppend(this.maxTimestampMs, this.offsetOfMaxTimestamp);
      this.bytesSinceLastIndexEntry = 0;
    }
    this.bytesSinceLastIndexEntry += sizeBytes;
    this.nextOffset = lastOffset + 1;
    if (position + sizeBytes > this.sizeBytes) this.sizeBytes = position + sizeBytes;
  }

  /** Rebuilds both indexes by scanning the whole segment; truncates nothing. */
  async rebuildIndexes(): Promise<ScanResult> {
    this.resetIndexes();
    this.nextOffset = this.baseOffset;
    this.maxTimestampMs = -1;
    this.offsetOfMaxTimestamp = -1;
    const size = this.sizeBytes;
    this.sizeBytes = 0;
    const result = await this.scan(0, size, (b) => this.noteBatch(b));
    this.sizeBytes = size;
    return result;
  }

  /** Writes index entries not yet on disk (whole files when entries were removed) and syncs them. */
  persistIndexes(): Promise<void> {
    // One write of the index files at a time; delete() waits for it, so it cannot recreate them.
    const run = this.indexWrite.then(() => this.writeIndexes());
    this.indexWrite = run.catch(() => undefined);
    return run;
  }

  private async writeIndexes(): Promise<void> {
    await this.writeTxnIndex();
    const oi = this.offsetIndex;
    const ti = this.timeIndex;
    if (oi === null || ti === null || this.deleted) return;
    if (!this.indexesRewrite && oi.persistedCount === oi.entries && ti.persistedCount === ti.entries) return;
    const rewrite = this.indexesRewrite;
    await Promise.all([
      this.persistIndexFile(
        this.paths.index,
        rewrite ? 0 : oi.persistedCount,
        OFFSET_INDEX_ENTRY_BYTES,
        (from) => oi.encode(from),
      ),
      this.persistIndexFile(
        this.paths.timeIndex,
        rewrite ? 0 : ti.persistedCount,
        TIME_INDEX_ENTRY_BYTES,
        (from) => ti.encode(from),
      ),
    ]);
    oi.persistedCount = oi.entries;
    ti.persistedCount = ti.entries;
    this.indexesRewrite = false;
  }

  /**
   * Writes the aborted-transaction entries not yet in the file. No file is created for a segment
   * without aborts; one whose entries were all removed is deleted.
   */
  private async writeTxnIndex(): Promise<void> {
    const txns = this.txns;
    if (this.deleted || (txns.count === txns.persistedCount && !txns.stale)) return;
    const index = await this.txnIndex();
    if (this.deleted) return;
    if (index.count === 0) {
      await this.fs.unlink(this.paths.txnIndex);
    } else {
      const from = index.stale ? 0 : index.persistedCount;
      await this.persistIndexFile(this.paths.txnIndex, from, ABORTED_TXN_BYTES, (f) =>
        encodeAbortedTxns(index.entries, f),
      );
    }
    index.persistedCount = index.count;
    index.stale = false;
  }

  private async persistIndexFile(
    path: string,
    from: number,
    entryBytes: number,
    encode: (from: number) => Buffer,
  ): Promise<void> {
    const h = await this.fs.open(path, 'create');
    try {
      const bytes = encode(from);
      // Entries past `from` may be stale (the index was truncated): cut the file first.
      await h.truncate(from * entryBytes);
      if (bytes.length > 0) await h.writev([bytes], from * entryBytes);
      await h.sync();
    } finally {
      await h.close();
    }
  }

  // ------------------------------------------------------------------ reading and scanning

  /** Reads `length` bytes at `position` (fewer at the end of what is written). */
  async readAt(position: number, length: number): Promise<Buffer> {
    const n = Math.max(0, Math.min(length, this.writtenBytes - position));
    const buf = Buffer.allocUnsafe(n);
    if (n === 0) return buf;
    const h = await this.file();
    const got = await h.read(buf, 0, n, position);
    return got === n ? buf : buf.subarray(0, got);
  }

  /**
   * Walks the batches in [from, to) of the file, validating each (length, magic, CRC, offsets
   * increasing), and calls `visit` for each valid one. Stops at the first invalid byte, or when
   * `visit` returns false.
   */
  async scan(from: number, to: number, visit: (b: ScannedBatch) => boolean | void): Promise<ScanResult> {
    const h = await this.file();
    let pos = from;
    let expectNext = -1;
    let carry: Buffer | null = null;
    while (pos < to) {
      const want = Math.min(SCAN_CHUNK_BYTES, to - pos);
      // A batch cut by the previous chunk's end is carried over: only its bytes are copied.
      const carried = carry?.length ?? 0;
      const space = Buffer.allocUnsafe(carried + want);
      if (carry !== null) carry.copy(space, 0);
      const got = await h.read(space, carried, want, pos);
      if (got === 0) return { validBytes: pos - carried, error: 'file shorter than expected' };
      const buf = space.subarray(0, carried + got);
      const bufStart = pos - carried;
      carry = null;
      const splitter = new BatchSplitter(buf, { verifyCrc: true });
      let consumed = 0;
      while (splitter.next()) {
        const b = splitter.batch();
        const baseOffset = readInt64Number(b, BatchField.baseOffset);
        const lastOffset = baseOffset + b.readInt32BE(BatchField.lastOffsetDelta);
        if (baseOffset < this.baseOffset || baseOffset <= expectNext - 1 || lastOffset < baseOffset) {
          return {
            validBytes: bufStart + splitter.position,
            error: `offsets not increasing at offset ${baseOffset}`,
          };
        }
        expectNext = lastOffset + 1;
        const more = visit({
          position: bufStart + splitter.position,
          sizeBytes: splitter.sizeBytes,
          baseOffset,
          lastOffset,
          maxTimestampMs: readInt64Number(b, BatchField.maxTimestamp),
          partitionLeaderEpoch: b.readInt32BE(BatchField.partitionLeaderEpoch),
        });
        consumed = splitter.position + splitter.sizeBytes;
        // The visitor may stop the scan early (it found what it looked for).
        if (more === false) return { validBytes: bufStart + consumed, error: null };
      }
      pos = bufStart + buf.length;
      if (splitter.error !== null) {
        // A batch cut by the chunk's end is read again with the next chunk; anything else is bad data.
        const truncatedByChunk =
          'reason' in splitter.error && splitter.error.reason === 'truncated' && pos < to;
        if (!truncatedByChunk) return { validBytes: bufStart + consumed, error: splitter.error };
        carry = buf.subarray(consumed);
        if (carry.length > 64 * 1024 * 1024)
          return { validBytes: bufStart + consumed, error: 'batch larger than 64 MiB' };
      }
    }
    return { validBytes: to, error: null };
  }

  // ------------------------------------------------------------------ writing

  /**
   * Writes chunks at `position` (opening the file first when needed); resolves to the bytes
   * written. The caller advances `writtenBytes` (noteWritten) once the write is done.
   */
  write(chunks: Buffer[], position: number): Promise<number> {
    const h = this.openHandle;
    if (h !== null) return h.writev(chunks, position);
    return this.file().then((opened) => opened.writev(chunks, position));
  }

  /** Bytes up to `endBytes` are written (readable); writes complete in position order. */
  noteWritten(endBytes: number): void {
    if (endBytes > this.writtenBytes) this.writtenBytes = endBytes;
  }

  /** fsync of the log data written so far, then of the indexes. */
  async sync(): Promise<void> {
    await this.syncData();
    await this.persistIndexes();
  }

  /** fsync of the log data written so far (not the indexes). */
  async syncData(): Promise<void> {
    const target = this.writtenBytes;
    if (target > this.syncedBytes) {
      const h = await this.file();
      await h.sync();
      this.syncedBytes = Math.max(this.syncedBytes, target);
    }
  }

  /** Cuts the segment at `position` (file, indexes, sizes). `nextOffset` is the caller's to set. */
  async truncateToPosition(position: number): Promise<void> {
    const h = await this.file();
    await h.truncate(position);
    this.sizeBytes = position;
    this.writtenBytes = Math.min(this.writtenBytes, position);
    this.syncedBytes = Math.min(this.syncedBytes, position);
    if (this.offsetIndex !== null) this.offsetIndex.truncateToPosition(position);
    this.indexesRewrite = true;
  }

  /**
   * Removes every batch whose last offset is ≥ `offset` (batches are never split), from the file
   * and the indexes, and recomputes the segment's end. Only the part after the last index entry
   * that stays is scanned.
   */
  async truncateTo(offset: number): Promise<void> {
    const { offsetIndex, timeIndex } = await this.indexes();
    (await this.txnIndex()).truncateTo(offset);
    let cut = this.writtenBytes;
    await this.scan(offsetIndex.lookup(offset).position, this.writtenBytes, (b) => {
      if (b.lastOffset < offset) return true;
      cut = b.position;
      return false;
    });
    await this.truncateToPosition(cut);
    offsetIndex.truncateToPosition(cut);
    // Recompute the end from what stays: the last index entries, then a scan of the short tail.
    const lastOffsetEntry = offsetIndex.lastEntry();
    const from = lastOffsetEntry?.position ?? 0;
    let nextOffset = lastOffsetEntry?.offset ?? this.baseOffset;
    timeIndex.truncateToOffset(nextOffset);
    const lastTime = timeIndex.lastEntry();
    this.maxTimestampMs = lastTime?.timestampMs ?? -1;
    this.offsetOfMaxTimestamp = lastTime?.offset ?? -1;
    let tailBytes = 0;
    await this.scan(from, cut, (b) => {
      nextOffset = b.lastOffset + 1;
      this.noteTimestamp(b.maxTimestampMs, b.lastOffset);
      tailBytes += b.sizeBytes;
    });
    this.nextOffset = from === 0 && cut === 0 ? this.baseOffset : nextOffset;
    this.bytesSinceLastIndexEntry = tailBytes;
  }

  /** Offset-index lookup: a position at or before the batch holding `offset`. */
  async positionFor(offset: number): Promise<number> {
    const { offsetIndex } = await this.indexes();
    return offsetIndex.lookup(offset).position;
  }

  /** Time-index lookup: an offset at or before the first record with timestamp ≥ `timestampMs`. */
  async offsetForTimeLookup(timestampMs: number): Promise<number> {
    const { timeIndex } = await this.indexes();
    return timeIndex.lookup(timestampMs);
  }

  async close(): Promise<void> {
    if (this.handle !== null) {
      const h = await this.handle;
      this.handle = null;
      this.openHandle = null;
      await h.close();
    }
  }

  /** Renames the segment's files to `.deleted` (atomic removal from the log), then removes them. */
  async delete(): Promise<void> {
    this.deleted = true;
    await this.indexWrite;
    await this.close();
    const files = [this.paths.log, this.paths.index, this.paths.timeIndex, this.paths.txnIndex];
    for (const f of files) {
      if ((await this.fs.stat(f)) !== null) await this.fs.rename(f, f + DELETED_SUFFIX);
    }
    await this.fs.syncDir(this.dir);
    for (const f of files) await this.fs.unlink(f + DELETED_SUFFIX);
  }
}

/** Bytes of one batch in a buffer at `pos`, from its length field. */
export function batchSizeAt(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos + BatchField.batchLength) + LOG_OVERHEAD_BYTES;
}
