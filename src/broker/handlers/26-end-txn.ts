/**
 * EndTxn (key 26), versions 0-4: commits or aborts the transaction. Answered once
 * PrepareCommit/PrepareAbort is durable; the markers and the completion follow in the
 * background (the partitions' last stable offsets move as the markers land).
 * PRODUCER_FENCED before v2 is INVALID_PRODUCER_EPOCH. Version 5 (KIP-890 part 2, an epoch bump
 * per transaction) is not served.
 */
import { apis } from '../../protocol/generated/api-keys.js';
import type { EndTxnRequest } from '../../protocol/generated/message/EndTxnRequest.js';
import { EndTxnResponse } from '../../protocol/generated/message/EndTxnResponse.js';
import { fencedForVersion, txnShard } from '../txn-coordination.js';
import { defineHandler } from './types.js';

export const endTxnHandler = defineHandler<EndTxnRequest, EndTxnResponse>({
  api: apis.EndTxn,
  minVersion: 0,
  maxVersion: 4,
  async handle(ctx, req) {
    const response = EndTxnResponse.create();
    const lookup = txnShard(ctx.broker, req.transactionalId);
    if ('errorCode' in lookup) return { ...response, errorCode: lookup.errorCode };
    const code = await ctx.broker.txnCoordinator.endTxn(
      lookup.shard,
      req.transactionalId,
      req.producerId,
      req.producerEpoch,
      req.committed,
    );
    return { ...response, errorCode: fencedForVersion(code, ctx.apiVersion, 2) };
  },
});
