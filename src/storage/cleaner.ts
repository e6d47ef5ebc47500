/**
 * The log cleaner: compaction of `cleanup.policy=compact` (and `compact,delete`) logs, after
 * Kafka's LogCleaner, run in the background in bounded slices.
 *
 * What one `clean(log, firstDirtyOffset)` does:
 *
 * - The cleanable part. The dirty part starts at `firstDirtyOffset` (the partition's cleaner
 *   checkpoint, which the caller stores; reset to the log start when outside the log) and ends at
 *   the first uncleanable offset: the base offset of the active segment, lowered to the caller's
 *   `maxCleanableOffset` (pass the last stable offset, so that no open transaction is cleaned) and
 *   to the base of the first dirty segment holding a record newer than now − min.compaction.lag.ms.
 *   The dirty ratio is dirty bytes / (clean + dirty bytes), counted in whole non-active segments
 *   (a segment holding the first dirty offset counts as dirty). The log is cleaned when the ratio
 *   is at least min.cleanable.dirty.ratio, or when the first dirty batch is older than
 *   max.compaction.lag.ms, or when a tombstone's delete horizon has passed (see below), or forced.
 *
 * - Pass 0 reads the batch headers of the whole log (no CRC, no decompression; control batches
 *   are decoded, they hold one small record) to learn, per producer id, where each transaction
 *   ended (COMMIT or ABORT marker offsets) and the offset of its last batch.
 *
 * - Pass 1 builds the offset map (key → latest offset) over the dirty part. Records of aborted
 *   transactions, and of transactions with no marker yet, never count as a key's latest value.
 *   Records without a key are not mapped. The map holds at most `maxOffsetMapEntries` keys: when
 *   the next batch might not fit, the dirty part is cut before it (as Kafka does) and only that
 *   prefix is cleaned; the next clean continues from there.
 *
 * - Pass 2 rewrites every segment from the log start up to the end of the mapped part, in groups
 *   of consecutive segments whose total size stays within segment.bytes (so small cleaned
 *   segments merge over time). Batches at or past the end of the mapped part and control batches
 *   are copied as they are. For the other batches a record is kept when it has no key, or when no
 *   later record has its key (the map's offset for it is not above the record's); a record of an
 *   aborted transaction is dropped; a transactional batch with no marker yet is kept as it is.
 *   Tombstones (null value) follow KIP-534: the first time the cleaner keeps a tombstone, its
 *   batch gets the delete-horizon attribute and baseTimestamp = now + delete.retention.ms (record
 *   timestamp deltas are rebased so record timestamps do not change); once that horizon has
 *   passed, a later clean drops the tombstones. So a tombstone survives at least
 *   delete.retention.ms after it was first cleaned. The cleaner remembers (in memory) the earliest
 *   horizon of each log it cleaned, so a log whose tombstones are due is cleaned again even with
 *   nothing dirty; after a restart, that happens with the next dirty clean.
 *   A batch that loses records is re-encoded with the same offsets (records keep their offset
 *   deltas and the batch its base offset and lastOffsetDelta, so its offset range is unchanged),
 *   compression, timestamps type, maxTimestamp, leader epoch, producer id/epoch/base sequence and
 *   transactional/control flags. A batch left with no record is dropped, except: the last batch
 *   of a producer id in the whole log (kept empty so producer state can be rebuilt, as Kafka
 *   does), and the last batch of a group (kept empty, so a cleaned segment ends at the offset the
 *   segments it replaces ended at, which makes a `.swap` file cover exactly those segments). An
 *   empty batch is a bare 61-byte header with no compression. Batches nothing changed in are
 *   copied byte for byte; a single segment nothing changed in is not rewritten at all.
 *
 * - The swap, per group, with the output in `<base>.log.cleaned` (written with async I/O, then
 *   fsynced; indexes are built in memory while writing and persisted after the swap):
 *     1. inside `log.runExclusive` (no append, truncation or retention meanwhile), check that
 *        the group's segments are still in the log, unchanged; wait for in-flight flushes and
 *        persist the old segments' indexes (so no late index write of theirs can land on the
 *        new segment's index file); keep their file handles open (in-flight reads keep working);
 *     2. rename `.cleaned` → `.swap`, fsync the folder — the commit point;
 *     3. rename every file of the old segments to `.deleted`, fsync the folder;
 *     4. rename `.swap` → `<base>.log`, fsync the folder;
 *     5. replace the old segments by the new one in `log.segments`, write its indexes;
 *     then, after file.delete.delay.ms (outside the exclusive section), close the old handles and
 *     unlink the `.deleted` files.
 *
 * Crash walk-through (what log-loader's settleLeftovers finds, and does, at the next open):
 *   - before 2 (while writing, or with `.cleaned` complete): `.cleaned` files and the intact old
 *     segments. The `.cleaned` files are removed: the log is as before the clean; the checkpoint
 *     was not advanced, the work is redone later.
 *   - during 2 (rename not yet durable): the same as before 2, or as after 2.
 *   - after 2, during 3: `<base>.log.swap` (complete and fsynced before its rename) and the old
 *     segments, any subset of their files already renamed to `.deleted`. `.deleted` files are
 *     removed, the `.swap` takes the name `<base>.log` (replacing the old first segment if still
 *     there), its indexes are rebuilt, and every segment with a base offset in (base, end of the
 *     swap) is deleted: exactly the rest of the group, as the cleaned segment ends where the
 *     group ended (its last batch is always kept) and never past the next segment's base. Index
 *     files of a segment whose `.log` is gone are removed as strays. No record is lost (the swap
 *     holds everything kept), none is duplicated (no old segment of the group survives).
 *   - after 3, before 4 is durable: the same, with every old file renamed.
 *   - after 4: `<base>.log` is the cleaned segment, with no index files (they were renamed away)
 *     or with partial ones; `.deleted` files are removed; indexes are rebuilt on first use (a
 *     missing or inconsistent index fails its load check). No `.swap` remains.
 *   - after 5: only `.deleted` leftovers, removed.
 *   The fsync between 3 and 4 matters: without it a crash could persist the rename of the swap
 *   before the renames of old segments, leaving both the cleaned data and an old segment holding
 *   the same offsets.
 *   A failure (not a crash) between 2 and 4 is rolled back: old files renamed back, the swap
 *   removed. If that fails too, the folder still holds a state the next open settles as above.
 *
 * Not stalling the event loop: all file I/O is async (the cleaner reads segments through
 * read-only handles of its own), it yields (setImmediate) after every `sliceBytes` of input,
 * `sliceBatches` batches or `sliceRecords` decoded records, and the exclusive section holds only
 * checks, renames and fsyncs (appends wait that long). Decompressing and compressing one batch
 * are synchronous.
 *
 * Limits, on purpose:
 * - Control batches (transaction markers) are kept forever (Kafka removes them once their
 *   transaction's data are gone and the horizon has passed).
 * - Pass 0 reads every batch header of the log once per clean, and keeps one number per
 *   transaction marker and per producer id in memory.
 * - The cleaner knows neither the high watermark nor the last stable offset: the caller passes
 *   the last stable offset (≤ the high watermark) as `maxCleanableOffset`. Without it, records
 *   of an open transaction are kept as they are and never count as a key's latest value (safe),
 *   but a record a follower later truncates away may already have superseded older values.
 * - Records without a key are kept (Kafka refuses them on compacted topics).
 * - maxTimestamp of a re-encoded batch is the original one (also when its newest record went),
 *   so time indexes and time retention stay as they were.
 * - The old segments' handles are closed after file.delete.delay.ms; a read that started before
 *   the swap and touches an old segment after that delay would fail.
 * - Batches whose records decompress to more than `maxDecompressedBytes` make the clean fail.
 */
