/**
 * The Producer against a real broker over sockets. What the producer wrote is read back with a
 * raw Fetch and decoded batch by batch, so the tests see the batches themselves (how many, how
 * big, which codec), not only the records.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Kafka, logLevel, Partitioners, type Admin as KafkaAdmin } from 'kafkajs';
import { startBroker, type RunningBroker } from '../../src/broker/embed.js';
import { ConfigError, KafkaClientError } from '../../src/client/errors.js';
import { Producer, type ProducerOptions, type RecordMetadata } from '../../src/client/producer.js';
import { CompressionCodec } from '../../src/protocol/compression/index.js';
import { FetchRequest } from '../../src/protocol/generated/message/FetchRequest.js';
import { FetchResponse } from '../../src/protocol/generated/message/FetchResponse.js';
import { DecodeError } from '../../src/protocol/primitives/errors.js';
import { decodeRecordBatch, type DecodedRecordBatch } from '../../src/protocol/records/batch.js';
import { TimestampType } from '../../src/protocol/records/batch-view.js';
import { RawClient } from '../broker/raw-client.js';
import { startTestBroker, withBroker, type TestBroker } from './support.js';

const FETCH_VERSION = 4;
const FETCH_MAX_BYTES = 16 * 1024 * 1024;

/** Every batch stored in a partition, decoded, read with raw Fetch requests from offset 0. */
async function readBatches(port: number, topic: string, partition: number): Promise<DecodedRecordBatch[]> {
  const client = await RawClient.open(port);
  const batches: DecodedRecordBatch[] = [];
  try {
    let offset = 0n;
    for (let round = 0; round < 100; round++) {
      const response = await client.send(FetchRequest, FetchResponse, FETCH_VERSION, {
        ...FetchRequest.create(),
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: FETCH_MAX_BYTES,
        topics: [
          {
            ...FetchRequest.structs.FetchTopic(),
            topic,
            partitions: [
              {
                ...FetchRequest.structs.FetchPartition(),
                partition,
                fetchOffset: offset,
                partitionMaxBytes: FETCH_MAX_BYTES,
              },
            ],
          },
        ],
      });
      const data = response.responses[0]?.partitions[0];
      assert.ok(data !== undefined, 'the fetch answers the partition');
      assert.equal(data.errorCode, 0, `fetch ${topic}-${partition}`);
      const records = data.records ?? Buffer.alloc(0);
      let pos = 0;
      while (pos + 12 <= records.length) {
        const size = 12 + records.readInt32BE(pos + 8);
        if (pos + size > records.length) break;
        const batch = decodeRecordBatch(records.subarray(pos, pos + size), {
          maxDecompressedBytes: FETCH_MAX_BYTES,
        });
        assert.ok(
          !(batch instanceof DecodeError),
          `stored batch decodes: ${batch instanceof DecodeError ? batch.message : ''}`,
        );
        batches.push(batch);
        offset = batch.baseOffset + BigInt(batch.lastOffsetDelta) + 1n;
        pos += size;
      }
      if (offset >= data.highWatermark) return batches;
    }
    assert.fail(`${topic}-${partition} not read to its end in 100 fetches`);
  } finally {
    client.close();
  }
}

/** The values of a partition's records in offset order. */
function valuesOf(batches: DecodedRecordBatch[]): string[] {
  return batches.flatMap((b) => b.records.map((r) => r.value?.toString() ?? '<null>'));
}

function isClientError(name: string, pattern?: RegExp): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof KafkaClientError, `a KafkaClientError, got ${String(e)}`);
    assert.equal(e.errorName, name, e.message);
    if (pattern !== undefined) assert.match(e.message, pattern);
    return true;
  };
}

function javaPartition(key: string, partitions: number): number {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: partitions }, (_, i) => ({
    partitionId: i,
    leader: 0,
    partitionErrorCode: 0,
    replicas: [0],
    isr: [0],
  }));
  return partitioner({ topic: 't', partitionMetadata, message: { key, value: null } });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

