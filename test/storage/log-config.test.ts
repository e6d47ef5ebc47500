/** Topic log config: Kafka's defaults, broker-key precedence, validation errors, round trips. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { ErrorCode } from '../../src/protocol/error-codes.js';
import {
  CONFIG_SOURCE_ID,
  InvalidLogConfigError,
  LOG_CONFIG_DEFINITIONS,
  LONG_MAX_STRING,
  defaultLogConfig,
  isConfigError,
  logConfigDefinition,
  logConfigEntries,
  logConfigOverrides,
  parseLogConfig,
  resolveBrokerLogConfig,
  validValuesText,
  type ConfigError,
  type LogConfig,
  type LogConfigValues,
} from '../../src/storage/log-config.js';

/** Kafka 3.x topic config table: name → [type, default as printed, valid values, server default key]. */
const KAFKA: Record<string, [string, string, string, string]> = {
  'cleanup.policy': ['list', 'delete', '[compact, delete]', 'log.cleanup.policy'],
  'compression.type': [
    'string',
    'producer',
    '[uncompressed, zstd, lz4, snappy, gzip, producer]',
    'compression.type',
  ],
  'delete.retention.ms': ['long', '86400000', '[0,...]', 'log.cleaner.delete.retention.ms'],
  'file.delete.delay.ms': ['long', '60000', '[0,...]', 'log.segment.delete.delay.ms'],
  'flush.messages': ['long', '9223372036854775807', '[1,...]', 'log.flush.interval.messages'],
  'flush.ms': ['long', '9223372036854775807', '[0,...]', 'log.flush.interval.ms'],
  'index.interval.bytes': ['int', '4096', '[0,...]', 'log.index.interval.bytes'],
  'max.compaction.lag.ms': ['long', '9223372036854775807', '[1,...]', 'log.cleaner.max.compaction.lag.ms'],
  'max.message.bytes': ['int', '1048588', '[0,...]', 'message.max.bytes'],
  'message.downconversion.enable': ['boolean', 'true', '', 'log.message.downconversion.enable'],
  'message.timestamp.after.max.ms': [
    'long',
    '9223372036854775807',
    '[0,...]',
    'log.message.timestamp.after.max.ms',
  ],
  'message.timestamp.before.max.ms': [
    'long',
    '9223372036854775807',
    '[0,...]',
    'log.message.timestamp.before.max.ms',
  ],
  'message.timestamp.type': [
    'string',
    'CreateTime',
    '[CreateTime, LogAppendTime]',
    'log.message.timestamp.type',
  ],
  'min.cleanable.dirty.ratio': ['double', '0.5', '[0,...,1]', 'log.cleaner.min.cleanable.ratio'],
  'min.compaction.lag.ms': ['long', '0', '[0,...]', 'log.cleaner.min.compaction.lag.ms'],
  'min.insync.replicas': ['int', '1', '[1,...]', 'min.insync.replicas'],
  preallocate: ['boolean', 'false', '', 'log.preallocate'],
  'retention.bytes': ['long', '-1', '', 'log.retention.bytes'],
  'retention.ms': ['long', '604800000', '[-1,...]', 'log.retention.ms'],
  'segment.bytes': ['int', '1073741824', '[14,...]', 'log.segment.bytes'],
  'segment.index.bytes': ['int', '10485760', '[4,...]', 'log.index.size.max.bytes'],
  'segment.jitter.ms': ['long', '0', '[0,...]', 'log.roll.jitter.ms'],
  'segment.ms': ['long', '604800000', '[1,...]', 'log.roll.ms'],
  'unclean.leader.election.enable': ['boolean', 'false', '', 'unclean.leader.election.enable'],
};

function ok(result: LogConfig | ConfigError): LogConfig {
  if (isConfigError(result)) assert.fail(`unexpected config error: ${result.message}`);
  return result;
}

function err(result: LogConfig | ConfigError): ConfigError {
  if (!isConfigError(result)) assert.fail('expected a config error');
  return result;
}

