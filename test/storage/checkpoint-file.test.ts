/** Kafka's text checkpoint files: round trips, the exact bytes, and each kind of malformed file. */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as nodeFs from 'node:fs';
import * as os from 'node:os';

import { nodeFileSystem as fs } from '../../src/runtime/fs.js';
import {
  CheckpointError,
  parseNonNegativeInteger,
  parseTopicPartitionKey,
  readCheckpoint,
  readOffsetCheckpoint,
  topicPartitionKey,
  writeCheckpoint,
  writeOffsetCheckpoint,
} from '../../src/storage/checkpoint-file.js';

const root = nodeFs.mkdtempSync(os.tmpdir() + '/samsa-');
after(() => nodeFs.rmSync(root, { recursive: true, force: true }));

let counter = 0;
/** A fresh path in the temporary folder, optionally holding `content`. */
function file(content?: string): string {
  const path = `${root}/checkpoint-${counter++}`;
  if (content !== undefined) nodeFs.writeFileSync(path, content);
  return path;
}

/** A parser for entries of two non-negative integers. */
function pair(fields: string[]): [number, number] | null {
  if (fields.length !== 2) return null;
  const a = parseNonNegativeInteger(fields[0]!);
  const b = parseNonNegativeInteger(fields[1]!);
  return a === null || b === null ? null : [a, b];
}

async function expectError(
  content: string,
  kind: CheckpointError['kind'],
  line: number,
): Promise<CheckpointError> {
  const path = file(content);
  const result = await readCheckpoint(fs, path, pair);
  assert.ok(result instanceof CheckpointError, `expected a CheckpointError, got ${JSON.stringify(result)}`);
  assert.equal(result.kind, kind);
  assert.equal(result.path, path);
  assert.equal(result.line, line);
  assert.ok(result.message.includes(path), result.message);
  assert.ok(result.message.includes(`line ${line}`), result.message);
  return result;
}

