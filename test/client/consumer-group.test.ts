/**
 * Samsa consumers in groups on a real broker: partitions split with no overlap and no gap and
 * move when members come and go; the eager protocol revokes everything, cooperative-sticky only
 * what moves; offsets committed on revocation let the next owner continue without loss or
 * duplicates; heartbeats keep a slow member in the group; a member that stops polling for
 * maxPollIntervalMs leaves; static members come back without a rebalance; a RegExp subscription
 * picks up new topics. Input comes from kafkajs. Heartbeat and fetch errors a real broker does
 * not produce on demand are scripted by a fake coordinator.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';

import { Kafka, logLevel, type Admin as KafkajsAdmin } from 'kafkajs';

import {
  Consumer,
  type AssignorName,
  type ConsumerOptions,
  type ConsumerRecord,
  type TopicPartition,
} from '../../src/client/consumer.js';
import type { ClientOptions } from '../../src/client/cluster.js';
import { keyOf } from '../../src/client/topic-partition.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { ApiKey, apis } from '../../src/protocol/generated/api-keys.js';
import type { FetchRequest } from '../../src/protocol/generated/message/FetchRequest.js';
import type { JoinGroupRequest } from '../../src/protocol/generated/message/JoinGroupRequest.js';
import type { ListOffsetsRequest } from '../../src/protocol/generated/message/ListOffsetsRequest.js';
import type { OffsetCommitRequest } from '../../src/protocol/generated/message/OffsetCommitRequest.js';
import type { OffsetFetchRequest } from '../../src/protocol/generated/message/OffsetFetchRequest.js';
import type { SyncGroupRequest } from '../../src/protocol/generated/message/SyncGroupRequest.js';
import type { MessageCodec } from '../../src/protocol/primitives/codec.js';
import {
  apiVersionsBody,
  respond,
  ScriptedServer,
  startTestBroker,
  type Received,
  type TestBroker,
} from './support.js';

let broker: TestBroker;
let kafka: Kafka;
let admin: KafkajsAdmin;
const members: Member[] = [];

/** Waits until `condition` holds, polling every 25 ms, failing after `timeoutMs`. */
async function waitFor(what: string, condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A group member running run() in the background, recording records and rebalance callbacks. */
class Member {
  readonly consumer: Consumer;
  readonly records: ConsumerRecord[] = [];
  readonly events: { kind: 'assigned' | 'revoked' | 'lost'; partitions: string[] }[] = [];
  private loop: Promise<void> | null = null;
  loopError: unknown = null;

  constructor(
    readonly name: string,
    options: Partial<ClientOptions & ConsumerOptions>,
    private readonly onRecord: (r: ConsumerRecord) => Promise<void> | void = () => undefined,
  ) {
    this.consumer = new Consumer({
      bootstrapServers: broker.bootstrap,
      clientId: name,
      autoOffsetReset: 'earliest',
      heartbeatIntervalMs: 100,
      sessionTimeoutMs: 3000,
      ...options,
    });
    members.push(this);
  }

  start(topics: string[] | RegExp): this {
    this.consumer.subscribe(topics, {
      onPartitionsAssigned: (tps) => void this.events.push({ kind: 'assigned', partitions: tps.map(keyOf) }),
      onPartitionsRevoked: (tps) => void this.events.push({ kind: 'revoked', partitions: tps.map(keyOf) }),
      onPartitionsLost: (tps) => void this.events.push({ kind: 'lost', partitions: tps.map(keyOf) }),
    });
    this.loop = this.consumer
      .run({
        eachRecord: async (r) => {
          this.records.push(r);
          await this.onRecord(r);
        },
      })
      .catch((e: unknown) => {
        this.loopError = e;
      });
    return this;
  }

  assignment(): string[] {
    return this.consumer.assignment().map(keyOf);
  }

  revokedPartitions(): string[] {
    return this.events.filter((e) => e.kind === 'revoked').flatMap((e) => e.partitions);
  }

  async stop(): Promise<void> {
    await this.consumer.close();
    await this.loop;
    assert.equal(this.loopError, null, `${this.name}'s run() ended without error`);
  }
}

function partitions(topic: string, n: number): string[] {
  return Array.from({ length: n }, (_, p) => `${topic}:${p}`);
}

/** No overlap and no gap: the members' assignments are disjoint and cover `all`. */
function assertSplit(ms: Member[], all: string[]): void {
  const seen = new Map<string, string>();
  for (const m of ms) {
    for (const tp of m.assignment()) {
      assert.ok(!seen.has(tp), `${tp} assigned to both ${seen.get(tp)} and ${m.name}`);
      seen.set(tp, m.name);
    }
  }
  assert.deepEqual([...seen.keys()].sort(), [...all].sort(), 'every partition assigned');
}

function covers(ms: Member[], all: string[]): boolean {
  const got = ms.flatMap((m) => m.assignment());
  return got.length === all.length && new Set(got).size === all.length && all.every((tp) => got.includes(tp));
}

async function createTopic(topic: string, numPartitions: number): Promise<void> {
  await admin.createTopics({ topics: [{ topic, numPartitions }], waitForLeaders: true });
}

async function produce(topic: string, count: number, from = 0, partitionCount = 6): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({
      topic,
      messages: Array.from({ length: count }, (_, i) => ({
        key: null,
        value: `${topic}-${from + i}`,
        partition: (from + i) % partitionCount,
      })),
    });
  } finally {
    await producer.disconnect();
  }
}

