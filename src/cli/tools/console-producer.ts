/**
 * `samsa console-producer`: kafka-console-producer.sh. Each line of stdin becomes one record
 * (optionally "headers<TAB>key<TAB>value" with parse.headers / parse.key, as Kafka's
 * LineMessageReader reads them). It exits 0 once stdin has ended and every record is
 * acknowledged; if any record fails, it says why and exits 1.
 */
import { createInterface } from 'node:readline';

import { Producer, type ProducerOptions, type CompressionName } from '../../client/producer.js';
import type { ClientOptions } from '../../client/options.js';
import type { ProducerRecord } from '../../client/record-input.js';
import { HELP_FLAG, parseKeyValues, UsageError, type CommandSpec, type ParsedArgs } from '../args.js';
import { err } from '../output.js';
import {
  BOOTSTRAP_FLAG,
  CLI_API_TIMEOUT_MS,
  clientOptions,
  CommandError,
  describeError,
  openCluster,
  parseIntValue,
  parsePropertiesFile,
  checkProperties,
  booleanProperty,
  parseTrueFalse,
} from './common.js';

/** Records sent but not yet acknowledged before stdin is paused: bounds memory on a fast pipe. */
export const MAX_PENDING_SENDS = 10_000;
/** Failed records reported one by one; beyond this only the count is given. */
const MAX_REPORTED_FAILURES = 10;

const CODECS: readonly CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

export const spec: CommandSpec = {
  command: 'console-producer',
  summary: 'send lines from stdin as records',
  usage: ['samsa console-producer --bootstrap-server <host:port> --topic <topic> [options] < lines.txt'],
  description:
    'Reads lines from stdin and sends each one as a record, as kafka-console-producer.sh does. With ' +
    "--property parse.key=true each line is 'key<key.separator>value'; with parse.headers=true it starts " +
    "with 'h1:v1,h2:v2<headers.delimiter>'. Exits 0 after stdin ends and every record is acknowledged, " +
    '1 if any record could not be sent.\n\n' +
    'Reader properties (--property): parse.key (false), key.separator (tab), parse.headers (false), ' +
    'headers.delimiter (tab), headers.separator (,), headers.key.separator (:), null.marker (none: a key, ' +
    'value or header value equal to it is sent as null), ignore.error (false: a line without a separator ' +
    'stops the producer).\n\n' +
    'Producer properties (--producer-property): acks, linger.ms, batch.size, compression.type, buffer.memory, ' +
    'max.request.size, max.block.ms, delivery.timeout.ms, retries, max.in.flight.requests.per.connection, ' +
    'client.id, request.timeout.ms, retry.backoff.ms, retry.backoff.max.ms, metadata.max.age.ms, ' +
    "socket.connection.setup.timeout.ms. Unlike Kafka's tool, records linger 5 ms (not 1000) unless --timeout says otherwise.",
  flags: [
    BOOTSTRAP_FLAG,
    { name: 'topic', kind: 'value', valueName: 'topic', help: 'REQUIRED: the topic to send to.' },
    {
      name: 'property',
      kind: 'value',
      repeatable: true,
      aliases: ['--reader-property'],
      valueName: 'key=value',
      help: 'A reader property (parse.key, key.separator …, see above).',
    },
    {
      name: 'reader-config',
      kind: 'value',
      valueName: 'file',
      help: 'A properties file of reader properties.',
    },
    {
      name: 'producer-property',
      kind: 'value',
      repeatable: true,
      aliases: ['--command-property'],
      valueName: 'key=value',
      help: "A producer property in Kafka's naming (acks, linger.ms …, see above).",
    },
    {
      name: 'producer.config',
      kind: 'value',
      aliases: ['--command-config'],
      valueName: 'file',
      help: 'A properties file of producer properties (--producer-property wins).',
    },
    {
      name: 'compression-codec',
      kind: 'optional-value',
      bareValue: 'gzip',
      valueName: 'none|gzip|snappy|lz4|zstd',
      help: "Compression of the batches; given without a value it is 'gzip', as in Kafka.",
    },
    {
      name: 'request-required-acks',
      kind: 'value',
      valueName: '-1|all|0|1',
      help: 'Acknowledgements to wait for: all in-sync replicas (-1, all; the default), the leader (1) or none (0).',
    },
    {
      name: 'sync',
      kind: 'boolean',
      help: 'Send each record on its own and wait for its acknowledgement before the next.',
    },
    {
      name: 'batch-size',
      kind: 'value',
      valueName: 'bytes',
      help: 'batch.size: largest batch in bytes (default 16384).',
    },
    {
      name: 'timeout',
      kind: 'value',
      valueName: 'ms',
      help: 'linger.ms: how long a batch waits for more records (default 5).',
    },
    {
      name: 'request-timeout-ms',
      kind: 'value',
      valueName: 'ms',
      help: 'How long to wait for each request to be answered.',
    },
    {
      name: 'message-send-max-retries',
      kind: 'value',
      valueName: 'n',
      help: 'retries: how often a failed batch is retried.',
    },
    {
      name: 'retry-backoff-ms',
      kind: 'value',
      valueName: 'ms',
      help: 'Wait before the first retry (it doubles after).',
    },
    {
      name: 'max-block-ms',
      kind: 'value',
      valueName: 'ms',
      help: `How long a send may wait for the topic's metadata or buffer memory (default ${CLI_API_TIMEOUT_MS}).`,
    },
    {
      name: 'max-memory-bytes',
      kind: 'value',
      valueName: 'bytes',
      help: 'buffer.memory: bytes buffered before sends wait.',
    },
    {
      name: 'metadata-expiry-ms',
      kind: 'value',
      valueName: 'ms',
      help: 'metadata.max.age.ms: how often metadata is refreshed.',
    },
    HELP_FLAG,
  ],
  examples: [
    'printf "hello\\nworld\\n" | samsa console-producer --bootstrap-server localhost:9092 --topic greetings',
    'samsa console-producer --bootstrap-server localhost:9092 --topic users --property parse.key=true --property key.separator=: < users.txt',
  ],
};

