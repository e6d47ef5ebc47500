/**
 * The idempotent producer (on by default): Kafka 3's option rules; against a real broker, the
 * producer id and the sequences stored in the batch headers, read back with raw Fetch requests;
 * 5,000 records through a proxy that cuts connections after Produce requests reached the broker,
 * stored exactly once and in order; a producer the broker forgot (UNKNOWN_PRODUCER_ID) recovering
 * with a bumped epoch (KIP-360). Against a scripted broker, what a real one does not do on
 * demand: five batches of a partition in flight, a retriable failure of the first with the others
 * refused as out of order (retried in sequence order, one at a time), a sequence gap at the head
 * (epoch bumped, sequences from 0) and DUPLICATE_SEQUENCE_NUMBER (a success).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { startBroker, type RunningBroker } from '../../src/broker/embed.js';
import { ProducerBatch, recordPayloadBytes, wireSequence } from '../../src/client/accumulator.js';
import { Admin } from '../../src/client/admin.js';
import { ConfigError } from '../../src/client/errors.js';
import { Producer, type ProducerOptions, type RecordMetadata } from '../../src/client/producer.js';
import { CompressionCodec } from '../../src/protocol/compression/index.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { ApiKey, apis } from '../../src/protocol/generated/api-keys.js';
import { FetchRequest } from '../../src/protocol/generated/message/FetchRequest.js';
import { FetchResponse } from '../../src/protocol/generated/message/FetchResponse.js';
import type { ProduceRequest } from '../../src/protocol/generated/message/ProduceRequest.js';
import { decodeRecordBatch, type DecodedRecordBatch } from '../../src/protocol/records/batch.js';
import { BatchField, BatchSplitter } from '../../src/protocol/records/batch-view.js';
import { DroppingProxy } from '../broker/interop/dropping-proxy.js';
import { freePort } from '../broker/interop/process.js';
import { RawClient } from '../broker/raw-client.js';
import { apiVersionsBody, respond, ScriptedServer, withBroker, type Received } from './support.js';

const FETCH_MAX_BYTES = 16 * 1024 * 1024;

/** Every batch stored in a partition, decoded, read with raw Fetch requests from offset 0. */
async function readBatches(port: number, topic: string, partition: number): Promise<DecodedRecordBatch[]> {
  const client = await RawClient.open(port);
  const out: DecodedRecordBatch[] = [];
  try {
    let offset = 0n;
    for (let round = 0; round < 1000; round++) {
      const res = await client.send(FetchRequest, FetchResponse, 11, {
        ...FetchRequest.create(),
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
      const p = res.responses[0]?.partitions[0];
      assert.ok(p !== undefined, 'the fetch answers the partition');
      assert.equal(p.errorCode, ErrorCode.NONE, `fetch ${topic}-${partition} at ${offset}`);
      const it = new BatchSplitter(p.records ?? Buffer.alloc(0));
      while (it.next()) {
        const batch = decodeRecordBatch(Buffer.from(it.batch()), { maxDecompressedBytes: FETCH_MAX_BYTES });
        assert.ok(
          !(batch instanceof Error),
          `stored batch decodes: ${batch instanceof Error ? batch.message : ''}`,
        );
        out.push(batch);
        offset = batch.baseOffset + BigInt(batch.lastOffsetDelta) + 1n;
      }
      if (offset >= p.highWatermark) return out;
    }
    assert.fail(`${topic}-${partition} not read to its end in 1000 fetches`);
  } finally {
    client.close();
  }
}

async function createTopic(bootstrap: string, name: string, partitions: number): Promise<void> {
  const admin = new Admin({ bootstrapServers: bootstrap });
  try {
    await admin.createTopics([{ name, numPartitions: partitions }]);
  } finally {
    await admin.close();
  }
}

/**
 * Judges what is stored against what was sent (`v-<i>` for i < count, each acknowledged with
 * `acks[i]`): every record exactly once, each partition in send order at the offsets the
 * producer was told, and, batch after batch, sequences continuous from 0 under one producer id.
 */
async function judge(
  port: number,
  topic: string,
  partitions: number,
  count: number,
  acks: readonly RecordMetadata[],
): Promise<{ batches: DecodedRecordBatch[] }> {
  const seen = new Set<string>();
  const all: DecodedRecordBatch[] = [];
  for (let partition = 0; partition < partitions; partition++) {
    const batches = await readBatches(port, topic, partition);
    all.push(...batches);
    let last = -1;
    let nextSequence = new Map<string, number>();
    for (const b of batches) {
      assert.ok(b.producerId >= 0n, `${topic}-${partition}: batch at ${b.baseOffset} carries a producer id`);
      const identity = `${b.producerId}/${b.producerEpoch}`;
      const expected = nextSequence.get(identity) ?? 0;
      assert.equal(
        b.baseSequence,
        expected,
        `${topic}-${partition}: batch at ${b.baseOffset} continues the sequences of ${identity}`,
      );
      nextSequence = new Map([[identity, expected + b.records.length]]);
      b.records.forEach((r, k) => {
        const value = r.value!.toString();
        assert.ok(!seen.has(value), `${value} is stored once`);
        seen.add(value);
        const i = Number(value.slice(2));
        assert.ok(i > last, `${topic}-${partition}: ${value} after v-${last} (send order)`);
        last = i;
        const ack = acks[i]!;
        assert.deepEqual(
          [ack.partition, ack.offset],
          [partition, b.baseOffset + BigInt(k)],
          `${value} is where the producer was told`,
        );
      });
    }
  }
  assert.equal(seen.size, count, 'every record sent is stored');
  return { batches: all };
}

void describe('idempotence options (Kafka 3 rules)', () => {
  const base = { bootstrapServers: '127.0.0.1:9' };
  const cases: [ProducerOptions, boolean][] = [
    [{}, true],
    [{ acks: 'all' }, true],
    [{ acks: 1 }, false],
    [{ acks: 0 }, false],
    [{ retries: 0 }, false],
    [{ maxInFlightRequestsPerConnection: 6 }, false],
    [{ idempotent: false }, false],
    [{ idempotent: true, maxInFlightRequestsPerConnection: 5 }, true],
    [{ transactionalId: 'tx' }, true],
  ];
  for (const [options, idempotent] of cases) {
    void test(`${JSON.stringify(options)} → idempotent ${idempotent}`, async () => {
      const p = new Producer({ ...base, ...options });
      try {
        assert.equal(p.idempotent, idempotent);
      } finally {
        await p.close();
      }
    });
  }
  const bad: [ProducerOptions, RegExp][] = [
    [{ idempotent: true, acks: 1 }, /idempotent: true needs idempotence: acks must be 'all' \(got 1\)/],
    [{ idempotent: true, retries: 0 }, /retries must be above 0/],
    [
      { idempotent: true, maxInFlightRequestsPerConnection: 6 },
      /maxInFlightRequestsPerConnection must be at most 5/,
    ],
    [
      { transactionalId: 'tx', acks: 0 },
      /transactional producer \(transactionalId\) needs idempotence: acks/,
    ],
    [{ transactionalId: 'tx', idempotent: false }, /transactionalId tx needs idempotence/],
    [{ transactionalId: '' }, /transactionalId must be a non-empty string/],
    [{ transactionTimeoutMs: 0 }, /transactionTimeoutMs.*got 0/],
    [{ idempotent: 'yes' as unknown as boolean }, /idempotent must be a boolean, got yes/],
  ];
  for (const [options, message] of bad) {
    void test(`refuses ${JSON.stringify(options)}`, () => {
      assert.throws(
        () => new Producer({ ...base, ...options }),
        (e: unknown) => e instanceof ConfigError && message.test(e.message),
      );
    });
  }
});

void describe('sequences in batch headers', () => {
  function batchWith(count: number): ProducerBatch {
    const b = new ProducerBatch('t', 0, 1000);
    for (let i = 0; i < count; i++) {
      const value = Buffer.from(`v${i}`);
      const record = {
        offsetDelta: 0,
        timestampDelta: 0,
        key: null,
        value,
        headers: [],
        timestamp: 1000 + i,
      };
      b.append(
        record,
        b.bytesFor(recordPayloadBytes(null, value, []), 1000 + i),
        0,
        { resolve() {}, reject() {} },
        i,
      );
    }
    return b;
  }
  const decode = (buf: Buffer): DecodedRecordBatch => {
    const d = decodeRecordBatch(buf, { maxDecompressedBytes: 1 << 20 });
    assert.ok(
      !(d instanceof Error),
      `the batch decodes (CRC included): ${d instanceof Error ? d.message : ''}`,
    );
    return d;
  };

  void test('sequences wrap to 0 after INT32_MAX on the wire, as in Kafka', () => {
    assert.equal(wireSequence(2 ** 31 - 1), 2 ** 31 - 1);
    assert.equal(wireSequence(2 ** 31), 0);
    assert.equal(wireSequence(2 ** 31 + 5), 5);
    const b = batchWith(3);
    b.setProducerState(42n, 7, 2 ** 31 - 2, false);
    const d = decode(b.encode(CompressionCodec.None));
    assert.deepEqual([d.producerId, d.producerEpoch, d.baseSequence], [42n, 7, 2 ** 31 - 2]);
    assert.equal(b.nextSequenceOrdinal, 2 ** 31 + 1, 'positions go on past the wrap');
  });

  void test('a compressed batch sized before its sequence is stamped in place, with a valid CRC', () => {
    const b = batchWith(20);
    const before = b.encode(CompressionCodec.Gzip);
    b.setProducerState(9n, 1, 2 ** 31 + 3, true);
    const after = b.encode(CompressionCodec.Gzip);
    assert.equal(after, before, 'not encoded (compressed) again');
    const d = decode(after);
    assert.deepEqual([d.producerId, d.producerEpoch, d.baseSequence, d.isTransactional], [9n, 1, 3, true]);
    assert.deepEqual(
      d.records.map((r) => r.value!.toString()),
      Array.from({ length: 20 }, (_, i) => `v${i}`),
    );
  });
});

void describe('idempotent producer against a broker', { timeout: 60_000 }, () => {
  void test('gets a producer id on first use and writes batches with continuous sequences, pipelined, in order', async () => {
    await withBroker({}, async (b) => {
      const topic = 'idem-seq';
      await createTopic(b.bootstrap, topic, 3);
      const p = new Producer({ bootstrapServers: b.bootstrap, batchSize: 512, lingerMs: 2 });
      const COUNT = 3000;
      try {
        assert.equal(p.producerIdentity.producerId, -1n, 'no producer id before the first send');
        const acks = await p.sendBatch(
          Array.from({ length: COUNT }, (_, i) => ({ topic, key: `k-${i % 17}`, value: `v-${i}` })),
        );
        const { producerId, producerEpoch } = p.producerIdentity;
        assert.ok(producerId >= 0n, `a producer id (${producerId})`);
        assert.equal(producerEpoch, 0);
        const { batches } = await judge(b.port, topic, 3, COUNT, acks);
        assert.ok(batches.length > 30, `many batches (${batches.length}), so sequences advanced a lot`);
        for (const batch of batches) {
          assert.deepEqual([batch.producerId, batch.producerEpoch], [producerId, 0], 'one identity');
          assert.equal(batch.isTransactional, false, 'not transactional');
        }
      } finally {
        await p.close();
      }
    });
  });

  void test('without idempotence (acks 1) batches carry no producer id', async () => {
    await withBroker({}, async (b) => {
      await createTopic(b.bootstrap, 'plain', 1);
      const p = new Producer({ bootstrapServers: b.bootstrap, acks: 1 });
      try {
        await p.sendBatch([{ topic: 'plain', value: 'a' }]);
        const [batch] = await readBatches(b.port, 'plain', 0);
        assert.deepEqual([batch?.producerId, batch?.baseSequence], [-1n, -1]);
      } finally {
        await p.close();
      }
    });
  });

  void test('a producer the broker forgot (UNKNOWN_PRODUCER_ID) bumps its epoch and restarts its sequences, losing nothing', async () => {
    const config = { 'producer.id.expiration.ms': '200', 'producer.id.expiration.check.interval.ms': '50' };
    await withBroker(config, async (b) => {
      const topic = 'idem-expired';
      await createTopic(b.bootstrap, topic, 1);
      const lines: string[] = [];
      const p = new Producer({ bootstrapServers: b.bootstrap, lingerMs: 0, log: (m) => lines.push(m) });
      try {
        const first = await p.sendBatch([0, 1, 2].map((i) => ({ topic, value: `v-${i}` })));
        // Idle past producer.id.expiration.ms: the broker drops the producer's state.
        await new Promise((r) => setTimeout(r, 600));
        const second = await p.sendBatch([3, 4, 5].map((i) => ({ topic, value: `v-${i}` })));
        assert.ok(
          lines.some((l) => l.includes('UNKNOWN_PRODUCER_ID')),
          `the broker had forgotten the producer: ${lines.join(' | ')}`,
        );
        assert.equal(p.producerIdentity.producerEpoch, 1, 'the epoch was bumped once');
        const { batches } = await judge(b.port, topic, 1, 6, [...first, ...second]);
        const last = batches.at(-1)!;
        assert.deepEqual(
          [last.producerEpoch, last.baseSequence],
          [1, 0],
          'the new epoch starts at sequence 0',
        );
      } finally {
        await p.close();
      }
    });
  });

  void test('5,000 records through a proxy that cuts connections after Produce requests reached the broker: each stored exactly once, in order', async () => {
    const proxy = await DroppingProxy.listen({ every: 4, maxDrops: 12, after: 2 });
    const dataDir = mkdtempSync(join(tmpdir(), 'samsa-idem-client-'));
    let broker: RunningBroker | null = null;
    try {
      const port = await freePort();
      broker = await startBroker({
        port,
        dataDir,
        config: { 'advertised.listeners': `PLAINTEXT://127.0.0.1:${proxy.port}` },
      });
      assert.equal(broker.bootstrap, `127.0.0.1:${proxy.port}`, 'the broker advertises the proxy');
      proxy.setTarget(port);
      const topic = 'idem-proxy';
      await createTopic(broker.bootstrap, topic, 3);
      const COUNT = 5000;
      const p = new Producer({
        bootstrapServers: broker.bootstrap,
        batchSize: 1024,
        lingerMs: 1,
        retryBackoffMs: 10,
        retryBackoffMaxMs: 50,
      });
      let acks: RecordMetadata[];
      try {
        const pending: Promise<RecordMetadata>[] = [];
        for (let i = 0; i < COUNT; i++) {
          pending.push(p.send({ topic, key: `k-${i % 37}`, value: `v-${i}` }));
          if (i % 250 === 249) await new Promise((r) => setImmediate(r));
        }
        acks = await Promise.all(pending);
      } finally {
        await p.close();
      }
      await judge(port, topic, 3, COUNT, acks);
      const repeats = proxy.repeats();
      console.log(
        `through the proxy: ${proxy.stats.drops} connections cut, ${proxy.stats.produceRequests} Produce requests, ` +
          `${repeats.batches} batches (${repeats.records} records) reached the broker again`,
      );
      assert.ok(proxy.stats.drops >= 5, `the proxy cut ≥ 5 connections at Produce (${proxy.stats.drops})`);
      assert.ok(
        repeats.batches >= 1,
        `batches whose answer was lost reached the broker again (${repeats.batches})`,
      );
    } finally {
      await broker?.stop();
      await proxy.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// A scripted broker: one node (0, itself) leading partition 0 of topic `t`.

interface SeenBatch {
  epoch: number;
  sequence: number;
  records: number;
  received: Received;
}

/** Answers ApiVersions, Metadata and InitProducerId itself; Produce batches go to `onProduce`. */
async function scriptedBroker(onProduce: (batch: SeenBatch) => void): Promise<ScriptedServer> {
  const server = await ScriptedServer.start();
  server.onRequest = (r) => {
    switch (r.header.requestApiKey) {
      case ApiKey.ApiVersions:
        r.socket.write(
          respond(
            r,
            apis.ApiVersions.response,
            apiVersionsBody(ErrorCode.NONE, [
              [ApiKey.ApiVersions, 0, 3],
              [ApiKey.Metadata, 0, 12],
              [ApiKey.Produce, 3, 9],
              [ApiKey.InitProducerId, 0, 4],
            ]),
          ),
        );
        return;
      case ApiKey.Metadata:
        r.socket.write(
          respond(r, apis.Metadata.response, {
            ...apis.Metadata.response.create(),
            brokers: [{ nodeId: 0, host: '127.0.0.1', port: server.port, rack: null }],
            controllerId: 0,
            topics: [
              {
                ...apis.Metadata.response.structs.MetadataResponseTopic(),
                name: 't',
                partitions: [
                  {
                    ...apis.Metadata.response.structs.MetadataResponsePartition(),
                    partitionIndex: 0,
                    leaderId: 0,
                    replicaNodes: [0],
                    isrNodes: [0],
                  },
                ],
              },
            ],
          }),
        );
        return;
      case ApiKey.InitProducerId:
        r.socket.write(
          respond(r, apis.InitProducerId.response, {
            ...apis.InitProducerId.response.create(),
            producerId: 1000n,
            producerEpoch: 0,
          }),
        );
        return;
      case ApiKey.Produce: {
        const req = r.body as ProduceRequest;
        const records = req.topicData[0]!.partitionData[0]!.records!;
        onProduce({
          epoch: records.readInt16BE(BatchField.producerEpoch),
          sequence: records.readInt32BE(BatchField.baseSequence),
          records: records.readInt32BE(BatchField.recordCount),
          received: r,
        });
        return;
      }
    }
  };
  return server;
}

function answerProduce(b: SeenBatch, errorCode: number, baseOffset: bigint): void {
  const r = b.received;
  r.socket.write(
    respond(r, apis.Produce.response, {
      ...apis.Produce.response.create(),
      responses: [
        {
          name: 't',
          partitionResponses: [
            {
              ...apis.Produce.response.structs.PartitionProduceResponse(),
              index: 0,
              errorCode,
              baseOffset,
            },
          ],
        },
      ],
    }),
  );
}

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits (bounded) until `cond` holds. */
async function until(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    assert.ok(Date.now() - start < timeoutMs, `timed out waiting for ${what}`);
    await tick(5);
  }
}

void describe('idempotent producer against a scripted broker', { timeout: 30_000 }, () => {
  void test('five batches in flight; the first fails retriably, the rest out of order: retried in sequence order, one at a time', async () => {
    const seen: SeenBatch[] = [];
    const server = await scriptedBroker((b) => seen.push(b));
    const p = new Producer({
      bootstrapServers: `127.0.0.1:${server.port}`,
      batchSize: 0, // one record per batch
      lingerMs: 0,
      retryBackoffMs: 5,
      retryBackoffMaxMs: 10,
    });
    try {
      const COUNT = 8;
      const sends = Array.from({ length: COUNT }, (_, i) =>
        p.send({ topic: 't', partition: 0, value: `v${i}` }),
      );
      await until('five Produce requests', () => seen.length >= 5);
      await tick(100);
      assert.equal(seen.length, 5, 'no more than five batches of a partition in flight');
      assert.deepEqual(
        seen.map((s) => s.sequence),
        [0, 1, 2, 3, 4],
      );
      answerProduce(seen[0]!, ErrorCode.NOT_LEADER_OR_FOLLOWER, -1n);
      for (const s of seen.slice(1)) answerProduce(s, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, -1n);
      // From now on the broker writes each batch it is sent, at the next offset.
      const first = seen.length;
      let nextOffset = 0n;
      const inFlightAt: number[] = [];
      let unanswered = 0;
      const answered: SeenBatch[] = [];
      const replay = (s: SeenBatch): void => {
        unanswered++;
        inFlightAt.push(unanswered);
        // Answered a little later, so that a wrongly sent next batch would be seen in flight.
        setTimeout(() => {
          unanswered--;
          answered.push(s);
          answerProduce(s, ErrorCode.NONE, nextOffset);
          nextOffset += BigInt(s.records);
        }, 20);
      };
      server.onRequest = ((orig) => (r: Received) => {
        orig(r);
        if (r.header.requestApiKey === ApiKey.Produce) replay(seen.at(-1)!);
      })(server.onRequest);
      const results = await Promise.all(sends);
      const retried = seen.slice(first);
      assert.deepEqual(
        retried.slice(0, 5).map((s) => [s.sequence, s.epoch]),
        [0, 1, 2, 3, 4].map((i) => [i, 0]),
        'the five go again in sequence order, same epoch (no bump for a gap behind a retry)',
      );
      assert.deepEqual(
        inFlightAt.slice(0, 5),
        [1, 1, 1, 1, 1],
        'each retried batch waits for the one before it to be answered',
      );
      assert.deepEqual(
        retried.map((s) => s.sequence),
        [0, 1, 2, 3, 4, 5, 6, 7],
        'then the batches never sent, continuing the sequences',
      );
      assert.deepEqual(
        results.map((m) => m.offset),
        [0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n],
        'every record acknowledged at its place',
      );
    } finally {
      await p.close({ timeoutMs: 1000 });
      await server.stop();
    }
  });

  void test('a sequence gap at the head bumps the epoch and restarts at 0; DUPLICATE_SEQUENCE_NUMBER is a success', async () => {
    const seen: SeenBatch[] = [];
    const server = await scriptedBroker((b) => {
      seen.push(b);
      if (seen.length === 1) answerProduce(b, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, -1n);
      else if (seen.length === 2) answerProduce(b, ErrorCode.NONE, 10n);
      else answerProduce(b, ErrorCode.DUPLICATE_SEQUENCE_NUMBER, -1n);
    });
    const lines: string[] = [];
    const p = new Producer({
      bootstrapServers: `127.0.0.1:${server.port}`,
      lingerMs: 0,
      retryBackoffMs: 5,
      log: (m) => lines.push(m),
    });
    try {
      const a = await p.send({ topic: 't', partition: 0, value: 'a' });
      assert.deepEqual(
        seen.slice(0, 2).map((s) => [s.epoch, s.sequence]),
        [
          [0, 0],
          [1, 0],
        ],
        'sent again with the epoch bumped, from sequence 0',
      );
      assert.equal(a.offset, 10n);
      assert.deepEqual(p.producerIdentity, { producerId: 1000n, producerEpoch: 1 });
      assert.ok(
        lines.some((l) => l.includes('epoch bumped to 1')),
        `the bump is logged: ${lines.join(' | ')}`,
      );
      const dup = await p.send({ topic: 't', partition: 0, value: 'b' });
      assert.equal(dup.offset, -1n, 'a duplicate is a success whose offset the broker no longer knows');
      assert.deepEqual([seen[2]!.epoch, seen[2]!.sequence], [1, 1], 'sequences go on under the new epoch');
    } finally {
      await p.close({ timeoutMs: 1000 });
      await server.stop();
    }
  });
});
