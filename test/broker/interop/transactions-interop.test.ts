/**
 * Transactions with third-party clients against a real broker, the clients judging:
 *
 * - kafkajs transactional producers: commit and abort read back by read_committed and
 *   read_uncommitted kafkajs consumers; interleaved transactions of two producers over three
 *   partitions; sendOffsets committing a group's offsets only with the transaction (kafkajs
 *   admin.fetchOffsets), for an empty group and for the group of a running kafkajs consumer (the
 *   consume → transform → produce pattern); a second producer with the same transactional id
 *   fencing the first.
 * - confluent-kafka-python (librdkafka): init/begin/produce/send_offsets_to_transaction/commit and
 *   abort, zombie fencing, read back by a librdkafka consumer at read_committed.
 * - Admin visibility through raw requests while a kafkajs transaction is open and after it ends:
 *   DescribeTransactions, ListTransactions, DescribeProducers.
 * - Transaction timeouts: an open transaction past its timeout is aborted by the coordinator
 *   (CompleteAbort), its producer fenced, its records never read committed.
 * - A broker restart (stop and start on the same data) with transactions open and complete: the
 *   coordinator's state is reloaded, the open one is aborted by its timeout afterwards, and the
 *   last stable offset moves on: read_committed readers get everything else.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { Kafka, logLevel, type Producer } from 'kafkajs';

import { startBroker, type RunningBroker } from '../../../src/broker/embed.js';
import { ErrorCode } from '../../../src/protocol/error-codes.js';
import { DescribeProducersRequest } from '../../../src/protocol/generated/message/DescribeProducersRequest.js';
import { DescribeProducersResponse } from '../../../src/protocol/generated/message/DescribeProducersResponse.js';
import { DescribeTransactionsRequest } from '../../../src/protocol/generated/message/DescribeTransactionsRequest.js';
import { DescribeTransactionsResponse } from '../../../src/protocol/generated/message/DescribeTransactionsResponse.js';
import { ListTransactionsRequest } from '../../../src/protocol/generated/message/ListTransactionsRequest.js';
import { ListTransactionsResponse } from '../../../src/protocol/generated/message/ListTransactionsResponse.js';
import { RawClient } from '../raw-client.js';
import { freePort, repoRoot } from './process.js';
import { jsonLines, PYTHON, python } from './records.js';
import { have, run, withBroker } from './support.js';
import {
  endOffsets,
  errorName,
  kafkajsReadAll,
  READ_COMMITTED,
  READ_UNCOMMITTED,
  sleep,
  type Read,
} from './txn-checker.js';

const PARTITIONS = 3;
const TXN_SCRIPT = join(repoRoot(), 'test', 'broker', 'interop', 'python', 'transactional_client.py');
const NO_CONFLUENT = `confluent-kafka-python does not import with ${PYTHON} (CI installs python3-confluent-kafka)`;
const BASE_CONFIG = {
  'num.partitions': String(PARTITIONS),
  'group.initial.rebalance.delay.ms': '0',
  'group.min.session.timeout.ms': '500',
};
/**
 * The fencing error kafkajs gets: it speaks request versions from before KIP-588, so Kafka answers
 * INVALID_PRODUCER_EPOCH (kafkajs 2.2.4 does not even know PRODUCER_FENCED's code 90).
 */
const FENCED = 'INVALID_PRODUCER_EPOCH';

// ------------------------------------------------------------------ helpers

function kafkaOf(bootstrap: string, clientId = 'txn-interop'): Kafka {
  return new Kafka({
    clientId,
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 50, maxRetryTime: 1000 },
  });
}

function txnProducer(kafka: Kafka, transactionalId: string, transactionTimeout = 30_000): Producer {
  return kafka.producer({
    transactionalId,
    idempotent: true,
    maxInFlightRequests: 1,
    transactionTimeout,
    retry: { retries: 8, initialRetryTime: 50, maxRetryTime: 1000 },
  });
}

