/**
 * Transactional producers and read_committed consumers against a real broker, judged by Samsa's
 * consumer in both isolation levels and by kafkajs: committed records visible, aborted ones
 * not (but there for read_uncommitted), a read_committed consumer held at the last stable
 * offset by an open transaction, offsets sent to a transaction committed only with it (and a
 * consume-transform-produce loop with a consumer's group metadata), fencing by a second producer
 * with the same transactional id, a transaction the coordinator aborts on timeout, misuse in the
 * wrong state, and a kafkajs transactional producer read by Samsa's read_committed consumer.
 * Ten transactions through a proxy that cuts connections after Produce requests reached the
 * broker (lost answers of Produce, AddPartitionsToTxn and EndTxn alike) are read exactly once.
 * The requests themselves, against a scripted coordinator, are in transaction-requests.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';

import { startBroker, type RunningBroker } from '../../src/broker/embed.js';
import { Admin } from '../../src/client/admin.js';
import { Consumer, type ConsumerRecord } from '../../src/client/consumer.js';
import { KafkaClientError } from '../../src/client/errors.js';
import type { ClientOptions } from '../../src/client/options.js';
import { Producer, type ProducerOptions } from '../../src/client/producer.js';
import { DroppingProxy } from '../broker/interop/dropping-proxy.js';
import { freePort } from '../broker/interop/process.js';
import { startTestBroker, type TestBroker } from './support.js';

const FENCED = ['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH'];

/** Waits between polls of a condition that becomes true through the broker's background work. */
const POLL_MS = 20;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function isClientError(name: string | string[], message?: RegExp): (e: unknown) => boolean {
  const names = typeof name === 'string' ? [name] : name;
  return (e: unknown) => {
    assert.ok(e instanceof KafkaClientError, `a KafkaClientError, got ${String(e)}`);
    assert.ok(
      names.includes(e.errorName),
      `error ${e.errorName} is one of ${names.join(', ')}: ${e.message}`,
    );
    if (message !== undefined) assert.match(e.message, message);
    return true;
  };
}

