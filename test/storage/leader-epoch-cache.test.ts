/**
 * The leader-epoch cache: Kafka's assign rules, epochForOffset, OffsetForLeaderEpoch's
 * endOffsetFor, truncation at both ends, persistence across reloads and serialised flushes.
 * Cases marked (Kafka) mirror LeaderEpochFileCacheTest in apache/kafka.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as nodeFs from 'node:fs';
import * as os from 'node:os';

import { nodeFileSystem, type FileSystem } from '../../src/runtime/fs.js';
import { CheckpointError } from '../../src/storage/checkpoint-file.js';
import {
  LeaderEpochCache,
  UNDEFINED_EPOCH,
  UNDEFINED_EPOCH_OFFSET,
  type EpochEntry,
} from '../../src/storage/leader-epoch-cache.js';

const root = nodeFs.mkdtempSync(os.tmpdir() + '/samsa-');
after(() => nodeFs.rmSync(root, { recursive: true, force: true }));

let counter = 0;
/** A fresh partition folder, optionally holding a leader-epoch-checkpoint with `content`. */
function partitionDir(content?: string): string {
  const dir = `${root}/topic-${counter++}`;
  nodeFs.mkdirSync(dir);
  if (content !== undefined) nodeFs.writeFileSync(`${dir}/leader-epoch-checkpoint`, content);
  return dir;
}

async function load(dir: string, fs: FileSystem = nodeFileSystem): Promise<LeaderEpochCache> {
  const cache = await LeaderEpochCache.load(fs, dir);
  assert.ok(cache instanceof LeaderEpochCache, cache instanceof CheckpointError ? cache.message : undefined);
  return cache;
}

async function freshCache(...entries: [number, number][]): Promise<LeaderEpochCache> {
  const cache = await load(partitionDir());
  for (const [epoch, offset] of entries) cache.assign(epoch, offset);
  return cache;
}

function e(epoch: number, startOffset: number): EpochEntry {
  return { epoch, startOffset };
}

const UNDEFINED = { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };

