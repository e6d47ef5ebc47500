import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { compressFrameSync, compressSync as lz4BlockCompress } from 'lz4-napi';
import { compressSync as snappyRawCompress } from 'snappy';
import { compress as zstdLibCompress } from 'zstd-napi';
import {
  compress,
  CompressionCodec,
  CompressionError,
  decompress,
  isCompressionCodec,
} from '../../../src/protocol/compression/index.js';
import { isXerialFramed, snappyCompressRaw } from '../../../src/protocol/compression/snappy.js';

const CODECS = [
  CompressionCodec.None,
  CompressionCodec.Gzip,
  CompressionCodec.Snappy,
  CompressionCodec.Lz4,
  CompressionCodec.Zstd,
] as const;
const COMPRESSING = CODECS.filter((c) => c !== CompressionCodec.None);
const MiB = 1024 * 1024;

function mixedData(bytes: number): Buffer {
  // Half random, half repetitive: compressible but not trivially.
  const out = Buffer.alloc(bytes);
  randomBytes(bytes >> 1).copy(out);
  out.fill('samsa ', bytes >> 1);
  return out;
}

function expectError(
  result: Buffer | CompressionError,
  reason: CompressionError['reason'],
): CompressionError {
  if (!(result instanceof CompressionError))
    assert.fail(`expected a CompressionError, got ${result.length} bytes`);
  assert.equal(result.reason, reason, result.message);
  return result;
}

void test('every codec round-trips empty, small and multi-block data', () => {
  for (const codec of CODECS) {
    for (const size of [0, 1, 100, 70_000, 300_000]) {
      const data = mixedData(size);
      const back = decompress(codec, compress(codec, data), MiB);
      assert.ok(Buffer.isBuffer(back), `codec ${codec}, ${size} bytes: ${String(back)}`);
      assert.ok(back.equals(data), `codec ${codec}, ${size} bytes`);
    }
  }
});

void test('codec ids: 0-4 known, others refused with a typed error', () => {
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 7, -1, 1.5].map((id) => isCompressionCodec(id)),
    [true, true, true, true, true, false, false, false, false],
  );
  for (const id of [5, 6, 7]) {
    const err = expectError(decompress(id, Buffer.from('x'), MiB), 'unknown-codec');
    assert.equal(err.codec, id);
  }
  assert.throws(() => compress(9 as CompressionCodec, Buffer.from('x')), CompressionError);
});

void test('snappy writes xerial framing with 32 KiB blocks, as the Java client does', () => {
  const data = mixedData(100_000);
  const framed = compress(CompressionCodec.Snappy, data);
  assert.ok(isXerialFramed(framed));
  assert.deepEqual(
    [...framed.subarray(0, 16)],
    [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0, 0, 0, 0, 1, 0, 0, 0, 1],
  );
  // Walk the blocks: ceil(100000 / 32768) = 4.
  let blocks = 0;
  for (let pos = 16; pos < framed.length; blocks++) pos += 4 + framed.readInt32BE(pos);
  assert.equal(blocks, 4);
});

void test('snappy reads raw blocks (librdkafka, kafkajs, @platformatic/kafka) as well as xerial', () => {
  const data = mixedData(50_000);
  const raw = snappyRawCompress(data);
  assert.ok(!isXerialFramed(raw));
  const back = decompress(CompressionCodec.Snappy, raw, MiB);
  assert.ok(Buffer.isBuffer(back) && back.equals(data));
  assert.ok(snappyCompressRaw(data).equals(raw));
});

void test('snappy: a xerial stream with only its header decodes to nothing', () => {
  const headerOnly = compress(CompressionCodec.Snappy, Buffer.alloc(0));
  assert.equal(headerOnly.length, 16);
  const back = decompress(CompressionCodec.Snappy, headerOnly, MiB);
  assert.ok(Buffer.isBuffer(back) && back.length === 0);
});

