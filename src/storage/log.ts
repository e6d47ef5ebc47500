/**
 * The partition log: an ordered list of segments, appended at the end, read by offset.
 *
 * Appends are validated and given their offsets synchronously (so concurrent producers get
 * offsets in call order), then written in order. An append that finds no write in flight
 * writes at once: synchronously while that costs the event loop little (sync-writes.ts: a few
 * microseconds for 16 KiB on a warm page cache, where a thread-pool round trip costs tens), as
 * Kafka's request threads write to the page cache; otherwise asynchronously (its completion
 * is its acknowledgement: no queue, one promise step). The write pump gathers whatever queued
 * up while a write was in flight into one writev (group commit). An asynchronous direct write
 * checks its batches' CRCs while the file system writes them (the CRC is most of an append's
 * CPU); a bad batch is answered CORRUPT_MESSAGE only after its bytes are cut from the file
 * again, and they are past the log end in between, so no reader, flush or later append ever
 * sees them (a crash in between: recovery cuts them). With `flush.messages` reached (1 = fsync
 * every append), an append resolves only after an fsync that it shares with every append
 * written alongside it.
 *
 * Offsets are numbers: an offset grows by one per record, so 2^53 is out of reach (centuries
 * at a million records a second); an append that would pass it is refused.
 *
 * A failed write (EIO, ENOSPC, a torn write) fails that append and every append queued behind
 * it (none behind a synchronous one: appends made after it wait for the rollback and then go
 * on), then rolls the log back to the last byte known written. If the rollback fails too, the
 * log goes offline: every later call fails with KAFKA_STORAGE_ERROR until it is reopened,
 * and opening recovers it.
 */
import { ErrorCode } from '../protocol/error-codes.js';
import {
  BATCH_HEADER_BYTES,
  BatchField,
  BatchSplitter,
  checkBatchBody,
  readInt64Number,
  setMaxTimestampAndLogAppendTime,
  writeInt64Number,
} from '../protocol/records/batch-view.js';
import { UnsupportedMessageFormatError } from '../protocol/primitives/errors.js';
import { buildEndTxnMarkerBatch } from '../protocol/records/batch.js';
import type { Clock } from '../runtime/clock.js';
import type { FileHandle, FileSystem } from '../runtime/fs.js';
import { corruptRecord, offsetOutOfRange, StorageError, storageFailure } from './errors.js';
import { offsetFileName, type TopicPartition } from './files.js';
import type { EpochEndOffset, LeaderEpochCache } from './leader-epoch-cache.js';
import type { LogConfigValues } from './log-config.js';
import {
  parseSnapshotFile,
  ProducerStateManager,
  SNAPSHOT_SUFFIX,
  type AppendOrigin,
  type CompletedTxn,
} from './producer-state.js';
import { batchSizeAt, LogSegment } from './segment.js';
import { syncWriteBudget, type SyncWritePolicy } from './sync-writes.js';
import type { AbortedTransaction, TransactionIndex } from './txn-index.js';

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
  /** An idempotent producer's retry of batches already in the log: nothing was written. */
  duplicate?: true;
}

export interface ReadResult {
  /** Whole batches, as on the wire; empty when there is nothing to read. */
  records: Buffer;
  /** Offset after the last batch returned; the offset asked for when none is. */
  nextOffset: number;
  /** Log end offset and start offset when the read was made. */
  logEndOffset: number;
  logStartOffset: number;
}

export interface ReadOptions {
  /** Exclusive upper bound: only batches whose last offset is below it (high watermark / LSO). */
  maxOffset?: number;
}

/** A transaction marker to append (see PartitionLog.appendMarker). */
export interface MarkerSpec {
  producerId: bigint;
  producerEpoch: number;
  coordinatorEpoch: number;
  /** COMMIT (true) or ABORT (false). */
  commit: boolean;
}

/** No aborted transaction overlaps a read (shared: the common answer allocates nothing). */
const NO_ABORTED: readonly AbortedTransaction[] = Object.freeze([]);

export interface LogDeps {
  fs: FileSystem;
  clock: Clock;
  dir: string;
  topicPartition: TopicPartition;
  config: LogConfigValues;
  epochCache: LeaderEpochCache;
  log: (message: string) => void;
  /** When appends are written synchronously (default: the process-wide adaptive budget). */
  syncWrites?: SyncWritePolicy;
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

/** Appends check every batch's CRC32C (once: nothing later reads the records). */
const VERIFY_CRC = { verifyCrc: true } as const;
const FRAMES_ONLY = { verifyCrc: false } as const;

export class PartitionLog {
  readonly fs: FileSystem;
  readonly clock: Clock;
  readonly dir: string;
  readonly topicPartition: TopicPartition;
  readonly epochCache: LeaderEpochCache;
  /** Idempotent and transactional producers' state, open transactions included (see producer-state.ts). */
  readonly producerState: ProducerStateManager;
  config: LogConfigValues;
  private readonly logLine: (message: string) => void;
  private readonly syncWrites: SyncWritePolicy;

