/**
 * DeleteGroups (key 42), versions 0-2: deletes empty groups and their committed offsets
 * (tombstones in `__consumer_offsets`). A group with members: NON_EMPTY_GROUP; unknown:
 * GROUP_ID_NOT_FOUND.
 */
import { apis } from '../../protocol/generated/api-keys.js';
import type { DeleteGroupsRequest } from '../../protocol/generated/message/DeleteGroupsRequest.js';
import { DeleteGroupsResponse } from '../../protocol/generated/message/DeleteGroupsResponse.js';
import { groupShard } from '../group-coordination.js';
import { defineHandler } from './types.js';

export const deleteGroupsHandler = defineHandler<DeleteGroupsRequest, DeleteGroupsResponse>({
  api: apis.DeleteGroups,
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, req) {
    const results = await Promise.all(
      [...new Set(req.groupsNames)].map(async (groupId) => {
        const lookup = groupShard(ctx.broker, groupId);
        const errorCode = 'errorCode' in lookup ? lookup.errorCode : await lookup.shard.deleteGroup(groupId);
        return { groupId, errorCode, unknownTaggedFields: undefined };
      }),
    );
    return { ...DeleteGroupsResponse.create(), results };
  },
});
