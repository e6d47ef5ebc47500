import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { CompressionCodec, CompressionError } from '../../../src/protocol/compression/index.js';
import { DecodeError, EncodeError } from '../../../src/protocol/primitives/errors.js';
import { Reader } from '../../../src/protocol/primitives/reader.js';
import {
  buildEndTxnMarkerBatch,
  ControlRecordType,
  decodeRecordBatch,
  encodeControlRecordKey,
  encodeEndTxnMarkerValue,
  encodeRecordBatch,
  newRecordBatch,
  parseControlBatch,
  parseControlRecordKey,
  parseEndTxnMarkerValue,
  recordTimestamp,
  type DecodedRecordBatch,
  type RecordBatch,
} from '../../../src/protocol/records/batch.js';
import {
  BATCH_HEADER_BYTES,
  BatchField,
  BatchView,
  RecordBatchError,
  TimestampType,
  validateBatch,
  writeCrc,
  writeInt64Number,
} from '../../../src/protocol/records/batch-view.js';
import {
  assertSameBatch,
  CODECS,
  MiB,
  patchInt32,
  sampleBatch,
  T0,
  withRecordBytes,
  show,
} from './helpers.js';

function decodeOk(buf: Buffer, maxDecompressedBytes = MiB): DecodedRecordBatch {
  const d = decodeRecordBatch(buf, { maxDecompressedBytes });
  assert.ok(!(d instanceof DecodeError), `decode failed: ${show(d)}`);
  return d;
}

function decodeErr(buf: Buffer, reason: string): DecodeError {
  const d = decodeRecordBatch(buf, { maxDecompressedBytes: MiB });
  assert.ok(d instanceof DecodeError, 'expected a decode error');
  assert.equal((d as RecordBatchError | CompressionError).reason, reason, d.message);
  return d;
}

void test('round trip with every codec: headers, null and empty keys and values, negative deltas', () => {
  for (const codec of CODECS) {
    for (const count of [1, 2, 64, 300]) {
      const batch = sampleBatch(count, { baseOffset: 42n, partitionLeaderEpoch: 7 });
      const buf = encodeRecordBatch(batch, { compression: codec });
      assert.equal(validateBatch(buf), null);
      assert.equal(new BatchView(buf).compression, codec);
      const decoded = decodeOk(buf);
      assert.equal(decoded.compression, codec);
      assert.equal(decoded.crc, new BatchView(buf).crc);
      assertSameBatch(decoded, batch);
    }
  }
});

void test('decode then encode gives the same bytes (uncompressed)', () => {
  const buf = encodeRecordBatch(sampleBatch(50), { compression: CompressionCodec.None });
  const again = encodeRecordBatch(decodeOk(buf), { compression: CompressionCodec.None });
  assert.ok(again.equals(buf));
});

void test('a batch with no records (left after compaction) round-trips', () => {
  const batch: RecordBatch = { ...sampleBatch(1), records: [], lastOffsetDelta: 9 };
  for (const codec of CODECS) {
    const buf = encodeRecordBatch(batch, { compression: codec });
    const decoded = decodeOk(buf);
    assert.equal(decoded.records.length, 0);
    assert.equal(decoded.lastOffsetDelta, 9);
  }
  assert.equal(encodeRecordBatch(batch, { compression: 0 }).length, BATCH_HEADER_BYTES);
});

void test('idempotent and transactional producer fields round-trip', () => {
  const batch = sampleBatch(3, {
    producerId: 123_456_789_012n,
    producerEpoch: 32_767,
    baseSequence: 2_147_483_000,
    isTransactional: true,
  });
  for (const codec of CODECS) {
    const decoded = decodeOk(encodeRecordBatch(batch, { compression: codec }));
    assert.equal(decoded.isTransactional, true);
    assert.equal(decoded.isControl, false);
    assert.equal(decoded.producerId, 123_456_789_012n);
    assert.equal(decoded.producerEpoch, 32_767);
    assert.equal(decoded.baseSequence, 2_147_483_000);
  }
});

void test('delete horizon and LogAppendTime flags round-trip', () => {
  const decoded = decodeOk(
    encodeRecordBatch(
      sampleBatch(2, { hasDeleteHorizon: true, timestampType: TimestampType.LogAppendTime }),
      {
        compression: 0,
      },
    ),
  );
  assert.equal(decoded.hasDeleteHorizon, true);
  assert.equal(decoded.timestampType, TimestampType.LogAppendTime);
});