void describe('Producer options', () => {
  const base = { bootstrapServers: '127.0.0.1:9' };
  const bad: [Partial<Record<keyof ProducerOptions, unknown>>, RegExp][] = [
    [{ acks: 2 }, /acks.*got 2/],
    [{ acks: 'leader' }, /acks.*got leader/],
    [{ lingerMs: -1 }, /lingerMs.*got -1/],
    [{ batchSize: 1.5 }, /batchSize.*got 1\.5/],
    [{ compression: 'brotli' }, /compression.*gzip.*got brotli/],
    [{ bufferMemory: 0 }, /bufferMemory.*got 0/],
    [{ maxRequestSize: '1000' }, /maxRequestSize.*got 1000/],
    [{ maxBlockMs: -5 }, /maxBlockMs.*got -5/],
    [
      { deliveryTimeoutMs: 1000 },
      /deliveryTimeoutMs must be at least lingerMs \+ requestTimeoutMs \(30005\), got 1000/,
    ],
    [{ retries: -1 }, /retries.*got -1/],
    [{ maxInFlightRequestsPerConnection: 0 }, /maxInFlightRequestsPerConnection.*got 0/],
  ];
  for (const [options, message] of bad) {
    void test(`refuses ${JSON.stringify(options)}`, () => {
      assert.throws(
        () => new Producer({ ...base, ...(options as ProducerOptions) }),
        (e: unknown) => e instanceof ConfigError && message.test(e.message),
      );
    });
  }

  void test('a default deliveryTimeoutMs grows to lingerMs + requestTimeoutMs, as in Kafka', async () => {
    const p = new Producer({ ...base, requestTimeoutMs: 200_000, lingerMs: 10 });
    await p.close();
  });

  void test('refuses malformed records before queueing them, naming the field', async () => {
    const p = new Producer(base);
    try {
      const cases: [unknown, RegExp][] = [
        [{ value: 'v' }, /topic must be a non-empty string/],
        [{ topic: 't' }, /has no value/],
        [{ topic: 't', value: 5 }, /value must be a Buffer, a string or null, got 5/],
        [{ topic: 't', value: 'v', key: {} }, /key must be a Buffer/],
        [{ topic: 't', value: 'v', headers: { h: 7 } }, /header 'h' value must be/],
        [{ topic: 't', value: 'v', headers: [{ value: 'x' }] }, /header 0 must be \{ key: string, value \}/],
        [{ topic: 't', value: 'v', partition: -1 }, /partition must be an int32 >= 0, got -1/],
        [{ topic: 't', value: 'v', timestamp: Number.NaN }, /timestamp must be milliseconds/],
      ];
      for (const [record, message] of cases) {
        await assert.rejects(
          p.send(record as never),
          (e: unknown) => e instanceof TypeError && message.test(e.message),
        );
      }
      await assert.rejects(
        p.sendBatch([
          { topic: 't', value: 'ok' },
          { topic: 't', value: 1 as never },
        ]),
        /record 1: record value must be/,
      );
    } finally {
      await p.close();
    }
  });
});