void describe('LeaderEpochCache.assign', () => {
  void test('appends newer epochs in order', async () => {
    const cache = await freshCache();
    assert.equal(cache.assign(2, 10), true);
    assert.equal(cache.assign(4, 15), true);
    assert.deepEqual(cache.entries(), [e(2, 10), e(4, 15)]);
    assert.equal(cache.latestEpoch(), 4);
    assert.deepEqual(cache.latestEntry(), e(4, 15));
    assert.deepEqual(cache.earliestEntry(), e(2, 10));
  });

  void test('the same epoch at a later offset changes nothing (Kafka)', async () => {
    const cache = await freshCache([2, 6]);
    assert.equal(cache.assign(2, 10), false);
    assert.equal(cache.assign(2, 6), false);
    assert.deepEqual(cache.entries(), [e(2, 6)]);
  });

  void test('the same epoch at an earlier offset keeps the earlier offset and drops conflicts (Kafka)', async () => {
    const cache = await freshCache([5, 11], [6, 12], [7, 13]);
    assert.equal(cache.assign(7, 12), true);
    assert.deepEqual(cache.entries(), [e(5, 11), e(7, 12)]);
    assert.deepEqual(cache.endOffsetFor(5, 0), { epoch: 5, endOffset: 12 });
    assert.deepEqual(cache.endOffsetFor(6, 0), { epoch: 5, endOffset: 12 });
  });

  void test('a newer epoch at the same start offset replaces the entry (Kafka)', async () => {
    const cache = await freshCache([2, 9]);
    assert.equal(cache.assign(3, 9), true);
    assert.deepEqual(cache.entries(), [e(3, 9)]);
  });

  void test('a newer epoch at an earlier offset removes entries starting at or after it (Kafka)', async () => {
    const cache = await freshCache([1, 0], [2, 6], [3, 8]);
    assert.equal(cache.assign(4, 5), true);
    assert.deepEqual(cache.entries(), [e(1, 0), e(4, 5)]);
  });

  void test('an epoch lower than the latest truncates the later epochs (Kafka)', async () => {
    const cache = await freshCache([1, 5], [2, 6]);
    assert.equal(cache.assign(1, 7), true);
    assert.deepEqual(cache.entries(), [e(1, 7)]);
    assert.equal(cache.latestEpoch(), 1);
    assert.deepEqual(cache.endOffsetFor(1, 8), { epoch: 1, endOffset: 8 });
    assert.deepEqual(cache.endOffsetFor(2, 8), UNDEFINED);

    const other = await freshCache([1, 0], [3, 10]);
    assert.equal(other.assign(2, 20), true);
    assert.deepEqual(other.entries(), [e(1, 0), e(2, 20)]);
  });

  void test('rejects negative or non-integer epochs and offsets', async () => {
    const cache = await freshCache([1, 0]);
    assert.throws(() => cache.assign(-1, 5), RangeError);
    assert.throws(() => cache.assign(2, -1), RangeError);
    assert.throws(() => cache.assign(1.5, 5), RangeError);
    assert.throws(() => cache.assign(2 ** 31, 5), RangeError);
    assert.throws(() => cache.assign(2, 2 ** 53), RangeError);
    assert.deepEqual(cache.entries(), [e(1, 0)]);
  });

  void test('tracks epochs as a follower receives many batches (Kafka)', async () => {
    const cache = await freshCache();
    for (const [epoch, offset] of [
      [0, 0],
      [0, 1],
      [0, 2],
      [1, 3],
      [1, 4],
      [1, 5],
      [2, 6],
      [2, 7],
      [2, 8],
    ] as const) {
      cache.assign(epoch, offset);
    }
    assert.deepEqual(cache.entries(), [e(0, 0), e(1, 3), e(2, 6)]);
    assert.deepEqual(cache.endOffsetFor(2, 9), { epoch: 2, endOffset: 9 });
    assert.deepEqual(cache.endOffsetFor(1, 9), { epoch: 1, endOffset: 6 });
    assert.deepEqual(cache.endOffsetFor(0, 9), { epoch: 0, endOffset: 3 });
  });

  void test('entries() is a copy', async () => {
    const cache = await freshCache([1, 0]);
    const copy = cache.entries();
    copy.push(e(9, 9));
    assert.deepEqual(cache.entries(), [e(1, 0)]);
  });
});

void describe('LeaderEpochCache.epochForOffset', () => {
  void test('an empty cache knows no epoch', async () => {
    const cache = await freshCache();
    assert.equal(cache.epochForOffset(0), undefined);
    assert.equal(cache.latestEpoch(), undefined);
    assert.equal(cache.latestEntry(), undefined);
    assert.equal(cache.earliestEntry(), undefined);
    assert.equal(cache.isEmpty, true);
  });

  void test('finds the epoch that wrote an offset', async () => {
    const cache = await freshCache([2, 6], [3, 8], [4, 11]);
    assert.equal(cache.epochForOffset(5), undefined);
    assert.equal(cache.epochForOffset(6), 2);
    assert.equal(cache.epochForOffset(7), 2);
    assert.equal(cache.epochForOffset(8), 3);
    assert.equal(cache.epochForOffset(10), 3);
    assert.equal(cache.epochForOffset(11), 4);
    assert.equal(cache.epochForOffset(1_000_000), 4);
  });
});

