/**
 * Zero-copy access to magic-v2 record batch headers: the broker's hot path.
 *
 * On produce and fetch a batch stays wire bytes. The broker reads a few header fields, checks
 * the lengths, the magic and the CRC32C, patches the base offset and the partition leader
 * epoch (both are before the CRC'd region, so patching them costs no checksum) and appends.
 * Nothing here decompresses or allocates per record.
 *
 * Layout of a batch (big-endian), with byte positions:
 *
 *    0 baseOffset int64          27 baseTimestamp int64
 *    8 batchLength int32         35 maxTimestamp int64
 *   12 partitionLeaderEpoch      43 producerId int64
 *   16 magic int8                51 producerEpoch int16
 *   17 crc uint32                53 baseSequence int32
 *   21 attributes int16          57 recordCount int32
 *   23 lastOffsetDelta int32     61 records (compressed as one block when a codec is set)
 *
 * batchLength counts the bytes after itself, so a batch takes batchLength + 12 bytes. The CRC
 * covers bytes 21 to the end. Timestamps are returned as numbers (milliseconds since the epoch
 * stay far below 2^53; values a hostile client puts above that come back rounded, which is
 * harmless for the comparisons the broker makes) — see batch.ts for the full decision.
 *
 * Validation and iteration never throw: they return a RecordBatchError (or, for the old
 * message formats, an UnsupportedMessageFormatError), both DecodeErrors.
 */
import { DecodeError, UnsupportedMessageFormatError } from '../primitives/errors.js';
import { crc32c } from './crc32c.js';

/** Byte positions of the header fields within a batch. */
export const BatchField = {
  baseOffset: 0,
  batchLength: 8,
  partitionLeaderEpoch: 12,
  magic: 16,
  crc: 17,
  attributes: 21,
  lastOffsetDelta: 23,
  baseTimestamp: 27,
  maxTimestamp: 35,
  producerId: 43,
  producerEpoch: 51,
  baseSequence: 53,
  recordCount: 57,
} as const;

/** Bytes before the records: the whole fixed header. */
export const BATCH_HEADER_BYTES = 61;
/** baseOffset and batchLength: the bytes not counted by batchLength. */
export const LOG_OVERHEAD_BYTES = 12;
/** Smallest valid batchLength (a header with no records). */
export const MIN_BATCH_LENGTH = BATCH_HEADER_BYTES - LOG_OVERHEAD_BYTES;
/** Bytes needed to see the magic byte, which tells how to read the rest. */
const MAGIC_VISIBLE_BYTES = BatchField.magic + 1;
/** The smallest record: length, attributes, timestampDelta, offsetDelta, key and value lengths, header count. */
export const MIN_RECORD_BYTES = 7;

export const CURRENT_MAGIC = 2;

export const COMPRESSION_CODEC_MASK = 0x07;
export const TIMESTAMP_TYPE_BIT = 0x08;
export const TRANSACTIONAL_BIT = 0x10;
export const CONTROL_BIT = 0x20;
export const DELETE_HORIZON_BIT = 0x40;

export const TimestampType = {
  CreateTime: 0,
  LogAppendTime: 1,
} as const;
export type TimestampType = (typeof TimestampType)[keyof typeof TimestampType];

/**
 * - `truncated`: the buffer ends inside the batch (a torn log tail, or a fetch response cut at
 *   its size limit, where the partial batch at the end is normal).
 * - `bad-length`: batchLength is below the minimum, or disagrees with the buffer's length.
 * - `bad-magic`: a magic byte that is neither 2 nor an old format (0 and 1 get
 *   UnsupportedMessageFormatError instead).
 * - `crc-mismatch`: the stored CRC32C does not match the bytes (Kafka's CORRUPT_MESSAGE).
 * - `bad-record-count`: a negative record count, or more records than the bytes can hold.
 * - `bad-record`: a record inside the batch is malformed (reported by batch.ts).
 * - `out-of-range`: a value Samsa does not represent exactly (see batch.ts).
 */
