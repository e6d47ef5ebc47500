/**
 * Per-topic log configuration: Kafka's topic config keys (`segment.bytes`, `retention.ms`,
 * `cleanup.policy`, …) with Kafka's types, defaults, valid ranges and broker-level defaults
 * (`log.segment.bytes`, `log.retention.hours`, …), as the storage layer reads them and as the
 * broker's CreateTopics / DescribeConfigs / AlterConfigs handlers speak them.
 *
 * One table, `LOG_CONFIG_DEFINITIONS`, drives everything: parsing, validation, broker-key
 * precedence and printing. Adding a config means adding a row (and a field to `LogConfigValues`).
 *
 * Semantics follow Apache Kafka 3.7–3.9 (`LogConfig`, `TopicConfig`, `ServerTopicConfigSynonyms`,
 * `KafkaConfig.logRetentionTimeMillis`). Deliberate choices:
 *
 * - **Long.MAX_VALUE is `Infinity`.** Kafka uses Long.MAX_VALUE as "never / no limit" (the
 *   defaults of `flush.messages`, `flush.ms`, `max.compaction.lag.ms`,
 *   `message.timestamp.{before,after}.max.ms`). JS numbers cannot hold it, so any long above
 *   2^53−1 parses to `Infinity` (and below −(2^53−1) to `-Infinity`); `Infinity` prints back as
 *   `9223372036854775807` (`-Infinity` as `-9223372036854775808`). Comparisons and sums stay
 *   right (`unflushed >= Infinity` is never true). Never hand such a value to `setTimeout`.
 *   2^53 ms is 285,000 years, so nothing meaningful is lost; a value between 2^53 and
 *   Long.MAX_VALUE does not round-trip exactly (it prints back as Long.MAX_VALUE).
 * - **`-1` stays `-1`.** `retention.ms = -1` and `retention.bytes = -1` (any negative
 *   retention.bytes) mean "no limit" exactly as in Kafka; they are not rewritten to `Infinity`.
 * - **`segment.bytes` ≥ 14** (Kafka 3.x: the legacy record overhead). Kafka 4.0 raised the
 *   floor to 1 MiB (KIP-1030); Samsa keeps 14 so tests can roll tiny segments.
 * - **`message.downconversion.enable`** is accepted and stored (default `true`); Samsa does not
 *   down-convert, so it has no effect (Kafka 4.x treats it as a no-op too).
 * - Parsing matches Kafka's `ConfigDef`: values are trimmed; booleans are case-insensitive;
 *   enum strings are case-sensitive; lists split on commas; an empty `cleanup.policy` means
 *   neither delete nor compact.
 */
import { ErrorCode } from '../protocol/error-codes.js';

// ---------------------------------------------------------------------------------------------
// Types

/** Kafka's ConfigDef types. */
export type LogConfigType = 'int' | 'long' | 'double' | 'boolean' | 'string' | 'list' | 'class';

export type CompressionType = 'producer' | 'uncompressed' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
export type TimestampType = 'CreateTime' | 'LogAppendTime';

/** `cleanup.policy` as flags; both false means segments are never removed by policy. */
export interface CleanupPolicy {
  readonly delete: boolean;
  readonly compact: boolean;
}