void describe('transactions against a broker', { timeout: 60_000 }, () => {
  let broker: TestBroker;
  let admin: Admin;
  const clients: { close(): Promise<void> }[] = [];

  function producer(options: Partial<ClientOptions> & ProducerOptions = {}): Producer {
    const p = new Producer({
      bootstrapServers: broker.bootstrap,
      lingerMs: 1,
      retryBackoffMs: 20,
      ...options,
    });
    clients.push(p);
    return p;
  }

  /**
   * The values of `topic` as a standalone consumer reads them from the beginning: waits (bounded)
   * for `count`, then polls a little longer so that records beyond them would show.
   */
  async function read(
    topic: string,
    partitions: number,
    isolationLevel: 'read_committed' | 'read_uncommitted',
    count: number,
    extraMs = 300,
  ): Promise<ConsumerRecord[]> {
    const c = new Consumer({
      bootstrapServers: broker.bootstrap,
      isolationLevel,
      autoOffsetReset: 'earliest',
    });
    const out: ConsumerRecord[] = [];
    try {
      c.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition })));
      const start = Date.now();
      while (out.length < count && Date.now() - start < 10_000) out.push(...(await c.poll(100)));
      const end = Date.now() + extraMs;
      while (Date.now() < end) out.push(...(await c.poll(50)));
    } finally {
      await c.close();
    }
    return out;
  }

  const values = (records: readonly ConsumerRecord[]): string[] =>
    records.map((r) => r.value!.toString()).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));

  /** Every partition's records in offset order: values increase (they were sent in that order). */
  function assertInOrder(records: readonly ConsumerRecord[]): void {
    const last = new Map<number, number>();
    for (const r of records) {
      const i = Number(r.value!.toString().split('-')[1]);
      assert.ok(
        i > (last.get(r.partition) ?? -1),
        `partition ${r.partition}: ${r.value!.toString()} in send order`,
      );
      last.set(r.partition, i);
    }
  }

  async function createTopic(name: string, numPartitions: number): Promise<void> {
    await admin.createTopics([{ name, numPartitions }]);
  }

  async function committedOffset(groupId: string, topic: string, partition: number): Promise<bigint> {
    const offsets = await admin.listGroupOffsets(groupId, [{ topic, partition }]);
    return offsets.find((o) => o.topic === topic && o.partition === partition)?.offset ?? -1n;
  }

  /** Polls until `cond` holds (bounded), failing with `what`. */
  async function until(what: string, cond: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
    const start = Date.now();
    while (!(await cond())) {
      assert.ok(Date.now() - start < timeoutMs, `timed out waiting for ${what}`);
      await sleep(POLL_MS);
    }
  }

  before(async () => {
    broker = await startTestBroker({
      'num.partitions': '1',
      'transaction.abort.timed.out.transaction.cleanup.interval.ms': '100',
      // Groups here have one member: no reason to wait for others to join.
      'group.initial.rebalance.delay.ms': '0',
    });
    admin = new Admin({ bootstrapServers: broker.bootstrap });
  });

  after(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await admin.close();
    await broker.stop();
  });

  void test('committed records are visible to read_committed (Samsa and kafkajs); aborted ones only to read_uncommitted', async () => {
    const topic = 'txn-visibility';
    await createTopic(topic, 2);
    const p = producer({ transactionalId: 'tx-visibility' });
    await p.initTransactions();
    assert.equal(p.transactionState, 'ready');
    const { producerId } = p.producerIdentity;
    assert.ok(producerId >= 0n, 'a producer id from the transaction coordinator');

    p.beginTransaction();
    await p.sendBatch(Array.from({ length: 100 }, (_, i) => ({ topic, key: `k${i % 7}`, value: `c-${i}` })));
    await p.commitTransaction();
    p.beginTransaction();
    const aborted = p.sendBatch(
      Array.from({ length: 50 }, (_, i) => ({ topic, key: `k${i % 7}`, value: `a-${i}` })),
    );
    await aborted;
    await p.abortTransaction();
    p.beginTransaction();
    await p.sendBatch(
      Array.from({ length: 50 }, (_, i) => ({ topic, key: `k${i % 7}`, value: `c-${100 + i}` })),
    );
    await p.commitTransaction();
    assert.equal(p.transactionState, 'ready');

    const expected = Array.from({ length: 150 }, (_, i) => `c-${i}`);
    const committed = await read(topic, 2, 'read_committed', 150);
    assert.deepEqual(values(committed), expected, 'read_committed: exactly the committed records');
    assertInOrder(committed);
    const all = await read(topic, 2, 'read_uncommitted', 200);
    assert.equal(all.length, 200, 'read_uncommitted: the aborted records too');
    assert.ok(
      all.some((r) => r.value!.toString() === 'a-0'),
      'an aborted record is there for read_uncommitted',
    );

    const kafka = new Kafka({
      brokers: [broker.bootstrap],
      clientId: 'txn-judge',
      logLevel: logLevel.NOTHING,
    });
    // A short fetch wait: disconnect() waits for the fetch in flight.
    const consumer = kafka.consumer({
      groupId: 'kafkajs-judge',
      readUncommitted: false,
      maxWaitTimeInMs: 100,
    });
    const seen: string[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: ({ message }) => {
          seen.push(message.value!.toString());
          return Promise.resolve();
        },
      });
      await until('kafkajs to read 150 records', () => Promise.resolve(seen.length >= 150), 20_000);
      await sleep(300);
    } finally {
      await consumer.disconnect();
    }
    assert.deepEqual(
      [...seen].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })),
      expected,
      'kafkajs (readUncommitted false): exactly the committed records',
    );
  });

  void test('an open transaction holds read_committed consumers at the last stable offset, later writes of others included', async () => {
    const topic = 'txn-lso';
    await createTopic(topic, 1);
    const p = producer({ transactionalId: 'tx-lso' });
    const plain = producer();
    await p.initTransactions();
    await plain.send({ topic, value: 'x-0' });
    p.beginTransaction();
    await p.send({ topic, value: 'x-1' });
    // Written after the open transaction's first record: beyond the LSO until it ends.
    await plain.send({ topic, value: 'x-2' });
    assert.deepEqual(
      values(await read(topic, 1, 'read_committed', 1)),
      ['x-0'],
      'only what is before the LSO',
    );
    assert.deepEqual(values(await read(topic, 1, 'read_uncommitted', 3, 0)), ['x-0', 'x-1', 'x-2']);
    await p.commitTransaction();
    assert.deepEqual(values(await read(topic, 1, 'read_committed', 3, 0)), ['x-0', 'x-1', 'x-2']);
  });

  void test('offsets sent to a transaction are committed with it, not with an abort', async () => {
    const topic = 'txn-offsets-out';
    const groupId = 'txn-offsets-group';
    await createTopic(topic, 1);
    await createTopic('txn-offsets-in', 2);
    const p = producer({ transactionalId: 'tx-offsets' });
    await p.initTransactions();

    p.beginTransaction();
    await p.send({ topic, value: 'o-0' });
    await p.sendOffsetsToTransaction([{ topic: 'txn-offsets-in', partition: 0, offset: 5n }], { groupId });
    assert.equal(
      await committedOffset(groupId, 'txn-offsets-in', 0),
      -1n,
      'nothing committed before the commit',
    );
    await p.commitTransaction();
    await until(
      'the committed offset',
      async () => (await committedOffset(groupId, 'txn-offsets-in', 0)) === 5n,
    );

    p.beginTransaction();
    await p.send({ topic, value: 'o-1' });
    await p.sendOffsetsToTransaction([{ topic: 'txn-offsets-in', partition: 0, offset: 9n, metadata: 'm' }], {
      groupId,
    });
    await p.abortTransaction();
    // A later committed transaction's offset shows once its marker is through; the aborted one never.
    p.beginTransaction();
    await p.sendOffsetsToTransaction([{ topic: 'txn-offsets-in', partition: 1, offset: 3n }], { groupId });
    await p.commitTransaction();
    await until('the later commit', async () => (await committedOffset(groupId, 'txn-offsets-in', 1)) === 3n);
    assert.equal(
      await committedOffset(groupId, 'txn-offsets-in', 0),
      5n,
      'the aborted offset was not committed',
    );
  });

  void test('consume-transform-produce: a read_committed group consumer and a transactional producer copy each record once', async () => {
    const input = 'ctp-in';
    const output = 'ctp-out';
    const groupId = 'ctp-group';
    await createTopic(input, 2);
    await createTopic(output, 2);
    const source = producer();
    await source.sendBatch(
      Array.from({ length: 200 }, (_, i) => ({ topic: input, key: `k${i % 5}`, value: `in-${i}` })),
    );

    const consumer = new Consumer({
      bootstrapServers: broker.bootstrap,
      groupId,
      isolationLevel: 'read_committed',
      enableAutoCommit: false,
      autoOffsetReset: 'earliest',
    });
    clients.push(consumer);
    const p = producer({ transactionalId: 'tx-ctp' });
    await p.initTransactions();
    consumer.subscribe([input]);
    let copied = 0;
    const start = Date.now();
    while (copied < 200 && Date.now() - start < 20_000) {
      const records = await consumer.poll(200);
      if (records.length === 0) continue;
      p.beginTransaction();
      await p.sendBatch(
        records.map((r) => ({ topic: output, key: r.key, value: `out-${r.value!.toString().slice(3)}` })),
      );
      const next = new Map<string, { topic: string; partition: number; offset: bigint }>();
      for (const r of records) {
        next.set(`${r.topic}/${r.partition}`, {
          topic: r.topic,
          partition: r.partition,
          offset: r.offset + 1n,
        });
      }
      const metadata = consumer.groupMetadata();
      assert.ok(
        metadata.generationId >= 1 && metadata.memberId !== '',
        'the consumer is a member of the group',
      );
      await p.sendOffsetsToTransaction([...next.values()], metadata);
      await p.commitTransaction();
      copied += records.length;
    }
    assert.equal(copied, 200, 'every input record was copied');
    const out = await read(output, 2, 'read_committed', 200);
    assert.deepEqual(
      values(out),
      Array.from({ length: 200 }, (_, i) => `out-${i}`),
      'each input once in the output',
    );
    assertInOrder(out);
    const ends = await admin.listOffsets(
      [0, 1].map((partition) => ({ topic: input, partition, spec: 'latest' })),
    );
    for (const e of ends) {
      await until(`group offset of ${input}-${e.partition}`, async () => {
        return (await committedOffset(groupId, input, e.partition)) === e.offset;
      });
    }
  });

  void test('a second producer with the same transactional id fences the first, which stays unusable', async () => {
    const topic = 'txn-fenced';
    await createTopic(topic, 2);
    const first = producer({ transactionalId: 'tx-fence' });
    await first.initTransactions();
    first.beginTransaction();
    await first.send({ topic, partition: 0, value: 'zombie-0' });

    const second = producer({ transactionalId: 'tx-fence' });
    await second.initTransactions();
    assert.ok(
      second.producerIdentity.producerEpoch > first.producerIdentity.producerEpoch,
      'the second producer has a newer epoch',
    );
    // The first one's open transaction was aborted by the coordinator; its commit is refused.
    await assert.rejects(first.commitTransaction(), isClientError(FENCED));
    assert.equal(first.transactionState, 'fatalError');
    await assert.rejects(
      first.send({ topic, partition: 1, value: 'zombie-1' }),
      isClientError(FENCED, /fatal/),
    );
    assert.throws(() => first.beginTransaction(), isClientError(FENCED));
    await assert.rejects(first.abortTransaction(), isClientError(FENCED));
    await assert.rejects(first.initTransactions(), isClientError(FENCED));

    second.beginTransaction();
    await second.send({ topic, partition: 0, value: 'live-0' });
    await second.commitTransaction();
    assert.deepEqual(
      values(await read(topic, 2, 'read_committed', 1)),
      ['live-0'],
      "the zombie's record is aborted",
    );
  });

  void test('a fenced producer sending to a partition of its aborted transaction fails at Produce', async () => {
    const topic = 'txn-fenced-produce';
    await createTopic(topic, 1);
    const first = producer({ transactionalId: 'tx-fence-produce' });
    await first.initTransactions();
    first.beginTransaction();
    await first.send({ topic, value: 'zombie-0' });
    const second = producer({ transactionalId: 'tx-fence-produce' });
    await second.initTransactions();
    // The partition is in the first one's transaction already: no AddPartitionsToTxn, the broker refuses the batch.
    await assert.rejects(first.send({ topic, value: 'zombie-1' }), isClientError(FENCED));
    assert.equal(first.transactionState, 'fatalError');
    await assert.rejects(first.send({ topic, value: 'zombie-2' }), isClientError(FENCED, /fatal/));
    assert.deepEqual(await read(topic, 1, 'read_committed', 0), [], 'nothing of the zombie is committed');
  });

  void test('a send of a fenced producer fails too: AddPartitionsToTxn is refused', async () => {
    const topic = 'txn-fenced-send';
    await createTopic(topic, 2);
    const first = producer({ transactionalId: 'tx-fence-send' });
    await first.initTransactions();
    const second = producer({ transactionalId: 'tx-fence-send' });
    await second.initTransactions();
    first.beginTransaction();
    await assert.rejects(first.send({ topic, partition: 1, value: 'zombie' }), isClientError(FENCED));
    assert.equal(first.transactionState, 'fatalError');
    await assert.rejects(first.commitTransaction(), isClientError(FENCED));
  });

  void test('the coordinator aborts a transaction open past transactionTimeoutMs; its commit then fails', async () => {
    const topic = 'txn-timeout';
    await createTopic(topic, 1);
    const p = producer({ transactionalId: 'tx-timeout', transactionTimeoutMs: 500 });
    await p.initTransactions();
    p.beginTransaction();
    await p.send({ topic, value: 'late-0' });
    await sleep(1200);
    await assert.rejects(p.commitTransaction(), isClientError(FENCED));
    assert.deepEqual(await read(topic, 1, 'read_committed', 0), [], 'the timed-out transaction was aborted');
    assert.equal((await read(topic, 1, 'read_uncommitted', 1, 0)).length, 1, 'its record is in the log');
  });

  void test('commit sends what lingers first; abort drops what was not sent', async () => {
    const topic = 'txn-linger';
    await createTopic(topic, 1);
    const p = producer({ transactionalId: 'tx-linger', lingerMs: 10_000 });
    await p.initTransactions();
    p.beginTransaction();
    const kept = Array.from({ length: 10 }, (_, i) => p.send({ topic, value: `k-${i}` }));
    await p.commitTransaction();
    const acks = await Promise.all(kept);
    assert.deepEqual(
      acks.map((m) => m.offset),
      Array.from({ length: 10 }, (_, i) => BigInt(i)),
      'every record sent before the commit was written by it',
    );
    p.beginTransaction();
    // Its outcome is taken at once: it is settled (rejected) while abortTransaction runs.
    const dropped = p.send({ topic, value: 'dropped' }).then(
      () => null,
      (e: unknown) => e,
    );
    await p.abortTransaction();
    assert.ok(isClientError('TRANSACTION_ABORTED')(await dropped), 'the unsent record failed');
    assert.equal(p.transactionState, 'ready');
    const all = await read(topic, 1, 'read_uncommitted', 10);
    assert.ok(
      all.every((r) => r.value!.toString() !== 'dropped'),
      'the dropped record never reached the broker',
    );
    assert.equal((await read(topic, 1, 'read_committed', 10, 0)).length, 10);
  });

  void test('a record the broker refuses makes the transaction abortable; the abort bumps the epoch and the next one commits', async () => {
    const topic = 'txn-abortable';
    await admin.createTopics([{ name: topic, numPartitions: 1, configs: { 'max.message.bytes': '1000' } }]);
    const lines: string[] = [];
    const p = producer({ transactionalId: 'tx-abortable', log: (m) => lines.push(m) });
    await p.initTransactions();
    const epoch = p.producerIdentity.producerEpoch;
    p.beginTransaction();
    await p.send({ topic, value: 'small-0' });
    await assert.rejects(p.send({ topic, value: 'x'.repeat(3000) }), isClientError('MESSAGE_TOO_LARGE'));
    assert.equal(p.transactionState, 'abortableError');
    await assert.rejects(
      p.send({ topic, value: 'small-1' }),
      isClientError('MESSAGE_TOO_LARGE', /must be aborted/),
    );
    await assert.rejects(p.commitTransaction(), isClientError('MESSAGE_TOO_LARGE', /must be aborted/));
    assert.throws(() => p.beginTransaction(), isClientError('ILLEGAL_STATE', /not aborted/));
    await p.abortTransaction();
    assert.equal(
      p.producerIdentity.producerEpoch,
      epoch + 1,
      `a transaction that lost a sequenced batch is aborted with an epoch bump: ${lines.join(' | ')}`,
    );
    p.beginTransaction();
    await p.send({ topic, value: 'small-2' });
    await p.commitTransaction();
    assert.deepEqual(values(await read(topic, 1, 'read_committed', 1)), ['small-2']);
  });

  void test('calls in the wrong state are refused with ILLEGAL_STATE', async () => {
    const plain = producer();
    await assert.rejects(plain.initTransactions(), isClientError('ILLEGAL_STATE', /transactionalId/));
    assert.throws(() => plain.beginTransaction(), isClientError('ILLEGAL_STATE'));
    await assert.rejects(plain.commitTransaction(), isClientError('ILLEGAL_STATE'));

    const topic = 'txn-states';
    await createTopic(topic, 1);
    const p = producer({ transactionalId: 'tx-states' });
    assert.equal(p.transactionState, 'uninitialized');
    await assert.rejects(
      p.send({ topic, value: 'early' }),
      isClientError('ILLEGAL_STATE', /initTransactions/),
    );
    assert.throws(() => p.beginTransaction(), isClientError('ILLEGAL_STATE', /initTransactions/));
    await p.initTransactions();
    await assert.rejects(p.initTransactions(), isClientError('ILLEGAL_STATE', /already/));
    await assert.rejects(
      p.send({ topic, value: 'outside' }),
      isClientError('ILLEGAL_STATE', /beginTransaction/),
    );
    await assert.rejects(
      p.commitTransaction(),
      isClientError('ILLEGAL_STATE', /without an open transaction/),
    );
    await assert.rejects(p.abortTransaction(), isClientError('ILLEGAL_STATE', /without an open transaction/));
    await assert.rejects(
      p.sendOffsetsToTransaction([{ topic, partition: 0, offset: 1n }], { groupId: 'g' }),
      isClientError('ILLEGAL_STATE', /outside a transaction/),
    );
    p.beginTransaction();
    assert.throws(() => p.beginTransaction(), isClientError('ILLEGAL_STATE', /already open|is open/));
    await assert.rejects(
      p.sendOffsetsToTransaction([{ topic, partition: 0, offset: -1n }], { groupId: 'g' }),
      /offsets\[0\]\.offset must be a bigint >= 0n/,
    );
    // An empty transaction commits without asking the coordinator.
    await p.commitTransaction();
    assert.equal(p.transactionState, 'ready');
  });

  void test("a kafkajs transactional producer's commits are read exactly by Samsa's read_committed consumer", async () => {
    const topic = 'txn-kafkajs';
    await createTopic(topic, 2);
    const kafka = new Kafka({
      brokers: [broker.bootstrap],
      clientId: 'kafkajs-txn',
      logLevel: logLevel.NOTHING,
    });
    const kp = kafka.producer({ transactionalId: 'kafkajs-tx', idempotent: true, maxInFlightRequests: 1 });
    await kp.connect();
    try {
      for (let t = 0; t < 4; t++) {
        const tx = await kp.transaction();
        await tx.send({
          topic,
          messages: Array.from({ length: 25 }, (_, i) => ({ key: `k${i % 3}`, value: `t${t}-${i}` })),
        });
        if (t === 2) await tx.abort();
        else await tx.commit();
      }
    } finally {
      await kp.disconnect();
    }
    const expected = [0, 1, 3].flatMap((t) => Array.from({ length: 25 }, (_, i) => `t${t}-${i}`));
    const got = await read(topic, 2, 'read_committed', 75);
    assert.deepEqual(
      values(got),
      [...expected].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })),
      'exactly the committed transactions',
    );
  });
});

