/**
 * The partition log: an ordered list of segments, appended at the end, read by offset.
 *
 * Appends are validated and given their offsets synchronously (so concurrent producers get
 * offsets in call order), then written in order by a single write pump that gathers whatever
 * queued up while the previous write was in flight into one writev (group commit). With
 * `flush.messages` reached (1 = fsync every append), an append resolves only after an fsync
 * that it shares with every append written alongside it.
 *
 * Offsets are numbers: an offset grows by one per record, so 2^53 is out of reach (centuries
 * at a million records a second); an append that would pass it is refused.
 *
 * A failed write (EIO, ENOSPC, a torn write) fails that append and every append queued behind
 * it, then rolls the log back to the last byte known written. If the rollback fails too, the
 * log goes offline: every later call fails with KAFKA_STORAGE_ERROR until it is reopened,
 * and opening recovers it.
 */
import { ErrorCode } from '../protocol/error-codes.js';
import {
  BATCH_HEADER_BYTES,
  BatchField,
  BatchSplitter,
  readInt64Number,
  setBaseOffset,
  setMaxTimestampAndLogAppendTime,
  setPartitionLeaderEpoch,
} from '../protocol/records/batch-view.js';
import { UnsupportedMessageFormatError } from '../protocol/primitives/errors.js';
import type { Clock } from '../runtime/clock.js';
import type { FileSystem } from '../runtime/fs.js';
import { corruptRecord, offsetOutOfRange, StorageError, storageFailure } from './errors.js';
import type { TopicPartition } from './files.js';
import type { EpochEndOffset, LeaderEpochCache } from './leader-epoch-cache.js';
import type { LogConfigValues } from './log-config.js';
import { batchSizeAt, LogSegment, type ScannedBatch } from './segment.js';

const INT32_MAX = 0x7fffffff;
/** Smallest read from a segment: enough for any batch header. */
const MIN_READ_BYTES = 4096;
/** Read positions remembered for consumers reading on from where they stopped. */
const MAX_READ_HINTS = 64;
/** Header bytes up to and including lastOffsetDelta. */
const HEADER_PEEK_BYTES = BatchField.lastOffsetDelta + 4;

export interface AppendInfo {
  firstOffset: number;
  lastOffset: number;
  /** The broker's time for LogAppendTime topics, else -1. */
  logAppendTimeMs: number;
  logStartOffset: number;
  batches: number;
}

export interface ReadResult {
  /** Whole batches, as on the wire; empty when there is nothing to read. */
  records: Buffer;
  /** Log end offset and start offset when the read was made. */
  logEndOffset: number;
  logStartOffset: number;
}

export interface ReadOptions {
  /** Exclusive upper bound: only batches whose last offset is below it (high watermark / LSO). */
  maxOffset?: number;
}

export interface LogDeps {
  fs: FileSystem;
  clock: Clock;
  dir: string;
  topicPartition: TopicPartition;
  config: LogConfigValues;
  epochCache: LeaderEpochCache;
  log: (message: string) => void;
}

interface PendingWrite {
  segment: LogSegment;
  position: number;
  bytes: Buffer;
  firstOffset: number;
  /** Offset after the last batch of this write. */
  endOffset: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

type BatchCheck = { ok: true; batches: ScannedBatch[]; bytes: number } | { ok: false; error: StorageError };

export class PartitionLog {
  readonly fs: FileSystem;
  readonly clock: Clock;
  readonly dir: string;
  readonly topicPartition: TopicPartition;
  readonly epochCache: LeaderEpochCache;
  config: LogConfigValues;
  private readonly logLine: (message: string) => void;

  /** Segments by base offset, ascending; the last is the active one. Never empty. */
  segments: LogSegment[];
  logStartOffset: number;
  /** Offsets below it are on disk and fsynced. */
  recoveryPoint: number;
  private nextOffset: number;
  private lastFlushMs: number;

