/**
 * OffsetDelete (key 47), version 0: removes committed offsets of a group (tombstones in
 * `__consumer_offsets`). Unknown group: GROUP_ID_NOT_FOUND; a partition of a topic the group's
 * members still subscribe to: GROUP_SUBSCRIBED_TO_TOPIC, as Kafka checks it.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { apis } from '../../protocol/generated/api-keys.js';
import type { OffsetDeleteRequest } from '../../protocol/generated/message/OffsetDeleteRequest.js';
import { OffsetDeleteResponse } from '../../protocol/generated/message/OffsetDeleteResponse.js';
import { groupShard } from '../group-coordination.js';
import { defineHandler } from './types.js';

export const offsetDeleteHandler = defineHandler<OffsetDeleteRequest, OffsetDeleteResponse>({
  api: apis.OffsetDelete,
  minVersion: 0,
  maxVersion: 0,
  async handle(ctx, req) {
    const lookup = groupShard(ctx.broker, req.groupId);
    if ('errorCode' in lookup) return { ...OffsetDeleteResponse.create(), errorCode: lookup.errorCode };
    const r = await lookup.shard.deleteOffsets(
      req.groupId,
      req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => p.partitionIndex) })),
    );
    if (r.errorCode !== ErrorCode.NONE) return { ...OffsetDeleteResponse.create(), errorCode: r.errorCode };
    return {
      ...OffsetDeleteResponse.create(),
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          errorCode: r.results.get(t.name)?.get(p.partitionIndex) ?? ErrorCode.NONE,
          unknownTaggedFields: undefined,
        })),
        unknownTaggedFields: undefined,
      })),
    };
  },
});
