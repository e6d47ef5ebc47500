/**
 * Opening a partition log from its folder, and recovering it after an unclean shutdown.
 *
 * - Leftovers of interrupted work are settled first: `.deleted` and `.cleaned` files are
 *   removed, `.swap` files (finished compaction output) replace the segments they cover.
 * - After a clean shutdown every segment is trusted; indexes load lazily, on first use, after
 *   a sanity check (a failed check rebuilds them from the log).
 * - After an unclean one, segments from the one holding the recovery point onward are scanned:
 *   every batch is validated (length, magic, CRC, offsets increasing), the indexes rebuilt, and
 *   the log cut at the first invalid byte; later segments are deleted. Everything recovered is
 *   fsynced. Recovery time grows with the unflushed tail, not with the log.
 * - Then the producer state is loaded from its newest snapshot, and the batches after it
 *   (at most the active segment: snapshots are taken at each roll and at close) replayed.
 *   After a recovery, the replay starts at or below the first rescanned segment, and rebuilds
 *   the aborted-transaction indexes (`.txnindex`) of the rescanned segments as it goes: an
 *   abort's entry needs the transactions open when it was written, which only the producer
 *   state knows.
 */
import type { Clock } from '../runtime/clock.js';
import type { FileSystem } from '../runtime/fs.js';
import { CheckpointError } from './checkpoint-file.js';
import {
  CLEANED_SUFFIX,
  DELETED_SUFFIX,
  INDEX_SUFFIX,
  LOG_SUFFIX,
  parseSegmentFile,
  SWAP_SUFFIX,
  TIME_INDEX_SUFFIX,
  TXN_INDEX_SUFFIX,
  type TopicPartition,
} from './files.js';
import { LeaderEpochCache } from './leader-epoch-cache.js';
import type { LogConfigValues } from './log-config.js';
import { PartitionLog } from './log.js';
import { LogSegment } from './segment.js';
import type { SyncWritePolicy } from './sync-writes.js';

export interface OpenLogOptions {
  fs: FileSystem;
  clock: Clock;
  dir: string;
  topicPartition: TopicPartition;
  config: LogConfigValues;
  /** Offset below which the log was fsynced (from the recovery-point checkpoint; 0 when unknown). */
  recoveryPoint: number;
  /** The log start offset from its checkpoint (0 when unknown). */
  logStartOffset: number;
  /** The folder's clean-shutdown marker was present. */
  cleanShutdown: boolean;
  log: (message: string) => void;
  /** When appends are written synchronously (default: the process-wide adaptive budget). */
  syncWrites?: SyncWritePolicy;
}

