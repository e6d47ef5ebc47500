/**
 * TxnOffsetCommit (key 28), versions 0-4: offsets committed as part of a producer's transaction
 * (consume-transform-produce). They are written to `__consumer_offsets` in a transactional batch
 * of that producer and become the group's committed offsets only when the transaction's COMMIT
 * marker lands there (an ABORT drops them); until then OffsetFetch does not show them. v3+
 * members are checked by generation as OffsetCommit checks them.
 * Deviation: KIP-890's verification that the group was added to the transaction is not done.
 */
import { apis } from '../../protocol/generated/api-keys.js';
import type { TxnOffsetCommitRequest } from '../../protocol/generated/message/TxnOffsetCommitRequest.js';
import { TxnOffsetCommitResponse } from '../../protocol/generated/message/TxnOffsetCommitResponse.js';
import { commitAnswer, groupShard } from '../group-coordination.js';
import { defineHandler } from './types.js';

export const txnOffsetCommitHandler = defineHandler<TxnOffsetCommitRequest, TxnOffsetCommitResponse>({
  api: apis.TxnOffsetCommit,
  minVersion: 0,
  maxVersion: 4,
  async handle(ctx, req) {
    const lookup = groupShard(ctx.broker, req.groupId);
    let codes: Map<string, Map<number, number>> | null = null;
    if (!('errorCode' in lookup)) {
      const image = ctx.broker.image();
      codes = await lookup.shard.commitTxnOffsets(
        req,
        ctx.apiVersion,
        (topic, partition) => image.topicsByName.get(topic)?.partitions.has(partition) === true,
      );
    }
    return {
      ...TxnOffsetCommitResponse.create(),
      topics: commitAnswer(req.topics, lookup, codes),
    };
  },
});
