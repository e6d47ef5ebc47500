/**
 * A durable RaftLog on disk, with synchronous file calls: KRaft's raft thread appends and
 * flushes on its own thread, and the core (raft-node.ts) expects a flush to be done when the
 * call returns, so there is nothing to overlap here.
 *
 * Layout of the folder, as Kafka's metadata log:
 * - `<baseOffset, 20 digits>.log`: segments of magic-v2 record batches, one batch per run of
 *   entries of one epoch in an append call, `partitionLeaderEpoch` = the epoch, record values =
 *   entry data, keys null. A new segment starts when the active one would pass `segmentBytesMax`.
 * - `<endOffset, 20 digits>-<epoch, 10 digits>.checkpoint`: snapshots, each written to a
 *   `.checkpoint.part` file, fsynced, renamed, and the folder fsynced. The data is opaque here and
 *   stored as batches of one record each (chunks of `SNAPSHOT_CHUNK_BYTES`), so it is CRC-checked
 *   like the log. (Kafka frames its snapshots with header and footer control records; nothing
 *   reads them here, so they are left out.) Only the latest snapshot is kept.
 * - `truncation.batch`: exists only during a truncation inside a batch (see truncateTo).
 *
 * Recovery at open reads every segment, checks each batch (length, magic, CRC32C, contiguous
 * offsets, epochs never decreasing, dense records) and cuts the log at the first bad batch: the
 * torn tail a crash leaves. Segments after a gap are removed. (Kafka scans only from its recovery
 * point; a metadata log is small and kept short by snapshots, so the whole scan is simpler.) What
 * survives is fdatasynced, so a power loss after open cannot take it back.
 *
 * Reads of recent entries come from a bounded tail cache of the entries appended (followers
 * fetch the tail); older reads decode their batches from the file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BatchField, BatchSplitter, readInt64Number } from '../protocol/records/batch-view.js';
import { writeAllSync, writeFileAtomicSync } from '../runtime/fs.js';
import { decodeEntries, encodeEntries, encodeEntryRuns } from './entry-batches.js';
import type { LogEntry, OffsetAndEpoch, RaftLog, Snapshot } from './types.js';

/** Default size at which a new segment starts. */
export const DEFAULT_SEGMENT_BYTES_MAX = 64 * 1024 * 1024;
/** Default bytes of entry data kept in memory for reads of the log's tail. */
export const DEFAULT_TAIL_CACHE_BYTES_MAX = 32 * 1024 * 1024;
/** Snapshot data is stored in records of at most this many bytes. */
export const SNAPSHOT_CHUNK_BYTES = 1024 * 1024;
/** Accounted per cached entry besides its data (object, array slot). */
const CACHED_ENTRY_OVERHEAD_BYTES = 64;
/** Counted per entry by `read` besides its data, so empty entries add up too (as MemoryLog counts). */
const READ_ENTRY_OVERHEAD_BYTES = 16;

const SEGMENT_SUFFIX = '.log';
const SNAPSHOT_SUFFIX = '.checkpoint';
const PARTIAL_SUFFIX = '.part';
const TRUNCATION_FILE = 'truncation.batch';
const SEGMENT_NAME = /^(\d{20})\.log$/;
const SNAPSHOT_NAME = /^(\d{20})-(\d{10})\.checkpoint$/;

export interface FileRaftLogOptions {
  /** The log's folder (created when missing). */
  readonly dir: string;
  readonly segmentBytesMax?: number;
  readonly tailCacheBytesMax?: number;
  /**
   * BENCHMARKS ONLY: false makes `flush()` skip fdatasync, so appends are only as durable as the
   * page cache (what Kafka's data partitions do by default, not what a Raft log may do: a vote
   * or an acknowledgement could then be lost in a power failure). Separates the disk's latency
   * from the software's in bench/raft. Default true.
   */
  readonly fsync?: boolean;
  /** Timestamps written in the batches (milliseconds); Date.now by default. */
  readonly nowMs?: () => number;
  readonly logLine?: (message: string) => void;
}

