/**
 * Transactions in the partition log: the last stable offset (LSO) held at the oldest open
 * transaction, transaction markers ending them (epoch and coordinator-epoch checks), and the
 * aborted-transaction index — across segments, after a clean reopen, a crash recovery, a
 * truncation, retention and replication.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as nodeFs from 'node:fs';

import { CompressionCodec } from '../../src/protocol/compression/index.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import {
  buildEndTxnMarkerBatch,
  encodeRecordBatch,
  newRecordBatch,
} from '../../src/protocol/records/batch.js';
import { offsetFileName } from '../../src/storage/files.js';
import type { PartitionLog } from '../../src/storage/log.js';
import type { AbortedTransaction } from '../../src/storage/txn-index.js';
import { copy, logConfig, makeBatch, openLog, rejectsStorage, T0, TempRoot } from './support/log-fixtures.js';

const tmp = new TempRoot('samsa-transactions-test-');
after(() => tmp.remove());

/** A batch of `records` records from producer `pid`, transactional unless told otherwise. */
function txn(
  pid: number,
  seq: number,
  records = 2,
  opts: { epoch?: number; transactional?: boolean } = {},
): Buffer {
  const batch = newRecordBatch(
    Array.from({ length: records }, (_, i) => ({
      key: Buffer.from(`p${pid}-${String(seq + i).padStart(8, '0')}`),
      value: Buffer.from(`value ${pid}/${String(seq + i).padStart(8, '0')}`),
      timestamp: T0,
      headers: [],
    })),
    {
      producerId: BigInt(pid),
      producerEpoch: opts.epoch ?? 0,
      baseSequence: seq,
      isTransactional: opts.transactional ?? true,
    },
  );
  return encodeRecordBatch(batch, { compression: CompressionCodec.None });
}

/** Appends a marker for `pid` and moves the high watermark past it, as the broker does once written. */
async function end(
  log: PartitionLog,
  pid: number,
  commit: boolean,
  opts: { epoch?: number; coordinatorEpoch?: number } = {},
): Promise<number> {
  const info = await log.appendMarker(
    {
      producerId: BigInt(pid),
      producerEpoch: opts.epoch ?? 0,
      coordinatorEpoch: opts.coordinatorEpoch ?? 0,
      commit,
    },
    0,
  );
  log.onHighWatermark(log.logEndOffset);
  return info.firstOffset;
}

/** Appends and moves the high watermark to the log end. */
async function put(log: PartitionLog, records: Buffer): Promise<number> {
  const info = await log.appendAsLeader(records, 0);
  log.onHighWatermark(log.logEndOffset);
  return info.firstOffset;
}

function lso(log: PartitionLog): number {
  return log.lastStableOffset(log.logEndOffset);
}

function names(found: readonly AbortedTransaction[]): string[] {
  return found.map((t) => `${t.producerId}@${t.firstOffset}`);
}

function txnIndexFiles(dir: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const n of nodeFs.readdirSync(dir).sort()) {
    if (n.endsWith('.txnindex')) out.set(Number(n.slice(0, 20)), nodeFs.statSync(`${dir}/${n}`).size);
  }
  return out;
}

void describe('last stable offset', () => {
  void test('held at an open transaction’s first offset until its marker is below the high watermark', async () => {
    const { log } = await openLog({ dir: tmp.dir() });
    await put(log, makeBatch({ records: 2 }));
    assert.equal(lso(log), 2, 'no transaction: the high watermark');
    assert.equal(await put(log, txn(1, 0)), 2);
    assert.equal(lso(log), 2, 'the open transaction starts at 2');
    await put(log, makeBatch({ records: 2 }));
    await put(log, txn(1, 2));
    assert.equal(lso(log), 2, 'other writes and more of the transaction do not move it');
    assert.deepEqual(log.producerState.ongoingTransactions(), [{ producerId: 1n, firstOffset: 2 }]);
    // The marker is appended, but the high watermark has not passed it yet.
    const info = await log.appendMarker(
      { producerId: 1n, producerEpoch: 0, coordinatorEpoch: 0, commit: true },
      0,
    );
    assert.equal(info.firstOffset, 8);
    assert.equal(log.lastStableOffset(8), 2, 'the marker is not below the high watermark yet');
    log.onHighWatermark(9);
    assert.equal(log.lastStableOffset(9), 9, 'committed and stable');
    assert.deepEqual(log.producerState.ongoingTransactions(), []);
    assert.deepEqual(names(await log.collectAbortedTransactions(0, 9)), [], 'a commit is not in the index');
    await log.close();
  });

  void test('interleaved transactions: an abort records the oldest other open transaction as its LSO', async () => {
    const dir = tmp.dir();
    const { log } = await openLog({ dir });
    await put(log, txn(1, 0)); // 0-1
    await put(log, txn(2, 0)); // 2-3
    assert.equal(await end(log, 1, false), 4);
    assert.equal(lso(log), 2, 'producer 2 is still open');
    assert.deepEqual(log.activeSegment.txns.entries, [
      { producerId: 1n, firstOffset: 0, lastOffset: 4, lastStableOffset: 2 },
    ]);
    assert.equal(await end(log, 2, true), 5);
    assert.equal(lso(log), 6);
    assert.deepEqual(names(await log.collectAbortedTransactions(0, 6)), ['1@0']);
    assert.deepEqual(names(await log.collectAbortedTransactions(2, 3)), ['1@0'], 'overlaps [2, 3)');
    assert.deepEqual(names(await log.collectAbortedTransactions(5, 6)), [], 'ended before 5');
    // A marker with no transaction open (an empty transaction) changes nothing.
    await end(log, 3, false);
    assert.equal(log.activeSegment.txns.count, 1, 'no entry for an empty transaction');
    assert.equal(lso(log), 7);
    await log.close();
    // Written with the segment at close: one 34-byte entry.
    assert.deepEqual([...txnIndexFiles(dir)], [[0, 34]]);
  });
});