void describe('readCheckpoint / writeCheckpoint', () => {
  void test('round trip writes Kafka format byte for byte', async () => {
    const path = file();
    await writeCheckpoint(fs, path, ['0 0', '3 120', '7 9007199254740991']);
    assert.equal(nodeFs.readFileSync(path, 'utf8'), '0\n3\n0 0\n3 120\n7 9007199254740991\n');
    assert.deepEqual(await readCheckpoint(fs, path, pair), [
      [0, 0],
      [3, 120],
      [7, Number.MAX_SAFE_INTEGER],
    ]);
    assert.equal(nodeFs.existsSync(`${path}.tmp`), false);
  });

  void test('an empty list round trips', async () => {
    const path = file();
    await writeCheckpoint(fs, path, []);
    assert.equal(nodeFs.readFileSync(path, 'utf8'), '0\n0\n');
    assert.deepEqual(await readCheckpoint(fs, path, pair), []);
  });

  void test('a rewrite replaces the previous content', async () => {
    const path = file();
    await writeCheckpoint(fs, path, ['1 1', '2 2']);
    await writeCheckpoint(fs, path, ['5 50']);
    assert.deepEqual(await readCheckpoint(fs, path, pair), [[5, 50]]);
  });

  void test('a missing file is an empty list', async () => {
    assert.deepEqual(await readCheckpoint(fs, `${root}/does-not-exist`, pair), []);
  });

  void test('an empty file and a version-only file are empty lists, as in Kafka', async () => {
    assert.deepEqual(await readCheckpoint(fs, file(''), pair), []);
    assert.deepEqual(await readCheckpoint(fs, file('0\n'), pair), []);
    assert.deepEqual(await readCheckpoint(fs, file('0'), pair), []);
  });

  void test('CRLF line endings, a missing final newline and extra spaces are accepted', async () => {
    assert.deepEqual(await readCheckpoint(fs, file('0\r\n2\r\n1 10\r\n2  20'), pair), [
      [1, 10],
      [2, 20],
    ]);
    assert.deepEqual(await readCheckpoint(fs, file('0\n1\n 4\t40 \n'), pair), [[4, 40]]);
  });

  void test('parseLine receives the white-space separated fields', async () => {
    const seen: string[][] = [];
    await readCheckpoint(fs, file('0\n2\nt 0 5\nu-v 12 7\n'), (f) => {
      seen.push(f);
      return f;
    });
    assert.deepEqual(seen, [
      ['t', '0', '5'],
      ['u-v', '12', '7'],
    ]);
  });

  void test('an unsupported version is a typed error on line 1', async () => {
    const e = await expectError('1\n0\n', 'unsupportedVersion', 1);
    assert.equal(e.text, '1');
    await expectError('-1\n1\n1 1\n', 'unsupportedVersion', 1);
  });

  void test('a version that is not an integer is a malformed line 1', async () => {
    await expectError('zero\n0\n', 'malformedLine', 1);
    await expectError('0.0\n0\n', 'malformedLine', 1);
    await expectError('\n0\n', 'malformedLine', 1);
  });

  void test('a count that is not an integer is a malformed line 2', async () => {
    const e = await expectError('0\ntwo\n1 1\n2 2\n', 'malformedLine', 2);
    assert.equal(e.text, 'two');
    await expectError('0\n99999999999\n', 'malformedLine', 2);
  });

  void test('fewer entries than the count is a count mismatch', async () => {
    const e = await expectError('0\n3\n1 1\n2 2\n', 'countMismatch', 2);
    assert.match(e.message, /expected 3 entries, found 2/);
    await expectError('0\n1\n', 'countMismatch', 2);
  });

  void test('more entries than the count is a count mismatch', async () => {
    const e = await expectError('0\n1\n1 1\n2 2\n', 'countMismatch', 2);
    assert.match(e.message, /expected 1 entries, found 2/);
    await expectError('0\n-1\n', 'countMismatch', 2);
  });

  void test('an entry the parser rejects is a malformed line with its number and text', async () => {
    const e = await expectError('0\n3\n1 1\n2 x\n3 3\n', 'malformedLine', 4);
    assert.equal(e.text, '2 x');
    await expectError('0\n2\n1 1 1\n2 2\n', 'malformedLine', 3);
    await expectError('0\n1\n1\n', 'malformedLine', 3);
    await expectError('0\n1\n1 -1\n', 'malformedLine', 3);
    await expectError('0\n1\n1 9007199254740992\n', 'malformedLine', 3);
  });

  void test('a blank line among the entries is malformed', async () => {
    await expectError('0\n2\n1 1\n\n2 2\n', 'malformedLine', 4);
    await expectError('0\n1\n1 1\n\n', 'malformedLine', 4);
  });

  void test('a malformed entry is reported before a count mismatch', async () => {
    await expectError('0\n5\n1 1\nbad\n', 'malformedLine', 4);
  });

  void test('a very long offending line is shortened in the error', async () => {
    const e = await expectError(`0\n1\n${'x'.repeat(1000)}\n`, 'malformedLine', 3);
    assert.ok(e.text.length < 200);
    assert.ok(e.message.length < 400);
  });

  void test('the error is a value, usable as an Error', async () => {
    const result = await readCheckpoint(fs, file('9\n0\n'), pair);
    assert.ok(result instanceof Error);
    assert.equal((result as Error).name, 'CheckpointError');
  });

  void test('writing a line with a line break throws before touching the file', async () => {
    const path = file();
    await assert.rejects(writeCheckpoint(fs, path, ['1 1', '2\n2']), RangeError);
    assert.equal(nodeFs.existsSync(path), false);
  });
});

void describe('parseNonNegativeInteger', () => {
  void test('accepts digits within the limit only', () => {
    assert.equal(parseNonNegativeInteger('0'), 0);
    assert.equal(parseNonNegativeInteger('0042'), 42);
    assert.equal(parseNonNegativeInteger('9007199254740991'), Number.MAX_SAFE_INTEGER);
    assert.equal(parseNonNegativeInteger('9007199254740992'), null);
    assert.equal(parseNonNegativeInteger('10', 9), null);
    for (const bad of ['', '-1', '+1', '1.0', '1e3', ' 1', '0x10', 'abc']) {
      assert.equal(parseNonNegativeInteger(bad), null, bad);
    }
  });
});

