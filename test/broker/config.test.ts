/** Broker config: .properties syntax, the key table, defaults, overrides, validation, DescribeConfigs. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { ErrorCode } from '../../src/protocol/error-codes.js';
import {
  BROKER_CONFIG_DEFINITIONS,
  BROKER_CONFIG_TYPE_ID,
  brokerConfigDefinition,
  brokerConfigEntries,
  isBrokerConfigError,
  loadBrokerConfig,
  type BrokerConfig,
  type BrokerConfigEntry,
  type BrokerConfigError,
  type LoadedBrokerConfig,
} from '../../src/broker/config.js';
import { isPropertiesError, parseProperties, type PropertiesError } from '../../src/runtime/properties.js';
import { LOG_CONFIG_DEFINITIONS, LONG_MAX_STRING, defaultLogConfig } from '../../src/storage/log-config.js';

function props(text: string): Map<string, string> {
  const result = parseProperties(text);
  if (isPropertiesError(result)) assert.fail(result.message);
  return result;
}

function propsError(text: string): PropertiesError {
  const result = parseProperties(text);
  if (!isPropertiesError(result)) assert.fail(`expected a syntax error, got ${JSON.stringify([...result])}`);
  return result;
}

function loaded(propertiesText?: string, overrides?: string[]): LoadedBrokerConfig {
  const result = loadBrokerConfig({
    ...(propertiesText === undefined ? {} : { propertiesText }),
    ...(overrides === undefined ? {} : { overrides }),
  });
  if (isBrokerConfigError(result)) assert.fail(result.message);
  return result;
}

function load(propertiesText?: string, overrides?: string[]): BrokerConfig {
  return loaded(propertiesText, overrides).config;
}

function loadError(propertiesText: string, overrides?: string[]): BrokerConfigError {
  const result = loadBrokerConfig({ propertiesText, ...(overrides === undefined ? {} : { overrides }) });
  if (!isBrokerConfigError(result)) assert.fail(`expected an error for ${JSON.stringify(propertiesText)}`);
  return result;
}

function entry(config: BrokerConfig, name: string): BrokerConfigEntry {
  const found = brokerConfigEntries(config).find((e) => e.name === name);
  assert.ok(found, `no entry ${name}`);
  return found;
}

// ---------------------------------------------------------------------------------------------

void describe('parseProperties', () => {
  void test('key=value, key: value and key value, with whitespace around keys and values', () => {
    const p = props('a=1\nb: 2\nc 3\n  d  =  4  \ne:5\nf\t\t6\ng\f=\f7\nh   :   8\n');
    assert.deepEqual(
      [...p],
      [
        ['a', '1'],
        ['b', '2'],
        ['c', '3'],
        ['d', '4'],
        ['e', '5'],
        ['f', '6'],
        ['g', '7'],
        ['h', '8'],
      ],
    );
  });

  void test('only the first separator counts; the rest belongs to the value', () => {
    const p = props('listeners=PLAINTEXT://:9092\nmap: A:SSL,B:PLAINTEXT\nx = = y\nk v=w\n');
    assert.equal(p.get('listeners'), 'PLAINTEXT://:9092');
    assert.equal(p.get('map'), 'A:SSL,B:PLAINTEXT');
    assert.equal(p.get('x'), '= y');
    assert.equal(p.get('k'), 'v=w');
  });

  void test('# and ! comments (also indented), blank lines; # inside a value is data', () => {
    const p = props('# comment\n! also a comment\n   # indented\n\n   \t\na=b # not a comment\n');
    assert.deepEqual([...p], [['a', 'b # not a comment']]);
  });

  void test('empty values and key-only lines', () => {
    const p = props('empty=\nbare\nspaced =   \n');
    assert.deepEqual(
      [...p],
      [
        ['empty', ''],
        ['bare', ''],
        ['spaced', ''],
      ],
    );
  });

  void test('a trailing backslash continues the line; the next line’s indentation is dropped', () => {
    const p = props('log.dirs=/a,\\\n         /b,\\\n         /c\nnext=1\n');
    assert.equal(p.get('log.dirs'), '/a,/b,/c');
    assert.equal(p.get('next'), '1');
  });

  void test('an even number of trailing backslashes is an escaped backslash, not a continuation', () => {
    const p = props('a=x\\\\\nb=y\n');
    assert.equal(p.get('a'), 'x\\');
    assert.equal(p.get('b'), 'y');
  });

  void test('continuation edge cases: keys split across lines, comments never continue, blank line ends it, EOF', () => {
    assert.equal(props('na\\\n  me=v').get('name'), 'v');
    assert.deepEqual([...props('# comment \\\nreal=1\n')], [['real', '1']]);
    assert.deepEqual(
      [...props('a=1\\\n\nb=2\n')],
      [
        ['a', '1'],
        ['b', '2'],
      ],
    );
    assert.deepEqual([...props('a=1\\')], [['a', '1']]);
    // A # at the start of a continuation line is data, not a comment.
    assert.equal(props('a=x\\\n#y\n').get('a'), 'x#y');
  });

  void test('escapes: \\t \\n \\r \\f, \\uXXXX, escaped separators and spaces, any other escaped char', () => {
    const p = props(
      [
        'tabs=a\\tb',
        'newline=a\\nb\\rc\\fd',
        'unicode=caf\\u00e9 \\u2603',
        'my\\ key=1',
        'a\\=b=2',
        'c\\:d:3',
        'back=\\\\server\\\\share',
        'other=\\q\\#',
        '\\#notcomment=4',
      ].join('\n'),
    );
    assert.equal(p.get('tabs'), 'a\tb');
    assert.equal(p.get('newline'), 'a\nb\rc\fd');
    assert.equal(p.get('unicode'), 'café ☃');
    assert.equal(p.get('my key'), '1');
    assert.equal(p.get('a=b'), '2');
    assert.equal(p.get('c:d'), '3');
    assert.equal(p.get('back'), '\\server\\share');
    assert.equal(p.get('other'), 'q#');
    assert.equal(p.get('#notcomment'), '4');
  });

  void test('unescaped trailing whitespace is trimmed; escaped trailing whitespace is kept', () => {
    const p = props('a=value   \t\nb=value\\ \nc=\\t\n');
    assert.equal(p.get('a'), 'value');
    assert.equal(p.get('b'), 'value ');
    assert.equal(p.get('c'), '\t');
  });

  void test('later duplicates win', () => {
    const p = props('num.partitions=1\nother=x\nnum.partitions=3\n');
    assert.equal(p.get('num.partitions'), '3');
    assert.equal(p.size, 2);
  });

  void test('CRLF, CR and LF line endings, a byte-order mark, no final newline', () => {
    const p = props('\uFEFFa=1\r\nb=2\rc=3\nd=4\\\r\n  5');
    assert.deepEqual(
      [...p],
      [
        ['a', '1'],
        ['b', '2'],
        ['c', '3'],
        ['d', '45'],
      ],
    );
  });

  void test('a malformed \\uXXXX escape is an error naming its line', () => {
    const e = propsError('a=1\n\n# c\nb=\\u12G4\n');
    assert.equal(e.kind, 'PropertiesError');
    assert.equal(e.line, 4);
    assert.match(e.message, /^line 4: malformed \\uXXXX escape/);
    // On a continued line, the physical line of the escape is named.
    assert.equal(propsError('a=x\\\n  y\\\n  \\u12').line, 3);
  });

  void test('a separator with no key before it is an error naming the line', () => {
    const e = propsError('ok=1\n  = value\n');
    assert.equal(e.line, 2);
    assert.match(e.message, /^line 2: missing key/);
  });

  void test('a typical KRaft server.properties', () => {
    const text = [
      '# Server basics',
      'process.roles=broker,controller',
      'node.id=1',
      'controller.quorum.voters=1@localhost:9093',
      '',
      '############################# Socket Server Settings #############################',
      'listeners=PLAINTEXT://:9092,CONTROLLER://:9093',
      'inter.broker.listener.name=PLAINTEXT',
      'advertised.listeners=PLAINTEXT://localhost:9092',
      'controller.listener.names=CONTROLLER',
      'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL',
      'num.network.threads=3',
      'num.io.threads=8',
      'socket.send.buffer.bytes=102400',
      'socket.receive.buffer.bytes=102400',
      'socket.request.max.bytes=104857600',
      'log.dirs=/tmp/kraft-combined-logs',
      'num.partitions=1',
      'num.recovery.threads.per.data.dir=1',
      'offsets.topic.replication.factor=1',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'log.retention.hours=168',
      'log.segment.bytes=1073741824',
      'log.retention.check.interval.ms=300000',
    ].join('\n');
    assert.equal(props(text).size, 22);
    const { config, warnings } = loaded(text);
    assert.deepEqual(warnings, [
      'Ignoring unknown configuration num.recovery.threads.per.data.dir (line 19)',
    ]);
    assert.deepEqual(config.controllerQuorumVoters, [{ id: 1, host: 'localhost', port: 9093 }]);
    assert.deepEqual(
      config.advertisedListeners.map((l) => [l.name, l.host, l.port]),
      [['PLAINTEXT', 'localhost', 9092]],
    );
    assert.deepEqual(config.logDirs, ['/tmp/kraft-combined-logs']);
  });
});

// ---------------------------------------------------------------------------------------------

/** Kafka 3.9's broker keys: [type, default as Kafka prints it (null = unset)]. */
const KAFKA: Record<string, [string, string | null]> = {
  'process.roles': ['list', ''],
  'node.id': ['int', '-1'],
  'controller.listener.names': ['string', null],
  'controller.quorum.voters': ['list', ''],
  'controller.quorum.bootstrap.servers': ['list', ''],
  listeners: ['string', 'PLAINTEXT://:9092'],
  'advertised.listeners': ['string', null],
  'listener.security.protocol.map': [
    'string',
    'SASL_SSL:SASL_SSL,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT',
  ],
  'inter.broker.listener.name': ['string', null],
  'socket.request.max.bytes': ['int', '104857600'],
  'socket.send.buffer.bytes': ['int', '102400'],
  'socket.receive.buffer.bytes': ['int', '102400'],
  'max.connections': ['int', '2147483647'],
  'max.connections.per.ip': ['int', '2147483647'],
  'connections.max.idle.ms': ['long', '600000'],
  'queued.max.requests': ['int', '500'],
  'max.incremental.fetch.session.cache.slots': ['int', '1000'],
  'num.network.threads': ['int', '3'],
  'num.io.threads': ['int', '8'],
  'log.dirs': ['string', null],
  'log.dir': ['string', '/tmp/kafka-logs'],
  'log.retention.check.interval.ms': ['long', '300000'],
  'log.flush.offset.checkpoint.interval.ms': ['int', '60000'],
  'log.cleaner.enable': ['boolean', 'true'],
  'log.cleaner.backoff.ms': ['long', '15000'],
  'num.partitions': ['int', '1'],
  'default.replication.factor': ['int', '1'],
  'auto.create.topics.enable': ['boolean', 'true'],
  'delete.topic.enable': ['boolean', 'true'],
  'group.initial.rebalance.delay.ms': ['int', '3000'],
  'offsets.topic.num.partitions': ['int', '50'],
  'offsets.topic.replication.factor': ['short', '3'],
  'offsets.retention.minutes': ['int', '10080'],
  'offsets.topic.segment.bytes': ['int', '104857600'],
  'offsets.retention.check.interval.ms': ['long', '600000'],
  'offset.metadata.max.bytes': ['int', '4096'],
  'group.min.session.timeout.ms': ['int', '6000'],
  'group.max.session.timeout.ms': ['int', '1800000'],
  'group.max.size': ['int', '2147483647'],
  'group.coordinator.rebalance.protocols': ['list', 'classic,consumer'],
  'group.consumer.session.timeout.ms': ['int', '45000'],
  'group.consumer.heartbeat.interval.ms': ['int', '5000'],
  'group.consumer.max.size': ['int', '2147483647'],
  'group.consumer.assignors': [
    'list',
    'org.apache.kafka.coordinator.group.assignor.UniformAssignor,org.apache.kafka.coordinator.group.assignor.RangeAssignor',
  ],
  'transaction.state.log.num.partitions': ['int', '50'],
  'transaction.state.log.replication.factor': ['short', '3'],
  'transaction.state.log.min.isr': ['int', '2'],
  'transaction.max.timeout.ms': ['int', '900000'],
  'transaction.abort.timed.out.transaction.cleanup.interval.ms': ['int', '10000'],
  'transaction.remove.expired.transaction.cleanup.interval.ms': ['int', '3600000'],
  'transaction.partition.verification.enable': ['boolean', 'true'],
  'transactional.id.expiration.ms': ['int', '604800000'],
  'producer.id.expiration.ms': ['int', '86400000'],
  'producer.id.expiration.check.interval.ms': ['int', '600000'],
  // Topic-config synonyms
  'log.cleanup.policy': ['list', 'delete'],
  'compression.type': ['string', 'producer'],
  'log.cleaner.delete.retention.ms': ['long', '86400000'],
  'log.segment.delete.delay.ms': ['long', '60000'],
  'log.flush.interval.messages': ['long', LONG_MAX_STRING],
  'log.flush.interval.ms': ['long', null],
  'log.flush.scheduler.interval.ms': ['long', LONG_MAX_STRING],
  'log.index.interval.bytes': ['int', '4096'],
  'log.cleaner.max.compaction.lag.ms': ['long', LONG_MAX_STRING],
  'message.max.bytes': ['int', '1048588'],
  'log.message.downconversion.enable': ['boolean', 'true'],
  'log.message.timestamp.after.max.ms': ['long', LONG_MAX_STRING],
  'log.message.timestamp.before.max.ms': ['long', LONG_MAX_STRING],
  'log.message.timestamp.type': ['string', 'CreateTime'],
  'log.cleaner.min.cleanable.ratio': ['double', '0.5'],
  'log.cleaner.min.compaction.lag.ms': ['long', '0'],
  'min.insync.replicas': ['int', '1'],
  'log.preallocate': ['boolean', 'false'],
  'log.retention.bytes': ['long', '-1'],
  'log.retention.ms': ['long', null],
  'log.retention.minutes': ['int', null],
  'log.retention.hours': ['int', '168'],
  'log.segment.bytes': ['int', '1073741824'],
  'log.index.size.max.bytes': ['int', '10485760'],
  'log.roll.jitter.ms': ['long', null],
  'log.roll.jitter.hours': ['int', '0'],
  'log.roll.ms': ['long', null],
  'log.roll.hours': ['int', '168'],
  'unclean.leader.election.enable': ['boolean', 'false'],
};