import {
  decodeRecordBatch,
  encodeRecordBatch,
  parseControlBatch,
  ControlRecordType,
  type BatchRecord,
  type DecodedRecordBatch,
} from '../protocol/records/batch.js';
import {
  BATCH_HEADER_BYTES,
  BatchField,
  BatchSplitter,
  COMPRESSION_CODEC_MASK,
  CONTROL_BIT,
  LOG_OVERHEAD_BYTES,
  readInt64Number,
  TimestampType,
  TRANSACTIONAL_BIT,
  writeCrc,
} from '../protocol/records/batch-view.js';
import { DecodeError } from '../protocol/primitives/errors.js';
import type { Clock } from '../runtime/clock.js';
import type { FileHandle } from '../runtime/fs.js';
import { OffsetMap } from './cleaner-offset-map.js';
import { corruptRecord, StorageError } from './errors.js';
import { CLEANED_SUFFIX, DELETED_SUFFIX, SWAP_SUFFIX } from './files.js';
import type { PartitionLog } from './log.js';
import { LogSegment } from './segment.js';

const INT32_MAX = 0x7fffffff;
const MIB = 1024 * 1024;

export const DEFAULT_MAX_OFFSET_MAP_ENTRIES = 500_000;
export const DEFAULT_SLICE_BYTES = 256 * 1024;
export const DEFAULT_SLICE_BATCHES = 256;
export const DEFAULT_SLICE_RECORDS = 2048;
export const DEFAULT_READ_CHUNK_BYTES = MIB;
const WRITE_CHUNK_BYTES = MIB;
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 512 * MIB;

/** Points of the swap protocol, reported to `onStep` (tests use it to stop there, as a crash would). */
export type CleanerStep =
  /** `<base>.log.cleaned` is complete and fsynced; nothing renamed yet. */
  | 'cleaned-written'
  /** `.cleaned` renamed to `.swap`, folder fsynced: the commit point. */
  | 'swap-renamed'
  /** One file of the replaced segments renamed to `.deleted` (`file` names it). */
  | 'old-file-renamed'
  /** Every file of the replaced segments renamed to `.deleted`, folder fsynced. */
  | 'old-renamed'
  /** `.swap` renamed to `<base>.log`, folder fsynced. */
  | 'swap-installed'
  /** The log uses the new segment and its indexes are written; `.deleted` files not yet removed. */
  | 'swapped';

export interface CleanerStepInfo {
  log: PartitionLog;
  /** Base offset of the cleaned segment being swapped in. */
  baseOffset: number;
  file?: string;
}

export interface LogCleanerDeps {
  clock: Clock;
  /** Log lines (one per clean, and problems). */
  log?: (message: string) => void;
  /** Keys the offset map may hold (memory bound; ~100 bytes each). Default 500 000. */
  maxOffsetMapEntries?: number;
  /** Input bytes processed between two yields to the event loop. Default 256 KiB. */
  sliceBytes?: number;
  /** Batches processed between two yields to the event loop. Default 256. */
  sliceBatches?: number;
  /** Records decoded between two yields to the event loop. Default 2048. */
  sliceRecords?: number;
  /** Bytes read from a segment at a time. Default 1 MiB. */
  readChunkBytes?: number;
  /** Delay before the replaced segments' files are removed; default: the log's file.delete.delay.ms. */
  fileDeleteDelayMs?: number;
  /** Bound on one batch's decompressed records. Default 512 MiB. */
  maxDecompressedBytes?: number;
  /** Called at each step of a swap; the clean waits for it (a test may never resolve it). */
  onStep?: (step: CleanerStep, info: CleanerStepInfo) => void | Promise<void>;
}

export interface CleanOptions {
  /** The cleaner's notion of now (default: the clock). */
  nowMs?: number;
  /**
   * Exclusive upper bound on what may be cleaned: the last stable offset (the first offset of the
   * earliest open transaction, never above the high watermark). Default: only the active segment
   * bounds it.
   */
  maxCleanableOffset?: number;
  /** Clean whatever is cleanable even when the dirty ratio is below min.cleanable.dirty.ratio. */
  force?: boolean;
}