  private readonly pending: PendingWrite[] = [];
  private writing = false;
  /** Resolves when every append made so far has been written (or failed). */
  /** Callers waiting until the writes below an offset are done (or failed), in offset order. */
  private readonly writeWaiters: { offset: number; resolve: () => void }[] = [];
  /** Offset after the last batch known written to its file (what an fsync now would make durable). */
  private writtenOffset: number;
  /** Where recent reads ended, so a consumer reading on starts without an index lookup (bounded). */
  private readonly readHints = new Map<number, { segment: LogSegment; position: number }>();
  /** Appends, truncations and flushes wait on this while the log is rolled back or truncated. */
  private gate: Promise<void> | null = null;
  private flushChain: Promise<void> = Promise.resolve();

  private offline: StorageError | null = null;
  private closed = false;

  constructor(deps: LogDeps, segments: LogSegment[], logStartOffset: number, recoveryPoint: number) {
    this.fs = deps.fs;
    this.clock = deps.clock;
    this.dir = deps.dir;
    this.topicPartition = deps.topicPartition;
    this.config = deps.config;
    this.epochCache = deps.epochCache;
    this.logLine = deps.log;
    this.segments = segments;
    this.nextOffset = this.activeSegment.nextOffset;
    this.writtenOffset = this.nextOffset;
    this.logStartOffset = logStartOffset;
    this.recoveryPoint = Math.min(recoveryPoint, this.nextOffset);
    this.lastFlushMs = deps.clock.nowMs();
  }

  get name(): string {
    return `${this.topicPartition.topic}-${this.topicPartition.partition}`;
  }

  get activeSegment(): LogSegment {
    return this.segments[this.segments.length - 1]!;
  }

  /** Offset the next appended record gets. */
  get logEndOffset(): number {
    return this.nextOffset;
  }

  /** Bytes of all segments. */
  get sizeBytes(): number {
    let total = 0;
    for (const s of this.segments) total += s.sizeBytes;
    return total;
  }

  private check(): void {
    if (this.offline !== null) throw this.offline;
    if (this.closed) throw new StorageError(ErrorCode.KAFKA_STORAGE_ERROR, `log ${this.name} is closed`);
  }

  // ------------------------------------------------------------------ append

  /**
   * Appends batches from a producer: validates them, assigns offsets from the log end, stamps the
   * leader epoch (and the append time on LogAppendTime topics). Batches are patched in place.
   */
  async appendAsLeader(records: Buffer, leaderEpoch: number): Promise<AppendInfo> {
    while (this.gate !== null) await this.gate;
    this.check();
    const checked = this.checkBatches(records);
    if (!checked.ok) throw checked.error;
    const nowMs = this.clock.nowMs();
    const logAppendTime = this.config.messageTimestampType === 'LogAppendTime';
    let offset = this.nextOffset;
    const firstOffset = offset;
    for (const b of checked.batches) {
      const batch = records.subarray(b.position, b.position + b.sizeBytes);
      const count = b.lastOffset - b.baseOffset + 1;
      setBaseOffset(batch, offset);
      if (leaderEpoch >= 0) setPartitionLeaderEpoch(batch, leaderEpoch);
      if (logAppendTime) {
        setMaxTimestampAndLogAppendTime(batch, nowMs);
        b.maxTimestampMs = nowMs;
      }
      b.baseOffset = offset;
      b.lastOffset = offset + count - 1;
      b.partitionLeaderEpoch = leaderEpoch;
      offset += count;
    }
    if (offset > Number.MAX_SAFE_INTEGER) {
      throw new StorageError(ErrorCode.INVALID_RECORD, `offsets of ${this.name} would pass 2^53`);
    }
    await this.place(records, checked.batches, firstOffset, nowMs);
    return {
      firstOffset,
      lastOffset: offset - 1,
      logAppendTimeMs: logAppendTime ? nowMs : -1,
      logStartOffset: this.logStartOffset,
      batches: checked.batches.length,
    };
  }

