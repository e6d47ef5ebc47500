/**
 * DescribeConfigs, AlterConfigs and IncrementalAlterConfigs against a real broker, judged by
 * kafkajs 2.x's admin and @platformatic/kafka 1.x's Admin, plus raw requests at every version
 * the handlers serve (v0 of each included, which neither client sends).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Admin as PltAdmin } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';

import { startBroker, type RunningBroker } from '../../src/broker/embed.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { ApiVersionsRequest } from '../../src/protocol/generated/message/ApiVersionsRequest.js';
import { ApiVersionsResponse } from '../../src/protocol/generated/message/ApiVersionsResponse.js';
import { AlterConfigsRequest } from '../../src/protocol/generated/message/AlterConfigsRequest.js';
import { AlterConfigsResponse } from '../../src/protocol/generated/message/AlterConfigsResponse.js';
import { DescribeConfigsRequest } from '../../src/protocol/generated/message/DescribeConfigsRequest.js';
import { DescribeConfigsResponse } from '../../src/protocol/generated/message/DescribeConfigsResponse.js';
import { IncrementalAlterConfigsRequest } from '../../src/protocol/generated/message/IncrementalAlterConfigsRequest.js';
import { IncrementalAlterConfigsResponse } from '../../src/protocol/generated/message/IncrementalAlterConfigsResponse.js';
import { RawClient } from './raw-client.js';

const TOPIC = 2;
const BROKER = 4;
const BROKER_LOGGER = 8;
const SOURCE = { TOPIC_CONFIG: 1, STATIC_BROKER_CONFIG: 4, DEFAULT_CONFIG: 5 } as const;
const OP = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;
const NODE_ID = 1; // node.id's default

// ---------------------------------------------------------------------------------------------
// Helpers

function describeReq(
  resources: { type: number; name: string; keys?: string[] | null }[],
  includeSynonyms = false,
  includeDocumentation = false,
): DescribeConfigsRequest {
  return {
    resources: resources.map((r) => ({
      resourceType: r.type,
      resourceName: r.name,
      configurationKeys: r.keys ?? null,
      unknownTaggedFields: undefined,
    })),
    includeSynonyms,
    includeDocumentation,
    unknownTaggedFields: undefined,
  };
}

function alterReq(
  resources: { type: number; name: string; configs: Record<string, string | null> }[],
  validateOnly = false,
): AlterConfigsRequest {
  return {
    resources: resources.map((r) => ({
      resourceType: r.type,
      resourceName: r.name,
      configs: Object.entries(r.configs).map(([name, value]) => ({
        name,
        value,
        unknownTaggedFields: undefined,
      })),
      unknownTaggedFields: undefined,
    })),
    validateOnly,
    unknownTaggedFields: undefined,
  };
}

function incrementalReq(
  resources: { type: number; name: string; ops: [string, number, string | null][] }[],
  validateOnly = false,
): IncrementalAlterConfigsRequest {
  return {
    resources: resources.map((r) => ({
      resourceType: r.type,
      resourceName: r.name,
      configs: r.ops.map(([name, configOperation, value]) => ({
        name,
        configOperation,
        value,
        unknownTaggedFields: undefined,
      })),
      unknownTaggedFields: undefined,
    })),
    validateOnly,
    unknownTaggedFields: undefined,
  };
}

async function createTopic(
  b: RunningBroker,
  name: string,
  configs: Record<string, string> = {},
): Promise<void> {
  const [r] = await b.broker.controller.createTopics(
    [
      {
        name,
        numPartitions: 1,
        replicationFactor: 1,
        assignments: [],
        configs: Object.entries(configs).map(([n, value]) => ({ name: n, value })),
      },
    ],
    false,
  );
  assert.equal(r?.errorCode, ErrorCode.NONE, r?.errorMessage ?? '');
}

function kafkaFor(b: RunningBroker): Kafka {
  return new Kafka({
    clientId: 'configs-test',
    brokers: [b.bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  });
}

function pltAdmin(b: RunningBroker): PltAdmin {
  return new PltAdmin({ clientId: 'configs-test', bootstrapBrokers: [b.bootstrap], retries: 0 });
}

type PltIncrementalConfigs = Parameters<
  PltAdmin['incrementalAlterConfigs']
>[0]['resources'][number]['configs'];

interface ProtocolErrorLike {
  apiId?: string;
  serverErrorMessage?: string | null;
  errors?: unknown[];
}

/** The protocol errors inside a (possibly nested) @platformatic/kafka error. */
function pltProtocolErrors(e: unknown): { apiId: string; message: string | null }[] {
  const out: { apiId: string; message: string | null }[] = [];
  const walk = (x: unknown): void => {
    const err = x as ProtocolErrorLike;
    if (typeof err.apiId === 'string')
      out.push({ apiId: err.apiId, message: err.serverErrorMessage ?? null });
    for (const inner of err.errors ?? []) walk(inner);
  };
  walk(e);
  return out;
}

