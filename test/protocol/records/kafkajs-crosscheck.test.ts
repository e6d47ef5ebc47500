/**
 * Cross-check against kafkajs 2.x, a third-party implementation of the record batch format:
 * batches its RecordBatch encoder builds decode in Samsa to the same records, and batches
 * Samsa builds decode in kafkajs. kafkajs ships only gzip; snappy, lz4 and zstd are plugged
 * into its CompressionCodecs registry with small adapters over the native libraries, shaped
 * like the usual community codecs (kafkajs-snappy writes raw snappy and reads xerial too,
 * kafkajs-lz4 uses LZ4 frames, @kafkajs/zstd plain zstd frames).
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { compressFrameSync, decompressFrameSync } from 'lz4-napi';
import { compressSync as snappyCompressRaw, uncompressSync as snappyUncompress } from 'snappy';
import { compress as zstdCompress, decompress as zstdDecompress } from 'zstd-napi';
import { CompressionCodec } from '../../../src/protocol/compression/index.js';
import { DecodeError } from '../../../src/protocol/primitives/errors.js';
import {
  buildEndTxnMarkerBatch,
  decodeRecordBatch,
  encodeRecordBatch,
  type BatchRecord,
  type DecodedRecordBatch,
} from '../../../src/protocol/records/batch.js';
import {
  BatchView,
  setBaseOffset,
  setMaxTimestampAndLogAppendTime,
  validateBatch,
} from '../../../src/protocol/records/batch-view.js';
import { CODECS, MiB, sampleBatch, T0, show } from './helpers.js';

const require = createRequire(import.meta.url);

// Minimal shapes of the kafkajs internals used here.
interface KafkajsLong {
  toString(): string;
}
interface LongStatic {
  fromValue(v: string | number | bigint): KafkajsLong;
}
interface KafkajsEncoder {
  buffer: Buffer;
}
interface KafkajsCodec {
  compress(encoder: KafkajsEncoder): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}
interface KafkajsRecordInput {
  offsetDelta: number;
  timestampDelta: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | Buffer[]>;
}
interface KafkajsBatchInput {
  compression: number;
  firstOffset: KafkajsLong;
  firstTimestamp: number;
  maxTimestamp: number;
  partitionLeaderEpoch: number;
  lastOffsetDelta: number;
  transactional: boolean;
  producerId: KafkajsLong;
  producerEpoch: number;
  firstSequence: number;
  records: KafkajsEncoder[];
}
interface KafkajsDecodedRecord {
  key: Buffer | null;
  value: Buffer | null;
  timestamp: string;
  offset: string;
  headers: Record<string, Buffer | null | Array<Buffer | null>>;
  isControlRecord: boolean;
}
interface KafkajsDecodedBatch {
  firstOffset: string;
  firstTimestamp: string;
  maxTimestamp: string;
  partitionLeaderEpoch: number;
  inTransaction: boolean;
  isControlBatch: boolean;
  lastOffsetDelta: number;
  producerId: string;
  producerEpoch: number;
  firstSequence: number;
  timestampType: number;
  records: KafkajsDecodedRecord[];
}

const { CompressionCodecs, CompressionTypes } = require('kafkajs') as {
  CompressionCodecs: Record<number, () => KafkajsCodec>;
  CompressionTypes: Record<'None' | 'GZIP' | 'Snappy' | 'LZ4' | 'ZSTD', number>;
};
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as {
  RecordBatch: (input: KafkajsBatchInput) => Promise<KafkajsEncoder>;
};
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (
  input: KafkajsRecordInput,
) => KafkajsEncoder;
const decodeKafkajsBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (
  decoder: unknown,
) => Promise<KafkajsDecodedBatch>;
const Decoder = require('kafkajs/src/protocol/decoder') as new (buf: Buffer) => unknown;
const Long = require('kafkajs/src/utils/long') as LongStatic;
const kafkajsCrc32C = require('kafkajs/src/protocol/recordBatch/crc32C') as (buf: Buffer) => number;

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);

CompressionCodecs[CompressionTypes.Snappy] = () => ({
  compress: (encoder) => Promise.resolve(snappyCompressRaw(encoder.buffer)),
  decompress: (buffer) => {
    if (buffer.length < 16 || !buffer.subarray(0, 8).equals(XERIAL_MAGIC)) {
      return Promise.resolve(snappyUncompress(buffer) as Buffer);
    }
    const parts: Buffer[] = [];
    for (let pos = 16; pos < buffer.length;) {
      const size = buffer.readInt32BE(pos);
      parts.push(snappyUncompress(buffer.subarray(pos + 4, pos + 4 + size)) as Buffer);
      pos += 4 + size;
    }
    return Promise.resolve(Buffer.concat(parts));
  },
});
CompressionCodecs[CompressionTypes.LZ4] = () => ({
  compress: (encoder) => Promise.resolve(compressFrameSync(encoder.buffer)),
  decompress: (buffer) => Promise.resolve(decompressFrameSync(buffer)),
});
CompressionCodecs[CompressionTypes.ZSTD] = () => ({
  compress: (encoder) => Promise.resolve(zstdCompress(encoder.buffer)),
  decompress: (buffer) => Promise.resolve(zstdDecompress(buffer)),
});

/** kafkajs cannot encode a null header value (it measures it with Buffer.byteLength); keep them non-null. */
function kafkajsHeaders(record: BatchRecord): Record<string, Buffer | Buffer[]> {
  const out: Record<string, Buffer[]> = {};
  for (const h of record.headers) (out[h.key] ??= []).push(h.value ?? Buffer.alloc(0));
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.length === 1 ? v[0]! : v]));
}

