/**
 * The transaction coordinator on a manual clock, with `__transaction_state` in memory and the
 * markers recorded: InitProducerId (new ids, epoch bumps, KIP-360 retries, fencing an open
 * transaction), AddPartitions/AddOffsets, EndTxn (prepare, markers, complete; retries), timeouts
 * that abort and fence, expiry, reload of a half-finished transaction, and failed appends.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  TransactionCoordinator,
  type TxnMarkerRequest,
} from '../../src/coordinator/transaction/txn-coordinator.js';
import {
  decodeTxnRecord,
  TxnState,
  type TxnPartition,
} from '../../src/coordinator/transaction/txn-metadata.js';
import { decodeRecordBatch } from '../../src/protocol/records/batch.js';
import type { TxnShard } from '../../src/coordinator/transaction/txn-shard.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { ManualClock } from '../../src/runtime/clock.js';
import { MemoryShardLog } from './support.js';

const T0 = 1_700_000_000_000;

/** The states of `id` in the order the log holds them. */
function loggedStates(log: MemoryShardLog, id: string): number[] {
  const out: number[] = [];
  for (const b of log.batches) {
    const batch = decodeRecordBatch(b.bytes, { maxDecompressedBytes: 1 << 20 });
    assert.ok('records' in batch, 'a readable batch');
    for (const r of batch.records) {
      const d = decodeTxnRecord(r.key!, r.value);
      assert.ok(typeof d !== 'string', `a readable record: ${typeof d === 'string' ? d : ''}`);
      if (d.transactionalId === id) out.push(d.metadata?.state ?? -1);
    }
  }
  return out;
}

interface Harness {
  coordinator: TransactionCoordinator;
  shard: () => TxnShard;
  clock: ManualClock;
  log: MemoryShardLog;
  markers: TxnMarkerRequest[];
  lines: string[];
  /** Partitions whose markers fail (until removed). */
  failingMarkers: Set<string>;
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
}

async function harness(
  o: { log?: MemoryShardLog; clock?: ManualClock; nextId?: { value: bigint } } = {},
): Promise<Harness> {
  const clock = o.clock ?? new ManualClock(T0);
  const log = o.log ?? new MemoryShardLog();
  const markers: TxnMarkerRequest[] = [];
  const lines: string[] = [];
  const failingMarkers = new Set<string>();
  const nextId = o.nextId ?? { value: 1000n };
  const coordinator = new TransactionCoordinator({
    clock,
    config: {
      transactionMaxTimeoutMs: 900_000,
      abortTimedOutIntervalMs: 10_000,
      removeExpiredIntervalMs: 3_600_000,
      transactionalIdExpirationMs: 7 * 24 * 3_600_000,
    },
    nextProducerId: () => Promise.resolve(nextId.value++),
    writeMarkers: (m) => {
      markers.push({ ...m, partitions: [...m.partitions] });
      return Promise.resolve(
        m.partitions.map((p) => ({
          ...p,
          errorCode: failingMarkers.has(`${p.topic}-${p.partition}`)
            ? ErrorCode.NOT_LEADER_OR_FOLLOWER
            : ErrorCode.NONE,
        })),
      );
    },
    partitionExists: () => true,
    logLine: (m) => lines.push(m),
  });
  coordinator.loadPartition(0, 3, log);
  await settle();
  const shard = (): TxnShard => {
    const lookup = coordinator.shardFor('any', 1);
    assert.ok('shard' in lookup, `the shard is active (${JSON.stringify(lookup)})`);
    return lookup.shard;
  };
  return { coordinator, shard, clock, log, markers, lines, failingMarkers };
}

const P0: TxnPartition = { topic: 'orders', partition: 0 };
const P1: TxnPartition = { topic: 'orders', partition: 1 };
const OFFSETS_P: TxnPartition = { topic: '__consumer_offsets', partition: 7 };

