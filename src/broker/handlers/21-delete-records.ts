/**
 * DeleteRecords (key 21), versions 0-2.
 *
 * Moves a partition's log start offset up to the requested offset (-1 meaning the high
 * watermark) and removes the segments wholly below it; the answer is the new low watermark (the
 * log start offset). As in Kafka: an offset above the high watermark, or negative other than -1,
 * is OFFSET_OUT_OF_RANGE; an offset at or below the log start changes nothing and answers the
 * log start; a topic whose cleanup.policy lacks "delete" answers POLICY_VIOLATION; Kafka's
 * internal topics answer INVALID_TOPIC_EXCEPTION; only the leader deletes
 * (NOT_LEADER_OR_FOLLOWER elsewhere).
 * Deviation: the answer comes once the leader's log start has moved. Kafka waits (up to
 * timeoutMs) for every replica's log start to pass the offset, since the low watermark is their
 * minimum; with one replica the two are the same.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { apis } from '../../protocol/generated/api-keys.js';
import type { DeleteRecordsRequest } from '../../protocol/generated/message/DeleteRecordsRequest.js';
import { DeleteRecordsResponse } from '../../protocol/generated/message/DeleteRecordsResponse.js';
import { errorCodeOf } from '../replica-manager.js';
import { resolvePartition } from './02-list-offsets.js';
import { isInternalTopic } from './03-metadata.js';
import { defineHandler, type RequestContext } from './types.js';

/** The offset that means "up to the high watermark" (Kafka's DeleteRecordsRequest.HIGH_WATERMARK). */
const HIGH_WATERMARK = -1;

type PartitionResult = DeleteRecordsResponse.DeleteRecordsPartitionResult;

function result(partitionIndex: number, errorCode: number, lowWatermark = -1): PartitionResult {
  return { partitionIndex, lowWatermark: BigInt(lowWatermark), errorCode, unknownTaggedFields: undefined };
}

async function deleteBefore(
  ctx: RequestContext,
  topic: string,
  rp: DeleteRecordsRequest.DeleteRecordsPartition,
): Promise<PartitionResult> {
  const index = rp.partitionIndex;
  const resolved = resolvePartition(ctx, topic, index, -1, true);
  if ('error' in resolved) return result(index, resolved.error);
  if (isInternalTopic(topic)) return result(index, ErrorCode.INVALID_TOPIC_EXCEPTION);
  const p = resolved;
  if (!p.log.config.cleanupPolicy.delete) return result(index, ErrorCode.POLICY_VIOLATION);
  const requested = Number(rp.offset);
  const offset = requested === HIGH_WATERMARK ? p.highWatermark : requested;
  if (offset < 0 || offset > p.highWatermark) return result(index, ErrorCode.OFFSET_OUT_OF_RANGE);
  try {
    const before = p.log.logStartOffset;
    const lowWatermark = await p.log.deleteRecordsBefore(offset);
    if (lowWatermark > before)
      ctx.broker.log(`${topic}-${index}: records before offset ${lowWatermark} deleted`);
    return result(index, ErrorCode.NONE, lowWatermark);
  } catch (e) {
    const { errorCode, errorMessage } = errorCodeOf(e);
    if (errorCode === ErrorCode.UNKNOWN_SERVER_ERROR)
      ctx.broker.log(`delete records of ${topic}-${index} failed: ${errorMessage}`);
    return result(index, errorCode);
  }
}

export const deleteRecordsHandler = defineHandler<DeleteRecordsRequest, DeleteRecordsResponse>({
  api: apis.DeleteRecords,
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, req) {
    const topics = await Promise.all(
      req.topics.map(async (t) => ({
        name: t.name,
        partitions: await Promise.all(t.partitions.map((p) => deleteBefore(ctx, t.name, p))),
        unknownTaggedFields: undefined,
      })),
    );
    return { ...DeleteRecordsResponse.create(), topics };
  },
});
