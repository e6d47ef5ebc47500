/**
 * ConsumerGroupHeartbeat checks made before any state is touched (Kafka's request validation
 * and member epoch rules) and the operating errors they answer with.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import type { ConsumerGroupHeartbeatRequest } from '../../protocol/generated/message/ConsumerGroupHeartbeatRequest.js';
import type { ConsumerGroupHeartbeatResponse } from '../../protocol/generated/message/ConsumerGroupHeartbeatResponse.js';
import { ownedIsSubset } from './assignment.js';
import {
  type ConsumerGroupMember,
  LEAVE_GROUP_MEMBER_EPOCH,
  LEAVE_GROUP_STATIC_MEMBER_EPOCH,
} from './consumer-group.js';

/** The version from which clients generate their member id (KIP-1082). */
const CONSUMER_GENERATED_MEMBER_ID_REQUIRED_VERSION = 1;

/** An operating error answered to the client: the error code and Kafka's message. */
export class GroupError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export function invalidRequest(message: string): GroupError {
  return new GroupError(ErrorCode.INVALID_REQUEST, message);
}

function isEmptyString(s: string | null): boolean {
  return s !== null && s.trim() === '';
}

export function errorResponse(e: GroupError): ConsumerGroupHeartbeatResponse {
  return {
    throttleTimeMs: 0,
    errorCode: e.code,
    errorMessage: e.message,
    memberId: null,
    memberEpoch: 0,
    heartbeatIntervalMs: 0,
    assignment: null,
  };
}

/** Kafka's request validation (GroupCoordinatorService), before the group is looked at. */
export function validateHeartbeat(
  req: ConsumerGroupHeartbeatRequest,
  apiVersion: number,
  assignorNames: readonly string[],
): void {
  if (
    apiVersion >= CONSUMER_GENERATED_MEMBER_ID_REQUIRED_VERSION ||
    req.memberEpoch > 0 ||
    req.memberEpoch === LEAVE_GROUP_MEMBER_EPOCH
  ) {
    if (isEmptyString(req.memberId)) throw invalidRequest("MemberId can't be empty.");
  }
  if (isEmptyString(req.groupId)) throw invalidRequest("GroupId can't be empty.");
  if (isEmptyString(req.instanceId)) throw invalidRequest("InstanceId can't be empty.");
  if (isEmptyString(req.rackId)) throw invalidRequest("RackId can't be empty.");
  if (req.memberEpoch === 0) {
    if (req.rebalanceTimeoutMs === -1)
      throw invalidRequest('RebalanceTimeoutMs must be provided in first request.');
    if (req.topicPartitions === null || req.topicPartitions.length > 0) {
      throw invalidRequest('TopicPartitions must be empty when (re-)joining.');
    }
    if (req.subscribedTopicNames === null && req.subscribedTopicRegex === null) {
      throw invalidRequest(
        'Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.',
      );
    }
  } else if (req.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
    if (req.instanceId === null) throw invalidRequest("InstanceId can't be null.");
  } else if (req.memberEpoch < LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
    throw invalidRequest('MemberEpoch is invalid.');
  }
  if (req.serverAssignor !== null && !assignorNames.includes(req.serverAssignor)) {
    throw new GroupError(
      ErrorCode.UNSUPPORTED_ASSIGNOR,
      `ServerAssignor ${req.serverAssignor} is not supported. Supported assignors: ${assignorNames.join(', ')}.`,
    );
  }
}

/**
 * The epoch a member sends must be the one the coordinator knows, or the previous one when the
 * member owns no more than its current assignment (the response with the new epoch was lost).
 * Epoch 0 is a rejoin and always accepted (KAFKA-19233).
 */
export function checkMemberEpoch(
  m: ConsumerGroupMember,
  received: number,
  owned: ConsumerGroupHeartbeatRequest.TopicPartitions[] | null,
): void {
  if (received === 0) return;
  if (received > m.memberEpoch) {
    throw new GroupError(
      ErrorCode.FENCED_MEMBER_EPOCH,
      `The consumer group member has a greater member epoch (${received}) than the one known by the group coordinator (${m.memberEpoch}). The member must abandon all its partitions and rejoin.`,
    );
  }
  if (
    received < m.memberEpoch &&
    (received !== m.previousMemberEpoch || !ownedIsSubset(owned, m.assignedPartitions))
  ) {
    throw new GroupError(
      ErrorCode.FENCED_MEMBER_EPOCH,
      `The consumer group member has a smaller member epoch (${received}) than the one known by the group coordinator (${m.memberEpoch}). The member must abandon all its partitions and rejoin.`,
    );
  }
}
