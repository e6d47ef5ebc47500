import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  type AssignmentMemberSpec,
  type GroupSpec,
  type PartitionAssignor,
  type SubscribedTopicDescriber,
  type TopicPartitions,
  NO_PARTITIONS,
  countPartitions,
  eachPartition,
  partitionsFrom,
  rangeAssignor,
  uniformAssignor,
} from '../../src/coordinator/consumer/index.js';

/** Topic ids are plain strings to the assignors; short names keep failures readable. */
function describer(counts: Record<string, number>): SubscribedTopicDescriber {
  return { numPartitions: (t) => counts[t] ?? -1 };
}

function member(
  memberId: string,
  topics: string[],
  assignment: TopicPartitions = NO_PARTITIONS,
): AssignmentMemberSpec {
  return { memberId, instanceId: null, rackId: null, subscribedTopicIds: new Set(topics), assignment };
}

function group(members: AssignmentMemberSpec[]): GroupSpec {
  const first = members[0]?.subscribedTopicIds;
  const homogeneous = members.every(
    (m) =>
      first !== undefined &&
      m.subscribedTopicIds.size === first.size &&
      [...first].every((t) => m.subscribedTopicIds.has(t)),
  );
  return { members: new Map(members.map((m) => [m.memberId, m])), homogeneous };
}

function tp(spec: Record<string, number[]>): TopicPartitions {
  return partitionsFrom(Object.entries(spec).map(([topicId, partitions]) => ({ topicId, partitions })));
}

/** Runs the assignor and checks the invariants every assignment must meet. */
function run(
  assignor: PartitionAssignor,
  members: AssignmentMemberSpec[],
  counts: Record<string, number>,
): Map<string, TopicPartitions> {
  const spec = group(members);
  const result = assignor.assign(spec, describer(counts));
  const seen = new Map<string, string>();
  for (const m of members) {
    const a = result.get(m.memberId);
    assert.ok(a !== undefined, `member ${m.memberId} has an assignment`);
    for (const [t, p] of eachPartition(a)) {
      assert.ok(m.subscribedTopicIds.has(t), `${m.memberId} only gets topics it subscribes to (got ${t})`);
      assert.ok(p >= 0 && p < (counts[t] ?? 0), `${t}-${p} exists`);
      const key = `${t}-${p}`;
      assert.ok(!seen.has(key), `${key} assigned twice (${seen.get(key)} and ${m.memberId})`);
      seen.set(key, m.memberId);
    }
  }
  // Every partition of a subscribed topic is assigned.
  const subscribed = new Set(members.flatMap((m) => [...m.subscribedTopicIds]));
  for (const t of subscribed) {
    for (let p = 0; p < (counts[t] ?? 0); p++) assert.ok(seen.has(`${t}-${p}`), `${t}-${p} is assigned`);
  }
  return result;
}

function sizes(result: Map<string, TopicPartitions>): number[] {
  return [...result.values()].map(countPartitions).sort((a, b) => a - b);
}

function moved(before: Map<string, TopicPartitions>, after: Map<string, TopicPartitions>): number {
  let n = 0;
  for (const [id, a] of after) {
    const prev = before.get(id) ?? NO_PARTITIONS;
    for (const [t, p] of eachPartition(a)) if (!(prev.get(t)?.includes(p) ?? false)) n++;
  }
  return n;
}

