import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryLog } from '../../src/raft/memory-log.js';
import type { LogEntry } from '../../src/raft/types.js';

/** Entries at offsets from `offset`, one per epoch given, with data naming offset and epoch. */
function entries(offset: number, ...epochs: number[]): LogEntry[] {
  return epochs.map((epoch, i) => ({
    offset: offset + i,
    epoch,
    data: Buffer.from(`e${offset + i}@${epoch}`),
  }));
}

/** The log's entries as "offset@epoch" strings, from its start. */
function dump(log: MemoryLog): string[] {
  return log.read(log.startOffset, 1_000, 1 << 30).map((e) => `${e.offset}@${e.epoch}`);
}

void describe('MemoryLog', () => {
  void test('a new log is empty at 0 with epoch 0', () => {
    const log = new MemoryLog();
    assert.equal(log.startOffset, 0);
    assert.equal(log.endOffset, 0);
    assert.equal(log.flushedOffset, 0);
    assert.equal(log.lastEpoch, 0);
    assert.equal(log.latestSnapshot(), null);
    assert.deepEqual(log.read(0, 10, 100), []);
    assert.deepEqual(log.endOffsetForEpoch(5), { offset: -1, epoch: -1 });
  });

  void test('append continues the log; epochAt and lastEpoch follow it', () => {
    const log = new MemoryLog();
    log.append(entries(0, 1, 1, 2));
    log.append(entries(3, 4));
    assert.equal(log.endOffset, 4);
    assert.equal(log.lastEpoch, 4);
    assert.equal(log.epochAt(0), 1);
    assert.equal(log.epochAt(2), 2);
    assert.equal(log.epochAt(3), 4);
    assert.equal(log.epochAt(4), undefined);
    assert.equal(log.epochAt(-1), undefined);
    assert.equal(log.flushedOffset, 0, 'appends are not durable until a flush');
  });

  void test('append rejects a gap, an overlap and a decreasing epoch', () => {
    const log = new MemoryLog();
    log.append(entries(0, 2, 2));
    assert.throws(() => log.append(entries(3, 2)), /offset 3, expected 2/);
    assert.throws(() => log.append(entries(1, 2)), /offset 1, expected 2/);
    assert.throws(() => log.append(entries(2, 1)), /epoch 1 at 2 after epoch 2/);
    assert.equal(log.endOffset, 2);
  });

  void test('read honours the entry and byte limits but returns at least one entry', () => {
    const log = new MemoryLog();
    log.append([
      { offset: 0, epoch: 1, data: Buffer.alloc(100) },
      { offset: 1, epoch: 1, data: Buffer.alloc(100) },
      { offset: 2, epoch: 1, data: Buffer.alloc(100) },
    ]);
    assert.equal(log.read(0, 2, 1 << 20).length, 2);
    assert.equal(log.read(0, 10, 1).length, 1, 'one entry even above maxBytes');
    assert.equal(log.read(0, 10, 240).length, 2);
    assert.equal(log.read(1, 10, 1 << 20)[0]?.offset, 1);
    assert.deepEqual(log.read(3, 10, 1 << 20), []);
    assert.throws(() => {
      log.installSnapshot({ endOffset: 2, epoch: 1, data: Buffer.alloc(0) });
      log.read(1, 1, 1);
    }, /below the log start 2/);
  });

  void test('endOffsetForEpoch: the end of the largest epoch at most the one asked', () => {
    const log = new MemoryLog();
    log.append(entries(0, 1, 1, 3, 3, 3, 6));
    assert.deepEqual(log.endOffsetForEpoch(0), { offset: -1, epoch: -1 });
    assert.deepEqual(log.endOffsetForEpoch(1), { offset: 2, epoch: 1 });
    assert.deepEqual(log.endOffsetForEpoch(2), { offset: 2, epoch: 1 });
    assert.deepEqual(log.endOffsetForEpoch(3), { offset: 5, epoch: 3 });
    assert.deepEqual(log.endOffsetForEpoch(5), { offset: 5, epoch: 3 });
    assert.deepEqual(log.endOffsetForEpoch(6), { offset: 6, epoch: 6 });
    assert.deepEqual(log.endOffsetForEpoch(99), { offset: 6, epoch: 6 });
  });

  void test('endOffsetForEpoch past a snapshot uses the snapshot epoch, and -1 below it', () => {
    const log = new MemoryLog();
    log.append(entries(0, 1, 2, 2, 4));
    log.installSnapshot({ endOffset: 3, epoch: 2, data: Buffer.from('s') });
    assert.deepEqual(dump(log), ['3@4']);
    assert.deepEqual(
      log.endOffsetForEpoch(1),
      { offset: -1, epoch: -1 },
      'epoch 1 is below what the log knows',
    );
    assert.deepEqual(log.endOffsetForEpoch(2), { offset: 3, epoch: 2 });
    assert.deepEqual(log.endOffsetForEpoch(3), { offset: 3, epoch: 2 });
    assert.deepEqual(log.endOffsetForEpoch(4), { offset: 4, epoch: 4 });
    log.truncateTo(3);
    assert.equal(log.lastEpoch, 2, 'an empty log past a snapshot has its epoch');
    assert.deepEqual(log.endOffsetForEpoch(7), { offset: 3, epoch: 2 });
  });

  void test('a crash loses what was appended after the last flush', () => {
    const log = new MemoryLog();
    log.append(entries(0, 1, 1));
    log.flush();
    assert.equal(log.flushedOffset, 2);
    log.append(entries(2, 1, 2));
    assert.equal(log.flushedOffset, 2);
    assert.equal(log.durableEndOffset, 2);
    log.crash();
    assert.deepEqual(dump(log), ['0@1', '1@1']);
    assert.equal(log.flushedOffset, 2);
    assert.equal(log.lastEpoch, 1);
  });

  void test('a truncation is durable only once flushed: a crash before undoes it', () => {
    const log = new MemoryLog();
    log.append(entries(0, 1, 1, 1, 1));
    log.flush();
    log.truncateTo(2);
    assert.equal(log.flushedOffset, 2, 'nothing past the truncation point is durable as it is now');
    log.append(entries(2, 3));
    log.crash();
    assert.deepEqual(dump(log), ['0@1', '1@1', '2@1', '3@1'], 'the old tail is back, the new entry gone');

    log.truncateTo(1);
    log.append(entries(1, 3));
    log.flush();
    log.crash();
    assert.deepEqual(dump(log), ['0@1', '1@3'], 'a flushed truncation and append survive');
  });

  void test('truncateTo past the end does nothing; below the start throws', () => {
    const log = new MemoryLog();
    log.append(entries(0, 1, 1));
    log.flush();
    log.truncateTo(5);
    log.truncateTo(2);
    assert.equal(log.endOffset, 2);
    assert.equal(log.flushedOffset, 2);
    log.installSnapshot({ endOffset: 1, epoch: 1, data: Buffer.alloc(0) });
    assert.throws(() => log.truncateTo(0), /below the log start 1/);
  });

  void test('installSnapshot inside the log keeps the entries after it', () => {
    const log = new MemoryLog();
    log.append(entries(0, 1, 1, 2, 2));
    log.flush();
    log.installSnapshot({ endOffset: 2, epoch: 1, data: Buffer.from('s2') });
    assert.equal(log.startOffset, 2);
    assert.equal(log.endOffset, 4);
    assert.equal(log.flushedOffset, 4);
    assert.deepEqual(dump(log), ['2@2', '3@2']);
    assert.equal(log.epochAt(1), undefined);
    log.crash();
    assert.deepEqual(dump(log), ['2@2', '3@2']);
    assert.equal(log.latestSnapshot()?.data.toString(), 's2');
  });

  void test('installSnapshot past the end (a fetched one) restarts the log empty at its end', () => {
    const log = new MemoryLog();
    log.append(entries(0, 1, 1));
    log.flush();
    log.installSnapshot({ endOffset: 10, epoch: 5, data: Buffer.from('s10') });
    assert.equal(log.startOffset, 10);
    assert.equal(log.endOffset, 10);
    assert.equal(log.flushedOffset, 10);
    assert.equal(log.lastEpoch, 5);
    log.append(entries(10, 5, 6));
    log.crash();
    assert.equal(log.startOffset, 10, 'the snapshot was durable at once');
    assert.equal(log.endOffset, 10, 'the unflushed entries after it are gone');
    assert.equal(log.lastEpoch, 5);
  });

  void test('installSnapshot that disagrees with the entry before its end drops the whole log', () => {
    const log = new MemoryLog();
    log.append(entries(0, 1, 1, 1, 1));
    log.flush();
    log.installSnapshot({ endOffset: 2, epoch: 3, data: Buffer.alloc(0) });
    assert.equal(log.startOffset, 2);
    assert.equal(log.endOffset, 2, 'entries 2 and 3 are from a history the snapshot does not continue');
    assert.equal(log.lastEpoch, 3);
  });

  void test('installSnapshot is durable at once, even past entries not yet flushed', () => {
    const log = new MemoryLog();
    log.append(entries(0, 1));
    log.flush();
    log.append(entries(1, 1, 1, 2));
    log.installSnapshot({ endOffset: 3, epoch: 1, data: Buffer.from('s3') });
    assert.equal(log.flushedOffset, 3);
    assert.deepEqual(dump(log), ['3@2']);
    log.crash();
    assert.equal(log.latestSnapshot()?.endOffset, 3);
    assert.equal(log.startOffset, 3);
    assert.equal(log.endOffset, 3, 'entry 3 was never flushed');
  });

  void test('installSnapshot drops a durable tail that an unflushed truncation replaced', () => {
    const log = new MemoryLog();
    log.append(entries(0, 1, 1, 1, 1, 1));
    log.flush();
    log.truncateTo(1);
    log.append(entries(1, 2, 2));
    log.installSnapshot({ endOffset: 3, epoch: 2, data: Buffer.alloc(0) });
    log.flush();
    log.crash();
    assert.equal(log.startOffset, 3);
    assert.deepEqual(dump(log), [], 'the old epoch-1 entries 3 and 4 do not come back');
    assert.equal(log.lastEpoch, 2);
  });

  void test('installSnapshot at the current start with the same epoch keeps the log; below it throws', () => {
    const log = new MemoryLog();
    log.append(entries(0, 1, 1, 2));
    log.flush();
    log.installSnapshot({ endOffset: 1, epoch: 1, data: Buffer.from('a') });
    log.installSnapshot({ endOffset: 1, epoch: 1, data: Buffer.from('b') });
    assert.deepEqual(dump(log), ['1@1', '2@2']);
    assert.equal(log.latestSnapshot()?.data.toString(), 'b');
    assert.throws(
      () => log.installSnapshot({ endOffset: 0, epoch: 1, data: Buffer.alloc(0) }),
      /below the latest snapshot's end 1/,
    );
    const empty = new MemoryLog();
    empty.installSnapshot({ endOffset: 0, epoch: 0, data: Buffer.alloc(0) });
    empty.append(entries(0, 1));
    assert.equal(empty.endOffset, 1, 'a snapshot at 0 leaves an empty log usable');
  });

  void test('a crash with nothing ever flushed leaves an empty log', () => {
    const log = new MemoryLog();
    log.append(entries(0, 1, 1));
    log.crash();
    assert.equal(log.endOffset, 0);
    assert.equal(log.lastEpoch, 0);
    log.append(entries(0, 2));
    log.flush();
    log.crash();
    assert.deepEqual(dump(log), ['0@2']);
  });
});