export async function openPartitionLog(o: OpenLogOptions): Promise<PartitionLog> {
  await o.fs.mkdir(o.dir);
  const name = `${o.topicPartition.topic}-${o.topicPartition.partition}`;
  await settleLeftovers(o, name);

  const names = await o.fs.readdir(o.dir);
  const bases = names
    .map((n) => parseSegmentFile(n, LOG_SUFFIX))
    .filter((b): b is number => b !== null)
    .sort((a, b) => a - b);
  const segments = bases.map((base) => new LogSegment(o.fs, o.dir, base, o.config));
  const stats = await Promise.all(segments.map((seg) => o.fs.stat(seg.paths.log)));
  segments.forEach((seg, i) => seg.setSize(stats[i]?.sizeBytes ?? 0));
  // Index files whose log is gone (a crash while deleting) are stray: remove them.
  const logBases = new Set(bases);
  for (const n of names) {
    const b =
      parseSegmentFile(n, INDEX_SUFFIX) ??
      parseSegmentFile(n, TIME_INDEX_SUFFIX) ??
      parseSegmentFile(n, TXN_INDEX_SUFFIX);
    if (b !== null && !logBases.has(b)) await o.fs.unlink(`${o.dir}/${n}`);
  }

  const epochCache = await LeaderEpochCache.load(o.fs, o.dir);
  if (epochCache instanceof CheckpointError) throw epochCache;

  const fresh = segments.length === 0;
  if (fresh) {
    const first = new LogSegment(o.fs, o.dir, o.logStartOffset, o.config);
    first.resetIndexes();
    first.txns.load([]);
    await first.file();
    await first.persistIndexes();
    await o.fs.syncDir(o.dir);
    first.dirEntrySynced = true;
    segments.push(first);
  }

  let recoveryPoint = o.recoveryPoint;
  /** Where recovery rescanned from (its aborted-transaction indexes to rebuild); -1 for none. */
  let rescannedFrom = -1;
  if (o.cleanShutdown || fresh) {
    const active = segments[segments.length - 1]!;
    const problem = await active.loadIndexes();
    if (problem !== null) {
      o.log(`${name}: rebuilding the indexes of segment ${active.baseOffset} (${problem})`);
      const scan = await active.rebuildIndexes();
      if (scan.error !== null) await cutAt(o, name, segments, active, scan.validBytes, String(scan.error));
    }
    recoveryPoint = active.nextOffset;
  } else {
    const recovered = await recover(o, name, segments, epochCache);
    recoveryPoint = recovered.recoveryPoint;
    rescannedFrom = recovered.rescannedFrom;
  }

  const active = segments[segments.length - 1]!;
  // segment.ms counts from the first append; a segment reopened with data counts from now.
  if (active.sizeBytes > 0) active.firstAppendMs = o.clock.nowMs();
  const logStartOffset = Math.max(o.logStartOffset, segments[0]!.baseOffset);
  const logEndOffset = active.nextOffset;
  if (epochCache.truncateFromEnd(logEndOffset) || epochCache.truncateFromStart(logStartOffset))
    await epochCache.flush();
  const log = new PartitionLog(
    {
      fs: o.fs,
      clock: o.clock,
      dir: o.dir,
      topicPartition: o.topicPartition,
      config: o.config,
      epochCache,
      log: o.log,
      ...(o.syncWrites !== undefined && { syncWrites: o.syncWrites }),
    },
    segments,
    Math.min(logStartOffset, logEndOffset),
    recoveryPoint,
  );
  await log.loadProducerState(rescannedFrom);
  return log;
}

/**
 * Scans and validates every segment from the one holding the recovery point; returns the new
 * recovery point and the base offset of the first segment scanned.
 */
async function recover(
  o: OpenLogOptions,
  name: string,
  segments: LogSegment[],
  epochCache: LeaderEpochCache,
): Promise<{ recoveryPoint: number; rescannedFrom: number }> {
  let first = 0;
  for (let i = 0; i < segments.length; i++) if (segments[i]!.baseOffset <= o.recoveryPoint) first = i;
  const started = Date.now();
  let scannedBytes = 0;
  for (let i = first; i < segments.length; i++) {
    const segment = segments[i]!;
    segment.resetIndexes();
    // Rebuilt with the producer state, once the log is open (see loadProducerState).
    segment.txns.reset();
    const size = segment.sizeBytes;
    segment.sizeBytes = 0;
    const result = await segment.scan(0, size, (b) => {
      segment.noteBatch(b);
      if (b.partitionLeaderEpoch >= 0 && b.partitionLeaderEpoch >= (epochCache.latestEpoch() ?? -1)) {
        epochCache.assign(b.partitionLeaderEpoch, b.baseOffset);
      }
    });
    segment.sizeBytes = size;
    scannedBytes += result.validBytes;
    if (result.error !== null || result.validBytes < size) {
      await cutAt(o, name, segments, segment, result.validBytes, String(result.error ?? 'short file'));
      break;
    }
    // A segment that ends before the next one begins lost its tail (at a batch boundary, so no
    // scan can see it): the log ends here, or offsets would have a hole no reader expects.
    const next = segments[i + 1];
    if (next !== undefined && segment.nextOffset < next.baseOffset) {
      await cutAt(
        o,
        name,
        segments,
        segment,
        result.validBytes,
        `ends at offset ${segment.nextOffset} but the next segment starts at ${next.baseOffset}`,
      );
      break;
    }
  }
  // What was scanned is valid; make it durable before calling it recovered.
  for (let i = first; i < segments.length; i++) {
    const s = segments[i]!;
    s.writtenBytes = s.sizeBytes;
    s.syncedBytes = 0;
    await s.sync();
  }
  await epochCache.flush();
  const end = segments[segments.length - 1]!.nextOffset;
  o.log(
    `${name}: recovered after an unclean shutdown: scanned ${scannedBytes} bytes in ${segments.length - first} segment(s) from offset ${segments[first]!.baseOffset} in ${Date.now() - started} ms; log end offset ${end}`,
  );
  return { recoveryPoint: end, rescannedFrom: segments[first]!.baseOffset };
}