  /** Appends batches replicated from a leader: offsets and epochs kept as they are. */
  async appendAsFollower(records: Buffer): Promise<AppendInfo> {
    while (this.gate !== null) await this.gate;
    this.check();
    const checked = this.checkBatches(records);
    if (!checked.ok) throw checked.error;
    let expect = this.nextOffset;
    for (const b of checked.batches) {
      if (b.baseOffset < expect) {
        throw new StorageError(
          ErrorCode.INVALID_RECORD,
          `${this.name}: replicated batch at offset ${b.baseOffset} is below the log end ${expect}`,
        );
      }
      expect = b.lastOffset + 1;
    }
    const first = checked.batches[0]!;
    await this.place(records, checked.batches, first.baseOffset, this.clock.nowMs());
    return {
      firstOffset: first.baseOffset,
      lastOffset: expect - 1,
      logAppendTimeMs: -1,
      logStartOffset: this.logStartOffset,
      batches: checked.batches.length,
    };
  }

  /** Validates every batch of an append (framing, magic, CRC, size limit) without decoding records. */
  private checkBatches(records: Buffer): BatchCheck {
    const splitter = new BatchSplitter(records, { verifyCrc: true });
    const batches: ScannedBatch[] = [];
    while (splitter.next()) {
      const b = splitter.batch();
      if (splitter.sizeBytes > this.config.maxMessageBytes) {
        return {
          ok: false,
          error: new StorageError(
            ErrorCode.MESSAGE_TOO_LARGE,
            `${this.name}: a record batch of ${splitter.sizeBytes} bytes exceeds max.message.bytes ${this.config.maxMessageBytes}`,
          ),
        };
      }
      const baseOffset = readInt64Number(b, BatchField.baseOffset);
      batches.push({
        position: splitter.position,
        sizeBytes: splitter.sizeBytes,
        baseOffset,
        lastOffset: baseOffset + b.readInt32BE(BatchField.lastOffsetDelta),
        maxTimestampMs: readInt64Number(b, BatchField.maxTimestamp),
        partitionLeaderEpoch: b.readInt32BE(BatchField.partitionLeaderEpoch),
      });
    }
    if (splitter.error !== null) {
      const e = splitter.error;
      const code =
        e instanceof UnsupportedMessageFormatError
          ? ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT
          : ErrorCode.CORRUPT_MESSAGE;
      return { ok: false, error: new StorageError(code, `${this.name}: ${e.message}`) };
    }
    if (batches.length === 0)
      return { ok: false, error: corruptRecord(`${this.name}: no record batches to append`) };
    for (const b of batches) {
      if (b.lastOffset < b.baseOffset)
        return { ok: false, error: corruptRecord(`${this.name}: negative lastOffsetDelta`) };
    }
    return { ok: true, batches, bytes: records.length };
  }

  /** Puts validated batches (offsets final) into the active segment, rolling first when needed. */
  private async place(
    records: Buffer,
    batches: ScannedBatch[],
    firstOffset: number,
    nowMs: number,
  ): Promise<void> {
    const lastOffset = batches[batches.length - 1]!.lastOffset;
    let segment = this.activeSegment;
    if (this.shouldRoll(segment, records.length, lastOffset, nowMs)) segment = this.roll(firstOffset);
    segment.firstAppendMs ??= nowMs;
    const position = segment.sizeBytes;
    let newEpoch = false;
    for (const b of batches) {
      const epoch = b.partitionLeaderEpoch;
      if (epoch >= 0 && epoch >= (this.epochCache.latestEpoch() ?? -1)) {
        newEpoch = this.epochCache.assign(epoch, b.baseOffset) || newEpoch;
      }
      b.position += position;
      segment.noteBatch(b);
    }
    this.nextOffset = lastOffset + 1;
    const written = new Promise<void>((resolve, reject) => {
      this.pending.push({
        segment,
        position,
        bytes: records,
        firstOffset,
        endOffset: lastOffset + 1,
        resolve,
        reject,
      });
    });

    this.pump();
    const unflushed = this.nextOffset - this.recoveryPoint;
    await written;
    // A new leader epoch is durable before the append is acknowledged, as in Kafka.
    if (newEpoch) {
      await this.epochCache.flush().catch((e: unknown) => {
        throw storageFailure(`${this.name}: writing the leader-epoch checkpoint failed`, e);
      });
    }
    if (unflushed >= this.config.flushMessages) await this.flush(lastOffset + 1);
  }

