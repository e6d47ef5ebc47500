/**
 * Builders of the consumer group records (Kafka's GroupCoordinatorRecordHelpers for KIP-848):
 * one function per record and its tombstone, with Kafka's field semantics.
 */
import type { CoordinatorRecord } from '../records.js';
import { type TopicPartitions, partitionsToEntries } from './assignment.js';
import type { ConsumerGroupMember, SubscriptionMetadata } from './consumer-group.js';

export function memberMetadataRecord(groupId: string, m: ConsumerGroupMember): CoordinatorRecord {
  return {
    type: 'consumerGroupMemberMetadata',
    key: { groupId, memberId: m.memberId },
    value: {
      instanceId: m.instanceId,
      rackId: m.rackId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      subscribedTopicNames: [...m.subscribedTopicNames],
      subscribedTopicRegex: m.subscribedTopicRegex,
      rebalanceTimeoutMs: m.rebalanceTimeoutMs,
      serverAssignor: m.serverAssignor,
      classicMemberMetadata: m.classicMemberMetadata,
    },
  };
}

export function memberMetadataTombstone(groupId: string, memberId: string): CoordinatorRecord {
  return { type: 'consumerGroupMemberMetadata', key: { groupId, memberId }, value: null };
}

export function groupEpochRecord(groupId: string, epoch: number): CoordinatorRecord {
  return { type: 'consumerGroupMetadata', key: { groupId }, value: { epoch } };
}

export function groupEpochTombstone(groupId: string): CoordinatorRecord {
  return { type: 'consumerGroupMetadata', key: { groupId }, value: null };
}

/** Subscribed topics with their partition counts; racks are not tracked (an empty list, as Kafka 4.0 writes). */
export function subscriptionMetadataRecord(
  groupId: string,
  metadata: SubscriptionMetadata,
): CoordinatorRecord {
  return {
    type: 'consumerGroupPartitionMetadata',
    key: { groupId },
    value: {
      topics: [...metadata.values()].map((t) => ({
        topicId: t.topicId,
        topicName: t.topicName,
        numPartitions: t.numPartitions,
        partitionMetadata: [],
      })),
    },
  };
}

export function subscriptionMetadataTombstone(groupId: string): CoordinatorRecord {
  return { type: 'consumerGroupPartitionMetadata', key: { groupId }, value: null };
}

export function targetAssignmentRecord(
  groupId: string,
  memberId: string,
  partitions: TopicPartitions,
): CoordinatorRecord {
  return {
    type: 'consumerGroupTargetAssignmentMember',
    key: { groupId, memberId },
    value: { topicPartitions: partitionsToEntries(partitions) },
  };
}

export function targetAssignmentTombstone(groupId: string, memberId: string): CoordinatorRecord {
  return { type: 'consumerGroupTargetAssignmentMember', key: { groupId, memberId }, value: null };
}

export function targetAssignmentEpochRecord(groupId: string, assignmentEpoch: number): CoordinatorRecord {
  return { type: 'consumerGroupTargetAssignmentMetadata', key: { groupId }, value: { assignmentEpoch } };
}

export function targetAssignmentEpochTombstone(groupId: string): CoordinatorRecord {
  return { type: 'consumerGroupTargetAssignmentMetadata', key: { groupId }, value: null };
}

export function currentAssignmentRecord(groupId: string, m: ConsumerGroupMember): CoordinatorRecord {
  return {
    type: 'consumerGroupCurrentMemberAssignment',
    key: { groupId, memberId: m.memberId },
    value: {
      memberEpoch: m.memberEpoch,
      previousMemberEpoch: m.previousMemberEpoch,
      state: m.state,
      assignedPartitions: partitionsToEntries(m.assignedPartitions),
      partitionsPendingRevocation: partitionsToEntries(m.partitionsPendingRevocation),
    },
  };
}

export function currentAssignmentTombstone(groupId: string, memberId: string): CoordinatorRecord {
  return { type: 'consumerGroupCurrentMemberAssignment', key: { groupId, memberId }, value: null };
}

/** The tombstones removing a member, in Kafka's order: current assignment, target assignment, subscription. */
export function removeMemberRecords(groupId: string, memberId: string): CoordinatorRecord[] {
  return [
    currentAssignmentTombstone(groupId, memberId),
    targetAssignmentTombstone(groupId, memberId),
    memberMetadataTombstone(groupId, memberId),
  ];
}
