/**
 * PartitionLog and openPartitionLog on a real disk: appends (offsets, validation, LogAppendTime,
 * leader epochs), reads by offset (whole batches, maxBytes, maxOffset, segment edges, sparse
 * index lookups), segment rolls, timestamp lookups, DeleteRecords, truncation, leader-epoch
 * answers, flushes and fsync mode, and reopening: clean, with broken indexes, with a torn tail,
 * with leftovers of interrupted deletes and compactions.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as nodeFs from 'node:fs';

import { ErrorCode } from '../../src/protocol/error-codes.js';
import { BatchField, BatchSplitter, TimestampType } from '../../src/protocol/records/batch-view.js';
import { ManualClock } from '../../src/runtime/clock.js';
import { FaultyFileSystem } from '../../src/runtime/faulty-fs.js';
import { nodeFileSystem, type FileSystem } from '../../src/runtime/fs.js';
import { StorageError } from '../../src/storage/errors.js';
import { offsetFileName } from '../../src/storage/files.js';
import { LeaderEpochCache } from '../../src/storage/leader-epoch-cache.js';
import { alwaysSyncWrites } from '../../src/storage/sync-writes.js';
import type { PartitionLog } from '../../src/storage/log.js';
import {
  asyncWritesOnly,
  copy,
  mapHandles,
  decode,
  logConfig,
  logFiles,
  makeBatch,
  openLog,
  readAll,
  rejectsStorage,
  splitBatches,
  T0,
  TempRoot,
  type BatchSpec,
  type SplitBatch,
} from './support/log-fixtures.js';

const tmp = new TempRoot('samsa-log-test-');
after(() => tmp.remove());

/** A batch of `records` records whose key tells which append it came from; all the same size. */
function batchNo(i: number, spec: BatchSpec = {}): Buffer {
  return makeBatch({ records: 2, key: `b${String(i).padStart(4, '0')}`, ...spec });
}

const BATCH_BYTES = batchNo(0).length;

/** Appends `count` batches (2 records each by default) one by one; returns the patched copies. */
async function fill(log: PartitionLog, count: number, spec: BatchSpec = {}, epoch = 0): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const b = batchNo(out.length + log.logEndOffset, spec);
    await log.appendAsLeader(b, epoch);
    out.push(copy(b));
  }
  return out;
}

function assertSameBatches(actual: SplitBatch[], expected: Buffer[]): void {
  assert.equal(actual.length, expected.length, 'number of batches');
  for (let i = 0; i < expected.length; i++) {
    assert.ok(actual[i]!.bytes.equals(expected[i]!), `batch ${i} (offset ${actual[i]!.baseOffset}) differs`);
  }
}

/** Reads at every offset of the log and checks the first batch returned holds it. */
async function checkEveryOffsetReadable(log: PartitionLog, expected: SplitBatch[] | Buffer[]): Promise<void> {
  const batches = expected.map((b) => (Buffer.isBuffer(b) ? splitBatches(b)[0]! : b));
  for (const b of batches) {
    for (let o = b.baseOffset; o <= b.lastOffset; o++) {
      const r = await log.read(o, 1);
      const got = splitBatches(r.records);
      assert.equal(got.length, 1, `read at ${o} with maxBytes 1 returns exactly one batch`);
      assert.ok(
        got[0]!.bytes.equals(b.bytes),
        `read at ${o} returns the batch [${b.baseOffset}, ${b.lastOffset}]`,
      );
    }
  }
}

function segmentBases(log: PartitionLog): number[] {
  return log.segments.map((s) => s.baseOffset);
}

// -------------------------------------------------------------------------------------- append

