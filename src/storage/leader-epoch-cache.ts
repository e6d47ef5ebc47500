/**
 * The leader-epoch cache of one partition, after Kafka's LeaderEpochFileCache: for each leader
 * epoch that wrote to this log, the offset of its first record, persisted in
 * `<partitionDir>/leader-epoch-checkpoint` (lines `epoch startOffset`). Replication uses it to
 * answer OffsetForLeaderEpoch and to find where a returning replica's log diverged.
 *
 * Invariant: entries are ordered with strictly increasing epochs AND strictly increasing start
 * offsets; `assign` removes whatever would break that.
 *
 * Persistence is explicit. Every mutation (`assign`, `truncateFromEnd`, `truncateFromStart`)
 * changes memory synchronously, returns whether anything changed and marks the cache dirty;
 * nothing reaches the disk until the caller awaits `flush()`. `clearAndFlush()` is the one
 * mutation that flushes by itself. Kafka writes the checkpoint synchronously after `assign` (so the
 * file never lacks an epoch that the log holds) and in the background after truncations (the log
 * repeats them on recovery); callers get the same guarantees by awaiting `flush()` after `assign`
 * before the append is acknowledged, and may flush lazily after truncations.
 *
 * Flushes are serialised: a flush waits for the one in flight, then writes the state as it is
 * at that moment, so when `flush()` resolves, every mutation made before the call is on disk.
 * A failed write leaves the cache dirty and rejects; the next flush tries again.
 *
 * Offsets are JavaScript numbers (safe integers, below 2^53 — see checkpoint-file.ts); epochs
 * are INT32 values.
 */
import type { FileSystem } from '../runtime/fs.js';
import {
  CheckpointError,
  INT32_MAX,
  LEADER_EPOCH_CHECKPOINT_FILE,
  parseNonNegativeInteger,
  readCheckpoint,
  writeCheckpoint,
} from './checkpoint-file.js';

/** OffsetForLeaderEpoch's "no epoch" (Kafka's OffsetsForLeaderEpochResponse.UNDEFINED_EPOCH). */
export const UNDEFINED_EPOCH = -1;
/** OffsetForLeaderEpoch's "no offset" (Kafka's OffsetsForLeaderEpochResponse.UNDEFINED_EPOCH_OFFSET). */
export const UNDEFINED_EPOCH_OFFSET = -1;

export interface EpochEntry {
  readonly epoch: number;
  /** Offset of the first record written in this epoch. */
  readonly startOffset: number;
}

/** The answer to OffsetForLeaderEpoch for one partition. */
export interface EpochEndOffset {
  readonly epoch: number;
  readonly endOffset: number;
}

function parseEpochEntry(fields: string[]): EpochEntry | null {
  if (fields.length !== 2) return null;
  const epoch = parseNonNegativeInteger(fields[0]!, INT32_MAX);
  const startOffset = parseNonNegativeInteger(fields[1]!);
  if (epoch === null || startOffset === null) return null;
  return { epoch, startOffset };
}

export class LeaderEpochCache {
  /** The checkpoint file: `<partitionDir>/leader-epoch-checkpoint`. */
  readonly path: string;
  private readonly fs: FileSystem;
  private epochs: EpochEntry[];
  private dirty: boolean;
  /** The last flush queued; every new flush runs after it settles. */
  private flushTail: Promise<void> = Promise.resolve();

  private constructor(fs: FileSystem, path: string, epochs: EpochEntry[], dirty: boolean) {
    this.fs = fs;
    this.path = path;
    this.epochs = epochs;
    this.dirty = dirty;
  }

  /**
   * Loads the cache of the partition in `dir`. A missing checkpoint is an empty cache; a
   * malformed one is returned as a CheckpointError. Entries are replayed through the `assign`
   * rules, as Kafka does, so a file that breaks the ordering invariant loads as the cache
   * `assign` would have built (and is then marked dirty, so the next flush rewrites it).
   */
  static async load(fs: FileSystem, dir: string): Promise<LeaderEpochCache | CheckpointError> {
    const path = `${dir}/${LEADER_EPOCH_CHECKPOINT_FILE}`;
    const read = await readCheckpoint(fs, path, parseEpochEntry);
    if (read instanceof CheckpointError) return read;
    const cache = new LeaderEpochCache(fs, path, [], false);
    for (const e of read) cache.assign(e.epoch, e.startOffset);
    const same =
      cache.epochs.length === read.length &&
      cache.epochs.every((e, i) => e.epoch === read[i]!.epoch && e.startOffset === read[i]!.startOffset);
    cache.dirty = !same;
    return cache;
  }

  /**
   * Records that `epoch` starts at `startOffset`, with Kafka's rules:
   * - the same epoch as the latest entry at an equal or later offset changes nothing (an
   *   epoch's start offset is never moved forward);
   * - otherwise, entries are removed from the end while their epoch is ≥ `epoch` or their start
   *   offset is ≥ `startOffset`, and the new entry is appended. So the same epoch at an earlier
   *   offset replaces the entry, and an epoch lower than the latest truncates the later epochs
   *   (Kafka's "non-monotonic entries" truncation) rather than being ignored.
   * Returns whether the cache changed. Throws a RangeError for a negative or non-integer epoch
   * or offset (Kafka's IllegalArgumentException): callers pass only epochs of real batches.
   */
  assign(epoch: number, startOffset: number): boolean {
    if (!Number.isInteger(epoch) || epoch < 0 || epoch > INT32_MAX) {
      throw new RangeError(`invalid leader epoch ${epoch} for ${this.path}`);
    }
    if (!Number.isSafeInteger(startOffset) || startOffset < 0) {
      throw new RangeError(`invalid start offset ${startOffset} for epoch ${epoch} in ${this.path}`);
    }
    const latest = this.latestEntry();
    if (latest !== undefined && latest.epoch === epoch && startOffset >= latest.startOffset) return false;
    let keep = this.epochs.length;
    while (keep > 0) {
      const e = this.epochs[keep - 1]!;
      if (e.epoch < epoch && e.startOffset < startOffset) break;
      keep--;
    }
    this.epochs.length = keep;
    this.epochs.push({ epoch, startOffset });
    this.dirty = true;
    return true;
  }