async function createTopic(bootstrap: string, topic: string): Promise<void> {
  const admin = kafkaOf(bootstrap).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

/** `n` records `<tag>-<i>`, key `k-<i>`, on partition i % 3. */
function records(tag: string, n: number): { key: string; value: string; partition: number }[] {
  return Array.from({ length: n }, (_, i) => ({
    key: `k-${i}`,
    value: `${tag}-${i}`,
    partition: i % PARTITIONS,
  }));
}

/** Values per partition, in offset order. */
function perPartition(reads: readonly { partition: number; offset?: number; value: string }[]): string[][] {
  const out: string[][] = Array.from({ length: PARTITIONS }, () => []);
  const sorted = [...reads].sort((a, b) => a.partition - b.partition || (a.offset ?? 0) - (b.offset ?? 0));
  for (const r of sorted) out[r.partition]!.push(r.value);
  return out;
}

/** What `records` calls of several transactions put in each partition, in order. */
function expected(...sets: { key: string; value: string; partition: number }[][]): string[][] {
  return perPartition(sets.flat());
}

function readAll(bootstrap: string, topic: string, readCommitted: boolean): Promise<Read[]> {
  return kafkajsReadAll({ bootstrap, topic, partitions: PARTITIONS, readCommitted });
}

async function rejection(p: Promise<unknown>): Promise<string | null> {
  try {
    await p;
    return null;
  } catch (e) {
    return errorName(e);
  }
}

/** Waits (bounded) until `check` returns a value other than undefined. */
async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await check();
    if (last !== undefined) return last;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
}

async function groupOffsets(bootstrap: string, groupId: string, topic: string): Promise<number[]> {
  const admin = kafkaOf(bootstrap).admin();
  await admin.connect();
  try {
    const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const out = Array.from({ length: PARTITIONS }, () => -1);
    for (const p of t?.partitions ?? []) out[p.partition] = Number(p.offset);
    return out;
  } finally {
    await admin.disconnect();
  }
}

// ------------------------------------------------------------------ raw admin requests

async function describeTxn(
  port: number,
  transactionalId: string,
): Promise<DescribeTransactionsResponse.TransactionState> {
  const raw = await RawClient.open(port);
  try {
    const res = await raw.send(DescribeTransactionsRequest, DescribeTransactionsResponse, 0, {
      transactionalIds: [transactionalId],
    });
    const s = res.transactionStates[0];
    assert.ok(s !== undefined, `DescribeTransactions answered ${transactionalId}`);
    return s;
  } finally {
    raw.close();
  }
}

async function listTxns(
  port: number,
  stateFilters: string[] = [],
): Promise<ListTransactionsResponse.TransactionState[]> {
  const raw = await RawClient.open(port);
  try {
    const res = await raw.send(ListTransactionsRequest, ListTransactionsResponse, 1, {
      stateFilters,
      producerIdFilters: [],
      durationFilter: -1n,
    });
    assert.equal(res.errorCode, ErrorCode.NONE, 'ListTransactions');
    return res.transactionStates;
  } finally {
    raw.close();
  }
}

async function describeProducers(
  port: number,
  topic: string,
): Promise<DescribeProducersResponse.PartitionResponse[]> {
  const raw = await RawClient.open(port);
  try {
    const res = await raw.send(DescribeProducersRequest, DescribeProducersResponse, 0, {
      topics: [
        {
          name: topic,
          partitionIndexes: Array.from({ length: PARTITIONS }, (_, i) => i),
          unknownTaggedFields: undefined,
        },
      ],
    });
    const parts = res.topics[0]?.partitions ?? [];
    for (const p of parts)
      assert.equal(p.errorCode, ErrorCode.NONE, `DescribeProducers ${topic}-${p.partitionIndex}`);
    return [...parts].sort((a, b) => a.partitionIndex - b.partitionIndex);
  } finally {
    raw.close();
  }
}

/** Waits (bounded) until DescribeTransactions shows `state`. */
function waitForState(
  port: number,
  transactionalId: string,
  state: string,
  timeoutMs = 10_000,
): Promise<DescribeTransactionsResponse.TransactionState> {
  return waitFor(`${transactionalId} in ${state}`, timeoutMs, async () => {
    const s = await describeTxn(port, transactionalId);
    return s.transactionState === state ? s : undefined;
  });
}

// ------------------------------------------------------------------ kafkajs