/** Truncates `segment` at `validBytes` and deletes every later segment. */
async function cutAt(
  o: OpenLogOptions,
  name: string,
  segments: LogSegment[],
  segment: LogSegment,
  validBytes: number,
  reason: string,
): Promise<void> {
  const lost = segment.sizeBytes - validBytes;
  const i = segments.indexOf(segment);
  const later = segments.splice(i + 1);
  let laterBytes = 0;
  for (const s of later) {
    laterBytes += s.sizeBytes;
    await s.delete();
  }
  await segment.truncateToPosition(validBytes);
  // Aborts whose markers were cut go with them (a no-op for an index being rebuilt).
  (await segment.txnIndex()).truncateTo(segment.nextOffset);
  o.log(
    `${name}: truncated ${lost} invalid bytes at position ${validBytes} of segment ${segment.baseOffset} (${reason})` +
      (later.length > 0 ? `, and removed ${later.length} later segment(s) of ${laterBytes} bytes` : ''),
  );
}

/** Removes files of interrupted deletes and compactions; completes swaps. */
async function settleLeftovers(o: OpenLogOptions, name: string): Promise<void> {
  const names = await o.fs.readdir(o.dir);
  for (const n of names) {
    if (n.endsWith(DELETED_SUFFIX) || n.endsWith(CLEANED_SUFFIX) || n.endsWith('.tmp')) {
      await o.fs.unlink(`${o.dir}/${n}`);
    }
  }
  // A .swap file holds compaction output that was complete when the process stopped: it takes
  // its final name, replacing the segment of the same name, and the later segments whose offsets
  // it covers are deleted. Its index files are rebuilt, never trusted: they may be the old ones.
  const swappedLogs: number[] = [];
  for (const n of names.filter((x) => x.endsWith(SWAP_SUFFIX)).sort()) {
    const target = n.slice(0, -SWAP_SUFFIX.length);
    await o.fs.rename(`${o.dir}/${n}`, `${o.dir}/${target}`);
    const base = parseSegmentFile(target, LOG_SUFFIX);
    if (base !== null) swappedLogs.push(base);
  }
  if (swappedLogs.length === 0) return;
  const all = (await o.fs.readdir(o.dir))
    .map((x) => parseSegmentFile(x, LOG_SUFFIX))
    .filter((b): b is number => b !== null)
    .sort((a, b) => a - b);
  for (const base of swappedLogs) {
    const swapped = new LogSegment(o.fs, o.dir, base, o.config);
    swapped.setSize((await o.fs.stat(swapped.paths.log))?.sizeBytes ?? 0);
    await o.fs.unlink(swapped.paths.index);
    await o.fs.unlink(swapped.paths.timeIndex);
    await swapped.rebuildIndexes();
    await swapped.persistIndexes();
    await swapped.close();
    for (const other of all) {
      if (other > base && other < swapped.nextOffset) {
        await new LogSegment(o.fs, o.dir, other, o.config).delete();
      }
    }
    o.log(`${name}: completed an interrupted compaction swap of segment ${base}`);
  }
  await o.fs.syncDir(o.dir);
}
