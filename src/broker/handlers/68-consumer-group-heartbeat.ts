/**
 * ConsumerGroupHeartbeat (key 68), versions 0-1: the consumer group protocol of KIP-848, where
 * the coordinator computes assignments (uniform or range assignor) and members reconcile
 * incrementally by member epoch (src/coordinator/consumer). The response waits until the
 * records of the change are durable in `__consumer_offsets`. An empty classic group (offsets
 * only) becomes a consumer group on its first member; a classic group with members answers
 * GROUP_ID_NOT_FOUND. Not served when group.coordinator.rebalance.protocols lacks "consumer".
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { apis } from '../../protocol/generated/api-keys.js';
import type { ConsumerGroupHeartbeatRequest } from '../../protocol/generated/message/ConsumerGroupHeartbeatRequest.js';
import { ConsumerGroupHeartbeatResponse } from '../../protocol/generated/message/ConsumerGroupHeartbeatResponse.js';
import { clientOf, groupShard } from '../group-coordination.js';
import { defineHandler } from './types.js';

function failed(errorCode: number, errorMessage: string | null = null): ConsumerGroupHeartbeatResponse {
  return {
    ...ConsumerGroupHeartbeatResponse.create(),
    errorCode,
    errorMessage,
    memberEpoch: -1,
    assignment: null,
  };
}

export const consumerGroupHeartbeatHandler = defineHandler<
  ConsumerGroupHeartbeatRequest,
  ConsumerGroupHeartbeatResponse
>({
  api: apis.ConsumerGroupHeartbeat,
  minVersion: 0,
  maxVersion: 1,
  async handle(ctx, req) {
    if (req.groupId === '') return failed(ErrorCode.INVALID_REQUEST, 'GroupId can not be empty.');
    const lookup = groupShard(ctx.broker, req.groupId);
    if ('errorCode' in lookup) return failed(lookup.errorCode);
    return lookup.shard.consumerGroupHeartbeat(req, ctx.apiVersion, clientOf(ctx));
  },
});