void describe('append', () => {
  void test('assigns offsets from the log end by patching baseOffset; AppendInfo describes the append', async () => {
    const { log } = await openLog({ dir: tmp.dir() });
    const a = batchNo(0, { records: 3 });
    const info = await log.appendAsLeader(a, 0);
    assert.deepEqual(info, {
      firstOffset: 0,
      lastOffset: 2,
      logAppendTimeMs: -1,
      logStartOffset: 0,
      batches: 1,
    });
    const b = batchNo(1, { records: 4 });
    // The producer's base offset is ignored: the log's end decides.
    b.writeBigInt64BE(1234n, BatchField.baseOffset);
    const info2 = await log.appendAsLeader(b, 0);
    assert.equal(info2.firstOffset, 3);
    assert.equal(info2.lastOffset, 6);
    assert.equal(b.readBigInt64BE(BatchField.baseOffset), 3n, 'the caller buffer is patched in place');
    assert.equal(log.logEndOffset, 7);
    const read = splitBatches((await log.read(0, 1 << 20)).records);
    assert.deepEqual(
      read.map((x) => [x.baseOffset, x.lastOffset]),
      [
        [0, 2],
        [3, 6],
      ],
    );
    const d = decode(read[1]!.bytes);
    assert.equal(d.baseOffset, 3n);
    assert.equal(d.records.length, 4);
    assert.equal(d.records[0]!.key!.toString(), 'b0001-0');
    await log.close();
  });

  void test('a multi-batch append gets consecutive offsets for each batch', async () => {
    const { log } = await openLog({ dir: tmp.dir() });
    await log.appendAsLeader(batchNo(0, { records: 1 }), 0);
    const parts = [batchNo(1, { records: 3 }), batchNo(2, { records: 2 }), batchNo(3, { records: 5 })];
    const info = await log.appendAsLeader(Buffer.concat(parts), 0);
    assert.deepEqual(info, {
      firstOffset: 1,
      lastOffset: 10,
      logAppendTimeMs: -1,
      logStartOffset: 0,
      batches: 3,
    });
    const read = splitBatches((await log.read(1, 1 << 20)).records);
    assert.deepEqual(
      read.map((x) => [x.baseOffset, x.lastOffset]),
      [
        [1, 3],
        [4, 5],
        [6, 10],
      ],
    );
    assert.equal(decode(read[2]!.bytes).records[4]!.key!.toString(), 'b0003-4');
    await log.close();
  });

  void test('concurrent appends get offsets in call order', async () => {
    const { log } = await openLog({ dir: tmp.dir(), config: logConfig({ segmentBytes: 5 * BATCH_BYTES }) });
    const batches = Array.from({ length: 40 }, (_, i) => batchNo(i, { records: 1 + (i % 3) }));
    const infos = await Promise.all(batches.map((b) => log.appendAsLeader(b, 0)));
    let expect = 0;
    for (const info of infos) {
      assert.equal(info.firstOffset, expect);
      expect = info.lastOffset + 1;
    }
    const all = await readAll(log);
    assert.equal(all.length, 40);
    all.forEach((b, i) => {
      assert.equal(b.baseOffset, infos[i]!.firstOffset);
      assert.equal(decode(b.bytes).records[0]!.key!.toString(), `b${String(i).padStart(4, '0')}-0`);
    });
    assert.ok(log.segments.length > 1, 'the appends rolled segments');
    await log.close();
  });

  void test('the leader epoch is patched into every batch; -1 keeps what the producer sent', async () => {
    const { log } = await openLog({ dir: tmp.dir() });
    await log.appendAsLeader(Buffer.concat([batchNo(0), batchNo(1)]), 7);
    await log.appendAsLeader(batchNo(2, { partitionLeaderEpoch: 3 }), -1);
    const read = splitBatches((await log.read(0, 1 << 20)).records);
    assert.deepEqual(
      read.map((b) => b.partitionLeaderEpoch),
      [7, 7, 3],
    );
    assert.equal(decode(read[0]!.bytes).partitionLeaderEpoch, 7);
    await log.close();
  });

  void test('a batch with a bad CRC is refused with CORRUPT_MESSAGE and nothing is appended', async () => {
    const { log } = await openLog({ dir: tmp.dir() });
    await fill(log, 2);
    const bad = batchNo(9);
    bad[bad.length - 1]! ^= 0xff;
    await rejectsStorage(log.appendAsLeader(bad, 0), ErrorCode.CORRUPT_MESSAGE, /CRC/);
    // A bad batch after a good one fails the whole append.
    const mixed = Buffer.concat([batchNo(10), bad]);
    await rejectsStorage(log.appendAsLeader(mixed, 0), ErrorCode.CORRUPT_MESSAGE);
    // A truncated batch.
    await rejectsStorage(log.appendAsLeader(batchNo(11).subarray(0, 30), 0), ErrorCode.CORRUPT_MESSAGE);
    assert.equal(log.logEndOffset, 4);
    assert.equal((await readAll(log)).length, 2);
    const info = await log.appendAsLeader(batchNo(12), 0);
    assert.equal(info.firstOffset, 4, 'offsets continue without a gap after refused appends');
    await log.close();
  });

  void test('a bad CRC found while its (asynchronous) write runs: the bytes are cut, appends behind it wait and get its offsets', async () => {
    const { log } = await openLog({ dir: tmp.dir(), fs: asyncWritesOnly() });
    const good = await fill(log, 2);
    const logFile = `${log.dir}/${offsetFileName(0)}.log`;
    const sizeBefore = nodeFs.statSync(logFile).size;
    const bad = batchNo(9);
    bad[bad.length - 1]! ^= 0xff;
    // A new leader epoch with the bad batch: it must not stay in the epoch cache.
    const refused = log.appendAsLeader(bad, 5);
    assert.equal(log.logEndOffset, 4, 'the refused offsets leave the log end at once');
    const b10 = batchNo(10);
    const behind = log.appendAsLeader(b10, 0);
    await rejectsStorage(refused, ErrorCode.CORRUPT_MESSAGE, /CRC/);
    const info = await behind;
    assert.equal(info.firstOffset, 4, 'the append behind the refused one gets its offsets');
    good.push(copy(b10));
    assert.equal(nodeFs.statSync(logFile).size, sizeBefore + BATCH_BYTES, 'no byte of the bad batch stays');
    assert.equal(log.epochCache.latestEpoch(), 0, 'the refused epoch is not kept');
    assertSameBatches(await readAll(log), good);
    await log.close();
    const { log: reopened } = await openLog({ dir: log.dir });
    assertSameBatches(await readAll(reopened), good);
    assert.equal(reopened.logEndOffset, 6);
    await reopened.close();
  });

  void test('a bad CRC behind a write in flight is refused before it is queued; the write in flight succeeds', async () => {
    const { log } = await openLog({ dir: tmp.dir(), fs: asyncWritesOnly() });
    await fill(log, 1);
    const bad = batchNo(9);
    bad[bad.length - 1]! ^= 0xff;
    const first = log.appendAsLeader(batchNo(1), 0);
    const refused = log.appendAsLeader(bad, 0);
    const third = log.appendAsLeader(batchNo(3), 0);
    await rejectsStorage(refused, ErrorCode.CORRUPT_MESSAGE, /CRC/);
    assert.equal((await first).firstOffset, 2);
    assert.equal((await third).firstOffset, 4);
    assert.equal((await readAll(log)).length, 3);
    await log.close();
  });

  void test('an append the policy lets write synchronously is in the file when appendAsLeader returns; one over 64 KiB is written asynchronously', async () => {
    const calls: string[] = [];
    const fs = mapHandles(nodeFileSystem, (h, path) =>
      !path.endsWith('.log')
        ? h
        : {
            ...h,
            writev: (c, pos) => (calls.push('writev'), h.writev(c, pos)),
            writeSync: (c: readonly Buffer[], pos: number) => (calls.push('writeSync'), h.writeSync!(c, pos)),
          },
    );
    const { log } = await openLog({ dir: tmp.dir(), fs, syncWrites: alwaysSyncWrites });
    await fill(log, 1); // the segment's file opens on its first write, made through the pump
    const logFile = `${log.dir}/${offsetFileName(0)}.log`;
    const size0 = nodeFs.statSync(logFile).size;
    calls.length = 0;
    const small = log.appendAsLeader(batchNo(1), 0);
    assert.equal(nodeFs.statSync(logFile).size, size0 + BATCH_BYTES, 'written before the first await');
    assert.equal((await small).firstOffset, 2);
    assert.deepEqual(calls, ['writeSync']);
    const big = makeBatch({ records: 1, key: 'big', valueBytes: 64 * 1024 });
    calls.length = 0;
    // A batch over 64 KiB goes through the thread pool; an append behind it queues and follows in order.
    const a = log.appendAsLeader(big, 0);
    const b = log.appendAsLeader(batchNo(5), 0);
    assert.deepEqual([(await a).firstOffset, (await b).firstOffset], [4, 5]);
    assert.deepEqual(calls, ['writev', 'writev']);
    assert.deepEqual(
      (await readAll(log)).map((x) => x.baseOffset),
      [0, 2, 4, 5],
    );
    await log.close();
  });

  void test('a failed synchronous write rejects the append and rolls the log back; the next append takes its offsets', async () => {
    const fs = new FaultyFileSystem({ inner: nodeFileSystem });
    const { log } = await openLog({ dir: tmp.dir(), fs, syncWrites: alwaysSyncWrites });
    const good = await fill(log, 2);
    fs.inject({ op: 'writev', path: '.log', fault: { kind: 'tornWrite', bytes: 10, code: 'ENOSPC' } });
    const failed = log.appendAsLeader(batchNo(7), 0);
    assert.equal(log.logEndOffset, 4, 'the failed offsets leave the log end before anyone awaits');
    await rejectsStorage(failed, ErrorCode.KAFKA_STORAGE_ERROR, /ENOSPC/);
    const info = await log.appendAsLeader(batchNo(8), 0);
    assert.equal(info.firstOffset, 4);
    good.push(copy(batchNo(8)));
    const logFile = `${log.dir}/${offsetFileName(0)}.log`;
    assert.equal(nodeFs.statSync(logFile).size, 3 * BATCH_BYTES, 'the torn bytes are cut');
    await log.close();
    const { log: reopened } = await openLog({ dir: log.dir });
    assert.equal((await readAll(reopened)).length, 3);
    await reopened.close();
  });

  void test('magic 0 and 1 are refused with UNSUPPORTED_FOR_MESSAGE_FORMAT', async () => {
    const { log } = await openLog({ dir: tmp.dir() });
    for (const magic of [0, 1]) {
      const b = batchNo(0);
      b.writeInt8(magic, BatchField.magic);
      await rejectsStorage(log.appendAsLeader(b, 0), ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT);
    }
    assert.equal(log.logEndOffset, 0);
    await log.close();
  });

  void test('a batch over max.message.bytes is refused with MESSAGE_TOO_LARGE; one at the limit is accepted', async () => {
    const { log } = await openLog({ dir: tmp.dir(), config: logConfig({ maxMessageBytes: BATCH_BYTES }) });
    await log.appendAsLeader(batchNo(0), 0);
    const big = batchNo(1, { valueBytes: 17 });
    assert.equal(big.length, BATCH_BYTES + 2);
    await rejectsStorage(log.appendAsLeader(big, 0), ErrorCode.MESSAGE_TOO_LARGE, /max\.message\.bytes/);
    // The limit applies per batch, not to the whole append.
    await log.appendAsLeader(Buffer.concat([batchNo(2), batchNo(3)]), 0);
    assert.equal(log.logEndOffset, 6);
    await log.close();
  });

  void test('an empty append is refused', async () => {
    const { log } = await openLog({ dir: tmp.dir() });
    await rejectsStorage(log.appendAsLeader(Buffer.alloc(0), 0), ErrorCode.CORRUPT_MESSAGE);
    assert.equal(log.logEndOffset, 0);
    assert.equal(nodeFs.statSync(`${log.dir}/${offsetFileName(0)}.log`).size, 0);
    await log.close();
  });

  void test('LogAppendTime: maxTimestamp becomes the append time, the type bit is set, the CRC stays valid', async () => {
    const clock = new ManualClock(T0 + 5_000);
    const { log } = await openLog({
      dir: tmp.dir(),
      clock,
      config: logConfig({ messageTimestampType: 'LogAppendTime' }),
    });
    const b = batchNo(0, { records: 3, timestamp: 1_000 });
    const info = await log.appendAsLeader(b, 2);
    assert.equal(info.logAppendTimeMs, T0 + 5_000);
    clock.advance(10);
    const info2 = await log.appendAsLeader(Buffer.concat([batchNo(1), batchNo(2)]), 2);
    assert.equal(info2.logAppendTimeMs, T0 + 5_010);
    const read = splitBatches((await log.read(0, 1 << 20)).records); // verifies every CRC
    assert.equal(read.length, 3);
    const d = decode(read[0]!.bytes); // verifies the CRC again, through the full decoder
    assert.equal(d.timestampType, TimestampType.LogAppendTime);
    assert.equal(d.maxTimestamp, T0 + 5_000);
    assert.equal(d.baseTimestamp, 1_000, 'records keep their create times');
    assert.deepEqual(
      read.map((x) => x.maxTimestamp),
      [T0 + 5_000, T0 + 5_010, T0 + 5_010],
    );
    // The first batch that reached the largest timestamp ([3, 4]) holds it.
    assert.deepEqual(await log.maxTimestamp(), { offset: 4, timestampMs: T0 + 5_010 });
    await log.close();
  });

  void test('CreateTime: the producer timestamps are kept and logAppendTimeMs is -1', async () => {
    const { log } = await openLog({ dir: tmp.dir() });
    const info = await log.appendAsLeader(batchNo(0, { timestamps: [1_000, 3_000, 2_000] }), 0);
    assert.equal(info.logAppendTimeMs, -1);
    const d = decode((await log.read(0, 1000)).records);
    assert.equal(d.timestampType, TimestampType.CreateTime);
    assert.equal(d.maxTimestamp, 3_000);
    await log.close();
  });
});