export interface CleanablePart {
  /** The first dirty offset used (the one given, or the log start when it was outside the log). */
  firstDirtyOffset: number;
  /** Exclusive end of what may be cleaned now. */
  firstUncleanableOffset: number;
  /** Bytes of non-active segments wholly below the first dirty offset. */
  cleanBytes: number;
  /** Bytes of the segments holding [firstDirtyOffset, firstUncleanableOffset). */
  dirtyBytes: number;
  /** dirtyBytes / (cleanBytes + dirtyBytes); 0 when both are 0. */
  dirtyRatio: number;
  /** The first dirty batch is older than max.compaction.lag.ms: clean whatever the ratio. */
  maxCompactionLagExceeded: boolean;
  /** A tombstone's delete horizon has passed (known from an earlier clean by this cleaner). */
  deleteHorizonDue: boolean;
  /** Whether `clean` would clean the log now (without `force`). */
  shouldClean: boolean;
}

export interface CleanResult {
  firstDirtyOffset: number;
  /** Offsets below it are clean: the caller stores it as the partition's cleaner checkpoint. */
  cleanedUpTo: number;
  /**
   * False when a concurrent change of the log (truncation, retention, close) made the cleaner
   * give up before swapping every group; `cleanedUpTo` is then `firstDirtyOffset`.
   */
  complete: boolean;
  /** Segments rewritten and the segments that replaced them. */
  segmentsBefore: number;
  segmentsAfter: number;
  bytesBefore: number;
  bytesAfter: number;
  /** Keys in the offset map. */
  mappedKeys: number;
  batchesRemoved: number;
  /** Records removed because a later record has their key. */
  recordsRemoved: number;
  /** Tombstones removed because their delete horizon passed. */
  tombstonesRemoved: number;
  /** Records of aborted transactions removed. */
  abortedRecordsRemoved: number;
  durationMs: number;
}

/** One batch as read from a segment: a view of its bytes, and where it was. */
interface RawBatch {
  buf: Buffer;
  position: number;
  baseOffset: number;
  lastOffset: number;
}

/** What pass 0 learns about producers. */
interface ProducerInfo {
  /** Per producer id, its COMMIT (offset) and ABORT (-offset - 1) markers in offset order. */
  markers: Map<number, number[]>;
  /** Per producer id, the base offset of its last batch in the log. */
  lastBatch: Map<number, number>;
}

type TxnOutcome = 'commit' | 'abort' | 'open';

interface CleanStats {
  batchesRemoved: number;
  recordsRemoved: number;
  tombstonesRemoved: number;
  abortedRecordsRemoved: number;
  earliestHorizonMs: number;
}

interface PassContext {
  log: PartitionLog;
  map: OffsetMap;
  producers: ProducerInfo;
  /** Batches with a last offset at or past it are copied as they are. */
  endOffset: number;
  nowMs: number;
  /** Delete horizon given to batches whose tombstones are kept for the first time; null: never. */
  newHorizonMs: number | null;
  stats: CleanStats;
  slicer: Slicer;
}

interface GroupOutput {
  fresh: LogSegment;
  cleanedPath: string;
  changed: boolean;
  bytesAfter: number;
}

/** A segment's file vanished under the cleaner (retention or truncation removed it meanwhile). */
class SegmentGone extends Error {
  constructor(segment: LogSegment) {
    super(`segment ${segment.baseOffset} was removed while being cleaned`);
  }
}

const yieldNow = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

/** Counts work done since the last yield. */
class Slicer {
  private bytes = 0;
  private batches = 0;
  private records = 0;
  constructor(
    private readonly maxBytes: number,
    private readonly maxBatches: number,
    private readonly maxRecords: number,
  ) {}

  /** Notes one batch of `bytes` (and `records` decoded); true when it is time to yield. */
  spent(bytes: number, records = 0): boolean {
    this.bytes += bytes;
    this.batches++;
    this.records += records;
    if (this.bytes < this.maxBytes && this.batches < this.maxBatches && this.records < this.maxRecords)
      return false;
    this.bytes = 0;
    this.batches = 0;
    this.records = 0;
    return true;
  }
}

function markerOffset(entry: number): number {
  return entry >= 0 ? entry : -entry - 1;
}

/** How the transaction holding a batch of `producerId` ending at `lastOffset` ended. */
function txnOutcome(info: ProducerInfo, producerId: number, lastOffset: number): TxnOutcome {
  const list = info.markers.get(producerId);
  if (list === undefined) return 'open';
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (markerOffset(list[mid]!) > lastOffset) hi = mid;
    else lo = mid + 1;
  }
  if (lo === list.length) return 'open';
  return list[lo]! >= 0 ? 'commit' : 'abort';
}

/** A batch with the header of `header` and no record (no compression, same offset range). */
function emptyBatch(header: Buffer): Buffer {
  const b = Buffer.from(header.subarray(0, BATCH_HEADER_BYTES));
  b.writeInt32BE(BATCH_HEADER_BYTES - LOG_OVERHEAD_BYTES, BatchField.batchLength);
  b.writeUInt16BE(b.readUInt16BE(BatchField.attributes) & ~COMPRESSION_CODEC_MASK, BatchField.attributes);
  b.writeInt32BE(0, BatchField.recordCount);
  writeCrc(b);
  return b;
}

/** An uncompressed batch with no record: what `emptyBatch` makes. */
function isBareEmptyBatch(batch: Buffer): boolean {
  return (
    batch.length === BATCH_HEADER_BYTES &&
    (batch.readUInt16BE(BatchField.attributes) & COMPRESSION_CODEC_MASK) === 0 &&
    batch.readInt32BE(BatchField.recordCount) === 0
  );
}

function producerIdOf(batch: Buffer): number {
  return readInt64Number(batch, BatchField.producerId);
}

