/**
 * `samsa console-consumer`: kafka-console-consumer.sh. Prints each record's value on a line of
 * stdout (key, timestamp, partition, offset and headers too when the print.* properties ask),
 * until --max-messages records were printed, --timeout-ms passed without a record, or Ctrl-C;
 * then "Processed a total of N messages" on stderr.
 *
 * With --group it joins the group (subscribe) and commits the offsets of exactly the records it
 * printed. Without --group it differs from Kafka's tool, which makes up a throw-away group: it
 * assigns itself every partition of the topic(s) and commits nothing, which reads the same records
 * without leaving a group behind on the broker.
 */
import { Admin } from '../../client/admin.js';
import { Consumer, type ConsumerOptions, type ConsumerRecord } from '../../client/consumer.js';
import type { ClientOptions } from '../../client/options.js';
import type { TopicPartition } from '../../client/topic-partition.js';
import {
  HELP_FLAG,
  parseBigIntFlag,
  parseKeyValues,
  UsageError,
  type CommandSpec,
  type ParsedArgs,
} from '../args.js';
import { err } from '../output.js';
import {
  BOOTSTRAP_FLAG,
  clientOptions,
  CommandError,
  describeError,
  parseIntValue,
  parsePropertiesFile,
  includePattern,
  tpString,
  checkProperties,
  booleanProperty,
} from './common.js';

/** The longest single poll: how quickly the loop notices --timeout-ms or Ctrl-C. */
const POLL_SLICE_MS = 500;
/** How often printed offsets are committed while consuming with a group (Kafka's auto.commit.interval.ms). */
const COMMIT_INTERVAL_MS = 5000;
const INT32_MAX = 0x7fffffff;

export const spec: CommandSpec = {
  command: 'console-consumer',
  summary: 'print records of a topic on stdout',
  usage: [
    'samsa console-consumer --bootstrap-server <host:port> --topic <topic> [--from-beginning] [--group <group>] [--max-messages <n>]',
    'samsa console-consumer --bootstrap-server <host:port> --topic <topic> --partition <p> [--offset <o>|earliest|latest]',
    'samsa console-consumer --bootstrap-server <host:port> --include <regex> [options]',
  ],
  description:
    'Prints records on stdout, one per line, as kafka-console-consumer.sh does, and "Processed a total of N ' +
    'messages" on stderr at the end. With --group it consumes as a member of that group and commits the offsets ' +
    'of the records it printed. Without --group (unlike Kafka, which makes up a temporary group) it reads every ' +
    'partition directly, without a group, and commits nothing. It starts at the latest offset unless ' +
    '--from-beginning (or a committed offset of the group) says otherwise.\n\n' +
    'Formatter properties (--property): print.key, print.value (true), print.timestamp, print.partition, ' +
    'print.offset, print.headers (all false by default), key.separator (tab), line.separator (newline), ' +
    'headers.separator (,), headers.key.separator (:), null.literal (null).\n\n' +
    'Consumer properties (--consumer-property): group.id, group.instance.id, client.id, auto.offset.reset, ' +
    'enable.auto.commit (false: commit nothing), session.timeout.ms, heartbeat.interval.ms, max.poll.interval.ms, ' +
    'max.poll.records, fetch.min.bytes, fetch.max.wait.ms, fetch.max.bytes, max.partition.fetch.bytes, ' +
    'isolation.level, partition.assignment.strategy, request.timeout.ms, retry.backoff.ms, metadata.max.age.ms.',
  flags: [
    BOOTSTRAP_FLAG,
    { name: 'topic', kind: 'value', valueName: 'topic', help: 'The topic to consume.' },
    {
      name: 'include',
      kind: 'value',
      aliases: ['--whitelist'],
      valueName: 'regex',
      help: 'Consume every topic whose whole name matches this regex (instead of --topic).',
    },
    { name: 'group', kind: 'value', valueName: 'group', help: 'Consume as a member of this consumer group.' },
    {
      name: 'from-beginning',
      kind: 'boolean',
      help: 'Start at the earliest offset when there is no committed offset (the default is the latest).',
    },
    {
      name: 'partition',
      kind: 'value',
      valueName: 'p',
      help: 'Consume only this partition (not with --group).',
    },
    {
      name: 'offset',
      kind: 'value',
      valueName: 'o|earliest|latest',
      help: 'With --partition: the offset to start at (a number >= 0, earliest or latest; default latest).',
    },
    { name: 'max-messages', kind: 'value', valueName: 'n', help: 'Exit after printing this many records.' },
    {
      name: 'timeout-ms',
      kind: 'value',
      valueName: 'ms',
      help: 'Exit when no record arrives for this long.',
    },
    {
      name: 'property',
      kind: 'value',
      repeatable: true,
      aliases: ['--formatter-property'],
      valueName: 'key=value',
      help: 'A formatter property (print.key, key.separator …, see above).',
    },
    {
      name: 'formatter-config',
      kind: 'value',
      valueName: 'file',
      help: 'A properties file of formatter properties.',
    },
    {
      name: 'consumer-property',
      kind: 'value',
      repeatable: true,
      aliases: ['--command-property'],
      valueName: 'key=value',
      help: "A consumer property in Kafka's naming (see above).",
    },
    {
      name: 'consumer.config',
      kind: 'value',
      aliases: ['--command-config'],
      valueName: 'file',
      help: 'A properties file of consumer properties (--consumer-property wins).',
    },
    {
      name: 'isolation-level',
      kind: 'value',
      valueName: 'read_uncommitted|read_committed',
      help: 'read_committed hides records of aborted or open transactions (default read_uncommitted).',
    },
    HELP_FLAG,
  ],
  examples: [
    'samsa console-consumer --bootstrap-server localhost:9092 --topic orders --from-beginning --max-messages 10',
    'samsa console-consumer --bootstrap-server localhost:9092 --topic orders --group audit --property print.key=true',
  ],
};