// ---------------------------------------------------------------------------------------- read

void describe('read', () => {
  void test('an offset in the middle of a batch returns that whole batch first', async () => {
    const { log } = await openLog({ dir: tmp.dir() });
    const sent = await fill(log, 5, { records: 4 });
    for (const o of [5, 6, 7]) {
      const got = splitBatches((await log.read(o, 1 << 20)).records);
      assert.equal(got[0]!.baseOffset, 4);
      assert.ok(got[0]!.bytes.equals(sent[1]!));
      assert.equal(got.length, 4, 'and the batches after it');
    }
    await log.close();
  });

  void test('maxBytes: whole batches only, the first one even when larger', async () => {
    const { log } = await openLog({ dir: tmp.dir() });
    const sent = await fill(log, 6);
    const S = BATCH_BYTES;
    const cases: [number, number][] = [
      [0, 1],
      [1, 1],
      [S - 1, 1],
      [S, 1],
      [S + 1, 1],
      [2 * S - 1, 1],
      [2 * S, 2],
      [Math.floor(2.5 * S), 2],
      [6 * S, 6],
      [100 * S, 6],
    ];
    for (const [maxBytes, n] of cases) {
      const r = await log.read(0, maxBytes);
      assert.equal(r.records.length, n * S, `maxBytes ${maxBytes}`);
      assertSameBatches(splitBatches(r.records), sent.slice(0, n));
      assert.equal(r.logEndOffset, 12);
      assert.equal(r.logStartOffset, 0);
    }
    await log.close();
  });

  void test('a first batch far larger than maxBytes (beyond the read-ahead) comes back whole', async () => {
    const { log } = await openLog({ dir: tmp.dir() });
    const small = batchNo(0);
    const huge = makeBatch({ records: 3, key: 'huge', valueBytes: 100_000 });
    await log.appendAsLeader(small, 0);
    await log.appendAsLeader(huge, 0);
    await log.appendAsLeader(batchNo(2), 0);
    const r = await log.read(2, 100);
    const got = splitBatches(r.records);
    assert.equal(got.length, 1);
    assert.ok(got[0]!.bytes.equals(huge));
    // From before it: the small batch, then the huge one does not fit.
    assert.equal(splitBatches((await log.read(0, 1000)).records).length, 1);
    // After it.
    const tail = splitBatches((await log.read(5, 100)).records);
    assert.equal(tail[0]!.baseOffset, 5);
    await log.close();
  });

  void test('maxOffset (high watermark) keeps back batches whose last offset reaches it', async () => {
    const { log } = await openLog({ dir: tmp.dir() });
    await fill(log, 3, { records: 3 }); // [0-2] [3-5] [6-8]
    const bases = async (offset: number, maxOffset: number): Promise<number[]> =>
      splitBatches((await log.read(offset, 1 << 20, { maxOffset })).records).map((b) => b.baseOffset);
    assert.deepEqual(await bases(0, 9), [0, 3, 6]);
    assert.deepEqual(await bases(0, 100), [0, 3, 6], 'a bound past the log end is the log end');
    assert.deepEqual(await bases(0, 6), [0, 3]);
    assert.deepEqual(await bases(0, 5), [0], 'a bound inside a batch keeps the whole batch back');
    assert.deepEqual(await bases(0, 3), [0]);
    assert.deepEqual(await bases(0, 2), []);
    assert.deepEqual(await bases(0, 0), []);
    assert.deepEqual(await bases(4, 5), []);
    assert.deepEqual(await bases(4, 6), [3]);
    await log.close();
  });

  void test('the log end offset reads empty; past it and below the start is OFFSET_OUT_OF_RANGE', async () => {
    const { log } = await openLog({ dir: tmp.dir() });
    const empty = await log.read(0, 100);
    assert.equal(empty.records.length, 0, 'an empty log reads empty at 0');
    await fill(log, 2);
    const r = await log.read(4, 100);
    assert.equal(r.records.length, 0);
    assert.equal(r.logEndOffset, 4);
    await rejectsStorage(log.read(5, 100), ErrorCode.OFFSET_OUT_OF_RANGE);
    await rejectsStorage(log.read(-1, 100), ErrorCode.OFFSET_OUT_OF_RANGE);
    await log.deleteRecordsBefore(2);
    await rejectsStorage(log.read(1, 100), ErrorCode.OFFSET_OUT_OF_RANGE);
    assert.equal(splitBatches((await log.read(2, 100)).records)[0]!.baseOffset, 2);
    await log.close();
  });

  void test('reads across segments and exactly at segment edges', async () => {
    // 3 batches of 2 records per segment: segment k holds offsets [6k, 6k+5].
    const { log } = await openLog({ dir: tmp.dir(), config: logConfig({ segmentBytes: 3 * BATCH_BYTES }) });
    const sent = await fill(log, 12);
    assert.deepEqual(segmentBases(log), [0, 6, 12, 18]);
    assertSameBatches(await readAll(log), sent);
    for (const edge of [6, 12, 18]) {
      const at = splitBatches((await log.read(edge, 1 << 20)).records);
      assert.equal(at[0]!.baseOffset, edge, `first batch of the segment at ${edge}`);
      assert.ok(at[0]!.bytes.equals(sent[edge / 2]!));
      const before = splitBatches((await log.read(edge - 1, 1 << 20)).records);
      assert.equal(before[0]!.baseOffset, edge - 2, `last batch of the segment before ${edge}`);
      assert.ok(before[0]!.bytes.equals(sent[edge / 2 - 1]!));
      // Whatever a read returns is a contiguous run of the log.
      const run = [...before];
      for (let i = 1; i < run.length; i++) assert.equal(run[i]!.baseOffset, run[i - 1]!.lastOffset + 1);
    }
    // A read bounded by maxBytes at a segment's last batch gives exactly that batch.
    assert.equal(splitBatches((await log.read(11, BATCH_BYTES)).records)[0]!.baseOffset, 10);
    // A high watermark at a segment edge.
    const bounded = splitBatches((await log.read(8, 1 << 20, { maxOffset: 12 })).records);
    assert.deepEqual(
      bounded.map((b) => b.baseOffset),
      [8, 10],
    );
    assert.equal((await log.read(12, 1 << 20, { maxOffset: 12 })).records.length, 0);
    await log.close();
  });

  void test('sparse index: every offset is found, at index entries and between them, in every segment', async () => {
    for (const interval of [0, BATCH_BYTES, 2 * BATCH_BYTES + 1, 5 * BATCH_BYTES]) {
      const config = logConfig({ segmentBytes: 10 * BATCH_BYTES, indexIntervalBytes: interval });
      const dir = tmp.dir();
      const { log } = await openLog({ dir, config });
      const sent = await fill(log, 25);
      assert.equal(log.segments.length, 3);
      await checkEveryOffsetReadable(log, sent);
      await log.close();
      // The same through indexes loaded from disk.
      const reopened = (await openLog({ dir, config })).log;
      await checkEveryOffsetReadable(reopened, sent);
      assertSameBatches(await readAll(reopened), sent);
      await reopened.close();
    }
  });
});