void describe('kafkajs transactional producer', { timeout: 120_000 }, () => {
  void test('commit and abort: read_committed reads exactly the committed records, read_uncommitted all', async () => {
    await withBroker(BASE_CONFIG, async (b) => {
      const topic = 'txn-basic';
      await createTopic(b.bootstrap, topic);
      const kafka = kafkaOf(b.bootstrap);
      const p = txnProducer(kafka, 'tx-basic');
      await p.connect();
      const a = records('a', 30);
      const x = records('x', 20);
      const c = records('c', 25);
      try {
        const t1 = await p.transaction();
        await t1.send({ topic, messages: a });
        await t1.commit();
        const t2 = await p.transaction();
        await t2.send({ topic, messages: x });
        await t2.abort();
        const t3 = await p.transaction();
        await t3.send({ topic, messages: c.slice(0, 10) });
        await t3.send({ topic, messages: c.slice(10) });
        await t3.commit();
      } finally {
        await p.disconnect();
      }
      const committed = await readAll(b.bootstrap, topic, true);
      assert.deepEqual(
        perPartition(committed),
        expected(a, c),
        'read_committed: the two committed transactions',
      );
      const uncommitted = await readAll(b.bootstrap, topic, false);
      assert.deepEqual(perPartition(uncommitted), expected(a, x, c), 'read_uncommitted: the aborted one too');
      assert.deepEqual(
        await endOffsets(b.port, topic, PARTITIONS, READ_COMMITTED),
        await endOffsets(b.port, topic, PARTITIONS, READ_UNCOMMITTED),
        'no open transaction: the last stable offset is the high watermark',
      );
    });
  });

  void test('interleaved transactions of two producers on 3 partitions, committed and aborted, read back exactly', async () => {
    await withBroker(BASE_CONFIG, async (b) => {
      const topic = 'txn-interleaved';
      await createTopic(b.bootstrap, topic);
      const kafka = kafkaOf(b.bootstrap);
      const ps = [txnProducer(kafka, 'tx-inter-0'), txnProducer(kafka, 'tx-inter-1')];
      const sent: { key: string; value: string; partition: number; committed: boolean }[] = [];
      try {
        await Promise.all(ps.map((p) => p.connect()));
        for (let round = 0; round < 10; round++) {
          const txns = await Promise.all(ps.map((p) => p.transaction()));
          // Producer 0 commits rounds 0, 1, 3, 4, 6 …; producer 1 the even rounds.
          const commits = [round % 3 !== 2, round % 2 === 0];
          const batches = txns.map(() => [] as { key: string; value: string; partition: number }[]);
          for (let s = 0; s < 3; s++) {
            for (let w = 0; w < 2; w++) {
              const msgs = Array.from({ length: 2 + ((round + s + w) % 3) }, (_, i) => ({
                key: `p${w}`,
                value: `w${w}-r${round}-s${s}-${i}`,
                partition: (round + s + i + w) % PARTITIONS,
              }));
              await txns[w]!.send({ topic, messages: msgs });
              batches[w]!.push(...msgs);
              for (const m of msgs) sent.push({ ...m, committed: commits[w]! });
            }
          }
          // The ends in either order.
          const order = round % 2 === 0 ? [0, 1] : [1, 0];
          for (const w of order) {
            if (commits[w]) await txns[w]!.commit();
            else await txns[w]!.abort();
          }
        }
      } finally {
        await Promise.all(ps.map((p) => p.disconnect()));
      }
      const want = expected(sent.filter((m) => m.committed));
      assert.deepEqual(perPartition(await readAll(b.bootstrap, topic, true)), want, 'read_committed');
      assert.deepEqual(
        perPartition(await readAll(b.bootstrap, topic, false)),
        expected(sent),
        'read_uncommitted',
      );
    });
  });

  void test('sendOffsets: the group’s offsets move with a commit, not with an abort nor while open', async () => {
    await withBroker(BASE_CONFIG, async (b) => {
      const topic = 'txn-offsets';
      const group = 'txn-offsets-group';
      await createTopic(b.bootstrap, topic);
      const kafka = kafkaOf(b.bootstrap);
      const p = txnProducer(kafka, 'tx-offsets');
      await p.connect();
      const offsets = (
        base: number,
      ): { topic: string; partitions: { partition: number; offset: string }[] }[] => [
        {
          topic,
          partitions: Array.from({ length: PARTITIONS }, (_, q) => ({
            partition: q,
            offset: String(base + q),
          })),
        },
      ];
      try {
        const t1 = await p.transaction();
        await t1.send({ topic, messages: records('o1', 3) });
        await t1.sendOffsets({ consumerGroupId: group, topics: offsets(5) });
        assert.deepEqual(
          await groupOffsets(b.bootstrap, group, topic),
          [-1, -1, -1],
          'nothing committed while open',
        );
        await t1.commit();
        assert.deepEqual(
          await groupOffsets(b.bootstrap, group, topic),
          [5, 6, 7],
          'committed with the transaction',
        );

        const t2 = await p.transaction();
        await t2.send({ topic, messages: records('o2', 3) });
        await t2.sendOffsets({ consumerGroupId: group, topics: offsets(50) });
        await t2.abort();
        assert.deepEqual(
          await groupOffsets(b.bootstrap, group, topic),
          [5, 6, 7],
          'an aborted transaction’s offsets dropped',
        );

        // Offsets alone (AddOffsetsToTxn, no records). kafkajs does not retry AddOffsetsToTxn on
        // CONCURRENT_TRANSACTIONS (kafkajs#430), which it gets while the abort's markers are written.
        await waitForState(b.port, 'tx-offsets', 'CompleteAbort');
        const t3 = await p.transaction();
        await t3.sendOffsets({ consumerGroupId: group, topics: offsets(8) });
        await t3.commit();
        assert.deepEqual(
          await groupOffsets(b.bootstrap, group, topic),
          [8, 9, 10],
          'offsets-only transaction',
        );
      } finally {
        await p.disconnect();
      }
      assert.deepEqual(
        perPartition(await readAll(b.bootstrap, topic, true)),
        expected(records('o1', 3)),
        'records',
      );
    });
  });

  void test('sendOffsets for the group of a running kafkajs consumer (consume → transform → produce): accepted as Kafka accepts TxnOffsetCommit without a member', async () => {
    await withBroker(BASE_CONFIG, async (b) => {
      const input = 'txn-ctp-in';
      const output = 'txn-ctp-out';
      const group = 'txn-ctp-group';
      await createTopic(b.bootstrap, input);
      await createTopic(b.bootstrap, output);
      const kafka = kafkaOf(b.bootstrap);
      const plain = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await plain.connect();
      await plain.send({ topic: input, messages: records('in', 30) });
      await plain.disconnect();

      const p = txnProducer(kafka, 'tx-ctp');
      await p.connect();
      const consumer = kafka.consumer({
        groupId: group,
        readUncommitted: false,
        sessionTimeout: 3_000,
        heartbeatInterval: 300,
        maxWaitTimeInMs: 100,
      });
      const failures: string[] = [];
      let processed = 0;
      try {
        await consumer.connect();
        await consumer.subscribe({ topic: input, fromBeginning: true });
        await consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          eachBatch: async (payload) => {
            const { batch } = payload;
            const last = batch.messages[batch.messages.length - 1];
            if (last === undefined) return;
            const txn = await p.transaction();
            try {
              await txn.send({
                topic: output,
                messages: batch.messages.map((m) => ({
                  key: m.key,
                  value: `out:${m.value?.toString('utf8') ?? ''}`,
                  partition: batch.partition,
                })),
              });
              await txn.sendOffsets({
                consumerGroupId: group,
                topics: [
                  {
                    topic: input,
                    partitions: [{ partition: batch.partition, offset: String(Number(last.offset) + 1) }],
                  },
                ],
              });
              await txn.commit();
              processed += batch.messages.length;
              payload.resolveOffset(last.offset);
            } catch (e) {
              failures.push(errorName(e));
              await txn.abort().catch(() => undefined);
            }
          },
        });
        await waitFor('the 30 records processed (or a failure)', 20_000, () =>
          Promise.resolve(processed >= 30 || failures.length > 0 ? true : undefined),
        );
      } finally {
        await consumer.disconnect();
        await p.disconnect();
      }
      assert.deepEqual(failures, [], 'sendOffsets for the consumer’s own (non-empty) group succeeds');
      assert.deepEqual(
        await groupOffsets(b.bootstrap, group, input),
        [10, 10, 10],
        'the group’s offsets committed',
      );
      assert.deepEqual(
        perPartition(await readAll(b.bootstrap, output, true)),
        expected(records('in', 30).map((r) => ({ ...r, value: `out:${r.value}` }))),
        'the output, read committed',
      );
    });
  });

  void test('a second producer with the same transactional id fences the first: its send and commit fail', async () => {
    await withBroker(BASE_CONFIG, async (b) => {
      const topic = 'txn-fence';
      await createTopic(b.bootstrap, topic);
      const kafka = kafkaOf(b.bootstrap);
      const first = txnProducer(kafka, 'tx-fence');
      const second = txnProducer(kafka, 'tx-fence');
      const z = records('zombie', 6);
      const n = records('new', 6);
      try {
        await first.connect();
        const t1 = await first.transaction();
        await t1.send({ topic, messages: z.slice(0, 3) });
        await second.connect();
        // kafkajs sends InitProducerId at the first transaction(): that fences `first`.
        const t2 = await second.transaction();
        const sendError = await rejection(t1.send({ topic, messages: z.slice(3) }));
        assert.ok(sendError === FENCED, `the zombie’s send is fenced: ${sendError}`);
        const commitError = await rejection(t1.commit());
        assert.ok(commitError === FENCED, `the zombie’s commit is fenced: ${commitError}`);
        await t2.send({ topic, messages: n });
        await t2.commit();
      } finally {
        await first.disconnect();
        await second.disconnect();
      }
      assert.deepEqual(
        perPartition(await readAll(b.bootstrap, topic, true)),
        expected(n),
        'only the new producer’s',
      );
      const all = (await readAll(b.bootstrap, topic, false)).map((r) => r.value);
      assert.ok(
        z.slice(3).every((r) => !all.includes(r.value)),
        `the fenced send wrote nothing: ${all.join(',')}`,
      );
    });
  });
});