// -------------------------------------------------------------------------------- formatter

/** Kafka's DefaultMessageFormatter settings. */
export interface FormatterConfig {
  printTimestamp: boolean;
  printKey: boolean;
  printValue: boolean;
  printPartition: boolean;
  printOffset: boolean;
  printHeaders: boolean;
  keySeparator: Buffer;
  lineSeparator: Buffer;
  headersSeparator: Buffer;
  headersKeySeparator: Buffer;
  nullLiteral: Buffer;
}

const FORMATTER_KEYS = new Set([
  'print.timestamp',
  'print.key',
  'print.value',
  'print.partition',
  'print.offset',
  'print.headers',
  'key.separator',
  'line.separator',
  'headers.separator',
  'headers.key.separator',
  'null.literal',
  // Accepted for Kafka command lines: this tool prints bytes as they are, which is what Kafka's
  // byte-array and string deserializers print.
  'key.deserializer',
  'value.deserializer',
]);

export function formatterConfig(props: ReadonlyMap<string, string>): FormatterConfig {
  checkProperties(props, FORMATTER_KEYS, 'formatter');
  const bool = (k: string, fallback: boolean): boolean => booleanProperty(props, k, fallback);
  const bytes = (k: string, fallback: string): Buffer => Buffer.from(props.get(k) ?? fallback, 'utf8');
  return {
    printTimestamp: bool('print.timestamp', false),
    printKey: bool('print.key', false),
    printValue: bool('print.value', true),
    printPartition: bool('print.partition', false),
    printOffset: bool('print.offset', false),
    printHeaders: bool('print.headers', false),
    keySeparator: bytes('key.separator', '\t'),
    lineSeparator: bytes('line.separator', '\n'),
    headersSeparator: bytes('headers.separator', ','),
    headersKeySeparator: bytes('headers.key.separator', ':'),
    nullLiteral: bytes('null.literal', 'null'),
  };
}

/** One record as Kafka's DefaultMessageFormatter writes it: the chosen fields, separated, then the line separator. */
export function formatRecord(c: FormatterConfig, r: ConsumerRecord): Buffer[] {
  const fields: Buffer[][] = [];
  if (c.printTimestamp) {
    fields.push([Buffer.from(r.timestamp < 0 ? 'NO_TIMESTAMP' : `${r.timestampType}:${r.timestamp}`)]);
  }
  if (c.printPartition) fields.push([Buffer.from(`Partition:${r.partition}`)]);
  if (c.printOffset) fields.push([Buffer.from(`Offset:${r.offset}`)]);
  if (c.printHeaders) {
    if (r.headers.length === 0) fields.push([Buffer.from('NO_HEADERS')]);
    else {
      const parts: Buffer[] = [];
      r.headers.forEach((h, i) => {
        if (i > 0) parts.push(c.headersSeparator);
        parts.push(Buffer.from(h.key), c.headersKeySeparator, h.value ?? c.nullLiteral);
      });
      fields.push(parts);
    }
  }
  if (c.printKey) fields.push([r.key ?? c.nullLiteral]);
  if (c.printValue) fields.push([r.value ?? c.nullLiteral]);
  const out: Buffer[] = [];
  fields.forEach((f, i) => {
    if (i > 0) out.push(c.keySeparator);
    out.push(...f);
  });
  out.push(c.lineSeparator);
  return out;
}

