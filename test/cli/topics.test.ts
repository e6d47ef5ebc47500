/**
 * `samsa topics` end to end, as kafka-topics.sh is used: create (and create again), list,
 * describe in Kafka's layout and as JSON, add partitions, delete; unknown topics fail with exit 1.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { cliBroker, expectCode } from './support.js';

void describe('samsa topics', () => {
  const { samsa } = cliBroker();

  void test('topics: create, list, describe, alter, delete', async () => {
    const created = expectCode(
      await samsa([
        'topics',
        '--create',
        '--topic',
        'orders',
        '--partitions',
        '3',
        '--config',
        'retention.ms=3600000',
      ]),
      0,
      'create',
    );
    assert.equal(created.stdout, 'Created topic orders.\n');
    expectCode(
      await samsa(['topics', '--create', '--topic', 'audit', '--replication-factor', '1']),
      0,
      'create audit',
    );

    const again = expectCode(
      await samsa(['topics', '--create', '--topic', 'orders', '--partitions', '3']),
      1,
      'create twice',
    );
    assert.match(again.stderr, /Topic 'orders' already exists/, 'the existing topic is named');
    expectCode(
      await samsa(['topics', '--create', '--topic', 'orders', '--if-not-exists']),
      0,
      '--if-not-exists',
    );

    const [list, listJson, listFiltered] = await Promise.all([
      samsa(['topics', '--list']),
      samsa(['topics', '--list', '--output', 'json']),
      samsa(['topics', '--list', '--topic', 'ord.*']),
    ]);
    assert.equal(expectCode(list, 0, 'list').stdout, 'audit\norders\n', 'list: one name a line, sorted');
    assert.deepEqual(JSON.parse(expectCode(listJson, 0, 'list json').stdout), ['audit', 'orders']);
    assert.equal(expectCode(listFiltered, 0, 'list --topic').stdout, 'orders\n', '--topic filters by regex');

    const [desc, descJson] = await Promise.all([
      samsa(['topics', '--describe', '--topic', 'orders']),
      samsa(['topics', '--describe', '--topic', 'orders', '--output', 'json']),
    ]);
    const lines = expectCode(desc, 0, 'describe').stdout.trimEnd().split('\n');
    assert.equal(lines.length, 4, 'a topic line and one line per partition');
    assert.match(
      lines[0]!,
      /^Topic: orders\tTopicId: \S{22}\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: retention\.ms=3600000$/,
      "Kafka's topic line",
    );
    lines.slice(1).forEach((line, p) => {
      assert.equal(
        line,
        `\tTopic: orders\tPartition: ${p}\tLeader: 1\tReplicas: 1\tIsr: 1`,
        `partition ${p} line`,
      );
    });
    const [doc] = JSON.parse(expectCode(descJson, 0, 'describe json').stdout) as {
      name: string;
      partitionCount: number;
      replicationFactor: number;
      configs: Record<string, string>;
      partitions: { partition: number; leader: number; replicas: number[]; isr: number[] }[];
    }[];
    assert.equal(doc?.name, 'orders');
    assert.equal(doc.partitionCount, 3);
    assert.equal(doc.replicationFactor, 1);
    assert.deepEqual(doc.configs, { 'retention.ms': '3600000' });
    assert.deepEqual(
      doc.partitions.map((p) => [p.partition, p.leader, p.replicas, p.isr]),
      [0, 1, 2].map((p) => [p, 1, [1], [1]]),
    );

    expectCode(await samsa(['topics', '--alter', '--topic', 'orders', '--partitions', '5']), 0, 'alter to 5');
    const grown = expectCode(
      await samsa(['topics', '--describe', '--topic', 'orders']),
      0,
      'describe after alter',
    );
    assert.match(grown.stdout, /PartitionCount: 5/, 'the topic has 5 partitions');
    assert.match(grown.stdout, /Partition: 4\tLeader: 1/, 'the new partitions have a leader');
    const shrink = expectCode(
      await samsa(['topics', '--alter', '--topic', 'orders', '--partitions', '2']),
      1,
      'shrink',
    );
    assert.match(shrink.stderr, /INVALID_PARTITIONS/, "the broker's reason is given");

    const [unknownDescribe, unknownAlter, unknownDelete, ifExists] = await Promise.all([
      samsa(['topics', '--describe', '--topic', 'nope']),
      samsa(['topics', '--alter', '--topic', 'nope', '--partitions', '4']),
      samsa(['topics', '--delete', '--topic', 'nope']),
      samsa(['topics', '--delete', '--topic', 'nope', '--if-exists']),
    ]);
    for (const [r, what] of [
      [unknownDescribe, 'describe'],
      [unknownAlter, 'alter'],
      [unknownDelete, 'delete'],
    ] as const) {
      expectCode(r, 1, `${what} of an unknown topic`);
      assert.match(r.stderr, /Topic 'nope' does not exist as expected/, `${what}: the topic is named`);
    }
    expectCode(ifExists, 0, 'delete --if-exists');

    expectCode(await samsa(['topics', '--delete', '--topic', 'audit']), 0, 'delete');
    assert.equal(
      expectCode(await samsa(['topics', '--list']), 0, 'list').stdout,
      'orders\n',
      'audit is gone',
    );
  });
});