// ---------------------------------------------------------------------------------------- roll

void describe('segment roll', () => {
  void test('by segment.bytes: a segment never grows past it, files are named by base offset', async () => {
    const dir = tmp.dir();
    const { log } = await openLog({ dir, config: logConfig({ segmentBytes: 3 * BATCH_BYTES + 10 }) });
    await fill(log, 10);
    assert.deepEqual(segmentBases(log), [0, 6, 12, 18]);
    assert.deepEqual(
      logFiles(dir),
      [0, 6, 12, 18].map((o) => `${offsetFileName(o)}.log`),
    );
    assert.deepEqual(
      log.segments.map((s) => s.sizeBytes),
      [3, 3, 3, 1].map((n) => n * BATCH_BYTES),
    );
    // A batch larger than segment.bytes still goes in, alone in its segment.
    const big = makeBatch({ key: 'big', valueBytes: 4 * BATCH_BYTES });
    await log.appendAsLeader(big, 0);
    await log.appendAsLeader(batchNo(99), 0);
    assert.deepEqual(segmentBases(log), [0, 6, 12, 18, 20, 21]);
    await log.close();
    for (const s of [0, 6, 12])
      assert.equal(nodeFs.statSync(`${dir}/${offsetFileName(s)}.log`).size, 3 * BATCH_BYTES);
  });

  void test('by segment.ms, counted from the first append of the segment', async () => {
    const clock = new ManualClock(T0);
    const { log } = await openLog({ dir: tmp.dir(), clock, config: logConfig({ segmentMs: 1000 }) });
    clock.advance(5000); // time before the first append does not count
    await fill(log, 1);
    clock.advance(999);
    await fill(log, 1);
    assert.deepEqual(segmentBases(log), [0]);
    clock.advance(1);
    await fill(log, 1);
    assert.deepEqual(segmentBases(log), [0, 4]);
    clock.advance(999);
    await fill(log, 1);
    assert.deepEqual(segmentBases(log), [0, 4]);
    clock.advance(1);
    await fill(log, 1);
    assert.deepEqual(segmentBases(log), [0, 4, 8]);
    await log.close();
  });

  void test('by index fullness (tiny segment.index.bytes)', async () => {
    // 3 offset-index entries; an entry is added before every batch but the first of a segment.
    const config = logConfig({ segmentIndexBytes: 24, indexIntervalBytes: 0 });
    const dir = tmp.dir();
    const { log } = await openLog({ dir, config });
    const sent = await fill(log, 10, { timestamp: T0 }); // equal timestamps: one time-index entry per segment
    assert.deepEqual(segmentBases(log), [0, 8, 16]);
    for (const s of log.segments.slice(0, -1)) assert.equal((await s.indexes()).offsetIndex.entries, 3);
    await checkEveryOffsetReadable(log, sent);
    await log.close();
    assert.equal(nodeFs.statSync(`${dir}/${offsetFileName(0)}.index`).size, 24);
  });

  void test('rollNow starts a segment at the log end; an empty active segment is not rolled', async () => {
    const { log } = await openLog({ dir: tmp.dir() });
    await log.rollNow();
    assert.deepEqual(segmentBases(log), [0]);
    await fill(log, 2);
    await log.rollNow();
    await log.rollNow();
    assert.deepEqual(segmentBases(log), [0, 4]);
    await fill(log, 1);
    assert.equal(log.activeSegment.sizeBytes, BATCH_BYTES);
    await log.close();
  });
});

// ---------------------------------------------------------------------------------- timestamps

void describe('timestamps', () => {
  /** Batch i holds records at T0 + 100 i and T0 + 100 i + 50. */
  async function timedLog(): Promise<{ log: PartitionLog; dir: string }> {
    const dir = tmp.dir();
    const config = logConfig({ segmentBytes: 4 * BATCH_BYTES, indexIntervalBytes: BATCH_BYTES });
    const { log } = await openLog({ dir, config });
    for (let i = 0; i < 10; i++) {
      await log.appendAsLeader(batchNo(i, { timestamps: [T0 + 100 * i, T0 + 100 * i + 50] }), 0);
    }
    return { log, dir };
  }

  void test('offsetForTimestamp: earliest, exact, between batches, inside a batch, after the last', async () => {
    const { log } = await timedLog();
    assert.ok(log.segments.length >= 3);
    assert.deepEqual(await log.offsetForTimestamp(0), { offset: 0, timestampMs: T0 + 50 });
    assert.deepEqual(await log.offsetForTimestamp(T0), { offset: 0, timestampMs: T0 + 50 });
    for (let i = 0; i < 10; i++) {
      const want = { offset: 2 * i, timestampMs: T0 + 100 * i + 50 };
      assert.deepEqual(await log.offsetForTimestamp(T0 + 100 * i), want, `at batch ${i}'s first record`);
      assert.deepEqual(await log.offsetForTimestamp(T0 + 100 * i + 50), want, `at batch ${i}'s max`);
      if (i > 0)
        assert.deepEqual(await log.offsetForTimestamp(T0 + 100 * i - 20), want, `just before batch ${i}`);
    }
    assert.equal(await log.offsetForTimestamp(T0 + 951), null);
    assert.equal(await log.offsetForTimestamp(T0 + 100_000), null);
    await log.close();
  });

  void test('offsetForTimestamp never answers below the log start offset', async () => {
    const { log } = await timedLog();
    await log.deleteRecordsBefore(9);
    assert.deepEqual(await log.offsetForTimestamp(0), { offset: 9, timestampMs: T0 + 450 });
    assert.deepEqual(await log.offsetForTimestamp(T0 + 460), { offset: 10, timestampMs: T0 + 550 });
    await log.close();
  });

  void test('maxTimestamp: the largest timestamp wherever it is, also after a reopen', async () => {
    const dir = tmp.dir();
    const config = logConfig({ segmentBytes: 3 * BATCH_BYTES, indexIntervalBytes: 0 });
    const { log } = await openLog({ dir, config });
    assert.equal(await log.maxTimestamp(), null);
    const ts = [5, 9, 7, 30, 8, 6, 20, 4, 3, 2];
    for (let i = 0; i < ts.length; i++)
      await log.appendAsLeader(batchNo(i, { timestamps: [T0, T0 + ts[i]!] }), 0);
    const check = async (l: PartitionLog): Promise<void> => {
      const m = await l.maxTimestamp();
      assert.ok(m !== null);
      assert.equal(m.timestampMs, T0 + 30);
      assert.ok(m.offset === 6 || m.offset === 7, `offset ${m.offset} is in the batch [6, 7]`);
    };
    await check(log);
    await log.close();
    const reopened = (await openLog({ dir, config })).log;
    await check(reopened);
    await reopened.close();
    // And after recovery from scratch.
    const recovered = (await openLog({ dir, config, cleanShutdown: false })).log;
    await check(recovered);
    await recovered.close();
  });
});

