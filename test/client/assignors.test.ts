/**
 * Client-side assignors: Kafka's documented examples for range and roundrobin, the encoding of
 * subscriptions and assignments (including what kafkajs sends), and properties of every
 * assignor over random groups — no overlap, no gap, subscriptions respected, balance — plus the
 * cooperative-sticky contract: owned partitions stay put up to the quota, and a partition is
 * never handed to a member while another still owns it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';

import type { PartitionAssignor } from '../../src/client/assignor-support.js';
import {
  assignorByName,
  rangeAssignor,
  rebalanceProtocolOf,
  roundRobinAssignor,
} from '../../src/client/assignors.js';
import {
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
  type MemberSubscription,
} from '../../src/client/consumer-protocol.js';
import { cooperativeStickyAssignor, stickyMemberGeneration } from '../../src/client/sticky-assignor.js';
import { keyOf, type TopicPartition } from '../../src/client/topic-partition.js';

function member(
  memberId: string,
  topics: string[],
  ownedPartitions: TopicPartition[] = [],
  generationId = -1,
  groupInstanceId: string | null = null,
): MemberSubscription {
  return { memberId, groupInstanceId, topics, userData: null, ownedPartitions, generationId, rackId: null };
}

function tps(spec: Record<string, number[]>): TopicPartition[] {
  return Object.entries(spec).flatMap(([topic, ps]) => ps.map((partition) => ({ topic, partition })));
}

function counts(spec: Record<string, number>): Map<string, number> {
  return new Map(Object.entries(spec));
}

function show(a: Map<string, TopicPartition[]>): Record<string, string[]> {
  return Object.fromEntries([...a].map(([m, l]) => [m, l.map(keyOf)]));
}

/** Every assignment: an entry per member, only subscribed and existing partitions, none twice. */
function checkValid(
  members: readonly MemberSubscription[],
  partitionsPerTopic: ReadonlyMap<string, number>,
  a: Map<string, TopicPartition[]>,
): Map<string, string> {
  const owner = new Map<string, string>();
  assert.equal(a.size, members.length, 'one entry per member');
  for (const m of members) {
    const list = a.get(m.memberId);
    assert.ok(list !== undefined, `member ${m.memberId} has an entry`);
    for (const tp of list) {
      assert.ok(m.topics.includes(tp.topic), `${m.memberId} gets only subscribed topics (got ${keyOf(tp)})`);
      const count = partitionsPerTopic.get(tp.topic);
      assert.ok(count !== undefined && tp.partition < count, `${keyOf(tp)} exists`);
      const other = owner.get(keyOf(tp));
      assert.ok(other === undefined, `${keyOf(tp)} assigned to both ${other} and ${m.memberId}`);
      owner.set(keyOf(tp), m.memberId);
    }
  }
  return owner;
}

/** No gap: every partition of a topic someone subscribes to is assigned. */
function checkComplete(
  members: readonly MemberSubscription[],
  partitionsPerTopic: ReadonlyMap<string, number>,
  owner: ReadonlyMap<string, string>,
): void {
  const subscribed = new Set(members.flatMap((m) => m.topics));
  for (const [topic, count] of partitionsPerTopic) {
    if (!subscribed.has(topic)) continue;
    for (let p = 0; p < count; p++) assert.ok(owner.has(`${topic}:${p}`), `${topic}:${p} is assigned`);
  }
}

/**
 * Kafka's balance check for sticky assignors: a member holding two or more partitions more
 * than another holds none the other could take.
 */
function checkBalanced(members: readonly MemberSubscription[], a: Map<string, TopicPartition[]>): void {
  for (const x of members) {
    for (const y of members) {
      const nx = a.get(x.memberId)!.length;
      const ny = a.get(y.memberId)!.length;
      if (nx - ny <= 1) continue;
      for (const tp of a.get(x.memberId)!) {
        assert.ok(
          !y.topics.includes(tp.topic),
          `${y.memberId} (${ny}) could take ${keyOf(tp)} from ${x.memberId} (${nx})`,
        );
      }
    }
  }
}