void describe('Consumer groups', { timeout: 180_000 }, () => {
  before(async () => {
    broker = await startTestBroker({
      'num.partitions': '1',
      'group.initial.rebalance.delay.ms': '0',
      'group.min.session.timeout.ms': '500',
      'offsets.topic.num.partitions': '3',
    });
    kafka = new Kafka({
      brokers: [broker.bootstrap],
      clientId: 'group-test-kafkajs',
      logLevel: logLevel.NOTHING,
    });
    admin = kafka.admin();
    await admin.connect();
  });

  after(async () => {
    await Promise.allSettled(members.map((m) => m.consumer.close()));
    await admin?.disconnect();
    await broker?.stop();
  });

  for (const strategy of ['range', 'roundrobin'] as AssignorName[]) {
    void test(`${strategy} (eager): two members split 6 partitions; a member leaving hands over everything, committed, exactly once`, async () => {
      const topic = `split-${strategy}`;
      const all = partitions(topic, 6);
      await createTopic(topic, 6);
      await produce(topic, 60);
      const options = { groupId: `g-split-${strategy}`, partitionAssignmentStrategy: [strategy] };
      const a = new Member('a', options).start([topic]);
      await waitFor('a owns all partitions', () => covers([a], all));
      await waitFor('a read the first 60', () => a.records.length === 60);
      const b = new Member('b', options).start([topic]);
      await waitFor('a and b split the partitions', () => covers([a, b], all) && b.assignment().length === 3);
      assertSplit([a, b], all);
      assert.deepEqual(a.revokedPartitions().sort(), all, 'eager: a revoked all six before rejoining');
      await produce(topic, 60, 60);
      await waitFor('the next 60 are read', () => a.records.length + b.records.length === 120);
      await a.stop();
      await waitFor('b owns all partitions', () => covers([b], all));
      await produce(topic, 60, 120);
      await waitFor('b reads the last 60', () => a.records.length + b.records.length === 180);
      await new Promise((r) => setTimeout(r, 300));
      const values = [...a.records, ...b.records].map((r) => r.value!.toString()).sort();
      assert.deepEqual(
        values,
        Array.from({ length: 180 }, (_, i) => `${topic}-${i}`).sort(),
        'every record read exactly once across the group',
      );
      await b.stop();
      const committed = await admin.fetchOffsets({ groupId: options.groupId, topics: [topic] });
      assert.deepEqual(
        committed[0]!.partitions.map((p) => p.offset),
        ['30', '30', '30', '30', '30', '30'],
        'everything committed',
      );
    });
  }

  void test('cooperative-sticky: a joining member takes partitions in two rebalances; the kept ones are never revoked', async () => {
    const topic = 'coop';
    const all = partitions(topic, 6);
    await createTopic(topic, 6);
    await produce(topic, 60);
    const options = {
      groupId: 'g-coop',
      partitionAssignmentStrategy: ['cooperative-sticky'] as AssignorName[],
    };
    const a = new Member('a', options).start([topic]);
    await waitFor('a owns all partitions', () => covers([a], all));
    await waitFor('a read 60', () => a.records.length === 60);
    const b = new Member('b', options).start([topic]);
    await waitFor('a and b share', () => covers([a, b], all) && b.assignment().length === 3);
    assertSplit([a, b], all);
    const kept = a.assignment();
    assert.deepEqual(
      a.revokedPartitions().sort(),
      all.filter((tp) => !kept.includes(tp)).sort(),
      'a revoked exactly the partitions that moved to b',
    );
    assert.ok(
      b.events.every((e) => e.kind !== 'revoked' && e.kind !== 'lost'),
      'b revoked nothing',
    );
    await produce(topic, 60, 60);
    await waitFor('the next 60 are read', () => a.records.length + b.records.length === 120);
    const c = new Member('c', options).start([topic]);
    await waitFor('three members share', () => covers([a, b, c], all) && c.assignment().length === 2);
    assertSplit([a, b, c], all);
    for (const m of [a, b, c]) {
      const revoked = m.revokedPartitions();
      assert.ok(
        m.assignment().every((tp) => !revoked.includes(tp)),
        `${m.name} holds none of the partitions it revoked (revoked ${revoked.join(', ')})`,
      );
      assert.ok(
        m.events.every((e) => e.kind !== 'lost'),
        `${m.name} lost nothing`,
      );
    }
    assert.equal(new Set(a.revokedPartitions()).size, a.revokedPartitions().length, 'nothing revoked twice');
    await produce(topic, 60, 120);
    await waitFor(
      'the last 60 are read',
      () => a.records.length + b.records.length + c.records.length === 180,
    );
    const values = [...a.records, ...b.records, ...c.records].map((r) => r.value!.toString());
    assert.equal(new Set(values).size, 180, 'no record read twice');
    await Promise.all([a.stop(), b.stop(), c.stop()]);
  });

  void test('heartbeats keep a member whose handler takes longer than sessionTimeoutMs', async () => {
    const topic = 'slow';
    const all = partitions(topic, 4);
    await createTopic(topic, 4);
    const options = {
      groupId: 'g-slow',
      sessionTimeoutMs: 1000,
      heartbeatIntervalMs: 100,
      maxPollIntervalMs: 20_000,
      partitionAssignmentStrategy: ['range'] as AssignorName[],
    };
    let slowDone = false;
    const slow = new Member('slow', options, async () => {
      await new Promise((r) => setTimeout(r, 2500));
      slowDone = true;
    }).start([topic]);
    const other = new Member('other', options).start([topic]);
    await waitFor(
      'both members have partitions',
      () => covers([slow, other], all) && slow.assignment().length === 2,
    );
    const slowPartitions = slow.assignment();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [{ key: null, value: 'slow-record', partition: Number(slowPartitions[0]!.split(':')[1]) }],
    });
    await producer.disconnect();
    await waitFor('the slow handler finished', () => slowDone, 10_000);
    assert.deepEqual(slow.assignment(), slowPartitions, 'the slow member kept its partitions');
    assert.ok(
      slow.events.every((e) => e.kind === 'assigned') && other.events.every((e) => e.kind === 'assigned'),
      'no rebalance: nobody revoked or lost anything',
    );
    await Promise.all([slow.stop(), other.stop()]);
  });

  void test('a member that does not poll within maxPollIntervalMs leaves; it rejoins at its next poll', async () => {
    const topic = 'stuck';
    const all = partitions(topic, 2);
    await createTopic(topic, 2);
    const options = {
      groupId: 'g-stuck',
      sessionTimeoutMs: 5000,
      maxPollIntervalMs: 1000,
      partitionAssignmentStrategy: ['range'] as AssignorName[],
    };
    let release: () => void = () => undefined;
    let stuckOnce = true;
    const stuck = new Member('stuck', options, async () => {
      if (!stuckOnce) return;
      stuckOnce = false;
      await new Promise<void>((r) => (release = r));
    }).start([topic]);
    const other = new Member('other', options).start([topic]);
    await waitFor(
      'both members have partitions',
      () => covers([stuck, other], all) && other.assignment().length === 1,
    );
    await produce(topic, 2, 0, 2);
    await waitFor('other owns everything once stuck left', () => other.assignment().length === 2, 10_000);
    release();
    await waitFor(
      'stuck is back with a partition',
      () => covers([stuck, other], all) && stuck.assignment().length === 1,
    );
    assert.ok(
      stuck.events.some((e) => e.kind === 'lost' || e.kind === 'revoked'),
      'the stuck member gave its partition up',
    );
    await Promise.all([stuck.stop(), other.stop()]);
  });

  void test('close() cuts short a join that waits for a busy member', async () => {
    const topic = 'busy';
    await createTopic(topic, 2);
    const options = {
      groupId: 'g-busy',
      maxPollIntervalMs: 30_000,
      partitionAssignmentStrategy: ['range'] as AssignorName[],
    };
    let release: () => void = () => undefined;
    let busyOnce = true;
    const busy = new Member('busy', options, async () => {
      if (!busyOnce) return;
      busyOnce = false;
      await new Promise<void>((r) => (release = r));
    }).start([topic]);
    await waitFor('busy owns both partitions', () => busy.assignment().length === 2);
    await produce(topic, 1, 0, 2);
    await waitFor('busy is inside its handler', () => !busyOnce);
    const joining = new Member('joining', options).start([topic]);
    // joining's JoinGroup now waits for busy, which will not poll until released.
    await new Promise((r) => setTimeout(r, 500));
    const started = Date.now();
    await joining.stop();
    const tookMs = Date.now() - started;
    assert.ok(tookMs < 5000, `close returned in ${tookMs} ms, not after the 30 s rebalance timeout`);
    release();
    await waitFor(
      'busy owns both partitions again',
      () => busy.assignment().length === 2 && busy.records.length === 1,
    );
    await busy.stop();
  });

  void test('static members: one that restarts with its groupInstanceId gets its partitions back without a rebalance', async () => {
    const topic = 'static';
    const all = partitions(topic, 4);
    await createTopic(topic, 4);
    const options = (id: string): Partial<ConsumerOptions> => ({
      groupId: 'g-static',
      groupInstanceId: id,
      sessionTimeoutMs: 10_000,
      partitionAssignmentStrategy: ['range'],
    });
    const a = new Member('a', options('instance-a')).start([topic]);
    const b = new Member('b', options('instance-b')).start([topic]);
    await waitFor('a and b share', () => covers([a, b], all) && a.assignment().length === 2);
    const before = a.assignment();
    await a.stop();
    const a2 = new Member('a2', options('instance-a')).start([topic]);
    await waitFor('a2 has a assignment', () => a2.assignment().length === 2);
    assert.deepEqual(a2.assignment(), before, 'same partitions as before the restart');
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(
      b.events.every((e) => e.kind === 'assigned') && b.events.length === 1,
      `b saw no rebalance (${JSON.stringify(b.events)})`,
    );
    await Promise.all([a2.stop(), b.stop()]);
  });

  void test('a RegExp subscription matches whole names and picks up topics created later', async () => {
    await createTopic('pat-one', 2);
    await createTopic('xpat-one', 1);
    const a = new Member('a', { groupId: 'g-pattern', metadataMaxAgeMs: 300 }).start(/pat-.*/);
    await waitFor('pat-one assigned', () => covers([a], partitions('pat-one', 2)));
    assert.deepEqual(a.consumer.subscription(), ['pat-one'], 'xpat-one does not match the whole pattern');
    await createTopic('pat-two', 1);
    await waitFor('pat-two picked up', () => covers([a], [...partitions('pat-one', 2), 'pat-two:0']));
    await produce('pat-two', 3, 0, 1);
    await waitFor('records of the new topic read', () => a.records.length === 3);
    await a.stop();
  });

  void test('a group subscribed before its topic exists starts reading once it is created', async () => {
    // Without auto-creation (the broker would make it with one partition at the first Metadata).
    const a = new Member('a', { groupId: 'g-later', allowAutoTopicCreation: false }).start(['later']);
    await waitFor('a joined', () => a.events.some((e) => e.kind === 'assigned'));
    assert.deepEqual(a.assignment(), [], 'nothing to assign yet');
    await createTopic('later', 2);
    await waitFor('the new topic is assigned', () => a.assignment().length === 2, 10_000);
    await produce('later', 4, 0, 2);
    await waitFor('its records are read', () => a.records.length === 4);
    await a.stop();
  });

  void test('unsubscribe revokes and leaves; subscribe again rejoins', async () => {
    const topic = 'resub';
    await createTopic(topic, 2);
    const c = new Consumer({
      bootstrapServers: broker.bootstrap,
      groupId: 'g-resub',
      autoOffsetReset: 'earliest',
      heartbeatIntervalMs: 100,
    });
    members.push({ consumer: c } as Member);
    const revoked: TopicPartition[] = [];
    c.subscribe([topic], { onPartitionsRevoked: (tps) => void revoked.push(...tps) });
    await produce(topic, 4, 0, 2);
    let got = 0;
    const deadline = Date.now() + 10_000;
    while (got < 4 && Date.now() < deadline) got += (await c.poll(200)).length;
    assert.equal(got, 4);
    await c.unsubscribe();
    assert.deepEqual(revoked.map(keyOf).sort(), [`${topic}:0`, `${topic}:1`]);
    assert.deepEqual(c.assignment(), []);
    const described = await admin.describeGroups(['g-resub']);
    assert.equal(described.groups[0]!.members.length, 0, 'the member left the group');
    const committed = await admin.fetchOffsets({ groupId: 'g-resub', topics: [topic] });
    assert.deepEqual(
      committed[0]!.partitions.map((p) => p.offset),
      ['2', '2'],
      'auto-committed on revoke',
    );
    c.subscribe([topic]);
    while (c.assignment().length < 2 && Date.now() < deadline + 5000) await c.poll(100);
    assert.equal(c.assignment().length, 2, 'rejoined');
    await c.close();
  });
});

