/**
 * Encoding and decoding of whole magic-v2 record batches, records included.
 *
 * The broker's produce and fetch paths do not come here (they use batch-view.ts on wire
 * bytes). This is for the code that needs records: clients, compaction, coordinators writing
 * their own records, control (transaction marker) batches, tests.
 *
 * Number types, decided once:
 * - Offsets: `baseOffset` is a bigint (an int64 the broker assigns; nothing in this layer may
 *   assume where it stops). Per-record `offsetDelta` and `lastOffsetDelta` are int32 numbers.
 * - `producerId` is a bigint (an arbitrary int64 id).
 * - Timestamps are numbers of milliseconds: `baseTimestamp`, `maxTimestamp` and each record's
 *   `timestampDelta` (a varlong on the wire). Epoch milliseconds stay below 2^53 until the year
 *   287396, and numbers keep the per-record path free of bigint arithmetic, which would cost
 *   more than the rest of the encoding. A record's timestamp is `baseTimestamp + timestampDelta`
 *   (or `maxTimestamp` for a LogAppendTime batch). A batch carrying a timestamp or delta outside
 *   the safe-integer range (only a hostile or broken writer makes one) is refused with a
 *   RecordBatchError 'out-of-range' rather than rounded, so decode then encode is byte-exact.
 * - Everything else (epochs, sequences, counts) is an int16/int32 number.
 *
 * Decoding never throws on bad input: it returns a DecodeError (RecordBatchError,
 * UnsupportedMessageFormatError or CompressionError). Every length read from the input is
 * checked against the bytes that remain before anything is allocated. Keys, values and header
 * values are views into the input buffer (or into the decompressed records), not copies.
 *
 * Encoding computes the exact size first and allocates once (twice when compressing: the
 * records, then the batch around the compressed bytes).
 */
import { compress, decompress, type CompressionCodec } from '../compression/index.js';
import { DecodeError, EncodeError } from '../primitives/errors.js';
import {
  BATCH_HEADER_BYTES,
  BatchField,
  checkBatch,
  COMPRESSION_CODEC_MASK,
  CONTROL_BIT,
  CURRENT_MAGIC,
  DELETE_HORIZON_BIT,
  LOG_OVERHEAD_BYTES,
  MIN_RECORD_BYTES,
  RecordBatchError,
  TIMESTAMP_TYPE_BIT,
  TimestampType,
  TRANSACTIONAL_BIT,
  writeCrc,
  writeInt64Number,
  readInt64Number,
} from './batch-view.js';

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

export interface BatchRecord {
  /** Offset of the record minus the batch's baseOffset (int32). */
  offsetDelta: number;
  /** Timestamp of the record minus the batch's baseTimestamp, in milliseconds. */
  timestampDelta: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: readonly RecordHeader[];
}

export interface RecordBatch {
  baseOffset: bigint;
  /** -1 when not set (producers send -1; the leader stamps its epoch). */
  partitionLeaderEpoch: number;
  timestampType: TimestampType;
  isTransactional: boolean;
  isControl: boolean;
  /** baseTimestamp holds the compaction delete horizon (set by the log cleaner). */
  hasDeleteHorizon: boolean;
  /** Offset delta of the last record; kept separately because compaction can remove records. */
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  /** -1 when the producer is neither idempotent nor transactional. */
  producerId: bigint;
  producerEpoch: number;
  /** -1 when the producer is neither idempotent nor transactional. */
  baseSequence: number;
  records: readonly BatchRecord[];
}

/** A decoded batch also tells what it was compressed with and its stored CRC. */
export interface DecodedRecordBatch extends RecordBatch {
  compression: CompressionCodec;
  crc: number;
  records: BatchRecord[];
}

export interface EncodeOptions {
  compression: CompressionCodec;
}

export interface DecodeOptions {
  /** Upper bound on the decompressed size of the records (a guard against compression bombs). */
  maxDecompressedBytes: number;
  /** Check the CRC32C; default true. Turn off only when the caller has just validated the batch. */
  verifyCrc?: boolean;
}

const NO_HEADERS: readonly RecordHeader[] = Object.freeze([]);
const TWO_POW_32 = 2 ** 32;
const TWO_POW_31 = 2 ** 31;

