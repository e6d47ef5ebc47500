/**
 * SyncGroup (key 14), versions 0-5: the leader hands in the assignment, which is stored in
 * `__consumer_offsets`; every member receives its own part once that record is durable. In a
 * Stable group a SyncGroup returns the member's current assignment. v5 checks the protocol
 * type and name against the group's (INCONSISTENT_GROUP_PROTOCOL).
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { apis } from '../../protocol/generated/api-keys.js';
import type { SyncGroupRequest } from '../../protocol/generated/message/SyncGroupRequest.js';
import { SyncGroupResponse } from '../../protocol/generated/message/SyncGroupResponse.js';
import { groupShard } from '../group-coordination.js';
import { defineHandler } from './types.js';

export const syncGroupHandler = defineHandler<SyncGroupRequest, SyncGroupResponse>({
  api: apis.SyncGroup,
  minVersion: 0,
  maxVersion: 5,
  async handle(ctx, req) {
    const lookup = groupShard(ctx.broker, req.groupId);
    if ('errorCode' in lookup) return { ...SyncGroupResponse.create(), errorCode: lookup.errorCode };
    if (lookup.shard.isConsumerGroup(req.groupId)) {
      return { ...SyncGroupResponse.create(), errorCode: ErrorCode.INCONSISTENT_GROUP_PROTOCOL };
    }
    return lookup.shard.classicGroups.sync(req);
  },
});
