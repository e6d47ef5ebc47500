/**
 * Cross-check against @platformatic/kafka 1.x, whose record batch code and codecs (its own
 * WebAssembly snappy and lz4, node:zlib gzip and zstd) share nothing with Samsa's:
 * batches it creates decode in Samsa to the same records, and Samsa's decode in it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import zlib from 'node:zlib';
import {
  compressionsAlgorithms,
  createRecordsBatch,
  readRecordsBatch,
  Reader,
  type MessageRecord,
} from '@platformatic/kafka';
import { compress as zstdCompress, decompress as zstdDecompress } from 'zstd-napi';
import { CompressionCodec } from '../../../src/protocol/compression/index.js';
import { DecodeError } from '../../../src/protocol/primitives/errors.js';
import {
  decodeRecordBatch,
  encodeRecordBatch,
  type BatchRecord,
} from '../../../src/protocol/records/batch.js';
import { BatchView, validateBatch } from '../../../src/protocol/records/batch-view.js';
import { MiB, sampleBatch, T0, show } from './helpers.js';

type PlatformaticCodec = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
const NAMES: Array<[PlatformaticCodec, CompressionCodec]> = [
  ['none', CompressionCodec.None],
  ['gzip', CompressionCodec.Gzip],
  ['snappy', CompressionCodec.Snappy],
  ['lz4', CompressionCodec.Lz4],
  ['zstd', CompressionCodec.Zstd],
];

/**
 * @platformatic/kafka's zstd is node:zlib's, which exists from Node 22.15 / 23.8 only. On older
 * Node its codec entry is patched with zstd-napi (the library Samsa uses), so its batch framing
 * is still checked with zstd; only the compression itself is then not an independent judge.
 */
const hasZlibZstd = typeof (zlib as unknown as Record<string, unknown>)['zstdCompressSync'] === 'function';
if (!hasZlibZstd) {
  type Input = Parameters<typeof compressionsAlgorithms.zstd.compressSync>[0];
  const bytes = (data: Input): Buffer => (Buffer.isBuffer(data) ? data : data.buffer);
  // The entries are typed readonly but are plain objects, shared with the by-bitmask lookup.
  Object.assign(compressionsAlgorithms.zstd, {
    compressSync: (data: Input) => zstdCompress(bytes(data)),
    decompressSync: (data: Input) => zstdDecompress(bytes(data)),
  });
}

/**
 * Samsa writes snappy in xerial framing, as Kafka's Java producer does. @platformatic/kafka
 * 1.x reads only raw snappy blocks (its WebAssembly decoder traps on the xerial header), so it
 * cannot read Java-produced snappy batches either. Samsa reads both framings.
 */
const SNAPPY_SKIP =
  "@platformatic/kafka 1.x cannot read xerial-framed snappy (what Kafka's Java client and Samsa write)";

function toMessages(records: readonly BatchRecord[]): MessageRecord[] {
  return records.map((r) => {
    const headers = new Map<Buffer, Buffer>();
    // Distinct Buffer objects, so repeated header keys stay separate entries in the Map.
    for (const h of r.headers) headers.set(Buffer.from(h.key), h.value as Buffer);
    const message: MessageRecord = {
      // The library writes a missing key and a null value as varint -1 (null).
      value: r.value as Buffer,
      headers,
      topic: 't',
      timestamp: BigInt(T0 + r.timestampDelta),
    };
    if (r.key !== null) message.key = r.key;
    return message;
  });
}

for (const [name, codec] of NAMES) {
  void test(`@platformatic/kafka-built batch (${name}) decodes in Samsa to the same records`, () => {
    const source = sampleBatch(40).records;
    const writer = createRecordsBatch(toMessages(source), {
      compression: name,
      producerId: 555n,
      producerEpoch: 2,
      partitionLeaderEpoch: 11,
      transactionalId: 'tx',
    });
    const buf = writer.buffer;
    assert.equal(validateBatch(buf), null, 'Samsa accepts its CRC');
    const d = decodeRecordBatch(buf, { maxDecompressedBytes: MiB });
    assert.ok(!(d instanceof DecodeError), show(d));
    assert.equal(d.compression, codec);
    assert.equal(d.partitionLeaderEpoch, 11);
    assert.equal(d.isTransactional, true);
    assert.equal(d.producerId, 555n);
    assert.equal(d.producerEpoch, 2);
    // It takes the first record's timestamp as the base.
    assert.equal(d.baseTimestamp, T0 + source[0]!.timestampDelta);
    assert.equal(d.records.length, source.length);
    d.records.forEach((r, i) => {
      const s = source[i]!;
      assert.equal(r.offsetDelta, i);
      assert.equal(d.baseTimestamp + r.timestampDelta, T0 + s.timestampDelta);
      assert.deepEqual(r.key, s.key);
      assert.deepEqual(r.value, s.value);
      assert.deepEqual(
        r.headers.map((h) => [h.key, h.value]),
        s.headers.map((h) => [h.key, h.value]),
      );
    });
  });

  void test(
    `Samsa-built batch (${name}) decodes in @platformatic/kafka`,
    { skip: name === 'snappy' ? SNAPPY_SKIP : false },
    () => {
      const batch = sampleBatch(40, {
        baseOffset: 300n,
        partitionLeaderEpoch: 4,
        producerId: 9n,
        producerEpoch: 1,
        baseSequence: 5,
      });
      const buf = encodeRecordBatch(batch, { compression: codec });
      const p = readRecordsBatch(Reader.from(buf));
      assert.equal(p.firstOffset, 300n);
      assert.equal(p.magic, 2);
      assert.equal(p.crc, new BatchView(buf).crc);
      assert.equal(p.attributes & 7, codec);
      assert.equal(p.firstTimestamp, BigInt(T0));
      assert.equal(p.producerId, 9n);
      assert.equal(p.firstSequence, 5);
      assert.equal(p.records.length, 40);
      p.records.forEach((r, i) => {
        const s = batch.records[i]!;
        assert.equal(r.offsetDelta, s.offsetDelta);
        assert.equal(r.timestampDelta, BigInt(s.timestampDelta));
        assert.deepEqual(r.key, s.key);
        assert.deepEqual(r.value, s.value);
        assert.deepEqual(
          r.headers.map(([k, v]) => [k?.toString('utf8'), v]),
          s.headers.map((h) => [h.key, h.value]),
        );
      });
    },
  );
}
