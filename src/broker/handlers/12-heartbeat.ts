/**
 * Heartbeat (key 12), versions 0-4: keeps a classic group member's session alive and tells it
 * when a rebalance started (REBALANCE_IN_PROGRESS), or that it was fenced (ILLEGAL_GENERATION,
 * UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID).
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { apis } from '../../protocol/generated/api-keys.js';
import type { HeartbeatRequest } from '../../protocol/generated/message/HeartbeatRequest.js';
import { HeartbeatResponse } from '../../protocol/generated/message/HeartbeatResponse.js';
import { groupShard } from '../group-coordination.js';
import { defineHandler } from './types.js';

export const heartbeatHandler = defineHandler<HeartbeatRequest, HeartbeatResponse>({
  api: apis.Heartbeat,
  minVersion: 0,
  maxVersion: 4,
  handle(ctx, req) {
    const lookup = groupShard(ctx.broker, req.groupId);
    let errorCode: number;
    if ('errorCode' in lookup) errorCode = lookup.errorCode;
    else if (lookup.shard.isConsumerGroup(req.groupId)) errorCode = ErrorCode.INCONSISTENT_GROUP_PROTOCOL;
    else errorCode = lookup.shard.classicGroups.heartbeat(req);
    return { ...HeartbeatResponse.create(), errorCode };
  },
});
