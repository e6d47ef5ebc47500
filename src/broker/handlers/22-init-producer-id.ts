/**
 * InitProducerId (key 22), versions 0-5.
 * Without a transactional id: a new producer id at epoch 0 for an idempotent producer — Kafka
 * hands out a new id every time, whatever id and epoch the request carries (v3+, KIP-360): the
 * producer's old state simply expires.
 * With one: the transaction coordinator's answer (txn-coordinator.ts): the id's producer with
 * its epoch bumped, an open transaction aborted first. PRODUCER_FENCED before v4 is
 * INVALID_PRODUCER_EPOCH.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { apis } from '../../protocol/generated/api-keys.js';
import type { InitProducerIdRequest } from '../../protocol/generated/message/InitProducerIdRequest.js';
import { InitProducerIdResponse } from '../../protocol/generated/message/InitProducerIdResponse.js';
import { fencedForVersion, txnShard } from '../txn-coordination.js';
import { defineHandler } from './types.js';

export const initProducerIdHandler = defineHandler<InitProducerIdRequest, InitProducerIdResponse>({
  api: apis.InitProducerId,
  minVersion: 0,
  maxVersion: 5,
  async handle(ctx, req) {
    const response = { ...InitProducerIdResponse.create(), producerId: -1n, producerEpoch: -1 };
    if (req.transactionalId === null) {
      try {
        return { ...response, producerId: await ctx.broker.producerIds.nextId(), producerEpoch: 0 };
      } catch (e) {
        ctx.broker.log(`InitProducerId: allocating a producer id block failed: ${String(e)}`);
        return { ...response, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE };
      }
    }
    const lookup = txnShard(ctx.broker, req.transactionalId);
    if ('errorCode' in lookup) return { ...response, errorCode: lookup.errorCode };
    const expected =
      req.producerId >= 0n ? { producerId: req.producerId, producerEpoch: req.producerEpoch } : null;
    const r = await ctx.broker.txnCoordinator.initProducerId(
      lookup.shard,
      req.transactionalId,
      req.transactionTimeoutMs,
      expected,
    );
    return { ...response, ...r, errorCode: fencedForVersion(r.errorCode, ctx.apiVersion, 4) };
  },
});
