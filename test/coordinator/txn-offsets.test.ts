/**
 * Transactional offsets in a group shard: TxnOffsetCommit keeps them pending (OffsetFetch with
 * requireStable sees UNSTABLE_OFFSET_COMMIT meanwhile) until the producer's marker lands, COMMIT
 * making the last offset committed per partition the group's, ABORT dropping them; a reload of
 * the partition from its log gives the same.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TxnOffsetCommitRequest } from '../../src/protocol/generated/message/TxnOffsetCommitRequest.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { buildEndTxnMarkerBatch } from '../../src/protocol/records/batch.js';
import { newShard, type ShardHarness } from './support.js';

const GROUP = 'g';

function txnCommit(
  producerId: bigint,
  offsets: [partition: number, offset: number][],
): TxnOffsetCommitRequest {
  return {
    ...TxnOffsetCommitRequest.create(),
    transactionalId: 'tx',
    groupId: GROUP,
    producerId,
    producerEpoch: 0,
    topics: [
      {
        name: 't',
        partitions: offsets.map(([partitionIndex, o]) => ({
          partitionIndex,
          committedOffset: BigInt(o),
          committedLeaderEpoch: -1,
          committedMetadata: null,
        })),
      },
    ],
  };
}

async function commit(h: ShardHarness, producerId: bigint, offsets: [number, number][]): Promise<void> {
  const results = await h.shard.commitTxnOffsets(txnCommit(producerId, offsets), 3, () => true);
  for (const [, byPartition] of results)
    for (const code of byPartition.values()) assert.equal(code, ErrorCode.NONE);
}

function committed(h: ShardHarness, partition: number): bigint {
  const r = h.shard.fetchOffsets(GROUP, [{ name: 't', partitionIndexes: [partition] }], null);
  return r.topics[0]!.partitions[0]!.offset;
}

void test('pending transactional offsets: unstable until the marker, the last per partition wins on COMMIT, ABORT drops them', async () => {
  const h = await newShard({});
  await commit(h, 7n, [
    [0, 10],
    [1, 20],
  ]);
  await commit(h, 7n, [[0, 15]]);
  await commit(h, 8n, [[2, 30]]);
  assert.equal(h.shard.hasPendingTxnOffset(GROUP, 't', 0), true);
  assert.equal(h.shard.hasPendingTxnOffset(GROUP, 't', 2), true);
  assert.equal(h.shard.hasPendingTxnOffset(GROUP, 't', 3), false);
  assert.equal(committed(h, 0), -1n, 'invisible before the marker');

  h.shard.onTxnMarker(7n, true);
  assert.equal(committed(h, 0), 15n, 'the later commit of partition 0 wins');
  assert.equal(committed(h, 1), 20n);
  assert.equal(h.shard.hasPendingTxnOffset(GROUP, 't', 0), false);
  assert.equal(h.shard.hasPendingTxnOffset(GROUP, 't', 2), true, 'the other producer is still pending');

  h.shard.onTxnMarker(8n, false);
  assert.equal(committed(h, 2), -1n, 'aborted offsets are dropped');
  assert.equal(h.shard.hasPendingTxnOffset(GROUP, 't', 2), false);
});

void test('a reload replays transactional offsets with their markers: committed ones count, open ones stay pending', async () => {
  const h = await newShard({});
  await commit(h, 7n, [[0, 10]]);
  await commit(h, 7n, [[0, 12]]);
  await h.log.append(
    buildEndTxnMarkerBatch({
      producerId: 7n,
      producerEpoch: 0,
      coordinatorEpoch: 0,
      commit: true,
      timestamp: 0,
    }),
  );
  await commit(h, 9n, [[1, 40]]);
  const again = await newShard({ log: h.log });
  assert.equal(committed(again, 0), 12n);
  assert.equal(again.shard.hasPendingTxnOffset(GROUP, 't', 1), true);
  assert.equal(committed(again, 1), -1n);
});