// ---------------------------------------------------------------------------------------------
// Encoding

/** Record body sizes of the batch being encoded, reused between calls to avoid an allocation. */
let scratchSizes = new Int32Array(256);

/** Encodes a batch, compressing its records with `opts.compression`, and writes its CRC. */
export function encodeRecordBatch(batch: RecordBatch, opts: EncodeOptions): Buffer {
  const records = batch.records;
  const count = records.length;
  if (!Number.isSafeInteger(batch.baseTimestamp) || !Number.isSafeInteger(batch.maxTimestamp)) {
    throw new EncodeError('baseTimestamp and maxTimestamp must be safe integers (milliseconds)');
  }
  if (scratchSizes.length < count) scratchSizes = new Int32Array(Math.max(count, scratchSizes.length * 2));
  const sizes = scratchSizes;

  let recordsBytes = 0;
  for (let i = 0; i < count; i++) {
    const bodyBytes = recordBodySize(records[i]!);
    sizes[i] = bodyBytes;
    recordsBytes += uvarint32Size(bodyBytes << 1) + bodyBytes;
  }

  const codec = opts.compression;
  let buf: Buffer;
  if (codec === 0) {
    buf = Buffer.allocUnsafe(BATCH_HEADER_BYTES + recordsBytes);
    checkWritten(writeRecords(buf, BATCH_HEADER_BYTES, records, sizes), buf.length);
  } else {
    const raw = Buffer.allocUnsafe(recordsBytes);
    checkWritten(writeRecords(raw, 0, records, sizes), raw.length);
    const compressed = compress(codec, raw);
    buf = Buffer.allocUnsafe(BATCH_HEADER_BYTES + compressed.length);
    compressed.copy(buf, BATCH_HEADER_BYTES);
  }

  let attributes = codec & COMPRESSION_CODEC_MASK;
  if (batch.timestampType === TimestampType.LogAppendTime) attributes |= TIMESTAMP_TYPE_BIT;
  if (batch.isTransactional) attributes |= TRANSACTIONAL_BIT;
  if (batch.isControl) attributes |= CONTROL_BIT;
  if (batch.hasDeleteHorizon) attributes |= DELETE_HORIZON_BIT;

  buf.writeBigInt64BE(batch.baseOffset, BatchField.baseOffset);
  buf.writeInt32BE(buf.length - LOG_OVERHEAD_BYTES, BatchField.batchLength);
  buf.writeInt32BE(batch.partitionLeaderEpoch, BatchField.partitionLeaderEpoch);
  buf.writeInt8(CURRENT_MAGIC, BatchField.magic);
  buf.writeUInt16BE(attributes, BatchField.attributes);
  buf.writeInt32BE(batch.lastOffsetDelta, BatchField.lastOffsetDelta);
  writeInt64Number(buf, BatchField.baseTimestamp, batch.baseTimestamp);
  writeInt64Number(buf, BatchField.maxTimestamp, batch.maxTimestamp);
  buf.writeBigInt64BE(batch.producerId, BatchField.producerId);
  buf.writeInt16BE(batch.producerEpoch, BatchField.producerEpoch);
  buf.writeInt32BE(batch.baseSequence, BatchField.baseSequence);
  buf.writeInt32BE(count, BatchField.recordCount);
  writeCrc(buf);
  return buf;
}

/** The size pass and the write pass must agree, or the batch would carry uninitialised bytes. */
function checkWritten(endPos: number, expectedEnd: number): void {
  if (endPos !== expectedEnd)
    throw new EncodeError(`record size pass and write disagree: ${endPos} != ${expectedEnd}`);
}

/** Size of a record after its length prefix. Also checks the numbers it will write. */
function recordBodySize(r: BatchRecord): number {
  const od = r.offsetDelta;
  const td = r.timestampDelta;
  if ((od | 0) !== od) throw new EncodeError(`offsetDelta ${od} is not an int32`);
  if (!Number.isSafeInteger(td)) throw new EncodeError(`timestampDelta ${td} is not a safe integer`);
  let size = 1 + varlongSize(td) + uvarint32Size(((od << 1) ^ (od >> 31)) >>> 0);
  size += r.key === null ? 1 : uvarint32Size(r.key.length << 1) + r.key.length;
  size += r.value === null ? 1 : uvarint32Size(r.value.length << 1) + r.value.length;
  const headers = r.headers;
  size += uvarint32Size(headers.length << 1);
  for (let j = 0; j < headers.length; j++) {
    const h = headers[j]!;
    const keyBytes = Buffer.byteLength(h.key, 'utf8');
    size += uvarint32Size(keyBytes << 1) + keyBytes;
    size += h.value === null ? 1 : uvarint32Size(h.value.length << 1) + h.value.length;
  }
  return size;
}

