/**
 * Samsa's Consumer with kafkajs on a real broker:
 * - 2,000 records with keys and headers produced by kafkajs (its Java-compatible partitioner,
 *   plain and gzip batches) are read exactly by a Samsa consumer in a group: values, keys,
 *   headers, the Java partition of each key, per-partition order and continuous offsets.
 * - A mixed group — one kafkajs member, one Samsa member, both with 'roundrobin' or both with
 *   'range' — splits the partitions with no overlap and no gap whichever of them leads (the
 *   leader computes everyone's assignment, so each side decodes the other's protocol bytes),
 *   and each member reads exactly the records of its partitions.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import kafkajs, {
  CompressionTypes,
  Kafka,
  logLevel,
  type Admin as KafkajsAdmin,
  type Consumer as KafkajsConsumer,
  type PartitionAssigner,
} from 'kafkajs';

import { Consumer, type AssignorName, type ConsumerRecord } from '../../src/client/consumer.js';
import { keyOf } from '../../src/client/topic-partition.js';
import { javaPartition } from '../broker/interop/support.js';
import { startTestBroker, type TestBroker } from './support.js';

const { AssignerProtocol, PartitionAssigners } = kafkajs;

let broker: TestBroker;
let kafka: Kafka;
let admin: KafkajsAdmin;
const closers: (() => Promise<void>)[] = [];

async function waitFor(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** kafkajs's round-robin assigner under Kafka's protocol name (its own is 'RoundRobinAssigner'). */
const kafkajsRoundRobin: PartitionAssigner = (config) => ({
  ...PartitionAssigners.roundRobin(config),
  name: 'roundrobin',
});

/** Kafka's RangeAssignor for kafkajs (which has none): contiguous runs per topic, members by id. */
const kafkajsRange: PartitionAssigner = ({ cluster }) => ({
  name: 'range',
  version: 0,
  assign({ members, topics }) {
    const ids = members.map((m) => m.memberId).sort();
    const assignment = new Map<string, Record<string, number[]>>(ids.map((id) => [id, {}]));
    for (const topic of topics) {
      const count = cluster.findTopicPartitionMetadata(topic).length;
      const per = Math.floor(count / ids.length);
      const extra = count % ids.length;
      ids.forEach((id, i) => {
        const start = per * i + Math.min(i, extra);
        const length = per + (i < extra ? 1 : 0);
        assignment.get(id)![topic] = Array.from({ length }, (_, j) => start + j);
      });
    }
    return Promise.resolve(
      ids.map((memberId) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 0,
          assignment: assignment.get(memberId)!,
          userData: Buffer.alloc(0),
        }),
      })),
    );
  },
  protocol({ topics }) {
    return {
      name: 'range',
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }),
    };
  },
});

function samsaConsumer(groupId: string, strategy: AssignorName[], log: string[] = []): Consumer {
  const c = new Consumer({
    log: (m) => void log.push(m),
    bootstrapServers: broker.bootstrap,
    clientId: 'samsa-interop',
    groupId,
    autoOffsetReset: 'earliest',
    heartbeatIntervalMs: 100,
    sessionTimeoutMs: 6000,
    partitionAssignmentStrategy: strategy,
  });
  closers.push(() => c.close());
  return c;
}