/** What recovery found at open. */
export interface RecoveryReport {
  /** Bytes cut from the end of the last valid segment (a torn or corrupt tail). */
  readonly truncatedBytes: number;
  /** Segment files removed (after a gap or a bad batch, or below the snapshot). */
  readonly removedSegments: number;
  /** Snapshot files that failed their checks and were removed. */
  readonly removedSnapshots: number;
  /** A truncation interrupted by a crash was completed from truncation.batch. */
  readonly completedTruncation: boolean;
  /** The log did not continue the snapshot and was restarted empty at its end. */
  readonly resetToSnapshot: boolean;
}

export class FileLogCorruptError extends Error {
  override readonly name = 'FileLogCorruptError';
}

interface Segment {
  readonly baseOffset: number;
  readonly path: string;
  fd: number;
  sizeBytes: number;
  /** Written since its last fdatasync. */
  dirty: boolean;
}

/** Where one batch lies. Batches hold offsets [baseOffset, endOffset), all of one epoch. */
interface BatchRef {
  readonly baseOffset: number;
  readonly endOffset: number;
  readonly epoch: number;
  readonly segment: Segment;
  readonly position: number;
  readonly sizeBytes: number;
}

/** The first offset of each epoch the log holds (sorted by epoch and offset). */
interface EpochStart {
  readonly epoch: number;
  readonly startOffset: number;
}

export function segmentFileName(baseOffset: number): string {
  return `${String(baseOffset).padStart(20, '0')}${SEGMENT_SUFFIX}`;
}

/** Kafka's snapshot name: `<endOffset 20 digits>-<epoch 10 digits>.checkpoint`. */
export function snapshotFileName(endOffset: number, epoch: number): string {
  return `${String(endOffset).padStart(20, '0')}-${String(epoch).padStart(10, '0')}${SNAPSHOT_SUFFIX}`;
}

export class FileRaftLog implements RaftLog {
  readonly dir: string;
  readonly recovery: RecoveryReport;
  private readonly segmentBytesMax: number;
  private readonly tailCacheBytesMax: number;
  private readonly nowMs: () => number;
  private readonly logLine: (message: string) => void;
  private readonly dirFd: number;
  private readonly fsync: boolean;

  private segments: Segment[] = [];
  private batches: BatchRef[] = [];
  private epochs: EpochStart[] = [];
  private snapshot: Snapshot | null = null;
  private start = 0;
  private end = 0;
  private flushed = 0;
  /** A segment was created or removed since the folder was last fsynced. */
  private dirDirty = false;
  private closed = false;
  /** Set when a write failed: every later call throws it. */
  private offline: Error | null = null;

  /** Entries [cacheStart, end) from `cache[cacheHead]` on, unless the cache is empty. */
  private cache: LogEntry[] = [];
  private cacheHead = 0;
  private cacheStart = 0;
  private cacheBytes = 0;