void test('timestamps at the edges of the safe-integer range, and their varlong bytes', () => {
  const edges = [
    0,
    1,
    -1,
    63,
    64,
    -64,
    -65,
    2 ** 31 - 1,
    -(2 ** 31),
    2 ** 31,
    -(2 ** 31) - 1,
    2 ** 40 + 3,
    -(2 ** 45) - 7,
  ];
  edges.push(Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 52, -(2 ** 52) - 1);
  for (const delta of edges) {
    const batch = sampleBatch(1);
    const record = { ...batch.records[0]!, timestampDelta: delta };
    const buf = encodeRecordBatch({ ...batch, records: [record] }, { compression: 0 });
    // The primitives' bigint Reader is the reference for the varlong bytes.
    const r = new Reader(buf, BATCH_HEADER_BYTES);
    r.varint();
    r.int8();
    assert.equal(r.varlong(), BigInt(delta), `delta ${delta}`);
    assert.equal(r.bad, false);
    assert.equal(decodeOk(buf).records[0]!.timestampDelta, delta);
  }
  for (const ts of [-1, 0, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]) {
    const decoded = decodeOk(
      encodeRecordBatch(sampleBatch(2, { baseTimestamp: ts, maxTimestamp: ts }), { compression: 0 }),
    );
    assert.equal(decoded.baseTimestamp, ts);
    assert.equal(decoded.maxTimestamp, ts);
  }
});

void test('timestamps beyond 2^53 are refused as out-of-range, not rounded', () => {
  const buf = encodeRecordBatch(sampleBatch(2), { compression: 0 });
  const header = Buffer.from(buf);
  header.writeBigInt64BE(2n ** 53n, BatchField.maxTimestamp);
  writeCrc(header);
  decodeErr(header, 'out-of-range');

  // A record whose timestampDelta varlong is 2^53 (zig-zag 2^54: 8 bytes of 7 bits, then 0x01... ).
  const big = encodeVarlongBigint(2n ** 53n);
  const body = Buffer.concat([Buffer.from([0]), big, Buffer.from([0, 1, 1, 0])]);
  const record = Buffer.concat([encodeVarlongBigint(BigInt(body.length)), body]);
  decodeErr(withRecordBytes(buf, record, 1), 'out-of-range');
  // And a well-formed record with the same layout decodes (the builder itself is right).
  const small = Buffer.concat([Buffer.from([0]), encodeVarlongBigint(-5n), Buffer.from([0, 1, 1, 0])]);
  const okRecord = Buffer.concat([encodeVarlongBigint(BigInt(small.length)), small]);
  assert.equal(decodeOk(withRecordBytes(buf, okRecord, 1)).records[0]!.timestampDelta, -5);
});

void test('encoding refuses values it cannot write exactly', () => {
  const batch = sampleBatch(1);
  const bad = (patch: Partial<RecordBatch['records'][number]>): RecordBatch => ({
    ...batch,
    records: [{ ...batch.records[0]!, ...patch }],
  });
  assert.throws(() => encodeRecordBatch(bad({ offsetDelta: 2 ** 31 }), { compression: 0 }), EncodeError);
  assert.throws(() => encodeRecordBatch(bad({ offsetDelta: 1.5 }), { compression: 0 }), EncodeError);
  assert.throws(() => encodeRecordBatch(bad({ timestampDelta: 2 ** 53 }), { compression: 0 }), EncodeError);
  assert.throws(() => encodeRecordBatch({ ...batch, baseTimestamp: 0.5 }, { compression: 0 }), EncodeError);
  assert.throws(() => newRecordBatch([]), EncodeError);
});

void test('newRecordBatch numbers records and derives timestamps like Kafka producers', () => {
  const batch = newRecordBatch(
    [
      { key: null, value: Buffer.from('a'), timestamp: T0 + 5 },
      { key: Buffer.from('k'), value: Buffer.from('b'), timestamp: T0, headers: [{ key: 'h', value: null }] },
      { key: null, value: null, timestamp: T0 + 9 },
    ],
    { producerId: 7n, producerEpoch: 0, baseSequence: 10 },
  );
  assert.equal(batch.baseTimestamp, T0 + 5);
  assert.equal(batch.maxTimestamp, T0 + 9);
  assert.equal(batch.lastOffsetDelta, 2);
  assert.deepEqual(
    batch.records.map((r) => [r.offsetDelta, r.timestampDelta]),
    [
      [0, 0],
      [1, -5],
      [2, 4],
    ],
  );
  assert.equal(batch.partitionLeaderEpoch, -1);
  const decoded = decodeOk(encodeRecordBatch(batch, { compression: CompressionCodec.Gzip }));
  assert.deepEqual(
    decoded.records.map((r) => recordTimestamp(decoded, r)),
    [T0 + 5, T0, T0 + 9],
  );
  assert.equal(decoded.producerId, 7n);
});