/** The typed values of a config, without provenance. */
function valuesOf(config: LogConfig): LogConfigValues {
  const { origins: _origins, ...values } = config;
  return values;
}

function entryValue(config: LogConfig, name: string): string | undefined {
  return logConfigEntries(config).find((e) => e.name === name)?.value;
}

void describe('log config table', () => {
  void test('covers exactly the Kafka topic configs, in name order', () => {
    const names = LOG_CONFIG_DEFINITIONS.map((d) => d.name);
    assert.deepEqual(names, Object.keys(KAFKA).sort());
    assert.deepEqual(names, [...names].sort());
    assert.equal(new Set(LOG_CONFIG_DEFINITIONS.map((d) => d.field)).size, names.length);
  });

  void test("types, valid values and server default keys are Kafka's", () => {
    for (const def of LOG_CONFIG_DEFINITIONS) {
      const [type, , valid, brokerKey] = KAFKA[def.name] ?? assert.fail(def.name);
      assert.equal(def.type, type, def.name);
      assert.equal(validValuesText(def), valid, def.name);
      assert.equal(def.brokerKeys[0]?.name, brokerKey, def.name);
      assert.ok(def.doc.length > 10, def.name);
      assert.equal(logConfigDefinition(def.name), def);
    }
    assert.equal(logConfigDefinition('log.segment.bytes'), undefined);
  });

  void test('synonym chains follow Kafka precedence', () => {
    const chain = (name: string): string[] =>
      (logConfigDefinition(name)?.brokerKeys ?? []).map((k) => k.name + (k.unit ? `(${k.unit})` : ''));
    assert.deepEqual(chain('retention.ms'), [
      'log.retention.ms',
      'log.retention.minutes(minutes)',
      'log.retention.hours(hours)',
    ]);
    assert.deepEqual(chain('segment.ms'), ['log.roll.ms', 'log.roll.hours(hours)']);
    assert.deepEqual(chain('segment.jitter.ms'), ['log.roll.jitter.ms', 'log.roll.jitter.hours(hours)']);
    assert.deepEqual(chain('flush.ms'), ['log.flush.interval.ms', 'log.flush.scheduler.interval.ms']);
  });
});