export class LogCleaner {
  private readonly clock: Clock;
  private readonly logLine: (message: string) => void;
  private readonly maxOffsetMapEntries: number;
  private readonly sliceBytes: number;
  private readonly sliceBatches: number;
  private readonly sliceRecords: number;
  private readonly readChunkBytes: number;
  private readonly fileDeleteDelayMs: number | undefined;
  private readonly maxDecompressedBytes: number;
  private readonly onStep: LogCleanerDeps['onStep'];
  private readonly inProgress = new WeakSet<PartitionLog>();
  /** Earliest delete horizon of a tombstone kept by the last clean of each log. */
  private readonly horizons = new WeakMap<PartitionLog, number>();
  /** Deletions of replaced segments waiting for file.delete.delay.ms. */
  private readonly pendingDeletes = new Map<NodeJS.Timeout, () => Promise<void>>();

  constructor(deps: LogCleanerDeps) {
    this.clock = deps.clock;
    this.logLine = deps.log ?? (() => undefined);
    this.maxOffsetMapEntries = deps.maxOffsetMapEntries ?? DEFAULT_MAX_OFFSET_MAP_ENTRIES;
    this.sliceBytes = deps.sliceBytes ?? DEFAULT_SLICE_BYTES;
    this.sliceBatches = deps.sliceBatches ?? DEFAULT_SLICE_BATCHES;
    this.sliceRecords = deps.sliceRecords ?? DEFAULT_SLICE_RECORDS;
    this.readChunkBytes = deps.readChunkBytes ?? DEFAULT_READ_CHUNK_BYTES;
    this.fileDeleteDelayMs = deps.fileDeleteDelayMs;
    this.maxDecompressedBytes = deps.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
    this.onStep = deps.onStep;
    if (!(this.maxOffsetMapEntries >= 1)) throw new RangeError('maxOffsetMapEntries must be at least 1');
  }

  // ------------------------------------------------------------------ what to clean

  /** The cleanable part of `log` and whether it is worth cleaning now. */
  async cleanablePart(
    log: PartitionLog,
    firstDirtyOffset: number,
    nowMs: number = this.clock.nowMs(),
    opts: { maxCleanableOffset?: number } = {},
  ): Promise<CleanablePart> {
    const config = log.config;
    const segments = log.segments.slice();
    const nonActive = segments.length - 1;
    let firstDirty = firstDirtyOffset;
    if (!(firstDirty >= log.logStartOffset && firstDirty <= log.logEndOffset))
      firstDirty = log.logStartOffset;
    let upper = segments[nonActive]!.baseOffset;
    if (opts.maxCleanableOffset !== undefined) upper = Math.min(upper, opts.maxCleanableOffset);

    let cleanBytes = 0;
    let dirtyBytes = 0;
    let firstDirtySegment: LogSegment | null = null;
    for (let i = 0; i < nonActive; i++) {
      const s = segments[i]!;
      await s.indexes(); // maxTimestampMs is known once the indexes are loaded
      if (segments[i + 1]!.baseOffset <= firstDirty) continue;
      firstDirtySegment ??= s;
      if (config.minCompactionLagMs > 0 && s.maxTimestampMs > nowMs - config.minCompactionLagMs) {
        upper = Math.min(upper, s.baseOffset);
      }
    }
    upper = Math.max(upper, firstDirty);
    for (let i = 0; i < nonActive; i++) {
      const s = segments[i]!;
      if (segments[i + 1]!.baseOffset <= firstDirty) cleanBytes += s.sizeBytes;
      else if (s.baseOffset < upper) dirtyBytes += s.sizeBytes;
    }
    const total = cleanBytes + dirtyBytes;
    const dirtyRatio = total === 0 ? 0 : dirtyBytes / total;

    let maxCompactionLagExceeded = false;
    if (firstDirtySegment !== null && Number.isFinite(config.maxCompactionLagMs) && dirtyBytes > 0) {
      const ts = await this.firstBatchTimestamp(log, firstDirtySegment, firstDirty);
      maxCompactionLagExceeded = ts >= 0 && nowMs - ts > config.maxCompactionLagMs;
    }
    const horizon = this.horizons.get(log);
    const deleteHorizonDue = horizon !== undefined && horizon <= nowMs && cleanBytes > 0;
    const shouldClean =
      config.cleanupPolicy.compact &&
      ((dirtyBytes > 0 && (dirtyRatio >= config.minCleanableDirtyRatio || maxCompactionLagExceeded)) ||
        deleteHorizonDue);
    return {
      firstDirtyOffset: firstDirty,
      firstUncleanableOffset: upper,
      cleanBytes,
      dirtyBytes,
      dirtyRatio,
      maxCompactionLagExceeded,
      deleteHorizonDue,
      shouldClean,
    };
  }

  /** maxTimestamp of the first batch at or after `offset` in `segment`, or -1. */
  private async firstBatchTimestamp(log: PartitionLog, segment: LogSegment, offset: number): Promise<number> {
    const from = await segment.positionFor(Math.max(offset, segment.baseOffset));
    for await (const b of this.readBatches(log, segment, from, segment.writtenBytes, 64 * 1024)) {
      if (b.lastOffset >= offset) return readInt64Number(b.buf, BatchField.maxTimestamp);
    }
    return -1;
  }

  // ------------------------------------------------------------------ cleaning

  /**
   * Cleans `log` when its cleanable part is worth it (or `opts.force`). Returns null when nothing
   * was done (not compacted, nothing cleanable, below the dirty ratio, or already being cleaned).
   */
  async clean(
    log: PartitionLog,
    firstDirtyOffset: number,
    opts: CleanOptions = {},
  ): Promise<CleanResult | null> {
    if (!log.config.cleanupPolicy.compact || this.inProgress.has(log)) return null;
    this.inProgress.add(log);
    try {
      return await this.doClean(log, firstDirtyOffset, opts);
    } finally {
      this.inProgress.delete(log);
    }
  }