void test('control batches: COMMIT and ABORT markers build, decode and parse', () => {
  for (const commit of [true, false]) {
    const buf = buildEndTxnMarkerBatch({
      producerId: 4242n,
      producerEpoch: 5,
      coordinatorEpoch: 77,
      commit,
      timestamp: T0,
      baseOffset: 100n,
      partitionLeaderEpoch: 3,
    });
    assert.equal(validateBatch(buf), null);
    const view = new BatchView(buf);
    assert.equal(view.isControl, true);
    assert.equal(view.isTransactional, true);
    assert.equal(view.recordCount, 1);
    assert.equal(view.baseSequence, -1);
    const decoded = decodeOk(buf);
    assert.equal(decoded.isControl, true);
    assert.equal(decoded.baseOffset, 100n);
    assert.equal(decoded.producerId, 4242n);
    const info = parseControlBatch(decoded);
    assert.ok(!(info instanceof DecodeError));
    assert.deepEqual(info.key, {
      version: 0,
      type: commit ? ControlRecordType.Commit : ControlRecordType.Abort,
    });
    assert.deepEqual(info.marker, { version: 0, coordinatorEpoch: 77 });
  }
  assert.deepEqual([...encodeControlRecordKey(ControlRecordType.Commit)], [0, 0, 0, 1]);
  assert.deepEqual([...encodeEndTxnMarkerValue(258)], [0, 0, 0, 0, 1, 2]);
});

void test('control record parsing refuses malformed keys and values, accepts longer future versions', () => {
  assert.ok(parseControlRecordKey(null) instanceof RecordBatchError);
  assert.ok(parseControlRecordKey(Buffer.from([0, 0, 0])) instanceof RecordBatchError);
  assert.ok(parseControlRecordKey(Buffer.from([0xff, 0xff, 0, 1])) instanceof RecordBatchError);
  assert.deepEqual(parseControlRecordKey(Buffer.from([0, 1, 0, 1, 9, 9])), { version: 1, type: 1 });
  assert.ok(parseEndTxnMarkerValue(null) instanceof RecordBatchError);
  assert.ok(parseEndTxnMarkerValue(Buffer.from([0, 0, 0, 0, 1])) instanceof RecordBatchError);
  assert.deepEqual(parseEndTxnMarkerValue(Buffer.from([0, 1, 0, 0, 0, 9, 0])), {
    version: 1,
    coordinatorEpoch: 9,
  });
  // A control batch of another type (KRaft leader change) has no transaction marker.
  const leaderChange = decodeOk(
    encodeRecordBatch(
      {
        ...sampleBatch(1, { isControl: true }),
        records: [
          {
            offsetDelta: 0,
            timestampDelta: 0,
            key: encodeControlRecordKey(2),
            value: Buffer.from([0, 0]),
            headers: [],
          },
        ],
      },
      { compression: 0 },
    ),
  );
  const info = parseControlBatch(leaderChange);
  assert.ok(!(info instanceof DecodeError));
  assert.deepEqual(info, { key: { version: 0, type: ControlRecordType.LeaderChange }, marker: null });
  assert.ok(
    parseControlBatch(decodeOk(encodeRecordBatch(sampleBatch(1), { compression: 0 }))) instanceof
      RecordBatchError,
  );
});