// --------------------------------------------------------------------------------- consumer

type ConsumerConfig = ClientOptions & ConsumerOptions;

const ASSIGNORS: Readonly<Record<string, 'range' | 'roundrobin' | 'cooperative-sticky'>> = {
  range: 'range',
  roundrobin: 'roundrobin',
  'cooperative-sticky': 'cooperative-sticky',
  'org.apache.kafka.clients.consumer.RangeAssignor': 'range',
  'org.apache.kafka.clients.consumer.RoundRobinAssignor': 'roundrobin',
  'org.apache.kafka.clients.consumer.CooperativeStickyAssignor': 'cooperative-sticky',
};

interface ConsumerSettings {
  config: ConsumerConfig;
  /** False when enable.auto.commit=false was given: nothing is committed. */
  commit: boolean;
  /** auto.offset.reset given as a property (it must agree with --from-beginning). */
  autoOffsetReset: string | undefined;
}

function applyConsumerProperty(s: ConsumerSettings, key: string, value: string, flag: string): void {
  const o = s.config;
  const int = (min: number): number => parseIntValue(`${flag} ${key}`, value, min, INT32_MAX);
  const v = value.trim();
  switch (key) {
    case 'group.id':
      o.groupId = v;
      return;
    case 'group.instance.id':
      o.groupInstanceId = v;
      return;
    case 'client.id':
      o.clientId = v;
      return;
    case 'auto.offset.reset':
      if (v !== 'earliest' && v !== 'latest' && v !== 'none') {
        throw new UsageError(`${flag} auto.offset.reset must be earliest, latest or none, got '${value}'`);
      }
      s.autoOffsetReset = v;
      o.autoOffsetReset = v;
      return;
    case 'enable.auto.commit':
      if (v !== 'true' && v !== 'false')
        throw new UsageError(`${flag} enable.auto.commit must be true or false`);
      s.commit = v === 'true';
      return;
    case 'auto.commit.interval.ms':
      int(0);
      return;
    case 'session.timeout.ms':
      o.sessionTimeoutMs = int(1);
      return;
    case 'heartbeat.interval.ms':
      o.heartbeatIntervalMs = int(1);
      return;
    case 'max.poll.interval.ms':
      o.maxPollIntervalMs = int(1);
      return;
    case 'max.poll.records':
      o.maxPollRecords = int(1);
      return;
    case 'fetch.min.bytes':
      o.fetchMinBytes = int(0);
      return;
    case 'fetch.max.wait.ms':
      o.fetchMaxWaitMs = int(0);
      return;
    case 'fetch.max.bytes':
      o.fetchMaxBytes = int(1);
      return;
    case 'max.partition.fetch.bytes':
      o.maxPartitionFetchBytes = int(1);
      return;
    case 'isolation.level':
      o.isolationLevel = isolationLevel(`${flag} isolation.level`, v);
      return;
    case 'partition.assignment.strategy':
      o.partitionAssignmentStrategy = v.split(',').map((name) => {
        const a = ASSIGNORS[name.trim()];
        if (a === undefined) {
          throw new UsageError(
            `${flag} partition.assignment.strategy: unsupported assignor '${name.trim()}'`,
          );
        }
        return a;
      });
      return;
    case 'request.timeout.ms':
      o.requestTimeoutMs = int(1);
      return;
    case 'retry.backoff.ms':
      o.retryBackoffMs = int(1);
      return;
    case 'metadata.max.age.ms':
      o.metadataMaxAgeMs = int(0);
      return;
    case 'key.deserializer':
    case 'value.deserializer':
    case 'bootstrap.servers':
      return;
    default:
      throw new UsageError(`${flag} ${key}: unsupported consumer property`);
  }
}

function isolationLevel(what: string, v: string): 'read_committed' | 'read_uncommitted' {
  if (v === 'read_committed' || v === 'read_uncommitted') return v;
  throw new UsageError(`${what} must be read_committed or read_uncommitted, got '${v}'`);
}