void describe('LeaderEpochCache.endOffsetFor', () => {
  void test('an empty cache answers undefined for any epoch (Kafka)', async () => {
    const cache = await freshCache();
    assert.deepEqual(cache.endOffsetFor(0, 0), UNDEFINED);
    assert.deepEqual(cache.endOffsetFor(7, 0), UNDEFINED);
    assert.deepEqual(cache.endOffsetFor(UNDEFINED_EPOCH, 73), UNDEFINED);
  });

  void test('the undefined epoch answers undefined even when the cache is not empty (Kafka)', async () => {
    const cache = await freshCache([2, 11], [3, 12]);
    assert.deepEqual(cache.endOffsetFor(UNDEFINED_EPOCH, 0), UNDEFINED);
  });

  void test('the latest epoch ends at the log end offset (Kafka)', async () => {
    const cache = await freshCache([2, 11], [2, 12]);
    assert.deepEqual(cache.endOffsetFor(2, 14), { epoch: 2, endOffset: 14 });
    const single = await freshCache([2, 6]);
    assert.deepEqual(single.endOffsetFor(2, 7), { epoch: 2, endOffset: 7 });
  });

  void test('an earlier cached epoch ends where the next one starts (Kafka)', async () => {
    const cache = await freshCache([1, 11], [1, 12], [2, 13], [2, 14], [3, 15], [3, 16]);
    assert.deepEqual(cache.endOffsetFor(2, 17), { epoch: 2, endOffset: 15 });
    assert.deepEqual(cache.endOffsetFor(1, 17), { epoch: 1, endOffset: 13 });
  });

  void test('an epoch in a gap answers the largest smaller epoch and the next start (Kafka)', async () => {
    const cache = await freshCache([0, 10], [2, 13], [4, 17]);
    assert.deepEqual(cache.endOffsetFor(1, 0), { epoch: 0, endOffset: 13 });
    assert.deepEqual(cache.endOffsetFor(2, 0), { epoch: 2, endOffset: 17 });
    assert.deepEqual(cache.endOffsetFor(3, 0), { epoch: 2, endOffset: 17 });
    assert.deepEqual(cache.endOffsetFor(4, 20), { epoch: 4, endOffset: 20 });
  });

  void test('an epoch below the first answers itself and the first start offset (Kafka)', async () => {
    const cache = await freshCache([5, 11], [6, 12], [7, 13]);
    assert.deepEqual(cache.endOffsetFor(4, 0), { epoch: 4, endOffset: 11 });
    assert.deepEqual(cache.endOffsetFor(0, 0), { epoch: 0, endOffset: 11 });
  });

  void test('an epoch above the latest answers undefined (Kafka)', async () => {
    const cache = await freshCache([2, 100]);
    assert.deepEqual(cache.endOffsetFor(3, 100), UNDEFINED);
    const more = await freshCache([0, 0], [1, 5]);
    assert.deepEqual(more.endOffsetFor(9, 10), UNDEFINED);
  });

  void test('tracks leaders changing many times (Kafka)', async () => {
    const cache = await freshCache([0, 0], [1, 0]);
    assert.deepEqual(cache.entries(), [e(1, 0)]);
    assert.deepEqual(cache.endOffsetFor(1, 0), { epoch: 1, endOffset: 0 });
    // Epoch 0 was dropped (it started where epoch 1 starts): below the first entry.
    assert.deepEqual(cache.endOffsetFor(0, 0), { epoch: 0, endOffset: 0 });
    assert.deepEqual(cache.endOffsetFor(1, 5), { epoch: 1, endOffset: 5 });
    cache.assign(2, 5);
    assert.deepEqual(cache.endOffsetFor(2, 10), { epoch: 2, endOffset: 10 });
    assert.deepEqual(cache.endOffsetFor(1, 10), { epoch: 1, endOffset: 5 });
    assert.deepEqual(cache.endOffsetFor(0, 10), { epoch: 0, endOffset: 0 });
  });
});