void test('malformed records are typed errors, never exceptions', () => {
  const buf = encodeRecordBatch(sampleBatch(1), { compression: 0 });
  const cases: Array<[string, Buffer, number]> = [
    // length, attributes, tsDelta, offsetDelta, key len, value len, header count
    ['record length larger than the bytes', Buffer.from([40, 0, 0, 0, 1, 1, 0]), 1],
    ['record length below the minimum', Buffer.from([2, 0, 0, 0, 1, 1, 0]), 1],
    ['negative record length', Buffer.from([3, 0, 0, 0, 1, 1, 0]), 1],
    ['key longer than the record', Buffer.from([12, 0, 0, 0, 20, 1, 0]), 1],
    ['negative key length below -1', Buffer.from([12, 0, 0, 0, 3, 1, 0]), 1],
    ['header count beyond the record', Buffer.from([12, 0, 0, 0, 1, 1, 100]), 1],
    ['negative header count', Buffer.from([12, 0, 0, 0, 1, 1, 1]), 1],
    ['fields shorter than the declared length', Buffer.from([14, 0, 0, 0, 1, 1, 0, 0]), 1],
    ['header key length beyond the record', Buffer.from([16, 0, 0, 0, 1, 1, 2, 40, 1]), 1],
    ['negative header key length', Buffer.from([16, 0, 0, 0, 1, 1, 2, 1, 1]), 1],
    ['varint longer than 5 bytes', Buffer.from([20, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 1, 1, 0]), 1],
    ['varlong longer than 10 bytes', Buffer.from([30, 0, ...Array<number>(11).fill(0xff), 0, 0, 1, 1, 0]), 1],
    ['bytes left after the declared records', Buffer.from([12, 0, 0, 0, 1, 1, 0, 12, 0, 0, 0, 1, 1, 0]), 1],
    ['fewer records than declared', Buffer.from([26, 0, 0, 0, 1, 14, 1, 2, 3, 4, 5, 6, 7, 0]), 2],
  ];
  for (const [what, records, count] of cases) {
    const bad = withRecordBytes(buf, records, count);
    assert.equal(validateBatch(bad), null, `${what}: the header and CRC are fine`);
    const d = decodeRecordBatch(bad, { maxDecompressedBytes: MiB });
    assert.ok(d instanceof RecordBatchError, `${what}: expected a RecordBatchError, got ${show(d)}`);
    assert.ok(d.reason === 'bad-record' || d.reason === 'bad-record-count', `${what}: ${d.reason}`);
  }
  // A minimal valid record for comparison: 6-byte body, null key, null value, no headers.
  assert.equal(decodeOk(withRecordBytes(buf, Buffer.from([12, 0, 0, 0, 1, 1, 0]), 1)).records[0]!.key, null);
});

void test('compressed records that decompress beyond maxDecompressedBytes are refused', () => {
  const base = encodeRecordBatch(sampleBatch(1), { compression: 0 });
  const bomb = gzipSync(Buffer.alloc(16 * MiB));
  const buf = Buffer.concat([base.subarray(0, BATCH_HEADER_BYTES), bomb]);
  buf.writeInt32BE(buf.length - 12, BatchField.batchLength);
  buf.writeUInt16BE(CompressionCodec.Gzip, BatchField.attributes);
  writeCrc(buf);
  assert.equal(validateBatch(buf), null);
  const d = decodeRecordBatch(buf, { maxDecompressedBytes: MiB });
  assert.ok(d instanceof CompressionError && d.reason === 'too-large', show(d));
});

void test('corrupt compressed records and unknown codecs are CompressionErrors', () => {
  const buf = encodeRecordBatch(sampleBatch(20), { compression: CompressionCodec.Zstd });
  const corrupt = Buffer.from(buf);
  corrupt[BATCH_HEADER_BYTES + 6]! ^= 0xff;
  writeCrc(corrupt);
  const d = decodeRecordBatch(corrupt, { maxDecompressedBytes: MiB });
  assert.ok(d instanceof DecodeError, 'corrupt zstd is an error');

  const unknown = Buffer.from(buf);
  unknown.writeUInt16BE(6, BatchField.attributes);
  writeCrc(unknown);
  decodeErr(unknown, 'unknown-codec');
});

void test('verifyCrc: false skips only the checksum', () => {
  const buf = encodeRecordBatch(sampleBatch(3), { compression: 0 });
  const flipped = Buffer.from(buf);
  flipped[BatchField.crc]! ^= 1;
  assert.ok(decodeRecordBatch(flipped, { maxDecompressedBytes: MiB }) instanceof RecordBatchError);
  const d = decodeRecordBatch(flipped, { maxDecompressedBytes: MiB, verifyCrc: false });
  assert.ok(!(d instanceof DecodeError));
  assert.ok(
    decodeRecordBatch(patchInt32(buf, BatchField.recordCount, -3), {
      maxDecompressedBytes: MiB,
      verifyCrc: false,
    }) instanceof RecordBatchError,
  );
});

void test('decoded keys and values are views into the input (no copies)', () => {
  const buf = encodeRecordBatch(sampleBatch(3), { compression: 0 });
  const decoded = decodeOk(buf);
  const value = decoded.records[1]!.value!;
  assert.equal(value.buffer, buf.buffer);
});

void test("writeInt64Number writes negative and large numbers as two's complement int64", () => {
  const b = Buffer.alloc(8);
  for (const v of [0, -1, 1, 2 ** 32, -(2 ** 32), Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, T0]) {
    writeInt64Number(b, 0, v);
    assert.equal(b.readBigInt64BE(0), BigInt(v));
  }
});

/** Zig-zag varlong through bigint, as an independent reference. */
function encodeVarlongBigint(v: bigint): Buffer {
  let u = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
  const out: number[] = [];
  while (u >= 0x80n) {
    out.push(Number(u & 0x7fn) | 0x80);
    u >>= 7n;
  }
  out.push(Number(u));
  return Buffer.from(out);
}