/** The typed values of every topic-level log config (Kafka key in each comment). */
export interface LogConfigValues {
  /** cleanup.policy */
  readonly cleanupPolicy: CleanupPolicy;
  /** compression.type */
  readonly compressionType: CompressionType;
  /** delete.retention.ms */
  readonly deleteRetentionMs: number;
  /** file.delete.delay.ms */
  readonly fileDeleteDelayMs: number;
  /** flush.messages — `Infinity` (Long.MAX_VALUE) means never flush by count. */
  readonly flushMessages: number;
  /** flush.ms — `Infinity` (Long.MAX_VALUE) means never flush by time. */
  readonly flushMs: number;
  /** index.interval.bytes */
  readonly indexIntervalBytes: number;
  /** max.compaction.lag.ms — `Infinity` means no upper bound. */
  readonly maxCompactionLagMs: number;
  /** max.message.bytes — largest record batch accepted. */
  readonly maxMessageBytes: number;
  /** message.downconversion.enable — stored only; Samsa never down-converts. */
  readonly messageDownconversionEnable: boolean;
  /** message.timestamp.after.max.ms — `Infinity` means no limit. */
  readonly messageTimestampAfterMaxMs: number;
  /** message.timestamp.before.max.ms — `Infinity` means no limit. */
  readonly messageTimestampBeforeMaxMs: number;
  /** message.timestamp.type */
  readonly messageTimestampType: TimestampType;
  /** min.cleanable.dirty.ratio */
  readonly minCleanableDirtyRatio: number;
  /** min.compaction.lag.ms */
  readonly minCompactionLagMs: number;
  /** min.insync.replicas */
  readonly minInsyncReplicas: number;
  /** preallocate */
  readonly preallocate: boolean;
  /** retention.bytes — negative means no size limit. */
  readonly retentionBytes: number;
  /** retention.ms — `-1` means no time limit. */
  readonly retentionMs: number;
  /** segment.bytes */
  readonly segmentBytes: number;
  /** segment.index.bytes */
  readonly segmentIndexBytes: number;
  /** segment.jitter.ms */
  readonly segmentJitterMs: number;
  /** segment.ms */
  readonly segmentMs: number;
  /** unclean.leader.election.enable */
  readonly uncleanLeaderElectionEnable: boolean;
}

export type LogConfigField = keyof LogConfigValues;
type LogConfigValue = LogConfigValues[LogConfigField];

/** Where a value came from, with Kafka's DescribeConfigs names. */
export type LogConfigSource =
  | 'DYNAMIC_TOPIC_CONFIG'
  | 'DYNAMIC_BROKER_CONFIG'
  | 'DYNAMIC_DEFAULT_BROKER_CONFIG'
  | 'STATIC_BROKER_CONFIG'
  | 'DEFAULT_CONFIG';

/** DescribeConfigs `ConfigSource` wire ids (TOPIC_CONFIG = 1 … DEFAULT_CONFIG = 5). */
export const CONFIG_SOURCE_ID: Readonly<Record<LogConfigSource, number>> = {
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
};

/** DescribeConfigs v3+ `ConfigType` wire ids. */
export const CONFIG_TYPE_ID: Readonly<Record<LogConfigType, number>> = {
  boolean: 1,
  string: 2,
  int: 3,
  long: 5,
  double: 6,
  list: 7,
  class: 8,
};

/** The key that supplied a value: a topic key, a broker key, or the built-in default. */
export interface LogConfigOrigin {
  readonly source: LogConfigSource;
  readonly key: string;
}

/** A resolved topic log config: typed values plus where each one came from. */
export interface LogConfig extends LogConfigValues {
  readonly origins: { readonly [F in LogConfigField]: LogConfigOrigin };
}

/** What was wrong with a config entry. */
export type ConfigProblem = 'unknown-key' | 'bad-type' | 'out-of-range' | 'bad-value' | 'conflict';

/** An invalid config entry: names the key, the value given, and why. Not thrown; returned. */
export interface ConfigError {
  readonly kind: 'ConfigError';
  /** Kafka error code for clients: always INVALID_CONFIG, as Kafka answers. */
  readonly errorCode: number;
  readonly key: string;
  readonly value: string;
  readonly problem: ConfigProblem;
  readonly reason: string;
  /** Kafka-style text: "Invalid value X for configuration K: reason". */
  readonly message: string;
}

export function isConfigError(x: LogConfig | ConfigError): x is ConfigError {
  return (x as Partial<ConfigError>).kind === 'ConfigError';
}

/** Thrown only by `defaultLogConfig` (a bad server.properties is a startup failure). */
export class InvalidLogConfigError extends Error {
  override readonly name = 'InvalidLogConfigError';
  readonly errorCode: number = ErrorCode.INVALID_CONFIG;
  readonly error: ConfigError;
  constructor(error: ConfigError) {
    super(error.message);
    this.error = error;
  }
}

