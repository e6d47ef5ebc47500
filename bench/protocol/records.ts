/**
 * Record-batch benchmarks: CRC32C throughput on 1 MiB beside a Buffer.copy of the same 1 MiB
 * (the floor for touching every byte once), and the time to build and checksum a 64-record
 * batch (10-byte keys, 100-byte values; target: 20 µs or less), with decode and validation
 * of that batch for scale. Every loop is bounded in rounds and in time.
 */
import { pathToFileURL } from 'node:url';
import { CompressionCodec } from '../../src/protocol/compression/index.js';
import {
  decodeRecordBatch,
  encodeRecordBatch,
  newRecordBatch,
  type ProducerRecord,
} from '../../src/protocol/records/batch.js';
import { validateBatch } from '../../src/protocol/records/batch-view.js';
import { crc32c } from '../../src/protocol/records/crc32c.js';
import { compare, report } from '../support.js';

const MiB = 1024 * 1024;
const RECORDS = 64;

function producerRecords(): ProducerRecord[] {
  const now = Date.now();
  return Array.from({ length: RECORDS }, (_, i) => ({
    key: Buffer.from(`key-${String(i).padStart(6, '0')}`), // 10 bytes
    value: Buffer.alloc(100, i),
    timestamp: now + i,
  }));
}

/** Median microseconds per call of `fn`, over at most `maxRounds` rounds or `maxMs`. */
function medianUs(fn: () => unknown, callsPerRound: number, maxRounds = 40, maxMs = 600): number {
  for (let i = 0; i < 3; i++) for (let j = 0; j < callsPerRound; j++) fn();
  const rounds: number[] = [];
  const deadline = Date.now() + maxMs;
  while (rounds.length < maxRounds && (rounds.length < 5 || Date.now() < deadline)) {
    const start = process.hrtime.bigint();
    for (let j = 0; j < callsPerRound; j++) fn();
    rounds.push(Number(process.hrtime.bigint() - start) / callsPerRound / 1000);
  }
  rounds.sort((a, b) => a - b);
  return rounds[Math.floor(rounds.length / 2)]!;
}

export function benchRecords(): Promise<void> {
  const data = Buffer.alloc(MiB);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  const copyTarget = Buffer.allocUnsafe(MiB);
  let sink = 0;
  const crc = compare(
    () => (sink ^= crc32c(data)),
    () => data.copy(copyTarget),
    { callsPerRound: 20, maxRounds: 30, maxMs: 1000 },
  );
  report('CRC32C of 1 MiB', MiB, crc, 'Buffer.copy');

  const records = producerRecords();
  const build = (): Buffer =>
    encodeRecordBatch(newRecordBatch(records), { compression: CompressionCodec.None });
  const batch = build();
  const buildUs = medianUs(build, 200);
  const validateUs = medianUs(() => validateBatch(batch), 500);
  const decodeUs = medianUs(() => decodeRecordBatch(batch, { maxDecompressedBytes: MiB }), 200);
  console.log(
    `record batch, ${RECORDS} records (10 B keys, 100 B values, ${batch.length} B):  ` +
      `build+checksum ${buildUs.toFixed(1)} µs (target <= 20)   validate ${validateUs.toFixed(2)} µs   decode ${decodeUs.toFixed(1)} µs`,
  );
  for (const codec of [
    CompressionCodec.Gzip,
    CompressionCodec.Snappy,
    CompressionCodec.Lz4,
    CompressionCodec.Zstd,
  ]) {
    const compressed = (): Buffer => encodeRecordBatch(newRecordBatch(records), { compression: codec });
    const bytes = compressed().length;
    const us = medianUs(compressed, 50, 20, 300);
    console.log(`  same batch, codec ${codec}: build+compress+checksum ${us.toFixed(1)} µs (${bytes} B)`);
  }
  if (sink === 0.5) console.log(''); // keeps the CRC results observably used
  return Promise.resolve();
}

// Runnable on its own: node --import tsx bench/protocol/records.ts
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchRecords();
}