// ------------------------------------------------------------------ confluent-kafka-python

void describe('confluent-kafka-python (librdkafka) transactional producer', { timeout: 150_000 }, () => {
  let available = false;
  before(async () => {
    available = await have(PYTHON, ['-c', 'import confluent_kafka']);
  });

  interface Step {
    step: number;
    action: string;
    ok: boolean;
    produced: number;
    error?: string;
  }

  const consume = async (bootstrap: string, topic: string, isolation: string): Promise<Read[]> => {
    const lines = await python<Read & { event?: string; complete?: boolean }>(TXN_SCRIPT, [
      'consume',
      bootstrap,
      topic,
      isolation,
    ]);
    const end = lines.at(-1);
    assert.ok(
      end?.event === 'end' && end.complete === true,
      `librdkafka read ${topic} to its end: ${JSON.stringify(end)}`,
    );
    const errors = lines.filter((l) => l.event === 'error');
    assert.deepEqual(errors, [], 'no consumer errors');
    return lines.filter((l) => l.event === undefined);
  };

  /** What the script's `transact` step `step` of `txid` produced: n records on partition i % 3. */
  const stepRecords = (
    txid: string,
    step: number,
    n: number,
  ): { key: string; value: string; partition: number }[] =>
    Array.from({ length: n }, (_, i) => ({
      key: `k-${i}`,
      value: `${txid}-${step}-${i}`,
      partition: i % PARTITIONS,
    }));

  void test('init/begin/produce/send_offsets_to_transaction/commit and abort: read_committed reads exactly the committed records; the group’s offsets are the committed ones', async (t) => {
    if (!available) return t.skip(NO_CONFLUENT);
    await withBroker(BASE_CONFIG, async (b) => {
      const topic = 'txn-rdkafka';
      const group = 'txn-rdkafka-group';
      await createTopic(b.bootstrap, topic);
      const run1 = await python<Step & { event?: string }>(TXN_SCRIPT, [
        'transact',
        b.bootstrap,
        topic,
        'rk-1',
        group,
        'commit:10,abort:6',
      ]);
      assert.deepEqual(
        run1.filter((l) => l.event === undefined).map((l) => [l.action, l.ok, l.produced, l.error ?? null]),
        [
          ['commit', true, 10, null],
          ['abort', true, 6, null],
        ],
        'both transactions ended as asked',
      );
      assert.deepEqual(
        await groupOffsets(b.bootstrap, group, topic),
        [1000, 1001, 1002],
        'the committed transaction’s offsets, not the aborted one’s',
      );

      const run2 = await python<Step & { event?: string }>(TXN_SCRIPT, [
        'transact',
        b.bootstrap,
        topic,
        'rk-2',
        group,
        'abort:4,commit:7',
      ]);
      assert.deepEqual(
        run2.filter((l) => l.event === undefined).map((l) => [l.action, l.ok, l.produced, l.error ?? null]),
        [
          ['abort', true, 4, null],
          ['commit', true, 7, null],
        ],
        'both transactions of the second producer ended as asked',
      );
      assert.deepEqual(
        await groupOffsets(b.bootstrap, group, topic),
        [2000, 2001, 2002],
        'the second commit’s offsets',
      );

      const want = expected(stepRecords('rk-1', 0, 10), stepRecords('rk-2', 1, 7));
      assert.deepEqual(
        perPartition(await consume(b.bootstrap, topic, 'read_committed')),
        want,
        'librdkafka read_committed',
      );
      assert.deepEqual(perPartition(await readAll(b.bootstrap, topic, true)), want, 'kafkajs read_committed');
      const all = expected(
        stepRecords('rk-1', 0, 10),
        stepRecords('rk-1', 1, 6),
        stepRecords('rk-2', 0, 4),
        stepRecords('rk-2', 1, 7),
      );
      assert.deepEqual(
        perPartition(await consume(b.bootstrap, topic, 'read_uncommitted')),
        all,
        'librdkafka read_uncommitted',
      );
    });
  });

  void test('a second init_transactions with the same transactional id fences the first: its commit fails, its records are never read committed', async (t) => {
    if (!available) return t.skip(NO_CONFLUENT);
    await withBroker(BASE_CONFIG, async (b) => {
      const topic = 'txn-rdkafka-fence';
      await createTopic(b.bootstrap, topic);
      const r = await run(PYTHON, [TXN_SCRIPT, 'fence', b.bootstrap, topic, 'rk-fence'], '', 60_000);
      assert.equal(r.code, 0, r.stderr);
      const lines = jsonLines<{ event: string; ok?: boolean; error?: string; fatal?: boolean }>(r.stdout);
      const zombie = lines.find((l) => l.event === 'zombie-commit');
      assert.ok(
        zombie !== undefined && zombie.ok === false,
        `the zombie’s commit failed: ${JSON.stringify(zombie)}`,
      );
      assert.ok(
        zombie.error === '_FENCED' ||
          zombie.error === 'PRODUCER_FENCED' ||
          zombie.error === 'INVALID_PRODUCER_EPOCH',
        `fenced: ${JSON.stringify(zombie)}`,
      );
      const fresh = lines.find((l) => l.event === 'commit');
      assert.ok(fresh?.ok === true, `the new producer commits: ${JSON.stringify(fresh)}`);
      const want = expected(
        Array.from({ length: 5 }, (_, i) => ({
          key: `k-${i}`,
          value: `rk-fence-new-${i}`,
          partition: i % PARTITIONS,
        })),
      );
      assert.deepEqual(
        perPartition(await consume(b.bootstrap, topic, 'read_committed')),
        want,
        'only the new producer’s',
      );
    });
  });
});

