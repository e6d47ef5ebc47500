/**
 * Samsa's Consumer against a real broker, without groups rebalancing (assign) except where a
 * group stores offsets: exact records from assign + poll, seeks and offset lookups, pause and
 * resume, the async iterator and run(), manual and automatic commits (checked through kafkajs's
 * admin), compressed input from kafkajs and @platformatic/kafka, autoOffsetReset 'none', and
 * option validation. Input is produced by kafkajs (and @platformatic/kafka for snappy/lz4).
 * Decoding of fetched batches (transactions, control batches, partial and corrupt batches) is
 * checked on batches built here, since the broker has no transactions to make them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { Producer as PlatformaticProducer } from '@platformatic/kafka';
import kafkajs, { CompressionTypes, Kafka, logLevel, type Admin as KafkajsAdmin } from 'kafkajs';
import { compress as zstdCompress, decompress as zstdDecompress } from 'zstd-napi';

import { Consumer, type ConsumerOptions, type ConsumerRecord } from '../../src/client/consumer.js';
import type { ClientOptions } from '../../src/client/cluster.js';
import { ConfigError, KafkaClientError } from '../../src/client/errors.js';
import { CompletedFetch } from '../../src/client/fetcher.js';
import {
  buildEndTxnMarkerBatch,
  encodeRecordBatch,
  newRecordBatch,
} from '../../src/protocol/records/batch.js';
import { startTestBroker, type TestBroker } from './support.js';

let broker: TestBroker;
let kafka: Kafka;
let admin: KafkajsAdmin;
const consumers: Consumer[] = [];

/** A consumer closed after the suite (tests close their own too; close is idempotent). */
function consumer(options: Partial<ClientOptions & ConsumerOptions> = {}): Consumer {
  const c = new Consumer({ bootstrapServers: broker.bootstrap, clientId: 'consumer-test', ...options });
  consumers.push(c);
  return c;
}

async function createTopic(topic: string, numPartitions = 1): Promise<void> {
  await admin.createTopics({ topics: [{ topic, numPartitions }], waitForLeaders: true });
}

interface Input {
  key: string | null;
  value: string | null;
  headers?: Record<string, string>;
  partition?: number;
  timestamp?: string;
}

async function produce(topic: string, messages: Input[], compression = CompressionTypes.None): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic, compression, messages });
  } finally {
    await producer.disconnect();
  }
}

function values(records: ConsumerRecord[]): (string | null)[] {
  return records.map((r) => r.value?.toString() ?? null);
}

/** Polls until `count` records arrived or `timeoutMs` passed (bounded both ways). */
async function pollUntil(c: Consumer, count: number, timeoutMs = 10_000): Promise<ConsumerRecord[]> {
  const out: ConsumerRecord[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < count && Date.now() < deadline) out.push(...(await c.poll(200)));
  return out;
}

async function committedOffsets(groupId: string, topic: string): Promise<Map<number, string>> {
  const res = await admin.fetchOffsets({ groupId, topics: [topic] });
  return new Map(res[0]!.partitions.map((p) => [p.partition, p.offset]));
}

