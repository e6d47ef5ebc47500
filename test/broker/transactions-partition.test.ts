/**
 * The partition side of transactions over real sockets: transactional produce, markers written
 * in-process (writeTxnMarkers, as the transaction coordinator does) and through WriteTxnMarkers,
 * read_committed fetches stopping at the last stable offset and listing aborted transactions,
 * ListOffsets at READ_COMMITTED, DescribeProducers, the `__consumer_offsets` marker hook, and
 * kafkajs consumers as the judge of what read_committed and read_uncommitted readers see.
 * Transactional batches are built by hand (Samsa's encoder) with producer ids chosen here: the
 * coordinator's own flow is tested with it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { Kafka, logLevel } from 'kafkajs';

import { startBroker, type RunningBroker } from '../../src/broker/embed.js';
import { writeTxnMarkers } from '../../src/broker/txn-markers.js';
import { CompressionCodec } from '../../src/protocol/compression/index.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { CreateTopicsRequest } from '../../src/protocol/generated/message/CreateTopicsRequest.js';
import { CreateTopicsResponse } from '../../src/protocol/generated/message/CreateTopicsResponse.js';
import { DescribeProducersRequest } from '../../src/protocol/generated/message/DescribeProducersRequest.js';
import { DescribeProducersResponse } from '../../src/protocol/generated/message/DescribeProducersResponse.js';
import { FetchRequest } from '../../src/protocol/generated/message/FetchRequest.js';
import { FetchResponse } from '../../src/protocol/generated/message/FetchResponse.js';
import { FindCoordinatorRequest } from '../../src/protocol/generated/message/FindCoordinatorRequest.js';
import { FindCoordinatorResponse } from '../../src/protocol/generated/message/FindCoordinatorResponse.js';
import { ListOffsetsRequest } from '../../src/protocol/generated/message/ListOffsetsRequest.js';
import { ListOffsetsResponse } from '../../src/protocol/generated/message/ListOffsetsResponse.js';
import { ProduceRequest } from '../../src/protocol/generated/message/ProduceRequest.js';
import { ProduceResponse } from '../../src/protocol/generated/message/ProduceResponse.js';
import { WriteTxnMarkersRequest } from '../../src/protocol/generated/message/WriteTxnMarkersRequest.js';
import { WriteTxnMarkersResponse } from '../../src/protocol/generated/message/WriteTxnMarkersResponse.js';
import {
  buildEndTxnMarkerBatch,
  decodeRecordBatch,
  encodeRecordBatch,
  newRecordBatch,
} from '../../src/protocol/records/batch.js';
import { BatchSplitter } from '../../src/protocol/records/batch-view.js';
import { RawClient } from './raw-client.js';

const READ_UNCOMMITTED = 0;
const READ_COMMITTED = 1;
const LATEST = -1n;
const OFFSETS_TOPIC = '__consumer_offsets';

// ------------------------------------------------------------------ batches and requests

/** A batch of `values`: transactional for a producer id, plain without. */
function batch(values: string[], producer?: { pid: bigint; seq: number; epoch?: number }): Buffer {
  return encodeRecordBatch(
    newRecordBatch(
      values.map((v) => ({ key: null, value: Buffer.from(v), timestamp: Date.now(), headers: [] })),
      producer === undefined
        ? {}
        : {
            producerId: producer.pid,
            producerEpoch: producer.epoch ?? 0,
            baseSequence: producer.seq,
            isTransactional: true,
          },
    ),
    { compression: CompressionCodec.None },
  );
}

async function produce(
  raw: RawClient,
  topic: string,
  records: Buffer,
  transactionalId: string | null = 'tx',
): Promise<ProduceResponse.PartitionProduceResponse> {
  const res = await raw.send(ProduceRequest, ProduceResponse, 9, {
    ...ProduceRequest.create(),
    transactionalId,
    acks: -1,
    timeoutMs: 10_000,
    topicData: [
      {
        name: topic,
        partitionData: [{ index: 0, records, unknownTaggedFields: undefined }],
        unknownTaggedFields: undefined,
      },
    ],
  });
  const p = res.responses[0]?.partitionResponses[0];
  assert.ok(p !== undefined, 'Produce answered the partition');
  return p;
}

async function produceOk(raw: RawClient, topic: string, records: Buffer, what: string): Promise<number> {
  const p = await produce(raw, topic, records);
  assert.equal(p.errorCode, ErrorCode.NONE, `${what}: ${p.errorMessage ?? ''}`);
  return Number(p.baseOffset);
}

