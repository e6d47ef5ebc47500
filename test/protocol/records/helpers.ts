/** Shared builders for the record-batch tests. */
import assert from 'node:assert/strict';
import { CompressionCodec } from '../../../src/protocol/compression/index.js';
import type { BatchRecord, RecordBatch } from '../../../src/protocol/records/batch.js';
import { BatchField, writeCrc } from '../../../src/protocol/records/batch-view.js';
import { TimestampType } from '../../../src/protocol/records/batch-view.js';

export const CODECS = [
  CompressionCodec.None,
  CompressionCodec.Gzip,
  CompressionCodec.Snappy,
  CompressionCodec.Lz4,
  CompressionCodec.Zstd,
] as const;

export const MiB = 1024 * 1024;
export const T0 = 1_717_171_717_171;

/** Records with a mix of keys, null keys and values, empty values, headers (repeated and null-valued). */
export function sampleRecords(count: number): BatchRecord[] {
  const records: BatchRecord[] = [];
  for (let i = 0; i < count; i++) {
    records.push({
      offsetDelta: i,
      timestampDelta: i * 7 - (i % 3 === 0 ? 5 : 0),
      key: i % 5 === 0 ? null : Buffer.from(`key-${i}`),
      value:
        i % 7 === 3 ? null : i % 11 === 4 ? Buffer.alloc(0) : Buffer.from(`value-${i}-`.repeat(1 + (i % 9))),
      headers:
        i % 4 === 0
          ? []
          : [
              { key: 'trace-id', value: Buffer.from(`t${i}`) },
              { key: 'ключ', value: null },
              { key: 'trace-id', value: Buffer.from('again') },
            ],
    });
  }
  return records;
}

export function sampleBatch(count: number, fields: Partial<RecordBatch> = {}): RecordBatch {
  return {
    baseOffset: 0n,
    partitionLeaderEpoch: -1,
    timestampType: TimestampType.CreateTime,
    isTransactional: false,
    isControl: false,
    hasDeleteHorizon: false,
    lastOffsetDelta: count - 1,
    baseTimestamp: T0,
    maxTimestamp: T0 + (count - 1) * 7,
    producerId: -1n,
    producerEpoch: -1,
    baseSequence: -1,
    records: sampleRecords(count),
    ...fields,
  };
}

/** Compares a decoded batch with the one that was encoded (header fields and every record). */
export function assertSameBatch(actual: RecordBatch, expected: RecordBatch): void {
  const { records: actualRecords, ...actualHeader } = actual;
  const { records: expectedRecords, ...expectedHeader } = expected;
  for (const [name, value] of Object.entries(expectedHeader)) {
    assert.deepEqual((actualHeader as Record<string, unknown>)[name], value, `header field ${name}`);
  }
  assert.equal(actualRecords.length, expectedRecords.length, 'record count');
  for (let i = 0; i < expectedRecords.length; i++) {
    const a = actualRecords[i]!;
    const e = expectedRecords[i]!;
    assert.equal(a.offsetDelta, e.offsetDelta, `record ${i} offsetDelta`);
    assert.equal(a.timestampDelta, e.timestampDelta, `record ${i} timestampDelta`);
    assert.deepEqual(a.key, e.key, `record ${i} key`);
    assert.deepEqual(a.value, e.value, `record ${i} value`);
    assert.deepEqual(
      a.headers.map((h) => [h.key, h.value]),
      e.headers.map((h) => [h.key, h.value]),
      `record ${i} headers`,
    );
  }
}

/** Writes an int32 into a batch and fixes its CRC, to reach checks that come after the CRC. */
export function patchInt32(batch: Buffer, pos: number, value: number): Buffer {
  const copy = Buffer.from(batch);
  copy.writeInt32BE(value, pos);
  writeCrc(copy);
  return copy;
}

/** Replaces the records part of an uncompressed batch and fixes lengths and CRC. */
export function withRecordBytes(batch: Buffer, recordBytes: Buffer, recordCount: number): Buffer {
  const out = Buffer.concat([batch.subarray(0, 61), recordBytes]);
  out.writeInt32BE(out.length - 12, BatchField.batchLength);
  out.writeInt32BE(recordCount, BatchField.recordCount);
  writeCrc(out);
  return out;
}

/** An old-format (magic 0 or 1) message set entry: offset, size, crc, magic, attributes, [timestamp], key, value. */
export function legacyMessage(magic: 0 | 1, value: Buffer): Buffer {
  const bodyBytes = 4 + 1 + 1 + (magic === 1 ? 8 : 0) + 4 + 4 + value.length;
  const buf = Buffer.alloc(12 + bodyBytes);
  let pos = 0;
  buf.writeBigInt64BE(0n, pos);
  buf.writeInt32BE(bodyBytes, (pos += 8));
  pos += 4;
  buf.writeUInt32BE(0x12345678, pos); // CRC32 (not checked: the magic byte already says no)
  buf.writeInt8(magic, (pos += 4));
  buf.writeInt8(0, (pos += 1));
  pos += 1;
  if (magic === 1) {
    buf.writeBigInt64BE(BigInt(T0), pos);
    pos += 8;
  }
  buf.writeInt32BE(-1, pos); // null key
  buf.writeInt32BE(value.length, (pos += 4));
  value.copy(buf, pos + 4);
  return buf;
}

/** A short description of a decode result for assertion messages. */
export function show(result: unknown): string {
  if (result instanceof Error) return `${result.name}: ${result.message}`;
  if (Buffer.isBuffer(result)) return `${result.length} bytes`;
  return result === null ? 'null' : typeof result;
}
