/**
 * gzip (Kafka codec 1) through node:zlib.
 *
 * Decompression is bounded by zlib itself: `maxOutputLength` makes it stop and fail as soon as
 * the output would pass the limit, so a gzip bomb never allocates more than `maxBytes`.
 * Concatenated gzip members (which Java's GZIPInputStream also accepts) decode as one stream.
 */
import { constants as bufferConstants } from 'node:buffer';
import { gunzipSync, gzipSync } from 'node:zlib';
import { causeMessage, CompressionError } from './errors.js';

const GZIP = 1;

export function gzipCompress(data: Buffer): Buffer {
  // zlib's default level (6) is also what Kafka's Java client uses (Deflater.DEFAULT_COMPRESSION).
  return gzipSync(data);
}

export function gzipDecompress(data: Buffer, maxBytes: number): Buffer | CompressionError {
  // zlib rejects a maxOutputLength below 1 or above the largest Buffer; clamp it and check the
  // result afterwards so that `maxBytes = 0` still means "only empty output".
  const limitBytes = Math.max(1, Math.min(maxBytes, bufferConstants.MAX_LENGTH));
  let out: Buffer;
  try {
    out = gunzipSync(data, { maxOutputLength: limitBytes });
  } catch (err) {
    if (err instanceof RangeError && (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      return tooLarge(maxBytes);
    }
    return new CompressionError(GZIP, 'corrupt', causeMessage(err));
  }
  return out.length > maxBytes ? tooLarge(maxBytes) : out;
}

function tooLarge(maxBytes: number): CompressionError {
  return new CompressionError(GZIP, 'too-large', `decompressed data exceeds the limit of ${maxBytes} bytes`);
}
