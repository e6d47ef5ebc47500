/**
 * Compression codecs of Kafka record batches, keyed by the codec id stored in bits 0-2 of a
 * batch's attributes: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd. One file per codec.
 *
 * `decompress` never throws: corrupt data, a size above `maxBytes` or an unknown codec come
 * back as a CompressionError (a DecodeError). Every codec checks the limit before allocating
 * the output, as far as its library allows (see each file's header).
 * Both directions are synchronous; a caller that must not block the event loop on a large
 * batch runs them off the main thread.
 */
import { CompressionError } from './errors.js';
import { gzipCompress, gzipDecompress } from './gzip.js';
import { lz4Compress, lz4Decompress } from './lz4.js';
import { snappyCompress, snappyDecompress } from './snappy.js';
import { zstdCompress, zstdDecompress } from './zstd.js';

export { CompressionError, type CompressionErrorReason } from './errors.js';

export const CompressionCodec = {
  None: 0,
  Gzip: 1,
  Snappy: 2,
  Lz4: 3,
  Zstd: 4,
} as const;
export type CompressionCodec = (typeof CompressionCodec)[keyof typeof CompressionCodec];

export function isCompressionCodec(id: number): id is CompressionCodec {
  return Number.isInteger(id) && id >= 0 && id <= 4;
}

/** Compresses `data`; codec 0 returns it unchanged. Throws CompressionError only for an unknown codec (a programming error). */
export function compress(codec: CompressionCodec, data: Buffer): Buffer {
  switch (codec) {
    case CompressionCodec.None:
      return data;
    case CompressionCodec.Gzip:
      return gzipCompress(data);
    case CompressionCodec.Snappy:
      return snappyCompress(data);
    case CompressionCodec.Lz4:
      return lz4Compress(data);
    case CompressionCodec.Zstd:
      return zstdCompress(data);
    default:
      throw new CompressionError(codec, 'unknown-codec', 'unknown compression codec');
  }
}

/**
 * Decompresses `data`, producing at most `maxBytes` bytes. Codec 0 returns `data` itself
 * (subject to the same limit). Accepts an untrusted codec id, as read from a batch header.
 */
export function decompress(codec: number, data: Buffer, maxBytes: number): Buffer | CompressionError {
  switch (codec) {
    case CompressionCodec.None:
      return data.length > maxBytes
        ? new CompressionError(
            codec,
            'too-large',
            `${data.length} bytes exceed the limit of ${maxBytes} bytes`,
          )
        : data;
    case CompressionCodec.Gzip:
      return gzipDecompress(data, maxBytes);
    case CompressionCodec.Snappy:
      return snappyDecompress(data, maxBytes);
    case CompressionCodec.Lz4:
      return lz4Decompress(data, maxBytes);
    case CompressionCodec.Zstd:
      return zstdDecompress(data, maxBytes);
    default:
      return new CompressionError(codec, 'unknown-codec', 'unknown compression codec');
  }
}