  private constructor(opts: FileRaftLogOptions) {
    this.dir = opts.dir;
    this.segmentBytesMax = opts.segmentBytesMax ?? DEFAULT_SEGMENT_BYTES_MAX;
    this.tailCacheBytesMax = opts.tailCacheBytesMax ?? DEFAULT_TAIL_CACHE_BYTES_MAX;
    this.nowMs = opts.nowMs ?? Date.now;
    this.logLine = opts.logLine ?? (() => undefined);
    this.fsync = opts.fsync ?? true;
    if (!(this.segmentBytesMax > 0)) throw new RangeError('segmentBytesMax must be positive');
    fs.mkdirSync(this.dir, { recursive: true });
    this.dirFd = fs.openSync(this.dir, 'r');
    try {
      this.recovery = this.recover();
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** Opens (or creates) the log in `opts.dir`, recovering whatever a crash left. */
  static open(opts: FileRaftLogOptions): FileRaftLog {
    return new FileRaftLog(opts);
  }

  get startOffset(): number {
    return this.start;
  }
  get endOffset(): number {
    return this.end;
  }
  get flushedOffset(): number {
    return this.flushed;
  }
  get lastEpoch(): number {
    return this.epochs.at(-1)?.epoch ?? 0;
  }

  epochAt(offset: number): number | undefined {
    if (offset < this.start || offset >= this.end) return undefined;
    // The last epoch that starts at or before `offset`.
    let lo = 0;
    let hi = this.epochs.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.epochs[mid]!.startOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found < 0 ? undefined : this.epochs[found]!.epoch;
  }

  endOffsetForEpoch(epoch: number): OffsetAndEpoch {
    let found = -1;
    for (let i = this.epochs.length - 1; i >= 0; i--) {
      if (this.epochs[i]!.epoch <= epoch) {
        found = i;
        break;
      }
    }
    if (found < 0) return { offset: -1, epoch: -1 };
    const next = this.epochs[found + 1];
    return { offset: next === undefined ? this.end : next.startOffset, epoch: this.epochs[found]!.epoch };
  }

  append(entries: readonly LogEntry[]): void {
    this.checkOpen();
    try {
      this.appendUnguarded(entries);
    } catch (e) {
      throw this.goOffline(e);
    }
  }

  private appendUnguarded(entries: readonly LogEntry[]): void {
    if (entries.length === 0) return;
    let expected = this.end;
    let lastEpoch = this.lastEpoch;
    for (const e of entries) {
      if (e.offset !== expected) throw new RangeError(`append at offset ${e.offset}, expected ${expected}`);
      if (e.epoch < lastEpoch) throw new RangeError(`append of epoch ${e.epoch} after epoch ${lastEpoch}`);
      expected++;
      lastEpoch = e.epoch;
    }
    const encoded = encodeEntryRuns(entries, this.nowMs());
    // Batches go to the active segment together; a roll splits them between writes.
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let segment = this.activeSegment();
    for (const b of encoded) {
      if (
        segment.sizeBytes + pendingBytes > 0 &&
        segment.sizeBytes + pendingBytes + b.buf.length > this.segmentBytesMax
      ) {
        this.writeAt(segment, pending, pendingBytes);
        pending = [];
        pendingBytes = 0;
        segment = this.roll(b.baseOffset);
      }
      this.batches.push({
        baseOffset: b.baseOffset,
        endOffset: b.endOffset,
        epoch: b.epoch,
        segment,
        position: segment.sizeBytes + pendingBytes,
        sizeBytes: b.buf.length,
      });
      pending.push(b.buf);
      pendingBytes += b.buf.length;
      if (b.epoch !== this.lastEpoch || this.epochs.length === 0) {
        this.epochs.push({ epoch: b.epoch, startOffset: b.baseOffset });
      }
      this.end = b.endOffset;
    }
    this.writeAt(segment, pending, pendingBytes);
    this.cacheAppend(entries);
  }

  truncateTo(offset: number): void {
    this.checkOpen();
    try {
      this.truncateToUnguarded(offset);
    } catch (e) {
      throw this.goOffline(e);
    }
  }

  private truncateToUnguarded(offset: number): void {
    if (offset >= this.end) return;
    if (offset < this.start) {
      throw new RangeError(`truncateTo(${offset}) below the log start ${this.start} (the snapshot's end)`);
    }
    const i = this.batchIndexOf(offset);
    const batch = this.batches[i]!;
    let prefix: Buffer | null = null;
    if (batch.baseOffset < offset) {
      // The batch holds entries on both sides of the cut: rewrite the ones below it as a batch
      // of their own. That batch is first made durable beside the log, so a crash between cutting
      // the segment and writing it back cannot lose entries that were flushed (and acknowledged).
      const kept = this.readBatch(batch).filter((e) => e.offset < offset);
      prefix = encodeEntries(kept, this.nowMs());
      writeFileDurably(this.dir, TRUNCATION_FILE, [prefix], this.dirFd);
    }
    const segment = batch.segment;
    const segmentIndex = this.segments.indexOf(segment);
    for (const later of this.segments.splice(segmentIndex + 1)) this.removeSegment(later);
    fs.ftruncateSync(segment.fd, batch.position);
    segment.sizeBytes = batch.position;
    segment.dirty = true;
    this.batches.length = i;
    if (prefix !== null) {
      this.batches.push({
        baseOffset: batch.baseOffset,
        endOffset: offset,
        epoch: batch.epoch,
        segment,
        position: segment.sizeBytes,
        sizeBytes: prefix.length,
      });
      this.writeAt(segment, [prefix], prefix.length);
    }
    this.end = offset;
    while (this.epochs.length > 1 && this.epochs.at(-1)!.startOffset >= offset) this.epochs.pop();
    // With a snapshot, its epoch stays as the floor (the log is empty past it).
    if (this.epochs.length === 1 && this.epochs[0]!.startOffset >= offset && this.snapshot === null) {
      this.epochs.pop();
    }
    this.cacheTruncate(offset);
    this.flushUnguarded();
    if (prefix !== null) {
      fs.unlinkSync(path.join(this.dir, TRUNCATION_FILE));
      fs.fsyncSync(this.dirFd);
    }
  }

  read(offset: number, maxEntries: number, maxBytes: number): LogEntry[] {
    this.checkOpen();
    if (offset < this.start) throw new RangeError(`read at ${offset} below the log start ${this.start}`);
    const out: LogEntry[] = [];
    let bytes = 0;
    /** Takes `e` if the limits allow (always the first); false once they are reached. */
    const take = (e: LogEntry): boolean => {
      const size = e.data.length + READ_ENTRY_OVERHEAD_BYTES;
      if (out.length >= maxEntries || (out.length > 0 && bytes + size > maxBytes)) return false;
      out.push(e);
      bytes += size;
      return true;
    };
    let next = offset;
    while (next < this.end) {
      if (next >= this.cacheStart && this.cache.length > this.cacheHead) {
        // The cache holds everything from cacheStart to the end.
        for (let k = this.cacheHead + (next - this.cacheStart); k < this.cache.length; k++) {
          if (!take(this.cache[k]!)) break;
        }
        return out;
      }
      const batch = this.batches[this.batchIndexOf(next)]!;
      for (const e of this.readBatch(batch)) {
        if (e.offset >= next && !take(e)) return out;
      }
      next = batch.endOffset;
    }
    return out;
  }

  flush(): void {
    this.checkOpen();
    try {
      this.flushUnguarded();
    } catch (e) {
      throw this.goOffline(e);
    }
  }

  private flushUnguarded(): void {
    for (const s of this.segments) {
      if (!s.dirty) continue;
      if (this.fsync) fs.fdatasyncSync(s.fd);
      s.dirty = false;
    }
    if (this.dirDirty) {
      fs.fsyncSync(this.dirFd);
      this.dirDirty = false;
    }
    this.flushed = this.end;
  }

  latestSnapshot(): Snapshot | null {
    return this.snapshot;
  }

  installSnapshot(snapshot: Snapshot): void {
    this.checkOpen();
    try {
      this.installSnapshotUnguarded(snapshot);
    } catch (e) {
      throw this.goOffline(e);
    }
  }

  private installSnapshotUnguarded(snapshot: Snapshot): void {
    const current = this.snapshot;
    if (current !== null && snapshot.endOffset <= current.endOffset) return;
    writeFileDurably(
      this.dir,
      snapshotFileName(snapshot.endOffset, snapshot.epoch),
      encodeSnapshot(snapshot, this.nowMs()),
      this.dirFd,
    );
    this.snapshot = snapshot;
    if (current !== null)
      fs.unlinkSync(path.join(this.dir, snapshotFileName(current.endOffset, current.epoch)));
    const continues =
      snapshot.endOffset <= this.end &&
      snapshot.endOffset >= this.start &&
      (snapshot.endOffset === this.start || this.epochAt(snapshot.endOffset - 1) === snapshot.epoch);
    if (continues) this.dropBelow(snapshot.endOffset, snapshot.epoch);
    else this.resetTo(snapshot.endOffset, snapshot.epoch);
    this.dirDirty = true;
    this.flushUnguarded();
  }

  /** Closes the files (the log is unusable after). What was not flushed may or may not be on disk. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.segments) closeQuietly(s.fd);
    closeQuietly(this.dirFd);
  }

  // ----------------------------------------------------------------------------- internals

  private checkOpen(): void {
    if (this.closed) throw new Error(`raft log in ${this.dir} is closed`);
    if (this.offline !== null) throw this.offline;
  }

  /**
   * A write, fsync or rename failed: what is on disk is no longer known, so the log refuses
   * every later call until it is reopened (recovery then finds out), as Kafka takes such a log
   * offline. Returns the error to throw.
   */
  private goOffline(cause: unknown): Error {
    // A misuse (an append that does not continue the log, …) is refused before any I/O.
    if (cause instanceof RangeError) return cause;
    const e = new Error(`raft log in ${this.dir} is offline until reopened: ${String(cause)}`, { cause });
    this.offline = e;
    this.logLine(e.message);
    return e;
  }

  private activeSegment(): Segment {
    const s = this.segments.at(-1);
    if (s === undefined) throw new Error('raft log has no segment');
    return s;
  }

  private writeAt(segment: Segment, chunks: Buffer[], bytes: number): void {
    if (bytes === 0) return;
    writeAllSync(segment.fd, chunks, segment.sizeBytes, segment.path);
    segment.sizeBytes += bytes;
    segment.dirty = true;
  }

  /** Starts a new segment at `baseOffset`; the previous one is fdatasynced at the next flush. */
  private roll(baseOffset: number): Segment {
    const segment = this.createSegment(baseOffset);
    this.segments.push(segment);
    return segment;
  }

  private createSegment(baseOffset: number): Segment {
    const p = path.join(this.dir, segmentFileName(baseOffset));
    // O_TRUNC: a file of that name left by an earlier, truncated log is stale.
    const fd = fs.openSync(p, fs.constants.O_CREAT | fs.constants.O_RDWR | fs.constants.O_TRUNC, 0o644);
    this.dirDirty = true;
    return { baseOffset, path: p, fd, sizeBytes: 0, dirty: true };
  }

  private removeSegment(segment: Segment): void {
    closeQuietly(segment.fd);
    fs.rmSync(segment.path, { force: true });
    this.dirDirty = true;
  }

  /** Index of the batch holding `offset` (start ≤ offset < end). */
  private batchIndexOf(offset: number): number {
    let lo = 0;
    let hi = this.batches.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.batches[mid]!.endOffset <= offset) lo = mid + 1;
      else hi = mid;
    }
    const b = this.batches[lo];
    if (b === undefined || b.baseOffset > offset || b.endOffset <= offset) {
      throw new Error(`raft log in ${this.dir}: no batch holds offset ${offset}`);
    }
    return lo;
  }

