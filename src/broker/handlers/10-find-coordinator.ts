/**
 * FindCoordinator (key 10), versions 0-5.
 *
 * Group keys (key type 0) map to the leader of their `__consumer_offsets` partition and
 * transactional ids (key type 1) to the leader of their `__transaction_state` partition, by
 * Kafka's hash of the key; each topic is created on its first request, as Kafka does. Batched
 * keys (v4+) are answered one by one. v6 (share-group keys) is not served. The transaction
 * APIs themselves (InitProducerId …) are not served yet, so ApiVersions does not list them.
 */
import { partitionForGroup } from '../../coordinator/group-coordinator.js';
import { OFFSETS_TOPIC } from '../../coordinator/group-coordinator.js';
import { ErrorCode, errorInfo } from '../../protocol/error-codes.js';
import { apis } from '../../protocol/generated/api-keys.js';
import type { FindCoordinatorRequest } from '../../protocol/generated/message/FindCoordinatorRequest.js';
import { FindCoordinatorResponse } from '../../protocol/generated/message/FindCoordinatorResponse.js';
import { TRANSACTION_STATE_TOPIC } from '../../coordinator/transaction/txn-coordinator.js';
import { ensureOffsetsTopic, ensureTransactionStateTopic } from '../group-coordination.js';
import type { RequestContext } from './types.js';
import { defineHandler } from './types.js';

const KEY_TYPE_GROUP = 0;
const KEY_TYPE_TRANSACTION = 1;

type Coordinator = FindCoordinatorResponse.Coordinator;

async function findOne(ctx: RequestContext, key: string, keyType: number): Promise<Coordinator> {
  const b = ctx.broker;
  const answer = (
    errorCode: number,
    message: string | null = null,
    nodeId = -1,
    host = '',
    port = -1,
  ): Coordinator => ({
    key,
    nodeId,
    host,
    port,
    errorCode,
    errorMessage: errorCode === ErrorCode.NONE ? null : (message ?? errorInfo(errorCode).message),
    unknownTaggedFields: undefined,
  });
  if (keyType !== KEY_TYPE_GROUP && keyType !== KEY_TYPE_TRANSACTION) {
    return answer(ErrorCode.INVALID_REQUEST, `unknown coordinator key type ${keyType}`);
  }
  if (key === '') return answer(ErrorCode.INVALID_REQUEST, 'the key is empty');
  const isGroup = keyType === KEY_TYPE_GROUP;
  const topicName = isGroup ? OFFSETS_TOPIC : TRANSACTION_STATE_TOPIC;
  const topic = await (isGroup ? ensureOffsetsTopic(b) : ensureTransactionStateTopic(b));
  if ('errorCode' in topic) return answer(topic.errorCode);
  // Transactional ids map to partitions with the same hash as group ids.
  const partition = b
    .image()
    .topicsByName.get(topicName)
    ?.partitions.get(partitionForGroup(key, topic.partitions));
  if (partition === undefined || partition.leader < 0) return answer(ErrorCode.COORDINATOR_NOT_AVAILABLE);
  if (partition.leader === b.nodeId)
    return answer(ErrorCode.NONE, null, b.nodeId, b.advertised.host, b.advertised.port);
  const ep = b.image().brokers.get(partition.leader)?.endpoints[0];
  if (ep === undefined) return answer(ErrorCode.COORDINATOR_NOT_AVAILABLE);
  return answer(ErrorCode.NONE, null, partition.leader, ep.host, ep.port);
}

export const findCoordinatorHandler = defineHandler<FindCoordinatorRequest, FindCoordinatorResponse>({
  api: apis.FindCoordinator,
  minVersion: 0,
  maxVersion: 5,
  async handle(ctx, req) {
    if (ctx.apiVersion >= 4) {
      const coordinators = await Promise.all(req.coordinatorKeys.map((k) => findOne(ctx, k, req.keyType)));
      return { ...FindCoordinatorResponse.create(), coordinators };
    }
    const c = await findOne(ctx, req.key, ctx.apiVersion >= 1 ? req.keyType : KEY_TYPE_GROUP);
    return {
      ...FindCoordinatorResponse.create(),
      errorCode: c.errorCode,
      errorMessage: c.errorMessage,
      nodeId: c.nodeId,
      host: c.host,
      port: c.port,
    };
  },
});