interface Fetched {
  errorCode: number;
  highWatermark: number;
  lastStableOffset: number;
  aborted: string[] | null;
  /** Record offsets and values, control records left out. */
  records: { offset: number; value: string }[];
  /** Offset after the last batch returned (fetchOffset when none). */
  next: number;
}

async function fetch(
  raw: RawClient,
  topic: string,
  fetchOffset: number,
  isolationLevel: number,
  wait: { maxWaitMs: number; minBytes: number } = { maxWaitMs: 0, minBytes: 0 },
): Promise<Fetched> {
  const res = await raw.send(FetchRequest, FetchResponse, 11, {
    ...FetchRequest.create(),
    ...wait,
    isolationLevel,
    topics: [
      {
        ...FetchRequest.structs.FetchTopic(),
        topic,
        partitions: [
          {
            ...FetchRequest.structs.FetchPartition(),
            partition: 0,
            fetchOffset: BigInt(fetchOffset),
            partitionMaxBytes: 1 << 20,
          },
        ],
      },
    ],
  });
  const p = res.responses[0]?.partitions[0];
  assert.ok(p !== undefined, 'Fetch answered the partition');
  const records: { offset: number; value: string }[] = [];
  let next = fetchOffset;
  const it = new BatchSplitter(p.records ?? Buffer.alloc(0));
  while (it.next()) {
    const b = decodeRecordBatch(Buffer.from(it.batch()), { maxDecompressedBytes: 1 << 24 });
    if (b instanceof Error) throw b;
    if (!b.isControl) {
      for (const r of b.records)
        records.push({ offset: Number(b.baseOffset) + r.offsetDelta, value: r.value?.toString() ?? '' });
    }
    next = Number(b.baseOffset) + b.lastOffsetDelta + 1;
  }
  return {
    errorCode: p.errorCode,
    highWatermark: Number(p.highWatermark),
    lastStableOffset: Number(p.lastStableOffset),
    aborted:
      p.abortedTransactions === null
        ? null
        : p.abortedTransactions.map((a) => `${a.producerId}@${a.firstOffset}`),
    records,
    next,
  };
}

async function latest(raw: RawClient, topic: string, isolationLevel: number): Promise<number> {
  const res = await raw.send(ListOffsetsRequest, ListOffsetsResponse, 7, {
    ...ListOffsetsRequest.create(),
    replicaId: -1,
    isolationLevel,
    topics: [
      {
        name: topic,
        partitions: [
          { ...ListOffsetsRequest.structs.ListOffsetsPartition(), partitionIndex: 0, timestamp: LATEST },
        ],
        unknownTaggedFields: undefined,
      },
    ],
  });
  const p = res.topics[0]?.partitions[0];
  assert.ok(p !== undefined && p.errorCode === ErrorCode.NONE, 'ListOffsets answered latest');
  return Number(p.offset);
}

async function createTopic(raw: RawClient, name: string): Promise<void> {
  const res = await raw.send(CreateTopicsRequest, CreateTopicsResponse, 7, {
    ...CreateTopicsRequest.create(),
    timeoutMs: 10_000,
    topics: [
      { ...CreateTopicsRequest.structs.CreatableTopic(), name, numPartitions: 1, replicationFactor: 1 },
    ],
  });
  assert.equal(res.topics[0]?.errorCode, ErrorCode.NONE, `created ${name}`);
}