void describe('Producer against a broker', () => {
  let broker: TestBroker;
  let kafka: Kafka;
  let admin: KafkaAdmin;
  const producers: Producer[] = [];

  /** A producer closed after the suite. */
  function producer(options: ProducerOptions & { requestTimeoutMs?: number } = {}): Producer {
    const p = new Producer({ bootstrapServers: broker.bootstrap, ...options });
    producers.push(p);
    return p;
  }

  async function createTopic(
    topic: string,
    partitions = 3,
    configs: Record<string, string> = {},
  ): Promise<void> {
    const created = await admin.createTopics({
      topics: [
        {
          topic,
          numPartitions: partitions,
          configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })),
        },
      ],
      waitForLeaders: true,
    });
    assert.ok(created, `topic ${topic} created`);
  }

  before(async () => {
    broker = await startTestBroker({ 'num.partitions': '3', 'auto.create.topics.enable': 'false' });
    kafka = new Kafka({ brokers: [broker.bootstrap], clientId: 'producer-test', logLevel: logLevel.NOTHING });
    admin = kafka.admin();
    await admin.connect();
  });

  after(async () => {
    await Promise.allSettled(producers.map((p) => p.close({ timeoutMs: 1000 })));
    await admin.disconnect();
    await broker.stop();
  });

  void test('lingerMs gathers records sent apart in time into one batch; lingerMs 0 does not', async () => {
    await createTopic('linger');
    const send = async (p: Producer, partition: number): Promise<RecordMetadata[]> => {
      const pending: Promise<RecordMetadata>[] = [];
      for (let i = 0; i < 10; i++) {
        pending.push(p.send({ topic: 'linger', partition, value: `v${i}` }));
        await sleep(5);
      }
      return Promise.all(pending);
    };
    const lingering = await send(producer({ lingerMs: 1000 }), 0);
    const eager = await send(producer({ lingerMs: 0 }), 1);
    assert.deepEqual(
      lingering.map((m) => m.offset),
      [...Array(10).keys()].map(BigInt),
    );
    const gathered = await readBatches(broker.port, 'linger', 0);
    assert.equal(gathered.length, 1, 'one batch after lingering');
    assert.deepEqual(
      valuesOf(gathered),
      [...Array(10).keys()].map((i) => `v${i}`),
    );
    const apart = await readBatches(broker.port, 'linger', 1);
    assert.ok(apart.length >= 5, `records 5 ms apart without linger make many batches (${apart.length})`);
    assert.deepEqual(
      valuesOf(apart),
      [...Array(10).keys()].map((i) => `v${i}`),
    );
    assert.deepEqual(
      eager.map((m) => m.offset),
      [...Array(10).keys()].map(BigInt),
    );
  });

  void test('batchSize bounds every batch; a sendBatch larger than one batch is split in order', async () => {
    await createTopic('batch-size');
    const p = producer({ batchSize: 1000, lingerMs: 50 });
    const values = Array.from({ length: 100 }, (_, i) => `${String(i).padStart(3, '0')}-${'x'.repeat(96)}`);
    const metadata = await p.sendBatch(values.map((value) => ({ topic: 'batch-size', partition: 0, value })));
    assert.deepEqual(
      metadata.map((m) => m.offset),
      values.map((_, i) => BigInt(i)),
    );
    const batches = await readBatches(broker.port, 'batch-size', 0);
    assert.ok(
      batches.length >= 10 && batches.length <= 15,
      `about 10 batches of 1000 bytes (${batches.length})`,
    );
    for (const b of batches) {
      const bytes = 61 + b.records.reduce((n, r) => n + 2 + 4 + (r.value?.length ?? 0), 0);
      assert.ok(bytes <= 1000, `batch of ${b.records.length} records is about ${bytes} bytes`);
    }
    assert.deepEqual(valuesOf(batches), values);
  });

  void test('without idempotence, the batches of a burst go in up to maxInFlightRequestsPerConnection requests at once, in order', async () => {
    await createTopic('pipelined', 1);
    const p = producer({
      batchSize: 1000,
      lingerMs: 50,
      idempotent: false,
      maxInFlightRequestsPerConnection: 3,
    });
    const values = Array.from({ length: 100 }, (_, i) => `${String(i).padStart(3, '0')}-${'x'.repeat(96)}`);
    // One partition: each request carries one of its ~10 full batches, so only pipelining overlaps them.
    const metadata = await p.sendBatch(values.map((value) => ({ topic: 'pipelined', partition: 0, value })));
    assert.deepEqual(
      metadata.map((m) => m.offset),
      values.map((_, i) => BigInt(i)),
    );
    const cluster = (
      p as unknown as {
        cluster: {
          cachedTopic(t: string): { partitions: { leader: number }[] } | undefined;
          connectionTo(node: number): Promise<{ maxObservedInFlight: number }>;
        };
      }
    ).cluster;
    const conn = await cluster.connectionTo(cluster.cachedTopic('pipelined')!.partitions[0]!.leader);
    assert.equal(conn.maxObservedInFlight, 3, 'three Produce requests in flight at once');
    assert.deepEqual(valuesOf(await readBatches(broker.port, 'pipelined', 0)), values);
  });

  void test('a keyless sendBatch sticks to one partition (one batch), keyed records go to the Java partition', async () => {
    await createTopic('partitioning', 5);
    const p = producer();
    const keyless = await p.sendBatch(
      Array.from({ length: 50 }, (_, i) => ({ topic: 'partitioning', value: `n${i}` })),
    );
    const sticky = keyless[0]!.partition;
    assert.ok(
      keyless.every((m) => m.partition === sticky),
      'the keyless records of one small batch share the sticky partition',
    );
    const keys = Array.from({ length: 200 }, (_, i) => `user-${i * 7919}`);
    const keyed = await p.sendBatch(keys.map((key) => ({ topic: 'partitioning', key, value: key })));
    for (let i = 0; i < keys.length; i++) {
      assert.equal(keyed[i]!.partition, javaPartition(keys[i]!, 5), `key ${keys[i]}`);
    }
    for (let partition = 0; partition < 5; partition++) {
      const stored = (await readBatches(broker.port, 'partitioning', partition)).flatMap((b) => b.records);
      const storedKeyed = stored.filter((r) => r.key !== null).map((r) => r.key!.toString());
      assert.deepEqual(
        storedKeyed,
        keys.filter((k) => javaPartition(k, 5) === partition),
        `partition ${partition} holds exactly its keys, in send order`,
      );
    }
  });

  void test('an explicit partition wins; a partition the topic lacks fails after maxBlockMs', async () => {
    await createTopic('explicit');
    const p = producer({ maxBlockMs: 300 });
    const m = await p.send({ topic: 'explicit', partition: 2, key: 'k', value: 'v' });
    assert.equal(m.partition, 2);
    assert.deepEqual(valuesOf(await readBatches(broker.port, 'explicit', 2)), ['v']);
    const started = Date.now();
    await assert.rejects(
      p.send({ topic: 'explicit', partition: 7, value: 'v' }),
      isClientError(
        'UNKNOWN_TOPIC_OR_PARTITION',
        /partition 7 of topic explicit not present in metadata after 300 ms/,
      ),
    );
    assert.ok(Date.now() - started >= 250, 'waited about maxBlockMs');
  });

  void test('every codec writes batches stored with that codec', async () => {
    const codecs = {
      gzip: CompressionCodec.Gzip,
      snappy: CompressionCodec.Snappy,
      lz4: CompressionCodec.Lz4,
      zstd: CompressionCodec.Zstd,
      none: CompressionCodec.None,
    } as const;
    for (const [name, id] of Object.entries(codecs)) {
      const topic = `codec-${name}`;
      await createTopic(topic, 1);
      const p = producer({ compression: name as keyof typeof codecs });
      const values = Array.from({ length: 30 }, (_, i) => `${name} value ${i} `.repeat(20));
      await p.sendBatch(values.map((value, i) => ({ topic, key: `k${i}`, value })));
      const batches = await readBatches(broker.port, topic, 0);
      assert.ok(batches.length >= 1, 'stored');
      for (const b of batches) assert.equal(b.compression, id, `${name} batch stored as ${name}`);
      assert.deepEqual(valuesOf(batches), values);
    }
  });

  void test('acks 0 resolves without offsets; acks 1 and all return the offsets', async () => {
    await createTopic('acks', 1);
    const none = producer({ acks: 0 });
    const fireAndForget = await none.sendBatch([0, 1, 2].map((i) => ({ topic: 'acks', value: `a0-${i}` })));
    assert.deepEqual(
      fireAndForget.map((m) => m.offset),
      [-1n, -1n, -1n],
    );
    await none.flush();
    // The broker answers nothing for acks 0: wait (bounded) until the records are readable.
    for (let i = 0; i < 50 && valuesOf(await readBatches(broker.port, 'acks', 0)).length < 3; i++)
      await sleep(20);
    const one = await producer({ acks: 1 }).send({ topic: 'acks', value: 'a1' });
    const all = await producer({ acks: 'all' }).send({ topic: 'acks', value: 'aall' });
    const minusOne = await producer({ acks: -1 }).send({ topic: 'acks', value: 'a-1' });
    assert.deepEqual([one.offset, all.offset, minusOne.offset], [3n, 4n, 5n]);
    assert.deepEqual(valuesOf(await readBatches(broker.port, 'acks', 0)), [
      'a0-0',
      'a0-1',
      'a0-2',
      'a1',
      'aall',
      'a-1',
    ]);
  });

  void test('headers (object and list forms), keys, nulls and timestamps round-trip', async () => {
    await createTopic('headers', 1);
    const p = producer();
    const binary = Buffer.from([0, 1, 2, 255]);
    const [a, b, c] = await p.sendBatch([
      {
        topic: 'headers',
        key: binary,
        value: 'obj',
        headers: { trace: 'abc', bin: binary },
        timestamp: 1_600_000_000_000,
      },
      {
        topic: 'headers',
        key: 'list',
        value: null,
        headers: [
          { key: 'dup', value: '1' },
          { key: 'dup', value: '2' },
          { key: 'none', value: null },
          { key: 'ключ', value: 'значение' },
        ],
      },
      { topic: 'headers', value: '' },
    ]);
    assert.equal(a!.timestamp, 1_600_000_000_000, 'CreateTime given by the caller');
    assert.ok(Math.abs(b!.timestamp - Date.now()) < 10_000, 'CreateTime of the send');
    assert.equal(c!.offset, 2n);
    const [batch] = await readBatches(broker.port, 'headers', 0);
    assert.ok(batch !== undefined, 'one batch');
    const records = batch.records;
    assert.deepEqual(records[0]!.key, binary);
    assert.equal(batch.baseTimestamp + records[0]!.timestampDelta, 1_600_000_000_000);
    assert.deepEqual(
      records[0]!.headers.map((h) => [h.key, h.value]),
      [
        ['trace', Buffer.from('abc')],
        ['bin', binary],
      ],
    );
    assert.equal(records[1]!.value, null, 'a tombstone stays null');
    assert.deepEqual(
      records[1]!.headers.map((h) => [h.key, h.value?.toString() ?? null]),
      [
        ['dup', '1'],
        ['dup', '2'],
        ['none', null],
        ['ключ', 'значение'],
      ],
    );
    assert.equal(records[2]!.key, null);
    assert.deepEqual(records[2]!.value, Buffer.alloc(0));
  });

  void test('a LogAppendTime topic: metadata carries the broker time', async () => {
    await createTopic('append-time', 1, { 'message.timestamp.type': 'LogAppendTime' });
    const before = Date.now();
    const m = await producer().send({ topic: 'append-time', value: 'v', timestamp: 1000 });
    assert.ok(
      m.timestamp >= before - 1000 && m.timestamp <= Date.now() + 1000,
      `broker time, got ${m.timestamp}`,
    );
    const [batch] = await readBatches(broker.port, 'append-time', 0);
    assert.equal(batch?.timestampType, TimestampType.LogAppendTime);
  });

  void test('a full buffer makes sends wait for acknowledgements, then they complete', async () => {
    await createTopic('buffer', 1);
    const p = producer({ bufferMemory: 4096, lingerMs: 20 });
    const values = Array.from({ length: 200 }, (_, i) => `${i}:${'b'.repeat(100)}`);
    const metadata = await Promise.all(values.map((value) => p.send({ topic: 'buffer', value })));
    assert.deepEqual(
      metadata.map((m) => m.offset),
      values.map((_, i) => BigInt(i)),
      '25 KiB through a 4 KiB buffer, in order',
    );
    assert.deepEqual(valuesOf(await readBatches(broker.port, 'buffer', 0)), values);
  });

  void test('records too large are refused with their size', async () => {
    await createTopic('large', 1, { 'max.message.bytes': '2000' });
    const p = producer({ maxRequestSize: 10_000, lingerMs: 50 });
    await assert.rejects(
      p.send({ topic: 'large', value: Buffer.alloc(20_000) }),
      isClientError(
        'MESSAGE_TOO_LARGE',
        /record for large is 20\d{3} bytes when encoded, more than maxRequestSize \(10000\)/,
      ),
    );
    await assert.rejects(
      p.sendBatch([
        { topic: 'large', value: 'ok' },
        { topic: 'large', value: Buffer.alloc(20_000) },
      ]),
      isClientError('MESSAGE_TOO_LARGE'),
    );
    // Within maxRequestSize but above the topic's max.message.bytes: the broker refuses it.
    await assert.rejects(
      p.send({ topic: 'large', value: Buffer.alloc(5000) }),
      isClientError('MESSAGE_TOO_LARGE', /produce to large-0/),
    );
    // A batch the broker finds too large is split until its halves fit.
    const values = Array.from({ length: 40 }, (_, i) => `${i}-${'s'.repeat(100)}`);
    const metadata = await p.sendBatch(values.map((value) => ({ topic: 'large', value })));
    assert.deepEqual(
      metadata.map((m) => m.offset),
      values.map((_, i) => BigInt(i)),
    );
    const batches = await readBatches(broker.port, 'large', 0);
    assert.ok(batches.length >= 3, `split into batches under 2000 bytes (${batches.length})`);
    assert.deepEqual(valuesOf(batches), values);
  });

  void test('an unknown topic with auto-creation off fails after maxBlockMs, naming the topic', async () => {
    const p = producer({ maxBlockMs: 400 });
    await assert.rejects(
      p.send({ topic: 'no-such-topic', value: 'v' }),
      isClientError('UNKNOWN_TOPIC_OR_PARTITION', /topic no-such-topic not present in metadata after 400 ms/),
    );
  });

  void test('close sends what lingers, then refuses new sends', async () => {
    await createTopic('closing', 1);
    const p = producer({ lingerMs: 60_000 });
    const pending = [0, 1, 2, 3].map((i) => p.send({ topic: 'closing', value: `c${i}` }));
    await sleep(50);
    await p.close();
    const metadata = await Promise.all(pending);
    assert.deepEqual(
      metadata.map((m) => m.offset),
      [0n, 1n, 2n, 3n],
    );
    await assert.rejects(p.send({ topic: 'closing', value: 'late' }), isClientError('CLIENT_CLOSED'));
    await assert.rejects(p.sendBatch([{ topic: 'closing', value: 'late' }]), isClientError('CLIENT_CLOSED'));
  });

  void test('flush sends lingering records without waiting for lingerMs', async () => {
    await createTopic('flushing', 1);
    const p = producer({ lingerMs: 60_000 });
    const pending = p.sendBatch([0, 1, 2].map((i) => ({ topic: 'flushing', value: `f${i}` })));
    const started = Date.now();
    await p.flush();
    assert.ok(Date.now() - started < 5000, 'flush did not wait for linger');
    assert.deepEqual(
      (await pending).map((m) => m.offset),
      [0n, 1n, 2n],
    );
  });
});

