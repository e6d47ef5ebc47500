/**
 * Member reconciliation (Kafka's CurrentAssignmentBuilder): moves a member's current assignment
 * towards its target assignment without ever letting two members own a partition at once.
 *
 * - A member first gives up the partitions that are no longer in its target: it stays at its
 *   epoch in UNREVOKED_PARTITIONS until a heartbeat no longer lists them as owned.
 * - It then advances to the target epoch and receives the target partitions that are free; the
 *   ones still owned by another member (assigned or pending revocation there) are withheld and
 *   the member waits in UNRELEASED_PARTITIONS, re-checked on each heartbeat.
 * - With nothing to revoke and nothing withheld it is STABLE at the target epoch.
 */
import type { ConsumerGroupHeartbeatRequest } from '../../protocol/generated/message/ConsumerGroupHeartbeatRequest.js';
import {
  type TopicPartitions,
  NO_PARTITIONS,
  containsPartition,
  partitionsFrom,
  samePartitions,
} from './assignment.js';
import { type ConsumerGroupMember, MemberState } from './consumer-group.js';

export type OwnedTopicPartitions = readonly ConsumerGroupHeartbeatRequest.TopicPartitions[] | null;

export interface ReconcileInput {
  readonly targetAssignmentEpoch: number;
  readonly targetAssignment: TopicPartitions;
  /** Epoch of the member owning a partition, -1 if none. */
  readonly currentPartitionEpoch: (topicId: string, partition: number) => number;
  /** The partitions the member reported owning (null: not reported in this heartbeat). */
  readonly ownedTopicPartitions: OwnedTopicPartitions;
}

/** The member in an unknown state (written by a newer version) must rejoin from scratch. */
export const RECONCILE_FENCED = 'fenced';

/** Whether the member still reports owning any of `revoking` (an unreported list counts as owning). */
function ownsAnyOf(owned: OwnedTopicPartitions, revoking: TopicPartitions): boolean {
  if (owned === null) return true;
  for (const e of owned)
    for (const p of e.partitions) if (containsPartition(revoking, e.topicId, p)) return true;
  return false;
}

/** Whether the fields of ConsumerGroupCurrentMemberAssignmentValue are equal. */
export function sameAssignmentState(a: ConsumerGroupMember, b: ConsumerGroupMember): boolean {
  return (
    a.memberEpoch === b.memberEpoch &&
    a.previousMemberEpoch === b.previousMemberEpoch &&
    a.state === b.state &&
    samePartitions(a.assignedPartitions, b.assignedPartitions) &&
    samePartitions(a.partitionsPendingRevocation, b.partitionsPendingRevocation)
  );
}

/** Returns the reconciled member (compare with sameAssignmentState) or RECONCILE_FENCED. */
export function reconcile(
  member: ConsumerGroupMember,
  input: ReconcileInput,
): ConsumerGroupMember | typeof RECONCILE_FENCED {
  switch (member.state) {
    case MemberState.STABLE:
      if (member.memberEpoch !== input.targetAssignmentEpoch)
        return computeNext(member, member.memberEpoch, input);
      return member;
    case MemberState.UNREVOKED_PARTITIONS:
      if (ownsAnyOf(input.ownedTopicPartitions, member.partitionsPendingRevocation)) return member;
      return computeNext(member, member.memberEpoch, input);
    case MemberState.UNRELEASED_PARTITIONS:
      return computeNext(member, member.memberEpoch, input);
    case MemberState.UNKNOWN:
      if (input.ownedTopicPartitions === null || input.ownedTopicPartitions.length > 0)
        return RECONCILE_FENCED;
      return computeNext(member, input.targetAssignmentEpoch, input);
  }
}

function withEpoch(
  member: ConsumerGroupMember,
  memberEpoch: number,
): Pick<ConsumerGroupMember, 'memberEpoch' | 'previousMemberEpoch'> {
  return { memberEpoch, previousMemberEpoch: member.memberEpoch };
}

function computeNext(
  member: ConsumerGroupMember,
  memberEpoch: number,
  input: ReconcileInput,
): ConsumerGroupMember {
  const { targetAssignment: target, targetAssignmentEpoch } = input;
  const current = member.assignedPartitions;
  const kept: { topicId: string; partitions: number[] }[] = [];
  const revoking: { topicId: string; partitions: number[] }[] = [];
  const adding: { topicId: string; partitions: number[] }[] = [];
  let unreleased = false;

  const topicIds = new Set([...target.keys(), ...current.keys()]);
  for (const topicId of topicIds) {
    const targetPs = target.get(topicId) ?? [];
    const currentPs = current.get(topicId) ?? [];
    const keep = currentPs.filter((p) => targetPs.includes(p));
    const revoke = currentPs.filter((p) => !targetPs.includes(p));
    const add: number[] = [];
    for (const p of targetPs) {
      if (keep.includes(p)) continue;
      // A partition this member itself still has pending revocation is not held by anyone else.
      const ownedElsewhere =
        input.currentPartitionEpoch(topicId, p) !== -1 &&
        !containsPartition(member.partitionsPendingRevocation, topicId, p);
      if (ownedElsewhere) unreleased = true;
      else add.push(p);
    }
    kept.push({ topicId, partitions: keep });
    revoking.push({ topicId, partitions: revoke });
    adding.push({ topicId, partitions: add });
  }

  const keptSet = partitionsFrom(kept);
  const revokingSet = partitionsFrom(revoking);
  const addingSet = partitionsFrom(adding);

  if (revokingSet.size > 0 && ownsAnyOf(input.ownedTopicPartitions, revokingSet)) {
    return {
      ...member,
      state: MemberState.UNREVOKED_PARTITIONS,
      ...withEpoch(member, memberEpoch),
      assignedPartitions: keptSet,
      partitionsPendingRevocation: revokingSet,
    };
  }
  const assigned = addingSet.size > 0 ? partitionsFrom([...kept, ...adding]) : keptSet;
  return {
    ...member,
    state: unreleased ? MemberState.UNRELEASED_PARTITIONS : MemberState.STABLE,
    ...withEpoch(member, targetAssignmentEpoch),
    assignedPartitions: assigned,
    partitionsPendingRevocation: NO_PARTITIONS,
  };
}