  private shouldRoll(segment: LogSegment, bytes: number, lastOffset: number, nowMs: number): boolean {
    if (segment.sizeBytes === 0) return false;
    if (segment.sizeBytes + bytes > this.config.segmentBytes) return true;
    if (
      segment.firstAppendMs !== null &&
      nowMs - segment.firstAppendMs >= this.config.segmentMs - this.rollJitterMs()
    ) {
      return true;
    }
    if (segment.isIndexFull()) return true;
    return lastOffset - segment.baseOffset > INT32_MAX;
  }

  /** A fixed per-partition jitter below segment.jitter.ms, so partitions do not all roll at once. */
  private rollJitterMs(): number {
    const jitter = this.config.segmentJitterMs;
    if (jitter <= 0) return 0;
    let h = 0;
    for (const c of this.name) h = (h * 31 + c.charCodeAt(0)) >>> 0;
    return h % jitter;
  }

  /** Starts a new active segment at `baseOffset`; the old one is flushed in the background. */
  private roll(baseOffset: number): LogSegment {
    const old = this.activeSegment;
    const segment = new LogSegment(this.fs, this.dir, baseOffset, this.config);
    segment.resetIndexes();
    this.segments.push(segment);

    this.logLine(
      `${this.name}: rolled a new segment at offset ${baseOffset} (previous: ${old.sizeBytes} bytes)`,
    );
    // Kafka syncs a rolled segment and the folder soon after the roll, off the append path.
    this.flush(baseOffset).catch((e: unknown) =>
      this.logLine(`${this.name}: flush after roll failed: ${String(e)}`),
    );
    return segment;
  }

  /** Forces a roll (tests, and retention of a full active segment). */
  async rollNow(): Promise<void> {
    while (this.gate !== null) await this.gate;
    this.check();
    if (this.activeSegment.sizeBytes > 0) this.roll(this.nextOffset);
  }

  // ------------------------------------------------------------------ the write pump

  private pump(): void {
    if (this.writing || this.pending.length === 0) return;
    this.writing = true;
    // One writev for the run of queued writes that continue each other in one segment.
    const first = this.pending[0]!;
    let n = 1;
    let end = first.position + first.bytes.length;
    while (n < this.pending.length) {
      const next = this.pending[n]!;
      if (next.segment !== first.segment || next.position !== end) break;
      end += next.bytes.length;
      n++;
    }
    const group = this.pending.splice(0, n);
    first.segment
      .write(
        group.map((w) => w.bytes),
        first.position,
      )
      .then(
        () => {
          this.writing = false;
          this.writtenOffset = Math.max(this.writtenOffset, group[group.length - 1]!.endOffset);
          for (const w of group) w.resolve();
          this.wakeWriteWaiters(false);
          this.pump();
        },
        (e: unknown) => {
          this.writing = false;
          this.failWrites(group, e);
        },
      );
  }

