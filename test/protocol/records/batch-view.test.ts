import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CompressionCodec } from '../../../src/protocol/compression/index.js';
import { UnsupportedMessageFormatError } from '../../../src/protocol/primitives/errors.js';
import {
  decodeRecordBatch,
  encodeRecordBatch,
  recordTimestamp,
} from '../../../src/protocol/records/batch.js';
import {
  BatchField,
  BatchSplitter,
  BatchView,
  RecordBatchError,
  setBaseOffset,
  setMaxTimestampAndLogAppendTime,
  setPartitionLeaderEpoch,
  TimestampType,
  validateBatch,
  type BatchError,
} from '../../../src/protocol/records/batch-view.js';
import { crc32c } from '../../../src/protocol/records/crc32c.js';
import { legacyMessage, MiB, patchInt32, sampleBatch, T0, show } from './helpers.js';

function expectBatchError(err: BatchError | null, reason: RecordBatchError['reason']): RecordBatchError {
  assert.ok(err instanceof RecordBatchError, `expected RecordBatchError(${reason}), got ${String(err)}`);
  assert.equal(err.reason, reason, err.message);
  return err;
}

void test('crc32c matches the standard check value and continues across chunks', async () => {
  const { crc32cUpdate } = await import('../../../src/protocol/records/crc32c.js');
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(Buffer.alloc(0)), 0);
  assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
  const data = Buffer.from('The quick brown fox jumps over the lazy dog');
  assert.equal(crc32cUpdate(crc32c(data.subarray(0, 10)), data.subarray(10)), crc32c(data));
  assert.ok(crc32c(Buffer.from([0x80, 0x81])) >= 0, 'unsigned');
});

void test('the view reads every header field the encoder wrote', () => {
  const buf = encodeRecordBatch(
    sampleBatch(5, {
      baseOffset: 1234567890123n,
      partitionLeaderEpoch: 17,
      isTransactional: true,
      hasDeleteHorizon: true,
      producerId: 9_007_199_254_740_993n, // above 2^53: stays exact as a bigint
      producerEpoch: 3,
      baseSequence: 41,
    }),
    { compression: CompressionCodec.Lz4 },
  );
  const v = new BatchView(buf);
  assert.equal(v.baseOffset, 1234567890123n);
  assert.equal(v.baseOffsetNumber, 1234567890123);
  assert.equal(v.sizeBytes, buf.length);
  assert.equal(v.batchLength, buf.length - 12);
  assert.equal(v.partitionLeaderEpoch, 17);
  assert.equal(v.magic, 2);
  assert.equal(v.crc, v.computeCrc());
  assert.equal(v.compression, CompressionCodec.Lz4);
  assert.equal(v.timestampType, TimestampType.CreateTime);
  assert.equal(v.isTransactional, true);
  assert.equal(v.isControl, false);
  assert.equal(v.hasDeleteHorizon, true);
  assert.equal(v.attributes, 3 | 0x10 | 0x40);
  assert.equal(v.lastOffsetDelta, 4);
  assert.equal(v.baseTimestamp, T0);
  assert.equal(v.maxTimestamp, T0 + 28);
  assert.equal(v.producerId, 9_007_199_254_740_993n);
  assert.equal(v.producerEpoch, 3);
  assert.equal(v.baseSequence, 41);
  assert.equal(v.recordCount, 5);
  assert.equal(validateBatch(buf), null);
});

void test('setBaseOffset and setPartitionLeaderEpoch leave the CRC untouched', () => {
  const buf = encodeRecordBatch(sampleBatch(3), { compression: CompressionCodec.None });
  const crcBefore = new BatchView(buf).crc;
  for (const offset of [0, 1, 2 ** 32, 2 ** 53 - 1]) {
    setBaseOffset(buf, offset);
    assert.equal(new BatchView(buf).baseOffset, BigInt(offset));
    assert.equal(new BatchView(buf).baseOffsetNumber, offset);
  }
  for (const offset of [2n ** 62n, 2n ** 63n - 1n, -1n]) {
    setBaseOffset(buf, offset);
    assert.equal(new BatchView(buf).baseOffset, offset);
  }
  setPartitionLeaderEpoch(buf, 2_000_000_000);
  assert.equal(new BatchView(buf).partitionLeaderEpoch, 2_000_000_000);
  assert.equal(new BatchView(buf).crc, crcBefore);
  assert.equal(validateBatch(buf), null);
  const decoded = decodeRecordBatch(buf, { maxDecompressedBytes: MiB });
  assert.ok(!(decoded instanceof Error));
  assert.equal(decoded.baseOffset, -1n);
});