/** Where Samsa's default deliberately differs from Kafka's. */
const SAMSA_DEFAULTS: Record<string, string> = {
  'process.roles': 'broker,controller',
  'node.id': '1',
  listeners: 'PLAINTEXT://127.0.0.1:9092',
  'log.dir': './samsa-data',
  'offsets.topic.replication.factor': '1',
  'transaction.state.log.replication.factor': '1',
  'transaction.state.log.min.isr': '1',
  'group.consumer.assignors': 'uniform,range',
};

void describe('broker config table', () => {
  void test('names are unique and sorted', () => {
    const names = BROKER_CONFIG_DEFINITIONS.map((d) => d.name);
    assert.equal(new Set(names).size, names.length);
    assert.deepEqual(names, [...names].sort());
  });

  void test("Kafka's names, types and defaults; every deviation is declared with Kafka's default", () => {
    const samsaOnly = ['cluster.id'];
    assert.deepEqual(
      BROKER_CONFIG_DEFINITIONS.map((d) => d.name)
        .filter((n) => !samsaOnly.includes(n))
        .sort(),
      Object.keys(KAFKA).sort(),
    );
    for (const [name, [type, kafkaDefault]] of Object.entries(KAFKA)) {
      const def = brokerConfigDefinition(name);
      assert.ok(def, name);
      assert.equal(def.type, type, name);
      const samsa = SAMSA_DEFAULTS[name];
      if (samsa === undefined) {
        assert.equal(def.default, kafkaDefault, name);
        assert.equal(def.kafkaDefault, undefined, name);
      } else {
        assert.equal(def.default, samsa, name);
        assert.equal(def.kafkaDefault, kafkaDefault, name);
      }
    }
  });

  void test('the topic-config synonyms are exactly log-config’s brokerKeys, pointing at their topic config', () => {
    const expected = LOG_CONFIG_DEFINITIONS.flatMap((def) =>
      def.brokerKeys.map((k) => [k.name, def.name, k.unit ?? null]),
    ).sort();
    const actual = BROKER_CONFIG_DEFINITIONS.filter((d) => d.topicConfig !== undefined)
      .map((d) => [d.name, d.topicConfig?.name, d.unit ?? null])
      .sort();
    assert.deepEqual(actual, expected);
  });

  void test('accepted-but-ineffective keys say so', () => {
    const none = BROKER_CONFIG_DEFINITIONS.filter((d) => d.effect === 'none').map((d) => d.name);
    assert.deepEqual(none.sort(), [
      'log.message.downconversion.enable',
      'num.io.threads',
      'num.network.threads',
      'socket.receive.buffer.bytes',
      'socket.send.buffer.bytes',
    ]);
    for (const name of ['num.io.threads', 'num.network.threads', 'socket.send.buffer.bytes']) {
      assert.match(brokerConfigDefinition(name)?.doc ?? '', /no effect/);
    }
  });

  void test('every row has a doc; unknown names have no definition', () => {
    for (const def of BROKER_CONFIG_DEFINITIONS) assert.ok(def.doc.length > 10, def.name);
    assert.equal(brokerConfigDefinition('zookeeper.connect'), undefined);
  });
});

