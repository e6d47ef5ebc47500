/**
 * 3. Read throughput from the page cache: a ~256 MiB log (16 KiB batches, one segment, flushed
 *    once after it is built so no writeback runs during the reads) read from offset 0 to its
 *    end with `read(offset, 1 MiB)`, beside a raw sequential `fs.read` of its segment file in
 *    1 MiB chunks, each into a newly allocated buffer as a fetch response needs. Target: ≥ 2 GB/s.
 */
import * as fs from 'node:fs';
import { BatchField, readInt64Number } from '../../src/protocol/records/batch-view.js';
import { segmentPaths } from '../../src/storage/files.js';
import type { PartitionLog } from '../../src/storage/log.js';
import { batchSizeAt } from '../../src/storage/segment.js';
import {
  appendMany,
  batchPool,
  fsRead,
  interleave,
  KiB,
  logConfig,
  median,
  MiB,
  openLog,
  ratioText,
  spread,
  timed,
  verdict,
} from './support.js';

const LOG_BYTES = 256 * MiB;
const READ_BYTES = MiB;

/** Offset after the last batch of `records`. */
function nextOffsetAfter(records: Buffer): number {
  let pos = 0;
  let last = -1;
  while (pos < records.length) {
    last =
      readInt64Number(records, pos + BatchField.baseOffset) +
      records.readInt32BE(pos + BatchField.lastOffsetDelta);
    pos += batchSizeAt(records, pos);
  }
  return last + 1;
}

async function readAll(log: PartitionLog): Promise<number> {
  let offset = 0;
  let bytes = 0;
  const end = log.logEndOffset;
  while (offset < end) {
    const { records } = await log.read(offset, READ_BYTES);
    if (records.length === 0) throw new Error(`empty read at offset ${offset} of ${end}`);
    bytes += records.length;
    offset = nextOffsetAfter(records);
  }
  return bytes;
}

async function rawReadAll(path: string): Promise<number> {
  const fd = fs.openSync(path, 'r');
  try {
    let position = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(READ_BYTES);
      const n = await fsRead(fd, buf, 0, READ_BYTES, position);
      if (n === 0) return position;
      position += n;
    }
  } finally {
    fs.closeSync(fd);
  }
}

export async function benchRead(root: string): Promise<void> {
  const batchBytes = 16 * KiB;
  const { pool } = batchPool(batchBytes, 64);
  const dir = `${root}/read/bench-0`;
  fs.mkdirSync(`${root}/read`);
  const log = await openLog(dir, logConfig());
  const buildS = await timed(() => appendMany(log, pool, LOG_BYTES / batchBytes, 16));
  await log.flush();
  if (log.segments.length !== 1) throw new Error(`expected one segment, got ${log.segments.length}`);
  const segmentFile = segmentPaths(dir, 0).log;

  let logBytes = 0;
  let rawBytes = 0;
  const gbps = (bytes: number, s: number): number => bytes / 1e9 / s;
  const logRound = async (): Promise<number> => {
    const s = await timed(async () => (logBytes = await readAll(log)));
    return gbps(logBytes, s);
  };
  const rawRound = async (): Promise<number> => {
    const s = await timed(async () => (rawBytes = await rawReadAll(segmentFile)));
    return gbps(rawBytes, s);
  };
  const [logRates, rawRates] = (await interleave([logRound, rawRound], {
    warmup: 1,
    minRounds: 5,
    maxRounds: 20,
    maxMs: 4000,
  })) as [number[], number[]];
  await log.close();
  if (logBytes !== rawBytes) throw new Error(`log read ${logBytes} bytes, the file holds ${rawBytes}`);

  const l = median(logRates);
  const r = median(rawRates);
  console.log(
    `\n3. read, page cache (log built in ${buildS.toFixed(1)} s then flushed once), ${(logBytes / MiB).toFixed(0)} MiB in 16 KiB batches, read(offset, 1 MiB) from 0 to the end, ${logRates.length} interleaved passes (GB = 10^9 B)`,
  );
  console.log(
    `   baseline  raw fs.read of the .log, 1 MiB into a new buffer   ${r.toFixed(2)} GB/s ${spread(rawRates, 2)}`,
  );
  console.log(
    `   log       read(offset, 1 MiB)                                ${l.toFixed(2)} GB/s ${spread(logRates, 2)}   ${ratioText(logRates, rawRates)}  target >= 2 GB/s: ${verdict(l >= 2)}`,
  );
}