  private readBatch(batch: BatchRef): LogEntry[] {
    const buf = Buffer.allocUnsafe(batch.sizeBytes);
    const n = readFully(batch.segment.fd, buf, batch.position);
    if (n !== batch.sizeBytes) {
      throw new FileLogCorruptError(`${batch.segment.path}: short read of the batch at ${batch.baseOffset}`);
    }
    const entries = decodeEntries(buf);
    if (entries instanceof Error) throw new FileLogCorruptError(`${batch.segment.path}: ${entries.message}`);
    return entries;
  }

  private cacheAppend(entries: readonly LogEntry[]): void {
    if (this.cache.length === this.cacheHead) {
      this.cache = [];
      this.cacheHead = 0;
      this.cacheStart = entries[0]!.offset;
    }
    for (const e of entries) {
      this.cache.push(e);
      this.cacheBytes += e.data.length + CACHED_ENTRY_OVERHEAD_BYTES;
    }
    while (this.cacheBytes > this.tailCacheBytesMax && this.cacheHead < this.cache.length) {
      this.cacheBytes -= this.cache[this.cacheHead]!.data.length + CACHED_ENTRY_OVERHEAD_BYTES;
      this.cacheHead++;
      this.cacheStart++;
    }
    // Dropped entries are compacted away once they are half the array.
    if (this.cacheHead > 1024 && this.cacheHead * 2 > this.cache.length) {
      this.cache = this.cache.slice(this.cacheHead);
      this.cacheHead = 0;
    }
  }

