/**
 * OffsetCommit (key 8), versions 0-9: a group's consumed positions, written to
 * `__consumer_offsets` and acknowledged once durable under that log's flush policy.
 * Members of a classic group commit with their generation (checked as Kafka checks it:
 * ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID, REBALANCE_IN_PROGRESS); a
 * negative generation with no member is a standalone commit, accepted while the group has no
 * members. v9 members of a consumer-protocol group commit with their member epoch
 * (STALE_MEMBER_EPOCH). Partitions of unknown topics answer UNKNOWN_TOPIC_OR_PARTITION;
 * metadata beyond offset.metadata.max.bytes, OFFSET_METADATA_TOO_LARGE.
 * Deviation: the retention time of v2-v4 is not kept per offset; offsets.retention.minutes
 * applies to all.
 */
import { apis } from '../../protocol/generated/api-keys.js';
import type { OffsetCommitRequest } from '../../protocol/generated/message/OffsetCommitRequest.js';
import { OffsetCommitResponse } from '../../protocol/generated/message/OffsetCommitResponse.js';
import { commitAnswer, groupShard } from '../group-coordination.js';
import { defineHandler } from './types.js';

export const offsetCommitHandler = defineHandler<OffsetCommitRequest, OffsetCommitResponse>({
  api: apis.OffsetCommit,
  minVersion: 0,
  maxVersion: 9,
  async handle(ctx, req) {
    const lookup = groupShard(ctx.broker, req.groupId);
    let codes: Map<string, Map<number, number>> | null = null;
    if (!('errorCode' in lookup)) {
      const image = ctx.broker.image();
      codes = await lookup.shard.commitOffsets(
        req,
        ctx.apiVersion,
        (topic, partition) => image.topicsByName.get(topic)?.partitions.has(partition) === true,
      );
    }
    return {
      ...OffsetCommitResponse.create(),
      topics: commitAnswer(req.topics, lookup, codes),
    };
  },
});