/** Allowed values, as data so they can be printed (Kafka's "Valid Values" column). */
export type LogConfigValidator =
  | { readonly kind: 'range'; readonly min?: number; readonly max?: number }
  | { readonly kind: 'in'; readonly values: readonly string[] }
  | { readonly kind: 'list'; readonly values: readonly string[] };

/** A broker key that supplies a topic default; `unit` scales an int in minutes or hours to ms. */
export interface BrokerKey {
  readonly name: string;
  readonly unit?: 'minutes' | 'hours';
}

type TypeOf<V> = V extends number
  ? 'int' | 'long' | 'double'
  : V extends boolean
    ? 'boolean'
    : V extends string
      ? 'string' | 'class'
      : 'list';

export interface LogConfigDefinition<F extends LogConfigField = LogConfigField> {
  /** Kafka's topic config key. */
  readonly name: string;
  readonly field: F;
  readonly type: TypeOf<LogConfigValues[F]>;
  readonly default: LogConfigValues[F];
  readonly validator?: LogConfigValidator;
  /** Broker keys supplying the default, highest precedence first. */
  readonly brokerKeys: readonly BrokerKey[];
  /** Applied to a broker-supplied number before validation (Kafka's retention clamp). */
  readonly fromBroker?: (value: number) => number;
  readonly doc: string;
}

/** Any one row of the table. */
export type AnyLogConfigDefinition = { [F in LogConfigField]: LogConfigDefinition<F> }[LogConfigField];

// ---------------------------------------------------------------------------------------------
// The table

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Long.MAX_VALUE, as Kafka prints it. */
export const LONG_MAX_STRING = '9223372036854775807';
const LONG_MIN_STRING = '-9223372036854775808';

const atLeast = (min: number): LogConfigValidator => ({ kind: 'range', min });
const oneOf = (...values: string[]): LogConfigValidator => ({ kind: 'in', values });

