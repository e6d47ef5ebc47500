/**
 * `samsa consumer-groups` with a live member: the group is listed with its state, described with
 * its member (offsets, --members, --state), refused a reset and a deletion while the member is
 * there (Kafka's messages), and reset, offset-deleted and deleted once it has left.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';

import { cliBroker, expectCode, parseTable, type CliResult } from './support.js';

/** How long a console consumer may take to join the group. */
const JOIN_DEADLINE_MS = 15_000;

void describe('samsa consumer-groups', () => {
  const { samsa, start } = cliBroker();

  void test('a group with an active member, then without', async () => {
    expectCode(await samsa(['topics', '--create', '--topic', 'jobs', '--partitions', '2']), 0, 'create');
    // Keys k0 and k3 hash to different partitions of two: each partition gets a record.
    const keyed = [
      'console-producer',
      '--topic',
      'jobs',
      '--property',
      'parse.key=true',
      '--property',
      'key.separator=:',
    ];
    expectCode(await samsa(keyed, { stdin: 'k0:j1\nk3:j2\nk0:j3\n' }), 0, 'produce');

    const member = start(['console-consumer', '--topic', 'jobs', '--group', 'workers', '--from-beginning']);
    try {
      // Wait, bounded, until the member has joined and been given both partitions.
      let members: Record<string, string>[] = [];
      for (const deadline = Date.now() + JOIN_DEADLINE_MS; Date.now() < deadline; await sleep(200)) {
        const r = await samsa(['consumer-groups', '--describe', '--group', 'workers', '--members']);
        members = r.code === 0 ? parseTable(r.stdout, 'GROUP') : [];
        if (members.length === 1 && members[0]!['#PARTITIONS'] === '2') break;
      }
      assert.equal(members.length, 1, 'one member joined');
      assert.equal(members[0]!['CLIENT-ID'], 'console-consumer', "the member's client id");
      assert.equal(members[0]!['#PARTITIONS'], '2', 'it owns both partitions');

      const [list, state, verbose, reset, del] = await Promise.all([
        samsa(['consumer-groups', '--list', '--state']),
        samsa(['consumer-groups', '--describe', '--group', 'workers', '--state']),
        samsa([
          'consumer-groups',
          '--describe',
          '--group',
          'workers',
          '--members',
          '--verbose',
          '--output',
          'json',
        ]),
        samsa([
          'consumer-groups',
          '--reset-offsets',
          '--group',
          'workers',
          '--all-topics',
          '--to-earliest',
          '--execute',
        ]),
        samsa(['consumer-groups', '--delete', '--group', 'workers']),
      ]);
      assert.deepEqual(parseTable(expectCode(list, 0, 'list').stdout, 'GROUP'), [
        { GROUP: 'workers', STATE: 'Stable' },
      ]);
      const stateLines = expectCode(state, 0, 'state').stdout.trim().split('\n');
      assert.match(
        stateLines[0]!,
        /^GROUP\s+COORDINATOR \(ID\)\s+ASSIGNMENT-STRATEGY\s+STATE\s+#MEMBERS$/,
        'state header',
      );
      assert.match(stateLines[1]!, /^workers\s+127\.0\.0\.1:\d+ {2}\(1\)\s+\S+\s+Stable\s+1$/, 'state row');
      const [doc] = JSON.parse(expectCode(verbose, 0, 'members json').stdout) as {
        members: { assignment: { topic: string; partition: number }[] }[];
      }[];
      assert.deepEqual(doc?.members[0]?.assignment, [
        { topic: 'jobs', partition: 0 },
        { topic: 'jobs', partition: 1 },
      ]);
      expectCode(reset, 1, 'reset while active');
      assert.match(
        reset.stderr,
        /Assignments can only be reset if the group 'workers' is inactive, but the current state is Stable\./,
        "Kafka's refusal",
      );
      expectCode(del, 1, 'delete while active');
      assert.match(
        del.stderr,
        /\* Group 'workers' could not be deleted due to: .*NON_EMPTY_GROUP/,
        "Kafka's refusal",
      );

      const offsets = await samsa(['consumer-groups', '--describe', '--group', 'workers']);
      const rows = parseTable(expectCode(offsets, 0, 'describe').stdout, 'GROUP');
      assert.equal(rows.length, 2, 'a row per assigned partition');
      for (const r of rows)
        assert.ok(r['CONSUMER-ID']!.startsWith('console-consumer-'), 'the owner is shown');
    } finally {
      member.stop();
    }
    const ended = await member.result;
    assert.equal(ended.code, 0, `the consumer stops cleanly on SIGTERM (stderr: ${ended.stderr})`);
    assert.deepEqual(
      ended.stdout.trimEnd().split('\n').sort(),
      ['j1', 'j2', 'j3'],
      'it printed every record',
    );
    assert.match(ended.stderr, /Processed a total of 3 messages/);

    const empty = expectCode(
      await samsa(['consumer-groups', '--describe', '--group', 'workers']),
      0,
      'describe',
    );
    assert.match(empty.stderr, /Consumer group 'workers' has no active members\./);
    const rows = parseTable(empty.stdout, 'GROUP');
    assert.equal(
      rows.map((r) => Number(r['LAG'])).reduce((a, b) => a + b, 0),
      0,
      'everything printed was committed',
    );
    for (const r of rows) assert.equal(r['CONSUMER-ID'], '-', 'no owner any more');

    const reset = await samsa([
      'consumer-groups',
      '--reset-offsets',
      '--group',
      'workers',
      '--topic',
      'jobs:1',
      '--to-earliest',
      '--export',
      '--execute',
    ]);
    assert.equal(expectCode(reset, 0, 'reset --export').stdout, 'jobs,1,0\n', 'CSV for --from-file');

    const deleteOffsets = await samsa([
      'consumer-groups',
      '--delete-offsets',
      '--group',
      'workers',
      '--topic',
      'jobs:1',
    ]);
    assert.match(
      expectCode(deleteOffsets, 0, 'delete-offsets').stdout,
      /Request succeeded for deleting offsets from group workers\./,
    );
    const remaining: CliResult = await samsa([
      'consumer-groups',
      '--describe',
      '--group',
      'workers',
      '--output',
      'json',
    ]);
    const [left] = JSON.parse(expectCode(remaining, 0, 'describe json').stdout) as {
      partitions: { partition: number }[];
    }[];
    assert.deepEqual(
      left?.partitions.map((p) => p.partition),
      [0],
      'only partition 0 still has an offset',
    );

    const deleted = expectCode(
      await samsa(['consumer-groups', '--delete', '--group', 'workers']),
      0,
      'delete',
    );
    assert.equal(deleted.stdout, "Deletion of requested consumer groups ('workers') was successful.\n");
    const gone = expectCode(
      await samsa(['consumer-groups', '--describe', '--group', 'workers']),
      1,
      'describe deleted',
    );
    assert.match(gone.stderr, /Consumer group 'workers' does not exist\./);
    assert.equal(
      expectCode(await samsa(['consumer-groups', '--list']), 0, 'list').stdout,
      '',
      'no groups left',
    );
  });

  void test('usage errors', async () => {
    const [noScope, twoScenarios, noGroup, dryAndExecute, badDate] = await Promise.all([
      samsa(['consumer-groups', '--reset-offsets', '--group', 'g', '--to-earliest']),
      samsa([
        'consumer-groups',
        '--reset-offsets',
        '--group',
        'g',
        '--all-topics',
        '--to-earliest',
        '--to-latest',
      ]),
      samsa(['consumer-groups', '--describe']),
      samsa([
        'consumer-groups',
        '--reset-offsets',
        '--group',
        'g',
        '--all-topics',
        '--to-latest',
        '--dry-run',
        '--execute',
      ]),
      samsa([
        'consumer-groups',
        '--reset-offsets',
        '--group',
        'g',
        '--all-topics',
        '--to-datetime',
        'yesterday',
      ]),
    ]);
    expectCode(noScope, 2, 'no scope');
    assert.match(noScope.stderr, /One of the reset scopes should be defined: --all-topics, --topic\./);
    expectCode(twoScenarios, 2, 'two scenarios');
    assert.match(twoScenarios.stderr, /exactly one reset scenario/);
    expectCode(noGroup, 2, 'no group');
    assert.match(noGroup.stderr, /--describe needs --group <group> or --all-groups/);
    expectCode(dryAndExecute, 2, '--dry-run and --execute');
    expectCode(badDate, 2, 'bad date');
    assert.match(badDate.stderr, /--to-datetime 'yesterday' is not a date-time/);
  });
});
