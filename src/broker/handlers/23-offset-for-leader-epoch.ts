/**
 * OffsetForLeaderEpoch (key 23), versions 0-4.
 *
 * For each partition, the end offset of the requested leader epoch in the leader's log — the
 * start offset of the first later epoch, or the log end for the current one — with the largest
 * epoch at or below the requested one (v1+), exactly as Kafka's leader-epoch cache answers it;
 * an epoch the log does not know answers epoch -1 / offset -1 with no error. Followers use it to
 * find where a diverged log must be truncated; consumers (replicaId -1, v3+) to validate their
 * position after a leader change. currentLeaderEpoch (v2+) is fenced as in Fetch
 * (FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH); only the leader answers
 * (NOT_LEADER_OR_FOLLOWER elsewhere), whatever the replicaId (v3+; -2 before, as in Kafka).
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { apis } from '../../protocol/generated/api-keys.js';
import type { OffsetForLeaderEpochRequest } from '../../protocol/generated/message/OffsetForLeaderEpochRequest.js';
import { OffsetForLeaderEpochResponse } from '../../protocol/generated/message/OffsetForLeaderEpochResponse.js';
import { errorCodeOf } from '../replica-manager.js';
import { resolvePartition } from './02-list-offsets.js';
import { defineHandler, type RequestContext } from './types.js';

type EpochEndOffset = OffsetForLeaderEpochResponse.EpochEndOffset;

function result(partition: number, errorCode: number, leaderEpoch = -1, endOffset = -1): EpochEndOffset {
  return { errorCode, partition, leaderEpoch, endOffset: BigInt(endOffset), unknownTaggedFields: undefined };
}

function endOffsetFor(
  ctx: RequestContext,
  topic: string,
  rp: OffsetForLeaderEpochRequest.OffsetForLeaderPartition,
): EpochEndOffset {
  const resolved = resolvePartition(ctx, topic, rp.partition, rp.currentLeaderEpoch, true);
  if ('error' in resolved) return result(rp.partition, resolved.error);
  try {
    const found = resolved.log.endOffsetForEpoch(rp.leaderEpoch);
    if (found.endOffset < 0) return result(rp.partition, ErrorCode.NONE);
    // v0 has no leader epoch in its answer.
    const epoch = ctx.apiVersion >= 1 ? found.epoch : -1;
    return result(rp.partition, ErrorCode.NONE, epoch, found.endOffset);
  } catch (e) {
    return result(rp.partition, errorCodeOf(e).errorCode);
  }
}

export const offsetForLeaderEpochHandler = defineHandler<
  OffsetForLeaderEpochRequest,
  OffsetForLeaderEpochResponse
>({
  api: apis.OffsetForLeaderEpoch,
  minVersion: 0,
  maxVersion: 4,
  handle(ctx, req) {
    return {
      ...OffsetForLeaderEpochResponse.create(),
      topics: req.topics.map((t) => ({
        topic: t.topic,
        partitions: t.partitions.map((p) => endOffsetFor(ctx, t.topic, p)),
        unknownTaggedFields: undefined,
      })),
    };
  },
});
