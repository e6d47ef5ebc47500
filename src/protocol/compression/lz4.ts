/**
 * LZ4 (Kafka codec 3) through `lz4-napi` (the Rust lz4_flex library).
 *
 * Kafka uses the LZ4 *frame* format (magic 0x184D2204, a frame descriptor, then blocks each
 * prefixed by its length), not the bare block format of lz4-napi's `compress`/`uncompress`.
 * Java's client writes one frame of independent 64 KiB blocks without checksums; lz4-napi's
 * frame compressor writes the same shape (with larger blocks for larger inputs, which every
 * reader accepts), as does @platformatic/kafka.
 *
 * Bounded decompression: lz4-napi's frame decoder takes no output limit, so the frame is
 * walked here and each block is decoded on its own, as Java's KafkaLZ4BlockInputStream does.
 * lz4-napi's block decoder is given the room it may use, min(block maximum, bytes still allowed
 * under `maxBytes`), and fails rather than write past it; nothing larger is ever allocated.
 * Blocks of a linked frame (blocks not independent) get the previous 64 KiB of output as their
 * dictionary. The header, block and content checksums (xxHash32) are not verified: the record
 * batch's CRC32C already covers every compressed byte, and a corrupt block still fails to decode.
 * Concatenated frames are decoded one after the other; skippable frames are skipped.
 */
import { createRequire } from 'node:module';
import { causeMessage, CompressionError } from './errors.js';

type Lz4Lib = typeof import('lz4-napi');
let lz4Lib: Lz4Lib | null = null;
/** The native library loads on first use: a broker whose clients never use lz4 never pays its memory. */
function lz4(): Lz4Lib {
  return (lz4Lib ??= createRequire(import.meta.url)('lz4-napi') as Lz4Lib);
}

const LZ4 = 3;
const FRAME_MAGIC = 0x184d2204;
/** Skippable frames (magic 0x184D2A50 to 0x184D2A5F) carry user data and decode to nothing. */
const SKIPPABLE_MAGIC_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
/** Block maximum sizes by the BD byte's 3-bit code (4 to 7); codes 0-3 are reserved. */
const BLOCK_MAX_BYTES = [0, 0, 0, 0, 64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024];
/** One compressed byte decodes to at most 255 bytes (a match-length extension byte). */
const MAX_EXPANSION = 255;
/** How far back a linked block may refer. */
const WINDOW_BYTES = 64 * 1024;

export function lz4Compress(data: Buffer): Buffer {
  return lz4().compressFrameSync(data);
}

export function lz4Decompress(data: Buffer, maxBytes: number): Buffer | CompressionError {
  const out = new OutputChunks(maxBytes);
  let pos = 0;
  let frames = 0;
  while (pos < data.length) {
    const end = decodeFrame(data, pos, out);
    if (end instanceof CompressionError) return end;
    pos = end;
    frames++;
  }
  if (frames === 0) return corrupt('no LZ4 frame', 0);
  return out.concat();
}

/** Decoded blocks so far, and how many more bytes `maxBytes` allows. */
class OutputChunks {
  readonly chunks: Buffer[] = [];
  totalBytes = 0;
  readonly maxBytes: number;
  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }
  get allowedBytes(): number {
    return this.maxBytes - this.totalBytes;
  }
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.totalBytes += chunk.length;
  }
  /** The last `WINDOW_BYTES` of output of the current frame, for linked blocks. */
  window(frameStartChunk: number): Buffer {
    const parts: Buffer[] = [];
    let bytes = 0;
    for (let i = this.chunks.length - 1; i >= frameStartChunk && bytes < WINDOW_BYTES; i--) {
      const c = this.chunks[i]!;
      parts.unshift(c);
      bytes += c.length;
    }
    const joined = Buffer.concat(parts);
    return joined.length > WINDOW_BYTES ? joined.subarray(joined.length - WINDOW_BYTES) : joined;
  }
  concat(): Buffer {
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.totalBytes);
  }
}