const SPECS: { readonly [F in LogConfigField]: Omit<LogConfigDefinition<F>, 'field'> } = {
  cleanupPolicy: {
    name: 'cleanup.policy',
    type: 'list',
    default: { delete: true, compact: false },
    validator: { kind: 'list', values: ['compact', 'delete'] },
    brokerKeys: [{ name: 'log.cleanup.policy' }],
    doc: 'What happens to old segments: "delete" drops them past retention, "compact" keeps the latest record per key; both or neither may be given.',
  },
  compressionType: {
    name: 'compression.type',
    type: 'string',
    default: 'producer',
    validator: oneOf('uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'),
    brokerKeys: [{ name: 'compression.type' }],
    doc: 'Codec batches are stored with; "producer" keeps whatever the producer used.',
  },
  deleteRetentionMs: {
    name: 'delete.retention.ms',
    type: 'long',
    default: DAY_MS,
    validator: atLeast(0),
    brokerKeys: [{ name: 'log.cleaner.delete.retention.ms' }],
    doc: 'How long tombstones survive compaction, so readers starting from the beginning still see deletes.',
  },
  fileDeleteDelayMs: {
    name: 'file.delete.delay.ms',
    type: 'long',
    default: 60_000,
    validator: atLeast(0),
    brokerKeys: [{ name: 'log.segment.delete.delay.ms' }],
    doc: 'Grace period between marking a segment deleted and removing its files.',
  },
  flushMessages: {
    name: 'flush.messages',
    type: 'long',
    default: Infinity,
    validator: atLeast(1),
    brokerKeys: [{ name: 'log.flush.interval.messages' }],
    doc: 'Force an fsync after this many messages; the default never does (replication gives durability).',
  },
  flushMs: {
    name: 'flush.ms',
    type: 'long',
    default: Infinity,
    validator: atLeast(0),
    brokerKeys: [{ name: 'log.flush.interval.ms' }, { name: 'log.flush.scheduler.interval.ms' }],
    doc: 'Force an fsync when unflushed data is this old; the default never does.',
  },
  indexIntervalBytes: {
    name: 'index.interval.bytes',
    type: 'int',
    default: 4096,
    validator: atLeast(0),
    brokerKeys: [{ name: 'log.index.interval.bytes' }],
    doc: 'Log bytes between two offset-index entries; smaller means denser indexes and shorter scans.',
  },
  maxCompactionLagMs: {
    name: 'max.compaction.lag.ms',
    type: 'long',
    default: Infinity,
    validator: atLeast(1),
    brokerKeys: [{ name: 'log.cleaner.max.compaction.lag.ms' }],
    doc: 'Upper bound on how long a record may wait before it becomes eligible for compaction.',
  },
  maxMessageBytes: {
    name: 'max.message.bytes',
    type: 'int',
    default: 1024 * 1024 + 12,
    validator: atLeast(0),
    brokerKeys: [{ name: 'message.max.bytes' }],
    doc: 'Largest record batch (after compression) the topic accepts.',
  },
  messageDownconversionEnable: {
    name: 'message.downconversion.enable',
    type: 'boolean',
    default: true,
    brokerKeys: [{ name: 'log.message.downconversion.enable' }],
    doc: 'Accepted for compatibility; Samsa never converts batches to older formats for fetchers.',
  },
  messageTimestampAfterMaxMs: {
    name: 'message.timestamp.after.max.ms',
    type: 'long',
    default: Infinity,
    validator: atLeast(0),
    brokerKeys: [{ name: 'log.message.timestamp.after.max.ms' }],
    doc: 'With CreateTime, reject batches whose timestamp is this far ahead of the broker clock.',
  },
  messageTimestampBeforeMaxMs: {
    name: 'message.timestamp.before.max.ms',
    type: 'long',
    default: Infinity,
    validator: atLeast(0),
    brokerKeys: [{ name: 'log.message.timestamp.before.max.ms' }],
    doc: 'With CreateTime, reject batches whose timestamp is this far behind the broker clock.',
  },
  messageTimestampType: {
    name: 'message.timestamp.type',
    type: 'string',
    default: 'CreateTime',
    validator: oneOf('CreateTime', 'LogAppendTime'),
    brokerKeys: [{ name: 'log.message.timestamp.type' }],
    doc: 'Keep the producer timestamp (CreateTime) or stamp batches with the broker time on append (LogAppendTime).',
  },
  minCleanableDirtyRatio: {
    name: 'min.cleanable.dirty.ratio',
    type: 'double',
    default: 0.5,
    validator: { kind: 'range', min: 0, max: 1 },
    brokerKeys: [{ name: 'log.cleaner.min.cleanable.ratio' }],
    doc: 'Share of the log that must be uncompacted before the cleaner bothers with it.',
  },
  minCompactionLagMs: {
    name: 'min.compaction.lag.ms',
    type: 'long',
    default: 0,
    validator: atLeast(0),
    brokerKeys: [{ name: 'log.cleaner.min.compaction.lag.ms' }],
    doc: 'Records younger than this are never compacted away.',
  },
  minInsyncReplicas: {
    name: 'min.insync.replicas',
    type: 'int',
    default: 1,
    validator: atLeast(1),
    brokerKeys: [{ name: 'min.insync.replicas' }],
    doc: 'In-sync replicas needed before an acks=all produce succeeds.',
  },
  preallocate: {
    name: 'preallocate',
    type: 'boolean',
    default: false,
    brokerKeys: [{ name: 'log.preallocate' }],
    doc: 'Reserve the full segment size on disk when a segment is created.',
  },
  retentionBytes: {
    name: 'retention.bytes',
    type: 'long',
    default: -1,
    brokerKeys: [{ name: 'log.retention.bytes' }],
    doc: 'Per-partition size above which the oldest segments are deleted; negative means unlimited.',
  },
  retentionMs: {
    name: 'retention.ms',
    type: 'long',
    default: 7 * DAY_MS,
    validator: atLeast(-1),
    brokerKeys: [
      { name: 'log.retention.ms' },
      { name: 'log.retention.minutes', unit: 'minutes' },
      { name: 'log.retention.hours', unit: 'hours' },
    ],
    fromBroker: (ms) => (ms < 0 ? -1 : ms),
    doc: 'Age after which segments are deleted (with the delete policy); -1 means keep forever.',
  },
  segmentBytes: {
    name: 'segment.bytes',
    type: 'int',
    default: 1024 * 1024 * 1024,
    validator: atLeast(14),
    brokerKeys: [{ name: 'log.segment.bytes' }],
    doc: 'Size at which the active segment is rolled; retention and compaction work a segment at a time.',
  },
  segmentIndexBytes: {
    name: 'segment.index.bytes',
    type: 'int',
    default: 10 * 1024 * 1024,
    validator: atLeast(4),
    brokerKeys: [{ name: 'log.index.size.max.bytes' }],
    doc: 'Space reserved for each segment offset index (and time index); a full index rolls the segment.',
  },
  segmentJitterMs: {
    name: 'segment.jitter.ms',
    type: 'long',
    default: 0,
    validator: atLeast(0),
    brokerKeys: [{ name: 'log.roll.jitter.ms' }, { name: 'log.roll.jitter.hours', unit: 'hours' }],
    doc: 'Random amount taken off segment.ms per segment so partitions do not all roll together.',
  },
  segmentMs: {
    name: 'segment.ms',
    type: 'long',
    default: 7 * DAY_MS,
    validator: atLeast(1),
    brokerKeys: [{ name: 'log.roll.ms' }, { name: 'log.roll.hours', unit: 'hours' }],
    doc: 'Age at which the active segment is rolled even if not full, so retention can act on it.',
  },
  uncleanLeaderElectionEnable: {
    name: 'unclean.leader.election.enable',
    type: 'boolean',
    default: false,
    brokerKeys: [{ name: 'unclean.leader.election.enable' }],
    doc: 'Allow a replica outside the ISR to become leader when no in-sync one is left, at the cost of data loss.',
  },
};