void describe('LeaderEpochCache.truncateFromEnd', () => {
  void test('drops the entry starting exactly at the end offset (Kafka)', async () => {
    const cache = await freshCache([2, 6], [3, 8], [4, 11]);
    assert.equal(cache.truncateFromEnd(8), true);
    assert.deepEqual(cache.entries(), [e(2, 6)]);
  });

  void test('keeps the entry whose epoch continues past a mid-epoch end offset (Kafka)', async () => {
    const cache = await freshCache([2, 6], [3, 8], [4, 11]);
    assert.equal(cache.truncateFromEnd(9), true);
    assert.equal(cache.latestEpoch(), 3);
    assert.deepEqual(cache.entries(), [e(2, 6), e(3, 8)]);
  });

  void test('an end offset past every start changes nothing', async () => {
    const cache = await freshCache([2, 6], [3, 8]);
    assert.equal(cache.truncateFromEnd(100), false);
    assert.equal(cache.needsFlush, true); // from the assigns, not the truncation
    assert.deepEqual(cache.entries(), [e(2, 6), e(3, 8)]);
  });

  void test('an end offset at or before the first start empties the cache', async () => {
    const cache = await freshCache([2, 6], [3, 8]);
    assert.equal(cache.truncateFromEnd(0), true);
    assert.deepEqual(cache.entries(), []);
  });

  void test('an undefined end offset or an empty cache changes nothing (Kafka)', async () => {
    const cache = await freshCache([2, 6], [3, 8], [4, 11]);
    assert.equal(cache.truncateFromEnd(UNDEFINED_EPOCH_OFFSET), false);
    assert.equal(cache.entries().length, 3);
    const empty = await freshCache();
    assert.equal(empty.truncateFromEnd(7), false);
    assert.equal(empty.needsFlush, false);
  });
});

void describe('LeaderEpochCache.truncateFromStart', () => {
  void test('an offset before the first entry changes nothing (Kafka)', async () => {
    const cache = await freshCache([2, 6], [3, 8], [4, 11]);
    assert.equal(cache.truncateFromStart(1), false);
    assert.deepEqual(cache.entries(), [e(2, 6), e(3, 8), e(4, 11)]);
  });

  void test('the first entry start offset changes nothing (Kafka)', async () => {
    const cache = await freshCache([2, 6], [3, 8], [4, 11]);
    assert.equal(cache.truncateFromStart(6), false);
    assert.deepEqual(cache.entries(), [e(2, 6), e(3, 8), e(4, 11)]);
  });

  void test('an epoch boundary removes the earlier entries (Kafka)', async () => {
    const cache = await freshCache([2, 6], [3, 8], [4, 11]);
    assert.equal(cache.truncateFromStart(8), true);
    assert.deepEqual(cache.entries(), [e(3, 8), e(4, 11)]);
  });

  void test('an offset inside an epoch moves that epoch start (Kafka)', async () => {
    const cache = await freshCache([2, 6], [3, 8], [4, 11]);
    assert.equal(cache.truncateFromStart(9), true);
    assert.deepEqual(cache.entries(), [e(3, 9), e(4, 11)]);

    const first = await freshCache([0, 0], [1, 7], [2, 10]);
    assert.equal(first.truncateFromStart(5), true);
    assert.deepEqual(first.entries(), [e(0, 5), e(1, 7), e(2, 10)]);
  });

  void test('the latest epoch is kept, and moved, when everything before is gone (Kafka)', async () => {
    const cache = await freshCache([2, 6], [3, 8], [4, 11]);
    assert.equal(cache.truncateFromStart(11), true);
    assert.deepEqual(cache.entries(), [e(4, 11)]);
    assert.equal(cache.truncateFromStart(15), true);
    assert.deepEqual(cache.entries(), [e(4, 15)]);
  });

  void test('an undefined offset or an empty cache changes nothing (Kafka)', async () => {
    const cache = await freshCache([2, 6], [3, 8], [4, 11]);
    assert.equal(cache.truncateFromStart(UNDEFINED_EPOCH_OFFSET), false);
    assert.equal(cache.entries().length, 3);
    const empty = await freshCache();
    assert.equal(empty.truncateFromStart(7), false);
    assert.deepEqual(empty.entries(), []);
  });
});