/** Decodes the frame at `start` into `out`; returns where it ends. */
function decodeFrame(data: Buffer, start: number, out: OutputChunks): number | CompressionError {
  if (data.length - start < 4) return corrupt('truncated frame magic', start);
  const magic = data.readUInt32LE(start);
  if ((magic & SKIPPABLE_MAGIC_MASK) >>> 0 === SKIPPABLE_MAGIC) {
    if (data.length - start < 8) return corrupt('truncated skippable frame', start);
    const size = data.readUInt32LE(start + 4);
    if (size > data.length - start - 8) return corrupt('truncated skippable frame', start);
    return start + 8 + size;
  }
  if (magic !== FRAME_MAGIC) return corrupt(`bad frame magic 0x${magic.toString(16)}`, start);

  let pos = start + 4;
  if (data.length - pos < 3) return corrupt('truncated frame descriptor', pos);
  const flg = data[pos]!;
  const bd = data[pos + 1]!;
  if (flg >> 6 !== 1) return corrupt(`unsupported frame version ${flg >> 6}`, pos);
  // Reserved bits must be zero (Java's reader refuses them too): FLG bit 1, BD bits 7 and 0-3.
  if ((flg & 0x02) !== 0 || (bd & 0x8f) !== 0)
    return corrupt('reserved bits set in the frame descriptor', pos);
  const independent = (flg & 0x20) !== 0;
  const blockChecksum = (flg & 0x10) !== 0;
  const hasContentSize = (flg & 0x08) !== 0;
  const contentChecksum = (flg & 0x04) !== 0;
  const hasDictId = (flg & 0x01) !== 0;
  if (hasDictId) return corrupt('frames needing a preset dictionary are not supported', pos);
  const blockMaxBytes = BLOCK_MAX_BYTES[(bd >> 4) & 0x07] ?? 0;
  if (blockMaxBytes === 0) return corrupt(`reserved block size code ${(bd >> 4) & 0x07}`, pos + 1);
  // FLG, BD, the optional 8-byte content size, then the header checksum byte.
  const descriptorBytes = 2 + (hasContentSize ? 8 : 0) + 1;
  if (data.length - pos < descriptorBytes) return corrupt('truncated frame descriptor', pos);
  if (hasContentSize) {
    // An honest content size above the limit is refused at once; a lying one is caught below.
    const contentBytes = data.readUInt32LE(pos + 2) + data.readUInt32LE(pos + 6) * 2 ** 32;
    if (contentBytes > out.allowedBytes) return tooLarge(out.maxBytes, pos + 2);
  }
  pos += descriptorBytes;

  const frameStartChunk = out.chunks.length;
  for (;;) {
    if (data.length - pos < 4) return corrupt('truncated block header', pos);
    const word = data.readUInt32LE(pos);
    pos += 4;
    if (word === 0) break; // end mark
    const stored = (word & 0x80000000) !== 0;
    const blockBytes = word & 0x7fffffff;
    if (blockBytes > blockMaxBytes)
      return corrupt(`block of ${blockBytes} bytes above the frame's maximum`, pos - 4);
    if (data.length - pos < blockBytes + (blockChecksum ? 4 : 0)) return corrupt('truncated block', pos);
    const block = data.subarray(pos, pos + blockBytes);
    if (stored) {
      if (blockBytes > out.allowedBytes) return tooLarge(out.maxBytes, pos);
      out.push(block);
    } else {
      const decoded = decodeBlock(
        block,
        blockMaxBytes,
        out,
        independent ? null : out.window(frameStartChunk),
        pos,
      );
      if (decoded instanceof CompressionError) return decoded;
      out.push(decoded);
    }
    pos += blockBytes + (blockChecksum ? 4 : 0);
  }
  if (contentChecksum) {
    if (data.length - pos < 4) return corrupt('truncated content checksum', pos);
    pos += 4;
  }
  return pos;
}

function decodeBlock(
  block: Buffer,
  blockMaxBytes: number,
  out: OutputChunks,
  dict: Buffer | null,
  offset: number,
): Buffer | CompressionError {
  const possibleBytes = Math.min(blockMaxBytes, block.length * MAX_EXPANSION);
  const roomBytes = Math.min(possibleBytes, out.allowedBytes);
  const decoded = uncompressWithRoom(block, roomBytes, dict);
  if (Buffer.isBuffer(decoded)) return decoded;
  if (roomBytes < possibleBytes) {
    // The limit, not the block maximum, bounded the room: find out whether more room would have
    // decoded it (too large) or not (corrupt). This allocates at most one block maximum.
    const retry = uncompressWithRoom(block, possibleBytes, dict);
    if (Buffer.isBuffer(retry)) return tooLarge(out.maxBytes, offset);
  }
  return corrupt(decoded, offset);
}

/**
 * Decodes a bare block into at most `roomBytes`. lz4-napi's block decoder expects the size
 * prepended (4 bytes, little-endian); it allocates that much, and fails if the block needs more.
 */
function uncompressWithRoom(block: Buffer, roomBytes: number, dict: Buffer | null): Buffer | string {
  const input = Buffer.allocUnsafe(4 + block.length);
  input.writeUInt32LE(roomBytes, 0);
  block.copy(input, 4);
  try {
    return dict === null || dict.length === 0
      ? lz4().uncompressSync(input)
      : lz4().uncompressSync(input, dict);
  } catch (err) {
    return causeMessage(err);
  }
}

function corrupt(message: string, offset: number): CompressionError {
  return new CompressionError(LZ4, 'corrupt', message, offset);
}

function tooLarge(maxBytes: number, offset: number): CompressionError {
  return new CompressionError(
    LZ4,
    'too-large',
    `decompressed data exceeds the limit of ${maxBytes} bytes`,
    offset,
  );
}
