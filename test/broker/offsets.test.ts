/**
 * Offsets end to end: ListOffsets, DeleteRecords, OffsetForLeaderEpoch, DescribeLogDirs and
 * DescribeCluster against a real broker, judged by kafkajs's and @platformatic/kafka's clients,
 * with raw requests (Samsa's codecs over a socket) for every served version and for the error
 * paths the clients do not reach.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  Admin,
  Connection,
  describeClusterV0,
  describeClusterV1,
  offsetForLeaderEpochV4,
  Producer,
} from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';

import { startBroker, type RunningBroker } from '../../src/broker/embed.js';
import type { Partition } from '../../src/broker/replica-manager.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { DeleteRecordsRequest } from '../../src/protocol/generated/message/DeleteRecordsRequest.js';
import { DeleteRecordsResponse } from '../../src/protocol/generated/message/DeleteRecordsResponse.js';
import { DescribeClusterRequest } from '../../src/protocol/generated/message/DescribeClusterRequest.js';
import { DescribeClusterResponse } from '../../src/protocol/generated/message/DescribeClusterResponse.js';
import { DescribeLogDirsRequest } from '../../src/protocol/generated/message/DescribeLogDirsRequest.js';
import { DescribeLogDirsResponse } from '../../src/protocol/generated/message/DescribeLogDirsResponse.js';
import { FetchRequest } from '../../src/protocol/generated/message/FetchRequest.js';
import { FetchResponse } from '../../src/protocol/generated/message/FetchResponse.js';
import { ListOffsetsRequest } from '../../src/protocol/generated/message/ListOffsetsRequest.js';
import { ListOffsetsResponse } from '../../src/protocol/generated/message/ListOffsetsResponse.js';
import { OffsetForLeaderEpochRequest } from '../../src/protocol/generated/message/OffsetForLeaderEpochRequest.js';
import { OffsetForLeaderEpochResponse } from '../../src/protocol/generated/message/OffsetForLeaderEpochResponse.js';
import { RawClient } from './raw-client.js';

// ------------------------------------------------------------------ harness

function kafkajs(b: RunningBroker): Kafka {
  return new Kafka({
    clientId: 'offsets-test',
    brokers: [b.bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  });
}

async function withKafkajsAdmin<T>(
  b: RunningBroker,
  fn: (admin: ReturnType<Kafka['admin']>) => Promise<T>,
): Promise<T> {
  const admin = kafkajs(b).admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

async function withPlatformaticAdmin<T>(b: RunningBroker, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Admin({ clientId: 'offsets-test', bootstrapBrokers: [b.bootstrap], retries: 0 });
  try {
    return await fn(admin);
  } finally {
    await admin.close();
  }
}

async function withConnection<T>(b: RunningBroker, fn: (c: Connection) => Promise<T>): Promise<T> {
  const c = new Connection('offsets-test');
  await c.connect('127.0.0.1', b.port);
  try {
    return await fn(c);
  } finally {
    await c.close();
  }
}

async function withRaw<T>(b: RunningBroker, fn: (raw: RawClient) => Promise<T>): Promise<T> {
  const raw = await RawClient.open(b.port);
  try {
    return await fn(raw);
  } finally {
    raw.close();
  }
}

/** Produces batches with kafkajs, one produce request (so one batch) per entry, to partition 0. */
async function produceBatches(b: RunningBroker, topic: string, batches: number[][]): Promise<void> {
  const producer = kafkajs(b).producer({ allowAutoTopicCreation: true });
  await producer.connect();
  try {
    for (const timestamps of batches) {
      await producer.send({
        topic,
        acks: -1,
        messages: timestamps.map((ts, i) => ({ partition: 0, value: `v${i}@${ts}`, timestamp: String(ts) })),
      });
    }
  } finally {
    await producer.disconnect();
  }
}

function partitionOf(b: RunningBroker, topic: string, index = 0): Partition {
  const p = b.broker.replicaManager.getPartition(topic, index);
  assert.ok(p !== undefined, `${topic}-${index} is hosted`);
  return p;
}

