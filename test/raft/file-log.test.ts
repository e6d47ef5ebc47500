/**
 * FileRaftLog: the on-disk format (Kafka segments of magic-v2 batches, snapshot files named as
 * Kafka names them), recovery of what a crash leaves (torn tails, bad CRCs, gaps, an interrupted
 * truncation, stray files), snapshots, and a seeded comparison with MemoryLog, the reference.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { BatchField, BatchSplitter } from '../../src/protocol/records/batch-view.js';
import { encodeEntries } from '../../src/raft/entry-batches.js';
import {
  FileLogCorruptError,
  FileRaftLog,
  segmentFileName,
  snapshotFileName,
  type FileRaftLogOptions,
} from '../../src/raft/file-log.js';
import { MemoryLog } from '../../src/raft/memory-log.js';
import type { LogEntry, RaftLog } from '../../src/raft/types.js';
import { Rng } from './sim/rng.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-raft-log-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (): string => path.join(root, `log-${dirs++}`);

/** Number of seeded operation sequences compared with MemoryLog (RAFT_LOG_SEEDS scales it up). */
const COMPARISON_SEEDS = Number(process.env['RAFT_LOG_SEEDS'] ?? 12);
const OPS_PER_SEED = 120;

function entries(offset: number, ...epochs: number[]): LogEntry[] {
  return epochs.map((epoch, i) => ({
    offset: offset + i,
    epoch,
    data: Buffer.from(`e${offset + i}@${epoch}`),
  }));
}

function dump(log: RaftLog): string[] {
  return log
    .read(log.startOffset, 1_000_000, 1 << 30)
    .map((e) => `${e.offset}@${e.epoch}:${e.data.toString()}`);
}

function open(dir: string, more: Partial<FileRaftLogOptions> = {}): FileRaftLog {
  return FileRaftLog.open({ dir, nowMs: () => 1_700_000_000_000, ...more });
}

/** The batches of a segment file: base offset, record count, epoch. */
function batchesOf(file: string): { base: number; count: number; epoch: number }[] {
  const it = new BatchSplitter(fs.readFileSync(file), { verifyCrc: true });
  const out = [];
  while (it.next()) {
    const b = it.batch();
    out.push({
      base: Number(b.readBigInt64BE(BatchField.baseOffset)),
      count: b.readInt32BE(BatchField.recordCount),
      epoch: b.readInt32BE(BatchField.partitionLeaderEpoch),
    });
  }
  assert.equal(it.error, null, `${file} holds only whole, valid batches`);
  return out;
}

function files(dir: string): string[] {
  return fs.readdirSync(dir).sort();
}

