/**
 * Idempotent producers in the partition log: sequence checks (duplicates answered with their
 * offsets, gaps and old epochs refused, unknown producers), snapshots at roll and close, and the
 * state surviving a clean reopen, a crash, a truncation and expiry.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as nodeFs from 'node:fs';

import { ErrorCode } from '../../src/protocol/error-codes.js';
import { CompressionCodec } from '../../src/protocol/compression/index.js';
import { encodeRecordBatch, newRecordBatch } from '../../src/protocol/records/batch.js';
import { ManualClock } from '../../src/runtime/clock.js';
import { offsetFileName } from '../../src/storage/files.js';
import type { PartitionLog } from '../../src/storage/log.js';
import { lastSequenceOf, parseSnapshotFile, ProducerStateManager } from '../../src/storage/producer-state.js';
import { logConfig, openLog, readAll, rejectsStorage, T0, TempRoot } from './support/log-fixtures.js';

const tmp = new TempRoot('samsa-producer-state-test-');
after(() => tmp.remove());

const INT32_MAX = 0x7fffffff;

/** An idempotent batch of `records` records from producer `pid` at `epoch`, starting at `seq`. */
function idem(pid: number, epoch: number, seq: number, records = 2, timestamp = T0): Buffer {
  const batch = newRecordBatch(
    Array.from({ length: records }, (_, i) => ({
      // Fixed widths: every batch has the same size, so segment.bytes tells where logs roll.
      key: Buffer.from(`p${pid}-s${String(seq + i).padStart(10, '0')}`),
      value: Buffer.from(`value of ${pid}/${epoch}/${String(seq + i).padStart(10, '0')}`),
      timestamp,
      headers: [],
    })),
    { producerId: BigInt(pid), producerEpoch: epoch, baseSequence: seq },
  );
  return encodeRecordBatch(batch, { compression: CompressionCodec.None });
}

function snapshotFiles(log: PartitionLog): number[] {
  return nodeFs
    .readdirSync(log.dir)
    .map(parseSnapshotFile)
    .filter((o): o is number => o !== null)
    .sort((a, b) => a - b);
}

function logBytes(log: PartitionLog): number {
  let total = 0;
  for (const n of nodeFs.readdirSync(log.dir))
    if (n.endsWith('.log')) total += nodeFs.statSync(`${log.dir}/${n}`).size;
  return total;
}