void describe('InitProducerId with a transactional id', () => {
  void test('a new id gets a producer id at epoch 0; each init bumps the epoch; the state is durable', async () => {
    const h = await harness();
    const a = await h.coordinator.initProducerId(h.shard(), 'tx-a', 60_000, null);
    assert.deepEqual(a, { errorCode: ErrorCode.NONE, producerId: 1000n, producerEpoch: 0 });
    const again = await h.coordinator.initProducerId(h.shard(), 'tx-a', 60_000, null);
    assert.deepEqual(again, { errorCode: ErrorCode.NONE, producerId: 1000n, producerEpoch: 1 });
    const b = await h.coordinator.initProducerId(h.shard(), 'tx-b', 60_000, null);
    assert.equal(b.producerId, 1001n);
    // A second coordinator replaying the same log sees the same state.
    const replayed = await harness({ log: h.log, nextId: { value: 5000n } });
    const m = replayed.shard().txns.get('tx-a');
    assert.equal(m?.producerId, 1000n);
    assert.equal(m?.producerEpoch, 1);
    assert.equal(m?.state, TxnState.Empty);
  });

  void test('bad requests: empty id, timeout out of range', async () => {
    const h = await harness();
    assert.equal(
      (await h.coordinator.initProducerId(h.shard(), '', 60_000, null)).errorCode,
      ErrorCode.INVALID_REQUEST,
    );
    for (const t of [0, -5, 900_001]) {
      assert.equal(
        (await h.coordinator.initProducerId(h.shard(), 'tx', t, null)).errorCode,
        ErrorCode.INVALID_TRANSACTION_TIMEOUT,
        `timeout ${t}`,
      );
    }
  });

  void test('KIP-360: a retry with the epoch it already bumped from gets the same epoch; a stale one is fenced', async () => {
    const h = await harness();
    await h.coordinator.initProducerId(h.shard(), 'tx', 60_000, null); // epoch 0
    const bumped = await h.coordinator.initProducerId(h.shard(), 'tx', 60_000, {
      producerId: 1000n,
      producerEpoch: 0,
    });
    assert.deepEqual(bumped, { errorCode: ErrorCode.NONE, producerId: 1000n, producerEpoch: 1 });
    const retry = await h.coordinator.initProducerId(h.shard(), 'tx', 60_000, {
      producerId: 1000n,
      producerEpoch: 0,
    });
    assert.deepEqual(
      retry,
      { errorCode: ErrorCode.NONE, producerId: 1000n, producerEpoch: 1 },
      'the lost answer again',
    );
    const other = await h.coordinator.initProducerId(h.shard(), 'tx', 60_000, {
      producerId: 77n,
      producerEpoch: 3,
    });
    assert.equal(other.errorCode, ErrorCode.PRODUCER_FENCED);
  });

  void test('an open transaction is aborted with a bumped epoch (the old producer fenced); the retry gets the next epoch', async () => {
    const h = await harness();
    const { producerId } = await h.coordinator.initProducerId(h.shard(), 'tx', 60_000, null);
    assert.equal(await h.coordinator.addPartitions(h.shard(), 'tx', producerId, 0, [P0]), ErrorCode.NONE);
    const busy = await h.coordinator.initProducerId(h.shard(), 'tx', 60_000, null);
    assert.equal(busy.errorCode, ErrorCode.CONCURRENT_TRANSACTIONS);
    await settle();
    assert.equal(h.markers.length, 1);
    assert.deepEqual(h.markers[0], {
      producerId,
      producerEpoch: 1,
      coordinatorEpoch: 3,
      commit: false,
      partitions: [P0],
    });
    assert.equal(h.shard().txns.get('tx')?.state, TxnState.CompleteAbort);
    // The old producer (epoch 0) is fenced; a new init gets epoch 2.
    assert.equal(await h.coordinator.endTxn(h.shard(), 'tx', producerId, 0, true), ErrorCode.PRODUCER_FENCED);
    const next = await h.coordinator.initProducerId(h.shard(), 'tx', 60_000, null);
    assert.deepEqual(next, { errorCode: ErrorCode.NONE, producerId, producerEpoch: 2 });
  });

  void test('an exhausted epoch rotates to a new producer id at epoch 0', async () => {
    const h = await harness();
    await h.coordinator.initProducerId(h.shard(), 'tx', 60_000, null);
    h.shard().txns.get('tx')!.producerEpoch = 32766;
    const rotated = await h.coordinator.initProducerId(h.shard(), 'tx', 60_000, null);
    assert.deepEqual(rotated, { errorCode: ErrorCode.NONE, producerId: 1001n, producerEpoch: 0 });
    assert.equal(h.shard().txns.get('tx')?.previousProducerId, 1000n);
  });
});