// ----------------------------------------------------------------------------- deleteRecords

void describe('deleteRecordsBefore', () => {
  void test('moves the log start, deletes whole segments below it, refuses reads below it', async () => {
    const dir = tmp.dir();
    const config = logConfig({ segmentBytes: 3 * BATCH_BYTES });
    const { log } = await openLog({ dir, config });
    const sent = await fill(log, 12); // segments at 0, 6, 12, 18
    // Let the background flushes started by the rolls finish (see the race test below).
    await log.flush();
    assert.equal(await log.deleteRecordsBefore(15), 15);
    assert.equal(log.logStartOffset, 15);
    assert.deepEqual(segmentBases(log), [12, 18]);
    assert.deepEqual(logFiles(dir), [`${offsetFileName(12)}.log`, `${offsetFileName(18)}.log`]);
    assert.ok(
      !nodeFs
        .readdirSync(dir)
        .some((n) => n.startsWith(offsetFileName(0)) || n.startsWith(offsetFileName(6))),
    );
    await rejectsStorage(log.read(14, 100), ErrorCode.OFFSET_OUT_OF_RANGE);
    await rejectsStorage(log.read(0, 100), ErrorCode.OFFSET_OUT_OF_RANGE);
    const r = await log.read(15, 100);
    assert.equal(r.logStartOffset, 15);
    assert.ok(
      splitBatches(r.records)[0]!.bytes.equals(sent[7]!),
      'the batch holding the start is returned whole',
    );
    // Lower or equal: no change; past the end: out of range.
    assert.equal(await log.deleteRecordsBefore(3), 15);
    await rejectsStorage(log.deleteRecordsBefore(25), ErrorCode.OFFSET_OUT_OF_RANGE);
    // Up to the log end: only the active segment stays; appends continue.
    assert.equal(await log.deleteRecordsBefore(24), 24);
    assert.deepEqual(segmentBases(log), [18]);
    assert.equal((await log.read(24, 100)).records.length, 0);
    const info = await log.appendAsLeader(batchNo(50), 0);
    assert.equal(info.firstOffset, 24);
    assert.equal(info.logStartOffset, 24);
    await log.close();
    // The loader keeps the checkpointed start.
    const reopened = (await openLog({ dir, config, logStartOffset: 24 })).log;
    assert.equal(reopened.logStartOffset, 24);
    assert.equal(reopened.logEndOffset, 26);
    await rejectsStorage(reopened.read(23, 100), ErrorCode.OFFSET_OUT_OF_RANGE);
    await reopened.close();
  });

  void test('segments deleted while the flush after a roll is pending stay deleted', async () => {
    // Slow index writes keep the flushes that rolls start in the background pending during the delete.
    const fs = new FaultyFileSystem({ inner: nodeFileSystem });
    fs.inject({ op: 'open', path: '.index', persistent: true, fault: { kind: 'delay', ms: 50 } });
    const dir = tmp.dir();
    const { log } = await openLog({ dir, fs, config: logConfig({ segmentBytes: 3 * BATCH_BYTES }) });
    await fill(log, 12); // segments at 0, 6, 12, 18
    await log.deleteRecordsBefore(15);
    await log.flush(); // runs after the background flushes
    const stale = nodeFs
      .readdirSync(dir)
      .filter((n) => n.startsWith(offsetFileName(0)) || n.startsWith(offsetFileName(6)));
    assert.deepEqual(stale, [], 'files of deleted segments came back');
    await log.close();
  });

  void test('moves the leader-epoch cache start with it', async () => {
    const { log } = await openLog({ dir: tmp.dir() });
    await fill(log, 2, {}, 1);
    await fill(log, 2, {}, 2);
    await log.deleteRecordsBefore(6);
    assert.deepEqual(log.epochCache.entries(), [{ epoch: 2, startOffset: 6 }]);
    await log.close();
  });
});

// ----------------------------------------------------------------------------------- truncate