void describe('LeaderEpochCache persistence', () => {
  void test('a missing checkpoint loads empty and flushing it writes nothing', async () => {
    const dir = partitionDir();
    const cache = await load(dir);
    assert.equal(cache.path, `${dir}/leader-epoch-checkpoint`);
    assert.equal(cache.isEmpty, true);
    assert.equal(cache.needsFlush, false);
    await cache.flush();
    assert.equal(nodeFs.existsSync(cache.path), false);
  });

  void test('mutations stay in memory until flush, which writes Kafka format', async () => {
    const dir = partitionDir();
    const cache = await load(dir);
    cache.assign(2, 6);
    cache.assign(3, 8);
    assert.equal(cache.needsFlush, true);
    assert.equal(nodeFs.existsSync(cache.path), false);
    await cache.flush();
    assert.equal(cache.needsFlush, false);
    assert.equal(nodeFs.readFileSync(cache.path, 'utf8'), '0\n2\n2 6\n3 8\n');
  });

  void test('entries survive a reload (Kafka)', async () => {
    const dir = partitionDir();
    const cache = await load(dir);
    cache.assign(2, 6);
    cache.assign(5, 2 ** 52);
    await cache.flush();
    const again = await load(dir);
    assert.deepEqual(again.entries(), [e(2, 6), e(5, 2 ** 52)]);
    assert.equal(again.needsFlush, false);
  });

  void test('both truncations persist across a reload', async () => {
    const dir = partitionDir();
    const cache = await load(dir);
    for (const [epoch, offset] of [
      [1, 0],
      [2, 6],
      [3, 8],
      [4, 11],
    ] as const) {
      cache.assign(epoch, offset);
    }
    await cache.flush();
    cache.truncateFromStart(7);
    cache.truncateFromEnd(10);
    await cache.flush();
    assert.deepEqual((await load(dir)).entries(), [e(2, 7), e(3, 8)]);
  });

  void test('clearAndFlush writes an empty checkpoint (Kafka)', async () => {
    const dir = partitionDir();
    const cache = await load(dir);
    cache.assign(2, 6);
    cache.assign(3, 8);
    await cache.flush();
    await cache.clearAndFlush();
    assert.deepEqual(cache.entries(), []);
    assert.equal(cache.needsFlush, false);
    assert.equal(nodeFs.readFileSync(cache.path, 'utf8'), '0\n0\n');
    assert.deepEqual((await load(dir)).entries(), []);
  });

  void test('reads a checkpoint written by Kafka', async () => {
    const cache = await load(partitionDir('0\n3\n0 0\n4 1200\n7 5000\n'));
    assert.deepEqual(cache.entries(), [e(0, 0), e(4, 1200), e(7, 5000)]);
    assert.equal(cache.needsFlush, false);
  });

  void test('a checkpoint breaking the ordering loads as assign would build it, and is dirty', async () => {
    const dir = partitionDir('0\n3\n1 5\n2 6\n1 7\n');
    const cache = await load(dir);
    assert.deepEqual(cache.entries(), [e(1, 7)]);
    assert.equal(cache.needsFlush, true);
    await cache.flush();
    assert.equal(nodeFs.readFileSync(cache.path, 'utf8'), '0\n1\n1 7\n');
  });

  void test('malformed checkpoints load as typed errors', async () => {
    const cases: [string, CheckpointError['kind'], number][] = [
      ['1\n0\n', 'unsupportedVersion', 1],
      ['0\n2\n1 5\n', 'countMismatch', 2],
      ['0\n1\n1 5 6\n', 'malformedLine', 3],
      ['0\n1\n-1 5\n', 'malformedLine', 3],
      ['0\n1\n1 -5\n', 'malformedLine', 3],
      ['0\n1\n2147483648 5\n', 'malformedLine', 3],
      ['0\nx\n', 'malformedLine', 2],
    ];
    for (const [content, kind, line] of cases) {
      const dir = partitionDir(content);
      const result = await LeaderEpochCache.load(nodeFileSystem, dir);
      assert.ok(result instanceof CheckpointError, content);
      assert.equal(result.kind, kind, content);
      assert.equal(result.line, line, content);
      assert.equal(result.path, `${dir}/leader-epoch-checkpoint`);
    }
  });
});