  private cacheTruncate(offset: number): void {
    if (offset <= this.cacheStart) {
      this.cacheClear(offset);
      return;
    }
    const keep = this.cacheHead + (offset - this.cacheStart);
    for (let k = keep; k < this.cache.length; k++) {
      this.cacheBytes -= this.cache[k]!.data.length + CACHED_ENTRY_OVERHEAD_BYTES;
    }
    this.cache.length = Math.min(this.cache.length, keep);
  }

  private cacheDropBelow(offset: number): void {
    while (this.cacheStart < offset && this.cacheHead < this.cache.length) {
      this.cacheBytes -= this.cache[this.cacheHead]!.data.length + CACHED_ENTRY_OVERHEAD_BYTES;
      this.cacheHead++;
      this.cacheStart++;
    }
    if (this.cacheHead === this.cache.length) this.cacheClear(Math.max(offset, this.cacheStart));
  }

  private cacheClear(at: number): void {
    this.cache = [];
    this.cacheHead = 0;
    this.cacheBytes = 0;
    this.cacheStart = at;
  }

  /** The log now starts at a snapshot's end inside it: entries below go, whole segments are removed. */
  private dropBelow(offset: number, snapshotEpoch: number): void {
    const startEpoch = offset < this.end ? this.epochAt(offset) : undefined;
    this.start = offset;
    if (offset === this.end) {
      // Everything is below the snapshot: every segment can go but an empty one starting there.
      const active = this.activeSegment();
      const keep =
        active.sizeBytes === 0 && active.baseOffset === offset ? active : this.createSegment(offset);
      for (const s of this.segments) if (s !== keep) this.removeSegment(s);
      this.segments = [keep];
      this.batches = [];
    } else {
      const firstKept = this.batchIndexOf(offset);
      const k = this.segments.indexOf(this.batches[firstKept]!.segment);
      for (const s of this.segments.splice(0, k)) this.removeSegment(s);
      // Batches of the kept segment that end below the start stay on disk but leave the index.
      this.batches = this.batches.slice(firstKept);
    }
    this.epochs = rebaseEpochs(this.epochs, offset, snapshotEpoch, startEpoch);
    this.cacheDropBelow(offset);
  }