function writeRecords(
  buf: Buffer,
  start: number,
  records: readonly BatchRecord[],
  sizes: Int32Array,
): number {
  let pos = start;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    pos = writeUvarint32(buf, pos, sizes[i]! << 1);
    buf[pos++] = 0; // record attributes: unused by every Kafka version so far
    pos = writeVarlong(buf, pos, r.timestampDelta);
    pos = writeUvarint32(buf, pos, ((r.offsetDelta << 1) ^ (r.offsetDelta >> 31)) >>> 0);
    pos = writeVarintBytes(buf, pos, r.key);
    pos = writeVarintBytes(buf, pos, r.value);
    const headers = r.headers;
    pos = writeUvarint32(buf, pos, headers.length << 1);
    for (let j = 0; j < headers.length; j++) {
      const h = headers[j]!;
      const keyBytes = Buffer.byteLength(h.key, 'utf8');
      pos = writeUvarint32(buf, pos, keyBytes << 1);
      pos += buf.write(h.key, pos, keyBytes, 'utf8');
      pos = writeVarintBytes(buf, pos, h.value);
    }
  }
  return pos;
}

/** Length-prefixed bytes; a null is the varint -1 (zig-zag 1). */
function writeVarintBytes(buf: Buffer, pos: number, v: Buffer | null): number {
  if (v === null) {
    buf[pos] = 1;
    return pos + 1;
  }
  pos = writeUvarint32(buf, pos, v.length << 1);
  // Short values are copied by a loop: a native copy call costs more than the bytes.
  const len = v.length;
  if (len <= 8) {
    for (let i = 0; i < len; i++) buf[pos + i] = v[i]!;
    return pos + len;
  }
  return pos + v.copy(buf, pos);
}

/** Size of an unsigned varint below 2^32 (zig-zag values and lengths). */
function uvarint32Size(u: number): number {
  u >>>= 0;
  if (u < 0x80) return 1;
  if (u < 0x4000) return 2;
  if (u < 0x200000) return 3;
  if (u < 0x10000000) return 4;
  return 5;
}

function writeUvarint32(buf: Buffer, pos: number, u: number): number {
  u >>>= 0;
  while (u >= 0x80) {
    buf[pos++] = (u & 0x7f) | 0x80;
    u >>>= 7;
  }
  buf[pos++] = u;
  return pos;
}

/** Zig-zag of a safe integer as two uint32 halves, written to `zz` (avoids a bigint). */
const zz = { hi: 0, lo: 0 };
function zigzag64(v: number): void {
  // zig-zag(v) = 2v for v >= 0 and 2(-v-1)+1 for v < 0; w = |v| or -v-1 is below 2^53.
  const negative = v < 0;
  const w = negative ? -v - 1 : v;
  const wLo = w % TWO_POW_32;
  const wHi = Math.floor(w / TWO_POW_32);
  zz.lo = ((wLo << 1) | (negative ? 1 : 0)) >>> 0;
  zz.hi = wHi * 2 + (wLo >= TWO_POW_31 ? 1 : 0);
}

function varlongSize(v: number): number {
  if ((v | 0) === v) return uvarint32Size((v << 1) ^ (v >> 31));
  zigzag64(v);
  let hi = zz.hi;
  let lo = zz.lo;
  let n = 1;
  while (hi !== 0 || lo >= 0x80) {
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
    n++;
  }
  return n;
}