/** Error codes anywhere in a @platformatic/kafka error (ResponseError / MultipleErrors). */
function platCodes(e: unknown, out: number[] = []): number[] {
  const err = e as { errors?: unknown; apiCode?: number };
  if (typeof err.apiCode === 'number') out.push(err.apiCode);
  if (Array.isArray(err.errors)) for (const x of err.errors) platCodes(x, out);
  else if (err.errors !== undefined && typeof err.errors === 'object') {
    for (const x of Object.values(err.errors as Record<string, unknown>)) platCodes(x, out);
  }
  return out;
}

/**
 * Timestamps of the batches every test topic starts with: offsets 0-2, 3-5 (out of order), 6-7
 * (the largest timestamp, twice) and 8 (older again). The high watermark is 9.
 */
const BATCHES = [[1000, 1005, 1010], [2000, 2500, 1500], [3000, 3000], [2800]];

// ------------------------------------------------------------------ raw request builders

function listOffsetsRequest(
  topic: string,
  partitions: { partitionIndex: number; timestamp: number; currentLeaderEpoch?: number | undefined }[],
  opts: { isolationLevel?: number | undefined; replicaId?: number | undefined } = {},
): ListOffsetsRequest {
  return {
    ...ListOffsetsRequest.create(),
    replicaId: opts.replicaId ?? -1,
    isolationLevel: opts.isolationLevel ?? 0,
    topics: [
      {
        name: topic,
        partitions: partitions.map((p) => ({
          ...ListOffsetsRequest.structs.ListOffsetsPartition(),
          partitionIndex: p.partitionIndex,
          timestamp: BigInt(p.timestamp),
          currentLeaderEpoch: p.currentLeaderEpoch ?? -1,
          maxNumOffsets: 1,
        })),
        unknownTaggedFields: undefined,
      },
    ],
  };
}

async function listOne(
  raw: RawClient,
  version: number,
  topic: string,
  timestamp: number,
  opts: { partition?: number; currentLeaderEpoch?: number; isolationLevel?: number } = {},
): Promise<ListOffsetsResponse.ListOffsetsPartitionResponse> {
  const res = await raw.send(
    ListOffsetsRequest,
    ListOffsetsResponse,
    version,
    listOffsetsRequest(
      topic,
      [{ partitionIndex: opts.partition ?? 0, timestamp, currentLeaderEpoch: opts.currentLeaderEpoch }],
      { isolationLevel: opts.isolationLevel },
    ),
  );
  assert.equal(res.topics.length, 1);
  assert.equal(res.topics[0]!.partitions.length, 1);
  return res.topics[0]!.partitions[0]!;
}

function deleteRecordsRequest(topic: string, partitions: [number, number][]): DeleteRecordsRequest {
  return {
    ...DeleteRecordsRequest.create(),
    timeoutMs: 5000,
    topics: [
      {
        name: topic,
        partitions: partitions.map(([partitionIndex, offset]) => ({
          partitionIndex,
          offset: BigInt(offset),
          unknownTaggedFields: undefined,
        })),
        unknownTaggedFields: undefined,
      },
    ],
  };
}

function offsetForLeaderEpochRequest(
  topic: string,
  partitions: { partition: number; leaderEpoch: number; currentLeaderEpoch?: number }[],
  replicaId = -1,
): OffsetForLeaderEpochRequest {
  return {
    ...OffsetForLeaderEpochRequest.create(),
    replicaId,
    topics: [
      {
        topic,
        partitions: partitions.map((p) => ({
          partition: p.partition,
          leaderEpoch: p.leaderEpoch,
          currentLeaderEpoch: p.currentLeaderEpoch ?? -1,
          unknownTaggedFields: undefined,
        })),
        unknownTaggedFields: undefined,
      },
    ],
  };
}

async function fetchAt(raw: RawClient, topic: string, offset: number): Promise<FetchResponse.PartitionData> {
  const res = await raw.send(FetchRequest, FetchResponse, 11, {
    ...FetchRequest.create(),
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        ...FetchRequest.structs.FetchTopic(),
        topic,
        partitions: [
          {
            ...FetchRequest.structs.FetchPartition(),
            partition: 0,
            fetchOffset: BigInt(offset),
            partitionMaxBytes: 1 << 20,
          },
        ],
      },
    ],
  });
  return res.responses[0]!.partitions[0]!;
}

// ------------------------------------------------------------------ tests