void describe('defaultLogConfig', () => {
  void test("Kafka's defaults, printed as Kafka prints them", () => {
    const config = defaultLogConfig();
    for (const entry of logConfigEntries(config)) {
      const [type, value] = KAFKA[entry.name] ?? assert.fail(entry.name);
      assert.equal(entry.value, value, entry.name);
      assert.equal(entry.type, type, entry.name);
      assert.equal(entry.isDefault, true, entry.name);
      assert.equal(entry.source, 'DEFAULT_CONFIG', entry.name);
      assert.equal(entry.sourceId, 5, entry.name);
      assert.equal(entry.sourceKey, entry.name);
    }
    assert.deepEqual(defaultLogConfig({}), config);
  });

  void test('typed values; Long.MAX_VALUE defaults are Infinity', () => {
    const c = defaultLogConfig();
    assert.deepEqual(c.cleanupPolicy, { compact: false, delete: true });
    assert.equal(c.compressionType, 'producer');
    assert.equal(c.segmentBytes, 1_073_741_824);
    assert.equal(c.segmentMs, 604_800_000);
    assert.equal(c.retentionMs, 604_800_000);
    assert.equal(c.retentionBytes, -1);
    assert.equal(c.flushMessages, Infinity);
    assert.equal(c.flushMs, Infinity);
    assert.equal(c.maxCompactionLagMs, Infinity);
    assert.equal(c.messageTimestampBeforeMaxMs, Infinity);
    assert.equal(c.messageTimestampAfterMaxMs, Infinity);
    assert.equal(c.messageTimestampType, 'CreateTime');
    assert.equal(c.minCleanableDirtyRatio, 0.5);
    assert.equal(c.maxMessageBytes, 1_048_588);
    assert.equal(c.segmentIndexBytes, 10_485_760);
    assert.equal(c.indexIntervalBytes, 4096);
    assert.equal(c.messageDownconversionEnable, true);
    assert.equal(c.uncleanLeaderElectionEnable, false);
    assert.equal(c.preallocate, false);
  });

  void test('retention: log.retention.ms over log.retention.minutes over log.retention.hours', () => {
    const all = { 'log.retention.ms': '1234', 'log.retention.minutes': '5', 'log.retention.hours': '2' };
    const a = defaultLogConfig(all);
    assert.equal(a.retentionMs, 1234);
    assert.deepEqual(a.origins.retentionMs, { source: 'STATIC_BROKER_CONFIG', key: 'log.retention.ms' });

    const b = defaultLogConfig({ 'log.retention.minutes': '5', 'log.retention.hours': '2' });
    assert.equal(b.retentionMs, 5 * 60_000);
    assert.equal(b.origins.retentionMs.key, 'log.retention.minutes');

    const c = defaultLogConfig({ 'log.retention.hours': '2' });
    assert.equal(c.retentionMs, 2 * 3_600_000);
    assert.equal(c.origins.retentionMs.key, 'log.retention.hours');
    const entry = logConfigEntries(c).find((e) => e.name === 'retention.ms');
    assert.deepEqual(
      [entry?.value, entry?.isDefault, entry?.source, entry?.sourceId, entry?.sourceKey],
      ['7200000', false, 'STATIC_BROKER_CONFIG', 4, 'log.retention.hours'],
    );
  });

  void test('a negative broker retention in any unit means -1 (keep forever)', () => {
    assert.equal(defaultLogConfig({ 'log.retention.hours': '-1' }).retentionMs, -1);
    assert.equal(defaultLogConfig({ 'log.retention.minutes': '-7' }).retentionMs, -1);
    assert.equal(defaultLogConfig({ 'log.retention.ms': '-5' }).retentionMs, -1);
    assert.equal(defaultLogConfig({ 'log.retention.ms': '-1', 'log.retention.hours': '1' }).retentionMs, -1);
  });

  void test('roll, jitter and flush synonyms', () => {
    assert.equal(defaultLogConfig({ 'log.roll.hours': '1' }).segmentMs, 3_600_000);
    assert.equal(defaultLogConfig({ 'log.roll.ms': '500', 'log.roll.hours': '1' }).segmentMs, 500);
    assert.equal(defaultLogConfig({ 'log.roll.jitter.hours': '2' }).segmentJitterMs, 7_200_000);
    assert.equal(
      defaultLogConfig({ 'log.roll.jitter.ms': '9', 'log.roll.jitter.hours': '2' }).segmentJitterMs,
      9,
    );
    const scheduler = defaultLogConfig({ 'log.flush.scheduler.interval.ms': '3000' });
    assert.equal(scheduler.flushMs, 3000);
    assert.equal(scheduler.origins.flushMs.key, 'log.flush.scheduler.interval.ms');
    const both = defaultLogConfig({
      'log.flush.interval.ms': '100',
      'log.flush.scheduler.interval.ms': '3000',
    });
    assert.equal(both.flushMs, 100);
    assert.equal(defaultLogConfig({ 'log.flush.interval.messages': '1' }).flushMessages, 1);
  });

  void test('every single-key synonym is applied, unrelated broker keys ignored', () => {
    const props: Record<string, string> = {
      'broker.id': '7',
      'log.dirs': '/tmp/x',
      'log.cleanup.policy': 'compact',
      'compression.type': 'zstd',
      'log.cleaner.delete.retention.ms': '11',
      'log.segment.delete.delay.ms': '12',
      'log.index.interval.bytes': '13',
      'log.cleaner.max.compaction.lag.ms': '14',
      'message.max.bytes': '15',
      'log.message.downconversion.enable': 'false',
      'log.message.timestamp.after.max.ms': '16',
      'log.message.timestamp.before.max.ms': '17',
      'log.message.timestamp.type': 'LogAppendTime',
      'log.cleaner.min.cleanable.ratio': '0.25',
      'log.cleaner.min.compaction.lag.ms': '10',
      'min.insync.replicas': '2',
      'log.preallocate': 'true',
      'log.retention.bytes': '1000',
      'log.segment.bytes': '2048',
      'log.index.size.max.bytes': '4096',
      'unclean.leader.election.enable': 'true',
    };
    const c = defaultLogConfig(props, { source: 'DYNAMIC_DEFAULT_BROKER_CONFIG' });
    assert.deepEqual(c.cleanupPolicy, { compact: true, delete: false });
    assert.equal(c.compressionType, 'zstd');
    assert.equal(c.deleteRetentionMs, 11);
    assert.equal(c.fileDeleteDelayMs, 12);
    assert.equal(c.indexIntervalBytes, 13);
    assert.equal(c.maxCompactionLagMs, 14);
    assert.equal(c.maxMessageBytes, 15);
    assert.equal(c.messageDownconversionEnable, false);
    assert.equal(c.messageTimestampAfterMaxMs, 16);
    assert.equal(c.messageTimestampBeforeMaxMs, 17);
    assert.equal(c.messageTimestampType, 'LogAppendTime');
    assert.equal(c.minCleanableDirtyRatio, 0.25);
    assert.equal(c.minCompactionLagMs, 10);
    assert.equal(c.minInsyncReplicas, 2);
    assert.equal(c.preallocate, true);
    assert.equal(c.retentionBytes, 1000);
    assert.equal(c.segmentBytes, 2048);
    assert.equal(c.segmentIndexBytes, 4096);
    assert.equal(c.uncleanLeaderElectionEnable, true);
    const sources = new Map(logConfigEntries(c).map((e) => [e.name, e.source]));
    for (const [name, source] of sources) {
      const expected = [
        'retention.ms',
        'segment.ms',
        'segment.jitter.ms',
        'flush.ms',
        'flush.messages',
      ].includes(name)
        ? 'DEFAULT_CONFIG'
        : 'DYNAMIC_DEFAULT_BROKER_CONFIG';
      assert.equal(source, expected, name);
    }
  });

  void test('an invalid broker property names the broker key', () => {
    const cases: [Record<string, string>, string, string][] = [
      [{ 'log.segment.bytes': '13' }, 'log.segment.bytes', 'out-of-range'],
      [{ 'log.retention.hours': 'week' }, 'log.retention.hours', 'bad-type'],
      [{ 'log.retention.hours': '2147483648' }, 'log.retention.hours', 'bad-type'],
      [{ 'log.roll.hours': '0' }, 'log.roll.hours', 'out-of-range'],
      [{ 'log.roll.jitter.hours': '-1' }, 'log.roll.jitter.hours', 'out-of-range'],
      [{ 'log.cleanup.policy': 'shred' }, 'log.cleanup.policy', 'bad-value'],
      [{ 'log.cleaner.min.cleanable.ratio': '2' }, 'log.cleaner.min.cleanable.ratio', 'out-of-range'],
      [{ 'log.flush.interval.ms': '-3' }, 'log.flush.interval.ms', 'out-of-range'],
      [{ 'log.preallocate': 'yes' }, 'log.preallocate', 'bad-type'],
      [
        { 'log.cleaner.min.compaction.lag.ms': '10', 'log.cleaner.max.compaction.lag.ms': '5' },
        'log.cleaner.min.compaction.lag.ms',
        'conflict',
      ],
    ];
    for (const [props, key, problem] of cases) {
      const e = err(resolveBrokerLogConfig(props));
      assert.equal(e.key, key);
      assert.equal(e.problem, problem, key);
      assert.equal(e.errorCode, ErrorCode.INVALID_CONFIG);
      assert.ok(e.message.includes(key), e.message);
      assert.throws(
        () => defaultLogConfig(props),
        (thrown: unknown) =>
          thrown instanceof InvalidLogConfigError && thrown.error.key === key && thrown.message.includes(key),
      );
    }
    assert.match(
      err(resolveBrokerLogConfig({ 'log.roll.hours': '0' })).reason,
      /0 hours is 0 ms for segment\.ms/,
    );
  });
});