/** Lets queued microtasks run, so a flush just called has taken its snapshot and started writing. */
function writeStarted(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A FileSystem whose atomic writes are slow and observable, and can be made to fail. */
function instrumentedFs(): FileSystem & {
  inFlight: number;
  maxInFlight: number;
  writes: string[];
  failNext: boolean;
} {
  const state = { inFlight: 0, maxInFlight: 0, writes: [] as string[], failNext: false };
  return Object.assign(state, nodeFileSystem, {
    async writeFileAtomic(path: string, data: Buffer | string): Promise<void> {
      state.inFlight++;
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
      try {
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (state.failNext) {
          state.failNext = false;
          throw Object.assign(new Error('injected EIO'), { code: 'EIO' });
        }
        await nodeFileSystem.writeFileAtomic(path, data);
        state.writes.push(data.toString());
      } finally {
        state.inFlight--;
      }
    },
  });
}

void describe('LeaderEpochCache.flush', () => {
  void test('concurrent flushes never overlap and the last state wins', async () => {
    const fs = instrumentedFs();
    const dir = partitionDir();
    const cache = await load(dir, fs);
    const flushes: Promise<void>[] = [];
    for (let epoch = 0; epoch < 5; epoch++) {
      cache.assign(epoch, epoch * 10);
      flushes.push(cache.flush());
      if (epoch === 0) await writeStarted();
    }
    await Promise.all(flushes);
    assert.equal(fs.maxInFlight, 1);
    assert.equal(nodeFs.readFileSync(cache.path, 'utf8'), '0\n5\n0 0\n1 10\n2 20\n3 30\n4 40\n');
    // The first flush wrote one entry; the ones queued behind it coalesce into one more write.
    assert.deepEqual(fs.writes, ['0\n1\n0 0\n', '0\n5\n0 0\n1 10\n2 20\n3 30\n4 40\n']);
  });

  void test('a flush covers a mutation made while an earlier write was in flight', async () => {
    const fs = instrumentedFs();
    const cache = await load(partitionDir(), fs);
    cache.assign(1, 0);
    const first = cache.flush();
    await writeStarted();
    assert.equal(fs.inFlight, 1);
    cache.assign(2, 5); // lands while the first write is in progress
    await first;
    assert.equal(cache.needsFlush, true);
    await cache.flush();
    assert.equal(cache.needsFlush, false);
    assert.equal(nodeFs.readFileSync(cache.path, 'utf8'), '0\n2\n1 0\n2 5\n');
  });

  void test('a failed write rejects, keeps the cache dirty, and the next flush retries', async () => {
    const fs = instrumentedFs();
    const cache = await load(partitionDir(), fs);
    cache.assign(1, 0);
    fs.failNext = true;
    const failing = cache.flush();
    const queued = cache.flush(); // queued behind the failing one: must still run and succeed
    await assert.rejects(failing, /injected EIO/);
    await queued;
    assert.equal(cache.needsFlush, false);
    assert.equal(nodeFs.readFileSync(cache.path, 'utf8'), '0\n1\n1 0\n');
  });

  void test('a flush with nothing changed does not write', async () => {
    const fs = instrumentedFs();
    const cache = await load(partitionDir(), fs);
    cache.assign(1, 0);
    await cache.flush();
    await cache.flush();
    cache.assign(1, 9); // same epoch, later offset: no change
    await cache.flush();
    assert.equal(fs.writes.length, 1);
  });
});