void describe('FileRaftLog', () => {
  void test('a new log is empty at 0, with one segment file', () => {
    const dir = freshDir();
    const log = open(dir);
    try {
      assert.equal(log.startOffset, 0);
      assert.equal(log.endOffset, 0);
      assert.equal(log.flushedOffset, 0);
      assert.equal(log.lastEpoch, 0);
      assert.equal(log.latestSnapshot(), null);
      assert.deepEqual(log.read(0, 10, 100), []);
      assert.deepEqual(log.endOffsetForEpoch(3), { offset: -1, epoch: -1 });
      assert.deepEqual(files(dir), [segmentFileName(0)]);
    } finally {
      log.close();
    }
  });

  void test('appends are Kafka batches, one per epoch run, partitionLeaderEpoch = epoch', () => {
    const dir = freshDir();
    const log = open(dir);
    log.append(entries(0, 1, 1, 2));
    log.append(entries(3, 2, 2));
    assert.equal(log.flushedOffset, 0, 'nothing is durable before a flush');
    log.flush();
    assert.equal(log.flushedOffset, 5);
    log.close();
    assert.deepEqual(batchesOf(path.join(dir, segmentFileName(0))), [
      { base: 0, count: 2, epoch: 1 },
      { base: 2, count: 1, epoch: 2 },
      { base: 3, count: 2, epoch: 2 },
    ]);
  });

  void test('epochAt, lastEpoch and endOffsetForEpoch follow the epochs, before and after a reopen', () => {
    const dir = freshDir();
    let log = open(dir);
    log.append(entries(0, 1, 1, 3, 3, 3, 6));
    const check = (l: FileRaftLog): void => {
      assert.equal(l.lastEpoch, 6);
      assert.equal(l.epochAt(0), 1);
      assert.equal(l.epochAt(2), 3);
      assert.equal(l.epochAt(5), 6);
      assert.equal(l.epochAt(6), undefined);
      assert.deepEqual(l.endOffsetForEpoch(0), { offset: -1, epoch: -1 });
      assert.deepEqual(l.endOffsetForEpoch(1), { offset: 2, epoch: 1 });
      assert.deepEqual(l.endOffsetForEpoch(2), { offset: 2, epoch: 1 }, 'the largest epoch ≤ 2 is 1');
      assert.deepEqual(l.endOffsetForEpoch(3), { offset: 5, epoch: 3 });
      assert.deepEqual(l.endOffsetForEpoch(9), { offset: 6, epoch: 6 });
    };
    check(log);
    log.flush();
    log.close();
    log = open(dir);
    check(log);
    assert.equal(log.flushedOffset, 6, 'what recovery keeps is durable');
    log.close();
  });

  void test('append rejects a gap, an overlap and a decreasing epoch', () => {
    const log = open(freshDir());
    log.append(entries(0, 2, 2));
    assert.throws(() => log.append(entries(3, 2)), /offset 3, expected 2/);
    assert.throws(() => log.append(entries(1, 2)), /offset 1, expected 2/);
    assert.throws(() => log.append(entries(2, 1)), /epoch 1 after epoch 2/);
    assert.equal(log.endOffset, 2);
    log.close();
  });

  void test('read honours the entry and byte limits, returns at least one, from cache and disk alike', () => {
    const dir = freshDir();
    // A tail cache of about two entries: most reads go to the segment files.
    const log = open(dir, { segmentBytesMax: 600, tailCacheBytesMax: 2 * (100 + 64) });
    for (let i = 0; i < 20; i++)
      log.append([{ offset: i, epoch: 1 + Math.floor(i / 7), data: Buffer.alloc(100, i) }]);
    assert.ok(files(dir).length > 3, `small segments roll: ${files(dir).join(' ')}`);
    for (const from of [0, 5, 17, 19]) {
      const got = log.read(from, 3, 1 << 20);
      assert.deepEqual(
        got.map((e) => [e.offset, e.data[0]]),
        [0, 1, 2].filter((k) => from + k < 20).map((k) => [from + k, from + k]),
        `three entries from ${from}`,
      );
    }
    assert.equal(log.read(0, 10, 1).length, 1, 'one entry even above maxBytes');
    assert.equal(log.read(0, 10, 2 * 116).length, 2, 'data plus 16 bytes per entry, as MemoryLog counts');
    assert.deepEqual(log.read(20, 10, 100), []);
    assert.throws(() => log.read(-1, 1, 1), RangeError);
    log.close();
  });

  void test('recovery cuts a torn tail and a batch with a bad CRC, and what follows', async (t) => {
    for (const damage of ['torn', 'crc', 'garbage'] as const) {
      await t.test(damage, () => {
        const dir = freshDir();
        let log = open(dir);
        log.append(entries(0, 1, 1));
        log.append(entries(2, 1, 1));
        log.append(entries(4, 2));
        log.flush();
        log.close();
        const file = path.join(dir, segmentFileName(0));
        const size = fs.statSync(file).size;
        const lastBatchStart = size - encodeEntries(entries(4, 2), 0).length;
        if (damage === 'torn') fs.truncateSync(file, size - 5);
        else if (damage === 'crc') {
          const fd = fs.openSync(file, 'r+');
          fs.writeSync(fd, Buffer.from([0xff]), 0, 1, size - 1);
          fs.closeSync(fd);
        } else fs.appendFileSync(file, Buffer.alloc(37, 7));
        log = open(dir);
        const expectedEnd = damage === 'garbage' ? 5 : 4;
        assert.equal(log.endOffset, expectedEnd, `log cut after the last good batch (${damage})`);
        assert.equal(log.lastEpoch, damage === 'garbage' ? 2 : 1);
        assert.ok(log.recovery.truncatedBytes > 0, 'recovery reports the cut');
        assert.equal(
          fs.statSync(file).size,
          damage === 'garbage' ? size : lastBatchStart,
          'the file is cut there',
        );
        // The log goes on from there.
        log.append(entries(expectedEnd, 3));
        log.flush();
        log.close();
        log = open(dir);
        assert.equal(log.endOffset, expectedEnd + 1);
        assert.equal(log.recovery.truncatedBytes, 0);
        log.close();
      });
    }
  });

  void test('recovery removes segments after a gap or a cut', () => {
    const dir = freshDir();
    let log = open(dir, { segmentBytesMax: 1 });
    for (let i = 0; i < 4; i++) log.append(entries(i, 1));
    log.flush();
    log.close();
    assert.deepEqual(files(dir), [0, 1, 2, 3].map(segmentFileName));
    // Segment 1 loses its batch: 2 and 3 no longer continue the log.
    fs.truncateSync(path.join(dir, segmentFileName(1)), 10);
    log = open(dir, { segmentBytesMax: 1 });
    assert.equal(log.endOffset, 1);
    assert.equal(log.recovery.removedSegments, 2);
    assert.deepEqual(files(dir), [0, 1].map(segmentFileName));
    log.append(entries(1, 2));
    log.append(entries(2, 2));
    log.flush();
    log.close();
    log = open(dir, { segmentBytesMax: 1 });
    assert.deepEqual(dump(log), ['0@1:e0@1', '1@2:e1@2', '2@2:e2@2']);
    log.close();
  });

  void test('truncateTo at a batch boundary and inside a batch, durably', () => {
    const dir = freshDir();
    let log = open(dir, { segmentBytesMax: 200 });
    log.append(entries(0, 1, 1, 1));
    log.append(entries(3, 2, 2, 2));
    log.append(entries(6, 2, 3));
    log.flush();
    log.truncateTo(6);
    assert.equal(log.endOffset, 6);
    assert.equal(log.lastEpoch, 2);
    log.truncateTo(4);
    assert.equal(log.endOffset, 4);
    assert.equal(log.flushedOffset, 4, 'a truncation is flushed at once');
    assert.deepEqual(log.endOffsetForEpoch(5), { offset: 4, epoch: 2 });
    log.append(entries(4, 4));
    log.truncateTo(100);
    assert.equal(log.endOffset, 5, 'truncating past the end changes nothing');
    log.flush();
    log.close();
    assert.ok(!files(dir).includes('truncation.batch'), 'the truncation file is gone once done');
    log = open(dir, { segmentBytesMax: 200 });
    assert.deepEqual(dump(log), ['0@1:e0@1', '1@1:e1@1', '2@1:e2@1', '3@2:e3@2', '4@4:e4@4']);
    assert.deepEqual(log.endOffsetForEpoch(3), { offset: 4, epoch: 2 });
    log.truncateTo(0);
    assert.equal(log.endOffset, 0);
    assert.equal(log.lastEpoch, 0);
    log.close();
  });

  void test('a crash inside a truncation keeps the entries below the cut (truncation.batch)', () => {
    const dir = freshDir();
    let log = open(dir);
    log.append(entries(0, 1));
    log.append(entries(1, 1, 1, 1, 1));
    log.flush();
    log.close();
    // The state a crash leaves after truncateTo(3) cut the segment before the batch at 1 and
    // before the kept entries 1 and 2 were written back: they are only in truncation.batch.
    const file = path.join(dir, segmentFileName(0));
    fs.truncateSync(file, encodeEntries(entries(0, 1), 0).length);
    fs.writeFileSync(path.join(dir, 'truncation.batch'), encodeEntries(entries(1, 1, 1), 0));
    log = open(dir);
    assert.ok(log.recovery.completedTruncation, 'recovery completes the truncation');
    assert.deepEqual(dump(log), ['0@1:e0@1', '1@1:e1@1', '2@1:e2@1']);
    assert.ok(!files(dir).includes('truncation.batch'), 'the truncation file is removed');
    log.close();
    // When the segment still holds the batch (the crash came before the cut), the file is ignored.
    fs.writeFileSync(path.join(dir, 'truncation.batch'), encodeEntries(entries(1, 1), 0));
    log = open(dir);
    assert.equal(log.recovery.completedTruncation, false);
    assert.equal(log.endOffset, 3);
    log.close();
  });

  void test('installSnapshot inside the log: Kafka file name, log start moves, old segments go', () => {
    const dir = freshDir();
    let log = open(dir, { segmentBytesMax: 1 });
    log.append(entries(0, 1, 1, 2, 2, 2, 3));
    for (let i = 6; i < 9; i++) log.append(entries(i, 3));
    log.flush();
    log.installSnapshot({ endOffset: 7, epoch: 3, data: Buffer.from('state@7') });
    assert.equal(log.startOffset, 7);
    assert.equal(log.endOffset, 9);
    assert.deepEqual(log.latestSnapshot(), { endOffset: 7, epoch: 3, data: Buffer.from('state@7') });
    assert.ok(files(dir).includes('00000000000000000007-0000000003.checkpoint'), files(dir).join(' '));
    assert.equal(snapshotFileName(7, 3), '00000000000000000007-0000000003.checkpoint');
    assert.ok(!files(dir).includes(segmentFileName(0)), 'the segment wholly below the snapshot is removed');
    assert.throws(() => log.read(6, 1, 100), RangeError);
    assert.deepEqual(dump(log), ['7@3:e7@3', '8@3:e8@3']);
    assert.deepEqual(
      log.endOffsetForEpoch(2),
      { offset: -1, epoch: -1 },
      'epochs below the snapshot are gone',
    );
    assert.deepEqual(log.endOffsetForEpoch(3), { offset: 9, epoch: 3 });
    assert.throws(() => log.truncateTo(6), RangeError);
    log.close();

    log = open(dir, { segmentBytesMax: 1 });
    assert.equal(log.startOffset, 7);
    assert.deepEqual(log.latestSnapshot()?.data, Buffer.from('state@7'));
    assert.deepEqual(dump(log), ['7@3:e7@3', '8@3:e8@3']);
    // A later snapshot replaces the earlier one, on disk too.
    log.installSnapshot({ endOffset: 9, epoch: 3, data: Buffer.from('state@9') });
    assert.equal(log.startOffset, 9);
    assert.equal(log.endOffset, 9);
    assert.equal(log.lastEpoch, 3, 'the snapshot gives the epoch of an empty log');
    assert.deepEqual(log.endOffsetForEpoch(4), { offset: 9, epoch: 3 });
    log.append(entries(9, 5));
    assert.deepEqual(log.endOffsetForEpoch(4), { offset: 9, epoch: 3 });
    assert.deepEqual(log.endOffsetForEpoch(5), { offset: 10, epoch: 5 });
    log.flush();
    log.close();
    assert.deepEqual(
      files(dir).filter((f) => f.endsWith('.checkpoint')),
      [snapshotFileName(9, 3)],
      'only the latest snapshot is kept',
    );
    log = open(dir, { segmentBytesMax: 1 });
    assert.deepEqual(dump(log), ['9@5:e9@5']);
    assert.equal(log.epochAt(9), 5);
    log.close();
  });

  void test('a snapshot past the end, or one the log does not continue, restarts the log at its end', () => {
    const dir = freshDir();
    let log = open(dir);
    log.append(entries(0, 1, 1, 2));
    log.flush();
    log.installSnapshot({ endOffset: 10, epoch: 4, data: Buffer.alloc(0) });
    assert.equal(log.startOffset, 10);
    assert.equal(log.endOffset, 10);
    assert.equal(log.lastEpoch, 4);
    log.append(entries(10, 4, 5));
    log.flush();
    // A snapshot whose last entry has another epoch than the log's there: the log is dropped.
    log.installSnapshot({ endOffset: 11, epoch: 7, data: Buffer.from('x') });
    assert.equal(log.endOffset, 11);
    assert.equal(log.lastEpoch, 7);
    log.close();
    log = open(dir);
    assert.equal(log.startOffset, 11);
    assert.equal(log.endOffset, 11);
    assert.equal(log.lastEpoch, 7);
    log.close();
  });

  void test('snapshot data of several chunks round-trips; a corrupt snapshot is not used', () => {
    const dir = freshDir();
    let log = open(dir);
    log.append(entries(0, 1, 1));
    const data = Buffer.alloc(2.5 * 1024 * 1024);
    for (let i = 0; i < data.length; i += 4096) data[i] = i % 251;
    log.installSnapshot({ endOffset: 2, epoch: 1, data });
    log.close();
    log = open(dir);
    assert.ok(log.latestSnapshot()?.data.equals(data), 'snapshot data read back whole');
    log.close();
    const file = path.join(dir, snapshotFileName(2, 1));
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.from([1, 2, 3]), 0, 3, 1000);
    fs.closeSync(fd);
    // Without its snapshot the log (starting at 2) cannot be used: that is an error, not a guess.
    assert.throws(() => open(dir), FileLogCorruptError);
  });

  void test('recovery removes leftover temporary files and keeps only the newest valid snapshot', () => {
    const dir = freshDir();
    let log = open(dir);
    log.append(entries(0, 1, 1, 1));
    log.installSnapshot({ endOffset: 3, epoch: 1, data: Buffer.from('new') });
    log.close();
    // A crash left an older snapshot and a partial one.
    fs.writeFileSync(path.join(dir, snapshotFileName(1, 1)), 'old');
    fs.writeFileSync(path.join(dir, snapshotFileName(5, 1) + '.part'), 'partial');
    log = open(dir);
    assert.deepEqual(log.latestSnapshot()?.data, Buffer.from('new'));
    assert.deepEqual(files(dir), [segmentFileName(3), snapshotFileName(3, 1)].sort());
    log.close();
  });

  void test('a failed write takes the log offline until it is reopened', () => {
    const dir = freshDir();
    let log = open(dir, { segmentBytesMax: 1 });
    log.append(entries(0, 1));
    // The next segment cannot be created: a folder has its name (EISDIR, even for root).
    fs.mkdirSync(path.join(dir, segmentFileName(1)));
    assert.throws(() => log.append(entries(1, 1)), /offline until reopened/);
    assert.throws(() => log.flush(), /offline until reopened/, 'every later call is refused');
    assert.throws(() => log.append(entries(1, 1)), /offline until reopened/);
    log.close();
    fs.rmdirSync(path.join(dir, segmentFileName(1)));
    log = open(dir, { segmentBytesMax: 1 });
    assert.deepEqual(dump(log), ['0@1:e0@1'], 'recovery finds what reached the disk');
    log.append(entries(1, 1));
    assert.equal(log.endOffset, 2);
    log.close();
  });

  void test('behaves as MemoryLog over seeded operation sequences, reopened along the way', () => {
    for (let seed = 1; seed <= COMPARISON_SEEDS; seed++) compareWithMemoryLog(seed);
  });
});