type KjsEntry = {
  configName: string;
  configValue: string | null;
  readOnly: boolean;
  isDefault: boolean;
  configSource: number;
  isSensitive: boolean;
  configSynonyms: { configName: string; configValue: string | null; configSource: number }[];
};

async function kjsDescribe(kafka: Kafka, type: number, name: string): Promise<Map<string, KjsEntry>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const res = await admin.describeConfigs({ resources: [{ type, name }], includeSynonyms: true });
    assert.equal(res.resources.length, 1);
    const r = res.resources[0]!;
    assert.equal(r.errorCode, 0);
    return new Map((r.configEntries as unknown as KjsEntry[]).map((e) => [e.configName, e]));
  } finally {
    await admin.disconnect();
  }
}

function entriesOf(
  r: DescribeConfigsResponse.DescribeConfigsResult | undefined,
): Map<string, DescribeConfigsResponse.DescribeConfigsResourceResult> {
  assert.ok(r !== undefined);
  assert.equal(r.errorCode, ErrorCode.NONE, r.errorMessage ?? '');
  return new Map(r.configs.map((c) => [c.name, c]));
}

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'samsa-configs-'));
}

// ---------------------------------------------------------------------------------------------
// Tests

void describe('config APIs on a running broker', () => {
  let dir: string;
  let b: RunningBroker;
  let kafka: Kafka;
  let raw: RawClient;

  before(async () => {
    dir = await tempDir();
    b = await startBroker({ port: 0, dataDir: dir });
    kafka = kafkaFor(b);
    raw = await RawClient.open(b.port);
    await createTopic(b, 'plain');
    await createTopic(b, 'overridden', { 'retention.ms': '3600000', 'cleanup.policy': 'compact' });
  });

  after(async () => {
    raw.close();
    await b.stop();
    await rm(dir, { recursive: true, force: true });
  });

  void test('ApiVersions advertises DescribeConfigs 0-4, AlterConfigs 0-2, IncrementalAlterConfigs 0-1', async () => {
    const res = await raw.send(ApiVersionsRequest, ApiVersionsResponse, 3, {
      clientSoftwareName: 'raw',
      clientSoftwareVersion: '1',
      unknownTaggedFields: undefined,
    });
    const byKey = new Map(res.apiKeys.map((k) => [k.apiKey, [k.minVersion, k.maxVersion]]));
    assert.deepEqual(byKey.get(32), [0, 4]);
    assert.deepEqual(byKey.get(33), [0, 2]);
    assert.deepEqual(byKey.get(44), [0, 1]);
  });

  void test('kafkajs describes a topic with defaults as DEFAULT_CONFIG, values as Kafka prints them', async () => {
    const c = await kjsDescribe(kafka, TOPIC, 'plain');
    const retention = c.get('retention.ms')!;
    assert.equal(retention.configValue, '604800000');
    assert.equal(retention.configSource, SOURCE.DEFAULT_CONFIG);
    assert.equal(retention.isDefault, true);
    assert.equal(retention.readOnly, false);
    assert.equal(retention.isSensitive, false);
    // As Kafka: log.retention.ms heads the chain and has no default, so no synonyms are listed.
    assert.deepEqual(retention.configSynonyms, []);
    assert.deepEqual(c.get('cleanup.policy')!.configSynonyms, [
      { configName: 'log.cleanup.policy', configValue: 'delete', configSource: SOURCE.DEFAULT_CONFIG },
    ]);
    assert.equal(c.get('max.message.bytes')!.configValue, '1048588');
    assert.deepEqual(c.get('max.message.bytes')!.configSynonyms, [
      { configName: 'message.max.bytes', configValue: '1048588', configSource: SOURCE.DEFAULT_CONFIG },
    ]);
    assert.equal(c.get('cleanup.policy')!.configValue, 'delete');
    assert.equal(c.get('flush.ms')!.configValue, '9223372036854775807');
    assert.equal(c.get('min.cleanable.dirty.ratio')!.configValue, '0.5');
    assert.equal(c.get('unclean.leader.election.enable')!.configValue, 'false');
    assert.equal(c.get('segment.bytes')!.configValue, '1073741824');
    for (const e of c.values()) assert.equal(e.configSource, SOURCE.DEFAULT_CONFIG, e.configName);
  });

  void test('kafkajs describes overrides as TOPIC_CONFIG with the override first among synonyms', async () => {
    const c = await kjsDescribe(kafka, TOPIC, 'overridden');
    const retention = c.get('retention.ms')!;
    assert.equal(retention.configValue, '3600000');
    assert.equal(retention.configSource, SOURCE.TOPIC_CONFIG);
    assert.equal(retention.isDefault, false);
    assert.deepEqual(retention.configSynonyms, [
      { configName: 'retention.ms', configValue: '3600000', configSource: SOURCE.TOPIC_CONFIG },
    ]);
    assert.deepEqual(c.get('cleanup.policy')!.configSynonyms, [
      { configName: 'cleanup.policy', configValue: 'compact', configSource: SOURCE.TOPIC_CONFIG },
      { configName: 'log.cleanup.policy', configValue: 'delete', configSource: SOURCE.DEFAULT_CONFIG },
    ]);
    assert.equal(c.get('cleanup.policy')!.configValue, 'compact');
    assert.equal(c.get('cleanup.policy')!.configSource, SOURCE.TOPIC_CONFIG);
    assert.equal(c.get('segment.ms')!.configSource, SOURCE.DEFAULT_CONFIG);
  });

  void test('kafkajs alterConfigs replaces the whole set of overrides; keys not given revert to default', async () => {
    await createTopic(b, 'replace-me', { 'retention.ms': '1000', 'segment.ms': '60000' });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const res = await admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: TOPIC,
            name: 'replace-me',
            configEntries: [
              { name: 'cleanup.policy', value: 'compact,delete' },
              { name: 'max.message.bytes', value: '2048' },
            ],
          },
        ],
      });
      assert.equal(res.resources[0]!.errorCode, 0);
    } finally {
      await admin.disconnect();
    }
    const c = await kjsDescribe(kafka, TOPIC, 'replace-me');
    assert.equal(c.get('cleanup.policy')!.configValue, 'compact,delete');
    assert.equal(c.get('cleanup.policy')!.configSource, SOURCE.TOPIC_CONFIG);
    assert.equal(c.get('max.message.bytes')!.configValue, '2048');
    assert.equal(c.get('retention.ms')!.configValue, '604800000');
    assert.equal(c.get('retention.ms')!.configSource, SOURCE.DEFAULT_CONFIG);
    assert.equal(c.get('segment.ms')!.configSource, SOURCE.DEFAULT_CONFIG);
    assert.deepEqual(
      new Map(b.broker.image().topicConfig('replace-me')),
      new Map([
        ['cleanup.policy', 'compact,delete'],
        ['max.message.bytes', '2048'],
      ]),
    );
  });

  void test('validateOnly checks but writes nothing (AlterConfigs and IncrementalAlterConfigs)', async () => {
    await createTopic(b, 'validate-only', { 'retention.ms': '5000' });
    const a = await raw.send(
      AlterConfigsRequest,
      AlterConfigsResponse,
      2,
      alterReq([{ type: TOPIC, name: 'validate-only', configs: { 'retention.ms': '7000' } }], true),
    );
    assert.equal(a.responses[0]!.errorCode, ErrorCode.NONE);
    const bad = await raw.send(
      AlterConfigsRequest,
      AlterConfigsResponse,
      2,
      alterReq([{ type: TOPIC, name: 'validate-only', configs: { 'retention.ms': 'soon' } }], true),
    );
    assert.equal(bad.responses[0]!.errorCode, ErrorCode.INVALID_CONFIG);
    const i = await raw.send(
      IncrementalAlterConfigsRequest,
      IncrementalAlterConfigsResponse,
      1,
      incrementalReq(
        [{ type: TOPIC, name: 'validate-only', ops: [['retention.ms', OP.DELETE, null]] }],
        true,
      ),
    );
    assert.equal(i.responses[0]!.errorCode, ErrorCode.NONE);
    assert.deepEqual(
      new Map(b.broker.image().topicConfig('validate-only')),
      new Map([['retention.ms', '5000']]),
    );
  });

  void test('kafkajs: invalid value → INVALID_CONFIG; unknown topic → UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await assert.rejects(
        admin.alterConfigs({
          validateOnly: false,
          resources: [
            {
              type: TOPIC,
              name: 'plain',
              configEntries: [{ name: 'retention.ms', value: 'forever' }],
            },
          ],
        }),
        (e: { type?: string }) => e.type === 'INVALID_CONFIG',
      );
      await assert.rejects(
        admin.describeConfigs({
          includeSynonyms: false,
          resources: [{ type: TOPIC, name: 'no-such-topic' }],
        }),
        (e: { type?: string }) => e.type === 'UNKNOWN_TOPIC_OR_PARTITION',
      );
    } finally {
      await admin.disconnect();
    }
    assert.deepEqual(new Map(b.broker.image().topicConfig('plain')), new Map());
  });

  void test('errors are per resource and name the offending key', async () => {
    const res = await raw.send(
      AlterConfigsRequest,
      AlterConfigsResponse,
      1,
      alterReq([
        { type: TOPIC, name: 'plain', configs: { 'retention.ms': 'forever' } },
        { type: TOPIC, name: 'plain2-missing', configs: { 'retention.ms': '1' } },
        { type: TOPIC, name: 'plain', configs: {} },
        { type: TOPIC, name: 'overridden', configs: { 'no.such.key': '1' } },
        { type: TOPIC, name: 'bad/name', configs: {} },
      ]),
    );
    const [r0, r1, r2, r3, r4] = res.responses;
    // 'plain' is named twice: both get INVALID_REQUEST, as Kafka.
    assert.equal(r0!.errorCode, ErrorCode.INVALID_REQUEST);
    assert.equal(r0!.errorMessage, 'Each resource must appear at most once.');
    assert.equal(r2!.errorCode, ErrorCode.INVALID_REQUEST);
    assert.equal(r1!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    assert.equal(r1!.resourceName, 'plain2-missing');
    assert.equal(r3!.errorCode, ErrorCode.INVALID_CONFIG);
    assert.match(r3!.errorMessage ?? '', /no\.such\.key/);
    assert.equal(r4!.errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);

    const one = await raw.send(
      AlterConfigsRequest,
      AlterConfigsResponse,
      0,
      alterReq([{ type: TOPIC, name: 'plain', configs: { 'retention.ms': 'forever' } }]),
    );
    assert.equal(one.responses[0]!.errorCode, ErrorCode.INVALID_CONFIG);
    assert.match(
      one.responses[0]!.errorMessage ?? '',
      /Invalid value forever for configuration retention\.ms/,
    );

    const nulls = await raw.send(
      AlterConfigsRequest,
      AlterConfigsResponse,
      2,
      alterReq([{ type: TOPIC, name: 'plain', configs: { 'retention.ms': null } }]),
    );
    assert.equal(nulls.responses[0]!.errorCode, ErrorCode.INVALID_REQUEST);
    assert.equal(nulls.responses[0]!.errorMessage, 'Null value not supported for : retention.ms');
  });

  void test('@platformatic/kafka: INVALID_CONFIG carries the message naming the key', async () => {
    const admin = pltAdmin(b);
    try {
      await assert.rejects(
        admin.alterConfigs({
          resources: [
            {
              resourceType: TOPIC,
              resourceName: 'plain',
              configs: [{ name: 'max.message.bytes', value: '-5' }],
            },
          ],
        }),
        (e: unknown) => {
          const errors = pltProtocolErrors(e);
          assert.equal(errors[0]?.apiId, 'INVALID_CONFIG');
          assert.match(errors[0]?.message ?? '', /max\.message\.bytes/);
          return true;
        },
      );
      await assert.rejects(
        admin.incrementalAlterConfigs({
          resources: [
            {
              resourceType: TOPIC,
              resourceName: 'plain',
              configs: [{ name: 'unknown.key', configOperation: OP.SET, value: 'x' }],
            },
          ],
        }),
        (e: unknown) => {
          const errors = pltProtocolErrors(e);
          assert.equal(errors[0]?.apiId, 'INVALID_CONFIG');
          assert.equal(errors[0]?.message, 'Unknown topic config name: unknown.key');
          return true;
        },
      );
    } finally {
      await admin.close();
    }
  });

  void test('@platformatic/kafka describes with v4: config types and documentation', async () => {
    const admin = pltAdmin(b);
    try {
      const res = await admin.describeConfigs({
        resources: [
          {
            resourceType: TOPIC,
            resourceName: 'overridden',
            configurationKeys: ['retention.ms', 'cleanup.policy'],
          },
        ],
        includeSynonyms: true,
        includeDocumentation: true,
      });
      assert.equal(res.length, 1);
      const configs = new Map(res[0]!.configs.map((c) => [c.name, c]));
      assert.deepEqual([...configs.keys()].sort(), ['cleanup.policy', 'retention.ms']);
      const retention = configs.get('retention.ms')!;
      assert.equal(retention.value, '3600000');
      assert.equal(retention.configSource, SOURCE.TOPIC_CONFIG);
      assert.equal(retention.configType, 5); // LONG
      assert.match(retention.documentation ?? '', /deleted/);
      assert.equal(configs.get('cleanup.policy')!.configType, 7); // LIST
      assert.deepEqual(
        retention.synonyms.map((s) => [s.name, s.value, s.source]),
        [['retention.ms', '3600000', SOURCE.TOPIC_CONFIG]],
      );
      assert.deepEqual(
        configs.get('cleanup.policy')!.synonyms.map((s) => [s.name, s.value, s.source]),
        [
          ['cleanup.policy', 'compact', SOURCE.TOPIC_CONFIG],
          ['log.cleanup.policy', 'delete', SOURCE.DEFAULT_CONFIG],
        ],
      );
    } finally {
      await admin.close();
    }
  });

  void test('@platformatic/kafka incrementalAlterConfigs: SET, DELETE, APPEND, SUBTRACT', async () => {
    await createTopic(b, 'incremental', { 'retention.ms': '1000', 'segment.ms': '2000' });
    const admin = pltAdmin(b);
    const alter = (configs: PltIncrementalConfigs): Promise<void> =>
      admin.incrementalAlterConfigs({
        resources: [{ resourceType: TOPIC, resourceName: 'incremental', configs }],
      });
    const overrides = (): Map<string, string> => new Map(b.broker.image().topicConfig('incremental'));
    try {
      await alter([
        { name: 'max.message.bytes', configOperation: OP.SET, value: '4096' },
        { name: 'retention.ms', configOperation: OP.DELETE },
      ]);
      // segment.ms is kept: incremental changes touch only the keys named.
      assert.deepEqual(
        overrides(),
        new Map([
          ['segment.ms', '2000'],
          ['max.message.bytes', '4096'],
        ]),
      );
      await alter([{ name: 'cleanup.policy', configOperation: OP.APPEND, value: 'compact' }]);
      assert.equal(overrides().get('cleanup.policy'), 'delete,compact');
      await alter([{ name: 'cleanup.policy', configOperation: OP.APPEND, value: 'compact' }]);
      assert.equal(overrides().get('cleanup.policy'), 'delete,compact');
      await alter([{ name: 'cleanup.policy', configOperation: OP.SUBTRACT, value: 'delete' }]);
      assert.equal(overrides().get('cleanup.policy'), 'compact');
      await alter([{ name: 'cleanup.policy', configOperation: OP.SUBTRACT, value: 'compact' }]);
      assert.equal(overrides().get('cleanup.policy'), '');
      const described = await admin.describeConfigs({
        resources: [
          { resourceType: TOPIC, resourceName: 'incremental', configurationKeys: ['cleanup.policy'] },
        ],
      });
      assert.equal(described[0]!.configs[0]!.value, '');
      assert.equal(described[0]!.configs[0]!.configSource, SOURCE.TOPIC_CONFIG);
      await alter([
        { name: 'cleanup.policy', configOperation: OP.DELETE },
        { name: 'segment.ms', configOperation: OP.DELETE },
        { name: 'max.message.bytes', configOperation: OP.DELETE },
      ]);
      assert.deepEqual(overrides(), new Map());
      // DELETE of a key with no override is a no-op.
      await alter([{ name: 'retention.ms', configOperation: OP.DELETE }]);
      assert.deepEqual(overrides(), new Map());
    } finally {
      await admin.close();
    }
  });

  void test('IncrementalAlterConfigs request checks: duplicate keys, non-list APPEND, nulls, unknown op, resources', async () => {
    const res = await raw.send(
      IncrementalAlterConfigsRequest,
      IncrementalAlterConfigsResponse,
      0,
      incrementalReq([
        {
          type: TOPIC,
          name: 'plain',
          ops: [
            ['retention.ms', OP.SET, '1'],
            ['retention.ms', OP.DELETE, null],
          ],
        },
        { type: TOPIC, name: 'overridden', ops: [['retention.ms', OP.APPEND, '5']] },
        { type: TOPIC, name: 'no-such-topic', ops: [['retention.ms', OP.SET, '5']] },
        { type: BROKER, name: String(NODE_ID), ops: [['log.retention.hours', OP.SET, '5']] },
        { type: BROKER, name: '', ops: [['log.retention.hours', OP.DELETE, null]] },
        { type: BROKER, name: '7', ops: [] },
        { type: BROKER_LOGGER, name: String(NODE_ID), ops: [['kafka.server', OP.SET, 'DEBUG']] },
        { type: 16, name: 'metrics', ops: [] },
      ]),
    );
    const codes = res.responses.map((r) => [r.resourceName, r.errorCode]);
    assert.deepEqual(codes, [
      ['plain', ErrorCode.INVALID_REQUEST],
      ['overridden', ErrorCode.INVALID_CONFIG],
      ['no-such-topic', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      [String(NODE_ID), ErrorCode.INVALID_REQUEST],
      ['', ErrorCode.NONE],
      ['7', ErrorCode.INVALID_REQUEST],
      [String(NODE_ID), ErrorCode.INVALID_CONFIG],
      ['metrics', ErrorCode.INVALID_REQUEST],
    ]);
    assert.equal(res.responses[0]!.errorMessage, 'Error due to duplicate config keys');
    assert.equal(
      res.responses[1]!.errorMessage,
      "Can't APPEND to key retention.ms because its type is not LIST.",
    );
    assert.match(
      res.responses[3]!.errorMessage ?? '',
      /^Cannot update these configs dynamically: Set\(log\.retention\.hours\)/,
    );
    assert.equal(res.responses[5]!.errorMessage, 'Unexpected broker id, expected 1, but received 7');

    const more = await raw.send(
      IncrementalAlterConfigsRequest,
      IncrementalAlterConfigsResponse,
      1,
      incrementalReq([
        { type: TOPIC, name: 'plain', ops: [['retention.ms', OP.SET, null]] },
        { type: TOPIC, name: 'overridden', ops: [['retention.ms', 9, '1']] },
      ]),
    );
    assert.deepEqual(
      more.responses.map((r) => [r.errorCode, r.errorMessage]),
      [
        [ErrorCode.INVALID_REQUEST, 'Null value not supported for : retention.ms'],
        [ErrorCode.INVALID_REQUEST, 'Unknown operations type 9'],
      ],
    );
    assert.deepEqual(new Map(b.broker.image().topicConfig('plain')), new Map());
  });

  void test('kafkajs describes the broker resource: static keys, defaults, all read-only', async () => {
    const c = await kjsDescribe(kafka, BROKER, String(NODE_ID));
    const dirs = c.get('log.dirs')!;
    assert.equal(dirs.configValue, dir);
    assert.equal(dirs.configSource, SOURCE.STATIC_BROKER_CONFIG);
    assert.equal(dirs.readOnly, true);
    const hours = c.get('log.retention.hours')!;
    assert.equal(hours.configValue, '168');
    assert.equal(hours.configSource, SOURCE.DEFAULT_CONFIG);
    assert.equal(c.get('num.partitions')!.configValue, '1');
    for (const e of c.values()) assert.equal(e.readOnly, true, e.configName);
  });

  void test('broker resources: cluster default is empty, another id is INVALID_REQUEST, AlterConfigs refused', async () => {
    const res = await raw.send(
      DescribeConfigsRequest,
      DescribeConfigsResponse,
      3,
      describeReq([
        { type: BROKER, name: '' },
        { type: BROKER, name: '2' },
        { type: BROKER, name: 'one' },
        { type: BROKER, name: String(NODE_ID), keys: ['num.partitions', 'no.such.key'] },
        { type: BROKER_LOGGER, name: String(NODE_ID) },
        { type: 32, name: 'group' },
      ]),
    );
    const [def, other, word, filtered, logger, group] = res.results;
    assert.equal(def!.errorCode, ErrorCode.NONE);
    assert.deepEqual(def!.configs, []);
    assert.equal(other!.errorCode, ErrorCode.INVALID_REQUEST);
    assert.equal(other!.errorMessage, 'Unexpected broker id, expected 1 or empty string, but received 2');
    assert.equal(word!.errorCode, ErrorCode.INVALID_REQUEST);
    assert.equal(word!.errorMessage, 'Broker id must be an integer, but it is: one');
    assert.deepEqual(
      filtered!.configs.map((c) => [c.name, c.value, c.readOnly, c.configSource, c.configType]),
      [['num.partitions', '1', true, SOURCE.DEFAULT_CONFIG, 3]],
    );
    assert.equal(logger!.errorCode, ErrorCode.NONE);
    assert.deepEqual(logger!.configs, []);
    assert.equal(group!.errorCode, ErrorCode.INVALID_REQUEST);

    const alter = await raw.send(
      AlterConfigsRequest,
      AlterConfigsResponse,
      2,
      alterReq([
        { type: BROKER, name: String(NODE_ID), configs: { 'log.retention.hours': '1' } },
        { type: BROKER, name: '', configs: {} },
        { type: BROKER, name: 'x', configs: {} },
        { type: BROKER_LOGGER, name: String(NODE_ID), configs: {} },
      ]),
    );
    assert.deepEqual(
      alter.responses.map((r) => r.errorCode),
      [ErrorCode.INVALID_REQUEST, ErrorCode.NONE, ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_REQUEST],
    );
    assert.equal(alter.responses[2]!.errorMessage, 'Node id must be an integer, but it is: x');
    assert.equal(alter.responses[3]!.errorMessage, 'Unknown resource type 8');
  });

  void test('concurrent incremental changes to one topic are all applied (no lost update)', async () => {
    await createTopic(b, 'concurrent');
    const keys = ['retention.ms', 'segment.ms', 'max.message.bytes', 'flush.messages', 'delete.retention.ms'];
    const clients = await Promise.all(keys.map(() => RawClient.open(b.port)));
    try {
      const results = await Promise.all(
        keys.map((key, i) =>
          clients[i]!.send(
            IncrementalAlterConfigsRequest,
            IncrementalAlterConfigsResponse,
            1,
            incrementalReq([
              {
                type: TOPIC,
                name: 'concurrent',
                ops: [
                  [key, OP.SET, String(10_000 + i)],
                  ['cleanup.policy', OP.APPEND, i % 2 === 0 ? 'compact' : 'delete'],
                ],
              },
            ]),
          ),
        ),
      );
      for (const r of results) assert.equal(r.responses[0]!.errorCode, ErrorCode.NONE);
    } finally {
      for (const c of clients) c.close();
    }
    const overrides = b.broker.image().topicConfig('concurrent');
    keys.forEach((key, i) => assert.equal(overrides.get(key), String(10_000 + i), key));
    assert.deepEqual(overrides.get('cleanup.policy')?.split(',').sort(), ['compact', 'delete']);
  });

  void test('DescribeConfigs at every version 0-4', async () => {
    for (let v = 0; v <= 4; v++) {
      const res = await raw.send(
        DescribeConfigsRequest,
        DescribeConfigsResponse,
        v,
        describeReq(
          [
            { type: TOPIC, name: 'overridden' },
            { type: TOPIC, name: 'missing-topic' },
          ],
          v >= 1,
          v >= 3,
        ),
      );
      assert.equal(res.results.length, 2, `v${v}`);
      assert.equal(res.results[1]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `v${v}`);
      assert.equal(res.results[1]!.resourceName, 'missing-topic');
      const c = entriesOf(res.results[0]);
      const retention = c.get('retention.ms')!;
      const segment = c.get('segment.ms')!;
      assert.equal(retention.value, '3600000', `v${v}`);
      if (v === 0) {
        assert.equal(retention.isDefault, false);
        assert.equal(segment.isDefault, true);
      } else {
        assert.equal(retention.configSource, SOURCE.TOPIC_CONFIG, `v${v}`);
        assert.equal(segment.configSource, SOURCE.DEFAULT_CONFIG, `v${v}`);
        assert.deepEqual(
          c.get('cleanup.policy')!.synonyms.map((s) => s.name),
          v >= 1 ? ['cleanup.policy', 'log.cleanup.policy'] : [],
        );
      }
      if (v >= 3) {
        assert.equal(retention.configType, 5);
        assert.equal(typeof retention.documentation, 'string');
      }
    }
    // Without includeSynonyms / includeDocumentation: none of either.
    const plain = await raw.send(
      DescribeConfigsRequest,
      DescribeConfigsResponse,
      4,
      describeReq([{ type: TOPIC, name: 'overridden', keys: ['retention.ms'] }]),
    );
    const only = entriesOf(plain.results[0]);
    assert.deepEqual([...only.keys()], ['retention.ms']);
    assert.deepEqual(only.get('retention.ms')!.synonyms, []);
    assert.equal(only.get('retention.ms')!.documentation, null);
    // An empty key list means all keys, as in Kafka.
    const all = await raw.send(
      DescribeConfigsRequest,
      DescribeConfigsResponse,
      2,
      describeReq([{ type: TOPIC, name: 'overridden', keys: [] }]),
    );
    assert.ok(entriesOf(all.results[0]).size > 20);
  });

  void test('AlterConfigs at every version 0-2 and IncrementalAlterConfigs at 0-1', async () => {
    await createTopic(b, 'versions');
    for (let v = 0; v <= 2; v++) {
      const res = await raw.send(
        AlterConfigsRequest,
        AlterConfigsResponse,
        v,
        alterReq([{ type: TOPIC, name: 'versions', configs: { 'retention.ms': String(1000 + v) } }]),
      );
      assert.equal(res.responses[0]!.errorCode, ErrorCode.NONE, `v${v}`);
      assert.equal(b.broker.image().topicConfig('versions').get('retention.ms'), String(1000 + v));
    }
    for (let v = 0; v <= 1; v++) {
      const res = await raw.send(
        IncrementalAlterConfigsRequest,
        IncrementalAlterConfigsResponse,
        v,
        incrementalReq([{ type: TOPIC, name: 'versions', ops: [['segment.ms', OP.SET, String(5000 + v)]] }]),
      );
      assert.equal(res.responses[0]!.errorCode, ErrorCode.NONE, `v${v}`);
      assert.equal(b.broker.image().topicConfig('versions').get('segment.ms'), String(5000 + v));
    }
    assert.equal(b.broker.image().topicConfig('versions').get('retention.ms'), '1002');
  });
});

