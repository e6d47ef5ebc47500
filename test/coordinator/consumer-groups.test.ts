import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  type ConsumerGroupsConfig,
  ConsumerGroups,
  DEFAULT_CONSUMER_GROUPS_CONFIG,
  MemberState,
  partitionsToEntries,
} from '../../src/coordinator/consumer/index.js';
import {
  type CoordinatorRecord,
  decodeCoordinatorRecord,
  encodeCoordinatorRecord,
} from '../../src/coordinator/records.js';
import type { TopicInfo, TopicsView } from '../../src/coordinator/topics.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import type { ConsumerGroupHeartbeatRequest } from '../../src/protocol/generated/message/ConsumerGroupHeartbeatRequest.js';
import type { ConsumerGroupHeartbeatResponse } from '../../src/protocol/generated/message/ConsumerGroupHeartbeatResponse.js';
import { ManualClock } from '../../src/runtime/clock.js';
import type { Random } from '../../src/runtime/random.js';

const GROUP = 'g';
const CLIENT = { clientId: 'client', clientHost: '/127.0.0.1' };

/** A topic id derived from the name: valid base64url uuids, stable across runs. */
function topicIdOf(name: string): string {
  return createHash('sha256').update(name).digest().subarray(0, 16).toString('base64url');
}

class FakeTopics implements TopicsView {
  private readonly topics = new Map<string, TopicInfo>();

  set(name: string, numPartitions: number): TopicInfo {
    const t = { name, topicId: topicIdOf(name), numPartitions };
    this.topics.set(name, t);
    return t;
  }

  delete(name: string): void {
    this.topics.delete(name);
  }

  byName(name: string): TopicInfo | undefined {
    return this.topics.get(name);
  }

  byId(topicId: string): TopicInfo | undefined {
    return [...this.topics.values()].find((t) => t.topicId === topicId);
  }

  all(): Iterable<TopicInfo> {
    return this.topics.values();
  }
}

function seededRandom(seed: number): Random {
  let s = seed >>> 0;
  return {
    bytes(n) {
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        b[i] = s >>> 24;
      }
      return b;
    },
  };
}

/** The coordinator shard as the lead's host will drive it: replay every record, then "write" it. */
class Shard {
  readonly clock = new ManualClock();
  readonly topics = new FakeTopics();
  /** Every record applied, in order: what the log would hold. */
  readonly log: CoordinatorRecord[] = [];
  readonly groups: ConsumerGroups;

  constructor(config: Partial<ConsumerGroupsConfig> = {}) {
    this.groups = new ConsumerGroups(
      {
        clock: this.clock,
        topics: () => this.topics,
        emit: (records) => this.apply(records),
        random: seededRandom(7),
      },
      { ...DEFAULT_CONSUMER_GROUPS_CONFIG, ...config },
    );
  }

  /** Replays records through their wire encoding, as a load from the log would. */
  apply(records: CoordinatorRecord[]): void {
    for (const r of records) {
      const { key, value } = encodeCoordinatorRecord(r);
      const decoded = decodeCoordinatorRecord(key, value);
      assert.ok(
        decoded !== null && typeof decoded !== 'string',
        `record ${r.type} decodes: ${JSON.stringify(decoded)}`,
      );
      this.groups.replay(decoded);
      this.log.push(decoded);
    }
  }

  heartbeat(req: Partial<ConsumerGroupHeartbeatRequest>, apiVersion = 1): ConsumerGroupHeartbeatResponse {
    const full: ConsumerGroupHeartbeatRequest = {
      groupId: GROUP,
      memberId: '',
      memberEpoch: 0,
      instanceId: null,
      rackId: null,
      rebalanceTimeoutMs: -1,
      subscribedTopicNames: null,
      subscribedTopicRegex: null,
      serverAssignor: null,
      topicPartitions: null,
      ...req,
    };
    const { records, response } = this.groups.heartbeat(full, apiVersion, CLIENT);
    if (response.errorCode !== ErrorCode.NONE) assert.equal(records.length, 0, 'an error writes no records');
    this.apply(records);
    return response;
  }

  /** The server-side invariant: no partition is held (assigned or pending revocation) by two members. */
  checkServerOwnership(): void {
    for (const { groupId } of this.groups.list()) {
      const seen = new Map<string, string>();
      for (const m of this.groups.group(groupId)?.members.values() ?? []) {
        for (const tp of [m.assignedPartitions, m.partitionsPendingRevocation]) {
          for (const [t, ps] of tp) {
            for (const p of ps) {
              const key = `${t}-${p}`;
              assert.ok(!seen.has(key), `${key} held by ${seen.get(key)} and ${m.memberId}`);
              seen.set(key, m.memberId);
            }
          }
        }
      }
    }
  }
}

let clientSeq = 0;

/** A consumer as a KIP-848 client behaves: revokes at once, reports owned partitions when they change. */
class Consumer {
  memberId: string;
  epoch = 0;
  owned: ConsumerGroupHeartbeatRequest.TopicPartitions[] = [];
  private lastSentOwned: string | undefined;
  last: ConsumerGroupHeartbeatResponse | undefined;

  constructor(
    private readonly shard: Shard,
    readonly topics: string[],
    readonly options: {
      instanceId?: string;
      assignor?: string;
      regex?: string;
      rebalanceTimeoutMs?: number;
    } = {},
  ) {
    this.memberId = topicIdOf(`member-${clientSeq++}`);
  }

