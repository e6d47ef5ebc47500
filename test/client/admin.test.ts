/**
 * Admin against a real broker: every method with exact expected values, cross-checked with
 * kafkajs (topics Samsa creates are what kafkajs describes, configs Samsa alters are what
 * kafkajs reads, offsets a kafkajs consumer group commits are what Samsa lists), and the error
 * cases a tool meets (existing topic, unknown topic, busy group, unreachable bootstrap).
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';

import { Kafka, logLevel, type Admin as KafkajsAdmin, type Consumer } from 'kafkajs';

import { Admin } from '../../src/client/admin.js';
import { BrokerConnection } from '../../src/client/connection.js';
import { ConfigError, KafkaClientError } from '../../src/client/errors.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { apis, ApiKey } from '../../src/protocol/generated/api-keys.js';
import type { DescribeGroupsResponse } from '../../src/protocol/generated/message/DescribeGroupsResponse.js';
import { apiVersionsBody, respond, ScriptedServer, startTestBroker, type TestBroker } from './support.js';

const CONFIG = {
  'num.partitions': '1',
  'group.initial.rebalance.delay.ms': '0',
  'group.min.session.timeout.ms': '1000',
};

async function rejection(p: Promise<unknown>): Promise<KafkaClientError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof KafkaClientError, `a KafkaClientError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a rejection');
}

async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

void describe('Admin against a real broker', { timeout: 60_000 }, () => {
  let broker: TestBroker;
  let kafka: Kafka;
  let kjs: KafkajsAdmin;
  let admin: Admin;

  before(async () => {
    broker = await startTestBroker(CONFIG);
    kafka = new Kafka({
      clientId: 'admin-judge',
      brokers: [broker.bootstrap],
      logLevel: logLevel.NOTHING,
      retry: { retries: 2 },
    });
    kjs = kafka.admin();
    await kjs.connect();
    admin = new Admin({ bootstrapServers: broker.bootstrap, clientId: 'samsa-admin-test' });
  });
  after(async () => {
    await admin.close();
    await kjs.disconnect();
    await broker.stop();
  });

  void test('describeCluster: the one broker, as kafkajs sees it', async () => {
    const described = await admin.describeCluster();
    const judged = await kjs.describeCluster();
    assert.deepEqual(described, {
      clusterId: judged.clusterId,
      controllerId: 1,
      brokers: [{ nodeId: 1, host: '127.0.0.1', port: broker.port, rack: null }],
    });
  });

  void test('createTopics, listTopics, describeTopics: what kafkajs describes', async () => {
    await admin.createTopics([
      { name: 'adm-a', numPartitions: 3, configs: { 'retention.ms': '3600000' } },
      { name: 'adm-b' },
      { name: 'adm-assigned', replicaAssignment: { 0: [1], 1: [1] } },
    ]);
    const listed = await admin.listTopics();
    assert.deepEqual(
      listed.filter((n) => n.startsWith('adm-')),
      ['adm-a', 'adm-assigned', 'adm-b'],
    );
    assert.deepEqual(listed, [...listed].sort(), 'sorted');
    assert.deepEqual(await kjs.listTopics().then((l) => l.filter((n) => n.startsWith('adm-')).sort()), [
      'adm-a',
      'adm-assigned',
      'adm-b',
    ]);

    const described = await admin.describeTopics(['adm-b', 'adm-a', 'adm-assigned']);
    assert.deepEqual(
      described.map((t) => [t.name, t.isInternal, t.partitions.length]),
      [
        ['adm-a', false, 3],
        ['adm-assigned', false, 2],
        ['adm-b', false, 1],
      ],
    );
    const judged = await kjs.fetchTopicMetadata({ topics: ['adm-a', 'adm-assigned', 'adm-b'] });
    for (const t of described) {
      assert.match(t.topicId, /^[A-Za-z0-9_-]{22}$/, 'a topic id');
      const k = judged.topics.find((x) => x.name === t.name);
      assert.ok(k !== undefined, `kafkajs describes ${t.name}`);
      assert.deepEqual(
        t.partitions.map((p) => ({
          partitionId: p.partition,
          leader: p.leader,
          replicas: p.replicas,
          isr: p.isr,
          offlineReplicas: p.offlineReplicas,
        })),
        k.partitions
          .map((p) => ({
            partitionId: p.partitionId,
            leader: p.leader,
            replicas: p.replicas,
            isr: p.isr,
            offlineReplicas: p.offlineReplicas ?? [],
          }))
          .sort((x, y) => x.partitionId - y.partitionId),
      );
      for (const p of t.partitions) assert.equal(p.leaderEpoch, 0, `${t.name}-${p.partition} leader epoch`);
    }
    const retention = await admin.describeConfigs('topic', 'adm-a', ['retention.ms']);
    assert.deepEqual(retention, [
      {
        name: 'retention.ms',
        value: '3600000',
        readOnly: false,
        isDefault: false,
        isSensitive: false,
        source: 'DYNAMIC_TOPIC_CONFIG',
      },
    ]);
    const all = await admin.describeTopics();
    assert.ok(
      ['adm-a', 'adm-assigned', 'adm-b'].every((n) => all.some((t) => t.name === n)),
      'describeTopics() describes every topic',
    );
  });

  void test('createTopics errors: existing topic, validateOnly, bad arguments', async () => {
    await admin.createTopics([{ name: 'adm-exists' }]);
    const started = Date.now();
    const exists = await rejection(admin.createTopics([{ name: 'adm-exists' }]));
    assert.equal(exists.errorName, 'TOPIC_ALREADY_EXISTS');
    assert.equal(exists.code, ErrorCode.TOPIC_ALREADY_EXISTS);
    assert.equal(exists.retriable, false);
    assert.match(exists.message, /topic adm-exists/);
    assert.ok(Date.now() - started < 2000, 'a final error is not retried');

    await admin.createTopics([{ name: 'adm-validate', numPartitions: 2 }], { validateOnly: true });
    assert.equal((await admin.listTopics()).includes('adm-validate'), false, 'validateOnly creates nothing');

    const badConfig = await rejection(
      admin.createTopics([{ name: 'adm-bad-config', configs: { 'retention.ms': 'soon' } }]),
    );
    assert.equal(badConfig.errorName, 'INVALID_CONFIG');
    assert.match(badConfig.message, /adm-bad-config/);

    await assert.rejects(
      admin.createTopics([{ name: 'adm-zero', numPartitions: 0 }]),
      (e: unknown) => e instanceof ConfigError && /numPartitions.*0/.test(e.message),
    );
    await assert.rejects(
      admin.createTopics([{ name: 'adm-both', numPartitions: 2, replicaAssignment: { 0: [1] } }]),
      (e: unknown) => e instanceof ConfigError && /replicaAssignment/.test(e.message),
    );
  });

  void test('describeTopics of an unknown topic: UNKNOWN_TOPIC_OR_PARTITION naming it', async () => {
    const e = await rejection(admin.describeTopics(['adm-missing']));
    assert.equal(e.errorName, 'UNKNOWN_TOPIC_OR_PARTITION');
    assert.equal(e.code, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    assert.match(e.message, /topic adm-missing/);
  });

  void test('createPartitions grows a topic; shrinking is INVALID_PARTITIONS', async () => {
    await admin.createTopics([{ name: 'adm-grow', numPartitions: 2 }]);
    await admin.createPartitions('adm-grow', 5);
    const [t] = await admin.describeTopics(['adm-grow']);
    assert.deepEqual(
      t!.partitions.map((p) => p.partition),
      [0, 1, 2, 3, 4],
    );
    const judged = await kjs.fetchTopicMetadata({ topics: ['adm-grow'] });
    assert.equal(judged.topics[0]!.partitions.length, 5);
    const e = await rejection(admin.createPartitions('adm-grow', 2));
    assert.equal(e.errorName, 'INVALID_PARTITIONS');
    assert.match(e.message, /adm-grow/);
  });

  void test('deleteTopics removes topics; an unknown one is UNKNOWN_TOPIC_OR_PARTITION', async () => {
    await admin.createTopics([{ name: 'adm-doomed' }, { name: 'adm-doomed-2' }]);
    await admin.deleteTopics(['adm-doomed', 'adm-doomed-2']);
    assert.equal(
      (await admin.listTopics()).some((n) => n.startsWith('adm-doomed')),
      false,
    );
    assert.equal(
      (await kjs.listTopics()).some((n) => n.startsWith('adm-doomed')),
      false,
    );
    const e = await rejection(admin.deleteTopics(['adm-never-was']));
    assert.equal(e.errorName, 'UNKNOWN_TOPIC_OR_PARTITION');
    assert.match(e.message, /adm-never-was/);
  });

  void test('configs: incremental set/append/subtract/delete and legacy alter, read back by kafkajs', async () => {
    await admin.createTopics([{ name: 'adm-conf' }]);
    const kafkajsValue = async (name: string): Promise<string | undefined> => {
      const r = await kjs.describeConfigs({
        resources: [{ type: 2, name: 'adm-conf', configNames: [name] }],
        includeSynonyms: false,
      });
      return r.resources[0]!.configEntries.find((c) => c.configName === name)?.configValue;
    };
    const ours = async (
      name: string,
    ): Promise<{ value: string | null; source: string; isDefault: boolean }> => {
      const [entry] = await admin.describeConfigs('topic', 'adm-conf', [name]);
      assert.ok(entry !== undefined, `${name} is described`);
      return { value: entry.value, source: entry.source, isDefault: entry.isDefault };
    };

    await admin.incrementalAlterConfigs('topic', 'adm-conf', [
      { name: 'cleanup.policy', op: 'set', value: 'delete' },
      { name: 'retention.ms', op: 'set', value: '120000' },
    ]);
    assert.equal(await kafkajsValue('retention.ms'), '120000');
    await admin.incrementalAlterConfigs('topic', 'adm-conf', [
      { name: 'cleanup.policy', op: 'append', value: 'compact' },
    ]);
    // Both items, whatever the order (Kafka keeps "delete,compact"; Samsa stores its canonical order).
    const appended = await kafkajsValue('cleanup.policy');
    assert.deepEqual(appended?.split(',').sort(), ['compact', 'delete']);
    assert.equal((await ours('cleanup.policy')).value, appended, 'both clients read the same value');
    await admin.incrementalAlterConfigs('topic', 'adm-conf', [
      { name: 'cleanup.policy', op: 'subtract', value: 'delete' },
    ]);
    assert.deepEqual(await ours('cleanup.policy'), {
      value: 'compact',
      source: 'DYNAMIC_TOPIC_CONFIG',
      isDefault: false,
    });
    await admin.incrementalAlterConfigs('topic', 'adm-conf', [{ name: 'cleanup.policy', op: 'delete' }]);
    const back = await ours('cleanup.policy');
    assert.equal(back.value, 'delete');
    assert.notEqual(back.source, 'DYNAMIC_TOPIC_CONFIG', 'no longer set on the topic');
    assert.equal(await kafkajsValue('cleanup.policy'), 'delete');

    // Legacy AlterConfigs replaces the whole set: retention.ms goes back to its default.
    await admin.alterConfigs('topic', 'adm-conf', { 'segment.ms': '7200000' });
    assert.equal(await kafkajsValue('segment.ms'), '7200000');
    const retention = await ours('retention.ms');
    assert.equal(retention.value, '604800000');
    assert.notEqual(retention.source, 'DYNAMIC_TOPIC_CONFIG');

    // And the other way: kafkajs alters, Samsa reads.
    await kjs.alterConfigs({
      validateOnly: false,
      resources: [
        { type: 2, name: 'adm-conf', configEntries: [{ name: 'max.message.bytes', value: '65536' }] },
      ],
    });
    assert.deepEqual(await ours('max.message.bytes'), {
      value: '65536',
      source: 'DYNAMIC_TOPIC_CONFIG',
      isDefault: false,
    });

    const all = await admin.describeConfigs('topic', 'adm-conf');
    assert.ok(all.length > 10, `every topic config is described (${all.length})`);
    assert.equal(
      all.find((c) => c.name === 'compression.type')?.isDefault,
      true,
      'untouched configs are defaults',
    );

    const broker1 = await admin.describeConfigs('broker', '1', ['num.partitions']);
    assert.equal(broker1.length, 1);
    assert.equal(broker1[0]!.value, '1');

    const unknown = await rejection(admin.describeConfigs('topic', 'adm-conf-missing'));
    assert.equal(unknown.errorName, 'UNKNOWN_TOPIC_OR_PARTITION');
    assert.match(unknown.message, /topic adm-conf-missing/);
    const badValue = await rejection(
      admin.incrementalAlterConfigs('topic', 'adm-conf', [
        { name: 'retention.ms', op: 'set', value: 'never' },
      ]),
    );
    assert.equal(badValue.errorName, 'INVALID_CONFIG');
    await assert.rejects(
      admin.incrementalAlterConfigs('topic', 'adm-conf', [{ name: 'retention.ms', op: 'set' }]),
      (e: unknown) => e instanceof ConfigError && /retention\.ms needs a value/.test(e.message),
    );
  });

  void test('listOffsets and deleteRecords, judged by kafkajs', async () => {
    await admin.createTopics([{ name: 'adm-offsets', numPartitions: 2 }]);
    const producer = kafka.producer();
    await producer.connect();
    const timestamps = [1000, 5000, 3000, 2000, 4000];
    await producer.send({
      topic: 'adm-offsets',
      messages: timestamps.map((ts, i) => ({ partition: 0, value: `v${i}`, timestamp: String(ts) })),
    });
    await producer.disconnect();

    const offsets = await admin.listOffsets([
      { topic: 'adm-offsets', partition: 0, spec: 'earliest' },
      { topic: 'adm-offsets', partition: 0 + 1, spec: 'latest' },
    ]);
    assert.deepEqual(offsets, [
      { topic: 'adm-offsets', partition: 0, offset: 0n, timestamp: -1 },
      { topic: 'adm-offsets', partition: 1, offset: 0n, timestamp: -1 },
    ]);
    const p0 = (spec: Parameters<Admin['listOffsets']>[0][number]['spec']) =>
      admin.listOffsets([{ topic: 'adm-offsets', partition: 0, spec }]).then((r) => r[0]);
    assert.deepEqual(await p0('latest'), { topic: 'adm-offsets', partition: 0, offset: 5n, timestamp: -1 });
    assert.deepEqual(await p0('max-timestamp'), {
      topic: 'adm-offsets',
      partition: 0,
      offset: 1n,
      timestamp: 5000,
    });
    assert.deepEqual(await p0({ timestamp: 2500 }), {
      topic: 'adm-offsets',
      partition: 0,
      offset: 1n,
      timestamp: 5000,
    });
    assert.deepEqual(await p0({ timestamp: 6000 }), {
      topic: 'adm-offsets',
      partition: 0,
      offset: -1n,
      timestamp: -1,
    });
    const [committedLatest] = await admin.listOffsets(
      [{ topic: 'adm-offsets', partition: 0, spec: 'latest' }],
      'read_committed',
    );
    assert.equal(
      committedLatest!.offset,
      5n,
      'no transactions: the last stable offset is the high watermark',
    );
    const byTime = await kjs.fetchTopicOffsetsByTimestamp('adm-offsets', 2500);
    assert.equal(byTime.find((o) => o.partition === 0)!.offset, '1');

    const deleted = await admin.deleteRecords([{ topic: 'adm-offsets', partition: 0, offset: 2n }]);
    assert.deepEqual(deleted, [{ topic: 'adm-offsets', partition: 0, lowWatermark: 2n }]);
    assert.deepEqual(await p0('earliest'), { topic: 'adm-offsets', partition: 0, offset: 2n, timestamp: -1 });
    const judged = await kjs.fetchTopicOffsets('adm-offsets');
    assert.deepEqual(
      judged.find((o) => o.partition === 0),
      { partition: 0, offset: '5', high: '5', low: '2' },
    );
    const toEnd = await admin.deleteRecords([{ topic: 'adm-offsets', partition: 0, offset: -1n }]);
    assert.equal(toEnd[0]!.lowWatermark, 5n, '-1 deletes up to the high watermark');
    const beyond = await rejection(
      admin.deleteRecords([{ topic: 'adm-offsets', partition: 0, offset: 99n }]),
    );
    assert.equal(beyond.errorName, 'OFFSET_OUT_OF_RANGE');
    assert.match(beyond.message, /adm-offsets-0/);

    const noTopic = await rejection(
      admin.listOffsets([{ topic: 'adm-nowhere', partition: 0, spec: 'latest' }]),
    );
    assert.equal(noTopic.errorName, 'UNKNOWN_TOPIC_OR_PARTITION');
    assert.match(noTopic.message, /adm-nowhere-0/);
    const noPartition = await rejection(
      admin.listOffsets([{ topic: 'adm-offsets', partition: 9, spec: 'latest' }]),
    );
    assert.equal(noPartition.errorName, 'UNKNOWN_TOPIC_OR_PARTITION');
    assert.match(noPartition.message, /adm-offsets-9/);
    await assert.rejects(
      admin.listOffsets([
        { topic: 'adm-offsets', partition: 0, spec: 'latest' },
        { topic: 'adm-offsets', partition: 0, spec: 'earliest' },
      ]),
      (e: unknown) => e instanceof ConfigError && /adm-offsets-0 is given twice/.test(e.message),
    );
  });

  void test('groups: list, describe, offsets of a kafkajs consumer group; alter, delete offsets, delete group', async () => {
    const topic = 'adm-group-topic';
    await admin.createTopics([{ name: topic, numPartitions: 2 }]);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [0, 1, 2, 3, 4].map((i) => ({ partition: 0, value: `m${i}` })),
    });
    await producer.disconnect();

    const consumer: Consumer = kafka.consumer({
      groupId: 'adm-g',
      sessionTimeout: 6000,
      heartbeatInterval: 300,
    });
    let running = false;
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      let seen = 0;
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          seen++;
          await consumer.commitOffsets([{ topic, partition, offset: String(Number(message.offset) + 1) }]);
        },
      });
      running = true;
      await until('5 records consumed', () => seen === 5);
      await until(
        'a stable group',
        async () => (await admin.describeGroups(['adm-g']))[0]!.state === 'Stable',
      );

      const listed = await admin.listGroups();
      assert.deepEqual(
        listed.filter((g) => g.groupId === 'adm-g'),
        [{ groupId: 'adm-g', protocolType: 'consumer', state: 'Stable', type: 'classic' }],
      );
      const [described] = await admin.describeGroups(['adm-g']);
      const judged = (await kjs.describeGroups(['adm-g'])).groups[0]!;
      assert.equal(described!.groupId, 'adm-g');
      assert.equal(described!.state, 'Stable');
      assert.equal(described!.protocolType, 'consumer');
      assert.equal(described!.protocol, judged.protocol);
      assert.equal(described!.coordinator, 1);
      assert.equal(described!.members.length, 1);
      const member = described!.members[0]!;
      assert.equal(member.memberId, judged.members[0]!.memberId);
      assert.equal(member.clientId, 'admin-judge');
      assert.equal(member.host, '/127.0.0.1');
      assert.equal(member.groupInstanceId, null);
      assert.deepEqual(member.assignment, [
        { topic, partition: 0 },
        { topic, partition: 1 },
      ]);

      const committed = await admin.listGroupOffsets('adm-g');
      const kjsCommitted = await kjs.fetchOffsets({ groupId: 'adm-g', topics: [topic] });
      assert.deepEqual(
        committed.map((c) => [c.topic, c.partition, c.offset]),
        [[topic, 0, 5n]],
        'only partition 0 has a commit',
      );
      assert.equal(kjsCommitted[0]!.partitions.find((p) => p.partition === 0)!.offset, '5');
      const named = await admin.listGroupOffsets('adm-g', [
        { topic, partition: 1 },
        { topic, partition: 0 },
      ]);
      assert.deepEqual(
        named.map((c) => [c.topic, c.partition, c.offset]),
        [
          [topic, 0, 5n],
          [topic, 1, -1n],
        ],
      );

      const busy = await rejection(admin.alterGroupOffsets('adm-g', [{ topic, partition: 0, offset: 1n }]));
      assert.ok(
        ['UNKNOWN_MEMBER_ID', 'REBALANCE_IN_PROGRESS'].includes(busy.errorName),
        `a group with members refuses admin commits (${busy.errorName})`,
      );
      assert.match(busy.message, /adm-g/);
      const subscribed = await rejection(admin.deleteGroupOffsets('adm-g', [{ topic, partition: 0 }]));
      assert.equal(subscribed.errorName, 'GROUP_SUBSCRIBED_TO_TOPIC');
      const nonEmpty = await rejection(admin.deleteGroups(['adm-g']));
      assert.equal(nonEmpty.errorName, 'NON_EMPTY_GROUP');
      assert.match(nonEmpty.message, /group adm-g/);

      await consumer.disconnect();
      running = false;
      await until(
        'an empty group',
        async () => (await admin.describeGroups(['adm-g']))[0]!.state === 'Empty',
      );

      await admin.alterGroupOffsets('adm-g', [
        { topic, partition: 0, offset: 2n },
        { topic, partition: 1, offset: 0n, metadata: 'by admin' },
      ]);
      assert.deepEqual(await admin.listGroupOffsets('adm-g'), [
        { topic, partition: 0, offset: 2n, metadata: '' },
        { topic, partition: 1, offset: 0n, metadata: 'by admin' },
      ]);
      const kjsAltered = await kjs.fetchOffsets({ groupId: 'adm-g', topics: [topic] });
      assert.deepEqual(
        kjsAltered[0]!.partitions
          .map((p) => [p.partition, p.offset])
          .sort((a, b) => Number(a[0]) - Number(b[0])),
        [
          [0, '2'],
          [1, '0'],
        ],
      );

      await admin.deleteGroupOffsets('adm-g', [{ topic, partition: 1 }]);
      assert.deepEqual(
        (await admin.listGroupOffsets('adm-g')).map((c) => [c.partition, c.offset]),
        [[0, 2n]],
      );

      await admin.deleteGroups(['adm-g']);
      assert.equal(
        (await admin.listGroups()).some((g) => g.groupId === 'adm-g'),
        false,
      );
      const [dead] = await admin.describeGroups(['adm-g']);
      assert.deepEqual(dead, {
        groupId: 'adm-g',
        state: 'Dead',
        protocolType: '',
        protocol: '',
        members: [],
        coordinator: 1,
      });
      const gone = await rejection(admin.deleteGroups(['adm-g']));
      assert.equal(gone.errorName, 'GROUP_ID_NOT_FOUND');
    } finally {
      if (running) await consumer.disconnect();
    }
  });

  void test('describeGroups gives an empty assignment for bytes that do not decode', async () => {
    const conn = await BrokerConnection.open('127.0.0.1', broker.port, {
      clientId: 'raw-member',
      connectTimeoutMs: 5000,
      requestTimeoutMs: 10000,
      maxInFlightRequests: 1,
    });
    try {
      const join = await conn.send(apis.JoinGroup, 3, {
        ...apis.JoinGroup.request.create(),
        groupId: 'adm-garbage',
        sessionTimeoutMs: 6000,
        rebalanceTimeoutMs: 6000,
        memberId: '',
        protocolType: 'consumer',
        protocols: [{ name: 'range', metadata: Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) }],
      });
      assert.equal(join.errorCode, 0, 'joined');
      const sync = await conn.send(apis.SyncGroup, 3, {
        ...apis.SyncGroup.request.create(),
        groupId: 'adm-garbage',
        generationId: join.generationId,
        memberId: join.memberId,
        assignments: [{ memberId: join.memberId, assignment: Buffer.from('not an assignment') }],
      });
      assert.equal(sync.errorCode, 0, 'synced');
      const [g] = await admin.describeGroups(['adm-garbage']);
      assert.equal(g!.state, 'Stable');
      assert.equal(g!.members.length, 1);
      assert.deepEqual(g!.members[0]!.assignment, []);
      assert.equal(g!.members[0]!.clientId, 'raw-member');
      assert.ok(conn.version(ApiKey.JoinGroup) >= 3, 'JoinGroup v3 served');
    } finally {
      conn.close();
    }
  });
});

void describe('Admin without a reachable broker', () => {
  void test('an unreachable bootstrap fails with an error naming the address', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    assert.ok(address !== null && typeof address === 'object', 'bound');
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const admin = new Admin({
      bootstrapServers: `127.0.0.1:${address.port}`,
      connectTimeoutMs: 300,
      defaultApiTimeoutMs: 800,
      retryBackoffMs: 50,
    });
    try {
      const started = Date.now();
      const e = await rejection(admin.listTopics());
      const elapsedMs = Date.now() - started;
      assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${address.port}`));
      assert.equal(e.errorName, 'NO_BROKER_AVAILABLE');
      assert.ok(elapsedMs < 2000, `gave up at the API timeout (took ${elapsedMs} ms)`);
    } finally {
      await admin.close();
    }
  });
});

void describe('Admin against a scripted broker', () => {
  void test('NOT_COORDINATOR makes the admin find the coordinator again and retry', async () => {
    const server = await ScriptedServer.start();
    let describes = 0;
    server.onRequest = (r) => {
      switch (r.header.requestApiKey) {
        case ApiKey.ApiVersions: {
          const keys: [number, number, number][] = [
            [ApiKey.ApiVersions, 0, 4],
            [ApiKey.Metadata, 0, 12],
            [ApiKey.FindCoordinator, 0, 5],
            [ApiKey.DescribeGroups, 0, 5],
          ];
          r.socket.write(respond(r, apis.ApiVersions.response, apiVersionsBody(ErrorCode.NONE, keys)));
          break;
        }
        case ApiKey.FindCoordinator:
          r.socket.write(
            respond(r, apis.FindCoordinator.response, {
              ...apis.FindCoordinator.response.create(),
              coordinators: [
                {
                  key: 'g-moved',
                  nodeId: 7,
                  host: '127.0.0.1',
                  port: server.port,
                  errorCode: 0,
                  errorMessage: null,
                },
              ],
            }),
          );
          break;
        case ApiKey.DescribeGroups: {
          describes++;
          const group: DescribeGroupsResponse.DescribedGroup = {
            errorCode: 0,
            groupId: 'g-moved',
            groupState: '',
            protocolType: '',
            protocolData: '',
            members: [],
            authorizedOperations: -2147483648,
          };
          const answer =
            describes === 1
              ? { ...group, errorCode: ErrorCode.NOT_COORDINATOR }
              : { ...group, groupState: 'Empty', protocolType: 'consumer' };
          r.socket.write(
            respond(r, apis.DescribeGroups.response, {
              ...apis.DescribeGroups.response.create(),
              groups: [answer],
            }),
          );
          break;
        }
        default:
          break;
      }
    };
    const admin = new Admin({ bootstrapServers: `127.0.0.1:${server.port}`, retryBackoffMs: 10 });
    try {
      const [g] = await admin.describeGroups(['g-moved']);
      assert.deepEqual(g, {
        groupId: 'g-moved',
        state: 'Empty',
        protocolType: 'consumer',
        protocol: '',
        members: [],
        coordinator: 7,
      });
      assert.equal(describes, 2, 'asked again after NOT_COORDINATOR');
      const finds = server.requests.filter((r) => r.header.requestApiKey === ApiKey.FindCoordinator);
      assert.equal(finds.length, 2, 'the coordinator was looked up again');
      assert.deepEqual((finds[0]!.body as { coordinatorKeys: string[] }).coordinatorKeys, ['g-moved']);
    } finally {
      await admin.close();
      await server.stop();
    }
  });
});