const groupArb = fc.record({
  partitionCounts: fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 4, maxLength: 4 }),
  subscriptions: fc.array(fc.subarray(['t0', 't1', 't2', 't3'], { minLength: 1 }), {
    minLength: 1,
    maxLength: 7,
  }),
  equalSubscriptions: fc.boolean(),
});

function randomGroup(g: {
  partitionCounts: number[];
  subscriptions: string[][];
  equalSubscriptions: boolean;
}): {
  partitionsPerTopic: Map<string, number>;
  members: MemberSubscription[];
} {
  const partitionsPerTopic = new Map(g.partitionCounts.map((n, i) => [`t${i}`, n]));
  const first = g.subscriptions[0]!;
  const members = g.subscriptions.map((topics, i) =>
    member(`m${(i * 7919) % 13}-${i}`, g.equalSubscriptions ? first : topics),
  );
  return { partitionsPerTopic, members };
}

void describe('ConsumerProtocol encoding', () => {
  void test('a subscription round-trips at every version with the fields that version has', () => {
    const s = {
      topics: ['b', 'a'],
      userData: Buffer.from([0, 0, 0, 7]),
      ownedPartitions: tps({ b: [2, 0], a: [1] }),
      generationId: 7,
      rackId: 'r1',
    };
    const v3 = decodeSubscription(encodeSubscription(s, 3));
    assert.ok(!(v3 instanceof Error), 'v3 decodes');
    assert.deepEqual(v3.topics, ['b', 'a']);
    assert.deepEqual(v3.ownedPartitions.map(keyOf), ['a:1', 'b:0', 'b:2']);
    assert.equal(v3.generationId, 7);
    assert.equal(v3.rackId, 'r1');
    const v1 = decodeSubscription(encodeSubscription(s, 1));
    assert.ok(!(v1 instanceof Error), 'v1 decodes');
    assert.equal(v1.ownedPartitions.length, 3);
    assert.equal(v1.generationId, -1, 'v1 has no generation');
    const v0 = decodeSubscription(encodeSubscription(s, 0));
    assert.ok(!(v0 instanceof Error), 'v0 decodes');
    assert.deepEqual(v0.ownedPartitions, [], 'v0 has no owned partitions');
    assert.deepEqual(v0.userData, s.userData);
  });

  void test("reads kafkajs's v0 metadata (empty userData) and a newer version's extra bytes", () => {
    // kafkajs MemberMetadata.encode: int16 version, string array, bytes.
    const kafkajs = Buffer.concat([
      Buffer.from([0, 0, 0, 0, 0, 1, 0, 5]),
      Buffer.from('topic'),
      Buffer.from([0, 0, 0, 0]),
    ]);
    const s = decodeSubscription(kafkajs);
    assert.ok(!(s instanceof Error), 'kafkajs metadata decodes');
    assert.deepEqual(s.topics, ['topic']);
    assert.equal(s.userData?.length, 0);

    const v3 = encodeSubscription({
      topics: ['t'],
      userData: null,
      ownedPartitions: [],
      generationId: 2,
      rackId: null,
    });
    const future = Buffer.concat([v3, Buffer.from([1, 2, 3])]);
    future.writeInt16BE(9, 0);
    const f = decodeSubscription(future);
    assert.ok(!(f instanceof Error), 'a future version is read as v3');
    assert.equal(f.generationId, 2);
  });

  void test('bad subscription bytes give an error, not a throw', () => {
    assert.ok(decodeSubscription(Buffer.from([0])) instanceof Error, 'too short for a version');
    assert.ok(decodeSubscription(Buffer.from([0xff, 0xff, 0, 0])) instanceof Error, 'negative version');
    assert.ok(decodeSubscription(Buffer.from([0, 1, 0, 0, 0, 9])) instanceof Error, 'truncated topics');
  });

  void test('an assignment round-trips; an empty buffer is an empty assignment', () => {
    const a = decodeAssignment(encodeAssignment({ partitions: tps({ y: [3, 1], x: [0] }), userData: null }));
    assert.ok(!(a instanceof Error), 'decodes');
    assert.deepEqual(a.partitions.map(keyOf), ['x:0', 'y:1', 'y:3']);
    assert.deepEqual(decodeAssignment(Buffer.alloc(0)), { partitions: [], userData: null });
    assert.ok(decodeAssignment(Buffer.from([0, 0, 0, 0, 0, 2])) instanceof Error, 'truncated');
  });

  void test('cooperative-sticky carries the generation in userData for v0/v1 readers', () => {
    const userData = cooperativeStickyAssignor.subscriptionUserData(12);
    assert.equal(stickyMemberGeneration({ ...member('a', ['t']), userData }), 12);
    assert.equal(stickyMemberGeneration({ ...member('a', ['t'], [], 14), userData }), 14, 'v2 field wins');
    assert.equal(stickyMemberGeneration(member('a', ['t'])), undefined, 'none known');
    assert.equal(stickyMemberGeneration({ ...member('a', ['t']), userData: Buffer.from([1]) }), -1);
  });
});

