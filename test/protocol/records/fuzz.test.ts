/**
 * Property tests: hostile bytes never make the record-batch layer throw, and any batch the
 * types allow survives encode then decode with every codec. Run counts are bounded so the
 * suite stays within a few seconds.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { DecodeError } from '../../../src/protocol/primitives/errors.js';
import {
  decodeRecordBatch,
  encodeRecordBatch,
  type BatchRecord,
  type RecordBatch,
} from '../../../src/protocol/records/batch.js';
import {
  BatchField,
  BatchSplitter,
  TimestampType,
  validateBatch,
  writeCrc,
} from '../../../src/protocol/records/batch-view.js';
import { assertSameBatch, CODECS, sampleBatch, show } from './helpers.js';

const LIMIT_BYTES = 256 * 1024;

/** Runs every entry point over `buf`; any exception fails the property. */
function exerciseAll(buf: Buffer): void {
  const v = validateBatch(buf);
  assert.ok(v === null || v instanceof DecodeError);
  const d = decodeRecordBatch(buf, { maxDecompressedBytes: LIMIT_BYTES });
  assert.ok(d instanceof DecodeError || Array.isArray(d.records));
  const d2 = decodeRecordBatch(buf, { maxDecompressedBytes: LIMIT_BYTES, verifyCrc: false });
  assert.ok(d2 instanceof DecodeError || Array.isArray(d2.records));
  for (const verifyCrc of [false, true]) {
    const it = new BatchSplitter(buf, { verifyCrc });
    let guard = 0;
    while (it.next()) {
      assert.ok(it.sizeBytes >= 61 && it.position + it.sizeBytes <= buf.length);
      assert.ok(++guard <= buf.length);
    }
    assert.ok(it.error === null || it.error instanceof DecodeError);
  }
}

/** Gives random bytes a plausible header (magic 2, consistent length, right CRC) so decoding goes deep. */
function plausible(bytes: Uint8Array, codec: number): Buffer {
  const buf = Buffer.alloc(61 + bytes.length);
  Buffer.from(bytes).copy(buf, 61);
  buf.writeInt32BE(buf.length - 12, BatchField.batchLength);
  buf.writeInt8(2, BatchField.magic);
  buf.writeUInt16BE(codec, BatchField.attributes);
  buf.writeInt32BE(bytes.length % 5, BatchField.recordCount);
  writeCrc(buf);
  return buf;
}

void test('fuzz: random bytes never throw', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 160 }), (bytes) => exerciseAll(Buffer.from(bytes))),
    { numRuns: 500 },
  );
});

void test('fuzz: random records behind a valid header never throw', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 120 }), fc.constantFrom(0, 1, 2, 3, 4, 5, 7), (bytes, codec) =>
      exerciseAll(plausible(bytes, codec)),
    ),
    { numRuns: 500 },
  );
});

void test('fuzz: mutated and truncated real batches never throw (CRC left wrong and repaired)', () => {
  const samples = CODECS.map((codec) => encodeRecordBatch(sampleBatch(12), { compression: codec }));
  fc.assert(
    fc.property(
      fc.constantFrom(...samples),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 6 }),
      fc.boolean(),
      fc.nat(),
      (sample, flips, repairCrc, cut) => {
        const buf = Buffer.from(sample);
        for (const [at, xor] of flips) buf[at % buf.length]! ^= xor;
        if (repairCrc && buf.length >= 61) {
          // Keep the length consistent so writeCrc covers the buffer, then fix the CRC.
          buf.writeInt32BE(buf.length - 12, BatchField.batchLength);
          writeCrc(buf);
        }
        exerciseAll(buf);
        exerciseAll(buf.subarray(0, cut % (buf.length + 1)));
      },
    ),
    { numRuns: 500 },
  );
});

const bytesOrNull = fc.option(
  fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
  { nil: null },
);

const recordArb: fc.Arbitrary<BatchRecord> = fc.record({
  offsetDelta: fc.integer(),
  timestampDelta: fc.maxSafeInteger(),
  key: bytesOrNull,
  value: bytesOrNull,
  headers: fc.array(fc.record({ key: fc.string({ maxLength: 8, unit: 'grapheme' }), value: bytesOrNull }), {
    maxLength: 3,
  }),
});

const batchArb: fc.Arbitrary<RecordBatch> = fc.record({
  baseOffset: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  partitionLeaderEpoch: fc.integer(),
  timestampType: fc.constantFrom(TimestampType.CreateTime, TimestampType.LogAppendTime),
  isTransactional: fc.boolean(),
  isControl: fc.boolean(),
  hasDeleteHorizon: fc.boolean(),
  lastOffsetDelta: fc.integer(),
  baseTimestamp: fc.maxSafeInteger(),
  maxTimestamp: fc.maxSafeInteger(),
  producerId: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  producerEpoch: fc.integer({ min: -32768, max: 32767 }),
  baseSequence: fc.integer(),
  records: fc.array(recordArb, { maxLength: 12 }),
});

void test('property: any batch round-trips through every codec', () => {
  fc.assert(
    fc.property(batchArb, fc.constantFrom(...CODECS), (batch, codec) => {
      const buf = encodeRecordBatch(batch, { compression: codec });
      assert.equal(validateBatch(buf), null);
      const decoded = decodeRecordBatch(buf, { maxDecompressedBytes: 1024 * 1024 });
      assert.ok(!(decoded instanceof DecodeError), show(decoded));
      assertSameBatch(decoded, batch);
    }),
    { numRuns: 300 },
  );
});