  /** The log restarts empty at a snapshot's end (a snapshot past the log, or one it does not continue). */
  private resetTo(offset: number, snapshotEpoch: number): void {
    const old = this.segments;
    // The new segment may share a name with an old one: remove the old ones first.
    for (const s of old) this.removeSegment(s);
    this.segments = [this.createSegment(offset)];
    this.batches = [];
    this.epochs = [{ epoch: snapshotEpoch, startOffset: offset }];
    this.start = offset;
    this.end = offset;
    this.flushed = Math.min(this.flushed, offset);
    this.cacheClear(offset);
  }

  private recover(): RecoveryReport {
    let removedSegments = 0;
    let removedSnapshots = 0;
    let truncatedBytes = 0;
    let completedTruncation = false;
    let resetToSnapshot = false;
    const names = fs.readdirSync(this.dir).sort();
    for (const n of names) {
      if (n.endsWith(PARTIAL_SUFFIX)) fs.rmSync(path.join(this.dir, n), { force: true });
    }

    // The latest snapshot that passes its checks; older ones (left by a crash) are removed.
    const snapshots = names
      .map((n) => SNAPSHOT_NAME.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ name: m[0], endOffset: Number(m[1]), epoch: Number(m[2]) }))
      .sort((a, b) => b.endOffset - a.endOffset);
    for (const s of snapshots) {
      const p = path.join(this.dir, s.name);
      if (this.snapshot === null) {
        const data = decodeSnapshot(fs.readFileSync(p));
        if (!(data instanceof Error)) {
          this.snapshot = { endOffset: s.endOffset, epoch: s.epoch, data };
          continue;
        }
        this.logLine(`raft log: snapshot ${s.name} is corrupt (${data.message}); removed`);
        removedSnapshots++;
      }
      fs.rmSync(p, { force: true });
      this.dirDirty = true;
    }

    // Segments: every batch checked; the first bad one and everything after it go.
    const segmentNames = names
      .map((n) => SEGMENT_NAME.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ name: m[0], baseOffset: Number(m[1]) }))
      .sort((a, b) => a.baseOffset - b.baseOffset);
    let expected = -1;
    let lastEpoch = 0;
    let broken = false;
    for (const sn of segmentNames) {
      const p = path.join(this.dir, sn.name);
      if (broken || (expected >= 0 && sn.baseOffset !== expected)) {
        this.logLine(`raft log: segment ${sn.name} does not continue the log at ${expected}; removed`);
        fs.rmSync(p, { force: true });
        this.dirDirty = true;
        removedSegments++;
        broken = true;
        continue;
      }
      const fd = fs.openSync(p, 'r+');
      const segment: Segment = { baseOffset: sn.baseOffset, path: p, fd, sizeBytes: 0, dirty: false };
      this.segments.push(segment);
      const buf = fs.readFileSync(p);
      let next = sn.baseOffset;
      const it = new BatchSplitter(buf, { verifyCrc: true });
      let validBytes = 0;
      let problem: string | null = null;
      while (it.next()) {
        const b = it.batch();
        const base = readInt64Number(b, BatchField.baseOffset);
        const count = b.readInt32BE(BatchField.recordCount);
        const lastDelta = b.readInt32BE(BatchField.lastOffsetDelta);
        const epoch = b.readInt32BE(BatchField.partitionLeaderEpoch);
        if (base !== next) problem = `batch at offset ${base} where ${next} was expected`;
        else if (count < 1 || lastDelta !== count - 1) problem = `batch at ${base} is not dense`;
        else if (epoch < lastEpoch) problem = `batch at ${base} has epoch ${epoch} after ${lastEpoch}`;
        if (problem !== null) break;
        this.batches.push({
          baseOffset: base,
          endOffset: base + count,
          epoch,
          segment,
          position: it.position,
          sizeBytes: it.sizeBytes,
        });
        if (this.epochs.at(-1)?.epoch !== epoch) this.epochs.push({ epoch, startOffset: base });
        lastEpoch = epoch;
        next = base + count;
        validBytes = it.validBytes;
      }
      if (problem === null && it.error !== null) problem = it.error.message;
      segment.sizeBytes = validBytes;
      if (validBytes < buf.length) {
        this.logLine(
          `raft log: ${sn.name} cut at byte ${validBytes} of ${buf.length} (${problem ?? 'trailing bytes'})`,
        );
        fs.ftruncateSync(fd, validBytes);
        truncatedBytes += buf.length - validBytes;
        broken = true;
      }
      segment.dirty = true;
      expected = next;
    }
    this.end = expected < 0 ? 0 : expected;
    this.start = this.segments[0]?.baseOffset ?? 0;

    // A truncation inside a batch that a crash interrupted: put back the entries it kept.
    const truncationPath = path.join(this.dir, TRUNCATION_FILE);
    if (fs.existsSync(truncationPath)) {
      const buf = fs.readFileSync(truncationPath);
      const entries = decodeEntries(buf);
      const segment = this.segments.at(-1);
      if (!(entries instanceof Error) && entries[0]?.offset === this.end && segment !== undefined) {
        this.batches.push({
          baseOffset: this.end,
          endOffset: this.end + entries.length,
          epoch: entries[0].epoch,
          segment,
          position: segment.sizeBytes,
          sizeBytes: buf.length,
        });
        if (this.epochs.at(-1)?.epoch !== entries[0].epoch) {
          this.epochs.push({ epoch: entries[0].epoch, startOffset: this.end });
        }
        this.writeAt(segment, [buf], buf.length);
        this.end += entries.length;
        completedTruncation = true;
        this.logLine(`raft log: completed an interrupted truncation at ${this.end}`);
      }
      fs.rmSync(truncationPath, { force: true });
      this.dirDirty = true;
    }

    const snap = this.snapshot;
    if (snap === null) {
      if (this.start !== 0) {
        throw new FileLogCorruptError(
          `raft log in ${this.dir} starts at offset ${this.start} but has no snapshot of what is below`,
        );
      }
      if (this.segments.length === 0) this.segments.push(this.createSegment(0));
    } else {
      const continues =
        this.segments.length > 0 &&
        this.start <= snap.endOffset &&
        snap.endOffset <= this.end &&
        (snap.endOffset === this.start || this.epochAt(snap.endOffset - 1) === snap.epoch);
      if (continues) {
        const before = this.segments.length;
        this.dropBelow(snap.endOffset, snap.epoch);
        removedSegments += Math.max(0, before - this.segments.length);
      } else {
        if (this.segments.length > 0) {
          this.logLine(
            `raft log: the log does not continue snapshot ${snap.endOffset}/${snap.epoch}; emptied`,
          );
          removedSegments += this.segments.length;
          resetToSnapshot = true;
        }
        this.resetTo(snap.endOffset, snap.epoch);
      }
    }
    this.cacheClear(this.end);
    // What recovery kept is made durable now, so a power loss later cannot take it back.
    this.flush();
    return { truncatedBytes, removedSegments, removedSnapshots, completedTruncation, resetToSnapshot };
  }
}