void test('LogAppendTime stamping sets the bit and maxTimestamp and rewrites the CRC', () => {
  for (const codec of [CompressionCodec.None, CompressionCodec.Zstd]) {
    const buf = encodeRecordBatch(sampleBatch(4), { compression: codec });
    const crcBefore = new BatchView(buf).crc;
    const appendTime = T0 + 60_000;
    setMaxTimestampAndLogAppendTime(buf, appendTime);
    const v = new BatchView(buf);
    assert.equal(v.timestampType, TimestampType.LogAppendTime);
    assert.equal(v.maxTimestamp, appendTime);
    assert.equal(v.baseTimestamp, T0, 'baseTimestamp is kept');
    assert.equal(v.compression, codec, 'other attribute bits are kept');
    assert.notEqual(v.crc, crcBefore);
    assert.equal(validateBatch(buf), null);
    const decoded = decodeRecordBatch(buf, { maxDecompressedBytes: MiB });
    assert.ok(!(decoded instanceof Error), show(decoded));
    assert.equal(decoded.timestampType, TimestampType.LogAppendTime);
    for (const r of decoded.records) assert.equal(recordTimestamp(decoded, r), appendTime);
  }
});

void test('a flipped bit inside the CRC range is a crc-mismatch; outside it is not', () => {
  const buf = encodeRecordBatch(sampleBatch(10), { compression: CompressionCodec.None });
  for (const pos of [
    BatchField.attributes,
    BatchField.maxTimestamp + 3,
    BatchField.recordCount,
    100,
    buf.length - 1,
  ]) {
    const copy = Buffer.from(buf);
    copy[pos]! ^= 0x04;
    expectBatchError(validateBatch(copy), 'crc-mismatch');
    const decoded = decodeRecordBatch(copy, { maxDecompressedBytes: MiB });
    assert.ok(decoded instanceof RecordBatchError && decoded.reason === 'crc-mismatch');
  }
  const crcFlip = Buffer.from(buf);
  crcFlip[BatchField.crc + 2]! ^= 0x01;
  expectBatchError(validateBatch(crcFlip), 'crc-mismatch');
  // baseOffset and partitionLeaderEpoch are outside the CRC.
  const outside = Buffer.from(buf);
  outside[3]! ^= 0xff;
  outside[BatchField.partitionLeaderEpoch + 1]! ^= 0xff;
  assert.equal(validateBatch(outside), null);
});

void test('magic 0 and 1 message sets are refused with UnsupportedMessageFormatError', () => {
  for (const magic of [0, 1] as const) {
    const legacy = legacyMessage(magic, Buffer.from('hello'));
    const err = validateBatch(legacy);
    assert.ok(err instanceof UnsupportedMessageFormatError, String(err));
    assert.equal(err.magic, magic);
    assert.equal(err.offset, 16);
    assert.match(err.message, /magic 1|magic 0/);
    assert.match(err.message, /only message format v2/);

    const it = new BatchSplitter(
      Buffer.concat([encodeRecordBatch(sampleBatch(1), { compression: 0 }), legacy]),
    );
    assert.equal(it.next(), true);
    assert.equal(it.next(), false);
    assert.ok(it.error instanceof UnsupportedMessageFormatError);
    assert.equal(it.error.offset, it.validBytes + 16);

    const decoded = decodeRecordBatch(legacy, { maxDecompressedBytes: MiB });
    assert.ok(decoded instanceof UnsupportedMessageFormatError);
  }
});

void test('unknown magic values are bad-magic', () => {
  const buf = encodeRecordBatch(sampleBatch(1), { compression: 0 });
  for (const magic of [3, 127, -1]) {
    const copy = Buffer.from(buf);
    copy.writeInt8(magic, BatchField.magic);
    expectBatchError(validateBatch(copy), 'bad-magic');
  }
});

