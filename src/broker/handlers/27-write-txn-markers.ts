/**
 * WriteTxnMarkers (key 27), versions 0-1: a transaction coordinator (on another broker, or a
 * tool) asks this broker, leader of the partitions, to write COMMIT or ABORT markers. Clients
 * never send it. The work is txn-markers.ts's writeTxnMarkers, the same the in-process
 * coordinator calls; per partition: UNKNOWN_TOPIC_OR_PARTITION (not hosted),
 * NOT_LEADER_OR_FOLLOWER, INVALID_PRODUCER_EPOCH, TRANSACTION_COORDINATOR_FENCED, or a storage
 * error. Markers may go to internal topics (`__consumer_offsets` for transactional offsets).
 * Deviation: no CLUSTER_ACTION authorization (the broker has no ACLs yet).
 */
import { apis } from '../../protocol/generated/api-keys.js';
import type { WriteTxnMarkersRequest } from '../../protocol/generated/message/WriteTxnMarkersRequest.js';
import { WriteTxnMarkersResponse } from '../../protocol/generated/message/WriteTxnMarkersResponse.js';
import { writeTxnMarkers, type TxnMarkerResult } from '../txn-markers.js';
import { defineHandler } from './types.js';

/** One marker's answer, its partitions grouped by topic in first-seen order. */
function byTopic(
  producerId: bigint,
  results: readonly TxnMarkerResult[],
): WriteTxnMarkersResponse.WritableTxnMarkerResult {
  const topics = new Map<string, WriteTxnMarkersResponse.WritableTxnMarkerTopicResult>();
  for (const r of results) {
    let t = topics.get(r.topic);
    if (t === undefined) {
      t = { name: r.topic, partitions: [], unknownTaggedFields: undefined };
      topics.set(r.topic, t);
    }
    t.partitions.push({
      partitionIndex: r.partition,
      errorCode: r.errorCode,
      unknownTaggedFields: undefined,
    });
  }
  return { producerId, topics: [...topics.values()], unknownTaggedFields: undefined };
}

export const writeTxnMarkersHandler = defineHandler<WriteTxnMarkersRequest, WriteTxnMarkersResponse>({
  api: apis.WriteTxnMarkers,
  minVersion: 0,
  maxVersion: 1,
  async handle(ctx, req) {
    const results = await writeTxnMarkers(
      ctx.broker,
      req.markers.map((m) => ({
        producerId: m.producerId,
        producerEpoch: m.producerEpoch,
        coordinatorEpoch: m.coordinatorEpoch,
        commit: m.transactionResult,
        partitions: m.topics.flatMap((t) =>
          t.partitionIndexes.map((partition) => ({ topic: t.name, partition })),
        ),
      })),
    );
    return {
      ...WriteTxnMarkersResponse.create(),
      markers: req.markers.map((m, i) => byTopic(m.producerId, results[i]!)),
    };
  },
});