void describe('config changes take effect at once and survive a restart', () => {
  let dir: string;
  let b: RunningBroker;

  before(async () => {
    dir = await tempDir();
    b = await startBroker({ port: 0, dataDir: dir });
    await createTopic(b, 'limited');
  });

  after(async () => {
    await b.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const produce = async (size: number): Promise<void> => {
    const producer = kafkaFor(b).producer({ retry: { retries: 0 } });
    await producer.connect();
    try {
      await producer.send({ topic: 'limited', messages: [{ value: Buffer.alloc(size, 'x') }] });
    } finally {
      await producer.disconnect();
    }
  };
  const tooLarge = (e: { type?: string; name?: string }): boolean => e.type === 'MESSAGE_TOO_LARGE';

  void test('after AlterConfigs max.message.bytes=1000, kafkajs gets MESSAGE_TOO_LARGE; a DELETE lifts it', async () => {
    await produce(2000);
    const admin = kafkaFor(b).admin();
    await admin.connect();
    try {
      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: TOPIC,
            name: 'limited',
            configEntries: [{ name: 'max.message.bytes', value: '1000' }],
          },
        ],
      });
    } finally {
      await admin.disconnect();
    }
    await assert.rejects(produce(2000), tooLarge);
    await produce(100);

    const plt = pltAdmin(b);
    try {
      await plt.incrementalAlterConfigs({
        resources: [
          {
            resourceType: TOPIC,
            resourceName: 'limited',
            configs: [{ name: 'max.message.bytes', configOperation: OP.DELETE }],
          },
        ],
      });
    } finally {
      await plt.close();
    }
    await produce(2000);
  });

  void test('overrides survive a restart on the same data dir and are enforced after it', async () => {
    const raw = await RawClient.open(b.port);
    const res = await raw.send(
      IncrementalAlterConfigsRequest,
      IncrementalAlterConfigsResponse,
      1,
      incrementalReq([
        {
          type: TOPIC,
          name: 'limited',
          ops: [
            ['max.message.bytes', OP.SET, '1000'],
            ['retention.ms', OP.SET, '86400000'],
            ['cleanup.policy', OP.APPEND, 'compact'],
          ],
        },
      ]),
    );
    raw.close();
    assert.equal(res.responses[0]!.errorCode, ErrorCode.NONE);
    await b.stop();
    b = await startBroker({ port: 0, dataDir: dir });
    const c = await kjsDescribe(kafkaFor(b), TOPIC, 'limited');
    assert.equal(c.get('max.message.bytes')!.configValue, '1000');
    assert.equal(c.get('max.message.bytes')!.configSource, SOURCE.TOPIC_CONFIG);
    assert.equal(c.get('retention.ms')!.configValue, '86400000');
    assert.equal(c.get('cleanup.policy')!.configSource, SOURCE.TOPIC_CONFIG);
    assert.equal(c.get('segment.ms')!.configSource, SOURCE.DEFAULT_CONFIG);
    await assert.rejects(produce(2000), tooLarge);
    await produce(100);
  });
});

