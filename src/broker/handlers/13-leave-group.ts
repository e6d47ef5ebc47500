/**
 * LeaveGroup (key 13), versions 0-5: members leave a classic group, which rebalances. v0-2
 * name one member; v3+ a batch of members, each by member id or (static members, KIP-345) by
 * group instance id with an empty member id, with an error per member.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { apis } from '../../protocol/generated/api-keys.js';
import type { LeaveGroupRequest } from '../../protocol/generated/message/LeaveGroupRequest.js';
import { LeaveGroupResponse } from '../../protocol/generated/message/LeaveGroupResponse.js';
import { groupShard } from '../group-coordination.js';
import { defineHandler } from './types.js';

export const leaveGroupHandler = defineHandler<LeaveGroupRequest, LeaveGroupResponse>({
  api: apis.LeaveGroup,
  minVersion: 0,
  maxVersion: 5,
  handle(ctx, req) {
    const batched = ctx.apiVersion >= 3;
    const lookup = groupShard(ctx.broker, req.groupId);
    if ('errorCode' in lookup) return { ...LeaveGroupResponse.create(), errorCode: lookup.errorCode };
    if (lookup.shard.isConsumerGroup(req.groupId)) {
      return { ...LeaveGroupResponse.create(), errorCode: ErrorCode.INCONSISTENT_GROUP_PROTOCOL };
    }
    const members = batched
      ? req.members.map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          reason: m.reason,
        }))
      : [{ memberId: req.memberId, groupInstanceId: null, reason: null }];
    const result = lookup.shard.classicGroups.leave(req.groupId, members);
    if (!batched) {
      // One member: its error is the response's error.
      return { ...LeaveGroupResponse.create(), errorCode: result.members[0]?.errorCode ?? result.errorCode };
    }
    return {
      ...LeaveGroupResponse.create(),
      errorCode: result.errorCode,
      members: result.members.map((m) => ({ ...m, unknownTaggedFields: undefined })),
    };
  },
});