void describe('Consumer interop with kafkajs', { timeout: 180_000 }, () => {
  before(async () => {
    broker = await startTestBroker({
      'num.partitions': '1',
      'group.initial.rebalance.delay.ms': '0',
      'group.min.session.timeout.ms': '500',
      'offsets.topic.num.partitions': '3',
    });
    kafka = new Kafka({
      brokers: [broker.bootstrap],
      clientId: 'interop-kafkajs',
      logLevel: logLevel.NOTHING,
    });
    admin = kafka.admin();
    await admin.connect();
  });

  after(async () => {
    for (const close of closers) await close().catch(() => undefined);
    await admin?.disconnect();
    await broker?.stop();
  });

  void test('2,000 kafkajs records with keys and headers are read exactly by a Samsa group member', async () => {
    const topic = 'kjs-exact';
    const partitionCount = 4;
    const count = 2000;
    await admin.createTopics({ topics: [{ topic, numPartitions: partitionCount }], waitForLeaders: true });
    const keyOf = (i: number): string => `key-${i % 37}`;
    const producer = kafka.producer();
    await producer.connect();
    for (let start = 0; start < count; start += 250) {
      await producer.send({
        topic,
        compression: (start / 250) % 2 === 0 ? CompressionTypes.None : CompressionTypes.GZIP,
        messages: Array.from({ length: 250 }, (_, j) => {
          const i = start + j;
          return {
            key: keyOf(i),
            value: `value-${i}`,
            headers: { n: String(i), kind: i % 2 === 0 ? 'even' : 'odd', empty: '' },
          };
        }),
      });
    }
    await producer.disconnect();

    const c = samsaConsumer('g-kjs-exact', ['range', 'cooperative-sticky']);
    c.subscribe([topic]);
    const records: ConsumerRecord[] = [];
    const deadline = Date.now() + 30_000;
    while (records.length < count && Date.now() < deadline) records.push(...(await c.poll(500)));
    assert.equal(records.length, count, 'every record, none twice');
    assert.deepEqual(await c.poll(200), [], 'nothing more');

    const seen = new Set<number>();
    const lastIndex = new Map<number, number>();
    const nextOffset = new Map<number, bigint>();
    for (const r of records) {
      const value = r.value!.toString();
      const i = Number(value.slice('value-'.length));
      assert.equal(value, `value-${i}`);
      assert.ok(!seen.has(i), `value-${i} read once`);
      seen.add(i);
      assert.equal(r.key?.toString(), keyOf(i), `key of value-${i}`);
      assert.deepEqual(
        r.headers.map((h) => [h.key, h.value?.toString()]),
        [
          ['n', String(i)],
          ['kind', i % 2 === 0 ? 'even' : 'odd'],
          ['empty', ''],
        ],
        `headers of value-${i}, in order`,
      );
      assert.equal(
        r.partition,
        javaPartition(Buffer.from(keyOf(i)), partitionCount),
        `Java partition of ${keyOf(i)}`,
      );
      assert.ok(i > (lastIndex.get(r.partition) ?? -1), `per-partition order at value-${i}`);
      lastIndex.set(r.partition, i);
      const expected = nextOffset.get(r.partition) ?? 0n;
      assert.equal(r.offset, expected, `continuous offsets in partition ${r.partition}`);
      nextOffset.set(r.partition, expected + 1n);
    }
    await c.close();
    const committed = await admin.fetchOffsets({ groupId: 'g-kjs-exact', topics: [topic] });
    for (const p of committed[0]!.partitions) {
      assert.equal(
        BigInt(p.offset),
        nextOffset.get(p.partition) ?? 0n,
        `partition ${p.partition} committed at its end`,
      );
    }
  });

  for (const strategy of ['roundrobin', 'range'] as const) {
    for (const leader of ['kafkajs', 'samsa'] as const) {
      void test(`mixed group (${strategy}, ${leader} leads): kafkajs and Samsa members split the partitions and read their own`, async () => {
        const topic = `mixed-${strategy}-${leader}`;
        const groupId = `g-${topic}`;
        const partitionCount = 6;
        const all = Array.from({ length: partitionCount }, (_, p) => `${topic}:${p}`);
        await admin.createTopics({
          topics: [{ topic, numPartitions: partitionCount }],
          waitForLeaders: true,
        });

        let kjsAssignment: string[] = [];
        const kjsRecords: { partition: number; value: string }[] = [];
        const kjs: KafkajsConsumer = kafka.consumer({
          groupId,
          partitionAssigners: [strategy === 'roundrobin' ? kafkajsRoundRobin : kafkajsRange],
          sessionTimeout: 6000,
          heartbeatInterval: 100,
          rebalanceTimeout: 10_000,
          maxWaitTimeInMs: 100,
        });
        kjs.on(kjs.events.GROUP_JOIN, (e) => {
          kjsAssignment = Object.entries(e.payload.memberAssignment).flatMap(([t, ps]) =>
            ps.map((p) => `${t}:${p}`),
          );
        });
        closers.push(() => kjs.disconnect());
        const startKafkajs = async (): Promise<void> => {
          await kjs.connect();
          await kjs.subscribe({ topics: [topic], fromBeginning: true });
          await kjs.run({
            eachMessage: ({ partition, message }) => {
              kjsRecords.push({ partition, value: message.value!.toString() });
              return Promise.resolve();
            },
          });
        };

        const samsaLog: string[] = [];
        const samsa = samsaConsumer(groupId, [strategy], samsaLog);
        const samsaRecords: ConsumerRecord[] = [];
        const startSamsa = (): Promise<void> => {
          samsa.subscribe([topic]);
          return samsa.run({ eachRecord: (r) => void samsaRecords.push(r) });
        };

        let samsaRun: Promise<void>;
        if (leader === 'kafkajs') {
          await startKafkajs();
          await waitFor('kafkajs owns all partitions', () => kjsAssignment.length === partitionCount);
          samsaRun = startSamsa();
        } else {
          samsaRun = startSamsa();
          await waitFor('Samsa owns all partitions', () => samsa.assignment().length === partitionCount);
          await startKafkajs();
        }
        const samsaAssignment = (): string[] => samsa.assignment().map(keyOf);
        await waitFor(
          'both members hold 3 partitions',
          () => kjsAssignment.length === 3 && samsaAssignment().length === 3,
        );
        const split = [...kjsAssignment, ...samsaAssignment()];
        assert.deepEqual([...split].sort(), [...all].sort(), `no overlap, no gap: ${JSON.stringify(split)}`);
        const joins = samsaLog.filter((m) => m.includes('joined generation'));
        assert.equal(
          joins[joins.length - 1]?.includes('(leader)'),
          leader === 'samsa',
          `the ${leader} member led the last rebalance: ${joins.join(' | ')}`,
        );
        const ids = (await admin.describeGroups([groupId])).groups[0]!;
        assert.equal(ids.protocol, strategy, 'the group runs the common protocol');
        assert.equal(ids.members.length, 2);

        const producer = kafka.producer();
        await producer.connect();
        await producer.send({
          topic,
          messages: Array.from({ length: 120 }, (_, i) => ({
            key: null,
            value: `m${i}`,
            partition: i % partitionCount,
          })),
        });
        await producer.disconnect();
        await waitFor('all 120 read', () => kjsRecords.length + samsaRecords.length >= 120);
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(kjsRecords.length + samsaRecords.length, 120, 'each record read once');
        for (const r of samsaRecords) {
          assert.ok(
            samsaAssignment().includes(`${topic}:${r.partition}`),
            `Samsa read only its partitions (${r.partition})`,
          );
        }
        for (const r of kjsRecords) {
          assert.ok(
            kjsAssignment.includes(`${topic}:${r.partition}`),
            `kafkajs read only its partitions (${r.partition})`,
          );
        }
        const values = [...kjsRecords.map((r) => r.value), ...samsaRecords.map((r) => r.value!.toString())];
        assert.deepEqual(values.sort(), Array.from({ length: 120 }, (_, i) => `m${i}`).sort());

        await samsa.close();
        await samsaRun;
        await kjs.disconnect();
      });
    }
  }
});
