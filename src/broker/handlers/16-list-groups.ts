/**
 * ListGroups (key 16), versions 0-5: the groups of every coordinator shard on this broker,
 * filtered by state (v4+) and type (v5+, "classic" or "consumer"), both case-insensitive as
 * in Kafka. While a shard is loading the answer is COORDINATOR_LOAD_IN_PROGRESS.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { apis } from '../../protocol/generated/api-keys.js';
import type { ListGroupsRequest } from '../../protocol/generated/message/ListGroupsRequest.js';
import { ListGroupsResponse } from '../../protocol/generated/message/ListGroupsResponse.js';
import { defineHandler } from './types.js';

export const listGroupsHandler = defineHandler<ListGroupsRequest, ListGroupsResponse>({
  api: apis.ListGroups,
  minVersion: 0,
  maxVersion: 5,
  handle(ctx, req) {
    const coordinator = ctx.broker.groupCoordinator;
    if (coordinator.loading)
      return { ...ListGroupsResponse.create(), errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS };
    const states = new Set((ctx.apiVersion >= 4 ? req.statesFilter : []).map((s) => s.toLowerCase()));
    const types = new Set((ctx.apiVersion >= 5 ? req.typesFilter : []).map((s) => s.toLowerCase()));
    const groups = coordinator
      .activeShards()
      .flatMap((s) => s.listGroups())
      .filter((g) => states.size === 0 || states.has(g.groupState.toLowerCase()))
      .filter((g) => types.size === 0 || types.has(g.groupType.toLowerCase()))
      .sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0))
      .map((g) => ({ ...g, unknownTaggedFields: undefined }));
    return { ...ListGroupsResponse.create(), groups };
  },
});
