/**
 * Snappy (Kafka codec 2) through the `snappy` package (native Rust bindings).
 *
 * Two framings exist on the wire and both must be read:
 * - Java's clients wrap snappy in xerial's stream framing: an 8-byte magic (0x82 "SNAPPY" 0x00),
 *   two int32 version numbers, then blocks, each an int32 length and a raw snappy block.
 * - librdkafka-based clients, kafkajs's usual codec and @platformatic/kafka send one raw block.
 * We write the xerial framing, as the Java client does (32 KiB blocks, like xerial's default).
 *
 * Decompression is bounded without trusting the library: every raw block starts with its
 * uncompressed length as a varint, so the declared sizes are summed and checked against
 * `maxBytes` before anything is decompressed. The library then allocates exactly the declared
 * size per block and fails if the data does not decode to it.
 */
import { createRequire } from 'node:module';
import { causeMessage, CompressionError } from './errors.js';

type SnappyLib = typeof import('snappy');
let snappyLib: SnappyLib | null = null;
/** The native library loads on first use: a broker whose clients never use snappy never pays its memory. */
function snappy(): SnappyLib {
  return (snappyLib ??= createRequire(import.meta.url)('snappy') as SnappyLib);
}

const SNAPPY = 2;

/** xerial's magic: 0x82, "SNAPPY", 0x00. */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
/** Magic, then version and minimum compatible version (both 1 in every xerial release). */
const XERIAL_HEADER = Buffer.concat([XERIAL_MAGIC, Buffer.from([0, 0, 0, 1, 0, 0, 0, 1])]);
const XERIAL_HEADER_BYTES = 16;
/** xerial's SnappyOutputStream default block size, used by Kafka's Java producer. */
const XERIAL_BLOCK_BYTES = 32 * 1024;

/** Compresses into xerial framing, as Kafka's Java producer writes snappy batches. */
export function snappyCompress(data: Buffer): Buffer {
  const parts: Buffer[] = [XERIAL_HEADER];
  for (let pos = 0; pos < data.length; pos += XERIAL_BLOCK_BYTES) {
    const block = snappy().compressSync(data.subarray(pos, Math.min(pos + XERIAL_BLOCK_BYTES, data.length)));
    const len = Buffer.allocUnsafe(4);
    len.writeInt32BE(block.length, 0);
    parts.push(len, block);
  }
  return Buffer.concat(parts);
}

/** Compresses into one raw snappy block (the framing librdkafka and kafkajs write). */
export function snappyCompressRaw(data: Buffer): Buffer {
  return snappy().compressSync(data);
}

export function isXerialFramed(data: Buffer): boolean {
  return data.length >= XERIAL_HEADER_BYTES && data.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC);
}

/** Decompresses either framing, detected from the xerial magic (as Java's SnappyInputStream does). */
export function snappyDecompress(data: Buffer, maxBytes: number): Buffer | CompressionError {
  if (!isXerialFramed(data)) {
    const declared = declaredLength(data, 0, data.length);
    if (declared < 0) return corrupt('raw block does not start with a valid length', 0);
    if (declared > maxBytes) return tooLarge(declared, maxBytes);
    return uncompressBlock(data, declared, 0);
  }

  // First pass: walk the block lengths and add up the declared sizes, allocating nothing.
  let totalBytes = 0;
  let blockCount = 0;
  for (let pos = XERIAL_HEADER_BYTES; pos < data.length;) {
    if (data.length - pos < 4) return corrupt('truncated block length', pos);
    const blockBytes = data.readInt32BE(pos);
    pos += 4;
    if (blockBytes < 0 || blockBytes > data.length - pos)
      return corrupt(`block length ${blockBytes} is out of range`, pos - 4);
    const declared = declaredLength(data, pos, pos + blockBytes);
    if (declared < 0) return corrupt('block does not start with a valid length', pos);
    totalBytes += declared;
    if (totalBytes > maxBytes) return tooLarge(totalBytes, maxBytes);
    pos += blockBytes;
    blockCount++;
  }

  // Second pass: decompress each block into its place in one output buffer.
  const out = Buffer.allocUnsafe(totalBytes);
  let outPos = 0;
  for (let pos = XERIAL_HEADER_BYTES, i = 0; i < blockCount; i++) {
    const blockBytes = data.readInt32BE(pos);
    pos += 4;
    const block = data.subarray(pos, pos + blockBytes);
    const decoded = uncompressBlock(block, declaredLength(block, 0, block.length), pos);
    if (decoded instanceof CompressionError) return decoded;
    outPos += decoded.copy(out, outPos);
    pos += blockBytes;
  }
  return out;
}

/** The uncompressed length a raw snappy block declares (a uvarint of at most 32 bits), or -1. */
function declaredLength(data: Buffer, start: number, end: number): number {
  let value = 0;
  for (let i = 0; i < 5 && start + i < end; i++) {
    const b = data[start + i]!;
    if (i === 4 && b > 0x0f) return -1;
    value += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) return value;
  }
  return -1;
}

function uncompressBlock(block: Buffer, declaredBytes: number, offset: number): Buffer | CompressionError {
  let out: string | Buffer;
  try {
    out = snappy().uncompressSync(block, { asBuffer: true });
  } catch (err) {
    return corrupt(causeMessage(err), offset);
  }
  if (typeof out === 'string' || out.length !== declaredBytes) {
    return corrupt('block did not decode to its declared length', offset);
  }
  return out;
}

function corrupt(message: string, offset: number): CompressionError {
  return new CompressionError(SNAPPY, 'corrupt', message, offset);
}

function tooLarge(declaredBytes: number, maxBytes: number): CompressionError {
  return new CompressionError(
    SNAPPY,
    'too-large',
    `declared uncompressed size of at least ${declaredBytes} bytes exceeds the limit of ${maxBytes} bytes`,
  );
}