void describe('range assignor', () => {
  void test("Kafka's example: two members, two topics of three partitions", () => {
    const a = rangeAssignor.assign(counts({ t0: 3, t1: 3 }), [
      member('C1', ['t0', 't1']),
      member('C0', ['t0', 't1']),
    ]);
    assert.deepEqual(show(a), { C1: ['t0:2', 't1:2'], C0: ['t0:0', 't0:1', 't1:0', 't1:1'] });
  });

  void test('static members sort first, by group.instance.id', () => {
    const a = rangeAssignor.assign(counts({ t: 5 }), [
      member('a', ['t']),
      member('z', ['t'], [], -1, 'i1'),
      member('b', ['t'], [], -1, 'i0'),
    ]);
    assert.deepEqual(show(a), { a: ['t:4'], z: ['t:2', 't:3'], b: ['t:0', 't:1'] });
  });

  void test('topics without metadata and members without topics get nothing', () => {
    const a = rangeAssignor.assign(counts({ t: 2 }), [member('a', ['t', 'gone']), member('b', [])]);
    assert.deepEqual(show(a), { a: ['t:0', 't:1'], b: [] });
  });
});

void describe('roundrobin assignor', () => {
  void test("Kafka's example: two members, two topics of three partitions", () => {
    const a = roundRobinAssignor.assign(counts({ t0: 3, t1: 3 }), [
      member('C0', ['t0', 't1']),
      member('C1', ['t0', 't1']),
    ]);
    assert.deepEqual(show(a), { C0: ['t0:0', 't0:2', 't1:1'], C1: ['t0:1', 't1:0', 't1:2'] });
  });

  void test("Kafka's example with different subscriptions: members are skipped, not reordered", () => {
    // C0: t0; C1: t0, t1; C2: t0, t1, t2 — t0 has 1 partition, t1 2, t2 3.
    const a = roundRobinAssignor.assign(counts({ t0: 1, t1: 2, t2: 3 }), [
      member('C0', ['t0']),
      member('C1', ['t0', 't1']),
      member('C2', ['t0', 't1', 't2']),
    ]);
    assert.deepEqual(show(a), { C0: ['t0:0'], C1: ['t1:0'], C2: ['t1:1', 't2:0', 't2:1', 't2:2'] });
  });
});

