/**
 * The classic group protocol on the injected clock: join phases, timeouts, generation fencing,
 * static members, offsets, and replay of `__consumer_offsets` giving back the same state.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { GroupShard } from '../../src/coordinator/group-shard.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';
import { HeartbeatRequest } from '../../src/protocol/generated/message/HeartbeatRequest.js';
import { JoinGroupRequest } from '../../src/protocol/generated/message/JoinGroupRequest.js';
import type { JoinGroupResponse } from '../../src/protocol/generated/message/JoinGroupResponse.js';
import { OffsetCommitRequest } from '../../src/protocol/generated/message/OffsetCommitRequest.js';
import { SyncGroupRequest } from '../../src/protocol/generated/message/SyncGroupRequest.js';
import type { SyncGroupResponse } from '../../src/protocol/generated/message/SyncGroupResponse.js';
import { ConsumerProtocolSubscription } from '../../src/protocol/generated/message/ConsumerProtocolSubscription.js';
import { encodeMessage } from '../../src/protocol/message.js';
import { newShard, settle, topicsView, type ShardHarness } from './support.js';

/** A consumer's JoinGroup metadata (ConsumerProtocolSubscription v0, version-prefixed) for `topics`. */
function encodeSubscription(topics: string[]): Buffer {
  const version = Buffer.alloc(2);
  const body = encodeMessage(
    ConsumerProtocolSubscription,
    { ...ConsumerProtocolSubscription.create(), topics },
    0,
  );
  return Buffer.concat([version, body]);
}

const CLIENT = { clientId: 'c', clientHost: '/127.0.0.1' };
const SESSION_MS = 10_000;
const REBALANCE_MS = 20_000;

function joinReq(
  memberId: string,
  o: { instanceId?: string; protocols?: string[]; group?: string } = {},
): JoinGroupRequest {
  return {
    ...JoinGroupRequest.create(),
    groupId: o.group ?? 'g',
    sessionTimeoutMs: SESSION_MS,
    rebalanceTimeoutMs: REBALANCE_MS,
    memberId,
    groupInstanceId: o.instanceId ?? null,
    protocolType: 'consumer',
    protocols: (o.protocols ?? ['range']).map((name) => ({
      name,
      metadata: Buffer.from(name),
      unknownTaggedFields: undefined,
    })),
  };
}

/** Starts a join and lets it settle; `pending` is true while the response waits for the join phase. */
function startJoin(
  h: ShardHarness,
  req: JoinGroupRequest,
  version = 5,
): { result: Promise<JoinGroupResponse>; done(): boolean } {
  let finished = false;
  const result = Promise.resolve(h.shard.classicGroups.join(req, version, CLIENT)).then((r) => {
    finished = true;
    return r;
  });
  return { result, done: () => finished };
}

/** A new dynamic member joins v5: MEMBER_ID_REQUIRED first, then the join with the given id. */
async function newMemberId(h: ShardHarness, o: { group?: string } = {}): Promise<string> {
  const first = await h.shard.classicGroups.join(joinReq('', o), 5, CLIENT);
  assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED, 'a v4+ join without id asks for one');
  assert.ok(first.memberId.startsWith('c-'), 'member ids start with the client id');
  return first.memberId;
}

function sync(
  shard: GroupShard,
  memberId: string,
  generationId: number,
  assignments: { memberId: string; assignment: Buffer }[] = [],
): Promise<SyncGroupResponse> {
  return Promise.resolve(
    shard.classicGroups.sync({
      ...SyncGroupRequest.create(),
      groupId: 'g',
      generationId,
      memberId,
      assignments: assignments.map((a) => ({ ...a, unknownTaggedFields: undefined })),
    }),
  );
}

function heartbeat(
  shard: GroupShard,
  memberId: string,
  generationId: number,
  instanceId: string | null = null,
): number {
  return shard.classicGroups.heartbeat({
    ...HeartbeatRequest.create(),
    groupId: 'g',
    memberId,
    generationId,
    groupInstanceId: instanceId,
  });
}

/** One member forms generation 1 and syncs to Stable. */
async function stableSingle(h: ShardHarness): Promise<{ memberId: string; generation: number }> {
  const id = await newMemberId(h);
  const joined = await h.shard.classicGroups.join(joinReq(id), 5, CLIENT);
  assert.equal(joined.errorCode, ErrorCode.NONE, 'the join completes');
  const synced = await sync(h.shard, id, joined.generationId, [
    { memberId: id, assignment: Buffer.from('all') },
  ]);
  assert.equal(synced.errorCode, ErrorCode.NONE, 'the leader syncs');
  assert.equal(synced.assignment.toString(), 'all', 'the leader gets its assignment back');
  return { memberId: id, generation: joined.generationId };
}

