/**
 * Zstandard (Kafka codec 4) through `zstd-napi` (bindings to the reference C library).
 *
 * Bounding decompression: zstd-napi's convenient `decompress` trusts the frame header's content
 * size and otherwise grows without limit, so we drive the low-level context ourselves:
 * - one frame that declares its content size (what one-shot compressors, ours included, write):
 *   refuse it if the size passes `maxBytes`, else decompress into a buffer of exactly that size
 *   (a lying header then fails, the library never writes past the buffer);
 * - anything else (Java's streaming producer leaves the size out; several frames): streaming
 *   decompression into chunks, each no larger than the bytes still allowed plus one, failing
 *   as soon as the running total passes `maxBytes`.
 * The decoder's window buffer is limited by libzstd's default windowLogMax (2^27 bytes), which
 * Kafka's own broker also accepts; the context is shared so that buffer is allocated once.
 */
import { createRequire } from 'node:module';
import { causeMessage, CompressionError } from './errors.js';

type ZstdBinding = typeof import('zstd-napi/binding.js');
type ZstdLib = typeof import('zstd-napi');
let zstdLib: { binding: ZstdBinding; lib: ZstdLib; chunkBytes: number } | null = null;
/** The native library loads on first use: a broker whose clients never use zstd never pays its memory. */
function zstd(): { binding: ZstdBinding; lib: ZstdLib; chunkBytes: number } {
  if (zstdLib === null) {
    const require = createRequire(import.meta.url);
    const binding = require('zstd-napi/binding.js') as ZstdBinding;
    // Streaming chunk size: libzstd's recommended output buffer size (one block, 128 KiB).
    zstdLib = { binding, lib: require('zstd-napi') as ZstdLib, chunkBytes: binding.dStreamOutSize() };
  }
  return zstdLib;
}

const ZSTD = 4;

let sharedContext: InstanceType<ZstdBinding['DCtx']> | null = null;

export function zstdCompress(data: Buffer): Buffer {
  // Level 3 is libzstd's default and Kafka's (compression.zstd.level).
  return zstd().lib.compress(data);
}

export function zstdDecompress(data: Buffer, maxBytes: number): Buffer | CompressionError {
  const { binding } = zstd();
  const dctx = (sharedContext ??= new binding.DCtx());
  try {
    // A previous call may have failed mid-frame; start from a clean frame state.
    dctx.reset(binding.ResetDirective.sessionOnly);
    const single = singleFrameContentSize(data);
    if (single !== null) {
      if (single > maxBytes) return tooLarge(maxBytes);
      const out = Buffer.allocUnsafe(single);
      const written = dctx.decompress(out, data);
      if (written !== single) return corrupt('frame did not decode to its declared content size');
      return out;
    }
    return decompressStreaming(dctx, data, maxBytes);
  } catch (err) {
    return corrupt(causeMessage(err));
  }
}

/** The content size when `data` is exactly one frame that declares it, else null. */
function singleFrameContentSize(data: Buffer): number | null {
  const { binding } = zstd();
  let size: number | null;
  try {
    size = binding.getFrameContentSize(data);
    if (size === null) return null;
    if (binding.findFrameCompressedSize(data) !== data.length) return null;
  } catch {
    // Not parseable as one frame here; the streaming path reports the real error.
    return null;
  }
  return size;
}

function decompressStreaming(
  dctx: InstanceType<ZstdBinding['DCtx']>,
  data: Buffer,
  maxBytes: number,
): Buffer | CompressionError {
  const chunks: Buffer[] = [];
  let totalBytes = 0;
  let src = data;
  if (src.length === 0) return corrupt('no zstd frame');
  for (;;) {
    // One byte more than still allowed, so that passing the limit is seen rather than cut off.
    const room = Math.min(zstd().chunkBytes, maxBytes - totalBytes + 1);
    const dst = Buffer.allocUnsafe(room);
    const [remaining, produced, consumed] = dctx.decompressStream(dst, src);
    totalBytes += produced;
    if (totalBytes > maxBytes) return tooLarge(maxBytes);
    if (produced > 0) chunks.push(dst.subarray(0, produced));
    src = src.subarray(consumed);
    if (remaining === 0 && src.length === 0) break; // last frame complete
    if (remaining === 0) continue; // a frame ended; another follows
    // Mid-frame: if all input is used and the output was not full, the frame is cut short.
    if (src.length === 0 && produced < dst.length) return corrupt('truncated frame');
    if (produced === 0 && consumed === 0) return corrupt('decoder made no progress');
  }
  return Buffer.concat(chunks, totalBytes);
}

function corrupt(message: string): CompressionError {
  return new CompressionError(ZSTD, 'corrupt', message);
}

function tooLarge(maxBytes: number): CompressionError {
  return new CompressionError(ZSTD, 'too-large', `decompressed data exceeds the limit of ${maxBytes} bytes`);
}