void describe(
  'transactions through a proxy that cuts connections after Produce requests reached the broker',
  { timeout: 60_000 },
  () => {
    void test('committed transactions are read exactly once and in order, aborted ones not at all', async () => {
      const proxy = await DroppingProxy.listen({ every: 3, maxDrops: 10, after: 2 });
      const dataDir = mkdtempSync(join(tmpdir(), 'samsa-txn-proxy-'));
      let broker: RunningBroker | null = null;
      const closing: { close(): Promise<void> }[] = [];
      try {
        const port = await freePort();
        broker = await startBroker({
          port,
          dataDir,
          config: { 'advertised.listeners': `PLAINTEXT://127.0.0.1:${proxy.port}` },
        });
        proxy.setTarget(port);
        const bootstrapServers = broker.bootstrap;
        const admin = new Admin({ bootstrapServers });
        closing.push(admin);
        const topic = 'txn-proxy';
        await admin.createTopics([{ name: topic, numPartitions: 3 }]);
        const p = new Producer({
          bootstrapServers,
          transactionalId: 'tx-proxy',
          batchSize: 1024,
          lingerMs: 1,
          retryBackoffMs: 10,
          retryBackoffMaxMs: 50,
        });
        closing.push(p);
        await p.initTransactions();
        const TRANSACTIONS = 10;
        const PER_TRANSACTION = 300;
        const expected: string[] = [];
        for (let t = 0; t < TRANSACTIONS; t++) {
          p.beginTransaction();
          const sent = Array.from({ length: PER_TRANSACTION }, (_, i) => `v-${t * PER_TRANSACTION + i}`);
          await p.sendBatch(sent.map((value, i) => ({ topic, key: `k${i % 11}`, value })));
          if (t % 4 === 3) {
            await p.abortTransaction();
          } else {
            await p.commitTransaction();
            expected.push(...sent);
          }
        }
        const c = new Consumer({
          bootstrapServers,
          isolationLevel: 'read_committed',
          autoOffsetReset: 'earliest',
        });
        closing.push(c);
        c.assign([0, 1, 2].map((partition) => ({ topic, partition })));
        const got: ConsumerRecord[] = [];
        const start = Date.now();
        while (got.length < expected.length && Date.now() - start < 15_000) got.push(...(await c.poll(100)));
        for (let i = 0; i < 3; i++) got.push(...(await c.poll(100)));
        const values = got.map((r) => r.value!.toString());
        assert.equal(new Set(values).size, values.length, 'no record read twice');
        assert.deepEqual(
          [...values].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })),
          expected,
          'exactly the committed records',
        );
        const last = new Map<number, number>();
        for (const r of got) {
          const i = Number(r.value!.toString().slice(2));
          assert.ok(
            i > (last.get(r.partition) ?? -1),
            `partition ${r.partition} in send order at ${r.value!.toString()}`,
          );
          last.set(r.partition, i);
        }
        assert.ok(proxy.stats.drops >= 5, `the proxy cut ≥ 5 connections at Produce (${proxy.stats.drops})`);
        assert.ok(proxy.repeats().batches >= 1, 'batches whose answer was lost reached the broker again');
      } finally {
        for (const c of closing.reverse()) await c.close().catch(() => undefined);
        await broker?.stop();
        await proxy.close();
        rmSync(dataDir, { recursive: true, force: true });
      }
    });
  },
);
