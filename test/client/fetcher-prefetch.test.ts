/**
 * The consumer fetches a partition again while its previous response is still being drained
 * (from where that response ends): the offset it fetches from, that it does prefetch, and that
 * seeks and pauses while a prefetch is out still give exactly the records asked for, in order.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { Consumer } from '../../src/client/consumer.js';
import { CompletedFetch, type ConsumerRecord } from '../../src/client/fetcher.js';
import { Producer } from '../../src/client/producer.js';
import { encodeRecordBatch, newRecordBatch } from '../../src/protocol/records/batch.js';
import { startTestBroker, type TestBroker } from './support.js';

const tp = { topic: 't', partition: 0 };
const batch = (baseOffset: bigint, count: number): Buffer =>
  encodeRecordBatch(
    newRecordBatch(
      Array.from({ length: count }, (_, i) => ({ key: null, value: Buffer.from(`v${i}`), timestamp: 1_000 })),
      { baseOffset },
    ),
    { compression: 0 },
  );

function drainAll(f: CompletedFetch): ConsumerRecord[] {
  const out: ConsumerRecord[] = [];
  for (let i = 0; i < 100 && !f.exhausted; i++) f.drain(3, out);
  return out;
}

void describe('prefetch offset (CompletedFetch.prefetchOffset)', () => {
  void test('is where the drained fetch ends: past whole batches, before a torn tail', () => {
    const torn = batch(10n, 4);
    const records = Buffer.concat([batch(0n, 5), batch(5n, 5), torn.subarray(0, torn.length - 3)]);
    const f = new CompletedFetch(tp, 2n, records, false, null);
    assert.equal(f.prefetchOffset, 10n, 'the torn batch at 10 is fetched again');
    assert.equal(drainAll(f).length, 8, 'offsets 2-9');
    assert.equal(f.nextFetchOffset, f.prefetchOffset, 'draining ends where the prefetch starts');
  });

  void test('batches wholly below the fetch offset do not move it', () => {
    const f = new CompletedFetch(tp, 20n, Buffer.concat([batch(0n, 5), batch(5n, 5)]), false, null);
    assert.equal(f.prefetchOffset, 20n);
    assert.equal(drainAll(f).length, 0);
    assert.equal(f.nextFetchOffset, 20n);
  });

  void test('a first batch cut short gives no progress (nothing to prefetch)', () => {
    const whole = batch(7n, 3);
    const f = new CompletedFetch(tp, 7n, whole.subarray(0, whole.length - 1), false, null);
    assert.equal(f.prefetchOffset, 7n, 'no whole batch: the fetch offset itself');
  });
});

void describe('prefetching consumer on a real broker', () => {
  const TOPIC = 'prefetch';
  const COUNT = 400;
  let broker: TestBroker;

  before(async () => {
    broker = await startTestBroker({ 'num.partitions': '1' });
    const producer = new Producer({ bootstrapServers: broker.bootstrap, batchSize: 8 * 1024, lingerMs: 0 });
    try {
      const value = Buffer.alloc(1000, 0x61);
      await producer.sendBatch(
        Array.from({ length: COUNT }, (_, i) => ({ topic: TOPIC, key: `k${i}`, value })),
      );
    } finally {
      await producer.close();
    }
  });

  after(async () => {
    await broker.stop();
  });

  void test('fetches ahead while drained, and a seek and a pause with a prefetch out lose and repeat nothing', async () => {
    const consumer = new Consumer({
      bootstrapServers: broker.bootstrap,
      autoOffsetReset: 'earliest',
      // A few batches per response, so there are many responses and prefetches.
      maxPartitionFetchBytes: 20 * 1024,
      maxPollRecords: 7,
    });
    try {
      consumer.assign([{ topic: TOPIC, partition: 0 }]);
      const fetcher = (consumer as unknown as { fetcher: { buffered: CompletedFetch[] } }).fetcher;
      const offsets: bigint[] = [];
      const deadline = Date.now() + 15_000;
      let sawTwoBuffered = false;
      let sought = false;
      let paused = false;
      while (Date.now() < deadline) {
        const records = await consumer.poll(200);
        for (const r of records) offsets.push(r.offset);
        if (fetcher.buffered.length === 2) sawTwoBuffered = true;
        else if (offsets.length > 0 && !sawTwoBuffered) {
          // Give the prefetch sent by this poll time to come back before draining on.
          for (let i = 0; i < 100 && fetcher.buffered.length < 2; i++)
            await new Promise((r) => setTimeout(r, 10));
          if (fetcher.buffered.length === 2) sawTwoBuffered = true;
        }
        const last = offsets[offsets.length - 1];
        if (!sought && last !== undefined && last >= 100n) {
          sought = true;
          consumer.seek({ topic: TOPIC, partition: 0 }, 50n);
        } else if (sought && !paused && last !== undefined && last >= 200n) {
          paused = true;
          consumer.pause([{ topic: TOPIC, partition: 0 }]);
          await consumer.poll(50);
          consumer.resume([{ topic: TOPIC, partition: 0 }]);
        }
        if (last === BigInt(COUNT - 1)) break;
      }
      assert.ok(sawTwoBuffered, 'a second response was fetched while the first was being drained');
      assert.ok(sought && paused, 'the seek and the pause happened');
      const seekAt = offsets.findIndex((o, i) => i > 0 && o <= offsets[i - 1]!);
      assert.ok(seekAt > 0, 'the seek went back');
      const before = offsets.slice(0, seekAt);
      const afterSeek = offsets.slice(seekAt);
      assert.deepEqual(
        before,
        before.map((_, i) => BigInt(i)),
        'from 0 without gaps until the seek',
      );
      assert.deepEqual(
        afterSeek,
        Array.from({ length: COUNT - 50 }, (_, i) => BigInt(50 + i)),
        'from the sought offset to the end, each once, in order, across the pause',
      );
    } finally {
      await consumer.close();
    }
  });
});
