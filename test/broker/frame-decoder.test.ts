/**
 * The frame decoder against every way a byte stream can be cut: frames of random sizes (zero
 * included) split into chunks of random sizes (single bytes included) come out whole, in order,
 * byte for byte; a size over the limit is refused with the frames before it handed on.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrameDecoder } from '../../src/protocol/frame-decoder.js';

/** A deterministic pseudo-random source (xorshift32). */
function random(seed: number): (n: number) => number {
  let x = seed || 1;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}

function frame(body: Buffer): Buffer {
  const f = Buffer.alloc(4 + body.length);
  f.writeInt32BE(body.length, 0);
  body.copy(f, 4);
  return f;
}

void test('frames come out whole and in order however the stream is cut', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const rnd = random(seed);
    const bodies = Array.from({ length: 1 + rnd(20) }, (_, i) => {
      const size = rnd(4) === 0 ? 0 : rnd(3) === 0 ? 70_000 + rnd(1000) : rnd(300);
      return Buffer.alloc(size, (seed * 31 + i) % 256);
    });
    const stream = Buffer.concat(bodies.map(frame));
    const decoder = new FrameDecoder(1 << 20);
    const got: Buffer[] = [];
    for (let at = 0; at < stream.length;) {
      const cut = rnd(3) === 0 ? 1 + rnd(8) : 1 + rnd(100_000);
      const chunk = Buffer.from(stream.subarray(at, at + cut));
      at += cut;
      assert.equal(
        decoder.push(chunk, (f) => got.push(Buffer.from(f))),
        null,
      );
    }
    assert.deepEqual(got, bodies, `seed ${seed}`);
    assert.equal(decoder.bufferedBytes, 0);
  }
});

void test('a size over the limit is refused after the frames before it', () => {
  const decoder = new FrameDecoder(100);
  const got: Buffer[] = [];
  const over = Buffer.alloc(4);
  over.writeInt32BE(101, 0);
  const error = decoder.push(Buffer.concat([frame(Buffer.from('ok')), over]), (f) => got.push(f));
  assert.deepEqual(got, [Buffer.from('ok')]);
  assert.match(error ?? '', /outside the limit of 100/);
  const negative = new FrameDecoder(100).push(Buffer.from([0xff, 0xff, 0xff, 0xff]), () => undefined);
  assert.match(negative ?? '', /outside the limit/);
});
