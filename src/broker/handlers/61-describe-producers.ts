/**
 * DescribeProducers (key 61), version 0: per partition (led here), the producers its state
 * knows — id, epoch, last sequence, last timestamp, the coordinator epoch of its last marker and
 * the first offset of its open transaction (-1 when none) — as Kafka's `kafka-transactions.sh
 * describe-producers` shows them. UNKNOWN_TOPIC_OR_PARTITION / NOT_LEADER_OR_FOLLOWER as for
 * other per-partition requests.
 * Deviation: no topic READ authorization (the broker has no ACLs yet).
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { apis } from '../../protocol/generated/api-keys.js';
import type { DescribeProducersRequest } from '../../protocol/generated/message/DescribeProducersRequest.js';
import { DescribeProducersResponse } from '../../protocol/generated/message/DescribeProducersResponse.js';
import { resolvePartition } from './02-list-offsets.js';
import { defineHandler, type RequestContext } from './types.js';

type PartitionResult = DescribeProducersResponse.PartitionResponse;

function describe(ctx: RequestContext, topic: string, partitionIndex: number): PartitionResult {
  const resolved = resolvePartition(ctx, topic, partitionIndex, -1, true);
  if ('error' in resolved) {
    return {
      partitionIndex,
      errorCode: resolved.error,
      errorMessage: null,
      activeProducers: [],
      unknownTaggedFields: undefined,
    };
  }
  const activeProducers: DescribeProducersResponse.ProducerState[] = [];
  for (const e of resolved.log.producerState.producers.values()) {
    activeProducers.push({
      producerId: e.producerId,
      producerEpoch: e.epoch,
      lastSequence: e.lastSeq,
      lastTimestamp: BigInt(e.lastTimestampMs),
      coordinatorEpoch: e.coordinatorEpoch,
      currentTxnStartOffset: BigInt(e.currentTxnFirstOffset),
      unknownTaggedFields: undefined,
    });
  }
  return {
    partitionIndex,
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    activeProducers,
    unknownTaggedFields: undefined,
  };
}

export const describeProducersHandler = defineHandler<DescribeProducersRequest, DescribeProducersResponse>({
  api: apis.DescribeProducers,
  minVersion: 0,
  maxVersion: 0,
  handle(ctx, req) {
    return {
      ...DescribeProducersResponse.create(),
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((p) => describe(ctx, t.name, p)),
        unknownTaggedFields: undefined,
      })),
    };
  },
});