void describe('topic-partition offset checkpoints', () => {
  void test('keys are topic-partition and split at the last dash', () => {
    assert.equal(topicPartitionKey('orders', 3), 'orders-3');
    assert.deepEqual(parseTopicPartitionKey('my-topic-12'), { topic: 'my-topic', partition: 12 });
    assert.deepEqual(parseTopicPartitionKey('__consumer_offsets-0'), {
      topic: '__consumer_offsets',
      partition: 0,
    });
    // A topic may itself end in a dash: 'orders--1' is partition 1 of 'orders-'.
    assert.deepEqual(parseTopicPartitionKey('orders--1'), { topic: 'orders-', partition: 1 });
    for (const bad of ['orders', '-3', 'orders-', 'orders-x', 'orders-+1', 'orders-2147483648']) {
      assert.equal(parseTopicPartitionKey(bad), null, bad);
    }
  });

  void test('round trip through a Map keyed by topic-partition', async () => {
    const path = file();
    const offsets = new Map([
      ['orders-0', 0],
      ['orders-1', 1234],
      ['my-dashed-topic-7', 2 ** 40],
      ['__consumer_offsets-49', 9],
    ]);
    await writeOffsetCheckpoint(fs, path, offsets);
    assert.equal(
      nodeFs.readFileSync(path, 'utf8'),
      '0\n4\norders 0 0\norders 1 1234\nmy-dashed-topic 7 1099511627776\n__consumer_offsets 49 9\n',
    );
    assert.deepEqual(await readOffsetCheckpoint(fs, path), offsets);
  });

  void test('an empty map round trips; a missing file is an empty map', async () => {
    const path = file();
    await writeOffsetCheckpoint(fs, path, new Map());
    assert.deepEqual(await readOffsetCheckpoint(fs, path), new Map());
    assert.deepEqual(await readOffsetCheckpoint(fs, `${root}/missing-offsets`), new Map());
  });

  void test('reads a file as Kafka writes it; a repeated partition keeps the later line', async () => {
    const read = await readOffsetCheckpoint(fs, file('0\n3\nfoo 0 10\nbar.baz 3 7\nfoo 0 11\n'));
    assert.deepEqual(
      read,
      new Map([
        ['foo-0', 11],
        ['bar.baz-3', 7],
      ]),
    );
  });

  void test('malformed entries are typed errors naming the line', async () => {
    const cases: [string, number][] = [
      ['0\n1\nfoo 0\n', 3],
      ['0\n1\nfoo 0 1 2\n', 3],
      ['0\n2\nfoo 0 1\nfoo -1 1\n', 4],
      ['0\n1\nfoo 0 ten\n', 3],
      ['0\n1\nfoo 2147483648 1\n', 3],
      ['0\n1\nfoo 0 18446744073709551615\n', 3],
    ];
    for (const [content, line] of cases) {
      const path = file(content);
      const result = await readOffsetCheckpoint(fs, path);
      assert.ok(result instanceof CheckpointError, content);
      assert.equal(result.kind, 'malformedLine');
      assert.equal(result.line, line);
      assert.equal(result.path, path);
    }
    const version = await readOffsetCheckpoint(fs, file('1\n0\n'));
    assert.ok(version instanceof CheckpointError && version.kind === 'unsupportedVersion');
    const count = await readOffsetCheckpoint(fs, file('0\n2\nfoo 0 1\n'));
    assert.ok(count instanceof CheckpointError && count.kind === 'countMismatch');
  });

  void test('writing a bad key or offset throws a RangeError before touching the file', async () => {
    const path = file();
    await assert.rejects(writeOffsetCheckpoint(fs, path, new Map([['nodash', 1]])), RangeError);
    await assert.rejects(writeOffsetCheckpoint(fs, path, new Map([['has space-0', 1]])), RangeError);
    await assert.rejects(writeOffsetCheckpoint(fs, path, new Map([['t-0', -1]])), RangeError);
    await assert.rejects(writeOffsetCheckpoint(fs, path, new Map([['t-0', 1.5]])), RangeError);
    await assert.rejects(writeOffsetCheckpoint(fs, path, new Map([['t-0', 2 ** 53]])), RangeError);
    assert.equal(nodeFs.existsSync(path), false);
  });
});