  /** The latest epoch that wrote to this log, or undefined when the cache is empty. */
  latestEpoch(): number | undefined {
    return this.latestEntry()?.epoch;
  }

  latestEntry(): EpochEntry | undefined {
    return this.epochs[this.epochs.length - 1];
  }

  earliestEntry(): EpochEntry | undefined {
    return this.epochs[0];
  }

  /** A copy of the entries, oldest first. */
  entries(): EpochEntry[] {
    return [...this.epochs];
  }

  get isEmpty(): boolean {
    return this.epochs.length === 0;
  }

  /** Whether memory holds changes that `flush()` has not yet written. */
  get needsFlush(): boolean {
    return this.dirty;
  }

  /**
   * The epoch that wrote `offset`: that of the last entry starting at or before it (for an offset
   * past the end, the latest epoch); undefined when the offset is before the first entry or the
   * cache is empty.
   */
  epochForOffset(offset: number): number | undefined {
    let found: number | undefined;
    for (const e of this.epochs) {
      if (e.startOffset > offset) break;
      found = e.epoch;
    }
    return found;
  }

  /**
   * OffsetForLeaderEpoch, exactly as Kafka's LeaderEpochFileCache.endOffsetFor:
   * - `requestedEpoch` is UNDEFINED_EPOCH → (UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET);
   * - `requestedEpoch` is the latest epoch → (it, `logEndOffset`): the current epoch ends at the log end;
   * - no cached epoch is greater than `requestedEpoch` (also: the cache is empty) →
   *   (UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET);
   * - no cached epoch is ≤ `requestedEpoch` (it is older than the first entry) →
   *   (`requestedEpoch` itself, start offset of the first entry): that history was deleted, and
   *   the follower should continue from where this log's known history starts;
   * - otherwise → (largest cached epoch ≤ `requestedEpoch`, start offset of the smallest cached
   *   epoch > `requestedEpoch`), covering both an exact match and a requested epoch that falls
   *   in a gap between cached epochs.
   */
  endOffsetFor(requestedEpoch: number, logEndOffset: number): EpochEndOffset {
    if (requestedEpoch === UNDEFINED_EPOCH)
      return { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    if (requestedEpoch === this.latestEpoch()) return { epoch: requestedEpoch, endOffset: logEndOffset };
    const higher = this.epochs.findIndex((e) => e.epoch > requestedEpoch);
    if (higher < 0) return { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    const endOffset = this.epochs[higher]!.startOffset;
    // Epochs are strictly increasing, so the entry before `higher` is the largest one ≤ requestedEpoch.
    const floor = higher > 0 ? this.epochs[higher - 1]! : undefined;
    return { epoch: floor === undefined ? requestedEpoch : floor.epoch, endOffset };
  }

  /**
   * Log truncation to `endOffset` (records at `endOffset` and later are gone): removes the
   * entries whose start offset is ≥ `endOffset`. A negative `endOffset` (UNDEFINED_EPOCH_OFFSET)
   * changes nothing. Returns whether the cache changed.
   */
  truncateFromEnd(endOffset: number): boolean {
    if (endOffset < 0) return false;
    let keep = this.epochs.length;
    while (keep > 0 && this.epochs[keep - 1]!.startOffset >= endOffset) keep--;
    if (keep === this.epochs.length) return false;
    this.epochs.length = keep;
    this.dirty = true;
    return true;
  }

  /**
   * The log now starts at `startOffset` (retention, DeleteRecords): entries starting at or before
   * it are removed, except that the last of them (the epoch that wrote `startOffset`) is kept
   * with its start moved to `startOffset`. Entries starting after it are untouched; an offset
   * before the first entry changes nothing. Returns whether the cache changed.
   */
  truncateFromStart(startOffset: number): boolean {
    let covering = -1;
    while (covering + 1 < this.epochs.length && this.epochs[covering + 1]!.startOffset <= startOffset)
      covering++;
    if (covering < 0) return false;
    const entry = this.epochs[covering]!;
    if (covering === 0 && entry.startOffset === startOffset) return false;
    this.epochs = [{ epoch: entry.epoch, startOffset }, ...this.epochs.slice(covering + 1)];
    this.dirty = true;
    return true;
  }

  /** Removes every entry and writes the empty checkpoint. */
  clearAndFlush(): Promise<void> {
    this.epochs = [];
    this.dirty = true;
    return this.flush();
  }

  /**
   * Writes the cache to its checkpoint file if it changed since the last successful write.
   * Resolves when every mutation made before this call is durable; rejects with the
   * FileSystem's error if the write fails (the cache stays dirty).
   */
  flush(): Promise<void> {
    const run = this.flushTail.then(() => this.writeIfDirty());
    // The next flush waits for this one whatever its outcome; its rejection goes to our caller.
    this.flushTail = run.catch(() => undefined);
    return run;
  }

  private async writeIfDirty(): Promise<void> {
    if (!this.dirty) return;
    const lines = this.epochs.map((e) => `${e.epoch} ${e.startOffset}`);
    this.dirty = false;
    try {
      await writeCheckpoint(this.fs, this.path, lines);
    } catch (e) {
      this.dirty = true;
      throw e;
    }
  }
}
