/**
 * AddPartitionsToTxn (key 24), versions 0-5. Versions 0-3 come from producers: one transaction,
 * its partitions added to it. Versions 4-5 come from brokers (KIP-890): several transactions, each
 * added or, with verifyOnly, checked (NONE when the partition is in the ongoing transaction).
 * A partition that does not exist fails the request: it gets UNKNOWN_TOPIC_OR_PARTITION, the
 * others OPERATION_NOT_ATTEMPTED, and nothing is added, as in Kafka.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { apis } from '../../protocol/generated/api-keys.js';
import type { AddPartitionsToTxnRequest } from '../../protocol/generated/message/AddPartitionsToTxnRequest.js';
import { AddPartitionsToTxnResponse } from '../../protocol/generated/message/AddPartitionsToTxnResponse.js';
import type { TxnPartition } from '../../coordinator/transaction/txn-metadata.js';
import { partitionKey } from '../../coordinator/transaction/txn-metadata.js';
import type { BrokerServices } from '../services.js';
import { fencedForVersion, txnShard } from '../txn-coordination.js';
import { defineHandler } from './types.js';

type TopicResult = AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult;

function results(
  topics: readonly AddPartitionsToTxnRequest.AddPartitionsToTxnTopic[],
  codeOf: (topic: string, partition: number) => number,
): TopicResult[] {
  return topics.map((t) => ({
    name: t.name,
    resultsByPartition: t.partitions.map((partitionIndex) => ({
      partitionIndex,
      partitionErrorCode: codeOf(t.name, partitionIndex),
      unknownTaggedFields: undefined,
    })),
    unknownTaggedFields: undefined,
  }));
}

async function addOne(
  b: BrokerServices,
  apiVersion: number,
  t: { transactionalId: string; producerId: bigint; producerEpoch: number; verifyOnly: boolean },
  topics: readonly AddPartitionsToTxnRequest.AddPartitionsToTxnTopic[],
): Promise<TopicResult[]> {
  const lookup = txnShard(b, t.transactionalId);
  if ('errorCode' in lookup) return results(topics, () => lookup.errorCode);
  const partitions: TxnPartition[] = topics.flatMap((x) =>
    x.partitions.map((partition) => ({ topic: x.name, partition })),
  );
  const image = b.image();
  const unknown = new Set(
    partitions
      .filter((p) => image.topicsByName.get(p.topic)?.partitions.get(p.partition) === undefined)
      .map((p) => partitionKey(p.topic, p.partition)),
  );
  if (unknown.size > 0) {
    return results(topics, (topic, p) =>
      unknown.has(partitionKey(topic, p))
        ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
        : ErrorCode.OPERATION_NOT_ATTEMPTED,
    );
  }
  const coordinator = b.txnCoordinator;
  if (t.verifyOnly) {
    const verified = coordinator.verifyPartitions(
      lookup.shard,
      t.transactionalId,
      t.producerId,
      t.producerEpoch,
      partitions,
    );
    return results(
      topics,
      (topic, p) => verified.get(partitionKey(topic, p)) ?? ErrorCode.UNKNOWN_SERVER_ERROR,
    );
  }
  const code = await coordinator.addPartitions(
    lookup.shard,
    t.transactionalId,
    t.producerId,
    t.producerEpoch,
    partitions,
  );
  return results(topics, () => fencedForVersion(code, apiVersion, 2));
}

export const addPartitionsToTxnHandler = defineHandler<AddPartitionsToTxnRequest, AddPartitionsToTxnResponse>(
  {
    api: apis.AddPartitionsToTxn,
    minVersion: 0,
    maxVersion: 5,
    async handle(ctx, req) {
      const response = AddPartitionsToTxnResponse.create();
      if (ctx.apiVersion <= 3) {
        const resultsByTopicV3AndBelow = await addOne(
          ctx.broker,
          ctx.apiVersion,
          {
            transactionalId: req.v3AndBelowTransactionalId,
            producerId: req.v3AndBelowProducerId,
            producerEpoch: req.v3AndBelowProducerEpoch,
            verifyOnly: false,
          },
          req.v3AndBelowTopics,
        );
        return { ...response, resultsByTopicV3AndBelow };
      }
      const resultsByTransaction = await Promise.all(
        req.transactions.map(async (t) => ({
          transactionalId: t.transactionalId,
          topicResults: await addOne(ctx.broker, ctx.apiVersion, t, t.topics),
          unknownTaggedFields: undefined,
        })),
      );
      return { ...response, resultsByTransaction };
    },
  },
);