  /** A write failed: fail it and everything queued behind it, then roll back to what is written. */
  private failWrites(group: PendingWrite[], cause: unknown): void {
    const failed = group[0]!;
    const error = storageFailure(`${this.name}: write at offset ${failed.firstOffset} failed`, cause);
    const queued = this.pending.splice(0, this.pending.length);
    this.logLine(`${error.message}; rolling back to offset ${failed.firstOffset}`);
    // The failed offsets leave the log before any caller hears of the failure; the files follow.
    this.nextOffset = failed.firstOffset;
    this.writtenOffset = Math.min(this.writtenOffset, failed.firstOffset);
    this.gate = this.rollBack(failed.segment, failed.firstOffset)
      .catch((e: unknown) => {
        this.offline = storageFailure(`${this.name}: offline after a failed write and a failed rollback`, e);
        this.logLine(this.offline.message);
      })
      .finally(() => {
        this.gate = null;
      });
    for (const w of [...group, ...queued]) w.reject(error);
    this.wakeWriteWaiters(true);
  }

  /** Resolves when every write below `offset` is done or has failed. */
  private writesDone(offset: number): Promise<void> {
    if (offset <= this.writtenOffset || (!this.writing && this.pending.length === 0))
      return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.writeWaiters.push({ offset, resolve });
    });
  }

  private wakeWriteWaiters(all: boolean): void {
    // Waiters are added with growing offsets (the log end when they were added).
    let n = 0;
    while (n < this.writeWaiters.length && (all || this.writeWaiters[n]!.offset <= this.writtenOffset)) n++;
    for (const w of this.writeWaiters.splice(0, n)) w.resolve();
  }

  private async rollBack(segment: LogSegment, offset: number): Promise<void> {
    await this.removeSegmentsAfter(segment);
    await segment.truncateTo(offset);
    this.nextOffset = segment.nextOffset;
    this.writtenOffset = this.nextOffset;
    this.readHints.clear();
    this.recoveryPoint = Math.min(this.recoveryPoint, this.nextOffset);
    this.epochCache.truncateFromEnd(this.nextOffset);
    await this.epochCache.flush();
  }

  /** Deletes every segment after `segment` (their files, if any were created). */
  private async removeSegmentsAfter(segment: LogSegment): Promise<void> {
    const i = this.segments.indexOf(segment);
    const doomed = this.segments.splice(i + 1);
    for (const s of doomed) await s.delete();
  }

  // ------------------------------------------------------------------ flush

  /**
   * Makes every record below `upToOffset` durable: waits for their writes, fsyncs the segments
   * holding them and their indexes, and the folder when segments were created. Concurrent calls
   * share fsyncs (each waits for the one before it, which often covers it).
   */
  flush(upToOffset = this.nextOffset): Promise<void> {
    const run = this.flushChain.then(async () => {
      if (upToOffset <= this.recoveryPoint || this.offline !== null) return;
      await this.writesDone(this.nextOffset);
      // An fsync covers everything written so far, not just what this caller asked for: moving
      // the recovery point that far lets the appends written alongside skip their own fsync.
      const target = Math.min(Math.max(upToOffset, this.writtenOffset), this.nextOffset);
      if (target <= this.recoveryPoint) return;
      // Segments below the recovery point are synced already: start at the one holding it. The
      // active segment's indexes are not: recovery rescans the segment holding the recovery
      // point, and they are written at roll and close.
      // A segment file created since the folder was last synced needs the folder synced too,
      // after its creation (files are created on their first write), or a crash can lose it.
      let newFiles = false;
      try {
        for (let i = this.segmentIndexFor(this.recoveryPoint); i < this.segments.length; i++) {
          const s = this.segments[i]!;
          if (s.baseOffset >= target) break;
          if (s === this.activeSegment) await s.syncData();
          else await s.sync();
          if (!s.dirEntrySynced) newFiles = true;
        }
        if (newFiles) {
          await this.fs.syncDir(this.dir);
          for (const s of this.segments) if (s.baseOffset < target) s.dirEntrySynced = true;
        }
        await this.epochCache.flush();
      } catch (e) {
        // Kafka takes a log whose fsync failed offline: what the OS kept is unknown until recovery.
        this.offline = storageFailure(`${this.name}: fsync failed; the log is offline until reopened`, e);
        this.logLine(this.offline.message);
        throw this.offline;
      }
      this.recoveryPoint = Math.max(this.recoveryPoint, target);
      this.lastFlushMs = this.clock.nowMs();
    });
    this.flushChain = run.catch(() => undefined);
    return run;
  }

  /** Flushes when flush.ms has passed since the last flush (called by the log manager's scheduler). */
  async flushIfDue(): Promise<void> {
    if (
      this.nextOffset > this.recoveryPoint &&
      this.clock.nowMs() - this.lastFlushMs >= this.config.flushMs
    ) {
      await this.flush();
    }
  }

  // ------------------------------------------------------------------ read

  /**
   * Reads whole batches starting with the one that holds `offset`: at most `maxBytes`, except
   * that the first batch is returned whole even when larger (as Kafka does, so a consumer can
   * always make progress). Offsets below the log start or above the log end are out of range.
   */
  async read(offset: number, maxBytes: number, opts: ReadOptions = {}): Promise<ReadResult> {
    this.check();
    const result = (records: Buffer): ReadResult => ({
      records,
      logEndOffset: this.nextOffset,
      logStartOffset: this.logStartOffset,
    });
    if (offset < this.logStartOffset || offset > this.nextOffset) {
      throw offsetOutOfRange(
        `${this.name}: offset ${offset} is outside [${this.logStartOffset}, ${this.nextOffset}]`,
      );
    }
    const maxOffset = Math.min(opts.maxOffset ?? this.nextOffset, this.nextOffset);
    if (offset >= maxOffset) return result(EMPTY);
    let i = this.segmentIndexFor(offset);
    for (; i < this.segments.length; i++) {
      const segment = this.segments[i]!;
      if (segment.baseOffset >= maxOffset) break;
      const found = await this.readSegment(
        segment,
        Math.max(offset, segment.baseOffset),
        maxBytes,
        maxOffset,
      );
      if (found !== null) return result(found);
    }
    return result(EMPTY);
  }

  private noteReadEnd(nextOffset: number, segment: LogSegment, position: number): void {
    if (this.readHints.size >= MAX_READ_HINTS) {
      const oldest = this.readHints.keys().next().value as number;
      this.readHints.delete(oldest);
    }
    this.readHints.set(nextOffset, { segment, position });
  }

  /** Index of the last segment whose base offset is ≤ `offset`. */
  private segmentIndexFor(offset: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.segments[mid]!.baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** Batches from `segment` starting at the one holding `offset`; null when it has none at or after it. */
  private async readSegment(
    segment: LogSegment,
    offset: number,
    maxBytes: number,
    maxOffset: number,
  ): Promise<Buffer | null> {
    const hint = this.readHints.get(offset);
    const hinted = hint !== undefined && hint.segment === segment;
    let position = hinted ? hint.position : await segment.positionFor(offset);
    const end = segment.writtenBytes;
    // From an index entry the wanted batch may lie up to an index interval further on; from a
    // hint it starts exactly at `position`, so exactly maxBytes is read.
    const slackBytes = hinted ? 0 : 2 * this.config.indexIntervalBytes + 64 * 1024;
    while (position < end) {
      // At least a batch header is read, so a first batch larger than maxBytes can be sized.
      const chunk = await segment.readAt(
        position,
        Math.min(end - position, Math.max(maxBytes, MIN_READ_BYTES) + slackBytes),
      );
      let pos = 0;
      let start = -1;
      let stop = -1;
      let lastStart = -1;
      // Enough of a header to know the batch's size and offsets (the data was validated on append).
      while (pos + HEADER_PEEK_BYTES <= chunk.length) {
        const size = batchSizeAt(chunk, pos);
        if (size < BATCH_HEADER_BYTES) {
          throw new StorageError(
            ErrorCode.KAFKA_STORAGE_ERROR,
            `${this.name}: segment ${segment.baseOffset} holds a damaged batch length at position ${position + pos}`,
          );
        }
        const base = readInt64Number(chunk, pos + BatchField.baseOffset);
        const last = base + chunk.readInt32BE(pos + BatchField.lastOffsetDelta);
        if (start < 0) {
          if (last < offset) {
            pos += size;
            continue;
          }
          if (last >= maxOffset) return null;
          start = pos;
          if (pos + size > chunk.length) {
            // The first batch goes out whole even beyond maxBytes or this chunk: read it alone.
            const whole = await segment.readAt(position + pos, size);
            if (whole.length === size) this.noteReadEnd(last + 1, segment, position + pos + size);
            return whole;
          }
          stop = pos + size;
          lastStart = pos;
          pos += size;
          continue;
        }
        if (last >= maxOffset || pos + size - start > maxBytes || pos + size > chunk.length) break;
        stop = pos + size;
        lastStart = pos;
        pos += size;
      }
      if (start >= 0) {
        const lastOffset =
          readInt64Number(chunk, lastStart) + chunk.readInt32BE(lastStart + BatchField.lastOffsetDelta);
        this.noteReadEnd(lastOffset + 1, segment, position + stop);
        return chunk.subarray(start, stop);
      }
      if (pos === 0) return null;
      position += pos;
    }
    return null;
  }

  // ------------------------------------------------------------------ lookups

  /**
   * The first offset whose record has a timestamp ≥ `timestampMs`, with that batch's max
   * timestamp, or null when every record is older. Batch granularity: the offset is the base
   * offset of the first batch whose max timestamp reaches the target (records inside a batch are
   * found by the caller, who decodes it, when exactness matters).
   */
  async offsetForTimestamp(timestampMs: number): Promise<{ offset: number; timestampMs: number } | null> {
    this.check();
    for (const segment of this.segments) {
      await segment.indexes();
      if (segment.nextOffset <= this.logStartOffset && segment !== this.activeSegment) continue;
      if (segment.maxTimestampMs < timestampMs) continue;
      const from = Math.max(await segment.offsetForTimeLookup(timestampMs), this.logStartOffset);
      let found: { offset: number; timestampMs: number } | null = null;
      await segment.scan(await segment.positionFor(from), segment.writtenBytes, (b) => {
        if (b.lastOffset < this.logStartOffset || b.maxTimestampMs < timestampMs) return true;
        found = { offset: Math.max(b.baseOffset, this.logStartOffset), timestampMs: b.maxTimestampMs };
        return false;
      });
      if (found !== null) return found;
    }
    return null;
  }

  /** The largest timestamp in the log and the offset of the batch holding it (ListOffsets -3). */
  async maxTimestamp(): Promise<{ offset: number; timestampMs: number } | null> {
    this.check();
    let best: { offset: number; timestampMs: number } | null = null;
    for (const segment of this.segments) {
      await segment.indexes();
      if (segment.maxTimestampMs >= 0 && (best === null || segment.maxTimestampMs > best.timestampMs)) {
        best = { offset: segment.offsetOfMaxTimestamp, timestampMs: segment.maxTimestampMs };
      }
    }
    return best;
  }

  /** OffsetForLeaderEpoch: the end offset of `epoch` in this log. */
  endOffsetForEpoch(epoch: number): EpochEndOffset {
    return this.epochCache.endOffsetFor(epoch, this.nextOffset);
  }

  // ------------------------------------------------------------------ moving the ends

  /** Runs `work` with appends, truncations and other exclusive work held back (writes drained first). */
  async runExclusive<T>(work: () => Promise<T>): Promise<T> {
    while (this.gate !== null) await this.gate;
    this.check();
    let release!: () => void;
    this.gate = new Promise<void>((r) => (release = r));
    try {
      await this.writesDone(this.nextOffset);
      return await work();
    } finally {
      this.gate = null;
      release();
    }
  }

  /** DeleteRecords: moves the log start up to `offset` and removes segments wholly below it. */
  async deleteRecordsBefore(offset: number): Promise<number> {
    return this.runExclusive(async () => {
      if (offset > this.nextOffset) {
        throw offsetOutOfRange(
          `${this.name}: cannot delete records before ${offset}, past the log end ${this.nextOffset}`,
        );
      }
      if (offset <= this.logStartOffset) return this.logStartOffset;
      this.logStartOffset = offset;
      await this.removeSegmentsBelowStart();
      if (this.epochCache.truncateFromStart(offset)) await this.epochCache.flush();
      return this.logStartOffset;
    });
  }

  /** Deletes non-active segments entirely below the log start offset. */
  private async removeSegmentsBelowStart(): Promise<void> {
    while (this.segments.length > 1) {
      const next = this.segments[1]!;
      if (next.baseOffset > this.logStartOffset) break;
      const doomed = this.segments.shift()!;
      await doomed.delete();
    }
  }

  /**
   * Deletes the oldest segments for which `shouldDelete` holds, in order, stopping at the first
   * that does not and never touching the active segment (retention). Returns how many went.
   */
  async deleteOldSegments(
    shouldDelete: (segment: LogSegment, sizeAfterBytes: number) => boolean,
  ): Promise<number> {
    return this.runExclusive(async () => {
      let deleted = 0;
      let size = this.sizeBytes;
      while (this.segments.length > 1) {
        const oldest = this.segments[0]!;
        await oldest.indexes();
        if (!shouldDelete(oldest, size - oldest.sizeBytes)) break;
        size -= oldest.sizeBytes;
        this.segments.shift();
        await oldest.delete();
        deleted++;
        this.logStartOffset = Math.max(this.logStartOffset, this.segments[0]!.baseOffset);
      }
      if (deleted > 0 && this.epochCache.truncateFromStart(this.logStartOffset))
        await this.epochCache.flush();
      return deleted;
    });
  }

  /** Removes every record at or after `offset` (a follower whose log diverged from its leader). */
  async truncateTo(offset: number): Promise<void> {
    return this.runExclusive(async () => {
      if (offset >= this.nextOffset) return;
      if (offset < this.logStartOffset) {
        await this.resetTo(offset);
        return;
      }
      const i = this.segmentIndexFor(offset);
      const segment = this.segments[i]!;
      await this.removeSegmentsAfter(segment);
      await segment.truncateTo(offset);
      this.nextOffset = segment.nextOffset;
      this.writtenOffset = this.nextOffset;
      this.readHints.clear();
      this.recoveryPoint = Math.min(this.recoveryPoint, this.nextOffset);
      if (this.epochCache.truncateFromEnd(this.nextOffset)) await this.epochCache.flush();
      this.logLine(`${this.name}: truncated to offset ${this.nextOffset}`);
    });
  }

  /** Deletes everything and starts an empty log at `offset` (a follower far behind its leader's log start). */
  async truncateFullyAndStartAt(offset: number): Promise<void> {
    return this.runExclusive(() => this.resetTo(offset));
  }

  private async resetTo(offset: number): Promise<void> {
    const old = this.segments;
    const fresh = new LogSegment(this.fs, this.dir, offset, this.config);
    fresh.resetIndexes();
    this.segments = [fresh];
    for (const s of old) await s.delete();
    await fresh.file();
    await fresh.persistIndexes();
    await this.fs.syncDir(this.dir);
    fresh.dirEntrySynced = true;
    this.nextOffset = offset;
    this.writtenOffset = offset;
    this.readHints.clear();
    this.logStartOffset = offset;
    this.recoveryPoint = offset;
    await this.epochCache.clearAndFlush();
    this.logLine(`${this.name}: emptied, starting again at offset ${offset}`);
  }

  // ------------------------------------------------------------------ close

  /** Waits for writes, flushes everything, and closes the files. */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.gate !== null) await this.gate;
    if (this.offline === null) {
      await this.flush();
      await this.activeSegment.persistIndexes();
    }
    this.closed = true;
    for (const s of this.segments) await s.close();
  }
}

const EMPTY = Buffer.alloc(0);
