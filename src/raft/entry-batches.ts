/**
 * Log entries as Kafka record batches: how they travel in Fetch responses (and how file-log.ts
 * stores them). Each run of consecutive entries of one epoch is one magic-v2 batch whose base
 * offset is the run's first offset and whose partitionLeaderEpoch is the epoch; each entry is a
 * record whose value is the entry's data (no key). KRaft frames its metadata log the same way.
 */
import { CompressionCodec } from '../protocol/compression/index.js';
import { decodeRecordBatch, encodeRecordBatch, newRecordBatch } from '../protocol/records/batch.js';
import { BatchSplitter } from '../protocol/records/batch-view.js';
import type { LogEntry } from './types.js';

/** Guard on a batch's records when decoding (entries are small metadata records). */
const MAX_DECODED_BATCH_BYTES = 64 * 1024 * 1024;

/** One epoch run of entries, encoded as one batch. */
export interface EntryRun {
  buf: Buffer;
  baseOffset: number;
  /** Offset after the run's last entry. */
  endOffset: number;
  epoch: number;
}

/** `entries` (contiguous offsets) as one encoded batch per run of one epoch. */
export function encodeEntryRuns(entries: readonly LogEntry[], timestampMs = 0): EntryRun[] {
  const runs: EntryRun[] = [];
  let start = 0;
  for (let i = 1; i <= entries.length; i++) {
    if (i < entries.length && entries[i]!.epoch === entries[start]!.epoch) continue;
    const first = entries[start]!;
    const records = [];
    for (let j = start; j < i; j++)
      records.push({ key: null, value: entries[j]!.data, timestamp: timestampMs });
    const batch = newRecordBatch(records, {
      baseOffset: BigInt(first.offset),
      partitionLeaderEpoch: first.epoch,
    });
    runs.push({
      buf: encodeRecordBatch(batch, { compression: CompressionCodec.None }),
      baseOffset: first.offset,
      endOffset: first.offset + (i - start),
      epoch: first.epoch,
    });
    start = i;
  }
  return runs;
}

/** The wire bytes of `entries` (contiguous offsets), one batch per epoch run; empty for none. */
export function encodeEntries(entries: readonly LogEntry[], timestampMs = 0): Buffer {
  const runs = encodeEntryRuns(entries, timestampMs);
  if (runs.length === 0) return Buffer.alloc(0);
  return runs.length === 1 ? runs[0]!.buf : Buffer.concat(runs.map((r) => r.buf));
}

/** The entries in `records` (whole batches), or an Error saying why they are unusable. */
export function decodeEntries(records: Buffer): LogEntry[] | Error {
  const out: LogEntry[] = [];
  const splitter = new BatchSplitter(records);
  while (splitter.next()) {
    const batch = decodeRecordBatch(splitter.batch(), { maxDecompressedBytes: MAX_DECODED_BATCH_BYTES });
    if (!('records' in batch)) return batch;
    const base = Number(batch.baseOffset);
    for (const r of batch.records) {
      out.push({
        offset: base + r.offsetDelta,
        epoch: batch.partitionLeaderEpoch,
        data: r.value ?? Buffer.alloc(0),
      });
    }
  }
  if (splitter.error !== null) return splitter.error;
  return out;
}