void describe('uniform assignor', () => {
  void test('homogeneous: sizes differ by at most one', () => {
    const result = run(uniformAssignor, [member('a', ['t']), member('b', ['t']), member('c', ['t'])], {
      t: 10,
    });
    assert.deepEqual(sizes(result), [3, 3, 4]);
  });

  void test('homogeneous: a joining member takes only its share, the others keep the rest', () => {
    const counts = { t: 10, u: 5 };
    const first = run(
      uniformAssignor,
      [member('a', ['t', 'u']), member('b', ['t', 'u']), member('c', ['t', 'u'])],
      counts,
    );
    const second = run(
      uniformAssignor,
      [
        member('a', ['t', 'u'], first.get('a')),
        member('b', ['t', 'u'], first.get('b')),
        member('c', ['t', 'u'], first.get('c')),
        member('d', ['t', 'u']),
      ],
      counts,
    );
    assert.deepEqual(sizes(second), [3, 4, 4, 4]);
    assert.equal(
      moved(first, second),
      countPartitions(second.get('d') ?? NO_PARTITIONS),
      'only the new member gains',
    );
    for (const id of ['a', 'b', 'c']) {
      for (const [t, p] of eachPartition(second.get(id) ?? NO_PARTITIONS)) {
        assert.ok(first.get(id)?.get(t)?.includes(p), `${id} kept ${t}-${p} from before`);
      }
    }
  });

  void test('homogeneous: members left behind keep everything they had', () => {
    const counts = { t: 9 };
    const first = run(uniformAssignor, [member('a', ['t']), member('b', ['t']), member('c', ['t'])], counts);
    const second = run(
      uniformAssignor,
      [member('a', ['t'], first.get('a')), member('c', ['t'], first.get('c'))],
      counts,
    );
    assert.deepEqual(sizes(second), [4, 5]);
    for (const id of ['a', 'c']) {
      for (const [t, p] of eachPartition(first.get(id) ?? NO_PARTITIONS)) {
        assert.ok(second.get(id)?.get(t)?.includes(p), `${id} still has ${t}-${p}`);
      }
    }
  });

  void test('homogeneous: partitions of unsubscribed or shrunk topics are dropped', () => {
    const result = run(
      uniformAssignor,
      [member('a', ['t'], tp({ t: [0, 1, 7], gone: [0] })), member('b', ['t'])],
      { t: 4 },
    );
    assert.deepEqual(sizes(result), [2, 2]);
    assert.equal(result.get('a')?.get('gone'), undefined);
  });

  void test('heterogeneous: balanced within what subscriptions allow', () => {
    const result = run(
      uniformAssignor,
      [member('a', ['x', 'y']), member('b', ['y']), member('c', ['y', 'z'])],
      {
        x: 3,
        y: 6,
        z: 3,
      },
    );
    assert.deepEqual(sizes(result), [4, 4, 4]);
    assert.equal(result.get('b')?.get('y')?.length, 4);
  });

  void test('heterogeneous: a subscriber-only topic goes to its only subscriber', () => {
    const result = run(uniformAssignor, [member('a', ['x']), member('b', ['y'])], { x: 5, y: 1 });
    assert.equal(countPartitions(result.get('a') ?? NO_PARTITIONS), 5);
    assert.equal(countPartitions(result.get('b') ?? NO_PARTITIONS), 1);
  });

  void test('heterogeneous: rebalances an unbalanced previous assignment', () => {
    const result = run(
      uniformAssignor,
      [member('a', ['x', 'y'], tp({ x: [0, 1, 2, 3], y: [0, 1, 2, 3] })), member('b', ['y'])],
      {
        x: 4,
        y: 4,
      },
    );
    assert.deepEqual(sizes(result), [4, 4]);
    assert.deepEqual(result.get('a')?.get('x'), [0, 1, 2, 3], 'a keeps the topic only it can read');
  });

  void test('deterministic and idempotent on random groups', () => {
    const topicNames = ['t0', 't1', 't2', 't3'];
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 4, maxLength: 4 }),
        fc.array(fc.subarray(topicNames, { minLength: 1 }), { minLength: 1, maxLength: 7 }),
        (partitionCounts, subscriptions) => {
          const counts = Object.fromEntries(topicNames.map((t, i) => [t, partitionCounts[i] ?? 0]));
          const members = subscriptions.map((topics, i) => member(`m${i}`, topics));
          const first = run(uniformAssignor, members, counts);
          const again = run(
            uniformAssignor,
            members.map((m) => member(m.memberId, [...m.subscribedTopicIds], first.get(m.memberId))),
            counts,
          );
          assert.equal(moved(first, again), 0, 'a balanced assignment is kept as it is');
          if (group(members).homogeneous) {
            const s = sizes(first);
            assert.ok(
              (s[s.length - 1] ?? 0) - (s[0] ?? 0) <= 1,
              `homogeneous sizes ${s.join(',')} differ by at most one`,
            );
          }
        },
      ),
      { numRuns: 200, seed: 848 },
    );
  });
});

void describe('range assignor', () => {
  void test('co-partitioned topics give the same partitions to the same member', () => {
    const result = run(rangeAssignor, [member('b', ['t', 'u']), member('a', ['t', 'u'])], { t: 4, u: 4 });
    assert.deepEqual(result.get('a')?.get('t'), [0, 1]);
    assert.deepEqual(result.get('a')?.get('u'), [0, 1]);
    assert.deepEqual(result.get('b')?.get('t'), [2, 3]);
    assert.deepEqual(result.get('b')?.get('u'), [2, 3]);
  });

  void test('the first members by id get the extra partitions of each topic', () => {
    const result = run(rangeAssignor, [member('a', ['t']), member('b', ['t']), member('c', ['t'])], { t: 5 });
    assert.deepEqual(result.get('a')?.get('t'), [0, 1]);
    assert.deepEqual(result.get('b')?.get('t'), [2, 3]);
    assert.deepEqual(result.get('c')?.get('t'), [4]);
  });

  void test('per topic: only the subscribers of a topic share it', () => {
    const result = run(rangeAssignor, [member('a', ['t', 'u']), member('b', ['t'])], { t: 2, u: 3 });
    assert.deepEqual(result.get('a')?.get('u'), [0, 1, 2]);
    assert.deepEqual(result.get('a')?.get('t'), [0]);
    assert.deepEqual(result.get('b')?.get('t'), [1]);
  });

  void test('sticky: members keep their ranges up to the quota when a member joins', () => {
    const counts = { t: 6 };
    const first = run(rangeAssignor, [member('a', ['t']), member('b', ['t'])], counts);
    assert.deepEqual(first.get('a')?.get('t'), [0, 1, 2]);
    const second = run(
      rangeAssignor,
      [member('a', ['t'], first.get('a')), member('b', ['t'], first.get('b')), member('c', ['t'])],
      counts,
    );
    assert.deepEqual(second.get('a')?.get('t'), [0, 1]);
    assert.deepEqual(second.get('b')?.get('t'), [3, 4]);
    assert.deepEqual(second.get('c')?.get('t'), [2, 5]);
  });

  void test('more members than partitions: some members get nothing of that topic', () => {
    const result = run(rangeAssignor, [member('a', ['t']), member('b', ['t']), member('c', ['t'])], { t: 2 });
    assert.deepEqual(sizes(result), [0, 1, 1]);
  });
});