// ------------------------------------------------------------------ admin visibility

void describe('DescribeTransactions, ListTransactions, DescribeProducers', { timeout: 60_000 }, () => {
  void test('while a kafkajs transaction is open: Ongoing with its partitions; after its commit: CompleteCommit', async () => {
    await withBroker(BASE_CONFIG, async (b) => {
      const topic = 'txn-describe';
      const id = 'tx-describe';
      await createTopic(b.bootstrap, topic);
      const kafka = kafkaOf(b.bootstrap);
      const p = txnProducer(kafka, id, 45_000);
      await p.connect();
      try {
        // Something before the transaction, so its first offsets are not 0.
        const t0 = await p.transaction();
        await t0.send({ topic, messages: records('before', 6) });
        await t0.commit();
        await waitForState(b.port, id, 'CompleteCommit');

        const txn = await p.transaction();
        const meta = await txn.send({
          topic,
          messages: [
            { key: 'a', value: 'open-0', partition: 0 },
            { key: 'b', value: 'open-2', partition: 2 },
          ],
        });
        const firstOffset = new Map(meta.map((m) => [m.partition, BigInt(m.baseOffset ?? '-1')]));

        const open = await describeTxn(b.port, id);
        assert.equal(open.errorCode, ErrorCode.NONE, 'DescribeTransactions');
        assert.equal(open.transactionState, 'Ongoing', 'Ongoing while open');
        assert.equal(open.transactionTimeoutMs, 45_000, 'the timeout kafkajs asked for');
        assert.ok(
          open.producerId >= 0n && open.producerEpoch >= 0,
          `producer ${open.producerId}/${open.producerEpoch}`,
        );
        assert.ok(open.transactionStartTimeMs > 0n, `a start time: ${open.transactionStartTimeMs}`);
        assert.deepEqual(
          open.topics.map((t) => [t.topic, [...t.partitions].sort()]),
          [[topic, [0, 2]]],
          'its partitions',
        );
        const listed = await listTxns(b.port);
        assert.deepEqual(
          listed.filter((s) => s.transactionalId === id).map((s) => [s.producerId, s.transactionState]),
          [[open.producerId, 'Ongoing']],
          'ListTransactions lists it Ongoing',
        );
        assert.ok(
          (await listTxns(b.port, ['Ongoing'])).some((s) => s.transactionalId === id),
          'listed under the Ongoing filter',
        );
        assert.ok(
          !(await listTxns(b.port, ['CompleteCommit'])).some((s) => s.transactionalId === id),
          'not under CompleteCommit',
        );
        const producers = await describeProducers(b.port, topic);
        for (const q of [0, 1, 2]) {
          const mine = producers[q]!.activeProducers.find((s) => s.producerId === open.producerId);
          assert.ok(mine !== undefined, `partition ${q} knows the producer`);
          assert.equal(mine.producerEpoch, open.producerEpoch, `partition ${q}: its epoch`);
          assert.equal(
            mine.currentTxnStartOffset,
            q === 1 ? -1n : firstOffset.get(q),
            `partition ${q}: ${q === 1 ? 'no open transaction' : 'the open transaction’s first offset'}`,
          );
        }

        await txn.commit();
        const done = await waitForState(b.port, id, 'CompleteCommit');
        assert.equal(done.producerId, open.producerId, 'the same producer');
        assert.deepEqual(done.topics, [], 'no partitions once complete');
        assert.ok(
          (await listTxns(b.port, ['CompleteCommit'])).some((s) => s.transactionalId === id),
          'listed under CompleteCommit',
        );
        const after = await describeProducers(b.port, topic);
        for (const q of [0, 2]) {
          const mine = after[q]!.activeProducers.find((s) => s.producerId === open.producerId);
          assert.equal(
            mine?.currentTxnStartOffset,
            -1n,
            `partition ${q}: no open transaction after the commit`,
          );
          assert.ok((mine?.coordinatorEpoch ?? -1) >= 0, `partition ${q}: the marker’s coordinator epoch`);
        }
        const unknown = await describeTxn(b.port, 'tx-nobody');
        assert.equal(unknown.errorCode, ErrorCode.TRANSACTIONAL_ID_NOT_FOUND, 'an unknown id');
      } finally {
        await p.disconnect();
      }
    });
  });
});