/** Waits (bounded) until `check` holds. */
async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; ; i++) {
    if (await check()) return;
    assert.ok(Date.now() < deadline && i < 10_000, `timed out waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// ------------------------------------------------------------------ tests

void describe('transactions, partition side', () => {
  let b: RunningBroker;
  let raw: RawClient;
  let dataDir: string;
  let nextPid = 7000n;
  const pid = (): bigint => nextPid++;

  const mark = async (
    topic: string,
    producerId: bigint,
    commit: boolean,
    producerEpoch = 0,
  ): Promise<number[]> => {
    const [results] = await writeTxnMarkers(b.broker, [
      { producerId, producerEpoch, coordinatorEpoch: 0, commit, partitions: [{ topic, partition: 0 }] },
    ]);
    assert.ok(results !== undefined, 'one answer per marker');
    return results.map((r) => r.errorCode);
  };

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'samsa-txn-partition-'));
    // The partition side alone: transactional batches come without a coordinator's transaction,
    // so KIP-890's verification is off.
    b = await startBroker({
      port: 0,
      dataDir,
      config: { 'transaction.partition.verification.enable': 'false' },
    });
    raw = await RawClient.open(b.port);
  });

  after(async () => {
    raw.close();
    await b.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  void test('Produce: a transactional batch needs the transactional id; clients may not write markers', async () => {
    const topic = 'txn-produce';
    await createTopic(raw, topic);
    const p = pid();
    const refused = await produce(raw, topic, batch(['x'], { pid: p, seq: 0 }), null);
    assert.equal(refused.errorCode, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    assert.equal(await produceOk(raw, topic, batch(['x'], { pid: p, seq: 0 }), 'with an id'), 0);
    const marker = buildEndTxnMarkerBatch({
      producerId: p,
      producerEpoch: 0,
      coordinatorEpoch: 0,
      commit: true,
      timestamp: Date.now(),
    });
    const control = await produce(raw, topic, marker);
    assert.equal(
      control.errorCode,
      ErrorCode.INVALID_RECORD,
      `a client's marker: ${control.errorMessage ?? ''}`,
    );
    const plain = await produce(raw, topic, batch(['y']), null);
    assert.equal(plain.errorCode, ErrorCode.NONE, 'plain batches need no id');
    assert.deepEqual(await mark(topic, p, true), [ErrorCode.NONE]);
  });

  void test('read_committed stops at the LSO while a transaction is open and returns it after COMMIT', async () => {
    const topic = 'txn-commit';
    await createTopic(raw, topic);
    const p = pid();
    await produceOk(raw, topic, batch(['plain-0', 'plain-1']), 'plain');
    assert.equal(await produceOk(raw, topic, batch(['t-0', 't-1'], { pid: p, seq: 0 }), 'txn'), 2);
    await produceOk(raw, topic, batch(['plain-4', 'plain-5']), 'plain after');

    const committed = await fetch(raw, topic, 0, READ_COMMITTED);
    assert.deepEqual(
      committed.records.map((r) => r.value),
      ['plain-0', 'plain-1'],
      'only what is below the first offset of the open transaction',
    );
    assert.equal(committed.lastStableOffset, 2);
    assert.equal(committed.highWatermark, 6);
    assert.deepEqual(committed.aborted, [], 'read_committed: an empty list, as Kafka');
    const atLso = await fetch(raw, topic, 2, READ_COMMITTED);
    assert.deepEqual(atLso.records, [], 'nothing readable at the LSO');
    assert.equal(await latest(raw, topic, READ_COMMITTED), 2, 'ListOffsets latest, READ_COMMITTED: the LSO');
    assert.equal(await latest(raw, topic, READ_UNCOMMITTED), 6, 'READ_UNCOMMITTED: the high watermark');

    const uncommitted = await fetch(raw, topic, 0, READ_UNCOMMITTED);
    assert.equal(uncommitted.records.length, 6, 'read_uncommitted sees the open transaction');
    assert.equal(uncommitted.aborted, null);

    assert.deepEqual(await mark(topic, p, true), [ErrorCode.NONE]);
    const after = await fetch(raw, topic, 2, READ_COMMITTED);
    assert.deepEqual(
      after.records.map((r) => r.value),
      ['t-0', 't-1', 'plain-4', 'plain-5'],
    );
    assert.equal(after.lastStableOffset, 7, 'past the marker at 6');
    assert.equal(after.next, 7);
    assert.deepEqual(after.aborted, []);
    assert.equal(await latest(raw, topic, READ_COMMITTED), 7);
  });

  void test('after ABORT (WriteTxnMarkers v0 and v1) read_committed lists the producer and first offset', async () => {
    const topic = 'txn-abort';
    await createTopic(raw, topic);
    const [p1, p2] = [pid(), pid()];
    await produceOk(raw, topic, batch(['a-0'], { pid: p1, seq: 0 }), 'p1'); // 0
    await produceOk(raw, topic, batch(['b-0', 'b-1'], { pid: p2, seq: 0 }), 'p2'); // 1-2
    await produceOk(raw, topic, batch(['a-1'], { pid: p1, seq: 1 }), 'p1 again'); // 3
    for (const [version, producerId] of [
      [0, p1],
      [1, p2],
    ] as const) {
      const res = await raw.send(WriteTxnMarkersRequest, WriteTxnMarkersResponse, version, {
        markers: [
          {
            producerId,
            producerEpoch: 0,
            transactionResult: false,
            coordinatorEpoch: 0,
            topics: [{ name: topic, partitionIndexes: [0], unknownTaggedFields: undefined }],
            unknownTaggedFields: undefined,
          },
        ],
      });
      assert.equal(res.markers[0]?.producerId, producerId);
      assert.equal(res.markers[0]?.topics[0]?.partitions[0]?.errorCode, ErrorCode.NONE, `v${version} marker`);
    }
    // Markers at 4 (p1) and 5 (p2).
    const committed = await fetch(raw, topic, 0, READ_COMMITTED);
    assert.equal(committed.lastStableOffset, 6);
    assert.deepEqual(
      committed.records.map((r) => r.value),
      ['a-0', 'b-0', 'b-1', 'a-1'],
      'the records come back: the consumer drops them',
    );
    assert.deepEqual(committed.aborted, [`${p1}@0`, `${p2}@1`]);
    const fromThree = await fetch(raw, topic, 3, READ_COMMITTED);
    assert.deepEqual(fromThree.aborted, [`${p1}@0`, `${p2}@1`], 'both still overlap [3, 6)');
    const uncommitted = await fetch(raw, topic, 0, READ_UNCOMMITTED);
    assert.equal(uncommitted.records.length, 4);
    assert.equal(uncommitted.aborted, null);
  });

  void test('a read_committed fetch waiting at the LSO sleeps through transactional appends and wakes on the marker', async () => {
    const topic = 'txn-wait';
    await createTopic(raw, topic);
    const p = pid();
    await produceOk(raw, topic, batch(['t-0'], { pid: p, seq: 0 }), 'txn'); // 0
    const waiter = await RawClient.open(b.port);
    try {
      const answer = fetch(waiter, topic, 0, READ_COMMITTED, { maxWaitMs: 20_000, minBytes: 1 });
      // Parked: appends inside the open transaction are not readable at read_committed.
      await eventually('the fetch waits', () => b.broker.replicaManager.delayedFetches > 0);
      await produceOk(raw, topic, batch(['t-1'], { pid: p, seq: 1 }), 'more txn'); // 1
      assert.deepEqual(await mark(topic, p, true), [ErrorCode.NONE]); // 2
      const got = await answer;
      assert.deepEqual(
        got.records.map((r) => r.value),
        ['t-0', 't-1'],
        'woken by the marker, with the whole transaction',
      );
      assert.deepEqual(got.aborted, []);
    } finally {
      waiter.close();
    }
  });

  void test('WriteTxnMarkers errors; DescribeProducers shows epochs, sequences and open transactions', async () => {
    const topic = 'txn-describe';
    await createTopic(raw, topic);
    const [p1, p2] = [pid(), pid()];
    await produceOk(raw, topic, batch(['a'], { pid: p1, seq: 0, epoch: 2 }), 'p1'); // 0
    await produceOk(raw, topic, batch(['b', 'c'], { pid: p2, seq: 0 }), 'p2'); // 1-2
    assert.deepEqual(await mark(topic, p1, true, 1), [ErrorCode.INVALID_PRODUCER_EPOCH], 'older epoch');
    const unknown = await writeTxnMarkers(b.broker, [
      {
        producerId: p1,
        producerEpoch: 2,
        coordinatorEpoch: 0,
        commit: true,
        partitions: [
          { topic: 'no-such-topic', partition: 0 },
          { topic, partition: 0 },
        ],
      },
    ]);
    assert.deepEqual(unknown, [
      [
        { topic: 'no-such-topic', partition: 0, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION },
        { topic, partition: 0, errorCode: ErrorCode.NONE },
      ],
    ]);
    const res = await raw.send(DescribeProducersRequest, DescribeProducersResponse, 0, {
      topics: [
        { name: topic, partitionIndexes: [0, 7], unknownTaggedFields: undefined },
        { name: 'no-such-topic', partitionIndexes: [0], unknownTaggedFields: undefined },
      ],
    });
    const parts = res.topics[0]!.partitions;
    assert.equal(parts[0]!.errorCode, ErrorCode.NONE);
    assert.equal(parts[1]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'no partition 7');
    assert.equal(res.topics[1]!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const byId = new Map(parts[0]!.activeProducers.map((s) => [s.producerId, s]));
    const s1 = byId.get(p1);
    const s2 = byId.get(p2);
    assert.ok(s1 !== undefined && s2 !== undefined, 'both producers listed');
    assert.deepEqual(
      [s1.producerEpoch, s1.lastSequence, s1.coordinatorEpoch, s1.currentTxnStartOffset],
      [2, 0, 0, -1n],
      'p1: committed',
    );
    assert.deepEqual(
      [s2.producerEpoch, s2.lastSequence, s2.currentTxnStartOffset],
      [0, 1, 1n],
      'p2: open since offset 1',
    );
    assert.ok(s2.lastTimestamp > 0n, 'a last timestamp');
  });

  void test('a marker on __consumer_offsets is written there like on any partition', async () => {
    const found = await raw.send(FindCoordinatorRequest, FindCoordinatorResponse, 4, {
      ...FindCoordinatorRequest.create(),
      keyType: 0,
      coordinatorKeys: ['txn-partition-group'],
    });
    assert.equal(found.coordinators[0]?.errorCode, ErrorCode.NONE, 'the offsets topic exists');
    await eventually(
      '__consumer_offsets-0 is hosted',
      () => b.broker.replicaManager.getPartition(OFFSETS_TOPIC, 0) !== undefined,
    );
    const before = b.broker.replicaManager.getPartition(OFFSETS_TOPIC, 0)!.log.logEndOffset;
    const [results] = await writeTxnMarkers(b.broker, [
      {
        producerId: pid(),
        producerEpoch: 3,
        coordinatorEpoch: 0,
        commit: true,
        partitions: [{ topic: OFFSETS_TOPIC, partition: 0 }],
      },
    ]);
    assert.equal(results?.[0]?.errorCode, ErrorCode.NONE);
    const end = b.broker.replicaManager.getPartition(OFFSETS_TOPIC, 0)!.log.logEndOffset;
    assert.equal(end, before + 1, 'the marker is the last record');
  });

  void test('kafkajs judges: read_committed skips aborted records and control records, read_uncommitted sees all', async () => {
    const topic = 'txn-kafkajs';
    await createTopic(raw, topic);
    const [pa, pb, pc] = [pid(), pid(), pid()];
    // Interleaved: a committed, b aborted, plain records between, c aborted after a commit of a.
    await produceOk(raw, topic, batch(['a-0', 'a-1'], { pid: pa, seq: 0 }), 'a');
    await produceOk(raw, topic, batch(['b-0'], { pid: pb, seq: 0 }), 'b');
    await produceOk(raw, topic, batch(['plain-0']), 'plain');
    await produceOk(raw, topic, batch(['b-1', 'b-2'], { pid: pb, seq: 1 }), 'b');
    await produceOk(raw, topic, batch(['a-2'], { pid: pa, seq: 2 }), 'a');
    assert.deepEqual(await mark(topic, pb, false), [ErrorCode.NONE]);
    await produceOk(raw, topic, batch(['plain-1']), 'plain');
    assert.deepEqual(await mark(topic, pa, true), [ErrorCode.NONE]);
    await produceOk(raw, topic, batch(['c-0'], { pid: pc, seq: 0 }), 'c');
    assert.deepEqual(await mark(topic, pc, false), [ErrorCode.NONE]);
    await produceOk(raw, topic, batch(['plain-2']), 'plain');
    const everything = ['a-0', 'a-1', 'b-0', 'plain-0', 'b-1', 'b-2', 'a-2', 'plain-1', 'c-0', 'plain-2'];
    const committedOnly = ['a-0', 'a-1', 'plain-0', 'a-2', 'plain-1', 'plain-2'];

    const kafka = new Kafka({
      clientId: 'txn-partition-test',
      brokers: [b.bootstrap],
      logLevel: logLevel.NOTHING,
      retry: { retries: 3 },
    });
    const consume = async (readUncommitted: boolean, expected: number): Promise<string[]> => {
      const consumer = kafka.consumer({
        groupId: `txn-judge-${readUncommitted ? 'uncommitted' : 'committed'}`,
        readUncommitted,
        maxWaitTimeInMs: 100,
      });
      const seen: string[] = [];
      await consumer.connect();
      try {
        await consumer.subscribe({ topic, fromBeginning: true });
        await consumer.run({
          eachMessage: async ({ message }) => {
            seen.push(message.value?.toString() ?? '');
            return Promise.resolve();
          },
        });
        await eventually(
          `${readUncommitted ? 'read_uncommitted' : 'read_committed'} consumer reads ${expected}`,
          () => seen.length >= expected,
          30_000,
        );
        // A little longer: anything more it would wrongly deliver arrives too.
        await new Promise((r) => setTimeout(r, 300));
      } finally {
        await consumer.disconnect();
      }
      return seen;
    };
    assert.deepEqual(await consume(false, committedOnly.length), committedOnly, 'read_committed');
    assert.deepEqual(await consume(true, everything.length), everything, 'read_uncommitted');
  });
});
