/**
 * OffsetFetch (key 9), versions 0-9: a group's committed offsets, -1 (with empty metadata)
 * for partitions without one; null topics (v2+) means every partition the group committed.
 * v8+ asks for several groups at once, each answered with its own error; v9 members of a
 * consumer-protocol group are checked by member epoch. With requireStable (v7+) a partition
 * whose offset a transaction has committed but not yet completed answers UNSTABLE_OFFSET_COMMIT
 * (the consumer retries), as in Kafka.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { apis } from '../../protocol/generated/api-keys.js';
import type { OffsetFetchRequest } from '../../protocol/generated/message/OffsetFetchRequest.js';
import { OffsetFetchResponse } from '../../protocol/generated/message/OffsetFetchResponse.js';
import { groupShard } from '../group-coordination.js';
import { defineHandler, type RequestContext } from './types.js';

type Topics = readonly { name: string; partitionIndexes: readonly number[] }[] | null;

interface GroupOffsets {
  errorCode: number;
  topics: {
    name: string;
    partitions: {
      partitionIndex: number;
      committedOffset: bigint;
      committedLeaderEpoch: number;
      metadata: string;
      errorCode: number;
      unknownTaggedFields: undefined;
    }[];
    unknownTaggedFields: undefined;
  }[];
}

function fetchGroup(
  ctx: RequestContext,
  groupId: string,
  topics: Topics,
  member: { memberId: string | null; memberEpoch: number } | null,
  requireStable: boolean,
): GroupOffsets {
  const lookup = groupShard(ctx.broker, groupId);
  if ('errorCode' in lookup) {
    // v0-1 have no group error: each partition asked carries it.
    return {
      errorCode: lookup.errorCode,
      topics: (topics ?? []).map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((p) => ({
          partitionIndex: p,
          committedOffset: -1n,
          committedLeaderEpoch: -1,
          metadata: '',
          errorCode: lookup.errorCode,
          unknownTaggedFields: undefined,
        })),
        unknownTaggedFields: undefined,
      })),
    };
  }
  const shard = lookup.shard;
  const result = shard.fetchOffsets(groupId, topics, member);
  return {
    errorCode: result.errorCode,
    topics: result.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) =>
        requireStable && shard.hasPendingTxnOffset(groupId, t.name, p.partitionIndex)
          ? {
              partitionIndex: p.partitionIndex,
              committedOffset: -1n,
              committedLeaderEpoch: -1,
              metadata: '',
              errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT,
              unknownTaggedFields: undefined,
            }
          : {
              partitionIndex: p.partitionIndex,
              committedOffset: p.offset,
              committedLeaderEpoch: p.leaderEpoch,
              metadata: p.metadata,
              errorCode: ErrorCode.NONE,
              unknownTaggedFields: undefined,
            },
      ),
      unknownTaggedFields: undefined,
    })),
  };
}

export const offsetFetchHandler = defineHandler<OffsetFetchRequest, OffsetFetchResponse>({
  api: apis.OffsetFetch,
  minVersion: 0,
  maxVersion: 9,
  handle(ctx, req) {
    if (ctx.apiVersion >= 8) {
      const groups = req.groups.map((g) => {
        const member = ctx.apiVersion >= 9 ? { memberId: g.memberId, memberEpoch: g.memberEpoch } : null;
        const r = fetchGroup(ctx, g.groupId, g.topics, member, req.requireStable);
        return {
          groupId: g.groupId,
          errorCode: r.errorCode,
          topics: r.topics,
          unknownTaggedFields: undefined,
        };
      });
      return { ...OffsetFetchResponse.create(), groups };
    }
    const topics = ctx.apiVersion >= 2 ? req.topics : (req.topics ?? []);
    const r = fetchGroup(ctx, req.groupId, topics, null, ctx.apiVersion >= 7 && req.requireStable);
    return { ...OffsetFetchResponse.create(), errorCode: r.errorCode, topics: r.topics };
  },
});