function consumerSettings(args: ParsedArgs): ConsumerSettings {
  const s: ConsumerSettings = {
    config: { ...clientOptions(args, 'console-consumer') },
    commit: true,
    autoOffsetReset: undefined,
  };
  const groups = new Set<string>();
  const file = args.get('consumer.config');
  if (file !== undefined) {
    for (const [k, v] of parsePropertiesFile('consumer.config', file)) {
      applyConsumerProperty(s, k, v, '--consumer.config');
      if (k === 'group.id') groups.add(v.trim());
    }
  }
  for (const [k, v] of parseKeyValues('consumer-property', args.all('consumer-property'))) {
    applyConsumerProperty(s, k, v, '--consumer-property');
    if (k === 'group.id') groups.add(v.trim());
  }
  const group = args.get('group');
  if (group !== undefined) {
    groups.add(group);
    s.config.groupId = group;
  }
  if (groups.size > 1) {
    throw new UsageError(
      `The group ids provided in different places (--group, --consumer-property, --consumer.config) do not match: ${[...groups].map((g) => `'${g}'`).join(', ')}`,
    );
  }
  const level = args.get('isolation-level');
  if (level !== undefined) s.config.isolationLevel = isolationLevel('--isolation-level', level);
  if (args.has('from-beginning') && s.autoOffsetReset !== undefined && s.autoOffsetReset !== 'earliest') {
    throw new UsageError(
      `Can't simultaneously specify --from-beginning and 'auto.offset.reset=${s.autoOffsetReset}', please remove one option`,
    );
  }
  s.config.autoOffsetReset ??= args.has('from-beginning') ? 'earliest' : 'latest';
  // The tool commits what it printed itself (see commitPrinted), never more.
  if (s.config.groupId !== undefined) s.config.enableAutoCommit = false;
  return s;
}

/** Where --offset starts: a number, or the earliest/latest offset. */
type StartOffset = bigint | 'earliest' | 'latest';

function startOffset(args: ParsedArgs): StartOffset | null {
  const given = args.get('offset');
  if (given === undefined) return null;
  const v = given.trim().toLowerCase();
  if (v === 'earliest' || v === 'latest') return v;
  if (!/^\d+$/.test(v)) {
    throw new UsageError(
      `The provided offset value '${given}' is incorrect. Valid values are 'earliest', 'latest', or a non-negative long.`,
    );
  }
  return parseBigIntFlag('offset', v, 0n);
}