  heartbeat(overrides: Partial<ConsumerGroupHeartbeatRequest> = {}): ConsumerGroupHeartbeatResponse {
    const joining = this.epoch === 0;
    const ownedKey = JSON.stringify(this.owned);
    const sendOwned = joining || ownedKey !== this.lastSentOwned;
    const resp = this.shard.heartbeat({
      memberId: this.memberId,
      memberEpoch: this.epoch,
      instanceId: this.options.instanceId ?? null,
      rebalanceTimeoutMs: joining ? (this.options.rebalanceTimeoutMs ?? 60_000) : -1,
      subscribedTopicNames: joining ? this.topics : null,
      subscribedTopicRegex: joining ? (this.options.regex ?? null) : null,
      serverAssignor: joining ? (this.options.assignor ?? null) : null,
      topicPartitions: joining ? [] : sendOwned ? this.owned : null,
      ...overrides,
    });
    this.last = resp;
    if (resp.errorCode === ErrorCode.UNKNOWN_MEMBER_ID || resp.errorCode === ErrorCode.FENCED_MEMBER_EPOCH) {
      // Fenced: the client gives up its partitions and rejoins with epoch 0.
      this.owned = [];
      this.epoch = 0;
      this.lastSentOwned = undefined;
    }
    if (resp.errorCode !== ErrorCode.NONE) return resp;
    if (sendOwned) this.lastSentOwned = ownedKey;
    this.epoch = resp.memberEpoch;
    if (resp.assignment !== null) this.owned = resp.assignment.topicPartitions.map((e) => ({ ...e }));
    return resp;
  }

  ownedCount(): number {
    return this.owned.reduce((n, e) => n + e.partitions.length, 0);
  }

  leave(): ConsumerGroupHeartbeatResponse {
    const resp = this.shard.heartbeat({
      memberId: this.memberId,
      memberEpoch: this.options.instanceId !== undefined ? -2 : -1,
      instanceId: this.options.instanceId ?? null,
    });
    this.owned = [];
    this.epoch = 0;
    return resp;
  }
}

/** The client-side invariant: no partition owned by two consumers at the same time. */
function checkClientOwnership(consumers: Consumer[]): void {
  const seen = new Map<string, string>();
  for (const c of consumers) {
    for (const e of c.owned) {
      for (const p of e.partitions) {
        const key = `${e.topicId}-${p}`;
        assert.ok(!seen.has(key), `${key} owned by ${seen.get(key)} and ${c.memberId}`);
        seen.set(key, c.memberId);
      }
    }
  }
}

/** Heartbeats every consumer in turn (checking both invariants after each) until they are all reconciled. */
function settle(shard: Shard, consumers: Consumer[], roundsMax = 10): void {
  for (let round = 0; round < roundsMax; round++) {
    for (const c of consumers) {
      const resp = c.heartbeat();
      assert.equal(resp.errorCode, ErrorCode.NONE, `heartbeat of ${c.memberId}: ${resp.errorMessage}`);
      checkClientOwnership(consumers);
      shard.checkServerOwnership();
    }
    const g = shard.groups.group(GROUP);
    const reconciled = (c: Consumer): boolean => {
      const m = g?.members.get(c.memberId);
      return m?.state === MemberState.STABLE && m.memberEpoch === g?.groupEpoch && c.epoch === g.groupEpoch;
    };
    if (g !== undefined && g.assignmentEpoch === g.groupEpoch && consumers.every(reconciled)) return;
  }
  assert.fail(`group did not settle: ${shard.groups.group(GROUP)?.state()}`);
}

function stateOf(shard: Shard): string | undefined {
  return shard.groups.list().find((g) => g.groupId === GROUP)?.state;
}

/** Everything replay builds, in a comparable form. */
function snapshot(groups: ConsumerGroups): unknown {
  return groups
    .list()
    .map(({ groupId }) => {
      const g = groups.group(groupId);
      assert.ok(g !== undefined, `group ${groupId} exists`);
      return {
        groupId,
        state: g.state(),
        groupEpoch: g.groupEpoch,
        assignmentEpoch: g.assignmentEpoch,
        subscriptionMetadata: [...g.subscriptionMetadata.values()],
        staticMembers: [...g.staticMembers].sort(),
        target: [...g.targetAssignment].map(([id, tp]) => [id, partitionsToEntries(tp)]).sort(),
        members: [...g.members.values()]
          .map((m) => ({
            ...m,
            assignedPartitions: partitionsToEntries(m.assignedPartitions),
            partitionsPendingRevocation: partitionsToEntries(m.partitionsPendingRevocation),
          }))
          .sort((a, b) => (a.memberId < b.memberId ? -1 : 1)),
      };
    })
    .sort((a, b) => (a.groupId < b.groupId ? -1 : 1));
}