  private async doClean(
    log: PartitionLog,
    firstDirtyOffset: number,
    opts: CleanOptions,
  ): Promise<CleanResult | null> {
    const started = Date.now();
    const nowMs = opts.nowMs ?? this.clock.nowMs();
    const partOpts =
      opts.maxCleanableOffset === undefined ? {} : { maxCleanableOffset: opts.maxCleanableOffset };
    const part = await this.cleanablePart(log, firstDirtyOffset, nowMs, partOpts);
    const somethingToDo = part.dirtyBytes > 0 || part.cleanBytes > 0;
    if (!part.shouldClean && !(opts.force === true && somethingToDo)) return null;

    const slicer = new Slicer(this.sliceBytes, this.sliceBatches, this.sliceRecords);
    const producers = await this.scanProducers(log, slicer);
    const map = new OffsetMap(this.maxOffsetMapEntries);
    let endOffset: number;
    try {
      endOffset = await this.buildOffsetMap(log, part, map, producers, slicer);
    } catch (e) {
      if (!(e instanceof SegmentGone)) throw e;
      this.logLine(`${log.name}: cleaning given up: ${e.message}`);
      return null;
    }

    const retention = log.config.deleteRetentionMs;
    const horizon = nowMs + retention;
    const ctx: PassContext = {
      log,
      map,
      producers,
      endOffset,
      nowMs,
      newHorizonMs: Number.isFinite(retention) && horizon <= Number.MAX_SAFE_INTEGER / 2 ? horizon : null,
      stats: {
        batchesRemoved: 0,
        recordsRemoved: 0,
        tombstonesRemoved: 0,
        abortedRecordsRemoved: 0,
        earliestHorizonMs: Infinity,
      },
      slicer,
    };

    // The segments to rewrite: from the log start to the one holding the end of the mapped part.
    const segments = log.segments.slice();
    const nextBase = new Map<LogSegment, number>();
    const toClean: LogSegment[] = [];
    for (let i = 0; i < segments.length - 1; i++) {
      const s = segments[i]!;
      if (s.baseOffset >= endOffset) break;
      nextBase.set(s, segments[i + 1]!.baseOffset);
      toClean.push(s);
    }
    const groups = groupBySize(toClean, nextBase, log.config.segmentBytes);

    let complete = true;
    let segmentsBefore = 0;
    let segmentsAfter = 0;
    let bytesBefore = 0;
    let bytesAfter = 0;
    for (const group of groups) {
      const sizes = group.map((s) => s.sizeBytes);
      if (!stillInLog(log, group, sizes)) {
        complete = false;
        break;
      }
      let out: GroupOutput;
      try {
        out = await this.cleanGroup(ctx, group);
      } catch (e) {
        if (!(e instanceof SegmentGone)) throw e;
        complete = false;
        break;
      }
      const groupBytes = sizes.reduce((a, b) => a + b, 0);
      if (!out.changed) {
        await log.fs.unlink(out.cleanedPath);
        continue;
      }
      let swapped = false;
      try {
        swapped = await this.swap(log, group, sizes, out);
      } finally {
        if (!swapped) await log.fs.unlink(out.cleanedPath);
      }
      if (!swapped) {
        complete = false;
        break;
      }
      segmentsBefore += group.length;
      segmentsAfter += 1;
      bytesBefore += groupBytes;
      bytesAfter += out.bytesAfter;
    }

    if (complete) this.horizons.set(log, ctx.stats.earliestHorizonMs);
    const result: CleanResult = {
      firstDirtyOffset: part.firstDirtyOffset,
      cleanedUpTo: complete ? endOffset : part.firstDirtyOffset,
      complete,
      segmentsBefore,
      segmentsAfter,
      bytesBefore,
      bytesAfter,
      mappedKeys: map.size,
      batchesRemoved: ctx.stats.batchesRemoved,
      recordsRemoved: ctx.stats.recordsRemoved,
      tombstonesRemoved: ctx.stats.tombstonesRemoved,
      abortedRecordsRemoved: ctx.stats.abortedRecordsRemoved,
      durationMs: Date.now() - started,
    };
    this.logLine(
      `${log.name}: cleaned offsets [${part.firstDirtyOffset}, ${result.cleanedUpTo})` +
        (complete ? '' : ' (interrupted by a concurrent change of the log)') +
        `: ${segmentsBefore} segment(s) of ${bytesBefore} bytes became ${segmentsAfter} of ${bytesAfter} bytes; ` +
        `removed ${result.recordsRemoved} superseded record(s), ${result.tombstonesRemoved} tombstone(s), ` +
        `${result.abortedRecordsRemoved} aborted record(s), ${result.batchesRemoved} batch(es); ` +
        `${map.size} key(s) mapped, dirty ratio ${part.dirtyRatio.toFixed(3)}, in ${result.durationMs} ms`,
    );
    return result;
  }

  /** Removes the files of replaced segments now instead of after the delay (shutdown, tests). */
  async flushPendingDeletes(): Promise<void> {
    const runs = [...this.pendingDeletes.entries()];
    this.pendingDeletes.clear();
    for (const [timer, run] of runs) {
      clearTimeout(timer);
      await run();
    }
  }

  // ------------------------------------------------------------------ reading

