/**
 * The quick start every Kafka tutorial walks through, with `samsa` in place of Kafka's scripts:
 * create a topic, produce lines from stdin, consume them with a group, look at the group's lag,
 * reset its offsets every way kafka-consumer-groups.sh can, and consume again. Every command runs
 * as a child process against a real broker, as a user's shell would run it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { startBroker, type RunningBroker } from '../../src/broker/embed.js';
import { parseTable, runCli, type CliResult } from './support.js';

const TOPIC = 'my-first-topic';
const GROUP = 'g1';
const KEYED = ['alice:alice-1', 'bob:bob-1', 'carol:carol-1', 'alice:alice-2', 'bob:bob-2', 'alice:alice-3'];
const UNKEYED = ['plain-1', 'plain-2', 'plain-3', 'plain-4'];
const ALL_VALUES = [...KEYED.map((l) => l.split(':')[1]!), ...UNKEYED].sort();

void describe('samsa quick start', () => {
  let broker: RunningBroker;
  let dataDir: string;
  let bootstrap: string;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'samsa-cli-quickstart-'));
    broker = await startBroker({
      port: 0,
      dataDir,
      config: { 'num.partitions': '1', 'group.initial.rebalance.delay.ms': '0' },
    });
    bootstrap = broker.bootstrap;
  });

  after(async () => {
    await broker.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const samsa = (args: string[], stdin?: string): Promise<CliResult> =>
    runCli(
      [args[0]!, '--bootstrap-server', bootstrap, ...args.slice(1)],
      stdin === undefined ? {} : { stdin },
    );

  const ok = (r: CliResult, what: string): CliResult => {
    assert.equal(r.code, 0, `${what} exits 0 (stderr: ${r.stderr})`);
    return r;
  };

  /** partition → log end offset, from get-offsets. */
  const logEnds = async (): Promise<Map<number, number>> => {
    const r = ok(await samsa(['get-offsets', '--topic', TOPIC, '--time', '-1']), 'get-offsets');
    const ends = new Map<number, number>();
    for (const line of r.stdout.trim().split('\n')) {
      const [t, p, o] = line.split(':');
      assert.equal(t, TOPIC, `get-offsets line names the topic: ${line}`);
      ends.set(Number(p), Number(o));
    }
    return ends;
  };

  type Offsets = Map<number, { current: number; end: number; lag: number }>;

  /** partition → the group's committed offset, log end and lag, from --output json. */
  const groupOffsetsJson = async (): Promise<Offsets> => {
    const json = ok(
      await samsa(['consumer-groups', '--describe', '--group', GROUP, '--output', 'json']),
      'describe json',
    );
    const docs = JSON.parse(json.stdout) as {
      group: string;
      partitions: {
        topic: string;
        partition: number;
        currentOffset: number;
        logEndOffset: number;
        lag: number;
      }[];
    }[];
    assert.equal(docs.length, 1, 'one group described');
    assert.equal(docs[0]!.group, GROUP);
    for (const p of docs[0]!.partitions) assert.equal(p.topic, TOPIC, 'each partition is of the topic');
    return new Map(
      docs[0]!.partitions.map((p) => [
        p.partition,
        { current: p.currentOffset, end: p.logEndOffset, lag: p.lag },
      ]),
    );
  };

  /** The same from Kafka's table layout, checked to agree with the JSON. */
  const groupOffsets = async (): Promise<Offsets> => {
    const [table, fromJson] = await Promise.all([
      samsa(['consumer-groups', '--describe', '--group', GROUP]),
      groupOffsetsJson(),
    ]);
    ok(table, 'describe');
    const rows = parseTable(table.stdout, 'GROUP');
    for (const r of rows) {
      assert.equal(r['GROUP'], GROUP, 'each row names the group');
      assert.equal(r['TOPIC'], TOPIC, 'each row names the topic');
    }
    const fromTable = new Map(
      rows.map((r) => [
        Number(r['PARTITION']),
        { current: Number(r['CURRENT-OFFSET']), end: Number(r['LOG-END-OFFSET']), lag: Number(r['LAG']) },
      ]),
    );
    assert.deepEqual(fromJson, fromTable, 'the table and the JSON say the same');
    return fromTable;
  };

  const consumeAll = async (): Promise<string[]> => {
    const r = ok(
      await samsa([
        'console-consumer',
        '--topic',
        TOPIC,
        '--from-beginning',
        '--max-messages',
        '10',
        '--group',
        GROUP,
      ]),
      'console-consumer',
    );
    assert.match(
      r.stderr,
      /Processed a total of 10 messages/,
      'the consumer reports its count as Kafka does',
    );
    return r.stdout.trimEnd().split('\n');
  };

  const reset = async (args: string[]): Promise<Map<number, number>> => {
    const r = ok(
      await samsa(['consumer-groups', '--reset-offsets', '--group', GROUP, '--topic', TOPIC, ...args]),
      `reset ${args.join(' ')}`,
    );
    return new Map(
      parseTable(r.stdout, 'GROUP').map((row) => [Number(row['PARTITION']), Number(row['NEW-OFFSET'])]),
    );
  };

  const committed = async (): Promise<Map<number, number>> =>
    new Map([...(await groupOffsetsJson())].map(([p, o]) => [p, o.current]));

  void test('create, produce, consume, describe, reset and consume again', async () => {
    const created = ok(
      await samsa(['topics', '--create', '--topic', TOPIC, '--partitions', '3', '--replication-factor', '1']),
      'create',
    );
    assert.equal(created.stdout, `Created topic ${TOPIC}.\n`);

    ok(
      await samsa(
        [
          'console-producer',
          '--topic',
          TOPIC,
          '--property',
          'parse.key=true',
          '--property',
          'key.separator=:',
        ],
        `${KEYED.join('\n')}\n`,
      ),
      'keyed console-producer',
    );
    ok(await samsa(['console-producer', '--topic', TOPIC], `${UNKEYED.join('\n')}\n`), 'console-producer');

    const first = await consumeAll();
    assert.deepEqual([...first].sort(), ALL_VALUES, 'every line comes back exactly once');
    for (const key of ['alice', 'bob']) {
      const seen = first.filter((v) => v.startsWith(`${key}-`));
      assert.deepEqual(seen, [...seen].sort(), `${key}'s records come back in the order they were sent`);
    }

    const ends = await logEnds();
    assert.deepEqual([...ends.keys()].sort(), [0, 1, 2], 'get-offsets lists the three partitions');
    assert.equal(
      [...ends.values()].reduce((a, b) => a + b, 0),
      10,
      'the log ends add up to the 10 records',
    );

    const afterFirst = await groupOffsets();
    for (const [p, end] of ends) {
      if (end === 0) continue;
      assert.deepEqual(afterFirst.get(p), { current: end, end, lag: 0 }, `partition ${p} is fully consumed`);
    }

    // --dry-run, explicit or by default, shows new offsets and changes nothing.
    const planned = await reset(['--to-earliest', '--dry-run']);
    assert.deepEqual(
      planned,
      new Map([
        [0, 0],
        [1, 0],
        [2, 0],
      ]),
      'the dry run plans the earliest offsets',
    );
    const implicit = await samsa([
      'consumer-groups',
      '--reset-offsets',
      '--group',
      GROUP,
      '--topic',
      TOPIC,
      '--to-earliest',
    ]);
    ok(implicit, 'reset without --execute');
    assert.match(
      implicit.stderr,
      /--execute option is missing/,
      'without --execute the tool warns it changes nothing',
    );
    assert.deepEqual(await groupOffsets(), afterFirst, 'dry runs leave the committed offsets alone');

    assert.deepEqual(
      await reset(['--to-earliest', '--execute']),
      planned,
      'the executed reset prints what it set',
    );
    for (const [p, o] of await groupOffsets()) {
      assert.deepEqual(
        o,
        { current: 0, end: ends.get(p), lag: ends.get(p) },
        `partition ${p}: lag is the whole log`,
      );
    }

    const second = await consumeAll();
    assert.deepEqual([...second].sort(), ALL_VALUES, 'after the reset the group reads all 10 lines again');

    // --shift-by from the end: one back, but never below the log start.
    const shifted = await reset(['--shift-by', '-1', '--execute']);
    const expectShift = new Map([...ends].map(([p, end]) => [p, Math.max(0, end - 1)]));
    assert.deepEqual(shifted, expectShift, '--shift-by -1 moves each partition back by one');
    assert.deepEqual(await committed(), expectShift, '--shift-by is committed');

    const toOffset = await reset(['--to-offset', '1', '--execute']);
    const expectOne = new Map([...ends].map(([p, end]) => [p, Math.min(1, end)]));
    assert.deepEqual(toOffset, expectOne, '--to-offset 1, capped at the log end');
    assert.deepEqual(await committed(), expectOne, '--to-offset is committed');

    const future = new Date(Date.now() + 3_600_000).toISOString();
    const toFuture = await reset(['--to-datetime', future, '--execute']);
    assert.deepEqual(toFuture, ends, 'a time after every record resets to the log end');
    const past = '2000-01-01T00:00:00.000';
    const toPast = await reset(['--to-datetime', past, '--execute']);
    assert.deepEqual(
      toPast,
      new Map([
        [0, 0],
        [1, 0],
        [2, 0],
      ]),
      'a time before every record resets to the start',
    );
    assert.deepEqual(
      await committed(),
      new Map([
        [0, 0],
        [1, 0],
        [2, 0],
      ]),
      '--to-datetime is committed',
    );
  });
});