void describe('transaction markers', () => {
  void test('an older producer epoch is INVALID_PRODUCER_EPOCH, an older coordinator epoch TRANSACTION_COORDINATOR_FENCED', async () => {
    const { log } = await openLog({ dir: tmp.dir() });
    await put(log, txn(1, 0, 2, { epoch: 3 }));
    await rejectsStorage(end(log, 1, true, { epoch: 2 }), ErrorCode.INVALID_PRODUCER_EPOCH);
    assert.equal(lso(log), 0, 'still open');
    await end(log, 1, true, { epoch: 3, coordinatorEpoch: 5 });
    assert.equal(log.producerState.producers.get(1n)!.coordinatorEpoch, 5);
    await put(log, txn(1, 2, 2, { epoch: 3 }));
    await rejectsStorage(
      end(log, 1, false, { epoch: 3, coordinatorEpoch: 4 }),
      ErrorCode.TRANSACTION_COORDINATOR_FENCED,
    );
    // A marker with a newer epoch (the coordinator bumped it when aborting) is taken.
    await end(log, 1, false, { epoch: 4, coordinatorEpoch: 5 });
    assert.equal(lso(log), log.logEndOffset);
    assert.equal(log.producerState.producers.get(1n)!.epoch, 4);
    await log.close();
  });

  void test('a non-transactional batch during a transaction is INVALID_TXN_STATE; clients may not write markers', async () => {
    const { log } = await openLog({ dir: tmp.dir() });
    await put(log, txn(1, 0));
    await rejectsStorage(
      log.appendAsLeader(txn(1, 2, 1, { transactional: false }), 0),
      ErrorCode.INVALID_TXN_STATE,
    );
    const marker = buildEndTxnMarkerBatch({
      producerId: 1n,
      producerEpoch: 0,
      coordinatorEpoch: 0,
      commit: true,
      timestamp: T0,
    });
    await rejectsStorage(
      log.appendAsLeader(marker, 0, 'client'),
      ErrorCode.INVALID_RECORD,
      /control records/,
    );
    assert.equal(log.logEndOffset, 2, 'nothing written');
    await end(log, 1, true);
    assert.equal(await put(log, txn(1, 2, 1, { transactional: false })), 3, 'after the marker: fine');
    await log.close();
  });

  void test("a coordinator's batches are checked by epoch only (no sequence, no duplicate)", async () => {
    const { log } = await openLog({ dir: tmp.dir() });
    assert.equal((await log.appendAsLeader(txn(7, 0, 1), 0, 'coordinator')).firstOffset, 0);
    const again = await log.appendAsLeader(txn(7, 0, 1), 0, 'coordinator');
    assert.equal(again.duplicate, undefined, 'not taken for a retry');
    assert.equal(again.firstOffset, 1);
    await rejectsStorage(
      log.appendAsLeader(txn(7, 0, 1, { epoch: -1 }), 0, 'coordinator'),
      ErrorCode.INVALID_PRODUCER_EPOCH,
    );
    await log.close();
  });
});