  /** Segments by base offset, ascending; the last is the active one. Never empty. */
  segments: LogSegment[];
  logStartOffset: number;
  /** Offsets below it are on disk and fsynced. */
  recoveryPoint: number;
  private nextOffset: number;
  private lastFlushMs: number;

  private readonly pending: PendingWrite[] = [];
  /** A write is in flight: an append's direct write, or a group of `pending` (see `write`). */
  private writing = false;
  /** Callers waiting until the writes below an offset are done (or failed), in offset order. */
  private readonly writeWaiters: { offset: number; resolve: () => void }[] = [];
  /** Offset after the last batch known written to its file (what an fsync now would make durable). */
  private writtenOffset: number;
  /** Where recent reads ended, so a consumer reading on starts without an index lookup (bounded). */
  private readonly readHints = new Map<number, { segment: LogSegment; position: number }>();
  /** Appends, truncations and flushes wait on this while the log is rolled back or truncated. */
  private gate: Promise<void> | null = null;
  private flushChain: Promise<void> = Promise.resolve();
  /** Producer-state snapshots being written in the background, in order. */
  private snapshotChain: Promise<void> = Promise.resolve();

  private offline: StorageError | null = null;
  private closed = false;
  /** Hash of the name, for the roll jitter (computed on first use). */
  private nameHash = -1;