/**
 * The epoch index of a log that now starts at `offset`: epochs starting below it are clamped to
 * it, and the snapshot's epoch stays in front as the floor (Kafka answers a divergence below the
 * log with the snapshot's id in the same way).
 */
function rebaseEpochs(
  epochs: readonly EpochStart[],
  offset: number,
  snapshotEpoch: number,
  startEpoch: number | undefined,
): EpochStart[] {
  const out: EpochStart[] = [{ epoch: snapshotEpoch, startOffset: offset }];
  if (startEpoch !== undefined && startEpoch !== snapshotEpoch)
    out.push({ epoch: startEpoch, startOffset: offset });
  for (const e of epochs) if (e.startOffset > offset) out.push(e);
  return out;
}

function encodeSnapshot(snapshot: Snapshot, nowMs: number): Buffer[] {
  const out: Buffer[] = [];
  const data = snapshot.data;
  let chunk = 0;
  for (let pos = 0; pos < data.length || chunk === 0; pos += SNAPSHOT_CHUNK_BYTES) {
    const value = data.subarray(pos, Math.min(data.length, pos + SNAPSHOT_CHUNK_BYTES));
    out.push(encodeEntries([{ offset: chunk, epoch: snapshot.epoch, data: value }], nowMs));
    chunk++;
  }
  return out;
}

function decodeSnapshot(buf: Buffer): Buffer | Error {
  const parts: Buffer[] = [];
  // decodeEntries checks each batch's CRC: the splitter only frames them.
  const it = new BatchSplitter(buf);
  while (it.next()) {
    const entries = decodeEntries(it.batch());
    if (entries instanceof Error) return entries;
    if (entries.length !== 1 || entries[0]!.offset !== parts.length) return new Error('chunks out of order');
    parts.push(entries[0]!.data);
  }
  if (it.error !== null) return it.error;
  if (parts.length === 0) return new Error('no chunks');
  return Buffer.concat(parts);
}

/** Writes `name` in `dir` atomically and durably: temporary file, fsync, rename, folder fsync. */
function writeFileDurably(dir: string, name: string, chunks: readonly Buffer[], dirFd: number): void {
  writeFileAtomicSync(path.join(dir, name), path.join(dir, name + PARTIAL_SUFFIX), chunks, dirFd);
}

function readFully(fd: number, into: Buffer, position: number): number {
  let done = 0;
  while (done < into.length) {
    const n = fs.readSync(fd, into, done, into.length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // Already closed or invalid: nothing to release.
  }
}
