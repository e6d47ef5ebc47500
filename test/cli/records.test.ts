/**
 * `samsa get-offsets` and `samsa delete-records` end to end: the log start and end of each
 * partition (--time -2/-1, by timestamp), records deleted below an offset from Kafka's JSON file,
 * and the errors for unknown topics and bad files.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

import { cliBroker, expectCode } from './support.js';

void describe('samsa get-offsets and delete-records', () => {
  const { samsa } = cliBroker();
  const files = mkdtempSync(join(tmpdir(), 'samsa-cli-records-'));
  after(() => rmSync(files, { recursive: true, force: true }));
  const jsonFile = (name: string, doc: unknown): string => {
    const path = join(files, name);
    writeFileSync(path, typeof doc === 'string' ? doc : JSON.stringify(doc));
    return path;
  };

  void test('offsets before and after deleting records', async () => {
    expectCode(await samsa(['topics', '--create', '--topic', 'events', '--partitions', '2']), 0, 'create');
    // Keys k0 and k3 land on different partitions of two (murmur2), so each partition gets records.
    const lines = ['k0:a', 'k0:b', 'k0:c', 'k0:d', 'k0:e', 'k3:x'];
    const startMs = Date.now();
    expectCode(
      await samsa(
        [
          'console-producer',
          '--topic',
          'events',
          '--property',
          'parse.key=true',
          '--property',
          'key.separator=:',
        ],
        {
          stdin: `${lines.join('\n')}\n`,
        },
      ),
      0,
      'produce',
    );

    const [latest, earliest, byName, json, partitionOne] = await Promise.all([
      samsa(['get-offsets', '--topic', 'events', '--time', '-1']),
      samsa(['get-offsets', '--topic', 'events', '--time', '-2']),
      samsa(['get-offsets', '--topic', 'events', '--time', 'latest']),
      samsa(['get-offsets', '--topic-partitions', 'events:1', '--output', 'json']),
      samsa(['get-offsets', '--topic', 'events', '--partitions', '1', '--time', 'earliest']),
    ]);
    const ends = expectCode(latest, 0, 'latest').stdout.trimEnd().split('\n');
    assert.equal(ends.length, 2, 'one line per partition');
    const endOf = new Map(ends.map((l) => [Number(l.split(':')[1]), Number(l.split(':')[2])]));
    assert.deepEqual(
      [...endOf.values()].sort(),
      [1, 5],
      'the five k0 records on one partition, k3 on the other',
    );
    const k0 = [...endOf].find(([, end]) => end === 5)![0];
    assert.equal(
      expectCode(earliest, 0, 'earliest').stdout,
      'events:0:0\nevents:1:0\n',
      'every log starts at 0',
    );
    assert.equal(expectCode(byName, 0, 'latest by name').stdout, latest.stdout, "'latest' is -1");
    assert.deepEqual(JSON.parse(expectCode(json, 0, 'json').stdout), [
      { topic: 'events', partition: 1, offset: endOf.get(1) },
    ]);
    assert.equal(expectCode(partitionOne, 0, '--partitions').stdout, 'events:1:0\n', '--partitions narrows');

    const [beforeAll, afterAll] = await Promise.all([
      samsa(['get-offsets', '--topic', 'events', '--time', String(startMs - 60_000)]),
      samsa(['get-offsets', '--topic', 'events', '--time', String(Date.now() + 3_600_000)]),
    ]);
    assert.equal(
      expectCode(beforeAll, 0, 'by old time').stdout,
      'events:0:0\nevents:1:0\n',
      'first record after the time',
    );
    assert.equal(
      expectCode(afterAll, 0, 'by future time').stdout,
      '',
      'no record after a future time: nothing printed',
    );

    const plan = jsonFile('delete.json', {
      partitions: [{ topic: 'events', partition: k0, offset: 3 }],
      version: 1,
    });
    const deleted = expectCode(
      await samsa(['delete-records', '--offset-json-file', plan]),
      0,
      'delete-records',
    );
    assert.equal(
      deleted.stdout,
      'Executing records delete operation\nRecords delete operation completed:\n' +
        `partition: events-${k0}\tlow_watermark: 3\n`,
    );
    const moved = expectCode(
      await samsa(['get-offsets', '--topic', 'events', '--partitions', String(k0), '--time', '-2']),
      0,
      '-2',
    );
    assert.equal(moved.stdout, `events:${k0}:3\n`, 'the log now starts at 3');

    const all = jsonFile('all.json', {
      partitions: [{ topic: 'events', partition: k0, offset: -1 }],
      version: 1,
    });
    const emptied = expectCode(await samsa(['delete-records', '--offset-json-file', all]), 0, 'delete all');
    assert.match(
      emptied.stdout,
      new RegExp(`partition: events-${k0}\\tlow_watermark: 5\\n$`),
      '-1 deletes up to the end',
    );
  });

  void test('errors: unknown topics and bad offset files', async () => {
    const unknown = jsonFile('unknown.json', {
      partitions: [{ topic: 'nope', partition: 0, offset: 1 }],
      version: 1,
    });
    const [noTopic, noMatch, badTime, badJson, dup, missingFile, noFileFlag] = await Promise.all([
      samsa(['delete-records', '--offset-json-file', unknown]),
      samsa(['get-offsets', '--topic', 'nope']),
      samsa(['get-offsets', '--time', 'yesterday']),
      samsa(['delete-records', '--offset-json-file', jsonFile('bad.json', '{"partitions": [')]),
      samsa([
        'delete-records',
        '--offset-json-file',
        jsonFile('dup.json', {
          partitions: [
            { topic: 't', partition: 0, offset: 1 },
            { topic: 't', partition: 0, offset: 2 },
          ],
        }),
      ]),
      samsa(['delete-records', '--offset-json-file', join(files, 'missing.json')]),
      samsa(['delete-records']),
    ]);
    expectCode(noTopic, 1, 'delete-records on an unknown topic');
    assert.match(
      noTopic.stdout,
      /partition: nope-0\terror: .*UNKNOWN_TOPIC_OR_PARTITION/,
      "Kafka's per-partition error line",
    );
    expectCode(noMatch, 1, 'get-offsets on an unknown topic');
    assert.match(noMatch.stderr, /Could not match any topic-partitions with the specified filters/);
    expectCode(badTime, 2, 'bad --time');
    assert.match(badTime.stderr, /--time 'yesterday' is not valid/);
    expectCode(badJson, 2, 'bad JSON');
    assert.match(badJson.stderr, /--offset-json-file: not valid JSON/);
    expectCode(dup, 2, 'duplicate partitions');
    assert.match(dup.stderr, /duplicate topic partitions: t-0/);
    expectCode(missingFile, 2, 'missing file');
    assert.match(missingFile.stderr, /cannot read the file \(ENOENT\)/);
    expectCode(noFileFlag, 2, 'no --offset-json-file');
    assert.match(noFileFlag.stderr, /missing required option --offset-json-file/);
  });
});
