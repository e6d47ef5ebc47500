/**
 * Kafka's on-disk names: a folder per partition (`<topic>-<partition>`), segment files named by
 * their base offset in 20 digits (`00000000000000000000.log`, `.index`, `.timeindex`, and
 * `.txnindex` for a segment holding transaction aborts).
 */

export const LOG_SUFFIX = '.log';
export const INDEX_SUFFIX = '.index';
export const TIME_INDEX_SUFFIX = '.timeindex';
/** The aborted-transaction index (see txn-index.ts). */
export const TXN_INDEX_SUFFIX = '.txnindex';
/** Files being removed: renamed first, so a crash never leaves half a segment under its real name. */
export const DELETED_SUFFIX = '.deleted';
/** Compaction output being written. */
export const CLEANED_SUFFIX = '.cleaned';
/** Compaction output complete, about to replace the segments it covers. */
export const SWAP_SUFFIX = '.swap';
/** In each log folder: present only after a clean shutdown. */
export const CLEAN_SHUTDOWN_FILE = '.kafka_cleanshutdown';

export function offsetFileName(offset: number): string {
  return String(offset).padStart(20, '0');
}

export function segmentPaths(
  dir: string,
  baseOffset: number,
): { log: string; index: string; timeIndex: string; txnIndex: string } {
  const base = `${dir}/${offsetFileName(baseOffset)}`;
  return {
    log: base + LOG_SUFFIX,
    index: base + INDEX_SUFFIX,
    timeIndex: base + TIME_INDEX_SUFFIX,
    txnIndex: base + TXN_INDEX_SUFFIX,
  };
}

/** The base offset named by a segment file (`00000000000000000042.log` → 42), or null. */
export function parseSegmentFile(name: string, suffix: string): number | null {
  if (!name.endsWith(suffix)) return null;
  const digits = name.slice(0, -suffix.length);
  if (!/^\d{20}$/.test(digits)) return null;
  const n = Number(digits);
  return Number.isSafeInteger(n) ? n : null;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** `my-topic-3` → { topic: 'my-topic', partition: 3 }; null when the name is not a partition folder. */
export function parsePartitionDir(name: string): TopicPartition | null {
  const m = /^(.+)-(\d+)$/.exec(name);
  if (m === null) return null;
  const partition = Number(m[2]);
  if (!Number.isSafeInteger(partition) || partition > 0x7fffffff) return null;
  return { topic: m[1]!, partition };
}

export function partitionDirName(tp: TopicPartition): string {
  return `${tp.topic}-${tp.partition}`;
}
