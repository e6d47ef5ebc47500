/**
 * JoinGroup (key 11), versions 0-9: the join phase of the classic group protocol, run by the
 * group's coordinator shard (src/coordinator/classic-groups.ts). The response waits until the
 * rebalance's join phase completes. v4+ new members get MEMBER_ID_REQUIRED and rejoin with
 * their id (KIP-394); v5+ static members (group.instance.id, KIP-345); v9 skipAssignment for a
 * restarted static leader. A group that uses the consumer protocol (KIP-848) refuses classic
 * joins with INCONSISTENT_GROUP_PROTOCOL.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { apis } from '../../protocol/generated/api-keys.js';
import type { JoinGroupRequest } from '../../protocol/generated/message/JoinGroupRequest.js';
import { JoinGroupResponse } from '../../protocol/generated/message/JoinGroupResponse.js';
import { clientOf, groupShard } from '../group-coordination.js';
import { defineHandler } from './types.js';

function failed(errorCode: number, memberId: string): JoinGroupResponse {
  return { ...JoinGroupResponse.create(), errorCode, memberId, generationId: -1, protocolName: null };
}

export const joinGroupHandler = defineHandler<JoinGroupRequest, JoinGroupResponse>({
  api: apis.JoinGroup,
  minVersion: 0,
  maxVersion: 9,
  async handle(ctx, req) {
    const lookup = groupShard(ctx.broker, req.groupId);
    let response: JoinGroupResponse;
    if ('errorCode' in lookup) response = failed(lookup.errorCode, req.memberId);
    else if (lookup.shard.isConsumerGroup(req.groupId)) {
      response = failed(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, req.memberId);
    } else response = await lookup.shard.classicGroups.join(req, ctx.apiVersion, clientOf(ctx));
    // Before v7 the protocol name is not nullable.
    if (ctx.apiVersion < 7 && response.protocolName === null) return { ...response, protocolName: '' };
    return response;
  },
});