// ---------------------------------------------------------------------------------------------

void describe('loadBrokerConfig: defaults', () => {
  void test('with no input: a single-node combined broker on 127.0.0.1:9092', () => {
    const { config, warnings } = loaded();
    assert.deepEqual(warnings, []);
    const { logDefaults, originals, listenerSecurityProtocolMap, ...rest } = config;
    assert.deepEqual(rest, {
      processRoles: ['broker', 'controller'],
      nodeId: 1,
      clusterId: null,
      listeners: [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 9092, securityProtocol: 'PLAINTEXT' }],
      advertisedListeners: [
        { name: 'PLAINTEXT', host: '127.0.0.1', port: 9092, securityProtocol: 'PLAINTEXT' },
      ],
      controllerListenerNames: [],
      interBrokerListenerName: 'PLAINTEXT',
      controllerQuorumVoters: [],
      controllerQuorumBootstrapServers: [],
      logDirs: ['./samsa-data'],
      numPartitions: 1,
      defaultReplicationFactor: 1,
      autoCreateTopicsEnable: true,
      deleteTopicEnable: true,
      socketRequestMaxBytes: 104857600,
      socketSendBufferBytes: 102400,
      socketReceiveBufferBytes: 102400,
      maxConnections: 2147483647,
      maxConnectionsPerIp: 2147483647,
      connectionsMaxIdleMs: 600000,
      queuedMaxRequests: 500,
      numNetworkThreads: 3,
      numIoThreads: 8,
      maxIncrementalFetchSessionCacheSlots: 1000,
      groupInitialRebalanceDelayMs: 3000,
      offsetsTopicNumPartitions: 50,
      offsetsTopicReplicationFactor: 1,
      offsetsRetentionMinutes: 10080,
      offsetsTopicSegmentBytes: 104857600,
      offsetsRetentionCheckIntervalMs: 600000,
      offsetMetadataMaxBytes: 4096,
      groupMinSessionTimeoutMs: 6000,
      groupMaxSessionTimeoutMs: 1800000,
      groupMaxSize: 2147483647,
      groupCoordinatorRebalanceProtocols: ['classic', 'consumer'],
      groupConsumerSessionTimeoutMs: 45000,
      groupConsumerHeartbeatIntervalMs: 5000,
      groupConsumerMaxSize: 2147483647,
      groupConsumerAssignors: ['uniform', 'range'],
      transactionStateLogNumPartitions: 50,
      transactionStateLogReplicationFactor: 1,
      transactionStateLogMinIsr: 1,
      transactionalIdExpirationMs: 604800000,
      producerIdExpirationMs: 86400000,
      transactionMaxTimeoutMs: 900000,
      transactionPartitionVerificationEnable: true,
      transactionAbortTimedOutTransactionCleanupIntervalMs: 10000,
      transactionRemoveExpiredTransactionCleanupIntervalMs: 3600000,
      producerIdExpirationCheckIntervalMs: 600000,
      logFlushSchedulerIntervalMs: Infinity,
      logFlushOffsetCheckpointIntervalMs: 60000,
      logRetentionCheckIntervalMs: 300000,
      logCleanerEnable: true,
      logCleanerBackoffMs: 15000,
    });
    assert.deepEqual(logDefaults, defaultLogConfig());
    assert.equal(originals.size, 0);
    assert.deepEqual(
      [...listenerSecurityProtocolMap],
      [
        ['SASL_SSL', 'SASL_SSL'],
        ['PLAINTEXT', 'PLAINTEXT'],
        ['SSL', 'SSL'],
        ['SASL_PLAINTEXT', 'SASL_PLAINTEXT'],
      ],
    );
  });

  void test('an empty file is the same as no file', () => {
    assert.deepEqual(load(''), load());
    assert.deepEqual(load('# only comments\n\n'), load());
  });

  void test('values are parsed as Kafka parses them: trimmed, booleans in any case, signs, lists', () => {
    const c = load(
      'num.partitions=+007\nauto.create.topics.enable=FALSE\ndelete.topic.enable=False\n' +
        'process.roles = broker , controller\nconnections.max.idle.ms=-1\n',
    );
    assert.equal(c.numPartitions, 7);
    assert.equal(c.autoCreateTopicsEnable, false);
    assert.equal(c.deleteTopicEnable, false);
    assert.deepEqual(c.processRoles, ['broker', 'controller']);
    assert.equal(c.connectionsMaxIdleMs, -1);
  });

  void test('Long.MAX_VALUE parses to Infinity', () => {
    const c = load(`log.flush.scheduler.interval.ms=${LONG_MAX_STRING}\n`);
    assert.equal(c.logFlushSchedulerIntervalMs, Infinity);
    assert.equal(load('log.flush.scheduler.interval.ms=2000').logFlushSchedulerIntervalMs, 2000);
  });
});