  /**
   * Batches of `segment` in [from, to), read with a handle of the cleaner's own, opened read-only
   * (a segment deleted meanwhile makes this fail rather than recreate its file). Frames are
   * checked, CRCs are not (decoding checks them where records are used).
   */
  private async *readBatches(
    log: PartitionLog,
    segment: LogSegment,
    from: number,
    to: number,
    chunkBytes = this.readChunkBytes,
  ): AsyncGenerator<RawBatch> {
    if (from >= to) return;
    let h: FileHandle;
    try {
      h = await log.fs.open(segment.paths.log, 'read');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new SegmentGone(segment);
      throw e;
    }
    try {
      let pos = from;
      let carry: Buffer | null = null;
      while (pos < to) {
        // A batch cut by the previous chunk's end is read whole with this one.
        let want = chunkBytes;
        if (carry !== null && carry.length >= LOG_OVERHEAD_BYTES) {
          want = Math.max(
            want,
            carry.readInt32BE(BatchField.batchLength) + LOG_OVERHEAD_BYTES - carry.length,
          );
        }
        want = Math.min(want, to - pos);
        const chunk = Buffer.allocUnsafe(want);
        const got = await h.read(chunk, 0, want, pos);
        if (got === 0) {
          throw corruptRecord(`${log.name}: segment ${segment.baseOffset} ends at ${pos}, expected ${to}`);
        }
        const data: Buffer =
          carry === null ? chunk.subarray(0, got) : Buffer.concat([carry, chunk.subarray(0, got)]);
        const dataStart = pos - (carry === null ? 0 : carry.length);
        pos += got;
        carry = null;
        const splitter = new BatchSplitter(data);
        let consumed = 0;
        while (splitter.next()) {
          const buf = splitter.batch();
          const baseOffset = readInt64Number(buf, BatchField.baseOffset);
          consumed = splitter.position + splitter.sizeBytes;
          yield {
            buf,
            position: dataStart + splitter.position,
            baseOffset,
            lastOffset: baseOffset + buf.readInt32BE(BatchField.lastOffsetDelta),
          };
        }
        if (splitter.error !== null) {
          const e = splitter.error;
          if ('reason' in e && e.reason === 'truncated' && pos < to) {
            carry = data.subarray(consumed);
            continue;
          }
          throw corruptRecord(
            `${log.name}: segment ${segment.baseOffset} at position ${dataStart + consumed}: ${e.message}`,
          );
        }
      }
    } finally {
      await h.close();
    }
  }

  private decode(log: PartitionLog, b: RawBatch): DecodedRecordBatch {
    const decoded = decodeRecordBatch(b.buf, { maxDecompressedBytes: this.maxDecompressedBytes });
    if (decoded instanceof DecodeError) {
      throw corruptRecord(
        `${log.name}: cannot clean the batch at offset ${b.baseOffset}: ${decoded.message}`,
      );
    }
    return decoded;
  }

  // ------------------------------------------------------------------ pass 0: producers

  private async scanProducers(log: PartitionLog, slicer: Slicer): Promise<ProducerInfo> {
    const info: ProducerInfo = { markers: new Map(), lastBatch: new Map() };
    const segments = log.segments.slice();
    for (const segment of segments) {
      try {
        for await (const b of this.readBatches(log, segment, 0, segment.writtenBytes)) {
          if (slicer.spent(b.buf.length)) await yieldNow();
          const pid = producerIdOf(b.buf);
          if (pid < 0) continue;
          info.lastBatch.set(pid, b.baseOffset);
          if ((b.buf.readUInt16BE(BatchField.attributes) & CONTROL_BIT) === 0) continue;
          const control = parseControlBatch(this.decode(log, b));
          if (control instanceof DecodeError || control.marker === null) continue;
          let list = info.markers.get(pid);
          if (list === undefined) info.markers.set(pid, (list = []));
          list.push(control.key.type === ControlRecordType.Commit ? b.baseOffset : -b.baseOffset - 1);
        }
      } catch (e) {
        // A segment removed meanwhile (retention) has nothing the cleaner still needs; the active
        // segment may be cut under the scan (a failed write rolled back). What was not seen
        // leaves transactions "open", which only keeps their records.
        const activeCut = segment === segments[segments.length - 1] && e instanceof StorageError;
        if (!(e instanceof SegmentGone) && !activeCut) throw e;
      }
    }
    return info;
  }

  // ------------------------------------------------------------------ pass 1: the offset map

  /** Maps the dirty part (or the prefix of it that fits); returns the end of what was mapped. */
  private async buildOffsetMap(
    log: PartitionLog,
    part: CleanablePart,
    map: OffsetMap,
    producers: ProducerInfo,
    slicer: Slicer,
  ): Promise<number> {
    const firstDirty = part.firstDirtyOffset;
    const upper = part.firstUncleanableOffset;
    if (upper <= firstDirty) return firstDirty;
    const segments = log.segments.slice();
    for (let i = 0; i < segments.length - 1; i++) {
      const s = segments[i]!;
      if (segments[i + 1]!.baseOffset <= firstDirty) continue;
      if (s.baseOffset >= upper) break;
      const from = await s.positionFor(Math.max(firstDirty, s.baseOffset));
      for await (const b of this.readBatches(log, s, from, s.writtenBytes)) {
        if (slicer.spent(b.buf.length, b.buf.readInt32BE(BatchField.recordCount))) await yieldNow();
        if (b.lastOffset < firstDirty) continue;
        if (b.lastOffset >= upper) return Math.max(firstDirty, Math.min(upper, b.baseOffset));
        const attributes = b.buf.readUInt16BE(BatchField.attributes);
        if ((attributes & CONTROL_BIT) !== 0) continue;
        if (
          (attributes & TRANSACTIONAL_BIT) !== 0 &&
          txnOutcome(producers, producerIdOf(b.buf), b.lastOffset) !== 'commit'
        ) {
          continue;
        }
        const count = b.buf.readInt32BE(BatchField.recordCount);
        if (map.size > 0 && !map.fits(count)) return Math.max(firstDirty, b.baseOffset);
        const batch = this.decode(log, b);
        for (const r of batch.records) if (r.key !== null) map.put(r.key, b.baseOffset + r.offsetDelta);
      }
    }
    return upper;
  }

  // ------------------------------------------------------------------ pass 2: rewriting