/** Every topic log config, sorted by Kafka name (as Kafka documents and describes them). */
export const LOG_CONFIG_DEFINITIONS: readonly AnyLogConfigDefinition[] = (
  Object.keys(SPECS) as LogConfigField[]
)
  .map((field) => ({ field, ...SPECS[field] }) as AnyLogConfigDefinition)
  .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

const BY_NAME: ReadonlyMap<string, AnyLogConfigDefinition> = new Map(
  LOG_CONFIG_DEFINITIONS.map((d) => [d.name, d]),
);

const BY_FIELD: ReadonlyMap<LogConfigField, AnyLogConfigDefinition> = new Map(
  LOG_CONFIG_DEFINITIONS.map((d) => [d.field, d]),
);

/** The definition for a Kafka topic config key, or undefined if it is not one. */
export function logConfigDefinition(name: string): AnyLogConfigDefinition | undefined {
  return BY_NAME.get(name);
}

/** Checks across keys, after all values are known (Kafka's `LogConfig.validateValues`). */
const CROSS_CHECKS: readonly { field: LogConfigField; check: (c: LogConfigValues) => string | undefined }[] =
  [
    {
      field: 'minCompactionLagMs',
      check: (c) =>
        c.minCompactionLagMs > c.maxCompactionLagMs
          ? `must not exceed max.compaction.lag.ms (${formatLong(c.maxCompactionLagMs)})`
          : undefined,
    },
  ];

// ---------------------------------------------------------------------------------------------
// Parsing and printing

type Untyped = number | boolean | string | readonly string[];
type Failure = { readonly problem: ConfigProblem; readonly reason: string };

const INT_MIN = -(2n ** 31n);
const INT_MAX = 2n ** 31n - 1n;
const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);
const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function isFailure<T>(x: T | Failure): x is Failure {
  return typeof x === 'object' && x !== null && 'problem' in x && 'reason' in x;
}

