/**
 * The partitioner against Kafka's own test vectors (UtilsTest.testMurmur2) and against kafkajs's
 * DefaultPartitioner (Java-compatible murmur2) for random keys; the sticky choice for keyless
 * records with a scripted random source.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { Partitioners } from 'kafkajs';
import {
  keyPartition,
  murmur2,
  StickyPartitioner,
  toPositive,
  type BatchRoom,
} from '../../src/client/partitioner.js';

/** kafkajs's Java-compatible partitioner for one keyed message over `count` partitions with leaders. */
function kafkajsPartition(key: Buffer, count: number): number {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: count }, (_, i) => ({
    partitionId: i,
    leader: 0,
    partitionErrorCode: 0,
    replicas: [0],
    isr: [0],
  }));
  return partitioner({ topic: 't', partitionMetadata, message: { key, value: null } });
}

void describe('murmur2', () => {
  void test("matches Kafka's UtilsTest vectors", () => {
    const vectors: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [key, hash] of vectors) assert.equal(murmur2(Buffer.from(key)), hash, key);
  });

  void test('toPositive clears the sign bit rather than negating', () => {
    assert.equal(toPositive(-1), 0x7fffffff);
    assert.equal(toPositive(-2147483648), 0);
    assert.equal(toPositive(5), 5);
  });

  void test('agrees with kafkajs DefaultPartitioner on 600 random keys (0-40 bytes) and 6 partition counts', () => {
    const counts = [1, 2, 3, 7, 16, 100];
    for (let i = 0; i < 600; i++) {
      const key = randomBytes(i % 41);
      const count = counts[i % counts.length]!;
      assert.equal(
        keyPartition(key, count),
        kafkajsPartition(key, count),
        `key ${key.toString('hex')} / ${count}`,
      );
    }
  });

  void test('agrees with kafkajs on UTF-8 string keys', () => {
    for (const s of ['user-1', 'ключ', '鍵', 'emoji-🙂', 'x'.repeat(1000)]) {
      const key = Buffer.from(s, 'utf8');
      assert.equal(keyPartition(key, 12), kafkajsPartition(key, 12), s);
    }
  });
});

/** A BatchRoom whose answer the test controls. */
function roomOf(answer: () => boolean): BatchRoom {
  return { hasRoom: () => answer() };
}

/** A random source that returns the scripted values in turn. */
function scripted(values: number[]): () => number {
  let i = 0;
  return () => {
    const v = values[i++];
    assert.ok(v !== undefined, 'the partitioner asked for more random numbers than scripted');
    return v;
  };
}

void describe('StickyPartitioner', () => {
  void test('sticks to one partition while it has room, then moves to another', () => {
    const p = new StickyPartitioner(scripted([0.5, 0.0, 0.99]));
    const available = [0, 1, 2, 3];
    let room = true;
    const first = p.partition(
      't',
      available,
      4,
      roomOf(() => room),
      10,
      0,
    );
    assert.equal(first, 2);
    for (let i = 0; i < 10; i++)
      assert.equal(
        p.partition(
          't',
          available,
          4,
          roomOf(() => room),
          10,
          0,
        ),
        2,
        'sticky',
      );
    room = false;
    // 0.0 over the 3 others (0, 1, 3) → 0
    assert.equal(
      p.partition(
        't',
        available,
        4,
        roomOf(() => room),
        10,
        0,
      ),
      0,
    );
    room = true;
    assert.equal(
      p.partition(
        't',
        available,
        4,
        roomOf(() => room),
        10,
        0,
      ),
      0,
      'sticks to the new one',
    );
    room = false;
    // 0.99 over the 3 others of 0 (1, 2, 3) → 3
    assert.equal(
      p.partition(
        't',
        available,
        4,
        roomOf(() => room),
        10,
        0,
      ),
      3,
    );
  });

  void test('never picks the same partition twice in a row when there is another with a leader', () => {
    const p = new StickyPartitioner();
    let previous = p.partition(
      't',
      [0, 1],
      2,
      roomOf(() => false),
      10,
      0,
    );
    for (let i = 0; i < 200; i++) {
      const next = p.partition(
        't',
        [0, 1],
        2,
        roomOf(() => false),
        10,
        0,
      );
      assert.notEqual(next, previous, 'a full batch moves the sticky partition');
      previous = next;
    }
  });

  void test('prefers partitions with a leader; falls back to any partition when none has one', () => {
    const p = new StickyPartitioner();
    for (let i = 0; i < 100; i++) {
      assert.equal(
        p.partition(
          'a',
          [5],
          8,
          roomOf(() => false),
          10,
          0,
        ),
        5,
        'the only available partition',
      );
      const q = p.partition(
        'b',
        [],
        3,
        roomOf(() => false),
        10,
        0,
      );
      assert.ok(q >= 0 && q < 3, `partition ${q} in range`);
    }
  });

  void test('topics have separate sticky partitions', () => {
    const p = new StickyPartitioner(scripted([0.0, 0.9]));
    assert.equal(
      p.partition(
        'a',
        [0, 1, 2],
        3,
        roomOf(() => true),
        10,
        0,
      ),
      0,
    );
    assert.equal(
      p.partition(
        'b',
        [0, 1, 2],
        3,
        roomOf(() => true),
        10,
        0,
      ),
      2,
    );
    assert.equal(p.current('a'), 0);
    assert.equal(p.current('b'), 2);
  });

  void test('spreads keyless records over every available partition over time', () => {
    const p = new StickyPartitioner();
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++)
      seen.add(
        p.partition(
          't',
          [0, 1, 2, 3, 4],
          5,
          roomOf(() => false),
          10,
          0,
        ),
      );
    assert.equal(seen.size, 5, 'every partition chosen at least once in 500 batches');
  });
});
