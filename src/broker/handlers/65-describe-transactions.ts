/**
 * DescribeTransactions (key 65), version 0: the state of transactional ids this broker
 * coordinates (TRANSACTIONAL_ID_NOT_FOUND for an unknown one, NOT_COORDINATOR for another
 * broker's).
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { apis } from '../../protocol/generated/api-keys.js';
import type { DescribeTransactionsRequest } from '../../protocol/generated/message/DescribeTransactionsRequest.js';
import { DescribeTransactionsResponse } from '../../protocol/generated/message/DescribeTransactionsResponse.js';
import { txnStateName } from '../../coordinator/transaction/txn-metadata.js';
import { txnShard } from '../txn-coordination.js';
import { defineHandler } from './types.js';

export const describeTransactionsHandler = defineHandler<
  DescribeTransactionsRequest,
  DescribeTransactionsResponse
>({
  api: apis.DescribeTransactions,
  minVersion: 0,
  maxVersion: 0,
  handle(ctx, req) {
    const transactionStates = req.transactionalIds.map((transactionalId) => {
      const empty = {
        errorCode: ErrorCode.NONE,
        transactionalId,
        transactionState: '',
        transactionTimeoutMs: 0,
        transactionStartTimeMs: -1n,
        producerId: -1n,
        producerEpoch: -1,
        topics: [],
        unknownTaggedFields: undefined,
      };
      const lookup = txnShard(ctx.broker, transactionalId);
      if ('errorCode' in lookup) return { ...empty, errorCode: lookup.errorCode };
      const m = lookup.shard.txns.get(transactionalId);
      if (m === undefined) return { ...empty, errorCode: ErrorCode.TRANSACTIONAL_ID_NOT_FOUND };
      const byTopic = new Map<string, number[]>();
      for (const p of m.partitions.values()) {
        let list = byTopic.get(p.topic);
        if (list === undefined) byTopic.set(p.topic, (list = []));
        list.push(p.partition);
      }
      return {
        ...empty,
        transactionState: txnStateName(m.state),
        transactionTimeoutMs: m.transactionTimeoutMs,
        transactionStartTimeMs: BigInt(m.txnStartTimestampMs),
        producerId: m.producerId,
        producerEpoch: m.producerEpoch,
        topics: [...byTopic].map(([topic, partitions]) => ({
          topic,
          partitions: partitions.sort((a, b) => a - b),
          unknownTaggedFields: undefined,
        })),
      };
    });
    return { ...DescribeTransactionsResponse.create(), transactionStates };
  },
});