void test('lz4 writes Kafka-style frames: magic, independent blocks, no checksums', () => {
  const frame = compress(CompressionCodec.Lz4, mixedData(1000));
  assert.equal(frame.readUInt32LE(0), 0x184d2204);
  const flg = frame[4]!;
  assert.equal(flg >> 6, 1, 'version 01');
  assert.ok((flg & 0x20) !== 0, 'independent blocks');
  assert.equal(frame[5]! & 0x70, 0x40, '64 KiB blocks for a small input');
});

void test('lz4 reads concatenated frames and skips skippable frames', () => {
  const a = mixedData(5000);
  const b = mixedData(7000);
  const skippable = Buffer.from([0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 9, 9, 9]);
  const input = Buffer.concat([compressFrameSync(a), skippable, compressFrameSync(b)]);
  const back = decompress(CompressionCodec.Lz4, input, MiB);
  assert.ok(Buffer.isBuffer(back) && back.equals(Buffer.concat([a, b])));
});

void test('lz4 reads frames with block and content checksums', () => {
  const data = mixedData(3000);
  const checked = compressFrameSync(data, { contentChecksum: true, blockChecksums: true });
  const back = decompress(CompressionCodec.Lz4, checked, MiB);
  assert.ok(Buffer.isBuffer(back) && back.equals(data));
});

void test('lz4 reads linked-block frames (each block may refer to the previous output)', () => {
  const d1 = mixedData(3000);
  const d2 = Buffer.concat([d1.subarray(1500, 3000), mixedData(500)]);
  // lz4-napi's bare blocks carry a 4-byte size prefix; a frame block is the rest.
  const b1 = lz4BlockCompress(d1).subarray(4);
  const b2 = lz4BlockCompress(d2, d1).subarray(4);
  const len = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n, 0);
    return b;
  };
  // FLG 0x40: version 1, blocks not independent; BD 0x40: 64 KiB; HC not checked by us.
  const frame = Buffer.concat([
    Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x40, 0x40, 0x00]),
    len(b1.length),
    b1,
    len(b2.length),
    b2,
    len(0),
  ]);
  const back = decompress(CompressionCodec.Lz4, frame, MiB);
  assert.ok(Buffer.isBuffer(back), String(back));
  assert.ok(back.equals(Buffer.concat([d1, d2])));
});

void test('lz4: a content size that lies (smaller than the data) does not let the output pass the limit', () => {
  const data = Buffer.alloc(200_000, 7);
  const frame = compressFrameSync(data);
  // Rebuild the descriptor with FLG's content-size bit and a declared size of 10 bytes.
  const flg = frame[4]! | 0x08;
  const size = Buffer.alloc(8);
  size.writeUInt32LE(10, 0);
  const liar = Buffer.concat([frame.subarray(0, 4), Buffer.from([flg, frame[5]!]), size, frame.subarray(6)]);
  expectError(decompress(CompressionCodec.Lz4, liar, 100_000), 'too-large');
  const ok = decompress(CompressionCodec.Lz4, liar, 200_000);
  assert.ok(Buffer.isBuffer(ok) && ok.equals(data));
});

void test('zstd reads frames without a content size (Java streams them) and several frames', () => {
  const data = mixedData(400_000);
  const streamed = zstdLibCompress(data, { contentSizeFlag: false });
  const back = decompress(CompressionCodec.Zstd, streamed, MiB);
  assert.ok(Buffer.isBuffer(back) && back.equals(data));
  const two = Buffer.concat([
    zstdLibCompress(data.subarray(0, 1000)),
    zstdLibCompress(data.subarray(1000, 5000)),
  ]);
  const back2 = decompress(CompressionCodec.Zstd, two, MiB);
  assert.ok(Buffer.isBuffer(back2) && back2.equals(data.subarray(0, 5000)));
});