export type RecordBatchErrorReason =
  | 'truncated'
  | 'bad-length'
  | 'bad-magic'
  | 'crc-mismatch'
  | 'bad-record-count'
  | 'bad-record'
  | 'out-of-range';

export class RecordBatchError extends DecodeError {
  override readonly name = 'RecordBatchError';
  readonly reason: RecordBatchErrorReason;
  constructor(reason: RecordBatchErrorReason, message: string, offset: number) {
    super(message, offset);
    this.reason = reason;
  }
}

export type BatchError = RecordBatchError | UnsupportedMessageFormatError;

const TWO_POW_32 = 2 ** 32;

/** An int64 as a number: exact below 2^53 in magnitude, rounded beyond. Allocates no bigint. */
export function readInt64Number(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * TWO_POW_32 + buf.readUInt32BE(pos + 4);
}

/** Writes a safe integer as an int64 without going through bigint. */
export function writeInt64Number(buf: Buffer, pos: number, value: number): void {
  buf.writeInt32BE(Math.floor(value / TWO_POW_32), pos);
  buf.writeUInt32BE(value >>> 0, pos + 4);
}

/**
 * Read-only view of the header of the batch that starts at byte 0 of `buf`. Each getter reads
 * the bytes when called; nothing is copied. Check the batch (validateBatch, BatchSplitter)
 * before trusting the fields.
 */
export class BatchView {
  readonly buf: Buffer;
  constructor(buf: Buffer) {
    this.buf = buf;
  }

  get baseOffset(): bigint {
    return this.buf.readBigInt64BE(BatchField.baseOffset);
  }
  /** baseOffset as a number, exact below 2^53 (where the broker keeps its offsets). */
  get baseOffsetNumber(): number {
    return readInt64Number(this.buf, BatchField.baseOffset);
  }
  get batchLength(): number {
    return this.buf.readInt32BE(BatchField.batchLength);
  }
  /** The whole batch in bytes: batchLength plus the 12 bytes before it. */
  get sizeBytes(): number {
    return this.batchLength + LOG_OVERHEAD_BYTES;
  }
  get partitionLeaderEpoch(): number {
    return this.buf.readInt32BE(BatchField.partitionLeaderEpoch);
  }
  get magic(): number {
    return this.buf.readInt8(BatchField.magic);
  }
  /** The stored CRC32C, unsigned. */
  get crc(): number {
    return this.buf.readUInt32BE(BatchField.crc);
  }
  get attributes(): number {
    return this.buf.readUInt16BE(BatchField.attributes);
  }
  /** Compression codec id from attribute bits 0-2 (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd). */
  get compression(): number {
    return this.attributes & COMPRESSION_CODEC_MASK;
  }
  get timestampType(): TimestampType {
    return (this.attributes & TIMESTAMP_TYPE_BIT) !== 0
      ? TimestampType.LogAppendTime
      : TimestampType.CreateTime;
  }
  get isTransactional(): boolean {
    return (this.attributes & TRANSACTIONAL_BIT) !== 0;
  }
  get isControl(): boolean {
    return (this.attributes & CONTROL_BIT) !== 0;
  }
  get hasDeleteHorizon(): boolean {
    return (this.attributes & DELETE_HORIZON_BIT) !== 0;
  }
  get lastOffsetDelta(): number {
    return this.buf.readInt32BE(BatchField.lastOffsetDelta);
  }
  get baseTimestamp(): number {
    return readInt64Number(this.buf, BatchField.baseTimestamp);
  }
  get maxTimestamp(): number {
    return readInt64Number(this.buf, BatchField.maxTimestamp);
  }
  get producerId(): bigint {
    return this.buf.readBigInt64BE(BatchField.producerId);
  }
  get producerEpoch(): number {
    return this.buf.readInt16BE(BatchField.producerEpoch);
  }
  get baseSequence(): number {
    return this.buf.readInt32BE(BatchField.baseSequence);
  }
  get recordCount(): number {
    return this.buf.readInt32BE(BatchField.recordCount);
  }
  /** The CRC32C the bytes actually have (compare with `crc`). */
  computeCrc(): number {
    return crc32c(this.buf.subarray(BatchField.attributes, this.sizeBytes));
  }
}