void describe('broker keys from server.properties show as STATIC_BROKER_CONFIG', () => {
  let dir: string;
  let b: RunningBroker;

  before(async () => {
    dir = await tempDir();
    b = await startBroker({
      port: 0,
      dataDir: dir,
      config: { 'log.retention.hours': '1', 'message.max.bytes': '5000' },
    });
    await createTopic(b, 'statics');
  });

  after(async () => {
    await b.stop();
    await rm(dir, { recursive: true, force: true });
  });

  void test('topic values, sources and synonym chains follow the broker keys', async () => {
    const kafka = kafkaFor(b);
    const c = await kjsDescribe(kafka, TOPIC, 'statics');
    const retention = c.get('retention.ms')!;
    assert.equal(retention.configValue, '3600000');
    assert.equal(retention.configSource, SOURCE.STATIC_BROKER_CONFIG);
    // Kafka lists no synonyms here (the chain's head, log.retention.ms, is unset) and so also
    // reports DEFAULT_CONFIG; Samsa keeps Kafka's synonyms but reports the true source.
    assert.deepEqual(retention.configSynonyms, []);
    const max = c.get('max.message.bytes')!;
    assert.equal(max.configValue, '5000');
    assert.equal(max.configSource, SOURCE.STATIC_BROKER_CONFIG);
    assert.deepEqual(max.configSynonyms, [
      { configName: 'message.max.bytes', configValue: '5000', configSource: SOURCE.STATIC_BROKER_CONFIG },
      { configName: 'message.max.bytes', configValue: '1048588', configSource: SOURCE.DEFAULT_CONFIG },
    ]);

    // v0 (no sources): only a topic override is "not default".
    const raw = await RawClient.open(b.port);
    try {
      const v0 = await raw.send(
        DescribeConfigsRequest,
        DescribeConfigsResponse,
        0,
        describeReq([{ type: TOPIC, name: 'statics', keys: ['retention.ms'] }]),
      );
      assert.equal(entriesOf(v0.results[0]).get('retention.ms')!.isDefault, true);
    } finally {
      raw.close();
    }

    // The broker resource agrees.
    const broker = await kjsDescribe(kafka, BROKER, String(NODE_ID));
    assert.equal(broker.get('log.retention.hours')!.configValue, '1');
    assert.equal(broker.get('log.retention.hours')!.configSource, SOURCE.STATIC_BROKER_CONFIG);
    assert.equal(broker.get('log.retention.hours')!.isDefault, false);
  });
});