void describe('producer sequences', () => {
  void test('sequence numbers wrap from INT32_MAX to 0', () => {
    assert.equal(lastSequenceOf(0, 4), 4);
    assert.equal(lastSequenceOf(INT32_MAX, 0), INT32_MAX);
    assert.equal(lastSequenceOf(INT32_MAX, 1), 0);
    assert.equal(lastSequenceOf(INT32_MAX - 1, 3), 1);
  });

  void test('in order, a gap, a duplicate of each of the last five batches, and one older than them', async () => {
    const { log } = await openLog({ dir: tmp.dir() });
    const offsets: number[] = [];
    for (let i = 0; i < 7; i++) offsets.push((await log.appendAsLeader(idem(1, 0, i * 2), 0)).firstOffset);
    assert.deepEqual(offsets, [0, 2, 4, 6, 8, 10, 12]);
    const bytes = logBytes(log);
    // Each of the last five batches, sent again, is answered with its offsets and not written.
    for (let i = 2; i < 7; i++) {
      const info = await log.appendAsLeader(idem(1, 0, i * 2), 0);
      assert.equal(info.duplicate, true, `batch ${i} is a duplicate`);
      assert.equal(info.firstOffset, offsets[i]);
      assert.equal(info.lastOffset, offsets[i]! + 1);
    }
    assert.equal(logBytes(log), bytes, 'duplicates write nothing');
    assert.equal(log.logEndOffset, 14);
    // Older than the five remembered: a sequence out of order.
    await rejectsStorage(log.appendAsLeader(idem(1, 0, 2), 0), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    // A gap.
    await rejectsStorage(
      log.appendAsLeader(idem(1, 0, 15), 0),
      ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
      /sequence 15 after 13/,
    );
    // The same first sequence with another length is not a duplicate: out of order.
    await rejectsStorage(log.appendAsLeader(idem(1, 0, 12, 3), 0), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert.equal((await log.appendAsLeader(idem(1, 0, 14), 0)).firstOffset, 14, 'the next in order goes on');
    await log.close();
  });

  void test('epochs: an older one is fenced, a newer one starts at 0, an unknown producer must start at 0', async () => {
    const { log } = await openLog({ dir: tmp.dir() });
    await log.appendAsLeader(idem(5, 3, 0), 0);
    await rejectsStorage(log.appendAsLeader(idem(5, 2, 2), 0), ErrorCode.INVALID_PRODUCER_EPOCH);
    await rejectsStorage(
      log.appendAsLeader(idem(5, 4, 7), 0),
      ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
      /starts epoch 4 at sequence 7/,
    );
    assert.equal((await log.appendAsLeader(idem(5, 4, 0), 0)).firstOffset, 2);
    // The old epoch's batches are forgotten with it: a retry of one of them is fenced.
    await rejectsStorage(log.appendAsLeader(idem(5, 3, 0), 0), ErrorCode.INVALID_PRODUCER_EPOCH);
    await rejectsStorage(log.appendAsLeader(idem(6, 0, 9), 0), ErrorCode.UNKNOWN_PRODUCER_ID);
    assert.equal((await log.appendAsLeader(idem(6, 0, 0), 0)).firstOffset, 4);
    // Producers are independent; batches without a producer id are not checked.
    assert.equal((await log.appendAsLeader(idem(7, 0, 0), 0)).firstOffset, 6);
    await log.close();
  });

  void test('two batches of one producer in one append are checked in turn', async () => {
    const { log } = await openLog({ dir: tmp.dir() });
    const info = await log.appendAsLeader(Buffer.concat([idem(1, 0, 0), idem(1, 0, 2)]), 0);
    assert.equal(info.lastOffset, 3);
    await rejectsStorage(
      log.appendAsLeader(Buffer.concat([idem(1, 0, 4), idem(1, 0, 7)]), 0),
      ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
    );
    assert.equal(log.logEndOffset, 4, 'a refused append writes none of its batches');
    await log.close();
  });

  void test('a sequence that wraps past INT32_MAX continues at 0', () => {
    // The state as if the producer had reached the top of the sequence range.
    const m = new ProducerStateManager('wrap');
    m.update(idem(9, 0, INT32_MAX - 1, 2));
    assert.doesNotThrow(() => m.check(idem(9, 0, 0)), 'sequence 0 follows INT32_MAX');
    assert.throws(() => m.check(idem(9, 0, 1)), /sequence 1 after 2147483647/);
    assert.equal(m.check(idem(9, 0, INT32_MAX - 1, 2)).kind, 'duplicate');
  });
});

void describe('producer state across restarts', () => {
  void test('a clean close writes a snapshot at the log end; reopening replays nothing and still finds duplicates', async () => {
    const dir = tmp.dir();
    const { log } = await openLog({ dir });
    await log.appendAsLeader(idem(1, 0, 0), 0);
    await log.appendAsLeader(idem(1, 0, 2), 0);
    await log.close();
    assert.deepEqual(snapshotFiles(log), [4]);
    const { log: again } = await openLog({ dir });
    const info = await again.appendAsLeader(idem(1, 0, 2), 0);
    assert.equal(info.duplicate, true);
    assert.equal(info.firstOffset, 2);
    await rejectsStorage(again.appendAsLeader(idem(1, 0, 9), 0), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert.equal((await again.appendAsLeader(idem(1, 0, 4), 0)).firstOffset, 4);
    await again.close();
  });

  void test('after a crash (no close) the state is the newest snapshot plus the batches after it', async () => {
    const dir = tmp.dir();
    const config = logConfig({ segmentBytes: 3 * idem(1, 0, 0).length });
    const { log } = await openLog({ dir, config });
    for (let i = 0; i < 8; i++) await log.appendAsLeader(idem(1, 0, i * 2), 0);
    await log.appendAsLeader(idem(2, 0, 0), 0);
    await log.flush();
    // Rolls wrote snapshots at each new segment's base offset; no close: the crash.
    const snaps = snapshotFiles(log);
    assert.deepEqual(snaps, [6, 12], 'a snapshot per roll');
    const { log: again } = await openLog({ dir, config, cleanShutdown: false });
    assert.equal(again.logEndOffset, 18);
    assert.equal((await again.appendAsLeader(idem(1, 0, 14), 0)).duplicate, true, 'replayed batch found');
    assert.equal(
      (await again.appendAsLeader(idem(2, 0, 0), 0)).duplicate,
      true,
      'producer of the tail found',
    );
    assert.equal((await again.appendAsLeader(idem(1, 0, 16), 0)).firstOffset, 18);
    await again.close();
  });

  void test('an unusable snapshot is deleted and the state rebuilt from the log', async () => {
    const dir = tmp.dir();
    const { log } = await openLog({ dir });
    await log.appendAsLeader(idem(1, 0, 0), 0);
    await log.appendAsLeader(idem(1, 0, 2), 0);
    await log.close();
    const path = `${dir}/${offsetFileName(4)}.snapshot`;
    const bytes = nodeFs.readFileSync(path);
    bytes[bytes.length - 1]! ^= 0xff;
    nodeFs.writeFileSync(path, bytes);
    const { log: again, lines } = await openLog({ dir });
    assert.ok(
      lines.some((l) => /unusable \(CRC mismatch\)/.test(l)),
      `the bad snapshot is reported: ${lines.join(' | ')}`,
    );
    assert.equal((await again.appendAsLeader(idem(1, 0, 2), 0)).duplicate, true, 'rebuilt from the log');
    await again.close();
  });

  void test('truncation rebuilds the state: a truncated batch may be written again, snapshots past the end go', async () => {
    const dir = tmp.dir();
    const config = logConfig({ segmentBytes: 2 * idem(1, 0, 0).length });
    const { log } = await openLog({ dir, config });
    for (let i = 0; i < 5; i++) await log.appendAsLeader(idem(1, 0, i * 2), 0);
    await log.flush();
    assert.deepEqual(snapshotFiles(log), [4, 8]);
    await log.truncateTo(4);
    assert.deepEqual(snapshotFiles(log), [4], 'the snapshot past the new end is deleted');
    assert.equal((await log.appendAsLeader(idem(1, 0, 4), 0)).firstOffset, 4, 'sequence 4 is next again');
    await log.truncateFullyAndStartAt(100);
    assert.deepEqual(snapshotFiles(log), []);
    await rejectsStorage(log.appendAsLeader(idem(1, 0, 6), 0), ErrorCode.UNKNOWN_PRODUCER_ID);
    await log.close();
  });

  void test('expiry forgets idle producers; retention removes the snapshots of deleted segments', async () => {
    const clock = new ManualClock(T0);
    const dir = tmp.dir();
    const config = logConfig({ segmentBytes: 2 * idem(1, 0, 0).length });
    const { log } = await openLog({ dir, config, clock });
    for (let i = 0; i < 5; i++) await log.appendAsLeader(idem(1, 0, i * 2, 2, T0), 0);
    await log.appendAsLeader(idem(2, 0, 0, 2, T0 + 50_000), 0);
    await log.flush();
    clock.advance(60_000);
    assert.equal(log.removeExpiredProducers(30_000), 1, 'producer 1 (idle for 60 s) expires; producer 2 not');
    await rejectsStorage(log.appendAsLeader(idem(1, 0, 10), 0), ErrorCode.UNKNOWN_PRODUCER_ID);
    assert.equal((await log.appendAsLeader(idem(2, 0, 2), 0)).firstOffset, 12);
    await log.flush();
    const before = snapshotFiles(log);
    assert.deepEqual(before, [4, 8, 12]);
    await log.deleteRecordsBefore(9);
    assert.deepEqual(snapshotFiles(log), [8, 12], 'snapshots below the first segment are deleted');
    assert.equal((await readAll(log))[0]!.baseOffset, 8);
    await log.close();
  });
});