void describe('Producer when the broker goes away', () => {
  void test('auto-creates a topic, then with the broker stopped: sends wait maxBlockMs for memory, queued records expire after deliveryTimeoutMs, retries 0 fails at once', async () => {
    await withBroker({ 'num.partitions': '1' }, async (b) => {
      const options = {
        bootstrapServers: b.bootstrap,
        requestTimeoutMs: 500,
        connectTimeoutMs: 200,
        lingerMs: 0,
        retryBackoffMs: 50,
        retryBackoffMaxMs: 100,
      };
      const p = new Producer({ ...options, bufferMemory: 1500, maxBlockMs: 300, deliveryTimeoutMs: 1500 });
      const noRetries = new Producer({ ...options, retries: 0 });
      try {
        assert.equal(
          (await p.send({ topic: 'auto', value: 'first' })).offset,
          0n,
          'auto-created and written',
        );
        assert.equal((await noRetries.send({ topic: 'auto', value: 'second' })).offset, 1n);
        await b.stop();
        // Four records of about 330 bytes fit in 1500 bytes; a fifth must wait.
        const queued = [0, 1, 2, 3].map((i) => p.send({ topic: 'auto', value: `${i}${'q'.repeat(300)}` }));
        const started = Date.now();
        await assert.rejects(
          p.send({ topic: 'auto', value: 'w'.repeat(300) }),
          isClientError(
            'DEADLINE_EXCEEDED',
            /buffer memory in time \(maxBlockMs\).*of 1500 bytes \(bufferMemory\)/,
          ),
        );
        const waitedMs = Date.now() - started;
        assert.ok(waitedMs >= 250 && waitedMs < 1500, `waited about maxBlockMs (${waitedMs} ms)`);
        for (const q of queued) {
          await assert.rejects(q, isClientError('DEADLINE_EXCEEDED', /auto-0.*deliveryTimeoutMs 1500/));
        }
        await assert.rejects(noRetries.send({ topic: 'auto', value: 'lost' }), (e: unknown) => {
          assert.ok(e instanceof KafkaClientError, 'a KafkaClientError');
          assert.ok(e.retriable, `a retriable error that was not retried: ${e.errorName}`);
          assert.match(e.message, /auto-0.*retries 0/);
          return true;
        });
      } finally {
        await Promise.all([p.close({ timeoutMs: 500 }), noRetries.close({ timeoutMs: 500 })]);
      }
    });
  });

  void test('records sent while the broker stops and restarts are retried and stored in send order', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'samsa-producer-restart-'));
    let broker: RunningBroker | null = await startBroker({
      port: 0,
      dataDir,
      config: { 'num.partitions': '1' },
    });
    const port = broker.port;
    const retries: string[] = [];
    const p = new Producer({
      bootstrapServers: broker.bootstrap,
      requestTimeoutMs: 2000,
      connectTimeoutMs: 500,
      retryBackoffMs: 20,
      retryBackoffMaxMs: 100,
      lingerMs: 1,
      log: (m) => {
        if (m.includes('retrying')) retries.push(m);
      },
    });
    const COUNT = 300;
    try {
      await p.send({ topic: 'restart', key: 'k', value: 'r0' });
      const pending: Promise<RecordMetadata>[] = [];
      for (let i = 1; i <= COUNT; i++) {
        pending.push(p.send({ topic: 'restart', key: 'k', value: `r${i}` }));
        // Records 1-30 may be in flight as the broker stops; 31-150 are sent while it is down
        // (their requests fail and are retried); the rest after it is back.
        if (i === 30) {
          await broker?.stop();
          broker = null;
        }
        if (i === 150) {
          await sleep(200);
          broker = await startBroker({ port, dataDir, config: { 'num.partitions': '1' } });
        }
        if (i % 10 === 0) await sleep(2);
      }
      const metadata = await Promise.all(pending);
      assert.ok(retries.length > 0, 'some produce requests failed and were retried');
      const offsets = metadata.map((m) => m.offset);
      for (let i = 1; i < offsets.length; i++) {
        assert.ok(
          offsets[i]! > offsets[i - 1]!,
          `acknowledged offsets follow send order (${offsets[i - 1]}, ${offsets[i]})`,
        );
      }
      // Without idempotence, a batch whose answer was lost can be stored twice (as with Kafka),
      // but only right after itself: one batch in flight per partition lets nothing in between.
      const batches = (await readBatches(port, 'restart', 0)).map((b) =>
        b.records.map((r) => r.value!.toString()),
      );
      const stored: string[] = [];
      const seen = new Set<string>();
      let previous: string[] = [];
      for (const values of batches) {
        if (values.every((v) => seen.has(v))) {
          assert.deepEqual(values, previous, 'a batch stored twice is stored right after itself');
          continue;
        }
        assert.ok(
          values.every((v) => !seen.has(v)),
          'no batch mixes new and already stored records',
        );
        for (const v of values) seen.add(v);
        stored.push(...values);
        previous = values;
      }
      assert.deepEqual(
        stored,
        [...Array(COUNT + 1).keys()].map((i) => `r${i}`),
        'every record, in send order',
      );
    } finally {
      await p.close({ timeoutMs: 1000 });
      await broker?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