void describe('ConsumerGroups: joining and rebalancing', () => {
  void test('a single member joins and gets every partition at epoch 1', () => {
    const shard = new Shard();
    const t = shard.topics.set('t', 3);
    const c = new Consumer(shard, ['t']);
    const resp = c.heartbeat();
    assert.equal(resp.errorCode, ErrorCode.NONE);
    assert.equal(resp.memberId, c.memberId);
    assert.equal(resp.memberEpoch, 1);
    assert.equal(resp.heartbeatIntervalMs, 5000);
    assert.deepEqual(resp.assignment?.topicPartitions, [{ topicId: t.topicId, partitions: [0, 1, 2] }]);
    assert.equal(stateOf(shard), 'Stable');
    assert.deepEqual(
      shard.log.map((r) => r.type),
      [
        'consumerGroupMemberMetadata',
        'consumerGroupPartitionMetadata',
        'consumerGroupMetadata',
        'consumerGroupTargetAssignmentMember',
        'consumerGroupTargetAssignmentMetadata',
        'consumerGroupCurrentMemberAssignment',
      ],
    );
    // A plain heartbeat afterwards changes nothing and carries no assignment.
    const before = shard.log.length;
    const again = c.heartbeat();
    assert.equal(again.memberEpoch, 1);
    assert.equal(again.assignment, null);
    assert.equal(shard.log.length, before, 'no records for a steady heartbeat');
  });

  void test('a second member: revocation first, assignment after release, never an overlap', () => {
    const shard = new Shard();
    shard.topics.set('t', 6);
    const a = new Consumer(shard, ['t']);
    a.heartbeat();
    assert.equal(a.ownedCount(), 6);

    const b = new Consumer(shard, ['t']);
    const joined = b.heartbeat();
    assert.equal(joined.memberEpoch, 2, 'the joiner is at the new epoch');
    assert.deepEqual(joined.assignment?.topicPartitions, [], 'but gets nothing still owned by a');
    assert.equal(
      shard.groups.group(GROUP)?.members.get(b.memberId)?.state,
      MemberState.UNRELEASED_PARTITIONS,
    );
    assert.equal(stateOf(shard), 'Reconciling');

    const revoke = a.heartbeat();
    assert.equal(revoke.memberEpoch, 1, 'a stays at its epoch while revoking');
    assert.equal(a.ownedCount(), 3);
    assert.equal(shard.groups.group(GROUP)?.members.get(a.memberId)?.state, MemberState.UNREVOKED_PARTITIONS);

    const early = b.heartbeat();
    assert.equal(early.assignment, null, 'b still waits: a has not acknowledged the revocation');

    const acked = a.heartbeat();
    assert.equal(acked.memberEpoch, 2);
    assert.equal(acked.assignment, null, 'unchanged assignment is not resent');

    const got = b.heartbeat();
    assert.equal(got.assignment?.topicPartitions[0]?.partitions.length, 3);
    checkClientOwnership([a, b]);
    assert.equal(stateOf(shard), 'Stable');
  });

  void test('many members joining and leaving keep the no-overlap invariant', () => {
    const shard = new Shard();
    shard.topics.set('t', 7);
    shard.topics.set('u', 5);
    const consumers: Consumer[] = [];
    for (let i = 0; i < 4; i++) {
      consumers.push(new Consumer(shard, ['t', 'u']));
      settle(shard, consumers);
    }
    const counts = consumers.map((c) => c.ownedCount()).sort();
    assert.deepEqual(counts, [3, 3, 3, 3]);
    const leaving = consumers.splice(1, 2);
    for (const c of leaving) assert.equal(c.leave().errorCode, ErrorCode.NONE);
    settle(shard, consumers);
    assert.deepEqual(consumers.map((c) => c.ownedCount()).sort(), [6, 6]);
  });

  void test('a member changing its subscription triggers a new assignment', () => {
    const shard = new Shard();
    const t = shard.topics.set('t', 2);
    const u = shard.topics.set('u', 2);
    const a = new Consumer(shard, ['t']);
    const b = new Consumer(shard, ['t']);
    settle(shard, [a, b]);
    const epoch = shard.groups.group(GROUP)?.groupEpoch ?? 0;
    const resp = a.heartbeat({ subscribedTopicNames: ['t', 'u'] });
    assert.equal(resp.errorCode, ErrorCode.NONE);
    assert.equal(shard.groups.group(GROUP)?.groupEpoch, epoch + 1);
    settle(shard, [a, b]);
    assert.equal(a.ownedCount() + b.ownedCount(), 4);
    assert.ok(
      a.owned.some((e) => e.topicId === u.topicId),
      'a reads u',
    );
    assert.ok(
      b.owned.every((e) => e.topicId === t.topicId),
      'b reads only t',
    );
  });

  void test('a member in a state this version does not know must rejoin without partitions', () => {
    const shard = new Shard();
    const t = shard.topics.set('t', 2);
    const a = new Consumer(shard, ['t']);
    settle(shard, [a]);
    const m = shard.groups.group(GROUP)?.members.get(a.memberId);
    assert.ok(m !== undefined, 'a is a member');
    shard.apply([
      {
        type: 'consumerGroupCurrentMemberAssignment',
        key: { groupId: GROUP, memberId: a.memberId },
        value: {
          memberEpoch: m.memberEpoch,
          previousMemberEpoch: m.previousMemberEpoch,
          state: 9,
          assignedPartitions: [{ topicId: t.topicId, partitions: [0, 1] }],
          partitionsPendingRevocation: [],
        },
      },
    ]);
    assert.equal(shard.groups.group(GROUP)?.members.get(a.memberId)?.state, MemberState.UNKNOWN);
    assert.equal(a.heartbeat({ topicPartitions: a.owned }).errorCode, ErrorCode.FENCED_MEMBER_EPOCH);
    settle(shard, [a]);
    assert.equal(a.ownedCount(), 2);
  });

  void test('the range assignor when members ask for it', () => {
    const shard = new Shard();
    const t = shard.topics.set('t', 4);
    const u = shard.topics.set('u', 4);
    const consumers = [
      new Consumer(shard, ['t', 'u'], { assignor: 'range' }),
      new Consumer(shard, ['t', 'u'], { assignor: 'range' }),
    ];
    settle(shard, consumers);
    for (const c of consumers) {
      const byTopic = new Map(c.owned.map((e) => [e.topicId, e.partitions]));
      assert.deepEqual(byTopic.get(t.topicId), byTopic.get(u.topicId), 'co-partitioned');
    }
    assert.equal(shard.groups.describe([GROUP], false)[0]?.assignorName, 'range');
  });

  void test('a regex subscription follows the topics it matches', () => {
    const shard = new Shard();
    shard.topics.set('orders-eu', 2);
    shard.topics.set('orders-us', 2);
    shard.topics.set('payments', 2);
    const c = new Consumer(shard, [], { regex: 'orders-.*' });
    settle(shard, [c]);
    assert.equal(c.ownedCount(), 4);
    shard.topics.set('orders-asia', 1);
    shard.apply(shard.groups.onTopicsChanged());
    settle(shard, [c]);
    assert.equal(c.ownedCount(), 5);
    const bad = new Consumer(shard, [], { regex: '(' }).heartbeat();
    assert.equal(bad.errorCode, ErrorCode.INVALID_REGULAR_EXPRESSION);
  });

  void test('topic changes bump the epoch of the subscribed groups only', () => {
    const shard = new Shard();
    shard.topics.set('t', 2);
    const c = new Consumer(shard, ['t', 'later']);
    settle(shard, [c]);
    assert.deepEqual(shard.groups.onTopicsChanged(), [], 'nothing changed');
    shard.topics.set('other', 3);
    assert.deepEqual(shard.groups.onTopicsChanged(), [], 'a topic nobody subscribes to');
    shard.topics.set('later', 3);
    shard.topics.set('t', 4);
    const records = shard.groups.onTopicsChanged();
    assert.deepEqual(
      records.map((r) => r.type),
      ['consumerGroupPartitionMetadata', 'consumerGroupMetadata'],
    );
    shard.apply(records);
    assert.equal(stateOf(shard), 'Assigning');
    settle(shard, [c]);
    assert.equal(c.ownedCount(), 7);
    shard.topics.delete('later');
    shard.apply(shard.groups.onTopicsChanged());
    settle(shard, [c]);
    assert.equal(c.ownedCount(), 4);
  });
});

