/**
 * DescribeTopicPartitions (key 75), version 0 (flexible), KIP-966: topics and their partitions
 * from the metadata image, in pages. Follows Kafka's DescribeTopicPartitionsRequestHandler and
 * MetadataCache.describeTopicResponse:
 *
 * - No topics named: every topic; named topics are de-duplicated. Either way topics are sorted
 *   by name and those before the cursor's topic are left out.
 * - At most `responsePartitionLimit` partitions (clamped to 1..2000, Kafka's
 *   max.request.partition.size.limit default) are described. When a topic is cut short,
 *   `nextCursor` names it and its first partition not described; when the limit is used up
 *   exactly at a topic boundary and topics remain, `nextCursor` names the next topic and
 *   partition 0. The cursor's topic starts at the cursor's partition.
 * - A cursor whose topic is not among the named topics, or whose partition is negative, fails
 *   the whole request: every named topic gets INVALID_REQUEST.
 * - A named topic that does not exist gets UNKNOWN_TOPIC_OR_PARTITION (INVALID_TOPIC_EXCEPTION
 *   for an illegal name); in an all-topics listing such topics are simply absent.
 * - A partition whose leader is not a registered broker shows leader -1; replicas on brokers
 *   that are not registered or fenced are listed as offline. ELR lists are empty (ELR is not
 *   implemented, as in Kafka without the eligible.leader.replicas feature).
 *
 * Deviation: no ACLs, so never TOPIC_AUTHORIZATION_FAILED and authorized operations are
 * omitted (-2147483648).
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { apis } from '../../protocol/generated/api-keys.js';
import type { DescribeTopicPartitionsRequest } from '../../protocol/generated/message/DescribeTopicPartitionsRequest.js';
import type { DescribeTopicPartitionsResponse } from '../../protocol/generated/message/DescribeTopicPartitionsResponse.js';
import { topicNameProblem } from '../../metadata/controller.js';
import type { MetadataImage, TopicImage } from '../../metadata/image.js';
import { isInternalTopic } from './03-metadata.js';
import { defineHandler } from './types.js';

type TopicResult = DescribeTopicPartitionsResponse.DescribeTopicPartitionsResponseTopic;
type PartitionResult = DescribeTopicPartitionsResponse.DescribeTopicPartitionsResponsePartition;

const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';
const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;
/** Kafka's max.request.partition.size.limit default: the most partitions one response describes. */
export const MAX_RESPONSE_PARTITIONS = 2000;

function topicResult(
  errorCode: number,
  name: string,
  topicId: string,
  partitions: PartitionResult[],
): TopicResult {
  return {
    errorCode,
    name,
    topicId,
    isInternal: isInternalTopic(name),
    partitions,
    topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
    unknownTaggedFields: undefined,
  };
}

/** Partitions [start, start + max) of a topic, and the first one left out (-1 when none). */
function describePartitions(
  image: MetadataImage,
  topic: TopicImage,
  start: number,
  max: number,
): { partitions: PartitionResult[]; next: number } {
  const count = topic.partitions.size;
  const upper = Math.min(count, start + max);
  const partitions: PartitionResult[] = [];
  for (let id = start; id < upper; id++) {
    const p = topic.partitions.get(id);
    if (p === undefined) continue;
    partitions.push({
      errorCode: ErrorCode.NONE,
      partitionIndex: id,
      leaderId: image.brokers.has(p.leader) ? p.leader : -1,
      leaderEpoch: p.leaderEpoch,
      replicaNodes: [...p.replicas],
      isrNodes: [...p.isr],
      eligibleLeaderReplicas: [],
      lastKnownElr: [],
      offlineReplicas: p.replicas.filter((r) => {
        const broker = image.brokers.get(r);
        return broker === undefined || broker.fenced;
      }),
      unknownTaggedFields: undefined,
    });
  }
  return { partitions, next: upper < count ? upper : -1 };
}

export const describeTopicPartitionsHandler = defineHandler<
  DescribeTopicPartitionsRequest,
  DescribeTopicPartitionsResponse
>({
  api: apis.DescribeTopicPartitions,
  minVersion: 0,
  maxVersion: 0,
  handle(ctx, req) {
    const image = ctx.broker.image();
    const cursor = req.cursor;
    const cursorTopic = cursor?.topicName ?? '';
    const all = req.topics.length === 0;
    const names = new Set<string>();
    for (const name of all ? image.topicsByName.keys() : req.topics.map((t) => t.name)) {
      if (name >= cursorTopic) names.add(name);
    }

    const refuse = (): DescribeTopicPartitionsResponse => ({
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        ...topicResult(ErrorCode.INVALID_REQUEST, t.name, ZERO_UUID, []),
        isInternal: false,
      })),
      nextCursor: null,
      unknownTaggedFields: undefined,
    });
    if (!all && cursor !== null && !names.has(cursor.topicName)) return refuse();
    if (cursor !== null && cursor.partitionIndex < 0) return refuse();

    const limit = Math.max(Math.min(MAX_RESPONSE_PARTITIONS, req.responsePartitionLimit), 1);
    let remaining = limit;
    const topics: TopicResult[] = [];
    let nextCursor: DescribeTopicPartitionsResponse.Cursor | null = null;
    for (const name of [...names].sort()) {
      if (remaining === 0) {
        // The limit ran out exactly at the end of the previous topic: resume at this one.
        nextCursor = { topicName: name, partitionIndex: 0, unknownTaggedFields: undefined };
        break;
      }
      const topic = image.topicsByName.get(name);
      if (topic === undefined) {
        if (!all) {
          const code =
            topicNameProblem(name) === null
              ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
              : ErrorCode.INVALID_TOPIC_EXCEPTION;
          topics.push(topicResult(code, name, ZERO_UUID, []));
        }
        continue;
      }
      const start = cursor !== null && name === cursor.topicName ? cursor.partitionIndex : 0;
      const { partitions, next } = describePartitions(image, topic, start, remaining);
      topics.push(topicResult(ErrorCode.NONE, name, topic.topicId, partitions));
      if (next !== -1) {
        nextCursor = { topicName: name, partitionIndex: next, unknownTaggedFields: undefined };
        break;
      }
      remaining -= partitions.length;
    }
    return { throttleTimeMs: 0, topics, nextCursor, unknownTaggedFields: undefined };
  },
});