  /** Writes the cleaned form of `group` to `<base>.log.cleaned` (fsynced) and builds its indexes in memory. */
  private async cleanGroup(ctx: PassContext, group: LogSegment[]): Promise<GroupOutput> {
    const log = ctx.log;
    const fresh = new LogSegment(log.fs, log.dir, group[0]!.baseOffset, log.config);
    fresh.resetIndexes();
    const cleanedPath = fresh.paths.log + CLEANED_SUFFIX;
    await log.fs.unlink(cleanedPath);
    const out = await log.fs.open(cleanedPath, 'create');
    let written = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let changed = group.length > 1;
    /** The last batch dropped, while no batch was kept after it, and how many were dropped since. */
    let droppedLast: Buffer | null = null;
    let trailingDrops = 0;
    let droppedLastWasEmpty = false;

    const flushOut = async (): Promise<void> => {
      if (pendingBytes === 0) return;
      await out.writev(pending, written);
      written += pendingBytes;
      pending = [];
      pendingBytes = 0;
    };
    const emit = async (bytes: Buffer): Promise<void> => {
      const baseOffset = readInt64Number(bytes, BatchField.baseOffset);
      fresh.noteBatch({
        position: written + pendingBytes,
        sizeBytes: bytes.length,
        baseOffset,
        lastOffset: baseOffset + bytes.readInt32BE(BatchField.lastOffsetDelta),
        maxTimestampMs: readInt64Number(bytes, BatchField.maxTimestamp),
        partitionLeaderEpoch: bytes.readInt32BE(BatchField.partitionLeaderEpoch),
      });
      pending.push(bytes);
      pendingBytes += bytes.length;
      if (pendingBytes >= WRITE_CHUNK_BYTES) await flushOut();
    };

    try {
      for (const segment of group) {
        for await (const b of this.readBatches(log, segment, 0, segment.writtenBytes)) {
          const kept = this.filterBatch(ctx, b);
          if (kept === null) {
            droppedLastWasEmpty = isBareEmptyBatch(b.buf);
            droppedLast = emptyBatch(b.buf);
            trailingDrops++;
            ctx.stats.batchesRemoved++;
          } else {
            if (kept !== b.buf || trailingDrops > 0) changed = true;
            droppedLast = null;
            trailingDrops = 0;
            await emit(kept);
          }
          if (ctx.slicer.spent(b.buf.length, b.buf.readInt32BE(BatchField.recordCount))) await yieldNow();
        }
      }
      // The group's last batch stays (empty), so the cleaned segment ends where the group did.
      // (Dropping an empty batch only to put it back is no change.)
      if (droppedLast !== null) {
        if (!(droppedLastWasEmpty && trailingDrops === 1)) changed = true;
        ctx.stats.batchesRemoved--;
        await emit(droppedLast);
      }
      await flushOut();
      await out.sync();
    } catch (e) {
      await out.close();
      await log.fs.unlink(cleanedPath);
      throw e;
    }
    await out.close();
    fresh.setSize(written);
    if (changed) await this.step('cleaned-written', { log, baseOffset: fresh.baseOffset });
    return { fresh, cleanedPath, changed, bytesAfter: written };
  }

  /**
   * The cleaned form of one batch: `b.buf` itself when nothing changes, new bytes when records go
   * or a delete horizon is set, an empty batch when none stays but the batch must, or null.
   */
  private filterBatch(ctx: PassContext, b: RawBatch): Buffer | null {
    const attributes = b.buf.readUInt16BE(BatchField.attributes);
    if (b.lastOffset >= ctx.endOffset || (attributes & CONTROL_BIT) !== 0) return b.buf;
    const pid = producerIdOf(b.buf);
    // A batch left with no record goes, unless it is its producer's last in the log.
    const emptied = (): Buffer | null => {
      if (!(pid >= 0 && ctx.producers.lastBatch.get(pid) === b.baseOffset)) return null;
      return isBareEmptyBatch(b.buf) ? b.buf : emptyBatch(b.buf);
    };

    if ((attributes & TRANSACTIONAL_BIT) !== 0) {
      const outcome = txnOutcome(ctx.producers, pid, b.lastOffset);
      if (outcome === 'open') return b.buf;
      if (outcome === 'abort') {
        ctx.stats.abortedRecordsRemoved += b.buf.readInt32BE(BatchField.recordCount);
        return emptied();
      }
    }

    const batch = this.decode(ctx.log, b);
    const survivors: BatchRecord[] = [];
    const horizonPassed = batch.hasDeleteHorizon && batch.baseTimestamp <= ctx.nowMs;
    let tombstoneKept = false;
    for (const r of batch.records) {
      if (r.key !== null) {
        const offset = b.baseOffset + r.offsetDelta;
        if (ctx.map.get(r.key) > offset) {
          ctx.stats.recordsRemoved++;
          continue;
        }
        if (r.value === null) {
          if (horizonPassed) {
            ctx.stats.tombstonesRemoved++;
            continue;
          }
          tombstoneKept = true;
        }
      }
      survivors.push(r);
    }
    const setHorizon = tombstoneKept && !batch.hasDeleteHorizon && ctx.newHorizonMs !== null;
    if (tombstoneKept) {
      const horizon = batch.hasDeleteHorizon
        ? batch.baseTimestamp
        : setHorizon
          ? ctx.newHorizonMs!
          : Infinity;
      ctx.stats.earliestHorizonMs = Math.min(ctx.stats.earliestHorizonMs, horizon);
    }
    if (survivors.length === 0) return emptied();
    if (survivors.length === batch.records.length && !setHorizon) return b.buf;

    let baseTimestamp = batch.baseTimestamp;
    let records = survivors;
    if (setHorizon) {
      // KIP-534: baseTimestamp carries the horizon; record timestamps stay what they were.
      const horizon = ctx.newHorizonMs!;
      baseTimestamp = horizon;
      if (batch.timestampType === TimestampType.CreateTime) {
        const shift = batch.baseTimestamp - horizon;
        records = survivors.map((r) => ({ ...r, timestampDelta: r.timestampDelta + shift }));
      }
    }
    return encodeRecordBatch(
      {
        baseOffset: batch.baseOffset,
        partitionLeaderEpoch: batch.partitionLeaderEpoch,
        timestampType: batch.timestampType,
        isTransactional: batch.isTransactional,
        isControl: batch.isControl,
        hasDeleteHorizon: batch.hasDeleteHorizon || setHorizon,
        lastOffsetDelta: batch.lastOffsetDelta,
        baseTimestamp,
        maxTimestamp: batch.maxTimestamp,
        producerId: batch.producerId,
        producerEpoch: batch.producerEpoch,
        baseSequence: batch.baseSequence,
        records,
      },
      { compression: batch.compression },
    );
  }