// ------------------------------------------------------------------ timeouts

void describe('transaction timeouts', { timeout: 60_000 }, () => {
  void test('an open transaction past its timeout (1 s) is aborted by the coordinator; the producer’s commit then fails; nothing of it is read committed', async () => {
    const config = { ...BASE_CONFIG, 'transaction.abort.timed.out.transaction.cleanup.interval.ms': '100' };
    await withBroker(config, async (b) => {
      const topic = 'txn-timeout';
      const id = 'tx-timeout';
      await createTopic(b.bootstrap, topic);
      const kafka = kafkaOf(b.bootstrap);
      const p = txnProducer(kafka, id, 1_000);
      const other = txnProducer(kafka, 'tx-timeout-other');
      const late = records('late', 9);
      const fine = records('fine', 6);
      try {
        await p.connect();
        await other.connect();
        const txn = await p.transaction();
        await txn.send({ topic, messages: late });
        const open = await describeTxn(b.port, id);
        assert.equal(open.transactionState, 'Ongoing', 'open');
        // Another producer's committed transaction behind it: stuck behind the LSO until the abort.
        const t2 = await other.transaction();
        await t2.send({ topic, messages: fine });
        await t2.commit();

        const started = Date.now();
        await waitFor('ListTransactions shows the transaction CompleteAbort', 10_000, async () =>
          (await listTxns(b.port, ['CompleteAbort'])).some((s) => s.transactionalId === id)
            ? true
            : undefined,
        );
        const abortedAfterMs = Date.now() - started;
        const aborted = await describeTxn(b.port, id);
        assert.equal(aborted.producerId, open.producerId, 'the same producer id');
        assert.equal(
          aborted.producerEpoch,
          open.producerEpoch + 1,
          'the epoch bumped: the producer is fenced',
        );
        const commitError = await rejection(txn.commit());
        assert.ok(
          commitError === FENCED,
          `the timed-out producer’s commit fails: ${commitError} (aborted after ${abortedAfterMs} ms of waiting)`,
        );
      } finally {
        await p.disconnect();
        await other.disconnect();
      }
      assert.deepEqual(
        perPartition(await readAll(b.bootstrap, topic, true)),
        expected(fine),
        'read_committed: the other transaction only',
      );
      assert.deepEqual(
        perPartition(await readAll(b.bootstrap, topic, false)),
        expected(late, fine),
        'read_uncommitted: both',
      );
      assert.deepEqual(
        await endOffsets(b.port, topic, PARTITIONS, READ_COMMITTED),
        await endOffsets(b.port, topic, PARTITIONS, READ_UNCOMMITTED),
        'the last stable offset is the high watermark again',
      );
    });
  });
});