void describe('transactions', () => {
  void test('add partitions and offsets, commit: prepare is durable before the answer, markers, then complete', async () => {
    const h = await harness();
    const { producerId, producerEpoch } = await h.coordinator.initProducerId(h.shard(), 'tx', 60_000, null);
    assert.equal(
      await h.coordinator.addPartitions(h.shard(), 'tx', producerId, producerEpoch, [P0, P1]),
      ErrorCode.NONE,
    );
    const recordsBefore = h.log.logEndOffset;
    assert.equal(
      await h.coordinator.addPartitions(h.shard(), 'tx', producerId, producerEpoch, [P1]),
      ErrorCode.NONE,
    );
    assert.equal(
      h.log.logEndOffset,
      recordsBefore,
      'adding a partition already in the transaction writes nothing',
    );
    assert.equal(
      await h.coordinator.addPartitions(h.shard(), 'tx', producerId, producerEpoch, [OFFSETS_P]),
      ErrorCode.NONE,
    );
    const m = h.shard().txns.get('tx')!;
    assert.equal(m.state, TxnState.Ongoing);
    assert.equal(m.txnStartTimestampMs, T0);
    assert.equal(
      await h.coordinator.endTxn(h.shard(), 'tx', producerId, producerEpoch, true),
      ErrorCode.NONE,
    );
    await settle();
    assert.deepEqual(
      loggedStates(h.log, 'tx'),
      [TxnState.Empty, TxnState.Ongoing, TxnState.Ongoing, TxnState.PrepareCommit, TxnState.CompleteCommit],
      'each transition is in the log, PrepareCommit before the markers and CompleteCommit after',
    );
    assert.deepEqual(h.markers, [
      { producerId, producerEpoch, coordinatorEpoch: 3, commit: true, partitions: [P0, P1, OFFSETS_P] },
    ]);
    const done = h.shard().txns.get('tx')!;
    assert.equal(done.state, TxnState.CompleteCommit);
    assert.equal(done.partitions.size, 0);
    // Retrying the commit is fine; aborting it now is not.
    assert.equal(
      await h.coordinator.endTxn(h.shard(), 'tx', producerId, producerEpoch, true),
      ErrorCode.NONE,
    );
    assert.equal(
      await h.coordinator.endTxn(h.shard(), 'tx', producerId, producerEpoch, false),
      ErrorCode.INVALID_TXN_STATE,
    );
    // A second transaction with the same producer and epoch.
    assert.equal(
      await h.coordinator.addPartitions(h.shard(), 'tx', producerId, producerEpoch, [P1]),
      ErrorCode.NONE,
    );
    assert.equal(
      await h.coordinator.endTxn(h.shard(), 'tx', producerId, producerEpoch, false),
      ErrorCode.NONE,
    );
    await settle();
    assert.equal(h.markers[1]?.commit, false);
    assert.deepEqual(h.markers[1]?.partitions, [P1]);
    assert.equal(h.shard().txns.get('tx')?.state, TxnState.CompleteAbort);
  });

  void test('wrong producer id, wrong epoch, EndTxn with nothing open, and CONCURRENT_TRANSACTIONS while completing', async () => {
    const h = await harness();
    const { producerId } = await h.coordinator.initProducerId(h.shard(), 'tx', 60_000, null);
    assert.equal(
      await h.coordinator.addPartitions(h.shard(), 'tx', producerId + 1n, 0, [P0]),
      ErrorCode.INVALID_PRODUCER_ID_MAPPING,
    );
    assert.equal(
      await h.coordinator.addPartitions(h.shard(), 'unknown', producerId, 0, [P0]),
      ErrorCode.INVALID_PRODUCER_ID_MAPPING,
    );
    assert.equal(
      await h.coordinator.addPartitions(h.shard(), 'tx', producerId, 5, [P0]),
      ErrorCode.PRODUCER_FENCED,
    );
    assert.equal(
      await h.coordinator.endTxn(h.shard(), 'tx', producerId, 0, true),
      ErrorCode.INVALID_TXN_STATE,
    );
    await h.coordinator.addPartitions(h.shard(), 'tx', producerId, 0, [P0]);
    h.failingMarkers.add('orders-0');
    assert.equal(await h.coordinator.endTxn(h.shard(), 'tx', producerId, 0, true), ErrorCode.NONE);
    await settle();
    assert.equal(
      h.shard().txns.get('tx')?.state,
      TxnState.PrepareCommit,
      'markers keep failing: still preparing',
    );
    // Requests wait (up to a second) for the completion, then give up with CONCURRENT_TRANSACTIONS.
    const adding = h.coordinator.addPartitions(h.shard(), 'tx', producerId, 0, [P1]);
    const initing = h.coordinator.initProducerId(h.shard(), 'tx', 60_000, null);
    await settle();
    h.clock.advance(999);
    await settle();
    h.clock.advance(1);
    await settle();
    assert.equal(await adding, ErrorCode.CONCURRENT_TRANSACTIONS);
    assert.equal((await initing).errorCode, ErrorCode.CONCURRENT_TRANSACTIONS);
    h.failingMarkers.clear();
    for (let i = 0; i < 10 && h.shard().txns.get('tx')?.state !== TxnState.CompleteCommit; i++) {
      h.clock.advance(1000);
      await settle();
    }
    assert.equal(h.shard().txns.get('tx')?.state, TxnState.CompleteCommit, 'the retry wrote the markers');
    assert.ok(h.markers.length >= 2, 'the markers were written again');
  });

  void test('the next transaction right after EndTxn waits for the markers instead of CONCURRENT_TRANSACTIONS', async () => {
    const h = await harness();
    const { producerId } = await h.coordinator.initProducerId(h.shard(), 'tx', 60_000, null);
    await h.coordinator.addPartitions(h.shard(), 'tx', producerId, 0, [P0]);
    h.failingMarkers.add('orders-0');
    assert.equal(await h.coordinator.endTxn(h.shard(), 'tx', producerId, 0, true), ErrorCode.NONE);
    const next = h.coordinator.addPartitions(h.shard(), 'tx', producerId, 0, [P1]);
    await settle();
    h.failingMarkers.clear();
    h.clock.advance(100);
    await settle();
    assert.equal(await next, ErrorCode.NONE, 'added once the previous transaction completed');
    const m = h.shard().txns.get('tx')!;
    assert.equal(m.state, TxnState.Ongoing);
    assert.deepEqual([...m.partitions.values()], [P1]);
  });

  void test('a transaction open for longer than its timeout is aborted, fencing its producer', async () => {
    const h = await harness();
    h.coordinator.start();
    const { producerId } = await h.coordinator.initProducerId(h.shard(), 'tx', 15_000, null);
    await h.coordinator.addPartitions(h.shard(), 'tx', producerId, 0, [P0]);
    h.clock.advance(10_000);
    await settle();
    assert.equal(h.shard().txns.get('tx')?.state, TxnState.Ongoing, 'not yet timed out at 10 s');
    h.clock.advance(10_000);
    await settle();
    assert.equal(h.shard().txns.get('tx')?.state, TxnState.CompleteAbort);
    assert.equal(h.markers[0]?.producerEpoch, 1, 'the abort marker carries the bumped epoch');
    assert.equal(await h.coordinator.endTxn(h.shard(), 'tx', producerId, 0, true), ErrorCode.PRODUCER_FENCED);
    assert.ok(
      h.lines.some((l) => /open for longer than its timeout/.test(l)),
      'the abort is logged',
    );
    await h.coordinator.close();
  });

  void test('idle ids expire (tombstone); a reloaded shard finishes a prepared transaction', async () => {
    const h = await harness();
    const { producerId } = await h.coordinator.initProducerId(h.shard(), 'idle', 60_000, null);
    await h.coordinator.initProducerId(h.shard(), 'tx', 60_000, null);
    await h.coordinator.addPartitions(h.shard(), 'tx', producerId + 1n, 0, [P0]);
    h.failingMarkers.add('orders-0');
    assert.equal(await h.coordinator.endTxn(h.shard(), 'tx', producerId + 1n, 0, true), ErrorCode.NONE);
    await settle();
    await h.coordinator.close();
    // A new coordinator (another broker start) finds tx in PrepareCommit and completes it.
    const clock = new ManualClock(T0 + 8 * 24 * 3_600_000);
    const again = await harness({ log: h.log, clock });
    await settle();
    assert.equal(again.shard().txns.get('tx')?.state, TxnState.CompleteCommit);
    assert.equal(again.markers[0]?.commit, true);
    again.coordinator.removeExpired();
    await settle();
    assert.equal(again.shard().txns.has('idle'), false, 'the idle id expired');
    const replayed = await harness({ log: h.log });
    assert.equal(replayed.shard().txns.has('idle'), false, 'its tombstone is in the log');
    assert.equal(
      replayed.shard().txns.get('tx')?.state,
      TxnState.CompleteCommit,
      'tx completed at the reload: not idle, kept',
    );
  });

  void test('a failed append changes nothing and answers COORDINATOR_NOT_AVAILABLE', async () => {
    const h = await harness();
    const { producerId } = await h.coordinator.initProducerId(h.shard(), 'tx', 60_000, null);
    h.log.failNext = 1;
    assert.equal(
      await h.coordinator.addPartitions(h.shard(), 'tx', producerId, 0, [P0]),
      ErrorCode.COORDINATOR_NOT_AVAILABLE,
    );
    assert.equal(h.shard().txns.get('tx')?.state, TxnState.Empty);
    assert.equal(await h.coordinator.addPartitions(h.shard(), 'tx', producerId, 0, [P0]), ErrorCode.NONE);
  });
});