void describe('loadBrokerConfig: overrides', () => {
  void test('overrides win over the file, later overrides over earlier ones', () => {
    const c = load('num.partitions=3\nnode.id=4\n', ['num.partitions=5', 'node.id=6', 'node.id=7']);
    assert.equal(c.numPartitions, 5);
    assert.equal(c.nodeId, 7);
    assert.deepEqual(
      [...c.originals],
      [
        ['num.partitions', '5'],
        ['node.id', '7'],
      ],
    );
  });

  void test('overrides alone, trimmed, split at the first "="; an empty value is a value', () => {
    const c = load(undefined, [
      ' advertised.listeners = PLAINTEXT://h:1 ',
      'listeners=PLAINTEXT://:1',
      'cluster.id=',
    ]);
    assert.equal(c.advertisedListeners[0]?.host, 'h');
    assert.equal(c.listeners[0]?.port, 1);
    assert.equal(c.originals.get('cluster.id'), '');
    const m = load(undefined, ['listener.security.protocol.map=PLAINTEXT:PLAINTEXT']);
    assert.deepEqual([...m.listenerSecurityProtocolMap], [['PLAINTEXT', 'PLAINTEXT']]);
  });

  void test('a malformed override names it', () => {
    const noEquals = loadError('', ['num.partitions']);
    assert.equal(noEquals.problem, 'syntax');
    assert.equal(noEquals.key, 'num.partitions');
    assert.deepEqual(noEquals.origin, { kind: 'override', index: 0 });
    assert.match(noEquals.message, /num\.partitions.*key=value/);
    const noKey = loadError('', ['node.id=1', '=5']);
    assert.deepEqual(noKey.origin, { kind: 'override', index: 1 });
    assert.match(noKey.message, /"=5"/);
  });

  void test('an invalid override is reported as coming from the override', () => {
    const e = loadError('num.partitions=2\n', ['num.partitions=zero']);
    assert.equal(e.value, 'zero');
    assert.deepEqual(e.origin, { kind: 'override', index: 0 });
  });
});