function decodeOk(buf: Buffer): DecodedRecordBatch {
  const d = decodeRecordBatch(buf, { maxDecompressedBytes: MiB });
  assert.ok(!(d instanceof DecodeError), show(d));
  return d;
}

void test('kafkajs-built batches decode in Samsa to the same records, every codec', async () => {
  const source = sampleBatch(40).records;
  for (const codec of CODECS) {
    const encoder = await RecordBatch({
      compression: codec,
      firstOffset: Long.fromValue(1000),
      firstTimestamp: T0,
      maxTimestamp: T0 + 500,
      partitionLeaderEpoch: 9,
      lastOffsetDelta: source.length - 1,
      transactional: true,
      producerId: Long.fromValue(8_000_000_001),
      producerEpoch: 4,
      firstSequence: 77,
      records: source.map((r) =>
        Record({
          offsetDelta: r.offsetDelta,
          timestampDelta: r.timestampDelta,
          key: r.key,
          value: r.value,
          headers: kafkajsHeaders(r),
        }),
      ),
    });
    const buf = encoder.buffer;
    assert.equal(validateBatch(buf), null, `codec ${codec}: Samsa accepts kafkajs's CRC`);
    const d = decodeOk(buf);
    assert.equal(d.compression, codec);
    assert.equal(d.baseOffset, 1000n);
    assert.equal(d.partitionLeaderEpoch, 9);
    assert.equal(d.isTransactional, true);
    assert.equal(d.producerId, 8_000_000_001n);
    assert.equal(d.producerEpoch, 4);
    assert.equal(d.baseSequence, 77);
    assert.equal(d.baseTimestamp, T0);
    assert.equal(d.maxTimestamp, T0 + 500);
    assert.equal(d.records.length, source.length);
    d.records.forEach((r, i) => {
      const s = source[i]!;
      assert.equal(r.offsetDelta, s.offsetDelta);
      assert.equal(r.timestampDelta, s.timestampDelta);
      assert.deepEqual(r.key, s.key);
      assert.deepEqual(r.value, s.value);
      // kafkajs groups repeated header keys; compare as sorted key/value pairs.
      const pairs = (hs: ReadonlyArray<{ key: string; value: Buffer | null }>): string[] =>
        hs.map((h) => `${h.key}=${(h.value ?? Buffer.alloc(0)).toString('hex')}`).sort();
      assert.deepEqual(pairs(r.headers), pairs(s.headers), `codec ${codec} record ${i} headers`);
    });
  }
});

void test('Samsa-built batches decode in kafkajs, every codec, and kafkajs computes the same CRC', async () => {
  const batch = sampleBatch(40, {
    baseOffset: 5000n,
    partitionLeaderEpoch: 2,
    isTransactional: true,
    producerId: 31n,
    producerEpoch: 1,
    baseSequence: 0,
  });
  for (const codec of CODECS) {
    const buf = encodeRecordBatch(batch, { compression: codec });
    assert.equal(kafkajsCrc32C(buf.subarray(21)), new BatchView(buf).crc, `codec ${codec} CRC`);
    const k = await decodeKafkajsBatch(new Decoder(buf));
    assert.equal(k.firstOffset, '5000');
    assert.equal(k.partitionLeaderEpoch, 2);
    assert.equal(k.inTransaction, true);
    assert.equal(k.isControlBatch, false);
    assert.equal(k.producerId, '31');
    assert.equal(k.firstSequence, 0);
    assert.equal(k.lastOffsetDelta, 39);
    assert.equal(k.records.length, 40);
    k.records.forEach((r, i) => {
      const s = batch.records[i]!;
      assert.equal(r.offset, String(5000 + s.offsetDelta));
      assert.equal(r.timestamp, String(T0 + s.timestampDelta));
      assert.deepEqual(r.key, s.key);
      assert.deepEqual(r.value, s.value);
      const expected: Record<string, Array<Buffer | null>> = {};
      for (const h of s.headers) (expected[h.key] ??= []).push(h.value);
      const actual = Object.fromEntries(
        Object.entries(r.headers).map(([key, v]) => [key, Array.isArray(v) ? v : [v]]),
      );
      assert.deepEqual(actual, expected, `codec ${codec} record ${i} headers`);
    });
  }
});

void test('kafkajs reads Samsa control batches and LogAppendTime stamping', async () => {
  const marker = buildEndTxnMarkerBatch({
    producerId: 12n,
    producerEpoch: 3,
    coordinatorEpoch: 5,
    commit: true,
    timestamp: T0,
  });
  setBaseOffset(marker, 77);
  const k = await decodeKafkajsBatch(new Decoder(marker));
  assert.equal(k.isControlBatch, true);
  assert.equal(k.inTransaction, true);
  assert.equal(k.firstOffset, '77');
  assert.equal(k.records[0]!.isControlRecord, true);
  assert.deepEqual([...k.records[0]!.key!], [0, 0, 0, 1]);

  const buf = encodeRecordBatch(sampleBatch(3), { compression: CompressionCodec.Gzip });
  setMaxTimestampAndLogAppendTime(buf, T0 + 99_000);
  assert.equal(kafkajsCrc32C(buf.subarray(21)), new BatchView(buf).crc);
  const stamped = await decodeKafkajsBatch(new Decoder(buf));
  assert.equal(stamped.timestampType, 1);
  for (const r of stamped.records) assert.equal(r.timestamp, String(T0 + 99_000));
});