/** Text → value of a ConfigDef type, before validation (Kafka's `ConfigDef.parseType`). */
function parseType(type: LogConfigType, raw: string): Untyped | Failure {
  const s = raw.trim();
  switch (type) {
    case 'int':
    case 'long': {
      const [lo, hi, what] = type === 'int' ? [INT_MIN, INT_MAX, '32-bit'] : [LONG_MIN, LONG_MAX, '64-bit'];
      const n = INTEGER.test(s) ? BigInt(s) : undefined;
      if (n === undefined || n < lo || n > hi) {
        return { problem: 'bad-type', reason: `Expected a ${what} integer (${type})` };
      }
      if (n > SAFE_MAX) return Infinity;
      if (n < -SAFE_MAX) return -Infinity;
      return Number(n);
    }
    case 'double':
      return DECIMAL.test(s) ? Number(s) : { problem: 'bad-type', reason: 'Expected a number (double)' };
    case 'boolean': {
      const lower = s.toLowerCase();
      if (lower === 'true') return true;
      if (lower === 'false') return false;
      return { problem: 'bad-type', reason: 'Expected either true or false' };
    }
    case 'string':
    case 'class':
      return s;
    case 'list':
      return s === '' ? [] : s.split(/\s*,\s*/);
  }
}

/** Kafka's "Valid Values" text: `[14,...]`, `[0,...,1]`, `[compact, delete]`. */
export function validValuesText(def: AnyLogConfigDefinition): string {
  const v = def.validator;
  if (v === undefined) return '';
  switch (v.kind) {
    case 'range':
      if (v.min === undefined) return v.max === undefined ? '' : `[...,${String(v.max)}]`;
      if (v.max === undefined) return `[${String(v.min)},...]`;
      return `[${String(v.min)},...,${String(v.max)}]`;
    case 'in':
    case 'list':
      return `[${v.values.join(', ')}]`;
  }
}

/** Validator check (Kafka's `Range` / `ValidString` / `ValidList`). */
function check(validator: LogConfigValidator | undefined, value: Untyped): Failure | undefined {
  if (validator === undefined) return undefined;
  switch (validator.kind) {
    case 'range': {
      const n = value as number;
      if (validator.min !== undefined && n < validator.min) {
        return { problem: 'out-of-range', reason: `Value must be at least ${String(validator.min)}` };
      }
      if (validator.max !== undefined && n > validator.max) {
        return { problem: 'out-of-range', reason: `Value must be no more than ${String(validator.max)}` };
      }
      return undefined;
    }
    case 'in':
      return validator.values.includes(value as string)
        ? undefined
        : { problem: 'bad-value', reason: `String must be one of: ${validator.values.join(', ')}` };
    case 'list': {
      const bad = (value as readonly string[]).find((item) => !validator.values.includes(item));
      return bad === undefined
        ? undefined
        : { problem: 'bad-value', reason: `"${bad}" is not one of: ${validator.values.join(', ')}` };
    }
  }
}

/** Validated untyped value → the field's value (a list becomes flags keyed by allowed items). */
function toFieldValue(def: AnyLogConfigDefinition, value: Untyped): LogConfigValue {
  if (def.type !== 'list') return value as LogConfigValue;
  const items = value as readonly string[];
  const allowed = def.validator?.kind === 'list' ? def.validator.values : [];
  return Object.fromEntries(allowed.map((a) => [a, items.includes(a)])) as unknown as CleanupPolicy;
}

function formatLong(n: number): string {
  if (n === Infinity) return LONG_MAX_STRING;
  if (n === -Infinity) return LONG_MIN_STRING;
  return String(n);
}