void describe('loadBrokerConfig: unknown keys', () => {
  void test('each unknown key is a warning naming it and where it came from, not an error', () => {
    const { config, warnings } = loaded(
      'zookeeper.connect=localhost:2181\nnum.partitions=2\nssl.keystore.location=/x\n',
      ['made.up=1'],
    );
    assert.deepEqual(warnings, [
      'Ignoring unknown configuration zookeeper.connect (line 1)',
      'Ignoring unknown configuration ssl.keystore.location (line 3)',
      'Ignoring unknown configuration made.up (override #1)',
    ]);
    assert.equal(config.numPartitions, 2);
    assert.equal(config.originals.get('zookeeper.connect'), 'localhost:2181');
    assert.equal(
      brokerConfigEntries(config).some((e) => e.name === 'made.up'),
      false,
    );
  });

  void test('unknown keys are not validated', () => {
    assert.equal(loaded('broker.id=not-a-number\n').warnings.length, 1);
  });
});

void describe('loadBrokerConfig: invalid values name the key, the value and why', () => {
  const cases: [string, string, RegExp][] = [
    [
      'num.partitions=abc',
      'Invalid value abc for configuration num.partitions: Not a number of type INT',
      /INT/,
    ],
    [
      'num.partitions=0',
      'Invalid value 0 for configuration num.partitions: Value must be at least 1',
      /least/,
    ],
    [
      'num.partitions=1.5',
      'Invalid value 1.5 for configuration num.partitions: Not a number of type INT',
      /INT/,
    ],
    [
      'num.partitions=2147483648',
      'Invalid value 2147483648 for configuration num.partitions: Not a number of type INT',
      /INT/,
    ],
    ['node.id=-1', 'Invalid value -1 for configuration node.id: Value must be at least 0', /least/],
    [
      'auto.create.topics.enable=yes',
      'Invalid value yes for configuration auto.create.topics.enable: Expected value to be either true or false',
      /true or false/,
    ],
    [
      'offsets.topic.replication.factor=40000',
      'Invalid value 40000 for configuration offsets.topic.replication.factor: Not a number of type SHORT',
      /SHORT/,
    ],
    [
      'connections.max.idle.ms=10m',
      'Invalid value 10m for configuration connections.max.idle.ms: Not a number of type LONG',
      /LONG/,
    ],
    [
      'queued.max.requests=0',
      'Invalid value 0 for configuration queued.max.requests: Value must be at least 1',
      /least/,
    ],
    [
      'process.roles=broker,zookeeper',
      'Invalid value broker,zookeeper for configuration process.roles',
      /zookeeper/,
    ],
    ['process.roles=', 'Invalid value  for configuration process.roles', /ZooKeeper/],
    ['process.roles=broker,broker', 'Invalid value broker,broker for configuration process.roles', /twice/],
    ['cluster.id=my-cluster', 'Invalid value my-cluster for configuration cluster.id', /base64url/],
    ['max.connections.per.ip=0', 'Invalid value 0 for configuration max.connections.per.ip', /overrides/],
    [
      'max.connections=-1',
      'Invalid value -1 for configuration max.connections: Value must be at least 0',
      /least/,
    ],
    // Topic-config synonyms: types checked here, ranges by log-config.
    [
      'log.segment.bytes=abc',
      'Invalid value abc for configuration log.segment.bytes: Not a number of type INT',
      /INT/,
    ],
    [
      'log.segment.bytes=5',
      'Invalid value 5 for configuration log.segment.bytes: Value must be at least 14',
      /14/,
    ],
    ['log.retention.hours=forever', 'Invalid value forever for configuration log.retention.hours', /INT/],
    ['log.roll.hours=0', 'Invalid value 0 for configuration log.roll.hours', /segment\.ms/],
    ['compression.type=brotli', 'Invalid value brotli for configuration compression.type', /gzip/],
    ['log.cleanup.policy=forever', 'Invalid value forever for configuration log.cleanup.policy', /compact/],
    ['min.insync.replicas=0', 'Invalid value 0 for configuration min.insync.replicas', /least 1/],
    [
      'log.cleaner.min.cleanable.ratio=2',
      'Invalid value 2 for configuration log.cleaner.min.cleanable.ratio',
      /no more than 1/,
    ],
    [
      'unclean.leader.election.enable=maybe',
      'Invalid value maybe for configuration unclean.leader.election.enable',
      /true or false/,
    ],
  ];
  for (const [line, message, why] of cases) {
    void test(line, () => {
      const e = loadError(`# header\n${line}\n`);
      const [key, value] = line.split('=') as [string, string];
      assert.equal(e.kind, 'BrokerConfigError');
      assert.equal(e.errorCode, ErrorCode.INVALID_CONFIG);
      assert.equal(e.key, key);
      assert.equal(e.value, value);
      assert.ok(e.message.startsWith(message), e.message);
      assert.match(e.message, why);
      assert.deepEqual(e.origin, { kind: 'file', line: 2 });
    });
  }

  void test('the first bad key in file order is reported', () => {
    assert.equal(loadError('num.io.threads=0\nnum.partitions=x\n').key, 'num.io.threads');
  });

  void test('a shadowed synonym is still type-checked', () => {
    assert.equal(loadError('log.retention.ms=1000\nlog.retention.hours=x\n').key, 'log.retention.hours');
  });

  void test('a syntax error in the file names the line', () => {
    const e = loadError('a=1\nb=\\uZZZZ\n');
    assert.equal(e.problem, 'syntax');
    assert.deepEqual(e.origin, { kind: 'file', line: 2 });
    assert.match(e.message, /line 2: malformed/);
  });
});

// ---------------------------------------------------------------------------------------------