// ------------------------------------------------------------------ restarts

void describe('a broker restart with transactions open and complete', { timeout: 90_000 }, () => {
  void test('the coordinator reloads their states; the open one is aborted by its timeout; read_committed readers are not stuck', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'samsa-txn-restart-'));
    const port = await freePort();
    const config = { ...BASE_CONFIG, 'transaction.abort.timed.out.transaction.cleanup.interval.ms': '100' };
    let b: RunningBroker | null = await startBroker({ port, dataDir, config });
    const topic = 'txn-restart';
    const bootstrap = b.bootstrap;
    const kafka = kafkaOf(bootstrap);
    const committer = txnProducer(kafka, 'tx-restart-committed');
    const opener = txnProducer(kafka, 'tx-restart-open', 5_000);
    const plain = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    const a = records('committed', 9);
    const o = records('open', 9);
    const c = records('plain', 6);
    const d = records('after', 6);
    try {
      await createTopic(bootstrap, topic);
      await Promise.all([committer.connect(), opener.connect(), plain.connect()]);
      const t1 = await committer.transaction();
      await t1.send({ topic, messages: a });
      await t1.commit();
      const open = await opener.transaction();
      const openMeta = await open.send({ topic, messages: o });
      const openFirst = Array.from({ length: PARTITIONS }, (_, q) =>
        Number(openMeta.find((m) => m.partition === q)?.baseOffset ?? -1),
      );
      // Plain records behind the open transaction: read_committed cannot pass them until it ends.
      await plain.send({ topic, messages: c });
      const committedBefore = await waitForState(port, 'tx-restart-committed', 'CompleteCommit');
      const openBefore = await describeTxn(port, 'tx-restart-open');
      assert.equal(openBefore.transactionState, 'Ongoing', 'open before the restart');
      assert.deepEqual(
        await endOffsets(port, topic, PARTITIONS, READ_COMMITTED),
        openFirst,
        'the open transaction holds the last stable offset at its first offsets',
      );

      await b.stop();
      b = null;
      b = await startBroker({ port, dataDir, config });

      // The coordinator loads the __transaction_state partitions in the background after the
      // start (COORDINATOR_LOAD_IN_PROGRESS meanwhile), each id's in its own time.
      const reloaded = (id: string): Promise<DescribeTransactionsResponse.TransactionState> =>
        waitFor(`${id} reloaded`, 10_000, async () => {
          const s = await describeTxn(port, id);
          return s.errorCode === ErrorCode.NONE ? s : undefined;
        });
      const openAfter = await reloaded('tx-restart-open');
      assert.ok(
        ['Ongoing', 'PrepareAbort', 'CompleteAbort'].includes(openAfter.transactionState),
        `the open transaction reloaded (${openAfter.transactionState}; its 5 s timeout may have passed)`,
      );
      assert.equal(openAfter.producerId, openBefore.producerId, 'its producer id reloaded');
      if (openAfter.transactionState === 'Ongoing') {
        assert.equal(openAfter.producerEpoch, openBefore.producerEpoch, 'its epoch reloaded');
        assert.deepEqual(openAfter.topics, openBefore.topics, 'its partitions reloaded');
        assert.equal(
          openAfter.transactionStartTimeMs,
          openBefore.transactionStartTimeMs,
          'its start time reloaded',
        );
      }
      const committedAfter = await reloaded('tx-restart-committed');
      assert.deepEqual(
        [committedAfter.transactionState, committedAfter.producerId, committedAfter.producerEpoch],
        [committedBefore.transactionState, committedBefore.producerId, committedBefore.producerEpoch],
        'the complete transaction reloaded as it was',
      );

      const aborted = await waitForState(port, 'tx-restart-open', 'CompleteAbort', 15_000);
      assert.equal(
        aborted.producerEpoch,
        openBefore.producerEpoch + 1,
        'aborted by the timeout, its producer fenced',
      );
      const commitError = await rejection(open.commit());
      assert.equal(commitError, FENCED, 'the timed-out transaction cannot commit after the restart');

      // The committer goes on after the restart.
      const t2 = await committer.transaction();
      await t2.send({ topic, messages: d });
      await t2.commit();
      assert.deepEqual(
        perPartition(await readAll(bootstrap, topic, true)),
        expected(a, c, d),
        'read_committed: all but the aborted',
      );
      assert.deepEqual(
        perPartition(await readAll(bootstrap, topic, false)),
        expected(a, o, c, d),
        'read_uncommitted: all',
      );
      assert.deepEqual(
        await endOffsets(port, topic, PARTITIONS, READ_COMMITTED),
        await endOffsets(port, topic, PARTITIONS, READ_UNCOMMITTED),
        'the last stable offset is the high watermark',
      );
    } finally {
      await Promise.all([committer, opener, plain].map((p) => p.disconnect().catch(() => undefined)));
      await b?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
