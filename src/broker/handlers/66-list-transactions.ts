/**
 * ListTransactions (key 66), versions 0-1: the transactional ids this broker coordinates,
 * filtered by state names (unknown names are echoed back in unknownStateFilters and match
 * nothing), producer ids, and (v1) transactions running longer than durationFilter ms.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { apis } from '../../protocol/generated/api-keys.js';
import type { ListTransactionsRequest } from '../../protocol/generated/message/ListTransactionsRequest.js';
import { ListTransactionsResponse } from '../../protocol/generated/message/ListTransactionsResponse.js';
import { TxnState, txnStateName, txnStateOf } from '../../coordinator/transaction/txn-metadata.js';
import { defineHandler } from './types.js';

export const listTransactionsHandler = defineHandler<ListTransactionsRequest, ListTransactionsResponse>({
  api: apis.ListTransactions,
  minVersion: 0,
  maxVersion: 1,
  handle(ctx, req) {
    const states = new Set<number>();
    const unknownStateFilters: string[] = [];
    for (const name of req.stateFilters) {
      const s = txnStateOf(name);
      if (s === undefined) unknownStateFilters.push(name);
      else states.add(s);
    }
    const producerIds = new Set(req.producerIdFilters);
    const nowMs = ctx.broker.clock.nowMs();
    const minDurationMs = ctx.apiVersion >= 1 ? Number(req.durationFilter) : -1;
    const transactionStates: ListTransactionsResponse.TransactionState[] = [];
    // Unknown state names filter everything out, as Kafka's coordinator does.
    if (unknownStateFilters.length === 0 || states.size > 0) {
      for (const shard of ctx.broker.txnCoordinator.activeShards()) {
        for (const m of shard.txns.values()) {
          if (states.size > 0 && !states.has(m.state)) continue;
          if (producerIds.size > 0 && !producerIds.has(m.producerId)) continue;
          if (minDurationMs >= 0) {
            const running = m.state === TxnState.Ongoing ? nowMs - m.txnStartTimestampMs : -1;
            if (running < minDurationMs) continue;
          }
          transactionStates.push({
            transactionalId: m.transactionalId,
            producerId: m.producerId,
            transactionState: txnStateName(m.state),
            unknownTaggedFields: undefined,
          });
        }
      }
    }
    return {
      ...ListTransactionsResponse.create(),
      errorCode: ErrorCode.NONE,
      unknownStateFilters,
      transactionStates,
    };
  },
});