/**
 * Checks what can be checked without reading the body: the header is there, the magic is 2,
 * batchLength is at least the minimum and fits in `buf` from `pos`. Returns the batch's size
 * in bytes, or the error.
 */
function checkFrame(buf: Buffer, pos: number): number | BatchError {
  const available = buf.length - pos;
  if (available < MAGIC_VISIBLE_BYTES) {
    return new RecordBatchError('truncated', `only ${available} bytes left, too few for a batch header`, pos);
  }
  const magic = buf.readInt8(pos + BatchField.magic);
  if (magic === 0 || magic === 1) return new UnsupportedMessageFormatError(magic, pos + BatchField.magic);
  if (magic !== CURRENT_MAGIC) {
    return new RecordBatchError('bad-magic', `invalid magic byte ${magic}`, pos + BatchField.magic);
  }
  const batchLength = buf.readInt32BE(pos + BatchField.batchLength);
  if (batchLength < MIN_BATCH_LENGTH) {
    return new RecordBatchError(
      'bad-length',
      `batch length ${batchLength} is below the minimum of ${MIN_BATCH_LENGTH}`,
      pos + BatchField.batchLength,
    );
  }
  const sizeBytes = batchLength + LOG_OVERHEAD_BYTES;
  if (sizeBytes > available) {
    return new RecordBatchError('truncated', `batch of ${sizeBytes} bytes but only ${available} left`, pos);
  }
  return sizeBytes;
}

/** Checks the CRC and the record count of a batch whose frame checkFrame (a BatchSplitter without verifyCrc) accepted. */
export function checkBatchBody(buf: Buffer, pos: number, sizeBytes: number): RecordBatchError | null {
  const stored = buf.readUInt32BE(pos + BatchField.crc);
  const computed = crc32c(buf.subarray(pos + BatchField.attributes, pos + sizeBytes));
  if (stored !== computed) {
    return new RecordBatchError(
      'crc-mismatch',
      `CRC32C mismatch: stored 0x${stored.toString(16)}, computed 0x${computed.toString(16)}`,
      pos + BatchField.crc,
    );
  }
  const recordCount = buf.readInt32BE(pos + BatchField.recordCount);
  if (recordCount < 0) {
    return new RecordBatchError(
      'bad-record-count',
      `negative record count ${recordCount}`,
      pos + BatchField.recordCount,
    );
  }
  // Uncompressed records can be counted against the bytes; compressed ones only after decompression.
  const codec = buf.readUInt16BE(pos + BatchField.attributes) & COMPRESSION_CODEC_MASK;
  if (codec === 0 && recordCount > (sizeBytes - BATCH_HEADER_BYTES) / MIN_RECORD_BYTES) {
    return new RecordBatchError(
      'bad-record-count',
      `${recordCount} records cannot fit in ${sizeBytes - BATCH_HEADER_BYTES} bytes`,
      pos + BatchField.recordCount,
    );
  }
  return null;
}

/**
 * Validates the single batch that `buf` holds exactly: header present, magic 2, batchLength
 * consistent with the buffer, CRC32C correct, record count plausible. Returns null when valid.
 */
export function validateBatch(buf: Buffer): BatchError | null {
  return checkBatch(buf, true);
}

/** validateBatch, with the CRC check optional (for callers that already verified it). */
export function checkBatch(buf: Buffer, verifyCrc: boolean): BatchError | null {
  const sizeBytes = checkFrame(buf, 0);
  if (typeof sizeBytes !== 'number') return sizeBytes;
  if (sizeBytes !== buf.length) {
    return new RecordBatchError(
      'bad-length',
      `batch length says ${sizeBytes} bytes but the buffer holds ${buf.length}`,
      BatchField.batchLength,
    );
  }
  if (!verifyCrc) {
    return buf.readInt32BE(BatchField.recordCount) < 0
      ? new RecordBatchError('bad-record-count', 'negative record count', BatchField.recordCount)
      : null;
  }
  return checkBatchBody(buf, 0, sizeBytes);
}

