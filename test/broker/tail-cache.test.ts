/**
 * The tail cache of recent small appends, alone and behind a Partition over a real log: what it
 * answers is byte for byte what a log read returns, and it answers nothing it is not sure of
 * (a gap, an offset inside an append, an append too large, a high watermark elsewhere).
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { Partition } from '../../src/broker/replica-manager.js';
import {
  TAIL_APPEND_MAX_BYTES,
  TAIL_CACHE_BYTES,
  TAIL_CARRY_BYTES,
  TailArenas,
  TailCache,
} from '../../src/broker/tail-cache.js';
import { makeBatch, openLog, TempRoot } from '../storage/support/log-fixtures.js';

const tmp = new TempRoot('samsa-tail-cache-test-');
after(() => tmp.remove());

/** `bytes` bytes all equal to `fill`. */
const bytesOf = (bytes: number, fill: number): Buffer => Buffer.alloc(bytes, fill);

void describe('TailCache', () => {
  void test('answers from the start of any append held to the end; nothing else', () => {
    const c = new TailCache(new TailArenas());
    c.add(10, 12, bytesOf(100, 1));
    c.add(12, 13, bytesOf(50, 2));
    c.add(13, 16, bytesOf(70, 3));
    assert.equal(c.endOffset, 16);
    assert.deepEqual(c.from(10), Buffer.concat([bytesOf(100, 1), bytesOf(50, 2), bytesOf(70, 3)]));
    assert.deepEqual(c.from(13), bytesOf(70, 3));
    assert.equal(c.from(11), null, 'inside an append');
    assert.equal(c.from(9), null, 'before the first');
    assert.equal(c.from(16), null, 'at the end: nothing to answer');
  });

  void test('an append that does not continue the last empties it first', () => {
    const c = new TailCache(new TailArenas());
    c.add(0, 1, bytesOf(10, 1));
    c.add(5, 6, bytesOf(10, 2));
    assert.equal(c.from(0), null);
    assert.deepEqual(c.from(5), bytesOf(10, 2));
  });

  void test('a large append is not kept and empties the cache', () => {
    const c = new TailCache(new TailArenas());
    c.add(0, 1, bytesOf(10, 1));
    c.add(1, 2, bytesOf(TAIL_APPEND_MAX_BYTES + 1, 2));
    assert.equal(c.endOffset, -1);
    assert.equal(c.from(0), null);
    assert.equal(c.from(1), null);
    c.add(2, 3, bytesOf(10, 3));
    assert.deepEqual(c.from(2), bytesOf(10, 3), 'kept again from the next small one');
  });

  void test('a full arena moves on with the newest appends; answers already given keep their bytes', () => {
    const c = new TailCache(new TailArenas());
    const size = 1000;
    const given: { offset: number; bytes: Buffer }[] = [];
    const appends = Math.ceil((3 * TAIL_CACHE_BYTES) / size);
    for (let i = 0; i < appends; i++) {
      c.add(i, i + 1, bytesOf(size, i % 256));
      const answer = c.from(i)!;
      given.push({ offset: i, bytes: answer });
    }
    for (const g of given) assert.deepEqual(g.bytes, bytesOf(size, g.offset % 256), `answer ${g.offset}`);
    // The newest appends are still held, at least TAIL_CARRY_BYTES of them.
    const held = Math.floor(TAIL_CARRY_BYTES / size);
    const from = appends - held;
    const expected = Buffer.concat(Array.from({ length: held }, (_, k) => bytesOf(size, (from + k) % 256)));
    assert.deepEqual(c.from(from), expected);
  });
  void test('caches past the shared arena limit keep nothing; an arena given back is used again', () => {
    const arenas = new TailArenas(1);
    const a = new TailCache(arenas);
    const b = new TailCache(arenas);
    a.add(0, 1, bytesOf(10, 1));
    b.add(0, 1, bytesOf(10, 2));
    assert.deepEqual(a.from(0), bytesOf(10, 1));
    assert.equal(b.from(0), null, 'no arena left');
    a.clear();
    b.add(1, 2, bytesOf(10, 3));
    assert.deepEqual(b.from(1), bytesOf(10, 3));
    assert.equal(arenas.left, 0);
    b.clear();
    assert.equal(arenas.left, 1);
  });
});

void describe('Partition.cachedFrom', () => {
  void test('matches a log read at the log end, within limits, only up to the high watermark', async () => {
    const { log } = await openLog({ dir: tmp.dir() });
    const p = new Partition('topic', 0, 'id', log, 1, 0, new TailArenas());
    try {
      const big = makeBatch({ records: 2, valueBytes: TAIL_APPEND_MAX_BYTES });
      await p.appendAsLeader(big);
      assert.equal(p.cachedFrom(0, 1 << 20), null, 'large appends are read from the file');
      for (let i = 0; i < 5; i++) await p.appendAsLeader(makeBatch({ records: 2, key: `a${i}` }));
      // Offsets 0-1 in the large batch, then five batches of two: 2-3, 4-5, … 10-11.
      for (const offset of [2, 4, 8, 10]) {
        const read = await log.read(offset, 1 << 20, { maxOffset: p.highWatermark });
        assert.deepEqual(p.cachedFrom(offset, 1 << 20), read.records, `from ${offset}`);
      }
      assert.equal(p.cachedFrom(12, 1 << 20), null, 'at the end');
      assert.equal(p.cachedFrom(3, 1 << 20), null, 'inside a batch: read the log');
      const two = (await log.read(8, 1 << 20)).records.length;
      assert.equal(p.cachedFrom(6, two), null, 'over the limit: the log read cuts it');
      p.highWatermark = 8;
      assert.equal(p.cachedFrom(6, 1 << 20), null, 'not all visible: read the log');
    } finally {
      await log.close();
    }
  });
});