void describe('truncateTo', () => {
  /** 4 segments of 3 batches of 2 records, epochs 1 (offsets 0-7), 2 (8-15), 3 (16-23). */
  async function epochLog(): Promise<{ log: PartitionLog; dir: string; sent: Buffer[] }> {
    const dir = tmp.dir();
    const { log } = await openLog({
      dir,
      config: logConfig({ segmentBytes: 3 * BATCH_BYTES, indexIntervalBytes: 0 }),
    });
    const sent = [
      ...(await fill(log, 4, {}, 1)),
      ...(await fill(log, 4, {}, 2)),
      ...(await fill(log, 4, {}, 3)),
    ];
    assert.deepEqual(segmentBases(log), [0, 6, 12, 18]);
    return { log, dir, sent };
  }

  async function checkpointed(dir: string): Promise<unknown> {
    const c = await LeaderEpochCache.load(nodeFileSystem, dir);
    assert.ok(c instanceof LeaderEpochCache);
    return c.entries();
  }

  void test('in the middle of a segment: later segments deleted, epochs truncated, appends continue', async () => {
    const { log, dir, sent } = await epochLog();
    await log.truncateTo(8);
    assert.equal(log.logEndOffset, 8);
    assert.deepEqual(segmentBases(log), [0, 6]);
    assert.deepEqual(logFiles(dir), [`${offsetFileName(0)}.log`, `${offsetFileName(6)}.log`]);
    assert.equal(nodeFs.statSync(`${dir}/${offsetFileName(6)}.log`).size, BATCH_BYTES);
    assert.deepEqual(log.epochCache.entries(), [{ epoch: 1, startOffset: 0 }]);
    assert.deepEqual(await checkpointed(dir), [{ epoch: 1, startOffset: 0 }]);
    assertSameBatches(await readAll(log), sent.slice(0, 4));
    await rejectsStorage(log.read(9, 100), ErrorCode.OFFSET_OUT_OF_RANGE);
    const info = await log.appendAsLeader(batchNo(77), 4);
    assert.equal(info.firstOffset, 8);
    assert.deepEqual(log.epochCache.entries(), [
      { epoch: 1, startOffset: 0 },
      { epoch: 4, startOffset: 8 },
    ]);
    const again = await fill(log, 3, {}, 4);
    const expected = [...sent.slice(0, 4), ...(await readAll(log, 8)).map((b) => b.bytes)];
    assert.equal(expected.length, 8);
    assertSameBatches(await readAll(log), expected);
    assert.ok(expected[expected.length - 1]!.equals(again[2]!));
    await checkEveryOffsetReadable(log, expected);
    await log.close();
  });

  void test('an offset inside a batch removes the whole batch', async () => {
    const { log, sent } = await epochLog();
    await log.truncateTo(9);
    assert.equal(log.logEndOffset, 8);
    assertSameBatches(await readAll(log), sent.slice(0, 4));
    await log.close();
  });

  void test('at a segment boundary', async () => {
    const { log, dir, sent } = await epochLog();
    await log.truncateTo(12);
    assert.equal(log.logEndOffset, 12);
    assert.ok(segmentBases(log).at(-1)! <= 12);
    assert.ok(!logFiles(dir).includes(`${offsetFileName(18)}.log`));
    assertSameBatches(await readAll(log), sent.slice(0, 6));
    assert.deepEqual(log.epochCache.entries(), [
      { epoch: 1, startOffset: 0 },
      { epoch: 2, startOffset: 8 },
    ]);
    const info = await log.appendAsLeader(batchNo(5), 5);
    assert.equal(info.firstOffset, 12);
    assert.equal(splitBatches((await log.read(12, 100)).records)[0]!.partitionLeaderEpoch, 5);
    await log.close();
  });

  void test('in an earlier segment', async () => {
    const { log, dir, sent } = await epochLog();
    await log.truncateTo(4);
    assert.equal(log.logEndOffset, 4);
    assert.deepEqual(segmentBases(log), [0]);
    assert.deepEqual(logFiles(dir), [`${offsetFileName(0)}.log`]);
    assertSameBatches(await readAll(log), sent.slice(0, 2));
    const more = await fill(log, 5, {}, 6);
    assertSameBatches(await readAll(log), [...sent.slice(0, 2), ...more]);
    assert.deepEqual(await checkpointed(dir), [
      { epoch: 1, startOffset: 0 },
      { epoch: 6, startOffset: 4 },
    ]);
    await log.close();
    // The truncated and re-appended log reopens as it was, clean and after recovery.
    for (const cleanShutdown of [true, false]) {
      const r = (await openLog({ dir, config: log.config, cleanShutdown })).log;
      assert.equal(r.logEndOffset, 14);
      assertSameBatches(await readAll(r), [...sent.slice(0, 2), ...more]);
      await r.close();
    }
  });

  void test('at or past the log end changes nothing; to 0 empties the log', async () => {
    const { log, sent } = await epochLog();
    await log.truncateTo(24);
    await log.truncateTo(100);
    assert.equal(log.logEndOffset, 24);
    assertSameBatches(await readAll(log), sent);
    await log.truncateTo(0);
    assert.equal(log.logEndOffset, 0);
    assert.equal((await log.read(0, 100)).records.length, 0);
    assert.deepEqual(log.epochCache.entries(), []);
    assert.equal((await log.appendAsLeader(batchNo(0), 1)).firstOffset, 0);
    await log.close();
  });

  void test('an append called after a truncation that waits behind another one comes after it', async () => {
    const { log, sent } = await epochLog();
    const first = log.truncateTo(20);
    const second = log.truncateTo(8); // waits for the first
    const late = batchNo(1000);
    const appended = log.appendAsLeader(late, 4); // called after both: must land after the second
    const [, , info] = await Promise.all([first, second, appended]);
    const all = await readAll(log);
    assert.equal(info.firstOffset, 8, `the acknowledged append got offset ${info.firstOffset}`);
    assertSameBatches(all, [...sent.slice(0, 4), copy(late)]);
    await log.close();
  });

  void test('truncateFullyAndStartAt: everything goes, the log restarts at the offset', async () => {
    const { log, dir } = await epochLog();
    await log.truncateFullyAndStartAt(100);
    assert.equal(log.logStartOffset, 100);
    assert.equal(log.logEndOffset, 100);
    assert.deepEqual(logFiles(dir), [`${offsetFileName(100)}.log`]);
    assert.deepEqual(log.epochCache.entries(), []);
    assert.deepEqual(await checkpointed(dir), []);
    await rejectsStorage(log.read(0, 100), ErrorCode.OFFSET_OUT_OF_RANGE);
    assert.equal((await log.read(100, 100)).records.length, 0);
    const info = await log.appendAsLeader(batchNo(1), 9);
    assert.equal(info.firstOffset, 100);
    assert.equal(info.logStartOffset, 100);
    await log.close();
    const r = (await openLog({ dir, config: log.config })).log;
    assert.equal(r.logStartOffset, 100);
    assert.equal(r.logEndOffset, 102);
    assert.equal(splitBatches((await r.read(100, 100)).records)[0]!.baseOffset, 100);
    await r.close();
  });
});

// ------------------------------------------------------------------------------- leader epochs

void describe('leader epochs', () => {
  void test('checkpointed when a new epoch appends; endOffsetForEpoch answers like Kafka', async () => {
    const dir = tmp.dir();
    const { log } = await openLog({ dir });
    await fill(log, 2, {}, 0); // 0-3
    await fill(log, 2, {}, 2); // 4-7
    await fill(log, 2, {}, 5); // 8-11
    const want = [
      { epoch: 0, startOffset: 0 },
      { epoch: 2, startOffset: 4 },
      { epoch: 5, startOffset: 8 },
    ];
    assert.deepEqual(log.epochCache.entries(), want);
    const onDisk = await LeaderEpochCache.load(nodeFileSystem, dir);
    assert.ok(onDisk instanceof LeaderEpochCache);
    assert.deepEqual(onDisk.entries(), want, 'durable before the append resolved');
    assert.deepEqual(log.endOffsetForEpoch(0), { epoch: 0, endOffset: 4 });
    assert.deepEqual(log.endOffsetForEpoch(1), { epoch: 0, endOffset: 4 });
    assert.deepEqual(log.endOffsetForEpoch(2), { epoch: 2, endOffset: 8 });
    assert.deepEqual(log.endOffsetForEpoch(4), { epoch: 2, endOffset: 8 });
    assert.deepEqual(log.endOffsetForEpoch(5), { epoch: 5, endOffset: 12 });
    assert.deepEqual(log.endOffsetForEpoch(6), { epoch: -1, endOffset: -1 });
    assert.deepEqual(log.endOffsetForEpoch(-1), { epoch: -1, endOffset: -1 });
    await log.close();
    // Rebuilt from the batches by recovery when the checkpoint is lost.
    nodeFs.unlinkSync(`${dir}/leader-epoch-checkpoint`);
    const r = (await openLog({ dir, cleanShutdown: false })).log;
    assert.deepEqual(r.epochCache.entries(), want);
    assert.deepEqual(r.endOffsetForEpoch(2), { epoch: 2, endOffset: 8 });
    await r.close();
  });
});

// -------------------------------------------------------------------------------------- flush

/** Counts completed fsyncs of `.log` files. */
function countingFs(): { fs: FileSystem; logSyncs: () => number } {
  let n = 0;
  const fs = mapHandles(nodeFileSystem, (h) => ({
    ...h,
    sync: async () => {
      await h.sync();
      if (h.path.endsWith('.log')) n++;
    },
  }));
  return { fs, logSyncs: () => n };
}

/** Records the files read through handles. */
function readRecordingFs(): { fs: FileSystem; readFrom: Set<string> } {
  const readFrom = new Set<string>();
  const fs = mapHandles(nodeFileSystem, (h, p) => ({
    ...h,
    read: (i, o, l, pos) => {
      readFrom.add(p);
      return h.read(i, o, l, pos);
    },
  }));
  return { fs, readFrom };
}