void test('decompression bombs stop at maxBytes with a typed error, for every codec', () => {
  const zeros = Buffer.alloc(16 * MiB);
  const bombs: Array<[number, Buffer]> = [
    [CompressionCodec.Gzip, gzipSync(zeros)],
    [CompressionCodec.Snappy, compress(CompressionCodec.Snappy, zeros)],
    [CompressionCodec.Snappy, snappyRawCompress(zeros)],
    [CompressionCodec.Lz4, compressFrameSync(zeros)],
    [CompressionCodec.Zstd, zstdLibCompress(zeros)],
    [CompressionCodec.Zstd, zstdLibCompress(zeros, { contentSizeFlag: false })],
  ];
  for (const [codec, bomb] of bombs) {
    assert.ok(bomb.length < MiB, `codec ${codec}: a bomb is small (${bomb.length} bytes)`);
    expectError(decompress(codec, bomb, MiB), 'too-large');
    // Just enough room is fine.
    const ok = decompress(codec, bomb, 16 * MiB);
    assert.ok(Buffer.isBuffer(ok) && ok.length === 16 * MiB, `codec ${codec} at the limit`);
  }
  expectError(decompress(CompressionCodec.None, Buffer.alloc(10), 9), 'too-large');
});

void test('the limit is exact: maxBytes = size passes, size - 1 fails', () => {
  const data = mixedData(10_000);
  for (const codec of COMPRESSING) {
    const z = compress(codec, data);
    const ok = decompress(codec, z, data.length);
    assert.ok(Buffer.isBuffer(ok) && ok.equals(data), `codec ${codec}`);
    expectError(decompress(codec, z, data.length - 1), 'too-large');
  }
});

void test('a declared snappy length above the limit is refused before decompressing', () => {
  // A raw block claiming 2^31 bytes: refused from the varint alone.
  const liar = Buffer.from([0x80, 0x80, 0x80, 0x80, 0x08, 0x00]);
  expectError(decompress(CompressionCodec.Snappy, liar, MiB), 'too-large');
});

void test('a lz4 frame declaring a huge content size is refused', () => {
  // FLG with the content-size bit; the header checksum is not even needed to refuse it.
  const frame = Buffer.from([
    0x04, 0x22, 0x4d, 0x18, 0x68, 0x40, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x00, 0, 0, 0, 0,
  ]);
  expectError(decompress(CompressionCodec.Lz4, frame, MiB), 'too-large');
});

void test('truncated and bit-flipped compressed data returns errors, never throws', () => {
  const data = mixedData(20_000);
  for (const codec of COMPRESSING) {
    const z = compress(codec, data);
    for (const cut of [0, 1, 4, 8, 16, z.length >> 1, z.length - 1]) {
      const r = decompress(codec, z.subarray(0, cut), MiB);
      assert.ok(r instanceof CompressionError || Buffer.isBuffer(r));
      if (Buffer.isBuffer(r))
        assert.ok(!r.equals(data), `codec ${codec} cut at ${cut} cannot give the full data`);
    }
  }
});

void test('fuzz: decompress never throws on random or mutated input', () => {
  const samples = COMPRESSING.map((codec) => ({ codec, z: compress(codec, mixedData(3000)) }));
  fc.assert(
    fc.property(fc.constantFrom(...COMPRESSING), fc.uint8Array({ maxLength: 300 }), (codec, bytes) => {
      const r = decompress(codec, Buffer.from(bytes), 64 * 1024);
      assert.ok(r instanceof CompressionError || Buffer.isBuffer(r));
    }),
    { numRuns: 400 },
  );
  fc.assert(
    fc.property(
      fc.constantFrom(...samples),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
      ({ codec, z }, flips) => {
        const mutated = Buffer.from(z);
        for (const [at, xor] of flips) mutated[at % mutated.length]! ^= xor;
        const r = decompress(codec, mutated, 64 * 1024);
        assert.ok(r instanceof CompressionError || Buffer.isBuffer(r));
        if (Buffer.isBuffer(r)) assert.ok(r.length <= 64 * 1024);
      },
    ),
    { numRuns: 400 },
  );
});