function writeVarlong(buf: Buffer, pos: number, v: number): number {
  if ((v | 0) === v) return writeUvarint32(buf, pos, (v << 1) ^ (v >> 31));
  zigzag64(v);
  let hi = zz.hi;
  let lo = zz.lo;
  while (hi !== 0 || lo >= 0x80) {
    buf[pos++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  buf[pos++] = lo;
  return pos;
}

// ---------------------------------------------------------------------------------------------
// Decoding

/**
 * Decodes a batch that `buf` holds exactly (one element of a BatchSplitter walk, say),
 * decompressing its records with at most `opts.maxDecompressedBytes` of output.
 */
export function decodeRecordBatch(buf: Buffer, opts: DecodeOptions): DecodedRecordBatch | DecodeError {
  const invalid = checkBatch(buf, opts.verifyCrc ?? true);
  if (invalid !== null) return invalid;

  const attributes = buf.readUInt16BE(BatchField.attributes);
  const codec = attributes & COMPRESSION_CODEC_MASK;
  const baseTimestamp = readInt64Number(buf, BatchField.baseTimestamp);
  const maxTimestamp = readInt64Number(buf, BatchField.maxTimestamp);
  if (!Number.isSafeInteger(baseTimestamp) || !Number.isSafeInteger(maxTimestamp)) {
    return new RecordBatchError(
      'out-of-range',
      'timestamp outside the safe-integer range',
      BatchField.baseTimestamp,
    );
  }
  const recordCount = buf.readInt32BE(BatchField.recordCount);

  let data = buf;
  let start = BATCH_HEADER_BYTES;
  if (codec !== 0) {
    const out = decompress(codec, buf.subarray(BATCH_HEADER_BYTES), opts.maxDecompressedBytes);
    if (out instanceof DecodeError) return out;
    data = out;
    start = 0;
  }
  const end = data.length;
  if (recordCount > (end - start) / MIN_RECORD_BYTES) {
    return new RecordBatchError(
      'bad-record-count',
      `${recordCount} records cannot fit in ${end - start} bytes of records`,
      BatchField.recordCount,
    );
  }

  const cursor: Cursor = { buf: data, pos: start, error: null };
  const records = new Array<BatchRecord>(recordCount);
  for (let i = 0; i < recordCount; i++) {
    const record = readRecord(cursor, end);
    if (record === null) return recordError(cursor, codec, i);
    records[i] = record;
  }
  if (cursor.pos !== end) {
    return new RecordBatchError(
      'bad-record',
      `${end - cursor.pos} bytes left after the ${recordCount} records the batch declares${codec === 0 ? '' : ' (in the decompressed records)'}`,
      cursor.pos,
    );
  }

  return {
    baseOffset: buf.readBigInt64BE(BatchField.baseOffset),
    partitionLeaderEpoch: buf.readInt32BE(BatchField.partitionLeaderEpoch),
    timestampType:
      (attributes & TIMESTAMP_TYPE_BIT) !== 0 ? TimestampType.LogAppendTime : TimestampType.CreateTime,
    isTransactional: (attributes & TRANSACTIONAL_BIT) !== 0,
    isControl: (attributes & CONTROL_BIT) !== 0,
    hasDeleteHorizon: (attributes & DELETE_HORIZON_BIT) !== 0,
    lastOffsetDelta: buf.readInt32BE(BatchField.lastOffsetDelta),
    baseTimestamp,
    maxTimestamp,
    producerId: buf.readBigInt64BE(BatchField.producerId),
    producerEpoch: buf.readInt16BE(BatchField.producerEpoch),
    baseSequence: buf.readInt32BE(BatchField.baseSequence),
    compression: codec as CompressionCodec, // 0-4: decompress refused the unknown ids 5-7
    crc: buf.readUInt32BE(BatchField.crc),
    records,
  };
}

/**
 * Read position over the records; `error` is set once, on the first malformed field. Records
 * are read with their own small readers rather than the primitives' Reader: a varlong must come
 * out as a number (Reader's is a bigint) and every field is bounded by its record's end.
 */
interface Cursor {
  buf: Buffer;
  pos: number;
  error: string | null;
}

function recordError(c: Cursor, codec: number, index: number): RecordBatchError {
  const where = codec === 0 ? '' : ' (in the decompressed records)';
  return new RecordBatchError(
    c.error === 'out-of-range' ? 'out-of-range' : 'bad-record',
    `record ${index}: ${c.error ?? 'malformed'}${where}`,
    c.pos,
  );
}

/** Records the first failure; returns null so record readers can `return fail(...)`. */
function fail(c: Cursor, reason: string): null {
  c.error ??= reason;
  return null;
}

/** fail() for the number readers: the 0 they return is never used once `c.error` is set. */
function failNumber(c: Cursor, reason: string): number {
  c.error ??= reason;
  return 0;
}

/** Reads one record that must end by `end`; null (with `c.error`) when malformed. */
function readRecord(c: Cursor, end: number): BatchRecord | null {
  const bodyBytes = readVarint(c, end);
  if (c.error !== null) return null;
  // The smallest body: attributes, timestampDelta, offsetDelta, key and value lengths, header count.
  if (bodyBytes < MIN_RECORD_BYTES - 1 || bodyBytes > end - c.pos) {
    return fail(c, `record length ${bodyBytes} does not fit in the ${end - c.pos} bytes left`);
  }
  const recordEnd = c.pos + bodyBytes;
  c.pos++; // attributes: unused
  const timestampDelta = readVarlongNumber(c, recordEnd);
  const offsetDelta = readVarint(c, recordEnd);
  const key = readVarintBytes(c, recordEnd);
  const value = readVarintBytes(c, recordEnd);
  const headerCount = readVarint(c, recordEnd);
  if (c.error !== null) return null;
  // A header takes at least two bytes (key and value lengths).
  if (headerCount < 0 || headerCount * 2 > recordEnd - c.pos) {
    return fail(c, `header count ${headerCount} does not fit in the record`);
  }
  let headers = NO_HEADERS;
  if (headerCount > 0) {
    const list = new Array<RecordHeader>(headerCount);
    for (let j = 0; j < headerCount; j++) {
      const keyBytes = readVarint(c, recordEnd);
      if (c.error !== null) return null;
      if (keyBytes < 0 || keyBytes > recordEnd - c.pos)
        return fail(c, `header key length ${keyBytes} is invalid`);
      const headerKey = c.buf.toString('utf8', c.pos, c.pos + keyBytes);
      c.pos += keyBytes;
      const headerValue = readVarintBytes(c, recordEnd);
      if (c.error !== null) return null;
      list[j] = { key: headerKey, value: headerValue };
    }
    headers = list;
  }
  if (c.pos !== recordEnd) {
    return fail(c, `record declared ${bodyBytes} bytes but its fields take ${bodyBytes + c.pos - recordEnd}`);
  }
  return { offsetDelta, timestampDelta, key, value, headers };
}

/** Zig-zag varint of at most 5 bytes (an int32), as Kafka's ByteUtils.readVarint. */
function readVarint(c: Cursor, end: number): number {
  const buf = c.buf;
  let u = 0;
  for (let i = 0; i < 5; i++) {
    if (c.pos >= end) return failNumber(c, 'truncated varint');
    const b = buf[c.pos++]!;
    u |= (b & 0x7f) << (7 * i);
    if ((b & 0x80) === 0) return (u >>> 1) ^ -(u & 1);
  }
  return failNumber(c, 'varint longer than 5 bytes');
}

/**
 * Zig-zag varlong of at most 10 bytes, as a number. The 64 bits are gathered in two uint32
 * halves; a value outside the safe-integer range sets the 'out-of-range' error.
 */
function readVarlongNumber(c: Cursor, end: number): number {
  const buf = c.buf;
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < 10; i++) {
    if (c.pos >= end) return failNumber(c, 'truncated varlong');
    const b = buf[c.pos++]!;
    const bits = b & 0x7f;
    if (i < 4) {
      lo |= bits << (7 * i);
    } else if (i === 4) {
      lo |= bits << 28;
      hi |= bits >>> 4;
    } else {
      hi |= bits << (7 * i - 32);
    }
    if ((b & 0x80) !== 0) continue;
    if (i < 4) return (lo >>> 1) ^ -(lo & 1); // fewer than 29 bits: the common, small delta
    if (i === 9 && bits > 1) return failNumber(c, 'varlong wider than 64 bits');
    lo >>>= 0;
    hi >>>= 0;
    let vLo = ((lo >>> 1) | (hi << 31)) >>> 0;
    let vHi = hi >>> 1;
    if ((lo & 1) !== 0) {
      vLo = ~vLo >>> 0;
      vHi = ~vHi;
    }
    const value = (vHi | 0) * TWO_POW_32 + vLo;
    return Number.isSafeInteger(value) ? value : failNumber(c, 'out-of-range');
  }
  return failNumber(c, 'varlong longer than 10 bytes');
}

/** Varint-length-prefixed bytes (-1 is null) as a view into the buffer. */
function readVarintBytes(c: Cursor, end: number): Buffer | null {
  const len = readVarint(c, end);
  if (c.error !== null) return null;
  if (len === -1) return null;
  if (len < -1 || len > end - c.pos) return fail(c, `byte length ${len} is invalid`);
  const v = c.buf.subarray(c.pos, c.pos + len);
  c.pos += len;
  return v;
}

// ---------------------------------------------------------------------------------------------
// Building batches from records with absolute timestamps

export interface ProducerRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers?: readonly RecordHeader[];
  /** Milliseconds since the epoch. */
  timestamp: number;
}

