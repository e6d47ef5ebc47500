/**
 * Group state as an admin sees it, through kafkajs's admin client: members and their
 * assignments (DescribeGroups), committed offsets (OffsetFetch), lag as the log end offset
 * minus the committed offset, listing, and deleting a group with its offsets.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AssignerProtocol, Kafka, logLevel, type Consumer } from 'kafkajs';
import { withBroker } from './interop/support.js';

const TOPIC = 'admin-view';
const PARTITIONS = 4;
const CONFIG = { 'group.initial.rebalance.delay.ms': '0', 'group.min.session.timeout.ms': '1000' };

async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

void describe('group state for admins (kafkajs admin)', { timeout: 120_000 }, () => {
  void test('members, assignments, committed offsets, lag, listing and deletion', async () => {
    await withBroker(CONFIG, async (b) => {
      const kafka = new Kafka({ brokers: [b.bootstrap], logLevel: logLevel.NOTHING, clientId: 'admin-test' });
      const admin = kafka.admin();
      await admin.connect();
      const consumers: Consumer[] = [];
      try {
        await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }] });
        const producer = kafka.producer();
        await producer.connect();
        // Partition p gets 10 * (p + 1) records.
        for (let p = 0; p < PARTITIONS; p++) {
          const messages = Array.from({ length: 10 * (p + 1) }, (_, i) => ({
            partition: p,
            value: `p${p}-${i}`,
          }));
          await producer.send({ topic: TOPIC, messages });
        }
        await producer.disconnect();

        // Two members consume up to 5 records per partition and commit exactly there.
        const consumed = new Map<number, number>();
        for (let i = 0; i < 2; i++) {
          const c = kafka.consumer({ groupId: 'ga', sessionTimeout: 6000, heartbeatInterval: 300 });
          await c.connect();
          await c.subscribe({ topic: TOPIC, fromBeginning: true });
          await c.run({
            autoCommit: false,
            eachMessage: async ({ partition, message }) => {
              const n = consumed.get(partition) ?? 0;
              if (n >= 5) return;
              consumed.set(partition, n + 1);
              await c.commitOffsets([
                { topic: TOPIC, partition, offset: String(Number(message.offset) + 1) },
              ]);
            },
          });
          consumers.push(c);
        }
        await until('5 records committed on every partition', async () => {
          const [t] = await admin.fetchOffsets({ groupId: 'ga', topics: [TOPIC] });
          return t!.partitions.every((p) => p.offset === '5');
        });
        await until('a stable group of two', async () => {
          const { groups } = await admin.describeGroups(['ga']);
          return groups[0]!.state === 'Stable' && groups[0]!.members.length === 2;
        });

        const { groups } = await admin.describeGroups(['ga']);
        const g = groups[0]!;
        assert.equal(g.protocolType, 'consumer', 'protocol type');
        assert.ok(g.protocol.length > 0, 'the chosen assignor is named');
        const owned: number[] = [];
        for (const m of g.members) {
          assert.equal(m.clientId, 'admin-test', 'client id of each member');
          assert.equal(m.clientHost, '/127.0.0.1', 'client host as Kafka shows it');
          const assignment = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
          assert.ok(assignment !== null, 'each member has an assignment');
          owned.push(...(assignment.assignment[TOPIC] ?? []));
          const metadata = AssignerProtocol.MemberMetadata.decode(m.memberMetadata);
          assert.deepEqual(metadata?.topics, [TOPIC], 'member metadata names the subscription');
        }
        assert.deepEqual(
          owned.sort((x, y) => x - y),
          [0, 1, 2, 3],
          'the assignments cover every partition once',
        );

        const [committed] = await admin.fetchOffsets({ groupId: 'ga', topics: [TOPIC] });
        const ends = await admin.fetchTopicOffsets(TOPIC);
        const lag = new Map(
          committed!.partitions.map((p) => {
            const end = ends.find((e) => e.partition === p.partition)!;
            return [p.partition, Number(end.high) - Number(p.offset)];
          }),
        );
        for (let p = 0; p < PARTITIONS; p++) {
          assert.equal(lag.get(p), 10 * (p + 1) - 5, `lag of partition ${p}`);
        }

        const listed = await admin.listGroups();
        assert.deepEqual(
          listed.groups.filter((l) => l.groupId === 'ga'),
          [{ groupId: 'ga', protocolType: 'consumer' }],
          'the group is listed',
        );

        await assert.rejects(admin.deleteGroups(['ga']), 'a group with members is not deleted');
        await Promise.all(consumers.splice(0).map((c) => c.disconnect()));
        await until('the group to be empty', async () => {
          const { groups: after } = await admin.describeGroups(['ga']);
          return after[0]!.state === 'Empty';
        });
        await admin.deleteGroups(['ga']);
        const { groups: deleted } = await admin.describeGroups(['ga']);
        assert.equal(deleted[0]!.state, 'Dead', 'a deleted group is described as Dead');
        const [gone] = await admin.fetchOffsets({ groupId: 'ga', topics: [TOPIC] });
        assert.ok(
          gone!.partitions.every((p) => p.offset === '-1'),
          'the deleted group has no committed offsets',
        );
      } finally {
        await Promise.all(consumers.map((c) => c.disconnect()));
        await admin.disconnect();
      }
    });
  });
});