void describe('flush', () => {
  void test('page-cache mode: appends do not fsync; flush moves the recovery point', async () => {
    const { fs, logSyncs } = countingFs();
    const { log } = await openLog({ dir: tmp.dir(), fs });
    await fill(log, 3);
    assert.equal(log.recoveryPoint, 0);
    assert.equal(logSyncs(), 0);
    await log.flush(2);
    // The fsync covers everything written, so the recovery point may move past what was asked.
    assert.ok(log.recoveryPoint >= 2);
    await log.flush();
    assert.equal(log.recoveryPoint, 6);
    assert.ok(logSyncs() >= 1);
    await log.close();
  });

  void test('flush.messages=1: every append resolves only after an fsync covering it', async () => {
    const { fs, logSyncs } = countingFs();
    const { log } = await openLog({ dir: tmp.dir(), fs, config: logConfig({ flushMessages: 1 }) });
    const before = logSyncs();
    const info = await log.appendAsLeader(batchNo(0), 0);
    assert.ok(log.recoveryPoint > info.lastOffset);
    assert.ok(logSyncs() > before);
    // Concurrent appends: each one, when it resolves, is below the recovery point.
    const seen: string[] = [];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        log.appendAsLeader(batchNo(i + 1, { records: 1 + (i % 4) }), 0).then((x) => {
          if (log.recoveryPoint <= x.lastOffset)
            seen.push(`[${x.firstOffset}, ${x.lastOffset}] rp ${log.recoveryPoint}`);
        }),
      ),
    );
    assert.deepEqual(seen, [], 'appends acknowledged before their fsync');
    await log.close();
  });

  void test('flush.messages=3: an fsync every third message', async () => {
    const { log } = await openLog({ dir: tmp.dir(), config: logConfig({ flushMessages: 3 }) });
    const rps: number[] = [];
    for (let i = 0; i < 7; i++) {
      await log.appendAsLeader(batchNo(i, { records: 1 }), 0);
      rps.push(log.recoveryPoint);
    }
    assert.deepEqual(rps, [0, 0, 3, 3, 3, 6, 6]);
    await log.close();
  });

  void test('flush.ms: flushIfDue flushes once the interval has passed', async () => {
    const clock = new ManualClock(T0);
    const { log } = await openLog({ dir: tmp.dir(), clock, config: logConfig({ flushMs: 1000 }) });
    await fill(log, 2);
    await log.flushIfDue();
    assert.equal(log.recoveryPoint, 0);
    clock.advance(1000);
    await log.flushIfDue();
    assert.equal(log.recoveryPoint, 4);
    await log.close();
  });
});

// ----------------------------------------------------------------------------- close / reopen