void describe('loadBrokerConfig: listeners', () => {
  const listenersOf = (text: string): [string, string, number][] =>
    load(text).listeners.map((l) => [l.name, l.host, l.port]);

  void test('an empty host means every interface; named hosts, 0.0.0.0, IPv6 and port 0 parse', () => {
    assert.deepEqual(listenersOf('listeners=PLAINTEXT://:9092'), [['PLAINTEXT', '', 9092]]);
    assert.deepEqual(listenersOf('listeners=PLAINTEXT://localhost:9092'), [['PLAINTEXT', 'localhost', 9092]]);
    assert.deepEqual(listenersOf('listeners=PLAINTEXT://0.0.0.0:9092'), [['PLAINTEXT', '0.0.0.0', 9092]]);
    assert.deepEqual(listenersOf('listeners=PLAINTEXT://[::1]:9092'), [['PLAINTEXT', '::1', 9092]]);
    assert.deepEqual(listenersOf('listeners=PLAINTEXT://my-host.example.com:0'), [
      ['PLAINTEXT', 'my-host.example.com', 0],
    ]);
  });

  void test('several listeners with their own names, mapped to PLAINTEXT; names are upper-cased', () => {
    const c = load(
      'listeners=client://:9092, INTERNAL://10.0.0.1:9094\n' +
        'listener.security.protocol.map=CLIENT:plaintext,internal:PLAINTEXT\n' +
        'inter.broker.listener.name=internal\n',
    );
    assert.deepEqual(
      c.listeners.map((l) => [l.name, l.host, l.port, l.securityProtocol]),
      [
        ['CLIENT', '', 9092, 'PLAINTEXT'],
        ['INTERNAL', '10.0.0.1', 9094, 'PLAINTEXT'],
      ],
    );
    assert.equal(c.interBrokerListenerName, 'INTERNAL');
  });

  const bad: [string, RegExp][] = [
    ['listeners=localhost:9092', /Unable to parse localhost:9092/],
    ['listeners=PLAINTEXT://host', /Unable to parse/],
    ['listeners=PLAINTEXT://my host:9092', /Unable to parse/],
    ['listeners=PLAINTEXT://:65536', /65536 is not in 0-65535/],
    ['listeners=PLAINTEXT://:-1', /-1 is not in 0-65535/],
    ['listeners=PLAINTEXT://:9092,PLAINTEXT://:9093', /PLAINTEXT is used twice/],
    [
      'listeners=A://:9092,B://:9092\nlistener.security.protocol.map=A:PLAINTEXT,B:PLAINTEXT',
      /:9092 is used by two/,
    ],
    ['listeners=CLIENT://:9092', /no security protocol for listener CLIENT/],
    ['listeners=SSL://:9093', /SSL; Samsa supports only PLAINTEXT/],
    ['listeners=EXT://:9093\nlistener.security.protocol.map=EXT:SASL_SSL', /SASL_SSL; Samsa supports only/],
    ['listeners=', /at least one listener/],
  ];
  for (const [text, why] of bad) {
    void test(`rejected: ${text.replace(/\n/g, ' | ')}`, () => {
      const e = loadError(text);
      assert.equal(e.key, 'listeners');
      assert.match(e.message, /^Invalid value .* for configuration listeners: /);
      assert.match(e.message, why);
    });
  }

  void test('a malformed protocol map names listener.security.protocol.map', () => {
    for (const map of ['A', 'A:B:C', 'A:TLS', 'A:PLAINTEXT,a:SSL']) {
      const e = loadError(`listener.security.protocol.map=${map}`);
      assert.equal(e.key, 'listener.security.protocol.map', map);
      assert.equal(e.value, map);
    }
  });

  void test('advertised.listeners default to the listeners, and replace their addresses when set', () => {
    assert.deepEqual(load('listeners=PLAINTEXT://:9092').advertisedListeners, [
      { name: 'PLAINTEXT', host: '', port: 9092, securityProtocol: 'PLAINTEXT' },
    ]);
    const c = load(
      'listeners=PLAINTEXT://0.0.0.0:9092,EXT://0.0.0.0:19092\n' +
        'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,EXT:PLAINTEXT\n' +
        'advertised.listeners=EXT://broker.example.com:443,PLAINTEXT://10.1.2.3:9092\n',
    );
    assert.deepEqual(
      c.advertisedListeners.map((l) => [l.name, l.host, l.port]),
      [
        ['EXT', 'broker.example.com', 443],
        ['PLAINTEXT', '10.1.2.3', 9092],
      ],
    );
    assert.equal(c.interBrokerListenerName, 'PLAINTEXT');
  });

  void test('advertised listeners must name existing listeners and be routable', () => {
    const missing = loadError('listeners=PLAINTEXT://:9092\nadvertised.listeners=EXTERNAL://h:9092\n');
    assert.equal(missing.key, 'advertised.listeners');
    assert.equal(missing.value, 'EXTERNAL://h:9092');
    assert.match(missing.message, /EXTERNAL is not in listeners \(PLAINTEXT\)/);
    assert.deepEqual(missing.origin, { kind: 'file', line: 2 });
    assert.match(
      loadError('advertised.listeners=PLAINTEXT://0.0.0.0:9092').message,
      /0\.0\.0\.0 cannot be advertised/,
    );
    assert.match(loadError('advertised.listeners=PLAINTEXT://[::]:9092').message, /:: cannot be advertised/);
    assert.match(loadError('advertised.listeners=nonsense').message, /Unable to parse nonsense/);
    assert.match(
      loadError('advertised.listeners=PLAINTEXT://a:1,PLAINTEXT://b:2').message,
      /advertised twice/,
    );
  });

  void test('inter.broker.listener.name must be advertised; unset picks PLAINTEXT, else the first', () => {
    const e = loadError('inter.broker.listener.name=REPLICATION\n');
    assert.equal(e.key, 'inter.broker.listener.name');
    assert.match(e.message, /must name an advertised listener \(PLAINTEXT\)/);
    const c = load('listeners=B://:1,A://:2\nlistener.security.protocol.map=A:PLAINTEXT,B:PLAINTEXT\n');
    assert.equal(c.interBrokerListenerName, 'B');
  });
});