/** How lines become records: Kafka's LineMessageReader settings. */
export interface LineReaderConfig {
  parseKey: boolean;
  keySeparator: string;
  parseHeaders: boolean;
  headersDelimiter: string;
  headersSeparator: string;
  headersKeySeparator: string;
  nullMarker: string | null;
  ignoreError: boolean;
}

const READER_KEYS = new Set([
  'parse.key',
  'key.separator',
  'parse.headers',
  'headers.delimiter',
  'headers.separator',
  'headers.key.separator',
  'null.marker',
  'ignore.error',
]);

export function readerConfig(props: ReadonlyMap<string, string>): LineReaderConfig {
  checkProperties(props, READER_KEYS, 'reader');
  const bool = (k: string): boolean => booleanProperty(props, k, false);
  const str = (k: string, fallback: string): string => {
    const v = props.get(k) ?? fallback;
    if (v === '') throw new UsageError(`--property ${k} must not be empty`);
    return v;
  };
  const c: LineReaderConfig = {
    parseKey: bool('parse.key'),
    keySeparator: str('key.separator', '\t'),
    parseHeaders: bool('parse.headers'),
    headersDelimiter: str('headers.delimiter', '\t'),
    headersSeparator: str('headers.separator', ','),
    headersKeySeparator: str('headers.key.separator', ':'),
    nullMarker: props.get('null.marker') ?? null,
    ignoreError: bool('ignore.error'),
  };
  if (c.parseHeaders && c.headersDelimiter === c.headersSeparator) {
    throw new UsageError('headers.delimiter and headers.separator may not be equal');
  }
  if (c.parseHeaders && c.headersSeparator === c.headersKeySeparator) {
    throw new UsageError('headers.separator and headers.key.separator may not be equal');
  }
  if (c.nullMarker !== null) {
    for (const [name, sep] of [
      ['key.separator', c.keySeparator],
      ['headers.delimiter', c.headersDelimiter],
      ['headers.separator', c.headersSeparator],
      ['headers.key.separator', c.headersKeySeparator],
    ] as const) {
      if (c.nullMarker === sep) throw new UsageError(`null.marker and ${name} may not be equal`);
    }
  }
  return c;
}