void describe('close and reopen', () => {
  const config = logConfig({ segmentBytes: 4 * BATCH_BYTES, indexIntervalBytes: BATCH_BYTES });

  async function populated(): Promise<{ dir: string; sent: Buffer[] }> {
    const dir = tmp.dir();
    const { log } = await openLog({ dir, config });
    const sent = [...(await fill(log, 6, {}, 1)), ...(await fill(log, 7, {}, 3))];
    await log.close();
    return { dir, sent };
  }

  void test('a clean reopen keeps everything; appends continue', async () => {
    const { dir, sent } = await populated();
    const { log, lines } = await openLog({ dir, config });
    assert.ok(!lines.some((l) => /rebuil|recover|truncat/i.test(l)), JSON.stringify(lines));
    assert.equal(log.logEndOffset, 26);
    assert.equal(log.recoveryPoint, 26);
    assert.deepEqual(segmentBases(log), [0, 8, 16, 24]);
    assertSameBatches(await readAll(log), sent);
    await checkEveryOffsetReadable(log, sent);
    assert.deepEqual(log.epochCache.entries(), [
      { epoch: 1, startOffset: 0 },
      { epoch: 3, startOffset: 12 },
    ]);
    const info = await log.appendAsLeader(batchNo(1), 3);
    assert.equal(info.firstOffset, 26);
    await log.close();
    await rejectsStorage(log.read(0, 100), ErrorCode.KAFKA_STORAGE_ERROR, /closed/);
    await rejectsStorage(log.appendAsLeader(batchNo(2), 3), ErrorCode.KAFKA_STORAGE_ERROR, /closed/);
  });

  void test('an empty log reopens empty; a log folder with no segment starts at the log start offset', async () => {
    const dir = tmp.dir();
    const { log } = await openLog({ dir });
    await log.close();
    const r = (await openLog({ dir })).log;
    assert.equal(r.logEndOffset, 0);
    await r.close();
    const other = tmp.dir();
    const s = (await openLog({ dir: other, logStartOffset: 42 })).log;
    assert.equal(s.logStartOffset, 42);
    assert.equal(s.logEndOffset, 42);
    assert.deepEqual(logFiles(other), [`${offsetFileName(42)}.log`]);
    await s.close();
  });

  const indexDamage: [string, (path: string) => void][] = [
    ['deleted', (p) => nodeFs.unlinkSync(p)],
    ['cut to an odd size', (p) => nodeFs.truncateSync(p, Math.max(1, nodeFs.statSync(p).size - 3))],
    ['garbage', (p) => nodeFs.writeFileSync(p, Buffer.alloc(nodeFs.statSync(p).size || 16, 0xff))],
    [
      'an entry pointing into the middle of a batch',
      (p) => {
        const b = Buffer.alloc(8);
        b.writeInt32BE(1, 0);
        b.writeInt32BE(7, 4);
        nodeFs.writeFileSync(p, b);
      },
    ],
    ['emptied', (p) => nodeFs.truncateSync(p, 0)],
  ];
  for (const [what, damage] of indexDamage) {
    for (const segment of [8, 24]) {
      for (const file of ['index', 'timeindex']) {
        void test(`a ${file} ${what} (segment ${segment === 24 ? 'active' : 'not active'}) is rebuilt; reads work`, async () => {
          const { dir, sent } = await populated();
          damage(`${dir}/${offsetFileName(segment)}.${file}`);
          const { log } = await openLog({ dir, config });
          assert.equal(log.logEndOffset, 26);
          assertSameBatches(await readAll(log), sent);
          await checkEveryOffsetReadable(log, sent);
          const m = await log.maxTimestamp();
          assert.equal(m?.timestampMs, T0 + 1);
          assert.deepEqual(await log.offsetForTimestamp(T0 + 1), { offset: 0, timestampMs: T0 + 1 });
          const info = await log.appendAsLeader(batchNo(3), 3);
          assert.equal(info.firstOffset, 26);
          await log.close();
          const again = (await openLog({ dir, config })).log;
          assert.equal(again.logEndOffset, 28);
          await checkEveryOffsetReadable(again, sent);
          await again.close();
        });
      }
    }
  }

  /** Bytes of the active segment file. */
  function activeFile(dir: string): string {
    return `${dir}/${logFiles(dir).at(-1)!}`;
  }

  const tails: [string, (path: string, sent: Buffer[]) => number][] = [
    // Each returns how many of the sent batches must survive.
    [
      'garbage appended',
      (p, sent) => {
        nodeFs.appendFileSync(p, Buffer.from('this is not a record batch, not at all'));
        return sent.length;
      },
    ],
    [
      'zeros appended (preallocated or unwritten pages)',
      (p, sent) => {
        nodeFs.appendFileSync(p, Buffer.alloc(4096));
        return sent.length;
      },
    ],
    [
      'the last batch cut in half',
      (p, sent) => {
        nodeFs.truncateSync(p, nodeFs.statSync(p).size - Math.floor(sent.at(-1)!.length / 2));
        return sent.length - 1;
      },
    ],
    [
      'the last batch cut inside its header',
      (p, sent) => {
        nodeFs.truncateSync(p, nodeFs.statSync(p).size - sent.at(-1)!.length + 10);
        return sent.length - 1;
      },
    ],
    [
      'a byte flipped in the last batch',
      (p, sent) => {
        const fd = nodeFs.openSync(p, 'r+');
        const pos = nodeFs.statSync(p).size - 3;
        const b = Buffer.alloc(1);
        nodeFs.readSync(fd, b, 0, 1, pos);
        b[0]! ^= 0x5a;
        nodeFs.writeSync(fd, b, 0, 1, pos);
        nodeFs.closeSync(fd);
        return sent.length - 1;
      },
    ],
    [
      'a later batch whose offsets go backwards',
      (p, sent) => {
        const dup = Buffer.from(sent.at(-1)!); // a valid batch, but not after the log end
        nodeFs.appendFileSync(p, dup);
        return sent.length;
      },
    ],
  ];
  for (const [what, damage] of tails) {
    for (const cleanShutdown of [false, true]) {
      void test(`a torn tail (${what}) is cut at the first bad byte on ${cleanShutdown ? 'a "clean"' : 'an unclean'} reopen`, async () => {
        const { dir, sent } = await populated();
        const keep = damage(activeFile(dir), sent);
        const expectedEnd = splitBatches(sent[keep - 1]!)[0]!.lastOffset + 1;
        const { log, lines } = await openLog({ dir, config, cleanShutdown, recoveryPoint: 0 });
        assert.equal(log.logEndOffset, expectedEnd);
        assertSameBatches(await readAll(log), sent.slice(0, keep));
        await checkEveryOffsetReadable(log, sent.slice(0, keep));
        assert.ok(
          lines.some((l) => /truncat/i.test(l)),
          `the cut is logged: ${JSON.stringify(lines)}`,
        );
        const sizeOnDisk = nodeFs.statSync(activeFile(dir)).size;
        assert.equal(sizeOnDisk, log.activeSegment.sizeBytes, 'the file is cut, not just ignored');
        const info = await log.appendAsLeader(batchNo(9), 3);
        assert.equal(info.firstOffset, expectedEnd);
        await log.close();
        const again = (await openLog({ dir, config, cleanShutdown: false })).log;
        assert.equal(again.logEndOffset, expectedEnd + 2);
        assertSameBatches((await readAll(again)).slice(0, keep), sent.slice(0, keep));
        await again.close();
      });
    }
  }

  void test('a corrupt batch in an earlier segment cuts the log there and removes the later segments', async () => {
    const { dir, sent } = await populated();
    // Flip a byte in the 2nd batch of segment 8 (offsets 10-11).
    const p = `${dir}/${offsetFileName(8)}.log`;
    const fd = nodeFs.openSync(p, 'r+');
    const pos = BATCH_BYTES + BatchField.attributes + 3;
    nodeFs.writeSync(fd, Buffer.from([0xee]), 0, 1, pos);
    nodeFs.closeSync(fd);
    const { log, lines } = await openLog({ dir, config, cleanShutdown: false, recoveryPoint: 0 });
    assert.equal(log.logEndOffset, 10);
    assertSameBatches(await readAll(log), sent.slice(0, 5));
    assert.deepEqual(logFiles(dir), [`${offsetFileName(0)}.log`, `${offsetFileName(8)}.log`]);
    assert.ok(
      lines.some((l) => /truncat/i.test(l)),
      JSON.stringify(lines),
    );
    assert.deepEqual(log.epochCache.entries(), [{ epoch: 1, startOffset: 0 }]);
    await log.close();
  });

  void test('a damaged batch length in a segment trusted after a clean shutdown: reads fail or return only valid batches', async () => {
    const { dir, sent } = await populated();
    // Bit rot in the first segment (not scanned at a clean open, as in Kafka): batch 1's length becomes 5.
    const p = `${dir}/${offsetFileName(0)}.log`;
    const fd = nodeFs.openSync(p, 'r+');
    const len = Buffer.alloc(4);
    len.writeInt32BE(5);
    nodeFs.writeSync(fd, len, 0, 4, BATCH_BYTES + BatchField.batchLength);
    nodeFs.closeSync(fd);
    const { log } = await openLog({ dir, config });
    for (const offset of [0, 2]) {
      let records: Buffer | null = null;
      try {
        records = (await log.read(offset, 1 << 20)).records;
      } catch (e) {
        assert.ok(e instanceof StorageError, `a read error is a StorageError: ${String(e)}`);
      }
      if (records !== null) {
        const got = records;
        const it = new BatchSplitter(got, { verifyCrc: true });
        while (it.next());
        assert.equal(it.error, null, `read at ${offset} returned an invalid batch`);
        assert.ok(got.length === 0 || sent.some((b) => got.subarray(0, b.length).equals(b)));
      }
    }
    await log.close();
  });

  void test('an index rebuilt at open is written back', async () => {
    const { dir } = await populated();
    const p = `${dir}/${offsetFileName(8)}.index`;
    nodeFs.unlinkSync(p);
    const { log } = await openLog({ dir, config });
    await log.read(9, 100); // loads (rebuilds) the indexes of segment 8
    await log.appendAsLeader(batchNo(1), 3);
    await log.close();
    assert.ok(nodeFs.existsSync(p), `${p} is back after a clean close`);
  });

  for (const [what, keepBatches] of [
    ['lost its last batch', 3],
    ['lost everything', 0],
  ] as const) {
    void test(`a segment that ${what} (cleanly, at a batch boundary) ends the log: no gap before the later segments`, async () => {
      // A power loss can keep a later segment's data and lose the unsynced tail of an earlier one.
      const { dir, sent } = await populated();
      nodeFs.truncateSync(`${dir}/${offsetFileName(8)}.log`, keepBatches * BATCH_BYTES);
      const { log } = await openLog({ dir, config, cleanShutdown: false, recoveryPoint: 0 });
      assert.equal(log.logEndOffset, 8 + 2 * keepBatches);
      assertSameBatches(await readAll(log), sent.slice(0, 4 + keepBatches));
      await log.close();
    });
  }

  void test('recovery scans from the segment holding the recovery point', async () => {
    const { dir, sent } = await populated();
    nodeFs.appendFileSync(activeFile(dir), Buffer.from('torn'));
    const { fs, readFrom } = readRecordingFs();
    const { log } = await openLog({ dir, fs, config, cleanShutdown: false, recoveryPoint: 20 });
    const scanned = [...readFrom].filter((p) => p.endsWith('.log')).map((p) => p.slice(dir.length + 1));
    assert.deepEqual(scanned.sort(), [`${offsetFileName(16)}.log`, `${offsetFileName(24)}.log`]);
    assert.equal(log.logEndOffset, 26);
    assert.equal(log.recoveryPoint, 26);
    assertSameBatches(await readAll(log), sent);
    await log.close();
  });

  void test('.deleted, .cleaned and .tmp leftovers and stray index files are removed at open', async () => {
    const { dir, sent } = await populated();
    const leftovers = [
      `${offsetFileName(0)}.log.deleted`,
      `${offsetFileName(0)}.index.deleted`,
      `${offsetFileName(4)}.timeindex.deleted`,
      `${offsetFileName(8)}.log.cleaned`,
      `${offsetFileName(8)}.index.cleaned`,
      'leader-epoch-checkpoint.tmp',
      `${offsetFileName(99)}.index`,
      `${offsetFileName(99)}.timeindex`,
    ];
    for (const n of leftovers) nodeFs.writeFileSync(`${dir}/${n}`, 'leftover');
    const { log } = await openLog({ dir, config });
    const names = nodeFs.readdirSync(dir);
    for (const n of leftovers) assert.ok(!names.includes(n), `${n} removed`);
    assert.equal(log.logEndOffset, 26);
    assertSameBatches(await readAll(log), sent);
    await log.close();
  });
});