/** Header fields of a new batch; every one has a default fit for a plain (non-idempotent) producer. */
export type NewBatchFields = Partial<
  Omit<RecordBatch, 'records' | 'baseTimestamp' | 'maxTimestamp' | 'lastOffsetDelta'>
>;

/**
 * A batch of `records` numbered from offset delta 0, with baseTimestamp taken from the first
 * record and maxTimestamp the largest, as Kafka's producers build them. At least one record.
 */
export function newRecordBatch(records: readonly ProducerRecord[], fields: NewBatchFields = {}): RecordBatch {
  const first = records[0];
  if (first === undefined) throw new EncodeError('a batch needs at least one record');
  const baseTimestamp = first.timestamp;
  let maxTimestamp = baseTimestamp;
  const out = new Array<BatchRecord>(records.length);
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    if (r.timestamp > maxTimestamp) maxTimestamp = r.timestamp;
    out[i] = {
      offsetDelta: i,
      timestampDelta: r.timestamp - baseTimestamp,
      key: r.key,
      value: r.value,
      headers: r.headers ?? NO_HEADERS,
    };
  }
  return {
    baseOffset: fields.baseOffset ?? 0n,
    partitionLeaderEpoch: fields.partitionLeaderEpoch ?? -1,
    timestampType: fields.timestampType ?? TimestampType.CreateTime,
    isTransactional: fields.isTransactional ?? false,
    isControl: fields.isControl ?? false,
    hasDeleteHorizon: fields.hasDeleteHorizon ?? false,
    lastOffsetDelta: records.length - 1,
    baseTimestamp,
    maxTimestamp,
    producerId: fields.producerId ?? -1n,
    producerEpoch: fields.producerEpoch ?? -1,
    baseSequence: fields.baseSequence ?? -1,
    records: out,
  };
}