/** Java's `Double.toString`: "0.5", "1.0", "1.0E-4", "1.2E7". */
function formatJavaDouble(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(v);
  if (abs >= 1e-3 && abs < 1e7) {
    const s = String(v);
    return s.includes('.') ? s : `${s}.0`;
  }
  const [mantissa = '', exponent = '0'] = v.toExponential().split('e');
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}E${Number(exponent)}`;
}

/** A field value printed as Kafka prints it in DescribeConfigs. */
function formatValue(def: AnyLogConfigDefinition, value: LogConfigValue): string {
  if (typeof value === 'object') {
    // A list held as flags: the allowed items that are set, in the validator's order.
    const flags = value as unknown as Readonly<Record<string, boolean>>;
    const allowed = def.validator?.kind === 'list' ? def.validator.values : [];
    return allowed.filter((a) => flags[a] === true).join(',');
  }
  if (def.type === 'long') return formatLong(value as number);
  if (def.type === 'double') return formatJavaDouble(value as number);
  return String(value);
}

/** The value of one config, printed as Kafka prints it. */
export function formatLogConfigValue(config: LogConfigValues, def: AnyLogConfigDefinition): string {
  return formatValue(def, config[def.field]);
}

function configError(key: string, value: string, f: Failure): ConfigError {
  const message =
    f.problem === 'unknown-key'
      ? `Unknown topic config name: ${key}`
      : `Invalid value ${value} for configuration ${key}: ${f.reason}`;
  return {
    kind: 'ConfigError',
    errorCode: ErrorCode.INVALID_CONFIG,
    key,
    value,
    problem: f.problem,
    reason: f.reason,
    message,
  };
}

/** Parses and validates one topic-level value for a definition. */
function decodeTopicValue(def: AnyLogConfigDefinition, raw: string): LogConfigValue | Failure {
  const parsed = parseType(def.type, raw);
  if (isFailure(parsed)) return parsed;
  return check(def.validator, parsed) ?? toFieldValue(def, parsed);
}

/** Parses one broker key (unit conversion, Kafka's normalisation), then the topic validator. */
function decodeBrokerValue(
  def: AnyLogConfigDefinition,
  key: BrokerKey,
  raw: string,
): LogConfigValue | Failure {
  let parsed = parseType(key.unit === undefined ? def.type : 'int', raw);
  if (isFailure(parsed)) return parsed;
  let context = '';
  if (key.unit !== undefined) {
    const ms = (parsed as number) * (key.unit === 'hours' ? HOUR_MS : 60_000);
    context = `${formatLong(parsed as number)} ${key.unit} is ${formatLong(ms)} ms for ${def.name}; `;
    parsed = ms;
  }
  if (def.fromBroker !== undefined) parsed = def.fromBroker(parsed as number);
  const failure = check(def.validator, parsed);
  if (failure !== undefined) return { problem: failure.problem, reason: context + failure.reason };
  return toFieldValue(def, parsed);
}

function runCrossChecks(values: LogConfigValues, origins: LogConfig['origins']): ConfigError | undefined {
  for (const { field, check: crossCheck } of CROSS_CHECKS) {
    const reason = crossCheck(values);
    if (reason === undefined) continue;
    const value = formatValue(BY_FIELD.get(field) as AnyLogConfigDefinition, values[field]);
    return configError(origins[field].key, value, { problem: 'conflict', reason });
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Public API

export interface BrokerLogConfigOptions {
  /** How to report broker-supplied values in DescribeConfigs (default STATIC_BROKER_CONFIG). */
  readonly source?: 'STATIC_BROKER_CONFIG' | 'DYNAMIC_DEFAULT_BROKER_CONFIG' | 'DYNAMIC_BROKER_CONFIG';
}

/**
 * The topic defaults a broker derives from its properties (server.properties keys), applying
 * Kafka's precedence among synonyms (`log.retention.ms` > `log.retention.minutes` >
 * `log.retention.hours`; `log.roll.ms` > `log.roll.hours`; `log.flush.interval.ms` >
 * `log.flush.scheduler.interval.ms`). Keys that are not log-config synonyms are ignored.
 */
export function resolveBrokerLogConfig(
  brokerProps: Readonly<Record<string, string>> = {},
  options: BrokerLogConfigOptions = {},
): LogConfig | ConfigError {
  const brokerSource = options.source ?? 'STATIC_BROKER_CONFIG';
  const values: Record<string, LogConfigValue> = {};
  const origins: Record<string, LogConfigOrigin> = {};
  for (const def of LOG_CONFIG_DEFINITIONS) {
    const key = def.brokerKeys.find((k) => Object.hasOwn(brokerProps, k.name));
    const raw = key === undefined ? undefined : brokerProps[key.name];
    if (key === undefined || raw === undefined) {
      values[def.field] = def.default;
      origins[def.field] = { source: 'DEFAULT_CONFIG', key: def.name };
      continue;
    }
    const decoded = decodeBrokerValue(def, key, raw);
    if (isFailure(decoded)) return configError(key.name, raw, decoded);
    values[def.field] = decoded;
    origins[def.field] = { source: brokerSource, key: key.name };
  }
  const typed = values as unknown as LogConfigValues;
  const typedOrigins = origins as LogConfig['origins'];
  return runCrossChecks(typed, typedOrigins) ?? { ...typed, origins: typedOrigins };
}

/**
 * Like `resolveBrokerLogConfig`, for broker startup: Kafka's defaults with no argument, and an
 * `InvalidLogConfigError` (naming the broker key) if a property is invalid.
 */
export function defaultLogConfig(
  brokerProps: Readonly<Record<string, string>> = {},
  options: BrokerLogConfigOptions = {},
): LogConfig {
  const result = resolveBrokerLogConfig(brokerProps, options);
  if (isConfigError(result)) throw new InvalidLogConfigError(result);
  return result;
}

/**
 * Applies topic-level overrides (CreateTopics configs, the topic's stored config) on top of
 * `base` (normally the broker defaults). Unknown keys, unparsable values, values out of range
 * and conflicting values yield a `ConfigError` naming the key; `base` is never modified.
 * Layering onto a config that already has topic overrides keeps them unless replaced.
 */
export function parseLogConfig(
  topicOverrides: Readonly<Record<string, string>>,
  base: LogConfig,
): LogConfig | ConfigError {
  const entries = Object.entries(topicOverrides);
  for (const [key, raw] of entries) {
    if (!BY_NAME.has(key)) return configError(key, raw, { problem: 'unknown-key', reason: 'unknown key' });
  }
  const { origins: baseOrigins, ...baseValues } = base;
  const values: Record<string, LogConfigValue> = { ...baseValues };
  const origins: Record<string, LogConfigOrigin> = { ...baseOrigins };
  for (const [key, raw] of entries) {
    const def = BY_NAME.get(key) as AnyLogConfigDefinition;
    const decoded = decodeTopicValue(def, raw);
    if (isFailure(decoded)) return configError(key, raw, decoded);
    values[def.field] = decoded;
    origins[def.field] = { source: 'DYNAMIC_TOPIC_CONFIG', key };
  }
  const typed = values as unknown as LogConfigValues;
  const typedOrigins = origins as LogConfig['origins'];
  return runCrossChecks(typed, typedOrigins) ?? { ...typed, origins: typedOrigins };
}

/** One row of a DescribeConfigs answer for a topic. */
export interface LogConfigEntry {
  readonly name: string;
  /** As Kafka prints it: Long.MAX_VALUE for Infinity, "0.5" / "1.0" for doubles, "compact,delete". */
  readonly value: string;
  /** True when neither the topic nor the broker set it (Kafka: source is DEFAULT_CONFIG). */
  readonly isDefault: boolean;
  readonly source: LogConfigSource;
  /** DescribeConfigs `ConfigSource` id. */
  readonly sourceId: number;
  /** The key that supplied the value (topic key, broker synonym, or the topic key for defaults). */
  readonly sourceKey: string;
  readonly type: LogConfigType;
  /** DescribeConfigs v3+ `ConfigType` id. */
  readonly typeId: number;
  readonly documentation: string;
}

/** Every topic config with its effective value and source, in Kafka name order. */
export function logConfigEntries(config: LogConfig): LogConfigEntry[] {
  return LOG_CONFIG_DEFINITIONS.map((def) => {
    const origin = config.origins[def.field];
    return {
      name: def.name,
      value: formatValue(def, config[def.field]),
      isDefault: origin.source === 'DEFAULT_CONFIG',
      source: origin.source,
      sourceId: CONFIG_SOURCE_ID[origin.source],
      sourceKey: origin.key,
      type: def.type,
      typeId: CONFIG_TYPE_ID[def.type],
      documentation: def.doc,
    };
  });
}

/** The topic-level overrides only, as strings (what a topic's stored config holds). */
export function logConfigOverrides(config: LogConfig): Record<string, string> {
  const out: Record<string, string> = {};
  for (const def of LOG_CONFIG_DEFINITIONS) {
    if (config.origins[def.field].source === 'DYNAMIC_TOPIC_CONFIG') {
      out[def.name] = formatValue(def, config[def.field]);
    }
  }
  return out;
}
