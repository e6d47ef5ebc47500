/**
 * Incremental fetch sessions (KIP-227) against a real broker over real sockets: sessions opened
 * by full fetches, incremental fetches answering only what changed, the session errors, forgotten
 * partitions, closing, the bounded cache and its eviction (on an injected clock), topic names
 * (v7-12) and topic ids (v13-17), long polls on a session; and what third-party clients send.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, test } from 'node:test';

import { Consumer } from '@platformatic/kafka';

import { Broker } from '../../src/broker/broker.js';
import { isBrokerConfigError, loadBrokerConfig } from '../../src/broker/config.js';
import type { RunningBroker } from '../../src/broker/embed.js';
import {
  FetchSessionCache,
  nextEpoch,
  type PartitionRequest,
  type PartitionSent,
} from '../../src/broker/fetch-session-cache.js';
import { CompressionCodec } from '../../src/protocol/compression/index.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { DeleteRecordsRequest } from '../../src/protocol/generated/message/DeleteRecordsRequest.js';
import { DeleteRecordsResponse } from '../../src/protocol/generated/message/DeleteRecordsResponse.js';
import { FetchRequest } from '../../src/protocol/generated/message/FetchRequest.js';
import { FetchResponse } from '../../src/protocol/generated/message/FetchResponse.js';
import { ProduceRequest } from '../../src/protocol/generated/message/ProduceRequest.js';
import { ProduceResponse } from '../../src/protocol/generated/message/ProduceResponse.js';
import { ZERO_UUID } from '../../src/protocol/primitives/uuid.js';
import { encodeRecordBatch, newRecordBatch } from '../../src/protocol/records/batch.js';
import { ManualClock } from '../../src/runtime/clock.js';
import { cryptoRandom } from '../../src/runtime/random.js';
import { PYTHON, PYTHON_SCRIPTS, pythonConsumeAll } from './interop/records.js';
import { have, run, withBroker } from './interop/support.js';
import { RawClient } from './raw-client.js';

// ------------------------------------------------------------------ harness

/** A broker with its own data folder and raw connections, all closed and removed afterwards. */
interface Env {
  broker: Broker;
  port: number;
  raw: RawClient;
  /** Another connection (sessions belong to the broker, not to a connection). */
  other: RawClient;
  topics: Map<string, string>;
}

async function withEnv(config: Record<string, string>, fn: (env: Env) => Promise<void>): Promise<void> {
  await withBroker(config, async (b: RunningBroker) => {
    await runEnv(b.broker, b.port, fn);
  });
}

