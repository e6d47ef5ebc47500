/**
 * The pieces of the CLI that need no broker, in-process: the flag parser, the table printer, and
 * the parsers for Kafka's formats (producer lines, formatter output, date-times, durations,
 * --add-config, --topic-partitions, the delete-records JSON).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { formatHelp, parseArgs, UsageError, type CommandSpec } from '../../src/cli/args.js';
import { formatTable, toJson } from '../../src/cli/output.js';
import { parseAddConfig } from '../../src/cli/tools/configs.js';
import { formatRecord, formatterConfig } from '../../src/cli/tools/console-consumer.js';
import { parseLine, readerConfig } from '../../src/cli/tools/console-producer.js';
import { parseDateTime, parseDurationMs } from '../../src/cli/tools/consumer-groups.js';
import { parseOffsetJson } from '../../src/cli/tools/delete-records.js';
import { parseOffsetSpec, parseTopicPartitions } from '../../src/cli/tools/get-offsets.js';

const SPEC: CommandSpec = {
  command: 'demo',
  summary: 'a demo',
  usage: ['samsa demo'],
  flags: [
    { name: 'topic', kind: 'value', help: 'a topic' },
    { name: 'list', kind: 'boolean', help: 'list' },
    { name: 'config', kind: 'value', repeatable: true, help: 'a config' },
    { name: 'time', kind: 'value', help: 'a time' },
    { name: 'codec', kind: 'optional-value', bareValue: 'gzip', help: 'a codec' },
    { name: 'help', kind: 'boolean', aliases: ['-h'], help: 'help' },
  ],
};

const usageError = (fn: () => unknown, message: RegExp): void => {
  assert.throws(
    fn,
    (e: unknown) => e instanceof UsageError && message.test(e.message),
    `UsageError ${message}`,
  );
};

void describe('flag parser', () => {
  void test('values, booleans, repeatable flags, = form and negative numbers', () => {
    const a = parseArgs(SPEC, ['--topic', 't', '--list', '--config', 'a=1', '--config=b=2', '--time', '-1']);
    assert.equal(a.get('topic'), 't');
    assert.ok(a.has('list'), '--list is present');
    assert.deepEqual(a.all('config'), ['a=1', 'b=2'], 'repeated values kept in order, = form too');
    assert.equal(a.get('time'), '-1', 'a negative number is a value, not a flag');
    assert.ok(!a.has('codec'), 'absent flag');
    assert.ok(parseArgs(SPEC, ['-h']).has('help'), 'an alias');
  });

  void test('optional values take the next argument unless it is a flag', () => {
    assert.equal(parseArgs(SPEC, ['--codec']).get('codec'), 'gzip', 'bare: the default');
    assert.equal(parseArgs(SPEC, ['--codec', '--list']).get('codec'), 'gzip', 'followed by a flag');
    assert.equal(parseArgs(SPEC, ['--codec', 'zstd']).get('codec'), 'zstd', 'with a value');
  });

  void test('mistakes are UsageErrors naming the flag', () => {
    usageError(() => parseArgs(SPEC, ['--bogus']), /^unknown option --bogus$/);
    usageError(() => parseArgs(SPEC, ['--topc', 't']), /unknown option --topc \(did you mean --topic\?\)/);
    usageError(() => parseArgs(SPEC, ['--topic']), /--topic needs a value/);
    usageError(() => parseArgs(SPEC, ['--topic', '--list']), /--topic needs a value/);
    usageError(() => parseArgs(SPEC, ['--topic', 'a', '--topic', 'b']), /--topic given more than once/);
    usageError(() => parseArgs(SPEC, ['--list=yes']), /--list takes no value/);
    usageError(() => parseArgs(SPEC, ['stray']), /unexpected argument 'stray'/);
    usageError(() => parseArgs(SPEC, ['--topic', 't']).require('list'), /missing required option --list/);
    usageError(
      () => parseArgs(SPEC, ['--time', '1x']).int('time', 0, 10),
      /--time expects an integer, got '1x'/,
    );
    usageError(
      () => parseArgs(SPEC, ['--time', '11']).int('time', 0, 10),
      /--time must be between 0 and 10, got 11/,
    );
  });

  void test('help lists every flag with its value and repeatability', () => {
    const help = formatHelp(SPEC);
    assert.ok(help.startsWith('usage: samsa demo\n'), 'usage first');
    assert.match(help, /--config <value>\s+a config \(repeatable\)/);
    assert.match(help, /--codec \[<value>\]\s+a codec/);
    assert.match(help, /--help, -h\s+help/);
  });
});

void describe('output', () => {
  void test('tables pad columns to the widest cell or the minimum, the last column unpadded', () => {
    const t = formatTable(
      [{ header: 'GROUP', minWidth: 8 }, { header: 'PARTITION' }, { header: 'LAG' }],
      [
        ['g', '0', '12'],
        ['a-longer-group', '10', '-'],
      ],
    );
    assert.equal(t, 'GROUP          PARTITION LAG\ng              0         12\na-longer-group 10        -');
  });

  void test('JSON writes int64 values as numbers when exact, as strings beyond 2^53', () => {
    assert.equal(toJson({ a: 5n, b: 2n ** 60n }), '{\n  "a": 5,\n  "b": "1152921504606846976"\n}');
  });
});

void describe("Kafka's formats", () => {
  void test("console-producer lines as Kafka's LineMessageReader reads them", () => {
    const plain = readerConfig(new Map());
    assert.deepEqual(parseLine(plain, 't', 'a\tb', 1), { topic: 't', key: null, value: 'a\tb' });
    const keyed = readerConfig(new Map([['parse.key', 'true']]));
    assert.deepEqual(
      parseLine(keyed, 't', 'k\tv\tw', 1),
      { topic: 't', key: 'k', value: 'v\tw' },
      'first separator only',
    );
    assert.throws(
      () => parseLine(keyed, 't', 'no-tab', 7),
      /No key separator found on line number 7: 'no-tab'/,
    );
    const lenient = readerConfig(
      new Map([
        ['parse.key', 'true'],
        ['ignore.error', 'true'],
      ]),
    );
    assert.deepEqual(parseLine(lenient, 't', 'no-tab', 1), { topic: 't', key: null, value: 'no-tab' });
    const full = readerConfig(
      new Map([
        ['parse.key', 'true'],
        ['parse.headers', 'true'],
        ['null.marker', '~'],
      ]),
    );
    assert.deepEqual(parseLine(full, 't', 'a:1,b:~\t~\tv', 1), {
      topic: 't',
      key: null,
      value: 'v',
      headers: [
        { key: 'a', value: '1' },
        { key: 'b', value: null },
      ],
    });
    assert.throws(() => readerConfig(new Map([['parse.keys', 'true']])), /unknown reader property/);
    assert.throws(() => readerConfig(new Map([['parse.key', 'yes']])), /parse\.key must be true or false/);
  });

  void test("console-consumer output as Kafka's DefaultMessageFormatter writes it", () => {
    const record = {
      topic: 't',
      partition: 2,
      offset: 7n,
      timestamp: 1700000000000,
      timestampType: 'CreateTime' as const,
      key: Buffer.from('k'),
      value: null,
      headers: [{ key: 'h', value: Buffer.from('x') }],
      leaderEpoch: 0,
    };
    const text = (props: [string, string][]): string =>
      Buffer.concat(formatRecord(formatterConfig(new Map(props)), record)).toString();
    assert.equal(text([]), 'null\n', 'value only by default; null printed as null');
    assert.equal(
      text([
        ['print.timestamp', 'true'],
        ['print.partition', 'true'],
        ['print.offset', 'true'],
        ['print.headers', 'true'],
        ['print.key', 'true'],
        ['null.literal', '<none>'],
      ]),
      'CreateTime:1700000000000\tPartition:2\tOffset:7\th:x\tk\t<none>\n',
    );
    assert.equal(
      text([
        ['print.key', 'true'],
        ['print.value', 'false'],
        ['line.separator', ';'],
      ]),
      'k;',
    );
  });

  void test('--to-datetime and --by-duration', () => {
    assert.equal(parseDateTime('2024-01-01T00:00:00.000Z'), Date.UTC(2024, 0, 1));
    assert.equal(parseDateTime('2024-01-01T02:30:00.500+02:30'), Date.UTC(2024, 0, 1, 0, 0, 0, 500));
    assert.equal(parseDateTime('2024-01-01T00:00:00-0100'), Date.UTC(2024, 0, 1, 1));
    assert.equal(parseDateTime('2024-06-30T12:00:00.000'), new Date(2024, 5, 30, 12).getTime(), 'local time');
    usageError(() => parseDateTime('2024-02-30T00:00:00.000'), /is not a valid date-time/);
    usageError(() => parseDateTime('01/01/2024'), /is not a date-time/);
    assert.equal(parseDurationMs('PT1H30M'), 5_400_000);
    assert.equal(parseDurationMs('P1DT0.5S'), 86_400_500);
    assert.equal(parseDurationMs('-PT10S'), -10_000);
    usageError(() => parseDurationMs('1h'), /not an ISO-8601 duration/);
    usageError(() => parseDurationMs('PT'), /not an ISO-8601 duration/);
  });

  void test('--add-config keeps commas inside square brackets', () => {
    assert.deepEqual(
      [...parseAddConfig('a=1, cleanup.policy=[compact,delete],b=x=y')],
      [
        ['a', '1'],
        ['cleanup.policy', 'compact,delete'],
        ['b', 'x=y'],
      ],
    );
    usageError(() => parseAddConfig('novalue'), /'novalue' is not key=value/);
  });

  void test('--time and --topic-partitions of get-offsets', () => {
    assert.equal(parseOffsetSpec('-1'), 'latest');
    assert.equal(parseOffsetSpec('earliest'), 'earliest');
    assert.equal(parseOffsetSpec('-3'), 'max-timestamp');
    assert.deepEqual(parseOffsetSpec('1700000000000'), { timestamp: 1700000000000 });
    usageError(() => parseOffsetSpec('-4'), /--time '-4' is not valid/);
    const f = parseTopicPartitions('orders:1-3,audit,:5,log.*:7-');
    const yes = [
      ['orders', 1],
      ['orders', 2],
      ['audit', 9],
      ['any', 5],
      ['logs', 7],
      ['logs', 70],
    ] as const;
    const no = [
      ['orders', 3],
      ['orders', 0],
      ['other', 1],
      ['logs', 6],
    ] as const;
    for (const [t, p] of yes) assert.ok(f(t, p), `${t}:${p} is chosen`);
    for (const [t, p] of no) assert.ok(!f(t, p), `${t}:${p} is not chosen`);
  });

  void test("delete-records' offset JSON", () => {
    assert.deepEqual(parseOffsetJson('{"partitions":[{"topic":"t","partition":0,"offset":3}],"version":1}'), [
      { topic: 't', partition: 0, offset: 3n },
    ]);
    usageError(
      () => parseOffsetJson('{"partitions":[{"topic":"t","partition":0}]}'),
      /partitions\[0\] needs an "offset"/,
    );
    usageError(() => parseOffsetJson('{"partitions":[],"version":2}'), /version 2 is not supported/);
    usageError(() => parseOffsetJson('[]'), /expected an object/);
  });
});