/** One line as Kafka's LineMessageReader reads it; throws (naming the line) when a separator is missing. */
export function parseLine(
  c: LineReaderConfig,
  topic: string,
  line: string,
  lineNumber: number,
): ProducerRecord {
  const section = (enabled: boolean, start: number, separator: string, what: string): string | null => {
    if (!enabled) return null;
    const i = line.indexOf(separator, start);
    if (i === -1) {
      if (c.ignoreError) return null;
      throw new CommandError(`No ${what} found on line number ${lineNumber}: '${line}'`);
    }
    return line.slice(start, i);
  };
  const headers = section(c.parseHeaders, 0, c.headersDelimiter, 'headers delimiter');
  const headerOffset = headers === null ? 0 : headers.length + c.headersDelimiter.length;
  const key = section(c.parseKey, headerOffset, c.keySeparator, 'key separator');
  const keyOffset = key === null ? 0 : key.length + c.keySeparator.length;
  const value = line.slice(headerOffset + keyOffset);
  const record: ProducerRecord = {
    topic,
    key: key !== null && key !== c.nullMarker ? key : null,
    value: value !== c.nullMarker ? value : null,
  };
  if (headers !== null && headers !== c.nullMarker) {
    record.headers = headers.split(c.headersSeparator).map((pair) => {
      const i = pair.indexOf(c.headersKeySeparator);
      if (i === -1) {
        if (c.ignoreError) return { key: pair, value: null };
        throw new CommandError(
          `No header key separator found in pair '${pair}' on line number ${lineNumber}`,
        );
      }
      const headerKey = pair.slice(0, i);
      if (headerKey === c.nullMarker) {
        throw new CommandError(
          `Header keys should not be equal to the null marker '${c.nullMarker}' as they can't be null (line number ${lineNumber})`,
        );
      }
      const headerValue = pair.slice(i + c.headersKeySeparator.length);
      return { key: headerKey, value: headerValue === c.nullMarker ? null : headerValue };
    });
  }
  return record;
}

type ProducerConfig = ClientOptions & ProducerOptions;

const INT32_MAX = 0x7fffffff;

/** Kafka producer property names → Samsa's producer options. */
function applyProducerProperty(o: ProducerConfig, key: string, value: string, flag: string): void {
  const int = (min: number): number => parseIntValue(`${flag} ${key}`, value, min, INT32_MAX);
  switch (key) {
    case 'acks':
      o.acks = parseAcks(`${flag} acks`, value);
      return;
    case 'linger.ms':
      o.lingerMs = int(0);
      return;
    case 'batch.size':
      o.batchSize = int(0);
      return;
    case 'compression.type':
      o.compression = parseCodec(`${flag} compression.type`, value);
      return;
    case 'buffer.memory':
      o.bufferMemory = int(1);
      return;
    case 'max.request.size':
      o.maxRequestSize = int(1);
      return;
    case 'max.block.ms':
      o.maxBlockMs = int(0);
      return;
    case 'delivery.timeout.ms':
      o.deliveryTimeoutMs = int(1);
      return;
    case 'retries':
      o.retries = int(0);
      return;
    case 'max.in.flight.requests.per.connection':
      o.maxInFlightRequestsPerConnection = int(1);
      return;
    case 'client.id':
      o.clientId = value;
      return;
    case 'request.timeout.ms':
      o.requestTimeoutMs = int(1);
      return;
    case 'retry.backoff.ms':
      o.retryBackoffMs = int(1);
      return;
    case 'retry.backoff.max.ms':
      o.retryBackoffMaxMs = int(1);
      return;
    case 'metadata.max.age.ms':
      o.metadataMaxAgeMs = int(0);
      return;
    case 'socket.connection.setup.timeout.ms':
      o.connectTimeoutMs = int(1);
      return;
    // The tool sends bytes; Kafka's byte-array and string serializers both give the line's UTF-8.
    case 'key.serializer':
    case 'value.serializer':
    case 'bootstrap.servers':
      return;
    case 'enable.idempotence':
      o.idempotent = parseTrueFalse(`${flag} enable.idempotence`, value);
      return;
    default:
      throw new UsageError(`${flag} ${key}: unsupported producer property`);
  }
}

function parseAcks(what: string, value: string): 0 | 1 | -1 | 'all' {
  switch (value) {
    case 'all':
    case '-1':
      return -1;
    case '0':
      return 0;
    case '1':
      return 1;
    default:
      throw new UsageError(`${what} must be all, -1, 0 or 1, got '${value}'`);
  }
}

function parseCodec(what: string, value: string): CompressionName {
  const v = value.toLowerCase() as CompressionName;
  if (!CODECS.includes(v))
    throw new UsageError(`${what} must be one of ${CODECS.join(', ')}, got '${value}'`);
  return v;
}