export async function run(args: ParsedArgs): Promise<number> {
  if (args.has('topic') === args.has('include'))
    throw new UsageError('exactly one of --topic and --include is required');
  const partitionText = args.get('partition');
  const partition =
    partitionText === undefined ? null : parseIntValue('--partition', partitionText, 0, INT32_MAX);
  if (partition !== null && !args.has('topic'))
    throw new UsageError('The topic is required when partition is specified.');
  if (args.has('offset') && partition === null)
    throw new UsageError('The partition is required when offset is specified.');
  if (args.has('offset') && args.has('from-beginning')) {
    throw new UsageError('Options from-beginning and offset cannot be specified together.');
  }
  const offset = startOffset(args);
  const maxMessages = args.int('max-messages', 1, Number.MAX_SAFE_INTEGER) ?? null;
  const timeoutMs = args.int('timeout-ms', 0, Number.MAX_SAFE_INTEGER) ?? null;
  const formatterProps = new Map<string, string>();
  const formatterFile = args.get('formatter-config');
  if (formatterFile !== undefined) {
    for (const [k, v] of parsePropertiesFile('formatter-config', formatterFile)) formatterProps.set(k, v);
  }
  for (const [k, v] of parseKeyValues('property', args.all('property'))) formatterProps.set(k, v);
  const formatter = formatterConfig(formatterProps);
  const settings = consumerSettings(args);
  const group = settings.config.groupId ?? null;
  if (group !== null && partition !== null)
    throw new UsageError('Options group and partition cannot be specified together.');
  const bootstrap = String(settings.config.bootstrapServers);

  // Checks the cluster and the topics first, so a wrong address or topic fails at once.
  const topics = await resolveTopics(args, settings.config, partition);

  const consumer = new Consumer(settings.config);
  const printed = new Map<string, { tp: TopicPartition; next: bigint }>();
  const committed = new Map<string, bigint>();
  const commitPrinted = async (only?: readonly TopicPartition[]): Promise<void> => {
    if (group === null || !settings.commit) return;
    const keys =
      only === undefined ? [...printed.keys()] : only.map((tp) => tpString(tp.topic, tp.partition));
    const due = keys
      .map((k) => printed.get(k))
      .filter(
        (p): p is { tp: TopicPartition; next: bigint } =>
          p !== undefined && committed.get(tpString(p.tp.topic, p.tp.partition)) !== p.next,
      );
    if (due.length === 0) return;
    await consumer.commit(due.map((p) => ({ ...p.tp, offset: p.next })));
    for (const p of due) committed.set(tpString(p.tp.topic, p.tp.partition), p.next);
  };

  let stopping = false;
  const onSignal = (): void => {
    // A second Ctrl-C does not wait for the commit and the goodbye.
    if (stopping) process.exit(130);
    stopping = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let count = 0;
  let failure: unknown = null;
  try {
    if (group !== null) {
      const listener = { onPartitionsRevoked: (tps: TopicPartition[]) => commitPrinted(tps) };
      if (topics.pattern !== null) consumer.subscribe(topics.pattern, listener);
      else consumer.subscribe(topics.names, listener);
    } else {
      consumer.assign(topics.partitions);
      for (const tp of topics.partitions) {
        if (offset === 'earliest') consumer.seekToBeginning([tp]);
        else if (offset === 'latest') consumer.seekToEnd([tp]);
        else if (offset !== null) consumer.seek(tp, offset);
      }
    }
    let lastRecordMs = Date.now();
    let lastCommitMs = Date.now();
    while (!stopping && (maxMessages === null || count < maxMessages)) {
      const waitMs =
        timeoutMs === null
          ? POLL_SLICE_MS
          : Math.max(0, Math.min(POLL_SLICE_MS, lastRecordMs + timeoutMs - Date.now()));
      const records = await consumer.poll(waitMs);
      if (records.length === 0) {
        if (timeoutMs !== null && Date.now() - lastRecordMs >= timeoutMs) {
          err(
            `Error processing message, terminating consumer process: no record arrived for ${timeoutMs} ms (TimeoutException)`,
          );
          break;
        }
      } else {
        lastRecordMs = Date.now();
        const chunks: Buffer[] = [];
        for (const r of records) {
          if (maxMessages !== null && count >= maxMessages) break;
          chunks.push(...formatRecord(formatter, r));
          count++;
          printed.set(tpString(r.topic, r.partition), {
            tp: { topic: r.topic, partition: r.partition },
            next: r.offset + 1n,
          });
        }
        process.stdout.write(Buffer.concat(chunks));
      }
      if (Date.now() - lastCommitMs >= COMMIT_INTERVAL_MS) {
        await commitPrinted();
        lastCommitMs = Date.now();
      }
    }
    await commitPrinted();
  } catch (e) {
    failure = e;
  } finally {
    await consumer.close().catch((e: unknown) => {
      failure ??= e;
    });
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  err(`Processed a total of ${count} messages`);
  if (failure !== null) throw new CommandError(describeError(failure, bootstrap));
  return 0;
}

interface Topics {
  /** Topic names (for subscribe). */
  names: string[];
  /** Partitions to assign without a group. */
  partitions: TopicPartition[];
  /** --include with a group: subscribe to the pattern, which follows topics created later. */
  pattern: RegExp | null;
}

async function resolveTopics(
  args: ParsedArgs,
  options: ClientOptions & ConsumerOptions,
  partition: number | null,
): Promise<Topics> {
  const bootstrap = String(options.bootstrapServers);
  const admin = new Admin({ ...options, clientId: options.clientId ?? 'console-consumer' });
  try {
    try {
      await admin.cluster.refreshMetadata([]);
    } catch (e) {
      throw new CommandError(describeError(e, bootstrap));
    }
    const include = args.get('include');
    let names: string[];
    let pattern: RegExp | null = null;
    if (include !== undefined) {
      const re = includePattern('include', include);
      names = (await admin.listTopics()).filter((t) => re.test(t));
      if (options.groupId !== undefined) {
        pattern = re;
      } else if (names.length === 0) {
        throw new CommandError(`no topic matches --include '${include}'`);
      }
    } else {
      names = [args.require('topic')];
    }
    if (pattern !== null) return { names, partitions: [], pattern };
    const descriptions = await admin.describeTopics(names);
    const partitions = descriptions.flatMap((d) =>
      d.partitions.map((p) => ({ topic: d.name, partition: p.partition })),
    );
    if (partition !== null) {
      const topic = names[0]!;
      if (!partitions.some((p) => p.partition === partition)) {
        throw new CommandError(`topic ${topic} has no partition ${partition} (it has ${partitions.length})`);
      }
      return { names, partitions: [{ topic, partition }], pattern: null };
    }
    return { names, partitions, pattern: null };
  } finally {
    await admin.close();
  }
}