/** Patches the base offset. It is outside the CRC, so the checksum stays valid. */
export function setBaseOffset(buf: Buffer, offset: bigint | number): void {
  if (typeof offset === 'number') writeInt64Number(buf, BatchField.baseOffset, offset);
  else buf.writeBigInt64BE(offset, BatchField.baseOffset);
}

/** Patches the partition leader epoch. It is outside the CRC, so the checksum stays valid. */
export function setPartitionLeaderEpoch(buf: Buffer, epoch: number): void {
  buf.writeInt32BE(epoch, BatchField.partitionLeaderEpoch);
}

/**
 * Stamps a batch for a LogAppendTime topic, as Kafka's broker does: sets the timestamp-type
 * bit and maxTimestamp to the append time, then rewrites the CRC (both fields are inside it).
 * Records keep their deltas; readers of a LogAppendTime batch take maxTimestamp for every record.
 */
export function setMaxTimestampAndLogAppendTime(buf: Buffer, appendTimeMs: number): void {
  const attributes = buf.readUInt16BE(BatchField.attributes);
  buf.writeUInt16BE(attributes | TIMESTAMP_TYPE_BIT, BatchField.attributes);
  writeInt64Number(buf, BatchField.maxTimestamp, appendTimeMs);
  writeCrc(buf);
}

/** Computes the CRC32C of a batch's bytes and stores it in the header. */
export function writeCrc(buf: Buffer): void {
  const sizeBytes = buf.readInt32BE(BatchField.batchLength) + LOG_OVERHEAD_BYTES;
  buf.writeUInt32BE(crc32c(buf.subarray(BatchField.attributes, sizeBytes)), BatchField.crc);
}

export interface SplitOptions {
  /** Also check each batch's CRC32C and record count (log recovery); off by default. */
  verifyCrc?: boolean;
}

/**
 * Walks a buffer of concatenated batches (a Produce request's records, a fetched record set,
 * a log segment) without copying:
 *
 *   const it = new BatchSplitter(records);
 *   while (it.next()) handle(it.batch());
 *   if (it.error) ...   // it.validBytes is where the bad or torn part starts
 *
 * Stops at the first batch that is truncated or malformed and keeps that error; a buffer
 * that ends exactly after a batch ends with `error === null`.
 */
export class BatchSplitter {
  readonly buf: Buffer;
  /** Start of the current batch in `buf`. */
  position = -1;
  /** Size of the current batch in bytes. */
  sizeBytes = 0;
  error: BatchError | null = null;
  private nextPos = 0;
  private readonly verifyCrc: boolean;

  constructor(buf: Buffer, opts: SplitOptions = {}) {
    this.buf = buf;
    this.verifyCrc = opts.verifyCrc ?? false;
  }

  /** Moves to the next batch; false at the end of the buffer or at the first bad batch. */
  next(): boolean {
    if (this.error !== null || this.nextPos >= this.buf.length) return false;
    const sizeBytes = checkFrame(this.buf, this.nextPos);
    if (typeof sizeBytes !== 'number') {
      this.error = sizeBytes;
      return false;
    }
    if (this.verifyCrc) {
      const err = checkBatchBody(this.buf, this.nextPos, sizeBytes);
      if (err !== null) {
        this.error = err;
        return false;
      }
    }
    this.position = this.nextPos;
    this.sizeBytes = sizeBytes;
    this.nextPos += sizeBytes;
    return true;
  }

  /** The current batch's bytes (a view into `buf`). */
  batch(): Buffer {
    return this.buf.subarray(this.position, this.position + this.sizeBytes);
  }

  /** Bytes of whole, accepted batches from the start of `buf`: where a torn or bad tail begins. */
  get validBytes(): number {
    return this.nextPos;
  }
}