/** Random appends, truncations, snapshots, flushes and reopens, checked against MemoryLog after each. */
function compareWithMemoryLog(seed: number): void {
  const rng = new Rng(seed);
  const dir = freshDir();
  const opts = { segmentBytesMax: 1 + rng.int(2000), tailCacheBytesMax: rng.int(3000) };
  let file = open(dir, opts);
  const mem = new MemoryLog();
  let epoch = 1;
  const trace: string[] = [];
  try {
    for (let op = 0; op < OPS_PER_SEED; op++) {
      const r = rng.next();
      if (r < 0.45) {
        if (rng.chance(0.3)) epoch += 1 + rng.int(2);
        const n = 1 + rng.int(6);
        const batch: LogEntry[] = [];
        for (let i = 0; i < n; i++) {
          if (i > 0 && rng.chance(0.15)) epoch++;
          batch.push({ offset: mem.endOffset + i, epoch, data: Buffer.from(`s${seed}o${op}i${i}`) });
        }
        trace.push(`append ${batch[0]!.offset}+${n}`);
        mem.append(batch);
        file.append(batch);
      } else if (r < 0.6) {
        const to = mem.startOffset + rng.int(mem.endOffset - mem.startOffset + 1);
        trace.push(`truncateTo ${to}`);
        const truncates = to < mem.endOffset;
        mem.truncateTo(to);
        file.truncateTo(to);
        if (truncates) mem.flush(); // the file log flushes a truncation at once
      } else if (r < 0.7 && mem.endOffset > mem.startOffset) {
        const end = mem.startOffset + 1 + rng.int(mem.endOffset - mem.startOffset);
        const snap = { endOffset: end, epoch: mem.epochAt(end - 1)!, data: Buffer.from(`snap${end}`) };
        trace.push(`snapshot ${end}`);
        mem.flush();
        file.flush();
        mem.installSnapshot(snap);
        file.installSnapshot(snap);
      } else if (r < 0.75) {
        const end = mem.endOffset + 1 + rng.int(5);
        epoch += rng.int(2);
        trace.push(`snapshot past the end ${end}@${epoch}`);
        mem.flush();
        file.flush();
        mem.installSnapshot({ endOffset: end, epoch, data: Buffer.alloc(0) });
        file.installSnapshot({ endOffset: end, epoch, data: Buffer.alloc(0) });
      } else if (r < 0.9) {
        trace.push('flush');
        mem.flush();
        file.flush();
      } else {
        trace.push('flush, reopen');
        mem.flush();
        file.flush();
        file.close();
        file = open(dir, opts);
      }
      const where = `seed ${seed} after ${trace.slice(-6).join('; ')}`;
      assert.equal(file.startOffset, mem.startOffset, `startOffset, ${where}`);
      assert.equal(file.endOffset, mem.endOffset, `endOffset, ${where}`);
      assert.equal(file.flushedOffset, mem.flushedOffset, `flushedOffset, ${where}`);
      assert.equal(file.lastEpoch, mem.lastEpoch, `lastEpoch, ${where}`);
      assert.deepEqual(dump(file), dump(mem), `entries, ${where}`);
      for (let e = 0; e <= epoch + 1; e++) {
        assert.deepEqual(
          file.endOffsetForEpoch(e),
          mem.endOffsetForEpoch(e),
          `endOffsetForEpoch(${e}), ${where}`,
        );
      }
      for (let o = mem.startOffset - 1; o <= mem.endOffset; o++) {
        assert.equal(file.epochAt(o), mem.epochAt(o), `epochAt(${o}), ${where}`);
      }
      const from = mem.startOffset + rng.int(mem.endOffset - mem.startOffset + 1);
      const maxEntries = 1 + rng.int(8);
      const maxBytes = rng.int(200);
      assert.deepEqual(
        file.read(from, maxEntries, maxBytes).map((e) => e.offset),
        mem.read(from, maxEntries, maxBytes).map((e) => e.offset),
        `read(${from}, ${maxEntries}, ${maxBytes}), ${where}`,
      );
      assert.deepEqual(file.latestSnapshot(), mem.latestSnapshot(), `snapshot, ${where}`);
    }
  } finally {
    file.close();
  }
}
