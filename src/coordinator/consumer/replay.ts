/**
 * Replay of the ConsumerGroup* records of `__consumer_offsets` into the groups of a shard, with
 * Kafka's semantics: a value creates the group (and member) it names if needed; a tombstone
 * deletes the member, resets its assignment (epoch -1), clears the subscription metadata, marks
 * the target assignment deleted (epoch -1), or removes the group.
 */
import type { CoordinatorRecord } from '../records.js';
import { NO_PARTITIONS, partitionsFrom } from './assignment.js';
import {
  ConsumerGroup,
  LEAVE_GROUP_MEMBER_EPOCH,
  memberStateFromValue,
  newMember,
  normalizeTopicNames,
} from './consumer-group.js';

/**
 * Applies one consumer group record to the groups of a shard. Returns the id of a group the
 * record deleted, so its timers can be cancelled.
 */
export function replayRecord(
  groups: Map<string, ConsumerGroup>,
  record: CoordinatorRecord,
): string | undefined {
  switch (record.type) {
    case 'consumerGroupMetadata': {
      const { groupId } = record.key;
      if (record.value !== null) {
        getOrCreate(groups, groupId).groupEpoch = record.value.epoch;
      } else if (groups.delete(groupId)) {
        return groupId;
      }
      return undefined;
    }
    case 'consumerGroupPartitionMetadata': {
      const { groupId } = record.key;
      if (record.value !== null) {
        const metadata = new Map<string, { topicId: string; topicName: string; numPartitions: number }>();
        for (const t of record.value.topics) {
          metadata.set(t.topicName, {
            topicId: t.topicId,
            topicName: t.topicName,
            numPartitions: t.numPartitions,
          });
        }
        getOrCreate(groups, groupId).subscriptionMetadata = metadata;
      } else {
        const g = groups.get(groupId);
        if (g !== undefined) g.subscriptionMetadata = new Map();
      }
      return undefined;
    }
    case 'consumerGroupMemberMetadata': {
      const { groupId, memberId } = record.key;
      const v = record.value;
      if (v !== null) {
        const g = getOrCreate(groups, groupId);
        const old = g.members.get(memberId) ?? newMember(memberId);
        g.updateMember({
          ...old,
          instanceId: v.instanceId,
          rackId: v.rackId,
          clientId: v.clientId,
          clientHost: v.clientHost,
          subscribedTopicNames: normalizeTopicNames(v.subscribedTopicNames),
          subscribedTopicRegex: v.subscribedTopicRegex,
          rebalanceTimeoutMs: v.rebalanceTimeoutMs,
          serverAssignor: v.serverAssignor,
          classicMemberMetadata: v.classicMemberMetadata,
        });
      } else {
        groups.get(groupId)?.removeMember(memberId);
      }
      return undefined;
    }
    case 'consumerGroupTargetAssignmentMember': {
      const { groupId, memberId } = record.key;
      if (record.value !== null) {
        getOrCreate(groups, groupId).targetAssignment.set(
          memberId,
          partitionsFrom(record.value.topicPartitions),
        );
      } else {
        groups.get(groupId)?.targetAssignment.delete(memberId);
      }
      return undefined;
    }
    case 'consumerGroupTargetAssignmentMetadata': {
      const { groupId } = record.key;
      if (record.value !== null) {
        getOrCreate(groups, groupId).assignmentEpoch = record.value.assignmentEpoch;
      } else {
        const g = groups.get(groupId);
        if (g !== undefined) g.assignmentEpoch = -1;
      }
      return undefined;
    }
    case 'consumerGroupCurrentMemberAssignment': {
      const { groupId, memberId } = record.key;
      const v = record.value;
      if (v !== null) {
        const g = getOrCreate(groups, groupId);
        const old = g.members.get(memberId) ?? newMember(memberId);
        g.updateMember({
          ...old,
          memberEpoch: v.memberEpoch,
          previousMemberEpoch: v.previousMemberEpoch,
          state: memberStateFromValue(v.state),
          assignedPartitions: partitionsFrom(v.assignedPartitions),
          partitionsPendingRevocation: partitionsFrom(v.partitionsPendingRevocation),
        });
      } else {
        const g = groups.get(groupId);
        const old = g?.members.get(memberId);
        if (g !== undefined && old !== undefined) {
          g.updateMember({
            ...old,
            memberEpoch: LEAVE_GROUP_MEMBER_EPOCH,
            previousMemberEpoch: LEAVE_GROUP_MEMBER_EPOCH,
            assignedPartitions: NO_PARTITIONS,
            partitionsPendingRevocation: NO_PARTITIONS,
          });
        }
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

function getOrCreate(groups: Map<string, ConsumerGroup>, groupId: string): ConsumerGroup {
  let g = groups.get(groupId);
  if (g === undefined) {
    g = new ConsumerGroup(groupId);
    groups.set(groupId, g);
  }
  return g;
}