/** A record's absolute timestamp in milliseconds, following the batch's timestamp type. */
export function recordTimestamp(batch: RecordBatch, record: BatchRecord): number {
  return batch.timestampType === TimestampType.LogAppendTime
    ? batch.maxTimestamp
    : batch.baseTimestamp + record.timestampDelta;
}

// ---------------------------------------------------------------------------------------------
// Control batches

/**
 * Types of control records (the key's int16 type). Transactions use ABORT and COMMIT; KRaft's
 * metadata log uses the others (leader change, snapshot header/footer, kraft version, voters).
 */
export const ControlRecordType = {
  Abort: 0,
  Commit: 1,
  LeaderChange: 2,
  SnapshotHeader: 3,
  SnapshotFooter: 4,
  KRaftVersion: 5,
  KRaftVoters: 6,
} as const;

/** A control record's key: int16 version (0) then int16 type. */
export interface ControlRecordKey {
  version: number;
  type: number;
}

/** The value of an ABORT or COMMIT control record: int16 version (0) then int32 coordinator epoch. */
export interface EndTxnMarker {
  version: number;
  coordinatorEpoch: number;
}

const CONTROL_KEY_BYTES = 4;
const END_TXN_MARKER_BYTES = 6;

export function encodeControlRecordKey(type: number, version = 0): Buffer {
  const buf = Buffer.allocUnsafe(CONTROL_KEY_BYTES);
  buf.writeInt16BE(version, 0);
  buf.writeInt16BE(type, 2);
  return buf;
}