void describe('every assignor over random groups', () => {
  for (const assignor of [rangeAssignor, roundRobinAssignor, cooperativeStickyAssignor]) {
    void test(`${assignor.name}: valid, complete, deterministic`, () => {
      fc.assert(
        fc.property(groupArb, (g) => {
          const { partitionsPerTopic, members } = randomGroup(g);
          let a = assignor.assign(partitionsPerTopic, members);
          const owner = checkValid(members, partitionsPerTopic, a);
          checkComplete(members, partitionsPerTopic, owner);
          assert.deepEqual(show(assignor.assign(partitionsPerTopic, [...members].reverse())), show(a));
          if (assignor === roundRobinAssignor && g.equalSubscriptions) {
            const sizes = [...a.values()].map((l) => l.length);
            assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `balanced: ${sizes.join(',')}`);
          }
          if (assignor === cooperativeStickyAssignor) {
            checkBalanced(members, a);
            // Nothing owned yet, so nothing is held back; the same answer again keeps everything.
            const again = members.map((m) => ({
              ...m,
              ownedPartitions: a.get(m.memberId)!,
              generationId: 1,
            }));
            a = assignor.assign(partitionsPerTopic, again);
            assert.deepEqual(show(a), show(assignor.assign(partitionsPerTopic, members)), 'stable');
          }
        }),
        { numRuns: 300, seed: 4242 },
      );
    });
  }
});

/**
 * Rebalances a cooperative group until nothing is held back: each round every member owns what
 * it was assigned last time (a cooperative member revokes only what it lost).
 */
function cooperativeRounds(
  partitionsPerTopic: ReadonlyMap<string, number>,
  start: MemberSubscription[],
  maxRounds = 4,
): { rounds: number; final: Map<string, TopicPartition[]>; members: MemberSubscription[] } {
  let members = start;
  let generation = Math.max(0, ...start.map((m) => m.generationId));
  for (let round = 1; round <= maxRounds; round++) {
    const a = cooperativeStickyAssignor.assign(partitionsPerTopic, members);
    const owner = checkValid(members, partitionsPerTopic, a);
    // The cooperative rule: a partition goes to a new member only once no one else owns it.
    for (const m of members) {
      for (const tp of a.get(m.memberId)!) {
        const ownedElsewhere = members.find(
          (o) => o.memberId !== m.memberId && o.ownedPartitions.some((x) => keyOf(x) === keyOf(tp)),
        );
        assert.ok(
          ownedElsewhere === undefined,
          `${keyOf(tp)} given to ${m.memberId} while ${ownedElsewhere?.memberId} owns it`,
        );
      }
    }
    generation++;
    const subscribed = new Set(members.flatMap((m) => m.topics));
    let assignedCount = 0;
    for (const [topic, n] of partitionsPerTopic) if (subscribed.has(topic)) assignedCount += n;
    const next = members.map((m) => ({
      ...m,
      ownedPartitions: a.get(m.memberId)!,
      generationId: generation,
    }));
    if (owner.size === assignedCount) return { rounds: round, final: a, members: next };
    members = next;
  }
  throw new Error(`no complete assignment after ${maxRounds} rebalances`);
}