/** A broker on a ManualClock (sessions' idle and eviction times), started over real sockets. */
async function withClockEnv(
  config: Record<string, string>,
  fn: (env: Env, clock: ManualClock) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(`${tmpdir()}/samsa-sessions-`);
  const clock = new ManualClock();
  try {
    const loaded = loadBrokerConfig({
      overrides: [
        'listeners=PLAINTEXT://127.0.0.1:0',
        `log.dirs=${dir}`,
        ...Object.entries(config).map(([k, v]) => `${k}=${v}`),
      ],
    });
    if (isBrokerConfigError(loaded)) throw new Error(loaded.message);
    const broker = await Broker.start({ config: loaded.config, clock, log: () => undefined });
    try {
      await runEnv(broker, broker.port, (env) => fn(env, clock));
    } finally {
      await broker.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runEnv(broker: Broker, port: number, fn: (env: Env) => Promise<void>): Promise<void> {
  const raw = await RawClient.open(port);
  const other = await RawClient.open(port);
  try {
    await fn({ broker, port, raw, other, topics: new Map() });
  } finally {
    raw.close();
    other.close();
  }
}

async function createTopic(env: Env, name: string, partitions: number): Promise<string> {
  const created = await env.broker.controller.createTopics(
    [{ name, numPartitions: partitions, replicationFactor: -1, assignments: [], configs: [] }],
    false,
  );
  assert.equal(created[0]!.errorCode, ErrorCode.NONE, `created ${name}`);
  const topic = env.broker.image().topicsByName.get(name);
  assert.ok(topic !== undefined, `${name} is in the metadata`);
  for (let p = 0; p < partitions; p++) {
    assert.ok(env.broker.replicaManager.getPartition(name, p) !== undefined, `${name}-${p} is hosted`);
  }
  env.topics.set(name, topic.topicId);
  return topic.topicId;
}

/** Appends one batch of `count` records to a partition with a raw Produce (acks=all). */
async function produce(env: Env, topic: string, partition: number, count: number): Promise<void> {
  const records = encodeRecordBatch(
    newRecordBatch(
      Array.from({ length: count }, (_, i) => ({
        key: null,
        value: Buffer.from(`${topic}-${partition}-${i}`),
        timestamp: 1_700_000_000_000 + i,
      })),
    ),
    { compression: CompressionCodec.None },
  );
  const res = await env.other.send(ProduceRequest, ProduceResponse, 9, {
    ...ProduceRequest.create(),
    transactionalId: null,
    acks: -1,
    timeoutMs: 10_000,
    topicData: [
      {
        name: topic,
        partitionData: [{ index: partition, records, unknownTaggedFields: undefined }],
        unknownTaggedFields: undefined,
      },
    ],
  });
  assert.equal(
    res.responses[0]?.partitionResponses[0]?.errorCode,
    ErrorCode.NONE,
    `produced to ${topic}-${partition}`,
  );
}

/** A partition of a fetch: by name before v13, by id from v13 (`id` given for unknown ids). */
interface Part {
  topic: string;
  partition: number;
  offset?: number;
  id?: string;
}

interface FetchOptions {
  sessionId: number;
  epoch: number;
  parts?: Part[];
  forget?: Part[];
  maxWaitMs?: number;
  minBytes?: number;
  maxBytes?: number;
  replicaId?: number;
}

function idOf(env: Env, p: Part): string {
  return p.id ?? env.topics.get(p.topic) ?? ZERO_UUID;
}

function fetchRequest(env: Env, version: number, o: FetchOptions): FetchRequest {
  const byId = version >= 13;
  const topics: FetchRequest.FetchTopic[] = [];
  for (const p of o.parts ?? []) {
    const topic = byId ? '' : p.topic;
    const topicId = byId ? idOf(env, p) : ZERO_UUID;
    let t = topics.find((x) => x.topic === topic && x.topicId === topicId);
    if (t === undefined) {
      t = { ...FetchRequest.structs.FetchTopic(), topic, topicId, partitions: [] };
      topics.push(t);
    }
    t.partitions.push({
      ...FetchRequest.structs.FetchPartition(),
      partition: p.partition,
      fetchOffset: BigInt(p.offset ?? 0),
      partitionMaxBytes: 1 << 20,
    });
  }
  const forgotten: FetchRequest.ForgottenTopic[] = [];
  for (const p of o.forget ?? []) {
    const topic = byId ? '' : p.topic;
    const topicId = byId ? idOf(env, p) : ZERO_UUID;
    let t = forgotten.find((x) => x.topic === topic && x.topicId === topicId);
    if (t === undefined) {
      t = { ...FetchRequest.structs.ForgottenTopic(), topic, topicId, partitions: [] };
      forgotten.push(t);
    }
    t.partitions.push(p.partition);
  }
  const replicaId = o.replicaId ?? -1;
  return {
    ...FetchRequest.create(),
    ...(version >= 15
      ? { replicaState: { ...FetchRequest.structs.ReplicaState(), replicaId } }
      : { replicaId }),
    maxWaitMs: o.maxWaitMs ?? 0,
    minBytes: o.minBytes ?? 0,
    maxBytes: o.maxBytes ?? 1 << 22,
    sessionId: o.sessionId,
    sessionEpoch: o.epoch,
    topics,
    forgottenTopicsData: forgotten,
  };
}

function fetch(env: Env, version: number, o: FetchOptions, via: RawClient = env.raw): Promise<FetchResponse> {
  return via.send(FetchRequest, FetchResponse, version, fetchRequest(env, version, o));
}

/** Offsets of the records in a partition's answer (batch headers only: base offset, last delta). */
function offsetsIn(records: Buffer | null): number[] {
  const out: number[] = [];
  let pos = 0;
  while (records !== null && pos + 27 <= records.length) {
    const base = Number(records.readBigInt64BE(pos));
    const lastDelta = records.readInt32BE(pos + 23);
    for (let i = 0; i <= lastDelta; i++) out.push(base + i);
    pos += 12 + records.readInt32BE(pos + 8);
  }
  return out;
}

/** One line per answered partition: `topic-p err=E hw=H lso=L start=S offsets=a,b` (topic by name). */
function summary(env: Env, res: FetchResponse): string[] {
  const names = new Map([...env.topics].map(([name, id]) => [id, name]));
  const out: string[] = [];
  for (const t of res.responses) {
    const name = t.topic !== '' ? t.topic : (names.get(t.topicId) ?? `id:${t.topicId}`);
    for (const p of t.partitions) {
      out.push(
        `${name}-${p.partitionIndex} err=${p.errorCode} hw=${p.highWatermark} lso=${p.lastStableOffset} ` +
          `start=${p.logStartOffset} offsets=${offsetsIn(p.records).join(',')}`,
      );
    }
  }
  return out.sort();
}

function line(topic: string, partition: number, hw: number, offsets: number[], err = 0, start = 0): string {
  return `${topic}-${partition} err=${err} hw=${hw} lso=${hw} start=${start} offsets=${offsets.join(',')}`;
}

function errLine(topic: string, partition: number, err: number): string {
  return `${topic}-${partition} err=${err} hw=-1 lso=-1 start=-1 offsets=`;
}

/** A topic id as @platformatic/kafka writes it (8-4-4-4-12 hex) from Samsa's base64url form. */
function uuidText(id: string): string {
  const hex = Buffer.from(id, 'base64url').toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Waits (bounded) until `n` fetches are parked in the purgatory. */
async function untilDelayed(broker: Broker, n: number): Promise<void> {
  for (let i = 0; i < 500 && broker.replicaManager.delayedFetches !== n; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(broker.replicaManager.delayedFetches, n, `${n} fetch(es) waiting`);
}

const NAME_VERSIONS = [7, 8, 9, 10, 11, 12];
const ID_VERSIONS = [13, 14, 15, 16, 17];

// ------------------------------------------------------------------ sessions over the wire

void describe('fetch sessions over the wire', { timeout: 120_000 }, () => {
  for (const version of [...NAME_VERSIONS, ...ID_VERSIONS]) {
    void test(`v${version}: a full fetch opens a session; incremental fetches answer only what changed`, async () => {
      await withEnv({}, async (env) => {
        await createTopic(env, 'inc', 3);
        await produce(env, 'inc', 0, 2);
        await produce(env, 'inc', 1, 1);
        const all = [0, 1, 2].map((partition) => ({ topic: 'inc', partition }));

        const full = await fetch(env, version, { sessionId: 0, epoch: 0, parts: all });
        assert.equal(full.errorCode, ErrorCode.NONE, 'full fetch succeeds');
        assert.notEqual(full.sessionId, 0, 'a session was opened');
        assert.equal(env.broker.fetchSessions.size, 1, 'one session cached');
        assert.deepEqual(summary(env, full), [
          line('inc', 0, 2, [0, 1]),
          line('inc', 1, 1, [0]),
          line('inc', 2, 0, []),
        ]);
        const id = full.sessionId;

        // The client moves its offsets past what it received: nothing else changed.
        const moved = await fetch(env, version, {
          sessionId: id,
          epoch: 1,
          parts: [
            { topic: 'inc', partition: 0, offset: 2 },
            { topic: 'inc', partition: 1, offset: 1 },
          ],
        });
        assert.equal(moved.errorCode, ErrorCode.NONE, 'incremental fetch succeeds');
        assert.equal(moved.sessionId, id, 'same session');
        assert.deepEqual(summary(env, moved), [], 'nothing changed');

        await produce(env, 'inc', 2, 3);
        const changed = await fetch(env, version, { sessionId: id, epoch: 2 });
        assert.deepEqual(
          summary(env, changed),
          [line('inc', 2, 3, [0, 1, 2])],
          'only the partition with new records',
        );

        await produce(env, 'inc', 0, 1);
        const next = await fetch(env, version, {
          sessionId: id,
          epoch: 3,
          parts: [{ topic: 'inc', partition: 2, offset: 3 }],
        });
        assert.deepEqual(summary(env, next), [line('inc', 0, 3, [2])], 'partition 0 from its cached offset');

        // Partition 0's offset was never moved past 2 in the session: it is read from there again.
        const again = await fetch(env, version, { sessionId: id, epoch: 4 });
        assert.deepEqual(summary(env, again), [line('inc', 0, 3, [2])], 'records are always answered');
        const quiet = await fetch(env, version, {
          sessionId: id,
          epoch: 5,
          parts: [{ topic: 'inc', partition: 0, offset: 3 }],
        });
        assert.deepEqual(summary(env, quiet), [], 'quiet once caught up');
      });
    });
  }

  void test('a session continues from any connection to the broker', async () => {
    await withEnv({}, async (env) => {
      await createTopic(env, 'conn', 1);
      const full = await fetch(env, 13, { sessionId: 0, epoch: 0, parts: [{ topic: 'conn', partition: 0 }] });
      assert.notEqual(full.sessionId, 0, 'session opened');
      await produce(env, 'conn', 0, 2);
      const res = await fetch(env, 13, { sessionId: full.sessionId, epoch: 1 }, env.other);
      assert.equal(res.errorCode, ErrorCode.NONE, 'continued on the other connection');
      assert.deepEqual(summary(env, res), [line('conn', 0, 2, [0, 1])]);
    });
  });

  void test('epoch mismatch: INVALID_FETCH_SESSION_EPOCH; the session keeps its expected epoch', async () => {
    await withEnv({}, async (env) => {
      await createTopic(env, 'ep', 1);
      const full = await fetch(env, 12, { sessionId: 0, epoch: 0, parts: [{ topic: 'ep', partition: 0 }] });
      const id = full.sessionId;
      for (const epoch of [2, 7, -2, 0x7fffffff]) {
        const res = await fetch(env, 12, { sessionId: id, epoch });
        assert.equal(res.errorCode, ErrorCode.INVALID_FETCH_SESSION_EPOCH, `epoch ${epoch} refused`);
        assert.equal(res.sessionId, 0, 'no session id on a session error');
        assert.deepEqual(res.responses, [], 'no partitions on a session error');
      }
      const ok = await fetch(env, 12, { sessionId: id, epoch: 1 });
      assert.equal(ok.errorCode, ErrorCode.NONE, 'the expected epoch still works');
      const replay = await fetch(env, 12, { sessionId: id, epoch: 1 });
      assert.equal(replay.errorCode, ErrorCode.INVALID_FETCH_SESSION_EPOCH, 'a replayed epoch is refused');
      const next = await fetch(env, 12, { sessionId: id, epoch: 2 });
      assert.equal(next.errorCode, ErrorCode.NONE, 'the next epoch works');
    });
  });

  void test('unknown session id: FETCH_SESSION_ID_NOT_FOUND', async () => {
    await withEnv({}, async (env) => {
      await createTopic(env, 'nf', 1);
      for (const [sessionId, epoch] of [
        [12345, 1],
        [0, 1],
        [-5, 3],
      ] as const) {
        for (const version of [7, 12, 13, 17]) {
          const res = await fetch(env, version, { sessionId, epoch, parts: [{ topic: 'nf', partition: 0 }] });
          assert.equal(res.errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND, `v${version} id ${sessionId}`);
          assert.equal(res.sessionId, 0, 'no session id');
          assert.deepEqual(res.responses, [], 'no partitions');
        }
      }
      assert.equal(env.broker.fetchSessions.size, 0, 'nothing cached');
    });
  });

  void test('topic names and topic ids do not mix in one session: FETCH_SESSION_TOPIC_ID_ERROR', async () => {
    await withEnv({}, async (env) => {
      await createTopic(env, 'mix', 1);
      const byName = await fetch(env, 12, {
        sessionId: 0,
        epoch: 0,
        parts: [{ topic: 'mix', partition: 0 }],
      });
      const r1 = await fetch(env, 13, { sessionId: byName.sessionId, epoch: 1 });
      assert.equal(r1.errorCode, ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR, 'name session continued by id');
      const byId = await fetch(env, 13, { sessionId: 0, epoch: 0, parts: [{ topic: 'mix', partition: 0 }] });
      const r2 = await fetch(env, 12, { sessionId: byId.sessionId, epoch: 1 });
      assert.equal(r2.errorCode, ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR, 'id session continued by name');
      // Neither error moved the sessions on.
      assert.equal(
        (await fetch(env, 12, { sessionId: byName.sessionId, epoch: 1 })).errorCode,
        ErrorCode.NONE,
      );
      assert.equal((await fetch(env, 13, { sessionId: byId.sessionId, epoch: 1 })).errorCode, ErrorCode.NONE);
    });
  });

  for (const version of [12, 13]) {
    void test(`v${version}: forgotten partitions leave the session; forgetting the last closes it`, async () => {
      await withEnv({}, async (env) => {
        await createTopic(env, 'fa', 2);
        await createTopic(env, 'fb', 1);
        const parts = [
          { topic: 'fa', partition: 0 },
          { topic: 'fa', partition: 1 },
          { topic: 'fb', partition: 0 },
        ];
        const full = await fetch(env, version, { sessionId: 0, epoch: 0, parts });
        const id = full.sessionId;
        assert.equal(env.broker.fetchSessions.totalPartitions, 3, 'three partitions cached');

        const r1 = await fetch(env, version, {
          sessionId: id,
          epoch: 1,
          forget: [
            { topic: 'fa', partition: 1 },
            { topic: 'fb', partition: 0 },
          ],
        });
        assert.equal(r1.errorCode, ErrorCode.NONE, 'forgetting succeeds');
        assert.equal(env.broker.fetchSessions.totalPartitions, 1, 'one partition left');
        await produce(env, 'fa', 1, 1);
        await produce(env, 'fb', 0, 1);
        await produce(env, 'fa', 0, 1);
        const r2 = await fetch(env, version, { sessionId: id, epoch: 2 });
        assert.deepEqual(summary(env, r2), [line('fa', 0, 1, [0])], 'forgotten partitions are not fetched');

        // Added back in the same request that forgets another: the session follows both.
        const r3 = await fetch(env, version, {
          sessionId: id,
          epoch: 3,
          parts: [{ topic: 'fb', partition: 0 }],
          forget: [{ topic: 'fa', partition: 0 }],
        });
        assert.deepEqual(summary(env, r3), [line('fb', 0, 1, [0])], 'the re-added partition is answered');

        const last = await fetch(env, version, {
          sessionId: id,
          epoch: 4,
          forget: [{ topic: 'fb', partition: 0 }],
        });
        assert.equal(last.errorCode, ErrorCode.NONE, 'forgetting the last partition succeeds');
        assert.equal(last.sessionId, 0, 'answered sessionless');
        assert.equal(env.broker.fetchSessions.size, 0, 'the empty session is closed');
        const gone = await fetch(env, version, { sessionId: id, epoch: 5 });
        assert.equal(gone.errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND, 'closed for good');
      });
    });
  }

  void test('closing: epoch -1 with the id closes the session; epoch 0 with the id replaces it', async () => {
    await withEnv({}, async (env) => {
      await createTopic(env, 'close', 1);
      const parts = [{ topic: 'close', partition: 0 }];
      const a = await fetch(env, 13, { sessionId: 0, epoch: 0, parts });
      const closing = await fetch(env, 13, { sessionId: a.sessionId, epoch: -1, parts });
      assert.equal(closing.errorCode, ErrorCode.NONE, 'the closing fetch is served');
      assert.equal(closing.sessionId, 0, 'sessionless answer');
      assert.deepEqual(summary(env, closing), [line('close', 0, 0, [])], 'a full answer');
      assert.equal(env.broker.fetchSessions.size, 0, 'closed');
      assert.equal(
        (await fetch(env, 13, { sessionId: a.sessionId, epoch: 1 })).errorCode,
        ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
      );

      const b = await fetch(env, 13, { sessionId: 0, epoch: 0, parts });
      const c = await fetch(env, 13, { sessionId: b.sessionId, epoch: 0, parts });
      assert.notEqual(c.sessionId, 0, 'a new session');
      assert.notEqual(c.sessionId, b.sessionId, 'with a new id');
      assert.equal(env.broker.fetchSessions.size, 1, 'the old one is closed');
      assert.equal(
        (await fetch(env, 13, { sessionId: b.sessionId, epoch: 1 })).errorCode,
        ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
      );
      assert.equal((await fetch(env, 13, { sessionId: c.sessionId, epoch: 1 })).errorCode, ErrorCode.NONE);

      // A sessionless fetch (id 0, epoch -1) opens nothing.
      await fetch(env, 13, { sessionId: 0, epoch: -1, parts });
      assert.equal(env.broker.fetchSessions.size, 1, 'sessionless fetches cache nothing');
    });
  });

  void test('versions 4-6 have no session fields: always sessionless', async () => {
    await withEnv({}, async (env) => {
      await createTopic(env, 'old', 1);
      await produce(env, 'old', 0, 1);
      for (const version of [4, 5, 6]) {
        const res = await fetch(env, version, {
          sessionId: 0,
          epoch: -1,
          parts: [{ topic: 'old', partition: 0 }],
        });
        // The log start offset is in answers from v5.
        const start = version >= 5 ? 0 : -1;
        assert.deepEqual(summary(env, res), [line('old', 0, 1, [0], 0, start)], `v${version} full answer`);
      }
      assert.equal(env.broker.fetchSessions.size, 0, 'no sessions');
    });
  });

  void test('a changed log start offset or an error is answered without records', async () => {
    await withEnv({}, async (env) => {
      await createTopic(env, 'lso', 2);
      await produce(env, 'lso', 0, 3);
      const parts = [
        { topic: 'lso', partition: 0, offset: 3 },
        { topic: 'lso', partition: 1 },
      ];
      const full = await fetch(env, 11, { sessionId: 0, epoch: 0, parts });
      const id = full.sessionId;
      const del = await env.other.send(DeleteRecordsRequest, DeleteRecordsResponse, 2, {
        ...DeleteRecordsRequest.create(),
        timeoutMs: 5000,
        topics: [
          {
            name: 'lso',
            partitions: [{ partitionIndex: 0, offset: 2n, unknownTaggedFields: undefined }],
            unknownTaggedFields: undefined,
          },
        ],
      });
      assert.equal(del.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE, 'records deleted');
      const r1 = await fetch(env, 11, { sessionId: id, epoch: 1 });
      assert.deepEqual(summary(env, r1), [line('lso', 0, 3, [], 0, 2)], 'the new log start offset is sent');
      const r2 = await fetch(env, 11, { sessionId: id, epoch: 2 });
      assert.deepEqual(summary(env, r2), [], 'and only once');

      // A fenced leader epoch is an error: answered every time.
      const leaderEpoch = env.broker.replicaManager.getPartition('lso', 1)!.leaderEpoch;
      const fencedReq = fetchRequest(env, 11, {
        sessionId: id,
        epoch: 3,
        parts: [{ topic: 'lso', partition: 1 }],
      });
      fencedReq.topics[0]!.partitions[0]!.currentLeaderEpoch = leaderEpoch + 1;
      const r3 = await env.raw.send(FetchRequest, FetchResponse, 11, fencedReq);
      assert.deepEqual(
        r3.responses.flatMap((t) => t.partitions.map((p) => [p.partitionIndex, p.errorCode])),
        [[1, ErrorCode.UNKNOWN_LEADER_EPOCH]],
        'the error is answered',
      );
      const r4 = await fetch(env, 11, { sessionId: id, epoch: 4 });
      assert.deepEqual(
        r4.responses.flatMap((t) => t.partitions.map((p) => [p.partitionIndex, p.errorCode])),
        [[1, ErrorCode.UNKNOWN_LEADER_EPOCH]],
        'and again, from the cached leader epoch',
      );
      // The client refreshes its leader epoch: the partition is sent again once, error cleared.
      const r5 = await fetch(env, 11, { sessionId: id, epoch: 5, parts: [{ topic: 'lso', partition: 1 }] });
      assert.deepEqual(summary(env, r5), [line('lso', 1, 0, [])], 'sent again once the error clears');
      const r6 = await fetch(env, 11, { sessionId: id, epoch: 6 });
      assert.deepEqual(summary(env, r6), [], 'then quiet');
    });
  });

  void test('unknown topic ids stay in the session with UNKNOWN_TOPIC_ID until forgotten; long polls still wait', async () => {
    await withEnv({}, async (env) => {
      await createTopic(env, 'known', 1);
      const ghost = { topic: 'ghost', partition: 0, id: 'AAAAAAAAAAAAAAAAAAAAAQ' };
      const parts = [{ topic: 'known', partition: 0 }, ghost];
      const full = await fetch(env, 13, { sessionId: 0, epoch: 0, parts });
      assert.notEqual(full.sessionId, 0, 'session opened despite the unknown id');
      assert.deepEqual(summary(env, full), [
        errLine(`id:${ghost.id}`, 0, ErrorCode.UNKNOWN_TOPIC_ID),
        line('known', 0, 0, []),
      ]);
      const id = full.sessionId;
      const r1 = await fetch(env, 13, { sessionId: id, epoch: 1 });
      assert.deepEqual(
        summary(env, r1),
        [errLine(`id:${ghost.id}`, 0, ErrorCode.UNKNOWN_TOPIC_ID)],
        'error repeated',
      );

      // A long poll on the session waits for data despite the unknown partition.
      const polling = fetch(env, 13, { sessionId: id, epoch: 2, maxWaitMs: 20_000, minBytes: 1 });
      await untilDelayed(env.broker, 1);
      await produce(env, 'known', 0, 2);
      const r2 = await polling;
      assert.deepEqual(
        summary(env, r2),
        [errLine(`id:${ghost.id}`, 0, ErrorCode.UNKNOWN_TOPIC_ID), line('known', 0, 2, [0, 1])],
        'woken by the append',
      );

      const r3 = await fetch(env, 13, {
        sessionId: id,
        epoch: 3,
        parts: [{ topic: 'known', partition: 0, offset: 2 }],
        forget: [ghost],
      });
      assert.deepEqual(summary(env, r3), [], 'forgotten: quiet');
      assert.equal(env.broker.fetchSessions.totalPartitions, 1, 'one partition left');
    });
  });

  void test('an incremental long poll times out empty, and one that is woken answers the new records', async () => {
    await withEnv({}, async (env) => {
      await createTopic(env, 'lp', 2);
      const parts = [
        { topic: 'lp', partition: 0 },
        { topic: 'lp', partition: 1 },
      ];
      const full = await fetch(env, 12, { sessionId: 0, epoch: 0, parts, maxWaitMs: 0 });
      const id = full.sessionId;
      const timedOut = await fetch(env, 12, { sessionId: id, epoch: 1, maxWaitMs: 50, minBytes: 1 });
      assert.equal(timedOut.errorCode, ErrorCode.NONE, 'served after the wait');
      assert.deepEqual(summary(env, timedOut), [], 'nothing changed');

      const polling = fetch(env, 12, { sessionId: id, epoch: 2, maxWaitMs: 20_000, minBytes: 1 });
      await untilDelayed(env.broker, 1);
      await produce(env, 'lp', 1, 1);
      assert.deepEqual(
        summary(env, await polling),
        [line('lp', 1, 1, [0])],
        'only the partition appended to',
      );
      assert.equal(env.broker.replicaManager.delayedFetches, 0, 'nothing left waiting');
    });
  });

  void test('maxBytes: partitions that returned records go behind the others next time', async () => {
    await withEnv({}, async (env) => {
      await createTopic(env, 'rr', 2);
      await produce(env, 'rr', 0, 1);
      await produce(env, 'rr', 1, 1);
      const parts = [
        { topic: 'rr', partition: 0 },
        { topic: 'rr', partition: 1 },
      ];
      // maxBytes 1: only the first partition in order gets its (oversized) first batch.
      const full = await fetch(env, 12, { sessionId: 0, epoch: 0, parts, maxBytes: 1 });
      assert.deepEqual(summary(env, full), [line('rr', 0, 1, [0]), line('rr', 1, 1, [])], 'request order');
      const id = full.sessionId;
      const r1 = await fetch(env, 12, { sessionId: id, epoch: 1, maxBytes: 1 });
      assert.deepEqual(summary(env, r1), [line('rr', 0, 1, [0])], 'session order: partition 0 first still');
      const r2 = await fetch(env, 12, { sessionId: id, epoch: 2, maxBytes: 1 });
      assert.deepEqual(summary(env, r2), [line('rr', 1, 1, [0])], 'partition 0 moved behind partition 1');
    });
  });
});

// ------------------------------------------------------------------ the bounded cache

void describe('the fetch session cache is bounded', { timeout: 120_000 }, () => {
  void test('max.incremental.fetch.session.cache.slots=0: every fetch is sessionless', async () => {
    await withEnv({ 'max.incremental.fetch.session.cache.slots': '0' }, async (env) => {
      await createTopic(env, 'zero', 1);
      await produce(env, 'zero', 0, 1);
      const res = await fetch(env, 13, { sessionId: 0, epoch: 0, parts: [{ topic: 'zero', partition: 0 }] });
      assert.equal(res.sessionId, 0, 'no session');
      assert.deepEqual(summary(env, res), [line('zero', 0, 1, [0])], 'a full answer all the same');
      assert.equal(env.broker.fetchSessions.size, 0, 'nothing cached');
    });
  });

  void test('full: young sessions are kept (new fetches go sessionless); idle ones and smaller old ones are evicted', async () => {
    await withClockEnv({ 'max.incremental.fetch.session.cache.slots': '2' }, async (env, clock) => {
      await createTopic(env, 'ev', 3);
      await produce(env, 'ev', 0, 1);
      const p = (n: number): Part[] => [0, 1, 2].slice(0, n).map((partition) => ({ topic: 'ev', partition }));
      const open = async (n: number): Promise<number> =>
        (await fetch(env, 12, { sessionId: 0, epoch: 0, parts: p(n) })).sessionId;

      const s1 = await open(1);
      const s2 = await open(2);
      assert.ok(s1 !== 0 && s2 !== 0 && s1 !== s2, 'two sessions');
      const s3 = await fetch(env, 12, { sessionId: 0, epoch: 0, parts: p(3) });
      assert.equal(s3.sessionId, 0, 'no room: sessionless, although bigger (the others are young)');
      assert.deepEqual(summary(env, s3), [line('ev', 0, 1, [0]), line('ev', 1, 0, []), line('ev', 2, 0, [])]);
      assert.equal(env.broker.fetchSessions.size, 2, 'still two');

      // Past the eviction time, both are used: old but not idle.
      clock.advance(121_000);
      assert.equal((await fetch(env, 12, { sessionId: s1, epoch: 1 })).errorCode, ErrorCode.NONE);
      assert.equal((await fetch(env, 12, { sessionId: s2, epoch: 1 })).errorCode, ErrorCode.NONE);
      assert.equal(await open(1), 0, 'a session no bigger than the smallest old one evicts nothing');
      const s4 = await open(2);
      assert.notEqual(s4, 0, 'a bigger one evicts the smallest old session');
      assert.equal(env.broker.fetchSessions.evictions, 1, 'one eviction');
      assert.equal(
        (await fetch(env, 12, { sessionId: s1, epoch: 2 })).errorCode,
        ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
        'the smallest was evicted',
      );
      assert.equal((await fetch(env, 12, { sessionId: s2, epoch: 2 })).errorCode, ErrorCode.NONE, 's2 kept');

      // s4 is used later than s2; both go idle past the eviction time: the least recently used goes.
      clock.advance(1_000);
      assert.equal((await fetch(env, 12, { sessionId: s4, epoch: 1 })).errorCode, ErrorCode.NONE);
      clock.advance(121_000);
      const s5 = await open(1);
      assert.notEqual(s5, 0, 'an idle session makes room even for a small one');
      assert.equal(
        (await fetch(env, 12, { sessionId: s2, epoch: 3 })).errorCode,
        ErrorCode.FETCH_SESSION_ID_NOT_FOUND,
        'the least recently used idle session was evicted',
      );
      assert.equal((await fetch(env, 12, { sessionId: s4, epoch: 2 })).errorCode, ErrorCode.NONE, 's4 kept');
      assert.equal(env.broker.fetchSessions.size, 2, 'never more than the slots');
    });
  });

  void test("a follower's session (privileged) may evict a young consumer session", async () => {
    await withClockEnv({ 'max.incremental.fetch.session.cache.slots': '1' }, async (env) => {
      await createTopic(env, 'priv', 1);
      const parts = [{ topic: 'priv', partition: 0 }];
      const consumer = await fetch(env, 12, { sessionId: 0, epoch: 0, parts });
      assert.notEqual(consumer.sessionId, 0, 'consumer session');
      const another = await fetch(env, 12, { sessionId: 0, epoch: 0, parts });
      assert.equal(another.sessionId, 0, 'another consumer cannot evict it');
      const follower = await fetch(env, 12, { sessionId: 0, epoch: 0, parts, replicaId: 7 });
      assert.notEqual(follower.sessionId, 0, 'the follower evicts it');
      const next = await fetch(env, 12, { sessionId: 0, epoch: 0, parts, replicaId: 8 });
      assert.equal(next.sessionId, 0, 'a young follower session is not evicted');
    });
  });
});

// ------------------------------------------------------------------ the cache alone

void describe('FetchSessionCache', () => {
  const req = (partition: number): PartitionRequest => ({
    topic: 't',
    topicId: ZERO_UUID,
    partition,
    fetchOffset: 0,
    fetcherLogStartOffset: -1,
    partitionMaxBytes: 1024,
    currentLeaderEpoch: -1,
  });
  const sent = (hw: number, recordBytes = 0, errorCode = 0): PartitionSent => ({
    errorCode,
    highWatermark: hw,
    lastStableOffset: hw,
    logStartOffset: 0,
    preferredReadReplica: -1,
    recordBytes,
  });

  void test('epochs wrap from INT32_MAX to 1; the final epoch stays final', () => {
    assert.equal(nextEpoch(0), 1);
    assert.equal(nextEpoch(41), 42);
    assert.equal(nextEpoch(0x7fffffff), 1);
    assert.equal(nextEpoch(-1), -1);
  });

  void test('session ids are positive, unique, and found even when the random source repeats itself', () => {
    const same = { bytes: (n: number) => Buffer.alloc(n, 0xff) };
    const cache = new FetchSessionCache({ maxEntries: 50, clock: new ManualClock(), random: same });
    const ids = new Set<number>();
    for (let i = 0; i < 50; i++) ids.add(cache.maybeCreateSession(false, false, [req(0)], [sent(0)]));
    assert.equal(ids.size, 50, 'all distinct');
    for (const id of ids) assert.ok(id > 0 && id < 0x7fffffff, `id ${id} in 1..2^31-2`);
  });

  void test('a record, an error, a preferred replica or a moved offset must be sent; an error is sent until it clears', () => {
    const cache = new FetchSessionCache({ maxEntries: 1, clock: new ManualClock(), random: cryptoRandom });
    const id = cache.maybeCreateSession(false, false, [req(0)], [sent(5)]);
    const ctx = cache.newContext({
      sessionId: id,
      sessionEpoch: 1,
      usesTopicIds: false,
      privileged: false,
      partitions: [],
      forgotten: [],
    });
    assert.equal(ctx.kind, 'incremental', 'incremental context');
    if (ctx.kind !== 'incremental') return;
    const cp = ctx.partitions[0]!;
    assert.equal(cp.mustRespond(sent(5)), false, 'unchanged');
    assert.equal(cp.mustRespond(sent(5, 10)), true, 'records');
    assert.equal(cp.mustRespond(sent(6)), true, 'high watermark moved');
    assert.equal(cp.mustRespond({ ...sent(6), lastStableOffset: 5 }), true, 'last stable offset moved');
    assert.equal(cp.mustRespond({ ...sent(6), lastStableOffset: 5, logStartOffset: 1 }), true, 'start moved');
    assert.equal(cp.mustRespond({ ...sent(6), lastStableOffset: 5, logStartOffset: 1 }), false, 'recorded');
    assert.equal(cp.mustRespond({ ...sent(6), preferredReadReplica: 2 }), true, 'preferred replica');
    assert.equal(cp.mustRespond(sent(6, 0, ErrorCode.NOT_LEADER_OR_FOLLOWER)), true, 'error');
    assert.equal(cp.mustRespond(sent(6, 0, ErrorCode.NOT_LEADER_OR_FOLLOWER)), true, 'error again');
    assert.equal(cp.mustRespond(sent(6)), true, 'cleared error: sent once more');
    assert.equal(cp.mustRespond(sent(6)), false, 'then quiet');
  });
});

// ------------------------------------------------------------------ third-party clients

void describe('third-party clients and fetch sessions', { timeout: 180_000 }, () => {
  // @platformatic/kafka 1.x sends sessionId 0 with sessionEpoch 0 on every fetch: each fetch opens
  // a session it never continues. Its answers must not depend on whether there was room for one.
  void test('@platformatic/kafka (epoch 0 on every fetch) reads right with and without room for a session', async () => {
    await withEnv({ 'max.incremental.fetch.session.cache.slots': '2' }, async (env) => {
      const topicId = await createTopic(env, 'plt', 1);
      await produce(env, 'plt', 0, 3);
      const consumer = new Consumer({
        groupId: 'sessions-test',
        clientId: 'sessions-test',
        bootstrapBrokers: [`127.0.0.1:${env.port}`],
        retries: 0,
      });
      try {
        for (let i = 0; i < 4; i++) {
          const res = await consumer.fetch({
            node: env.broker.nodeId,
            topics: [
              {
                topicId: uuidText(topicId),
                partitions: [
                  {
                    partition: 0,
                    currentLeaderEpoch: -1,
                    fetchOffset: 1n,
                    lastFetchedEpoch: -1,
                    partitionMaxBytes: 1 << 20,
                  },
                ],
              },
            ],
            maxWaitTime: 0,
          });
          assert.equal(res.errorCode, 0, `fetch ${i} succeeds`);
          assert.equal(res.sessionId !== 0, i < 2, `fetch ${i}: a session only while there is room`);
          const partition = res.responses[0]?.partitions[0];
          assert.equal(partition?.errorCode, 0, 'partition answered');
          assert.equal(partition?.highWatermark, 3n, 'high watermark');
          const values = (partition?.records ?? []).flatMap((batch) =>
            batch.records.map((r) => r.value?.toString() ?? ''),
          );
          assert.ok(
            values.includes('plt-0-1') && values.includes('plt-0-2'),
            `fetch ${i} records: ${values.join(',')}`,
          );
        }
        assert.equal(env.broker.fetchSessions.size, 2, 'the cache stays bounded');
      } finally {
        await consumer.close();
      }
    });
  });

  void test('librdkafka (kcat) and kafka-python fetch sessionless: no session is opened', async (t) => {
    const kcat = await have('kcat');
    const kafkaPython = await have(PYTHON, ['-c', 'import kafka']);
    if (!kcat && !kafkaPython) return t.skip('neither kcat nor kafka-python is installed');
    await withEnv({}, async (env) => {
      await createTopic(env, 'rd', 1);
      await produce(env, 'rd', 0, 5);
      const bootstrap = `127.0.0.1:${env.port}`;
      if (kcat) {
        const r = await run('kcat', ['-C', '-b', bootstrap, '-t', 'rd', '-o', 'beginning', '-e', '-q']);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout.trim().split('\n').length, 5, 'kcat read every record');
      }
      if (kafkaPython) {
        const seen = await pythonConsumeAll(PYTHON_SCRIPTS.kafkaPython, bootstrap, 'rd');
        assert.equal(seen.length, 5, 'kafka-python read every record');
      }
      assert.equal(env.broker.fetchSessions.size, 0, 'no session opened');
    });
  });
});