/**
 * A scripted broker that is also the group coordinator: one topic `t` with one partition, a
 * one-member group, and Heartbeat and Fetch answers the test chooses — for the errors a real
 * broker will not produce on demand.
 */
class FakeCoordinator {
  readonly heartbeatErrors: number[] = [];
  readonly fetchErrors: number[] = [];
  generation = 0;
  private memberCount = 0;
  /** Per connection, answers leave in request order (Kafka's rule), delayed ones included. */
  private readonly queues = new WeakMap<Socket, Promise<void>>();

  private constructor(readonly server: ScriptedServer) {}

  static async start(): Promise<FakeCoordinator> {
    const f = new FakeCoordinator(await ScriptedServer.start());
    f.server.onRequest = (r) => f.answer(r);
    return f;
  }

  requests(apiKey: number): Received[] {
    return this.server.requests.filter((r) => r.header.requestApiKey === apiKey);
  }

  private answer(r: Received): void {
    const port = this.server.port;
    const write = <T>(codec: MessageCodec<T>, body: T, delayMs = 0): void => {
      const previous = this.queues.get(r.socket) ?? Promise.resolve();
      const next = previous
        .then(() => (delayMs > 0 ? new Promise((resolve) => setTimeout(resolve, delayMs)) : undefined))
        .then(() => void r.socket.write(respond(r, codec, body)));
      this.queues.set(r.socket, next);
    };
    switch (r.header.requestApiKey) {
      case ApiKey.ApiVersions:
        return write(
          apis.ApiVersions.response,
          apiVersionsBody(ErrorCode.NONE, [
            [ApiKey.ApiVersions, 0, 4],
            [ApiKey.Metadata, 0, 12],
            [ApiKey.FindCoordinator, 0, 3],
            [ApiKey.JoinGroup, 0, 9],
            [ApiKey.SyncGroup, 0, 5],
            [ApiKey.Heartbeat, 0, 4],
            [ApiKey.LeaveGroup, 0, 5],
            [ApiKey.OffsetFetch, 0, 7],
            [ApiKey.OffsetCommit, 0, 8],
            [ApiKey.ListOffsets, 1, 7],
            [ApiKey.Fetch, 4, 12],
          ]),
        );
      case ApiKey.Metadata:
        return write(apis.Metadata.response, {
          ...apis.Metadata.response.create(),
          clusterId: 'fake',
          controllerId: 1,
          brokers: [{ nodeId: 1, host: '127.0.0.1', port, rack: null }],
          topics: [
            {
              ...apis.Metadata.response.structs.MetadataResponseTopic(),
              name: 't',
              partitions: [
                {
                  ...apis.Metadata.response.structs.MetadataResponsePartition(),
                  partitionIndex: 0,
                  leaderId: 1,
                  leaderEpoch: 0,
                  replicaNodes: [1],
                  isrNodes: [1],
                },
              ],
            },
          ],
        });
      case ApiKey.FindCoordinator:
        return write(apis.FindCoordinator.response, {
          ...apis.FindCoordinator.response.create(),
          nodeId: 1,
          host: '127.0.0.1',
          port,
        });
      case ApiKey.JoinGroup: {
        const body = r.body as JoinGroupRequest;
        const protocol = body.protocols[0]!;
        if (body.memberId === '') {
          return write(apis.JoinGroup.response, {
            ...apis.JoinGroup.response.create(),
            errorCode: ErrorCode.MEMBER_ID_REQUIRED,
            memberId: `member-${++this.memberCount}`,
          });
        }
        this.generation++;
        return write(apis.JoinGroup.response, {
          ...apis.JoinGroup.response.create(),
          generationId: this.generation,
          protocolType: 'consumer',
          protocolName: protocol.name,
          leader: body.memberId,
          memberId: body.memberId,
          members: [{ memberId: body.memberId, groupInstanceId: null, metadata: protocol.metadata }],
        });
      }
      case ApiKey.SyncGroup: {
        const body = r.body as SyncGroupRequest;
        return write(apis.SyncGroup.response, {
          ...apis.SyncGroup.response.create(),
          protocolType: 'consumer',
          protocolName: body.protocolName,
          assignment:
            body.assignments.find((a) => a.memberId === body.memberId)?.assignment ?? Buffer.alloc(0),
        });
      }
      case ApiKey.Heartbeat:
        return write(apis.Heartbeat.response, {
          ...apis.Heartbeat.response.create(),
          errorCode: this.heartbeatErrors.shift() ?? ErrorCode.NONE,
        });
      case ApiKey.LeaveGroup:
        return write(apis.LeaveGroup.response, { ...apis.LeaveGroup.response.create(), members: [] });
      case ApiKey.OffsetFetch: {
        const body = r.body as OffsetFetchRequest;
        return write(apis.OffsetFetch.response, {
          ...apis.OffsetFetch.response.create(),
          topics: (body.topics ?? []).map((t) => ({
            name: t.name,
            partitions: t.partitionIndexes.map((partitionIndex) => ({
              partitionIndex,
              committedOffset: -1n,
              committedLeaderEpoch: -1,
              metadata: '',
              errorCode: ErrorCode.NONE,
            })),
          })),
        });
      }
      case ApiKey.OffsetCommit: {
        const body = r.body as OffsetCommitRequest;
        return write(apis.OffsetCommit.response, {
          ...apis.OffsetCommit.response.create(),
          topics: body.topics.map((t) => ({
            name: t.name,
            partitions: t.partitions.map((p) => ({
              partitionIndex: p.partitionIndex,
              errorCode: ErrorCode.NONE,
            })),
          })),
        });
      }
      case ApiKey.ListOffsets: {
        const body = r.body as ListOffsetsRequest;
        return write(apis.ListOffsets.response, {
          ...apis.ListOffsets.response.create(),
          topics: body.topics.map((t) => ({
            name: t.name,
            partitions: t.partitions.map((p) => ({
              partitionIndex: p.partitionIndex,
              errorCode: ErrorCode.NONE,
              oldStyleOffsets: [],
              timestamp: -1n,
              offset: 0n,
              leaderEpoch: 0,
            })),
          })),
        });
      }
      case ApiKey.Fetch: {
        const body = r.body as FetchRequest;
        const errorCode = this.fetchErrors.shift() ?? ErrorCode.NONE;
        // An empty log: answer after a short wait, as a broker does when minBytes is not reached.
        return write(
          apis.Fetch.response,
          {
            ...apis.Fetch.response.create(),
            responses: body.topics.map((t) => ({
              topic: t.topic,
              topicId: t.topicId,
              partitions: t.partitions.map((p) => ({
                ...apis.Fetch.response.structs.PartitionData(),
                partitionIndex: p.partition,
                errorCode,
                highWatermark: 0n,
                lastStableOffset: 0n,
                logStartOffset: 0n,
                records: Buffer.alloc(0),
              })),
            })),
          },
          Math.min(body.maxWaitMs, 50),
        );
      }
    }
  }
}