void describe('Consumer (assign, offsets, reading styles)', { timeout: 120_000 }, () => {
  before(async () => {
    broker = await startTestBroker({
      'num.partitions': '1',
      'group.initial.rebalance.delay.ms': '0',
      'offsets.topic.num.partitions': '2',
    });
    kafka = new Kafka({
      brokers: [broker.bootstrap],
      clientId: 'consumer-test-kafkajs',
      logLevel: logLevel.NOTHING,
    });
    admin = kafka.admin();
    await admin.connect();
  });

  after(async () => {
    await Promise.allSettled(consumers.map((c) => c.close()));
    await admin?.disconnect();
    await broker?.stop();
  });

  void test('assign + poll reads exact records: keys, values, headers, offsets, timestamps', async () => {
    await createTopic('exact', 2);
    const input: Input[] = [];
    for (let i = 0; i < 30; i++) {
      input.push({
        key: i % 5 === 0 ? null : `k${i}`,
        value: i === 7 ? null : `v${i}`,
        headers: i % 2 === 0 ? { n: String(i), kind: 'even' } : {},
        partition: i % 2,
        timestamp: String(1_700_000_000_000 + i),
      });
    }
    await produce('exact', input);
    const c = consumer({ autoOffsetReset: 'earliest' });
    c.assign([
      { topic: 'exact', partition: 0 },
      { topic: 'exact', partition: 1 },
    ]);
    const records = await pollUntil(c, 30);
    assert.equal(records.length, 30, 'all 30 records');
    for (const p of [0, 1]) {
      const got = records.filter((r) => r.partition === p);
      const want = input.filter((m) => m.partition === p);
      assert.deepEqual(
        got.map((r) => r.offset),
        want.map((_, i) => BigInt(i)),
        `partition ${p}: offsets 0..${want.length - 1} in order`,
      );
      got.forEach((r, i) => {
        const m = want[i]!;
        assert.equal(r.topic, 'exact');
        assert.equal(r.key?.toString() ?? null, m.key);
        assert.equal(r.value?.toString() ?? null, m.value);
        assert.equal(r.timestamp, Number(m.timestamp));
        assert.equal(r.timestampType, 'CreateTime');
        assert.ok(r.leaderEpoch >= 0, `leader epoch known (${r.leaderEpoch})`);
        assert.deepEqual(
          r.headers.map((h) => [h.key, h.value?.toString()]),
          Object.entries(m.headers ?? {}),
          `headers of ${m.value}`,
        );
      });
    }
    assert.deepEqual(await c.poll(100), [], 'nothing more');
    assert.equal(await c.position({ topic: 'exact', partition: 0 }), 15n);
    await c.close();
  });

  void test('maxPollRecords bounds a poll; latest (the default) skips what is already there', async () => {
    await createTopic('bounded');
    await produce(
      'bounded',
      Array.from({ length: 20 }, (_, i) => ({ key: null, value: `old${i}` })),
    );
    const early = consumer({ autoOffsetReset: 'earliest', maxPollRecords: 7 });
    early.assign([{ topic: 'bounded', partition: 0 }]);
    const first = await pollUntil(early, 1);
    assert.equal(first.length, 7, 'a poll returns at most maxPollRecords');
    assert.deepEqual(values(first), ['old0', 'old1', 'old2', 'old3', 'old4', 'old5', 'old6']);

    const late = consumer();
    late.assign([{ topic: 'bounded', partition: 0 }]);
    assert.equal(await late.position({ topic: 'bounded', partition: 0 }), 20n, 'latest: the log end');
    await produce('bounded', [{ key: null, value: 'new' }]);
    assert.deepEqual(values(await pollUntil(late, 1)), ['new']);
    await Promise.all([early.close(), late.close()]);
  });

  void test('seek, seekToBeginning, seekToEnd, offsetsForTimes, beginning/end offsets', async () => {
    await createTopic('seeks');
    const base = 1_800_000_000_000;
    await produce(
      'seeks',
      Array.from({ length: 10 }, (_, i) => ({
        key: null,
        value: `s${i}`,
        timestamp: String(base + i * 1000),
      })),
    );
    const tp = { topic: 'seeks', partition: 0 };
    const c = consumer({ autoOffsetReset: 'earliest', maxPollRecords: 3 });
    c.assign([tp]);
    assert.deepEqual(values(await pollUntil(c, 3)), ['s0', 's1', 's2']);
    c.seek(tp, 6n);
    assert.deepEqual(values(await pollUntil(c, 3)), ['s6', 's7', 's8']);
    c.seekToBeginning([tp]);
    assert.equal(await c.position(tp), 0n, 'seekToBeginning resolves to the log start');
    assert.deepEqual(values(await pollUntil(c, 3)), ['s0', 's1', 's2']);
    c.seekToEnd();
    assert.equal(await c.position(tp), 10n, 'seekToEnd resolves to the log end');
    assert.deepEqual(await c.poll(100), []);

    const at = async (timestamp: number): Promise<unknown> =>
      (await c.offsetsForTimes([{ ...tp, timestamp }]))[0];
    assert.deepEqual(
      await at(base + 4500),
      { ...tp, offset: 5n, timestamp: base + 5000 },
      'first record at or after',
    );
    assert.deepEqual(await at(base), { ...tp, offset: 0n, timestamp: base });
    assert.deepEqual(await at(base + 60_000), { ...tp, offset: null, timestamp: null }, 'nothing that late');
    await assert.rejects(
      c.offsetsForTimes([
        { ...tp, timestamp: base },
        { ...tp, timestamp: base + 1 },
      ]),
      /listed twice/,
    );
    assert.deepEqual(await c.beginningOffsets([tp]), [{ ...tp, offset: 0n }]);
    assert.deepEqual(await c.endOffsets([tp]), [{ ...tp, offset: 10n }]);
    assert.throws(() => c.seek(tp, -1n), TypeError);
    assert.throws(() => c.seek({ topic: 'seeks', partition: 3 }, 0n), /not assigned/);
    await c.close();
  });

  void test('pause stops a partition, resume restarts it where it stopped', async () => {
    await createTopic('pausing', 2);
    await produce(
      'pausing',
      Array.from({ length: 10 }, (_, i) => ({ key: null, value: `p${i % 2}-${i}`, partition: i % 2 })),
    );
    const p0 = { topic: 'pausing', partition: 0 };
    const p1 = { topic: 'pausing', partition: 1 };
    const c = consumer({ autoOffsetReset: 'earliest' });
    c.assign([p0, p1]);
    c.pause([p1]);
    assert.deepEqual(c.paused(), [p1]);
    const got = await pollUntil(c, 5);
    assert.ok(
      got.every((r) => r.partition === 0),
      'only the unpaused partition',
    );
    assert.equal(got.length, 5);
    assert.deepEqual(await c.poll(300), [], 'paused partition stays quiet');
    c.resume([p1]);
    assert.deepEqual(c.paused(), []);
    const rest = await pollUntil(c, 5);
    assert.deepEqual(values(rest), ['p1-1', 'p1-3', 'p1-5', 'p1-7', 'p1-9']);
    await c.close();
  });

  void test('for await yields records one by one; breaking out keeps the consumer and the unread records', async () => {
    await createTopic('iterate');
    await produce(
      'iterate',
      Array.from({ length: 12 }, (_, i) => ({ key: null, value: `i${i}` })),
    );
    const c = consumer({ autoOffsetReset: 'earliest', maxPollRecords: 5 });
    c.assign([{ topic: 'iterate', partition: 0 }]);
    const seen: string[] = [];
    for await (const r of c) {
      seen.push(r.value!.toString());
      if (seen.length === 7) break;
    }
    assert.deepEqual(seen, ['i0', 'i1', 'i2', 'i3', 'i4', 'i5', 'i6']);
    assert.equal(
      await c.position({ topic: 'iterate', partition: 0 }),
      7n,
      'back at the first record not yielded',
    );
    const more: string[] = [];
    for await (const r of c) {
      more.push(r.value!.toString());
      if (more.length === 5) break;
    }
    assert.deepEqual(more, ['i7', 'i8', 'i9', 'i10', 'i11'], 'a second loop continues exactly');
    await c.close();
  });

  void test('run() hands out batches until close; a throwing handler rejects run and rewinds', async () => {
    await createTopic('running', 2);
    await produce(
      'running',
      Array.from({ length: 40 }, (_, i) => ({ key: null, value: `r${i}`, partition: i % 2 })),
    );
    const c = consumer({ autoOffsetReset: 'earliest', maxPollRecords: 10 });
    c.assign([
      { topic: 'running', partition: 0 },
      { topic: 'running', partition: 1 },
    ]);
    const seen: string[] = [];
    let failOnce = true;
    await assert.rejects(
      c.run({
        eachRecord: (r) => {
          if (r.value!.toString() === 'r10' && failOnce) {
            failOnce = false;
            throw new Error('handler failed');
          }
          seen.push(r.value!.toString());
        },
      }),
      /handler failed/,
    );
    assert.ok(!seen.includes('r10'), 'r10 was not handled');
    const batches: { partition: number; count: number }[] = [];
    const running = c.run({
      eachBatch: (b) => {
        batches.push({ partition: b.partition, count: b.records.length });
        for (const r of b.records) seen.push(r.value!.toString());
        assert.ok(b.highWatermark === 20n, `high watermark ${b.highWatermark}`);
      },
    });
    const deadline = Date.now() + 10_000;
    while (seen.length < 40 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await c.close();
    await running;
    assert.deepEqual(
      [...seen].sort(),
      Array.from({ length: 40 }, (_, i) => `r${i}`).sort(),
      'every record handled exactly once, r10 after its failure',
    );
    assert.ok(
      batches.every((b) => b.count > 0 && b.count <= 10),
      'batches are per partition and bounded',
    );
  });

  void test('manual commit stores last consumed + 1; committed() reads it back; a new consumer resumes there', async () => {
    await createTopic('manual', 2);
    await produce(
      'manual',
      Array.from({ length: 10 }, (_, i) => ({ key: null, value: `m${i}`, partition: i % 2 })),
    );
    const p0 = { topic: 'manual', partition: 0 };
    const p1 = { topic: 'manual', partition: 1 };
    const c = consumer({ groupId: 'g-manual', enableAutoCommit: false, autoOffsetReset: 'earliest' });
    c.assign([p0, p1]);
    const got = await pollUntil(c, 10);
    assert.equal(got.length, 10);
    assert.deepEqual(await c.committed([p0, p1]), [
      { ...p0, offset: null, leaderEpoch: -1, metadata: null },
      { ...p1, offset: null, leaderEpoch: -1, metadata: null },
    ]);
    await c.commit();
    assert.deepEqual(
      [...(await committedOffsets('g-manual', 'manual'))].sort(),
      [
        [0, '5'],
        [1, '5'],
      ],
      'kafkajs sees last consumed + 1',
    );
    await c.commit([{ ...p0, offset: 2n }]);
    const back = await c.committed([p0]);
    assert.equal(back[0]!.offset, 2n, 'explicit offsets as given');
    await c.close();
    assert.equal((await committedOffsets('g-manual', 'manual')).get(0), '2', 'no auto-commit on close');

    const next = consumer({ groupId: 'g-manual', enableAutoCommit: false });
    next.assign([p0]);
    assert.deepEqual(values(await pollUntil(next, 3)), ['m4', 'm6', 'm8'], 'resumes at the committed offset');
    await next.close();
    const noGroup = consumer();
    await assert.rejects(
      noGroup.commit(),
      (e: unknown) => e instanceof KafkaClientError && e.errorName === 'INVALID_GROUP_ID',
    );
    await noGroup.close();
  });

  void test('auto-commit: on the interval while polling, and on close', async () => {
    await createTopic('auto');
    await produce(
      'auto',
      Array.from({ length: 6 }, (_, i) => ({ key: null, value: `a${i}` })),
    );
    const c = consumer({ groupId: 'g-auto', autoOffsetReset: 'earliest', autoCommitIntervalMs: 100 });
    c.assign([{ topic: 'auto', partition: 0 }]);
    assert.equal((await pollUntil(c, 6)).length, 6);
    const deadline = Date.now() + 5000;
    let committed: string | undefined;
    while (Date.now() < deadline) {
      await c.poll(50);
      committed = (await committedOffsets('g-auto', 'auto')).get(0);
      if (committed === '6') break;
    }
    assert.equal(committed, '6', 'committed by a later poll once the interval passed');
    await produce('auto', [{ key: null, value: 'a6' }]);
    assert.deepEqual(values(await pollUntil(c, 1)), ['a6']);
    await c.close();
    assert.equal((await committedOffsets('g-auto', 'auto')).get(0), '7', 'committed on close');
  });

  void test('compressed input: gzip (kafkajs), snappy and lz4 (@platformatic/kafka), zstd (kafkajs codec)', async () => {
    await createTopic('compressed');
    await produce(
      'compressed',
      Array.from({ length: 50 }, (_, i) => ({ key: `g${i}`, value: `gzip-${i}`.repeat(5) })),
      CompressionTypes.GZIP,
    );
    const platformatic = new PlatformaticProducer({
      clientId: 'consumer-test-platformatic',
      bootstrapBrokers: [broker.bootstrap],
      retries: 0,
    });
    try {
      for (const compression of ['snappy', 'lz4'] as const) {
        await platformatic.send({
          compression,
          messages: Array.from({ length: 50 }, (_, i) => ({
            topic: 'compressed',
            partition: 0,
            key: Buffer.from(`${compression[0]}${i}`),
            value: Buffer.from(`${compression}-${i}`.repeat(5)),
          })),
        });
      }
    } finally {
      await platformatic.close();
    }
    // kafkajs has no zstd of its own; its codec plugin gets the reference library (zstd-napi).
    kafkajs.CompressionCodecs[CompressionTypes.ZSTD] = () => ({
      compress: (encoder: { buffer: Buffer }) => Promise.resolve(zstdCompress(encoder.buffer)),
      decompress: (buffer: Buffer) => Promise.resolve(zstdDecompress(buffer)),
    });
    await produce(
      'compressed',
      Array.from({ length: 50 }, (_, i) => ({ key: `z${i}`, value: `zstd-${i}`.repeat(5) })),
      CompressionTypes.ZSTD,
    );
    const c = consumer({ autoOffsetReset: 'earliest' });
    c.assign([{ topic: 'compressed', partition: 0 }]);
    // Start inside the first batch: records below the fetch offset are skipped.
    c.seek({ topic: 'compressed', partition: 0 }, 3n);
    const records = await pollUntil(c, 197);
    assert.equal(records.length, 197);
    assert.deepEqual(
      records.map((r) => r.offset),
      Array.from({ length: 197 }, (_, i) => BigInt(i + 3)),
      'continuous offsets from the seek',
    );
    const expected = [
      ...Array.from({ length: 50 }, (_, i) => `gzip-${i}`.repeat(5)).slice(3),
      ...Array.from({ length: 50 }, (_, i) => `snappy-${i}`.repeat(5)),
      ...Array.from({ length: 50 }, (_, i) => `lz4-${i}`.repeat(5)),
      ...Array.from({ length: 50 }, (_, i) => `zstd-${i}`.repeat(5)),
    ];
    assert.deepEqual(values(records), expected);
    assert.equal(records[0]!.key?.toString(), 'g3');
    await c.close();
  });

  void test("autoOffsetReset 'none': no committed offset, or an offset out of range, is an error", async () => {
    await createTopic('strict');
    await produce('strict', [{ key: null, value: 'only' }]);
    const tp = { topic: 'strict', partition: 0 };
    const c = consumer({ groupId: 'g-strict', autoOffsetReset: 'none', enableAutoCommit: false });
    c.assign([tp]);
    await assert.rejects(
      c.poll(500),
      (e: unknown) => e instanceof KafkaClientError && e.errorName === 'NO_OFFSET_FOR_PARTITION',
    );
    c.seek(tp, 50n);
    await assert.rejects(
      pollUntil(c, 1, 5000),
      (e: unknown) =>
        e instanceof KafkaClientError && e.errorName === 'OFFSET_OUT_OF_RANGE' && /strict:0/.test(e.message),
    );
    c.seek(tp, 0n);
    assert.deepEqual(values(await pollUntil(c, 1)), ['only'], 'a seek to a valid offset recovers');
    await c.close();

    const reset = consumer({ autoOffsetReset: 'earliest' });
    reset.assign([tp]);
    reset.seek(tp, 50n);
    assert.deepEqual(values(await pollUntil(reset, 1)), ['only'], "'earliest' resets an out-of-range offset");
    await reset.close();
  });

  void test('one reader at a time; closed consumers refuse calls', async () => {
    await createTopic('readers');
    const c = consumer({ autoOffsetReset: 'earliest' });
    c.assign([{ topic: 'readers', partition: 0 }]);
    const polling = c.poll(300);
    const illegal =
      (message: RegExp) =>
      (e: unknown): boolean =>
        e instanceof KafkaClientError && e.errorName === 'ILLEGAL_STATE' && message.test(e.message);
    await assert.rejects(c.poll(10), illegal(/one reader at a time/));
    assert.throws(() => c[Symbol.asyncIterator](), illegal(/one reader at a time/));
    assert.deepEqual(await polling, []);
    await c.close();
    await c.close();
    await assert.rejects(
      c.poll(10),
      (e: unknown) => e instanceof KafkaClientError && e.errorName === 'CLIENT_CLOSED',
    );
    const idle = consumer();
    await assert.rejects(idle.poll(10), illegal(/not subscribed/));
    const grouped = consumer({ groupId: 'g-readers' });
    grouped.assign([{ topic: 'readers', partition: 0 }]);
    assert.throws(() => grouped.subscribe(['readers']), illegal(/subscribe after assign/));
    await grouped.close();
    await idle.close();
  });
});

void describe('Consumer options', () => {
  const base = { bootstrapServers: '127.0.0.1:9' };
  const bad: [Partial<ConsumerOptions>, RegExp][] = [
    [{ groupId: '' }, /groupId/],
    [{ groupInstanceId: 'x' }, /groupInstanceId x needs a groupId/],
    [{ enableAutoCommit: true }, /enableAutoCommit/],
    [{ autoOffsetReset: 'smallest' as 'earliest' }, /autoOffsetReset.*smallest/],
    [{ sessionTimeoutMs: 0 }, /sessionTimeoutMs.*0/],
    [
      { groupId: 'g', sessionTimeoutMs: 1000, heartbeatIntervalMs: 1000 },
      /heartbeatIntervalMs \(1000\).*sessionTimeoutMs \(1000\)/,
    ],
    [{ maxPollRecords: 0 }, /maxPollRecords.*0/],
    [{ maxPollIntervalMs: 1.5 }, /maxPollIntervalMs.*1\.5/],
    [{ fetchMaxBytes: -1 }, /fetchMaxBytes.*-1/],
    [{ fetchMinBytes: 2 ** 31 }, /fetchMinBytes/],
    [{ fetchMaxWaitMs: Number.NaN }, /fetchMaxWaitMs.*NaN/],
    [{ maxPartitionFetchBytes: -5 }, /maxPartitionFetchBytes.*-5/],
    [{ isolationLevel: 'committed' as 'read_committed' }, /isolationLevel.*committed/],
    [{ autoCommitIntervalMs: -1 }, /autoCommitIntervalMs.*-1/],
    [{ partitionAssignmentStrategy: [] }, /partitionAssignmentStrategy/],
    [{ partitionAssignmentStrategy: ['sticky' as 'range'] }, /partitionAssignmentStrategy.*sticky/],
    [{ partitionAssignmentStrategy: ['range', 'range'] }, /partitionAssignmentStrategy/],
  ];
  for (const [options, message] of bad) {
    void test(`rejects ${JSON.stringify(options)}`, () => {
      assert.throws(
        () => new Consumer({ ...base, ...options }),
        (e: unknown) => e instanceof ConfigError && message.test(e.message),
      );
    });
  }

  void test('defaults follow Kafka', async () => {
    const c = new Consumer({ ...base, groupId: 'g' });
    assert.equal(c.options.autoOffsetReset, 'latest');
    assert.equal(c.options.enableAutoCommit, true);
    assert.equal(c.options.autoCommitIntervalMs, 5000);
    assert.equal(c.options.sessionTimeoutMs, 45_000);
    assert.equal(c.options.heartbeatIntervalMs, 3000);
    assert.equal(c.options.maxPollIntervalMs, 300_000);
    assert.equal(c.options.maxPollRecords, 500);
    assert.equal(c.options.fetchMinBytes, 1);
    assert.equal(c.options.fetchMaxWaitMs, 500);
    assert.equal(c.options.fetchMaxBytes, 52_428_800);
    assert.equal(c.options.maxPartitionFetchBytes, 1_048_576);
    assert.equal(c.options.isolationLevel, 'read_uncommitted');
    assert.deepEqual(c.options.partitionAssignmentStrategy, ['range', 'cooperative-sticky']);
    assert.equal(new Consumer(base).options.enableAutoCommit, false, 'no group, no auto-commit');
    assert.throws(() => new Consumer(base).subscribe(['t']), ConfigError, 'subscribe needs a groupId');
    await c.close();
  });
});

void describe('fetched record decoding (CompletedFetch)', () => {
  const tp = { topic: 't', partition: 0 };
  const batch = (
    baseOffset: bigint,
    values: string[],
    fields: { producerId?: bigint; transactional?: boolean; compression?: 0 | 1 } = {},
  ): Buffer =>
    encodeRecordBatch(
      newRecordBatch(
        values.map((v, i) => ({ key: null, value: Buffer.from(v), timestamp: 1_000 + i })),
        {
          baseOffset,
          partitionLeaderEpoch: 3,
          producerId: fields.producerId ?? -1n,
          producerEpoch: fields.producerId === undefined ? -1 : 0,
          baseSequence: fields.producerId === undefined ? -1 : 0,
          isTransactional: fields.transactional ?? false,
        },
      ),
      { compression: fields.compression ?? 0 },
    );
  const marker = (baseOffset: bigint, producerId: bigint, commit: boolean): Buffer =>
    buildEndTxnMarkerBatch({
      baseOffset,
      producerId,
      producerEpoch: 0,
      coordinatorEpoch: 1,
      commit,
      timestamp: 2_000,
    });
  // 0-4 plain; 5-7 an aborted transaction of producer 7 and its marker at 8; 9-10 a committed
  // transaction of producer 8 and its marker at 11; 12-15 gzip; then half of a batch.
  const last = batch(16n, ['p16', 'p17']);
  const records = Buffer.concat([
    batch(0n, ['p0', 'p1', 'p2', 'p3', 'p4']),
    batch(5n, ['a5', 'a6', 'a7'], { producerId: 7n, transactional: true }),
    marker(8n, 7n, false),
    batch(9n, ['c9', 'c10'], { producerId: 8n, transactional: true }),
    marker(11n, 8n, true),
    batch(12n, ['z12', 'z13', 'z14', 'z15'], { compression: 1 }),
    last.subarray(0, last.length - 5),
  ]);
  const aborted = [{ producerId: 7n, firstOffset: 5n }];
  const drainAll = (f: CompletedFetch): ConsumerRecord[] => {
    const out: ConsumerRecord[] = [];
    for (let i = 0; i < 100 && !f.exhausted; i++) f.drain(3, out);
    return out;
  };

  void test('read_committed: skips records below the fetch offset, aborted transactions, control batches and a partial tail', () => {
    const f = new CompletedFetch(tp, 2n, records, true, aborted);
    const out = drainAll(f);
    assert.deepEqual(values(out), ['p2', 'p3', 'p4', 'c9', 'c10', 'z12', 'z13', 'z14', 'z15']);
    assert.deepEqual(
      out.map((r) => r.offset),
      [2n, 3n, 4n, 9n, 10n, 12n, 13n, 14n, 15n],
    );
    assert.equal(f.nextFetchOffset, 16n, 'the next fetch starts at the partial batch');
    assert.equal(out[0]!.timestamp, 1_002);
    assert.equal(out[0]!.leaderEpoch, 3);
  });

  void test('read_uncommitted: aborted records are returned, control batches are not', () => {
    const out = drainAll(new CompletedFetch(tp, 0n, records, false, null));
    assert.deepEqual(
      out.map((r) => r.offset),
      [0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n, 9n, 10n, 12n, 13n, 14n, 15n],
    );
  });

  void test('a partial drain stops exactly; the position follows', () => {
    const f = new CompletedFetch(tp, 0n, records, true, aborted);
    const out: ConsumerRecord[] = [];
    f.drain(6, out);
    assert.deepEqual(values(out), ['p0', 'p1', 'p2', 'p3', 'p4', 'c9']);
    assert.equal(f.nextFetchOffset, 10n);
  });

  void test('a corrupt batch: the records before it come first, then CORRUPT_MESSAGE', () => {
    const bad = Buffer.from(records);
    const start =
      records.length - last.length + 5 - batch(12n, ['z12', 'z13', 'z14', 'z15'], { compression: 1 }).length;
    bad[start + 70] = bad[start + 70]! ^ 0xff;
    const f = new CompletedFetch(tp, 0n, bad, false, null);
    const out: ConsumerRecord[] = [];
    f.drain(100, out);
    assert.equal(out.length, 10, 'offsets 0-10 (the markers give no records)');
    assert.throws(
      () => f.drain(100, out),
      (e: unknown) =>
        e instanceof KafkaClientError &&
        e.errorName === 'CORRUPT_MESSAGE' &&
        /t:0 at offset 12/.test(e.message),
    );
  });

  void test('a first batch cut short is MESSAGE_TOO_LARGE, not silence', () => {
    const f = new CompletedFetch(tp, 16n, last.subarray(0, last.length - 1), false, null);
    assert.throws(
      () => f.drain(10, []),
      (e: unknown) => e instanceof KafkaClientError && e.errorName === 'MESSAGE_TOO_LARGE',
    );
  });
});
