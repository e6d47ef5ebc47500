/**
 * `samsa console-producer` and `samsa console-consumer` end to end: Kafka's line format (keys,
 * headers, null markers), compression, the print.* properties, reading one partition from an
 * offset, --include, --timeout-ms, and a group that commits exactly the records it printed.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { cliBroker, expectCode, parseTable } from './support.js';

void describe('samsa console-producer and console-consumer', () => {
  const { samsa } = cliBroker();

  const produce = async (topic: string, lines: string[], flags: string[] = []): Promise<void> => {
    expectCode(
      await samsa(['console-producer', '--topic', topic, ...flags], { stdin: `${lines.join('\n')}\n` }),
      0,
      `produce to ${topic}`,
    );
  };

  void test('keys, headers and null markers come back as the formatter prints them', async () => {
    await produce(
      'framed',
      ['h1:v1,h2:v2|alice|hello', 'NULL|bob|NULL', 'h3:NULL|NULL|no key'],
      [
        '--property',
        'parse.key=true',
        '--property',
        'key.separator=|',
        '--property',
        'parse.headers=true',
        '--property',
        'headers.delimiter=|',
        '--property',
        'null.marker=NULL',
      ],
    );
    const r = expectCode(
      await samsa([
        'console-consumer',
        '--topic',
        'framed',
        '--from-beginning',
        '--max-messages',
        '3',
        '--property',
        'print.timestamp=true',
        '--property',
        'print.partition=true',
        '--property',
        'print.offset=true',
        '--property',
        'print.headers=true',
        '--property',
        'print.key=true',
        '--property',
        'key.separator= ; ',
      ]),
      0,
      'consume',
    );
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 3, 'three records');
    const fields = lines.map((l) => l.split(' ; '));
    for (const f of fields) assert.match(f[0]!, /^CreateTime:\d{13}$/, 'the timestamp and its type');
    assert.deepEqual(
      fields.map((f) => f.slice(1)),
      [
        ['Partition:0', 'Offset:0', 'h1:v1,h2:v2', 'alice', 'hello'],
        ['Partition:0', 'Offset:1', 'NO_HEADERS', 'bob', 'null'],
        ['Partition:0', 'Offset:2', 'h3:null', 'null', 'no key'],
      ],
      'headers, keys and values, with null printed as null',
    );
    assert.match(r.stderr, /Processed a total of 3 messages/);
  });

  void test('compressed batches, one partition from an offset, --include and --timeout-ms', async () => {
    expectCode(await samsa(['topics', '--create', '--topic', 'inc-a', '--partitions', '2']), 0, 'create');
    await produce('inc-a', ['l1', 'l2', 'l3', 'l4'], ['--compression-codec', 'lz4']);
    await produce('inc-b', ['g1', 'g2'], ['--compression-codec', '--sync']);
    await produce('inc-b', ['z1'], ['--compression-codec', 'zstd', '--request-required-acks', '1']);

    const [both, fromOffset, latest] = await Promise.all([
      samsa(['console-consumer', '--include', 'inc-.*', '--from-beginning', '--max-messages', '7']),
      samsa([
        'console-consumer',
        '--topic',
        'inc-b',
        '--partition',
        '0',
        '--offset',
        '1',
        '--max-messages',
        '2',
      ]),
      samsa([
        'console-consumer',
        '--topic',
        'inc-b',
        '--partition',
        '0',
        '--offset',
        'latest',
        '--timeout-ms',
        '300',
      ]),
    ]);
    assert.deepEqual(
      expectCode(both, 0, '--include').stdout.trimEnd().split('\n').sort(),
      ['g1', 'g2', 'l1', 'l2', 'l3', 'l4', 'z1'],
      'every record of both topics, whatever the codec',
    );
    assert.equal(expectCode(fromOffset, 0, '--offset 1').stdout, 'g2\nz1\n', 'reading starts at offset 1');
    assert.equal(expectCode(latest, 0, '--timeout-ms').stdout, '', 'nothing after the end');
    assert.match(latest.stderr, /Processed a total of 0 messages/, 'the count is still reported');
  });

  void test('a group commits exactly the records the consumer printed', async () => {
    await produce('paced', ['r1', 'r2', 'r3', 'r4', 'r5']);
    const consume = (max: string) =>
      samsa([
        'console-consumer',
        '--topic',
        'paced',
        '--group',
        'pacer',
        '--from-beginning',
        '--max-messages',
        max,
      ]);
    assert.equal(expectCode(await consume('2'), 0, 'first two').stdout, 'r1\nr2\n');
    const described = expectCode(
      await samsa(['consumer-groups', '--describe', '--group', 'pacer']),
      0,
      'describe',
    );
    const [row] = parseTable(described.stdout, 'GROUP');
    assert.equal(row?.['CURRENT-OFFSET'], '2', 'the offset after the last printed record is committed');
    assert.equal(row['LAG'], '3', 'three records left');
    assert.equal(
      expectCode(await consume('3'), 0, 'the rest').stdout,
      'r3\nr4\nr5\n',
      'the group resumes at r3',
    );
  });

  void test('errors: bad lines, unknown topics and conflicting flags', async () => {
    const [
      badLine,
      unknownTopic,
      offsetAlone,
      groupAndPartition,
      badProperty,
      badCodec,
      badOffset,
      badPartition,
    ] = await Promise.all([
      samsa(['console-producer', '--topic', 'lines', '--property', 'parse.key=true'], {
        stdin: 'k\tv\nno tab here\n',
      }),
      samsa(['console-consumer', '--topic', 'nope', '--max-messages', '1']),
      samsa(['console-consumer', '--topic', 'lines', '--offset', '3']),
      samsa(['console-consumer', '--topic', 'lines', '--group', 'g', '--partition', '0']),
      samsa(['console-consumer', '--topic', 'lines', '--property', 'print.colour=true']),
      samsa(['console-producer', '--topic', 'lines', '--compression-codec', 'brotli']),
      samsa(['console-consumer', '--topic', 'lines', '--partition', '0', '--offset', '-5']),
      samsa(['console-consumer', '--topic', 'framed', '--partition', '7']),
    ]);
    expectCode(badLine, 1, 'a line without the key separator');
    assert.match(
      badLine.stderr,
      /No key separator found on line number 2: 'no tab here'/,
      'the line is named',
    );
    expectCode(unknownTopic, 1, 'unknown topic');
    assert.match(unknownTopic.stderr, /topic nope: UNKNOWN_TOPIC_OR_PARTITION/, 'the topic is named');
    expectCode(offsetAlone, 2, '--offset without --partition');
    assert.match(offsetAlone.stderr, /The partition is required when offset is specified/);
    expectCode(groupAndPartition, 2, '--group with --partition');
    assert.match(groupAndPartition.stderr, /Options group and partition cannot be specified together/);
    expectCode(badProperty, 2, 'unknown formatter property');
    assert.match(badProperty.stderr, /--property print\.colour: unknown formatter property/);
    expectCode(badCodec, 2, 'unknown codec');
    assert.match(
      badCodec.stderr,
      /--compression-codec must be one of none, gzip, snappy, lz4, zstd, got 'brotli'/,
    );
    expectCode(badOffset, 2, 'negative offset');
    assert.match(badOffset.stderr, /The provided offset value '-5' is incorrect/);
    expectCode(badPartition, 1, 'missing partition');
    assert.match(badPartition.stderr, /topic framed has no partition 7/);
  });
});