  // ------------------------------------------------------------------ the swap

  private async step(step: CleanerStep, info: CleanerStepInfo): Promise<void> {
    if (this.onStep !== undefined) await this.onStep(step, info);
  }

  /**
   * Replaces `group` by the cleaned segment (see the protocol and the crash walk-through at the
   * top). Returns false, having changed nothing, when the group is no longer in the log as it was.
   */
  private async swap(
    log: PartitionLog,
    group: LogSegment[],
    sizes: number[],
    out: GroupOutput,
  ): Promise<boolean> {
    const fs = log.fs;
    const fresh = out.fresh;
    const base = fresh.baseOffset;
    const swapPath = fresh.paths.log + SWAP_SUFFIX;
    const renamed: string[] = [];
    const ok = await log.runExclusive(async () => {
      if (!stillInLog(log, group, sizes)) return false;
      // No flush may still be writing an old segment's indexes (to the file names the new
      // segment's indexes get); the old handles stay open for reads in flight.
      await log.flush(0);
      for (const s of group) {
        await s.file();
        await s.sync();
      }

      let swapExists = false;
      try {
        await fs.rename(out.cleanedPath, swapPath);
        swapExists = true;
        await fs.syncDir(log.dir);
        await this.step('swap-renamed', { log, baseOffset: base });
        for (const s of group) {
          for (const f of [s.paths.log, s.paths.index, s.paths.timeIndex]) {
            if ((await fs.stat(f)) === null) continue;
            await fs.rename(f, f + DELETED_SUFFIX);
            renamed.push(f);
            await this.step('old-file-renamed', { log, baseOffset: base, file: f });
          }
        }
        await fs.syncDir(log.dir);
        await this.step('old-renamed', { log, baseOffset: base });
        await fs.rename(swapPath, fresh.paths.log);
      } catch (e) {
        await this.rollBack(log, renamed, swapExists ? swapPath : null, e);
        throw e;
      }

      // Committed: the log's folder now holds the cleaned segment under its final name.
      const i = log.segments.indexOf(group[0]!);
      log.segments.splice(i, group.length, fresh);
      try {
        await fs.syncDir(log.dir);
        await this.step('swap-installed', { log, baseOffset: base });
        await fresh.persistIndexes();
      } catch (e) {
        // The swap stands either way; missing or partial indexes are rebuilt on their next load.
        this.logLine(`${log.name}: after swapping in cleaned segment ${base}: ${String(e)}`);
      }
      await this.step('swapped', { log, baseOffset: base });
      return true;
    });
    if (ok) await this.deleteLater(log, group, renamed);
    return ok;
  }

  /** Undoes the renames of a swap that failed before its commit into the final name. */
  private async rollBack(
    log: PartitionLog,
    renamed: string[],
    swapPath: string | null,
    cause: unknown,
  ): Promise<void> {
    try {
      for (const f of renamed.reverse()) await log.fs.rename(f + DELETED_SUFFIX, f);
      if (swapPath !== null) await log.fs.unlink(swapPath);
      await log.fs.syncDir(log.dir);
    } catch (e) {
      this.logLine(
        `${log.name}: a compaction swap failed (${String(cause)}) and could not be rolled back (${String(e)}); ` +
          'the next open of the log completes it',
      );
    }
  }

  /** Closes the replaced segments and removes their `.deleted` files after file.delete.delay.ms. */
  private async deleteLater(log: PartitionLog, old: LogSegment[], renamed: string[]): Promise<void> {
    const run = async (): Promise<void> => {
      for (const s of old) await s.close();
      for (const f of renamed) await log.fs.unlink(f + DELETED_SUFFIX);
    };
    const delay = this.fileDeleteDelayMs ?? log.config.fileDeleteDelayMs;
    if (!(delay > 0)) {
      await run();
      return;
    }
    const timer = setTimeout(
      () => {
        this.pendingDeletes.delete(timer);
        run().catch((e: unknown) =>
          this.logLine(`${log.name}: removing replaced segments failed: ${String(e)}`),
        );
      },
      Math.min(delay, INT32_MAX),
    );
    timer.unref();
    this.pendingDeletes.set(timer, run);
  }
}

/** Whether `group` is still a run of non-active segments of `log`, with the sizes they had. */
function stillInLog(log: PartitionLog, group: LogSegment[], sizes: number[]): boolean {
  const i = log.segments.indexOf(group[0]!);
  if (i < 0 || i + group.length >= log.segments.length) return false;
  return group.every((s, k) => log.segments[i + k] === s && s.sizeBytes === sizes[k]);
}

/**
 * Consecutive segments grouped so that each group's total size stays within `maxBytes` (a segment
 * larger than that is a group alone) and its offsets within an int32 of its base offset.
 */
function groupBySize(
  segments: LogSegment[],
  nextBase: Map<LogSegment, number>,
  maxBytes: number,
): LogSegment[][] {
  const groups: LogSegment[][] = [];
  let i = 0;
  while (i < segments.length) {
    const first = segments[i]!;
    let size = first.sizeBytes;
    let j = i + 1;
    while (j < segments.length) {
      const s = segments[j]!;
      if (size + s.sizeBytes > maxBytes || nextBase.get(s)! - 1 - first.baseOffset > INT32_MAX) break;
      size += s.sizeBytes;
      j++;
    }
    groups.push(segments.slice(i, j));
    i = j;
  }
  return groups;
}