/** A small deterministic PRNG for the simulation. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

void describe('ConsumerGroups: simulation', () => {
  void test('random joins, leaves, pauses, timeouts and topic changes keep every invariant; replay matches', () => {
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const rng = mulberry32(seed);
      const pick = <T>(xs: readonly T[]): T | undefined => xs[Math.floor(rng() * xs.length)];
      const shard = new Shard({ sessionTimeoutMs: 10_000 });
      const topicSizes = new Map([
        ['t0', 3],
        ['t1', 5],
        ['t2', 2],
      ]);
      for (const [name, n] of topicSizes) shard.topics.set(name, n);
      const consumers: Consumer[] = [];
      const paused = new Set<Consumer>();
      const departedInstances: string[] = [];
      let instanceSeq = 0;
      const live = (): Consumer[] =>
        consumers.filter((c) => shard.groups.group(GROUP)?.members.has(c.memberId));

      for (let step = 0; step < 400; step++) {
        const r = rng();
        if (r < 0.08 && consumers.length < 6) {
          const topics = [...topicSizes.keys()].filter(() => rng() < 0.6);
          const staticMember = rng() < 0.4;
          const instanceId = staticMember ? (departedInstances.pop() ?? `inst-${instanceSeq++}`) : undefined;
          consumers.push(
            new Consumer(shard, topics.length > 0 ? topics : ['t0'], {
              ...(instanceId !== undefined ? { instanceId } : {}),
              ...(rng() < 0.3 ? { assignor: 'range' } : {}),
              rebalanceTimeoutMs: rng() < 0.5 ? 5_000 : 60_000,
            }),
          );
        } else if (r < 0.12 && consumers.length > 0) {
          const c = pick(consumers);
          if (c !== undefined && c.epoch > 0) {
            const wasMember = shard.groups.group(GROUP)?.members.has(c.memberId) ?? false;
            const resp = c.leave();
            // A member whose session already expired is unknown: a real client would not notice either.
            assert.equal(
              resp.errorCode,
              wasMember ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID,
              `leave: ${resp.errorMessage}`,
            );
            if (wasMember && c.options.instanceId !== undefined) departedInstances.push(c.options.instanceId);
            consumers.splice(consumers.indexOf(c), 1);
            paused.delete(c);
          }
        } else if (r < 0.16 && consumers.length > 0) {
          const c = pick(consumers);
          if (c !== undefined) {
            if (paused.has(c)) paused.delete(c);
            else paused.add(c);
          }
        } else if (r < 0.22) {
          shard.clock.advance(Math.floor(rng() * 3_000));
        } else if (r < 0.24) {
          const name = pick([...topicSizes.keys()]) ?? 't0';
          const n = (topicSizes.get(name) ?? 1) + 1;
          topicSizes.set(name, n);
          shard.topics.set(name, n);
          shard.apply(shard.groups.onTopicsChanged());
        } else {
          const c = pick(consumers.filter((x) => !paused.has(x)));
          if (c !== undefined) {
            const resp = c.heartbeat();
            assert.ok(
              resp.errorCode === ErrorCode.NONE || resp.errorCode === ErrorCode.UNKNOWN_MEMBER_ID,
              `seed ${seed} step ${step}: heartbeat error ${resp.errorCode} ${resp.errorMessage}`,
            );
          }
        }
        shard.checkServerOwnership();
        checkClientOwnership(live());
      }

      // Wake everyone, let departed static members expire, then converge.
      paused.clear();
      for (let i = 0; i < 6; i++) {
        shard.clock.advance(3_000);
        for (const c of consumers) c.heartbeat();
      }
      settle(shard, consumers, 20);
      const total = [...topicSizes.values()].reduce((a, b) => a + b, 0);
      const subscribed = new Set(consumers.flatMap((c) => c.topics));
      const expected = [...topicSizes].filter(([t]) => subscribed.has(t)).reduce((a, [, n]) => a + n, 0);
      const owned = consumers.reduce((n, c) => n + c.ownedCount(), 0);
      assert.ok(
        owned === expected && owned <= total,
        `seed ${seed}: ${owned} of ${expected} subscribed partitions owned`,
      );

      const fresh = new ConsumerGroups(
        {
          clock: new ManualClock(),
          topics: () => shard.topics,
          emit: () => assert.fail('no timers during replay'),
        },
        DEFAULT_CONSUMER_GROUPS_CONFIG,
      );
      for (const rec of shard.log) fresh.replay(rec);
      assert.deepEqual(snapshot(fresh), snapshot(shard.groups), `seed ${seed}: replay equals live`);
      shard.groups.close();
    }
  });
});

void describe('ConsumerGroups: leaving, timeouts and fencing', () => {
  void test('a member leaving writes its tombstones and bumps the group epoch', () => {
    const shard = new Shard();
    shard.topics.set('t', 4);
    const a = new Consumer(shard, ['t']);
    const b = new Consumer(shard, ['t']);
    settle(shard, [a, b]);
    const epoch = shard.groups.group(GROUP)?.groupEpoch ?? 0;
    const from = shard.log.length;
    const resp = b.leave();
    assert.equal(resp.errorCode, ErrorCode.NONE);
    assert.equal(resp.memberEpoch, -1);
    const written = shard.log.slice(from);
    assert.deepEqual(
      written.map((r) => `${r.type}${r.value === null ? ' tombstone' : ''}`),
      [
        'consumerGroupCurrentMemberAssignment tombstone',
        'consumerGroupTargetAssignmentMember tombstone',
        'consumerGroupMemberMetadata tombstone',
        'consumerGroupMetadata',
      ],
    );
    assert.equal(shard.groups.group(GROUP)?.groupEpoch, epoch + 1);
    settle(shard, [a]);
    assert.equal(a.ownedCount(), 4);
    assert.equal(b.heartbeat({ memberEpoch: 3 }).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  });

  void test('the last member leaving empties the group; DeleteGroups then removes it', () => {
    const shard = new Shard();
    shard.topics.set('t', 1);
    const a = new Consumer(shard, ['t']);
    settle(shard, [a]);
    assert.equal(shard.groups.deleteGroup(GROUP), ErrorCode.NON_EMPTY_GROUP);
    a.leave();
    assert.equal(stateOf(shard), 'Empty');
    const records = shard.groups.deleteGroup(GROUP);
    assert.ok(Array.isArray(records), 'an empty group can be deleted');
    assert.ok(
      records.every((r) => r.value === null),
      'only tombstones',
    );
    shard.apply(records);
    assert.equal(shard.groups.has(GROUP), false);
    assert.equal(shard.groups.deleteGroup(GROUP), ErrorCode.GROUP_ID_NOT_FOUND);
  });

  void test('a member that stops heartbeating is removed after the session timeout', () => {
    const shard = new Shard({ sessionTimeoutMs: 45_000 });
    shard.topics.set('t', 4);
    const a = new Consumer(shard, ['t']);
    const b = new Consumer(shard, ['t']);
    settle(shard, [a, b]);
    for (let ms = 0; ms < 44_000; ms += 4_000) {
      shard.clock.advance(4_000);
      a.heartbeat();
    }
    assert.equal(shard.groups.group(GROUP)?.members.size, 2, 'not yet expired');
    for (let i = 0; i < 2; i++) {
      shard.clock.advance(4_000);
      a.heartbeat();
    }
    assert.equal(shard.groups.group(GROUP)?.members.has(b.memberId), false, 'b expired');
    settle(shard, [a]);
    assert.equal(a.ownedCount(), 4);
    assert.equal(b.heartbeat().errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  });

  void test('a member that does not revoke within the rebalance timeout is fenced', () => {
    const shard = new Shard();
    shard.topics.set('t', 4);
    const a = new Consumer(shard, ['t'], { rebalanceTimeoutMs: 10_000 });
    settle(shard, [a]);
    const b = new Consumer(shard, ['t']);
    b.heartbeat();
    // a keeps heartbeating (so its session stays alive) but keeps reporting every partition.
    const everything = a.owned.map((e) => ({ ...e }));
    a.heartbeat({ topicPartitions: everything });
    assert.equal(shard.groups.group(GROUP)?.members.get(a.memberId)?.state, MemberState.UNREVOKED_PARTITIONS);
    for (let i = 0; i < 2; i++) {
      shard.clock.advance(4_000);
      a.heartbeat({ topicPartitions: everything });
      b.heartbeat();
    }
    assert.ok(shard.groups.group(GROUP)?.members.has(a.memberId), 'still within the rebalance timeout');
    shard.clock.advance(4_000);
    assert.equal(shard.groups.group(GROUP)?.members.has(a.memberId), false, 'a fenced');
    assert.equal(a.heartbeat({ topicPartitions: everything }).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    settle(shard, [b]);
    assert.equal(b.ownedCount(), 4);
  });

  void test('a revocation acknowledged in time cancels the rebalance timeout', () => {
    const shard = new Shard();
    shard.topics.set('t', 4);
    const a = new Consumer(shard, ['t'], { rebalanceTimeoutMs: 10_000 });
    settle(shard, [a]);
    const b = new Consumer(shard, ['t']);
    settle(shard, [a, b]);
    shard.clock.advance(11_000);
    a.heartbeat();
    assert.ok(shard.groups.group(GROUP)?.members.has(a.memberId), 'a still a member');
  });

  void test('member epochs are checked', () => {
    const shard = new Shard();
    shard.topics.set('t', 4);
    const a = new Consumer(shard, ['t']);
    const b = new Consumer(shard, ['t']);
    settle(shard, [a, b]);
    const c = new Consumer(shard, ['t']);
    settle(shard, [a, b, c]);
    assert.equal(a.epoch, 3);
    const epoch = a.epoch;
    assert.equal(a.heartbeat({ memberEpoch: epoch + 1 }).errorCode, ErrorCode.FENCED_MEMBER_EPOCH);
    assert.equal(
      a.heartbeat({ memberEpoch: epoch - 2, topicPartitions: [] }).errorCode,
      ErrorCode.FENCED_MEMBER_EPOCH,
    );
    const m = shard.groups.group(GROUP)?.members.get(a.memberId);
    assert.ok(m !== undefined, 'a is a member');
    // The previous epoch is accepted when the member owns no more than its assignment (a lost response).
    const previous = a.heartbeat({ memberEpoch: m.previousMemberEpoch, topicPartitions: a.owned });
    assert.equal(previous.errorCode, ErrorCode.NONE);
    assert.equal(previous.memberEpoch, epoch);
    // A fenced member rejoins with epoch 0 under its member id.
    const rejoin = a.heartbeat({
      memberEpoch: 0,
      rebalanceTimeoutMs: 60_000,
      subscribedTopicNames: ['t'],
      topicPartitions: [],
    });
    assert.equal(rejoin.errorCode, ErrorCode.NONE);
    assert.equal(rejoin.memberEpoch, epoch);
    assert.ok(rejoin.assignment !== null, 'a join gets its full assignment');
    assert.equal(
      new Consumer(shard, ['t']).heartbeat({ memberEpoch: 5 }).errorCode,
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
    assert.equal(
      shard.heartbeat({ groupId: 'nope', memberId: 'm', memberEpoch: 3 }).errorCode,
      ErrorCode.GROUP_ID_NOT_FOUND,
    );
    assert.equal(
      shard.heartbeat({ groupId: 'nope', memberId: 'm', memberEpoch: -1 }).errorCode,
      ErrorCode.GROUP_ID_NOT_FOUND,
    );
  });

  void test('offset commit validation: member, epoch and empty-group commits', () => {
    const shard = new Shard();
    shard.topics.set('t', 1);
    const a = new Consumer(shard, ['t']);
    settle(shard, [a]);
    assert.equal(shard.groups.validateOffsetCommit(GROUP, a.memberId, a.epoch), ErrorCode.NONE);
    assert.equal(
      shard.groups.validateOffsetCommit(GROUP, a.memberId, a.epoch - 1),
      ErrorCode.STALE_MEMBER_EPOCH,
    );
    assert.equal(shard.groups.validateOffsetCommit(GROUP, 'who', a.epoch), ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal(
      shard.groups.validateOffsetCommit(GROUP, '', -1),
      ErrorCode.UNKNOWN_MEMBER_ID,
      'not while members are in',
    );
    assert.equal(shard.groups.validateOffsetFetch(GROUP, null, -1), ErrorCode.NONE);
    assert.equal(
      shard.groups.validateOffsetFetch(GROUP, a.memberId, a.epoch + 1),
      ErrorCode.STALE_MEMBER_EPOCH,
    );
    a.leave();
    assert.equal(shard.groups.validateOffsetCommit(GROUP, '', -1), ErrorCode.NONE);
    assert.equal(shard.groups.validateOffsetCommit('other', '', -1), ErrorCode.GROUP_ID_NOT_FOUND);
  });
});

void describe('ConsumerGroups: static membership', () => {
  void test('a static member leaving with -2 keeps its partitions; its next instance takes them over', () => {
    const shard = new Shard();
    shard.topics.set('t', 4);
    const a = new Consumer(shard, ['t'], { instanceId: 'host-a' });
    const b = new Consumer(shard, ['t']);
    settle(shard, [a, b]);
    const aPartitions = JSON.stringify(a.owned);
    const epoch = shard.groups.group(GROUP)?.groupEpoch;

    // Another process with the same instance id while a is still in: refused.
    const clash = new Consumer(shard, ['t'], { instanceId: 'host-a' }).heartbeat();
    assert.equal(clash.errorCode, ErrorCode.UNRELEASED_INSTANCE_ID);

    const left = a.leave();
    assert.equal(left.errorCode, ErrorCode.NONE);
    assert.equal(left.memberEpoch, -2);
    assert.equal(shard.groups.group(GROUP)?.groupEpoch, epoch, 'a temporary leave is no rebalance');
    b.heartbeat();
    assert.equal(b.ownedCount(), 2, "b does not get a's partitions");

    const restarted = new Consumer(shard, ['t'], { instanceId: 'host-a' });
    const resp = restarted.heartbeat();
    assert.equal(resp.errorCode, ErrorCode.NONE);
    assert.equal(JSON.stringify(restarted.owned), aPartitions, 'same partitions back');
    assert.equal(resp.memberEpoch, epoch, 'at the group epoch: no rebalance');
    assert.equal(stateOf(shard), 'Stable');
    const g = shard.groups.group(GROUP);
    assert.equal(g?.members.has(a.memberId), false, 'the old member id is gone');
    assert.equal(g?.staticMembers.get('host-a'), restarted.memberId);
    const old = shard.heartbeat({
      memberId: a.memberId,
      memberEpoch: resp.memberEpoch,
      instanceId: 'host-a',
    });
    assert.equal(old.errorCode, ErrorCode.FENCED_INSTANCE_ID);
    shard.checkServerOwnership();
  });

  void test('a static member that left is removed when its session times out', () => {
    const shard = new Shard();
    shard.topics.set('t', 2);
    const a = new Consumer(shard, ['t'], { instanceId: 'host-a' });
    const b = new Consumer(shard, ['t']);
    settle(shard, [a, b]);
    a.leave();
    for (let i = 0; i < 12; i++) {
      shard.clock.advance(4_000);
      b.heartbeat();
    }
    assert.equal(shard.groups.group(GROUP)?.staticMembers.has('host-a'), false);
    settle(shard, [b]);
    assert.equal(b.ownedCount(), 2);
  });

  void test('leave errors for static members', () => {
    const shard = new Shard();
    shard.topics.set('t', 2);
    const a = new Consumer(shard, ['t'], { instanceId: 'host-a' });
    settle(shard, [a]);
    assert.equal(
      shard.heartbeat({ memberId: 'other', memberEpoch: -2, instanceId: 'host-a' }).errorCode,
      ErrorCode.FENCED_INSTANCE_ID,
    );
    assert.equal(
      shard.heartbeat({ memberId: 'other', memberEpoch: -2, instanceId: 'host-z' }).errorCode,
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
    // -1 from a static member is a permanent leave.
    const resp = shard.heartbeat({ memberId: a.memberId, memberEpoch: -1, instanceId: 'host-a' });
    assert.equal(resp.errorCode, ErrorCode.NONE);
    assert.equal(stateOf(shard), 'Empty');
  });
});

void describe('ConsumerGroups: request validation', () => {
  const join = {
    memberId: 'm1',
    memberEpoch: 0,
    rebalanceTimeoutMs: 30_000,
    subscribedTopicNames: ['t'],
    topicPartitions: [],
  };

  void test('INVALID_REQUEST for what Kafka refuses', () => {
    const shard = new Shard();
    const cases: [Partial<ConsumerGroupHeartbeatRequest>, number?][] = [
      [{ ...join, rebalanceTimeoutMs: -1 }],
      [{ ...join, topicPartitions: null }],
      [{ ...join, topicPartitions: [{ topicId: topicIdOf('t'), partitions: [0] }] }],
      [{ ...join, subscribedTopicNames: null }],
      [{ ...join, memberId: '' }, 1],
      [{ ...join, memberId: ' ' }, 1],
      [{ ...join, groupId: '' }],
      [{ ...join, instanceId: '' }],
      [{ ...join, rackId: ' ' }],
      [{ ...join, memberEpoch: -3 }],
      [{ memberId: 'm1', memberEpoch: -2 }],
      [{ memberId: '', memberEpoch: 4 }, 0],
    ];
    for (const [req, version] of cases) {
      const resp = shard.heartbeat(req, version ?? 1);
      assert.equal(resp.errorCode, ErrorCode.INVALID_REQUEST, JSON.stringify(req));
      assert.ok(resp.errorMessage !== null, 'an error message comes with it');
    }
  });

  void test('UNSUPPORTED_ASSIGNOR for an unknown server assignor', () => {
    const shard = new Shard();
    const resp = shard.heartbeat({ ...join, serverAssignor: 'sticky' });
    assert.equal(resp.errorCode, ErrorCode.UNSUPPORTED_ASSIGNOR);
    assert.match(resp.errorMessage ?? '', /uniform, range/);
  });

  void test('v0: the coordinator generates the member id of a joining member', () => {
    const shard = new Shard();
    shard.topics.set('t', 1);
    const resp = shard.heartbeat({ ...join, memberId: '' }, 0);
    assert.equal(resp.errorCode, ErrorCode.NONE);
    assert.match(resp.memberId ?? '', /^[A-Za-z0-9_][A-Za-z0-9_-]{20}[AQgw]$/);
    assert.ok(
      shard.groups.group(GROUP)?.members.has(resp.memberId ?? ''),
      'the generated member is in the group',
    );
  });

  void test('GROUP_MAX_SIZE_REACHED past group.consumer.max.size', () => {
    const shard = new Shard({ maxSize: 2 });
    shard.topics.set('t', 1);
    const a = new Consumer(shard, ['t']);
    const b = new Consumer(shard, ['t']);
    settle(shard, [a, b]);
    assert.equal(new Consumer(shard, ['t']).heartbeat().errorCode, ErrorCode.GROUP_MAX_SIZE_REACHED);
    assert.equal(a.heartbeat().errorCode, ErrorCode.NONE, 'members already in are fine');
  });
});

void describe('ConsumerGroups: describe, list and replay', () => {
  void test('describe reports members, assignments and the group state', () => {
    const shard = new Shard();
    const t = shard.topics.set('t', 2);
    const a = new Consumer(shard, ['t']);
    settle(shard, [a]);
    const [g, missing] = shard.groups.describe([GROUP, 'missing'], true);
    assert.equal(g?.errorCode, ErrorCode.NONE);
    assert.equal(g?.groupState, 'Stable');
    assert.equal(g?.groupEpoch, 1);
    assert.equal(g?.assignmentEpoch, 1);
    assert.equal(g?.assignorName, 'uniform');
    assert.ok((g?.authorizedOperations ?? 0) > 0, 'authorized operations when asked');
    assert.deepEqual(g?.members[0]?.assignment.topicPartitions, [
      { topicId: t.topicId, topicName: 't', partitions: [0, 1] },
    ]);
    assert.deepEqual(g?.members[0]?.targetAssignment, g?.members[0]?.assignment);
    assert.equal(g?.members[0]?.clientHost, '/127.0.0.1');
    assert.equal(missing?.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    assert.equal(shard.groups.describe([GROUP], false)[0]?.authorizedOperations, -2147483648);
    assert.deepEqual(shard.groups.list(), [{ groupId: GROUP, state: 'Stable' }]);
  });

  void test('replaying the log from scratch rebuilds the live state exactly', () => {
    const shard = new Shard({ sessionTimeoutMs: 20_000 });
    shard.topics.set('t', 5);
    shard.topics.set('u', 3);
    const a = new Consumer(shard, ['t', 'u'], { instanceId: 'host-a' });
    const b = new Consumer(shard, ['t']);
    const c = new Consumer(shard, ['u'], { assignor: 'range' });
    settle(shard, [a, b, c]);
    const d = new Consumer(shard, ['t', 'u']);
    d.heartbeat();
    a.heartbeat(); // mid-rebalance: some members revoking, some waiting
    const check = (): void => {
      const fresh = new ConsumerGroups(
        {
          clock: new ManualClock(),
          topics: () => shard.topics,
          emit: () => assert.fail('no timers during replay'),
        },
        DEFAULT_CONSUMER_GROUPS_CONFIG,
      );
      for (const r of shard.log) fresh.replay(r);
      assert.deepEqual(snapshot(fresh), snapshot(shard.groups));
    };
    check();
    settle(shard, [a, b, c, d]);
    check();
    a.leave();
    settle(shard, [b, c, d]);
    check();
    shard.clock.advance(25_000); // every session expires
    assert.equal(stateOf(shard), 'Empty');
    check();
    const deleted = shard.groups.deleteGroup(GROUP);
    assert.ok(Array.isArray(deleted), 'the empty group can be deleted');
    shard.apply(deleted);
    check();
    const other = new Consumer(shard, ['t']);
    settle(shard, [other]);
    check();
  });

  void test('after a load, onLoaded starts the session timers of the loaded members', () => {
    const shard = new Shard();
    shard.topics.set('t', 2);
    const a = new Consumer(shard, ['t']);
    settle(shard, [a]);
    const clock = new ManualClock();
    const emitted: CoordinatorRecord[] = [];
    const loaded: ConsumerGroups = new ConsumerGroups(
      {
        clock,
        topics: () => shard.topics,
        emit: (records) => {
          for (const r of records) loaded.replay(r);
          emitted.push(...records);
        },
      },
      DEFAULT_CONSUMER_GROUPS_CONFIG,
    );
    for (const r of shard.log) loaded.replay(r);
    loaded.onLoaded();
    assert.equal(clock.pendingTimers, 1);
    clock.advance(45_000);
    assert.equal(loaded.group(GROUP)?.members.size, 0, 'the member expired');
    assert.ok(emitted.length > 0, 'the expiry went through emit');
    loaded.close();
    assert.equal(clock.pendingTimers, 0);
  });

  void test('close cancels every timer', () => {
    const shard = new Shard();
    shard.topics.set('t', 2);
    settle(shard, [new Consumer(shard, ['t']), new Consumer(shard, ['t'])]);
    assert.ok(shard.clock.pendingTimers > 0, 'session timers are running');
    shard.groups.close();
    assert.equal(shard.clock.pendingTimers, 0);
  });
});