void describe('group protocol errors (scripted coordinator)', { timeout: 60_000 }, () => {
  void test('heartbeat errors: rebalance → revoke and rejoin; unknown member / illegal generation → lost and rejoin; not coordinator → found again; fetch from a non-leader → metadata', async () => {
    const fake = await FakeCoordinator.start();
    const events: string[] = [];
    const c = new Consumer({
      bootstrapServers: `127.0.0.1:${fake.server.port}`,
      groupId: 'g-fake',
      heartbeatIntervalMs: 50,
      sessionTimeoutMs: 1000,
      autoOffsetReset: 'earliest',
      partitionAssignmentStrategy: ['range'],
      retryBackoffMs: 20,
    });
    c.subscribe(['t'], {
      onPartitionsAssigned: (tps) => void events.push(`assigned ${tps.map(keyOf).join(',')}`),
      onPartitionsRevoked: (tps) => void events.push(`revoked ${tps.map(keyOf).join(',')}`),
      onPartitionsLost: (tps) => void events.push(`lost ${tps.map(keyOf).join(',')}`),
    });
    const polling = { stop: false };
    const loop = (async () => {
      while (!polling.stop) await c.poll(50);
    })();
    const joins = (): JoinGroupRequest[] =>
      fake.requests(ApiKey.JoinGroup).map((r) => r.body as JoinGroupRequest);
    try {
      await waitFor('generation 1', () => fake.generation === 1 && c.assignment().length === 1);
      assert.deepEqual(
        joins().map((j) => j.memberId),
        ['', 'member-1'],
        'KIP-394: the first join asks for a member id, the second carries it',
      );
      assert.equal(joins()[1]!.rebalanceTimeoutMs, 300_000, 'rebalanceTimeoutMs is maxPollIntervalMs');
      assert.deepEqual(events, ['assigned t:0']);

      fake.heartbeatErrors.push(ErrorCode.REBALANCE_IN_PROGRESS);
      await waitFor('generation 2', () => fake.generation === 2 && c.assignment().length === 1);
      assert.deepEqual(events.slice(1), ['revoked t:0', 'assigned t:0'], 'eager: revoke all, then assign');
      assert.equal(joins().at(-1)!.memberId, 'member-1', 'rejoined with its member id');

      fake.heartbeatErrors.push(ErrorCode.UNKNOWN_MEMBER_ID);
      await waitFor('generation 3', () => fake.generation === 3 && c.assignment().length === 1);
      assert.deepEqual(events.slice(3), ['lost t:0', 'assigned t:0'], 'fenced: partitions lost, not revoked');
      assert.deepEqual(
        joins()
          .slice(-2)
          .map((j) => j.memberId),
        ['', 'member-2'],
        'the member id was reset',
      );

      fake.heartbeatErrors.push(ErrorCode.ILLEGAL_GENERATION);
      await waitFor('generation 4', () => fake.generation === 4 && c.assignment().length === 1);
      assert.deepEqual(events.slice(5), ['lost t:0', 'assigned t:0']);
      assert.equal(joins().at(-1)!.memberId, 'member-2', 'an illegal generation keeps the member id');

      const finds = fake.requests(ApiKey.FindCoordinator).length;
      fake.heartbeatErrors.push(ErrorCode.NOT_COORDINATOR);
      await waitFor(
        'the coordinator looked up again',
        () => fake.requests(ApiKey.FindCoordinator).length > finds,
      );
      const heartbeats = fake.requests(ApiKey.Heartbeat).length;
      await waitFor('heartbeats go on', () => fake.requests(ApiKey.Heartbeat).length > heartbeats + 2);
      assert.equal(fake.generation, 4, 'no rebalance for a moved coordinator');

      const metadata = fake.requests(ApiKey.Metadata).length;
      fake.fetchErrors.push(ErrorCode.NOT_LEADER_OR_FOLLOWER);
      await waitFor('metadata refreshed', () => fake.requests(ApiKey.Metadata).length > metadata);
      const fetches = fake.requests(ApiKey.Fetch).length;
      await waitFor('fetching goes on', () => fake.requests(ApiKey.Fetch).length > fetches + 2);
    } finally {
      polling.stop = true;
      await loop;
      await c.close();
      await fake.server.stop();
    }
    assert.equal(fake.requests(ApiKey.LeaveGroup).length, 1, 'a dynamic member leaves on close');
  });
});
