/**
 * DescribeGroups (key 15), versions 0-5: state, protocol and members of groups. As in Kafka,
 * member metadata and assignments are given only for a Stable classic group, and an unknown
 * group is described as Dead with no error. Consumer-protocol groups are listed with their
 * members (details in ConsumerGroupDescribe). Authorized operations are not tracked (no ACLs).
 */
import { apis } from '../../protocol/generated/api-keys.js';
import type { DescribeGroupsRequest } from '../../protocol/generated/message/DescribeGroupsRequest.js';
import { DescribeGroupsResponse } from '../../protocol/generated/message/DescribeGroupsResponse.js';
import { groupShard } from '../group-coordination.js';
import { defineHandler } from './types.js';

const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

export const describeGroupsHandler = defineHandler<DescribeGroupsRequest, DescribeGroupsResponse>({
  api: apis.DescribeGroups,
  minVersion: 0,
  maxVersion: 5,
  handle(ctx, req) {
    const groups = req.groups.map((groupId): DescribeGroupsResponse.DescribedGroup => {
      const lookup = groupShard(ctx.broker, groupId);
      const described =
        'errorCode' in lookup
          ? {
              errorCode: lookup.errorCode,
              groupId,
              groupState: '',
              protocolType: '',
              protocolData: '',
              members: [],
            }
          : lookup.shard.describeGroup(groupId);
      return {
        ...described,
        authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
        unknownTaggedFields: undefined,
      };
    });
    return { ...DescribeGroupsResponse.create(), groups };
  },
});