void describe('cooperative-sticky', () => {
  void test('a joining member takes partitions in two rebalances; the others keep theirs', () => {
    const ppt = counts({ t: 6 });
    const first = cooperativeRounds(ppt, [member('a', ['t']), member('b', ['t'])]);
    assert.equal(first.rounds, 1);
    const joined = [...first.members, member('c', ['t'])];
    const step = cooperativeStickyAssignor.assign(ppt, joined);
    assert.deepEqual(step.get('c'), [], 'c waits while a and b revoke');
    const after = cooperativeRounds(ppt, joined);
    assert.equal(after.rounds, 2, 'revoke, then assign');
    for (const m of ['a', 'b']) {
      const before = new Set(first.final.get(m)!.map(keyOf));
      const kept = after.final.get(m)!.filter((tp) => before.has(keyOf(tp)));
      assert.equal(kept.length, 2, `${m} keeps two of its three partitions`);
    }
    assert.equal(after.final.get('c')!.length, 2);
  });

  void test('a leaving member: its partitions move in one rebalance, nothing else moves', () => {
    const ppt = counts({ t: 7, u: 2 });
    const three = cooperativeRounds(
      ppt,
      ['a', 'b', 'c'].map((id) => member(id, ['t', 'u'])),
    );
    const remaining = three.members.filter((m) => m.memberId !== 'b');
    const after = cooperativeRounds(ppt, remaining);
    assert.equal(after.rounds, 1, 'no owner to revoke from');
    for (const m of remaining) {
      const now = new Set(after.final.get(m.memberId)!.map(keyOf));
      for (const tp of m.ownedPartitions) assert.ok(now.has(keyOf(tp)), `${m.memberId} keeps ${keyOf(tp)}`);
    }
  });

  void test('claims from an older generation lose to a newer one; equal claims cancel', () => {
    const ppt = counts({ t: 2 });
    const a = cooperativeStickyAssignor.assign(ppt, [
      member('a', ['t'], tps({ t: [0] }), 3),
      member('b', ['t'], tps({ t: [0, 1] }), 5),
    ]);
    // b's newer claim to t:0 wins over a's; b keeps its quota (t:0) and revokes t:1, which a
    // gets only in the next rebalance.
    assert.deepEqual(show(a), { a: [], b: ['t:0'] });
    const tie = cooperativeStickyAssignor.assign(ppt, [
      member('a', ['t'], tps({ t: [0] }), 5),
      member('b', ['t'], tps({ t: [0] }), 5),
    ]);
    const all = [...tie.values()].flat().map(keyOf);
    assert.ok(!all.includes('t:0'), 't:0 claimed twice in one generation is held back');
  });

  void test('random groups: two or fewer rebalances reach a balanced, complete assignment; owned partitions kept up to quota', () => {
    fc.assert(
      fc.property(
        groupArb,
        fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }),
        fc.integer({ min: 0, max: 2 }),
        (g, leaves, joins) => {
          const { partitionsPerTopic, members } = randomGroup(g);
          const settled = cooperativeRounds(partitionsPerTopic, members);
          // Membership changes: some leave (keeping at least one), `joins` new members arrive.
          let changed = settled.members.filter((_, i) => !leaves[i]);
          if (changed.length === 0) changed = [settled.members[0]!];
          const newTopics = g.equalSubscriptions ? members[0]!.topics : ['t0', 't1'];
          for (let j = 0; j < joins; j++) changed.push(member(`new${j}`, newTopics));
          const after = cooperativeRounds(partitionsPerTopic, changed);
          assert.ok(after.rounds <= 2, `settled in ${after.rounds} rebalances`);
          checkBalanced(after.members, after.final);
          const owner = checkValid(after.members, partitionsPerTopic, after.final);
          checkComplete(after.members, partitionsPerTopic, owner);
          if (g.equalSubscriptions) {
            // Constrained case: every member keeps min(owned, quota) of what it owned.
            let total = 0;
            for (const t of members[0]!.topics) total += partitionsPerTopic.get(t) ?? 0;
            const minQuota = Math.floor(total / changed.length);
            for (const m of changed) {
              const now = new Set(after.final.get(m.memberId)!.map(keyOf));
              const kept = m.ownedPartitions.filter((tp) => now.has(keyOf(tp))).length;
              assert.ok(
                kept >= Math.min(m.ownedPartitions.length, minQuota),
                `${m.memberId} kept ${kept} of ${m.ownedPartitions.length} (minQuota ${minQuota})`,
              );
            }
          }
        },
      ),
      { numRuns: 250, seed: 429 },
    );
  });
});

void describe('assignor registry', () => {
  void test('names and rebalance protocols as Kafka', () => {
    const byName = (n: 'range' | 'roundrobin' | 'cooperative-sticky'): PartitionAssignor => assignorByName(n);
    assert.equal(rebalanceProtocolOf([byName('range'), byName('cooperative-sticky')]), 'eager');
    assert.equal(rebalanceProtocolOf([byName('cooperative-sticky')]), 'cooperative');
    assert.equal(rebalanceProtocolOf([byName('roundrobin')]), 'eager');
  });
});
