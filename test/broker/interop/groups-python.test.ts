/**
 * Consumer groups (the classic protocol) with the Python clients: confluent-kafka-python
 * (librdkafka, with its eager and its cooperative-sticky assignors) and kafka-python, each
 * member a child process (python/group_member.py). The scenarios, in group-scenarios.ts: two
 * then three members split a 6-partition topic with no overlap and no gap; the leader leaving
 * and the next leader crashing (session timeout) each trigger a rebalance after which every
 * partition is consumed; committed offsets resume exactly; a broker SIGKILLed and restarted
 * three times (all committed, mid-consumption, as a member joins) loses no committed offset and
 * the members carry on; a static member restarting within its session timeout gets its
 * partitions back without a rebalance.
 */
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import {
  membershipScenario,
  restartScenario,
  resumeScenario,
  staticMemberScenario,
} from './group-scenarios.js';
import { RESTART_SKIP, type Client } from './groups.js';
import { repoRoot } from './process.js';
import { PYTHON } from './records.js';
import { run } from './support.js';

const SCRIPT = join(repoRoot(), 'test', 'broker', 'interop', 'python', 'group_member.py');

const confluent: Client = {
  name: 'confluent',
  command: (o) => ({ cmd: PYTHON, args: [SCRIPT, 'confluent', JSON.stringify(o)] }),
};
/** librdkafka's incremental (KIP-429) rebalancing: revocations and assignments in two rounds. */
const confluentCooperative: Client = {
  name: 'confluent-cooperative',
  command: (o) => ({
    cmd: PYTHON,
    args: [SCRIPT, 'confluent', JSON.stringify({ ...o, assignor: 'cooperative-sticky' })],
  }),
};
const kafkaPython: Client = {
  name: 'kafka-python',
  command: (o) => ({ cmd: PYTHON, args: [SCRIPT, 'kafka-python', JSON.stringify(o)] }),
};

const available = new Map<Client, boolean>();
const NO_CONFLUENT =
  'confluent_kafka is not importable by /usr/bin/python3 (.ci/run installs python3-confluent-kafka)';
const MISSING = new Map<Client, string>([
  [confluent, NO_CONFLUENT],
  [confluentCooperative, NO_CONFLUENT],
  [kafkaPython, 'kafka is not importable by /usr/bin/python3 (.ci/run installs python3-kafka)'],
]);

/** Whether /usr/bin/python3 imports `module` (support.ts's `have` only checks that a command runs). */
async function importable(module: string): Promise<boolean> {
  const r = await run(PYTHON, ['-c', `import ${module}`], '', 10_000).catch(() => null);
  return r?.code === 0;
}

before(async () => {
  available.set(confluent, await importable('confluent_kafka'));
  available.set(confluentCooperative, available.get(confluent) === true);
  available.set(kafkaPython, await importable('kafka'));
});

for (const client of [confluent, confluentCooperative, kafkaPython]) {
  void describe(`consumer groups with ${client.name}`, { timeout: 300_000 }, () => {
    void test('two then three members split the partitions; the leader leaving and the next one crashing each rebalance', async (t) => {
      if (available.get(client) !== true) return t.skip(MISSING.get(client));
      await membershipScenario(client, (m) => t.diagnostic(m));
    });

    void test('committed offsets resume exactly in the next member', async (t) => {
      if (available.get(client) !== true) return t.skip(MISSING.get(client));
      await resumeScenario(client, (m) => t.diagnostic(m));
    });

    void test('a broker SIGKILLed and restarted (all committed, mid-consumption, as a member joins) loses no committed offset', async (t) => {
      if (available.get(client) !== true) return t.skip(MISSING.get(client));
      if (RESTART_SKIP !== null) return t.skip(RESTART_SKIP);
      await restartScenario(client, (m) => t.diagnostic(m));
    });

    void test('a static member restarting within its session timeout gets its partitions back without a rebalance', async (t) => {
      if (available.get(client) !== true) return t.skip(MISSING.get(client));
      if (client === kafkaPython) {
        return t.skip('kafka-python 2.0.2 has no group_instance_id (static membership)');
      }
      await staticMemberScenario(client, (m) => t.diagnostic(m));
    });
  });
}