void describe('loadBrokerConfig: KRaft roles and the quorum', () => {
  const combined =
    'process.roles=broker,controller\nnode.id=1\n' +
    'listeners=PLAINTEXT://:9092,CONTROLLER://:9093\ncontroller.listener.names=CONTROLLER\n';

  void test('controller listeners default to PLAINTEXT, are bound but never advertised', () => {
    const c = load(`${combined}controller.quorum.voters=1@localhost:9093,2@h2:9093,3@[::1]:9093\n`);
    assert.deepEqual(c.controllerListenerNames, ['CONTROLLER']);
    assert.deepEqual(
      c.listeners.map((l) => [l.name, l.securityProtocol]),
      [
        ['PLAINTEXT', 'PLAINTEXT'],
        ['CONTROLLER', 'PLAINTEXT'],
      ],
    );
    assert.deepEqual(
      c.advertisedListeners.map((l) => l.name),
      ['PLAINTEXT'],
    );
    assert.deepEqual(c.controllerQuorumVoters, [
      { id: 1, host: 'localhost', port: 9093 },
      { id: 2, host: 'h2', port: 9093 },
      { id: 3, host: '::1', port: 9093 },
    ]);
    // Advertising the controller listener explicitly is allowed; it stays out of the broker's list.
    const a = load(`${combined}advertised.listeners=PLAINTEXT://h:9092,CONTROLLER://h:9093\n`);
    assert.deepEqual(
      a.advertisedListeners.map((l) => l.name),
      ['PLAINTEXT'],
    );
  });

  void test('an explicit protocol map must cover controller listeners', () => {
    const e = loadError(`${combined}listener.security.protocol.map=PLAINTEXT:PLAINTEXT\n`);
    assert.equal(e.key, 'listeners');
    assert.match(e.message, /no security protocol for listener CONTROLLER/);
  });

  void test('combined-mode rules', () => {
    const notVoter = loadError(`${combined}controller.quorum.voters=2@h:9093\n`);
    assert.equal(notVoter.key, 'controller.quorum.voters');
    assert.match(notVoter.message, /node\.id 1 must be one of the voters/);
    const unbound = loadError('controller.listener.names=CONTROLLER\n');
    assert.equal(unbound.key, 'controller.listener.names');
    assert.match(unbound.message, /CONTROLLER is not in listeners/);
    const noListener = loadError('controller.quorum.voters=1@a:9093,2@b:9093\n');
    assert.equal(noListener.key, 'controller.listener.names');
    const onlyController = loadError('listeners=CONTROLLER://:9093\ncontroller.listener.names=CONTROLLER\n');
    assert.equal(onlyController.key, 'listeners');
    assert.match(onlyController.message, /not a controller listener/);
  });

  void test('quorum addresses must parse', () => {
    for (const voters of ['1@localhost', 'a@h:1', '1@h:99999', '1@h:1,1@g:2', 'localhost:9093']) {
      const e = loadError(`controller.quorum.voters=${voters}\n`);
      assert.equal(e.key, 'controller.quorum.voters', voters);
    }
    assert.equal(
      loadError('controller.quorum.bootstrap.servers=h\n').key,
      'controller.quorum.bootstrap.servers',
    );
    assert.deepEqual(
      load(`${combined}controller.quorum.bootstrap.servers=h1:9093, [::1]:9093\n`)
        .controllerQuorumBootstrapServers,
      [
        { host: 'h1', port: 9093 },
        { host: '::1', port: 9093 },
      ],
    );
  });

  void test('broker-only: needs the controllers, not as a voter, and no controller listener of its own', () => {
    const broker = 'process.roles=broker\nnode.id=4\n';
    const c = load(`${broker}controller.listener.names=CONTROLLER\ncontroller.quorum.voters=1@c1:9093\n`);
    assert.deepEqual(c.processRoles, ['broker']);
    assert.equal(loadError(broker).key, 'controller.quorum.bootstrap.servers');
    assert.equal(
      loadError(`${broker}controller.quorum.bootstrap.servers=c1:9093\n`).key,
      'controller.listener.names',
    );
    const voter = loadError(`${broker}controller.listener.names=C\ncontroller.quorum.voters=4@c:9093\n`);
    assert.equal(voter.key, 'controller.quorum.voters');
    const bound = loadError(
      `${broker}controller.listener.names=CONTROLLER\ncontroller.quorum.voters=1@c1:9093\n` +
        'listeners=PLAINTEXT://:9092,CONTROLLER://:9093\n',
    );
    assert.equal(bound.key, 'controller.listener.names');
  });

  void test('controller-only: every listener is a controller listener; no broker listener name', () => {
    const c = load(
      'process.roles=controller\nnode.id=1\nlisteners=CONTROLLER://:9093\ncontroller.listener.names=CONTROLLER\n',
    );
    assert.deepEqual(c.advertisedListeners, []);
    assert.equal(c.interBrokerListenerName, null);
    assert.equal(loadError('process.roles=controller\n').key, 'listeners');
  });

  void test('cluster.id accepts a Kafka cluster id', () => {
    assert.equal(load('cluster.id=MkU3OEVBNTcwNTJENDM2Qk\n').clusterId, 'MkU3OEVBNTcwNTJENDM2Qk');
  });
});

void describe('loadBrokerConfig: log dirs', () => {
  void test('log.dir by default, log.dirs over log.dir, comma-separated with spaces', () => {
    assert.deepEqual(load().logDirs, ['./samsa-data']);
    assert.deepEqual(load('log.dir=/var/samsa').logDirs, ['/var/samsa']);
    assert.deepEqual(load('log.dir=/ignored\nlog.dirs=/d1, /d2 ,/d3').logDirs, ['/d1', '/d2', '/d3']);
    assert.deepEqual(load('log.dirs=/only,').logDirs, ['/only']);
  });

  void test('no directory, or the same one twice, is an error naming the key used', () => {
    // As in Kafka, a log.dirs that is set but empty does not fall back on log.dir.
    const emptyDirs = loadError('log.dir=/x\nlog.dirs=\n');
    assert.equal(emptyDirs.key, 'log.dirs');
    assert.match(emptyDirs.message, /at least one log directory/);
    assert.equal(loadError('log.dir= , \n').key, 'log.dir');
    const dup = loadError('log.dirs=/data/a,/data/b,/data/a/\n');
    assert.equal(dup.key, 'log.dirs');
    assert.match(dup.message, /\/data\/a is listed twice/);
  });
});

