/**
 * A topic's `compression.type` on the produce path, as Kafka's LogValidator applies it.
 *
 * - `producer`: batches are stored exactly as the producer sent them; nothing here runs.
 * - `uncompressed` or a codec: every batch whose codec differs is decompressed (bounded) and
 *   rewritten with the topic's codec before it is appended — the same records (offset and
 *   timestamp deltas, keys, values, headers) and the same header fields (lastOffsetDelta,
 *   timestamps and timestamp type, producer id and epoch, base sequence, transactional bit) —
 *   so consumers always read the topic's codec. Batches already in the topic's codec, and
 *   control batches (never recompressed, as in Kafka), pass through untouched.
 *
 * Hot path: one attribute read per batch header. When no batch needs rewriting the request's
 * own buffer comes back (zero-copy). Framing errors are left to the log, which reports them
 * as it does for any append.
 *
 * Errors are StorageErrors carrying Kafka's codes, like the log's:
 * - a batch to rewrite that is already larger than max.message.bytes → MESSAGE_TOO_LARGE
 *   (Kafka checks every incoming batch before validating it), and so is its rewrite when that
 *   comes out larger than max.message.bytes (Kafka checks again after recompression);
 * - decompressed records past the bound below → MESSAGE_TOO_LARGE, not CORRUPT_MESSAGE: the
 *   data may be fine, only too expansive, and the Java producer answers MESSAGE_TOO_LARGE by
 *   splitting the batch and retrying;
 * - a CRC mismatch, bytes the codec cannot decode, malformed records → CORRUPT_MESSAGE.
 *
 * Deviations: Kafka merges a recompressed request into one new batch; Samsa rewrites batch
 * for batch, which stores the same records at the same offsets. The codecs are synchronous
 * and run on the event loop; the bounds below cap what one batch can cost.
 */
import { ErrorCode } from '../protocol/error-codes.js';
import { CompressionCodec, CompressionError } from '../protocol/compression/index.js';
import { EncodeError } from '../protocol/primitives/errors.js';
import { decodeRecordBatch, encodeRecordBatch } from '../protocol/records/batch.js';
import {
  BATCH_HEADER_BYTES,
  BatchField,
  BatchSplitter,
  COMPRESSION_CODEC_MASK,
  CONTROL_BIT,
} from '../protocol/records/batch-view.js';
import { StorageError } from '../storage/errors.js';
import type { CompressionType, LogConfigValues } from '../storage/log-config.js';

/** Decompressed record bytes allowed per batch, as a multiple of the topic's max.message.bytes. */
export const MAX_DECOMPRESSION_RATIO = 64;
/** Ceiling on one batch's decompressed record bytes, whatever max.message.bytes is: 256 MiB. */
export const MAX_DECOMPRESSED_BATCH_BYTES = 256 * 1024 * 1024;

/** The codec id a topic's compression.type stores with; null for `producer` (keep as sent). */
export function topicCodec(type: CompressionType): CompressionCodec | null {
  switch (type) {
    case 'producer':
      return null;
    case 'uncompressed':
      return CompressionCodec.None;
    case 'gzip':
      return CompressionCodec.Gzip;
    case 'snappy':
      return CompressionCodec.Snappy;
    case 'lz4':
      return CompressionCodec.Lz4;
    case 'zstd':
      return CompressionCodec.Zstd;
  }
}

/**
 * Bytes of decompressed records one batch may expand to before it is rewritten with `codec`.
 * Stored uncompressed, the records must fit in max.message.bytes beside the batch header, so
 * decompression stops there; otherwise MAX_DECOMPRESSION_RATIO × max.message.bytes, capped.
 */
export function decompressionLimitBytes(codec: CompressionCodec, maxMessageBytes: number): number {
  if (codec === CompressionCodec.None) return Math.max(0, maxMessageBytes - BATCH_HEADER_BYTES);
  return Math.min(maxMessageBytes * MAX_DECOMPRESSION_RATIO, MAX_DECOMPRESSED_BATCH_BYTES);
}

const CODEC_NAMES = ['uncompressed', 'gzip', 'snappy', 'lz4', 'zstd'] as const;

