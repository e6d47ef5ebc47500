/**
 * Consumer groups (the classic protocol) with the Node clients: kafkajs and @platformatic/kafka,
 * each member a child process (group-member.ts). The scenarios, in group-scenarios.ts: two then
 * three members split a 6-partition topic with no overlap and no gap; the leader leaving and the
 * next leader crashing (session timeout) each trigger a rebalance after which every partition
 * is consumed; committed offsets resume exactly; a broker SIGKILLed and restarted three times
 * (all committed, mid-consumption, as a member joins) loses no committed offset and the members
 * carry on; a static member restarting within its session timeout gets its partitions back
 * without a rebalance.
 */
import { describe, test } from 'node:test';
import {
  membershipScenario,
  restartScenario,
  resumeScenario,
  staticMemberScenario,
} from './group-scenarios.js';
import { nodeMemberCommand, RESTART_SKIP, type Client } from './groups.js';

const kafkajs: Client = { name: 'kafkajs', command: (o) => nodeMemberCommand('kafkajs', o) };
const platformatic: Client = {
  name: 'platformatic',
  command: (o) => nodeMemberCommand('platformatic', o),
  readsRevokedPartitions:
    "a client issue: @platformatic/kafka's stream pushes the records of a Fetch sent before a rebalance (or retried after the broker died) without checking the current assignment, where the Java client drops them",
};

for (const client of [kafkajs, platformatic]) {
  void describe(`consumer groups with ${client.name}`, { timeout: 300_000 }, () => {
    void test('two then three members split the partitions; the leader leaving and the next one crashing each rebalance', async (t) => {
      await membershipScenario(client, (m) => t.diagnostic(m));
    });

    void test('committed offsets resume exactly in the next member', async (t) => {
      await resumeScenario(client, (m) => t.diagnostic(m));
    });

    void test('a broker SIGKILLed and restarted (all committed, mid-consumption, as a member joins) loses no committed offset', async (t) => {
      if (RESTART_SKIP !== null) return t.skip(RESTART_SKIP);
      await restartScenario(client, (m) => t.diagnostic(m));
    });

    void test('a static member restarting within its session timeout gets its partitions back without a rebalance', async (t) => {
      if (client === kafkajs) {
        return t.skip('the kafkajs consumer has no group.instance.id option (static membership)');
      }
      await staticMemberScenario(client, (m) => t.diagnostic(m));
    });
  });
}
