/**
 * InitProducerId (key 22), versions 0-5: a new producer id, epoch 0, for an idempotent producer.
 * Without a transactional id Kafka hands out a new id every time, whatever id and epoch the
 * request carries (v3+, KIP-360): the producer's old state simply expires.
 * Deviation: transactional ids arrive with the transaction coordinator; until then they are
 * refused with TRANSACTIONAL_ID_AUTHORIZATION_FAILED, as transactional produce is.
 */
import { ErrorCode } from '../../protocol/error-codes.js';
import { apis } from '../../protocol/generated/api-keys.js';
import type { InitProducerIdRequest } from '../../protocol/generated/message/InitProducerIdRequest.js';
import { InitProducerIdResponse } from '../../protocol/generated/message/InitProducerIdResponse.js';
import { defineHandler } from './types.js';

export const initProducerIdHandler = defineHandler<InitProducerIdRequest, InitProducerIdResponse>({
  api: apis.InitProducerId,
  minVersion: 0,
  maxVersion: 5,
  async handle(ctx, req) {
    const response = { ...InitProducerIdResponse.create(), producerId: -1n, producerEpoch: -1 };
    if (req.transactionalId !== null) {
      return { ...response, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED };
    }
    try {
      return { ...response, producerId: await ctx.broker.producerIds.nextId(), producerEpoch: 0 };
    } catch (e) {
      ctx.broker.log(`InitProducerId: allocating a producer id block failed: ${String(e)}`);
      return { ...response, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE };
    }
  },
});
