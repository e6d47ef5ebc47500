/**
 * AddOffsetsToTxn (key 25), versions 0-4: adds the group's `__consumer_offsets` partition to the
 * transaction, so its TxnOffsetCommit is completed by the transaction's marker.
 * PRODUCER_FENCED before v2 is INVALID_PRODUCER_EPOCH.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { apis } from '../../protocol/generated/api-keys.js';
import type { AddOffsetsToTxnRequest } from '../../protocol/generated/message/AddOffsetsToTxnRequest.js';
import { AddOffsetsToTxnResponse } from '../../protocol/generated/message/AddOffsetsToTxnResponse.js';
import { OFFSETS_TOPIC, partitionForGroup } from '../../coordinator/group-coordinator.js';
import { ensureOffsetsTopic } from '../group-coordination.js';
import { fencedForVersion, txnShard } from '../txn-coordination.js';
import { defineHandler } from './types.js';

export const addOffsetsToTxnHandler = defineHandler<AddOffsetsToTxnRequest, AddOffsetsToTxnResponse>({
  api: apis.AddOffsetsToTxn,
  minVersion: 0,
  maxVersion: 4,
  async handle(ctx, req) {
    const response = AddOffsetsToTxnResponse.create();
    if (req.groupId === '') return { ...response, errorCode: ErrorCode.INVALID_GROUP_ID };
    const lookup = txnShard(ctx.broker, req.transactionalId);
    if ('errorCode' in lookup) return { ...response, errorCode: lookup.errorCode };
    const offsets = await ensureOffsetsTopic(ctx.broker);
    if ('errorCode' in offsets) return { ...response, errorCode: offsets.errorCode };
    const code = await ctx.broker.txnCoordinator.addPartitions(
      lookup.shard,
      req.transactionalId,
      req.producerId,
      req.producerEpoch,
      [{ topic: OFFSETS_TOPIC, partition: partitionForGroup(req.groupId, offsets.partitions) }],
    );
    return { ...response, errorCode: fencedForVersion(code, ctx.apiVersion, 2) };
  },
});