void describe('offsets', () => {
  let b: RunningBroker;
  let dataDir: string;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'samsa-offsets-'));
    b = await startBroker({ port: 0, dataDir, config: { 'num.partitions': '3' } });
  });

  after(async () => {
    await b.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  void test('kafkajs: earliest, latest and offsets by timestamp, record by record', async () => {
    const topic = 'lo-kafkajs';
    await produceBatches(b, topic, BATCHES);
    await withKafkajsAdmin(b, async (admin) => {
      const offsets = (await admin.fetchTopicOffsets(topic)).sort((x, y) => x.partition - y.partition);
      assert.deepEqual(
        offsets.map((o) => [o.partition, o.low, o.high, o.offset]),
        [
          [0, '0', '9', '9'],
          [1, '0', '0', '0'],
          [2, '0', '0', '0'],
        ],
      );
      const at = async (ts: number): Promise<string | undefined> =>
        (await admin.fetchTopicOffsetsByTimestamp(topic, ts)).find((o) => o.partition === 0)?.offset;
      assert.equal(await at(0), '0');
      assert.equal(await at(1000), '0');
      // Inside the first batch: the record, not the batch's base offset.
      assert.equal(await at(1003), '1');
      assert.equal(await at(1010), '2');
      assert.equal(await at(1011), '3');
      // Second batch, timestamps out of order: the first record reaching the target.
      assert.equal(await at(1600), '3');
      assert.equal(await at(2100), '4');
      assert.equal(await at(2600), '6');
      assert.equal(await at(2900), '6');
      assert.equal(await at(3000), '6');
      // Nothing that late: kafkajs falls back to the high watermark when the broker answers -1.
      assert.equal(await at(3001), '9');
    });
  });

  void test('@platformatic/kafka listOffsets: special timestamps, exact timestamps, leader epochs', async () => {
    const topic = 'lo-platformatic';
    const producer = new Producer({
      clientId: 'offsets-test',
      bootstrapBrokers: [b.bootstrap],
      retries: 0,
      autocreateTopics: true,
    });
    try {
      for (const batch of BATCHES) {
        await producer.send({
          messages: batch.map((ts, i) => ({
            topic,
            partition: 0,
            value: Buffer.from(`v${i}`),
            timestamp: BigInt(ts),
          })),
        });
      }
    } finally {
      await producer.close();
    }
    const epoch = partitionOf(b, topic).leaderEpoch;
    await withPlatformaticAdmin(b, async (admin) => {
      const list = async (
        timestamp: bigint,
        isolationLevel: 0 | 1 = 0,
      ): Promise<{ offset: bigint; timestamp: bigint; leaderEpoch: number }> => {
        const res = await admin.listOffsets({
          topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp }] }],
          isolationLevel,
        });
        const p = res[0]!.partitions[0]!;
        return { offset: p.offset, timestamp: p.timestamp, leaderEpoch: p.leaderEpoch };
      };
      assert.deepEqual(await list(-1n), { offset: 9n, timestamp: -1n, leaderEpoch: epoch });
      assert.deepEqual(await list(-1n, 1), { offset: 9n, timestamp: -1n, leaderEpoch: epoch });
      assert.deepEqual(await list(-2n), { offset: 0n, timestamp: -1n, leaderEpoch: epoch });
      // The first of the two records with the largest timestamp, not the last record.
      assert.deepEqual(await list(-3n), { offset: 6n, timestamp: 3000n, leaderEpoch: epoch });
      assert.deepEqual(await list(-4n), { offset: 0n, timestamp: -1n, leaderEpoch: epoch });
      assert.deepEqual(await list(-5n), { offset: -1n, timestamp: -1n, leaderEpoch: -1 });
      assert.deepEqual(await list(1003n), { offset: 1n, timestamp: 1005n, leaderEpoch: epoch });
      assert.deepEqual(await list(1600n), { offset: 3n, timestamp: 2000n, leaderEpoch: epoch });
      assert.deepEqual(await list(2100n), { offset: 4n, timestamp: 2500n, leaderEpoch: epoch });
      assert.deepEqual(await list(2501n), { offset: 6n, timestamp: 3000n, leaderEpoch: epoch });
      assert.deepEqual(await list(3001n), { offset: -1n, timestamp: -1n, leaderEpoch: -1 });
      // An empty partition.
      const empty = await admin.listOffsets({
        topics: [
          {
            name: topic,
            partitions: [
              { partitionIndex: 1, timestamp: -2n },
              { partitionIndex: 2, timestamp: -3n },
            ],
          },
        ],
      });
      assert.deepEqual(
        empty[0]!.partitions.map((p) => [p.partitionIndex, p.offset, p.timestamp]),
        [
          [1, 0n, -1n],
          [2, -1n, -1n],
        ],
      );
      // Unknown topics and partitions.
      await assert.rejects(
        admin.listOffsets({
          topics: [{ name: 'lo-no-such-topic', partitions: [{ partitionIndex: 0, timestamp: -1n }] }],
        }),
      );
    });
  });

  void test('raw ListOffsets at every version 0-10', async () => {
    const topic = 'lo-raw';
    await produceBatches(b, topic, BATCHES);
    const epoch = partitionOf(b, topic).leaderEpoch;
    await withRaw(b, async (raw) => {
      for (let v = 0; v <= 10; v++) {
        const latest = await listOne(raw, v, topic, -1);
        const earliest = await listOne(raw, v, topic, -2);
        const byTime = await listOne(raw, v, topic, 2100);
        const none = await listOne(raw, v, topic, 9999);
        for (const r of [latest, earliest, byTime, none]) assert.equal(r.errorCode, ErrorCode.NONE, `v${v}`);
        if (v === 0) {
          assert.deepEqual(latest.oldStyleOffsets, [9n]);
          assert.deepEqual(earliest.oldStyleOffsets, [0n]);
          assert.deepEqual(byTime.oldStyleOffsets, [4n]);
          assert.deepEqual(none.oldStyleOffsets, []);
          continue;
        }
        assert.deepEqual([latest.offset, latest.timestamp], [9n, -1n], `v${v}`);
        assert.deepEqual([earliest.offset, earliest.timestamp], [0n, -1n], `v${v}`);
        assert.deepEqual([byTime.offset, byTime.timestamp], [4n, 2500n], `v${v}`);
        assert.deepEqual([none.offset, none.timestamp], [-1n, -1n], `v${v}`);
        assert.equal(latest.leaderEpoch, v >= 4 ? epoch : -1, `v${v}`);
        if (v >= 7) {
          const max = await listOne(raw, v, topic, -3);
          assert.deepEqual([max.offset, max.timestamp], [6n, 3000n], `v${v}`);
        }
        if (v >= 2) {
          const committed = await listOne(raw, v, topic, -1, { isolationLevel: 1 });
          assert.equal(committed.offset, 9n);
        }
      }
      const unknownTopic = await listOne(raw, 5, 'lo-missing', -1);
      assert.equal(unknownTopic.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      assert.equal(unknownTopic.offset, -1n);
      const unknownPartition = await listOne(raw, 5, topic, -1, { partition: 7 });
      assert.equal(unknownPartition.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      // A partition named twice: INVALID_REQUEST for both, the other partition answered.
      const dup = await raw.send(
        ListOffsetsRequest,
        ListOffsetsResponse,
        6,
        listOffsetsRequest(topic, [
          { partitionIndex: 0, timestamp: -1 },
          { partitionIndex: 1, timestamp: -1 },
          { partitionIndex: 0, timestamp: -2 },
        ]),
      );
      assert.deepEqual(
        dup.topics[0]!.partitions.map((p) => [p.partitionIndex, p.errorCode]),
        [
          [0, ErrorCode.INVALID_REQUEST],
          [1, ErrorCode.NONE],
          [0, ErrorCode.INVALID_REQUEST],
        ],
      );
    });
  });

  void test('ListOffsets fences currentLeaderEpoch (v4+)', async () => {
    const topic = 'lo-fence';
    await produceBatches(b, topic, [[1000]]);
    const p = partitionOf(b, topic);
    const saved = p.leaderEpoch;
    p.leaderEpoch = 2;
    try {
      await withRaw(b, async (raw) => {
        for (let v = 4; v <= 10; v++) {
          const older = await listOne(raw, v, topic, -1, { currentLeaderEpoch: 1 });
          assert.equal(older.errorCode, ErrorCode.FENCED_LEADER_EPOCH, `v${v}`);
          assert.deepEqual([older.offset, older.leaderEpoch], [-1n, -1]);
          const newer = await listOne(raw, v, topic, -1, { currentLeaderEpoch: 3 });
          assert.equal(newer.errorCode, ErrorCode.UNKNOWN_LEADER_EPOCH, `v${v}`);
          const same = await listOne(raw, v, topic, -1, { currentLeaderEpoch: 2 });
          assert.deepEqual([same.errorCode, same.offset, same.leaderEpoch], [ErrorCode.NONE, 1n, 2]);
          const unset = await listOne(raw, v, topic, -1);
          assert.equal(unset.errorCode, ErrorCode.NONE);
        }
      });
    } finally {
      p.leaderEpoch = saved;
    }
  });

  void test('DeleteRecords: the log start moves, earliest follows, a fetch below it is out of range', async () => {
    const topic = 'dr-clients';
    await produceBatches(b, topic, BATCHES);
    await withKafkajsAdmin(b, async (admin) => {
      await admin.fetchTopicMetadata({ topics: [topic] });
      await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '5' }] });
      const p0 = (await admin.fetchTopicOffsets(topic)).find((o) => o.partition === 0)!;
      assert.deepEqual([p0.low, p0.high], ['5', '9']);
      // Timestamp lookups start at the log start: offsets 3 and 4 (2000, 2500) are gone.
      const at1003 = (await admin.fetchTopicOffsetsByTimestamp(topic, 1003)).find((o) => o.partition === 0)!;
      assert.equal(at1003.offset, '5');
    });
    await withRaw(b, async (raw) => {
      const byTime = await listOne(raw, 9, topic, 1003);
      assert.deepEqual([byTime.offset, byTime.timestamp], [5n, 1500n]);
      const max = await listOne(raw, 9, topic, -3);
      assert.deepEqual([max.offset, max.timestamp], [6n, 3000n]);
      const below = await fetchAt(raw, topic, 2);
      assert.equal(below.errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
      assert.equal(below.logStartOffset, 5n);
      const at = await fetchAt(raw, topic, 5);
      assert.equal(at.errorCode, ErrorCode.NONE);
      assert.ok(at.records !== null && at.records.length > 0);
    });
    await withPlatformaticAdmin(b, async (admin) => {
      const res = await admin.deleteRecords({
        topics: [{ name: topic, partitions: [{ partition: 0, offset: 6n }] }],
      });
      assert.deepEqual(res, [{ name: topic, partitions: [{ partition: 0, lowWatermark: 6n }] }]);
      // Below the log start: nothing changes, the low watermark is answered.
      const again = await admin.deleteRecords({
        topics: [{ name: topic, partitions: [{ partition: 0, offset: 2n }] }],
      });
      assert.equal(again[0]!.partitions[0]!.lowWatermark, 6n);
      const earliest = await admin.listOffsets({
        topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: -2n }] }],
      });
      assert.equal(earliest[0]!.partitions[0]!.offset, 6n);
      await assert.rejects(
        admin.deleteRecords({ topics: [{ name: topic, partitions: [{ partition: 0, offset: 100n }] }] }),
        (e: unknown) => platCodes(e).includes(ErrorCode.OFFSET_OUT_OF_RANGE),
      );
      // The largest timestamps deleted from inside the segment: what is left counts.
      await admin.deleteRecords({ topics: [{ name: topic, partitions: [{ partition: 0, offset: 7n }] }] });
    });
    await withRaw(b, async (raw) => {
      const max = await listOne(raw, 9, topic, -3);
      assert.deepEqual([max.offset, max.timestamp], [7n, 3000n]);
      const byTime = await listOne(raw, 9, topic, 2900);
      assert.deepEqual([byTime.offset, byTime.timestamp], [7n, 3000n]);
      await raw.send(DeleteRecordsRequest, DeleteRecordsResponse, 2, deleteRecordsRequest(topic, [[0, 8]]));
      const last = await listOne(raw, 9, topic, -3);
      assert.deepEqual([last.offset, last.timestamp], [8n, 2800n]);
    });
  });

  void test('DeleteRecords survives a restart: the log start offset is kept', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'samsa-offsets-restart-'));
    try {
      let broker = await startBroker({ port: 0, dataDir: dir });
      try {
        await produceBatches(broker, 'dr-restart', BATCHES);
        await withRaw(broker, async (raw) => {
          const res = await raw.send(
            DeleteRecordsRequest,
            DeleteRecordsResponse,
            2,
            deleteRecordsRequest('dr-restart', [[0, 4]]),
          );
          assert.equal(res.topics[0]!.partitions[0]!.lowWatermark, 4n);
        });
      } finally {
        await broker.stop();
      }
      broker = await startBroker({ port: 0, dataDir: dir });
      try {
        await withRaw(broker, async (raw) => {
          const earliest = await listOne(raw, 9, 'dr-restart', -2);
          const latest = await listOne(raw, 9, 'dr-restart', -1);
          assert.deepEqual([earliest.offset, latest.offset], [4n, 9n]);
          const byTime = await listOne(raw, 9, 'dr-restart', 0);
          assert.deepEqual([byTime.offset, byTime.timestamp], [4n, 2500n]);
        });
      } finally {
        await broker.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void test('raw DeleteRecords at every version 0-2: -1, out of range, unknown, policy', async () => {
    const topic = 'dr-raw';
    await produceBatches(b, topic, BATCHES);
    const created = await b.broker.controller.createTopics(
      [
        {
          name: 'dr-compacted',
          numPartitions: 1,
          replicationFactor: -1,
          assignments: [],
          configs: [{ name: 'cleanup.policy', value: 'compact' }],
        },
      ],
      false,
    );
    assert.equal(created[0]!.errorCode, ErrorCode.NONE);
    await withRaw(b, async (raw) => {
      for (let v = 0; v <= 2; v++) {
        const res = await raw.send(
          DeleteRecordsRequest,
          DeleteRecordsResponse,
          v,
          deleteRecordsRequest(topic, [
            [0, v + 1],
            [1, 100],
            [2, -7],
            [9, 0],
          ]),
        );
        assert.deepEqual(
          res.topics[0]!.partitions.map((p) => [p.partitionIndex, p.errorCode, p.lowWatermark]),
          [
            [0, ErrorCode.NONE, BigInt(v + 1)],
            [1, ErrorCode.OFFSET_OUT_OF_RANGE, -1n],
            [2, ErrorCode.OFFSET_OUT_OF_RANGE, -1n],
            [9, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1n],
          ],
          `v${v}`,
        );
      }
      // -1: up to the high watermark.
      const all = await raw.send(
        DeleteRecordsRequest,
        DeleteRecordsResponse,
        2,
        deleteRecordsRequest(topic, [[0, -1]]),
      );
      assert.deepEqual(
        [all.topics[0]!.partitions[0]!.errorCode, all.topics[0]!.partitions[0]!.lowWatermark],
        [ErrorCode.NONE, 9n],
      );
      const earliest = await listOne(raw, 1, topic, -2);
      const latest = await listOne(raw, 1, topic, -1);
      assert.deepEqual([earliest.offset, latest.offset], [9n, 9n]);
      // Every record gone: no timestamp lookup finds one.
      const none = await listOne(raw, 9, topic, 0);
      assert.deepEqual([none.offset, none.timestamp], [-1n, -1n]);
      const policy = await raw.send(
        DeleteRecordsRequest,
        DeleteRecordsResponse,
        1,
        deleteRecordsRequest('dr-compacted', [[0, 0]]),
      );
      assert.equal(policy.topics[0]!.partitions[0]!.errorCode, ErrorCode.POLICY_VIOLATION);
      const missing = await raw.send(
        DeleteRecordsRequest,
        DeleteRecordsResponse,
        1,
        deleteRecordsRequest('dr-missing', [[0, 0]]),
      );
      assert.equal(missing.topics[0]!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    });
  });

  void test('OffsetForLeaderEpoch: end offsets per epoch, fencing, every version 0-4', async () => {
    const topic = 'ofle';
    await produceBatches(b, topic, BATCHES);
    const p = partitionOf(b, topic);
    const first = p.leaderEpoch;
    // @platformatic/kafka's v4 codec on a plain connection.
    const viaPlatformatic = await withConnection(b, (c) =>
      offsetForLeaderEpochV4.api.async(c, -1, [
        { name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: first, leaderEpoch: first }] },
      ]),
    );
    assert.deepEqual(viaPlatformatic.topics[0]!.partitions[0], {
      partition: 0,
      errorCode: 0,
      leaderEpoch: first,
      endOffset: 9n,
    });
    // A later epoch writes from offset 9 on (the leader epoch is raised in place, as a leader change would).
    const saved = p.leaderEpoch;
    p.leaderEpoch = first + 2;
    try {
      await produceBatches(b, topic, [[4000, 4001]]);
      await withRaw(b, async (raw) => {
        for (let v = 0; v <= 4; v++) {
          const res = await raw.send(
            OffsetForLeaderEpochRequest,
            OffsetForLeaderEpochResponse,
            v,
            offsetForLeaderEpochRequest(topic, [
              { partition: 0, leaderEpoch: first },
              { partition: 0, leaderEpoch: first + 1 },
              { partition: 0, leaderEpoch: first + 2 },
              { partition: 0, leaderEpoch: first + 5 },
              { partition: 5, leaderEpoch: first },
            ]),
          );
          const e = (x: number): number => (v >= 1 ? x : -1);
          assert.deepEqual(
            res.topics[0]!.partitions.map((r) => [r.partition, r.errorCode, r.leaderEpoch, r.endOffset]),
            [
              [0, ErrorCode.NONE, e(first), 9n],
              // An epoch that never wrote: the largest one below it, ending where the next starts.
              [0, ErrorCode.NONE, e(first), 9n],
              [0, ErrorCode.NONE, e(first + 2), 11n],
              [0, ErrorCode.NONE, -1, -1n],
              [5, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1, -1n],
            ],
            `v${v}`,
          );
        }
        for (let v = 2; v <= 4; v++) {
          const res = await raw.send(
            OffsetForLeaderEpochRequest,
            OffsetForLeaderEpochResponse,
            v,
            offsetForLeaderEpochRequest(
              topic,
              [
                { partition: 0, leaderEpoch: first, currentLeaderEpoch: first + 1 },
                { partition: 0, leaderEpoch: first, currentLeaderEpoch: first + 3 },
                { partition: 0, leaderEpoch: first, currentLeaderEpoch: first + 2 },
              ],
              v >= 3 ? 1 : -1,
            ),
          );
          assert.deepEqual(
            res.topics[0]!.partitions.map((r) => r.errorCode),
            [ErrorCode.FENCED_LEADER_EPOCH, ErrorCode.UNKNOWN_LEADER_EPOCH, ErrorCode.NONE],
            `v${v}`,
          );
        }
        // ListOffsets answers the epoch that wrote each record.
        const early = await listOne(raw, 9, topic, 1003);
        const late = await listOne(raw, 9, topic, 4001);
        assert.deepEqual([early.offset, early.leaderEpoch], [1n, first]);
        assert.deepEqual([late.offset, late.leaderEpoch], [10n, first + 2]);
        const max = await listOne(raw, 9, topic, -3);
        assert.deepEqual([max.offset, max.timestamp, max.leaderEpoch], [10n, 4001n, first + 2]);
      });
    } finally {
      p.leaderEpoch = saved;
    }
    const unknown = await withRaw(b, (raw) =>
      raw.send(
        OffsetForLeaderEpochRequest,
        OffsetForLeaderEpochResponse,
        4,
        offsetForLeaderEpochRequest('ofle-missing', [{ partition: 0, leaderEpoch: 0 }]),
      ),
    );
    assert.equal(unknown.topics[0]!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  void test('DescribeLogDirs: the log dir, partition sizes growing with produce, disk space (v4)', async () => {
    const topic = 'logdirs';
    await produceBatches(b, topic, [[1000]]);
    const sizes = async (): Promise<{ logDir: string; sizes: bigint[]; total: bigint; usable: bigint }> =>
      withPlatformaticAdmin(b, async (admin) => {
        const res = await admin.describeLogDirs({ topics: [{ name: topic, partitions: [0, 1, 2] }] });
        assert.equal(res.length, 1);
        const dirs = res[0]!.results;
        assert.equal(dirs.length, 1);
        const dir = dirs[0]!;
        assert.equal(dir.topics.length, 1);
        assert.equal(dir.topics[0]!.name, topic);
        for (const p of dir.topics[0]!.partitions) {
          assert.equal(p.offsetLag, 0n);
          assert.equal(p.isFutureKey, false);
        }
        return {
          logDir: dir.logDir,
          sizes: dir.topics[0]!.partitions.map((p) => p.partitionSize),
          total: dir.totalBytes,
          usable: dir.usableBytes,
        };
      });
    const before = await sizes();
    assert.equal(before.logDir, resolve(dataDir));
    assert.ok(before.sizes[0]! > 0n);
    assert.deepEqual(before.sizes.slice(1), [0n, 0n]);
    assert.ok(before.total > 0n && before.usable >= 0n && before.usable <= before.total);
    await produceBatches(b, topic, [[2000, 2001, 2002]]);
    const afterProduce = await sizes();
    assert.ok(afterProduce.sizes[0]! > before.sizes[0]!, 'partition 0 grew');
    assert.equal(afterProduce.sizes[0], BigInt(partitionOf(b, topic).log.sizeBytes));
    await withRaw(b, async (raw) => {
      for (let v = 0; v <= 4; v++) {
        const all = await raw.send(DescribeLogDirsRequest, DescribeLogDirsResponse, v, {
          ...DescribeLogDirsRequest.create(),
          topics: null,
        });
        assert.equal(all.errorCode, ErrorCode.NONE);
        assert.equal(all.results.length, 1);
        const dir = all.results[0]!;
        assert.equal(dir.logDir, resolve(dataDir));
        const t = dir.topics.find((x) => x.name === topic);
        assert.ok(t !== undefined, `v${v} lists ${topic}`);
        assert.deepEqual(
          t.partitions.map((p) => p.partitionIndex),
          [0, 1, 2],
        );
        assert.ok(
          dir.topics.some((x) => x.name === 'lo-kafkajs'),
          'every topic when topics is null',
        );
        assert.equal(dir.totalBytes > 0n, v >= 4, `v${v}`);
        const some = await raw.send(DescribeLogDirsRequest, DescribeLogDirsResponse, v, {
          ...DescribeLogDirsRequest.create(),
          topics: [
            { topic, partitions: [2, 7], unknownTaggedFields: undefined },
            { topic: 'logdirs-missing', partitions: [0], unknownTaggedFields: undefined },
          ],
        });
        assert.deepEqual(
          some.results[0]!.topics.map((x) => [x.name, x.partitions.map((p) => p.partitionIndex)]),
          [[topic, [2]]],
        );
      }
    });
  });

  void test('DescribeCluster: cluster id, controller, this broker at its advertised address', async () => {
    const clusterId = b.broker.clusterId;
    const nodeId = b.broker.nodeId;
    const expectedBroker = { brokerId: nodeId, host: '127.0.0.1', port: b.port, rack: null };
    await withConnection(b, async (c) => {
      const v0 = await describeClusterV0.api.async(c, false, 1);
      assert.equal(v0.errorCode, 0);
      assert.equal(v0.clusterId, clusterId);
      assert.equal(v0.controllerId, nodeId);
      assert.deepEqual(v0.brokers, [expectedBroker]);
      assert.equal(v0.clusterAuthorizedOperations, -2147483648);
      const v1 = await describeClusterV1.api.async(c, true, 1);
      assert.equal(v1.endpointType, 1);
      assert.deepEqual(v1.brokers, [expectedBroker]);
      assert.equal(v1.clusterAuthorizedOperations, -2147483648);
    });
    await withKafkajsAdmin(b, async (admin) => {
      const cluster = await admin.describeCluster();
      assert.equal(cluster.clusterId, clusterId);
      assert.equal(cluster.controller, nodeId);
      assert.deepEqual(cluster.brokers, [{ nodeId, host: '127.0.0.1', port: b.port }]);
    });
    await withRaw(b, async (raw) => {
      const controllers = await raw.send(DescribeClusterRequest, DescribeClusterResponse, 1, {
        ...DescribeClusterRequest.create(),
        endpointType: 2,
      });
      assert.equal(controllers.errorCode, ErrorCode.UNSUPPORTED_ENDPOINT_TYPE);
      assert.equal(controllers.endpointType, 2);
      assert.deepEqual(controllers.brokers, []);
    });
  });
});