void describe('loadBrokerConfig: topic defaults flow into logDefaults', () => {
  void test('log.retention.hours=1 gives retention.ms 3600000, from that key', () => {
    const c = load('log.retention.hours=1\n');
    assert.equal(c.logDefaults.retentionMs, 3_600_000);
    assert.deepEqual(c.logDefaults.origins.retentionMs, {
      source: 'STATIC_BROKER_CONFIG',
      key: 'log.retention.hours',
    });
  });

  void test('synonym precedence: log.retention.ms over .minutes over .hours, overrides included', () => {
    assert.equal(load('log.retention.hours=1\nlog.retention.minutes=2\n').logDefaults.retentionMs, 120_000);
    assert.equal(load('log.retention.hours=1\n', ['log.retention.ms=5']).logDefaults.retentionMs, 5);
    assert.equal(load('log.retention.ms=-1\n').logDefaults.retentionMs, -1);
  });

  void test('single-key synonyms land in their fields', () => {
    const d = load(
      [
        'message.max.bytes=2000000',
        'min.insync.replicas=2',
        'unclean.leader.election.enable=true',
        'log.segment.bytes=1048576',
        'compression.type=zstd',
        'log.cleanup.policy=compact,delete',
        'log.roll.hours=1',
        'log.message.timestamp.type=LogAppendTime',
        'log.flush.scheduler.interval.ms=1000',
      ].join('\n'),
    ).logDefaults;
    assert.equal(d.maxMessageBytes, 2_000_000);
    assert.equal(d.minInsyncReplicas, 2);
    assert.equal(d.uncleanLeaderElectionEnable, true);
    assert.equal(d.segmentBytes, 1_048_576);
    assert.equal(d.compressionType, 'zstd');
    assert.deepEqual(d.cleanupPolicy, { compact: true, delete: true });
    assert.equal(d.segmentMs, 3_600_000);
    assert.equal(d.messageTimestampType, 'LogAppendTime');
    assert.equal(d.flushMs, 1000); // log.flush.scheduler.interval.ms defaults flush.ms when log.flush.interval.ms is unset
  });

  void test('a cross-check failure in log-config names the broker key', () => {
    const e = loadError('log.cleaner.min.compaction.lag.ms=10\nlog.cleaner.max.compaction.lag.ms=5\n');
    assert.equal(e.key, 'log.cleaner.min.compaction.lag.ms');
    assert.equal(e.problem, 'conflict');
    assert.deepEqual(e.origin, { kind: 'file', line: 1 });
  });
});

// ---------------------------------------------------------------------------------------------

void describe('brokerConfigEntries', () => {
  void test('one read-only, non-sensitive entry per definition, in name order; defaults are DEFAULT_CONFIG', () => {
    const entries = brokerConfigEntries(load());
    assert.deepEqual(
      entries.map((e) => e.name),
      BROKER_CONFIG_DEFINITIONS.map((d) => d.name),
    );
    for (const e of entries) {
      const def = brokerConfigDefinition(e.name);
      assert.ok(def);
      assert.equal(e.value, def.default, e.name);
      assert.equal(e.isDefault, true, e.name);
      assert.equal(e.source, 'DEFAULT_CONFIG');
      assert.equal(e.sourceId, 5);
      assert.equal(e.readOnly, true);
      assert.equal(e.sensitive, false);
      assert.equal(e.typeId, BROKER_CONFIG_TYPE_ID[def.type]);
      assert.equal(e.documentation, def.doc);
      if (def.default === null) assert.deepEqual(e.synonyms, [], e.name);
      else
        assert.deepEqual(e.synonyms, [
          { name: e.name, value: def.default, source: 'DEFAULT_CONFIG', sourceId: 5 },
        ]);
    }
  });

  void test('a supplied value is STATIC_BROKER_CONFIG, printed as Kafka prints the parsed value', () => {
    const c = load(
      'num.partitions=007\ndelete.topic.enable=FALSE\nprocess.roles=broker , controller\n' +
        `log.flush.interval.messages=${LONG_MAX_STRING}\nlog.cleaner.min.cleanable.ratio=1\n`,
      ['node.id=2'],
    );
    const p = entry(c, 'num.partitions');
    assert.equal(p.value, '7');
    assert.equal(p.isDefault, false);
    assert.equal(p.source, 'STATIC_BROKER_CONFIG');
    assert.equal(p.sourceId, 4);
    assert.deepEqual(p.synonyms, [
      { name: 'num.partitions', value: '7', source: 'STATIC_BROKER_CONFIG', sourceId: 4 },
      { name: 'num.partitions', value: '1', source: 'DEFAULT_CONFIG', sourceId: 5 },
    ]);
    assert.equal(entry(c, 'delete.topic.enable').value, 'false');
    assert.equal(entry(c, 'process.roles').value, 'broker,controller');
    assert.equal(entry(c, 'log.flush.interval.messages').value, LONG_MAX_STRING);
    assert.equal(entry(c, 'log.cleaner.min.cleanable.ratio').value, '1.0'); // Java's Double.toString, via log-config
    assert.equal(entry(c, 'node.id').source, 'STATIC_BROKER_CONFIG');
  });

  void test('synonym chains as Kafka reports them: this key and the lower-precedence ones', () => {
    const c = load('log.retention.hours=1\n', ['log.retention.ms=5000']);
    const ms = entry(c, 'log.retention.ms');
    assert.equal(ms.value, '5000');
    assert.deepEqual(
      ms.synonyms.map((s) => [s.name, s.value, s.source]),
      [
        ['log.retention.ms', '5000', 'STATIC_BROKER_CONFIG'],
        ['log.retention.hours', '1', 'STATIC_BROKER_CONFIG'],
        ['log.retention.hours', '168', 'DEFAULT_CONFIG'],
      ],
    );
    const minutes = entry(c, 'log.retention.minutes');
    assert.equal(minutes.value, null);
    assert.equal(minutes.source, 'DEFAULT_CONFIG');
    assert.deepEqual(minutes.synonyms, []);
    const hours = entry(c, 'log.retention.hours');
    assert.equal(hours.value, '1');
    assert.deepEqual(
      hours.synonyms.map((s) => [s.name, s.value, s.source]),
      [
        ['log.retention.hours', '1', 'STATIC_BROKER_CONFIG'],
        ['log.retention.hours', '168', 'DEFAULT_CONFIG'],
      ],
    );
  });

  void test('an unset key without default is null; log.flush.interval.ms falls back on the scheduler key', () => {
    const c = load('log.flush.scheduler.interval.ms=1000\n');
    const flush = entry(c, 'log.flush.interval.ms');
    assert.equal(flush.value, null);
    assert.deepEqual(flush.synonyms, []);
    assert.equal(entry(c, 'log.flush.scheduler.interval.ms').value, '1000');
    assert.equal(entry(c, 'advertised.listeners').value, null);
  });
});