void describe('parseLogConfig', () => {
  const base = defaultLogConfig();

  void test('overrides replace values and are marked as topic config', () => {
    const c = ok(parseLogConfig({ 'segment.bytes': '1024', 'cleanup.policy': 'compact,delete' }, base));
    assert.equal(c.segmentBytes, 1024);
    assert.deepEqual(c.cleanupPolicy, { compact: true, delete: true });
    assert.deepEqual(c.origins.segmentBytes, { source: 'DYNAMIC_TOPIC_CONFIG', key: 'segment.bytes' });
    assert.equal(c.origins.segmentMs.source, 'DEFAULT_CONFIG');
    const entry = logConfigEntries(c).find((e) => e.name === 'segment.bytes');
    assert.equal(entry?.isDefault, false);
    assert.equal(entry?.sourceId, CONFIG_SOURCE_ID.DYNAMIC_TOPIC_CONFIG);
    assert.deepEqual(base, defaultLogConfig(), 'base untouched');
  });

  void test("Kafka's parsing: trimmed, booleans any case, lists with spaces, empty list", () => {
    const c = ok(
      parseLogConfig(
        {
          'segment.ms': ' 60000 ',
          preallocate: 'TRUE',
          'cleanup.policy': ' delete , compact ',
          'min.cleanable.dirty.ratio': '1e-1',
          'min.insync.replicas': '+2',
          'compression.type': ' lz4',
        },
        base,
      ),
    );
    assert.equal(c.segmentMs, 60_000);
    assert.equal(c.preallocate, true);
    assert.deepEqual(c.cleanupPolicy, { compact: true, delete: true });
    assert.equal(entryValue(c, 'cleanup.policy'), 'compact,delete');
    assert.equal(c.minCleanableDirtyRatio, 0.1);
    assert.equal(c.minInsyncReplicas, 2);
    assert.equal(c.compressionType, 'lz4');
    const none = ok(parseLogConfig({ 'cleanup.policy': '' }, base));
    assert.deepEqual(none.cleanupPolicy, { compact: false, delete: false });
    assert.equal(entryValue(none, 'cleanup.policy'), '');
  });

  void test('longs beyond 2^53 saturate to Infinity and print as Long.MAX_VALUE', () => {
    const c = ok(
      parseLogConfig(
        {
          'flush.ms': LONG_MAX_STRING,
          'flush.messages': '9007199254740993',
          'retention.bytes': '-9223372036854775808',
        },
        base,
      ),
    );
    assert.equal(c.flushMs, Infinity);
    assert.equal(c.flushMessages, Infinity);
    assert.equal(c.retentionBytes, -Infinity);
    assert.equal(entryValue(c, 'flush.messages'), LONG_MAX_STRING);
    assert.equal(entryValue(c, 'retention.bytes'), '-9223372036854775808');
    const exact = ok(parseLogConfig({ 'flush.messages': String(Number.MAX_SAFE_INTEGER) }, base));
    assert.equal(exact.flushMessages, Number.MAX_SAFE_INTEGER);
  });

  void test("doubles print as Java's Double.toString", () => {
    const show = (v: string): string | undefined =>
      entryValue(ok(parseLogConfig({ 'min.cleanable.dirty.ratio': v }, base)), 'min.cleanable.dirty.ratio');
    assert.equal(show('1'), '1.0');
    assert.equal(show('0'), '0.0');
    assert.equal(show('0.75'), '0.75');
    assert.equal(show('.001'), '0.001');
    assert.equal(show('0.0001'), '1.0E-4');
    assert.equal(show('0.00015'), '1.5E-4');
  });

  void test('an unknown key is named', () => {
    for (const key of ['segment.byte', 'log.segment.bytes', 'message.format.version', '__proto__', '']) {
      const e = err(parseLogConfig({ [key]: '1' }, base));
      assert.equal(e.key, key);
      assert.equal(e.problem, 'unknown-key');
      assert.equal(e.message, `Unknown topic config name: ${key}`);
    }
    // Names are checked before values, as Kafka does.
    const e = err(parseLogConfig({ 'segment.bytes': 'x', bogus: '1' }, base));
    assert.equal(e.key, 'bogus');
  });

  void test('unparsable values name key and value', () => {
    const cases: [string, string][] = [
      ['segment.bytes', 'big'],
      ['segment.bytes', '1.5'],
      ['segment.bytes', '2147483648'],
      ['segment.bytes', '-2147483649'],
      ['index.interval.bytes', '0x10'],
      ['retention.ms', '9223372036854775808'],
      ['retention.ms', '1e3'],
      ['retention.ms', ''],
      ['min.cleanable.dirty.ratio', 'half'],
      ['min.cleanable.dirty.ratio', 'NaN'],
      ['preallocate', 'yes'],
      ['unclean.leader.election.enable', '1'],
      ['message.downconversion.enable', ''],
    ];
    for (const [key, value] of cases) {
      const e = err(parseLogConfig({ [key]: value }, base));
      assert.deepEqual([e.key, e.value, e.problem], [key, value, 'bad-type'], `${key}=${value}`);
      assert.ok(e.message.startsWith(`Invalid value ${value} for configuration ${key}: `), e.message);
      assert.equal(e.errorCode, ErrorCode.INVALID_CONFIG);
    }
  });

  void test('every range bound is enforced and names the key', () => {
    let checked = 0;
    for (const def of LOG_CONFIG_DEFINITIONS) {
      const v = def.validator;
      if (v?.kind !== 'range') continue;
      const step = def.type === 'double' ? 0.01 : 1;
      if (v.min !== undefined) {
        const below = String(v.min - step);
        const e = err(parseLogConfig({ [def.name]: below }, base));
        assert.deepEqual([e.key, e.value, e.problem], [def.name, below, 'out-of-range']);
        assert.match(e.reason, new RegExp(`at least ${v.min}`));
        ok(parseLogConfig({ [def.name]: String(v.min) }, base));
        checked++;
      }
      if (v.max !== undefined) {
        const above = String(v.max + step);
        const e = err(parseLogConfig({ [def.name]: above }, base));
        assert.deepEqual([e.key, e.problem], [def.name, 'out-of-range']);
        assert.match(e.reason, new RegExp(`no more than ${v.max}`));
        ok(parseLogConfig({ [def.name]: String(v.max) }, base));
        checked++;
      }
    }
    assert.ok(checked >= 18, `checked ${checked} bounds`);
  });

  void test('enum and list values are case-sensitive and name the key', () => {
    const cases: [string, string][] = [
      ['compression.type', 'GZIP'],
      ['compression.type', 'brotli'],
      ['compression.type', 'none'],
      ['message.timestamp.type', 'createtime'],
      ['message.timestamp.type', 'NoTime'],
      ['cleanup.policy', 'Delete'],
      ['cleanup.policy', 'delete,shred'],
      ['cleanup.policy', 'compact,'],
    ];
    for (const [key, value] of cases) {
      const e = err(parseLogConfig({ [key]: value }, base));
      assert.deepEqual([e.key, e.value, e.problem], [key, value, 'bad-value'], `${key}=${value}`);
      assert.ok(e.message.includes(key));
    }
    for (const v of ['producer', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd']) {
      assert.equal(ok(parseLogConfig({ 'compression.type': v }, base)).compressionType, v);
    }
  });

  void test('min.compaction.lag.ms above max.compaction.lag.ms is a conflict naming the key', () => {
    const e = err(parseLogConfig({ 'min.compaction.lag.ms': '10', 'max.compaction.lag.ms': '5' }, base));
    assert.deepEqual([e.key, e.value, e.problem], ['min.compaction.lag.ms', '10', 'conflict']);
    assert.match(e.reason, /max\.compaction\.lag\.ms \(5\)/);
    // Against a broker-supplied max, the topic key is still the one named.
    const broker = defaultLogConfig({ 'log.cleaner.max.compaction.lag.ms': '5' });
    assert.equal(err(parseLogConfig({ 'min.compaction.lag.ms': '6' }, broker)).key, 'min.compaction.lag.ms');
    ok(parseLogConfig({ 'min.compaction.lag.ms': '5', 'max.compaction.lag.ms': '5' }, base));
  });

  void test('layering onto a broker base keeps broker sources for untouched keys', () => {
    const broker = defaultLogConfig({ 'log.retention.hours': '1', 'log.segment.bytes': '4096' });
    const c = ok(parseLogConfig({ 'segment.bytes': '8192' }, broker));
    assert.equal(c.segmentBytes, 8192);
    assert.equal(c.retentionMs, 3_600_000);
    assert.deepEqual(c.origins.retentionMs, { source: 'STATIC_BROKER_CONFIG', key: 'log.retention.hours' });
    assert.deepEqual(logConfigOverrides(c), { 'segment.bytes': '8192' });
    const again = ok(parseLogConfig({ 'retention.ms': '-1' }, c));
    assert.deepEqual(logConfigOverrides(again), { 'retention.ms': '-1', 'segment.bytes': '8192' });
  });
});

void describe('round trip parse → entries → parse', () => {
  const base = defaultLogConfig({ 'log.retention.minutes': '90', 'log.cleanup.policy': 'compact' });

  /** A valid, non-default value for every config, derived from the table. */
  function sampleOverrides(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const def of LOG_CONFIG_DEFINITIONS) {
      const v = def.validator;
      if (def.type === 'boolean') out[def.name] = String(!def.default);
      else if (v?.kind === 'in') out[def.name] = v.values[0] ?? '';
      else if (v?.kind === 'list') out[def.name] = v.values.join(',');
      else if (def.type === 'double') out[def.name] = '0.125';
      else if (def.name === 'max.compaction.lag.ms') out[def.name] = LONG_MAX_STRING;
      else out[def.name] = String((v?.kind === 'range' ? (v.min ?? 0) : 0) + 17);
    }
    return out;
  }

  void test('topic overrides survive DescribeConfigs printing', () => {
    const overrides = sampleOverrides();
    const first = ok(parseLogConfig(overrides, base));
    const printed = logConfigEntries(first).filter((e) => e.source === 'DYNAMIC_TOPIC_CONFIG');
    assert.equal(printed.length, LOG_CONFIG_DEFINITIONS.length);
    const second = ok(parseLogConfig(Object.fromEntries(printed.map((e) => [e.name, e.value])), base));
    assert.deepEqual(second, first);
    assert.deepEqual(logConfigOverrides(second), logConfigOverrides(first));
  });

  void test('all effective values (defaults and broker values included) re-parse to the same values', () => {
    for (const config of [
      base,
      defaultLogConfig(),
      ok(parseLogConfig({ 'cleanup.policy': '', 'retention.bytes': '-5' }, base)),
    ]) {
      const all = Object.fromEntries(logConfigEntries(config).map((e) => [e.name, e.value]));
      const reparsed = ok(parseLogConfig(all, defaultLogConfig()));
      assert.deepEqual(valuesOf(reparsed), valuesOf(config));
      assert.deepEqual(
        logConfigEntries(reparsed).map((e) => e.value),
        Object.values(all),
      );
    }
  });

  void test('a few overrides round-trip and leave the rest to the base', () => {
    const first = ok(parseLogConfig({ 'retention.ms': '-1', 'segment.bytes': '14' }, base));
    const overrides = logConfigOverrides(first);
    assert.deepEqual(overrides, { 'retention.ms': '-1', 'segment.bytes': '14' });
    assert.deepEqual(ok(parseLogConfig(overrides, base)), first);
    assert.deepEqual(first.cleanupPolicy, { compact: true, delete: false });
    assert.equal(first.origins.cleanupPolicy.key, 'log.cleanup.policy');
  });
});