void describe('aborted-transaction index', () => {
  void test('across segments: the search starts at the segment holding the fetch offset and goes on to the marker', async () => {
    const dir = tmp.dir();
    const config = logConfig({ segmentBytes: 2 * txn(1, 0).length + 10 });
    const { log } = await openLog({ dir, config });
    await put(log, txn(1, 0)); // 0-1, segment 0
    await put(log, txn(2, 0)); // 2-3, segment 0
    await put(log, txn(1, 2)); // 4-5, segment 4
    await end(log, 2, true); // 6
    await put(log, makeBatch({ records: 2 })); // 7-8, segment 7
    await end(log, 1, false); // 9
    await put(log, txn(3, 0)); // 10-11, segment 10
    await put(log, txn(3, 2)); // 12-13
    await end(log, 3, false); // 14, segment 14
    assert.deepEqual(
      log.segments.map((s) => s.baseOffset),
      [0, 4, 7, 10, 14],
    );
    assert.deepEqual(names(await log.collectAbortedTransactions(0, 2)), ['1@0'], 'marker two segments on');
    assert.deepEqual(names(await log.collectAbortedTransactions(6, 7)), ['1@0']);
    assert.deepEqual(names(await log.collectAbortedTransactions(0, 15)), ['1@0', '3@10']);
    assert.deepEqual(names(await log.collectAbortedTransactions(12, 15)), ['3@10']);
    assert.deepEqual(names(log.abortedTransactionsInMemory(12, 15)!), ['3@10'], 'in memory now');
    assert.equal(lso(log), 15);
    await log.flush();
    // Rolled segments are written with their indexes; segments without aborts get no file.
    assert.deepEqual([...txnIndexFiles(dir)], [[7, 34]]);
    await log.close();
    assert.deepEqual(
      [...txnIndexFiles(dir)].sort((a, b) => a[0] - b[0]),
      [
        [7, 34],
        [14, 34],
      ],
    );

    // Reopened: the files are read back when a search needs them.
    const { log: again } = await openLog({ dir, config });
    assert.equal(again.abortedTransactionsInMemory(0, 15), null, 'not read yet');
    assert.deepEqual(names(await again.collectAbortedTransactions(0, 15)), ['1@0', '3@10']);
    await again.close();
  });

  void test('a clean reopen keeps an open transaction open (snapshot) and the aborts found', async () => {
    const dir = tmp.dir();
    const { log } = await openLog({ dir });
    await put(log, txn(1, 0)); // 0-1
    await put(log, txn(2, 0)); // 2-3
    await end(log, 1, false); // 4
    await log.close();
    const { log: again } = await openLog({ dir });
    again.onHighWatermark(again.logEndOffset);
    assert.equal(lso(again), 2, 'producer 2 is still open');
    assert.deepEqual(again.producerState.ongoingTransactions(), [{ producerId: 2n, firstOffset: 2 }]);
    assert.deepEqual(names(await again.collectAbortedTransactions(0, 5)), ['1@0']);
    await end(again, 2, false); // 5
    assert.equal(lso(again), 6);
    assert.deepEqual(names(await again.collectAbortedTransactions(0, 6)), ['1@0', '2@2']);
    await again.close();
    assert.deepEqual([...txnIndexFiles(dir)], [[0, 68]]);
  });

  void test('crash recovery rebuilds the indexes of the rescanned segments, with the same entries', async () => {
    const dir = tmp.dir();
    const config = logConfig({ segmentBytes: 2 * txn(1, 0).length + 10 });
    const { log } = await openLog({ dir, config });
    for (let round = 0; round < 4; round++) {
      await put(log, txn(1, round * 2)); // two producers interleaved, aborts and commits
      await put(log, txn(2, round * 2));
      await end(log, 1, round % 2 === 0);
      await end(log, 2, round % 3 === 0);
    }
    await put(log, txn(1, 8)); // left open
    const expected = log.segments.map((s) => s.txns.entries.map((e) => ({ ...e })));
    const expectedFound = names(await log.collectAbortedTransactions(0, log.logEndOffset));
    assert.ok(expectedFound.length >= 3, `some aborts: ${expectedFound.join(' ')}`);
    await log.flush();
    // The crash: no close; every .txnindex file lost too.
    for (const [base] of txnIndexFiles(dir)) nodeFs.unlinkSync(`${dir}/${offsetFileName(base)}.txnindex`);
    const { log: again, lines } = await openLog({ dir, config, cleanShutdown: false, recoveryPoint: 0 });
    assert.ok(
      lines.some((l) => /recovered after an unclean shutdown/.test(l)),
      lines.join(' | '),
    );
    assert.deepEqual(
      again.segments.map((s) => s.txns.entries),
      expected,
      'the same entries, in the same segments',
    );
    assert.deepEqual(names(await again.collectAbortedTransactions(0, again.logEndOffset)), expectedFound);
    again.onHighWatermark(again.logEndOffset);
    assert.deepEqual(
      again.producerState.ongoingTransactions(),
      [{ producerId: 1n, firstOffset: again.logEndOffset - 2 }],
      'the open transaction too',
    );
    // Written back by the rebuild.
    const files = txnIndexFiles(dir);
    const withEntries = expected.map((e, i) => [again.segments[i]!.baseOffset, e.length * 34] as const);
    for (const [base, bytes] of withEntries) assert.equal(files.get(base) ?? 0, bytes, `segment ${base}`);
    await again.close();
  });

  void test('recovery from a later recovery point rebuilds only the segments it rescans', async () => {
    const dir = tmp.dir();
    const config = logConfig({ segmentBytes: 2 * txn(1, 0).length + 10 });
    const { log } = await openLog({ dir, config });
    await put(log, txn(1, 0)); // 0-1
    await end(log, 1, false); // 2
    await put(log, txn(1, 2)); // 3-4
    await put(log, txn(2, 0)); // 5-6
    await end(log, 2, false); // 7
    await end(log, 1, false); // 8
    await log.flush();
    const segments = log.segments.map((s) => s.baseOffset);
    const last = segments[segments.length - 1]!;
    const before = names(await log.collectAbortedTransactions(0, log.logEndOffset));
    assert.deepEqual(before, ['1@0', '2@5', '1@3']);
    const { log: again } = await openLog({ dir, config, cleanShutdown: false, recoveryPoint: last });
    assert.deepEqual(names(await again.collectAbortedTransactions(0, again.logEndOffset)), before);
    await again.close();
  });

  void test('truncation removes the entries of cut markers and opens their transactions again', async () => {
    const dir = tmp.dir();
    const { log } = await openLog({ dir });
    await put(log, txn(1, 0)); // 0-1
    await end(log, 1, false); // 2
    await put(log, txn(2, 0)); // 3-4
    await end(log, 2, false); // 5
    await log.flush();
    await log.close();
    assert.deepEqual([...txnIndexFiles(dir)], [[0, 68]]);
    const { log: again } = await openLog({ dir });
    await again.truncateTo(5);
    again.onHighWatermark(again.logEndOffset);
    assert.deepEqual(names(await again.collectAbortedTransactions(0, 5)), ['1@0']);
    assert.equal(lso(again), 3, "producer 2's transaction is open again");
    await again.truncateTo(2);
    again.onHighWatermark(again.logEndOffset);
    assert.deepEqual(names(await again.collectAbortedTransactions(0, 2)), []);
    assert.equal(lso(again), 0);
    // The abort is written again at the same offset.
    assert.equal(await end(again, 1, false), 2);
    assert.deepEqual(names(await again.collectAbortedTransactions(0, 3)), ['1@0']);
    await again.truncateTo(1);
    await again.close();
    assert.deepEqual([...txnIndexFiles(dir)], [], 'no aborts left: no file');
  });

  void test('retention deletes the index with its segment; the LSO never goes below the log start', async () => {
    const dir = tmp.dir();
    const config = logConfig({ segmentBytes: 2 * txn(1, 0).length + 10 });
    const { log } = await openLog({ dir, config });
    await put(log, txn(1, 0)); // 0-1
    await end(log, 1, false); // 2
    await put(log, txn(2, 0)); // 3-4, segment 3 (left open)
    await put(log, makeBatch({ records: 2 })); // 5-6
    await put(log, makeBatch({ records: 2 })); // 7-8, segment 7
    await log.flush();
    assert.deepEqual([...txnIndexFiles(dir)], [[0, 34]]);
    assert.equal(lso(log), 3);
    const deleted = await log.deleteOldSegments(() => true);
    assert.equal(deleted, 2);
    assert.equal(log.logStartOffset, 7);
    assert.deepEqual([...txnIndexFiles(dir)], [], 'gone with segment 0');
    assert.ok(
      !nodeFs.readdirSync(dir).some((n) => n.endsWith('.deleted')),
      `no .deleted leftovers: ${nodeFs.readdirSync(dir).join(' ')}`,
    );
    assert.equal(lso(log), 7, 'the open transaction started below the log start');
    assert.deepEqual(names(await log.collectAbortedTransactions(7, 9)), []);
    await log.close();
  });

  void test('a follower replaying the leader’s batches builds the same index', async () => {
    const { log: leader } = await openLog({ dir: tmp.dir() });
    await put(leader, txn(1, 0));
    await put(leader, txn(2, 0));
    await end(leader, 2, false);
    await end(leader, 1, true);
    const { log: follower } = await openLog({ dir: tmp.dir() });
    const { records } = await leader.read(0, 1 << 20);
    await follower.appendAsFollower(copy(records));
    follower.onHighWatermark(follower.logEndOffset);
    assert.deepEqual(follower.activeSegment.txns.entries, leader.activeSegment.txns.entries);
    assert.equal(lso(follower), lso(leader));
    await leader.close();
    await follower.close();
  });
});