function commit(
  shard: GroupShard,
  memberId: string,
  generation: number,
  offset: number,
  partition = 0,
): Promise<Map<string, Map<number, number>>> {
  return shard.commitOffsets(
    {
      ...OffsetCommitRequest.create(),
      groupId: 'g',
      generationIdOrMemberEpoch: generation,
      memberId,
      topics: [
        {
          name: 't',
          partitions: [
            {
              partitionIndex: partition,
              committedOffset: BigInt(offset),
              committedLeaderEpoch: 0,
              commitTimestamp: -1n,
              committedMetadata: 'm',
              unknownTaggedFields: undefined,
            },
          ],
          unknownTaggedFields: undefined,
        },
      ],
    },
    8,
    (topic, p) => topic === 't' && p < 6,
  );
}

void describe('classic groups', () => {
  void test('a new member is asked for its id, then forms generation 1 as leader; sync makes the group Stable', async () => {
    const h = await newShard({});
    const { memberId, generation } = await stableSingle(h);
    assert.equal(generation, 1, 'first generation');
    const group = h.shard.classicGroups.get('g')!;
    assert.equal(group.state, 'Stable', 'Stable after the leader synced');
    assert.equal(group.leaderId, memberId, 'the only member leads');
    assert.equal(group.protocolName, 'range', 'the protocol is chosen');
    assert.ok(h.log.batches.length >= 1, 'the assignment was written to the log');
  });

  void test('the initial rebalance delay waits for more members and is extended per join', async () => {
    const h = await newShard({ config: { initialRebalanceDelayMs: 3000 } });
    const a = await newMemberId(h);
    const joinA = startJoin(h, joinReq(a));
    h.clock.advance(2000);
    await settle();
    assert.equal(joinA.done(), false, 'still inside the initial delay');
    const b = await newMemberId(h);
    const joinB = startJoin(h, joinReq(b));
    h.clock.advance(1000);
    await settle();
    assert.equal(joinA.done(), false, 'a join during the delay extends it');
    h.clock.advance(3000);
    const [ra, rb] = await Promise.all([joinA.result, joinB.result]);
    assert.equal(ra.generationId, 1, 'one generation for both');
    assert.equal(rb.generationId, 1, 'one generation for both');
    const leader = ra.leader;
    const leaderResponse = leader === a ? ra : rb;
    assert.equal(leaderResponse.members.length, 2, 'the leader gets both members');
    assert.equal((leader === a ? rb : ra).members.length, 0, 'followers get no member list');
  });

  void test('a second member triggers a rebalance: heartbeats say REBALANCE_IN_PROGRESS until both rejoined', async () => {
    const h = await newShard({});
    const first = await stableSingle(h);
    const b = await newMemberId(h);
    const joinB = startJoin(h, joinReq(b));
    await settle();
    assert.equal(
      h.shard.classicGroups.get('g')!.state,
      'PreparingRebalance',
      'the new member starts a rebalance',
    );
    assert.equal(
      heartbeat(h.shard, first.memberId, first.generation),
      ErrorCode.REBALANCE_IN_PROGRESS,
      'the old member is told to rejoin',
    );
    assert.equal(joinB.done(), false, 'the new member waits for the old one');
    const rejoinA = await h.shard.classicGroups.join(joinReq(first.memberId), 5, CLIENT);
    const rb = await joinB.result;
    assert.equal(rejoinA.generationId, 2, 'generation 2');
    assert.equal(rb.generationId, 2, 'generation 2');
    assert.equal(rejoinA.leader, first.memberId, 'the old leader keeps leading');
    assert.equal(rejoinA.members.length, 2, 'the leader sees both members');
    // The follower's sync waits for the leader's.
    const syncB = sync(h.shard, b, 2);
    let bDone = false;
    void syncB.then(() => (bDone = true));
    await settle();
    assert.equal(bDone, false, 'a follower waits for the assignment');
    const syncA = await sync(h.shard, first.memberId, 2, [
      { memberId: first.memberId, assignment: Buffer.from('p0-2') },
      { memberId: b, assignment: Buffer.from('p3-5') },
    ]);
    assert.equal(syncA.assignment.toString(), 'p0-2', 'leader gets its part');
    assert.equal((await syncB).assignment.toString(), 'p3-5', 'follower gets its part');
    assert.equal(heartbeat(h.shard, b, 2), ErrorCode.NONE, 'Stable again');
  });

  void test('a member that does not rejoin within the rebalance timeout is removed', async () => {
    const h = await newShard({});
    const first = await stableSingle(h);
    const b = await newMemberId(h);
    const joinB = startJoin(h, joinReq(b));
    // Keep the old member's session alive while it ignores the rebalance.
    for (let ms = 0; ms < REBALANCE_MS; ms += 5000) {
      heartbeat(h.shard, first.memberId, first.generation);
      h.clock.advance(5000);
    }
    const rb = await joinB.result;
    assert.equal(rb.generationId, 2, 'the join phase ended at the rebalance timeout');
    assert.equal(rb.leader, b, 'the remaining member leads');
    assert.equal(rb.members.length, 1, 'only the member that rejoined is left');
    assert.equal(
      heartbeat(h.shard, first.memberId, 1),
      ErrorCode.UNKNOWN_MEMBER_ID,
      'the removed member is unknown',
    );
  });

  void test('a member whose session expires is removed and the group rebalances', async () => {
    const h = await newShard({});
    const first = await stableSingle(h);
    h.clock.advance(SESSION_MS - 1);
    assert.equal(
      heartbeat(h.shard, first.memberId, first.generation),
      ErrorCode.NONE,
      'alive just before the timeout',
    );
    h.clock.advance(SESSION_MS - 1);
    assert.equal(h.shard.classicGroups.get('g')!.size, 1, 'the heartbeat restarted the session');
    h.clock.advance(2);
    await settle();
    const group = h.shard.classicGroups.get('g')!;
    assert.equal(group.size, 0, 'the silent member is gone');
    assert.equal(group.state, 'Empty', 'the group is empty after the rebalance');
    assert.equal(group.generationId, 2, 'the empty generation is recorded');
  });

  void test('generation fencing: old generations and unknown members are refused', async () => {
    const h = await newShard({});
    const first = await stableSingle(h);
    assert.equal(
      heartbeat(h.shard, first.memberId, first.generation + 1),
      ErrorCode.ILLEGAL_GENERATION,
      'future generation',
    );
    assert.equal(
      heartbeat(h.shard, first.memberId, first.generation - 1),
      ErrorCode.ILLEGAL_GENERATION,
      'past generation',
    );
    assert.equal(
      heartbeat(h.shard, 'nobody', first.generation),
      ErrorCode.UNKNOWN_MEMBER_ID,
      'unknown member',
    );
    const stale = await commit(h.shard, first.memberId, first.generation - 1, 5);
    assert.equal(stale.get('t')!.get(0), ErrorCode.ILLEGAL_GENERATION, 'a commit from an old generation');
    const standalone = await commit(h.shard, '', -1, 5);
    assert.equal(
      standalone.get('t')!.get(0),
      ErrorCode.UNKNOWN_MEMBER_ID,
      'no standalone commit into a live group',
    );
    const ok = await commit(h.shard, first.memberId, first.generation, 5);
    assert.equal(ok.get('t')!.get(0), ErrorCode.NONE, 'a member commits in its generation');
    const unknownTopic = await h.shard.commitOffsets(
      {
        ...OffsetCommitRequest.create(),
        groupId: 'g',
        generationIdOrMemberEpoch: first.generation,
        memberId: first.memberId,
        topics: [
          {
            name: 'nope',
            partitions: [
              {
                partitionIndex: 0,
                committedOffset: 1n,
                committedLeaderEpoch: -1,
                commitTimestamp: -1n,
                committedMetadata: null,
                unknownTaggedFields: undefined,
              },
            ],
            unknownTaggedFields: undefined,
          },
        ],
      },
      8,
      () => false,
    );
    assert.equal(unknownTopic.get('nope')!.get(0), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'unknown topic');
  });

  void test('a static member restarting with its instance id takes its place without a rebalance', async () => {
    const h = await newShard({});
    const joined = await h.shard.classicGroups.join(joinReq('', { instanceId: 'i-1' }), 5, CLIENT);
    assert.equal(joined.errorCode, ErrorCode.NONE, 'static members join without MEMBER_ID_REQUIRED');
    await sync(h.shard, joined.memberId, 1, [{ memberId: joined.memberId, assignment: Buffer.from('mine') }]);
    // The process restarts: same instance id, no member id.
    const again = await h.shard.classicGroups.join(joinReq('', { instanceId: 'i-1' }), 5, CLIENT);
    assert.equal(again.errorCode, ErrorCode.NONE, 'the restarted member is accepted');
    assert.notEqual(again.memberId, joined.memberId, 'it has a new member id');
    assert.equal(again.generationId, 1, 'no new generation');
    const group = h.shard.classicGroups.get('g')!;
    assert.equal(group.state, 'Stable', 'no rebalance');
    const synced = await sync(h.shard, again.memberId, 1);
    assert.equal(synced.assignment.toString(), 'mine', 'the same assignment comes back');
    assert.equal(
      heartbeat(h.shard, joined.memberId, 1, 'i-1'),
      ErrorCode.FENCED_INSTANCE_ID,
      'the old incarnation is fenced',
    );
    // A static member survives a missed join phase while its session lasts.
    assert.equal(group.staticMembers.get('i-1'), again.memberId, 'the instance id maps to the new member');
  });

  void test('a follower that never syncs is removed after the rebalance timeout', async () => {
    const h = await newShard({});
    const a = await newMemberId(h);
    const b = await newMemberId(h);
    const [ra, rb] = await Promise.all([
      h.shard.classicGroups.join(joinReq(a), 5, CLIENT),
      h.shard.classicGroups.join(joinReq(b), 5, CLIENT),
    ]);
    const leader = ra.leader;
    const follower = leader === a ? b : a;
    assert.equal(ra.generationId, rb.generationId, 'one generation');
    await sync(h.shard, leader, ra.generationId, [{ memberId: leader, assignment: Buffer.from('x') }]);
    for (let ms = 0; ms <= REBALANCE_MS; ms += 5000) {
      heartbeat(h.shard, leader, ra.generationId);
      heartbeat(h.shard, follower, ra.generationId);
      h.clock.advance(5000);
    }
    await settle();
    const group = h.shard.classicGroups.get('g')!;
    assert.equal(group.members.has(follower), false, 'the follower that did not sync is gone');
    assert.equal(group.state, 'PreparingRebalance', 'its removal starts a rebalance');
  });

  void test('replaying the log rebuilds groups and offsets exactly', async () => {
    const h = await newShard({});
    const first = await stableSingle(h);
    await commit(h.shard, first.memberId, first.generation, 42, 3);
    await commit(h.shard, first.memberId, first.generation, 43, 3);
    await commit(h.shard, first.memberId, first.generation, 7, 1);
    // A second broker process opens the same log.
    const again = await newShard({ log: h.log, clock: h.clock });
    const before = h.shard.classicGroups.get('g')!;
    const after = again.shard.classicGroups.get('g')!;
    assert.equal(after.generationId, before.generationId, 'generation');
    assert.equal(after.state, 'Stable', 'state');
    assert.equal(after.leaderId, before.leaderId, 'leader');
    assert.equal(after.protocolName, before.protocolName, 'protocol');
    assert.deepEqual([...after.members.keys()], [...before.members.keys()], 'members');
    assert.equal(after.members.get(first.memberId)!.assignment.toString(), 'all', 'assignment');
    assert.deepEqual(
      again.shard.fetchOffsets('g', null, null),
      h.shard.fetchOffsets('g', null, null),
      'offsets',
    );
    const p3 = again.shard.fetchOffsets('g', [{ name: 't', partitionIndexes: [3, 4] }], null).topics[0]!
      .partitions;
    assert.equal(p3[0]!.offset, 43n, 'the latest commit wins');
    assert.equal(p3[1]!.offset, -1n, 'no commit is -1');
    // The member keeps its session across the restart and carries on.
    assert.equal(
      heartbeat(again.shard, first.memberId, first.generation),
      ErrorCode.NONE,
      'members carry on after the reload',
    );
  });

  void test('a failed append answers an error and the shard reloads what is durable', async () => {
    const h = await newShard({});
    const first = await stableSingle(h);
    await commit(h.shard, first.memberId, first.generation, 10);
    h.log.failNext = 1;
    const failed = await commit(h.shard, first.memberId, first.generation, 20);
    assert.equal(
      failed.get('t')!.get(0),
      ErrorCode.NOT_COORDINATOR,
      'a storage error maps to NOT_COORDINATOR',
    );
    await settle();
    assert.equal(h.shard.state, 'active', 'reloaded');
    const offsets = h.shard.fetchOffsets('g', [{ name: 't', partitionIndexes: [0] }], null);
    assert.equal(offsets.topics[0]!.partitions[0]!.offset, 10n, 'the failed commit is not visible');
  });

  void test('offsets of an empty group expire after offsets.retention.minutes; the group goes with them', async () => {
    const h = await newShard({ config: { offsetsRetentionMs: 60_000 } });
    const first = await stableSingle(h);
    await commit(h.shard, first.memberId, first.generation, 10);
    h.shard.classicGroups.leave('g', [{ memberId: first.memberId, groupInstanceId: null, reason: null }]);
    await settle();
    assert.equal(h.shard.classicGroups.get('g')!.state, 'Empty', 'empty after the last member left');
    h.clock.advance(59_000);
    h.shard.expireOffsets();
    assert.equal(h.shard.fetchOffsets('g', null, null).topics.length, 1, 'kept within the retention');
    h.clock.advance(2_000);
    h.shard.expireOffsets();
    await settle();
    assert.equal(h.shard.fetchOffsets('g', null, null).topics.length, 0, 'expired');
    assert.equal(h.shard.classicGroups.get('g'), undefined, 'the empty group without offsets is deleted');
    const again = await newShard({ log: h.log, clock: h.clock });
    assert.equal(again.shard.classicGroups.get('g'), undefined, 'the deletion is durable');
  });

  void test('standalone offsets expire by their own commit time', async () => {
    const h = await newShard({ config: { offsetsRetentionMs: 60_000 } });
    const early = await commit(h.shard, '', -1, 10, 0);
    assert.equal(early.get('t')!.get(0), ErrorCode.NONE, 'a standalone commit creates an empty group');
    h.clock.advance(30_000);
    await commit(h.shard, '', -1, 20, 1);
    h.clock.advance(31_000);
    h.shard.expireOffsets();
    await settle();
    const left = h.shard
      .fetchOffsets('g', null, null)
      .topics.flatMap((t) => t.partitions.map((p) => p.partitionIndex));
    assert.deepEqual(left, [1], 'only the offset older than the retention expired');
  });

  void test('a consuming group loses offsets only of topics it no longer subscribes to', async () => {
    const h = await newShard({
      config: { offsetsRetentionMs: 60_000 },
      topics: topicsView([
        { name: 't', topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', numPartitions: 6 },
        { name: 'old', topicId: 'AAAAAAAAAAAAAAAAAAAAAg', numPartitions: 1 },
      ]),
    });
    const subscription = encodeSubscription(['t']);
    const id = await newMemberId(h);
    const req = joinReq(id);
    req.protocols = [{ name: 'range', metadata: subscription, unknownTaggedFields: undefined }];
    const joined = await h.shard.classicGroups.join(req, 5, CLIENT);
    await sync(h.shard, id, joined.generationId, [{ memberId: id, assignment: Buffer.alloc(0) }]);
    await commit(h.shard, id, joined.generationId, 5, 0);
    const old = await h.shard.commitOffsets(
      {
        ...OffsetCommitRequest.create(),
        groupId: 'g',
        generationIdOrMemberEpoch: joined.generationId,
        memberId: id,
        topics: [
          {
            name: 'old',
            partitions: [
              {
                partitionIndex: 0,
                committedOffset: 3n,
                committedLeaderEpoch: -1,
                commitTimestamp: -1n,
                committedMetadata: null,
                unknownTaggedFields: undefined,
              },
            ],
            unknownTaggedFields: undefined,
          },
        ],
      },
      8,
      () => true,
    );
    assert.equal(old.get('old')!.get(0), ErrorCode.NONE, 'offset of a topic outside the subscription');
    for (let ms = 0; ms < 61_000; ms += 5_000) {
      assert.equal(heartbeat(h.shard, id, joined.generationId), ErrorCode.NONE, 'the member stays');
      h.clock.advance(5_000);
    }
    h.shard.expireOffsets();
    await settle();
    const topics = h.shard.fetchOffsets('g', null, null).topics.map((t) => t.name);
    assert.deepEqual(topics, ['t'], 'the subscribed topic keeps its offsets, the other expired');
  });

  void test('DeleteGroups refuses a group with members and deletes an empty one with its offsets', async () => {
    const h = await newShard({});
    const first = await stableSingle(h);
    await commit(h.shard, first.memberId, first.generation, 10);
    assert.equal(await h.shard.deleteGroup('g'), ErrorCode.NON_EMPTY_GROUP, 'members still there');
    assert.equal(await h.shard.deleteGroup('nope'), ErrorCode.GROUP_ID_NOT_FOUND, 'unknown group');
    h.shard.classicGroups.leave('g', [{ memberId: first.memberId, groupInstanceId: null, reason: null }]);
    await settle();
    assert.equal(await h.shard.deleteGroup('g'), ErrorCode.NONE, 'an empty group is deleted');
    const again = await newShard({ log: h.log, clock: h.clock });
    assert.equal(again.shard.classicGroups.get('g'), undefined, 'gone after a reload');
    assert.equal(again.shard.fetchOffsets('g', null, null).topics.length, 0, 'its offsets are gone too');
  });
});