/** Parses a control record's key. Longer keys (a future version) are read by their first 4 bytes, as Kafka does. */
export function parseControlRecordKey(key: Buffer | null): ControlRecordKey | DecodeError {
  if (key === null || key.length < CONTROL_KEY_BYTES) {
    return new RecordBatchError(
      'bad-record',
      `control record key of ${key?.length ?? 'null'} bytes, expected 4`,
      0,
    );
  }
  const version = key.readInt16BE(0);
  if (version < 0)
    return new RecordBatchError('bad-record', `negative control record key version ${version}`, 0);
  return { version, type: key.readInt16BE(2) };
}

export function encodeEndTxnMarkerValue(coordinatorEpoch: number, version = 0): Buffer {
  const buf = Buffer.allocUnsafe(END_TXN_MARKER_BYTES);
  buf.writeInt16BE(version, 0);
  buf.writeInt32BE(coordinatorEpoch, 2);
  return buf;
}

/** Parses the value of an ABORT/COMMIT control record; bytes after the 6 known ones are ignored. */
export function parseEndTxnMarkerValue(value: Buffer | null): EndTxnMarker | DecodeError {
  if (value === null || value.length < END_TXN_MARKER_BYTES) {
    return new RecordBatchError(
      'bad-record',
      `transaction marker value of ${value?.length ?? 'null'} bytes, expected 6`,
      0,
    );
  }
  const version = value.readInt16BE(0);
  if (version < 0)
    return new RecordBatchError('bad-record', `negative transaction marker version ${version}`, 0);
  return { version, coordinatorEpoch: value.readInt32BE(2) };
}

export interface EndTxnMarkerBatchFields {
  producerId: bigint;
  producerEpoch: number;
  coordinatorEpoch: number;
  /** true for COMMIT, false for ABORT. */
  commit: boolean;
  /** Milliseconds since the epoch; the marker's only timestamp. */
  timestamp: number;
  baseOffset?: bigint;
  partitionLeaderEpoch?: number;
}

/**
 * The control batch a transaction coordinator's WriteTxnMarkers makes a partition leader append:
 * transactional and control bits set, one record (offset delta 0, no compression), no sequence.
 */
export function buildEndTxnMarkerBatch(fields: EndTxnMarkerBatchFields): Buffer {
  return encodeRecordBatch(
    {
      baseOffset: fields.baseOffset ?? 0n,
      partitionLeaderEpoch: fields.partitionLeaderEpoch ?? -1,
      timestampType: TimestampType.CreateTime,
      isTransactional: true,
      isControl: true,
      hasDeleteHorizon: false,
      lastOffsetDelta: 0,
      baseTimestamp: fields.timestamp,
      maxTimestamp: fields.timestamp,
      producerId: fields.producerId,
      producerEpoch: fields.producerEpoch,
      baseSequence: -1,
      records: [
        {
          offsetDelta: 0,
          timestampDelta: 0,
          key: encodeControlRecordKey(fields.commit ? ControlRecordType.Commit : ControlRecordType.Abort),
          value: encodeEndTxnMarkerValue(fields.coordinatorEpoch),
          headers: NO_HEADERS,
        },
      ],
    },
    { compression: 0 },
  );
}

/** What a control batch says, for consumers filtering aborted transactions. */
export interface ControlBatchInfo {
  key: ControlRecordKey;
  /** Present for ABORT and COMMIT markers. */
  marker: EndTxnMarker | null;
}

/** Parses the single control record of a decoded control batch. */
export function parseControlBatch(batch: RecordBatch): ControlBatchInfo | DecodeError {
  const record = batch.records[0];
  if (!batch.isControl || record === undefined) {
    return new RecordBatchError('bad-record', 'not a control batch with a control record', 0);
  }
  const key = parseControlRecordKey(record.key);
  if (key instanceof DecodeError) return key;
  if (key.type !== ControlRecordType.Abort && key.type !== ControlRecordType.Commit)
    return { key, marker: null };
  const marker = parseEndTxnMarkerValue(record.value);
  if (marker instanceof DecodeError) return marker;
  return { key, marker };
}
