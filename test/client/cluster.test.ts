/**
 * Cluster: bootstrap parsing, metadata and its cache, the per-node connection pool, leader and
 * coordinator lookup, and withRetry, against a real broker (topics made by kafkajs's admin).
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';

import { Kafka, logLevel, type Admin as KafkajsAdmin } from 'kafkajs';

import { Cluster } from '../../src/client/cluster.js';
import { ConfigError, KafkaClientError, kafkaError, clientError } from '../../src/client/errors.js';
import { parseBootstrapServers } from '../../src/client/options.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { apis, ApiKey } from '../../src/protocol/generated/api-keys.js';
import { apiVersionsBody, respond, ScriptedServer, startTestBroker, type TestBroker } from './support.js';

/** A port nothing listens on: bound, then released. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object', 'bound');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

async function rejection(p: Promise<unknown>): Promise<KafkaClientError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof KafkaClientError, `a KafkaClientError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a rejection');
}

void describe('bootstrap servers', () => {
  void test('comma lists, arrays, spaces and bracketed IPv6 are parsed', () => {
    assert.deepEqual(parseBootstrapServers('a:1, b.example:9092'), [
      { host: 'a', port: 1 },
      { host: 'b.example', port: 9092 },
    ]);
    assert.deepEqual(parseBootstrapServers(['[::1]:9092', 'c:3,d:4']), [
      { host: '::1', port: 9092 },
      { host: 'c', port: 3 },
      { host: 'd', port: 4 },
    ]);
  });

  void test('bad entries are refused naming the entry', () => {
    const cases: [string | string[], RegExp][] = [
      ['localhost', /"localhost" has no port/],
      ['h:0', /"h:0".*1-65535/],
      ['h:70000', /"h:70000"/],
      ['h:x', /"h:x"/],
      [':9092', /":9092"/],
      ['::1:9092', /brackets/],
      ['[::1]9092', /\[ipv6\]:port/],
      ['', /at least one/],
      [[], /at least one/],
    ];
    for (const [input, message] of cases) {
      assert.throws(
        () => parseBootstrapServers(input),
        (e: unknown) => e instanceof ConfigError && message.test(e.message),
      );
    }
  });

  void test('bad numeric options are refused naming option and value', () => {
    assert.throws(
      () => new Cluster({ bootstrapServers: 'h:1', requestTimeoutMs: -5 }),
      (e: unknown) => e instanceof ConfigError && /requestTimeoutMs.*-5/.test(e.message),
    );
    assert.throws(
      () => new Cluster({ bootstrapServers: 'h:1', retryBackoffMs: 1.5 }),
      (e: unknown) => e instanceof ConfigError && /retryBackoffMs.*1\.5/.test(e.message),
    );
    const c = new Cluster({ bootstrapServers: 'h:1' });
    assert.deepEqual(
      {
        clientId: c.options.clientId,
        requestTimeoutMs: c.options.requestTimeoutMs,
        connectTimeoutMs: c.options.connectTimeoutMs,
        retryBackoffMs: c.options.retryBackoffMs,
        retryBackoffMaxMs: c.options.retryBackoffMaxMs,
        metadataMaxAgeMs: c.options.metadataMaxAgeMs,
        bootstrapServers: c.options.bootstrapServers,
      },
      {
        clientId: 'samsa',
        requestTimeoutMs: 30000,
        connectTimeoutMs: 10000,
        retryBackoffMs: 100,
        retryBackoffMaxMs: 1000,
        metadataMaxAgeMs: 300000,
        bootstrapServers: ['h:1'],
      },
    );
  });

  void test('backoff doubles from retryBackoffMs to retryBackoffMaxMs with ±20% jitter', () => {
    const c = new Cluster({ bootstrapServers: 'h:1', retryBackoffMs: 100, retryBackoffMaxMs: 1000 });
    for (let i = 0; i < 50; i++) {
      const first = c.backoffMs(1);
      assert.ok(first >= 80 && first <= 120, `attempt 1 backoff ${first} in 80-120`);
      const third = c.backoffMs(3);
      assert.ok(third >= 320 && third <= 480, `attempt 3 backoff ${third} in 320-480`);
      const late = c.backoffMs(20);
      assert.ok(late >= 800 && late <= 1000, `capped backoff ${late} in 800-1000`);
    }
  });
});

void describe('Cluster against a real broker', () => {
  let broker: TestBroker;
  let kafkajs: KafkajsAdmin;
  before(async () => {
    broker = await startTestBroker({ 'num.partitions': '1' });
    kafkajs = new Kafka({
      clientId: 'cluster-test',
      brokers: [broker.bootstrap],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    }).admin();
    await kafkajs.connect();
  });
  after(async () => {
    await kafkajs.disconnect();
    await broker.stop();
  });

  void test('a dead first bootstrap address is skipped for the next one', async () => {
    const dead = await deadPort();
    const cluster = new Cluster({ bootstrapServers: [`127.0.0.1:${dead}`, broker.bootstrap] });
    try {
      await cluster.refreshMetadata();
      assert.deepEqual(
        [...cluster.brokers.values()],
        [{ nodeId: 1, host: '127.0.0.1', port: broker.port, rack: null }],
      );
      assert.equal(cluster.controllerId, 1);
      assert.match(cluster.clusterId ?? '', /^[A-Za-z0-9_-]{22}$/, 'a cluster id');
    } finally {
      await cluster.close();
    }
  });

  void test('concurrent first calls share one bootstrap connection (none is left open)', async () => {
    const cluster = new Cluster({ bootstrapServers: broker.bootstrap });
    try {
      const [a, b, c] = await Promise.all([
        cluster.anyConnection(),
        cluster.anyConnection(),
        cluster.anyConnection(),
      ]);
      assert.ok(a === b && b === c, 'one connection for the three callers');
    } finally {
      await cluster.close();
    }
  });

  void test('an unreachable bootstrap fails with an error naming the address', async () => {
    const dead = await deadPort();
    const cluster = new Cluster({ bootstrapServers: `127.0.0.1:${dead}`, connectTimeoutMs: 500 });
    try {
      const started = Date.now();
      const e = await rejection(cluster.refreshMetadata());
      assert.ok(Date.now() - started < 1500, 'within the connect timeout');
      assert.equal(e.errorName, 'NO_BROKER_AVAILABLE');
      assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${dead}`));
      // withRetry keeps trying until its deadline, then rethrows that last error.
      const retried = await rejection(cluster.withRetry('metadata', () => cluster.refreshMetadata(), 400));
      assert.match(retried.message, new RegExp(`127\\.0\\.0\\.1:${dead}`));
    } finally {
      await cluster.close();
    }
  });

  void test('topic metadata: unknown until created, then fetched; null topics means all', async () => {
    const cluster = new Cluster({ bootstrapServers: broker.bootstrap });
    try {
      const unknown = await rejection(cluster.topicMetadata('cluster-t1'));
      assert.equal(unknown.errorName, 'UNKNOWN_TOPIC_OR_PARTITION');
      assert.equal(unknown.code, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      assert.match(unknown.message, /cluster-t1/);
      assert.equal(cluster.cachedTopic('cluster-t1'), undefined);

      await kafkajs.createTopics({
        topics: [
          { topic: 'cluster-t1', numPartitions: 3 },
          { topic: 'cluster-t2', numPartitions: 1 },
        ],
      });
      const t1 = await cluster.topicMetadata('cluster-t1');
      assert.equal(t1.name, 'cluster-t1');
      assert.equal(t1.isInternal, false);
      assert.equal(t1.errorCode, 0);
      assert.match(t1.topicId, /^[A-Za-z0-9_-]{22}$/);
      assert.deepEqual(
        t1.partitions.map((p) => [p.partition, p.leader, p.replicas, p.isr, p.errorCode]),
        [
          [0, 1, [1], [1], 0],
          [1, 1, [1], [1], 0],
          [2, 1, [1], [1], 0],
        ],
      );
      assert.equal(t1.partitions[0]!.topic, 'cluster-t1');
      assert.equal(cluster.cachedTopic('cluster-t2'), undefined, 'only asked topics are fetched');

      await cluster.refreshMetadata(null);
      assert.ok(cluster.cachedTopic('cluster-t2') !== undefined, 'null topics fetches every topic');
      const kjs = await kafkajs.fetchTopicMetadata({ topics: ['cluster-t1'] });
      assert.equal(kjs.topics[0]!.partitions.length, t1.partitions.length);

      const leader = await cluster.leaderConnection('cluster-t1', 2);
      assert.equal(leader.nodeId, 1);
      const missing = await rejection(cluster.leaderConnection('cluster-t1', 7));
      assert.equal(missing.errorName, 'UNKNOWN_TOPIC_OR_PARTITION');
      assert.match(missing.message, /cluster-t1-7/);
    } finally {
      await cluster.close();
    }
  });

  void test('cached metadata is used until metadataMaxAgeMs, then refreshed', async () => {
    await kafkajs.createTopics({ topics: [{ topic: 'cluster-age', numPartitions: 1 }] });
    const longLived = new Cluster({ bootstrapServers: broker.bootstrap });
    const shortLived = new Cluster({ bootstrapServers: broker.bootstrap, metadataMaxAgeMs: 0 });
    try {
      assert.equal((await longLived.topicMetadata('cluster-age')).partitions.length, 1);
      assert.equal((await shortLived.topicMetadata('cluster-age')).partitions.length, 1);
      await kafkajs.createPartitions({ topicPartitions: [{ topic: 'cluster-age', count: 4 }] });
      await new Promise((r) => setTimeout(r, 5));
      assert.equal((await longLived.topicMetadata('cluster-age')).partitions.length, 1, 'still cached');
      assert.equal(
        (await shortLived.topicMetadata('cluster-age')).partitions.length,
        4,
        'expired and refetched',
      );
      await longLived.refreshMetadata();
      assert.equal(
        longLived.cachedTopic('cluster-age')?.partitions.length,
        4,
        'an explicit refresh updates the cache',
      );
    } finally {
      await longLived.close();
      await shortLived.close();
    }
  });

  void test('one pooled connection per node, reopened after a close', async () => {
    const cluster = new Cluster({ bootstrapServers: broker.bootstrap });
    try {
      const [a, b] = await Promise.all([cluster.connectionTo(1), cluster.connectionTo(1)]);
      assert.equal(a, b, 'concurrent callers share one connection');
      assert.equal(a.nodeId, 1);
      assert.equal(await cluster.anyConnection(), a, 'anyConnection prefers the pooled connection');
      a.close();
      const c = await cluster.connectionTo(1);
      assert.notEqual(c, a, 'a closed connection is replaced');
      assert.equal(c.closed, false);
      const unknownNode = await rejection(cluster.connectionTo(42));
      assert.equal(unknownNode.errorName, 'NO_BROKER_AVAILABLE');
      assert.equal((await cluster.controllerConnection()).nodeId, 1);
    } finally {
      await cluster.close();
    }
  });

  void test('coordinator lookup is cached until invalidated', async () => {
    const cluster = new Cluster({ bootstrapServers: broker.bootstrap });
    try {
      assert.equal(cluster.cachedCoordinator('group', 'g1'), undefined);
      const [c1, c2] = await Promise.all([
        cluster.coordinator('group', 'g1'),
        cluster.coordinator('group', 'g1'),
      ]);
      assert.equal(c1, c2);
      assert.equal(c1.nodeId, 1);
      assert.equal(cluster.cachedCoordinator('group', 'g1'), 1);
      cluster.invalidateCoordinator('group', 'g1');
      assert.equal(cluster.cachedCoordinator('group', 'g1'), undefined);
      assert.equal((await cluster.coordinator('group', 'g1')).nodeId, 1);
      const kjs = await kafkajs.describeGroups(['g1']);
      assert.equal(kjs.groups[0]!.groupId, 'g1');
    } finally {
      await cluster.close();
    }
  });

  void test('withRetry retries retriable errors, refreshing metadata on leader errors', async () => {
    const cluster = new Cluster({
      bootstrapServers: broker.bootstrap,
      retryBackoffMs: 10,
      retryBackoffMaxMs: 20,
    });
    try {
      await cluster.refreshMetadata();
      const before = cluster.lastMetadataRefreshMs;
      let calls = 0;
      const result = await cluster.withRetry('flaky', () => {
        calls++;
        if (calls < 3) return Promise.reject(kafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'p-0'));
        return Promise.resolve('done');
      });
      assert.equal(result, 'done');
      assert.equal(calls, 3);
      assert.ok(cluster.lastMetadataRefreshMs > before, 'metadata refreshed between attempts');

      let fatalCalls = 0;
      const fatal = await rejection(
        cluster.withRetry('fatal', () => {
          fatalCalls++;
          return Promise.reject(kafkaError(ErrorCode.TOPIC_AUTHORIZATION_FAILED, 't'));
        }),
      );
      assert.equal(fatal.errorName, 'TOPIC_AUTHORIZATION_FAILED');
      assert.equal(fatalCalls, 1, 'non-retriable errors are not retried');

      let timedCalls = 0;
      const started = Date.now();
      const last = await rejection(
        cluster.withRetry(
          'always failing',
          () => {
            timedCalls++;
            return Promise.reject(clientError('REQUEST_TIMED_OUT', `attempt ${timedCalls}`));
          },
          300,
        ),
      );
      const elapsedMs = Date.now() - started;
      assert.ok(elapsedMs < 600, `stops at its deadline (took ${elapsedMs} ms)`);
      assert.ok(timedCalls >= 5, `kept retrying until then (${timedCalls} attempts)`);
      assert.equal(last.message, `attempt ${timedCalls}`, 'rethrows the last error');

      const absolute = await rejection(
        cluster.withRetry(
          'absolute',
          () => Promise.reject(clientError('REQUEST_TIMED_OUT', 'x')),
          Date.now() + 100,
        ),
      );
      assert.equal(absolute.errorName, 'REQUEST_TIMED_OUT');
    } finally {
      await cluster.close();
    }
  });

  void test('a closed cluster refuses work with CLIENT_CLOSED', async () => {
    const cluster = new Cluster({ bootstrapServers: broker.bootstrap });
    const conn = await cluster.connectionTo(1);
    await cluster.close();
    assert.equal(conn.closed, true, 'pooled connections are closed');
    const e = await rejection(cluster.refreshMetadata());
    assert.equal(e.errorName, 'CLIENT_CLOSED');
    assert.equal(e.retriable, false);
  });
});

void describe('Cluster against a scripted broker', () => {
  void test('FindCoordinator before v4 sends the single key; the coordinator node is learned from the answer', async () => {
    const server = await ScriptedServer.start();
    server.onRequest = (r) => {
      if (r.header.requestApiKey === ApiKey.ApiVersions) {
        const keys: [number, number, number][] = [
          [ApiKey.ApiVersions, 0, 4],
          [ApiKey.Metadata, 0, 12],
          [ApiKey.FindCoordinator, 0, 3],
        ];
        r.socket.write(respond(r, apis.ApiVersions.response, apiVersionsBody(ErrorCode.NONE, keys)));
      } else if (r.header.requestApiKey === ApiKey.FindCoordinator) {
        r.socket.write(
          respond(r, apis.FindCoordinator.response, {
            ...apis.FindCoordinator.response.create(),
            nodeId: 7,
            host: '127.0.0.1',
            port: server.port,
          }),
        );
      }
    };
    const cluster = new Cluster({ bootstrapServers: `127.0.0.1:${server.port}` });
    try {
      const conn = await cluster.coordinator('transaction', 'tx-1');
      assert.equal(conn.nodeId, 7);
      assert.deepEqual(cluster.brokers.get(7), {
        nodeId: 7,
        host: '127.0.0.1',
        port: server.port,
        rack: null,
      });
      const finds = server.requests.filter((r) => r.header.requestApiKey === ApiKey.FindCoordinator);
      assert.equal(finds.length, 1);
      assert.equal(finds[0]!.header.requestApiVersion, 3);
      assert.deepEqual(finds[0]!.body, {
        key: 'tx-1',
        keyType: 1,
        coordinatorKeys: [],
        unknownTaggedFields: undefined,
      });
    } finally {
      await cluster.close();
      await server.stop();
    }
  });
});