function producerConfig(args: ParsedArgs): ProducerConfig {
  const o: ProducerConfig = {
    ...clientOptions(args, 'console-producer'),
    lingerMs: 5,
    maxBlockMs: CLI_API_TIMEOUT_MS,
  };
  const file = args.get('producer.config');
  if (file !== undefined) {
    for (const [k, v] of parsePropertiesFile('producer.config', file))
      applyProducerProperty(o, k, v, '--producer.config');
  }
  for (const [k, v] of parseKeyValues('producer-property', args.all('producer-property'))) {
    applyProducerProperty(o, k, v, '--producer-property');
  }
  const codec = args.get('compression-codec');
  if (codec !== undefined) o.compression = parseCodec('--compression-codec', codec);
  const acks = args.get('request-required-acks');
  if (acks !== undefined) o.acks = parseAcks('--request-required-acks', acks);
  const settings: [string, number, (n: number) => void][] = [
    ['batch-size', 0, (n) => (o.batchSize = n)],
    ['timeout', 0, (n) => (o.lingerMs = n)],
    ['request-timeout-ms', 1, (n) => (o.requestTimeoutMs = n)],
    ['message-send-max-retries', 0, (n) => (o.retries = n)],
    ['retry-backoff-ms', 1, (n) => (o.retryBackoffMs = n)],
    ['max-block-ms', 0, (n) => (o.maxBlockMs = n)],
    ['max-memory-bytes', 1, (n) => (o.bufferMemory = n)],
    ['metadata-expiry-ms', 0, (n) => (o.metadataMaxAgeMs = n)],
  ];
  for (const [name, min, set] of settings) {
    const n = args.int(name, min, INT32_MAX);
    if (n !== undefined) set(n);
  }
  return o;
}

export async function run(args: ParsedArgs): Promise<number> {
  const topic = args.require('topic');
  const readerProps = new Map<string, string>();
  const readerFile = args.get('reader-config');
  if (readerFile !== undefined) {
    for (const [k, v] of parsePropertiesFile('reader-config', readerFile)) readerProps.set(k, v);
  }
  for (const [k, v] of parseKeyValues('property', args.all('property'))) readerProps.set(k, v);
  const reader = readerConfig(readerProps);
  const options = producerConfig(args);
  const bootstrap = String(options.bootstrapServers);

  // A wrong address fails here at once, not after max.block.ms of the first send.
  await (await openCluster(options)).close();
  const producer = new Producer(options);
  let failures = 0;
  let firstFailure: string | null = null;
  const report = (record: ProducerRecord, e: unknown): void => {
    failures++;
    const message = describeError(e, bootstrap);
    firstFailure ??= message;
    if (failures <= MAX_REPORTED_FAILURES) {
      err(
        `Error when sending message to topic ${topic} with key: ${sizeText(record.key)}, value: ${sizeText(record.value)} with error: ${message}`,
      );
    }
  };
  let parseError: Error | null = null;
  try {
    parseError = await sendLines(producer, reader, topic, args.has('sync'), report);
  } finally {
    await producer.close();
  }
  if (failures > MAX_REPORTED_FAILURES) err(`… and ${failures - MAX_REPORTED_FAILURES} more failed records`);
  if (parseError !== null) throw parseError;
  if (failures > 0)
    throw new CommandError(`${failures} record(s) could not be sent to ${topic}: ${firstFailure}`);
  return 0;
}

function sizeText(v: ProducerRecord['key']): string {
  if (v === null || v === undefined) return 'null';
  return `${typeof v === 'string' ? Buffer.byteLength(v) : v.length} bytes`;
}

/**
 * Sends stdin's lines until it ends (or a line cannot be read: that error is returned, after the
 * records before it have their outcome). No line is sent while MAX_PENDING_SENDS records wait
 * (one with --sync); reading waits meanwhile.
 */
async function sendLines(
  producer: Producer,
  reader: LineReaderConfig,
  topic: string,
  sync: boolean,
  report: (record: ProducerRecord, e: unknown) => void,
): Promise<Error | null> {
  const interactive = process.stdin.isTTY === true;
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  const maxPending = sync ? 1 : MAX_PENDING_SENDS;
  let pending = 0;
  let wake: (() => void) | null = null;
  const settle = (): void => {
    pending--;
    const w = wake;
    wake = null;
    w?.();
  };
  const room = async (limit: number): Promise<void> => {
    while (pending > limit) await new Promise<void>((r) => (wake = r));
  };
  const prompt = (): void => {
    if (interactive) process.stderr.write('>');
  };
  // Ctrl-C ends the input: what was typed is still sent before the producer closes.
  process.once('SIGINT', () => rl.close());
  let lineNumber = 0;
  let parseError: Error | null = null;
  prompt();
  for await (const line of rl) {
    lineNumber++;
    let record: ProducerRecord;
    try {
      record = parseLine(reader, topic, line, lineNumber);
    } catch (e) {
      parseError = e instanceof Error ? e : new Error(String(e));
      rl.close();
      break;
    }
    await room(maxPending - 1);
    pending++;
    const sent = producer.send(record);
    // --sync: this record goes now, not after linger.ms.
    if (sync) producer.flush().catch(() => undefined);
    sent.then(
      () => settle(),
      (e: unknown) => {
        report(record, e);
        settle();
      },
    );
    prompt();
  }
  await room(0);
  return parseError;
}