  constructor(deps: LogDeps, segments: LogSegment[], logStartOffset: number, recoveryPoint: number) {
    this.fs = deps.fs;
    this.clock = deps.clock;
    this.dir = deps.dir;
    this.topicPartition = deps.topicPartition;
    this.config = deps.config;
    this.epochCache = deps.epochCache;
    this.logLine = deps.log;
    this.syncWrites = deps.syncWrites ?? syncWriteBudget;
    this.segments = segments;
    this.nextOffset = this.activeSegment.nextOffset;
    this.writtenOffset = this.nextOffset;
    this.logStartOffset = logStartOffset;
    this.recoveryPoint = Math.min(recoveryPoint, this.nextOffset);
    this.lastFlushMs = deps.clock.nowMs();
    this.producerState = new ProducerStateManager(this.name);
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
   * `origin` decides the producer-state checks (see AppendOrigin).
   *
   * Not an async function, on purpose: everything up to the file write is synchronous, and with
   * no write in flight the write is issued at once and its completion hands back the AppendInfo,
   * one promise step after the file system's (see `write`). Errors still come as rejections.
   */
  appendAsLeader(records: Buffer, leaderEpoch: number, origin: AppendOrigin = 'direct'): Promise<AppendInfo> {
    if (this.gate !== null) return this.afterGate(() => this.appendAsLeader(records, leaderEpoch, origin));
    try {
      this.check();
      const logAppendTime = this.config.messageTimestampType === 'LogAppendTime';
      // The CRC is checked during the write only for an asynchronous direct write. Stamping the
      // append time rewrites the CRC, so it must be checked first; a queued write is checked now
      // too, as a failure behind other writes could not be undone alone; and a synchronous
      // write leaves nothing to overlap with.
      const sync = this.mayWriteSync(this.activeSegment.openFile, records.length);
      let checkAfterWrite = !logAppendTime && !this.writing && this.pending.length === 0 && !sync;
      const span = this.checkBatches(records, !checkAfterWrite);
      const firstOffset = this.nextOffset;
      const endOffset = firstOffset + span;
      if (endOffset > Number.MAX_SAFE_INTEGER) {
        throw new StorageError(ErrorCode.INVALID_RECORD, `offsets of ${this.name} would pass 2^53`);
      }
      const producers = this.checkProducers(records, checkAfterWrite, origin);
      if (producers !== null) return producers;
      const nowMs = this.clock.nowMs();
      const segment = this.segmentFor(records.length, endOffset - 1, firstOffset, nowMs);
      if (checkAfterWrite && segment.openFile === null) {
        // A segment's file opens on its first write, which then cannot start at once.
        checkAfterWrite = false;
        this.checkBodies(records);
      }
      // Every batch of the append has the leader's epoch: the cache needs at most its first offset.
      const newEpoch =
        leaderEpoch >= 0 &&
        leaderEpoch >= (this.epochCache.latestEpoch() ?? -1) &&
        this.epochCache.assign(leaderEpoch, firstOffset);
      const position = segment.sizeBytes;
      let pos = 0;
      let offset = firstOffset;
      let batches = 0;
      // One pass over the (validated) headers: patch offsets and epoch, and index the batch.
      while (pos < records.length) {
        const sizeBytes = batchSizeAt(records, pos);
        const lastOffset = offset + records.readInt32BE(pos + BatchField.lastOffsetDelta);
        writeInt64Number(records, pos + BatchField.baseOffset, offset);
        if (leaderEpoch >= 0) records.writeInt32BE(leaderEpoch, pos + BatchField.partitionLeaderEpoch);
        let maxTimestampMs = nowMs;
        if (logAppendTime) setMaxTimestampAndLogAppendTime(records.subarray(pos, pos + sizeBytes), nowMs);
        else maxTimestampMs = readInt64Number(records, pos + BatchField.maxTimestamp);
        segment.noteAppended(position + pos, sizeBytes, offset, lastOffset, maxTimestampMs);
        offset = lastOffset + 1;
        pos += sizeBytes;
        batches++;
      }
      this.nextOffset = endOffset;
      const info: AppendInfo = {
        firstOffset,
        lastOffset: endOffset - 1,
        logAppendTimeMs: logAppendTime ? nowMs : -1,
        logStartOffset: this.logStartOffset,
        batches,
      };
      const written = this.write(
        segment,
        position,
        records,
        firstOffset,
        endOffset,
        newEpoch,
        info,
        sync ? 'sync' : checkAfterWrite ? 'checkDuring' : 'plain',
      );
      // A batch that failed its check during the write closed the gate (discardWrite): it is
      // not in the log, so the producer state must not see it.
      if (this.gate === null) {
        const completed = this.producerState.update(records);
        if (completed !== null) this.indexAborts(completed, segment);
      }
      return written;
    } catch (e) {
      return rejection(e);
    }
  }

  /**
   * The producer-state check of a leader's append: null to go on and append, or the answer
   * (a duplicate's offsets, once they are written). Batches whose CRC is not checked yet are
   * checked before anything but an append is answered, so a corrupt batch is CORRUPT_MESSAGE.
   */
  private checkProducers(
    records: Buffer,
    crcUnchecked: boolean,
    origin: AppendOrigin,
  ): Promise<AppendInfo> | null {
    let check;
    try {
      check = this.producerState.check(records, origin);
    } catch (e) {
      if (crcUnchecked) this.checkBodies(records);
      throw e;
    }
    if (check.kind === 'append') return null;
    if (crcUnchecked) this.checkBodies(records);
    const info: AppendInfo = {
      firstOffset: check.firstOffset,
      lastOffset: check.lastOffset,
      logAppendTimeMs: -1,
      logStartOffset: this.logStartOffset,
      batches: 0,
      duplicate: true,
    };
    // The original may still be on its way to the file: answer when it is there.
    return this.writesDone(check.lastOffset + 1).then(() => {
      info.logStartOffset = this.logStartOffset;
      return info;
    });
  }

  /**
   * Appends a transaction marker (COMMIT or ABORT) for a producer, as a coordinator's
   * WriteTxnMarkers does: a control batch stamped with the broker's time. Refused with
   * INVALID_PRODUCER_EPOCH when the producer has a newer epoch here (a zombie's transaction),
   * TRANSACTION_COORDINATOR_FENCED when a newer coordinator already wrote a marker for it. The
   * producer's open transaction ends at the marker (an ABORT gets its entry in the segment's
   * aborted-transaction index); the last stable offset passes it once the marker is below the
   * high watermark.
   */
  appendMarker(marker: MarkerSpec, leaderEpoch: number): Promise<AppendInfo> {
    return this.appendAsLeader(this.markerBatch(marker), leaderEpoch, 'coordinator');
  }

  /** The control batch of a transaction marker, stamped with the broker's time (appendMarker appends it). */
  markerBatch(marker: MarkerSpec): Buffer {
    return buildEndTxnMarkerBatch({ ...marker, timestamp: this.clock.nowMs() });
  }

  /** Appends batches replicated from a leader: offsets and epochs kept as they are. */
  appendAsFollower(records: Buffer): Promise<AppendInfo> {
    if (this.gate !== null) return this.afterGate(() => this.appendAsFollower(records));
    try {
      this.check();
      this.checkBatches(records, true);
      let expect = this.nextOffset;
      let batches = 0;
      for (let pos = 0; pos < records.length; pos += batchSizeAt(records, pos)) {
        const baseOffset = readInt64Number(records, pos + BatchField.baseOffset);
        if (baseOffset < expect) {
          throw new StorageError(
            ErrorCode.INVALID_RECORD,
            `${this.name}: replicated batch at offset ${baseOffset} is below the log end ${expect}`,
          );
        }
        expect = baseOffset + records.readInt32BE(pos + BatchField.lastOffsetDelta) + 1;
        batches++;
      }
      const firstOffset = readInt64Number(records, BatchField.baseOffset);
      const segment = this.segmentFor(records.length, expect - 1, firstOffset, this.clock.nowMs());
      const position = segment.sizeBytes;
      let newEpoch = false;
      for (let pos = 0; pos < records.length;) {
        const sizeBytes = batchSizeAt(records, pos);
        const baseOffset = readInt64Number(records, pos + BatchField.baseOffset);
        const epoch = records.readInt32BE(pos + BatchField.partitionLeaderEpoch);
        if (epoch >= 0 && epoch >= (this.epochCache.latestEpoch() ?? -1)) {
          newEpoch = this.epochCache.assign(epoch, baseOffset) || newEpoch;
        }
        segment.noteAppended(
          position + pos,
          sizeBytes,
          baseOffset,
          baseOffset + records.readInt32BE(pos + BatchField.lastOffsetDelta),
          readInt64Number(records, pos + BatchField.maxTimestamp),
        );
        pos += sizeBytes;
      }
      this.nextOffset = expect;
      const info: AppendInfo = {
        firstOffset,
        lastOffset: expect - 1,
        logAppendTimeMs: -1,
        logStartOffset: this.logStartOffset,
        batches,
      };
      const completed = this.producerState.update(records);
      if (completed !== null) this.indexAborts(completed, segment);
      const sync = this.mayWriteSync(segment.openFile, records.length);
      return this.write(
        segment,
        position,
        records,
        firstOffset,
        expect,
        newEpoch,
        info,
        sync ? 'sync' : 'plain',
      );
    } catch (e) {
      return rejection(e);
    }
  }

  /** Runs `then` (an append) once no exclusive work (truncation, rollback) holds the log. */
  private async afterGate<T>(then: () => Promise<T>): Promise<T> {
    while (this.gate !== null) await this.gate;
    return then();
  }

  /**
   * Validates every batch of an append (framing, magic, size limit, lastOffsetDelta, and with
   * `withBodies` the CRC and record count: see checkBodies) without decoding records or
   * allocating per batch. Returns how many offsets the batches span; throws the StorageError to
   * answer with.
   */
  private checkBatches(records: Buffer, withBodies: boolean): number {
    const splitter = new BatchSplitter(records, withBodies ? VERIFY_CRC : FRAMES_ONLY);
    let span = 0;
    let negativeDelta = false;
    while (splitter.next()) {
      if (splitter.sizeBytes > this.config.maxMessageBytes) {
        throw new StorageError(
          ErrorCode.MESSAGE_TOO_LARGE,
          `${this.name}: a record batch of ${splitter.sizeBytes} bytes exceeds max.message.bytes ${this.config.maxMessageBytes}`,
        );
      }
      const delta = records.readInt32BE(splitter.position + BatchField.lastOffsetDelta);
      if (delta < 0) negativeDelta = true;
      span += delta + 1;
    }
    if (splitter.error !== null) throw this.batchProblem(splitter.error);
    if (splitter.validBytes === 0) throw corruptRecord(`${this.name}: no record batches to append`);
    if (negativeDelta) throw corruptRecord(`${this.name}: negative lastOffsetDelta`);
    return span;
  }

  /** The CRC and record-count check of batches whose frames checkBatches accepted; throws as it does. */
  private checkBodies(records: Buffer): void {
    const problem = this.bodiesProblem(records);
    if (problem !== null) throw problem;
  }

  private bodiesProblem(records: Buffer): StorageError | null {
    for (let pos = 0; pos < records.length;) {
      const sizeBytes = batchSizeAt(records, pos);
      const e = checkBatchBody(records, pos, sizeBytes);
      if (e !== null) return this.batchProblem(e);
      pos += sizeBytes;
    }
    return null;
  }

  private batchProblem(e: Error): StorageError {
    const code =
      e instanceof UnsupportedMessageFormatError
        ? ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT
        : ErrorCode.CORRUPT_MESSAGE;
    return new StorageError(code, `${this.name}: ${e.message}`);
  }

  /**
   * Whether an append of `bytes` to `handle` is written synchronously: nothing may be in flight
   * or queued, the handle must be able to, and the policy must allow it (asked once per append:
   * it counts). See sync-writes.ts.
   */
  private mayWriteSync(handle: FileHandle | null, bytes: number): boolean {
    return (
      !this.writing &&
      this.pending.length === 0 &&
      handle !== null &&
      handle.writeSync !== undefined &&
      this.syncWrites.allows(bytes)
    );
  }

  /** The segment an append of `bytes` ending at `lastOffset` goes into, rolling first when needed. */
  private segmentFor(bytes: number, lastOffset: number, firstOffset: number, nowMs: number): LogSegment {
    let segment = this.activeSegment;
    if (this.shouldRoll(segment, bytes, lastOffset, nowMs)) segment = this.roll(firstOffset);
    segment.firstAppendMs ??= nowMs;
    return segment;
  }

  /**
   * Writes an append's bytes, placed at `position` of `segment` (offsets final, log end moved),
   * and resolves to `info` once the append may be acknowledged: written, and with flush.messages
   * reached, fsynced; with a new leader epoch, after the epoch checkpoint is.
   *
   * With no write in flight (always so with one append at a time) the file write starts here:
   * synchronously when the caller chose so (`how`: see mayWriteSync), done on return; otherwise
   * asynchronously, its completion resolving the append directly, and with `checkDuring` the
   * batches get their CRC check while it runs (see discardWrite). With a write in flight the
   * append queues for the write pump, which gathers what queued into one writev.
   */
  private write(
    segment: LogSegment,
    position: number,
    bytes: Buffer,
    firstOffset: number,
    endOffset: number,
    newEpoch: boolean,
    info: AppendInfo,
    how: 'sync' | 'checkDuring' | 'plain',
  ): Promise<AppendInfo> {
    const flushNeeded = endOffset - this.recoveryPoint >= this.config.flushMessages;
    const handle = segment.openFile;
    const direct = !this.writing && this.pending.length === 0 && handle !== null;
    let written: Promise<AppendInfo>;
    if (direct && how === 'sync' && handle.writeSync !== undefined) {
      try {
        const startMs = performance.now();
        const n = handle.writeSync([bytes], position);
        this.syncWrites.observe(bytes.length, (performance.now() - startMs) * 1e6);
        this.writeDone(segment, position + n, endOffset);
      } catch (e) {
        return rejection(this.failWrites(segment, firstOffset, e, []));
      }
      written = Promise.resolve(info);
    } else if (direct) {
      this.writing = true;
      let corrupt: StorageError | null = null;
      written = handle.writev([bytes], position).then(
        (n) => {
          if (corrupt !== null) throw corrupt;
          this.writeDone(segment, position + n, endOffset);
          info.logStartOffset = this.logStartOffset;
          return info;
        },
        (e: unknown) => {
          if (corrupt !== null) throw corrupt;
          throw this.failWrites(segment, firstOffset, e, []);
        },
      );
      if (how === 'checkDuring') {
        corrupt = this.bodiesProblem(bytes);
        if (corrupt !== null) {
          this.discardWrite(written, segment, firstOffset);
          return written;
        }
      }
    } else {
      written = new Promise<void>((resolve, reject) => {
        this.pending.push({ segment, position, bytes, firstOffset, endOffset, resolve, reject });
        this.pump();
      }).then(() => {
        info.logStartOffset = this.logStartOffset;
        return info;
      });
    }
    return newEpoch || flushNeeded ? this.settle(written, newEpoch, flushNeeded, endOffset) : written;
  }

  /** The rest of an append that must be durable before it is acknowledged. */
  private async settle(
    written: Promise<AppendInfo>,
    newEpoch: boolean,
    flushNeeded: boolean,
    endOffset: number,
  ): Promise<AppendInfo> {
    const info = await written;
    // A new leader epoch is durable before the append is acknowledged, as in Kafka.
    if (newEpoch) {
      await this.epochCache.flush().catch((e: unknown) => {
        throw storageFailure(`${this.name}: writing the leader-epoch checkpoint failed`, e);
      });
    }
    if (flushNeeded) await this.flush(endOffset);
    info.logStartOffset = this.logStartOffset;
    return info;
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
    if (this.nameHash < 0) {
      let h = 0;
      for (const c of this.name) h = (h * 31 + c.charCodeAt(0)) >>> 0;
      this.nameHash = h;
    }
    return this.nameHash % jitter;
  }

  /** Starts a new active segment at `baseOffset`; the old one is flushed in the background. */
  private roll(baseOffset: number): LogSegment {
    const old = this.activeSegment;
    const segment = new LogSegment(this.fs, this.dir, baseOffset, this.config);
    segment.resetIndexes();
    // A new segment has no aborted-transaction index file to read.
    segment.txns.load([]);
    this.segments.push(segment);
    // The producer state as of the new segment, so that recovery replays at most one segment.
    this.writeProducerSnapshot(baseOffset);

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
    const endOffset = group[n - 1]!.endOffset;
    first.segment
      .write(
        group.map((w) => w.bytes),
        first.position,
      )
      .then(
        (bytes) => {
          this.writeDone(first.segment, first.position + bytes, endOffset);
          for (const w of group) w.resolve();
        },
        (e: unknown) => {
          this.failWrites(first.segment, first.firstOffset, e, group);
        },
      );
  }

  /** A write ending at `endBytes` of `segment` and at `endOffset` of the log is done: the next may start. */
  private writeDone(segment: LogSegment, endBytes: number, endOffset: number): void {
    this.writing = false;
    segment.noteWritten(endBytes);
    if (endOffset > this.writtenOffset) this.writtenOffset = endOffset;
    if (this.writeWaiters.length > 0) this.wakeWriteWaiters(false);
    this.pump();
  }

  /**
   * The write at `firstOffset` of `segment` failed: fail it (`group`, or the caller of a direct
   * write, who gets the returned error) and everything queued behind it, then roll back to what
   * is written.
   */
  private failWrites(
    segment: LogSegment,
    firstOffset: number,
    cause: unknown,
    group: readonly PendingWrite[],
  ): StorageError {
    this.writing = false;
    const error = storageFailure(`${this.name}: write at offset ${firstOffset} failed`, cause);
    const queued = this.pending.splice(0, this.pending.length);
    this.logLine(`${error.message}; rolling back to offset ${firstOffset}`);
    // The failed offsets leave the log before any caller hears of the failure; the files follow.
    this.nextOffset = firstOffset;
    this.writtenOffset = Math.min(this.writtenOffset, firstOffset);
    this.gate = this.rollBack(segment, firstOffset)
      .catch((e: unknown) => {
        this.offline = storageFailure(`${this.name}: offline after a failed write and a failed rollback`, e);
        this.logLine(this.offline.message);
      })
      .finally(() => {
        this.gate = null;
      });
    for (const w of group) w.reject(error);
    for (const w of queued) w.reject(error);
    this.wakeWriteWaiters(true);
    return error;
  }

  /**
   * The direct write at `firstOffset` (the only one in flight, nothing queued) holds a batch that
   * failed its check. Its offsets leave the log at once, before anything else can run; once the
   * write settles its bytes are cut from the file, appends waiting meanwhile at the gate.
   */
  private discardWrite(written: Promise<unknown>, segment: LogSegment, firstOffset: number): void {
    this.nextOffset = firstOffset;
    this.gate = written
      .then(noop, noop)
      .then(() => {
        this.writing = false;
        return this.rollBack(segment, firstOffset, false);
      })
      .catch((e: unknown) => {
        this.offline = storageFailure(`${this.name}: offline after removing a corrupt batch failed`, e);
        this.logLine(this.offline.message);
      })
      .finally(() => {
        this.gate = null;
        this.wakeWriteWaiters(true);
      });
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

  /** Cuts the log back to `offset` after a failed write; `producersTouched`: the producer state saw what is cut. */
  private async rollBack(segment: LogSegment, offset: number, producersTouched = true): Promise<void> {
    await this.removeSegmentsAfter(segment);
    await segment.truncateTo(offset);
    this.nextOffset = segment.nextOffset;
    this.writtenOffset = this.nextOffset;
    this.readHints.clear();
    this.recoveryPoint = Math.min(this.recoveryPoint, this.nextOffset);
    this.epochCache.truncateFromEnd(this.nextOffset);
    await this.epochCache.flush();
    if (producersTouched) await this.loadProducerState();
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
        await this.snapshotChain;
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
    const result = (records: Buffer, nextOffset = offset): ReadResult => ({
      records,
      nextOffset,
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
      if (found !== null) return result(found.records, found.nextOffset);
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
  ): Promise<{ records: Buffer; nextOffset: number } | null> {
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
            return { records: whole, nextOffset: last + 1 };
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
        return { records: chunk.subarray(start, stop), nextOffset: lastOffset + 1 };
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
      await this.deleteSnapshotsBelowFirstSegment();
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
      if (deleted > 0) await this.deleteSnapshotsBelowFirstSegment();
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
      await this.loadProducerState();
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
    fresh.txns.load([]);
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
    await this.snapshotChain;
    await this.deleteProducerSnapshots(() => true);
    this.producerState.reset(offset);
    this.logLine(`${this.name}: emptied, starting again at offset ${offset}`);
  }

  // ------------------------------------------------------------------ transactions

  /** Adds the aborted ones of `completed` (ended by markers just placed in `segment`) to its index. */
  private indexAborts(completed: readonly CompletedTxn[], segment: LogSegment): void {
    for (const t of completed) {
      if (!t.isAborted) continue;
      segment.txns.append({
        producerId: t.producerId,
        firstOffset: t.firstOffset,
        lastOffset: t.lastOffset,
        lastStableOffset: t.lastStableOffset,
      });
    }
  }

  /** The high watermark reached `offset`: transactions whose marker is below it become stable. */
  onHighWatermark(offset: number): void {
    this.producerState.onHighWatermark(offset);
  }

  /**
   * The last stable offset under `highWatermark`: read_committed consumers read below it. It is
   * the first offset of the oldest transaction not yet stable (open, or its marker not yet below
   * the high watermark), never below the log start (retention may remove the start of an open
   * transaction, as in Kafka), and capped by the high watermark.
   */
  lastStableOffset(highWatermark: number): number {
    const first = this.producerState.firstUnstableOffset;
    if (first < 0) return highWatermark;
    return Math.min(Math.max(first, this.logStartOffset), highWatermark);
  }

  /**
   * The aborted transactions overlapping [startOffset, upperBoundOffset) — what a read_committed
   * fetch of that range lists — searching the indexes from the segment holding startOffset on,
   * until an entry shows no later one can overlap (Kafka's collectAbortedTransactions). Answers
   * synchronously when those segments' indexes are in memory, else null (call
   * collectAbortedTransactions). The answer with none is a shared empty array.
   */
  abortedTransactionsInMemory(
    startOffset: number,
    upperBoundOffset: number,
  ): readonly AbortedTransaction[] | null {
    let out: AbortedTransaction[] | null = null;
    for (let i = this.segmentIndexFor(startOffset); i < this.segments.length; i++) {
      const txns = this.segments[i]!.txns;
      if (!txns.loaded) return null;
      if (txns.count === 0) continue;
      out ??= [];
      if (txns.collect(startOffset, upperBoundOffset, out)) break;
    }
    return out === null || out.length === 0 ? NO_ABORTED : out;
  }

  /** abortedTransactionsInMemory, reading the indexes it needs first. */
  async collectAbortedTransactions(
    startOffset: number,
    upperBoundOffset: number,
  ): Promise<readonly AbortedTransaction[]> {
    // Segments may be replaced while indexes load (compaction): a few rounds find them all loaded.
    for (let round = 0; round < 4; round++) {
      this.check();
      const found = this.abortedTransactionsInMemory(startOffset, upperBoundOffset);
      if (found !== null) return found;
      const pending: Promise<TransactionIndex>[] = [];
      for (let i = this.segmentIndexFor(startOffset); i < this.segments.length; i++) {
        const index = this.segments[i]!.txnIndex();
        if (index instanceof Promise) pending.push(index);
      }
      await Promise.all(pending);
    }
    throw storageFailure(`${this.name}: the aborted-transaction indexes kept changing while loading`, null);
  }

  // ------------------------------------------------------------------ producer state

  /** Forgets idempotent producers idle for `expirationMs` (producer.id.expiration.ms). */
  removeExpiredProducers(expirationMs: number): number {
    return this.producerState.removeExpired(this.clock.nowMs(), expirationMs);
  }

  /**
   * Writes the producer state as of `offset` (the log end now) to `<offset>.snapshot`, in the
   * background and in order; a failure is logged (recovery then replays from an older one).
   */
  private writeProducerSnapshot(offset: number): void {
    const bytes = this.producerState.encodeSnapshot();
    const path = `${this.dir}/${offsetFileName(offset)}${SNAPSHOT_SUFFIX}`;
    this.snapshotChain = this.snapshotChain.then(() =>
      this.fs.writeFileAtomic(path, bytes).catch((e: unknown) => {
        this.logLine(`${this.name}: writing the producer snapshot ${path} failed: ${String(e)}`);
      }),
    );
  }

  /** Snapshot files by offset, ascending. */
  private async producerSnapshots(): Promise<number[]> {
    const names = await this.fs.readdir(this.dir);
    return names
      .map(parseSnapshotFile)
      .filter((o): o is number => o !== null)
      .sort((a, b) => a - b);
  }

  private async deleteProducerSnapshots(doomed: (offset: number) => boolean): Promise<void> {
    for (const offset of await this.producerSnapshots()) {
      if (doomed(offset)) await this.fs.unlink(`${this.dir}/${offsetFileName(offset)}${SNAPSHOT_SUFFIX}`);
    }
  }

  /** Snapshots of deleted segments go with them; the newest snapshot always stays. */
  private async deleteSnapshotsBelowFirstSegment(): Promise<void> {
    await this.snapshotChain;
    const offsets = await this.producerSnapshots();
    const newest = offsets[offsets.length - 1];
    const first = this.segments[0]!.baseOffset;
    await this.deleteProducerSnapshots((o) => o < first && o !== newest);
  }

  /**
   * Rebuilds the producer state for the log as it is (at open, and after a truncation): from the
   * newest usable snapshot at or below the log end (newer ones describe a cut tail and are
   * deleted, unusable ones are deleted too), then the batches after it, read from the log.
   *
   * With `rebuildTxnIndexFrom` (recovery rescanned the segments from that offset on and emptied
   * their aborted-transaction indexes), the replay starts at or below it, and the aborts it meets
   * from there on are indexed again, in the segments holding their markers, and written.
   */
  async loadProducerState(rebuildTxnIndexFrom = -1): Promise<void> {
    await this.snapshotChain;
    const end = this.nextOffset;
    const limit = rebuildTxnIndexFrom >= 0 ? Math.min(end, rebuildTxnIndexFrom) : end;
    const offsets = await this.producerSnapshots();
    let from = -1;
    for (let i = offsets.length - 1; i >= 0 && from < 0; i--) {
      const offset = offsets[i]!;
      const path = `${this.dir}/${offsetFileName(offset)}${SNAPSHOT_SUFFIX}`;
      // Past the rebuild point but within the log: fine, only not the one to start from.
      if (offset <= end && offset > limit) continue;
      if (offset <= end) {
        const bytes = await this.fs.readFile(path);
        const problem = bytes === null ? 'missing' : this.producerState.loadSnapshot(bytes, offset);
        if (problem === null) {
          from = offset;
          break;
        }
        this.logLine(`${this.name}: producer snapshot ${path} is unusable (${problem}); deleting it`);
      }
      await this.fs.unlink(path);
    }
    if (from < 0) {
      this.producerState.reset(this.logStartOffset);
      from = this.logStartOffset;
    }
    // Replay what the snapshot does not cover: the batches' headers are all that is read (and
    // the markers' one record).
    const REPLAY_READ_BYTES = 1 << 20;
    let offset = Math.max(from, this.logStartOffset);
    while (offset < end) {
      const { records } = await this.read(offset, REPLAY_READ_BYTES);
      if (records.length === 0) break;
      const completed = this.producerState.update(records);
      if (completed !== null && rebuildTxnIndexFrom >= 0) {
        // One read returns batches of one segment.
        const segment = this.segments[this.segmentIndexFor(completed[0]!.lastOffset)]!;
        const rebuilt = completed.filter((t) => t.lastOffset >= rebuildTxnIndexFrom);
        if (rebuilt.length > 0) this.indexAborts(rebuilt, segment);
      }
      if (this.producerState.mapEndOffset <= offset) break;
      offset = this.producerState.mapEndOffset;
    }
    this.producerState.mapEndOffset = end;
    if (rebuildTxnIndexFrom >= 0) {
      for (let i = this.segmentIndexFor(rebuildTxnIndexFrom); i < this.segments.length; i++) {
        await this.segments[i]!.persistIndexes();
      }
    }
  }

  // ------------------------------------------------------------------ close

  /** Waits for writes, flushes everything, and closes the files. */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.gate !== null) await this.gate;
    if (this.offline === null) {
      await this.flush();
      await this.activeSegment.persistIndexes();
      // Opening after a clean shutdown then replays nothing.
      this.writeProducerSnapshot(this.nextOffset);
      await this.snapshotChain;
    }
    this.closed = true;
    for (const s of this.segments) await s.close();
  }
}

const EMPTY = Buffer.alloc(0);

function noop(): void {}

/** What an async function would return for a thrown `e`: the non-async append paths use it. */
function rejection(e: unknown): Promise<never> {
  return Promise.reject(e instanceof Error ? e : new Error(String(e)));
}
