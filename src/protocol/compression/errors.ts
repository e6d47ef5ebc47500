/**
 * The one error type of the compression layer. Decompression runs on bytes sent by clients
 * or read back from disk, so every failure of a codec library (corrupt data, truncation, a
 * declared size above the caller's limit) is caught and returned as a CompressionError; no
 * untyped exception escapes `decompress`.
 */
import { DecodeError } from '../primitives/errors.js';

/**
 * - `corrupt`: the data is not valid for its codec (bad magic, checksum, truncation...).
 * - `too-large`: decompressing would produce more than the caller's `maxBytes`.
 * - `unknown-codec`: the codec id is not one Kafka defines (0-4).
 */
export type CompressionErrorReason = 'corrupt' | 'too-large' | 'unknown-codec';

/**
 * A DecodeError, so a record-batch decoder can return it unchanged. `offset` is the byte in
 * the compressed data where the problem was found, or 0 when the codec library does not say.
 */
export class CompressionError extends DecodeError {
  override readonly name = 'CompressionError';
  readonly reason: CompressionErrorReason;
  /** Kafka's codec id (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd, or the unknown id). */
  readonly codec: number;

  constructor(codec: number, reason: CompressionErrorReason, message: string, offset = 0) {
    super(`${codecName(codec)}: ${message}`, offset);
    this.codec = codec;
    this.reason = reason;
  }
}

function codecName(codec: number): string {
  switch (codec) {
    case 0:
      return 'none';
    case 1:
      return 'gzip';
    case 2:
      return 'snappy';
    case 3:
      return 'lz4';
    case 4:
      return 'zstd';
    default:
      return `codec ${codec}`;
  }
}

/** The message of whatever a codec library threw. */
export function causeMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