void test('length fields must agree with the buffer', () => {
  const buf = encodeRecordBatch(sampleBatch(3), { compression: 0 });
  expectBatchError(validateBatch(buf.subarray(0, 10)), 'truncated');
  expectBatchError(validateBatch(buf.subarray(0, 40)), 'truncated');
  expectBatchError(validateBatch(buf.subarray(0, buf.length - 1)), 'truncated');
  expectBatchError(validateBatch(Buffer.concat([buf, Buffer.from([0])])), 'bad-length');
  const short = Buffer.from(buf);
  short.writeInt32BE(48, BatchField.batchLength);
  expectBatchError(validateBatch(short), 'bad-length');
  const negative = Buffer.from(buf);
  negative.writeInt32BE(-5, BatchField.batchLength);
  expectBatchError(validateBatch(negative), 'bad-length');
});

void test('record counts must be non-negative and fit in uncompressed bytes', () => {
  const buf = encodeRecordBatch(sampleBatch(3), { compression: 0 });
  expectBatchError(validateBatch(patchInt32(buf, BatchField.recordCount, -1)), 'bad-record-count');
  expectBatchError(validateBatch(patchInt32(buf, BatchField.recordCount, 1_000_000)), 'bad-record-count');
  // Compressed: the count can only be checked after decompression.
  const gz = encodeRecordBatch(sampleBatch(3), { compression: CompressionCodec.Gzip });
  const lying = patchInt32(gz, BatchField.recordCount, 1_000_000);
  assert.equal(validateBatch(lying), null);
  const decoded = decodeRecordBatch(lying, { maxDecompressedBytes: MiB });
  assert.ok(decoded instanceof RecordBatchError && decoded.reason === 'bad-record-count', show(decoded));
});

void test('the splitter walks concatenated batches and stops at a torn tail', () => {
  const batches = [1, 5, 2].map((n, i) =>
    encodeRecordBatch(sampleBatch(n, { baseOffset: BigInt(i * 10) }), {
      compression: i === 1 ? CompressionCodec.Snappy : 0,
    }),
  );
  const all = Buffer.concat(batches);

  const seen: Array<[number, number]> = [];
  const it = new BatchSplitter(all);
  while (it.next()) {
    seen.push([it.position, it.sizeBytes]);
    assert.equal(validateBatch(it.batch()), null);
  }
  assert.equal(it.error, null);
  assert.equal(it.validBytes, all.length);
  assert.deepEqual(seen, [
    [0, batches[0]!.length],
    [batches[0]!.length, batches[1]!.length],
    [batches[0]!.length + batches[1]!.length, batches[2]!.length],
  ]);

  for (const cut of [1, 11, 16, 17, 60, batches[2]!.length - 1]) {
    const torn = all.subarray(0, all.length - cut);
    const t = new BatchSplitter(torn);
    let count = 0;
    while (t.next()) count++;
    assert.equal(count, 2, `cut ${cut}`);
    const err = expectBatchError(t.error, 'truncated');
    assert.equal(t.validBytes, batches[0]!.length + batches[1]!.length);
    assert.equal(err.offset, t.validBytes);
    assert.equal(t.next(), false, 'stays stopped');
  }

  const empty = new BatchSplitter(Buffer.alloc(0));
  assert.equal(empty.next(), false);
  assert.equal(empty.error, null);
});

void test('the splitter checks CRCs only when asked (log recovery)', () => {
  const batches = [2, 3, 4].map((n) => encodeRecordBatch(sampleBatch(n), { compression: 0 }));
  const all = Buffer.concat(batches);
  all[batches[0]!.length + 70]! ^= 0x10; // inside the second batch's records
  const fast = new BatchSplitter(all);
  let n = 0;
  while (fast.next()) n++;
  assert.equal(n, 3);
  const careful = new BatchSplitter(all, { verifyCrc: true });
  n = 0;
  while (careful.next()) n++;
  assert.equal(n, 1);
  expectBatchError(careful.error, 'crc-mismatch');
  assert.equal(careful.validBytes, batches[0]!.length);
});
