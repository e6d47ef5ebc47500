/**
 * FindCoordinator over a real socket: group and transaction keys, single (v0-3) and batched
 * (v4+), the internal topics created on first use (and closed to client writes), and bad key types.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { partitionForGroup } from '../../src/coordinator/group-coordinator.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { FindCoordinatorRequest } from '../../src/protocol/generated/message/FindCoordinatorRequest.js';
import { FindCoordinatorResponse } from '../../src/protocol/generated/message/FindCoordinatorResponse.js';
import { Kafka, logLevel } from 'kafkajs';
import { withBroker } from './interop/support.js';
import { RawClient } from './raw-client.js';

void describe('FindCoordinator', () => {
  void test('group and transaction keys find this broker; the internal topics are created once', async () => {
    await withBroker(
      { 'offsets.topic.num.partitions': '7', 'transaction.state.log.num.partitions': '5' },
      async (b) => {
        const raw = await RawClient.open(b.port);
        try {
          const find = (
            version: number,
            body: Partial<FindCoordinatorRequest>,
          ): Promise<FindCoordinatorResponse> =>
            raw.send(FindCoordinatorRequest, FindCoordinatorResponse, version, {
              ...FindCoordinatorRequest.create(),
              ...body,
            });
          const v0 = await find(0, { key: 'g1' });
          assert.equal(v0.errorCode, ErrorCode.NONE, 'v0 group key');
          assert.equal(v0.nodeId, b.broker.nodeId, 'this node coordinates');
          assert.equal(v0.port, b.port, 'at its advertised port');
          const offsets = b.broker.image().topicsByName.get('__consumer_offsets');
          assert.equal(
            offsets?.partitions.size,
            7,
            '__consumer_offsets created with offsets.topic.num.partitions',
          );
          assert.equal(
            b.broker.image().topicConfig('__consumer_offsets').get('cleanup.policy'),
            'compact',
            'compacted',
          );

          const txn = await find(3, { key: 'tx-1', keyType: 1 });
          assert.equal(txn.errorCode, ErrorCode.NONE, 'transaction key');
          assert.equal(txn.nodeId, b.broker.nodeId, 'this node for transactions too');
          const state = b.broker.image().topicsByName.get('__transaction_state');
          assert.equal(state?.partitions.size, 5, '__transaction_state created with its partition count');

          const batched = await find(4, { keyType: 0, coordinatorKeys: ['a', 'b', ''] });
          assert.deepEqual(
            batched.coordinators.map((c) => [c.key, c.errorCode, c.nodeId]),
            [
              ['a', ErrorCode.NONE, b.broker.nodeId],
              ['b', ErrorCode.NONE, b.broker.nodeId],
              ['', ErrorCode.INVALID_REQUEST, -1],
            ],
            'v4 answers each key',
          );
          const badType = await find(4, { keyType: 9, coordinatorKeys: ['x'] });
          assert.equal(badType.coordinators[0]?.errorCode, ErrorCode.INVALID_REQUEST, 'unknown key type');
          const again = await find(1, { key: 'g2', keyType: 0 });
          assert.equal(again.errorCode, ErrorCode.NONE, 'the topic exists now');
          assert.equal(
            b.broker.image().topicsByName.get('__consumer_offsets')?.partitions.size,
            7,
            'created once',
          );

          // Clients cannot write coordinator records themselves.
          const kafka = new Kafka({
            brokers: [b.bootstrap],
            logLevel: logLevel.NOTHING,
            retry: { retries: 0 },
          });
          const producer = kafka.producer();
          await producer.connect();
          try {
            await assert.rejects(
              producer.send({ topic: '__consumer_offsets', messages: [{ partition: 0, value: 'x' }] }),
              /invalid topic/i,
              'produce to an internal topic is refused',
            );
          } finally {
            await producer.disconnect();
          }
        } finally {
          raw.close();
        }
      },
    );
  });

  void test("group ids map to partitions by Java's String.hashCode, as Kafka maps them", () => {
    // Values from Kafka: Utils.abs("my-group".hashCode()) % 50 and friends.
    assert.equal(partitionForGroup('my-group', 50), Math.abs(hashOf('my-group')) % 50, 'my-group');
    assert.equal(partitionForGroup('', 50), 0, 'empty id');
    assert.equal(
      partitionForGroup('console-consumer-12345', 50),
      Math.abs(hashOf('console-consumer-12345')) % 50,
    );
    // "polygenelubricants".hashCode() is Integer.MIN_VALUE: Kafka's Utils.abs maps it to 0.
    assert.equal(hashOf('polygenelubricants'), -2147483648, 'the MIN_VALUE hash');
    assert.equal(partitionForGroup('polygenelubricants', 50), 0, 'MIN_VALUE maps to partition 0');
  });
});

/** String.hashCode written out independently (BigInt, then wrapped to int32) to check the one in the coordinator. */
function hashOf(s: string): number {
  let h = 0n;
  for (const ch of s) h = (h * 31n + BigInt(ch.charCodeAt(0))) & 0xffffffffn;
  return Number(BigInt.asIntN(32, h));
}