function codecName(codec: number): string {
  return CODEC_NAMES[codec] ?? `codec ${codec}`;
}

/** Whether the batch at `pos` must be rewritten to be stored with `codec`. */
function needsRewrite(records: Buffer, pos: number, codec: CompressionCodec): boolean {
  const attributes = records.readUInt16BE(pos + BatchField.attributes);
  return (attributes & COMPRESSION_CODEC_MASK) !== codec && (attributes & CONTROL_BIT) === 0;
}

/**
 * The batches of a produce request as the topic stores them: `records` itself when the topic
 * keeps the producer's codec or every batch already has the topic's (or is a control batch),
 * else a new buffer with the differing batches rewritten. `name` labels error messages.
 * Throws a StorageError (see the header for which codes).
 */
export function recompressForTopic(
  records: Buffer,
  config: Pick<LogConfigValues, 'compressionType' | 'maxMessageBytes'>,
  name: string,
): Buffer {
  const codec = topicCodec(config.compressionType);
  if (codec === null) return records;

  // Hot path: header bytes only; most produce requests already use the topic's codec.
  const walk = new BatchSplitter(records);
  let rewrite = false;
  while (walk.next()) {
    if (needsRewrite(records, walk.position, codec)) {
      rewrite = true;
      break;
    }
  }
  // Nothing to rewrite, or bad framing: the log validates and reports it as for any append.
  if (!rewrite || walk.error !== null) return records;

  const out: Buffer[] = [];
  const batches = new BatchSplitter(records);
  while (batches.next()) {
    const batch = batches.batch();
    out.push(
      needsRewrite(records, batches.position, codec) ? rewriteBatch(batch, codec, config, name) : batch,
    );
  }
  // A framing error past the first rewritten batch: hand the original to the log to report.
  if (batches.error !== null) return records;
  return out.length === 1 ? out[0]! : Buffer.concat(out);
}

/** One batch decompressed (bounded, CRC checked) and encoded again with `codec`. */
function rewriteBatch(
  batch: Buffer,
  codec: CompressionCodec,
  config: Pick<LogConfigValues, 'maxMessageBytes'>,
  name: string,
): Buffer {
  const maxMessageBytes = config.maxMessageBytes;
  const from = codecName(batch.readUInt16BE(BatchField.attributes) & COMPRESSION_CODEC_MASK);
  const to = codecName(codec);
  if (batch.length > maxMessageBytes) {
    throw new StorageError(
      ErrorCode.MESSAGE_TOO_LARGE,
      `${name}: a record batch of ${batch.length} bytes exceeds max.message.bytes ${maxMessageBytes}`,
    );
  }
  const limitBytes = decompressionLimitBytes(codec, maxMessageBytes);
  const decoded = decodeRecordBatch(batch, { maxDecompressedBytes: limitBytes, verifyCrc: true });
  if (decoded instanceof CompressionError && decoded.reason === 'too-large') {
    throw new StorageError(
      ErrorCode.MESSAGE_TOO_LARGE,
      `${name}: the records of a ${from} batch decompress to more than ${limitBytes} bytes, the most allowed before storing them ${to}`,
    );
  }
  if (decoded instanceof Error) {
    throw new StorageError(
      ErrorCode.CORRUPT_MESSAGE,
      `${name}: a ${from} batch cannot be recompressed to ${to}: ${decoded.message}`,
    );
  }
  let rewritten: Buffer;
  try {
    rewritten = encodeRecordBatch(decoded, { compression: codec });
  } catch (e) {
    if (!(e instanceof EncodeError)) throw e;
    throw new StorageError(
      ErrorCode.CORRUPT_MESSAGE,
      `${name}: a ${from} batch cannot be rewritten as ${to}: ${e.message}`,
    );
  }
  if (rewritten.length > maxMessageBytes) {
    throw new StorageError(
      ErrorCode.MESSAGE_TOO_LARGE,
      `${name}: a ${from} batch of ${batch.length} bytes is ${rewritten.length} bytes recompressed ${to}, above max.message.bytes ${maxMessageBytes}`,
    );
  }
  return rewritten;
}
