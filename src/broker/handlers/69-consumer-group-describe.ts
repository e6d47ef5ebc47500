/**
 * ConsumerGroupDescribe (key 69), version 0: members, epochs, current and target assignments
 * of consumer-protocol (KIP-848) groups. A classic or unknown group answers GROUP_ID_NOT_FOUND.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { apis } from '../../protocol/generated/api-keys.js';
import type { ConsumerGroupDescribeRequest } from '../../protocol/generated/message/ConsumerGroupDescribeRequest.js';
import { ConsumerGroupDescribeResponse } from '../../protocol/generated/message/ConsumerGroupDescribeResponse.js';
import { groupShard } from '../group-coordination.js';
import { defineHandler } from './types.js';

export const consumerGroupDescribeHandler = defineHandler<
  ConsumerGroupDescribeRequest,
  ConsumerGroupDescribeResponse
>({
  api: apis.ConsumerGroupDescribe,
  minVersion: 0,
  maxVersion: 0,
  handle(ctx, req) {
    const groups = req.groupIds.map((groupId): ConsumerGroupDescribeResponse.DescribedGroup => {
      const lookup = groupShard(ctx.broker, groupId);
      if ('errorCode' in lookup) {
        return {
          ...ConsumerGroupDescribeResponse.structs.DescribedGroup(),
          groupId,
          errorCode: lookup.errorCode,
        };
      }
      const described = lookup.shard.consumerGroups.describe([groupId], req.includeAuthorizedOperations)[0]!;
      if (
        described.errorCode === ErrorCode.GROUP_ID_NOT_FOUND &&
        lookup.shard.classicGroups.get(groupId) !== undefined
      ) {
        return { ...described, errorMessage: `Group ${groupId} is not a consumer group.` };
      }
      return described;
    });
    return { ...ConsumerGroupDescribeResponse.create(), groups };
  },
});
